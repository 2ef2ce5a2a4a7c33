/* echo_parts.h — poll-style state machines shared by the TCP suites:
 * an echo server (acceptor task + one task per connection, fixed buffer) and a
 * future-style client (eddy_tcp_connect + eddy_future_poll + take_tcp) that
 * streams a deterministic pattern and verifies every byte it gets back. */
#ifndef EDDY_TEST_ECHO_PARTS_H
#define EDDY_TEST_ECHO_PARTS_H

#include "harness.h"

#define TEST_VERIFY_FAILED (-7777) /* a client's status when echoed bytes differ */

typedef struct {
    int conns_started;
    int conns_done;  /* connection tasks that saw EOF and closed cleanly */
    int conn_errors; /* connection tasks that ended with an error */
    int last_error;
    int drops;       /* drop_fn calls of connection tasks */
} echo_stats_t;

typedef struct {
    eddy_tcp_t s;
    size_t len, off;
    echo_stats_t *stats;
    unsigned char buf[8192];
} echo_conn_t;

typedef struct {
    eddy_tcp_t listener;
    int want;     /* connections to accept before closing the listener */
    int accepted;
    echo_stats_t *stats;
} acceptor_t;

int echo_conn_poll(void *state, eddy_cx_t *cx);
void echo_conn_drop(void *state);
int acceptor_poll(void *state, eddy_cx_t *cx);

typedef struct {
    const char *host;
    uint16_t port;
    unsigned id;
    size_t total; /* bytes to send (and expect back) */
    int phase;    /* 0 connecting, 1 streaming, 2 done */
    eddy_future_t fut;
    eddy_tcp_t s;
    size_t sent, recvd;
    int shut;
    size_t mismatches;
    unsigned char wbuf[4096];
    unsigned char rbuf[4096];
} fclient_t;

void fclient_init(fclient_t *c, const char *host, uint16_t port, unsigned id, size_t total);
int fclient_poll(void *state, eddy_cx_t *cx);

#endif

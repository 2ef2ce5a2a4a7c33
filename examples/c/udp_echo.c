/* udp_echo.c — a poll-style UDP echo server on Eddy, from C (issue 15).
 *
 *   udp_echo [--host ADDR] [--port PORT]      (defaults 127.0.0.1, 9000; 0 = any port)
 *
 * One task, one socket, one buffer as large as any datagram: each datagram goes back
 * to its sender (eddy_addr_t by value: no allocation per datagram). The first line on
 * stdout is `listening on ADDR:PORT (udp)`. SIGINT/SIGTERM end it cleanly (exit 0): the
 * handler sets a flag and EDDY_CONFIG_RETURN_ON_SIGNAL makes eddy_runtime_run_until
 * return EDDY_EINTR; the echo task also checks the flag between datagrams, so a signal
 * landing while the loop is busy is seen too.
 *
 * Build: cc -std=c11 udp_echo.c $(pkg-config --cflags --libs eddy)
 */
#define _GNU_SOURCE 1

#include <eddy.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    eddy_udp_t sock;
    eddy_addr_t peer;
    size_t len;
    int have; /* buf holds a datagram still to send back to peer */
    unsigned long long datagrams, errors;
    unsigned char buf[65536];
} echo_t;

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static int echo_poll(void *state, eddy_cx_t *cx)
{
    echo_t *e = state;
    while (!stop_requested) {
        if (!e->have) {
            int trunc = 0;
            int rc = eddy_udp_poll_recv_from(e->sock, cx, e->buf, sizeof e->buf, &e->len, &e->peer, &trunc);
            if (rc == EDDY_PENDING) {
                return EDDY_PENDING;
            }
            if (rc < 0) { /* e.g. an ICMP error surfacing: not fatal for a server */
                e->errors++;
                continue;
            }
            e->have = 1;
        }
        size_t n = 0;
        int rc = eddy_udp_poll_send_to(e->sock, cx, e->buf, e->len, &e->peer, &n);
        if (rc == EDDY_PENDING) {
            return EDDY_PENDING;
        }
        if (rc < 0) {
            e->errors++;
        } else {
            e->datagrams++;
        }
        e->have = 0;
    }
    return EDDY_READY;
}

int main(int argc, char **argv)
{
    const char *host = "127.0.0.1";
    long port = 9000;
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(argv[i], "--port") == 0 && v != NULL) {
            port = strtol(v, NULL, 10);
            i++;
        } else if (strcmp(argv[i], "--host") == 0 && v != NULL) {
            host = v;
            i++;
        } else {
            fprintf(stderr, "usage: %s [--host ADDR] [--port PORT]   (default 127.0.0.1 9000; 0 = any port)\n",
                    argv[0]);
            return strcmp(argv[i], "--help") == 0 ? 0 : 2;
        }
    }
    if (port < 0 || port > 65535) {
        fprintf(stderr, "bad port %ld\n", port);
        return 2;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    eddy_config_t config;
    eddy_config_init(&config);
    config.flags |= EDDY_CONFIG_RETURN_ON_SIGNAL;
    eddy_runtime_t rt;
    int rc = eddy_runtime_new(&config, &rt);
    if (rc < 0) {
        fprintf(stderr, "eddy_runtime_new: %s\n", eddy_strerror(rc));
        return 1;
    }
    echo_t *e = calloc(1, sizeof *e);
    if (e == NULL) {
        return 1;
    }
    rc = eddy_udp_bind(rt, host, (uint16_t)port, 0, &e->sock);
    if (rc < 0) {
        fprintf(stderr, "bind UDP %s:%ld: %s\n", host, port, eddy_strerror(rc));
        eddy_runtime_free(rt);
        free(e);
        return 1;
    }
    eddy_addr_t bound;
    char text[64] = "?";
    if (eddy_udp_local_addr(e->sock, &bound) == 0) {
        eddy_addr_format(&bound, text, sizeof text);
    }
    printf("listening on %s (udp)\n", text);
    fflush(stdout);

    eddy_task_t task;
    eddy_spawn(rt, echo_poll, e, NULL, &task);
    int status = 0;
    for (;;) {
        rc = eddy_runtime_run_until(rt, task, &status);
        if (rc == EDDY_EINTR && !stop_requested) {
            continue; /* some other signal */
        }
        break;
    }
    if (rc < 0 && rc != EDDY_EINTR) {
        fprintf(stderr, "run: %s\n", eddy_strerror(rc));
    }
    eddy_task_free(task);
    eddy_udp_close(e->sock);
    eddy_runtime_free(rt);
    fprintf(stderr, "udp_echo: stopped; %llu datagrams echoed, %llu errors\n", e->datagrams, e->errors);
    free(e);
    return rc < 0 && rc != EDDY_EINTR ? 1 : 0;
}

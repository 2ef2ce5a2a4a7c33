/* test_tcp_socket.c — the rest of TCP (issue 15): local/peer addresses, shutdown of
 * read/write/both, socket options, SO_REUSEPORT listeners, listener and stream from an
 * existing descriptor (socket activation), bad input. 127.0.0.1 / [::1] only. */
#include "harness.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct {
    eddy_tcp_t listener, stream;
    int rc;
} accept_t;

static int accept_poll(void *state, eddy_cx_t *cx)
{
    accept_t *a = state;
    int rc = eddy_tcp_poll_accept(a->listener, cx, &a->stream);
    if (rc == EDDY_PENDING) return EDDY_PENDING;
    a->rc = rc;
    return EDDY_READY;
}

/* An Eddy stream accepted from `l`, with `*peer` the raw client descriptor. */
static eddy_tcp_t accepted(eddy_runtime_t rt, eddy_tcp_t l, const char *host, int *peer)
{
    uint16_t port = 0;
    assert_int_equal(eddy_tcp_local_port(l, &port), 0);
    *peer = raw_connect(host, port);
    assert_true(*peer >= 0);
    accept_t a = { .listener = l };
    int status = -1;
    assert_int_equal(eddy_block_on(rt, accept_poll, &a, NULL, &status), 0);
    assert_int_equal(a.rc, EDDY_READY);
    return a.stream;
}

typedef struct {
    eddy_tcp_t s;
    char buf[16];
    size_t n;
    int rc;
} read_t;

static int read_poll(void *state, eddy_cx_t *cx)
{
    read_t *r = state;
    int rc = eddy_tcp_poll_read(r->s, cx, r->buf, sizeof r->buf, &r->n);
    if (rc == EDDY_PENDING) return EDDY_PENDING;
    r->rc = rc;
    return EDDY_READY;
}

static void test_local_and_peer_addresses(void **state)
{
    fixture_t *f = *state;
    const char *hosts[] = { "127.0.0.1", "::1" };
    for (int i = 0; i < 2; i++) {
        eddy_tcp_t l;
        assert_int_equal(eddy_tcp_listen(f->rt, hosts[i], 0, 8, &l), 0);
        int peer;
        eddy_tcp_t s = accepted(f->rt, l, hosts[i], &peer);
        eddy_addr_t la, sl, sp;
        assert_int_equal(eddy_tcp_local_addr(l, &la), 0);
        assert_int_equal(eddy_tcp_local_addr(s, &sl), 0);
        assert_int_equal(eddy_tcp_peer_addr(s, &sp), 0);
        assert_int_equal(la.family, i == 0 ? EDDY_ADDR_IPV4 : EDDY_ADDR_IPV6);
        assert_int_equal(sl.port, la.port);
        struct sockaddr_storage ss;
        socklen_t len = sizeof ss;
        assert_int_equal(getsockname(peer, (struct sockaddr *)&ss, &len), 0);
        assert_int_equal(sp.port, ntohs(((struct sockaddr_in *)&ss)->sin_port));
        char text[64];
        assert_int_equal(eddy_addr_format(&sp, text, sizeof text), 0);
        assert_non_null(strstr(text, hosts[i]));
        eddy_addr_t bad;
        assert_int_equal(eddy_tcp_peer_addr(l, &bad), EDDY_EINVAL); /* a listener has no peer */
        assert_int_equal(eddy_tcp_local_addr(s, NULL), EDDY_EINVAL);
        close(peer);
        assert_int_equal(eddy_tcp_close(s), 0);
        assert_int_equal(eddy_tcp_close(l), 0);
    }
    FINISH(f);
}

static void test_shutdown_read_write_both(void **state)
{
    fixture_t *f = *state;
    eddy_tcp_t l;
    assert_int_equal(eddy_tcp_listen(f->rt, "127.0.0.1", 0, 8, &l), 0);
    int peer;
    eddy_tcp_t s = accepted(f->rt, l, "127.0.0.1", &peer);
    /* write: the peer reads end of stream. */
    assert_int_equal(eddy_tcp_shutdown(s, EDDY_SHUT_WRITE), 0);
    char c;
    assert_int_equal(read(peer, &c, 1), 0);
    /* read: our reads return end of stream although the peer never closed. */
    assert_int_equal(eddy_tcp_shutdown(s, EDDY_SHUT_READ), 0);
    read_t r = { .s = s };
    int status;
    assert_int_equal(eddy_block_on(f->rt, read_poll, &r, NULL, &status), 0);
    assert_int_equal(r.rc, EDDY_READY);
    assert_int_equal(r.n, 0);
    assert_int_equal(eddy_tcp_shutdown(s, EDDY_SHUT_BOTH), 0);
    assert_int_equal(eddy_tcp_shutdown(s, 3), EDDY_EINVAL);
    assert_int_equal(eddy_tcp_shutdown(s, -1), EDDY_EINVAL);
    assert_int_equal(eddy_tcp_shutdown(l, EDDY_SHUT_WRITE), EDDY_EINVAL);
    close(peer);
    eddy_tcp_close(s);
    eddy_tcp_close(l);
    FINISH(f);
}

static void test_options(void **state)
{
    fixture_t *f = *state;
    eddy_tcp_t l;
    assert_int_equal(eddy_tcp_listen(f->rt, "127.0.0.1", 0, 8, &l), 0);
    int v = -7;
    assert_int_equal(eddy_tcp_get_option(l, EDDY_OPT_REUSEADDR, &v), 0);
    assert_int_equal(v, 1); /* on for every listener */
    int peer;
    eddy_tcp_t s = accepted(f->rt, l, "127.0.0.1", &peer);
    assert_int_equal(eddy_tcp_set_option(s, EDDY_OPT_KEEPALIVE, 1), 0);
    assert_int_equal(eddy_tcp_set_option(s, EDDY_OPT_KEEPALIVE_IDLE, 30), 0);
    assert_int_equal(eddy_tcp_set_option(s, EDDY_OPT_KEEPALIVE_INTERVAL, 5), 0);
    assert_int_equal(eddy_tcp_set_option(s, EDDY_OPT_KEEPALIVE_COUNT, 4), 0);
    int want[][2] = { { EDDY_OPT_KEEPALIVE, 1 }, { EDDY_OPT_KEEPALIVE_IDLE, 30 },
                      { EDDY_OPT_KEEPALIVE_INTERVAL, 5 }, { EDDY_OPT_KEEPALIVE_COUNT, 4 } };
    for (int i = 0; i < 4; i++) {
        assert_int_equal(eddy_tcp_get_option(s, want[i][0], &v), 0);
        assert_int_equal(v, want[i][1]);
    }
    assert_int_equal(eddy_tcp_get_option(s, EDDY_OPT_LINGER, &v), 0);
    assert_int_equal(v, -1); /* off by default */
    assert_int_equal(eddy_tcp_set_option(s, EDDY_OPT_LINGER, 5), 0);
    assert_int_equal(eddy_tcp_get_option(s, EDDY_OPT_LINGER, &v), 0);
    assert_int_equal(v, 5);
    assert_int_equal(eddy_tcp_set_option(s, EDDY_OPT_LINGER, -1), 0);
    assert_int_equal(eddy_tcp_get_option(s, EDDY_OPT_LINGER, &v), 0);
    assert_int_equal(v, -1);
    assert_int_equal(eddy_tcp_set_option(s, EDDY_OPT_SNDBUF, 65536), 0);
    assert_int_equal(eddy_tcp_get_option(s, EDDY_OPT_SNDBUF, &v), 0);
    assert_true(v >= 65536);
    assert_int_equal(eddy_tcp_set_option(s, EDDY_OPT_RCVBUF, 65536), 0);
    assert_int_equal(eddy_tcp_get_option(s, EDDY_OPT_RCVBUF, &v), 0);
    assert_true(v >= 65536);
    assert_int_equal(eddy_tcp_set_option(s, EDDY_OPT_NODELAY, 1), 0);
    assert_int_equal(eddy_tcp_get_option(s, EDDY_OPT_NODELAY, &v), 0);
    assert_int_equal(v, 1);
    /* Bad input. */
    assert_int_equal(eddy_tcp_set_option(s, EDDY_OPT_KEEPALIVE_IDLE, 0), EDDY_EINVAL);
    assert_int_equal(eddy_tcp_set_option(s, EDDY_OPT_KEEPALIVE_COUNT, -5), EDDY_EINVAL);
    assert_int_equal(eddy_tcp_set_option(s, EDDY_OPT_SNDBUF, -1), EDDY_EINVAL);
    assert_int_equal(eddy_tcp_set_option(s, 0, 1), EDDY_EINVAL);
    assert_int_equal(eddy_tcp_set_option(s, 1000, 1), EDDY_EINVAL);
    assert_int_equal(eddy_tcp_get_option(s, EDDY_OPT_NODELAY, NULL), EDDY_EINVAL);
    assert_true(eddy_tcp_set_option(s, EDDY_OPT_KEEPALIVE_IDLE, 1 << 30) < 0); /* the kernel's limit */
    eddy_tcp_t forged = { 999 };
    assert_int_equal(eddy_tcp_set_option(forged, EDDY_OPT_NODELAY, 1), EDDY_EBADHANDLE);
    close(peer);
    eddy_tcp_close(s);
    eddy_tcp_close(l);
    FINISH(f);
}

static void test_reuseport_listeners(void **state)
{
    fixture_t *f = *state;
    eddy_tcp_t a, b, c;
    assert_int_equal(eddy_tcp_listen_flags(f->rt, "127.0.0.1", 0, 8, EDDY_TCP_REUSEPORT, &a), 0);
    uint16_t port;
    assert_int_equal(eddy_tcp_local_port(a, &port), 0);
    assert_int_equal(eddy_tcp_listen_flags(f->rt, "127.0.0.1", port, 8, EDDY_TCP_REUSEPORT, &b), 0);
    assert_int_equal(eddy_tcp_listen_flags(f->rt, "127.0.0.1", port, 8, 0, &c), EDDY_EADDRINUSE);
    assert_int_equal(eddy_tcp_listen_flags(f->rt, "127.0.0.1", 0, 8, 0x10, &c), EDDY_EINVAL);
    assert_int_equal(eddy_tcp_listen_flags(f->rt, NULL, 0, 8, 0, &c), EDDY_EINVAL);
    int v;
    assert_int_equal(eddy_tcp_get_option(b, EDDY_OPT_REUSEPORT, &v), 0);
    assert_int_equal(v, 1);
    eddy_tcp_close(a);
    eddy_tcp_close(b);
    FINISH(f);
}

static void test_from_fd(void **state)
{
    fixture_t *f = *state;
    /* A listening socket made elsewhere (as systemd passes one). */
    uint16_t port = 0;
    int lfd = raw_listen("127.0.0.1", &port);
    assert_true(lfd >= 0);
    eddy_tcp_t l;
    assert_int_equal(eddy_tcp_listener_from_fd(f->rt, lfd, &l), 0);
    uint16_t got = 0;
    assert_int_equal(eddy_tcp_local_port(l, &got), 0);
    assert_int_equal(got, port);
    int fd = -1;
    assert_int_equal(eddy_tcp_fd(l, &fd), 0);
    assert_int_equal(fd, lfd);
    /* A connection queued before adoption is accepted (the listener starts readable). */
    int peer;
    eddy_tcp_t s = accepted(f->rt, l, "127.0.0.1", &peer);
    /* A connected socket made elsewhere: adopt the client side and read through Eddy. */
    eddy_tcp_t s2;
    assert_int_equal(eddy_tcp_stream_from_fd(f->rt, peer, &s2), 0);
    eddy_addr_t pa;
    assert_int_equal(eddy_tcp_peer_addr(s2, &pa), 0);
    assert_int_equal(pa.port, port);
    int sfd = -1;
    assert_int_equal(eddy_tcp_fd(s, &sfd), 0);
    assert_int_equal(write(sfd, "hey", 3), 3);
    read_t r = { .s = s2 };
    int status;
    assert_int_equal(eddy_block_on(f->rt, read_poll, &r, NULL, &status), 0);
    assert_int_equal(r.rc, EDDY_READY);
    assert_int_equal(r.n, 3);
    assert_memory_equal(r.buf, "hey", 3);
    eddy_tcp_close(s2);
    eddy_tcp_close(s);
    eddy_tcp_close(l);
    /* Wrong kinds of descriptor: refused, and closed (FINISH checks nothing leaked). */
    eddy_tcp_t x;
    assert_int_equal(eddy_tcp_listener_from_fd(f->rt, socket(AF_INET, SOCK_DGRAM, 0), &x), EDDY_EINVAL);
    assert_int_equal(eddy_tcp_listener_from_fd(f->rt, socket(AF_INET, SOCK_STREAM, 0), &x), EDDY_EINVAL);
    int lfd2 = raw_listen("127.0.0.1", &port);
    assert_int_equal(eddy_tcp_stream_from_fd(f->rt, lfd2, &x), EDDY_EINVAL); /* a listener is no stream */
    int pipefd[2];
    assert_int_equal(pipe(pipefd), 0);
    close(pipefd[1]);
    assert_int_equal(eddy_tcp_stream_from_fd(f->rt, pipefd[0], &x), -ENOTSOCK);
    assert_int_equal(eddy_tcp_stream_from_fd(f->rt, -1, &x), -EBADF);
    assert_int_equal(eddy_tcp_listener_from_fd(f->rt, 1 << 20, &x), -EBADF);
    int lfd3 = raw_listen("127.0.0.1", &port);
    assert_int_equal(eddy_tcp_listener_from_fd(f->rt, lfd3, NULL), EDDY_EINVAL);
    eddy_runtime_t gone = { 12345 };
    int lfd4 = raw_listen("127.0.0.1", &port);
    assert_int_equal(eddy_tcp_listener_from_fd(gone, lfd4, &x), EDDY_EBADHANDLE);
    FINISH(f);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_local_and_peer_addresses),
        T(test_shutdown_read_write_both),
        T(test_options),
        T(test_reuseport_listeners),
        T(test_from_fd),
    };
    return cmocka_run_group_tests_name("tcp_socket", tests, NULL, NULL);
}

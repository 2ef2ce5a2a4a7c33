/* test_unix.c — Unix-domain stream sockets (issue 15): listen/connect/accept with the
 * tcp stream functions, abstract names, unlink-on-close, stale socket files, paths too
 * long for sun_path, no listener, bad input. Files live in a fresh mkdtemp folder. */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static int dir_setup(void **state) { return fx_dir_setup(state, "unix"); }

static const char *in_dir(const char *name)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", fx_dir, name);
    return path;
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* Connects through a future; returns the future's status and the stream in *out. */
static int connect_unix(eddy_runtime_t rt, const char *path, eddy_tcp_t *out)
{
    eddy_future_t fut;
    int rc = eddy_unix_connect(rt, path, &fut);
    if (rc < 0) return rc;
    int status = block_on_future(rt, fut);
    if (status == 0) assert_int_equal(eddy_future_take_tcp(fut, out), 0);
    eddy_future_free(fut);
    return status;
}

typedef struct {
    eddy_tcp_t l, s;
    int rc;
} accept1_t;

static int accept1_poll(void *state, eddy_cx_t *cx)
{
    accept1_t *a = state;
    int rc = eddy_tcp_poll_accept(a->l, cx, &a->s);
    if (rc == EDDY_PENDING) return rc;
    a->rc = rc;
    return EDDY_READY;
}

static int accept_one(eddy_runtime_t rt, eddy_tcp_t l, eddy_tcp_t *out)
{
    accept1_t a = { .l = l };
    int status;
    assert_int_equal(eddy_block_on(rt, accept1_poll, &a, NULL, &status), 0);
    *out = a.s;
    return a.rc;
}

typedef struct {
    eddy_tcp_t listener, server, client;
    char got[32];
    size_t n;
    int phase, rc;
} echo_t;

/* accept, client writes "ping", server reads it, server writes "pong" and shuts down,
 * client reads "pong" then end of stream. */
static int echo_poll(void *state, eddy_cx_t *cx)
{
    echo_t *e = state;
    size_t n;
    int rc;
    switch (e->phase) {
    case 0:
        rc = eddy_tcp_poll_accept(e->listener, cx, &e->server);
        if (rc != EDDY_READY) return rc;
        e->phase = 1; /* fall through */
    case 1:
        rc = eddy_tcp_poll_write(e->client, cx, "ping", 4, &n);
        if (rc != EDDY_READY) return rc;
        e->phase = 2; /* fall through */
    case 2:
        rc = eddy_tcp_poll_read(e->server, cx, e->got, sizeof e->got, &n);
        if (rc != EDDY_READY) return rc;
        if (n != 4 || memcmp(e->got, "ping", 4) != 0) return -1;
        rc = eddy_tcp_poll_write(e->server, cx, "pong", 4, &n);
        if (rc != EDDY_READY) return rc;
        if (eddy_tcp_shutdown(e->server, EDDY_SHUT_WRITE) != 0) return -2;
        e->phase = 3; /* fall through */
    case 3:
        rc = eddy_tcp_poll_read(e->client, cx, e->got + e->n, sizeof e->got - e->n, &n);
        if (rc != EDDY_READY) return rc;
        if (n == 0) return EDDY_READY;
        e->n += n;
        return echo_poll(state, cx);
    }
    return -3;
}

static void echo_over(eddy_runtime_t rt, const char *path)
{
    echo_t e = { 0 };
    assert_int_equal(eddy_unix_listen(rt, path, 8, 0, &e.listener), 0);
    uint16_t port = 9;
    assert_int_equal(eddy_tcp_local_port(e.listener, &port), 0);
    assert_int_equal(port, 0); /* no port for a Unix socket */
    assert_int_equal(connect_unix(rt, path, &e.client), 0);
    int status = -1;
    assert_int_equal(eddy_block_on(rt, echo_poll, &e, NULL, &status), 0);
    assert_int_equal(status, 0);
    assert_int_equal(e.n, 4);
    assert_memory_equal(e.got, "pong", 4);
    eddy_addr_t a;
    assert_int_equal(eddy_tcp_local_addr(e.client, &a), -EAFNOSUPPORT); /* not an IP address */
    /* SO_PEERCRED: both ends are this process. */
    int32_t pid = -1;
    uint32_t uid = 7, gid = 7;
    assert_int_equal(eddy_tcp_peer_cred(e.server, &pid, &uid, &gid), 0);
    assert_int_equal(pid, getpid());
    assert_int_equal(uid, geteuid());
    assert_int_equal(gid, getegid());
    assert_int_equal(eddy_tcp_peer_cred(e.client, NULL, NULL, NULL), 0);
    assert_int_equal(eddy_tcp_peer_cred(e.listener, &pid, NULL, NULL), EDDY_EINVAL);
    eddy_tcp_close(e.client);
    eddy_tcp_close(e.server);
    eddy_tcp_close(e.listener);
}

static void test_stream_echo_over_a_path(void **state)
{
    fixture_t *f = *state;
    echo_over(f->rt, in_dir("s.sock"));
    assert_true(exists(in_dir("s.sock"))); /* kept: no unlink-on-close */
    FINISH(f);
}

static void test_abstract_name(void **state)
{
    fixture_t *f = *state;
    char name[64];
    snprintf(name, sizeof name, "@eddy-test-%d", (int)getpid());
    echo_over(f->rt, name);
    /* Gone with its socket: a second listen on the same name works. */
    eddy_tcp_t l;
    assert_int_equal(eddy_unix_listen(f->rt, name, 8, 0, &l), 0);
    eddy_tcp_t l2;
    assert_int_equal(eddy_unix_listen(f->rt, name, 8, 0, &l2), EDDY_EADDRINUSE);
    eddy_tcp_close(l);
    FINISH(f);
}

static void test_unlink_on_close_and_stale_files(void **state)
{
    fixture_t *f = *state;
    const char *p = in_dir("u.sock");
    eddy_tcp_t l, l2;
    assert_int_equal(eddy_unix_listen(f->rt, p, 8, EDDY_UNIX_UNLINK_ON_CLOSE, &l), 0);
    assert_true(exists(p));
    assert_int_equal(eddy_unix_listen(f->rt, p, 8, 0, &l2), EDDY_EADDRINUSE); /* live listener */
    assert_true(exists(p));
    eddy_tcp_close(l);
    assert_false(exists(p));
    /* Without the flag the file stays: stale. Connecting is refused, a new listen replaces it. */
    assert_int_equal(eddy_unix_listen(f->rt, p, 8, 0, &l), 0);
    eddy_tcp_close(l);
    assert_true(exists(p));
    eddy_tcp_t c;
    assert_int_equal(connect_unix(f->rt, p, &c), EDDY_ECONNREFUSED);
    assert_int_equal(eddy_unix_listen(f->rt, p, 8, 0, &l), 0);
    assert_int_equal(connect_unix(f->rt, p, &c), 0);
    eddy_tcp_close(c);
    eddy_tcp_close(l);
    /* A regular file in the way is never removed. */
    const char *reg = in_dir("regular");
    int fd = open(reg, O_CREAT | O_WRONLY, 0600);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(eddy_unix_listen(f->rt, reg, 8, 0, &l), EDDY_EADDRINUSE);
    assert_true(exists(reg));
    FINISH(f);
}

static void test_no_listener(void **state)
{
    fixture_t *f = *state;
    eddy_tcp_t c;
    assert_int_equal(connect_unix(f->rt, in_dir("nobody.sock"), &c), -ENOENT);
    assert_int_equal(connect_unix(f->rt, "@eddy-nobody-listens-here", &c), EDDY_ECONNREFUSED);
    FINISH(f);
}

static void test_path_too_long_and_bad_input(void **state)
{
    fixture_t *f = *state;
    struct sockaddr_un sun;
    size_t max = sizeof sun.sun_path - 1; /* 107 bytes and the NUL */
    char path[256];
    int base = snprintf(path, sizeof path, "%s/", fx_dir);
    memset(path + base, 'x', sizeof path - base);
    path[max + 1] = 0; /* one byte too long */
    eddy_tcp_t l, c;
    assert_int_equal(eddy_unix_listen(f->rt, path, 8, 0, &l), -ENAMETOOLONG);
    eddy_future_t fut;
    assert_int_equal(eddy_unix_connect(f->rt, path, &fut), -ENAMETOOLONG);
    path[max] = 0; /* exactly the longest */
    assert_int_equal(eddy_unix_listen(f->rt, path, 8, EDDY_UNIX_UNLINK_ON_CLOSE, &l), 0);
    assert_int_equal(connect_unix(f->rt, path, &c), 0);
    eddy_tcp_close(c);
    eddy_tcp_close(l);
    char abstract[200] = "@";
    memset(abstract + 1, 'a', 150);
    assert_int_equal(eddy_unix_listen(f->rt, abstract, 8, 0, &l), -ENAMETOOLONG);
    assert_int_equal(eddy_unix_listen(f->rt, NULL, 8, 0, &l), EDDY_EINVAL);
    assert_int_equal(eddy_unix_listen(f->rt, "", 8, 0, &l), EDDY_EINVAL);
    assert_int_equal(eddy_unix_listen(f->rt, "@", 8, 0, &l), EDDY_EINVAL);
    assert_int_equal(eddy_unix_listen(f->rt, in_dir("f.sock"), 8, 0x8, &l), EDDY_EINVAL);
    assert_int_equal(eddy_unix_listen(f->rt, in_dir("f.sock"), 8, 0, NULL), EDDY_EINVAL);
    assert_int_equal(eddy_unix_listen(f->rt, "/nonexistent-dir-eddy/x.sock", 8, 0, &l), -ENOENT);
    assert_int_equal(eddy_unix_connect(f->rt, NULL, &fut), EDDY_EINVAL);
    assert_int_equal(eddy_unix_connect(f->rt, "", &fut), EDDY_EINVAL);
    eddy_runtime_t gone = { 4242 };
    assert_int_equal(eddy_unix_connect(gone, "/x", &fut), EDDY_EBADHANDLE);
    /* SO_PEERCRED on a TCP stream: no credentials. */
    eddy_tcp_t tl;
    assert_int_equal(eddy_tcp_listen(f->rt, "127.0.0.1", 0, 4, &tl), 0);
    uint16_t port;
    assert_int_equal(eddy_tcp_local_port(tl, &port), 0);
    eddy_future_t cf;
    assert_int_equal(eddy_tcp_connect(f->rt, "127.0.0.1", port, &cf), 0);
    assert_int_equal(block_on_future(f->rt, cf), 0);
    eddy_tcp_t ts;
    assert_int_equal(eddy_future_take_tcp(cf, &ts), 0);
    eddy_future_free(cf);
    int32_t pid;
    assert_int_equal(eddy_tcp_peer_cred(ts, &pid, NULL, NULL), -EAFNOSUPPORT);
    eddy_tcp_close(ts);
    eddy_tcp_close(tl);
    FINISH(f);
}

typedef struct {
    eddy_tcp_t a, b;
    int send_fd, got_fd, rc_send, rc_recv, phase;
} pass_t;

static int pass_poll(void *state, eddy_cx_t *cx)
{
    pass_t *p = state;
    if (p->phase == 0) {
        int rc = eddy_tcp_poll_send_fd(p->a, cx, p->send_fd);
        if (rc == EDDY_PENDING) return rc;
        p->rc_send = rc;
        p->phase = 1;
        if (rc != EDDY_READY) return EDDY_READY; /* nothing to receive */
    }
    int rc = eddy_tcp_poll_recv_fd(p->b, cx, &p->got_fd);
    if (rc == EDDY_PENDING) return rc;
    p->rc_recv = rc;
    return EDDY_READY;
}

static void test_pass_descriptors(void **state)
{
    fixture_t *f = *state;
    const char *path = in_dir("fd.sock");
    eddy_tcp_t l;
    assert_int_equal(eddy_unix_listen(f->rt, path, 8, EDDY_UNIX_UNLINK_ON_CLOSE, &l), 0);
    pass_t p = { .got_fd = -1 };
    assert_int_equal(connect_unix(f->rt, path, &p.a), 0);
    int status;
    int peer_fds[2];
    assert_int_equal(pipe(peer_fds), 0);
    p.send_fd = peer_fds[1];
    assert_int_equal(accept_one(f->rt, l, &p.b), 0);
    assert_int_equal(eddy_block_on(f->rt, pass_poll, &p, NULL, &status), 0);
    assert_int_equal(p.rc_send, EDDY_READY);
    assert_int_equal(p.rc_recv, EDDY_READY);
    assert_true(p.got_fd >= 0 && p.got_fd != peer_fds[1]);
    assert_true(fcntl(p.got_fd, F_GETFD) & FD_CLOEXEC);
    /* The received descriptor is the pipe's write end: what goes in comes out. */
    assert_int_equal(write(p.got_fd, "via fd", 6), 6);
    char buf[8];
    assert_int_equal(read(peer_fds[0], buf, 6), 6);
    assert_memory_equal(buf, "via fd", 6);
    close(p.got_fd);
    /* Bad input: a closed descriptor, plain data where a descriptor is expected, EOF. */
    close(peer_fds[1]);
    pass_t bad = { .a = p.a, .b = p.b, .send_fd = peer_fds[1], .got_fd = -1 }; /* now closed */
    assert_int_equal(eddy_block_on(f->rt, pass_poll, &bad, NULL, &status), 0);
    assert_int_equal(bad.rc_send, -EBADF);
    close(peer_fds[0]);
    int afd;
    assert_int_equal(eddy_tcp_fd(p.a, &afd), 0);
    assert_int_equal(write(afd, "x", 1), 1); /* a plain byte */
    pass_t plain = { .send_fd = 0, .phase = 1, .b = p.b, .got_fd = -1 };
    assert_int_equal(eddy_block_on(f->rt, pass_poll, &plain, NULL, &status), 0);
    assert_int_equal(plain.rc_recv, -EBADMSG);
    assert_int_equal(eddy_tcp_shutdown(p.a, EDDY_SHUT_WRITE), 0);
    pass_t eof = { .phase = 1, .b = p.b, .got_fd = -1 };
    assert_int_equal(eddy_block_on(f->rt, pass_poll, &eof, NULL, &status), 0);
    assert_int_equal(eof.rc_recv, -ENODATA);
    assert_int_equal(eddy_tcp_poll_recv_fd(l, NULL, NULL), EDDY_EINVAL);
    eddy_tcp_close(p.a);
    eddy_tcp_close(p.b);
    eddy_tcp_close(l);
    FINISH(f);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, dir_setup, fx_dir_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_stream_echo_over_a_path),
        T(test_abstract_name),
        T(test_unlink_on_close_and_stale_files),
        T(test_no_listener),
        T(test_path_too_long_and_bad_input),
        T(test_pass_descriptors),
    };
    return cmocka_run_group_tests_name("unix", tests, NULL, NULL);
}

/* test_unix_dgram.c — Unix-domain datagram sockets through libeddy.so (issue 15 item 3):
 * send_to / recv_from on a path and an abstract name, truncation, an empty datagram,
 * an unbound sender, connect + send / recv, stale files, bad input, local / peer
 * addresses, adopting a descriptor, and no allocation per datagram. */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "malloc_count.h" /* defines malloc & co.: this suite asserts no allocation per datagram */

static int dir_setup(void **state) { return fx_dir_setup(state, "udg"); }

enum { SEND_TO, RECV_FROM, SEND, RECV };

typedef struct {
    int kind;
    eddy_unixdgram_t s;
    const void *out;
    void *in;
    size_t len;
    const char *to;
    char from[EDDY_UNIX_PATH_MAX];
    size_t n;
    int truncated;
    int rc;
} op_t;

static int op_poll(void *state, eddy_cx_t *cx)
{
    op_t *o = state;
    int rc;
    switch (o->kind) {
    case SEND_TO: rc = eddy_unixdgram_poll_send_to(o->s, cx, o->out, o->len, o->to, &o->n); break;
    case RECV_FROM:
        rc = eddy_unixdgram_poll_recv_from(o->s, cx, o->in, o->len, &o->n, o->from, sizeof o->from, &o->truncated);
        break;
    case SEND: rc = eddy_unixdgram_poll_send(o->s, cx, o->out, o->len, &o->n); break;
    default: rc = eddy_unixdgram_poll_recv(o->s, cx, o->in, o->len, &o->n, &o->truncated); break;
    }
    if (rc == EDDY_PENDING) return EDDY_PENDING;
    o->rc = rc;
    return EDDY_READY;
}

static op_t run_op(eddy_runtime_t rt, op_t o)
{
    int status;
    assert_int_equal(eddy_block_on(rt, op_poll, &o, NULL, &status), 0);
    return o;
}

static void exchange(eddy_runtime_t rt, const char *a, const char *b)
{
    eddy_unixdgram_t sa, sb;
    assert_int_equal(eddy_unixdgram_bind(rt, a, EDDY_UNIXDGRAM_UNLINK_ON_CLOSE, &sa), 0);
    assert_int_equal(eddy_unixdgram_bind(rt, b, EDDY_UNIXDGRAM_UNLINK_ON_CLOSE, &sb), 0);
    char buf[64];
    op_t o = run_op(rt, (op_t){ .kind = SEND_TO, .s = sa, .out = "ping", .len = 4, .to = b });
    assert_int_equal(o.rc, 0);
    assert_int_equal(o.n, 4);
    o = run_op(rt, (op_t){ .kind = RECV_FROM, .s = sb, .in = buf, .len = sizeof buf });
    assert_int_equal(o.rc, 0);
    assert_int_equal(o.n, 4);
    assert_memory_equal(buf, "ping", 4);
    assert_string_equal(o.from, a);
    assert_int_equal(o.truncated, 0);
    /* Truncation, then an empty datagram. */
    assert_int_equal(run_op(rt, (op_t){ .kind = SEND_TO, .s = sb, .out = "pong!", .len = 5, .to = a }).rc, 0);
    o = run_op(rt, (op_t){ .kind = RECV, .s = sa, .in = buf, .len = 2 });
    assert_int_equal(o.rc, 0);
    assert_int_equal(o.n, 2);
    assert_int_equal(o.truncated, 1);
    assert_int_equal(run_op(rt, (op_t){ .kind = SEND_TO, .s = sb, .out = NULL, .len = 0, .to = a }).rc, 0);
    o = run_op(rt, (op_t){ .kind = RECV, .s = sa, .in = buf, .len = sizeof buf });
    assert_int_equal(o.rc, 0);
    assert_int_equal(o.n, 0);
    assert_int_equal(o.truncated, 0);
    /* Connected. */
    assert_int_equal(eddy_unixdgram_connect(sa, b), 0);
    assert_int_equal(run_op(rt, (op_t){ .kind = SEND, .s = sa, .out = "c", .len = 1 }).rc, 0);
    o = run_op(rt, (op_t){ .kind = RECV_FROM, .s = sb, .in = buf, .len = sizeof buf });
    assert_int_equal(o.n, 1);
    assert_string_equal(o.from, a);
    assert_int_equal(eddy_unixdgram_close(sa), 0);
    assert_int_equal(eddy_unixdgram_close(sb), 0);
}

static void test_path_and_abstract(void **state)
{
    fixture_t *f = *state;
    char a[128], b[128];
    snprintf(a, sizeof a, "%s/a.sock", fx_dir);
    snprintf(b, sizeof b, "%s/b.sock", fx_dir);
    exchange(f->rt, a, b);
    assert_int_not_equal(access(a, F_OK), 0); /* unlinked on close */
    snprintf(a, sizeof a, "@eddy-udg-a-%d", (int)getpid());
    snprintf(b, sizeof b, "@eddy-udg-b-%d", (int)getpid());
    exchange(f->rt, a, b);
    FINISH(f);
}

static void test_unbound_sender(void **state)
{
    fixture_t *f = *state;
    char name[64], buf[8];
    snprintf(name, sizeof name, "@eddy-udg-u-%d", (int)getpid());
    eddy_unixdgram_t srv, cli;
    assert_int_equal(eddy_unixdgram_bind(f->rt, name, 0, &srv), 0);
    assert_int_equal(eddy_unixdgram_bind(f->rt, NULL, 0, &cli), 0);
    assert_int_equal(run_op(f->rt, (op_t){ .kind = SEND_TO, .s = cli, .out = "x", .len = 1, .to = name }).rc, 0);
    op_t o = run_op(f->rt, (op_t){ .kind = RECV_FROM, .s = srv, .in = buf, .len = sizeof buf });
    assert_int_equal(o.rc, 0);
    assert_string_equal(o.from, ""); /* unnamed */
    int fd = -1;
    assert_int_equal(eddy_unixdgram_fd(cli, &fd), 0);
    assert_true(fd >= 0);
    eddy_unixdgram_close(cli);
    eddy_unixdgram_close(srv);
    FINISH(f);
}

static void test_bad_input(void **state)
{
    fixture_t *f = *state;
    eddy_unixdgram_t s, s2;
    char longpath[300];
    memset(longpath, 'x', sizeof longpath - 1);
    longpath[0] = '/';
    longpath[sizeof longpath - 1] = 0;
    assert_int_equal(eddy_unixdgram_bind(f->rt, longpath, 0, &s), -ENAMETOOLONG);
    assert_int_equal(eddy_unixdgram_bind(f->rt, "", 0, &s), EDDY_EINVAL);
    assert_int_equal(eddy_unixdgram_bind(f->rt, "@", 0, &s), EDDY_EINVAL);
    assert_int_equal(eddy_unixdgram_bind(f->rt, "@x", 0x40, &s), EDDY_EINVAL);
    assert_int_equal(eddy_unixdgram_bind(f->rt, "@x", 0, NULL), EDDY_EINVAL);
    char path[128], none[128];
    snprintf(path, sizeof path, "%s/s.sock", fx_dir);
    snprintf(none, sizeof none, "%s/none.sock", fx_dir);
    assert_int_equal(eddy_unixdgram_bind(f->rt, path, 0, &s), 0);
    assert_int_equal(eddy_unixdgram_bind(f->rt, path, 0, &s2), EDDY_EADDRINUSE);
    assert_int_equal(eddy_unixdgram_close(s), 0); /* the file stays: stale */
    assert_int_equal(eddy_unixdgram_bind(f->rt, path, 0, &s), 0); /* replaced */
    assert_int_equal(eddy_unixdgram_close(s), 0);
    assert_int_equal(eddy_unixdgram_bind(f->rt, NULL, 0, &s), 0);
    assert_int_equal(eddy_unixdgram_connect(s, NULL), EDDY_EINVAL);
    assert_int_equal(eddy_unixdgram_connect(s, none), -ENOENT);
    assert_int_equal(eddy_unixdgram_connect(s, path), EDDY_ECONNREFUSED);
    assert_int_equal(run_op(f->rt, (op_t){ .kind = SEND_TO, .s = s, .out = "x", .len = 1, .to = none }).rc, -ENOENT);
    assert_int_equal(run_op(f->rt, (op_t){ .kind = SEND_TO, .s = s, .out = "x", .len = 1, .to = longpath }).rc,
                     -ENAMETOOLONG);
    assert_int_equal(run_op(f->rt, (op_t){ .kind = SEND_TO, .s = s, .out = "x", .len = 1, .to = NULL }).rc, EDDY_EINVAL);
    assert_int_equal(run_op(f->rt, (op_t){ .kind = SEND_TO, .s = s, .out = "x", .len = SIZE_MAX, .to = path }).rc,
                     EDDY_EINVAL);
    assert_int_equal(run_op(f->rt, (op_t){ .kind = SEND_TO, .s = s, .out = NULL, .len = 5, .to = path }).rc, EDDY_EINVAL);
    assert_int_equal(run_op(f->rt, (op_t){ .kind = SEND, .s = s, .out = "x", .len = 1 }).rc, -ENOTCONN);
    char small[8], buf[4];
    int status;
    op_t o = { .kind = RECV, .s = s, .in = NULL, .len = 3 };
    assert_int_equal(run_op(f->rt, o).rc, EDDY_EINVAL);
    (void)small;
    (void)buf;
    (void)status;
    size_t n;
    assert_int_equal(eddy_unixdgram_poll_recv_from(s, NULL, buf, sizeof buf, &n, small, sizeof small, NULL), EDDY_EINVAL);
    int fd;
    assert_int_equal(eddy_unixdgram_fd(s, NULL), EDDY_EINVAL);
    assert_int_equal(eddy_unixdgram_close(s), 0);
    assert_int_equal(eddy_unixdgram_close(s), EDDY_EBADHANDLE);
    assert_int_equal(eddy_unixdgram_fd(s, &fd), EDDY_EBADHANDLE);
    assert_int_equal(eddy_unixdgram_connect((eddy_unixdgram_t){ 0 }, path), EDDY_EBADHANDLE);
    FINISH(f);
}

/* ---- addresses and adoption ---- */

static void test_addresses(void **state)
{
    fixture_t *f = *state;
    char a[128], got[EDDY_UNIX_PATH_MAX], name[64];
    snprintf(a, sizeof a, "%s/local.sock", fx_dir);
    snprintf(name, sizeof name, "@eddy-udg-addr-%d", (int)getpid());
    eddy_unixdgram_t s, abs, unbound;
    assert_int_equal(eddy_unixdgram_bind(f->rt, a, EDDY_UNIXDGRAM_UNLINK_ON_CLOSE, &s), 0);
    assert_int_equal(eddy_unixdgram_bind(f->rt, name, 0, &abs), 0);
    assert_int_equal(eddy_unixdgram_bind(f->rt, NULL, 0, &unbound), 0);
    assert_int_equal(eddy_unixdgram_local_addr(s, got, sizeof got), 0);
    assert_string_equal(got, a);
    assert_int_equal(eddy_unixdgram_local_addr(abs, got, sizeof got), 0);
    assert_string_equal(got, name);
    assert_int_equal(eddy_unixdgram_local_addr(unbound, got, sizeof got), 0);
    assert_string_equal(got, "");
    /* Not connected, then connected to each kind of name. */
    assert_int_equal(eddy_unixdgram_peer_addr(unbound, got, sizeof got), EDDY_ENOTCONN);
    assert_int_equal(eddy_unixdgram_connect(unbound, a), 0);
    assert_int_equal(eddy_unixdgram_peer_addr(unbound, got, sizeof got), 0);
    assert_string_equal(got, a);
    assert_int_equal(eddy_unixdgram_connect(unbound, name), 0);
    assert_int_equal(eddy_unixdgram_peer_addr(unbound, got, sizeof got), 0);
    assert_string_equal(got, name);
    /* Bad input: nothing written. */
    char small[EDDY_UNIX_PATH_MAX - 1];
    memset(small, 'z', sizeof small);
    assert_int_equal(eddy_unixdgram_local_addr(s, NULL, sizeof got), EDDY_EINVAL);
    assert_int_equal(eddy_unixdgram_local_addr(s, small, sizeof small), EDDY_EINVAL);
    assert_int_equal(eddy_unixdgram_peer_addr(unbound, small, sizeof small), EDDY_EINVAL);
    assert_int_equal(eddy_unixdgram_peer_addr(unbound, NULL, 0), EDDY_EINVAL);
    assert_int_equal(small[0], 'z');
    assert_int_equal(eddy_unixdgram_close(s), 0);
    assert_int_equal(eddy_unixdgram_local_addr(s, got, sizeof got), EDDY_EBADHANDLE);
    assert_int_equal(eddy_unixdgram_peer_addr(s, got, sizeof got), EDDY_EBADHANDLE);
    assert_int_equal(eddy_unixdgram_close(abs), 0);
    assert_int_equal(eddy_unixdgram_close(unbound), 0);
    FINISH(f);
}

static int is_open(int fd) { return fcntl(fd, F_GETFD) != -1; }

static void test_from_fd(void **state)
{
    fixture_t *f = *state;
    char path[100], buf[16]; /* fits sun_path */
    snprintf(path, sizeof path, "%s/adopted.sock", fx_dir);
    int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    memcpy(sun.sun_path, path, strlen(path) + 1);
    assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof sun), 0);
    /* A datagram queued before Eddy takes the descriptor is received. */
    eddy_unixdgram_t cli, s;
    assert_int_equal(eddy_unixdgram_bind(f->rt, NULL, 0, &cli), 0);
    assert_int_equal(run_op(f->rt, (op_t){ .kind = SEND_TO, .s = cli, .out = "early", .len = 5, .to = path }).rc, 0);
    assert_int_equal(eddy_unixdgram_from_fd(f->rt, fd, &s), 0);
    assert_true(fcntl(fd, F_GETFL) & O_NONBLOCK);
    assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    int got = -1;
    assert_int_equal(eddy_unixdgram_fd(s, &got), 0);
    assert_int_equal(got, fd);
    char addr[EDDY_UNIX_PATH_MAX];
    assert_int_equal(eddy_unixdgram_local_addr(s, addr, sizeof addr), 0);
    assert_string_equal(addr, path);
    op_t o = run_op(f->rt, (op_t){ .kind = RECV_FROM, .s = s, .in = buf, .len = sizeof buf });
    assert_int_equal(o.rc, 0);
    assert_int_equal(o.n, 5);
    assert_memory_equal(buf, "early", 5);
    assert_int_equal(eddy_unixdgram_close(s), 0);
    assert_false(is_open(fd)); /* Eddy's from the call on: closed with the handle */
    unlink(path);
    /* Wrong types are refused, and the descriptor is closed (FINISH: nothing leaked). */
    int udp = socket(AF_INET, SOCK_DGRAM, 0);
    assert_int_equal(eddy_unixdgram_from_fd(f->rt, udp, &s), EDDY_EINVAL);
    assert_false(is_open(udp));
    int stream = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_int_equal(eddy_unixdgram_from_fd(f->rt, stream, &s), EDDY_EINVAL);
    assert_false(is_open(stream));
    int pipefd[2];
    assert_int_equal(pipe(pipefd), 0);
    close(pipefd[1]);
    assert_int_equal(eddy_unixdgram_from_fd(f->rt, pipefd[0], &s), -ENOTSOCK);
    assert_false(is_open(pipefd[0]));
    int closed = socket(AF_UNIX, SOCK_DGRAM, 0);
    close(closed);
    assert_int_equal(eddy_unixdgram_from_fd(f->rt, closed, &s), -EBADF);
    assert_int_equal(eddy_unixdgram_from_fd(f->rt, -1, &s), -EBADF);
    int noout = socket(AF_UNIX, SOCK_DGRAM, 0);
    assert_int_equal(eddy_unixdgram_from_fd(f->rt, noout, NULL), EDDY_EINVAL);
    assert_false(is_open(noout));
    int stale = socket(AF_UNIX, SOCK_DGRAM, 0);
    assert_int_equal(eddy_unixdgram_from_fd((eddy_runtime_t){ 0 }, stale, &s), EDDY_EBADHANDLE);
    assert_false(is_open(stale));
    assert_int_equal(eddy_unixdgram_close(cli), 0);
    FINISH(f);
}

/* ---- no allocation per datagram ---- */

typedef struct {
    eddy_unixdgram_t a, b;
    const char *to_b;
    char from[EDDY_UNIX_PATH_MAX];
    char buf[128];
    int received, rounds, phase;
} pingpong_t;

/* a sends to b's path, b echoes to the sender's path, a receives: `rounds` times. */
static int pingpong_poll(void *state, eddy_cx_t *cx)
{
    pingpong_t *p = state;
    size_t n;
    int trunc, rc;
    while (p->received < p->rounds) {
        switch (p->phase) {
        case 0:
            rc = eddy_unixdgram_poll_send_to(p->a, cx, "0123456789abcdef0123456789abcdef", 32, p->to_b, &n);
            if (rc != EDDY_READY) return rc;
            p->phase = 1;
            break;
        case 1:
            rc = eddy_unixdgram_poll_recv_from(p->b, cx, p->buf, sizeof p->buf, &n, p->from, sizeof p->from, &trunc);
            if (rc != EDDY_READY) return rc;
            if (n != 32 || trunc) return -1;
            p->phase = 2;
            break;
        case 2:
            rc = eddy_unixdgram_poll_send_to(p->b, cx, p->buf, 32, p->from, &n);
            if (rc != EDDY_READY) return rc;
            p->phase = 3;
            break;
        default:
            rc = eddy_unixdgram_poll_recv(p->a, cx, p->buf, sizeof p->buf, &n, &trunc);
            if (rc != EDDY_READY) return rc;
            p->received++;
            p->phase = 0;
            if (p->received == 100) { /* warmed up: count from here */
#if COUNT_MALLOCS
                mallocs = 0;
                counting = 1;
#endif
            }
        }
    }
#if COUNT_MALLOCS
    counting = 0;
#endif
    return EDDY_READY;
}

/* Paths longer than 15 bytes (a Swift String would put them on the heap), both ways. */
static void test_no_allocation_per_datagram(void **state)
{
    fixture_t *f = *state;
    char a[128], b[128];
    snprintf(a, sizeof a, "%s/pingpong-a.sock", fx_dir);
    snprintf(b, sizeof b, "%s/pingpong-b.sock", fx_dir);
    pingpong_t p = { .rounds = 2100, .to_b = b };
    assert_int_equal(eddy_unixdgram_bind(f->rt, a, EDDY_UNIXDGRAM_UNLINK_ON_CLOSE, &p.a), 0);
    assert_int_equal(eddy_unixdgram_bind(f->rt, b, EDDY_UNIXDGRAM_UNLINK_ON_CLOSE, &p.b), 0);
    int status = -1;
    assert_int_equal(eddy_block_on(f->rt, pingpong_poll, &p, NULL, &status), 0);
    assert_int_equal(status, 0);
    assert_int_equal(p.received, 2100);
    assert_string_equal(p.from, a);
#if COUNT_MALLOCS
    /* 2000 round trips (8000 datagram operations, sender paths copied out): no malloc. */
    assert_int_equal(mallocs, 0);
#else
    printf("malloc count not checked under ASan (it owns malloc); the plain run checks it\n");
#endif
    eddy_unixdgram_close(p.a);
    eddy_unixdgram_close(p.b);
    FINISH(f);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, dir_setup, fx_dir_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_path_and_abstract),
        T(test_unbound_sender),
        T(test_bad_input),
        T(test_addresses),
        T(test_from_fd),
        T(test_no_allocation_per_datagram),
    };
    return cmocka_run_group_tests_name("unix_dgram", tests, NULL, NULL);
}

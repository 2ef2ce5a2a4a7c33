/* test_fd.c — readiness of caller-owned descriptors (eddy_fd_*): a task woken when a
 * pipe becomes readable / writable, the clear-then-pending protocol, a host task waiting
 * on a descriptor through eddy_host_enter (what the Python binding does with its
 * signal wake-up pipe), and misuse: bad / closed / regular / duplicate fds, NULL
 * pointers, bad interest bits, stale and wrong-kind handles, double free, wrong thread,
 * after fork, after the runtime is freed, an fd closed (and its number reused by one of
 * the runtime's sockets) before eddy_fd_free. Eddy never closes the caller's fd. */
#include "harness.h"

#include <sys/eventfd.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

static int fd_is_open(int fd)
{
    return fcntl(fd, F_GETFD) != -1;
}

static void make_pipe(int p[2])
{
    assert_int_equal(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
}

/* A thread that writes one byte to `fd` after `delay_ms`. */
typedef struct {
    int fd;
    unsigned delay_ms;
    pthread_t th;
} late_writer_t;

static void *late_writer_main(void *arg)
{
    late_writer_t *w = arg;
    sleep_ms(w->delay_ms);
    char b = 'x';
    (void)!write(w->fd, &b, 1);
    return NULL;
}

static void start_late_writer(late_writer_t *w, int fd, unsigned delay_ms)
{
    w->fd = fd;
    w->delay_ms = delay_ms;
    assert_int_equal(pthread_create(&w->th, NULL, late_writer_main, w), 0);
}

/* ---- a poll_fn: wait readable, drain, clear, see PENDING again, until `want` bytes ---- */

typedef struct {
    eddy_fd_t watch;
    int fd;
    size_t want, got;
    int pendings;         /* PENDING results */
    int pending_after_clear; /* PENDING right after a clear (the protocol's step 2 -> 1) */
    int bad;              /* an unexpected result */
} reader_t;

static int reader_poll(void *state, eddy_cx_t *cx)
{
    reader_t *r = state;
    for (;;) {
        uint32_t ready = 0;
        int rc = eddy_fd_poll_ready(r->watch, cx, EDDY_FD_READABLE, &ready);
        if (rc == EDDY_PENDING) {
            r->pendings++;
            return EDDY_PENDING;
        }
        if (rc != EDDY_READY || ready != EDDY_FD_READABLE) {
            r->bad = rc;
            return rc < 0 ? rc : EDDY_EINVAL;
        }
        char buf[64];
        ssize_t n;
        while ((n = read(r->fd, buf, sizeof buf)) > 0) {
            r->got += (size_t)n;
        }
        if (n == 0 || errno != EAGAIN) {
            r->bad = -errno;
            return EDDY_EINVAL;
        }
        assert_int_equal(eddy_fd_clear_ready(r->watch, EDDY_FD_READABLE), 0);
        if (r->got >= r->want) {
            /* Readiness is gone: the next poll must wait for a new edge. */
            rc = eddy_fd_poll_ready(r->watch, cx, EDDY_FD_READABLE, &ready);
            r->pending_after_clear = rc == EDDY_PENDING;
            return EDDY_READY;
        }
    }
}

static void test_task_woken_when_pipe_readable(void **state)
{
    fixture_t *f = *state;
    int p[2];
    make_pipe(p);
    reader_t r = { { 0 }, p[0], 3, 0, 0, 0, 0 };
    assert_int_equal(eddy_fd_watch(f->rt, p[0], &r.watch), 0);
    assert_true(r.watch.id != 0);

    /* Nothing to read yet: the task parks, a thread writes 50 ms later. */
    late_writer_t w;
    uint64_t t0 = now_ns(); /* before the writer starts: it writes >= 50 ms after t0 */
    start_late_writer(&w, p[1], 50);
    r.want = 1;
    int st = -1;
    assert_int_equal(eddy_block_on(f->rt, reader_poll, &r, NULL, &st), 0);
    assert_int_equal(st, 0);
    assert_int_equal(pthread_join(w.th, NULL), 0);
    assert_int_equal(r.bad, 0);
    assert_int_equal(r.got, 1);
    assert_true(r.pendings >= 1);
    assert_true(r.pending_after_clear);
    assert_true(elapsed_ms(t0) >= 50); /* it waited for the byte */

    /* Data already there before the poll: found without any writer. */
    assert_int_equal(write(p[1], "ab", 2), 2);
    r.want = 3;
    assert_int_equal(eddy_block_on(f->rt, reader_poll, &r, NULL, &st), 0);
    assert_int_equal(st, 0);
    assert_int_equal(r.got, 3);

    assert_int_equal(eddy_fd_free(r.watch), 0);
    assert_true(fd_is_open(p[0])); /* never closed by Eddy */
    close(p[0]);
    close(p[1]);
    FINISH(f);
}

/* ---- writable: a full pipe, drained by a thread ---- */

typedef struct {
    eddy_fd_t watch;
    int pendings;
    uint32_t ready;
} writer_t;

static int writer_poll(void *state, eddy_cx_t *cx)
{
    writer_t *w = state;
    int rc = eddy_fd_poll_ready(w->watch, cx, EDDY_FD_WRITABLE | EDDY_FD_READABLE, &w->ready);
    if (rc == EDDY_PENDING) {
        w->pendings++;
    }
    return rc;
}

typedef struct {
    int fd;
    pthread_t th;
} drainer_t;

static void *drainer_main(void *arg)
{
    drainer_t *d = arg;
    sleep_ms(50);
    char buf[65536];
    int flags = fcntl(d->fd, F_GETFL);
    fcntl(d->fd, F_SETFL, flags & ~O_NONBLOCK);
    (void)!read(d->fd, buf, sizeof buf);
    return NULL;
}

static void test_task_woken_when_pipe_writable(void **state)
{
    fixture_t *f = *state;
    int p[2];
    make_pipe(p);
    /* Fill the pipe. */
    char buf[4096];
    memset(buf, 'y', sizeof buf);
    while (write(p[1], buf, sizeof buf) > 0) {
    }
    assert_int_equal(errno, EAGAIN);
    writer_t w = { { 0 }, 0, 0 };
    assert_int_equal(eddy_fd_watch(f->rt, p[1], &w.watch), 0);
    drainer_t d = { p[0], 0 };
    assert_int_equal(pthread_create(&d.th, NULL, drainer_main, &d), 0);
    int st = -1;
    assert_int_equal(eddy_block_on(f->rt, writer_poll, &w, NULL, &st), 0);
    assert_int_equal(st, 0);
    assert_int_equal(pthread_join(d.th, NULL), 0);
    assert_true(w.pendings >= 1);
    assert_true(w.ready == EDDY_FD_WRITABLE); /* only the bits asked for and ready */
    assert_int_equal(eddy_fd_free(w.watch), 0);
    assert_true(fd_is_open(p[1]));
    close(p[0]);
    close(p[1]);
    FINISH(f);
}

/* ---- a host task waits on a descriptor (the Python binding's signal wake-up) ---- */

static void test_host_task_waits_on_fd(void **state)
{
    fixture_t *f = *state;
    int p[2];
    make_pipe(p);
    eddy_fd_t watch;
    assert_int_equal(eddy_fd_watch(f->rt, p[0], &watch), 0);
    eddy_host_task_t task = { 0 };
    assert_int_equal(eddy_host_spawn(f->rt, &task), 0);
    eddy_host_event_t ev[4];
    eddy_host_batch_t b = { f->rt, NULL, 0, ev, 4, 0 };
    assert_int_equal(eddy_host_turn(&b), 0); /* the first event: start the task */
    assert_int_equal(b.n, 1);

    eddy_cx_t *cx = NULL;
    uint32_t ready = 0;
    assert_int_equal(eddy_host_enter(f->rt, task, &cx), 0);
    assert_int_equal(eddy_fd_poll_ready(watch, cx, EDDY_FD_READABLE, &ready), EDDY_PENDING);
    eddy_host_op_t wait = { task, EDDY_HOST_OP_WAIT, 0, 0, 0 };
    const eddy_host_op_t *ops[1] = { &wait };
    b.ops = ops;
    b.nops = 1;
    late_writer_t w;
    uint64_t t0 = now_ns(); /* before the writer starts: it writes >= 50 ms after t0 */
    start_late_writer(&w, p[1], 50);
    assert_int_equal(eddy_host_turn(&b), 0); /* blocks until the byte arrives */
    assert_true(elapsed_ms(t0) >= 50);
    assert_int_equal(pthread_join(w.th, NULL), 0);
    assert_int_equal(b.n, 1);
    assert_true(ev[0].task.id == task.id && ev[0].result == EDDY_HOST_WOKEN);
    assert_int_equal(eddy_host_enter(f->rt, task, &cx), 0);
    assert_int_equal(eddy_fd_poll_ready(watch, cx, EDDY_FD_READABLE, &ready), EDDY_READY);
    assert_int_equal(ready, EDDY_FD_READABLE);

    assert_int_equal(eddy_fd_free(watch), 0);
    close(p[0]);
    close(p[1]);
    /* The task is left to eddy_runtime_free (1 force-closed). */
    eddy_runtime_t rt = f->rt;
    f->rt.id = 0;
    assert_int_equal(eddy_runtime_free(rt), 1);
    check_fds(f);
}

/* ---- misuse ---- */

typedef struct {
    eddy_runtime_t rt;
    eddy_fd_t watch;
    int fd;
    int watch_rc, clear_rc, free_rc;
} other_thread_t;

static void *other_thread_main(void *arg)
{
    other_thread_t *o = arg;
    eddy_fd_t w;
    o->watch_rc = eddy_fd_watch(o->rt, o->fd, &w);
    o->clear_rc = eddy_fd_clear_ready(o->watch, EDDY_FD_READABLE);
    o->free_rc = eddy_fd_free(o->watch);
    return NULL;
}

typedef struct {
    eddy_fd_t watch;
    int null_cx, bogus_cx, zero_interest, unknown_interest, null_ready, ok;
} inside_t;

static int inside_poll(void *state, eddy_cx_t *cx)
{
    inside_t *in = state;
    uint32_t ready;
    in->null_cx = eddy_fd_poll_ready(in->watch, NULL, EDDY_FD_READABLE, &ready);
    in->bogus_cx = eddy_fd_poll_ready(in->watch, (eddy_cx_t *)&ready, EDDY_FD_READABLE, &ready);
    in->zero_interest = eddy_fd_poll_ready(in->watch, cx, 0, &ready);
    in->unknown_interest = eddy_fd_poll_ready(in->watch, cx, 4, &ready);
    in->null_ready = eddy_fd_poll_ready(in->watch, cx, EDDY_FD_READABLE, NULL);
    in->ok = eddy_fd_poll_ready(in->watch, cx, EDDY_FD_READABLE, &ready);
    return EDDY_READY;
}

static void test_misuse(void **state)
{
    fixture_t *f = *state;
    eddy_fd_t w = { 0 };
    int p[2];
    make_pipe(p);

    /* Bad descriptors: the kernel's answer, nothing registered. */
    assert_int_equal(eddy_fd_watch(f->rt, -1, &w), -EBADF);
    int q[2];
    make_pipe(q);
    close(q[0]);
    close(q[1]);
    assert_int_equal(eddy_fd_watch(f->rt, q[0], &w), -EBADF); /* closed */
    FILE *tmp = tmpfile();
    assert_non_null(tmp);
    assert_int_equal(eddy_fd_watch(f->rt, fileno(tmp), &w), -EPERM); /* regular file */
    fclose(tmp);
    assert_int_equal(eddy_fd_watch(f->rt, p[0], NULL), EDDY_EINVAL);
    eddy_runtime_t forged = { f->rt.id ^ 0x10000000000ull };
    assert_int_equal(eddy_fd_watch(forged, p[0], &w), EDDY_EBADHANDLE);

    /* Watched twice: refused, the first watch unharmed. */
    assert_int_equal(eddy_fd_watch(f->rt, p[0], &w), 0);
    eddy_fd_t w2 = { 0 };
    assert_int_equal(eddy_fd_watch(f->rt, p[0], &w2), -EEXIST);

    /* cx and arguments. */
    uint32_t ready = 0;
    assert_int_equal(eddy_fd_poll_ready(w, NULL, EDDY_FD_READABLE, &ready), EDDY_EINVAL); /* no poll running */
    inside_t in = { w, 0, 0, 0, 0, 0, -99 };
    int st = -1;
    assert_int_equal(eddy_block_on(f->rt, inside_poll, &in, NULL, &st), 0);
    assert_int_equal(in.null_cx, EDDY_EINVAL);
    assert_int_equal(in.bogus_cx, EDDY_EINVAL);
    assert_int_equal(in.zero_interest, EDDY_EINVAL);
    assert_int_equal(in.unknown_interest, EDDY_EINVAL);
    assert_int_equal(in.null_ready, EDDY_EINVAL);
    assert_int_equal(in.ok, EDDY_PENDING);
    assert_int_equal(eddy_fd_clear_ready(w, 4), EDDY_EINVAL);
    assert_int_equal(eddy_fd_clear_ready(w, 0), 0);
    assert_int_equal(eddy_fd_clear_ready(w, EDDY_FD_READABLE | EDDY_FD_WRITABLE), 0);

    /* Wrong kind both ways: a runtime id as a watch, a watch as a stream. */
    eddy_fd_t as_fd = { f->rt.id };
    assert_int_equal(eddy_fd_free(as_fd), EDDY_EBADHANDLE);
    eddy_tcp_t as_tcp = { w.id };
    assert_int_equal(eddy_tcp_close(as_tcp), EDDY_EBADHANDLE);

    /* Another thread. */
    other_thread_t o = { f->rt, w, p[1], 0, 0, 0 };
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, other_thread_main, &o), 0);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_int_equal(o.watch_rc, EDDY_EWRONGTHREAD);
    assert_int_equal(o.clear_rc, EDDY_EWRONGTHREAD);
    assert_int_equal(o.free_rc, EDDY_EWRONGTHREAD);

    /* After fork: EFORKED in the child. */
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        eddy_fd_t x;
        int ok = eddy_fd_watch(f->rt, p[1], &x) == EDDY_EFORKED &&
                 eddy_fd_poll_ready(w, NULL, EDDY_FD_READABLE, &ready) == EDDY_EFORKED &&
                 eddy_fd_clear_ready(w, EDDY_FD_READABLE) == EDDY_EFORKED && eddy_fd_free(w) == EDDY_EFORKED;
        _exit(ok ? 0 : 1);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);

    /* Free, then everything on the stale handle is EBADHANDLE; the fd stays open. */
    assert_int_equal(eddy_fd_free(w), 0);
    assert_int_equal(eddy_fd_free(w), EDDY_EBADHANDLE);
    assert_int_equal(eddy_fd_clear_ready(w, EDDY_FD_READABLE), EDDY_EBADHANDLE);
    in.watch = w;
    assert_int_equal(eddy_block_on(f->rt, inside_poll, &in, NULL, &st), 0);
    assert_int_equal(in.ok, EDDY_EBADHANDLE);
    assert_true(fd_is_open(p[0]));
    /* ... and can be watched again. */
    assert_int_equal(eddy_fd_watch(f->rt, p[0], &w), 0);
    assert_int_equal(eddy_fd_free(w), 0);

    close(p[0]);
    close(p[1]);
    FINISH(f);
}

/* Accept one connection on `listener` (a poll_fn), or give up when `deadline` fires. */
typedef struct {
    eddy_tcp_t listener, conn;
    eddy_future_t deadline;
    int pendings;
} acceptor_t;

static int accept_poll(void *state, eddy_cx_t *cx)
{
    acceptor_t *a = state;
    int rc = eddy_tcp_poll_accept(a->listener, cx, &a->conn);
    if (rc != EDDY_PENDING) {
        return rc;
    }
    a->pendings++;
    rc = eddy_future_poll(a->deadline, cx);
    return rc == EDDY_READY ? EDDY_ETIMEDOUT : rc < 0 ? rc : EDDY_PENDING;
}

typedef struct {
    uint16_t port;
    int fd;
    pthread_t th;
} late_connect_t;

static void *late_connect_main(void *arg)
{
    late_connect_t *c = arg;
    sleep_ms(50);
    c->fd = raw_connect("127.0.0.1", c->port);
    return NULL;
}

/* A watch whose fd was closed, then a new descriptor with the same number watched: the
 * live watch frees with 0 and really deregisters (the fd can be watched again), the stale
 * one with -EBADF (found by abi_fuzz: the live one's free saw the stale watch of the same
 * number, returned -EBADF and left the fd registered: watching it again was -EEXIST).
 * eventfds: all share one inode, so only the number tells them apart. */
static void test_stale_watch_of_reused_number(void **state)
{
    fixture_t *f = *state;
    for (int kind = 0; kind < 2; kind++) {
        int p[2] = { -1, -1 };
        int a;
        if (kind == 0) {
            make_pipe(p);
            a = p[0];
        } else {
            a = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
            assert_true(a >= 0);
        }
        eddy_fd_t stale, live, again;
        assert_int_equal(eddy_fd_watch(f->rt, a, &stale), 0);
        int number = a;
        close(a);
        int b = kind == 0 ? dup(p[1]) : eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); /* lowest free: `number` */
        assert_int_equal(b, number);
        assert_int_equal(eddy_fd_watch(f->rt, b, &live), 0);
        assert_int_equal(eddy_fd_free(live), 0);
        assert_int_equal(eddy_fd_watch(f->rt, b, &again), 0); /* really deregistered */
        assert_int_equal(eddy_fd_free(again), 0);
        assert_int_equal(eddy_fd_free(stale), -EBADF);
        assert_int_equal(eddy_fd_free(stale), EDDY_EBADHANDLE);
        close(b);
        if (kind == 0) {
            close(p[1]);
        }
    }
    assert_int_equal(eddy_runtime_free(f->rt), 0);
    f->rt.id = 0;
    check_fds(f);
}

static void test_fd_closed_before_free(void **state)
{
    fixture_t *f = *state;
    int p[2];
    make_pipe(p);
    eddy_fd_t w;
    assert_int_equal(eddy_fd_watch(f->rt, p[0], &w), 0);
    int number = p[0];
    close(p[0]);
    /* The lowest free number is taken by the next descriptor: here one of the runtime's
     * own (registered) sockets. Freeing the watch must not deregister it. */
    eddy_tcp_t l;
    assert_int_equal(eddy_tcp_listen(f->rt, "127.0.0.1", 0, 16, &l), 0);
    char path[64], target[64] = { 0 };
    snprintf(path, sizeof path, "/proc/self/fd/%d", number);
    int reused = readlink(path, target, sizeof target - 1) > 0 && strncmp(target, "socket:", 7) == 0;
    if (!reused) {
        print_message("note: fd %d was not reused by the listener; reuse check is weaker\n", number);
    }
    assert_int_equal(eddy_fd_free(w), -EBADF);
    assert_int_equal(eddy_fd_free(w), EDDY_EBADHANDLE); /* freed all the same */

    /* The listener still gets readiness events: an accept that first finds nothing
     * (and waits for an edge) completes when a client connects 50 ms later. */
    late_connect_t c = { 0, -1, 0 };
    assert_int_equal(eddy_tcp_local_port(l, &c.port), 0);
    acceptor_t a = { l, { 0 }, { 0 }, 0 };
    assert_int_equal(eddy_sleep(f->rt, 3000 * MS, &a.deadline), 0);
    assert_int_equal(pthread_create(&c.th, NULL, late_connect_main, &c), 0);
    int st = -1;
    assert_int_equal(eddy_block_on(f->rt, accept_poll, &a, NULL, &st), 0);
    assert_int_equal(pthread_join(c.th, NULL), 0);
    assert_int_equal(st, 0); /* EDDY_ETIMEDOUT: the listener lost its registration */
    assert_true(a.pendings >= 1);
    assert_int_equal(eddy_future_free(a.deadline), 0);
    assert_int_equal(eddy_tcp_close(a.conn), 0);
    assert_int_equal(eddy_tcp_close(l), 0);
    close(c.fd);
    close(p[1]);
    FINISH(f);
}

static void test_runtime_free_leaves_fd_open(void **state)
{
    fixture_t *f = *state;
    int p[2];
    make_pipe(p);
    eddy_fd_t w;
    assert_int_equal(eddy_fd_watch(f->rt, p[0], &w), 0);
    eddy_runtime_t rt = f->rt;
    f->rt.id = 0;
    assert_int_equal(eddy_runtime_free(rt), 1); /* the watch, force-closed */
    assert_true(fd_is_open(p[0]));
    assert_int_equal(eddy_fd_free(w), EDDY_EBADHANDLE);
    assert_int_equal(eddy_fd_clear_ready(w, EDDY_FD_READABLE), EDDY_EBADHANDLE);
    /* The fd is still usable and can be watched by a new runtime. */
    assert_int_equal(write(p[1], "z", 1), 1);
    char c = 0;
    assert_int_equal(read(p[0], &c, 1), 1);
    eddy_runtime_t rt2;
    assert_int_equal(eddy_runtime_new(NULL, &rt2), 0);
    assert_int_equal(eddy_fd_watch(rt2, p[0], &w), 0);
    assert_int_equal(eddy_fd_free(w), 0);
    assert_int_equal(eddy_runtime_free(rt2), 0);
    close(p[0]);
    close(p[1]);
    check_fds(f);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_task_woken_when_pipe_readable),
        T(test_task_woken_when_pipe_writable),
        T(test_host_task_waits_on_fd),
        T(test_misuse),
        T(test_stale_watch_of_reused_number),
        T(test_fd_closed_before_free),
        T(test_runtime_free_leaves_fd_open),
    };
    return cmocka_run_group_tests_name("fd", tests, NULL, NULL);
}

/* test_metrics.c — eddy_runtime_metrics: polls, ticks, parks, queue depths, live tasks,
 * the blocking pool's counts; from the owning thread, inside a task and from another
 * thread; argument errors. */
#include "harness.h"

#include <pthread.h>
#include <stdio.h>
#include <sys/socket.h>
#include <stdatomic.h>
#include <unistd.h>

#define METRICS_INIT { .struct_size = sizeof(eddy_runtime_metrics_t) }

typedef struct {
    int left; /* polls before READY; wakes itself each time */
    eddy_runtime_metrics_t inside;
} yielder_t;

static int yielder_poll(void *state, eddy_cx_t *cx)
{
    yielder_t *y = state;
    if (--y->left <= 0) {
        eddy_runtime_t rt;
        eddy_cx_runtime(cx, &rt);
        y->inside.struct_size = sizeof y->inside;
        return eddy_runtime_metrics(rt, &y->inside) == 0 ? EDDY_READY : EDDY_EINVAL;
    }
    eddy_waker_t w;
    if (eddy_cx_waker(cx, &w) != 0) {
        return EDDY_ENOMEM;
    }
    eddy_waker_wake(w);
    eddy_waker_free(w);
    return EDDY_PENDING;
}

static void test_polls_ticks_parks_live(void **state)
{
    fixture_t *f = *state;
    eddy_runtime_metrics_t m0 = METRICS_INIT, m1 = METRICS_INIT;
    assert_int_equal(eddy_runtime_metrics(f->rt, &m0), 0);
    assert_int_equal(m0.polls, 0);
    assert_int_equal(m0.live_tasks, 0);
    yielder_t y = { .left = 100 };
    int st = 1;
    assert_int_equal(eddy_block_on(f->rt, yielder_poll, &y, NULL, &st), 0);
    assert_int_equal(st, 0);
    assert_int_equal(y.inside.live_tasks, 1); /* itself, read on the loop thread */
    /* (polls are counted at the end of each tick: this tick polled it 100 times) */
    /* a sleep: the loop parks at least once (long enough not to have expired before
     * its first poll on a slow machine or under valgrind: then nothing would park) */
    eddy_future_t s;
    assert_int_equal(eddy_sleep(f->rt, 5 * MS * slow_factor(), &s), 0);
    assert_int_equal(block_on_future(f->rt, s), 0);
    assert_int_equal(eddy_future_free(s), 0);
    assert_int_equal(eddy_runtime_metrics(f->rt, &m1), 0);
    assert_true(m1.polls >= 100 + 1);
    assert_true(m1.ticks >= 2 && m1.ticks <= m1.polls + m1.parks + 2);
    assert_true(m1.parks >= 1);
    assert_int_equal(m1.live_tasks, 0);
    assert_int_equal(m1.local_queue_depth, 0);
    assert_int_equal(m1.remote_queue_depth, 0);
    assert_int_equal(m1.blocking_max_threads, 4);
    FINISH(f);
}

static atomic_int gate, started;

static void *gated(void *arg)
{
    atomic_fetch_add(&started, 1);
    while (!atomic_load(&gate)) {
        sleep_ms(1);
    }
    return arg;
}

typedef struct {
    eddy_runtime_t rt;
    int rc;
    eddy_runtime_metrics_t m;
} reader_t;

static void *read_metrics(void *arg)
{
    reader_t *r = arg;
    r->m.struct_size = sizeof r->m;
    r->rc = eddy_runtime_metrics(r->rt, &r->m);
    return NULL;
}

static void test_blocking_pool_counts_and_another_thread(void **state)
{
    fixture_t *f = *state;
    eddy_config_t c;
    eddy_runtime_t rt;
    assert_int_equal(eddy_config_init(&c), 0);
    c.blocking_threads = 2;
    assert_int_equal(eddy_runtime_new(&c, &rt), 0);
    atomic_store(&gate, 0);
    atomic_store(&started, 0);
    eddy_future_t futs[3];
    for (int i = 0; i < 3; i++) {
        assert_int_equal(eddy_spawn_blocking(rt, gated, NULL, &futs[i]), 0);
    }
    while (atomic_load(&started) < 2) {
        sleep_ms(1);
    }
    reader_t r = { .rt = rt };
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, read_metrics, &r), 0);
    assert_int_equal(pthread_join(th, NULL), 0);
    eddy_runtime_metrics_t m = METRICS_INIT;
    assert_int_equal(eddy_runtime_metrics(rt, &m), 0);
    atomic_store(&gate, 1);
    assert_int_equal(r.rc, 0); /* any thread */
    assert_int_equal(r.m.blocking_threads, 2);
    assert_int_equal(m.blocking_threads, 2);
    assert_int_equal(m.blocking_running, 2);
    assert_int_equal(m.blocking_queued, 1);
    assert_int_equal(m.blocking_idle_threads, 0);
    assert_int_equal(m.blocking_max_threads, 2);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(block_on_future(rt, futs[i]), 0);
        assert_int_equal(eddy_future_free(futs[i]), 0);
    }
    /* The pool counts a job completed once its wake-up returned: a moment after. */
    for (int i = 0; i < 5000; i++) {
        assert_int_equal(eddy_runtime_metrics(rt, &m), 0);
        if (m.blocking_completed == 3) {
            break;
        }
        sleep_ms(1);
    }
    assert_int_equal(m.blocking_completed, 3);
    assert_int_equal(m.blocking_running + m.blocking_queued, 0);
    assert_int_equal(eddy_runtime_free(rt), 0);
    FINISH(f);
}

static void test_bad_arguments(void **state)
{
    fixture_t *f = *state;
    eddy_runtime_metrics_t m = { .struct_size = 4 };
    assert_int_equal(eddy_runtime_metrics(f->rt, NULL), EDDY_EINVAL);
    assert_int_equal(eddy_runtime_metrics(f->rt, &m), EDDY_EINVAL);
    m.struct_size = sizeof m;
    assert_int_equal(eddy_runtime_metrics((eddy_runtime_t){ 0x7fff00001234ull }, &m), EDDY_EBADHANDLE);
    assert_int_equal(eddy_runtime_metrics((eddy_runtime_t){ 0 }, &m), EDDY_EBADHANDLE);
    FINISH(f);
}

/* ---- task dump ---- */

typedef struct {
    eddy_future_t sleep;
    eddy_tcp_t stream;
    char buf[8];
    int started;
} waiter_t;

static int sleeper_poll(void *state, eddy_cx_t *cx)
{
    waiter_t *w = state;
    if (!w->started) {
        eddy_runtime_t rt;
        eddy_cx_runtime(cx, &rt);
        if (eddy_sleep(rt, 60000 * MS, &w->sleep) != 0) {
            return EDDY_ENOMEM;
        }
        w->started = 1;
    }
    return eddy_future_poll(w->sleep, cx);
}

static void sleeper_drop(void *state)
{
    waiter_t *w = state;
    if (w->started) {
        eddy_future_free(w->sleep);
    }
}

static int reader_poll(void *state, eddy_cx_t *cx)
{
    waiter_t *w = state;
    size_t n = 0;
    int r = eddy_tcp_poll_read(w->stream, cx, w->buf, sizeof w->buf, &n);
    return r == EDDY_PENDING ? r : EDDY_READY;
}

typedef struct {
    char text[2048];
    size_t len;
    int rc;
} dump_t;

static int dumper_poll(void *state, eddy_cx_t *cx)
{
    dump_t *d = state;
    eddy_runtime_t rt;
    eddy_cx_runtime(cx, &rt);
    d->rc = eddy_runtime_task_dump(rt, d->text, sizeof d->text, &d->len);
    return EDDY_READY;
}

static void *dump_from_other_thread(void *arg)
{
    dump_t *d = arg;
    eddy_runtime_t rt = { *(uint64_t *)(void *)d->text };
    d->rc = eddy_runtime_task_dump(rt, NULL, 0, &d->len);
    return NULL;
}

static void test_task_dump(void **state)
{
    fixture_t *f = *state;
    uint16_t port;
    int lfd = raw_listen("127.0.0.1", &port);
    assert_true(lfd >= 0);
    eddy_future_t cf;
    assert_int_equal(eddy_tcp_connect(f->rt, "127.0.0.1", port, &cf), 0);
    assert_int_equal(block_on_future(f->rt, cf), 0);
    waiter_t sl = { 0 }, rd = { 0 };
    assert_int_equal(eddy_future_take_tcp(cf, &rd.stream), 0);
    assert_int_equal(eddy_future_free(cf), 0);
    int peer = accept(lfd, NULL, NULL);
    assert_true(peer >= 0);
    int fd = -1;
    assert_int_equal(eddy_tcp_fd(rd.stream, &fd), 0);
    eddy_task_t ts, tr;
    assert_int_equal(eddy_spawn(f->rt, sleeper_poll, &sl, sleeper_drop, &ts), 0);
    assert_int_equal(eddy_spawn(f->rt, reader_poll, &rd, NULL, &tr), 0);
    dump_t d = { 0 };
    int st = 1;
    assert_int_equal(eddy_block_on(f->rt, dumper_poll, &d, NULL, &st), 0);
    assert_int_equal(d.rc, 0);
    assert_int_equal(d.len, strlen(d.text));
    char want[64];
    snprintf(want, sizeof want, "fd %d readable", fd);
    int lines = 0;
    for (const char *p = d.text; (p = strchr(p, '\n')) != NULL; p++) {
        lines++;
    }
    assert_int_equal(lines, 3); /* sleeper, reader, the dumper itself */
    assert_non_null(strstr(d.text, "timer in "));
    assert_non_null(strstr(d.text, want));
    /* From the owner between runs: the same two tasks (and truncation). */
    char small[16];
    size_t len = 0;
    assert_int_equal(eddy_runtime_task_dump(f->rt, small, sizeof small, &len), 0);
    assert_true(len > sizeof small);
    assert_int_equal(strlen(small), sizeof small - 1);
    assert_int_equal(eddy_runtime_task_dump(f->rt, NULL, 0, &len), 0);
    /* Another thread: refused. */
    dump_t o = { 0 };
    memcpy(o.text, &f->rt.id, sizeof f->rt.id);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, dump_from_other_thread, &o), 0);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_int_equal(o.rc, EDDY_EWRONGTHREAD);
    /* Bad arguments. */
    assert_int_equal(eddy_runtime_task_dump(f->rt, small, sizeof small, NULL), EDDY_EINVAL);
    assert_int_equal(eddy_runtime_task_dump(f->rt, NULL, 4, &len), EDDY_EINVAL);
    assert_int_equal(eddy_runtime_task_dump((eddy_runtime_t){ 0x7fff00001234ull }, NULL, 0, &len), EDDY_EBADHANDLE);
    assert_int_equal(eddy_task_abort(ts), 0);
    assert_int_equal(eddy_task_abort(tr), 0);
    assert_int_equal(eddy_runtime_run(f->rt), 0);
    assert_int_equal(eddy_task_free(ts), 0);
    assert_int_equal(eddy_task_free(tr), 0);
    assert_int_equal(eddy_tcp_close(rd.stream), 0);
    close(peer);
    close(lfd);
    FINISH(f);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_polls_ticks_parks_live),
        T(test_blocking_pool_counts_and_another_thread),
        T(test_bad_arguments),
        T(test_task_dump),
    };
    return cmocka_run_group_tests_name("metrics", tests, NULL, NULL);
}

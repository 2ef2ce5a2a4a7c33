/* test_blocking.c — the blocking pool: libffi calls described by a signature string,
 * eddy_spawn_blocking, and parallelism of the pool. */
#include "harness.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <signal.h>
#include <unistd.h>

/* ---- C functions called through libffi ---- */

static int add_ints(int a, int b)
{
    return a + b;
}

static double halve(double x)
{
    return x / 2.0;
}

typedef struct {
    int value;
} box_t;

static void *box_next(void *p)
{
    return (box_t *)p + 1;
}

static int64_t mul_i64(int64_t a, int64_t b)
{
    return a * b;
}

static uint64_t max_u64(uint64_t a)
{
    return a;
}

static uint32_t neg_u32(uint32_t a)
{
    return (uint32_t)0 - a;
}

static float scale_f(float x, double k)
{
    return (float)(x * k);
}

static size_t str_len(const char *s)
{
    return strlen(s);
}

static atomic_int void_calls;
static pthread_t void_thread;

static void touch(int v)
{
    atomic_fetch_add(&void_calls, v);
    void_thread = pthread_self();
}

static int mixed(int a, double b, void *p, int64_t c)
{
    return a + (int)b + (p != NULL) + (int)c;
}

/* Start and end (now_ns) of the last sleep_200ms / spawned_sleep run on a pool thread. */
static _Atomic uint64_t sleep_a_start, sleep_a_end, sleep_b_start, sleep_b_end;

static int sleep_200ms(void)
{
    atomic_store(&sleep_a_start, now_ns());
    sleep_ms(200);
    atomic_store(&sleep_a_end, now_ns());
    return 200;
}

static void *spawned(void *arg)
{
    box_t *b = arg;
    b->value *= 3;
    return b;
}

static void *spawned_sleep(void *arg)
{
    atomic_store(&sleep_b_start, now_ns());
    sleep_ms(200);
    atomic_store(&sleep_b_end, now_ns());
    return arg;
}

#define FN(f) ((void (*)(void))(f))

/* Run one call and return its value (asserts success). */
static eddy_value_t call(fixture_t *f, void (*fn)(void), const char *sig, const eddy_value_t *args,
                         size_t nargs)
{
    eddy_future_t fut;
    eddy_value_t v;
    memset(&v, 0xA5, sizeof v);
    assert_int_equal(eddy_blocking_call(f->rt, fn, sig, args, nargs, &fut), 0);
    assert_int_equal(block_on_future(f->rt, fut), 0);
    assert_int_equal(eddy_future_take_value(fut, &v), 0);
    assert_int_equal(eddy_future_free(fut), 0);
    return v;
}

static void test_call_int_int_int(void **state)
{
    fixture_t *f = *state;
    eddy_value_t a[2];
    a[0].i = 40;
    a[1].i = 2;
    assert_int_equal(call(f, FN(add_ints), "i(ii)", a, 2).i, 42);
    a[0].i = -50;
    a[1].i = 8;
    assert_int_equal(call(f, FN(add_ints), "i(ii)", a, 2).i, -42); /* sign-extended into .i */
    FINISH(f);
}

static void test_call_double(void **state)
{
    fixture_t *f = *state;
    eddy_value_t a[1];
    a[0].d = 2.0;
    double r = call(f, FN(sqrt), "d(d)", a, 1).d; /* straight into libm */
    assert_true(fabs(r - 1.4142135623730951) < 1e-15);
    a[0].d = 5.0;
    assert_true(call(f, FN(halve), "d(d)", a, 1).d == 2.5);
    FINISH(f);
}

static void test_call_pointer(void **state)
{
    fixture_t *f = *state;
    box_t boxes[2] = { { 1 }, { 2 } };
    eddy_value_t a[1];
    a[0].p = &boxes[0];
    assert_ptr_equal(call(f, FN(box_next), "p(p)", a, 1).p, &boxes[1]);
    a[0].p = "hello, eddy";
    assert_int_equal(call(f, FN(str_len), "z(p)", a, 1).u, 11);
    FINISH(f);
}

static void test_call_other_types(void **state)
{
    fixture_t *f = *state;
    eddy_value_t a[4];
    a[0].i = -3000000000LL;
    a[1].i = 3;
    assert_true(call(f, FN(mul_i64), "l(ll)", a, 2).i == -9000000000LL);
    a[0].u = UINT64_MAX;
    assert_true(call(f, FN(max_u64), "L(L)", a, 1).u == UINT64_MAX);
    a[0].u = 1;
    assert_true(call(f, FN(neg_u32), "I(I)", a, 1).u == 0xFFFFFFFFu); /* zero-extended */
    a[0].f = 1.5f;
    a[1].d = 4.0;
    assert_true(call(f, FN(scale_f), "f(fd)", a, 2).f == 6.0f);
    atomic_store(&void_calls, 0);
    a[0].i = 5;
    call(f, FN(touch), "v(i)", a, 1);
    assert_int_equal(atomic_load(&void_calls), 5);
    assert_false(pthread_equal(void_thread, pthread_self())); /* ran on a pool thread */
    int x;
    a[0].i = 1;
    a[1].d = 2.9;
    a[2].p = &x;
    a[3].i = 10;
    assert_int_equal(call(f, FN(mixed), "i(idpl)", a, 4).i, 14);
    assert_int_equal(call(f, FN(sleep_200ms), "i()", NULL, 0).i, 200);
    FINISH(f);
}

static void test_spawn_blocking(void **state)
{
    fixture_t *f = *state;
    box_t b = { 14 };
    eddy_future_t fut;
    eddy_value_t v;
    assert_int_equal(eddy_spawn_blocking(f->rt, spawned, &b, &fut), 0);
    assert_int_equal(eddy_future_take_value(fut, &v), EDDY_ENOTREADY);
    assert_int_equal(block_on_future(f->rt, fut), 0);
    assert_int_equal(eddy_future_take_value(fut, &v), 0);
    assert_ptr_equal(v.p, &b);
    assert_int_equal(b.value, 42);
    assert_int_equal(eddy_future_free(fut), 0);
    FINISH(f);
}

typedef struct {
    eddy_future_t a, b;
    int a_done, b_done;
} pair_t;

static int pair_poll(void *state, eddy_cx_t *cx)
{
    pair_t *p = state;
    if (!p->a_done) {
        int r = eddy_future_poll(p->a, cx);
        if (r < 0) {
            return r;
        }
        p->a_done = (r == EDDY_READY);
    }
    if (!p->b_done) {
        int r = eddy_future_poll(p->b, cx);
        if (r < 0) {
            return r;
        }
        p->b_done = (r == EDDY_READY);
    }
    return p->a_done && p->b_done ? EDDY_READY : EDDY_PENDING;
}

static void test_two_blocking_200ms_in_parallel(void **state)
{
    fixture_t *f = *state;
    pair_t p = { 0 };
    uint64_t t0 = now_ns();
    assert_int_equal(eddy_blocking_call(f->rt, FN(sleep_200ms), "i()", NULL, 0, &p.a), 0);
    assert_int_equal(eddy_spawn_blocking(f->rt, spawned_sleep, &p, &p.b), 0);
    int st = 1;
    assert_int_equal(eddy_block_on(f->rt, pair_poll, &p, NULL, &st), 0);
    uint64_t ms = elapsed_ms(t0);
    assert_int_equal(st, 0);
    assert_true(ms >= 200);
    /* Parallel at any speed: each call started on its pool thread before the other ended
     * (one after the other, they could not overlap). */
    uint64_t a0 = atomic_load(&sleep_a_start), a1 = atomic_load(&sleep_a_end);
    uint64_t b0 = atomic_load(&sleep_b_start), b1 = atomic_load(&sleep_b_end);
    assert_true(a0 >= t0 && b0 >= t0 && a1 - a0 >= 200 * MS && b1 - b0 >= 200 * MS);
    assert_true(a0 < b1 && b0 < a1);
    eddy_value_t v;
    assert_int_equal(eddy_future_take_value(p.a, &v), 0);
    assert_int_equal(v.i, 200);
    assert_int_equal(eddy_future_take_value(p.b, &v), 0);
    assert_ptr_equal(v.p, &p);
    assert_int_equal(eddy_future_free(p.a), 0);
    assert_int_equal(eddy_future_free(p.b), 0);
    FINISH(f);
}

static void test_bad_signatures(void **state)
{
    fixture_t *f = *state;
    eddy_value_t a[3];
    a[0].i = 1;
    a[1].i = 2;
    a[2].i = 3;
    const char *bad[] = { "",     "i",     "i(ii",  "i)ii(", "x(ii)", "i(ix)", "i(v)",
                          "(ii)", "ii(i)", "i(ii)x", "i((i))", "i(i i)" };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        eddy_future_t fut = { 0 };
        int r = eddy_blocking_call(f->rt, FN(add_ints), bad[k], a, 2, &fut);
        if (r != EDDY_EINVAL) {
            print_error("signature \"%s\": expected EDDY_EINVAL, got %d (%s)\n", bad[k], r, eddy_err_name(r));
        }
        assert_int_equal(r, EDDY_EINVAL);
        assert_int_equal(fut.id, 0);
    }
    eddy_future_t fut = { 0 };
    /* nargs mismatch, NULL pieces */
    assert_int_equal(eddy_blocking_call(f->rt, FN(add_ints), "i(ii)", a, 1, &fut), EDDY_EINVAL);
    assert_int_equal(eddy_blocking_call(f->rt, FN(add_ints), "i(ii)", a, 3, &fut), EDDY_EINVAL);
    assert_int_equal(eddy_blocking_call(f->rt, FN(add_ints), "i(ii)", NULL, 2, &fut), EDDY_EINVAL);
    assert_int_equal(eddy_blocking_call(f->rt, FN(add_ints), NULL, a, 2, &fut), EDDY_EINVAL);
    assert_int_equal(eddy_blocking_call(f->rt, NULL, "i(ii)", a, 2, &fut), EDDY_EINVAL);
    assert_int_equal(eddy_blocking_call(f->rt, FN(add_ints), "i(ii)", a, 2, NULL), EDDY_EINVAL);
    assert_int_equal(eddy_spawn_blocking(f->rt, NULL, NULL, &fut), EDDY_EINVAL);
    assert_int_equal(eddy_spawn_blocking(f->rt, spawned, NULL, NULL), EDDY_EINVAL);
    assert_int_equal(fut.id, 0);
    FINISH(f);
}

/* take_value on a future that produces no value is EDDY_EINVAL, like take_tcp on a
 * future that produces no stream (docs/C-ABI.md, Futures). */
static void test_take_value_of_sleep_is_einval(void **state)
{
    fixture_t *f = *state;
    eddy_future_t s;
    eddy_value_t v;
    v.u = 0x5555;
    assert_int_equal(eddy_sleep(f->rt, 0, &s), 0);
    assert_int_equal(block_on_future(f->rt, s), 0);
    int r = eddy_future_take_value(s, &v);
    assert_int_equal(eddy_future_free(s), 0);
    FINISH(f);
    assert_int_equal(r, EDDY_EINVAL);
    assert_true(v.u == 0x5555);
}

static void test_free_blocking_future_before_completion(void **state)
{
    fixture_t *f = *state;
    eddy_future_t fut;
    assert_int_equal(eddy_blocking_call(f->rt, FN(sleep_200ms), "i()", NULL, 0, &fut), 0);
    assert_int_equal(eddy_future_free(fut), 0); /* the call finishes in the pool; result discarded */
    assert_int_equal(eddy_future_free(fut), EDDY_EBADHANDLE);
    FINISH(f); /* and freeing the runtime waits for or detaches the worker without leaking */
}

/* ---- pool threads and signals, the thread bound ---- */

static atomic_int gate_open;     /* jobs wait until this is set */
static atomic_int jobs_started;  /* jobs that reached their wait */
static atomic_int jobs_running, jobs_peak;
static atomic_int masks_ok;      /* jobs that found every signal blocked on their thread */
static atomic_int usr1_hits;
static atomic_long usr1_tid;

static void *gated_job(void *arg)
{
    sigset_t cur;
    pthread_sigmask(SIG_BLOCK, NULL, &cur);
    if (sigismember(&cur, SIGUSR1) && sigismember(&cur, SIGINT) && sigismember(&cur, SIGTERM) &&
        sigismember(&cur, SIGCHLD) && sigismember(&cur, SIGALRM)) {
        atomic_fetch_add(&masks_ok, 1);
    }
    int now = atomic_fetch_add(&jobs_running, 1) + 1;
    int peak = atomic_load(&jobs_peak);
    while (now > peak && !atomic_compare_exchange_weak(&jobs_peak, &peak, now)) {
    }
    atomic_fetch_add(&jobs_started, 1);
    while (!atomic_load(&gate_open)) {
        sleep_ms(1);
    }
    atomic_fetch_sub(&jobs_running, 1);
    return arg;
}

static void on_usr1(int sig)
{
    (void)sig;
    atomic_fetch_add(&usr1_hits, 1);
    atomic_store(&usr1_tid, (long)gettid());
}

static void reset_gate(void)
{
    atomic_store(&gate_open, 0);
    atomic_store(&jobs_started, 0);
    atomic_store(&jobs_running, 0);
    atomic_store(&jobs_peak, 0);
    atomic_store(&masks_ok, 0);
}

/* Runs the futures to completion (READY each), then frees them. */
static void finish_futures(eddy_runtime_t rt, eddy_future_t *futs, int n)
{
    for (int i = 0; i < n; i++) {
        assert_int_equal(block_on_future(rt, futs[i]), 0);
        assert_int_equal(eddy_future_free(futs[i]), 0);
    }
}

/* A process-directed signal is never delivered to a pool thread: with the signal
 * blocked on this (the only other) thread, it stays pending while both pool threads
 * run; unblocked, it is handled here. (Pool threads block every signal from birth.) */
static void test_pool_threads_never_take_process_signals(void **state)
{
    fixture_t *f = *state;
    reset_gate();
    atomic_store(&usr1_hits, 0);
    struct sigaction sa = { 0 }, old;
    sa.sa_handler = on_usr1;
    sigemptyset(&sa.sa_mask);
    assert_int_equal(sigaction(SIGUSR1, &sa, &old), 0);
    eddy_future_t futs[2];
    for (int i = 0; i < 2; i++) {
        assert_int_equal(eddy_spawn_blocking(f->rt, gated_job, NULL, &futs[i]), 0);
    }
    while (atomic_load(&jobs_started) < 2) {
        sleep_ms(1);
    }
    sigset_t usr1, prev, pending;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    assert_int_equal(pthread_sigmask(SIG_BLOCK, &usr1, &prev), 0);
    assert_int_equal(kill(getpid(), SIGUSR1), 0);
    sleep_ms(50); /* time for a wrong delivery to a running pool thread */
    int hits_while_blocked = atomic_load(&usr1_hits);
    assert_int_equal(sigpending(&pending), 0);
    int still_pending = sigismember(&pending, SIGUSR1);
    assert_int_equal(pthread_sigmask(SIG_SETMASK, &prev, NULL), 0); /* delivered here, now */
    atomic_store(&gate_open, 1); /* before asserting: a failed test must not hang the pool */
    assert_int_equal(atomic_load(&masks_ok), 2);
    assert_int_equal(hits_while_blocked, 0);
    assert_true(still_pending);
    assert_int_equal(atomic_load(&usr1_hits), 1);
    assert_int_equal(atomic_load(&usr1_tid), (long)gettid());
    finish_futures(f->rt, futs, 2);
    assert_int_equal(sigaction(SIGUSR1, &old, NULL), 0);
    FINISH(f);
}

/* eddy_config_t.blocking_threads bounds the pool: 6 jobs on 2 threads never run more
 * than 2 at once, and all complete (the rest queue). */
static void test_blocking_threads_bounds_the_pool(void **state)
{
    fixture_t *f = *state;
    reset_gate();
    eddy_config_t c;
    eddy_runtime_t rt;
    assert_int_equal(eddy_config_init(&c), 0);
    c.blocking_threads = 2;
    assert_int_equal(eddy_runtime_new(&c, &rt), 0);
    eddy_future_t futs[6];
    for (int i = 0; i < 6; i++) {
        assert_int_equal(eddy_spawn_blocking(rt, gated_job, NULL, &futs[i]), 0);
    }
    while (atomic_load(&jobs_started) < 2) {
        sleep_ms(1);
    }
    sleep_ms(50); /* a third thread, if any, would start its job now */
    assert_int_equal(atomic_load(&jobs_started), 2);
    atomic_store(&gate_open, 1);
    finish_futures(rt, futs, 6);
    assert_int_equal(atomic_load(&jobs_started), 6);
    assert_int_equal(atomic_load(&jobs_peak), 2);
    assert_int_equal(eddy_runtime_free(rt), 0);
    FINISH(f);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_call_int_int_int),
        T(test_call_double),
        T(test_call_pointer),
        T(test_call_other_types),
        T(test_spawn_blocking),
        T(test_two_blocking_200ms_in_parallel),
        T(test_bad_signatures),
        T(test_take_value_of_sleep_is_einval),
        T(test_free_blocking_future_before_completion),
        T(test_pool_threads_never_take_process_signals),
        T(test_blocking_threads_bounds_the_pool),
    };
    return cmocka_run_group_tests_name("blocking", tests, NULL, NULL);
}

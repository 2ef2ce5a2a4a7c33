/* test_timers.c — eddy_sleep / eddy_timeout: never early, bounded lateness, parallel.
 *
 * CI runs this suite five times (plain, env -i, unshare, ASan, valgrind) on 2 shared
 * cores, so only relations that hold at any speed are exact: never early, deadline order
 * (judged on deadlines bracketed by clock reads around each eddy_sleep), parallel sleeps
 * overlapping. Lateness is bounded only against what a fault would cost (a missed wakeup,
 * a wait for an unrelated long timer), scaled by slow_factor(). */
#include "harness.h"

/* Lateness no scheduling noise explains (a timer armed or fired a second late is a
 * bug; a loaded machine has shown 150+ ms). */
#define LATE_MS (1000ull * slow_factor())
/* Bound for "returned at once instead of waiting for the 10 s sleep": half of it. */
#define NOT_THE_LONG_SLEEP_MS 5000

static void test_sleep_not_early_bounded_late(void **state)
{
    fixture_t *f = *state;
    const unsigned delays[] = { 1, 10, 50, 120 };
    for (size_t i = 0; i < sizeof delays / sizeof delays[0]; i++) {
        eddy_future_t s;
        uint64_t t0 = now_ns();
        assert_int_equal(eddy_sleep(f->rt, delays[i] * MS, &s), 0);
        assert_int_equal(block_on_future(f->rt, s), 0);
        uint64_t ns = now_ns() - t0;
        assert_true(ns >= delays[i] * MS);
        assert_true(ns < (delays[i] + LATE_MS) * MS);
        assert_int_equal(eddy_future_take_tcp(s, &(eddy_tcp_t){ 0 }), EDDY_EINVAL); /* not a stream */
        assert_int_equal(eddy_future_free(s), 0);
    }
    FINISH(f);
}

static void test_sleep_zero_is_ready(void **state)
{
    fixture_t *f = *state;
    eddy_future_t s;
    uint64_t t0 = now_ns();
    assert_int_equal(eddy_sleep(f->rt, 0, &s), 0);
    assert_int_equal(block_on_future(f->rt, s), 0);
    assert_true(elapsed_ms(t0) < LATE_MS);
    assert_int_equal(eddy_future_free(s), 0);
    FINISH(f);
}

/* A task that sleeps `ms` then records its finishing rank. */
typedef struct {
    unsigned ms;
    eddy_future_t fut;
    int *next_rank;
    int rank;
    uint64_t lo, start, end; /* clock before / after eddy_sleep, at completion */
} sleeper_t;

static int sleeper_poll(void *state, eddy_cx_t *cx)
{
    sleeper_t *s = state;
    if (s->fut.id == 0) {
        eddy_runtime_t rt;
        int r = eddy_cx_runtime(cx, &rt);
        s->lo = now_ns();
        if (r == 0) {
            r = eddy_sleep(rt, s->ms * MS, &s->fut);
        }
        if (r < 0) {
            return r;
        }
        s->start = now_ns();
    }
    int r = eddy_future_poll(s->fut, cx);
    if (r != EDDY_READY) {
        return r;
    }
    s->end = now_ns();
    s->rank = (*s->next_rank)++;
    eddy_future_free(s->fut);
    s->fut.id = 0;
    return EDDY_READY;
}

static void test_sleeps_complete_in_deadline_order(void **state)
{
    fixture_t *f = *state;
    int next = 0;
    sleeper_t s[4] = {
        { .ms = 80, .next_rank = &next },
        { .ms = 20, .next_rank = &next },
        { .ms = 60, .next_rank = &next },
        { .ms = 40, .next_rank = &next },
    };
    for (int i = 0; i < 4; i++) {
        eddy_task_t t;
        assert_int_equal(eddy_spawn(f->rt, sleeper_poll, &s[i], NULL, &t), 0);
        assert_int_equal(eddy_task_free(t), 0);
    }
    uint64_t t0 = now_ns();
    assert_int_equal(eddy_runtime_run(f->rt), 0);
    assert_true(elapsed_ms(t0) < 80 + LATE_MS);
    for (int i = 0; i < 4; i++) {
        assert_true(s[i].rank >= 0 && s[i].rank < 4);
        assert_true(s[i].end - s[i].lo >= s[i].ms * MS); /* never early */
        /* Order kept: a sleep whose deadline was surely earlier finished first (deadlines
         * bracketed by the clock around eddy_sleep; 1 ms timer granularity). */
        for (int j = 0; j < 4; j++) {
            if (s[i].start + s[i].ms * MS + MS < s[j].lo + s[j].ms * MS) {
                assert_true(s[i].rank < s[j].rank);
            }
        }
    }
    /* Deadlines 20 ms apart: the plain order whenever arming all four took less. */
    uint64_t first_lo = s[0].lo, last_start = s[0].start;
    for (int i = 1; i < 4; i++) {
        first_lo = s[i].lo < first_lo ? s[i].lo : first_lo;
        last_start = s[i].start > last_start ? s[i].start : last_start;
    }
    if (last_start - first_lo < 10 * MS) {
        assert_int_equal(s[1].rank, 0);
        assert_int_equal(s[3].rank, 1);
        assert_int_equal(s[2].rank, 2);
        assert_int_equal(s[0].rank, 3);
    }
    FINISH(f);
}

static void test_two_200ms_sleeps_run_in_parallel(void **state)
{
    fixture_t *f = *state;
    int next = 0;
    sleeper_t a = { .ms = 200, .next_rank = &next }, b = { .ms = 200, .next_rank = &next };
    eddy_task_t ta, tb;
    uint64_t t0 = now_ns();
    assert_int_equal(eddy_spawn(f->rt, sleeper_poll, &a, NULL, &ta), 0);
    assert_int_equal(eddy_spawn(f->rt, sleeper_poll, &b, NULL, &tb), 0);
    assert_int_equal(eddy_runtime_run(f->rt), 0);
    uint64_t ms = elapsed_ms(t0);
    assert_true(ms >= 200);
    /* Parallel: each sleep was armed before the other finished, and the whole took less
     * than 3/4 of the two durations' sum (sequential would take the sum), at any speed. */
    assert_true(a.lo < b.end && b.lo < a.end);
    assert_true(a.end - a.lo >= 200 * MS && b.end - b.lo >= 200 * MS);
    assert_true(ms * MS * 4 < ((a.end - a.lo) + (b.end - b.lo)) * 3);
    int st = 1;
    assert_int_equal(eddy_task_status(ta, &st), EDDY_READY);
    assert_int_equal(st, 0);
    assert_int_equal(eddy_task_status(tb, &st), EDDY_READY);
    assert_int_equal(st, 0);
    assert_int_equal(eddy_task_free(ta), 0);
    assert_int_equal(eddy_task_free(tb), 0);
    FINISH(f);
}

static void test_timeout_fires(void **state)
{
    fixture_t *f = *state;
    eddy_future_t inner, to;
    uint64_t t0 = now_ns(); /* before: the deadline counts from eddy_timeout */
    assert_int_equal(eddy_sleep(f->rt, 5000 * MS, &inner), 0);
    assert_int_equal(eddy_timeout(f->rt, inner, 50 * MS, &to), 0);
    /* The timeout took ownership of inner. */
    assert_int_equal(eddy_future_free(inner), EDDY_EBADHANDLE);
    assert_int_equal(block_on_future(f->rt, to), EDDY_ETIMEDOUT);
    uint64_t ms = elapsed_ms(t0);
    assert_true(ms >= 50);
    assert_true(ms < 5000 / 2); /* did not wait for the 5 s inner sleep */
    assert_int_equal(eddy_future_free(to), 0);
    FINISH(f);
}

static void test_timeout_not_reached(void **state)
{
    fixture_t *f = *state;
    eddy_future_t inner, to;
    uint64_t t0 = now_ns(); /* before: the sleep's deadline counts from eddy_sleep */
    assert_int_equal(eddy_sleep(f->rt, 20 * MS, &inner), 0);
    assert_int_equal(eddy_timeout(f->rt, inner, 2000 * MS, &to), 0);
    assert_int_equal(block_on_future(f->rt, to), 0);
    uint64_t ms = elapsed_ms(t0);
    assert_true(ms >= 20);
    assert_true(ms < 20 + LATE_MS);
    assert_int_equal(eddy_future_free(to), 0);
    FINISH(f);
}

static void test_timeout_forwards_connect_result(void **state)
{
    fixture_t *f = *state;
    eddy_tcp_t l;
    uint16_t port;
    assert_int_equal(eddy_tcp_listen(f->rt, "127.0.0.1", 0, 16, &l), 0);
    assert_int_equal(eddy_tcp_local_port(l, &port), 0);
    eddy_future_t c, to;
    assert_int_equal(eddy_tcp_connect(f->rt, "127.0.0.1", port, &c), 0);
    assert_int_equal(eddy_timeout(f->rt, c, 2000 * MS, &to), 0);
    assert_int_equal(block_on_future(f->rt, to), 0);
    eddy_tcp_t s;
    assert_int_equal(eddy_future_take_tcp(to, &s), 0); /* forwarded to the inner connect */
    assert_int_equal(eddy_future_free(to), 0);
    assert_int_equal(eddy_tcp_close(s), 0);
    assert_int_equal(eddy_tcp_close(l), 0);
    FINISH(f);
}

static void test_free_pending_sleep(void **state)
{
    fixture_t *f = *state;
    eddy_future_t s;
    assert_int_equal(eddy_sleep(f->rt, 10000 * MS, &s), 0);
    assert_int_equal(eddy_future_free(s), 0); /* disarms the timer */
    uint64_t t0 = now_ns();
    assert_int_equal(eddy_runtime_run(f->rt), 0); /* nothing left: returns at once */
    assert_true(elapsed_ms(t0) < NOT_THE_LONG_SLEEP_MS);
    FINISH(f);
}

/* ---- sleep handles hold their timer in the handle table (no object): edge cases ---- */

/* Polls `fut` once and records the result; the task completes at once. */
typedef struct {
    eddy_future_t fut;
    int result;
    int free_after; /* eddy_future_free it inside the poll, after polling */
    int free_rc;
} poll_once_t;

static int poll_once(void *state, eddy_cx_t *cx)
{
    poll_once_t *p = state;
    p->result = eddy_future_poll(p->fut, cx);
    if (p->free_after) {
        p->free_rc = eddy_future_free(p->fut);
    }
    return EDDY_READY;
}

static int poll_once_on(eddy_runtime_t rt, poll_once_t *p)
{
    int st = 12345;
    int r = eddy_block_on(rt, poll_once, p, NULL, &st);
    return r != 0 ? r : st;
}

static void test_sleep_results_before_and_after_fire(void **state)
{
    fixture_t *f = *state;
    eddy_future_t s;
    eddy_value_t v;
    eddy_tcp_t t;
    assert_int_equal(eddy_sleep(f->rt, 5 * MS, &s), 0);
    assert_int_equal(eddy_future_take_value(s, &v), EDDY_ENOTREADY);
    assert_int_equal(eddy_future_take_tcp(s, &t), EDDY_ENOTREADY);
    assert_int_equal(eddy_future_take_value(s, NULL), EDDY_EINVAL);
    assert_int_equal(block_on_future(f->rt, s), 0);
    /* Polling again after completion gives the same result, without waiting. */
    poll_once_t p = { .fut = s };
    assert_int_equal(poll_once_on(f->rt, &p), 0);
    assert_int_equal(p.result, EDDY_READY);
    assert_int_equal(eddy_future_take_value(s, &v), EDDY_EINVAL); /* a sleep has no value */
    assert_int_equal(eddy_future_take_tcp(s, &t), EDDY_EINVAL);
    assert_int_equal(eddy_future_free(s), 0);
    /* Stale after free: every call is EDDY_EBADHANDLE. */
    assert_int_equal(eddy_future_free(s), EDDY_EBADHANDLE);
    assert_int_equal(eddy_future_take_value(s, &v), EDDY_EBADHANDLE);
    assert_int_equal(eddy_future_then(s, NULL, NULL), EDDY_EBADHANDLE);
    eddy_future_t to;
    assert_int_equal(eddy_timeout(f->rt, s, MS, &to), EDDY_EBADHANDLE);
    p.result = 12345;
    assert_int_equal(poll_once_on(f->rt, &p), 0);
    assert_int_equal(p.result, EDDY_EBADHANDLE);
    FINISH(f);
}

static void test_free_armed_sleep_inside_poll(void **state)
{
    fixture_t *f = *state;
    poll_once_t p = { .free_after = 1, .free_rc = 12345 };
    assert_int_equal(eddy_sleep(f->rt, 10000 * MS, &p.fut), 0);
    uint64_t t0 = now_ns();
    assert_int_equal(poll_once_on(f->rt, &p), 0);
    assert_int_equal(p.result, EDDY_PENDING); /* armed, then freed while armed */
    assert_int_equal(p.free_rc, 0);
    assert_int_equal(eddy_runtime_run(f->rt), 0); /* no timer left to wait for */
    assert_true(elapsed_ms(t0) < NOT_THE_LONG_SLEEP_MS);
    assert_int_equal(eddy_future_free(p.fut), EDDY_EBADHANDLE);
    FINISH(f);
}

/* A freed sleep's handle slot and timer entry are reused at once: the old handle
 * must not reach the new sleep, and the old arming must not leak into it. */
static void test_stale_sleep_handle_after_reuse(void **state)
{
    fixture_t *f = *state;
    poll_once_t old = { 0 };
    assert_int_equal(eddy_sleep(f->rt, 10000 * MS, &old.fut), 0);
    assert_int_equal(poll_once_on(f->rt, &old), 0);
    assert_int_equal(old.result, EDDY_PENDING);
    assert_int_equal(eddy_future_free(old.fut), 0);
    eddy_future_t fresh;
    uint64_t t0 = now_ns();
    assert_int_equal(eddy_sleep(f->rt, 20 * MS, &fresh), 0);
    assert_true(fresh.id != old.fut.id);
    assert_true((fresh.id & 0x3FFFFF) == (old.fut.id & 0x3FFFFF)); /* same slot (bits 0..21), new generation */
    assert_int_equal(poll_once_on(f->rt, &old), 0);
    assert_int_equal(old.result, EDDY_EBADHANDLE);
    assert_int_equal(eddy_future_free(old.fut), EDDY_EBADHANDLE);
    assert_int_equal(block_on_future(f->rt, fresh), 0);
    uint64_t ms = elapsed_ms(t0);
    assert_true(ms >= 20);
    assert_true(ms < 20 + LATE_MS);
    assert_int_equal(eddy_future_free(fresh), 0);
    FINISH(f);
}

/* Many sleeps created up front (scrambled deadlines 200..259 ms ahead, times
 * slow_factor()), each awaited by its own task: they complete in deadline order. The
 * deadlines start late enough that every task has armed its sleep before the first one
 * is due, even under valgrind; the order is checked on the absolute deadlines (creation
 * time + delay, bracketed by clock reads around the eddy_sleep call) with the timers'
 * 1 ms granularity as tolerance. */
#define MANY 1000
#define MANY_BASE_MS (200u * slow_factor())
typedef struct {
    eddy_future_t fut;
    unsigned ms;
    uint64_t due;    /* now_ns() before eddy_sleep + the delay: at most the real deadline */
    uint64_t due_hi; /* now_ns() after eddy_sleep + the delay: at least the real deadline */
    int *next_rank;
    int rank;
} many_t;

static int many_poll(void *state, eddy_cx_t *cx)
{
    many_t *m = state;
    int r = eddy_future_poll(m->fut, cx);
    if (r != EDDY_READY) {
        return r;
    }
    m->rank = (*m->next_rank)++;
    return eddy_future_free(m->fut);
}

static void test_many_sleeps_fire_in_deadline_order(void **state)
{
    fixture_t *f = *state;
    static many_t m[MANY];
    static uint64_t by_rank[MANY], by_rank_hi[MANY];
    int next = 0;
    for (int i = 0; i < MANY; i++) {
        m[i] = (many_t){ .ms = MANY_BASE_MS + (unsigned)(i * 7919) % 60, .next_rank = &next, .rank = -1 };
        m[i].due = now_ns() + m[i].ms * MS;
        assert_int_equal(eddy_sleep(f->rt, m[i].ms * MS, &m[i].fut), 0);
        m[i].due_hi = now_ns() + m[i].ms * MS;
    }
    uint64_t t0 = now_ns();
    for (int i = 0; i < MANY; i++) {
        eddy_task_t t;
        assert_int_equal(eddy_spawn(f->rt, many_poll, &m[i], NULL, &t), 0);
        assert_int_equal(eddy_task_free(t), 0);
    }
    assert_int_equal(eddy_runtime_run(f->rt), 0);
    assert_true(elapsed_ms(t0) < MANY_BASE_MS + 60 + LATE_MS);
    assert_int_equal(next, MANY);
    for (int i = 0; i < MANY; i++) {
        assert_true(m[i].rank >= 0 && m[i].rank < MANY);
        by_rank[m[i].rank] = m[i].due;
        by_rank_hi[m[i].rank] = m[i].due_hi;
    }
    for (int k = 1; k < MANY; k++) {
        assert_true(by_rank[k - 1] <= by_rank_hi[k] + 2 * MS);
    }
    FINISH(f);
}

/* A sleep belongs to the runtime that created it: polled by another runtime's task
 * (on the same thread) it is EDDY_EWRONGTHREAD, and it still works in its own. */
static void test_sleep_polled_by_other_runtime(void **state)
{
    fixture_t *f = *state;
    eddy_runtime_t rt2;
    assert_int_equal(eddy_runtime_new(NULL, &rt2), 0);
    poll_once_t p = { 0 };
    assert_int_equal(eddy_sleep(rt2, 10 * MS, &p.fut), 0);
    assert_int_equal(poll_once_on(f->rt, &p), 0);
    assert_int_equal(p.result, EDDY_EWRONGTHREAD);
    assert_int_equal(block_on_future(rt2, p.fut), 0);
    assert_int_equal(eddy_future_free(p.fut), 0);
    /* Wrapped in a timeout (an object owning the timer), the same holds. */
    eddy_future_t inner, to;
    assert_int_equal(eddy_sleep(rt2, 10 * MS, &inner), 0);
    assert_int_equal(eddy_timeout(rt2, inner, 1000 * MS, &to), 0);
    p.fut = to;
    assert_int_equal(poll_once_on(f->rt, &p), 0);
    assert_int_equal(p.result, EDDY_EWRONGTHREAD);
    assert_int_equal(block_on_future(rt2, to), 0);
    assert_int_equal(eddy_future_free(to), 0);
    assert_int_equal(eddy_runtime_free(rt2), 0);
    FINISH(f);
}

/* eddy_timeout takes over a sleep that is already armed (polled once). */
static void test_timeout_takes_over_armed_sleep(void **state)
{
    fixture_t *f = *state;
    poll_once_t p = { 0 };
    eddy_future_t to;
    uint64_t t0 = now_ns();
    /* 200 ms: still pending at the first poll even after a long preemption */
    assert_int_equal(eddy_sleep(f->rt, 200 * MS, &p.fut), 0);
    assert_int_equal(poll_once_on(f->rt, &p), 0);
    assert_int_equal(p.result, EDDY_PENDING);
    assert_int_equal(eddy_timeout(f->rt, p.fut, 5000 * MS, &to), 0);
    assert_int_equal(eddy_future_free(p.fut), EDDY_EBADHANDLE);
    assert_int_equal(block_on_future(f->rt, to), 0); /* the sleep's result, not ETIMEDOUT */
    uint64_t ms = elapsed_ms(t0);
    assert_true(ms >= 200);
    assert_true(ms < 200 + LATE_MS);
    assert_int_equal(eddy_future_free(to), 0);
    /* And the other way round: the deadline wins over an armed long sleep. */
    assert_int_equal(eddy_sleep(f->rt, 10000 * MS, &p.fut), 0);
    assert_int_equal(poll_once_on(f->rt, &p), 0);
    assert_int_equal(eddy_timeout(f->rt, p.fut, 20 * MS, &to), 0);
    assert_int_equal(block_on_future(f->rt, to), EDDY_ETIMEDOUT);
    assert_int_equal(eddy_future_free(to), 0);
    uint64_t t1 = now_ns();
    assert_int_equal(eddy_runtime_run(f->rt), 0); /* the long sleep was disarmed */
    assert_true(elapsed_ms(t1) < NOT_THE_LONG_SLEEP_MS);
    FINISH(f);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_sleep_not_early_bounded_late),
        T(test_sleep_zero_is_ready),
        T(test_sleeps_complete_in_deadline_order),
        T(test_two_200ms_sleeps_run_in_parallel),
        T(test_timeout_fires),
        T(test_timeout_not_reached),
        T(test_timeout_forwards_connect_result),
        T(test_free_pending_sleep),
        T(test_sleep_results_before_and_after_fire),
        T(test_free_armed_sleep_inside_poll),
        T(test_stale_sleep_handle_after_reuse),
        T(test_many_sleeps_fire_in_deadline_order),
        T(test_sleep_polled_by_other_runtime),
        T(test_timeout_takes_over_armed_sleep),
    };
    return cmocka_run_group_tests_name("timers", tests, NULL, NULL);
}

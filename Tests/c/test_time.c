/* test_time.c — the runtime's clock (paused, advanced by hand or when idle), absolute
 * deadlines, intervals and their missed-tick behaviours, join/select over N futures
 * (issue 16, item 6).
 *
 * Every timer here is on a paused clock: hours of schedule run in milliseconds, so the
 * expectations are exact (no tolerance for a loaded machine), and real elapsed time is
 * only bounded from above to prove nothing waited for real. */
#include "harness.h"

#define SEC (1000ull * MS)
#define HOUR (3600ull * SEC)
/* "Did not wait for the paused hours": far below any of them, far above any load. */
#define REAL_BOUND_MS (20000ull * slow_factor())

static void yield_self(eddy_cx_t *cx)
{
    eddy_waker_t w;
    assert_int_equal(eddy_cx_waker(cx, &w), 0);
    assert_int_equal(eddy_waker_wake(w), 0);
    assert_int_equal(eddy_waker_free(w), 0);
}

/* A task waiting for its own sleep future, recording its finishing rank. */
typedef struct {
    eddy_future_t fut;
    int *next_rank;
    int rank; /* 0 while not done */
} sleeper_t;

static int sleeper_poll(void *state, eddy_cx_t *cx)
{
    sleeper_t *s = state;
    int r = eddy_future_poll(s->fut, cx);
    if (r != EDDY_READY) {
        return r;
    }
    s->rank = ++*s->next_rank;
    return EDDY_READY;
}

static void test_clock_pause_now_and_errors(void **state)
{
    fixture_t *f = *state;
    uint64_t a, b;
    assert_int_equal(eddy_runtime_clock_advance(f->rt, SEC), EDDY_EINVAL); /* not paused */
    assert_int_equal(eddy_runtime_clock_pause(f->rt), 0);
    assert_int_equal(eddy_runtime_clock_pause(f->rt), 0); /* idempotent */
    assert_int_equal(eddy_now(f->rt, &a), 0);
    sleep_ms(5);
    assert_int_equal(eddy_now(f->rt, &b), 0);
    assert_true(a == b); /* stands still */
    assert_int_equal(eddy_runtime_clock_advance(f->rt, 3 * SEC), 0); /* no timer fired */
    assert_int_equal(eddy_now(f->rt, &b), 0);
    assert_true(b == a + 3 * SEC);
    assert_int_equal(eddy_runtime_clock_advance(f->rt, UINT64_MAX), 0); /* saturates */
    assert_int_equal(eddy_runtime_clock_resume(f->rt), 0);
    assert_int_equal(eddy_now((eddy_runtime_t){ 0 }, &a), EDDY_EBADHANDLE);
    assert_int_equal(eddy_now(f->rt, NULL), EDDY_EINVAL);
    assert_int_equal(eddy_runtime_clock_pause((eddy_runtime_t){ 12345 }), EDDY_EBADHANDLE);
    FINISH(f);
}

/* Sleepers of 3 h, 1 h, 2 h; the main task advances 1.5 h (one fires), then 10 h (two
 * more, in deadline order). The main task stays runnable between steps (it wakes
 * itself), so the runtime never idles and never auto-advances. */
typedef struct {
    int stage;
    int next_rank;
    sleeper_t s[3];
    eddy_task_t t[3];
    int fired1, fired2;
} advance_t;

static int advance_main(void *state, eddy_cx_t *cx)
{
    advance_t *m = state;
    eddy_runtime_t rt;
    assert_int_equal(eddy_cx_runtime(cx, &rt), 0);
    switch (m->stage++) {
    case 0: {
        static const unsigned hours[3] = { 3, 1, 2 };
        uint64_t t0;
        assert_int_equal(eddy_runtime_clock_pause(rt), 0);
        assert_int_equal(eddy_now(rt, &t0), 0);
        for (int i = 0; i < 3; i++) {
            m->s[i].next_rank = &m->next_rank;
            assert_int_equal(eddy_sleep_until(rt, t0 + hours[i] * HOUR, &m->s[i].fut), 0);
            assert_int_equal(eddy_spawn(rt, sleeper_poll, &m->s[i], NULL, &m->t[i]), 0);
        }
        yield_self(cx); /* the sleepers run (and arm) before this task again */
        return EDDY_PENDING;
    }
    case 1:
        m->fired1 = eddy_runtime_clock_advance(rt, HOUR + HOUR / 2);
        yield_self(cx);
        return EDDY_PENDING;
    case 2:
        assert_int_equal(m->s[1].rank, 1);
        assert_int_equal(m->s[0].rank + m->s[2].rank, 0);
        m->fired2 = eddy_runtime_clock_advance(rt, 10 * HOUR);
        yield_self(cx);
        return EDDY_PENDING;
    default:
        return EDDY_READY;
    }
}

static void test_advance_fires_timers_in_order(void **state)
{
    fixture_t *f = *state;
    advance_t m = { 0 };
    uint64_t t0 = now_ns();
    int status = -1;
    assert_int_equal(eddy_block_on(f->rt, advance_main, &m, NULL, &status), 0);
    assert_int_equal(status, 0);
    assert_int_equal(m.fired1, 1);
    assert_int_equal(m.fired2, 2);
    assert_int_equal(m.s[1].rank, 1); /* 1 h */
    assert_int_equal(m.s[2].rank, 2); /* 2 h */
    assert_int_equal(m.s[0].rank, 3); /* 3 h */
    assert_true(elapsed_ms(t0) < REAL_BOUND_MS);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(eddy_task_free(m.t[i]), 0);
        assert_int_equal(eddy_future_free(m.s[i].fut), 0);
    }
    FINISH(f);
}

/* Idle and paused: eddy_runtime_run jumps from deadline to deadline, in order. */
static void test_idle_paused_runtime_auto_advances(void **state)
{
    fixture_t *f = *state;
    static const unsigned hours[4] = { 24, 5, 17, 2 };
    sleeper_t s[4] = { 0 };
    eddy_task_t t[4];
    int next_rank = 0;
    uint64_t t0, t1, real0 = now_ns();
    assert_int_equal(eddy_runtime_clock_pause(f->rt), 0);
    assert_int_equal(eddy_now(f->rt, &t0), 0);
    for (int i = 0; i < 4; i++) {
        s[i].next_rank = &next_rank;
        assert_int_equal(eddy_sleep(f->rt, hours[i] * HOUR, &s[i].fut), 0); /* relative: paused now */
        assert_int_equal(eddy_spawn(f->rt, sleeper_poll, &s[i], NULL, &t[i]), 0);
    }
    assert_int_equal(eddy_runtime_run(f->rt), 0);
    assert_int_equal(s[3].rank, 1);
    assert_int_equal(s[1].rank, 2);
    assert_int_equal(s[2].rank, 3);
    assert_int_equal(s[0].rank, 4);
    assert_int_equal(eddy_now(f->rt, &t1), 0);
    assert_true(t1 == t0 + 24 * HOUR);
    assert_true(elapsed_ms(real0) < REAL_BOUND_MS);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(eddy_task_free(t[i]), 0);
        assert_int_equal(eddy_future_free(s[i].fut), 0);
    }
    FINISH(f);
}

/* An interval of 1 s starting now; after the first tick the task is 3.5 s late. */
typedef struct {
    int missed;
    eddy_interval_t iv;
    uint64_t t0;
    uint64_t ticks[4];
    int n;
    int late_done;
} ticker_t;

static int ticker_poll(void *state, eddy_cx_t *cx)
{
    ticker_t *k = state;
    eddy_runtime_t rt;
    assert_int_equal(eddy_cx_runtime(cx, &rt), 0);
    if (k->iv.id == 0) {
        assert_int_equal(eddy_runtime_clock_pause(rt), 0);
        assert_int_equal(eddy_now(rt, &k->t0), 0);
        assert_int_equal(eddy_interval_new(rt, k->t0, SEC, k->missed, &k->iv), 0);
    }
    while (k->n < 4) {
        uint64_t t;
        int r = eddy_interval_poll_tick(k->iv, cx, &t);
        if (r != EDDY_READY) {
            return r;
        }
        k->ticks[k->n++] = (t - k->t0) / MS;
        if (k->n == 1) {
            assert_int_equal(eddy_runtime_clock_advance(rt, 3500 * MS), 0); /* nothing armed */
        }
    }
    return EDDY_READY;
}

static void run_ticker(fixture_t *f, int missed, const uint64_t want[4])
{
    ticker_t k = { .missed = missed };
    int status = -1;
    assert_int_equal(eddy_block_on(f->rt, ticker_poll, &k, NULL, &status), 0);
    assert_int_equal(status, 0);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(k.ticks[i], want[i]);
    }
    assert_int_equal(eddy_interval_free(k.iv), 0);
    assert_int_equal(eddy_interval_free(k.iv), EDDY_EBADHANDLE);
}

static void test_interval_missed_tick_behaviours(void **state)
{
    fixture_t *f = *state;
    /* Ticks in ms after start; the task was 3.5 s late after the first. */
    static const uint64_t burst[4] = { 0, 1000, 2000, 3000 }; /* all missed, at once */
    static const uint64_t delay[4] = { 0, 1000, 4500, 5500 }; /* shifted by the delay */
    static const uint64_t skip[4] = { 0, 1000, 4000, 5000 };  /* back on the schedule */
    run_ticker(f, EDDY_MISSED_TICK_BURST, burst);
    run_ticker(f, EDDY_MISSED_TICK_DELAY, delay);
    run_ticker(f, EDDY_MISSED_TICK_SKIP, skip);
    FINISH(f);
}

static void test_interval_bad_input(void **state)
{
    fixture_t *f = *state;
    eddy_interval_t iv;
    assert_int_equal(eddy_interval_new(f->rt, 0, 0, EDDY_MISSED_TICK_BURST, &iv), EDDY_EINVAL);
    assert_int_equal(eddy_interval_new(f->rt, 0, (1ull << 62) + 1, EDDY_MISSED_TICK_BURST, &iv), EDDY_EINVAL);
    assert_int_equal(eddy_interval_new(f->rt, 0, UINT64_MAX, EDDY_MISSED_TICK_SKIP, &iv), EDDY_EINVAL);
    assert_int_equal(eddy_interval_new(f->rt, 0, SEC, 3, &iv), EDDY_EINVAL);
    assert_int_equal(eddy_interval_new(f->rt, 0, SEC, -1, &iv), EDDY_EINVAL);
    assert_int_equal(eddy_interval_new(f->rt, 0, SEC, EDDY_MISSED_TICK_BURST, NULL), EDDY_EINVAL);
    /* The largest period and a start at the end of time: valid, never ticks. */
    assert_int_equal(eddy_interval_new(f->rt, UINT64_MAX, 1ull << 62, EDDY_MISSED_TICK_BURST, &iv), 0);
    assert_int_equal(eddy_interval_poll_tick(iv, NULL, NULL), EDDY_EINVAL); /* no cx */
    assert_int_equal(eddy_interval_free(iv), 0);
    /* An interval left to the runtime is freed with it. */
    assert_int_equal(eddy_interval_new(f->rt, 0, SEC, EDDY_MISSED_TICK_DELAY, &iv), 0);
    assert_true(eddy_runtime_free(f->rt) == 1);
    f->rt.id = 0;
    check_fds(f);
}

/* join over a 2 h sleep, a 1 h sleep and a freed handle; select over 3 h, 1 h. */
typedef struct {
    int stage;
    eddy_future_t f[3];
    int results[3];
    size_t index;
    int status;
    int join_rc, select_rc;
} combi_t;

static int combi_poll(void *state, eddy_cx_t *cx)
{
    combi_t *c = state;
    eddy_runtime_t rt;
    assert_int_equal(eddy_cx_runtime(cx, &rt), 0);
    if (c->stage == 0) {
        uint64_t t0;
        assert_int_equal(eddy_runtime_clock_pause(rt), 0);
        assert_int_equal(eddy_now(rt, &t0), 0);
        assert_int_equal(eddy_sleep_until(rt, t0 + 2 * HOUR, &c->f[0]), 0);
        assert_int_equal(eddy_sleep_until(rt, t0 + HOUR, &c->f[1]), 0);
        assert_int_equal(eddy_sleep_until(rt, t0, &c->f[2]), 0);
        assert_int_equal(eddy_future_free(c->f[2]), 0); /* a stale handle in the set */
        for (int i = 0; i < 3; i++) {
            c->results[i] = EDDY_PENDING;
        }
        assert_int_equal(eddy_join_poll(c->f, 3, NULL, c->results), EDDY_EINVAL);
        assert_int_equal(eddy_join_poll(NULL, 3, cx, c->results), EDDY_EINVAL);
        assert_int_equal(eddy_join_poll(NULL, 0, cx, NULL), EDDY_READY);
        assert_int_equal(eddy_select_poll(c->f, 0, cx, &c->index, &c->status), EDDY_EINVAL);
        c->stage = 1;
    }
    if (c->stage == 1) {
        int r = eddy_join_poll(c->f, 3, cx, c->results);
        if (r == EDDY_PENDING) {
            assert_int_equal(c->results[2], EDDY_EBADHANDLE);
            return r;
        }
        c->join_rc = r;
        uint64_t t0;
        assert_int_equal(eddy_now(rt, &t0), 0);
        for (int i = 0; i < 2; i++) {
            assert_int_equal(eddy_future_free(c->f[i]), 0);
        }
        assert_int_equal(eddy_sleep_until(rt, t0 + 3 * HOUR, &c->f[0]), 0);
        assert_int_equal(eddy_sleep_until(rt, t0 + HOUR, &c->f[1]), 0);
        c->stage = 2;
    }
    int r = eddy_select_poll(c->f, 2, cx, &c->index, &c->status);
    if (r == EDDY_PENDING) {
        return r;
    }
    c->select_rc = r;
    return EDDY_READY;
}

static void test_join_and_select(void **state)
{
    fixture_t *f = *state;
    combi_t c = { 0 };
    int status = -1;
    assert_int_equal(eddy_block_on(f->rt, combi_poll, &c, NULL, &status), 0);
    assert_int_equal(status, 0);
    assert_int_equal(c.join_rc, EDDY_READY);
    assert_int_equal(c.results[0], EDDY_READY);
    assert_int_equal(c.results[1], EDDY_READY);
    assert_int_equal(c.results[2], EDDY_EBADHANDLE);
    assert_int_equal(c.select_rc, EDDY_READY);
    assert_int_equal(c.index, 1); /* the 1 h sleep, not the 3 h one */
    assert_int_equal(c.status, EDDY_READY);
    assert_int_equal(eddy_future_free(c.f[0]), 0); /* the loser: cancelled by freeing */
    assert_int_equal(eddy_future_free(c.f[1]), 0);
    FINISH(f);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_clock_pause_now_and_errors),
        T(test_advance_fires_timers_in_order),
        T(test_idle_paused_runtime_auto_advances),
        T(test_interval_missed_tick_behaviours),
        T(test_interval_bad_input),
        T(test_join_and_select),
    };
    return cmocka_run_group_tests_name("time", tests, NULL, NULL);
}

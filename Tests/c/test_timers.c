/* test_timers.c — eddy_sleep / eddy_timeout: never early, bounded lateness, parallel. */
#include "harness.h"

/* Lateness allowed on a shared, noisy 2-core machine. Eddy's own overhead is far below. */
#define LATE_MS 150

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
    uint64_t start, end;
} sleeper_t;

static int sleeper_poll(void *state, eddy_cx_t *cx)
{
    sleeper_t *s = state;
    if (s->fut.id == 0) {
        eddy_runtime_t rt;
        int r = eddy_cx_runtime(cx, &rt);
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
    assert_int_equal(s[1].rank, 0);
    assert_int_equal(s[3].rank, 1);
    assert_int_equal(s[2].rank, 2);
    assert_int_equal(s[0].rank, 3);
    for (int i = 0; i < 4; i++) {
        assert_true(s[i].end - s[i].start >= s[i].ms * MS);
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
    assert_true(ms < 350); /* sequential would be >= 400 */
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
    assert_int_equal(eddy_sleep(f->rt, 5000 * MS, &inner), 0);
    assert_int_equal(eddy_timeout(f->rt, inner, 50 * MS, &to), 0);
    /* The timeout took ownership of inner. */
    assert_int_equal(eddy_future_free(inner), EDDY_EBADHANDLE);
    uint64_t t0 = now_ns();
    assert_int_equal(block_on_future(f->rt, to), EDDY_ETIMEDOUT);
    uint64_t ms = elapsed_ms(t0);
    assert_true(ms >= 50);
    assert_true(ms < 50 + LATE_MS);
    assert_int_equal(eddy_future_free(to), 0);
    FINISH(f);
}

static void test_timeout_not_reached(void **state)
{
    fixture_t *f = *state;
    eddy_future_t inner, to;
    assert_int_equal(eddy_sleep(f->rt, 20 * MS, &inner), 0);
    assert_int_equal(eddy_timeout(f->rt, inner, 2000 * MS, &to), 0);
    uint64_t t0 = now_ns();
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
    assert_true(elapsed_ms(t0) < LATE_MS);
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
    };
    return cmocka_run_group_tests_name("timers", tests, NULL, NULL);
}

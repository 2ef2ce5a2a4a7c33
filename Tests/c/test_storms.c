/* test_storms.c — cross-thread storms into one runtime through the C ABI.
 *
 * While the loop runs on the main thread, several pthreads at once:
 *   - eddy_spawn thousands of tasks into it (each must run exactly once, drop once);
 *   - eddy_waker_wake the same parked tasks thousands of times (wake-once: no double
 *     poll in flight, and no lost wakeup: the last wake after the condition flips must
 *     complete every waiter in bounded time);
 *   - eddy_task_abort the same parked tasks concurrently (each completes ECANCELED,
 *     its drop runs once);
 *   - eddy_waker_free their own clones.
 * Bounded by the harness alarm and `timeout`. */
#include "harness.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <unistd.h>

enum {
    STORM_THREADS = 4,
    SPAWNS_PER_THREAD = 2500,
    WAITERS = 64,
    ABORTEES = 256,
    WAKE_ROUNDS = 200,
};

typedef struct storm storm_t;

typedef struct {
    storm_t *s;
    int idx;
} counter_t;

typedef struct {
    storm_t *s;
    int idx;
    int polls;
} waiter_t;

struct storm {
    eddy_runtime_t rt;
    /* spawned from threads */
    counter_t counters[STORM_THREADS][SPAWNS_PER_THREAD];
    eddy_task_t spawned[STORM_THREADS][SPAWNS_PER_THREAD];
    atomic_int runs[STORM_THREADS * SPAWNS_PER_THREAD];
    atomic_int drops[STORM_THREADS * SPAWNS_PER_THREAD];
    int spawn_errors[STORM_THREADS];
    /* waiters */
    waiter_t waiters[WAITERS];
    eddy_task_t waiter_tasks[WAITERS];
    _Atomic uint64_t waker_ids[WAITERS]; /* published by the waiter's first poll */
    atomic_int in_poll[WAITERS];         /* >1 would mean two polls of one task at once */
    atomic_int overlap;
    atomic_int threads_done;
    atomic_long wakes;
    atomic_int wake_errors;
    /* abortees */
    eddy_task_t abortees[ABORTEES];
    atomic_int abortee_drops[ABORTEES];
    atomic_int abort_errors;
};

static int counter_poll(void *state, eddy_cx_t *cx)
{
    (void)cx;
    counter_t *c = state;
    atomic_fetch_add(&c->s->runs[c->idx], 1);
    return EDDY_READY;
}

static void counter_drop(void *state)
{
    counter_t *c = state;
    atomic_fetch_add(&c->s->drops[c->idx], 1);
}

static int waiter_poll(void *state, eddy_cx_t *cx)
{
    waiter_t *w = state;
    storm_t *s = w->s;
    if (atomic_fetch_add(&s->in_poll[w->idx], 1) != 0) {
        atomic_fetch_add(&s->overlap, 1);
    }
    w->polls++;
    int r = EDDY_PENDING;
    if (atomic_load(&s->waker_ids[w->idx]) == 0) {
        eddy_waker_t wk;
        if (eddy_cx_waker(cx, &wk) != 0) {
            r = -1;
            goto out;
        }
        atomic_store(&s->waker_ids[w->idx], wk.id); /* publish before checking the condition */
    }
    if (atomic_load(&s->threads_done) == STORM_THREADS) {
        r = EDDY_READY;
    }
out:
    atomic_fetch_sub(&s->in_poll[w->idx], 1);
    return r;
}

static int forever_poll(void *state, eddy_cx_t *cx)
{
    (void)state;
    (void)cx;
    return EDDY_PENDING; /* never woken: only an abort ends it */
}

static atomic_int *abortee_drop_slot;
static void abortee_drop(void *state)
{
    atomic_fetch_add((atomic_int *)state, 1);
}

typedef struct {
    storm_t *s;
    int t;
} worker_arg_t;

static void wake_all(storm_t *s)
{
    for (int i = 0; i < WAITERS; i++) {
        uint64_t id = atomic_load(&s->waker_ids[i]);
        if (id != 0) {
            int r = eddy_waker_wake((eddy_waker_t){ id });
            if (r != 0) {
                atomic_fetch_add(&s->wake_errors, 1);
            }
            atomic_fetch_add(&s->wakes, 1);
        }
    }
}

static void *worker_main(void *arg)
{
    worker_arg_t *a = arg;
    storm_t *s = a->s;
    int t = a->t;
    for (int k = 0; k < SPAWNS_PER_THREAD; k++) {
        counter_t *c = &s->counters[t][k];
        c->s = s;
        c->idx = t * SPAWNS_PER_THREAD + k;
        if (eddy_spawn(s->rt, counter_poll, c, counter_drop, &s->spawned[t][k]) != 0) {
            s->spawn_errors[t]++;
        }
        if (k % 10 == 0) {
            wake_all(s);
        }
        if (k % 10 == 5) { /* every thread aborts every abortee, repeatedly */
            int j = (k / 10 + t) % ABORTEES;
            if (eddy_task_abort(s->abortees[j]) != 0) {
                atomic_fetch_add(&s->abort_errors, 1);
            }
        }
    }
    for (int r = 0; r < WAKE_ROUNDS; r++) {
        wake_all(s);
        if (r % 16 == 0) {
            sched_yield();
        }
    }
    for (int j = 0; j < ABORTEES; j++) {
        if (eddy_task_abort(s->abortees[j]) != 0) {
            atomic_fetch_add(&s->abort_errors, 1);
        }
    }
    /* The condition flips, then one last wake: it must not be lost. */
    atomic_fetch_add(&s->threads_done, 1);
    wake_all(s);
    return NULL;
}

static void test_cross_thread_storm(void **state)
{
    fixture_t *f = *state;
    storm_t *s = calloc(1, sizeof *s);
    assert_non_null(s);
    s->rt = f->rt;
    (void)abortee_drop_slot;
    for (int i = 0; i < WAITERS; i++) {
        s->waiters[i] = (waiter_t){ .s = s, .idx = i };
        assert_int_equal(eddy_spawn(f->rt, waiter_poll, &s->waiters[i], NULL, &s->waiter_tasks[i]), 0);
    }
    for (int j = 0; j < ABORTEES; j++) {
        assert_int_equal(eddy_spawn(f->rt, forever_poll, &s->abortee_drops[j], abortee_drop, &s->abortees[j]), 0);
    }
    pthread_t th[STORM_THREADS];
    worker_arg_t args[STORM_THREADS];
    for (int t = 0; t < STORM_THREADS; t++) {
        args[t] = (worker_arg_t){ s, t };
        assert_int_equal(pthread_create(&th[t], NULL, worker_main, &args[t]), 0);
    }
    uint64_t t0 = now_ns();
    /* run returns when no task is left: waiters keep it alive until every thread is done. */
    int run = eddy_runtime_run(f->rt);
    for (int t = 0; t < STORM_THREADS; t++) {
        pthread_join(th[t], NULL);
    }
    /* Spawns may have landed after the last waiter finished: drain them. */
    int run2 = eddy_runtime_run(f->rt);
    uint64_t ms = elapsed_ms(t0);

    int bad_runs = 0, bad_drops = 0, spawn_errors = 0;
    for (int t = 0; t < STORM_THREADS; t++) {
        spawn_errors += s->spawn_errors[t];
    }
    for (int i = 0; i < STORM_THREADS * SPAWNS_PER_THREAD; i++) {
        bad_runs += atomic_load(&s->runs[i]) != 1;
        bad_drops += atomic_load(&s->drops[i]) != 1;
    }
    int waiter_bad = 0, total_polls = 0;
    for (int i = 0; i < WAITERS; i++) {
        int st = 1;
        if (eddy_task_status(s->waiter_tasks[i], &st) != EDDY_READY || st != 0) {
            waiter_bad++;
        }
        total_polls += s->waiters[i].polls;
    }
    int abort_bad = 0;
    for (int j = 0; j < ABORTEES; j++) {
        int st = 1;
        if (eddy_task_status(s->abortees[j], &st) != EDDY_READY || st != EDDY_ECANCELED) {
            abort_bad++;
        }
        abort_bad += atomic_load(&s->abortee_drops[j]) != 1;
    }
    print_message("storm: %d threads spawned %d tasks, %ld wakes on %d waiters (%d polls), %d tasks aborted "
                  "%d times each, in %llu ms\n",
                  STORM_THREADS, STORM_THREADS * SPAWNS_PER_THREAD, atomic_load(&s->wakes), WAITERS, total_polls,
                  ABORTEES, STORM_THREADS + SPAWNS_PER_THREAD / 10 * STORM_THREADS / ABORTEES,
                  (unsigned long long)ms);
    assert_int_equal(run, 0);
    assert_int_equal(run2, 0);
    assert_int_equal(spawn_errors, 0);
    assert_int_equal(bad_runs, 0);  /* every task ran exactly once */
    assert_int_equal(bad_drops, 0); /* and was dropped exactly once */
    assert_int_equal(atomic_load(&s->overlap), 0);
    assert_int_equal(atomic_load(&s->wake_errors), 0);
    assert_int_equal(atomic_load(&s->abort_errors), 0);
    assert_int_equal(waiter_bad, 0);
    assert_int_equal(abort_bad, 0);
    assert_true(total_polls <= WAITERS + atomic_load(&s->wakes)); /* wake-once: no more polls than wakes */
    for (int i = 0; i < WAITERS; i++) {
        assert_int_equal(eddy_waker_free((eddy_waker_t){ atomic_load(&s->waker_ids[i]) }), 0);
        assert_int_equal(eddy_task_free(s->waiter_tasks[i]), 0);
    }
    for (int j = 0; j < ABORTEES; j++) {
        assert_int_equal(eddy_task_free(s->abortees[j]), 0);
    }
    for (int t = 0; t < STORM_THREADS; t++) {
        for (int k = 0; k < SPAWNS_PER_THREAD; k++) {
            assert_int_equal(eddy_task_free(s->spawned[t][k]), 0);
        }
    }
    free(s);
    FINISH(f);
}

/* Wakes racing a parked loop: each round, a thread wakes one task exactly once while
 * the loop is (probably) parked in epoll_wait(-1). A lost wakeup hangs (alarm). */
typedef struct {
    atomic_int go;
    _Atomic uint64_t waker;
    int rounds_done;
    int target;
} pingpong_t;

static int pp_poll(void *state, eddy_cx_t *cx)
{
    pingpong_t *p = state;
    if (atomic_load(&p->waker) == 0) {
        eddy_waker_t w;
        if (eddy_cx_waker(cx, &w) != 0) {
            return -1;
        }
        atomic_store(&p->waker, w.id);
    }
    int g = atomic_load(&p->go);
    if (g > p->rounds_done) {
        p->rounds_done = g;
    }
    return p->rounds_done >= p->target ? EDDY_READY : EDDY_PENDING;
}

static void *pp_thread(void *arg)
{
    pingpong_t *p = arg;
    while (atomic_load(&p->waker) == 0) {
        sched_yield();
    }
    for (int i = 1; i <= p->target; i++) {
        atomic_store(&p->go, i);
        eddy_waker_wake((eddy_waker_t){ atomic_load(&p->waker) });
        if (i % 64 == 0) {
            usleep(50); /* let the loop park now and then */
        }
    }
    return NULL;
}

static void test_no_lost_wakeup_ping(void **state)
{
    fixture_t *f = *state;
    pingpong_t p = { .target = 20000 };
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, pp_thread, &p), 0);
    int st = 1;
    uint64_t t0 = now_ns();
    assert_int_equal(eddy_block_on(f->rt, pp_poll, &p, NULL, &st), 0);
    pthread_join(th, NULL);
    print_message("ping: %d cross-thread wakes delivered in %llu ms\n", p.target,
                  (unsigned long long)elapsed_ms(t0));
    assert_int_equal(st, 0);
    assert_int_equal(eddy_waker_free((eddy_waker_t){ atomic_load(&p.waker) }), 0);
    FINISH(f);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_cross_thread_storm),
        T(test_no_lost_wakeup_ping),
    };
    return cmocka_run_group_tests_name("storms", tests, NULL, NULL);
}

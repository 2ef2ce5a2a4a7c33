/* test_storms.c — cross-thread storms into one runtime through the C ABI.
 *
 * While the loop runs on the main thread, several pthreads at once:
 *   - eddy_spawn thousands of tasks into it (each must run exactly once, drop once);
 *   - eddy_waker_wake the same parked tasks thousands of times (no double poll in
 *     flight, and no lost wakeup: the last wake after the condition flips must
 *     complete every waiter in bounded time);
 * and, one thread against a parked loop, every wake needed (ping), plus wake-once
 * exactly (thousands of wakes of a scheduled task give one poll).
 *   - eddy_task_abort the same parked tasks concurrently (each completes ECANCELED,
 *     its drop runs once);
 *   - eddy_waker_free their own clones.
 * Bounded by the harness alarm and `timeout`. */
#include "harness.h"

#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
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
    /* (Wake-once, i.e. coalescing, is asserted exactly by test_wakes_of_a_scheduled_task_coalesce:
     * here polls vs wakes depends on timing, so no bound on it could fail.) */
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

/* Wakes racing a parked loop (docs/RELIABILITY.md): each round, a thread wakes one
 * task once and waits for the task to acknowledge that round before the next wake,
 * so every wake is needed: one lost wake leaves the task parked and the round
 * unacknowledged. The thread then counts it as lost and ends the task, so the
 * test fails on its assertion instead of the alarm. */
enum { PING_ROUNDS = 20000, PING_LOST_MS = 5000 };

typedef struct {
    atomic_int go;  /* the round the thread has started (then woken the task for) */
    atomic_int ack; /* the last round the task saw */
    _Atomic uint64_t waker;
    atomic_int lost;
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
    atomic_store(&p->ack, g);
    return g >= p->target ? EDDY_READY : EDDY_PENDING;
}

static void *pp_thread(void *arg)
{
    pingpong_t *p = arg;
    while (atomic_load(&p->waker) == 0) {
        sched_yield();
    }
    for (int i = 1; i <= p->target; i++) {
        if (i % 64 == 0) {
            usleep(50); /* make sure the loop is parked in epoll_wait now and then */
        }
        atomic_store(&p->go, i);
        eddy_waker_wake((eddy_waker_t){ atomic_load(&p->waker) });
        uint64_t t0 = now_ns();
        while (atomic_load(&p->ack) < i) {
            if (elapsed_ms(t0) > PING_LOST_MS) {
                /* The wake above never reached the task: record it, then end the task
                 * (last round, woken until it sees it) so the assertion reports it. */
                atomic_fetch_add(&p->lost, 1);
                atomic_store(&p->go, p->target);
                i = p->target;
                eddy_waker_wake((eddy_waker_t){ atomic_load(&p->waker) });
                t0 = now_ns();
            }
            sched_yield();
        }
    }
    return NULL;
}

static void test_no_lost_wakeup_ping(void **state)
{
    fixture_t *f = *state;
    pingpong_t p = { .target = PING_ROUNDS };
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, pp_thread, &p), 0);
    int st = 1;
    uint64_t t0 = now_ns();
    assert_int_equal(eddy_block_on(f->rt, pp_poll, &p, NULL, &st), 0);
    pthread_join(th, NULL);
    print_message("ping: %d cross-thread wakes, each needed, delivered in %llu ms (%d lost)\n", p.target,
                  (unsigned long long)elapsed_ms(t0), atomic_load(&p.lost));
    assert_int_equal(st, 0);
    assert_int_equal(atomic_load(&p.lost), 0);
    assert_int_equal(atomic_load(&p.ack), PING_ROUNDS); /* the task saw the last round */
    assert_int_equal(eddy_waker_free((eddy_waker_t){ atomic_load(&p.waker) }), 0);
    FINISH(f);
}

/* Wake-once, exactly: a task that is scheduled but not yet polled is polled once
 * however often it is woken meanwhile. While the driver task's poll keeps the loop
 * busy, the driver wakes the target once (queued now, on the loop thread's own
 * queue), then the driver and COALESCE_THREADS threads wake it COALESCE_WAKES times
 * each. After the driver's poll, the target must be polled exactly once, and not
 * again while the driver yields COALESCE_SETTLE_TICKS more times. */
enum { COALESCE_THREADS = 4, COALESCE_WAKES = 2000, COALESCE_SETTLE_TICKS = 8, COALESCE_MAX_WAIT = 10000 };

typedef struct {
    _Atomic uint64_t waker; /* the target's waker, published by its first poll */
    atomic_int polls;       /* target polls */
    atomic_int done;        /* the driver lets the target finish */
    int phase, waited, settle, polls_during_storm, polls_after_storm;
    atomic_long wakes;
    atomic_int wake_errors;
} coalesce_t;

static int coalesce_target(void *state, eddy_cx_t *cx)
{
    coalesce_t *c = state;
    atomic_fetch_add(&c->polls, 1);
    if (atomic_load(&c->waker) == 0) {
        eddy_waker_t w;
        if (eddy_cx_waker(cx, &w) != 0) {
            return -1;
        }
        atomic_store(&c->waker, w.id);
    }
    return atomic_load(&c->done) ? EDDY_READY : EDDY_PENDING;
}

static void coalesce_wake_many(coalesce_t *c)
{
    eddy_waker_t w = { atomic_load(&c->waker) };
    for (int i = 0; i < COALESCE_WAKES; i++) {
        if (eddy_waker_wake(w) != 0) {
            atomic_fetch_add(&c->wake_errors, 1);
        }
        atomic_fetch_add(&c->wakes, 1);
    }
}

static void *coalesce_thread(void *arg)
{
    coalesce_wake_many(arg);
    return NULL;
}

static int coalesce_driver(void *state, eddy_cx_t *cx)
{
    coalesce_t *c = state;
    eddy_waker_t self;
    if (c->phase == 0) {
        /* The target was spawned first, so it has been polled once and is parked. */
        if (atomic_load(&c->waker) == 0) {
            return -2;
        }
        /* First wake from this thread: the target is queued behind no remote inbox. */
        eddy_waker_wake((eddy_waker_t){ atomic_load(&c->waker) });
        atomic_fetch_add(&c->wakes, 1);
        pthread_t th[COALESCE_THREADS];
        for (int t = 0; t < COALESCE_THREADS; t++) {
            if (pthread_create(&th[t], NULL, coalesce_thread, c) != 0) {
                return -3;
            }
        }
        coalesce_wake_many(c); /* from the loop thread too */
        for (int t = 0; t < COALESCE_THREADS; t++) {
            pthread_join(th[t], NULL);
        }
        c->polls_during_storm = atomic_load(&c->polls); /* still 1: the loop is in this poll */
        c->phase = 1;
    } else if (c->phase == 1) {
        /* Later ticks: the target's one poll (normally at the next tick), then no other. */
        bool polled = atomic_load(&c->polls) >= 2;
        if (!polled && ++c->waited < COALESCE_MAX_WAIT) {
            goto yield;
        }
        if (!polled || ++c->settle == COALESCE_SETTLE_TICKS) {
            c->polls_after_storm = atomic_load(&c->polls);
            atomic_store(&c->done, 1);
            eddy_waker_wake((eddy_waker_t){ atomic_load(&c->waker) });
            c->phase = 2;
            return EDDY_READY;
        }
    }
yield: /* wake ourselves so that we are polled again after the tasks queued now */
    ;
    int wr = eddy_cx_waker(cx, &self);
    if (wr != 0) {
        return wr; /* its error code */
    }
    eddy_waker_wake(self);
    eddy_waker_free(self);
    return EDDY_PENDING;
}

static void test_wakes_of_a_scheduled_task_coalesce(void **state)
{
    fixture_t *f = *state;
    coalesce_t c = { 0 };
    eddy_task_t target;
    assert_int_equal(eddy_spawn(f->rt, coalesce_target, &c, NULL, &target), 0);
    int st = 1;
    assert_int_equal(eddy_block_on(f->rt, coalesce_driver, &c, NULL, &st), 0);
    assert_int_equal(eddy_runtime_run_until(f->rt, target, &st), 0);
    print_message("coalesce: %ld wakes of a scheduled task; target polls: %d before, %d after %d ticks, %d total\n",
                  atomic_load(&c.wakes), c.polls_during_storm, c.polls_after_storm, COALESCE_SETTLE_TICKS,
                  atomic_load(&c.polls));
    assert_int_equal(st, 0);
    assert_int_equal(atomic_load(&c.wake_errors), 0);
    assert_int_equal(atomic_load(&c.wakes), (long)(COALESCE_THREADS + 1) * COALESCE_WAKES + 1);
    assert_int_equal(c.polls_during_storm, 1);
    assert_int_equal(c.polls_after_storm, 2); /* all those wakes: one poll */
    assert_int_equal(atomic_load(&c.polls), 3); /* and the final wake one more */
    assert_int_equal(eddy_waker_free((eddy_waker_t){ atomic_load(&c.waker) }), 0);
    assert_int_equal(eddy_task_free(target), 0);
    FINISH(f);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_cross_thread_storm),
        T(test_no_lost_wakeup_ping),
        T(test_wakes_of_a_scheduled_task_coalesce),
    };
    return cmocka_run_group_tests_name("storms", tests, NULL, NULL);
}

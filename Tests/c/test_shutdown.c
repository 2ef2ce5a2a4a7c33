/* test_shutdown.c — eddy_runtime_shutdown: tasks in every state (never polled, pending
 * past the deadline, finishing within it, completed, aborted, the caller itself), from
 * the owning thread (idle and from inside a task) and from another thread (while the
 * owner runs the runtime and while nobody does), blocking calls in flight (awaited,
 * detached, queued), refused spawns, closed sockets, argument errors. */
#include "harness.h"

#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#define REPORT_INIT { .struct_size = sizeof(eddy_shutdown_report_t) }

/* ---- a probe task: counts polls and drops; sleeps sleep_ms first (0: none) ---- */

static int status_of(eddy_task_t t)
{
    int st = 12345;
    return eddy_task_status(t, &st) == EDDY_READY ? st : 99999;
}

/* Every state at once, shutdown from the idle owner with a 300 ms grace period. */
static void test_every_task_state_from_the_owner(void **state)
{
    fixture_t *f = *state;
    probe_t done = { 0 }, aborted = { 0 }, quick = { .sleep_ms = 20 }, slow = { .sleep_ms = 60000 };
    eddy_task_t t_done, t_aborted, t_quick, t_slow;
    assert_int_equal(eddy_spawn(f->rt, probe_poll, &done, probe_drop, &t_done), 0);
    assert_int_equal(eddy_runtime_run_until(f->rt, t_done, &(int){ 0 }), 0); /* completed */
    assert_int_equal(eddy_spawn(f->rt, probe_poll, &aborted, probe_drop, &t_aborted), 0);
    assert_int_equal(eddy_task_abort(t_aborted), 0); /* aborted, never polled */
    assert_int_equal(eddy_spawn(f->rt, probe_poll, &quick, probe_drop, &t_quick), 0);
    assert_int_equal(eddy_spawn(f->rt, probe_poll, &slow, probe_drop, &t_slow), 0);
    eddy_shutdown_report_t rep = REPORT_INIT;
    uint64_t t0 = now_ns();
    assert_int_equal(eddy_runtime_shutdown(f->rt, 300 * MS, &rep), 0);
    uint64_t ms = elapsed_ms(t0);
    assert_true(ms >= 300); /* `slow` kept it waiting until the deadline */
    assert_int_equal(rep.struct_size, sizeof rep);
    assert_int_equal(rep.tasks_finished, 2); /* quick, and the aborted one completing */
    assert_int_equal(rep.tasks_aborted, 1);  /* slow */
    assert_int_equal(rep.blocking_abandoned + rep.blocking_running, 0);
    assert_int_equal(status_of(t_done), 0);
    assert_int_equal(status_of(t_aborted), EDDY_ECANCELED);
    assert_int_equal(status_of(t_quick), 0);
    assert_int_equal(status_of(t_slow), EDDY_ECANCELED);
    assert_int_equal(aborted.polls, 0);
    assert_true(quick.polls >= 2);
    assert_int_equal(slow.polls, 1);
    assert_int_equal(done.drops + aborted.drops + quick.drops + slow.drops, 4); /* each once */
    /* Shut down: spawns refused (drop not called), runs refused, the report kept. */
    probe_t late = { 0 };
    eddy_task_t t_late = { 0 };
    assert_int_equal(eddy_spawn(f->rt, probe_poll, &late, probe_drop, &t_late), EDDY_ESHUTDOWN);
    assert_int_equal(late.drops, 0);
    assert_int_equal(eddy_block_on(f->rt, probe_poll, &late, probe_drop, &(int){ 0 }), EDDY_ESHUTDOWN);
    eddy_shutdown_report_t again = REPORT_INIT;
    assert_int_equal(eddy_runtime_shutdown(f->rt, 0, &again), 0);
    assert_memory_equal(&again, &rep, sizeof rep);
    eddy_task_t ts[] = { t_done, t_aborted, t_quick, t_slow };
    for (int i = 0; i < 4; i++) {
        assert_int_equal(eddy_task_free(ts[i]), 0);
    }
    FINISH(f);
}

/* Everything finishes early: the call returns long before its (60 s) timeout. */
static void test_returns_as_soon_as_everything_finished(void **state)
{
    fixture_t *f = *state;
    probe_t p = { .sleep_ms = 20 };
    eddy_task_t t;
    assert_int_equal(eddy_spawn(f->rt, probe_poll, &p, probe_drop, &t), 0);
    eddy_shutdown_report_t rep = REPORT_INIT;
    uint64_t t0 = now_ns();
    assert_int_equal(eddy_runtime_shutdown(f->rt, 60000 * MS, &rep), 0);
    assert_true(elapsed_ms(t0) < 30000);
    assert_int_equal(rep.tasks_finished, 1);
    assert_int_equal(rep.tasks_aborted, 0);
    assert_int_equal(p.drops, 1);
    assert_int_equal(eddy_task_free(t), 0);
    FINISH(f);
}

/* timeout 0: nothing is polled again; every task is dropped at once. */
static void test_zero_timeout_aborts_everything(void **state)
{
    fixture_t *f = *state;
    probe_t a = { 0 }, b = { .sleep_ms = 60000 };
    eddy_task_t ta, tb;
    assert_int_equal(eddy_spawn(f->rt, probe_poll, &a, probe_drop, &ta), 0);
    assert_int_equal(eddy_spawn(f->rt, probe_poll, &b, probe_drop, &tb), 0);
    eddy_shutdown_report_t rep = REPORT_INIT;
    assert_int_equal(eddy_runtime_shutdown(f->rt, 0, &rep), 0);
    assert_int_equal(rep.tasks_aborted, 2);
    assert_int_equal(rep.tasks_finished, 0);
    assert_int_equal(a.polls + b.polls, 0);
    assert_int_equal(a.drops + b.drops, 2);
    assert_int_equal(eddy_task_free(ta), 0);
    assert_int_equal(eddy_task_free(tb), 0);
    FINISH(f);
}

/* ---- from inside a task ---- */

typedef struct {
    int calls;
    int shutdown_rc;
    eddy_task_t spawn_after;
    int spawn_rc;
    probe_t child;
} inside_t;

static int inside_poll(void *state, eddy_cx_t *cx)
{
    inside_t *s = state;
    eddy_runtime_t rt;
    if (eddy_cx_runtime(cx, &rt) != 0) {
        return EDDY_EINVAL;
    }
    s->calls++;
    eddy_shutdown_report_t rep = REPORT_INIT;
    s->shutdown_rc = eddy_runtime_shutdown(rt, 5000 * MS, &rep);
    s->spawn_rc = eddy_spawn(rt, probe_poll, &s->child, probe_drop, &s->spawn_after);
    return EDDY_READY; /* finishes right after asking */
}

static void test_from_inside_a_task(void **state)
{
    fixture_t *f = *state;
    inside_t s = { 0 };
    probe_t other = { .sleep_ms = 60000 };
    eddy_task_t t_other;
    assert_int_equal(eddy_spawn(f->rt, probe_poll, &other, probe_drop, &t_other), 0);
    int st = 1;
    /* block_on returns once the shutdown is finished: only `other` is left, until the
     * 5 s deadline (it never finishes on its own) */
    uint64_t t0 = now_ns();
    assert_int_equal(eddy_block_on(f->rt, inside_poll, &s, NULL, &st), 0);
    assert_true(elapsed_ms(t0) >= 5000);
    assert_int_equal(st, 0);
    assert_int_equal(s.shutdown_rc, EDDY_PENDING);
    assert_int_equal(s.spawn_rc, EDDY_ESHUTDOWN);
    assert_int_equal(s.child.drops, 0);
    assert_int_equal(other.drops, 1);
    assert_int_equal(status_of(t_other), EDDY_ECANCELED);
    eddy_shutdown_report_t rep = REPORT_INIT;
    assert_int_equal(eddy_runtime_shutdown(f->rt, 0, &rep), 0);
    assert_int_equal(rep.tasks_finished, 1); /* the caller */
    assert_int_equal(rep.tasks_aborted, 1);  /* other */
    assert_int_equal(eddy_task_free(t_other), 0);
    FINISH(f);
}

/* ---- from another thread ---- */

typedef struct {
    eddy_runtime_t rt;
    uint64_t timeout;
    unsigned delay_ms;
    int rc;
    eddy_shutdown_report_t rep;
} remote_t;

static void *remote_shutdown(void *arg)
{
    remote_t *r = arg;
    sleep_ms(r->delay_ms);
    r->rep.struct_size = sizeof r->rep;
    r->rc = eddy_runtime_shutdown(r->rt, r->timeout, &r->rep);
    return NULL;
}

static void test_from_another_thread_while_running(void **state)
{
    fixture_t *f = *state;
    probe_t slow = { .sleep_ms = 60000 };
    remote_t r = { .rt = f->rt, .timeout = 50 * MS, .delay_ms = 50 };
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, remote_shutdown, &r), 0);
    int st = 1;
    assert_int_equal(eddy_block_on(f->rt, probe_poll, &slow, probe_drop, &st), 0);
    assert_int_equal(st, EDDY_ECANCELED); /* aborted at the deadline, on this thread */
    assert_int_equal(slow.drops, 1);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.rep.tasks_aborted, 1);
    FINISH(f);
}

static void test_from_another_thread_while_idle(void **state)
{
    fixture_t *f = *state;
    probe_t quick = { .sleep_ms = 10 };
    eddy_task_t t;
    assert_int_equal(eddy_spawn(f->rt, probe_poll, &quick, probe_drop, &t), 0);
    remote_t r = { .rt = f->rt, .timeout = 5000 * MS };
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, remote_shutdown, &r), 0);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_int_equal(r.rc, EDDY_PENDING); /* nobody runs it: begun only */
    assert_int_equal(quick.polls, 0);
    assert_int_equal(eddy_runtime_run(f->rt), 0); /* finishes it: the task completes */
    assert_int_equal(quick.drops, 1);
    eddy_shutdown_report_t rep = REPORT_INIT;
    assert_int_equal(eddy_runtime_shutdown(f->rt, 0, &rep), 0);
    assert_int_equal(rep.tasks_finished, 1);
    assert_int_equal(rep.tasks_aborted, 0);
    assert_int_equal(status_of(t), 0);
    assert_int_equal(eddy_task_free(t), 0);
    FINISH(f);
}

/* ---- blocking calls in flight ---- */

static atomic_int slow_job_done;
static atomic_int slow_job_started;

static void *sleep_job(void *arg)
{
    atomic_fetch_add(&slow_job_started, 1);
    sleep_ms((unsigned)(uintptr_t)arg);
    atomic_fetch_add(&slow_job_done, 1);
    return arg;
}

static atomic_int quick_runs;

static void *quick_job(void *arg)
{
    atomic_fetch_add(&quick_runs, 1);
    return arg;
}

typedef struct {
    eddy_future_t fut;
    int result;
    int drops;
} awaiter_t;

static int awaiter_poll(void *state, eddy_cx_t *cx)
{
    awaiter_t *a = state;
    int r = eddy_future_poll(a->fut, cx);
    if (r == EDDY_PENDING) {
        return r;
    }
    a->result = r;
    return EDDY_READY;
}

static void awaiter_drop(void *state)
{
    awaiter_t *a = state;
    a->drops++;
}

static void test_blocking_calls_in_flight(void **state)
{
    fixture_t *f = *state;
    eddy_config_t c;
    eddy_runtime_t rt;
    assert_int_equal(eddy_config_init(&c), 0);
    c.blocking_threads = 2;
    assert_int_equal(eddy_runtime_new(&c, &rt), 0);
    atomic_store(&slow_job_done, 0);
    atomic_store(&slow_job_started, 0);
    /* The deadline (and the detached call, which must outlast it) scale with the
     * machine's slowness: on a loaded machine or under valgrind the awaited call may
     * take far longer than its 30 ms. */
    unsigned deadline_ms = 300u * slow_factor();
    /* awaited by a task, finishes within the grace period */
    awaiter_t aw = { 0 };
    assert_int_equal(eddy_spawn_blocking(rt, sleep_job, (void *)(uintptr_t)30, &aw.fut), 0);
    eddy_task_t t;
    assert_int_equal(eddy_spawn(rt, awaiter_poll, &aw, awaiter_drop, &t), 0);
    /* detached, runs far past the deadline (occupies the second thread) */
    eddy_future_t detached, queued;
    assert_int_equal(eddy_spawn_blocking(rt, sleep_job, (void *)(uintptr_t)(deadline_ms + 1500u), &detached), 0);
    /* Both threads busy before the detached handle is freed (a call freed before it
     * started would not run): wait for both starts, bounded. */
    uint64_t wait_start = now_ns();
    while (atomic_load(&slow_job_started) < 2 && elapsed_ms(wait_start) < 5000u * slow_factor())
        sleep_ms(1);
    assert_int_equal(atomic_load(&slow_job_started), 2);
    assert_int_equal(eddy_future_free(detached), 0);
    atomic_store(&quick_runs, 0);
    assert_int_equal(eddy_spawn_blocking(rt, quick_job, NULL, &queued), 0);
    eddy_shutdown_report_t rep = REPORT_INIT;
    assert_int_equal(eddy_runtime_shutdown(rt, (uint64_t)deadline_ms * MS, &rep), 0);
    int slow_done_at_return = atomic_load(&slow_job_done);
    assert_int_equal(aw.result, EDDY_READY); /* the awaited call finished first */
    assert_int_equal(rep.tasks_finished, 1);
    assert_int_equal(rep.tasks_aborted, 0);
    /* The queued call may have got the first thread back before the deadline: then it
     * ran; otherwise it was abandoned. Either way the detached one was still running. */
    assert_int_equal(rep.blocking_running, 1);
    assert_true(slow_done_at_return <= 2);
    assert_int_equal(rep.blocking_abandoned + (unsigned)atomic_load(&quick_runs), 1); /* ran xor abandoned */
    assert_int_equal(eddy_future_free(queued), 0);
    assert_int_equal(eddy_future_free(aw.fut), 0);
    assert_int_equal(eddy_task_free(t), 0);
    assert_int_equal(aw.drops, 1);
    /* free waits for the detached call (nothing of the runtime outlives it) */
    assert_int_equal(eddy_runtime_free(rt), 0);
    assert_int_equal(atomic_load(&slow_job_done) >= 2, 1);
    FINISH(f);
}

/* Sockets are closed; their handles stay valid (EDDY_ESHUTDOWN) until freed. */
static void test_closes_descriptors(void **state)
{
    fixture_t *f = *state;
    eddy_tcp_t l;
    assert_int_equal(eddy_tcp_listen(f->rt, "127.0.0.1", 0, 16, &l), 0);
    eddy_shutdown_report_t rep = REPORT_INIT;
    assert_int_equal(eddy_runtime_shutdown(f->rt, 0, &rep), 0);
    assert_int_equal(rep.handles_closed, 1);
    check_fds(f); /* the listener's descriptor is gone already */
    assert_int_equal(eddy_tcp_close(l), 0);
    FINISH(f);
}

static void test_bad_arguments(void **state)
{
    fixture_t *f = *state;
    eddy_shutdown_report_t rep = { .struct_size = 8 };
    assert_int_equal(eddy_runtime_shutdown(f->rt, 0, &rep), EDDY_EINVAL);
    eddy_runtime_t bogus = { 0x7fff00001234ull };
    assert_int_equal(eddy_runtime_shutdown(bogus, 0, NULL), EDDY_EBADHANDLE);
    assert_int_equal(eddy_runtime_shutdown(f->rt, 0, NULL), 0); /* report optional */
    FINISH(f);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_every_task_state_from_the_owner),
        T(test_returns_as_soon_as_everything_finished),
        T(test_zero_timeout_aborts_everything),
        T(test_from_inside_a_task),
        T(test_from_another_thread_while_running),
        T(test_from_another_thread_while_idle),
        T(test_blocking_calls_in_flight),
        T(test_closes_descriptors),
        T(test_bad_arguments),
    };
    return cmocka_run_group_tests_name("shutdown", tests, NULL, NULL);
}

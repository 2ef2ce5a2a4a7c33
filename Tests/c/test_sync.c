/* test_sync.c — eddy_semaphore_* and eddy_notify_* (include/eddy.h, "Sync primitives").
 *
 * FIFO service of waiting tasks, no overtaking by try_acquire, a waiter withdrawn
 * (its task aborted, its handle freed) after it was handed a permit passes it on,
 * a mutex (1 permit, max 1) released while unlocked is EDDY_EINVAL, closing,
 * notify's stored permit, a plain pthread releasing/notifying while a task waits,
 * handles of a freed runtime, stale and wrong-kind handles. */
#include "harness.h"

#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

typedef struct {
    eddy_semaphore_t sem;
    int id, *log, *n;
    int release_after; /* 1: release right away (mutex section) */
} acq_t;

static int acq_poll(void *st, eddy_cx_t *cx)
{
    acq_t *a = st;
    int rc = eddy_semaphore_poll_acquire(a->sem, cx);
    if (rc != EDDY_READY) return rc;
    a->log[(*a->n)++] = a->id;
    if (a->release_after) return eddy_semaphore_release(a->sem);
    return EDDY_READY;
}

static void run_a_while(eddy_runtime_t rt)
{
    eddy_future_t sl;
    assert_int_equal(eddy_sleep(rt, 5 * MS, &sl), 0);
    assert_int_equal(block_on_future(rt, sl), 0);
    assert_int_equal(eddy_future_free(sl), 0);
}

static void test_mutex_fifo_and_withdrawn_waiter(void **state)
{
    fixture_t *f = *state;
    eddy_semaphore_t m;
    assert_int_equal(eddy_semaphore_new(f->rt, 1, 1, &m), 0);
    assert_int_equal(eddy_semaphore_try_acquire(m), 0); /* locked */
    int log[4], n = 0;
    acq_t a[4];
    eddy_task_t t[4];
    for (int i = 0; i < 4; i++) {
        a[i] = (acq_t){.id = i, .log = log, .n = &n, .release_after = 1};
        assert_int_equal(eddy_semaphore_clone(m, &a[i].sem), 0); /* one waiting place each */
        assert_int_equal(eddy_spawn(f->rt, acq_poll, &a[i], NULL, &t[i]), 0);
    }
    run_a_while(f->rt);
    assert_int_equal(n, 0);
    assert_int_equal(eddy_semaphore_try_acquire(m), EDDY_EAGAIN); /* no overtaking */
    /* release: handed to #0 (not yet run); #0 is aborted and its handle freed: the
     * lock must go on to #1, not be lost */
    assert_int_equal(eddy_semaphore_release(m), 0);
    assert_int_equal(eddy_task_abort(t[0]), 0);
    assert_int_equal(eddy_semaphore_free(a[0].sem), 0);
    assert_int_equal(eddy_runtime_run(f->rt), 0);
    assert_int_equal(n, 3);
    assert_int_equal(log[0], 1);
    assert_int_equal(log[1], 2);
    assert_int_equal(log[2], 3);
    /* unlocked now: unlocking again is an error, not a second permit */
    assert_int_equal(eddy_semaphore_release(m), EDDY_EINVAL);
    assert_int_equal(eddy_semaphore_try_acquire(m), 0);
    assert_int_equal(eddy_semaphore_try_acquire(m), EDDY_EAGAIN);
    assert_int_equal(eddy_semaphore_release(m), 0);
    for (int i = 0; i < 4; i++) assert_int_equal(eddy_task_free(t[i]), 0);
    for (int i = 1; i < 4; i++) assert_int_equal(eddy_semaphore_free(a[i].sem), 0);
    assert_int_equal(eddy_semaphore_free(m), 0);
    FINISH(f);
}

static void test_semaphore_bad_input_and_close(void **state)
{
    fixture_t *f = *state;
    eddy_semaphore_t s;
    assert_int_equal(eddy_semaphore_new(f->rt, 2, 1, &s), EDDY_EINVAL); /* permits > max */
    assert_int_equal(eddy_semaphore_new(f->rt, 1, 0, NULL), EDDY_EINVAL);
    assert_int_equal(eddy_semaphore_new(f->rt, (1u << 30) + 1, 0, &s), EDDY_EINVAL);
    assert_int_equal(eddy_semaphore_new(f->rt, 0, 0, &s), 0);
    assert_int_equal(eddy_semaphore_try_acquire(s), EDDY_EAGAIN);
    assert_int_equal(eddy_semaphore_release(s), 0); /* unbounded */
    assert_int_equal(eddy_semaphore_release(s), 0);
    assert_int_equal(eddy_semaphore_try_acquire(s), 0);
    assert_int_equal(eddy_semaphore_poll_acquire(s, NULL), EDDY_EINVAL);
    eddy_notify_t wrong = {s.id};
    assert_int_equal(eddy_notify_one(wrong), EDDY_EBADHANDLE);
    assert_int_equal(eddy_semaphore_close(s), 0);
    assert_int_equal(eddy_semaphore_try_acquire(s), EDDY_EPIPE);
    assert_int_equal(eddy_semaphore_free(s), 0);
    assert_int_equal(eddy_semaphore_free(s), EDDY_EBADHANDLE);
    assert_int_equal(eddy_semaphore_release(s), EDDY_EBADHANDLE);
    FINISH(f);
}

typedef struct {
    eddy_notify_t n;
    int woken;
} nwait_t;

static int nwait_poll(void *st, eddy_cx_t *cx)
{
    nwait_t *w = st;
    int rc = eddy_notify_poll_wait(w->n, cx);
    if (rc != EDDY_READY) return rc;
    w->woken++;
    return EDDY_READY;
}

static void *notify_later(void *arg)
{
    usleep(5000);
    eddy_notify_one(*(eddy_notify_t *)arg);
    return NULL;
}

static void test_notify(void **state)
{
    fixture_t *f = *state;
    eddy_notify_t n;
    assert_int_equal(eddy_notify_new(f->rt, &n), 0);
    assert_int_equal(eddy_notify_one(n), 0); /* stored permit */
    nwait_t w = {0};
    assert_int_equal(eddy_notify_clone(n, &w.n), 0);
    int st;
    assert_int_equal(eddy_block_on(f->rt, nwait_poll, &w, NULL, &st), 0);
    assert_int_equal(w.woken, 1);
    /* notify_all stores nothing; a plain pthread's notify_one wakes the waiting task */
    assert_int_equal(eddy_notify_all(n), 0);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, notify_later, &n), 0);
    assert_int_equal(eddy_block_on(f->rt, nwait_poll, &w, NULL, &st), 0);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_int_equal(w.woken, 2);
    assert_int_equal(eddy_notify_poll_wait(n, NULL), EDDY_EINVAL);
    assert_int_equal(eddy_notify_free(w.n), 0);
    assert_int_equal(eddy_notify_free(n), 0);
    assert_int_equal(eddy_notify_one(n), EDDY_EBADHANDLE);
    FINISH(f);
}

static void *release_from_thread(void *arg)
{
    eddy_semaphore_t s = *(eddy_semaphore_t *)arg;
    for (int i = 0; i < 1000; i++) {
        if (eddy_semaphore_release(s) != 0) return (void *)1;
        if (i % 100 == 0) usleep(100);
    }
    return NULL;
}

typedef struct {
    eddy_semaphore_t s;
    int got;
} many_t;

static int many_poll(void *st, eddy_cx_t *cx)
{
    many_t *m = st;
    while (m->got < 1000) {
        int rc = eddy_semaphore_poll_acquire(m->s, cx);
        if (rc != EDDY_READY) return rc;
        m->got++;
    }
    return EDDY_READY;
}

static void test_pthread_releases_task_acquires(void **state)
{
    fixture_t *f = *state;
    eddy_semaphore_t s;
    assert_int_equal(eddy_semaphore_new(f->rt, 0, 0, &s), 0);
    many_t m = {.got = 0};
    assert_int_equal(eddy_semaphore_clone(s, &m.s), 0);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, release_from_thread, &s), 0);
    int st;
    assert_int_equal(eddy_block_on(f->rt, many_poll, &m, NULL, &st), 0);
    void *r;
    assert_int_equal(pthread_join(th, &r), 0);
    assert_null(r);
    assert_int_equal(st, 0);
    assert_int_equal(m.got, 1000);
    assert_int_equal(eddy_semaphore_try_acquire(s), EDDY_EAGAIN);
    assert_int_equal(eddy_semaphore_free(m.s), 0);
    assert_int_equal(eddy_semaphore_free(s), 0);
    FINISH(f);
}

static void test_freed_runtime_frees_sync_handles(void **state)
{
    fixture_t *f = *state;
    eddy_runtime_t rt;
    assert_int_equal(eddy_runtime_new(NULL, &rt), 0);
    eddy_semaphore_t s;
    eddy_notify_t n;
    assert_int_equal(eddy_semaphore_new(rt, 1, 1, &s), 0);
    assert_int_equal(eddy_notify_new(rt, &n), 0);
    assert_int_equal(eddy_runtime_free(rt), 2);
    assert_int_equal(eddy_semaphore_try_acquire(s), EDDY_EBADHANDLE);
    assert_int_equal(eddy_notify_one(n), EDDY_EBADHANDLE);
    assert_int_equal(eddy_semaphore_new(rt, 1, 1, &s), EDDY_EBADHANDLE);
    assert_int_equal(eddy_notify_new(rt, &n), EDDY_EBADHANDLE);
    FINISH(f);
}

/* ---- condition ---- */

typedef struct {
    eddy_semaphore_t m;
    eddy_condition_t c;
    volatile int *items; /* guarded by the mutex */
    int phase, got, waits, misuse;
} cond_consumer_t;

static int cond_consumer_poll(void *st, eddy_cx_t *cx)
{
    cond_consumer_t *k = st;
    for (;;) {
        int rc;
        switch (k->phase) {
        case 0: /* lock */
            rc = eddy_semaphore_poll_acquire(k->m, cx);
            if (rc != EDDY_READY) return rc;
            k->phase = 1;
            break;
        case 1: /* holding the lock: take an item or wait */
            if (*k->items > 0) {
                (*k->items)--;
                k->got++;
                if ((rc = eddy_semaphore_release(k->m)) != 0) return rc;
                if (k->got == 3) return EDDY_READY;
                k->phase = 0;
                break;
            }
            k->phase = 2;
            /* fall through */
        case 2:
            rc = eddy_condition_poll_wait(k->c, k->m, cx);
            if (rc == EDDY_PENDING) return rc;
            if (rc != EDDY_READY) return rc;
            k->waits++;
            k->phase = 1; /* notified and holding the lock again */
            break;
        }
    }
}

typedef struct {
    eddy_semaphore_t m;
    eddy_condition_t c;
    volatile int *items;
} cond_producer_t;

static void *cond_producer(void *arg)
{
    cond_producer_t *p = arg;
    for (int i = 0; i < 3; i++) {
        usleep(3000);
        while (eddy_semaphore_try_acquire(p->m) == EDDY_EAGAIN) usleep(100);
        (*p->items)++;
        eddy_condition_notify_one(p->c);
        if (eddy_semaphore_release(p->m) != 0) return (void *)1;
    }
    return NULL;
}

static void test_condition_wait_notify_across_threads(void **state)
{
    fixture_t *f = *state;
    volatile int items = 0;
    eddy_semaphore_t m;
    eddy_condition_t c;
    assert_int_equal(eddy_semaphore_new(f->rt, 1, 1, &m), 0);
    assert_int_equal(eddy_condition_new(f->rt, &c), 0);
    cond_consumer_t k = {.items = &items};
    assert_int_equal(eddy_semaphore_clone(m, &k.m), 0);
    assert_int_equal(eddy_condition_clone(c, &k.c), 0);
    cond_producer_t p = {.m = m, .c = c, .items = &items};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, cond_producer, &p), 0);
    int st;
    assert_int_equal(eddy_block_on(f->rt, cond_consumer_poll, &k, NULL, &st), 0);
    void *r;
    assert_int_equal(pthread_join(th, &r), 0);
    assert_null(r);
    assert_int_equal(st, 0);
    assert_int_equal(k.got, 3);
    assert_true(k.waits >= 1); /* it did wait for the producer */
    assert_int_equal(eddy_semaphore_try_acquire(m), 0); /* released by the consumer */
    assert_int_equal(eddy_semaphore_release(m), 0);
    assert_int_equal(eddy_condition_free(k.c), 0);
    assert_int_equal(eddy_semaphore_free(k.m), 0);
    assert_int_equal(eddy_condition_free(c), 0);
    assert_int_equal(eddy_semaphore_free(m), 0);
    FINISH(f);
}

typedef struct {
    eddy_condition_t c;
    eddy_semaphore_t m, plain;
    int rc_unheld, rc_plain;
} cond_misuse_t;

static int cond_misuse_poll(void *st, eddy_cx_t *cx)
{
    cond_misuse_t *k = st;
    k->rc_unheld = eddy_condition_poll_wait(k->c, k->m, cx);    /* mutex not held */
    k->rc_plain = eddy_condition_poll_wait(k->c, k->plain, cx); /* not a mutex */
    return EDDY_READY;
}

static void test_condition_misuse(void **state)
{
    fixture_t *f = *state;
    cond_misuse_t k;
    assert_int_equal(eddy_condition_new(f->rt, &k.c), 0);
    assert_int_equal(eddy_semaphore_new(f->rt, 1, 1, &k.m), 0);
    assert_int_equal(eddy_semaphore_new(f->rt, 1, 0, &k.plain), 0);
    int st;
    assert_int_equal(eddy_block_on(f->rt, cond_misuse_poll, &k, NULL, &st), 0);
    assert_int_equal(k.rc_unheld, EDDY_EINVAL);
    assert_int_equal(k.rc_plain, EDDY_EINVAL);
    assert_int_equal(eddy_semaphore_try_acquire(k.m), 0); /* the failed wait left the mutex alone */
    assert_int_equal(eddy_semaphore_try_acquire(k.m), EDDY_EAGAIN);
    assert_int_equal(eddy_condition_poll_wait(k.c, k.m, NULL), EDDY_EINVAL);
    assert_int_equal(eddy_condition_notify_one(k.c), 0); /* nobody waits: nothing stored */
    assert_int_equal(eddy_condition_notify_all(k.c), 0);
    eddy_condition_t wrong = {k.m.id};
    assert_int_equal(eddy_condition_notify_one(wrong), EDDY_EBADHANDLE);
    assert_int_equal(eddy_condition_free(k.c), 0);
    assert_int_equal(eddy_condition_free(k.c), EDDY_EBADHANDLE);
    assert_int_equal(eddy_semaphore_free(k.m), 0);
    assert_int_equal(eddy_semaphore_free(k.plain), 0);
    FINISH(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_mutex_fifo_and_withdrawn_waiter, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_semaphore_bad_input_and_close, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_notify, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_pthread_releases_task_acquires, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_freed_runtime_frees_sync_handles, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_condition_wait_notify_across_threads, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_condition_misuse, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

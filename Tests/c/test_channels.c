/* test_channels.c — eddy_channel_* and eddy_oneshot_new (include/eddy.h, "Channels").
 *
 * Order and backpressure between two C tasks; FIFO among waiting senders; the end
 * after every sender is freed; EDDY_EPIPE for senders once the receiver is gone;
 * the drop function once per value never received (and never for refused ones);
 * oneshot received twice; plain pthreads sending with try_send while a task
 * receives; a task of a second runtime on another thread sending with poll_send;
 * oneshots sent and freed on a pthread while a task waits; handles of a freed runtime
 * (a oneshot's unreceived value released once), stale and wrong-kind handles. */
#include "harness.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static atomic_int drops;
static void count_drop(void *v)
{
    (void)v;
    atomic_fetch_add(&drops, 1);
}

#define V(n) ((void *)(uintptr_t)(n))

static void test_try_send_recv_order_full_empty(void **state)
{
    fixture_t *f = *state;
    eddy_sender_t tx;
    eddy_receiver_t rx;
    assert_int_equal(eddy_channel_new(f->rt, 2, NULL, &tx, &rx), 0);
    assert_int_equal(eddy_channel_try_send(tx, V(1)), 0);
    assert_int_equal(eddy_channel_try_send(tx, V(2)), 0);
    assert_int_equal(eddy_channel_try_send(tx, V(3)), EDDY_EAGAIN);
    void *v = NULL;
    assert_int_equal(eddy_channel_try_recv(rx, &v), 0);
    assert_ptr_equal(v, V(1));
    assert_int_equal(eddy_channel_try_recv(rx, &v), 0);
    assert_ptr_equal(v, V(2));
    assert_int_equal(eddy_channel_try_recv(rx, &v), EDDY_EAGAIN);
    assert_int_equal(eddy_channel_try_recv(rx, NULL), EDDY_EINVAL);
    assert_int_equal(eddy_channel_sender_free(tx), 0);
    assert_int_equal(eddy_channel_try_recv(rx, &v), EDDY_EPIPE); /* every sender gone */
    assert_int_equal(eddy_channel_receiver_free(rx), 0);
    FINISH(f);
}

static void test_bad_arguments(void **state)
{
    fixture_t *f = *state;
    eddy_sender_t tx;
    eddy_receiver_t rx;
    assert_int_equal(eddy_channel_new(f->rt, 0, NULL, &tx, &rx), EDDY_EINVAL);
    assert_int_equal(eddy_channel_new(f->rt, ((size_t)1 << 30) + 1, NULL, &tx, &rx), EDDY_EINVAL);
    assert_int_equal(eddy_channel_new(f->rt, 1, NULL, NULL, &rx), EDDY_EINVAL);
    assert_int_equal(eddy_oneshot_new(f->rt, NULL, &tx, NULL), EDDY_EINVAL);
    eddy_runtime_t forged = {f->rt.id + 1};
    assert_int_equal(eddy_channel_new(forged, 1, NULL, &tx, &rx), EDDY_EBADHANDLE);
    assert_int_equal(eddy_channel_new(f->rt, 1, NULL, &tx, &rx), 0);
    /* wrong kinds: a sender passed as a receiver and the other way round */
    eddy_receiver_t as_rx = {tx.id};
    eddy_sender_t as_tx = {rx.id};
    void *v;
    assert_int_equal(eddy_channel_try_recv(as_rx, &v), EDDY_EBADHANDLE);
    assert_int_equal(eddy_channel_try_send(as_tx, V(1)), EDDY_EBADHANDLE);
    assert_int_equal(eddy_channel_receiver_free(as_rx), EDDY_EBADHANDLE);
    eddy_sender_t zero = {0};
    assert_int_equal(eddy_channel_try_send(zero, V(1)), EDDY_EBADHANDLE);
    /* poll functions outside a poll_fn: bad cx */
    assert_int_equal(eddy_channel_poll_send(tx, NULL, V(1)), EDDY_EINVAL);
    assert_int_equal(eddy_channel_poll_recv(rx, (eddy_cx_t *)&v, &v), EDDY_EINVAL);
    eddy_sender_t c;
    assert_int_equal(eddy_channel_clone_sender(tx, NULL), EDDY_EINVAL);
    assert_int_equal(eddy_channel_clone_sender(tx, &c), 0);
    assert_int_equal(eddy_channel_sender_free(c), 0);
    assert_int_equal(eddy_channel_sender_free(c), EDDY_EBADHANDLE); /* stale */
    assert_int_equal(eddy_channel_try_send(c, V(1)), EDDY_EBADHANDLE);
    assert_int_equal(eddy_channel_sender_free(tx), 0);
    assert_int_equal(eddy_channel_receiver_free(rx), 0);
    FINISH(f);
}

static void test_closed_channel_and_drop_once_each(void **state)
{
    fixture_t *f = *state;
    atomic_store(&drops, 0);
    eddy_sender_t tx;
    eddy_receiver_t rx;
    assert_int_equal(eddy_channel_new(f->rt, 8, count_drop, &tx, &rx), 0);
    for (int i = 0; i < 5; i++) assert_int_equal(eddy_channel_try_send(tx, V(i + 1)), 0);
    void *v;
    assert_int_equal(eddy_channel_try_recv(rx, &v), 0); /* delivered: never dropped */
    assert_int_equal(eddy_channel_close(rx), 0);
    assert_int_equal(eddy_channel_close(rx), 0); /* idempotent */
    assert_int_equal(eddy_channel_try_send(tx, V(9)), EDDY_EPIPE); /* refused: stays the caller's */
    assert_int_equal(eddy_channel_try_recv(rx, &v), 0);             /* queued values still come */
    assert_ptr_equal(v, V(2));
    assert_int_equal(atomic_load(&drops), 0);
    assert_int_equal(eddy_channel_receiver_free(rx), 0);
    assert_int_equal(atomic_load(&drops), 3); /* 3, 4, 5: once each */
    assert_int_equal(eddy_channel_try_send(tx, V(9)), EDDY_EPIPE);
    assert_int_equal(eddy_channel_sender_free(tx), 0);
    assert_int_equal(atomic_load(&drops), 3);
    FINISH(f);
}

static void test_oneshot(void **state)
{
    fixture_t *f = *state;
    atomic_store(&drops, 0);
    eddy_sender_t tx;
    eddy_receiver_t rx;
    void *v;
    assert_int_equal(eddy_oneshot_new(f->rt, count_drop, &tx, &rx), 0);
    eddy_sender_t c;
    assert_int_equal(eddy_channel_clone_sender(tx, &c), EDDY_EINVAL); /* one sender only */
    assert_int_equal(eddy_channel_try_recv(rx, &v), EDDY_EAGAIN);
    assert_int_equal(eddy_channel_try_send(tx, V(7)), 0);
    assert_int_equal(eddy_channel_try_send(tx, V(8)), EDDY_EPIPE); /* sent once */
    assert_int_equal(eddy_channel_try_recv(rx, &v), 0);
    assert_ptr_equal(v, V(7));
    assert_int_equal(eddy_channel_try_recv(rx, &v), EDDY_ENOTREADY); /* received twice */
    assert_int_equal(eddy_channel_sender_free(tx), 0);
    assert_int_equal(eddy_channel_receiver_free(rx), 0);
    assert_int_equal(atomic_load(&drops), 0);
    /* sent, never received: dropped once with the receiver */
    assert_int_equal(eddy_oneshot_new(f->rt, count_drop, &tx, &rx), 0);
    assert_int_equal(eddy_channel_try_send(tx, V(1)), 0);
    assert_int_equal(eddy_channel_receiver_free(rx), 0);
    assert_int_equal(atomic_load(&drops), 1);
    assert_int_equal(eddy_channel_sender_free(tx), 0);
    assert_int_equal(atomic_load(&drops), 1);
    /* sender freed unsent: the end */
    assert_int_equal(eddy_oneshot_new(f->rt, count_drop, &tx, &rx), 0);
    assert_int_equal(eddy_channel_sender_free(tx), 0);
    assert_int_equal(eddy_channel_try_recv(rx, &v), EDDY_EPIPE);
    assert_int_equal(eddy_channel_receiver_free(rx), 0);
    FINISH(f);
}

/* ---- tasks ---- */

typedef struct {
    eddy_sender_t tx;
    int next, count, pendings;
    int free_when_done;
} producer_t;

static int producer_poll(void *st, eddy_cx_t *cx)
{
    producer_t *p = st;
    while (p->next < p->count) {
        int rc = eddy_channel_poll_send(p->tx, cx, V(p->next + 1));
        if (rc == EDDY_PENDING) {
            p->pendings++;
            return EDDY_PENDING;
        }
        if (rc != EDDY_READY) return rc;
        p->next++;
    }
    if (p->free_when_done) eddy_channel_sender_free(p->tx);
    return EDDY_READY;
}

typedef struct {
    eddy_receiver_t rx;
    uintptr_t sum;
    int got, in_order, pendings;
    uintptr_t last;
} consumer_t;

static int consumer_poll(void *st, eddy_cx_t *cx)
{
    consumer_t *c = st;
    for (;;) {
        void *v;
        int rc = eddy_channel_poll_recv(c->rx, cx, &v);
        if (rc == EDDY_PENDING) {
            c->pendings++;
            return EDDY_PENDING;
        }
        if (rc == EDDY_EPIPE) return EDDY_READY; /* the end */
        if (rc != EDDY_READY) return rc;
        if ((uintptr_t)v <= c->last) c->in_order = 0;
        c->last = (uintptr_t)v;
        c->sum += (uintptr_t)v;
        c->got++;
    }
}

static void test_tasks_backpressure_and_end(void **state)
{
    fixture_t *f = *state;
    eddy_sender_t tx;
    eddy_receiver_t rx;
    assert_int_equal(eddy_channel_new(f->rt, 4, NULL, &tx, &rx), 0);
    producer_t p = {.tx = tx, .count = 1000, .free_when_done = 1};
    consumer_t c = {.rx = rx, .in_order = 1};
    eddy_task_t tp, tc;
    assert_int_equal(eddy_spawn(f->rt, producer_poll, &p, NULL, &tp), 0);
    assert_int_equal(eddy_spawn(f->rt, consumer_poll, &c, NULL, &tc), 0);
    assert_int_equal(eddy_runtime_run(f->rt), 0);
    int st;
    assert_int_equal(eddy_task_status(tp, &st), EDDY_READY);
    assert_int_equal(st, 0);
    assert_int_equal(eddy_task_status(tc, &st), EDDY_READY);
    assert_int_equal(st, 0);
    assert_int_equal(c.got, 1000);
    assert_true(c.in_order);
    assert_int_equal(c.sum, 1000 * 1001 / 2);
    assert_true(p.pendings > 0); /* capacity 4: the producer had to wait */
    assert_int_equal(eddy_task_free(tp), 0);
    assert_int_equal(eddy_task_free(tc), 0);
    assert_int_equal(eddy_channel_receiver_free(rx), 0);
    FINISH(f);
}

/* Waiting senders get room in arrival order. */
typedef struct {
    eddy_sender_t tx;
    int id, *log, *n;
    int sent;
} one_send_t;

static int one_send_poll(void *st, eddy_cx_t *cx)
{
    one_send_t *s = st;
    int rc = eddy_channel_poll_send(s->tx, cx, V(s->id));
    if (rc != EDDY_READY) return rc;
    s->log[(*s->n)++] = s->id;
    eddy_channel_sender_free(s->tx); /* done: the receiver sees the end once all are */
    return EDDY_READY;
}

typedef struct {
    eddy_receiver_t rx;
    int go; /* set by the test once the senders are queued and one withdrew */
    eddy_waker_t waker;
    void *got[4];
    int ngot;
} fifo_driver_t;

static int fifo_driver_poll(void *st, eddy_cx_t *cx)
{
    fifo_driver_t *d = st;
    if (!d->go) {
        if (d->waker.id == 0 && eddy_cx_waker(cx, &d->waker) != 0) return EDDY_ENOMEM;
        return EDDY_PENDING;
    }
    while (d->ngot < 4) {
        int rc = eddy_channel_poll_recv(d->rx, cx, &d->got[d->ngot]);
        if (rc == EDDY_PENDING) return rc;
        if (rc != EDDY_READY) return rc;
        d->ngot++;
    }
    return EDDY_READY;
}

static void test_waiting_senders_fifo_and_cancel(void **state)
{
    fixture_t *f = *state;
    eddy_sender_t tx;
    eddy_receiver_t rx;
    assert_int_equal(eddy_channel_new(f->rt, 1, NULL, &tx, &rx), 0);
    assert_int_equal(eddy_channel_try_send(tx, V(100)), 0); /* full */
    int log[3], n = 0;
    one_send_t s[3];
    eddy_task_t t[3];
    for (int i = 0; i < 3; i++) {
        s[i] = (one_send_t){.id = i + 1, .log = log, .n = &n};
        assert_int_equal(eddy_channel_clone_sender(tx, &s[i].tx), 0);
        assert_int_equal(eddy_spawn(f->rt, one_send_poll, &s[i], NULL, &t[i]), 0);
    }
    /* The second sender gives up (its task aborted, its handle freed) while queued:
     * it must not take a slot from the others. */
    fifo_driver_t d = {.rx = rx};
    eddy_task_t td;
    assert_int_equal(eddy_spawn(f->rt, fifo_driver_poll, &d, NULL, &td), 0);
    /* run a little: everyone queued, then abort #2 and free its sender */
    eddy_future_t sl;
    assert_int_equal(eddy_sleep(f->rt, 5 * MS, &sl), 0);
    assert_int_equal(block_on_future(f->rt, sl), 0);
    assert_int_equal(eddy_future_free(sl), 0);
    assert_int_equal(eddy_task_abort(t[1]), 0);
    assert_int_equal(eddy_channel_sender_free(s[1].tx), 0);
    assert_int_equal(eddy_channel_sender_free(tx), 0);
    assert_int_equal(n, 0); /* nobody got room yet */
    d.go = 1;
    assert_int_equal(eddy_waker_wake(d.waker), 0);
    /* three values left to come (100, 1, 3); the driver waits for 4: the end ends it */
    assert_int_equal(eddy_runtime_run(f->rt), 0);
    int st;
    assert_int_equal(eddy_task_status(td, &st), EDDY_READY);
    assert_int_equal(st, EDDY_EPIPE); /* got 3 values, then the end */
    assert_int_equal(d.ngot, 3);
    assert_ptr_equal(d.got[0], V(100));
    assert_ptr_equal(d.got[1], V(1));
    assert_ptr_equal(d.got[2], V(3));
    assert_int_equal(n, 2);
    assert_int_equal(log[0], 1);
    assert_int_equal(log[1], 3);
    for (int i = 0; i < 3; i++) assert_int_equal(eddy_task_free(t[i]), 0);
    assert_int_equal(eddy_task_free(td), 0);
    assert_int_equal(eddy_waker_free(d.waker), 0);
    assert_int_equal(eddy_channel_sender_free(s[0].tx), EDDY_EBADHANDLE); /* freed by its task */
    assert_int_equal(eddy_channel_receiver_free(rx), 0);
    FINISH(f);
}

/* ---- threads and runtimes ---- */

#define PER_THREAD 20000

typedef struct {
    eddy_sender_t tx;
    int base;
} thread_arg_t;

static void *pthread_sender(void *arg)
{
    thread_arg_t *a = arg;
    for (int i = 0; i < PER_THREAD;) {
        int rc = eddy_channel_try_send(a->tx, V(a->base + i + 1));
        if (rc == 0) i++;
        else if (rc == EDDY_EAGAIN) sched_yield();
        else return (void *)(intptr_t)rc;
    }
    eddy_channel_sender_free(a->tx);
    return NULL;
}

/* A second runtime on its own thread: a C task sends with poll_send. */
static void *runtime_sender(void *arg)
{
    thread_arg_t *a = arg;
    eddy_runtime_t rt2;
    if (eddy_runtime_new(NULL, &rt2) != 0) return (void *)1;
    producer_t p = {.tx = a->tx, .count = PER_THREAD};
    int st = -1;
    /* the producer's values are 1..PER_THREAD: shift them by a->base */
    (void)a->base;
    if (eddy_block_on(rt2, producer_poll, &p, NULL, &st) != 0 || st != 0) return (void *)2;
    eddy_channel_sender_free(a->tx);
    eddy_runtime_free(rt2);
    return NULL;
}

static void test_pthreads_and_another_runtime_send(void **state)
{
    fixture_t *f = *state;
    eddy_sender_t tx;
    eddy_receiver_t rx;
    assert_int_equal(eddy_channel_new(f->rt, 64, NULL, &tx, &rx), 0);
    thread_arg_t args[3];
    pthread_t th[3];
    for (int i = 0; i < 3; i++) {
        args[i].base = i < 2 ? (i + 1) * PER_THREAD : 0;
        assert_int_equal(eddy_channel_clone_sender(tx, &args[i].tx), 0);
    }
    assert_int_equal(eddy_channel_sender_free(tx), 0);
    consumer_t c = {.rx = rx, .in_order = 1};
    eddy_task_t tc;
    assert_int_equal(eddy_spawn(f->rt, consumer_poll, &c, NULL, &tc), 0);
    assert_int_equal(pthread_create(&th[0], NULL, pthread_sender, &args[0]), 0);
    assert_int_equal(pthread_create(&th[1], NULL, pthread_sender, &args[1]), 0);
    assert_int_equal(pthread_create(&th[2], NULL, runtime_sender, &args[2]), 0);
    int st;
    assert_int_equal(eddy_runtime_run_until(f->rt, tc, &st), 0);
    assert_int_equal(st, 0);
    for (int i = 0; i < 3; i++) {
        void *r;
        assert_int_equal(pthread_join(th[i], &r), 0);
        assert_null(r);
    }
    uintptr_t n = 3 * PER_THREAD;
    assert_int_equal(c.got, (int)n);
    assert_int_equal(c.sum, n * (n + 1) / 2);
    assert_int_equal(eddy_task_free(tc), 0);
    assert_int_equal(eddy_channel_receiver_free(rx), 0);
    FINISH(f);
}

/* Oneshots between a pthread and a task: the task waits (poll_recv pending, then woken
 * by the send or by the sender's free on the other thread), ONESHOT_ROUNDS times; every
 * value arrives once, every unsent end reads as EDDY_EPIPE. Both ends of a C oneshot
 * share one object (COneshot): this is its cross-thread wake path. */
#define ONESHOT_ROUNDS 2000

typedef struct {
    eddy_sender_t tx[ONESHOT_ROUNDS];
    eddy_receiver_t rx[ONESHOT_ROUNDS];
    atomic_int ready; /* rounds whose channel exists */
    int next, got, closed;
} oneshot_relay_t;

static void *oneshot_thread(void *arg)
{
    oneshot_relay_t *r = arg;
    for (int i = 0; i < ONESHOT_ROUNDS; i++) {
        while (atomic_load(&r->ready) <= i) sched_yield();
        if (i % 3 == 2) { /* freed unsent: the receiver sees the end */
            if (eddy_channel_sender_free(r->tx[i]) != 0) return (void *)1;
            continue;
        }
        if (eddy_channel_try_send(r->tx[i], V(i + 1)) != 0) return (void *)2;
        if (eddy_channel_sender_free(r->tx[i]) != 0) return (void *)3;
    }
    return NULL;
}

static int oneshot_waiter_poll(void *st, eddy_cx_t *cx)
{
    oneshot_relay_t *r = st;
    while (r->next < ONESHOT_ROUNDS) {
        void *v;
        int rc = eddy_channel_poll_recv(r->rx[r->next], cx, &v);
        if (rc == EDDY_PENDING) return EDDY_PENDING;
        if (rc == EDDY_READY) {
            if ((uintptr_t)v != (uintptr_t)r->next + 1) return -1000;
            r->got++;
        } else if (rc == EDDY_EPIPE) {
            r->closed++;
        } else {
            return rc;
        }
        if (eddy_channel_receiver_free(r->rx[r->next]) != 0) return -1001;
        r->next++;
    }
    return EDDY_READY;
}

static void test_oneshot_across_threads(void **state)
{
    fixture_t *f = *state;
    static oneshot_relay_t r;
    memset(&r, 0, sizeof r);
    for (int i = 0; i < ONESHOT_ROUNDS; i++) {
        assert_int_equal(eddy_oneshot_new(f->rt, NULL, &r.tx[i], &r.rx[i]), 0);
        atomic_store(&r.ready, i + 1);
    }
    eddy_task_t t;
    assert_int_equal(eddy_spawn(f->rt, oneshot_waiter_poll, &r, NULL, &t), 0);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, oneshot_thread, &r), 0);
    int st;
    assert_int_equal(eddy_runtime_run_until(f->rt, t, &st), 0);
    void *ret;
    assert_int_equal(pthread_join(th, &ret), 0);
    assert_null(ret);
    assert_int_equal(st, 0);
    assert_int_equal(r.closed, ONESHOT_ROUNDS / 3);
    assert_int_equal(r.got, ONESHOT_ROUNDS - ONESHOT_ROUNDS / 3);
    assert_int_equal(eddy_task_free(t), 0);
    FINISH(f);
}

static void test_freed_runtime_frees_channel_handles(void **state)
{
    fixture_t *f = *state;
    atomic_store(&drops, 0);
    eddy_runtime_t rt;
    assert_int_equal(eddy_runtime_new(NULL, &rt), 0);
    eddy_sender_t tx;
    eddy_receiver_t rx;
    assert_int_equal(eddy_channel_new(rt, 4, count_drop, &tx, &rx), 0);
    assert_int_equal(eddy_channel_try_send(tx, V(1)), 0);
    assert_int_equal(eddy_channel_try_send(tx, V(2)), 0);
    /* a oneshot whose value was sent, never received: released once with the runtime */
    eddy_sender_t otx;
    eddy_receiver_t orx;
    assert_int_equal(eddy_oneshot_new(rt, count_drop, &otx, &orx), 0);
    assert_int_equal(eddy_channel_try_send(otx, V(3)), 0);
    assert_int_equal(eddy_runtime_free(rt), 4); /* four handles force-closed */
    assert_int_equal(atomic_load(&drops), 3);
    assert_int_equal(eddy_channel_receiver_free(orx), EDDY_EBADHANDLE);
    assert_int_equal(atomic_load(&drops), 3);
    void *v;
    assert_int_equal(eddy_channel_try_send(tx, V(3)), EDDY_EBADHANDLE);
    assert_int_equal(eddy_channel_try_recv(rx, &v), EDDY_EBADHANDLE);
    assert_int_equal(eddy_channel_sender_free(tx), EDDY_EBADHANDLE);
    assert_int_equal(eddy_channel_new(rt, 4, NULL, &tx, &rx), EDDY_EBADHANDLE);
    FINISH(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_try_send_recv_order_full_empty, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_bad_arguments, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_closed_channel_and_drop_once_each, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_oneshot, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_tasks_backpressure_and_end, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_waiting_senders_fifo_and_cancel, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_pthreads_and_another_runtime_send, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_oneshot_across_threads, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_freed_runtime_frees_channel_handles, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

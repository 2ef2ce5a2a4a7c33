/* test_workers.c — the multi-thread runtime through the C ABI (issue 14):
 * eddy_config_t.workers, eddy_spawn_on, handles made on a worker belong to that
 * worker's thread (the handle table's thread-local fast lookups stay exact), TCP and
 * sleeps on every worker, cross-worker wake storms (each task completes and drops
 * exactly once), per-worker metrics, fork. Also built against the TSan libeddy
 * (mk/sanitized-lib.mk: SANLIB_TSAN_SUITES). */
#include "harness.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

enum { WORKERS = 3 };

static eddy_runtime_t new_runtime(uint32_t workers)
{
    eddy_config_t c;
    assert_int_equal(eddy_config_init(&c), 0);
    c.workers = workers;
    eddy_runtime_t rt;
    assert_int_equal(eddy_runtime_new(&c, &rt), 0);
    return rt;
}

/* Joins every task in `ts` (a poll_fn run by eddy_block_on on worker 0). */
typedef struct {
    eddy_task_t *ts;
    int n;
    int next;
    int statuses[64];
} joiner_t;

static int joiner_poll(void *state, eddy_cx_t *cx)
{
    joiner_t *j = state;
    while (j->next < j->n) {
        int st = 0;
        int r = eddy_task_poll_join(j->ts[j->next], cx, &st);
        if (r != EDDY_READY) {
            return r;
        }
        j->statuses[j->next++] = st;
    }
    return EDDY_READY;
}

static void join_all(eddy_runtime_t rt, eddy_task_t *ts, int n, joiner_t *j)
{
    memset(j, 0, sizeof *j);
    j->ts = ts;
    j->n = n;
    int st = -1;
    assert_int_equal(eddy_block_on(rt, joiner_poll, j, NULL, &st), 0);
    assert_int_equal(st, 0);
}

static void test_config_and_counts(void **state)
{
    (void)state;
    eddy_runtime_t rt = new_runtime(WORKERS);
    uint32_t n = 0;
    assert_int_equal(eddy_runtime_workers(rt, &n), 0);
    assert_int_equal(n, WORKERS);
    assert_int_equal(eddy_runtime_workers(rt, NULL), EDDY_EINVAL);
    eddy_task_t t;
    assert_int_equal(eddy_spawn_on(rt, WORKERS, probe_poll, NULL, NULL, &t), EDDY_EINVAL);
    eddy_runtime_metrics_t m = { .struct_size = sizeof m };
    assert_int_equal(eddy_runtime_worker_metrics(rt, WORKERS, &m), EDDY_EINVAL);
    assert_int_equal(eddy_runtime_free(rt), 0);

    eddy_config_t c;
    eddy_config_init(&c);
    c.workers = 1025;
    assert_int_equal(eddy_runtime_new(&c, &rt), EDDY_EINVAL);
    /* A caller of the header before `workers`: accepted (workers from EDDY_WORKERS, else 1). */
    c.struct_size = (uint32_t)offsetof(eddy_config_t, workers);
    assert_int_equal(eddy_runtime_new(&c, &rt), 0);
    assert_int_equal(eddy_runtime_workers(rt, &n), 0);
    const char *env = getenv("EDDY_WORKERS");
    assert_int_equal(n, env != NULL && *env != 0 ? (uint32_t)atoi(env) : 1u);
    assert_int_equal(eddy_runtime_free(rt), 0);
}

/* ---- every worker: a sleep, then a TCP round trip, all handles made on the worker ---- */

typedef struct {
    int phase;
    pthread_t thread;       /* the worker's thread, seen by every poll */
    int same_thread;        /* 1 while every poll ran on `thread` */
    eddy_future_t sleep, conn;
    eddy_tcp_t listener, server, client;
    eddy_tcp_t foreign;     /* a handle of another worker: must be refused here */
    int foreign_rc;
    char buf[8];
    int drops;
} io_task_t;

static int io_poll(void *state, eddy_cx_t *cx)
{
    io_task_t *t = state;
    eddy_runtime_t rt;
    int r = eddy_cx_runtime(cx, &rt);
    if (r < 0) {
        return r;
    }
    if (t->phase == 0) {
        t->thread = pthread_self();
        t->same_thread = 1;
        if ((r = eddy_sleep(rt, 5 * MS, &t->sleep)) < 0) {
            return r;
        }
        t->phase = 1;
    }
    if (!pthread_equal(t->thread, pthread_self())) {
        t->same_thread = 0;
    }
    if (t->phase == 1) {
        r = eddy_future_poll(t->sleep, cx);
        if (r != EDDY_READY) {
            return r;
        }
        eddy_future_free(t->sleep);
        uint16_t port = 0;
        if ((r = eddy_tcp_listen(rt, "127.0.0.1", 0, 16, &t->listener)) < 0 ||
            (r = eddy_tcp_local_port(t->listener, &port)) < 0 ||
            (r = eddy_tcp_connect(rt, "127.0.0.1", port, &t->conn)) < 0) {
            return r;
        }
        t->phase = 2;
    }
    if (t->phase == 2) {
        if (t->server.id == 0) {
            r = eddy_tcp_poll_accept(t->listener, cx, &t->server);
            if (r < 0) {
                return r;
            }
        }
        if (t->client.id == 0) {
            r = eddy_future_poll(t->conn, cx);
            if (r < 0) {
                return r;
            }
            if (r == EDDY_READY) {
                if ((r = eddy_future_take_tcp(t->conn, &t->client)) < 0) {
                    return r;
                }
                eddy_future_free(t->conn);
            }
        }
        if (t->server.id == 0 || t->client.id == 0) {
            return EDDY_PENDING;
        }
        size_t n = 0;
        if ((r = eddy_tcp_poll_write(t->client, cx, "ping", 4, &n)) < 0) {
            return r;
        }
        t->phase = 3;
    }
    if (t->phase == 3) {
        size_t n = 0;
        r = eddy_tcp_poll_read(t->server, cx, t->buf, 4, &n);
        if (r != EDDY_READY) {
            return r;
        }
        if (t->foreign.id != 0) {
            uint16_t p;
            t->foreign_rc = eddy_tcp_local_port(t->foreign, &p);
        }
        eddy_tcp_close(t->server);
        eddy_tcp_close(t->client);
        eddy_tcp_close(t->listener);
        t->phase = 4;
        return n == 4 && memcmp(t->buf, "ping", 4) == 0 ? EDDY_READY : EDDY_EINVAL;
    }
    return EDDY_EINVAL;
}

static void io_drop(void *state) { ((io_task_t *)state)->drops++; }

static void test_io_and_timers_on_every_worker(void **state)
{
    (void)state;
    int fds = count_fds();
    eddy_runtime_t rt = new_runtime(WORKERS);
    static io_task_t ts[WORKERS];
    eddy_task_t hs[WORKERS];
    memset(ts, 0, sizeof ts);
    for (int w = 0; w < WORKERS; w++) {
        assert_int_equal(eddy_spawn_on(rt, (uint32_t)w, io_poll, &ts[w], io_drop, &hs[w]), 0);
    }
    joiner_t j;
    join_all(rt, hs, WORKERS, &j);
    for (int w = 0; w < WORKERS; w++) {
        assert_int_equal(j.statuses[w], 0);
        assert_int_equal(ts[w].same_thread, 1);
        assert_int_equal(ts[w].drops, 1);
        assert_int_equal(eddy_task_free(hs[w]), 0);
    }
    /* Three different threads; worker 0 is this one (it ran inside eddy_block_on). */
    assert_true(pthread_equal(ts[0].thread, pthread_self()));
    assert_false(pthread_equal(ts[1].thread, ts[2].thread));
    assert_false(pthread_equal(ts[1].thread, pthread_self()));
    /* Per-worker metrics: every worker polled. */
    for (uint32_t w = 0; w < WORKERS; w++) {
        eddy_runtime_metrics_t m = { .struct_size = sizeof m };
        assert_int_equal(eddy_runtime_worker_metrics(rt, w, &m), 0);
        assert_true(m.polls > 0);
    }
    assert_int_equal(eddy_runtime_free(rt), 0);
    assert_int_equal(count_fds(), fds);
}

/* A handle belongs to the worker that made it: another worker, and the owning
 * thread, get EDDY_EWRONGTHREAD (the lookup compares the slot's thread, which is why
 * it needs no lock: only that thread frees the handle). */
typedef struct {
    eddy_tcp_t made;
    int phase;
} maker_t;

static int maker_poll(void *state, eddy_cx_t *cx)
{
    maker_t *m = state;
    eddy_runtime_t rt;
    int r = eddy_cx_runtime(cx, &rt);
    if (r == 0) {
        r = eddy_tcp_listen(rt, "127.0.0.1", 0, 16, &m->made);
    }
    return r;
}

typedef struct {
    eddy_tcp_t target;
    int rc;
} user_t;

static int user_poll(void *state, eddy_cx_t *cx)
{
    (void)cx;
    user_t *u = state;
    uint16_t p;
    u->rc = eddy_tcp_local_port(u->target, &p);
    return EDDY_READY;
}

static void test_handles_belong_to_their_worker(void **state)
{
    (void)state;
    eddy_runtime_t rt = new_runtime(WORKERS);
    maker_t m = { 0 };
    eddy_task_t h[2];
    assert_int_equal(eddy_spawn_on(rt, 1, maker_poll, &m, NULL, &h[0]), 0);
    joiner_t j;
    join_all(rt, h, 1, &j);
    assert_int_equal(j.statuses[0], 0);
    assert_int_equal(eddy_task_free(h[0]), 0);
    uint16_t p;
    assert_int_equal(eddy_tcp_local_port(m.made, &p), EDDY_EWRONGTHREAD);  /* owning thread */
    user_t other = { .target = m.made, .rc = 1 }, same = { .target = m.made, .rc = 1 };
    assert_int_equal(eddy_spawn_on(rt, 2, user_poll, &other, NULL, &h[0]), 0);
    assert_int_equal(eddy_spawn_on(rt, 1, user_poll, &same, NULL, &h[1]), 0);
    join_all(rt, h, 2, &j);
    assert_int_equal(other.rc, EDDY_EWRONGTHREAD);
    assert_int_equal(same.rc, 0);
    eddy_task_free(h[0]);
    eddy_task_free(h[1]);
    /* Freed with the runtime (on the owning thread, after the workers stopped). */
    assert_int_equal(eddy_runtime_free(rt), 1);
}

/* ---- cross-worker wake storm: each task completes once, drops once ---- */

enum { STORM_TASKS = 60, STORM_POLLS = 20 };

typedef struct {
    atomic_int in_poll, overlaps, polls, completions, drops;
    _Atomic uint64_t waker; /* eddy_waker_t id, 0 until the first poll */
} storm_task_t;

static storm_task_t storm[STORM_TASKS];
static atomic_int storm_done;

static void wake_task(int i)
{
    uint64_t w = atomic_load(&storm[i].waker);
    if (w != 0) {
        eddy_waker_wake((eddy_waker_t){ w });
    }
}

static int storm_poll(void *state, eddy_cx_t *cx)
{
    storm_task_t *t = state;
    int i = (int)(t - storm);
    if (atomic_exchange(&t->in_poll, 1) != 0) {
        atomic_fetch_add(&t->overlaps, 1);
    }
    int polls = atomic_fetch_add(&t->polls, 1) + 1;
    if (atomic_load(&t->waker) == 0) {
        eddy_waker_t w;
        if (eddy_cx_waker(cx, &w) == 0) {
            atomic_store(&t->waker, w.id);
        }
    }
    wake_task((i * 7 + polls) % STORM_TASKS); /* most likely a task of another worker */
    atomic_store(&t->in_poll, 0);
    if (polls < STORM_POLLS) {
        return EDDY_PENDING;
    }
    atomic_fetch_add(&t->completions, 1);
    atomic_fetch_add(&storm_done, 1);
    return EDDY_READY;
}

static void storm_drop(void *state) { atomic_fetch_add(&((storm_task_t *)state)->drops, 1); }

static void *stormer(void *arg)
{
    (void)arg;
    while (atomic_load(&storm_done) < STORM_TASKS) {
        for (int i = 0; i < STORM_TASKS; i++) {
            wake_task(i);
        }
        sched_yield();
    }
    return NULL;
}

static void test_cross_worker_wake_storm(void **state)
{
    (void)state;
    eddy_runtime_t rt = new_runtime(WORKERS);
    memset(storm, 0, sizeof storm);
    atomic_store(&storm_done, 0);
    static eddy_task_t hs[STORM_TASKS];
    for (int i = 0; i < STORM_TASKS; i++) {
        assert_int_equal(eddy_spawn_on(rt, (uint32_t)(i % WORKERS), storm_poll, &storm[i], storm_drop, &hs[i]), 0);
    }
    pthread_t th[2];
    for (int k = 0; k < 2; k++) {
        assert_int_equal(pthread_create(&th[k], NULL, stormer, NULL), 0);
    }
    for (int i = 0; i < STORM_TASKS; i += 60) {
        joiner_t j;
        join_all(rt, hs + i, STORM_TASKS - i < 60 ? STORM_TASKS - i : 60, &j);
    }
    for (int k = 0; k < 2; k++) {
        pthread_join(th[k], NULL);
    }
    for (int i = 0; i < STORM_TASKS; i++) {
        assert_int_equal(atomic_load(&storm[i].overlaps), 0);
        assert_int_equal(atomic_load(&storm[i].completions), 1);
        assert_int_equal(atomic_load(&storm[i].drops), 1);
        assert_int_equal(atomic_load(&storm[i].polls) >= STORM_POLLS, 1);
        assert_int_equal(eddy_waker_free((eddy_waker_t){ atomic_load(&storm[i].waker) }), 0);
        assert_int_equal(eddy_task_free(hs[i]), 0);
    }
    assert_int_equal(eddy_runtime_free(rt), 0);
}

/* ---- a spawn from a worker stays there; graceful shutdown over every worker ---- */

typedef struct {
    pthread_t parent, child;
    eddy_task_t inner;
    int phase;
} spawner_t;

static int child_poll(void *state, eddy_cx_t *cx)
{
    (void)cx;
    ((spawner_t *)state)->child = pthread_self();
    return EDDY_READY;
}

static int spawner_poll(void *state, eddy_cx_t *cx)
{
    spawner_t *s = state;
    if (s->phase == 0) {
        s->parent = pthread_self();
        eddy_runtime_t rt;
        int r = eddy_cx_runtime(cx, &rt);
        if (r == 0) {
            r = eddy_spawn(rt, child_poll, s, NULL, &s->inner);
        }
        if (r < 0) {
            return r;
        }
        s->phase = 1;
    }
    int st;
    int r = eddy_task_poll_join(s->inner, cx, &st);  /* the handle is this worker's */
    if (r != EDDY_READY) {
        return r;
    }
    eddy_task_free(s->inner);
    return st;
}

static int forever_poll(void *state, eddy_cx_t *cx)
{
    (void)state;
    (void)cx;
    return EDDY_PENDING;
}

static void test_spawn_from_worker_and_shutdown(void **state)
{
    (void)state;
    eddy_runtime_t rt = new_runtime(WORKERS);
    spawner_t s = { 0 };
    eddy_task_t h[1];
    assert_int_equal(eddy_spawn_on(rt, 2, spawner_poll, &s, NULL, &h[0]), 0);
    joiner_t j;
    join_all(rt, h, 1, &j);
    assert_int_equal(j.statuses[0], 0);
    assert_true(pthread_equal(s.parent, s.child));
    assert_false(pthread_equal(s.parent, pthread_self()));
    eddy_task_free(h[0]);
    /* One never-ending task per worker: a graceful shutdown aborts all of them. */
    for (uint32_t w = 0; w < WORKERS; w++) {
        eddy_task_t t;
        assert_int_equal(eddy_spawn_on(rt, w, forever_poll, NULL, NULL, &t), 0);
        eddy_task_free(t);
    }
    eddy_shutdown_report_t r = { .struct_size = sizeof r };
    assert_int_equal(eddy_runtime_shutdown(rt, 20 * MS, &r), 0);
    assert_int_equal(r.tasks_aborted, WORKERS);
    eddy_task_t late;
    assert_int_equal(eddy_spawn_on(rt, 1, forever_poll, NULL, NULL, &late), EDDY_ESHUTDOWN);
    assert_int_equal(eddy_runtime_free(rt), 0);
}

/* eddy_runtime_shutdown from a task on another worker: begins the shutdown of every
 * worker and returns EDDY_PENDING at once (it must not wait for a drain that its own
 * worker has to run); the owner's next call finishes it. */
enum { NOT_YET = 12345 }; /* not a return code (EDDY_PENDING is 1) */

typedef struct {
    uint64_t took_ns;
    atomic_int rc; /* stored last (it publishes took_ns); NOT_YET before */
} stopper_t;

static int stopper_poll(void *state, eddy_cx_t *cx)
{
    stopper_t *s = state;
    eddy_runtime_t rt;
    int r = eddy_cx_runtime(cx, &rt);
    if (r < 0) {
        return r;
    }
    uint64_t t0 = now_ns();
    int rc = eddy_runtime_shutdown(rt, 30 * MS, NULL);
    s->took_ns = now_ns() - t0;
    atomic_store(&s->rc, rc);
    return EDDY_READY;
}

static void test_shutdown_from_a_worker_task(void **state)
{
    (void)state;
    eddy_runtime_t rt = new_runtime(WORKERS);
    for (uint32_t w = 0; w < WORKERS; w++) {
        eddy_task_t t;
        assert_int_equal(eddy_spawn_on(rt, w, forever_poll, NULL, NULL, &t), 0);
        eddy_task_free(t);
    }
    stopper_t s;
    s.took_ns = 0;
    atomic_init(&s.rc, NOT_YET);
    eddy_task_t st;
    assert_int_equal(eddy_spawn_on(rt, 2, stopper_poll, &s, NULL, &st), 0);
    eddy_task_free(st);
    /* This thread drives worker 0 meanwhile: the drain aborts what it waits for. */
    int status = 0;
    int brc = eddy_block_on(rt, forever_poll, NULL, NULL, &status);
    assert_true(brc == EDDY_ESHUTDOWN || (brc == 0 && status == EDDY_ECANCELED));
    while (atomic_load(&s.rc) == NOT_YET) {
        sleep_ms(1);
    }
    assert_int_equal(atomic_load(&s.rc), EDDY_PENDING);
    /* Not the 1 s it waited when it waited for every worker, its own included. */
    assert_true(s.took_ns < 300 * MS * slow_factor());
    eddy_shutdown_report_t r = { .struct_size = sizeof r };
    assert_int_equal(eddy_runtime_shutdown(rt, 30 * MS, &r), 0);
    assert_true(r.tasks_aborted >= WORKERS);
    assert_int_equal(eddy_runtime_free(rt), 0);
}

/* ---- fork: EDDY_EFORKED in the child, the parent's workers keep working ---- */

static void test_fork_with_workers(void **state)
{
    (void)state;
    eddy_runtime_t rt = new_runtime(WORKERS);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        alarm(10);
        eddy_task_t t;
        uint32_t n;
        int bad = eddy_spawn_on(rt, 1, forever_poll, NULL, NULL, &t) != EDDY_EFORKED ||
                  eddy_runtime_workers(rt, &n) != EDDY_EFORKED || eddy_runtime_free(rt) != EDDY_EFORKED;
        _exit(bad);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    static io_task_t ts[WORKERS];
    memset(ts, 0, sizeof ts);
    eddy_task_t hs[WORKERS];
    for (int w = 0; w < WORKERS; w++) {
        assert_int_equal(eddy_spawn_on(rt, (uint32_t)w, io_poll, &ts[w], io_drop, &hs[w]), 0);
    }
    joiner_t j;
    join_all(rt, hs, WORKERS, &j);
    for (int w = 0; w < WORKERS; w++) {
        assert_int_equal(j.statuses[w], 0);
        eddy_task_free(hs[w]);
    }
    assert_int_equal(eddy_runtime_free(rt), 0);
}

/* ---- inject queue (steal-14): eddy_spawn from a thread that is no worker, while
 * worker 0 runs, goes to the first idle worker (unparked for it) ---- */

enum { INJ_TASKS = 48, INJ_ROUNDS = 2000 };

static struct {
    eddy_runtime_t rt;
    _Atomic long done;      /* spin tasks finished */
    _Atomic long ran;       /* trivial tasks run (the unpark rounds) */
    _Atomic long lost;      /* a round whose task did not run within 10 s */
    _Atomic long errors;    /* eddy_spawn failures on the outside thread */
    _Atomic int finished;   /* the outside thread is done */
    _Atomic uint64_t root_waker;
    pthread_t ran_on[INJ_TASKS];
} inj;

static long inj_now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000L + t.tv_nsec;
}

static int inj_spin_poll(void *state, eddy_cx_t *cx)
{
    (void)cx;
    *(pthread_t *)state = pthread_self();
    long end = inj_now_ns() + 2000000L; /* 2 ms of CPU: the other workers must help */
    while (inj_now_ns() < end) {
    }
    atomic_fetch_add(&inj.done, 1);
    return EDDY_READY;
}

static int inj_count_poll(void *state, eddy_cx_t *cx)
{
    (void)state;
    (void)cx;
    atomic_fetch_add(&inj.ran, 1);
    return EDDY_READY;
}

/* Waits (bounded, 10 s) until *v >= target. */
static int inj_wait(_Atomic long *v, long target)
{
    long end = inj_now_ns() + 10000000000L;
    while (atomic_load(v) < target) {
        if (inj_now_ns() > end) {
            return 0;
        }
        usleep(100);
    }
    return 1;
}

static void *inj_outside(void *arg)
{
    (void)arg;
    for (int i = 0; i < INJ_TASKS; i++) {
        if (eddy_spawn(inj.rt, inj_spin_poll, &inj.ran_on[i], NULL, NULL) != 0) {
            atomic_fetch_add(&inj.errors, 1);
        }
    }
    if (!inj_wait(&inj.done, INJ_TASKS)) {
        atomic_fetch_add(&inj.lost, 1);
    }
    /* Every worker idle now: each spawn must unpark one (a lost unpark stalls a round). */
    for (long i = 0; i < INJ_ROUNDS; i++) {
        if (eddy_spawn(inj.rt, inj_count_poll, NULL, NULL, NULL) != 0) {
            atomic_fetch_add(&inj.errors, 1);
        }
        if (!inj_wait(&inj.ran, i + 1)) {
            atomic_fetch_add(&inj.lost, 1);
            break;
        }
        if (i % 7 == 0) {
            usleep(50); /* let the workers park again */
        }
    }
    atomic_store(&inj.finished, 1);
    eddy_waker_wake((eddy_waker_t){ atomic_load(&inj.root_waker) });
    return NULL;
}

static int inj_root(void *state, eddy_cx_t *cx)
{
    pthread_t *th = state;
    if (!atomic_load(&inj.root_waker)) {
        eddy_waker_t w;
        int r = eddy_cx_waker(cx, &w);
        if (r < 0) {
            return r;
        }
        atomic_store(&inj.root_waker, w.id);
        if (pthread_create(th, NULL, inj_outside, NULL) != 0) {
            return EDDY_EINVAL;
        }
    }
    return atomic_load(&inj.finished) ? EDDY_READY : EDDY_PENDING;
}

static void test_outside_spawns_spread_over_workers(void **state)
{
    (void)state;
    memset(&inj, 0, sizeof inj);
    inj.rt = new_runtime(WORKERS);
    pthread_t th;
    int st = -1;
    assert_int_equal(eddy_block_on(inj.rt, inj_root, &th, NULL, &st), 0);
    assert_int_equal(st, 0);
    pthread_join(th, NULL);
    assert_int_equal(atomic_load(&inj.errors), 0);
    assert_int_equal(atomic_load(&inj.lost), 0);
    assert_int_equal(atomic_load(&inj.done), INJ_TASKS);
    assert_int_equal(atomic_load(&inj.ran), INJ_ROUNDS);
    int distinct = 0;
    for (int i = 0; i < INJ_TASKS; i++) {
        int seen = 0;
        for (int k = 0; k < i && !seen; k++) {
            seen = pthread_equal(inj.ran_on[i], inj.ran_on[k]);
        }
        distinct += !seen;
    }
    assert_true(distinct >= 2); /* the batch was shared by several workers */
    assert_int_equal(eddy_waker_free((eddy_waker_t){ atomic_load(&inj.root_waker) }), 0);
    assert_int_equal(eddy_runtime_free(inj.rt), 0);
}
/* ---- end inject queue ---- */

#define T(fn) cmocka_unit_test(fn)

int main(void)
{
    alarm(TEST_ALARM_SECONDS * 4 * slow_factor());
    const struct CMUnitTest tests[] = {
        T(test_config_and_counts),
        T(test_io_and_timers_on_every_worker),
        T(test_handles_belong_to_their_worker),
        T(test_cross_worker_wake_storm),
        T(test_spawn_from_worker_and_shutdown),
        T(test_shutdown_from_a_worker_task),
        T(test_fork_with_workers),
        T(test_outside_spawns_spread_over_workers),
    };
    return cmocka_run_group_tests_name("workers", tests, NULL, NULL);
}

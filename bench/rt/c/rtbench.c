/* tokio's runtime benchmarks and the issue-16 channel benchmarks on Eddy's C front door
 * (libeddy.so + include/eddy.h). Same workloads as bench/rt/tokio and bench/rt/swift
 * (bench/rt/README.md describes each one).
 *
 *   eddy-rtbench-c BENCH [--workers N] [--iters R] [--quick]
 *
 * Prints `RESULT <bench> <ns per op> <ops per iteration> <iterations>` (median of R
 * iterations after one warm-up). Every iteration checks its completion count and exits
 * 1 when it is wrong; --quick (the smoke run of `make test`) divides every count by 100
 * and runs one iteration. Exit 3: the asked worker count is not available in this
 * libeddy. Task state shared between tasks is atomic so the same code is correct on a
 * multi-thread runtime. */
#define _GNU_SOURCE
#include <eddy.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CHECK(x) do { int rc_ = (x); if (rc_ < 0) { fprintf(stderr, "%s:%d %s: %s\n", __FILE__, __LINE__, #x, eddy_strerror(rc_)); exit(1); } } while (0)
#define EXPECT(cond, ...) do { if (!(cond)) { fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); exit(1); } } while (0)

static int g_quick, g_iters_opt;
static eddy_runtime_t g_rt;

/* A count, divided by 100 for the smoke run. */
static long count_of(long full) { return g_quick ? (full / 100 > 2 ? full / 100 : 2) : full; }
static int iters_of(int dflt) { return g_quick ? 1 : g_iters_opt > 0 ? g_iters_opt : dflt; }

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* One warm-up run of body, then `iters` timed ones; prints the median per op. */
static void measure(const char *name, int iters, long ops, void (*body)(void)) {
    double *v = calloc((size_t)iters, sizeof *v);
    body();
    for (int i = 0; i < iters; i++) {
        double t0 = now_s();
        body();
        v[i] = now_s() - t0;
    }
    qsort(v, (size_t)iters, sizeof *v, cmp_d);
    printf("RESULT %s %.1f %ld %d\n", name, v[iters / 2] * 1e9 / (double)ops, ops, iters);
    free(v);
}

static void block_on(eddy_poll_fn poll, void *state) {
    int status;
    CHECK(eddy_block_on(g_rt, poll, state, NULL, &status));
    CHECK(status);
}

/* ---- countdown: the task that brings it to zero wakes the root ----
 * The root publishes its waker, then re-reads the count; the last tick decrements, then
 * reads the waker: one of the two sees the other (sequentially consistent atomics). */
struct countdown { _Atomic long rem; _Atomic uint64_t waker; };
static struct countdown g_cd;

static void cd_arm(long n) {
    atomic_store(&g_cd.rem, n);
    atomic_store(&g_cd.waker, 0);
}

static void cd_tick(void) {
    if (atomic_fetch_sub(&g_cd.rem, 1) == 1) {
        uint64_t w = atomic_load(&g_cd.waker);
        /* The root may have finished and freed it meanwhile: EDDY_EBADHANDLE, harmless. */
        if (w) (void)eddy_waker_wake((eddy_waker_t){ w });
    }
}

static int cd_poll(eddy_cx_t *cx) {
    if (!atomic_load(&g_cd.waker)) {
        eddy_waker_t w;
        CHECK(eddy_cx_waker(cx, &w));
        atomic_store(&g_cd.waker, w.id);
    }
    return atomic_load(&g_cd.rem) == 0 ? EDDY_READY : EDDY_PENDING;
}

/* After block_on: frees the root's waker. */
static void cd_finish(void) {
    uint64_t w = atomic_exchange(&g_cd.waker, 0);
    if (w) CHECK(eddy_waker_free((eddy_waker_t){ w }));
    EXPECT(atomic_load(&g_cd.rem) == 0, "countdown: %ld left", atomic_load(&g_cd.rem));
}

/* No handle (out == NULL), as tokio's benchmarks drop their JoinHandles. */
static void spawn_detached(eddy_poll_fn poll, void *state) {
    CHECK(eddy_spawn(g_rt, poll, state, NULL, NULL));
}

static int tick_poll(void *state, eddy_cx_t *cx) { (void)state; (void)cx; cd_tick(); return EDDY_READY; }

/* ---- spawn_many_local: N empty tasks spawned inside block_on ---- */
static long g_n;

static int sml_root(void *state, eddy_cx_t *cx) {
    int *spawned = state;
    if (!*spawned) {
        *spawned = 1;
        (void)cd_poll(cx); /* publish the waker before any task can finish */
        for (long i = 0; i < g_n; i++) spawn_detached(tick_poll, NULL);
    }
    return cd_poll(cx);
}

static void sml_body(void) {
    int spawned = 0;
    cd_arm(g_n);
    block_on(sml_root, &spawned);
    cd_finish();
}

/* ---- spawn_many_remote_idle / _busy: N tasks spawned from main, joined in block_on ---- */
static eddy_task_t *g_handles;
static _Atomic long g_ran;
static atomic_bool g_stop;

static int count_poll(void *state, eddy_cx_t *cx) { (void)state; (void)cx; atomic_fetch_add_explicit(&g_ran, 1, memory_order_relaxed); return EDDY_READY; }

static int join_root(void *state, eddy_cx_t *cx) {
    long *next = state;
    while (*next < g_n) {
        int status;
        int rc = eddy_task_poll_join(g_handles[*next], cx, &status);
        CHECK(rc);
        if (rc == EDDY_PENDING) return EDDY_PENDING;
        CHECK(status);
        CHECK(eddy_task_free(g_handles[*next]));
        (*next)++;
    }
    return EDDY_READY;
}

static void remote_body(void) {
    atomic_store(&g_ran, 0);
    for (long i = 0; i < g_n; i++) CHECK(eddy_spawn(g_rt, count_poll, NULL, NULL, &g_handles[i]));
    long next = 0;
    block_on(join_root, &next);
    EXPECT(atomic_load(&g_ran) == g_n, "remote: %ld of %ld ran", atomic_load(&g_ran), g_n);
}

/* The busy load: a task that yields until g_stop (its waker handle rides in a small
 * heap state, freed by the drop function). */
static int busy_poll(void *state, eddy_cx_t *cx) {
    eddy_waker_t *self = state;
    if (atomic_load_explicit(&g_stop, memory_order_relaxed)) return EDDY_READY;
    if (!self->id) CHECK(eddy_cx_waker(cx, self));
    CHECK(eddy_waker_wake(*self));
    return EDDY_PENDING;
}

static void busy_drop(void *state) {
    eddy_waker_t *self = state;
    if (self->id) (void)eddy_waker_free(*self);
    free(self);
}

/* ---- yield_many: 200 tasks spawned from main, each yields 1 000 times ---- */
#define YIELD_TASKS 200
struct yielder { long left; eddy_waker_t self; int has_self; };
static struct yielder g_yielders[YIELD_TASKS];

static int yielder_poll(void *state, eddy_cx_t *cx) {
    struct yielder *y = state;
    if (!y->has_self) { CHECK(eddy_cx_waker(cx, &y->self)); y->has_self = 1; }
    if (y->left == 0) {
        CHECK(eddy_waker_free(y->self));
        cd_tick();
        return EDDY_READY;
    }
    y->left--;
    CHECK(eddy_waker_wake(y->self)); /* yield: back of the run queue */
    return EDDY_PENDING;
}

static int cd_root(void *state, eddy_cx_t *cx) { (void)state; return cd_poll(cx); }

static void yield_body(void) {
    cd_arm(YIELD_TASKS);
    for (int i = 0; i < YIELD_TASKS; i++) {
        g_yielders[i] = (struct yielder){ .left = g_n };
        spawn_detached(yielder_poll, &g_yielders[i]);
    }
    block_on(cd_root, NULL);
    cd_finish();
}

/* ---- ping_pong: a task spawns N pings; each spawns its pong, oneshot there and back ---- */
struct ping { eddy_sender_t tx1; eddy_receiver_t rx2; int started; };
struct pong { eddy_receiver_t rx1; eddy_sender_t tx2; };
static struct ping *g_pings;
static struct pong *g_pongs;

static int pong_poll(void *state, eddy_cx_t *cx) {
    struct pong *p = state;
    void *v;
    int rc = eddy_channel_poll_recv(p->rx1, cx, &v);
    CHECK(rc);
    if (rc == EDDY_PENDING) return EDDY_PENDING;
    CHECK(eddy_channel_receiver_free(p->rx1));
    CHECK(eddy_channel_try_send(p->tx2, (void *)((uintptr_t)v + 1)));
    CHECK(eddy_channel_sender_free(p->tx2));
    return EDDY_READY;
}

static int ping_poll(void *state, eddy_cx_t *cx) {
    struct ping *p = state;
    if (!p->started) {
        p->started = 1;
        struct pong *q = &g_pongs[p - g_pings];
        CHECK(eddy_oneshot_new(g_rt, NULL, &p->tx1, &q->rx1));
        CHECK(eddy_oneshot_new(g_rt, NULL, &q->tx2, &p->rx2));
        spawn_detached(pong_poll, q);
        CHECK(eddy_channel_try_send(p->tx1, (void *)(uintptr_t)1));
        CHECK(eddy_channel_sender_free(p->tx1));
    }
    void *v;
    int rc = eddy_channel_poll_recv(p->rx2, cx, &v);
    CHECK(rc);
    if (rc == EDDY_PENDING) return EDDY_PENDING;
    EXPECT((uintptr_t)v == 2, "ping_pong: got %p", v);
    CHECK(eddy_channel_receiver_free(p->rx2));
    cd_tick();
    return EDDY_READY;
}

static int ping_spawner_poll(void *state, eddy_cx_t *cx) {
    (void)state; (void)cx;
    for (long i = 0; i < g_n; i++) spawn_detached(ping_poll, &g_pings[i]);
    return EDDY_READY;
}

static int pp_root(void *state, eddy_cx_t *cx) {
    int *spawned = state;
    if (!*spawned) {
        *spawned = 1;
        (void)cd_poll(cx);
        spawn_detached(ping_spawner_poll, NULL);
    }
    return cd_poll(cx);
}

static void pp_body(void) {
    memset(g_pings, 0, sizeof *g_pings * (size_t)g_n);
    int spawned = 0;
    cd_arm(g_n);
    block_on(pp_root, &spawned);
    cd_finish();
}

/* ---- chained_spawn: each task spawns the next, N deep (the depth rides in state) ---- */
static int chain_poll(void *state, eddy_cx_t *cx) {
    (void)cx;
    uintptr_t left = (uintptr_t)state;
    if (left == 0) cd_tick();
    else spawn_detached(chain_poll, (void *)(left - 1));
    return EDDY_READY;
}

static int chain_root(void *state, eddy_cx_t *cx) {
    int *spawned = state;
    if (!*spawned) {
        *spawned = 1;
        (void)cd_poll(cx);
        spawn_detached(chain_poll, (void *)(uintptr_t)g_n);
    }
    return cd_poll(cx);
}

static void chain_body(void) {
    int spawned = 0;
    cd_arm(1);
    block_on(chain_root, &spawned);
    cd_finish();
}

/* ---- mpsc_Np: P producers send N values in total through a bounded(1 024) channel ---- */
#define MAX_PRODUCERS 4
struct producer { eddy_sender_t tx; long sent, per; };
struct mpsc_root { int producers, started; eddy_receiver_t rx; long got; struct producer prod[MAX_PRODUCERS]; };
static int g_producers;

static int producer_poll(void *state, eddy_cx_t *cx) {
    struct producer *p = state;
    while (p->sent < p->per) {
        int rc = eddy_channel_poll_send(p->tx, cx, (void *)(uintptr_t)(p->sent + 1));
        CHECK(rc);
        if (rc == EDDY_PENDING) return EDDY_PENDING;
        p->sent++;
    }
    CHECK(eddy_channel_sender_free(p->tx));
    return EDDY_READY;
}

static int mpsc_root_poll(void *state, eddy_cx_t *cx) {
    struct mpsc_root *r = state;
    if (!r->started) {
        r->started = 1;
        eddy_sender_t tx;
        CHECK(eddy_channel_new(g_rt, 1024, NULL, &tx, &r->rx));
        for (int i = 0; i < r->producers; i++) {
            r->prod[i] = (struct producer){ .per = g_n / r->producers };
            if (i == r->producers - 1) r->prod[i].tx = tx;
            else CHECK(eddy_channel_clone_sender(tx, &r->prod[i].tx));
        }
        for (int i = 0; i < r->producers; i++) spawn_detached(producer_poll, &r->prod[i]);
    }
    for (;;) {
        void *v;
        int rc = eddy_channel_poll_recv(r->rx, cx, &v);
        if (rc == EDDY_EPIPE) break; /* every sender gone, nothing left */
        CHECK(rc);
        if (rc == EDDY_PENDING) return EDDY_PENDING;
        r->got++;
    }
    CHECK(eddy_channel_receiver_free(r->rx));
    return EDDY_READY;
}

static void mpsc_body(void) {
    struct mpsc_root r = { .producers = g_producers };
    block_on(mpsc_root_poll, &r);
    long want = g_n / g_producers * g_producers;
    EXPECT(r.got == want, "mpsc: received %ld of %ld", r.got, want);
}

/* ---- oneshot: create, send, receive, free; N times in one poll ---- */
static int oneshot_root(void *state, eddy_cx_t *cx) {
    long *sum = state;
    for (long i = 0; i < g_n; i++) {
        eddy_sender_t tx;
        eddy_receiver_t rx;
        void *v;
        CHECK(eddy_oneshot_new(g_rt, NULL, &tx, &rx));
        CHECK(eddy_channel_try_send(tx, (void *)(uintptr_t)(i + 1)));
        int rc = eddy_channel_poll_recv(rx, cx, &v);
        EXPECT(rc == EDDY_READY, "oneshot: poll_recv %d", rc);
        *sum += (long)(uintptr_t)v - 1;
        CHECK(eddy_channel_sender_free(tx));
        CHECK(eddy_channel_receiver_free(rx));
    }
    return EDDY_READY;
}

static void oneshot_body(void) {
    long sum = 0;
    block_on(oneshot_root, &sum);
    EXPECT(sum == g_n * (g_n - 1) / 2, "oneshot: sum %ld", sum);
}

/* ---- notify_rtt: the root notifies the peer and waits to be notified back ---- */
struct notify_peer { eddy_notify_t ping, pong; long k, seen; };
struct notify_root { int started, waiting; long done; eddy_notify_t ping, pong; eddy_task_t peer; struct notify_peer p; };

static int notify_peer_poll(void *state, eddy_cx_t *cx) {
    struct notify_peer *p = state;
    while (p->seen < p->k) {
        int rc = eddy_notify_poll_wait(p->ping, cx);
        CHECK(rc);
        if (rc == EDDY_PENDING) return EDDY_PENDING;
        p->seen++;
        CHECK(eddy_notify_one(p->pong));
    }
    return EDDY_READY;
}

static int notify_root_poll(void *state, eddy_cx_t *cx) {
    struct notify_root *r = state;
    if (!r->started) {
        r->started = 1;
        CHECK(eddy_notify_new(g_rt, &r->ping));
        CHECK(eddy_notify_new(g_rt, &r->pong));
        /* One waiting place per waiting task: the peer waits on its own handles. */
        r->p.k = g_n;
        CHECK(eddy_notify_clone(r->ping, &r->p.ping));
        CHECK(eddy_notify_clone(r->pong, &r->p.pong));
        CHECK(eddy_spawn(g_rt, notify_peer_poll, &r->p, NULL, &r->peer));
    }
    while (r->done < g_n) {
        if (!r->waiting) { CHECK(eddy_notify_one(r->ping)); r->waiting = 1; }
        int rc = eddy_notify_poll_wait(r->pong, cx);
        CHECK(rc);
        if (rc == EDDY_PENDING) return EDDY_PENDING;
        r->waiting = 0;
        r->done++;
    }
    int status;
    int rc = eddy_task_poll_join(r->peer, cx, &status);
    CHECK(rc);
    if (rc == EDDY_PENDING) return EDDY_PENDING;
    CHECK(status);
    CHECK(eddy_task_free(r->peer));
    eddy_notify_t hs[] = { r->ping, r->pong, r->p.ping, r->p.pong };
    for (int i = 0; i < 4; i++) CHECK(eddy_notify_free(hs[i]));
    return EDDY_READY;
}

static void notify_body(void) {
    struct notify_root r = { 0 };
    block_on(notify_root_poll, &r);
    EXPECT(r.p.seen == g_n && r.done == g_n, "notify_rtt: %ld/%ld of %ld", r.p.seen, r.done, g_n);
}

static void usage(void) {
    fprintf(stderr, "usage: eddy-rtbench-c BENCH [--workers N] [--iters R] [--quick]\n"
                    "  BENCH: spawn_many_local spawn_many_remote_idle spawn_many_remote_busy yield_many\n"
                    "         ping_pong chained_spawn mpsc_1p mpsc_4p oneshot notify_rtt\n");
    exit(2);
}

int main(int argc, char **argv) {
    if (argc < 2) usage();
    const char *bench = argv[1];
    long workers = 1;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--workers") == 0 && i + 1 < argc) {
            char *end;
            workers = strtol(argv[++i], &end, 10);
            if (*end || workers < 1 || workers > 1024) usage();
        }
        else if (strcmp(argv[i], "--iters") == 0 && i + 1 < argc) g_iters_opt = atoi(argv[++i]);
        else if (strcmp(argv[i], "--quick") == 0) g_quick = 1;
        else usage();
    }
    eddy_config_t cfg;
    CHECK(eddy_config_init(&cfg));
    cfg.workers = (uint32_t)workers; /* > 1: the multi-worker runtime (no stealing: spawns from outside go to worker 0) */
    CHECK(eddy_runtime_new(&cfg, &g_rt));

    if (strcmp(bench, "spawn_many_local") == 0) {
        g_n = count_of(10000);
        measure(bench, iters_of(30), g_n, sml_body);
    } else if (strcmp(bench, "spawn_many_remote_idle") == 0 || strcmp(bench, "spawn_many_remote_busy") == 0) {
        g_n = count_of(10000);
        g_handles = calloc((size_t)g_n, sizeof *g_handles);
        if (strcmp(bench, "spawn_many_remote_busy") == 0)
            for (long w = 0; w < 2 * workers; w++) {
                eddy_task_t t;
                CHECK(eddy_spawn(g_rt, busy_poll, calloc(1, sizeof(eddy_waker_t)), busy_drop, &t));
                CHECK(eddy_task_free(t));
            }
        measure(bench, iters_of(30), g_n, remote_body);
        atomic_store(&g_stop, 1);
    } else if (strcmp(bench, "yield_many") == 0) {
        g_n = count_of(1000);
        measure(bench, iters_of(10), g_n * YIELD_TASKS, yield_body);
    } else if (strcmp(bench, "ping_pong") == 0) {
        g_n = count_of(1000);
        g_pings = calloc((size_t)g_n, sizeof *g_pings);
        g_pongs = calloc((size_t)g_n, sizeof *g_pongs);
        measure(bench, iters_of(30), g_n, pp_body);
    } else if (strcmp(bench, "chained_spawn") == 0) {
        g_n = count_of(1000);
        measure(bench, iters_of(50), g_n, chain_body);
    } else if (strcmp(bench, "mpsc_1p") == 0 || strcmp(bench, "mpsc_4p") == 0) {
        g_producers = bench[5] - '0';
        g_n = count_of(100000);
        measure(bench, iters_of(10), g_n / g_producers * g_producers, mpsc_body);
    } else if (strcmp(bench, "oneshot") == 0) {
        g_n = count_of(100000);
        measure(bench, iters_of(10), g_n, oneshot_body);
    } else if (strcmp(bench, "notify_rtt") == 0) {
        g_n = count_of(20000);
        measure(bench, iters_of(5), g_n, notify_body);
    } else {
        usage();
    }
    /* The busy tasks of spawn_many_remote_busy are still queued: freed (force-closed). */
    int rc = eddy_runtime_free(g_rt);
    CHECK(rc);
    return 0;
}

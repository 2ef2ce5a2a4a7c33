/* Eddy C ABI micro-benchmarks (libeddy.so + include/eddy.h).
 *   micro spawn N REPS | pingpong N REPS | timers N | idle N
 * Prints `RESULT <key> <value> <unit>` lines (median over REPS where it applies).
 * Same workloads as bench/micro/tokio and bench/micro/swift. */
#define _GNU_SOURCE
#include <eddy.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define CHECK(x) do { int rc_ = (x); if (rc_ < 0) { fprintf(stderr, "%s:%d %s: %s\n", __FILE__, __LINE__, #x, eddy_strerror(rc_)); exit(1); } } while (0)

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    return v[n / 2];
}

static long status_kb(const char *field) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = 0;
    size_t fl = strlen(field);
    while (fgets(line, sizeof line, f)) if (strncmp(line, field, fl) == 0) { v = atol(line + fl); break; }
    fclose(f);
    return v;
}

static long rss_bytes(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    long size = 0, res = 0;
    if (fscanf(f, "%ld %ld", &size, &res) != 2) res = 0;
    fclose(f);
    return res * 4096;
}

/* ---- (a) spawn-and-complete of empty tasks, batches of 1000 ---- */
#define BATCH 1000
static long done_count;

static int empty_poll(void *state, eddy_cx_t *cx) {
    (void)state; (void)cx;
    done_count++;
    return EDDY_READY;
}

struct spawn_driver { eddy_runtime_t rt; long n, spawned; eddy_waker_t self; int have_self; };

static int spawn_driver_poll(void *state, eddy_cx_t *cx) {
    struct spawn_driver *d = state;
    if (!d->have_self) { CHECK(eddy_cx_waker(cx, &d->self)); d->have_self = 1; }
    if (done_count < d->spawned) { CHECK(eddy_waker_wake(d->self)); return EDDY_PENDING; }
    if (d->spawned == d->n) { eddy_waker_free(d->self); return EDDY_READY; }
    long b = d->n - d->spawned < BATCH ? d->n - d->spawned : BATCH;
    for (long i = 0; i < b; i++) {
        eddy_task_t t;
        CHECK(eddy_spawn(d->rt, empty_poll, NULL, NULL, &t));
        CHECK(eddy_task_free(t));   /* detach: the handle is not needed */
    }
    d->spawned += b;
    CHECK(eddy_waker_wake(d->self)); /* back of the queue: runs after the batch */
    return EDDY_PENDING;
}

static double bench_spawn(long n) {
    eddy_runtime_t rt;
    CHECK(eddy_runtime_new(NULL, &rt));
    done_count = 0;
    struct spawn_driver d = { rt, n, 0, {0}, 0 };
    int status;
    double t0 = now_s();
    CHECK(eddy_block_on(rt, spawn_driver_poll, &d, NULL, &status));
    double dt = now_s() - t0;
    CHECK(status);
    if (done_count != n) { fprintf(stderr, "spawn: %ld of %ld\n", done_count, n); exit(1); }
    CHECK(eddy_runtime_free(rt));
    return (double)n / dt;
}

/* ---- (b) ping-pong: A wakes B, B wakes A ---- */
struct pp { long n, count; int turn_a, done; eddy_waker_t wa, wb; int has_a, has_b; };

static int pp_a(void *state, eddy_cx_t *cx) {
    struct pp *s = state;
    if (!s->has_a) { CHECK(eddy_cx_waker(cx, &s->wa)); s->has_a = 1; }
    if (s->turn_a) {
        s->count++;
        s->turn_a = 0;
        if (s->count == s->n) s->done = 1;
        if (s->has_b) CHECK(eddy_waker_wake(s->wb));
        if (s->done) return EDDY_READY;
    }
    return EDDY_PENDING;
}

static int pp_b(void *state, eddy_cx_t *cx) {
    struct pp *s = state;
    if (s->done) return EDDY_READY;
    if (!s->has_b) { CHECK(eddy_cx_waker(cx, &s->wb)); s->has_b = 1; }
    if (!s->turn_a) {
        s->turn_a = 1;
        CHECK(eddy_waker_wake(s->wa));
    }
    return EDDY_PENDING;
}

static double bench_pingpong(long n) {
    eddy_runtime_t rt;
    CHECK(eddy_runtime_new(NULL, &rt));
    struct pp s = { n, 0, 1, 0, {0}, {0}, 0, 0 };
    eddy_task_t a, b;
    double t0 = now_s();
    CHECK(eddy_spawn(rt, pp_a, &s, NULL, &a));
    CHECK(eddy_spawn(rt, pp_b, &s, NULL, &b));
    CHECK(eddy_runtime_run(rt));
    double dt = now_s() - t0;
    if (s.count != n) { fprintf(stderr, "pingpong: %ld of %ld\n", s.count, n); exit(1); }
    eddy_task_free(a); eddy_task_free(b);
    eddy_waker_free(s.wa); eddy_waker_free(s.wb);
    CHECK(eddy_runtime_free(rt));
    return (double)n / dt;
}

/* ---- (c) N timers armed (first poll) then cancelled (freed) ---- */
struct timers { eddy_runtime_t rt; long n; eddy_future_t *f; double t_create, t_arm, t_cancel; };

static int timers_poll(void *state, eddy_cx_t *cx) {
    struct timers *t = state;
    uint64_t x = 0x9E3779B97F4A7C15ull;
    for (long i = 0; i < t->n; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        uint64_t ns = 10ull * 1000000000ull + (x % 60000000ull) * 1000ull;
        CHECK(eddy_sleep(t->rt, ns, &t->f[i]));
    }
    t->t_create = now_s();
    for (long i = 0; i < t->n; i++)
        if (eddy_future_poll(t->f[i], cx) != EDDY_PENDING) { fprintf(stderr, "timer ready?\n"); exit(1); }
    t->t_arm = now_s();
    for (long i = 0; i < t->n; i++) CHECK(eddy_future_free(t->f[i]));
    t->t_cancel = now_s();
    return EDDY_READY;
}

static void bench_timers(long n) {
    eddy_runtime_t rt;
    CHECK(eddy_runtime_new(NULL, &rt));
    long rss0 = rss_bytes();
    struct timers t = { rt, n, malloc(sizeof(eddy_future_t) * (size_t)n), 0, 0, 0 };
    int status;
    double t0 = now_s();
    CHECK(eddy_block_on(rt, timers_poll, &t, NULL, &status));
    double total = now_s() - t0;
    CHECK(status);
    printf("RESULT timers_create_s %.3f s\n", t.t_create - t0);
    printf("RESULT timers_arm_s %.3f s\n", t.t_arm - t0);
    printf("RESULT timers_cancel_s %.3f s\n", t.t_cancel - t.t_arm);
    printf("RESULT timers_total_s %.3f s\n", total);
    printf("RESULT timers_peak_rss_mb %.1f MB\n", (double)status_kb("VmHWM:") / 1024.0);
    printf("RESULT timers_base_rss_mb %.1f MB\n", (double)rss0 / 1048576.0);
    free(t.f);
    CHECK(eddy_runtime_free(rt));
}

/* ---- (d) idle connections: one task per connection, pending in a 64-byte read ---- */
static long polled;

struct conn { eddy_tcp_t s; char buf[64]; };

static int conn_poll(void *state, eddy_cx_t *cx) {
    struct conn *c = state;
    size_t n;
    int r = eddy_tcp_poll_read(c->s, cx, c->buf, sizeof c->buf, &n);
    if (r == EDDY_PENDING) {
        polled++;   /* counted once per idle wait; connections stay idle */
        return EDDY_PENDING;
    }
    return r < 0 ? r : EDDY_READY;
}

static void conn_drop(void *state) {
    struct conn *c = state;
    eddy_tcp_close(c->s);
    free(c);
}

struct acceptor { eddy_runtime_t rt; eddy_tcp_t l; long n, accepted; long rss0, rss_mid; eddy_waker_t self; int have_self; };

static int acceptor_poll(void *state, eddy_cx_t *cx) {
    struct acceptor *a = state;
    if (!a->have_self) { CHECK(eddy_cx_waker(cx, &a->self)); a->have_self = 1; }
    while (a->accepted < a->n) {
        if (a->accepted == a->n / 10 && a->rss_mid == 0) {
            if (polled < a->n / 10) { CHECK(eddy_waker_wake(a->self)); return EDDY_PENDING; }
            a->rss_mid = rss_bytes();
        }
        eddy_tcp_t s;
        int r = eddy_tcp_poll_accept(a->l, cx, &s);
        if (r == EDDY_PENDING) return EDDY_PENDING;
        CHECK(r);
        struct conn *c = calloc(1, sizeof *c);
        c->s = s;
        eddy_task_t t;
        CHECK(eddy_spawn(a->rt, conn_poll, c, conn_drop, &t));
        CHECK(eddy_task_free(t));
        a->accepted++;
    }
    if (polled < a->n) { CHECK(eddy_waker_wake(a->self)); return EDDY_PENDING; }
    eddy_waker_free(a->self);
    return EDDY_READY;
}

static void bench_idle(long n) {
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    eddy_runtime_t rt;
    CHECK(eddy_runtime_new(NULL, &rt));
    eddy_tcp_t l;
    CHECK(eddy_tcp_listen(rt, "127.0.0.1", 0, 4096, &l));
    uint16_t port;
    CHECK(eddy_tcp_local_port(l, &port));
    struct acceptor a = { rt, l, n, 0, 0, 0, {0}, 0 };
    a.rss0 = rss_bytes();
    printf("PORT %u\n", port);
    fflush(stdout);
    int status;
    CHECK(eddy_block_on(rt, acceptor_poll, &a, NULL, &status));
    CHECK(status);
    long rss1 = rss_bytes();
    printf("RESULT idle_bytes_per_conn %.0f B\n", (double)(rss1 - a.rss0) / (double)n);
    printf("RESULT idle_marginal_bytes_per_conn %.0f B\n", (double)(rss1 - a.rss_mid) / (double)(n - n / 10));
    printf("RESULT idle_rss_delta_mb %.2f MB\n", (double)(rss1 - a.rss0) / 1048576.0);
    fflush(stdout);
    _exit(0);   /* leave the idle connections to the kernel */
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: micro spawn|pingpong|timers|idle N [REPS]\n"); return 2; }
    long n = argc > 2 ? atol(argv[2]) : 1000000;
    int reps = argc > 3 ? atoi(argv[3]) : 5;
    if (reps < 1 || reps > 50) reps = 5;
    double v[50];
    if (strcmp(argv[1], "spawn") == 0) {
        bench_spawn(n / 10);
        for (int i = 0; i < reps; i++) v[i] = bench_spawn(n);
        printf("RESULT spawn_per_s %.0f tasks/s\n", median(v, reps));
    } else if (strcmp(argv[1], "pingpong") == 0) {
        bench_pingpong(n / 10);
        for (int i = 0; i < reps; i++) v[i] = bench_pingpong(n);
        printf("RESULT pingpong_per_s %.0f rt/s\n", median(v, reps));
    } else if (strcmp(argv[1], "timers") == 0) {
        bench_timers(n);
    } else if (strcmp(argv[1], "idle") == 0) {
        bench_idle(n);
    } else {
        fprintf(stderr, "unknown benchmark %s\n", argv[1]);
        return 2;
    }
    return 0;
}

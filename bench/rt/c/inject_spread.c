/* inject_spread.c — wall time of a CPU-bound batch spawned from a thread that is no
 * worker while worker 0 runs (the multi-thread runtime's inject queue, branch steal-14):
 * N tasks of SPIN_US µs each, eddy_spawn'ed from a pthread while eddy_block_on waits for
 * them on the main thread. Prints the wall time and on how many threads the tasks ran.
 *   cc -O2 -pthread -Iinclude -o inject_spread bench/rt/c/inject_spread.c -L<libdir> -leddy
 *   ./inject_spread WORKERS [N=64] [SPIN_US=2000] */
#include <eddy.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static eddy_runtime_t g_rt;
static long g_n, g_spin_ns;
static _Atomic long g_done;
static _Atomic uint64_t g_root_waker;
static pthread_t *g_ran_on;

static long now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000L + t.tv_nsec;
}

static int spin_poll(void *state, eddy_cx_t *cx)
{
    (void)cx;
    *(pthread_t *)state = pthread_self();
    long end = now_ns() + g_spin_ns;
    while (now_ns() < end) {
    }
    if (atomic_fetch_add(&g_done, 1) + 1 == g_n) {
        eddy_waker_wake((eddy_waker_t){ atomic_load(&g_root_waker) });
    }
    return EDDY_READY;
}

static void *outside(void *arg)
{
    (void)arg;
    for (long i = 0; i < g_n; i++) {
        if (eddy_spawn(g_rt, spin_poll, &g_ran_on[i], NULL, NULL) != 0) {
            abort();
        }
    }
    return NULL;
}

static int root(void *state, eddy_cx_t *cx)
{
    pthread_t *th = state;
    if (!atomic_load(&g_root_waker)) {
        eddy_waker_t w;
        if (eddy_cx_waker(cx, &w) != 0) {
            abort();
        }
        atomic_store(&g_root_waker, w.id);
        pthread_create(th, NULL, outside, NULL);
    }
    return atomic_load(&g_done) == g_n ? EDDY_READY : EDDY_PENDING;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: inject_spread WORKERS [N] [SPIN_US]\n");
        return 2;
    }
    g_n = argc > 2 ? atol(argv[2]) : 64;
    g_spin_ns = (argc > 3 ? atol(argv[3]) : 2000) * 1000L;
    g_ran_on = calloc((size_t)g_n, sizeof *g_ran_on);
    eddy_config_t c;
    eddy_config_init(&c);
    c.workers = (uint32_t)atoi(argv[1]);
    if (eddy_runtime_new(&c, &g_rt) != 0) {
        return 1;
    }
    pthread_t th;
    int st;
    long t0 = now_ns();
    if (eddy_block_on(g_rt, root, &th, NULL, &st) != 0) {
        return 1;
    }
    long t1 = now_ns();
    pthread_join(th, NULL);
    int distinct = 0;
    for (long i = 0; i < g_n; i++) {
        int seen = 0;
        for (long k = 0; k < i && !seen; k++) {
            seen = pthread_equal(g_ran_on[i], g_ran_on[k]);
        }
        distinct += !seen;
    }
    printf("workers=%s tasks=%ld spin=%ldus wall=%.1fms threads=%d\n", argv[1], g_n, g_spin_ns / 1000,
           (t1 - t0) / 1e6, distinct);
    eddy_waker_free((eddy_waker_t){ atomic_load(&g_root_waker) });
    eddy_runtime_free(g_rt);
    free(g_ran_on);
    return 0;
}

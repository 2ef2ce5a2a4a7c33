/* test_ownership_race.c — eddy_spawn's ownership contract under a concurrent free.
 *
 * include/eddy.h: "if eddy_spawn fails, drop is not called and the caller keeps
 * state". Each round, spawner threads spawn tasks whose state is malloc'ed and
 * whose drop_fn frees it, exactly as a C program following the header would: on an
 * error return the caller frees state itself. Meanwhile the owning thread runs the
 * runtime a little and frees it at a random moment. Every successful spawn must be
 * dropped exactly once and no failed one ever: a violation is a double free or use
 * after free (ASan reports it, also inside an instrumented libeddy: make
 * test-sanitized-lib) and, without ASan, drops != successful spawns.
 * Rounds: ROUNDS, or fewer when the time budget runs out (sanitizers, valgrind). */
#include "harness.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

enum {
    SPAWNERS = 3,
    ROUNDS = 3000,
    MAX_SPAWNS_PER_ROUND = 400, /* per thread: bounds memory while waiting for the free */
    BUDGET_MS = 12000,
    STATE_MAGIC = 0x5eed,
};

typedef struct {
    int magic;
} task_state_t;

static atomic_long drops;
static atomic_long polls;

static int race_poll(void *state, eddy_cx_t *cx)
{
    (void)cx;
    task_state_t *s = state;
    if (s->magic != STATE_MAGIC) abort(); /* the caller freed it: use after free */
    atomic_fetch_add(&polls, 1);
    return EDDY_READY;
}

static void race_drop(void *state)
{
    task_state_t *s = state;
    if (s->magic != STATE_MAGIC) abort();
    s->magic = 0;
    atomic_fetch_add(&drops, 1);
    free(s);
}

typedef struct {
    _Atomic uint64_t rt;
    atomic_int go;
    atomic_int freed;
    atomic_long accepted;    /* successful spawns so far, read by the freeing thread */
    long spawned[SPAWNERS];  /* successful spawns (the runtime owns their state) */
    long refused[SPAWNERS];  /* error returns (the caller freed state) */
    long shutdowns[SPAWNERS];
    int bad_code[SPAWNERS];  /* an error other than ESHUTDOWN / EBADHANDLE */
} round_t;

typedef struct {
    round_t *r;
    int idx;
} spawner_arg_t;

static void *spawner(void *p)
{
    spawner_arg_t *a = p;
    round_t *r = a->r;
    while (!atomic_load(&r->go)) sched_yield();
    eddy_runtime_t rt = { atomic_load(&r->rt) };
    long n = 0;
    for (;;) {
        if (n >= MAX_SPAWNS_PER_ROUND) {
            if (atomic_load(&r->freed)) break;
            sched_yield();
            continue;
        }
        task_state_t *s = malloc(sizeof *s);
        if (s == NULL) abort();
        s->magic = STATE_MAGIC;
        eddy_task_t t;
        int rc = eddy_spawn(rt, race_poll, s, race_drop, &t);
        n++;
        if (rc == 0) {
            a->r->spawned[a->idx]++;
            atomic_fetch_add(&r->accepted, 1);
            continue; /* the handle is the runtime's to free (force-closed by the free) */
        }
        /* The header's promise: state is still ours. */
        if (s->magic != STATE_MAGIC) abort();
        free(s);
        r->refused[a->idx]++;
        if (rc == EDDY_ESHUTDOWN) {
            r->shutdowns[a->idx]++;
        } else if (rc == EDDY_EBADHANDLE) {
            break; /* the runtime is gone */
        } else {
            r->bad_code[a->idx] = rc;
            break;
        }
    }
    return NULL;
}

static void spin_us(unsigned us)
{
    uint64_t end = now_ns() + (uint64_t)us * 1000u;
    while (now_ns() < end) { }
}

static void test_spawn_vs_free(void **state)
{
    (void)state;
    atomic_store(&drops, 0);
    uint64_t start = now_ns();
    unsigned seed = (unsigned)start;
    long spawned = 0, refused = 0, shutdowns = 0;
    int rounds = 0;
    for (; rounds < ROUNDS && elapsed_ms(start) < BUDGET_MS; rounds++) {
        round_t r;
        memset(&r, 0, sizeof r);
        eddy_runtime_t rt;
        assert_int_equal(eddy_runtime_new(NULL, &rt), 0);
        atomic_store(&r.rt, rt.id);
        pthread_t th[SPAWNERS];
        spawner_arg_t args[SPAWNERS];
        for (int i = 0; i < SPAWNERS; i++) {
            args[i] = (spawner_arg_t){ &r, i };
            assert_int_equal(pthread_create(&th[i], NULL, spawner, &args[i]), 0);
        }
        atomic_store(&r.go, 1);
        /* A random moment: sometimes at once, sometimes after running some tasks. */
        seed = seed * 1103515245u + 12345u;
        unsigned mode = (seed >> 16) % 4;
        if (mode >= 2) spin_us((seed >> 8) % 200);
        if (mode == 3) {
            /* Free only after some spawn succeeded, so that every run (also under
             * valgrind, which serialises threads and lets the free win the others)
             * races a free against a runtime that owns tasks. Bounded: a slow start
             * just makes this round like the others. */
            uint64_t wait_start = now_ns();
            while (atomic_load(&r.accepted) == 0 && elapsed_ms(wait_start) < 2000u * slow_factor())
                sched_yield();
            assert_int_equal(eddy_runtime_run(rt), 0);
        }
        int closed = eddy_runtime_free(rt);
        assert_true(closed >= 0);
        atomic_store(&r.freed, 1);
        for (int i = 0; i < SPAWNERS; i++) {
            assert_int_equal(pthread_join(th[i], NULL), 0);
            assert_int_equal(r.bad_code[i], 0);
            spawned += r.spawned[i];
            refused += r.refused[i];
            shutdowns += r.shutdowns[i];
        }
        /* Every task spawned this round was dropped by now (run or free): the runtime
         * dropped exactly the states it accepted, never one the caller kept. */
        assert_int_equal(atomic_load(&drops), spawned);
    }
    printf("ownership race: %d rounds in %llu ms, %ld spawns accepted and dropped once, "
           "%ld refused (%ld EDDY_ESHUTDOWN), %ld polls\n",
           rounds, (unsigned long long)elapsed_ms(start), spawned, refused, shutdowns,
           (long)atomic_load(&polls));
    assert_true(rounds >= 100);
    assert_true(spawned > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spawn_vs_free),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

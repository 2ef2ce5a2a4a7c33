/* test_handle_limits.c — what happens at the handle table's limits, made reachable
 * in milliseconds by libeddy's test hooks (read once, at the first handle):
 *   EDDY_TEST_HANDLE_SLOTS        the table holds this many slots (EDDY_ENOMEM after);
 *   EDDY_TEST_HANDLE_GENERATIONS  a slot is retired after this many lives;
 *   EDDY_TEST_HOST_GENERATION_BITS host task ids' generation wraps after 2^n spawns.
 * main() sets them before the first eddy call, so this suite is its own process.
 *
 * - eddy_spawn into a full table: EDDY_ENOMEM, drop never called, the caller keeps
 *   state (it used to queue the task first: the free then dropped a state the
 *   caller had already freed).
 * - a channel or oneshot into a table with one free slot: EDDY_ENOMEM, the slot stays free.
 * - eddy_timeout into a full table when inner's slot retires as inner is taken:
 *   EDDY_ENOMEM with inner untouched (header: "On failure inner is left untouched").
 * - a slot at its generation limit is retired: a stale id never names a new object.
 * - host task ids: after the generation wraps, a stale id is still EDDY_EBADHANDLE.
 *
 * Ids are decoded with the table's internal layout (docs/C-ABI.md, "Handles"):
 * slot = bits 0..21, generation = bits 22..53. */
#include "harness.h"

#include <stdatomic.h>
#include <stdio.h>

enum {
    SLOTS = 64,
    GENERATIONS = 1000,
    HOST_GEN_BITS = 4,
};

#define SLOT_OF(id) ((id) & 0x3FFFFFu)
#define GEN_OF(id) (((id) >> 22) & 0xFFFFFFFFu)

static atomic_int drops;

static int never_ready(void *state, eddy_cx_t *cx)
{
    (void)state;
    (void)cx;
    return EDDY_PENDING;
}

static void count_drop(void *state)
{
    atomic_fetch_add(&drops, 1);
    free(state);
}

/* Fills the table with sleep handles until EDDY_ENOMEM; returns how many. */
static int fill(eddy_runtime_t rt, eddy_future_t *held, int cap)
{
    int n = 0;
    for (;;) {
        assert_true(n < cap);
        int rc = eddy_sleep(rt, 1000 * MS, &held[n]);
        if (rc == EDDY_ENOMEM) return n;
        assert_int_equal(rc, 0);
        n++;
    }
}

static void unfill(eddy_future_t *held, int n)
{
    for (int i = 0; i < n; i++) assert_int_equal(eddy_future_free(held[i]), 0);
}

static void test_spawn_enomem_keeps_state(void **state)
{
    (void)state;
    eddy_runtime_t rt;
    assert_int_equal(eddy_runtime_new(NULL, &rt), 0);
    eddy_future_t held[SLOTS];
    int n = fill(rt, held, SLOTS);
    assert_true(n > 0);

    atomic_store(&drops, 0);
    int *s = malloc(sizeof *s);
    assert_non_null(s);
    *s = 42;
    eddy_task_t t;
    assert_int_equal(eddy_spawn(rt, never_ready, s, count_drop, &t), EDDY_ENOMEM);
    assert_int_equal(*s, 42);
    free(s); /* ours, says the header */

    unfill(held, n);
    /* Nothing was spawned: nothing to drop, nothing force-closed. */
    assert_int_equal(eddy_runtime_free(rt), 0);
    assert_int_equal(atomic_load(&drops), 0);

    /* With room again, the same call succeeds and the free drops the state once. */
    assert_int_equal(eddy_runtime_new(NULL, &rt), 0);
    s = malloc(sizeof *s);
    assert_non_null(s);
    assert_int_equal(eddy_spawn(rt, never_ready, s, count_drop, &t), 0);
    assert_int_equal(eddy_runtime_free(rt), 2); /* the task and its handle */
    assert_int_equal(atomic_load(&drops), 1);
}

/* A channel takes its two handles together (one table lock hold): with one slot left,
 * eddy_oneshot_new and eddy_channel_new fail with EDDY_ENOMEM and leave that slot free
 * (a sleep still fits); with two, a oneshot works. */
static void test_channel_pair_enomem(void **state)
{
    (void)state;
    eddy_runtime_t rt;
    assert_int_equal(eddy_runtime_new(NULL, &rt), 0);
    eddy_future_t held[SLOTS];
    int n = fill(rt, held, SLOTS);
    assert_true(n > 2);
    assert_int_equal(eddy_future_free(held[--n]), 0); /* one slot left */
    eddy_sender_t tx;
    eddy_receiver_t rx;
    assert_int_equal(eddy_oneshot_new(rt, NULL, &tx, &rx), EDDY_ENOMEM);
    assert_int_equal(eddy_channel_new(rt, 4, NULL, &tx, &rx), EDDY_ENOMEM);
    assert_int_equal(eddy_sleep(rt, 1000 * MS, &held[n]), 0); /* the slot is still free */
    assert_int_equal(eddy_future_free(held[n]), 0);
    assert_int_equal(eddy_future_free(held[--n]), 0); /* two slots left */
    assert_int_equal(eddy_oneshot_new(rt, NULL, &tx, &rx), 0);
    assert_int_equal(eddy_channel_try_send(tx, (void *)7), 0);
    void *v;
    assert_int_equal(eddy_channel_try_recv(rx, &v), 0);
    assert_ptr_equal(v, (void *)7);
    assert_int_equal(eddy_channel_sender_free(tx), 0);
    assert_int_equal(eddy_channel_receiver_free(rx), 0);
    unfill(held, n);
    assert_int_equal(eddy_runtime_free(rt), 0);
}

static void test_timeout_enomem_keeps_inner(void **state)
{
    (void)state;
    eddy_runtime_t rt;
    assert_int_equal(eddy_runtime_new(NULL, &rt), 0);
    /* Cycle the free list's head slot to its last generation and keep that handle
     * as inner: freeing it retires its slot, so it cannot make room. */
    eddy_future_t inner;
    int cycles = 0;
    for (;;) {
        assert_int_equal(eddy_sleep(rt, 10 * MS, &inner), 0);
        if (GEN_OF(inner.id) >= GENERATIONS) break;
        assert_int_equal(eddy_future_free(inner), 0);
        assert_true(++cycles <= GENERATIONS);
    }
    eddy_future_t held[SLOTS];
    int n = fill(rt, held, SLOTS);

    eddy_future_t out = { 0 };
    int rc = eddy_timeout(rt, inner, 10 * MS, &out);
    if (rc == 0) {
        /* Also allowed: success, inner consumed into out. */
        assert_int_equal(eddy_future_free(inner), EDDY_EBADHANDLE);
        assert_int_equal(eddy_future_free(out), 0);
    } else {
        assert_int_equal(rc, EDDY_ENOMEM);
        /* Left untouched: still a live sleep that completes. */
        assert_int_equal(block_on_future(rt, inner), 0);
        assert_int_equal(eddy_future_free(inner), 0);
    }
    unfill(held, n);
    assert_int_equal(eddy_runtime_free(rt), 0);
}

static void test_exhausted_slot_is_retired(void **state)
{
    (void)state;
    eddy_runtime_t rt;
    assert_int_equal(eddy_runtime_new(NULL, &rt), 0);
    eddy_future_t stale;
    assert_int_equal(eddy_sleep(rt, MS, &stale), 0);
    assert_int_equal(eddy_future_free(stale), 0);
    uint64_t slot = SLOT_OF(stale.id), last_gen = GEN_OF(stale.id);
    int moved = 0;
    eddy_value_t v;
    for (int i = 0; i < 3 * GENERATIONS; i++) {
        eddy_future_t f;
        assert_int_equal(eddy_sleep(rt, MS, &f), 0);
        assert_true(f.id != stale.id);
        assert_int_equal(eddy_future_take_value(stale, &v), EDDY_EBADHANDLE);
        if (SLOT_OF(f.id) == slot) {
            assert_false(moved); /* a retired slot never comes back */
            assert_true(GEN_OF(f.id) == last_gen + 1 && GEN_OF(f.id) <= GENERATIONS);
            last_gen = GEN_OF(f.id);
        } else {
            /* LIFO reuse leaves the slot only once its last generation was used. */
            assert_int_equal(last_gen, GENERATIONS);
            moved = 1;
        }
        assert_int_equal(eddy_future_free(f), 0);
    }
    assert_true(moved);
    assert_int_equal(eddy_runtime_free(rt), 0);
}

/* Host tasks: one keeper waits so that every turn has an event (test_host.c's pattern). */
typedef struct {
    eddy_host_event_t ev[8];
    size_t n;
} events_t;

static int turn(eddy_runtime_t rt, const eddy_host_op_t *const *ops, size_t nops, events_t *e)
{
    eddy_host_batch_t b = { rt, ops, nops, e->ev, 8, 0 };
    int r = eddy_host_turn(&b);
    e->n = b.n;
    return r;
}

static eddy_host_task_t started(eddy_runtime_t rt)
{
    eddy_host_task_t t = { 0 };
    assert_int_equal(eddy_host_spawn(rt, &t), 0);
    events_t e;
    assert_int_equal(turn(rt, NULL, 0, &e), 0);
    assert_int_equal(e.n, 1);
    assert_true(e.ev[0].task.id == t.id);
    return t;
}

static void finish_host(eddy_runtime_t rt, eddy_host_task_t t, eddy_host_task_t keeper)
{
    eddy_host_op_t fin = { t, EDDY_HOST_OP_FINISH, 0, 0, 0 };
    eddy_host_op_t w = { keeper, EDDY_HOST_OP_WAIT, 0, 0, 0 };
    const eddy_host_op_t *ops[2] = { &fin, &w };
    assert_int_equal(eddy_host_wake(rt, keeper), 0);
    events_t e;
    assert_int_equal(turn(rt, ops, 2, &e), 0);
    assert_int_equal(e.n, 1);
}

static void test_host_ids_survive_generation_wrap(void **state)
{
    (void)state;
    enum { ROUNDS = 8 << HOST_GEN_BITS };
    eddy_runtime_t rt;
    assert_int_equal(eddy_runtime_new(NULL, &rt), 0);
    eddy_host_task_t keeper = started(rt);
    eddy_host_task_t stale[ROUNDS];
    for (int i = 0; i < ROUNDS; i++) {
        eddy_host_task_t t = started(rt);
        assert_true(t.id != keeper.id);
        for (int j = 0; j < i; j++) {
            assert_true(t.id != stale[j].id);
            assert_int_equal(eddy_host_wake(rt, stale[j]), EDDY_EBADHANDLE);
        }
        finish_host(rt, t, keeper);
        stale[i] = t;
    }
    /* Slots stay dense: one retired per 2^n spawns, not one per spawn. */
    assert_true((stale[ROUNDS - 1].id & 0xFFFFFFFFu) <= 2 + ROUNDS / 8);
    assert_true(eddy_runtime_free(rt) >= 0);
}

int main(void)
{
    char slots[16], gens[16], bits[16];
    snprintf(slots, sizeof slots, "%d", SLOTS);
    snprintf(gens, sizeof gens, "%d", GENERATIONS);
    snprintf(bits, sizeof bits, "%d", HOST_GEN_BITS);
    setenv("EDDY_TEST_HANDLE_SLOTS", slots, 1);
    setenv("EDDY_TEST_HANDLE_GENERATIONS", gens, 1);
    setenv("EDDY_TEST_HOST_GENERATION_BITS", bits, 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spawn_enomem_keeps_state),
        cmocka_unit_test(test_channel_pair_enomem),
        cmocka_unit_test(test_timeout_enomem_keeps_inner),
        cmocka_unit_test(test_exhausted_slot_is_retired),
        cmocka_unit_test(test_host_ids_survive_generation_wrap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

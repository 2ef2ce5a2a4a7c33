/* test_stale_handles.c — a freed handle stays dead however often its slot is reused.
 *
 * Handle slots are reused LIFO, so one create/free loop cycles a single slot. With
 * the old 24-bit generation, 2^24 - 1 cycles later the slot's generation came round
 * and a kept stale handle named the new, live object. The loop goes past that point
 * (sleep futures: no syscall, the cheapest handle) and checks the stale id on every
 * cycle. Seconds of work; its own process (alarm below, `timeout` from make). */
#include "harness.h"

#include <stdio.h>
#include <unistd.h>

#define CYCLES ((1u << 24) + 1024u)

static void test_stale_handle_stays_dead_past_generation_wrap(void **state)
{
    (void)state;
    /* ~2 s of CPU natively; valgrind (if a suite list ever includes this) is ~50x. */
    alarm(getenv("EDDY_UNDER_VALGRIND") ? 900 : 50);
    eddy_runtime_t rt;
    assert_int_equal(eddy_runtime_new(NULL, &rt), 0);
    eddy_future_t stale;
    assert_int_equal(eddy_sleep(rt, MS, &stale), 0);
    assert_int_equal(eddy_future_free(stale), 0);
    uint64_t start = now_ns();
    unsigned same_slot = 0;
    eddy_value_t v;
    for (uint32_t i = 0; i < CYCLES; i++) {
        eddy_future_t f;
        assert_int_equal(eddy_sleep(rt, MS, &f), 0);
        if (f.id == stale.id) fail_msg("cycle %u: the stale id names a live sleep again", i);
        /* Slot index: bits 0..21 (docs/C-ABI.md); the loop must really reuse it. */
        same_slot += (f.id & 0x3FFFFF) == (stale.id & 0x3FFFFF);
        int rc = eddy_future_take_value(stale, &v);
        if (rc != EDDY_EBADHANDLE) fail_msg("cycle %u: stale handle answered %d", i, rc);
        assert_int_equal(eddy_future_free(f), 0);
    }
    printf("stale handle: %u create/free cycles (%u in its slot) in %llu ms\n", CYCLES, same_slot,
           (unsigned long long)elapsed_ms(start));
    assert_true(same_slot == CYCLES);
    assert_int_equal(eddy_runtime_free(rt), 0);
    alarm(0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stale_handle_stays_dead_past_generation_wrap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

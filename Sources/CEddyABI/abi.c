#include "CEddyABI.h"

_Thread_local void *ceddy_tls_host_cx __attribute__((tls_model("initial-exec")));

uintptr_t ceddy_handle_pages[CEDDY_HANDLE_PAGES];

/* The empty cache's slot: a zero tag (no live id is 0) in a HandleSlot-sized block. */
static uint64_t ceddy_no_slot[6] __attribute__((aligned(16)));
#define CEDDY_NO_CACHE { UINT64_MAX, (uintptr_t)ceddy_no_slot }
_Thread_local ceddy_handle_cache_t ceddy_tls_tcp_cache __attribute__((tls_model("initial-exec"))) = CEDDY_NO_CACHE;

void ceddy_tcp_cache_reset(void) {
    ceddy_tcp_cache_set(UINT64_MAX, (uintptr_t)ceddy_no_slot);
}

/* The forgotten pages stay referenced from here: they are the child's copy of the
 * parent's memory, not a leak (valgrind's leak check runs in forked test children). */
static uintptr_t ceddy_forked_pages[CEDDY_HANDLE_PAGES] __attribute__((used));

void ceddy_handle_pages_forget(void) {
    for (uint32_t i = 0; i < CEDDY_HANDLE_PAGES; i++) {
        ceddy_forked_pages[i] = ceddy_handle_pages[i];
        __atomic_store_n(&ceddy_handle_pages[i], 0, __ATOMIC_RELAXED);
    }
}

#define CEDDY_ENTRY(suffix, name, message) { EDDY_##suffix, "EDDY_" #suffix, name, message },
static const ceddy_error_entry_t ceddy_errors[] = { EDDY_ERROR_MAP(CEDDY_ENTRY) };
#undef CEDDY_ENTRY

const ceddy_error_entry_t *ceddy_error_entry(size_t i) {
    return i < sizeof ceddy_errors / sizeof ceddy_errors[0] ? &ceddy_errors[i] : NULL;
}

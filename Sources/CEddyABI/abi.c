#include "CEddyABI.h"

_Thread_local void *ceddy_tls_host_cx __attribute__((tls_model("initial-exec")));

uintptr_t ceddy_handle_pages[CEDDY_HANDLE_PAGES];

void ceddy_handle_pages_forget(void) {
    for (uint32_t i = 0; i < CEDDY_HANDLE_PAGES; i++)
        __atomic_store_n(&ceddy_handle_pages[i], 0, __ATOMIC_RELAXED);
}

#define CEDDY_ENTRY(suffix, name, message) { EDDY_##suffix, "EDDY_" #suffix, name, message },
static const ceddy_error_entry_t ceddy_errors[] = { EDDY_ERROR_MAP(CEDDY_ENTRY) };
#undef CEDDY_ENTRY

const ceddy_error_entry_t *ceddy_error_entry(size_t i) {
    return i < sizeof ceddy_errors / sizeof ceddy_errors[0] ? &ceddy_errors[i] : NULL;
}

// CEddyABI: the C side of libeddy's C ABI (EddyC), kept out of the core's system layer
// (CEddySys): include/eddy.h as a Clang module (EddyC's exports are `@c @implementation`
// of its declarations, so the compiler checks every signature against the header and
// Swift reads its structs by field, never by offset), the host's thread-local cx slot,
// the handle table's page directory, include/eddy.h's error codes in a form Swift imports.
#ifndef CEDDYABI_H
#define CEDDYABI_H

#include "../../../include/eddy.h"

#include <stdbool.h>
#include <stdint.h>
#include "CEddySys.h"

/// The cx of the C ABI: the context currently being polled on this thread, i.e. the
/// core's raw-task context slot (the core publishes a C task's cx around each poll; a
/// host turn publishes its task's). Inline: read on every C ABI call that takes a cx.
static inline void *ceddy_tls_cx_get(void) { return ceddy_raw_context_get(); }
static inline void ceddy_tls_cx_set(void *value) { ceddy_raw_context_set(value); }
/// The cx eddy_host_enter published last on this thread (nil: none, or dropped): lets
/// eddy_host_turn drop that one while keeping the cx of a poll in progress further up.
extern _Thread_local void *ceddy_tls_host_cx __attribute__((tls_model("initial-exec")));
static inline void *ceddy_tls_host_cx_get(void) { return ceddy_tls_host_cx; }
static inline void ceddy_tls_host_cx_set(void *value) { ceddy_tls_host_cx = value; }

/// include/eddy.h's codes as constants Swift imports (it imports no macro such as
/// `(-EINVAL)`): CEDDY_EINVAL, CEDDY_EBADHANDLE ..., one per EDDY_ERROR_MAP entry.
#define CEDDY_CODE(suffix, name, message) CEDDY_##suffix = EDDY_##suffix,
enum : int32_t { EDDY_ERROR_MAP(CEDDY_CODE) };
#undef CEDDY_CODE

/// One EDDY_ERROR_MAP entry: its code, its macro's spelling ("EDDY_EINVAL"), the name
/// and the message.
typedef struct {
    int32_t code;
    const char *macro;
    const char *name;
    const char *message;
} ceddy_error_entry_t;

/// EDDY_ERROR_MAP's entry `i`, in the header's order; NULL past the last. For the
/// tests that check the Swift and Python tables against the header.
const ceddy_error_entry_t *ceddy_error_entry(size_t i) __attribute__((visibility("hidden")));

/// The C ABI handle table's page directory (EddyC's HandleTable): page base addresses,
/// 0 until a page exists. Static storage, so a lookup needs no "does the table exist
/// yet" test; hidden, so it is addressed directly. 4096 pages: HandleTable.maxPages.
#define CEDDY_HANDLE_PAGES 4096
extern uintptr_t ceddy_handle_pages[CEDDY_HANDLE_PAGES] __attribute__((visibility("hidden")));
static inline uintptr_t ceddy_handle_page(uint32_t page) {
    return __atomic_load_n(&ceddy_handle_pages[page], __ATOMIC_ACQUIRE);
}
static inline uintptr_t ceddy_handle_page_relaxed(uint32_t page) {
    return __atomic_load_n(&ceddy_handle_pages[page], __ATOMIC_RELAXED);
}
static inline void ceddy_handle_page_set(uint32_t page, uintptr_t base) {
    __atomic_store_n(&ceddy_handle_pages[page], base, __ATOMIC_RELEASE);
}
/// Forked child only (EddyC's fork handler): empties the child's copy of the directory,
/// so every hot-path lookup fails there and the export answers EDDY_EFORKED from its
/// error path instead of testing the fork flag on every call (docs/PERFORMANCE.md,
/// "C front door checks"). The pages themselves stay (leaked in the child, never reused).
void ceddy_handle_pages_forget(void) __attribute__((visibility("hidden")));

/// Per-thread cache of the last tcp handle this thread looked up successfully (EddyC's
/// HandleTable.lookupTcp): its id and slot address. The entry was checked to be owned by
/// this thread, and a live id's owner never changes, so a hit needs only the slot's tag
/// to still read `id` (a freed id never comes back: generations). Starts (and is reset
/// in a forked child) at an id no lookup can match with a slot whose tag is 0.
typedef struct {
    uint64_t id;
    uintptr_t slot;
} ceddy_handle_cache_t;
extern _Thread_local ceddy_handle_cache_t ceddy_tls_tcp_cache
    __attribute__((tls_model("initial-exec"), visibility("hidden")));
static inline uint64_t ceddy_tcp_cache_id(void) { return ceddy_tls_tcp_cache.id; }
static inline uintptr_t ceddy_tcp_cache_slot(void) { return ceddy_tls_tcp_cache.slot; }
static inline void ceddy_tcp_cache_set(uint64_t id, uintptr_t slot) {
    ceddy_tls_tcp_cache.id = id;
    ceddy_tls_tcp_cache.slot = slot;
}
/// Empties the calling thread's cache (forked child).
void ceddy_tcp_cache_reset(void) __attribute__((visibility("hidden")));

#endif

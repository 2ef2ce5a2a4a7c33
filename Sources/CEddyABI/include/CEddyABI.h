// CEddyABI: the C side of libeddy's C ABI (EddyC), kept out of the core's system layer
// (CEddySys): the thread-local slots the ABI checks a cx against, the handle table's page
// directory, and the raw-task hooks that run a C task (poll_fn + state + drop_fn) for the
// core (Eddy's RawTaskVTable).
#ifndef CEDDYABI_H
#define CEDDYABI_H

#include <stdbool.h>
#include <stdint.h>

/// Per-thread slot for the context currently being polled (C ABI cx validation).
/// Inline: read on every C ABI call that takes a cx (synchronous code only).
extern _Thread_local void *ceddy_tls_cx __attribute__((tls_model("initial-exec")));
static inline void *ceddy_tls_cx_get(void) { return ceddy_tls_cx; }
static inline void ceddy_tls_cx_set(void *value) { ceddy_tls_cx = value; }
/// The cx eddy_host_enter published last on this thread (nil: none, or dropped): lets
/// eddy_host_turn drop that one while keeping the cx of a poll in progress further up.
extern _Thread_local void *ceddy_tls_host_cx __attribute__((tls_model("initial-exec")));
static inline void *ceddy_tls_host_cx_get(void) { return ceddy_tls_host_cx; }
static inline void ceddy_tls_host_cx_set(void *value) { ceddy_tls_host_cx = value; }

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

/// A C task as the core runs it (the data of its raw task): eddy_spawn's poll_fn, state
/// and drop_fn, and the value poll_fn returned last. Allocated and freed by EddyC.
typedef struct ceddy_ctask {
    int32_t (*poll)(void *state, void *cx);
    void *state;
    void (*drop)(void *state);
    int32_t result;
} ceddy_ctask;

/// What poll_fn returns while pending (include/eddy.h's EDDY_PENDING).
#define CEDDY_CTASK_PENDING 1

/// The raw task's poll hook: publishes `cx` in ceddy_tls_cx for the call (saved and
/// restored: a nested poll, e.g. a block_on of another runtime inside a C task, must leave
/// the outer one valid), calls poll_fn; `true` once it returned anything but pending
/// (the value is kept in `result`).
bool ceddy_ctask_poll(void *task, void *cx);

/// Runs drop_fn (if any) on the state; EddyC calls it exactly once per task.
static inline void ceddy_ctask_drop_state(ceddy_ctask *t) {
    if (t->drop != 0) t->drop(t->state);
}

#endif

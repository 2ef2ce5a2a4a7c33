#include "CEddyABI.h"

_Thread_local void *ceddy_tls_cx __attribute__((tls_model("initial-exec")));
_Thread_local void *ceddy_tls_host_cx __attribute__((tls_model("initial-exec")));

uintptr_t ceddy_handle_pages[CEDDY_HANDLE_PAGES];

bool ceddy_ctask_poll(void *task, void *cx) {
    ceddy_ctask *t = task;
    void *previous = ceddy_tls_cx;
    ceddy_tls_cx = cx;
    int32_t r = t->poll(t->state, cx);
    ceddy_tls_cx = previous;
    if (r == CEDDY_CTASK_PENDING) return false;
    t->result = r;
    return true;
}

#include "CEddyABI.h"

_Thread_local void *ceddy_tls_host_cx __attribute__((tls_model("initial-exec")));

uintptr_t ceddy_handle_pages[CEDDY_HANDLE_PAGES];

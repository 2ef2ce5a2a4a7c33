/* harness.h — shared helpers for Eddy's C test suites (cmocka).
 *
 * Every suite is one process. Every test:
 *   - starts from a fixture that records the number of open descriptors
 *     (/proc/self/fd) and creates a runtime with default settings;
 *   - ends with FINISH(f): eddy_runtime_free(rt) == 0 (the test freed every
 *     handle it made) and the descriptor count back where it started;
 *   - is bounded by alarm(): a hang kills the process with SIGALRM, and the last
 *     "[ RUN      ]" line names the culprit (the make rule adds `timeout 60`).
 */
#ifndef EDDY_TEST_HARNESS_H
#define EDDY_TEST_HARNESS_H

#define _GNU_SOURCE 1

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <cmocka.h>

#include "eddy.h"

#define MS 1000000ull /* nanoseconds per millisecond */

typedef struct {
    eddy_runtime_t rt;
    int fds; /* descriptors open before the runtime was created */
} fixture_t;

/* Seconds a single test may take before SIGALRM ends the process (times slow_factor()). */
#define TEST_ALARM_SECONDS 30

/* How many times slower than a plain run this process may be: 20 under valgrind
 * (EDDY_UNDER_VALGRIND, set by `make san-valgrind`), 3 when built with ASan, else 1.
 * Alarms and "happens within" waits scale by it; never-early bounds and relations
 * between two measured times do not need to. */
unsigned slow_factor(void);

int count_fds(void);
uint64_t now_ns(void);
uint64_t elapsed_ms(uint64_t start_ns);
void sleep_ms(unsigned ms);

/* cmocka setup/teardown: fixture with a default runtime. */
int fx_setup(void **state);
int fx_teardown(void **state);
/* Setup that records descriptors but creates no runtime (f->rt.id == 0). */
int fx_setup_nort(void **state);
/* fx_setup plus a fresh folder "/tmp/eddy-<tag>-XXXXXX" in fx_dir (for socket files);
 * fx_dir_teardown removes it with all it holds, then runs fx_teardown. */
extern char fx_dir[64];
int fx_dir_setup(void **state, const char *tag);
int fx_dir_teardown(void **state);

/* Free the fixture's runtime (asserting 0 force-closed handles) and check fds. */
void finish(fixture_t *f);
#define FINISH(f) finish(f)
/* Check the descriptor count only (for tests that freed their runtime themselves). */
void check_fds(const fixture_t *f);

/* Plain POSIX helpers (blocking sockets), used as independent peers. */
int raw_listen(const char *host, uint16_t *port); /* bound + listening, blocking */
int raw_connect(const char *host, uint16_t port); /* blocking connect */
int raw_bound_unlistened(uint16_t *port);          /* bound 127.0.0.1:0, not listening */
int write_all_fd(int fd, const void *buf, size_t len);
ssize_t read_full_fd(int fd, void *buf, size_t len); /* until len or EOF */

/* Deterministic byte pattern: byte at offset `off` of stream `id`. */
static inline unsigned char pattern_byte(unsigned id, size_t off)
{
    uint32_t x = (uint32_t)off * 2654435761u ^ (id * 40503u + 0x9e37u);
    x ^= x >> 13;
    return (unsigned char)(x ^ (x >> 7) ^ id);
}

/* A poll_fn that drives one future handle to completion.
 * state: await_t; READY -> task status 0, error -> task status = error. */
typedef struct {
    eddy_future_t fut;
    int polls;
    int result; /* last eddy_future_poll result */
} await_t;
int await_poll(void *state, eddy_cx_t *cx);

/* Run `fut` to completion with eddy_block_on; returns the task status. */
int block_on_future(eddy_runtime_t rt, eddy_future_t fut);

/* A probe task (test_tasks, test_shutdown): counts polls and drops; with sleep_ms
 * it first sleeps that long (its sleep future freed by probe_drop if never done),
 * then returns `result` (0: EDDY_READY). */
typedef struct {
    int polls;
    int drops;
    unsigned sleep_ms; /* 0: complete on first poll */
    int result;        /* what the poll_fn returns when done */
    eddy_future_t sleep;
} probe_t;

int probe_poll(void *state, eddy_cx_t *cx);
void probe_drop(void *state);

#endif

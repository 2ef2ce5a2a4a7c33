/* eddy.h — the C ABI of the Eddy async I/O runtime (libeddy.so).
 *
 * Conventions (they hold for every function below unless its comment says
 * otherwise):
 *
 *   Return values. Every function except eddy_version*, eddy_strerror and
 *     eddy_err_name returns int: >= 0 is success (polls return EDDY_READY or
 *     EDDY_PENDING), < 0 is an error code: a negative errno (EDDY_ECONNREFUSED
 *     is -ECONNREFUSED ...) or one of Eddy's own codes below -5000.
 *     eddy_strerror()/eddy_err_name() describe any code.
 *
 *   Outputs go through pointer arguments and are written only on success.
 *     A NULL out-pointer is EDDY_EINVAL.
 *
 *   Handles are generational ids wrapped in one-member structs, so the C type
 *     checker keeps a task from being passed as a stream. A stale (freed),
 *     forged, zero, wrong-kind handle, or a handle whose runtime was freed, is
 *     EDDY_EBADHANDLE, never a crash. Handles are plain values: copying one
 *     does not duplicate the object; free each object once.
 *
 *   Threads. A runtime belongs to the thread that created it (its "owning
 *     thread"); eddy_runtime_run / run_until / block_on drive it on that thread.
 *     Unless a function says "any thread", it must be called on the owning
 *     thread of the runtime its handle belongs to: from inside a poll_fn or
 *     callback run by that runtime, or while the runtime is not running.
 *     Any other thread gets EDDY_EWRONGTHREAD.
 *
 *   Workers (multi-thread runtime, eddy_config_t.workers > 1; the rest of this
 *     header speaks of the one-worker runtime, the default). The owning thread
 *     drives worker 0 inside run / run_until / block_on; the runtime starts
 *     workers - 1 more threads (every signal blocked), each driving its own
 *     epoll/io_uring instance, from eddy_runtime_new until eddy_runtime_free.
 *     A task runs on one worker for its whole life: eddy_spawn from inside a
 *     poll_fn runs the new task on the caller's worker; from a thread that is
 *     no worker, on worker 0 while no thread runs it (the owning thread setting
 *     up), else on the first worker to take it from the runtime's global queue,
 *     before its first poll (an idle one is woken for it); eddy_spawn_on picks
 *     the worker. So a poll_fn may run on any
 *     worker thread, but each task's polls (and its drop_fn) on one thread, one
 *     at a time: a task's `state` needs no lock; state shared by tasks of
 *     different workers does (atomics or a mutex), as between any threads.
 *     "Owning thread" then reads "the thread of the worker the handle belongs
 *     to": a handle made inside a poll_fn (or callback) running on worker k —
 *     a socket, a future, a sleep, a task handle — belongs to worker k's thread,
 *     where its registration lives; one made elsewhere to the owning thread
 *     (worker 0). Functions that make handles from a runtime handle
 *     (eddy_tcp_listen*, eddy_sleep*, eddy_spawn_blocking, eddy_fd_*, ...) accept
 *     it on any worker of that runtime; run, run_until, block_on, free and
 *     task_dump stay on the owning thread. eddy_block_on is called by a thread
 *     that is not a worker (the owning thread before it runs the runtime).
 *     eddy_runtime_shutdown from a poll_fn on any worker behaves as from inside
 *     one of the runtime's tasks: it begins the shutdown of every worker and
 *     returns EDDY_PENDING.
 *
 *   Contexts. An eddy_cx_t* is only valid during the poll_fn call that
 *     received it. Functions taking a cx check it is the context of the poll in
 *     progress on the calling thread; anything else is EDDY_EINVAL.
 *
 *   Fork. In a child process created by fork() after the first runtime was
 *     created, every function returns EDDY_EFORKED (eddy_version*,
 *     eddy_strerror and eddy_err_name still work). Create runtimes after fork.
 *
 *   Errors common to (almost) every function and not repeated below:
 *     EDDY_EFORKED, EDDY_EBADHANDLE (for handle arguments), EDDY_EWRONGTHREAD
 *     (for owning-thread functions), EDDY_EINVAL (NULL out-pointer or invalid
 *     cx).
 *
 *   Thread-safety summary: any thread — eddy_version, eddy_version_string,
 *     eddy_strerror, eddy_err_name, eddy_config_init, eddy_runtime_new,
 *     eddy_spawn, eddy_task_abort, eddy_waker_wake, eddy_waker_free (and
 *     eddy_spawn_on, eddy_runtime_workers, eddy_runtime_worker_metrics).
 *     Everything else: the owning thread (see "Workers" for several).
 */
#ifndef EDDY_H
#define EDDY_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Version of this header. eddy_version() returns the library's EDDY_VERSION_HEX;
 * a program can compare both to detect a mismatched libeddy.so. */
#define EDDY_VERSION_MAJOR 0
#define EDDY_VERSION_MINOR 1
#define EDDY_VERSION_PATCH 0
#define EDDY_VERSION_HEX ((EDDY_VERSION_MAJOR << 16) | (EDDY_VERSION_MINOR << 8) | EDDY_VERSION_PATCH)

/* ---- Error codes (one table) ---- */
/* Poll results: the operation completed (READY) or the current task's waker
 * was stored and will be woken when progress is possible (PENDING). */
#define EDDY_READY 0
#define EDDY_PENDING 1

/* Error codes: a negative errno where one exists (this platform's <errno.h>
 * value), Eddy's own below -5000. Their names and messages are EDDY_ERROR_MAP
 * below. */
#define EDDY_EINTR (-EINTR)
#define EDDY_EAGAIN (-EAGAIN)
#define EDDY_ENOMEM (-ENOMEM)
#define EDDY_EBUSY (-EBUSY)
#define EDDY_EINVAL (-EINVAL)
#define EDDY_EMFILE (-EMFILE)
#define EDDY_EPIPE (-EPIPE)
#define EDDY_EADDRINUSE (-EADDRINUSE)
#define EDDY_EADDRNOTAVAIL (-EADDRNOTAVAIL)
#define EDDY_ECONNRESET (-ECONNRESET)
#define EDDY_ENOTCONN (-ENOTCONN)
#define EDDY_ETIMEDOUT (-ETIMEDOUT)
#define EDDY_ECONNREFUSED (-ECONNREFUSED)
#define EDDY_ECANCELED (-ECANCELED)
#define EDDY_EBADHANDLE (-5001)
#define EDDY_EFORKED (-5002)
#define EDDY_ESHUTDOWN (-5003)
#define EDDY_EWRONGTHREAD (-5004)
#define EDDY_ENOTREADY (-5005)
#define EDDY_EBADPOLL (-5006)
/* ---- names (issue 15 item 1): resolver failures ----
 * getaddrinfo's EAI_* values collide with negative errno numbers (glibc's
 * EAI_NONAME is -2 = -ENOENT), so Eddy gives each its own code, -5100 + the
 * glibc value, with getaddrinfo's message (gai_strerror). EAI_SYSTEM is
 * reported as the errno it carries. */
#define EDDY_EAI_BADFLAGS (-5101)
#define EDDY_EAI_NONAME (-5102)
#define EDDY_EAI_AGAIN (-5103)
#define EDDY_EAI_FAIL (-5104)
#define EDDY_EAI_NODATA (-5105)
#define EDDY_EAI_FAMILY (-5106)
#define EDDY_EAI_SOCKTYPE (-5107)
#define EDDY_EAI_SERVICE (-5108)
#define EDDY_EAI_ADDRFAMILY (-5109)
#define EDDY_EAI_MEMORY (-5110)
#define EDDY_EAI_OVERFLOW (-5112)
/* ---- end of names codes ---- */

/* Every code above, once, with the name eddy_err_name returns for it and the
 * message eddy_strerror returns (like libuv's UV_ERRNO_MAP):
 * XX(suffix, name, message), the code being EDDY_##suffix. errno codes are
 * named by their errno and carry glibc's wording (on every platform); other
 * errno values get the C library's strerror text. Expand it to switch over
 * codes, e.g.
 *   #define NAME_CASE(s, name, msg) case EDDY_##s: return name;
 *   switch (code) { EDDY_ERROR_MAP(NAME_CASE) }
 * The library's table (Sources/Eddy/Sys/ErrorTable.swift) and the Python
 * binding's (_lib.ERRORS) are checked against it entry by entry. */
#define EDDY_ERROR_MAP(XX)                                                                           \
    XX(READY, "EDDY_READY", "success")                                                               \
    XX(PENDING, "EDDY_PENDING", "operation pending")                                                 \
    XX(EINTR, "EINTR", "Interrupted system call")                                                    \
    XX(EAGAIN, "EAGAIN", "Resource temporarily unavailable")                                         \
    XX(ENOMEM, "ENOMEM", "Cannot allocate memory")                                                   \
    XX(EBUSY, "EBUSY", "Device or resource busy")                                                    \
    XX(EINVAL, "EINVAL", "Invalid argument")                                                         \
    XX(EMFILE, "EMFILE", "Too many open files")                                                      \
    XX(EPIPE, "EPIPE", "Broken pipe")                                                                \
    XX(EADDRINUSE, "EADDRINUSE", "Address already in use")                                           \
    XX(EADDRNOTAVAIL, "EADDRNOTAVAIL", "Cannot assign requested address")                            \
    XX(ECONNRESET, "ECONNRESET", "Connection reset by peer")                                         \
    XX(ENOTCONN, "ENOTCONN", "Transport endpoint is not connected")                                  \
    XX(ETIMEDOUT, "ETIMEDOUT", "Connection timed out")                                               \
    XX(ECONNREFUSED, "ECONNREFUSED", "Connection refused")                                           \
    XX(ECANCELED, "ECANCELED", "Operation canceled")                                                 \
    XX(EBADHANDLE, "EDDY_EBADHANDLE", "stale, forged, wrong-kind or freed handle")                   \
    XX(EFORKED, "EDDY_EFORKED", "called in a child process after fork()")                            \
    XX(ESHUTDOWN, "EDDY_ESHUTDOWN", "the runtime is shut down or being freed")                       \
    XX(EWRONGTHREAD, "EDDY_EWRONGTHREAD", "called from a thread that may not use this runtime or object now") \
    XX(ENOTREADY, "EDDY_ENOTREADY", "result not available: not complete yet or already taken")       \
    XX(EBADPOLL, "EDDY_EBADPOLL", "poll function returned a value that is not READY, PENDING or negative") \
    /* ---- names (issue 15 item 1): getaddrinfo's messages ---- */                                 \
    XX(EAI_BADFLAGS, "EDDY_EAI_BADFLAGS", "Bad value for ai_flags")                                  \
    XX(EAI_NONAME, "EDDY_EAI_NONAME", "Name or service not known")                                   \
    XX(EAI_AGAIN, "EDDY_EAI_AGAIN", "Temporary failure in name resolution")                          \
    XX(EAI_FAIL, "EDDY_EAI_FAIL", "Non-recoverable failure in name resolution")                      \
    XX(EAI_NODATA, "EDDY_EAI_NODATA", "No address associated with hostname")                         \
    XX(EAI_FAMILY, "EDDY_EAI_FAMILY", "ai_family not supported")                                     \
    XX(EAI_SOCKTYPE, "EDDY_EAI_SOCKTYPE", "ai_socktype not supported")                               \
    XX(EAI_SERVICE, "EDDY_EAI_SERVICE", "Servname not supported for ai_socktype")                    \
    XX(EAI_ADDRFAMILY, "EDDY_EAI_ADDRFAMILY", "Address family for hostname not supported")           \
    XX(EAI_MEMORY, "EDDY_EAI_MEMORY", "Memory allocation failure")                                   \
    XX(EAI_OVERFLOW, "EDDY_EAI_OVERFLOW", "Argument buffer overflow")
/* ---- end of error codes ---- */

/* Handles (see "Handles" above). The zero id {0} is never issued: it is a
 * safe "no handle" value and is rejected with EDDY_EBADHANDLE. */
typedef struct { uint64_t id; } eddy_runtime_t;
typedef struct { uint64_t id; } eddy_task_t;
typedef struct { uint64_t id; } eddy_future_t;
typedef struct { uint64_t id; } eddy_tcp_t;
typedef struct { uint64_t id; } eddy_waker_t;
typedef struct { uint64_t id; } eddy_fd_t;
/* The context of the poll in progress; valid only during that poll_fn call. */
typedef struct eddy_cx eddy_cx_t;

/* A value passed to or returned from a blocking call. */
/* A value passed to or returned from a blocking call (see eddy_blocking_call
 * for which member each signature letter uses). */
typedef union {
    int64_t i;
    uint64_t u;
    double d;
    float f;
    void *p;
} eddy_value_t;

#define EDDY_CONFIG_RETURN_ON_SIGNAL 0x1u /* run/block_on return EDDY_EINTR when a signal interrupts the wait */

/* Runtime configuration. Always initialise with eddy_config_init() and then
 * change fields: struct_size lets later versions grow the struct. */
typedef struct {
    uint32_t struct_size;      /* sizeof(eddy_config_t), set by eddy_config_init */
    uint32_t flags;            /* EDDY_CONFIG_* */
    uint32_t event_batch;      /* events per epoll_wait, 0 = default (1024), at most 1024 */
    uint32_t task_budget;      /* polls per tick before the reactor is checked, 0 = default (128), at most 2^20 */
    uint32_t blocking_threads; /* blocking pool's thread limit (started on demand), 0 = default (4), at most 1024 */
    /* ---- driver (io_uring) ---- */
    uint32_t driver;           /* EDDY_DRIVER_*: the kernel interface (eddy_runtime_driver) */
    /* ---- multi-thread runtime (issue 14) ---- */
    uint32_t workers;          /* worker threads, 0 = EDDY_WORKERS or 1, at most 1024 (see "Workers") */
} eddy_config_t;

/* ---- driver (io_uring) ---- */
/* eddy_config_t.driver: DEFAULT reads the environment variable EDDY_DRIVER
 * ("epoll" or "io_uring"; epoll when unset; eddy_runtime_new fails with
 * EDDY_EINVAL for any other value). IO_URING falls back to epoll where the kernel
 * or its policy refuses io_uring (eddy_runtime_driver tells which and why).
 * A caller built against the header before this field existed passes the smaller
 * struct_size and gets DEFAULT. */
#define EDDY_DRIVER_DEFAULT 0u
#define EDDY_DRIVER_EPOLL 1u
#define EDDY_DRIVER_IO_URING 2u

/* A task written in C: poll_fn(state, cx) returns EDDY_READY (done, status 0),
 * EDDY_PENDING (it arranged for cx's waker to be woken, e.g. by an eddy poll
 * function that returned PENDING, or through eddy_cx_waker), or a negative code
 * (done, status = that code). Any other value ends the task with EDDY_EBADPOLL.
 * poll_fn runs on the runtime's thread and must not block (multi-thread runtime: on
 * the thread of the task's worker, any worker for different tasks; see "Workers").
 * drop_fn(state) (may be NULL) runs exactly once, on the runtime's thread: after
 * the task completed, after it was aborted, or when the runtime is freed. It
 * is where `state` is freed.
 * then_fn(user, status) is eddy_future_then's completion callback. */
typedef int (*eddy_poll_fn)(void *state, eddy_cx_t *cx);
typedef void (*eddy_drop_fn)(void *state);
typedef void (*eddy_then_fn)(void *user, int status);

/* Version and errors. */
/* eddy_version: EDDY_VERSION_HEX of the loaded library. Any thread, never fails.
 * eddy_version_string: "MAJOR.MINOR.PATCH" ("0.1.0"), static storage, never NULL.
 *   Any thread.
 * eddy_strerror: a human-readable message for any code (EDDY_ERROR_MAP's for
 *   its codes, the C library's text for other errno values, "unknown error"
 *   for unknown codes).
 *   Static storage owned by the library, never NULL, never free it. Any thread,
 *   also in a forked child.
 * eddy_err_name: the symbolic name of a code: "ECONNREFUSED" for -ECONNREFUSED,
 *   "EDDY_EBADHANDLE" for Eddy's codes, "EDDY_READY"/"EDDY_PENDING" for 0/1,
 *   "EDDY_EUNKNOWN" for anything else. Static storage, never NULL. Any thread. */
unsigned int eddy_version(void);
const char *eddy_version_string(void);
const char *eddy_strerror(int code);
const char *eddy_err_name(int code);

/* Runtime. */
/* Fills *config with the defaults (struct_size set, flags 0, event_batch 1024,
 * task_budget 128, blocking_threads 4, driver EDDY_DRIVER_DEFAULT). Any thread.
 * Errors: EDDY_EINVAL (config NULL). */
int eddy_config_init(eddy_config_t *config);
/* Creates a current-thread runtime owned by the calling thread and writes its
 * handle to *out. config may be NULL (defaults); otherwise it must have been
 * initialised by eddy_config_init (struct_size checked) and carry only known
 * flags. Any thread (the caller becomes the owning thread).
 * Free it with eddy_runtime_free.
 * Errors: EDDY_EINVAL (out NULL, bad struct_size, unknown flag, a field above
 * its maximum, an unknown driver or EDDY_DRIVER value), EDDY_EMFILE
 * and other -errno (epoll/eventfd creation), EDDY_ENOMEM (handle table full). */
int eddy_runtime_new(const eddy_config_t *config, eddy_runtime_t *out);
/* ---- driver (io_uring) ---- */
/* Writes the driver the runtime waits with to *driver (EDDY_DRIVER_EPOLL or
 * EDDY_DRIVER_IO_URING) and to *fallback 0, or, when io_uring was asked for
 * (config or EDDY_DRIVER) and the runtime fell back to epoll, the negative code
 * of the refusal: -ENOSYS (no io_uring in this kernel, or a seccomp filter),
 * -EPERM (sysctl kernel.io_uring_disabled, container policy), -EOPNOTSUPP
 * (kernel older than 5.13). Either pointer may be NULL. Owning thread.
 * Errors: EDDY_EBADHANDLE, EDDY_EWRONGTHREAD. */
int eddy_runtime_driver(eddy_runtime_t rt, uint32_t *driver, int *fallback);
/* Runs the runtime until no task remains; returns 0. Owning thread, not from
 * inside one of the runtime's own tasks or callbacks (EDDY_EBUSY). This and
 * run_until / block_on finish a graceful shutdown begun meanwhile (see
 * eddy_runtime_shutdown) before they return; once shut down: EDDY_ESHUTDOWN.
 * Errors: EDDY_EBUSY, EDDY_EINTR (a signal interrupted the wait and the runtime
 * was configured with EDDY_CONFIG_RETURN_ON_SIGNAL; call again to resume),
 * other -errno from epoll_wait. */
int eddy_runtime_run(eddy_runtime_t rt);
/* Runs the runtime until `task` completes (other tasks run meanwhile) and writes
 * the task's status to *status (0, the negative code its poll_fn returned,
 * EDDY_ECANCELED if aborted, EDDY_EBADPOLL). The task handle stays valid: free
 * it with eddy_task_free. Owning thread, not from inside a task.
 * Errors: EDDY_EBUSY, EDDY_EINTR (see eddy_runtime_run), EDDY_EINVAL (status
 * NULL, or task belongs to another runtime). */
int eddy_runtime_run_until(eddy_runtime_t rt, eddy_task_t task, int *status);
/* Spawns poll/state/drop as a task, runs the runtime until it completes, frees
 * the task handle and writes its status to *status. Ownership of `state` passes
 * to the runtime as in eddy_spawn: drop(state) runs exactly once, even when
 * eddy_block_on fails after spawning. If the call fails before spawning (bad
 * handle, wrong thread, EDDY_EBUSY, EINVAL), drop is NOT called and the caller
 * still owns state. Owning thread, not from inside a task.
 * Errors: EDDY_EINVAL (poll or status NULL), EDDY_EBUSY, EDDY_EINTR. */
int eddy_block_on(eddy_runtime_t rt, eddy_poll_fn poll, void *state, eddy_drop_fn drop, int *status);
/* Frees the runtime: drops every task still alive (each drop_fn runs once, on
 * this thread), completes pending then-callbacks with EDDY_ECANCELED, closes
 * every socket, frees every handle the runtime owns (they become
 * EDDY_EBADHANDLE), stops and joins the blocking pool's threads (waiting for
 * calls already running; queued ones complete with EDDY_ESHUTDOWN).
 * Returns the number of tasks and handles it had to force-close: 0 when the
 * program freed everything itself. Owning thread; from inside one of its own
 * tasks or callbacks it does nothing and returns EDDY_EBUSY. */
int eddy_runtime_free(eddy_runtime_t rt);

/* ---- Graceful shutdown (issue 14) ---- */
/* What eddy_runtime_shutdown did. Set struct_size to sizeof(eddy_shutdown_report_t)
 * before the call: later versions may grow the struct. */
typedef struct {
    uint32_t struct_size;        /* sizeof(eddy_shutdown_report_t), set by the caller */
    uint32_t reserved;           /* 0 */
    uint64_t tasks_finished;     /* tasks that finished on their own before the deadline */
    uint64_t tasks_aborted;      /* tasks dropped at the deadline (each drop_fn ran once, on
                                  * the owning thread), and spawns from other threads that
                                  * arrived after the shutdown began */
    uint64_t handles_closed;     /* descriptors (sockets, eddy_fd watches) force-closed */
    uint64_t blocking_abandoned; /* blocking calls still queued: completed with
                                  * EDDY_ESHUTDOWN, never called */
    uint64_t blocking_running;   /* blocking calls still running at the deadline (they
                                  * finish later; eddy_runtime_free waits for them) */
} eddy_shutdown_report_t;

/* Shuts the runtime down gracefully: from now on eddy_spawn returns EDDY_ESHUTDOWN
 * (state stays with the caller); the tasks keep running (their blocking calls are
 * still accepted) until all have finished or timeout_ns has passed; then the tasks
 * left are dropped
 * (aborted), every descriptor the runtime owns is closed, queued blocking calls are
 * abandoned and running ones waited for until the deadline. The handles stay valid
 * until eddy_runtime_free (sockets then fail with EDDY_ESHUTDOWN); run, run_until and
 * block_on return EDDY_ESHUTDOWN (run returns 0 if no task was left). Free the runtime
 * with eddy_runtime_free as always.
 * report may be NULL; if not, report->struct_size must be set (EDDY_EINVAL otherwise)
 * and it is filled when the call returns 0.
 * Threads: any thread.
 *  - Owning thread, runtime not running: runs the runtime until the shutdown is
 *    finished (tasks, their drop_fns and then-callbacks run on this thread); 0.
 *  - Owning thread, from inside one of the runtime's tasks or callbacks: begins it and
 *    returns EDDY_PENDING; the run/run_until/block_on in progress finishes it before
 *    it returns.
 *  - Another thread while the owner runs the runtime: the owner's loop finishes it;
 *    the call waits for that until the deadline plus 1 s and returns 0, or EDDY_PENDING
 *    if the owner stopped running it first.
 *  - Another thread while nobody runs it: begins it and returns EDDY_PENDING; the
 *    owner's next run/run_until/block_on finishes it (eddy_runtime_free ends it at once).
 * Calling it again returns the report of the finished shutdown (0) or EDDY_PENDING
 * (an earlier deadline is kept; a later call can only bring it closer).
 * Errors: EDDY_EBADHANDLE, EDDY_EINVAL (report->struct_size wrong), EDDY_EBUSY (while
 * eddy_runtime_free runs), EDDY_EINTR (owning thread, EDDY_CONFIG_RETURN_ON_SIGNAL: the
 * shutdown goes on; call again), EDDY_EFORKED. */
int eddy_runtime_shutdown(eddy_runtime_t rt, uint64_t timeout_ns, eddy_shutdown_report_t *report);
/* ---- end graceful shutdown ---- */

/* ---- Metrics and task dump (issue 14) ---- */
/* A runtime's counters (eddy_runtime_metrics). Set struct_size to
 * sizeof(eddy_runtime_metrics_t) before the call: later versions may grow it. */
typedef struct {
    uint32_t struct_size;           /* sizeof(eddy_runtime_metrics_t), set by the caller */
    uint32_t reserved;              /* 0 */
    uint64_t polls;                 /* task polls (and Swift jobs run) since creation */
    uint64_t ticks;                 /* loop ticks: a batch of polls, then the reactor */
    uint64_t parks;                 /* ticks with nothing to run: the driver could sleep */
    uint64_t local_queue_depth;     /* tasks queued on the loop (exact on the owning
                                     * thread; 0 when read from another thread while it runs) */
    uint64_t remote_queue_depth;    /* wakes/spawns from other threads not yet taken */
    uint64_t live_tasks;            /* spawned, not finished (from another thread while
                                     * it runs: as of the loop's last park) */
    uint64_t blocking_threads;      /* blocking pool: threads alive */
    uint64_t blocking_idle_threads; /* ... waiting for a job */
    uint64_t blocking_queued;       /* ... jobs waiting for a thread */
    uint64_t blocking_running;      /* ... jobs running */
    uint64_t blocking_completed;    /* ... jobs completed since creation */
    uint64_t blocking_max_threads;  /* ... the limit (eddy_config_t.blocking_threads) */
} eddy_runtime_metrics_t;

/* Writes the runtime's counters to *out. Cheap enough to leave on: the loop updates
 * them once per tick with plain stores (no shared atomic read-modify-write); this call
 * reads them and takes the blocking pool's lock. Any thread.
 * Errors: EDDY_EBADHANDLE, EDDY_EINVAL (out NULL or out->struct_size wrong),
 * EDDY_EFORKED. */
int eddy_runtime_metrics(eddy_runtime_t rt, eddy_runtime_metrics_t *out);
/* Writes a text dump of the runtime's live tasks to buf, one line per task:
 *   task 0x55d0c8a3e0: scheduled|running|idle ... ; waits on fd 7 readable, timer in 12 ms
 * (the id is the task's address while it lives; "waits on -": queued, or waiting for
 * something outside the reactor: a join, a blocking call, a wake from another thread),
 * for diagnosing a stuck program. Writes at most cap bytes including a terminating NUL
 * (truncated if the dump is longer; buf may be NULL when cap is 0) and the dump's full
 * length (without the NUL) to *len: call again with a bigger buffer if *len >= cap.
 * Owning thread (also from inside one of its tasks).
 * Errors: EDDY_EBADHANDLE, EDDY_EWRONGTHREAD, EDDY_EINVAL (len NULL, buf NULL with
 * cap > 0), EDDY_EFORKED. */
int eddy_runtime_task_dump(eddy_runtime_t rt, char *buf, size_t cap, size_t *len);
/* ---- end metrics ---- */

/* ---- multi-thread runtime (issue 14) ---- */
/* Writes the runtime's number of workers (eddy_config_t.workers as resolved: 1 for
 * the one-worker runtime) to *out. Any thread.
 * Errors: EDDY_EBADHANDLE, EDDY_EINVAL (out NULL), EDDY_EFORKED. */
int eddy_runtime_workers(eddy_runtime_t rt, uint32_t *out);
/* eddy_spawn on worker `worker` (0 .. workers - 1), where the task runs for its whole
 * life; its handle belongs to the calling thread as eddy_spawn's does. Any thread.
 * Errors: as eddy_spawn, and EDDY_EINVAL (worker out of range; state stays the
 * caller's). */
int eddy_spawn_on(eddy_runtime_t rt, uint32_t worker, eddy_poll_fn poll, void *state, eddy_drop_fn drop,
                  eddy_task_t *out);
/* eddy_runtime_metrics of one worker: its own polls, ticks and parks (a worker's
 * counters are written by that worker only), its queue depths (local_queue_depth
 * reads 0 while another thread runs that worker) and live tasks; the blocking pool
 * is shared and reported by worker 0 only (zeros for the others). eddy_runtime_metrics
 * reports worker 0 (the same as worker 0 here). Any thread.
 * Errors: as eddy_runtime_metrics, and EDDY_EINVAL (worker out of range). */
int eddy_runtime_worker_metrics(eddy_runtime_t rt, uint32_t worker, eddy_runtime_metrics_t *out);
/* ---- end multi-thread runtime ---- */

/* Tasks. */
/* Spawns a task: the runtime calls poll(state, cx) on its thread until it
 * returns READY or an error. Ownership of state passes to the runtime:
 * drop(state) (may be NULL) runs exactly once on the runtime's thread; if
 * eddy_spawn fails, drop is not called and the caller keeps state.
 * *out receives a task handle: join it (eddy_task_poll_join, run_until), query
 * it, abort it, and release it with eddy_task_free (the task keeps running).
 * out may be NULL: the task is detached (tokio's dropped JoinHandle): it runs
 * as any other, but nothing can join, query or abort it, and no handle is
 * allocated (the cheaper spawn, for fire-and-forget tasks).
 * Any thread (from another thread the runtime is woken). Multi-thread runtime: the
 * task runs on the caller's worker from inside a poll_fn; from a thread that is no
 * worker, on worker 0 while no thread runs it, else on whichever worker takes it
 * from the runtime's global queue (an idle one is woken for it; see "Workers");
 * eddy_spawn_on picks one. A task
 * spawned from outside that uses a handle made for worker 0 (a socket the owning
 * thread made before running the runtime) gets EDDY_EWRONGTHREAD on another worker:
 * spawn it with eddy_spawn_on(rt, 0, ...). The handle belongs to the caller's
 * worker, or to the owning thread when called from a thread that is no worker.
 * Errors: EDDY_EINVAL (poll NULL), EDDY_ESHUTDOWN (runtime being freed, or
 * shut down or shutting down: eddy_runtime_shutdown),
 * EDDY_ENOMEM. */
int eddy_spawn(eddy_runtime_t rt, eddy_poll_fn poll, void *state, eddy_drop_fn drop, eddy_task_t *out);
/* From inside a poll_fn: EDDY_READY with the task's status in *status, or
 * EDDY_PENDING after storing cx's waker (woken when the task completes).
 * Owning thread. Errors: EDDY_EINVAL (status NULL, bad cx). */
int eddy_task_poll_join(eddy_task_t task, eddy_cx_t *cx, int *status);
/* EDDY_READY with the task's status in *status if it completed, else
 * EDDY_PENDING (no waker stored). Owning thread. Errors: EDDY_EINVAL. */
int eddy_task_status(eddy_task_t task, int *status);
/* Requests cancellation: the task will not be polled again, completes with
 * status EDDY_ECANCELED, and its drop_fn runs on the runtime's thread. Safe
 * before the first poll, while pending, after completion (no-op) and twice.
 * Does not free the handle. Any thread. Errors: EDDY_EBADHANDLE. */
int eddy_task_abort(eddy_task_t task);
/* Releases the task handle; the task itself keeps running detached (its
 * drop_fn still runs once). Owning thread. */
int eddy_task_free(eddy_task_t task);

/* Wakers and contexts. */
/* Clones the waker of the poll in progress into a new waker handle, so a
 * hand-written C leaf future can wake its task later (from any thread) with
 * eddy_waker_wake. Free it with eddy_waker_free. Owning thread, inside poll_fn.
 * Errors: EDDY_EINVAL (bad cx, out NULL), EDDY_ENOMEM. */
int eddy_cx_waker(eddy_cx_t *cx, eddy_waker_t *out);
/* Writes the handle of the runtime doing the poll in progress (not a new
 * handle: do not free it). Inside poll_fn. Errors: EDDY_EINVAL. */
int eddy_cx_runtime(eddy_cx_t *cx, eddy_runtime_t *out);
/* Schedules the waker's task to be polled again. Wake-once: waking an already
 * scheduled task does nothing; waking a completed task is a no-op returning 0.
 * The handle stays valid (wake as often as needed). Any thread.
 * Errors: EDDY_EBADHANDLE. */
int eddy_waker_wake(eddy_waker_t waker);
/* Frees a waker handle. Any thread. Errors: EDDY_EBADHANDLE. */
int eddy_waker_free(eddy_waker_t waker);

/* TCP, poll style (zero allocation). */
/* Binds and listens on a numeric IPv4 or IPv6 address ("127.0.0.1", "::1",
 * "0.0.0.0"); port 0 picks an ephemeral port (see eddy_tcp_local_port).
 * SO_REUSEADDR is set. backlog <= 0 means the default (1024). The listener
 * handle is owned by the caller: eddy_tcp_close it. Owning thread.
 * Errors: EDDY_EINVAL (host NULL or not a numeric address, out NULL),
 * EDDY_EADDRINUSE, EDDY_EADDRNOTAVAIL, EDDY_EMFILE, other -errno. */
int eddy_tcp_listen(eddy_runtime_t rt, const char *host, uint16_t port, int backlog, eddy_tcp_t *out);
/* EDDY_READY with a new connected stream in *out (owned by the caller,
 * eddy_tcp_close it; non-blocking, close-on-exec), or EDDY_PENDING. Under
 * EMFILE/ENFILE the listener backs off and re-arms itself and the poll stays
 * PENDING. Owning thread, inside poll_fn; no allocation except the new handle.
 * Errors: EDDY_EINVAL (bad cx, out NULL, handle is a stream), -errno. */
int eddy_tcp_poll_accept(eddy_tcp_t listener, eddy_cx_t *cx, eddy_tcp_t *out);
/* Reads up to len bytes into buf: EDDY_READY with *n bytes read (*n == 0 means
 * end of stream, or len == 0), or EDDY_PENDING. Zero allocation, no lock.
 * Owning thread, inside poll_fn.
 * Errors: EDDY_EINVAL (bad cx, n NULL, buf NULL with len > 0, handle is a
 * listener), EDDY_ECONNRESET, other -errno. */
int eddy_tcp_poll_read(eddy_tcp_t stream, eddy_cx_t *cx, void *buf, size_t len, size_t *n);
/* Writes up to len bytes from buf: EDDY_READY with *n bytes written (may be
 * fewer than len: loop), or EDDY_PENDING. Never raises SIGPIPE (a peer that
 * closed gives EDDY_EPIPE / EDDY_ECONNRESET). Zero allocation, no lock.
 * Owning thread, inside poll_fn.
 * Errors: EDDY_EINVAL (bad cx, n NULL, buf NULL with len > 0, listener),
 * EDDY_EPIPE, EDDY_ECONNRESET, other -errno. */
int eddy_tcp_poll_write(eddy_tcp_t stream, eddy_cx_t *cx, const void *buf, size_t len, size_t *n);
/* Shuts down the writing side (shutdown(SHUT_WR)): the peer reads end of
 * stream. EDDY_READY, or an error. Owning thread, inside poll_fn.
 * Errors: EDDY_EINVAL (bad cx, listener), EDDY_ENOTCONN, other -errno. */
int eddy_tcp_poll_shutdown(eddy_tcp_t stream, eddy_cx_t *cx);
/* Writes the local port of a listener or stream to *port. Owning thread.
 * Errors: EDDY_EINVAL (port NULL), -errno. */
int eddy_tcp_local_port(eddy_tcp_t tcp, uint16_t *port);
/* Enables (enabled != 0) or disables TCP_NODELAY on a stream. Owning thread.
 * Errors: EDDY_EINVAL (listener), -errno. */
int eddy_tcp_set_nodelay(eddy_tcp_t stream, int enabled);
/* Writes the socket descriptor of a listener or stream to *fd (like uv_fileno):
 * for socket options Eddy does not wrap, or a direct non-blocking send(2) that
 * falls back to eddy_tcp_poll_write on EAGAIN. Eddy still owns it: never close
 * it; the number is invalid after eddy_tcp_close (it may then name another
 * file). Reading from it behind Eddy's back can lose a readiness edge. Owning
 * thread. Errors: EDDY_EINVAL (fd NULL), EDDY_EBADHANDLE. */
int eddy_tcp_fd(eddy_tcp_t tcp, int *fd);
/* Closes the socket (deregistering it) and frees the handle; works for
 * listeners and streams. Owning thread. Errors: EDDY_EBADHANDLE. */
int eddy_tcp_close(eddy_tcp_t tcp);

/* ---- UDP and socket addresses/options (issue 15) ---- */
/* A UDP socket handle (see eddy_udp_bind). */
typedef struct { uint64_t id; } eddy_udp_t;

#define EDDY_ADDR_IPV4 4 /* eddy_addr_t.family: addr[0..3] is the IPv4 address */
#define EDDY_ADDR_IPV6 6 /* eddy_addr_t.family: addr[0..15] is the IPv6 address */

/* A numeric IPv4/IPv6 socket address by value: what the per-datagram functions
 * take and fill, so no string is parsed or built per datagram. Make one with
 * eddy_addr_parse, print one with eddy_addr_format. */
typedef struct {
    uint16_t family;   /* EDDY_ADDR_IPV4 or EDDY_ADDR_IPV6 */
    uint16_t port;     /* host byte order */
    uint32_t scope_id; /* IPv6 scope (interface index), 0 otherwise */
    uint8_t addr[16];  /* network byte order; IPv4 uses the first 4 bytes */
} eddy_addr_t;

/* Parses a numeric host ("127.0.0.1", "::1", "[::1]") and a port into *out.
 * No name resolution: a name, "localhost" included, is EDDY_EINVAL (resolve
 * it with eddy_resolve). Any thread.
 * Errors: EDDY_EINVAL (host or out NULL, not a numeric address). */
int eddy_addr_parse(const char *host, uint16_t port, eddy_addr_t *out);
/* Writes "1.2.3.4:5" or "[::1]:5" with a terminating NUL into buf (64 bytes
 * always suffice). Any thread. Errors: EDDY_EINVAL (addr or buf NULL, a
 * family that is neither EDDY_ADDR_IPV4 nor EDDY_ADDR_IPV6, len too small:
 * nothing is written then). */
int eddy_addr_format(const eddy_addr_t *addr, char *buf, size_t len);

/* Socket options for eddy_tcp_set_option / eddy_udp_set_option and their
 * get_option twins. Booleans take 0/1; which socket takes which option is the
 * kernel's call (NODELAY on UDP is -ENOPROTOOPT). */
#define EDDY_OPT_REUSEADDR 1           /* SO_REUSEADDR (on for every TCP listener) */
#define EDDY_OPT_REUSEPORT 2           /* SO_REUSEPORT (set before bind: see the bind/listen flags) */
#define EDDY_OPT_KEEPALIVE 3           /* SO_KEEPALIVE */
#define EDDY_OPT_KEEPALIVE_IDLE 4      /* TCP_KEEPIDLE, seconds (> 0) */
#define EDDY_OPT_KEEPALIVE_INTERVAL 5  /* TCP_KEEPINTVL, seconds (> 0) */
#define EDDY_OPT_KEEPALIVE_COUNT 6     /* TCP_KEEPCNT, probes (> 0) */
#define EDDY_OPT_SNDBUF 7              /* SO_SNDBUF bytes (> 0; Linux reports it doubled) */
#define EDDY_OPT_RCVBUF 8              /* SO_RCVBUF bytes (> 0; Linux reports it doubled) */
#define EDDY_OPT_LINGER 9              /* SO_LINGER seconds; -1 = off (the default) */
#define EDDY_OPT_NODELAY 10            /* TCP_NODELAY */
#define EDDY_OPT_BROADCAST 11          /* SO_BROADCAST */
#define EDDY_OPT_MULTICAST_LOOP 12     /* IP(V6)_MULTICAST_LOOP */
#define EDDY_OPT_MULTICAST_TTL 13      /* IP_MULTICAST_TTL / IPV6_MULTICAST_HOPS, 0..255 (0: this host only) */
#define EDDY_OPT_MULTICAST_IF 14       /* IP(V6)_MULTICAST_IF interface index (set only) */

#define EDDY_UDP_REUSEPORT 0x1u /* eddy_udp_bind flag: SO_REUSEPORT before bind */

/* Creates a UDP socket bound to a numeric IPv4/IPv6 address; port 0 picks an
 * ephemeral port (see eddy_udp_local_addr). flags: EDDY_UDP_* (other bits:
 * EDDY_EINVAL). The handle is the caller's: eddy_udp_close it. Owning thread.
 * Errors: EDDY_EINVAL (host NULL or not numeric, out NULL, unknown flags),
 * EDDY_EADDRINUSE, EDDY_EADDRNOTAVAIL, EDDY_EMFILE, other -errno. */
int eddy_udp_bind(eddy_runtime_t rt, const char *host, uint16_t port, uint32_t flags, eddy_udp_t *out);
/* Takes over an existing datagram socket descriptor (systemd socket
 * activation, a socket made elsewhere): made non-blocking and close-on-exec,
 * owned by Eddy from now on, closed by eddy_udp_close — and closed at once if
 * this fails. Owning thread. Errors: EDDY_EINVAL (out NULL, not an IPv4/IPv6 datagram
 * socket), -EBADF, -ENOTSOCK, EDDY_ENOMEM. */
int eddy_udp_from_fd(eddy_runtime_t rt, int fd, eddy_udp_t *out);
/* Connects the socket to *peer (immediate for UDP): eddy_udp_poll_send and
 * eddy_udp_poll_recv then work without addresses, only the peer's datagrams
 * are received, and ICMP errors from it (port unreachable) are reported by the
 * next send or receive as EDDY_ECONNREFUSED. Owning thread.
 * Errors: EDDY_EINVAL (peer NULL or bad family), -errno. */
int eddy_udp_connect(eddy_udp_t udp, const eddy_addr_t *peer);
/* Receives one datagram into buf: EDDY_READY with *n bytes stored (0 is an
 * empty datagram, not end of stream), *truncated set to 1 if the datagram was
 * longer than len (the rest is discarded: MSG_TRUNC), else 0, and the sender
 * in *from; or EDDY_PENDING. from and truncated may be NULL. len 0 takes one
 * datagram off the queue. Zero allocation. Owning thread, inside poll_fn.
 * Errors: EDDY_EINVAL (bad cx, n NULL, buf NULL with len > 0, len > SSIZE_MAX),
 * EDDY_ECONNREFUSED (connected socket: the peer's port is closed), -errno. */
int eddy_udp_poll_recv_from(eddy_udp_t udp, eddy_cx_t *cx, void *buf, size_t len, size_t *n,
                            eddy_addr_t *from, int *truncated);
/* Sends buf as one datagram to *to: EDDY_READY with *n == len, or
 * EDDY_PENDING (send buffer full). Zero allocation. Owning thread, inside
 * poll_fn. Errors: EDDY_EINVAL (bad cx, n or to NULL, bad family, buf NULL
 * with len > 0, len > SSIZE_MAX), -EMSGSIZE (longer than a datagram can be),
 * -EACCES (broadcast address without EDDY_OPT_BROADCAST), -errno. */
int eddy_udp_poll_send_to(eddy_udp_t udp, eddy_cx_t *cx, const void *buf, size_t len,
                          const eddy_addr_t *to, size_t *n);
/* eddy_udp_poll_recv_from without the sender (for a connected socket). */
int eddy_udp_poll_recv(eddy_udp_t udp, eddy_cx_t *cx, void *buf, size_t len, size_t *n, int *truncated);
/* Sends to the connected peer (see eddy_udp_poll_send_to).
 * Errors: as send_to, and -EDESTADDRREQ if not connected. */
int eddy_udp_poll_send(eddy_udp_t udp, eddy_cx_t *cx, const void *buf, size_t len, size_t *n);
/* Sets one EDDY_OPT_* option. Owning thread.
 * Errors: EDDY_EINVAL (unknown option, value out of range), -ENOPROTOOPT. */
int eddy_udp_set_option(eddy_udp_t udp, int option, int value);
/* Reads one EDDY_OPT_* option into *value. Owning thread.
 * Errors: EDDY_EINVAL (value NULL, unknown option, EDDY_OPT_MULTICAST_IF). */
int eddy_udp_get_option(eddy_udp_t udp, int option, int *value);
/* Joins (join != 0) or leaves multicast group `group` (numeric IPv4/IPv6) on
 * interface index `ifindex` (0: the kernel's choice; if_nametoindex("lo")
 * keeps everything on this host). Owning thread.
 * Errors: EDDY_EINVAL (group NULL or not a numeric address), -EADDRNOTAVAIL
 * (leaving a group not joined), -errno. */
int eddy_udp_multicast(eddy_udp_t udp, const char *group, uint32_t ifindex, int join);
/* Writes the bound address to *out. Owning thread. Errors: EDDY_EINVAL (out NULL). */
int eddy_udp_local_addr(eddy_udp_t udp, eddy_addr_t *out);
/* Writes the connected peer to *out. Owning thread.
 * Errors: EDDY_EINVAL (out NULL), EDDY_ENOTCONN. */
int eddy_udp_peer_addr(eddy_udp_t udp, eddy_addr_t *out);
/* Writes the descriptor to *fd (see eddy_tcp_fd: Eddy owns it). Owning thread.
 * Errors: EDDY_EINVAL (fd NULL). */
int eddy_udp_fd(eddy_udp_t udp, int *fd);
/* Closes the socket and frees the handle. Owning thread. Errors: EDDY_EBADHANDLE. */
int eddy_udp_close(eddy_udp_t udp);
/* ---- end UDP ---- */

/* ---- complete TCP (issue 15) ---- */
#define EDDY_TCP_REUSEPORT 0x1u /* eddy_tcp_listen_flags: SO_REUSEPORT before bind */

#define EDDY_SHUT_READ 0  /* eddy_tcp_shutdown: SHUT_RD (later reads: end of stream) */
#define EDDY_SHUT_WRITE 1 /* eddy_tcp_shutdown: SHUT_WR (the peer reads end of stream) */
#define EDDY_SHUT_BOTH 2  /* eddy_tcp_shutdown: SHUT_RDWR */

/* eddy_tcp_listen with flags: EDDY_TCP_REUSEPORT (several listeners on one port,
 * the kernel spreads connections). Other bits: EDDY_EINVAL. SO_REUSEADDR is set
 * as always. Errors: as eddy_tcp_listen. */
int eddy_tcp_listen_flags(eddy_runtime_t rt, const char *host, uint16_t port, int backlog, uint32_t flags,
                          eddy_tcp_t *out);
/* Takes over a listening TCP socket descriptor (systemd socket activation:
 * LISTEN_FDS descriptors from 3; see docs/NETWORKING.md): made non-blocking and
 * close-on-exec, owned by Eddy from now on, closed by eddy_tcp_close — and closed
 * at once if this fails. Owning thread.
 * Errors: EDDY_EINVAL (out NULL, not a listening stream socket), -EBADF,
 * -ENOTSOCK, EDDY_ENOMEM. */
int eddy_tcp_listener_from_fd(eddy_runtime_t rt, int fd, eddy_tcp_t *out);
/* Takes over a connected TCP stream descriptor (ownership as
 * eddy_tcp_listener_from_fd). Errors: EDDY_EINVAL (out NULL, not a stream
 * socket, a listening socket), -EBADF, -ENOTSOCK, EDDY_ENOMEM. */
int eddy_tcp_stream_from_fd(eddy_runtime_t rt, int fd, eddy_tcp_t *out);
/* shutdown(2) of a stream: how is EDDY_SHUT_READ, _WRITE or _BOTH. Immediate.
 * Owning thread. Errors: EDDY_EINVAL (listener, other how), EDDY_ENOTCONN. */
int eddy_tcp_shutdown(eddy_tcp_t stream, int how);
/* Writes the local address of a listener or stream to *out. Owning thread.
 * Errors: EDDY_EINVAL (out NULL). */
int eddy_tcp_local_addr(eddy_tcp_t tcp, eddy_addr_t *out);
/* Writes the peer address of a stream to *out. Owning thread.
 * Errors: EDDY_EINVAL (out NULL, listener), EDDY_ENOTCONN. */
int eddy_tcp_peer_addr(eddy_tcp_t stream, eddy_addr_t *out);
/* Sets one EDDY_OPT_* option (KEEPALIVE, KEEPALIVE_IDLE/INTERVAL/COUNT, SNDBUF,
 * RCVBUF, LINGER, NODELAY, REUSEADDR, REUSEPORT ...) on a listener or stream.
 * Owning thread. Errors: EDDY_EINVAL (unknown option, value out of range), -errno. */
int eddy_tcp_set_option(eddy_tcp_t tcp, int option, int value);
/* Reads one EDDY_OPT_* option into *value (LINGER: -1 when off). Owning thread.
 * Errors: EDDY_EINVAL (value NULL, unknown option), -errno. */
int eddy_tcp_get_option(eddy_tcp_t tcp, int option, int *value);
/* ---- end complete TCP ---- */

/* ---- Unix domain sockets (issue 15) ---- */
#define EDDY_UNIX_UNLINK_ON_CLOSE 0x1u /* eddy_unix_listen: eddy_tcp_close removes the socket file */

/* Binds and listens on a Unix-domain stream socket at `path`, or on the Linux
 * abstract name `@name` (no file). The listener is a tcp handle: accept with
 * eddy_tcp_poll_accept; the streams it yields work with every eddy_tcp_poll_*
 * function. A stale socket file in the way (nobody listens: a connect is refused)
 * is replaced; a live listener or another file there is EDDY_EADDRINUSE.
 * flags: EDDY_UNIX_UNLINK_ON_CLOSE (other bits: EDDY_EINVAL). backlog <= 0: 1024.
 * Owning thread. Errors: EDDY_EINVAL (path NULL, empty, or "@" alone; out NULL),
 * -ENAMETOOLONG (longer than sun_path holds: refused, never truncated),
 * EDDY_EADDRINUSE, -EACCES, -ENOENT (no such directory), other -errno. */
int eddy_unix_listen(eddy_runtime_t rt, const char *path, int backlog, uint32_t flags, eddy_tcp_t *out);
/* Creates a future that connects to the Unix-domain listener at `path` (or
 * `@name`); take the stream with eddy_future_take_tcp. It completes at its first
 * poll: no listener is -ENOENT (no file) or EDDY_ECONNREFUSED (a stale file), a
 * full backlog -EAGAIN. Owning thread.
 * Errors: EDDY_EINVAL (path NULL or empty, out NULL), -ENAMETOOLONG, EDDY_EMFILE. */
int eddy_unix_connect(eddy_runtime_t rt, const char *path, eddy_future_t *out);
/* The peer's credentials on a Unix-domain stream (SO_PEERCRED: recorded by the
 * kernel at connect time, not spoofable): any of pid, uid, gid may be NULL.
 * Owning thread. Errors: EDDY_EINVAL (listener), -EAFNOSUPPORT (a TCP stream). */
int eddy_tcp_peer_cred(eddy_tcp_t stream, int32_t *pid, uint32_t *uid, uint32_t *gid);
/* Sends a duplicate of descriptor fd over a Unix-domain stream (SCM_RIGHTS),
 * carried by one byte of stream data; the caller keeps fd. EDDY_READY or
 * EDDY_PENDING. Owning thread, inside poll_fn.
 * Errors: EDDY_EINVAL (bad cx, listener), -EBADF (fd not open), -EAFNOSUPPORT
 * (a TCP stream: Linux would send the byte without the descriptor), -EPIPE,
 * other -errno. */
int eddy_tcp_poll_send_fd(eddy_tcp_t stream, eddy_cx_t *cx, int fd);
/* Receives a descriptor sent with eddy_tcp_poll_send_fd (reads its one byte):
 * EDDY_READY with the new descriptor (close-on-exec, the caller's to close) in
 * *fd, or EDDY_PENDING. Owning thread, inside poll_fn.
 * Errors: EDDY_EINVAL (bad cx, fd NULL, listener), -ENODATA (end of stream),
 * -EBADMSG (a byte without a descriptor: plain data), -EAFNOSUPPORT (a TCP
 * stream), other -errno. */
int eddy_tcp_poll_recv_fd(eddy_tcp_t stream, eddy_cx_t *cx, int *fd);
/* ---- end Unix domain sockets ---- */

/* ---- names (issue 15 item 1) ---- */
/* Creates a future that resolves `host` (getaddrinfo on the runtime's blocking
 * pool) to every IPv4/IPv6 address, each with `port`; read them with
 * eddy_future_get_addrs once the future is ready. A numeric host completes at
 * once without the pool. Freeing the future cancels the lookup: a lookup not
 * started never runs, a running one's result is dropped (nothing leaks). A
 * lookup still running after 10 s fails with EDDY_EAI_AGAIN. Names in the
 * ".invalid" domain (RFC 6761) fail at once with EDDY_EAI_NONAME.
 * Owning thread. Errors: EDDY_EINVAL (host NULL, empty or longer than 253
 * bytes; out NULL), EDDY_ENOMEM; eddy_future_poll reports EDDY_EAI_* (resolver
 * failures, with getaddrinfo's message from eddy_strerror), -errno (EAI_SYSTEM's
 * errno), EDDY_ECANCELED. */
int eddy_resolve(eddy_runtime_t rt, const char *host, uint16_t port, eddy_future_t *out);
/* Copies the addresses of a completed resolve future (or a timeout wrapping
 * one) into addrs[0 .. min(cap, count)) and stores how many there are in
 * *count (call with cap 0 and addrs NULL to learn the count). The addresses
 * stay with the future until it is freed: calling again is fine. Owning thread.
 * Errors: EDDY_ENOTREADY (not completed), the future's own error if it failed,
 * EDDY_EINVAL (count NULL, addrs NULL with cap > 0, not a resolve future). */
int eddy_future_get_addrs(eddy_future_t fut, eddy_addr_t *addrs, size_t cap, size_t *count);
/* Creates a future that connects to one of addrs[0 .. n) with Happy Eyeballs
 * (RFC 8305): addresses interleaved by family (the first address's family
 * first), one attempt at once, the next when 250 ms pass without a connection
 * or at once when every attempt in flight failed; the first to connect wins,
 * the others are closed. Take the stream with eddy_future_take_tcp; when every
 * attempt fails, the future's error is the last attempt's. The array is copied.
 * Owning thread. Errors: EDDY_EINVAL (addrs or out NULL, n 0 or above 1024, an
 * address that is neither IPv4 nor IPv6), EDDY_ENOMEM. */
int eddy_tcp_connect_addrs(eddy_runtime_t rt, const eddy_addr_t *addrs, size_t n, eddy_future_t *out);
/* eddy_tcp_listen_flags on a resolved address (listening on a name: resolve
 * it with eddy_resolve, then listen on one of its addresses). Owning thread.
 * Errors: EDDY_EINVAL (addr or out NULL, bad family, unknown flags, backlog
 * < 0), EDDY_EADDRINUSE, -errno. backlog 0: 1024. */
int eddy_tcp_listen_addr(eddy_runtime_t rt, const eddy_addr_t *addr, int backlog, uint32_t flags, eddy_tcp_t *out);
/* ---- end names ---- */

/* ---- Unix datagram sockets (issue 15 item 3) ---- */
/* A Unix-domain datagram socket: the eddy_udp_* shape with paths for addresses
 * (a filesystem path, or "@name" for a Linux abstract name). */
typedef struct { uint64_t id; } eddy_unixdgram_t;
#define EDDY_UNIXDGRAM_UNLINK_ON_CLOSE 0x1u /* eddy_unixdgram_bind: remove the file on close */
/* The room a sender's path needs in eddy_unixdgram_poll_recv_from: sun_path's 108
 * bytes, the '@' of an abstract name and the NUL. */
#define EDDY_UNIX_PATH_MAX 110
/* Binds a new datagram socket to `path` (or "@name"); path NULL makes an unbound
 * socket (it can send, or connect; its datagrams arrive unnamed). A stale socket
 * file in the way is replaced; a live socket or another file is EDDY_EADDRINUSE.
 * flags: EDDY_UNIXDGRAM_UNLINK_ON_CLOSE (other bits: EDDY_EINVAL). Owning thread.
 * Errors: EDDY_EINVAL (out NULL, path empty, "@" alone), -ENAMETOOLONG (longer than
 * sun_path holds: refused, never truncated), EDDY_EADDRINUSE, -errno. */
int eddy_unixdgram_bind(eddy_runtime_t rt, const char *path, uint32_t flags, eddy_unixdgram_t *out);
/* Sets the default destination (connect(2), immediate). Owning thread.
 * Errors: EDDY_EINVAL (path NULL or empty), -ENAMETOOLONG, -ENOENT (no such
 * file), EDDY_ECONNREFUSED (nobody bound there), -errno. */
int eddy_unixdgram_connect(eddy_unixdgram_t s, const char *path);
/* Receives one datagram into buf: EDDY_READY with *n bytes stored (0: an empty
 * datagram), *truncated 1 if it was longer than len (the rest is discarded), and
 * the sender's path in from ("" for an unbound sender, "@name" for an abstract
 * one); or EDDY_PENDING. from and truncated may be NULL. Owning thread, inside
 * poll_fn. Errors: EDDY_EINVAL (bad cx, n NULL, buf NULL with len > 0, len >
 * SSIZE_MAX, from_len below EDDY_UNIX_PATH_MAX with from), -errno. */
int eddy_unixdgram_poll_recv_from(eddy_unixdgram_t s, eddy_cx_t *cx, void *buf, size_t len, size_t *n,
                                  char *from, size_t from_len, int *truncated);
/* Sends buf as one datagram to `path`: EDDY_READY with *n == len, or EDDY_PENDING.
 * The path is parsed on each call, without allocation. Owning thread, inside
 * poll_fn. Errors:
 * EDDY_EINVAL (bad cx, n or path NULL, buf NULL with len > 0, len > SSIZE_MAX,
 * empty path), -ENAMETOOLONG, -ENOENT (no such file), EDDY_ECONNREFUSED (nobody
 * bound there), -EMSGSIZE, -errno. */
int eddy_unixdgram_poll_send_to(eddy_unixdgram_t s, eddy_cx_t *cx, const void *buf, size_t len, const char *path,
                                size_t *n);
/* eddy_unixdgram_poll_recv_from without the sender. */
int eddy_unixdgram_poll_recv(eddy_unixdgram_t s, eddy_cx_t *cx, void *buf, size_t len, size_t *n, int *truncated);
/* Sends to the connected peer. Errors: as send_to, and EDDY_ENOTCONN if not connected. */
int eddy_unixdgram_poll_send(eddy_unixdgram_t s, eddy_cx_t *cx, const void *buf, size_t len, size_t *n);
/* Writes the descriptor to *fd (Eddy owns it). Owning thread. Errors: EDDY_EINVAL (fd NULL). */
int eddy_unixdgram_fd(eddy_unixdgram_t s, int *fd);
/* Takes over an existing Unix-domain datagram socket descriptor (inherited,
 * received with eddy_tcp_poll_recv_fd, socket activation): made non-blocking and
 * close-on-exec, owned by Eddy from now on, closed by eddy_unixdgram_close — and
 * closed at once if this fails. Owning thread. Errors: EDDY_EINVAL (out NULL,
 * not a datagram socket, not Unix-domain: a UDP socket), -EBADF, -ENOTSOCK,
 * EDDY_ENOMEM. */
int eddy_unixdgram_from_fd(eddy_runtime_t rt, int fd, eddy_unixdgram_t *out);
/* Writes the bound path ("@name" for an abstract name, "" when unbound) with its
 * NUL into path (path_len at least EDDY_UNIX_PATH_MAX). Owning thread.
 * Errors: EDDY_EINVAL (path NULL, path_len below EDDY_UNIX_PATH_MAX). */
int eddy_unixdgram_local_addr(eddy_unixdgram_t s, char *path, size_t path_len);
/* Writes the connected peer's path (see eddy_unixdgram_local_addr; "" for an
 * unbound peer). Owning thread. Errors: EDDY_EINVAL (as local_addr), EDDY_ENOTCONN. */
int eddy_unixdgram_peer_addr(eddy_unixdgram_t s, char *path, size_t path_len);
/* Closes the socket and frees the handle. Owning thread. Errors: EDDY_EBADHANDLE. */
int eddy_unixdgram_close(eddy_unixdgram_t s);
/* ---- end Unix datagram sockets ---- */



/* Future objects. */
/* Creates a future that connects to `host`. Poll it with eddy_future_poll (or
 * drive it with eddy_future_then), then take the stream with
 * eddy_future_take_tcp. Free the future with eddy_future_free (which closes a
 * socket still connecting, or a connected one never taken). Owning thread.
 * A numeric IPv4/IPv6 address connects at once: no lookup, no blocking-pool
 * hop. A host name ("localhost" too) is resolved on the blocking pool and raced
 * with Happy Eyeballs (see eddy_tcp_connect_addrs); a name that does not
 * resolve completes the future with EDDY_EAI_* (eddy_strerror: getaddrinfo's
 * message; print the host name with it).
 * Errors: EDDY_EINVAL (host NULL, empty, longer than 253 bytes; out NULL),
 * EDDY_EMFILE, -errno (socket creation), EDDY_ENOMEM. Connection and lookup
 * errors (EDDY_ECONNREFUSED, EDDY_EAI_NONAME ...) are reported by
 * eddy_future_poll. */
int eddy_tcp_connect(eddy_runtime_t rt, const char *host, uint16_t port, eddy_future_t *out);
/* Creates a future that becomes ready `nanos` nanoseconds after this call
 * (monotonic clock; timers are checked with millisecond granularity at least).
 * 0 is ready at the first poll; beyond 2^62 ns (146 years) it saturates: never.
 * Armed by its first eddy_future_poll. About 100 bytes each (no object behind
 * the handle), so millions may be held. Free it with eddy_future_free
 * (disarms the timer). Owning thread.
 * Errors: EDDY_EINVAL (out NULL), EDDY_ENOMEM. */
int eddy_sleep(eddy_runtime_t rt, uint64_t nanos, eddy_future_t *out);
/* Creates a future that completes as `inner` does, or with EDDY_ETIMEDOUT
 * after `nanos` nanoseconds. Takes ownership of `inner` on success: its handle
 * becomes invalid (EDDY_EBADHANDLE) and it is freed with the timeout future.
 * take_tcp / take_value on the timeout future forward to inner's result.
 * On failure inner is left untouched. Owning thread.
 * Errors: EDDY_EINVAL (out NULL, inner belongs to another runtime, or has a
 * then-callback), EDDY_ENOMEM. */
int eddy_timeout(eddy_runtime_t rt, eddy_future_t inner, uint64_t nanos, eddy_future_t *out);
/* Polls the future from inside a poll_fn: EDDY_READY, EDDY_PENDING (cx's
 * waker stored), or the future's error (EDDY_ECONNREFUSED, EDDY_ETIMEDOUT ...).
 * Polling again after completion returns the same result. Owning thread.
 * Errors: EDDY_EINVAL (bad cx), EDDY_EBUSY (driven by eddy_future_then),
 * EDDY_EWRONGTHREAD (cx of another runtime's task: a future belongs to the
 * runtime that created it). */
int eddy_future_poll(eddy_future_t fut, eddy_cx_t *cx);
/* Moves the connected stream out of a completed connect future (or a timeout
 * wrapping one) into a new tcp handle owned by the caller. Owning thread.
 * Errors: EDDY_ENOTREADY (not completed yet, or already taken), the future's
 * own error if it failed, EDDY_EINVAL (out NULL, future yields no stream). */
int eddy_future_take_tcp(eddy_future_t fut, eddy_tcp_t *out);
/* Writes the return value of a completed eddy_blocking_call /
 * eddy_spawn_blocking future (or a timeout wrapping one) to *out. Can be
 * called more than once. Owning thread.
 * Errors: EDDY_ENOTREADY (not completed), the future's own error,
 * EDDY_EINVAL (out NULL, a future without a value: connect (use take_tcp)
 * or sleep). */
int eddy_future_take_value(eddy_future_t fut, eddy_value_t *out);
/* Lets the runtime drive the future in an internal task and call
 * cb(user, status) exactly once on the runtime's thread when it completes
 * (status 0 or the future's error). The future handle stays valid: take the
 * result inside cb, free it afterwards (in cb or later). Freeing the future
 * before completion cancels: cb runs with EDDY_ECANCELED; so does freeing the
 * runtime. `user` is passed through untouched. At most one then per future.
 * Owning thread.
 * Errors: EDDY_EINVAL (cb NULL), EDDY_EBUSY (a then is already attached),
 * EDDY_ESHUTDOWN, EDDY_ENOMEM. */
int eddy_future_then(eddy_future_t fut, eddy_then_fn cb, void *user);
/* Drops the future: disarms its timer, closes a socket it still owns, cancels
 * its then-callback (cb(user, EDDY_ECANCELED)), frees the handle. A blocking
 * call already running on a worker finishes there and its result is dropped;
 * one still queued is not run. Owning thread. */
int eddy_future_free(eddy_future_t fut);

/* Blocking pool. */
/* Calls fn on a worker thread of the runtime's blocking pool through libffi,
 * with a signature given at run time: return type, then argument types in
 * parentheses, e.g. "i(pi)" for int f(void *, int), "v()" for void f(void).
 * Letters: v void (return only), i int32, I uint32, l int64, L uint64,
 * z size_t, d double, f float, p pointer. Argument k is read from args[k]
 * (.i for i/l, .u for I/L/z, .d, .f, .p) and copied: args may be freed on
 * return. Pointed-to memory must stay valid until the call completes.
 * The result is read with eddy_future_take_value: integers sign/zero-extended
 * into .i / .u, .d, .f, .p; 0 for void. The pool is the runtime's one blocking
 * pool, shared with Swift's spawnBlocking and Python's to_thread: at most
 * config.blocking_threads threads, started on demand, each leaving after 10 s
 * idle; more calls queue (FIFO). Every pool thread blocks every signal from its
 * first instruction: a process-directed signal is never delivered to one.
 * Owning thread (also from inside its tasks); the pool thread calls fn.
 * After eddy_runtime_shutdown finished: EDDY_ESHUTDOWN (during it, still accepted).
 * Errors: EDDY_EINVAL (fn, signature or out NULL, malformed signature, nargs
 * not matching it, args NULL with nargs > 0), EDDY_ESHUTDOWN, -EAGAIN (no
 * worker thread could be started), EDDY_ENOMEM. */
int eddy_blocking_call(eddy_runtime_t rt, void (*fn)(void), const char *signature,
                       const eddy_value_t *args, size_t nargs, eddy_future_t *out);
/* Runs fn(arg) on a worker thread of the blocking pool (see eddy_blocking_call);
 * the returned pointer is .p of eddy_future_take_value. Owning thread (also from
 * inside its tasks); a pool thread calls fn.
 * Errors: EDDY_EINVAL (fn or out NULL), EDDY_ESHUTDOWN, -EAGAIN, EDDY_ENOMEM. */
int eddy_spawn_blocking(eddy_runtime_t rt, void *(*fn)(void *), void *arg, eddy_future_t *out);


/* ==== Readiness of caller-owned descriptors ====================================
 *
 * Lets a task wait for a descriptor Eddy does not own — a pipe, an eventfd, a
 * signalfd, a signal.set_wakeup_fd descriptor, a third-party library's socket —
 * to become readable or writable (tokio's AsyncFd, libuv's uv_poll_t).
 *
 * The fd is registered once with the runtime's epoll, edge-triggered, and stays
 * the caller's: Eddy never reads, writes nor closes it (not in eddy_fd_free,
 * not in eddy_runtime_free). The caller does the I/O, preferably on a
 * non-blocking fd, following the protocol of Eddy's own sockets:
 *   1. eddy_fd_poll_ready: EDDY_READY with the bits believed ready, or
 *      EDDY_PENDING after storing cx's waker (woken at the next edge);
 *   2. the caller's syscall; when it fails with EAGAIN, eddy_fd_clear_ready
 *      those bits, then back to 1.
 * eddy_fd_clear_ready must come right after that syscall, before the runtime
 * dispatches events again: inside the same poll_fn call (host tasks: before the
 * next eddy_host_turn). An edge dispatched in between would otherwise be lost.
 * Readiness may be spurious (the syscall decides). A hang-up or error is
 * reported as ready for both directions and is never cleared.
 *
 * Keep the fd open until eddy_fd_free: once it is closed, events stop (when no
 * other descriptor shares its open file, polls stay PENDING) and eddy_fd_free
 * reports EBADF. One waker is stored per direction: the last task that polled.
 * Watching costs nothing per loop turn; a waiting task costs nothing until the
 * fd becomes ready.
 *
 * Owning thread only, like the runtime functions; allowed from inside a poll_fn. */
#define EDDY_FD_READABLE 0x1u
#define EDDY_FD_WRITABLE 0x2u

/* Registers `fd` with runtime `rt` and writes a new watch handle to *out (free
 * it with eddy_fd_free). No readiness is assumed: if the fd is already ready,
 * the next reactor check reports it (the first poll may be PENDING).
 * Errors: EDDY_EINVAL (out NULL), -EBADF (fd negative or not open), -EPERM (a
 * regular file or directory: epoll cannot watch them), -EEXIST (fd already
 * registered with this runtime: watched twice, or one of the runtime's own
 * descriptors), EDDY_ESHUTDOWN (runtime being freed), EDDY_ENOMEM. */
int eddy_fd_watch(eddy_runtime_t rt, int fd, eddy_fd_t *out);
/* From inside a poll_fn (or a host task published by eddy_host_enter):
 * EDDY_READY with *ready = the bits of `interest` (EDDY_FD_READABLE,
 * EDDY_FD_WRITABLE or both) believed ready, or EDDY_PENDING after storing cx's
 * waker for each bit of `interest`. No syscall, no allocation.
 * Errors: EDDY_EINVAL (bad cx, ready NULL, interest 0 or unknown bits),
 * EDDY_EWRONGTHREAD (a cx of another runtime). */
int eddy_fd_poll_ready(eddy_fd_t watch, eddy_cx_t *cx, uint32_t interest, uint32_t *ready);
/* Forgets the readiness bits (EDDY_FD_READABLE / EDDY_FD_WRITABLE; 0 does
 * nothing) that the caller's last syscall proved gone (EAGAIN); see the rule
 * above on when. The next poll for them is PENDING until a new edge.
 * Errors: EDDY_EINVAL (unknown bits). */
int eddy_fd_clear_ready(eddy_fd_t watch, uint32_t bits);
/* Removes the fd from the runtime (EPOLL_CTL_DEL; the fd is NOT closed), wakes
 * the tasks waiting on it, frees the handle (a second free is
 * EDDY_EBADHANDLE). Returns 0, or -EBADF when the fd had been closed (or its
 * number reused by another file) before this call: the handle is freed all
 * the same, and a reused number is left alone. eddy_runtime_free frees watches
 * still open (counted as force-closed), leaving their fds open. */
int eddy_fd_free(eddy_fd_t watch);

/* ==== Host-driven tasks (for language bindings) ================================
 *
 * A host-driven task is an Eddy task whose body runs in the caller's own loop
 * (e.g. a Python driver resuming coroutines) instead of a poll_fn callback:
 * one C call per loop turn instead of one callback per task poll.
 *
 * The host creates a task with eddy_host_spawn and then calls eddy_host_turn
 * in a loop. Each call takes, for tasks the host just ran, one operation each
 * (eddy_host_op_t), performs them, runs the runtime until at least one
 * operation completed (blocking in the reactor when none can), and returns one
 * event (eddy_host_event_t) per completed operation. A task has at most one
 * operation outstanding; it receives exactly one event for it; after the event
 * it has none until the host submits the next one. A new task starts with an
 * implicit EDDY_HOST_OP_WAIT whose event (EDDY_HOST_WOKEN) comes in a turn soon
 * after the spawn: that event is the signal to start running the task.
 *
 * Operations:
 *   EDDY_HOST_OP_WAIT   wait for the task's waker: its event is EDDY_HOST_WOKEN.
 *   EDDY_HOST_OP_READ   read up to len bytes of TCP stream `handle` into buf
 *                       (like eddy_tcp_poll_read); event: bytes read (0: end of
 *                       stream) or a negative error code.
 *   EDDY_HOST_OP_WRITE  write up to len bytes of buf to TCP stream `handle`
 *                       (like eddy_tcp_poll_write); event: bytes written (> 0)
 *                       or a negative error code.
 *   EDDY_HOST_OP_FINISH the task is done: its id becomes stale, the Eddy task
 *                       completes; no event.
 * A read/write is attempted during the eddy_host_turn call that submits it,
 * then whenever the socket is ready. Whenever the task's waker is woken while
 * its read/write cannot complete (a timer, a waker handle, eddy_host_wake,
 * eddy_waker_wake of a waker obtained through eddy_host_enter ...), the
 * operation ends with EDDY_HOST_WOKEN and nothing transferred (and a wake while
 * no operation is outstanding ends the next one that way): a wake always
 * reaches the host. Spurious EDDY_HOST_WOKEN events are possible; the host
 * re-checks what the task waits for and submits again.
 *
 * buf must stay valid and untouched until the operation's event: it is used
 * during later turns. The host, not Eddy, owns it.
 *
 * Everything in this section is owning-thread only and, except
 * eddy_host_wake, refused with EDDY_EBUSY while the runtime is running (from
 * a poll_fn) and EDDY_ESHUTDOWN while it is being freed. eddy_runtime_free
 * drops every host task (nothing is called back). */
#define EDDY_HOST_OP_WAIT 1
#define EDDY_HOST_OP_READ 2
#define EDDY_HOST_OP_WRITE 3
#define EDDY_HOST_OP_FINISH 4
/* Or'ed into EDDY_HOST_OP_READ or _WRITE: a repeating operation. After its
 * event, every later eddy_host_turn whose batch does not name the task submits
 * it again with the same handle, buf and len (copied at submission), until the
 * host names the task: a host whose task waits for the same read again (an
 * echo loop) leaves it out of the batch instead of passing it each turn. buf
 * must then stay valid until the task is named again or finishes. Refused
 * (EDDY_EINVAL) with WAIT and FINISH.
 * Why a flag, not implicit: a task may rightly have no operation across a turn
 * (the host has not resumed it yet, or it waits for something only the host
 * knows, e.g. a host-side queue), and its last read buffer is then still the
 * host's, holding data not yet consumed. Only the host knows when the buffer
 * may be filled again; repeating every read by default would overwrite it. */
#define EDDY_HOST_OP_REPEAT 0x100u

/* ---- descriptor waits in the turn (issue 17, branch loop-17) ---- */
/* EDDY_HOST_OP_FD: wait until fd watch `handle` (an eddy_fd_t's id) is ready
 * for the bits of `len` (EDDY_FD_READABLE and/or EDDY_FD_WRITABLE); first, at
 * submission, forget the readiness bits of `buf` (0: none), exactly as
 * eddy_fd_clear_ready would right after the host's syscall saw EAGAIN (the
 * turn submits before it dispatches any event, so no edge is lost). Event: the
 * ready bits (> 0; a hang-up or error reads as both), EDDY_HOST_WOKEN (woken
 * by something else), or an error code (EDDY_EBADHANDLE: watch freed or
 * unknown; EDDY_EINVAL: `len` 0 or unknown bits, unknown bits in `buf`).
 * Attempted at submission, then at each wake of the task (the watch keeps the
 * task's waker for those bits, like eddy_fd_poll_ready). Not with
 * EDDY_HOST_OP_REPEAT. What it saves a host per readiness event (the Python
 * binding's asyncio loop): eddy_fd_clear_ready, eddy_host_enter and
 * eddy_fd_poll_ready, three calls. */
#define EDDY_HOST_OP_FD 5
/* ---- end descriptor waits in the turn ---- */

/* Event result of an operation ended by a wake (not an error code). */
#define EDDY_HOST_WOKEN (-5100)

/* A host-driven task, like every other handle a one-member struct. Its id is
 * not from the handle table: see eddy_host_spawn for what its bits mean. */
typedef struct { uint64_t id; } eddy_host_task_t;

/* One operation: 5 x 64-bit words. The host keeps it in its own memory and
 * passes its address; Eddy copies it during the call. */
typedef struct eddy_host_op {
    eddy_host_task_t task; /* from eddy_host_spawn */
    uint64_t op;     /* EDDY_HOST_OP_* (READ/WRITE may carry EDDY_HOST_OP_REPEAT) */
    uint64_t handle; /* READ/WRITE: the eddy_tcp_t's id; else ignored */
    uint64_t buf;    /* READ/WRITE: buffer address ((uintptr_t)ptr); else ignored */
    uint64_t len;    /* READ/WRITE: buffer length (NULL buf needs len 0); else ignored */
} eddy_host_op_t;

/* One completed operation: 2 x 64-bit words. */
typedef struct eddy_host_event {
    eddy_host_task_t task; /* which task */
    int64_t result; /* bytes, a negative error code, or EDDY_HOST_WOKEN (fits in
                       32 bits when the operation's len is at most INT_MAX) */
} eddy_host_event_t;

/* Creates a host-driven task of `rt`; writes it to *task (its id is never 0).
 * The id is valid until the task's EDDY_HOST_OP_FINISH or eddy_runtime_free.
 * Its low 32 bits are the task's slot: at least 1, distinct among the
 * runtime's live host tasks, and dense: a FINISH frees it for the next spawn,
 * and a new slot is taken only when none is free (so slots never exceed the
 * most tasks alive at once, plus one slot retired per 2^32 spawns so that a
 * stale id never comes back). A host may keep its tasks in an array indexed by
 * slot and look events up without hashing; the high 32 bits make every id
 * unique. */
int eddy_host_spawn(eddy_runtime_t rt, eddy_host_task_t *task);

/* The arguments of eddy_host_turn (6 x 64-bit words, so that a host can keep
 * one in its own memory and update only nops between calls). */
typedef struct eddy_host_batch {
    eddy_runtime_t rt;
    const eddy_host_op_t *const *ops; /* addresses of nops operations (NULL if nops is 0) */
    size_t nops;
    eddy_host_event_t *events; /* room for cap events */
    size_t cap;
    size_t n; /* out: events written */
} eddy_host_batch_t;

/* One loop turn of runtime b->rt: submits *ops[0..nops), runs the runtime
 * until at least one event is ready, and writes up to cap events to events[]
 * and their number to b->n (events beyond cap wait for the next call). Every
 * turn runs the loop at least one tick, so tasks woken by timers and sockets
 * progress even when submitted operations complete at once.
 * The whole batch is refused, nothing submitted, when an entry names an
 * unknown or finished task (EDDY_EBADHANDLE), a task that has an operation
 * outstanding (its event not yet handed out, even if queued) or appears
 * twice, an unknown op code or a NULL entry (EDDY_EINVAL); a bad stream
 * handle, a listener, or a NULL buf with len > 0 is that operation's event
 * (its error code). Returns 0, or EDDY_EINTR when a
 * signal interrupted the wait before any event (runtime created with
 * EDDY_CONFIG_RETURN_ON_SIGNAL; call again to continue), or EDDY_EINVAL (b or
 * events NULL, cap 0, ops NULL with nops > 0). A cx published by
 * eddy_host_enter stops being valid. Do not call it when no event can come
 * (e.g. only FINISH operations and nothing else running): it would wait. */
int eddy_host_turn(eddy_host_batch_t *b);

/* Publishes the context of host task `task` as the current cx and writes it to
 * *cx: while the host runs that task, every function taking a cx
 * (eddy_future_poll, eddy_tcp_poll_*, eddy_cx_waker ...) works as inside a
 * poll_fn and arranges wake-ups of that task. Valid until the next
 * eddy_host_enter or eddy_host_turn, a call that runs a runtime
 * (eddy_runtime_run, run_until, block_on), or the task's end. Only after the
 * task's first event (EDDY_EINVAL before). Called from inside a poll_fn (of
 * another runtime), it replaces that poll's cx until the poll_fn returns.
 * A turn made from inside another runtime's poll_fn leaves that poll's cx valid. */
int eddy_host_enter(eddy_runtime_t rt, eddy_host_task_t task, eddy_cx_t **cx);

/* Wakes host task `task` (as its waker would): its outstanding operation, or
 * its next one, ends with EDDY_HOST_WOKEN unless it completes. Owning thread;
 * allowed while the runtime runs. Other threads: take a waker handle with
 * eddy_host_enter + eddy_cx_waker and use eddy_waker_wake. */
int eddy_host_wake(eddy_runtime_t rt, eddy_host_task_t task);

/* Writes up to len bytes of buf (at most INT_MAX) to TCP stream `stream` for
 * host task `task` at once, without a turn (the runtime is the stream's): for
 * the host running that task, which has no operation outstanding. Returns the
 * bytes written (> 0), -EAGAIN when the socket takes nothing now (submit an
 * EDDY_HOST_OP_WRITE to wait for it), or an error code: EDDY_EBADHANDLE
 * (stream, task), EDDY_EINVAL (task with an operation outstanding or before
 * its first event, a listener, buf NULL with len > 0), EDDY_EBUSY,
 * EDDY_ESHUTDOWN, -EPIPE ... An operation is outstanding until a turn has
 * handed out its event: one completed but queued beyond a turn's cap still is. */
int eddy_host_write(eddy_host_task_t task, eddy_tcp_t stream, const void *buf, size_t len);

/* ==== Channels (issue 16) ======================================================
 *
 * Channels carry void* values between tasks, threads and runtimes (tokio's
 * mpsc and oneshot). A channel has one receiver and one or more senders.
 *
 *   bounded mpsc (eddy_channel_new): at most `capacity` values queued; a
 *     sender waits for room (eddy_channel_poll_send, FIFO among waiting
 *     senders) or is told it is full (eddy_channel_try_send: EDDY_EAGAIN).
 *   oneshot (eddy_oneshot_new): one value, sent once (eddy_channel_try_send),
 *     received once (a second receive is EDDY_ENOTREADY).
 *
 * Ownership of values. A value passes to the channel when a send returns
 * 0 / EDDY_READY, and to the caller when a receive returns it. A send that
 * fails (full, closed, PENDING) leaves the value with the caller. `drop`
 * (may be NULL) runs exactly once for each value the channel accepted but
 * nobody received: when the receiver is freed (or the channel otherwise
 * dies) with values inside; it runs on the thread doing that free.
 *
 * Closing. The receiver sees the end (EDDY_EPIPE from a receive, once
 * everything queued was received) after every sender handle was freed.
 * Senders get EDDY_EPIPE once the receiver was freed or closed
 * (eddy_channel_close); waiting senders are woken to see it.
 *
 * Threads and runtimes. Channel handles belong to the runtime given at
 * creation (eddy_runtime_free frees those still open, counted as
 * force-closed) but every function below may be called from any thread,
 * including a plain pthread (try_send / try_recv), and the poll functions
 * from a poll_fn of any runtime: the waiting task is woken through its waker.
 * A sender handle used with poll_send waits in one FIFO place: poll it from
 * one task at a time (clone the sender for each polling task).
 * No lock and no allocation on an uncontended send or receive. */
typedef struct { uint64_t id; } eddy_sender_t;
typedef struct { uint64_t id; } eddy_receiver_t;

/* Creates a bounded mpsc channel of `capacity` (1 ... 2^30) values owned by
 * runtime `rt` and writes its first sender and its receiver. Any thread.
 * Errors: EDDY_EINVAL (capacity out of range, tx or rx NULL), EDDY_ESHUTDOWN
 * (runtime being freed), EDDY_ENOMEM. */
int eddy_channel_new(eddy_runtime_t rt, size_t capacity, eddy_drop_fn drop,
                     eddy_sender_t *tx, eddy_receiver_t *rx);
/* Creates a oneshot channel owned by `rt`. Any thread. Errors: as
 * eddy_channel_new. */
int eddy_oneshot_new(eddy_runtime_t rt, eddy_drop_fn drop, eddy_sender_t *tx, eddy_receiver_t *rx);
/* Another sender of the same mpsc channel (the receiver sees the end only
 * when all are freed). Any thread. Errors: EDDY_EINVAL (out NULL, a oneshot
 * sender), EDDY_ENOMEM. */
int eddy_channel_clone_sender(eddy_sender_t tx, eddy_sender_t *out);
/* Sends `value` now if there is room: 0 (the channel owns it), EDDY_EAGAIN
 * (full; mpsc), EDDY_EPIPE (receiver gone or closed; oneshot: also a value
 * already sent). Never waits. Any thread. */
int eddy_channel_try_send(eddy_sender_t tx, void *value);
/* From inside a poll_fn: EDDY_READY (value sent, the channel owns it),
 * EDDY_PENDING (no room: cx's waker queued, FIFO; the value stays the
 * caller's: pass it again on the next poll), or EDDY_EPIPE. A oneshot sender
 * never pends. Errors: EDDY_EINVAL (bad cx). */
int eddy_channel_poll_send(eddy_sender_t tx, eddy_cx_t *cx, void *value);
/* Takes the oldest value into *value: 0, EDDY_EAGAIN (empty, senders
 * remain), EDDY_EPIPE (every sender gone and nothing left, or closed and
 * drained; oneshot: sender freed unsent), EDDY_ENOTREADY (oneshot already
 * received). Any thread. Errors: EDDY_EINVAL (value NULL). */
int eddy_channel_try_recv(eddy_receiver_t rx, void **value);
/* From inside a poll_fn: EDDY_READY with *value, EDDY_PENDING (cx's waker
 * stored: woken by the next send or the last sender's free), EDDY_EPIPE (the
 * end), EDDY_ENOTREADY (oneshot already received). Errors: EDDY_EINVAL (bad
 * cx, value NULL). */
int eddy_channel_poll_recv(eddy_receiver_t rx, eddy_cx_t *cx, void **value);
/* Closes the channel for senders (they get EDDY_EPIPE; waiting ones are
 * woken). Values already queued can still be received. Idempotent. Any
 * thread. */
int eddy_channel_close(eddy_receiver_t rx);
/* Frees a sender handle (a sender waiting in poll_send gives up its place).
 * Any thread. */
int eddy_channel_sender_free(eddy_sender_t tx);
/* Frees the receiver: closes the channel and runs drop for each value still
 * queued. Any thread. */
int eddy_channel_receiver_free(eddy_receiver_t rx);
/* ==== end Channels ==== */

/* ---- broadcast and watch channels (issue 16 item 1; branch bcast-16) ----------
 *
 * broadcast (eddy_broadcast_new): every value sent reaches every receiver
 *   subscribed when it was sent. The channel keeps the last `capacity` values;
 *   a receiver that fell further behind is told how many it missed (`*missed`)
 *   and goes on from the oldest value still kept. The sender never waits.
 * watch (eddy_watch_new): one current value, replaced by each send; receivers
 *   read the latest and wait for the next change (values in between are
 *   skipped, by design).
 *
 * Ownership of values (both kinds). A send always passes its value to the
 * channel. The channel keeps its own copy of each value until it is superseded
 * (broadcast: overwritten by a send `capacity` values later; watch: by the next
 * send) or the channel dies (its last handle freed); then `drop` (may be NULL)
 * runs on it exactly once, on the thread that sent or freed. A receive never
 * hands out the channel's copy: it hands out `clone(value)`, which the receiver
 * owns (and frees with whatever it likes). `clone` NULL means values carry no
 * ownership (integers, static data): the receiver gets the pointer itself and
 * must not free it; pass `drop` NULL then too, or the pointer received may be
 * dropped by a later send. clone and drop run outside the channel's lock: they
 * may call into the channel.
 *
 * Threads and runtimes: as the mpsc channel (any thread; the poll functions
 * from a poll_fn of any runtime; handles freed with the runtime counted as
 * force-closed). A receiver handle waits in one place: poll it from one task at
 * a time (subscribe another receiver for each task). A lock per send and per
 * receive: for fan-out of events, not a per-byte path. */
typedef void *(*eddy_clone_fn)(void *value);
typedef struct { uint64_t id; } eddy_broadcast_tx_t;
typedef struct { uint64_t id; } eddy_broadcast_rx_t;
typedef struct { uint64_t id; } eddy_watch_tx_t;
typedef struct { uint64_t id; } eddy_watch_rx_t;

/* Creates a broadcast channel keeping the last `capacity` (1 ... 2^24) values,
 * owned by runtime `rt`; writes its sender and a first receiver. Any thread.
 * Errors: EDDY_EINVAL (capacity out of range, tx or rx NULL), EDDY_EBADHANDLE,
 * EDDY_ESHUTDOWN, EDDY_ENOMEM. */
int eddy_broadcast_new(eddy_runtime_t rt, size_t capacity, eddy_clone_fn clone, eddy_drop_fn drop,
                       eddy_broadcast_tx_t *tx, eddy_broadcast_rx_t *rx);
/* A new receiver that sees the values sent from now on. Errors: EDDY_EINVAL
 * (out NULL), EDDY_EBADHANDLE, EDDY_ENOMEM. */
int eddy_broadcast_subscribe(eddy_broadcast_tx_t tx, eddy_broadcast_rx_t *out);
/* Sends `value` to every current receiver: returns how many receivers there
 * are (>= 0; 0: nobody listens, the value is kept all the same until
 * superseded). The channel owns the value whenever the result is >= 0.
 * Errors (the value stays the caller's): EDDY_EBADHANDLE. */
int eddy_broadcast_send(eddy_broadcast_tx_t tx, void *value);
/* Takes this receiver's next value: 0 with *value (a clone, the caller's) and
 * *missed (how many values this receiver lost just before it because it fell
 * behind; usually 0), EDDY_EAGAIN (nothing new, the sender remains),
 * EDDY_EPIPE (sender freed and everything seen). `missed` may be NULL.
 * Errors: EDDY_EINVAL (value NULL), EDDY_EBADHANDLE. */
int eddy_broadcast_try_recv(eddy_broadcast_rx_t rx, void **value, uint64_t *missed);
/* From inside a poll_fn: EDDY_READY (as try_recv's 0), EDDY_PENDING (cx's
 * waker stored: woken by the next send or the sender's free), EDDY_EPIPE.
 * Errors: EDDY_EINVAL (bad cx, value NULL), EDDY_EBADHANDLE. */
int eddy_broadcast_poll_recv(eddy_broadcast_rx_t rx, eddy_cx_t *cx, void **value, uint64_t *missed);
/* Frees the sender: receivers get what is kept, then EDDY_EPIPE. Any thread. */
int eddy_broadcast_sender_free(eddy_broadcast_tx_t tx);
/* Frees a receiver (a waiting one gives up its place). The last handle's free
 * drops every value still kept. Any thread. */
int eddy_broadcast_receiver_free(eddy_broadcast_rx_t rx);

/* Creates a watch channel holding `initial` (owned by the channel from now on),
 * owned by runtime `rt`; writes its sender and a first receiver (which has
 * seen `initial`). Errors: as eddy_broadcast_new; on any error `initial` stays
 * the caller's. */
int eddy_watch_new(eddy_runtime_t rt, void *initial, eddy_clone_fn clone, eddy_drop_fn drop,
                   eddy_watch_tx_t *tx, eddy_watch_rx_t *rx);
/* A new receiver (it has seen the current value). Errors: EDDY_EINVAL (out
 * NULL), EDDY_EBADHANDLE, EDDY_ENOMEM. */
int eddy_watch_subscribe(eddy_watch_tx_t tx, eddy_watch_rx_t *out);
/* Replaces the value (the previous one is dropped) and wakes every waiting
 * receiver: 0. Errors (the value stays the caller's): EDDY_EBADHANDLE. */
int eddy_watch_send(eddy_watch_tx_t tx, void *value);
/* Writes a clone of the latest value into *value (the caller's) and marks it
 * seen: 0. Works after the sender is gone (the last value stays readable).
 * Errors: EDDY_EINVAL (value NULL), EDDY_EBADHANDLE. */
int eddy_watch_get(eddy_watch_rx_t rx, void **value);
/* 1 when a value was sent since this receiver last read one, else 0.
 * Errors: EDDY_EBADHANDLE. */
int eddy_watch_has_changed(eddy_watch_rx_t rx);
/* From inside a poll_fn: EDDY_READY (changed since the last read: read it with
 * eddy_watch_get), EDDY_PENDING (cx's waker stored), EDDY_EPIPE
 * (unchanged and the sender is gone: no change will come). Errors: EDDY_EINVAL
 * (bad cx), EDDY_EBADHANDLE. */
int eddy_watch_poll_changed(eddy_watch_rx_t rx, eddy_cx_t *cx);
/* Frees the sender (waiting receivers see EDDY_EPIPE). Any thread. */
int eddy_watch_sender_free(eddy_watch_tx_t tx);
/* Frees a receiver. The last handle's free drops the current value. */
int eddy_watch_receiver_free(eddy_watch_rx_t rx);
/* ---- end broadcast and watch ---- */

/* ==== Sync primitives (issue 16) ===============================================
 *
 * Semaphores (a mutex is a semaphore of 1 permit bounded at 1) and notifies
 * (tokio's Notify) for tasks of any runtime and plain threads. Waiters are
 * served first come, first served: a released permit goes to the oldest
 * waiter, and nobody overtakes it (try_acquire fails while anyone waits).
 *
 * A handle is one waiting place: a task that waits (poll_acquire,
 * poll_wait returned EDDY_PENDING) keeps that place until it polls again and
 * gets READY. Each task that may wait needs its own handle: eddy_*_clone
 * makes another handle on the same object. Freeing a handle withdraws its
 * place; a permit (or notification) it had been handed and not yet taken
 * goes to the next waiter: cancellation-safe.
 *
 * Handles belong to the runtime given at creation (freed with it); every
 * function is any-thread, the poll functions take any runtime's cx. */
typedef struct { uint64_t id; } eddy_semaphore_t;
typedef struct { uint64_t id; } eddy_notify_t;

/* Creates a semaphore with `permits` free permits. max > 0 bounds the free
 * permits: a release that would exceed it fails (EDDY_EINVAL): a mutex is
 * permits 1, max 1, and unlocking it while unlocked is EDDY_EINVAL, never a
 * second holder. max 0: unbounded. Any thread.
 * Errors: EDDY_EINVAL (out NULL, max > 0 and permits > max, permits or max
 * above 2^30), EDDY_ESHUTDOWN, EDDY_ENOMEM. */
int eddy_semaphore_new(eddy_runtime_t rt, uint32_t permits, uint32_t max, eddy_semaphore_t *out);
/* Another handle (its own waiting place) on the same semaphore. Any thread.
 * Errors: EDDY_EINVAL (out NULL), EDDY_ENOMEM. */
int eddy_semaphore_clone(eddy_semaphore_t sem, eddy_semaphore_t *out);
/* Takes a permit now: 0, EDDY_EAGAIN (none free, or waiters queued ahead),
 * EDDY_EPIPE (closed). Any thread. */
int eddy_semaphore_try_acquire(eddy_semaphore_t sem);
/* From inside a poll_fn: EDDY_READY (the caller holds a permit), EDDY_PENDING
 * (this handle queued with cx's waker; poll again when woken), EDDY_EPIPE
 * (closed). Errors: EDDY_EINVAL (bad cx). */
int eddy_semaphore_poll_acquire(eddy_semaphore_t sem, eddy_cx_t *cx);
/* Returns one permit (to the oldest waiter, if any). Any thread.
 * Errors: EDDY_EINVAL (the free permits already reach max: nothing is
 * released). */
int eddy_semaphore_release(eddy_semaphore_t sem);
/* Closes the semaphore: waiters are woken and get EDDY_EPIPE, as does every
 * later acquire. Permits held stay valid. Any thread. */
int eddy_semaphore_close(eddy_semaphore_t sem);
/* Frees a handle (withdrawing its waiting place; a permit it was handed and
 * did not take goes to the next waiter). Any thread. */
int eddy_semaphore_free(eddy_semaphore_t sem);

/* Creates a notify. Any thread. Errors: EDDY_EINVAL (out NULL),
 * EDDY_ESHUTDOWN, EDDY_ENOMEM. */
int eddy_notify_new(eddy_runtime_t rt, eddy_notify_t *out);
/* Another handle (its own waiting place) on the same notify. Any thread. */
int eddy_notify_clone(eddy_notify_t n, eddy_notify_t *out);
/* Wakes the oldest waiter, or stores one permit that the next wait takes at
 * once when nobody waits. Any thread. */
int eddy_notify_one(eddy_notify_t n);
/* Wakes every task waiting now; stores nothing. Any thread. */
int eddy_notify_all(eddy_notify_t n);
/* From inside a poll_fn: EDDY_READY (notified, or took the stored permit) or
 * EDDY_PENDING (queued with cx's waker). Errors: EDDY_EINVAL (bad cx). */
int eddy_notify_poll_wait(eddy_notify_t n, eddy_cx_t *cx);
/* Frees a handle (a notification it received and did not take goes to the
 * next waiter). Any thread. */
int eddy_notify_free(eddy_notify_t n);
/* A condition variable for a mutex (a semaphore of 1 permit, max 1), poll
 * style. A condition handle is one waiting place, like the others: clone it
 * per waiting task. */
typedef struct { uint64_t id; } eddy_condition_t;
/* Creates a condition. Any thread. Errors: EDDY_EINVAL (out NULL),
 * EDDY_ESHUTDOWN, EDDY_ENOMEM. */
int eddy_condition_new(eddy_runtime_t rt, eddy_condition_t *out);
/* Another handle (its own waiting place) on the same condition. Any thread. */
int eddy_condition_clone(eddy_condition_t c, eddy_condition_t *out);
/* From inside a poll_fn, holding `mutex` (acquired through that same
 * handle): the first call queues this handle and releases the mutex, later
 * calls wait for a notification, then re-acquire the mutex through `mutex`:
 * EDDY_READY when notified and the mutex is held again, else EDDY_PENDING
 * (poll again when woken, with the same handles). Errors: EDDY_EINVAL (bad
 * cx; `mutex` is not a mutex (max 1) or is not held: nothing queued),
 * EDDY_EPIPE (the mutex was closed while re-acquiring). */
int eddy_condition_poll_wait(eddy_condition_t c, eddy_semaphore_t mutex, eddy_cx_t *cx);
/* Wakes the oldest waiter (nothing is stored when nobody waits). Any thread. */
int eddy_condition_notify_one(eddy_condition_t c);
/* Wakes every waiter. Any thread. */
int eddy_condition_notify_all(eddy_condition_t c);
/* Frees a handle (a notification it received and did not take goes to the
 * next waiter). Any thread. */
int eddy_condition_free(eddy_condition_t c);
/* ==== end Sync primitives ==== */

/* ---- channel and sync futures (issue 16 item 1; branch chan2-16) -------------
 *
 * The future-style side of the channels and sync primitives above: each call
 * makes an eddy_future_t of runtime `rt` (the runtime whose thread polls it; the
 * channel or primitive may belong to any runtime). Poll it with
 * eddy_future_poll, drive it with eddy_future_then, wrap it in eddy_timeout,
 * and free it with eddy_future_free, like the other futures. A send, notify
 * wait or acquire future waits in a place of its own (FIFO with the poll-style
 * waiters), so any number of them may wait on one handle; a receive or watch
 * future waits in its receiver's one place (one waiting receive per receiver
 * handle, future or poll). The handle may be freed while futures wait (they
 * hold what they need; a receiver's channel then closes when the last of them
 * goes). Creation allocates; polling does not.
 *
 * Cancellation: freeing a future before it completed (or its timeout firing)
 * withdraws its place. A permit or notification it had been handed and not yet
 * taken by a poll goes to the next waiter; a value it carries is dropped (see
 * eddy_channel_send); a value it received and nobody took is dropped with the
 * channel's drop function (broadcast: the clone, when a clone function exists).
 * Owning thread of `rt` for the future; any thread may send, notify or release
 * meanwhile. Errors of every creating call: EDDY_EBADHANDLE (rt stale or not a
 * runtime; the channel or primitive handle stale or of another kind or end),
 * EDDY_EWRONGTHREAD, EDDY_ESHUTDOWN, EDDY_EINVAL (out NULL), EDDY_ENOMEM. */

/* A future that sends `value` on `tx` (mpsc: waits for room, FIFO among
 * waiting senders; oneshot: sends at its first poll). From a 0 return the value
 * is never the caller's again: it completes (0) when the channel took it, or
 * with EDDY_EPIPE (receiver gone or closed; oneshot: a value already sent);
 * a value not taken by the channel is dropped with the channel's drop function
 * exactly once, when the future is freed (also freed by eddy_runtime_free).
 * On an error return the value stays the caller's. */
int eddy_channel_send(eddy_runtime_t rt, eddy_sender_t tx, void *value, eddy_future_t *out);
/* A future that receives the next value of `rx` (mpsc or oneshot); take it with
 * eddy_future_take_received. Completes with 0, EDDY_EPIPE (the end: every
 * sender gone and nothing left, or closed and drained; oneshot: sender freed
 * unsent) or EDDY_ENOTREADY (oneshot already received). The receiver's waker
 * slot is single: one receive (future or poll) waits at a time per channel. */
int eddy_channel_recv(eddy_runtime_t rt, eddy_receiver_t rx, eddy_future_t *out);
/* A future that completes (0) when notified, taking a stored permit if any. */
int eddy_notify_wait(eddy_runtime_t rt, eddy_notify_t n, eddy_future_t *out);
/* A future that acquires one permit of `sem` (a mutex: locks it): 0 when the
 * caller holds it (release it with eddy_semaphore_release), EDDY_EPIPE
 * (closed). Freed while waiting: no permit is kept. */
int eddy_semaphore_acquire(eddy_runtime_t rt, eddy_semaphore_t sem, eddy_future_t *out);
/* A future that receives the next value of broadcast receiver `rx`: 0 (take it
 * and the missed count with eddy_future_take_received), EDDY_EPIPE (sender
 * freed and everything seen). */
int eddy_broadcast_recv(eddy_runtime_t rt, eddy_broadcast_rx_t rx, eddy_future_t *out);
/* A future that completes (0) once watch receiver `rx` has a value it did not
 * read (then read it with eddy_watch_get), EDDY_EPIPE (unchanged and the
 * sender is gone). */
int eddy_watch_changed(eddy_runtime_t rt, eddy_watch_rx_t rx, eddy_future_t *out);
/* Moves the value out of a completed eddy_channel_recv or eddy_broadcast_recv
 * future (or a timeout wrapping one) into *value (now the caller's); *missed
 * (may be NULL) gets the broadcast's missed count (0 for other channels). Owning
 * thread. Errors: EDDY_ENOTREADY (not completed, or already taken), the
 * future's own error, EDDY_EINVAL (value NULL, a future that receives nothing),
 * EDDY_EBADHANDLE. */
int eddy_future_take_received(eddy_future_t fut, void **value, uint64_t *missed);
/* ---- end channel and sync futures ---- */

/* ---- Lines and files (issue 15 item 5, issue 16 item 5; branch lines-15) ---- */

/* A buffered reader over a TCP or Unix stream, for line and frame protocols.
 * It borrows the stream (closing the stream ends the reader's reads with
 * EDDY_EBADHANDLE; free the reader with eddy_reader_free either way). Its one
 * buffer of limit + 64 bytes is allocated by eddy_reader_new and reused: memory
 * never grows with what the peer sends or announces. Owning thread of the
 * stream's runtime. */
typedef struct { uint64_t id; } eddy_reader_t;
/* A reader of `stream` whose lines hold at most `limit` bytes before their
 * separator (1 .. 64 MiB; 0 means 65536). Errors: EDDY_EINVAL (limit out of
 * range, out NULL, stream is a listener), EDDY_EBADHANDLE, EDDY_ENOMEM. */
int eddy_reader_new(eddy_tcp_t stream, size_t limit, eddy_reader_t *out);
/* From inside a poll_fn: the next line through `sep` (1..64 bytes, included):
 * EDDY_READY with *line and *len pointing into the reader's buffer (valid until the
 * next call on this reader or its free), or EDDY_PENDING. At end of stream:
 * the last line without its separator, then *len == 0 (end). A line longer
 * than the limit is -EMSGSIZE and is dropped (up to its separator when seen,
 * else what was buffered), so the next call continues after it.
 * Errors: EDDY_EINVAL (bad cx, sep NULL or seplen outside 1..64, line or len
 * NULL), -EMSGSIZE, EDDY_ECONNRESET, EDDY_EBADHANDLE (stream closed), -errno. */
int eddy_reader_poll_line(eddy_reader_t r, eddy_cx_t *cx, const void *sep, size_t seplen,
                          const uint8_t **line, size_t *len);
/* From inside a poll_fn: exactly n bytes (a frame): EDDY_READY with *data
 * pointing into the reader's buffer (valid as for eddy_reader_poll_line), or
 * EDDY_PENDING. n larger than limit + 64 is -EMSGSIZE before anything is
 * read (a peer-supplied size allocates nothing); end of stream before n bytes
 * is -ENODATA. Errors: EDDY_EINVAL (bad cx, data NULL, n > SSIZE_MAX),
 * -EMSGSIZE, -ENODATA, as eddy_reader_poll_line. */
int eddy_reader_poll_exact(eddy_reader_t r, eddy_cx_t *cx, size_t n, const uint8_t **data);
/* Frees the reader (not its stream). Owning thread. Errors: EDDY_EBADHANDLE. */
int eddy_reader_free(eddy_reader_t r);

/* Files through the runtime's blocking pool. Each call starts one pool job and
 * returns its future: poll it (eddy_future_poll / eddy_future_then), then read
 * its result, then eddy_future_free it. Freeing a future whose job runs or
 * finished is safe: the job's buffer and any descriptor it opened and nobody
 * took are released by Eddy (never leaked). Paths with a missing file are
 * -ENOENT, directories -EISDIR (refused at open), other -errno. Owning thread;
 * errors of the calls themselves: EDDY_EINVAL (NULL path/out, data NULL with
 * len > 0, len above 2^47 (no address space holds more), unknown flags),
 * EDDY_ESHUTDOWN, EDDY_ENOMEM (the copy of data). */
/* eddy_file_write flag: append instead of truncating. */
#define EDDY_FILE_APPEND 1u
/* Reads the whole file at `path`: eddy_future_file_data gives the bytes. */
int eddy_file_read(eddy_runtime_t rt, const char *path, eddy_future_t *out);
/* Writes len bytes of data (copied by this call) to `path`, created (0666 less
 * the umask) if needed, truncated unless EDDY_FILE_APPEND. Its value
 * (eddy_future_take_value, .u) is len. */
int eddy_file_write(eddy_runtime_t rt, const char *path, const void *data, size_t len, uint32_t flags,
                    eddy_future_t *out);
/* Opens `path` with open(2) `flags` (O_RDONLY, O_WRONLY|O_CREAT|O_TRUNC, ...;
 * O_CLOEXEC is added; mode 0666): take the descriptor with eddy_future_take_fd
 * (yours to close). Not taken, Eddy closes it at eddy_future_free. */
int eddy_file_open(eddy_runtime_t rt, const char *path, int flags, eddy_future_t *out);
/* Reads up to max bytes from `fd` at its offset (fewer only at end of file):
 * eddy_future_file_data gives them. The job works on a duplicate of fd, so the
 * caller may close fd at any time. Memory grows with what is read, not max. */
int eddy_file_read_fd(eddy_runtime_t rt, int fd, size_t max, eddy_future_t *out);
/* Writes all len bytes of data (copied) to `fd` (a duplicate, as above); the
 * value (.u) is len. */
int eddy_file_write_fd(eddy_runtime_t rt, int fd, const void *data, size_t len, eddy_future_t *out);
/* The bytes of a completed eddy_file_read / eddy_file_read_fd future: *data
 * (NULL when *len is 0) stays valid until eddy_future_free. Errors: the job's
 * error, EDDY_ENOTREADY (not complete), EDDY_EINVAL (not a read future, NULL
 * out pointers). */
int eddy_future_file_data(eddy_future_t fut, const uint8_t **data, size_t *len);
/* Takes the descriptor of a completed eddy_file_open future, once. Errors: the
 * job's error, EDDY_ENOTREADY, EDDY_EINVAL (not an open future, already taken,
 * fd NULL). */
int eddy_future_take_fd(eddy_future_t fut, int *fd);
/* ---- end lines and files ---- */

/* ==== Time and combinators (issue 16, item 6) ==================================
 *
 * Each runtime has a clock: CLOCK_MONOTONIC, or a paused clock for tests
 * (tokio's time::pause/advance). Every deadline of the runtime (eddy_sleep,
 * eddy_timeout, eddy_sleep_until, intervals) is on its clock; eddy_now reads it.
 * A paused clock moves only by eddy_runtime_clock_advance, or by itself when the
 * runtime is idle: a paused runtime that would block waiting for its next timer
 * jumps to that timer's deadline instead (auto-advance, as tokio's), so a test
 * sleeping an hour finishes at once. Deadlines are nanoseconds on that clock.
 *
 * Intervals tick at start, start + period, start + 2 period ... A tick that
 * could not be delivered on time (the task was busy; the clock jumped) follows
 * the interval's missed-tick behaviour (tokio's MissedTickBehavior):
 *   EDDY_MISSED_TICK_BURST  every missed tick is delivered at once, back to back,
 *                           then the original schedule goes on;
 *   EDDY_MISSED_TICK_DELAY  one late tick now, the next a full period after it;
 *   EDDY_MISSED_TICK_SKIP   one late tick now, the next on the original schedule
 *                           after now (the missed ones are dropped).
 *
 * eddy_join_poll / eddy_select_poll poll N futures from one poll_fn: the C
 * form of Swift's join/select. */
typedef struct { uint64_t id; } eddy_interval_t;
#define EDDY_MISSED_TICK_BURST 0
#define EDDY_MISSED_TICK_DELAY 1
#define EDDY_MISSED_TICK_SKIP 2

/* Writes now on the runtime's clock (nanoseconds; the paused time while
 * paused) to *nanos. Owning thread. */
int eddy_now(eddy_runtime_t rt, uint64_t *nanos);
/* Pauses the runtime's clock at the current time (no-op when paused).
 * Owning thread, from inside a poll_fn or while the runtime is not running. */
int eddy_runtime_clock_pause(eddy_runtime_t rt);
/* Lets the clock run again from the real monotonic time (no-op when running).
 * Owning thread. */
int eddy_runtime_clock_resume(eddy_runtime_t rt);
/* Moves the paused clock forward by `nanos` (saturating) and wakes, in
 * deadline order, every timer due by then; their tasks run at the runtime's
 * next turn. Returns how many timers fired (>= 0). Owning thread.
 * Errors: EDDY_EINVAL (the clock is not paused). */
int eddy_runtime_clock_advance(eddy_runtime_t rt, uint64_t nanos);
/* Like eddy_sleep, with an absolute deadline on the runtime's clock (a
 * deadline already passed is ready at the first poll). Owning thread.
 * Errors: EDDY_EINVAL (out NULL), EDDY_ENOMEM. */
int eddy_sleep_until(eddy_runtime_t rt, uint64_t deadline_ns, eddy_future_t *out);
/* Creates an interval ticking every `period_ns` (1 ... 2^62) nanoseconds,
 * first at `start_ns` on the runtime's clock (0: one period from now; a start
 * in the past ticks at the first poll, then follows `missed`). Owning thread.
 * Errors: EDDY_EINVAL (out NULL, period 0 or above 2^62, `missed` not one of
 * EDDY_MISSED_TICK_*), EDDY_ESHUTDOWN, EDDY_ENOMEM. */
int eddy_interval_new(eddy_runtime_t rt, uint64_t start_ns, uint64_t period_ns, int missed,
                      eddy_interval_t *out);
/* From inside a poll_fn of the interval's runtime: EDDY_READY with the tick's
 * scheduled time in *tick_ns (may be NULL), or EDDY_PENDING (cx's waker stored).
 * Owning thread. Errors: EDDY_EINVAL (bad cx), EDDY_EWRONGTHREAD (cx of
 * another runtime's task). */
int eddy_interval_poll_tick(eddy_interval_t iv, eddy_cx_t *cx, uint64_t *tick_ns);
/* Frees the interval (disarms its timer). Owning thread. */
int eddy_interval_free(eddy_interval_t iv);
/* Polls each of the n futures whose results[i] is EDDY_PENDING (initialise
 * the array to EDDY_PENDING) and writes its outcome there: EDDY_READY, the
 * future's error, or the poll's own error for that handle (EDDY_EBADHANDLE
 * ...), each counting as finished. Returns EDDY_READY once no entry is
 * EDDY_PENDING (n 0: at once), else EDDY_PENDING (every pending future holds
 * cx's waker). The futures stay the caller's. Owning thread.
 * Errors: EDDY_EINVAL (bad cx, futs or results NULL with n > 0). */
int eddy_join_poll(const eddy_future_t *futs, size_t n, eddy_cx_t *cx, int *results);
/* Polls futs[0], futs[1] ... in order and stops at the first that is not
 * pending: EDDY_READY with its index in *index and its outcome (EDDY_READY,
 * its error, or the poll's error for a bad handle) in *status. Earlier ones
 * win ties (biased, unlike tokio's random select!). EDDY_PENDING when none is
 * done (each holds cx's waker). The others are left as they are: free (cancel)
 * or keep polling them. Owning thread.
 * Errors: EDDY_EINVAL (bad cx, n 0, futs, index or status NULL). */
int eddy_select_poll(const eddy_future_t *futs, size_t n, eddy_cx_t *cx, size_t *index, int *status);
/* ==== end Time and combinators ==== */
/* ---- Signals and child processes (issue 16, branch sigproc-16) ----------------
 * docs/OS.md has the whole story; in short:
 *
 * Signals: a watch handle reads its signals through a signalfd registered with
 * the runtime. While a signal has a watcher (any front door, any runtime) it is
 * blocked in each thread that created a watch of it, and Eddy's handler is
 * installed for it, which only re-sends it to those threads should the kernel
 * pick a thread that does not block it (a thread the host started): a watched
 * signal never takes its default action and never reaches the handler that was
 * there before. Arrivals coalesce per watcher (like a pending signal);
 * several watchers of one signal each see every arrival. A thread's last watch
 * freed on that thread unblocks it there (unless it was blocked before); the
 * last watch of all discards what is still pending (process-wide and in every
 * thread: it arrived while watched, docs/OS.md) and restores the previous action. Every thread Eddy starts (blocking pool, child reaper) blocks every
 * signal from birth.
 *
 * Child processes: posix_spawn (no fork), empty signal mask and default
 * dispositions in the child, only descriptors 0-2 passed (everything Eddy opens
 * is close-on-exec). A piped standard stream is an eddy_tcp_t over a Unix
 * socket pair (eddy_tcp_poll_read / poll_write / eddy_tcp_shutdown(SHUT_WR) for
 * end-of-file / eddy_tcp_close). The exit is awaited through a pidfd (Linux >=
 * 5.3), else through a SIGCHLD watch. No zombie is ever left: a process handle
 * freed before its child was reaped hands the child to a reaper thread. */
typedef struct { uint64_t id; } eddy_signal_t;
typedef struct { uint64_t id; } eddy_process_t;

/* Starts watching the `count` signals of `signums` (SIGTERM, SIGINT ...) on
 * runtime `rt`, blocking them in the calling thread; writes a watch handle to
 * *out (free it with eddy_signal_free).
 * Owning thread only. Errors: EDDY_EINVAL (signums or out NULL, count 0 or
 * above 64, a signal that cannot be watched: SIGKILL, SIGSTOP, 0, 32, 33, above
 * SIGRTMAX), -EMFILE, EDDY_ESHUTDOWN, EDDY_EWRONGTHREAD. */
int eddy_signal_watch(eddy_runtime_t rt, const int *signums, size_t count, eddy_signal_t *out);
/* From inside a poll_fn: EDDY_READY with *signum = a signal that arrived since
 * the last READY (the lowest number first when several did), or EDDY_PENDING
 * after storing cx's waker. Errors: EDDY_EINVAL (bad cx, signum NULL),
 * EDDY_EWRONGTHREAD. */
int eddy_signal_poll(eddy_signal_t sig, eddy_cx_t *cx, int *signum);
/* Stops watching and frees the handle (see above for what is restored).
 * eddy_runtime_free frees watches still open. */
int eddy_signal_free(eddy_signal_t sig);

/* What eddy_process_spawn does with a standard descriptor (stdio[i]). */
#define EDDY_STDIO_INHERIT 0 /* the parent's */
#define EDDY_STDIO_NULL 1    /* /dev/null */
#define EDDY_STDIO_PIPE 2    /* a stream: eddy_process_take_stdio */
#define EDDY_STDIO_STDOUT 3  /* stderr only: where stdout goes */

/* Starts argv[0] (searched in PATH unless it holds a '/') with the
 * NULL-terminated `argv`, the NULL-terminated "NAME=value" list `envp` (NULL:
 * this process's environment), in `cwd` (NULL: this process's), stdin, stdout,
 * stderr as `stdio` says (NULL: all inherited). Writes a process handle to
 * *out (free it with eddy_process_free). Owning thread only.
 * Errors: EDDY_EINVAL (argv, argv[0] or out NULL, an unknown stdio mode,
 * EDDY_STDIO_STDOUT for stdin/stdout, an envp entry without '='), the exec's
 * -errno: -ENOENT (no such program), -EACCES, -ENOEXEC ... (the failed child is
 * reaped, no descriptor is left open), -EMFILE, EDDY_ESHUTDOWN,
 * EDDY_EWRONGTHREAD. */
int eddy_process_spawn(eddy_runtime_t rt, const char *const *argv, const char *const *envp,
                       const char *cwd, const int *stdio, eddy_process_t *out);
/* The child's process id. */
int eddy_process_pid(eddy_process_t proc, int32_t *pid);
/* Moves the parent's end of standard stream `which` (0, 1, 2; spawned with
 * EDDY_STDIO_PIPE) into a new stream handle *out, the caller's from now on
 * (eddy_tcp_close). Errors: EDDY_EINVAL (not a pipe, already taken, out NULL). */
int eddy_process_take_stdio(eddy_process_t proc, int which, eddy_tcp_t *out);
/* From inside a poll_fn: EDDY_READY once the child has exited (it is reaped),
 * with *code = its exit code (0..255) and *signum = 0, or *code = -1 and
 * *signum = the signal that ended it; else EDDY_PENDING after storing cx's
 * waker. Ready again with the same status on later polls. Either pointer may
 * be NULL. Errors: EDDY_EINVAL (bad cx), EDDY_EWRONGTHREAD, -ECHILD (someone
 * else reaped it: SIGCHLD ignored by the host). */
int eddy_process_poll_wait(eddy_process_t proc, eddy_cx_t *cx, int *code, int *signum);
/* Creates a future that completes when the child exits (it is reaped then),
 * for eddy_future_poll / eddy_future_then / eddy_timeout / eddy_join_poll like
 * any other future. Its value (eddy_future_take_value, .i) is the exit code
 * (0..255), or minus the signal that ended it (Python's returncode). A failed
 * wait completes it with the error (-ECHILD: someone else reaped the child).
 * The future keeps the child: eddy_process_free meanwhile is fine (the child
 * is reaped by Eddy once the future is freed too). One waiter at a time: while
 * the future and eddy_process_poll_wait both wait, only the last polled is
 * woken. Owning thread only. Errors: EDDY_EINVAL (out NULL), EDDY_ENOMEM,
 * EDDY_EBADHANDLE, EDDY_EWRONGTHREAD. */
int eddy_process_wait(eddy_process_t proc, eddy_future_t *out);
/* Sends `signum` (e.g. SIGTERM, SIGKILL) to the child. Errors: -ESRCH (it has
 * already exited: it is reaped by this call if it was not), EDDY_EINVAL (bad
 * signal number). Owning thread only. */
int eddy_process_kill(eddy_process_t proc, int signum);
/* Frees the handle. A child not reaped yet is reaped by Eddy when it exits (it
 * keeps running; kill it first to stop it). Streams taken stay open. */
int eddy_process_free(eddy_process_t proc);
/* ---- end signals and child processes ---- */

#ifdef __cplusplus
}
#endif
#endif /* EDDY_H */

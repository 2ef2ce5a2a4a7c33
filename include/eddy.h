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
 *     eddy_spawn, eddy_task_abort, eddy_waker_wake, eddy_waker_free.
 *     Everything else: the owning thread.
 */
#ifndef EDDY_H
#define EDDY_H

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

/* Poll results. */
/* Poll results: the operation completed (READY) or the current task's waker
 * was stored and will be woken when progress is possible (PENDING). */
#define EDDY_READY 0
#define EDDY_PENDING 1

/* Error codes: negative errno where one exists, Eddy's own below -5000. The
 * comment of each of Eddy's own codes is its eddy_strerror text, word for word
 * (checked by the tests). */
#define EDDY_EINTR (-4)
#define EDDY_EAGAIN (-11)
#define EDDY_ENOMEM (-12)
#define EDDY_EBUSY (-16)
#define EDDY_EINVAL (-22)
#define EDDY_EMFILE (-24)
#define EDDY_EPIPE (-32)
#define EDDY_EADDRINUSE (-98)
#define EDDY_EADDRNOTAVAIL (-99)
#define EDDY_ECONNRESET (-104)
#define EDDY_ENOTCONN (-107)
#define EDDY_ETIMEDOUT (-110)
#define EDDY_ECONNREFUSED (-111)
#define EDDY_ECANCELED (-125)
#define EDDY_EBADHANDLE (-5001)   /* stale, forged, wrong-kind or freed handle */
#define EDDY_EFORKED (-5002)      /* called in a child process after fork() */
#define EDDY_ESHUTDOWN (-5003)    /* the runtime is shut down or being freed */
#define EDDY_EWRONGTHREAD (-5004) /* called from a thread that may not use this runtime or object now */
#define EDDY_ENOTREADY (-5005)    /* result not available: not complete yet or already taken */
#define EDDY_EBADPOLL (-5006)     /* poll function returned a value that is not READY, PENDING or negative */

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
    uint32_t blocking_threads; /* blocking pool size, 0 = default (4), at most 1024 */
} eddy_config_t;

/* A task written in C: poll_fn(state, cx) returns EDDY_READY (done, status 0),
 * EDDY_PENDING (it arranged for cx's waker to be woken, e.g. by an eddy poll
 * function that returned PENDING, or through eddy_cx_waker), or a negative code
 * (done, status = that code). Any other value ends the task with EDDY_EBADPOLL.
 * poll_fn runs on the runtime's thread and must not block.
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
 * eddy_strerror: a human-readable message for any code (errno values use the C
 *   library's text, Eddy codes their own, unknown codes "unknown error").
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
 * task_budget 128, blocking_threads 4). Any thread.
 * Errors: EDDY_EINVAL (config NULL). */
int eddy_config_init(eddy_config_t *config);
/* Creates a current-thread runtime owned by the calling thread and writes its
 * handle to *out. config may be NULL (defaults); otherwise it must have been
 * initialised by eddy_config_init (struct_size checked) and carry only known
 * flags. Any thread (the caller becomes the owning thread).
 * Free it with eddy_runtime_free.
 * Errors: EDDY_EINVAL (out NULL, bad struct_size, unknown flag, a field above
 * its maximum), EDDY_EMFILE
 * and other -errno (epoll/eventfd creation), EDDY_ENOMEM (handle table full). */
int eddy_runtime_new(const eddy_config_t *config, eddy_runtime_t *out);
/* Runs the runtime until no task remains; returns 0. Owning thread, not from
 * inside one of the runtime's own tasks or callbacks (EDDY_EBUSY).
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

/* Tasks. */
/* Spawns a task: the runtime calls poll(state, cx) on its thread until it
 * returns READY or an error. Ownership of state passes to the runtime:
 * drop(state) (may be NULL) runs exactly once on the runtime's thread; if
 * eddy_spawn fails, drop is not called and the caller keeps state.
 * *out receives a task handle: join it (eddy_task_poll_join, run_until), query
 * it, abort it, and release it with eddy_task_free (the task keeps running).
 * Any thread (from another thread the runtime is woken).
 * Errors: EDDY_EINVAL (poll or out NULL), EDDY_ESHUTDOWN (runtime being freed),
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

/* Future objects. */
/* Creates a future that connects to a numeric IPv4/IPv6 address. Poll it with
 * eddy_future_poll (or drive it with eddy_future_then), then take the stream
 * with eddy_future_take_tcp. Free the future with eddy_future_free (which
 * closes a socket still connecting, or a connected one never taken).
 * Owning thread.
 * Errors: EDDY_EINVAL (host NULL or not numeric, out NULL), EDDY_EMFILE,
 * -errno (socket creation), EDDY_ENOMEM. Connection errors
 * (EDDY_ECONNREFUSED ...) are reported by eddy_future_poll. */
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
 * into .i / .u, .d, .f, .p; 0 for void. The pool is created on first use
 * (config.blocking_threads threads). Owning thread.
 * Errors: EDDY_EINVAL (fn, signature or out NULL, malformed signature, nargs
 * not matching it, args NULL with nargs > 0), EDDY_ESHUTDOWN, -EAGAIN (no
 * worker thread could be started), EDDY_ENOMEM. */
int eddy_blocking_call(eddy_runtime_t rt, void (*fn)(void), const char *signature,
                       const eddy_value_t *args, size_t nargs, eddy_future_t *out);
/* Runs fn(arg) on a worker thread of the blocking pool; the returned pointer is
 * .p of eddy_future_take_value. Owning thread.
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
 * (EDDY_EINVAL) with WAIT and FINISH. */
#define EDDY_HOST_OP_REPEAT 0x100u

/* Event result of an operation ended by a wake (not an error code). */
#define EDDY_HOST_WOKEN (-5100)

/* One operation: 5 x 64-bit words. The host keeps it in its own memory and
 * passes its address; Eddy copies it during the call. */
typedef struct eddy_host_op {
    uint64_t task;   /* id from eddy_host_spawn */
    uint64_t op;     /* EDDY_HOST_OP_* (READ/WRITE may carry EDDY_HOST_OP_REPEAT) */
    uint64_t handle; /* READ/WRITE: the eddy_tcp_t's id; else ignored */
    uint64_t buf;    /* READ/WRITE: buffer address ((uintptr_t)ptr); else ignored */
    uint64_t len;    /* READ/WRITE: buffer length (NULL buf needs len 0); else ignored */
} eddy_host_op_t;

/* One completed operation: 2 x 64-bit words. */
typedef struct eddy_host_event {
    uint64_t task;  /* which task */
    int64_t result; /* bytes, a negative error code, or EDDY_HOST_WOKEN (fits in
                       32 bits when the operation's len is at most INT_MAX) */
} eddy_host_event_t;

/* Creates a host-driven task of `rt`; writes its id (never 0) to *task. The
 * id is valid until the task's EDDY_HOST_OP_FINISH or eddy_runtime_free.
 * Its low 32 bits are the task's slot: at least 1, distinct among the
 * runtime's live host tasks, and dense: a FINISH frees it for the next spawn,
 * and a new slot is taken only when none is free (so slots never exceed the
 * most tasks alive at once, plus one slot retired per 2^32 spawns so that a
 * stale id never comes back). A host may keep its tasks in an array indexed by
 * slot and look events up without hashing; the high 32 bits make every id
 * unique. */
int eddy_host_spawn(eddy_runtime_t rt, uint64_t *task);

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
 * outstanding or appears twice, an unknown op code or a NULL entry
 * (EDDY_EINVAL); a bad stream handle, a listener, or a NULL buf with len > 0
 * is that operation's event (its error code). Returns 0, or EDDY_EINTR when a
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
int eddy_host_enter(eddy_runtime_t rt, uint64_t task, eddy_cx_t **cx);

/* Wakes host task `task` (as its waker would): its outstanding operation, or
 * its next one, ends with EDDY_HOST_WOKEN unless it completes. Owning thread;
 * allowed while the runtime runs. Other threads: take a waker handle with
 * eddy_host_enter + eddy_cx_waker and use eddy_waker_wake. */
int eddy_host_wake(eddy_runtime_t rt, uint64_t task);

/* Writes up to len bytes of buf (at most INT_MAX) to the TCP stream op->handle
 * for host task op->task at once, without a turn (op->op must be
 * EDDY_HOST_OP_WRITE; op->buf and op->len are ignored; the runtime is the
 * stream's): for the host running that task, which has no operation
 * outstanding. Returns the bytes written (> 0), -EAGAIN when the socket takes
 * nothing now (submit the op to wait for it), or an error code: EDDY_EBADHANDLE
 * (stream, task), EDDY_EINVAL (op NULL, not a WRITE, task with an operation
 * outstanding or before its first event, a listener, buf NULL with len > 0),
 * EDDY_EBUSY, EDDY_ESHUTDOWN, -EPIPE ... */
int eddy_host_write(const eddy_host_op_t *op, const void *buf, size_t len);

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

#ifdef __cplusplus
}
#endif
#endif /* EDDY_H */

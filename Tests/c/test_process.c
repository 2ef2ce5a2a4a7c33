/* test_process.c — signals (eddy_signal_*) and child processes (eddy_process_*):
 * a watched signal delivered to a poll_fn, coalescing, a process-directed SIGTERM from
 * a thread that does not block it never killing the process, the previous action and
 * mask restored; spawn with piped stdin/stdout, env and cwd, exit codes and signals,
 * kill after exit (-ESRCH), a program that does not exist (-ENOENT, no fd, no child),
 * a freed child reaped, and misuse (bad signals, stdio modes, NULLs, double take/free).
 * Every test ends with the runtime free and the descriptor count unchanged. */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <dirent.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- signals ---- */

typedef struct {
    eddy_signal_t sig;
    int raise_count; /* kill(getpid(), raise_signo) this many times on the first poll */
    int raise_signo;
    int from_thread; /* raise from a thread with an empty mask instead */
    int got;
    int rc;
} sig_state_t;

static void *raiser(void *arg)
{
    sigset_t none;
    sigemptyset(&none);
    pthread_sigmask(SIG_SETMASK, &none, NULL);
    kill(getpid(), *(int *)arg);
    return NULL;
}

static int sig_poll(void *state, eddy_cx_t *cx)
{
    sig_state_t *s = state;
    int n = s->raise_count;
    s->raise_count = 0;
    for (int i = 0; i < n; i++) {
        if (s->from_thread) {
            pthread_t t;
            assert_int_equal(pthread_create(&t, NULL, raiser, &s->raise_signo), 0);
            pthread_join(t, NULL);
        } else {
            kill(getpid(), s->raise_signo);
        }
    }
    s->rc = eddy_signal_poll(s->sig, cx, &s->got);
    return s->rc == EDDY_PENDING ? EDDY_PENDING : EDDY_READY;
}

static int signal_ready(eddy_runtime_t rt, sig_state_t *s)
{
    int st = -1;
    assert_int_equal(eddy_block_on(rt, sig_poll, s, NULL, &st), 0);
    return s->rc;
}

static void test_signal_delivered(void **state)
{
    fixture_t *f = *state;
    int sigs[] = {SIGUSR1, SIGUSR2};
    eddy_signal_t w;
    assert_int_equal(eddy_signal_watch(f->rt, sigs, 2, &w), 0);
    sig_state_t s = {.sig = w, .raise_count = 3, .raise_signo = SIGUSR2};
    assert_int_equal(signal_ready(f->rt, &s), EDDY_READY);
    assert_int_equal(s.got, SIGUSR2);
    /* The three were one (coalesced): nothing more is ready. */
    sig_state_t again = {.sig = w};
    eddy_future_t sl;
    assert_int_equal(eddy_sleep(f->rt, 50 * MS, &sl), 0);
    assert_int_equal(block_on_future(f->rt, sl), 0);
    assert_int_equal(eddy_future_free(sl), 0);
    again.raise_count = 1;
    again.raise_signo = SIGUSR1;
    assert_int_equal(signal_ready(f->rt, &again), EDDY_READY);
    assert_int_equal(again.got, SIGUSR1);
    assert_int_equal(eddy_signal_free(w), 0);
    assert_int_equal(eddy_signal_free(w), EDDY_EBADHANDLE);
    FINISH(f);
}

static void test_sigterm_never_takes_default_action(void **state)
{
    fixture_t *f = *state;
    struct sigaction before;
    sigaction(SIGTERM, NULL, &before);
    int sigs[] = {SIGTERM};
    eddy_signal_t w;
    assert_int_equal(eddy_signal_watch(f->rt, sigs, 1, &w), 0);
    for (int i = 0; i < 5; i++) {
        sig_state_t s = {.sig = w, .raise_count = 1, .raise_signo = SIGTERM, .from_thread = 1};
        assert_int_equal(signal_ready(f->rt, &s), EDDY_READY);
        assert_int_equal(s.got, SIGTERM);
    }
    assert_int_equal(eddy_signal_free(w), 0);
    struct sigaction after;
    sigaction(SIGTERM, NULL, &after);
    assert_ptr_equal((void *)after.sa_handler, (void *)before.sa_handler);
    sigset_t mask;
    pthread_sigmask(SIG_BLOCK, NULL, &mask);
    assert_int_equal(sigismember(&mask, SIGTERM), 0);
    FINISH(f);
}

/* The host's own action for SIGUSR2 in the test below: counts its calls. */
static atomic_int host_calls;
static atomic_int receiver_stop;
static void count_host_call(int signo)
{
    (void)signo;
    atomic_fetch_add(&host_calls, 1);
}

/* The only thread with SIGUSR2 unblocked: the kernel delivers the process-directed
 * signals of the test below here, where Eddy's handler forwards them to the watcher. */
static void *unblocked_receiver(void *arg)
{
    (void)arg;
    sigset_t none;
    sigemptyset(&none);
    pthread_sigmask(SIG_SETMASK, &none, NULL);
    /* The lowest scheduling class: preempted by anything, so the forwarding handler is
     * often caught between reading its target and sending to it (the fuzzer's window). */
    struct sched_param idle = {0};
    pthread_setschedparam(pthread_self(), SCHED_IDLE, &idle);
    while (!atomic_load(&receiver_stop)) sleep_ms(1);
    return NULL;
}

/* The fuzzer's race (seed 5217714093): a process-directed signal sent while watched is
 * being forwarded by Eddy's handler on another thread while the last watcher is freed.
 * The late copy must not reach the action that was there before (with SIG_DFL:
 * "User defined signal 2" ends the process); every signal here is sent before the free.
 * A stress test: the window is a few instructions wide, so it rarely fails without the
 * fix on an idle machine; SignalTests has the deterministic case (a pending copy on the
 * watching thread when the last watcher is cancelled from another thread). */
static void test_a_signal_forwarded_while_the_last_watcher_goes_is_not_handed_back(void **state)
{
    fixture_t *f = *state;
    if (getenv("EDDY_UNDER_VALGRIND") != NULL) {
        /* valgrind takes each signal from the kernel itself and runs the client's handler
         * later from its own per-thread queue: SIG_IGN's discard of pending copies cannot
         * reach that queue, nor can this thread drain another thread's. Seen once in
         * `make san-valgrind` (a copy reached the host handler); natively and under ASan
         * the kernel's discard holds. */
        fprintf(stderr, "    (valgrind: skipped, its signal queue is outside the kernel's discard)\n");
        skip();
    }
    struct sigaction host, before;
    memset(&host, 0, sizeof host);
    host.sa_handler = count_host_call;
    sigemptyset(&host.sa_mask);
    sigaction(SIGUSR2, &host, &before);
    atomic_store(&host_calls, 0);
    atomic_store(&receiver_stop, 0);
    pthread_t rx;
    assert_int_equal(pthread_create(&rx, NULL, unblocked_receiver, NULL), 0);
    int sigs[] = {SIGUSR2};
    for (int i = 0; i < 2000; i++) {
        eddy_signal_t w;
        assert_int_equal(eddy_signal_watch(f->rt, sigs, 1, &w), 0);
        kill(getpid(), SIGUSR2);
        if (i % 4 == 1) sched_yield(); /* vary where the receiver is when the free runs */
        if (i % 4 == 2) {
            struct timespec ts = {0, 20000 * (i % 7)};
            nanosleep(&ts, NULL);
        }
        assert_int_equal(eddy_signal_free(w), 0);
    }
    sleep_ms(50); /* a late copy would land by now */
    atomic_store(&receiver_stop, 1);
    pthread_join(rx, NULL);
    int calls = atomic_load(&host_calls);
    sigaction(SIGUSR2, &before, NULL);
    assert_int_equal(calls, 0);
    sigset_t mask;
    pthread_sigmask(SIG_BLOCK, NULL, &mask);
    assert_int_equal(sigismember(&mask, SIGUSR2), 0);
    FINISH(f);
}

static void test_signal_misuse(void **state)
{
    fixture_t *f = *state;
    eddy_signal_t w;
    int bad[] = {SIGKILL, SIGSTOP, 0, -1, 32, 33, 65, 100000};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(eddy_signal_watch(f->rt, &bad[i], 1, &w), EDDY_EINVAL);
    }
    int ok[] = {SIGUSR1, SIGKILL};
    assert_int_equal(eddy_signal_watch(f->rt, ok, 2, &w), EDDY_EINVAL); /* all or nothing */
    assert_int_equal(eddy_signal_watch(f->rt, ok, 0, &w), EDDY_EINVAL);
    assert_int_equal(eddy_signal_watch(f->rt, NULL, 1, &w), EDDY_EINVAL);
    assert_int_equal(eddy_signal_watch(f->rt, ok, 1, NULL), EDDY_EINVAL);
    int got;
    eddy_signal_t junk = {12345};
    assert_int_equal(eddy_signal_free(junk), EDDY_EBADHANDLE);
    assert_int_equal(eddy_signal_poll(junk, NULL, &got), EDDY_EINVAL);
    /* SIGUSR1 stays as it was: not blocked, default action. */
    struct sigaction sa;
    sigaction(SIGUSR1, NULL, &sa);
    assert_ptr_equal((void *)sa.sa_handler, (void *)SIG_DFL);
    FINISH(f);
}

/* A child forked (without exec) while SIGUSR1 is watched gets the action that was there
 * before (here the default: it ends the child) and the signal unblocked. */
static void test_forked_child_does_not_inherit_the_watch(void **state)
{
    fixture_t *f = *state;
    int sigs[] = {SIGUSR1};
    eddy_signal_t w;
    assert_int_equal(eddy_signal_watch(f->rt, sigs, 1, &w), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        kill(getpid(), SIGUSR1); /* default action: the child ends here */
        _exit(0);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGUSR1);
    assert_int_equal(eddy_signal_free(w), 0);
    FINISH(f);
}

/* ---- processes ---- */

typedef struct {
    eddy_process_t proc;
    eddy_tcp_t in, out;
    const char *send;
    size_t sent;
    int shut;
    char buf[4096];
    size_t len;
    int eof;
    int code, signum;
    int rc;
} proc_state_t;

/* Writes `send` to stdin (then shuts it), reads stdout to EOF, waits for the exit. */
static int proc_poll(void *state, eddy_cx_t *cx)
{
    proc_state_t *p = state;
    if (p->send != NULL && !p->shut) {
        while (p->sent < strlen(p->send)) {
            size_t n = 0;
            int rc = eddy_tcp_poll_write(p->in, cx, p->send + p->sent, strlen(p->send) - p->sent, &n);
            if (rc == EDDY_PENDING) return EDDY_PENDING;
            if (rc != EDDY_READY) return p->rc = rc;
            p->sent += n;
        }
        assert_int_equal(eddy_tcp_shutdown(p->in, SHUT_WR), 0);
        p->shut = 1;
    }
    while (p->out.id != 0 && !p->eof) {
        size_t n = 0;
        int rc = eddy_tcp_poll_read(p->out, cx, p->buf + p->len, sizeof p->buf - 1 - p->len, &n);
        if (rc == EDDY_PENDING) return EDDY_PENDING;
        if (rc != EDDY_READY) return p->rc = rc;
        if (n == 0) p->eof = 1;
        p->len += n;
        p->buf[p->len] = 0;
    }
    p->rc = eddy_process_poll_wait(p->proc, cx, &p->code, &p->signum);
    return p->rc == EDDY_PENDING ? EDDY_PENDING : EDDY_READY;
}

static void run_proc(eddy_runtime_t rt, proc_state_t *p)
{
    int st = -1;
    assert_int_equal(eddy_block_on(rt, proc_poll, p, NULL, &st), 0);
}

static void test_spawn_pipes_env_cwd(void **state)
{
    fixture_t *f = *state;
    const char *argv[] = {"/bin/sh", "-c", "cat; echo \" $EDDY_X\"; pwd; echo err >&2", NULL};
    const char *envp[] = {"EDDY_X=forty two", "PATH=/usr/bin:/bin", NULL};
    int stdio[] = {EDDY_STDIO_PIPE, EDDY_STDIO_PIPE, EDDY_STDIO_STDOUT};
    proc_state_t p = {.send = "through cat"};
    assert_int_equal(eddy_process_spawn(f->rt, argv, envp, "/tmp", stdio, &p.proc), 0);
    int32_t pid = 0;
    assert_int_equal(eddy_process_pid(p.proc, &pid), 0);
    assert_true(pid > 0);
    assert_int_equal(eddy_process_take_stdio(p.proc, 0, &p.in), 0);
    assert_int_equal(eddy_process_take_stdio(p.proc, 1, &p.out), 0);
    eddy_tcp_t again;
    assert_int_equal(eddy_process_take_stdio(p.proc, 1, &again), EDDY_EINVAL); /* taken */
    assert_int_equal(eddy_process_take_stdio(p.proc, 2, &again), EDDY_EINVAL); /* not a pipe */
    assert_int_equal(eddy_process_take_stdio(p.proc, 3, &again), EDDY_EINVAL);
    run_proc(f->rt, &p);
    assert_int_equal(p.rc, EDDY_READY);
    assert_string_equal(p.buf, "through cat forty two\n/tmp\nerr\n");
    assert_int_equal(p.code, 0);
    assert_int_equal(p.signum, 0);
    assert_int_equal(eddy_tcp_close(p.in), 0);
    assert_int_equal(eddy_tcp_close(p.out), 0);
    assert_int_equal(eddy_process_free(p.proc), 0);
    assert_int_equal(eddy_process_free(p.proc), EDDY_EBADHANDLE);
    FINISH(f);
}

static void test_exit_code_signal_and_kill_after_exit(void **state)
{
    fixture_t *f = *state;
    const char *exit7[] = {"sh", "-c", "exit 7", NULL};
    proc_state_t a = {0};
    assert_int_equal(eddy_process_spawn(f->rt, exit7, NULL, NULL, NULL, &a.proc), 0);
    run_proc(f->rt, &a);
    assert_int_equal(a.rc, EDDY_READY);
    assert_int_equal(a.code, 7);
    assert_int_equal(eddy_process_kill(a.proc, SIGTERM), -ESRCH); /* exited */

    const char *sleeper[] = {"sleep", "30", NULL};
    proc_state_t b = {0};
    assert_int_equal(eddy_process_spawn(f->rt, sleeper, NULL, NULL, NULL, &b.proc), 0);
    assert_int_equal(eddy_process_kill(b.proc, SIGTERM), 0);
    run_proc(f->rt, &b);
    assert_int_equal(b.rc, EDDY_READY);
    assert_int_equal(b.code, -1);
    assert_int_equal(b.signum, SIGTERM);
    assert_int_equal(eddy_process_kill(b.proc, SIGKILL), -ESRCH);
    assert_int_equal(eddy_process_kill(b.proc, 1000), EDDY_EINVAL);
    run_proc(f->rt, &b); /* ready again, same status */
    assert_int_equal(b.signum, SIGTERM);
    assert_int_equal(eddy_process_free(a.proc), 0);
    assert_int_equal(eddy_process_free(b.proc), 0);
    FINISH(f);
}

/* ---- the wait future (eddy_process_wait) ---- */

typedef struct {
    eddy_future_t fut;
    int calls;
    int status;
    int take_rc;
    eddy_value_t v;
} wait_then_t;

static void wait_then(void *user, int status)
{
    wait_then_t *t = user;
    t->calls++;
    t->status = status;
    t->take_rc = eddy_future_take_value(t->fut, &t->v); /* the handle is still valid in cb */
}

static void test_wait_future(void **state)
{
    fixture_t *f = *state;
    /* Driven by eddy_block_on: the value is the exit code. */
    const char *exit7[] = {"/bin/sh", "-c", "exit 7", NULL};
    eddy_process_t p;
    assert_int_equal(eddy_process_spawn(f->rt, exit7, NULL, NULL, NULL, &p), 0);
    eddy_future_t w;
    assert_int_equal(eddy_process_wait(p, &w), 0);
    eddy_value_t v;
    assert_int_equal(eddy_future_take_value(w, &v), EDDY_ENOTREADY);
    assert_int_equal(block_on_future(f->rt, w), 0);
    assert_int_equal(eddy_future_take_value(w, &v), 0);
    assert_int_equal(v.i, 7);
    assert_int_equal(eddy_future_free(w), 0);
    assert_int_equal(eddy_process_free(p), 0);

    /* Driven by eddy_future_then, the process handle freed first: the future keeps the
     * child; a signal's value is minus its number. */
    const char *sleeper[] = {"/bin/sleep", "30", NULL};
    assert_int_equal(eddy_process_spawn(f->rt, sleeper, NULL, NULL, NULL, &p), 0);
    wait_then_t t = {.status = 1};
    assert_int_equal(eddy_process_wait(p, &t.fut), 0);
    assert_int_equal(eddy_future_then(t.fut, wait_then, &t), 0);
    assert_int_equal(eddy_process_kill(p, SIGTERM), 0);
    assert_int_equal(eddy_process_free(p), 0);
    assert_int_equal(eddy_runtime_run(f->rt), 0);
    assert_int_equal(t.calls, 1);
    assert_int_equal(t.status, 0);
    assert_int_equal(t.take_rc, 0);
    assert_int_equal(t.v.i, -SIGTERM);
    assert_int_equal(eddy_future_free(t.fut), 0);

    /* Wrapped by eddy_timeout: a child that outlives the deadline is ETIMEDOUT (it keeps
     * running), then killed and waited for with a second future. */
    assert_int_equal(eddy_process_spawn(f->rt, sleeper, NULL, NULL, NULL, &p), 0);
    assert_int_equal(eddy_process_wait(p, &w), 0);
    eddy_future_t to;
    assert_int_equal(eddy_timeout(f->rt, w, 50 * MS, &to), 0);
    assert_int_equal(block_on_future(f->rt, to), EDDY_ETIMEDOUT);
    assert_int_equal(eddy_future_free(to), 0);
    assert_int_equal(eddy_process_kill(p, SIGKILL), 0);
    assert_int_equal(eddy_process_wait(p, &w), 0);
    assert_int_equal(block_on_future(f->rt, w), 0);
    assert_int_equal(eddy_future_take_value(w, &v), 0);
    assert_int_equal(v.i, -SIGKILL);
    int code, signum;
    assert_int_equal(eddy_process_poll_wait(p, NULL, &code, &signum), EDDY_EINVAL); /* bad cx */
    assert_int_equal(eddy_future_free(w), 0);
    assert_int_equal(eddy_process_free(p), 0);

    /* A future freed while the child runs: no zombie (the reaper adopts it). */
    assert_int_equal(eddy_process_spawn(f->rt, sleeper, NULL, NULL, NULL, &p), 0);
    int32_t pid;
    assert_int_equal(eddy_process_pid(p, &pid), 0);
    assert_int_equal(eddy_process_wait(p, &w), 0);
    assert_int_equal(eddy_process_kill(p, SIGKILL), 0);
    assert_int_equal(eddy_process_free(p), 0);
    assert_int_equal(eddy_future_free(w), 0);
    char path[64];
    snprintf(path, sizeof path, "/proc/%d", (int)pid);
    for (int i = 0; i < 500 * (int)slow_factor() && access(path, F_OK) == 0; i++) sleep_ms(10);
    assert_int_not_equal(access(path, F_OK), 0);

    /* Bad input. */
    eddy_process_t junk = {777};
    assert_int_equal(eddy_process_wait(junk, &w), EDDY_EBADHANDLE);
    assert_int_equal(eddy_process_spawn(f->rt, exit7, NULL, NULL, NULL, &p), 0);
    assert_int_equal(eddy_process_wait(p, NULL), EDDY_EINVAL);
    assert_int_equal(eddy_process_wait(p, &w), 0);
    assert_int_equal(block_on_future(f->rt, w), 0);
    assert_int_equal(eddy_future_take_tcp(w, &(eddy_tcp_t){0}), EDDY_EINVAL); /* no stream */
    assert_int_equal(eddy_future_free(w), 0);
    assert_int_equal(eddy_future_free(w), EDDY_EBADHANDLE);
    assert_int_equal(eddy_process_free(p), 0);
    FINISH(f);
}

/* eddy_process_spawn of a program that cannot be started must fail with `want`.
 * Under valgrind (make san-valgrind) posix_spawn's CLONE_VFORK child is emulated by a
 * fork, so the exec's errno cannot reach the parent: the spawn succeeds and the child
 * ends with glibc's exit code 127. Checked here instead (said on stderr, not skipped):
 * then it is reaped, and the pipes go with the handle. */
static void spawn_fails(eddy_runtime_t rt, const char *const *argv, const char *cwd, const int *stdio, int want)
{
    eddy_process_t p;
    int rc = eddy_process_spawn(rt, argv, NULL, cwd, stdio, &p);
    if (rc == 0 && getenv("EDDY_UNDER_VALGRIND") != NULL) {
        fprintf(stderr, "    (valgrind: %s started as a forked child; expecting exit 127 instead of %d)\n", argv[0],
                want);
        eddy_future_t w;
        assert_int_equal(eddy_process_wait(p, &w), 0);
        assert_int_equal(block_on_future(rt, w), 0);
        eddy_value_t v;
        assert_int_equal(eddy_future_take_value(w, &v), 0);
        assert_int_equal(v.i, 127);
        assert_int_equal(eddy_future_free(w), 0);
        if (stdio != NULL) {
            for (int i = 0; i < 3; i++) {
                eddy_tcp_t s;
                if (stdio[i] == EDDY_STDIO_PIPE && eddy_process_take_stdio(p, i, &s) == 0) {
                    assert_int_equal(eddy_tcp_close(s), 0);
                }
            }
        }
        assert_int_equal(eddy_process_free(p), 0);
        return;
    }
    assert_int_equal(rc, want);
}

static void test_missing_program(void **state)
{
    fixture_t *f = *state;
    const char *argv[] = {"/nonexistent/eddy-no-such-program", NULL};
    const char *bare[] = {"eddy-no-such-program-in-path", NULL};
    int stdio[] = {EDDY_STDIO_PIPE, EDDY_STDIO_PIPE, EDDY_STDIO_NULL};
    spawn_fails(f->rt, argv, NULL, stdio, -ENOENT);
    spawn_fails(f->rt, bare, NULL, stdio, -ENOENT);
    int status;
    assert_int_equal(waitpid(-1, &status, WNOHANG), -1); /* no child, no zombie */
    assert_int_equal(errno, ECHILD);
    FINISH(f); /* no descriptor left */
}

static int process_gone(int32_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d", (int)pid);
    struct stat st;
    return stat(path, &st) != 0;
}

static void test_freed_child_is_reaped(void **state)
{
    fixture_t *f = *state;
    const char *argv[] = {"sleep", "0.1", NULL};
    eddy_process_t p;
    assert_int_equal(eddy_process_spawn(f->rt, argv, NULL, NULL, NULL, &p), 0);
    int32_t pid;
    assert_int_equal(eddy_process_pid(p, &pid), 0);
    assert_int_equal(eddy_process_free(p), 0); /* never waited for */
    uint64_t t0 = now_ns();
    while (!process_gone(pid) && elapsed_ms(t0) < 10000u * slow_factor()) sleep_ms(10);
    assert_true(process_gone(pid));
    FINISH(f);
}

/* ---- every thread Eddy starts blocks every signal (issue 16 item 3; audit-16) ---- */

/* SigBlk of /proc/self/task/<tid>/status into *mask; 0 when the thread is gone. */
static int thread_sigblk(const char *tid, unsigned long long *mask)
{
    char path[300], line[256];
    snprintf(path, sizeof path, "/proc/self/task/%s/status", tid);
    FILE *fp = fopen(path, "re");
    if (!fp) return 0;
    int found = 0;
    while (fgets(line, sizeof line, fp)) {
        if (strncmp(line, "SigBlk:", 7) == 0) {
            *mask = strtoull(line + 7, NULL, 16);
            found = 1;
        }
    }
    fclose(fp);
    return found;
}

/* A child freed unwaited is handed to the reaper thread (started then): that thread,
 * like every other thread of this process but the test's own (workers, blocking pool),
 * blocks the catchable signals, so a process-directed signal only ever reaches a thread
 * that chose to take it. */
static void test_every_eddy_thread_blocks_signals(void **state)
{
    fixture_t *f = *state;
    const char *argv[] = {"sleep", "1", NULL};
    eddy_process_t p;
    assert_int_equal(eddy_process_spawn(f->rt, argv, NULL, NULL, NULL, &p), 0);
    int32_t pid;
    assert_int_equal(eddy_process_pid(p, &pid), 0);
    assert_int_equal(eddy_process_free(p), 0); /* the reaper runs until it exits */
    const int sigs[] = {SIGHUP, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2, SIGPIPE, SIGALRM, SIGTERM, SIGCHLD, SIGWINCH};
    unsigned long long want = 0;
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) want |= 1ull << (sigs[i] - 1);
    char self[32];
    snprintf(self, sizeof self, "%ld", (long)gettid());
    int others = 0;
    DIR *d = opendir("/proc/self/task");
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || strcmp(e->d_name, self) == 0) continue;
        unsigned long long blk = 0;
        if (!thread_sigblk(e->d_name, &blk)) continue; /* ended meanwhile */
        others++;
        if ((blk & want) != want) fprintf(stderr, "thread %s: SigBlk %llx\n", e->d_name, blk);
        assert_true((blk & want) == want);
    }
    closedir(d);
    assert_true(others >= 1); /* the reaper at least */
    uint64_t t0 = now_ns();
    while (!process_gone(pid) && elapsed_ms(t0) < 10000u * slow_factor()) sleep_ms(10);
    assert_true(process_gone(pid));
    FINISH(f);
}

/* ---- the SIGCHLD fallback (issue 16 item 4: kernels before 5.3; audit-16) ---- */

/* Descriptors of this process that are pidfds ("anon_inode:[pidfd]"). */
static int count_pidfds(void)
{
    DIR *d = opendir("/proc/self/fd");
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char path[300], target[256];
        snprintf(path, sizeof path, "/proc/self/fd/%s", e->d_name);
        ssize_t len = readlink(path, target, sizeof target - 1);
        if (len <= 0) continue;
        target[len] = 0;
        if (strstr(target, "pidfd")) n++;
    }
    closedir(d);
    return n;
}

/* Without a pidfd (EDDY_TEST_NO_PIDFD=1 forces what pidfd_open's refusal does) the C
 * front door still waits through the SIGCHLD watcher: exit code, signal, ESRCH after the
 * exit, and a child freed unwaited is reaped. No pidfd is open meanwhile (so the
 * fallback, not the pidfd path, did the work). */
static void test_sigchld_fallback_without_pidfd(void **state)
{
    fixture_t *f = *state;
    int before = count_pidfds();
    const char *was = getenv("EDDY_TEST_NO_PIDFD"); /* make san-valgrind sets it for the whole run */
    int keep = was != NULL && strcmp(was, "1") == 0;
    setenv("EDDY_TEST_NO_PIDFD", "1", 1); /* read at spawn */
    const char *exit5[] = {"/bin/sh", "-c", "sleep 0.05; exit 5", NULL};
    const char *sleeper[] = {"sleep", "30", NULL};
    const char *brief[] = {"sleep", "0.1", NULL};
    proc_state_t a = {0}, b = {0};
    eddy_process_t c;
    int ra = eddy_process_spawn(f->rt, exit5, NULL, NULL, NULL, &a.proc);
    int rb = eddy_process_spawn(f->rt, sleeper, NULL, NULL, NULL, &b.proc);
    int rc = eddy_process_spawn(f->rt, brief, NULL, NULL, NULL, &c);
    if (!keep) unsetenv("EDDY_TEST_NO_PIDFD");
    assert_int_equal(ra, 0);
    assert_int_equal(rb, 0);
    assert_int_equal(rc, 0);
    assert_int_equal(count_pidfds(), before);
    int32_t pid;
    assert_int_equal(eddy_process_pid(c, &pid), 0);
    assert_int_equal(eddy_process_free(c), 0); /* never waited for */

    run_proc(f->rt, &a);
    assert_int_equal(a.rc, EDDY_READY);
    assert_int_equal(a.code, 5);
    assert_int_equal(eddy_process_kill(a.proc, SIGTERM), -ESRCH);
    assert_int_equal(eddy_process_kill(b.proc, SIGKILL), 0);
    run_proc(f->rt, &b);
    assert_int_equal(b.rc, EDDY_READY);
    assert_int_equal(b.code, -1);
    assert_int_equal(b.signum, SIGKILL);
    uint64_t t0 = now_ns();
    while (!process_gone(pid) && elapsed_ms(t0) < 10000u * slow_factor()) sleep_ms(10);
    assert_true(process_gone(pid));
    assert_int_equal(eddy_process_free(a.proc), 0);
    assert_int_equal(eddy_process_free(b.proc), 0);
    FINISH(f);
}

/* The child lists its descriptors while the parent holds a signalfd, another child's
 * pipes and pidfd: it sees 0-3 (3: ls's directory) and whatever this process has without
 * close-on-exec (the harness's), nothing of Eddy's. */
static void test_no_descriptor_leaks_into_the_child(void **state)
{
    fixture_t *f = *state;
    int allowed[1024] = {0};
    for (int fd = 0; fd < 1024; fd++) {
        int fl = fcntl(fd, F_GETFD);
        allowed[fd] = fd <= 3 || (fl >= 0 && !(fl & FD_CLOEXEC));
    }
    int sigs[] = {SIGUSR2};
    eddy_signal_t w;
    assert_int_equal(eddy_signal_watch(f->rt, sigs, 1, &w), 0);
    const char *sleeper[] = {"sleep", "5", NULL};
    int pipes[] = {EDDY_STDIO_PIPE, EDDY_STDIO_PIPE, EDDY_STDIO_INHERIT};
    proc_state_t other = {0};
    assert_int_equal(eddy_process_spawn(f->rt, sleeper, NULL, NULL, pipes, &other.proc), 0);
    const char *ls[] = {"ls", "/proc/self/fd", NULL};
    proc_state_t p = {0};
    assert_int_equal(eddy_process_spawn(f->rt, ls, NULL, NULL, pipes, &p.proc), 0);
    assert_int_equal(eddy_process_take_stdio(p.proc, 1, &p.out), 0);
    run_proc(f->rt, &p);
    assert_int_equal(p.rc, EDDY_READY);
    assert_int_equal(p.code, 0);
    int n = 0;
    for (char *tok = strtok(p.buf, "\n"); tok != NULL; tok = strtok(NULL, "\n")) {
        int fd = atoi(tok);
        if (fd < 0 || fd >= 1024 || !allowed[fd]) fail_msg("descriptor %d leaked into the child", fd);
        n++;
    }
    assert_true(n >= 3);
    assert_int_equal(eddy_process_kill(other.proc, SIGKILL), 0);
    run_proc(f->rt, &other);
    assert_int_equal(other.signum, SIGKILL);
    assert_int_equal(eddy_tcp_close(p.out), 0);
    assert_int_equal(eddy_process_free(p.proc), 0);
    assert_int_equal(eddy_process_free(other.proc), 0);
    assert_int_equal(eddy_signal_free(w), 0);
    FINISH(f);
}

static void test_process_misuse(void **state)
{
    fixture_t *f = *state;
    eddy_process_t p;
    const char *argv[] = {"true", NULL};
    const char *empty[] = {NULL};
    const char *badenv[] = {"NOEQUALS", NULL};
    int bad_mode[] = {EDDY_STDIO_INHERIT, 9, EDDY_STDIO_INHERIT};
    int stdout_for_stdin[] = {EDDY_STDIO_STDOUT, EDDY_STDIO_INHERIT, EDDY_STDIO_INHERIT};
    assert_int_equal(eddy_process_spawn(f->rt, NULL, NULL, NULL, NULL, &p), EDDY_EINVAL);
    assert_int_equal(eddy_process_spawn(f->rt, empty, NULL, NULL, NULL, &p), EDDY_EINVAL);
    assert_int_equal(eddy_process_spawn(f->rt, argv, NULL, NULL, NULL, NULL), EDDY_EINVAL);
    assert_int_equal(eddy_process_spawn(f->rt, argv, badenv, NULL, NULL, &p), EDDY_EINVAL);
    assert_int_equal(eddy_process_spawn(f->rt, argv, NULL, NULL, bad_mode, &p), EDDY_EINVAL);
    assert_int_equal(eddy_process_spawn(f->rt, argv, NULL, NULL, stdout_for_stdin, &p), EDDY_EINVAL);
    spawn_fails(f->rt, argv, "/nonexistent-dir", NULL, -ENOENT);
    eddy_process_t junk = {777};
    int32_t pid;
    assert_int_equal(eddy_process_pid(junk, &pid), EDDY_EBADHANDLE);
    assert_int_equal(eddy_process_kill(junk, SIGTERM), EDDY_EBADHANDLE);
    assert_int_equal(eddy_process_free(junk), EDDY_EBADHANDLE);
    assert_int_equal(eddy_process_poll_wait(junk, NULL, NULL, NULL), EDDY_EINVAL);
    FINISH(f);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_signal_delivered),
        T(test_sigterm_never_takes_default_action),
        T(test_a_signal_forwarded_while_the_last_watcher_goes_is_not_handed_back),
        T(test_signal_misuse),
        T(test_forked_child_does_not_inherit_the_watch),
        T(test_spawn_pipes_env_cwd),
        T(test_exit_code_signal_and_kill_after_exit),
        T(test_wait_future),
        T(test_missing_program),
        T(test_freed_child_is_reaped),
        T(test_sigchld_fallback_without_pidfd),
        T(test_every_eddy_thread_blocks_signals),
        T(test_no_descriptor_leaks_into_the_child),
        T(test_process_misuse),
    };
    return cmocka_run_group_tests_name("process", tests, NULL, NULL);
}

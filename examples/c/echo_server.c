/* echo_server.c — a poll-style TCP echo server on Eddy, from C.
 *
 *   echo_server [--host ADDR] [--port PORT] [--workers N]   (defaults 127.0.0.1, 9000, 1)
 *
 * --workers N > 1: a multi-thread runtime (eddy_config_t.workers). Each worker has its
 * own listener on the same port (EDDY_TCP_REUSEPORT: the kernel spreads connections)
 * and its own acceptor task (eddy_spawn_on), so each connection lives on the worker
 * that accepted it. Worker 0's listener is made here, first, to learn the port.
 *
 * One acceptor task; one task per connection, each a small state machine with one
 * fixed buffer allocated when the connection is accepted: no allocation per read or
 * write. The first line on stdout is `listening on ADDR:PORT`.
 *
 * Clean exit on SIGINT/SIGTERM (so a profiler such as callgrind can write its data):
 *   - the handler only sets a flag and posts a semaphore (both async-signal-safe);
 *   - EDDY_CONFIG_RETURN_ON_SIGNAL makes eddy_runtime_run_until return EDDY_EINTR when the
 *     signal interrupts epoll_wait — the common, idle case;
 *   - a signal that lands while the loop is busy polling tasks would not interrupt any
 *     wait, so a small watcher thread (sem_wait) also wakes a "stop" task with
 *     eddy_waker_wake, which any thread may call. Either path ends the run.
 * Then eddy_runtime_free drops every task and closes every socket.
 *
 * Build: cc -std=c11 -pthread echo_server.c $(pkg-config --cflags --libs eddy)
 */
#define _GNU_SOURCE 1

#include <eddy.h>

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CONN_BUFFER 16384

typedef struct {
    unsigned long long accepted, closed, bytes;
} stats_t;

typedef struct {
    eddy_tcp_t stream;
    size_t len, off; /* buf[off..len) still has to be written back */
    stats_t *stats;
    unsigned char buf[CONN_BUFFER];
} conn_t;

typedef struct {
    eddy_tcp_t listener; /* id 0: not yet made; the first poll binds (workers 1..N-1) */
    stats_t *stats;
    const char *host;
    uint16_t port;
} acceptor_t;

#define MAX_WORKERS 64

/* ---- connection task ---- */

static int conn_poll(void *state, eddy_cx_t *cx)
{
    conn_t *c = state;
    for (;;) {
        while (c->off < c->len) {
            size_t n = 0;
            int rc = eddy_tcp_poll_write(c->stream, cx, c->buf + c->off, c->len - c->off, &n);
            if (rc == EDDY_PENDING) {
                return EDDY_PENDING;
            }
            if (rc < 0) {
                return rc; /* peer reset: the drop_fn closes */
            }
            c->off += n;
        }
        size_t n = 0;
        int rc = eddy_tcp_poll_read(c->stream, cx, c->buf, sizeof c->buf, &n);
        if (rc == EDDY_PENDING) {
            return EDDY_PENDING;
        }
        if (rc < 0) {
            return rc;
        }
        if (n == 0) {
            return EDDY_READY; /* EOF */
        }
        c->len = n;
        c->off = 0;
        c->stats->bytes += n;
    }
}

/* Runs once per connection task, on the loop thread, however the task ended
 * (completion, error, or the runtime being freed). */
static void conn_drop(void *state)
{
    conn_t *c = state;
    eddy_tcp_close(c->stream); /* EDDY_EBADHANDLE if the runtime already closed it: fine */
    c->stats->closed++;
    free(c);
}

/* ---- acceptor task ---- */

static int acceptor_poll(void *state, eddy_cx_t *cx)
{
    acceptor_t *a = state;
    eddy_runtime_t rt;
    int rc = eddy_cx_runtime(cx, &rt);
    if (rc < 0) {
        return rc;
    }
    if (a->listener.id == 0) {
        /* On this worker's thread: the listener registers with this worker's driver. */
        rc = eddy_tcp_listen_flags(rt, a->host, a->port, 1024, EDDY_TCP_REUSEPORT, &a->listener);
        if (rc < 0) {
            fprintf(stderr, "listen (worker): %s\n", eddy_strerror(rc));
            return rc;
        }
    }
    for (;;) {
        eddy_tcp_t s;
        rc = eddy_tcp_poll_accept(a->listener, cx, &s);
        if (rc == EDDY_PENDING) {
            return EDDY_PENDING; /* also while backing off from EMFILE */
        }
        if (rc < 0) {
            fprintf(stderr, "accept: %s\n", eddy_strerror(rc));
            return rc;
        }
        conn_t *c = malloc(sizeof *c);
        if (c == NULL) {
            eddy_tcp_close(s);
            continue;
        }
        c->stream = s;
        c->len = c->off = 0;
        c->stats = a->stats;
        eddy_tcp_set_nodelay(s, 1);
        eddy_task_t t;
        rc = eddy_spawn(rt, conn_poll, c, conn_drop, &t);
        if (rc < 0) {
            eddy_tcp_close(s);
            free(c);
            continue;
        }
        eddy_task_free(t); /* detached */
        a->stats->accepted++;
    }
}

/* ---- shutdown on SIGINT / SIGTERM ---- */

static volatile sig_atomic_t stop_requested;
static sem_t stop_sem;
static atomic_int stop_waker_ready;
static atomic_int main_done;
static eddy_waker_t stop_waker;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
    sem_post(&stop_sem);
}

/* The stop task: completes once stop_requested is set. */
static int stop_poll(void *state, eddy_cx_t *cx)
{
    (void)state;
    if (stop_requested) {
        return EDDY_READY;
    }
    if (!atomic_load(&stop_waker_ready)) {
        int rc = eddy_cx_waker(cx, &stop_waker);
        if (rc < 0) {
            return rc;
        }
        atomic_store(&stop_waker_ready, 1);
    }
    return EDDY_PENDING;
}

static void *watcher_main(void *arg)
{
    (void)arg;
    while (sem_wait(&stop_sem) != 0 && errno == EINTR) {
    }
    while (!atomic_load(&stop_waker_ready) && !atomic_load(&main_done)) {
        struct timespec ms = { 0, 1000000 };
        nanosleep(&ms, NULL);
    }
    if (atomic_load(&stop_waker_ready)) {
        eddy_waker_wake(stop_waker); /* any thread; a no-op if the task already finished */
    }
    return NULL;
}

int main(int argc, char **argv)
{
    const char *host = "127.0.0.1";
    long port = 9000;
    long workers = 1;
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(argv[i], "--port") == 0 && v != NULL) {
            port = strtol(v, NULL, 10);
            i++;
        } else if (strcmp(argv[i], "--host") == 0 && v != NULL) {
            host = v;
            i++;
        } else if (strncmp(argv[i], "--port=", 7) == 0) {
            port = strtol(argv[i] + 7, NULL, 10);
        } else if (strcmp(argv[i], "--workers") == 0 && v != NULL) {
            workers = strtol(v, NULL, 10);
            i++;
        } else {
            fprintf(stderr,
                    "usage: %s [--host ADDR] [--port PORT] [--workers N]   (default 127.0.0.1 9000 1; 0 = any port)\n",
                    argv[0]);
            return strcmp(argv[i], "--help") == 0 ? 0 : 2;
        }
    }
    if (port < 0 || port > 65535) {
        fprintf(stderr, "bad port %ld\n", port);
        return 2;
    }
    if (workers < 1 || workers > MAX_WORKERS) {
        fprintf(stderr, "bad worker count %ld (1..%d)\n", workers, MAX_WORKERS);
        return 2;
    }

    /* Signals: block them while the watcher thread starts so it inherits the mask
     * and the handler runs on the loop thread (interrupting epoll_wait). */
    sem_init(&stop_sem, 0, 0);
    sigset_t sigs, old;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, &old);
    pthread_t watcher;
    if (pthread_create(&watcher, NULL, watcher_main, NULL) != 0) {
        fprintf(stderr, "pthread_create failed\n");
        return 1;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);

    eddy_config_t config;
    eddy_config_init(&config);
    config.flags |= EDDY_CONFIG_RETURN_ON_SIGNAL;
    config.workers = (uint32_t)workers;
    eddy_runtime_t rt;
    int rc = eddy_runtime_new(&config, &rt);
    if (rc < 0) {
        fprintf(stderr, "eddy_runtime_new: %s\n", eddy_strerror(rc));
        return 1;
    }
    /* One acceptor (and one stats record: no counter shared between threads) per worker. */
    static stats_t stats[MAX_WORKERS];
    static acceptor_t accs[MAX_WORKERS];
    acceptor_t *acc = &accs[0];
    for (long w = 0; w < workers; w++) {
        accs[w] = (acceptor_t){ .stats = &stats[w], .host = host };
    }
    rc = workers > 1 ? eddy_tcp_listen_flags(rt, host, (uint16_t)port, 1024, EDDY_TCP_REUSEPORT, &acc->listener)
                     : eddy_tcp_listen(rt, host, (uint16_t)port, 1024, &acc->listener);
    if (rc < 0) {
        fprintf(stderr, "listen on %s:%ld: %s\n", host, port, eddy_strerror(rc));
        eddy_runtime_free(rt);
        return 1;
    }
    uint16_t bound = 0;
    eddy_tcp_local_port(acc->listener, &bound);
    printf("listening on %s:%u\n", host, (unsigned)bound);
    fflush(stdout);

    eddy_task_t acceptor, stopper;
    eddy_spawn(rt, acceptor_poll, acc, NULL, &acceptor);
    for (long w = 1; w < workers; w++) {
        eddy_task_t t;
        accs[w].port = bound;
        if (eddy_spawn_on(rt, (uint32_t)w, acceptor_poll, &accs[w], NULL, &t) == 0) {
            eddy_task_free(t); /* detached; dropped by eddy_runtime_free */
        }
    }
    eddy_spawn(rt, stop_poll, NULL, NULL, &stopper);

    int status = 0;
    for (;;) {
        rc = eddy_runtime_run_until(rt, stopper, &status);
        if (rc == EDDY_EINTR && !stop_requested) {
            continue; /* some other signal */
        }
        break;
    }
    if (rc < 0 && rc != EDDY_EINTR) {
        fprintf(stderr, "run: %s\n", eddy_strerror(rc));
    }
    atomic_store(&main_done, 1);
    if (!stop_requested) {
        sem_post(&stop_sem); /* release the watcher */
    }
    pthread_join(watcher, NULL);
    if (atomic_load(&stop_waker_ready)) {
        eddy_waker_free(stop_waker);
    }
    eddy_task_free(stopper);
    eddy_task_free(acceptor);
    /* Drops the acceptor and every open connection (their drop_fn runs), closes all. */
    int forced = eddy_runtime_free(rt); /* stops the workers first */
    stats_t total = { 0 };
    for (long w = 0; w < workers; w++) {
        total.accepted += stats[w].accepted;
        total.bytes += stats[w].bytes;
    }
    fprintf(stderr, "echo_server: stopped; %llu connections, %llu bytes echoed, %d handle(s) closed at exit\n",
            total.accepted, total.bytes, forced < 0 ? 0 : forced);
    if (workers > 1) {
        fprintf(stderr, "echo_server: connections per worker:");
        for (long w = 0; w < workers; w++) {
            fprintf(stderr, " %llu", stats[w].accepted);
        }
        fprintf(stderr, "\n");
    }
    return rc < 0 && rc != EDDY_EINTR ? 1 : 0;
}

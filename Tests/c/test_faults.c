/* test_faults.c — real kernel faults through the C ABI, on loopback sockets:
 *
 *   peer reset (SO_LINGER 0) while a read / a write is pending: the error is surfaced,
 *     the connection is released, the same listener then serves another connection;
 *   half-close both ways: remaining bytes delivered, EOF seen, a write after our own
 *     shutdown fails cleanly (EPIPE, no SIGPIPE: default disposition kept);
 *   EINTR storm: a thread sends SIGUSR1 (handler installed WITHOUT SA_RESTART) to the
 *     loop thread thousands of times during reads, writes and epoll_wait;
 *   slow reader: a peer that does not read makes writes pend, RSS stays bounded, every
 *     byte arrives once it reads;
 *   EMFILE with a real lowered RLIMIT_NOFILE in a child process (re-exec of this
 *     binary): no busy loop (child CPU time over 1 s), the listener survives and accepts
 *     again once descriptors are freed;
 *   fork: the child gets EDDY_EFORKED, and the parent keeps serving TCP afterwards.
 *
 * Peers are plain blocking sockets on pthreads. Nothing inside a poll_fn uses cmocka
 * asserts (no longjmp through the library): results are recorded and checked after. */
#include "harness.h"
#include "echo_parts.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- small helpers ---- */

static long rss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (f == NULL) {
        return -1;
    }
    char line[256];
    long kb = -1;
    while (fgets(line, sizeof line, f) != NULL) {
        if (sscanf(line, "VmRSS: %ld kB", &kb) == 1) {
            break;
        }
    }
    fclose(f);
    return kb;
}

static void rst_close(int fd)
{
    struct linger lg = { .l_onoff = 1, .l_linger = 0 };
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(fd);
}

static void set_rcv_timeout(int fd, int secs)
{
    struct timeval tv = { .tv_sec = secs, .tv_usec = 0 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

/* Waits (bounded) until *flag != 0. */
static int wait_flag(atomic_int *flag, unsigned ms)
{
    for (unsigned i = 0; i < ms; i++) {
        if (atomic_load(flag)) {
            return 1;
        }
        sleep_ms(1);
    }
    return atomic_load(flag) != 0;
}

static void assert_sigpipe_default(void)
{
    struct sigaction sa;
    assert_int_equal(sigaction(SIGPIPE, NULL, &sa), 0);
    assert_true(sa.sa_handler == SIG_DFL);
}

/* ---- reset mid-read / mid-write, then serve another connection ---- */

enum { VICTIM_READ, VICTIM_WRITE };
#define RESET_DATA 1000

typedef struct {
    int mode;
    uint16_t port;
    eddy_tcp_t l, s;
    int phase;
    size_t got;
    int victim_err;  /* the error the victim operation surfaced */
    int victim_eof;  /* read returned 0 instead of an error */
    int serve_err;   /* error while serving the second connection */
    atomic_int armed; /* the victim operation is pending: the peer may reset now */
    unsigned char buf[65536];
    size_t elen, eoff;
    int peer_ok;     /* the second connection got its echo */
} reset_t;

static int reset_server_poll(void *state, eddy_cx_t *cx)
{
    reset_t *t = state;
    int r;
    size_t n;
    for (;;) {
        switch (t->phase) {
        case 0: /* accept the victim */
        case 2: /* accept the next client */
            r = eddy_tcp_poll_accept(t->l, cx, &t->s);
            if (r != EDDY_READY) {
                if (r < 0) {
                    t->serve_err = r;
                    goto done;
                }
                return r;
            }
            t->phase++;
            break;
        case 1: /* the victim operation, until it fails */
            n = 0;
            if (t->mode == VICTIM_READ) {
                r = eddy_tcp_poll_read(t->s, cx, t->buf, sizeof t->buf, &n);
                if (r == EDDY_READY && n == 0) {
                    t->victim_eof = 1;
                    r = 0;
                    goto victim_over;
                }
                if (r == EDDY_READY) {
                    t->got += n;
                    continue;
                }
                if (r == EDDY_PENDING) {
                    if (t->got == RESET_DATA) {
                        atomic_store(&t->armed, 1);
                    }
                    return r;
                }
            } else {
                r = eddy_tcp_poll_write(t->s, cx, t->buf, sizeof t->buf, &n);
                if (r == EDDY_READY) {
                    t->got += n;
                    continue;
                }
                if (r == EDDY_PENDING) {
                    atomic_store(&t->armed, 1);
                    return r;
                }
            }
        victim_over:
            t->victim_err = r;
            eddy_tcp_close(t->s); /* the connection is released */
            t->s.id = 0;
            t->phase = 2;
            break;
        case 3: /* echo 5 bytes for the next client */
            n = 0;
            r = eddy_tcp_poll_read(t->s, cx, t->buf + t->elen, 5 - t->elen, &n);
            if (r == EDDY_PENDING) {
                return r;
            }
            if (r < 0 || n == 0) {
                t->serve_err = r < 0 ? r : -1;
                goto done;
            }
            t->elen += n;
            if (t->elen == 5) {
                t->phase = 4;
            }
            break;
        case 4:
            n = 0;
            r = eddy_tcp_poll_write(t->s, cx, t->buf + t->eoff, t->elen - t->eoff, &n);
            if (r == EDDY_PENDING) {
                return r;
            }
            if (r < 0) {
                t->serve_err = r;
                goto done;
            }
            t->eoff += n;
            if (t->eoff == t->elen) {
                goto done;
            }
            break;
        default:
            goto done;
        }
    }
done:
    if (t->s.id != 0) {
        eddy_tcp_close(t->s);
        t->s.id = 0;
    }
    eddy_tcp_close(t->l);
    t->l.id = 0;
    return EDDY_READY;
}

static void *reset_peer_main(void *arg)
{
    reset_t *t = arg;
    int fd = raw_connect("127.0.0.1", t->port);
    if (fd < 0) {
        return NULL;
    }
    if (t->mode == VICTIM_READ) {
        unsigned char data[RESET_DATA];
        memset(data, 'r', sizeof data);
        write_all_fd(fd, data, sizeof data);
    }
    /* Reset only once the victim operation is parked on the reactor. */
    wait_flag(&t->armed, 5000);
    sleep_ms(20);
    rst_close(fd);
    /* The loop must still be alive: a second client gets its echo. */
    int fd2 = raw_connect("127.0.0.1", t->port);
    if (fd2 < 0) {
        return NULL;
    }
    set_rcv_timeout(fd2, 10);
    char back[5] = { 0 };
    if (write_all_fd(fd2, "ping!", 5) == 0 && read_full_fd(fd2, back, 5) == 5 && memcmp(back, "ping!", 5) == 0) {
        t->peer_ok = 1;
    }
    close(fd2);
    return NULL;
}

static void run_reset_case(fixture_t *f, int mode)
{
    assert_sigpipe_default();
    reset_t *t = calloc(1, sizeof *t);
    assert_non_null(t);
    t->mode = mode;
    assert_int_equal(eddy_tcp_listen(f->rt, "127.0.0.1", 0, 16, &t->l), 0);
    assert_int_equal(eddy_tcp_local_port(t->l, &t->port), 0);
    pthread_t peer;
    assert_int_equal(pthread_create(&peer, NULL, reset_peer_main, t), 0);
    int status = 1;
    int r = eddy_block_on(f->rt, reset_server_poll, t, NULL, &status);
    pthread_join(peer, NULL);
    print_message("reset mid-%s: %zu bytes moved, then %s; next client %s\n",
                  mode == VICTIM_READ ? "read" : "write", t->got, eddy_err_name(t->victim_err),
                  t->peer_ok ? "served" : "NOT served");
    assert_int_equal(r, 0);
    assert_int_equal(status, 0);
    assert_int_equal(t->victim_eof, 0);
    if (mode == VICTIM_READ) {
        assert_int_equal(t->got, RESET_DATA); /* bytes before the reset were delivered */
        assert_int_equal(t->victim_err, EDDY_ECONNRESET);
    } else {
        assert_true(t->got > 0);
        assert_true(t->victim_err == EDDY_ECONNRESET || t->victim_err == EDDY_EPIPE);
    }
    assert_int_equal(t->serve_err, 0);
    assert_true(t->peer_ok);
    assert_sigpipe_default();
    free(t);
    FINISH(f); /* no handle, no descriptor left */
}

static void test_reset_mid_read(void **state)
{
    run_reset_case(*state, VICTIM_READ);
}

static void test_reset_mid_write(void **state)
{
    run_reset_case(*state, VICTIM_WRITE);
}

/* ---- half-close: the peer shuts down first ---- */

#define HC_PEER_BYTES 100000
#define HC_TAIL "tail!"

typedef struct {
    eddy_tcp_t l, s;
    uint16_t port;
    int phase;
    size_t len, off, total_in;
    int eofs;
    int err;
    int write_after_shutdown; /* result of the write after our own shutdown */
    int shutdown_again;
    int closed_state_seen; /* TCP_INFO said TCP_CLOSE before the second shutdown */
    uint64_t closing_since;
    unsigned char buf[8192];
    /* peer side */
    size_t peer_got, peer_bad;
    int peer_eof;
} hc1_t;

static int hc1_poll(void *state, eddy_cx_t *cx)
{
    hc1_t *t = state;
    int r;
    size_t n;
    for (;;) {
        switch (t->phase) {
        case 0:
            r = eddy_tcp_poll_accept(t->l, cx, &t->s);
            if (r != EDDY_READY) {
                if (r < 0) {
                    t->err = r;
                    goto done;
                }
                return r;
            }
            t->phase = 1;
            break;
        case 1: /* echo until EOF */
            if (t->off < t->len) {
                r = eddy_tcp_poll_write(t->s, cx, t->buf + t->off, t->len - t->off, &n);
                if (r == EDDY_PENDING) {
                    return r;
                }
                if (r < 0) {
                    t->err = r;
                    goto done;
                }
                t->off += n;
                break;
            }
            r = eddy_tcp_poll_read(t->s, cx, t->buf, sizeof t->buf, &n);
            if (r == EDDY_PENDING) {
                return r;
            }
            if (r < 0) {
                t->err = r;
                goto done;
            }
            if (n == 0) {
                t->eofs++;
                t->phase = 2;
                break;
            }
            t->total_in += n;
            t->len = n;
            t->off = 0;
            break;
        case 2: /* EOF is sticky */
            r = eddy_tcp_poll_read(t->s, cx, t->buf, sizeof t->buf, &n);
            if (r != EDDY_READY || n != 0) {
                t->err = r < 0 ? r : -2;
                goto done;
            }
            t->eofs++;
            t->phase = 3;
            t->len = strlen(HC_TAIL);
            t->off = 0;
            memcpy(t->buf, HC_TAIL, t->len);
            break;
        case 3: /* the peer only shut its write side: we can still write */
            r = eddy_tcp_poll_write(t->s, cx, t->buf + t->off, t->len - t->off, &n);
            if (r == EDDY_PENDING) {
                return r;
            }
            if (r < 0) {
                t->err = r;
                goto done;
            }
            t->off += n;
            if (t->off == t->len) {
                t->phase = 4;
            }
            break;
        case 4:
            r = eddy_tcp_poll_shutdown(t->s, cx);
            if (r == EDDY_PENDING) {
                return r;
            }
            if (r < 0) {
                t->err = r;
                goto done;
            }
            n = 0;
            t->write_after_shutdown = eddy_tcp_poll_write(t->s, cx, "x", 1, &n);
            t->phase = 5;
            t->closing_since = now_ns();
            break;
        case 5: {
            /* Linux answers a second shutdown with ENOTCONN once the connection is
             * closed (TCP_CLOSE: the peer acknowledged our FIN); before that (LAST_ACK)
             * it returns 0. Wait for the close (normally at once on loopback, but the
             * ACK may be processed later on a loaded machine), then shut down again. */
            int fd = -1;
            struct tcp_info ti;
            socklen_t tl = sizeof ti;
            if (eddy_tcp_fd(t->s, &fd) != 0 || getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &tl) != 0) {
                t->err = -3;
                goto done;
            }
            if (ti.tcpi_state != TCP_CLOSE && elapsed_ms(t->closing_since) < 10000) {
                eddy_waker_t self; /* yield: poll again next tick */
                int wr = eddy_cx_waker(cx, &self);
                if (wr != 0) {
                    t->err = wr;
                    goto done;
                }
                eddy_waker_wake(self);
                eddy_waker_free(self);
                return EDDY_PENDING;
            }
            t->closed_state_seen = ti.tcpi_state == TCP_CLOSE;
            t->shutdown_again = eddy_tcp_poll_shutdown(t->s, cx);
            goto done;
        }
        }
    }
done:
    if (t->s.id != 0) {
        eddy_tcp_close(t->s);
    }
    eddy_tcp_close(t->l);
    return EDDY_READY;
}

static void *hc1_peer(void *arg)
{
    hc1_t *t = arg;
    int fd = raw_connect("127.0.0.1", t->port);
    if (fd < 0) {
        return NULL;
    }
    set_rcv_timeout(fd, 10);
    unsigned char *data = malloc(HC_PEER_BYTES);
    for (size_t i = 0; i < HC_PEER_BYTES; i++) {
        data[i] = pattern_byte(7, i);
    }
    /* Write in pieces and read as we go, so neither side's buffers fill up. */
    unsigned char in[65536];
    size_t sent = 0;
    while (sent < HC_PEER_BYTES) {
        size_t c = HC_PEER_BYTES - sent < 16384 ? HC_PEER_BYTES - sent : 16384;
        if (write_all_fd(fd, data + sent, c) != 0) {
            break;
        }
        sent += c;
        ssize_t r = recv(fd, in, sizeof in, MSG_DONTWAIT);
        for (ssize_t i = 0; i < r; i++) {
            t->peer_bad += in[i] != pattern_byte(7, t->peer_got + (size_t)i);
        }
        if (r > 0) {
            t->peer_got += (size_t)r;
        }
    }
    shutdown(fd, SHUT_WR);
    for (;;) {
        ssize_t r = read(fd, in, sizeof in);
        if (r <= 0) {
            t->peer_eof = r == 0;
            break;
        }
        for (ssize_t i = 0; i < r; i++) {
            size_t off = t->peer_got + (size_t)i;
            unsigned char want = off < HC_PEER_BYTES ? pattern_byte(7, off) : (unsigned char)HC_TAIL[off - HC_PEER_BYTES];
            t->peer_bad += in[i] != want;
        }
        t->peer_got += (size_t)r;
    }
    free(data);
    close(fd);
    return NULL;
}

static void test_half_close_peer_first(void **state)
{
    fixture_t *f = *state;
    assert_sigpipe_default();
    hc1_t *t = calloc(1, sizeof *t);
    assert_non_null(t);
    assert_int_equal(eddy_tcp_listen(f->rt, "127.0.0.1", 0, 16, &t->l), 0);
    assert_int_equal(eddy_tcp_local_port(t->l, &t->port), 0);
    pthread_t peer;
    assert_int_equal(pthread_create(&peer, NULL, hc1_peer, t), 0);
    int status = 1;
    assert_int_equal(eddy_block_on(f->rt, hc1_poll, t, NULL, &status), 0);
    pthread_join(peer, NULL);
    print_message("half-close (peer first): echoed %zu, eofs %d, write after own shutdown %s, "
                  "second shutdown %s; peer got %zu bytes + EOF %d\n",
                  t->total_in, t->eofs, eddy_err_name(t->write_after_shutdown),
                  eddy_err_name(t->shutdown_again), t->peer_got, t->peer_eof);
    assert_int_equal(status, 0);
    assert_int_equal(t->err, 0);
    assert_int_equal(t->total_in, HC_PEER_BYTES);
    assert_int_equal(t->eofs, 2);
    assert_int_equal(t->write_after_shutdown, EDDY_EPIPE);
    assert_true(t->closed_state_seen);
    assert_int_equal(t->shutdown_again, EDDY_ENOTCONN); /* docs/RELIABILITY.md: a value, ENOTCONN */
    assert_int_equal(t->peer_got, HC_PEER_BYTES + strlen(HC_TAIL));
    assert_int_equal(t->peer_bad, 0);
    assert_true(t->peer_eof);
    assert_sigpipe_default();
    free(t);
    FINISH(f);
}

/* ---- half-close: we shut down first ---- */

#define HC_OUT 50000
#define HC_BACK 30000

typedef struct {
    uint16_t port;
    eddy_future_t fut;
    eddy_tcp_t s;
    int phase;
    size_t sent, got, bad;
    int eof, err, write_after_shutdown;
    unsigned char buf[8192];
    size_t peer_got, peer_bad;
    int peer_eof;
} hc2_t;

static int hc2_poll(void *state, eddy_cx_t *cx)
{
    hc2_t *t = state;
    int r;
    size_t n;
    for (;;) {
        switch (t->phase) {
        case 0:
            if (t->fut.id == 0) {
                eddy_runtime_t rt;
                r = eddy_cx_runtime(cx, &rt);
                if (r == 0) {
                    r = eddy_tcp_connect(rt, "127.0.0.1", t->port, &t->fut);
                }
                if (r < 0) {
                    t->err = r;
                    return EDDY_READY;
                }
            }
            r = eddy_future_poll(t->fut, cx);
            if (r == EDDY_PENDING) {
                return r;
            }
            if (r == 0) {
                r = eddy_future_take_tcp(t->fut, &t->s);
            }
            eddy_future_free(t->fut);
            t->fut.id = 0;
            if (r < 0) {
                t->err = r;
                return EDDY_READY;
            }
            t->phase = 1;
            break;
        case 1: {
            size_t c = HC_OUT - t->sent < sizeof t->buf ? HC_OUT - t->sent : sizeof t->buf;
            for (size_t i = 0; i < c; i++) {
                t->buf[i] = pattern_byte(9, t->sent + i);
            }
            r = eddy_tcp_poll_write(t->s, cx, t->buf, c, &n);
            if (r == EDDY_PENDING) {
                return r;
            }
            if (r < 0) {
                t->err = r;
                goto done;
            }
            t->sent += n;
            if (t->sent == HC_OUT) {
                t->phase = 2;
            }
            break;
        }
        case 2:
            r = eddy_tcp_poll_shutdown(t->s, cx);
            if (r == EDDY_PENDING) {
                return r;
            }
            if (r < 0) {
                t->err = r;
                goto done;
            }
            n = 0;
            t->write_after_shutdown = eddy_tcp_poll_write(t->s, cx, "late", 4, &n);
            t->phase = 3;
            break;
        case 3: /* the peer still talks to us: read everything until its EOF */
            r = eddy_tcp_poll_read(t->s, cx, t->buf, sizeof t->buf, &n);
            if (r == EDDY_PENDING) {
                return r;
            }
            if (r < 0) {
                t->err = r;
                goto done;
            }
            if (n == 0) {
                t->eof = 1;
                goto done;
            }
            for (size_t i = 0; i < n; i++) {
                t->bad += t->buf[i] != pattern_byte(10, t->got + i);
            }
            t->got += n;
            break;
        }
    }
done:
    eddy_tcp_close(t->s);
    return EDDY_READY;
}

static void *hc2_peer(void *arg)
{
    int lfd = (int)(intptr_t)((void **)arg)[0];
    hc2_t *t = ((void **)arg)[1];
    int fd = accept(lfd, NULL, NULL);
    if (fd < 0) {
        return NULL;
    }
    set_rcv_timeout(fd, 10);
    unsigned char in[65536];
    for (;;) { /* everything the runtime sent, then its EOF */
        ssize_t r = read(fd, in, sizeof in);
        if (r <= 0) {
            t->peer_eof = r == 0;
            break;
        }
        for (ssize_t i = 0; i < r; i++) {
            t->peer_bad += in[i] != pattern_byte(9, t->peer_got + (size_t)i);
        }
        t->peer_got += (size_t)r;
    }
    unsigned char *back = malloc(HC_BACK);
    for (size_t i = 0; i < HC_BACK; i++) {
        back[i] = pattern_byte(10, i);
    }
    write_all_fd(fd, back, HC_BACK);
    free(back);
    close(fd); /* FIN after the data */
    return NULL;
}

static void test_half_close_we_shut_first(void **state)
{
    fixture_t *f = *state;
    assert_sigpipe_default();
    hc2_t *t = calloc(1, sizeof *t);
    assert_non_null(t);
    int lfd = raw_listen("127.0.0.1", &t->port);
    assert_true(lfd >= 0);
    void *args[2] = { (void *)(intptr_t)lfd, t };
    pthread_t peer;
    assert_int_equal(pthread_create(&peer, NULL, hc2_peer, args), 0);
    int status = 1;
    assert_int_equal(eddy_block_on(f->rt, hc2_poll, t, NULL, &status), 0);
    pthread_join(peer, NULL);
    close(lfd);
    print_message("half-close (we first): sent %zu, write after shutdown %s, read back %zu + EOF %d; "
                  "peer got %zu + EOF %d\n",
                  t->sent, eddy_err_name(t->write_after_shutdown), t->got, t->eof, t->peer_got, t->peer_eof);
    assert_int_equal(status, 0);
    assert_int_equal(t->err, 0);
    assert_int_equal(t->sent, HC_OUT);
    assert_int_equal(t->write_after_shutdown, EDDY_EPIPE);
    assert_int_equal(t->peer_got, HC_OUT);
    assert_int_equal(t->peer_bad, 0);
    assert_true(t->peer_eof);
    assert_int_equal(t->got, HC_BACK);
    assert_int_equal(t->bad, 0);
    assert_true(t->eof);
    assert_sigpipe_default();
    free(t);
    FINISH(f);
}

/* ---- EINTR storm ---- */

static volatile sig_atomic_t usr1_count;
static void on_usr1(int sig)
{
    (void)sig;
    usr1_count++;
}

typedef struct {
    pthread_t target;
    atomic_int stop;
    long sent;
} signaller_t;

static void *signaller_main(void *arg)
{
    signaller_t *s = arg;
    while (!atomic_load(&s->stop)) {
        if (pthread_kill(s->target, SIGUSR1) == 0) {
            s->sent++;
        }
        struct timespec ts = { 0, 50000 }; /* 50 us */
        nanosleep(&ts, NULL);
    }
    return NULL;
}

typedef struct {
    eddy_future_t sl;
    int rounds, done;
} ticker_t;

/* Sleeps 1 ms, 200 times: keeps epoll_wait running with timeouts under the storm. */
static int ticker_poll(void *state, eddy_cx_t *cx)
{
    ticker_t *t = state;
    for (;;) {
        if (t->sl.id == 0) {
            if (t->rounds == 200) {
                t->done = 1;
                return EDDY_READY;
            }
            eddy_runtime_t rt;
            int r = eddy_cx_runtime(cx, &rt);
            if (r == 0) {
                r = eddy_sleep(rt, 1 * MS, &t->sl);
            }
            if (r < 0) {
                return r;
            }
        }
        int r = eddy_future_poll(t->sl, cx);
        if (r == EDDY_PENDING) {
            return r;
        }
        eddy_future_free(t->sl);
        t->sl.id = 0;
        if (r < 0) {
            return r;
        }
        t->rounds++;
    }
}

enum { EINTR_CLIENTS = 4 };
#define EINTR_BYTES (2u * 1024 * 1024)

static void test_eintr_storm(void **state)
{
    fixture_t *f = *state;
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* NO SA_RESTART: every interrupted syscall returns EINTR */
    assert_int_equal(sigaction(SIGUSR1, &sa, &old), 0);
    usr1_count = 0;

    echo_stats_t stats = { 0 };
    acceptor_t acc = { .want = EINTR_CLIENTS, .stats = &stats };
    uint16_t port;
    assert_int_equal(eddy_tcp_listen(f->rt, "127.0.0.1", 0, 64, &acc.listener), 0);
    assert_int_equal(eddy_tcp_local_port(acc.listener, &port), 0);
    eddy_task_t ta, tt, tc[EINTR_CLIENTS];
    fclient_t *c = calloc(EINTR_CLIENTS, sizeof *c);
    assert_non_null(c);
    ticker_t ticker = { 0 };
    assert_int_equal(eddy_spawn(f->rt, acceptor_poll, &acc, NULL, &ta), 0);
    assert_int_equal(eddy_spawn(f->rt, ticker_poll, &ticker, NULL, &tt), 0);
    for (int i = 0; i < EINTR_CLIENTS; i++) {
        fclient_init(&c[i], "127.0.0.1", port, 100 + (unsigned)i, EINTR_BYTES);
        assert_int_equal(eddy_spawn(f->rt, fclient_poll, &c[i], NULL, &tc[i]), 0);
    }
    signaller_t sig = { .target = pthread_self() };
    pthread_t st;
    assert_int_equal(pthread_create(&st, NULL, signaller_main, &sig), 0);
    uint64_t t0 = now_ns();
    int run = eddy_runtime_run(f->rt);
    atomic_store(&sig.stop, 1);
    pthread_join(st, NULL);
    sigaction(SIGUSR1, &old, NULL);
    print_message("EINTR storm: %ld SIGUSR1 sent, %d handled on the loop thread in %llu ms; "
                  "run -> %s\n",
                  sig.sent, (int)usr1_count, (unsigned long long)elapsed_ms(t0), eddy_err_name(run));
    assert_int_equal(run, 0);
    assert_true(usr1_count > 100);
    assert_int_equal(ticker.done, 1);
    for (int i = 0; i < EINTR_CLIENTS; i++) {
        int st2 = 1;
        assert_int_equal(eddy_task_status(tc[i], &st2), EDDY_READY);
        assert_int_equal(st2, 0);
        assert_int_equal(c[i].recvd, EINTR_BYTES);
        assert_int_equal(c[i].mismatches, 0);
        assert_int_equal(eddy_task_free(tc[i]), 0);
    }
    assert_int_equal(stats.conns_done, EINTR_CLIENTS);
    assert_int_equal(stats.conn_errors, 0);
    assert_int_equal(eddy_task_free(ta), 0);
    assert_int_equal(eddy_task_free(tt), 0);
    free(c);
    FINISH(f);
}

/* ---- slow reader, fast writer ---- */

#define SLOW_TOTAL (48u * 1024 * 1024)

typedef struct {
    uint16_t port;
    eddy_future_t fut;
    eddy_tcp_t s;
    size_t sent;
    int pendings, err;
    size_t sent_at_first_pending;
    long rss_max_kb;
    atomic_int reading; /* set by the peer once it starts reading */
    unsigned char buf[65536];
    /* peer */
    size_t peer_got, peer_bad;
} slow_t;

static int slow_writer_poll(void *state, eddy_cx_t *cx)
{
    slow_t *t = state;
    int r;
    if (t->s.id == 0) {
        if (t->fut.id == 0) {
            eddy_runtime_t rt;
            r = eddy_cx_runtime(cx, &rt);
            if (r == 0) {
                r = eddy_tcp_connect(rt, "127.0.0.1", t->port, &t->fut);
            }
            if (r < 0) {
                t->err = r;
                return EDDY_READY;
            }
        }
        r = eddy_future_poll(t->fut, cx);
        if (r == EDDY_PENDING) {
            return r;
        }
        if (r == 0) {
            r = eddy_future_take_tcp(t->fut, &t->s);
        }
        eddy_future_free(t->fut);
        t->fut.id = 0;
        if (r < 0) {
            t->err = r;
            return EDDY_READY;
        }
    }
    while (t->sent < SLOW_TOTAL) {
        size_t c = SLOW_TOTAL - t->sent < sizeof t->buf ? SLOW_TOTAL - t->sent : sizeof t->buf;
        for (size_t i = 0; i < c; i++) {
            t->buf[i] = pattern_byte(11, t->sent + i);
        }
        size_t n = 0;
        r = eddy_tcp_poll_write(t->s, cx, t->buf, c, &n);
        if (r == EDDY_PENDING) {
            if (t->pendings++ == 0) {
                t->sent_at_first_pending = t->sent;
            }
            long rss = rss_kb();
            if (rss > t->rss_max_kb) {
                t->rss_max_kb = rss;
            }
            return r;
        }
        if (r < 0) {
            t->err = r;
            break;
        }
        t->sent += n;
    }
    eddy_tcp_close(t->s);
    return EDDY_READY;
}

static void *slow_peer(void *arg)
{
    int lfd = (int)(intptr_t)((void **)arg)[0];
    slow_t *t = ((void **)arg)[1];
    int fd = accept(lfd, NULL, NULL);
    if (fd < 0) {
        return NULL;
    }
    set_rcv_timeout(fd, 20);
    sleep_ms(1000); /* do not read for a second: the writer must pend */
    atomic_store(&t->reading, 1);
    unsigned char *in = malloc(1 << 20);
    for (;;) {
        ssize_t r = read(fd, in, 1 << 20);
        if (r <= 0) {
            break;
        }
        for (ssize_t i = 0; i < r; i++) {
            t->peer_bad += in[i] != pattern_byte(11, t->peer_got + (size_t)i);
        }
        t->peer_got += (size_t)r;
    }
    free(in);
    close(fd);
    return NULL;
}

static void test_slow_reader_backpressure(void **state)
{
    fixture_t *f = *state;
    slow_t *t = calloc(1, sizeof *t);
    assert_non_null(t);
    int lfd = raw_listen("127.0.0.1", &t->port);
    assert_true(lfd >= 0);
    void *args[2] = { (void *)(intptr_t)lfd, t };
    long rss0 = rss_kb();
    pthread_t peer;
    assert_int_equal(pthread_create(&peer, NULL, slow_peer, args), 0);
    int status = 1;
    assert_int_equal(eddy_block_on(f->rt, slow_writer_poll, t, NULL, &status), 0);
    pthread_join(peer, NULL);
    close(lfd);
    print_message("slow reader: %zu bytes accepted by the kernel before the first PENDING, %d PENDINGs; "
                  "RSS %ld kB before, max %ld kB while pending (+%ld kB) for %u MB written; peer verified %zu bytes\n",
                  t->sent_at_first_pending, t->pendings, rss0, t->rss_max_kb, t->rss_max_kb - rss0,
                  SLOW_TOTAL >> 20, t->peer_got);
    assert_int_equal(status, 0);
    assert_int_equal(t->err, 0);
    assert_true(t->pendings >= 1);
    assert_true(t->sent_at_first_pending < SLOW_TOTAL / 2); /* backpressure, not buffering */
    assert_true(t->rss_max_kb - rss0 < 8 * 1024);          /* memory bounded: < 8 MB growth */
    assert_int_equal(t->peer_got, SLOW_TOTAL);
    assert_int_equal(t->peer_bad, 0);
    free(t);
    FINISH(f);
}

/* ---- EMFILE with a real RLIMIT_NOFILE, in a child process ---- */

enum { EMF_CLIENTS = 8 };

typedef struct {
    eddy_tcp_t l;
    int accepted, err;
    echo_stats_t *stats;
} emf_acceptor_t;

static int emf_acceptor_poll(void *state, eddy_cx_t *cx)
{
    emf_acceptor_t *a = state;
    while (a->accepted < EMF_CLIENTS) {
        eddy_tcp_t s;
        int r = eddy_tcp_poll_accept(a->l, cx, &s);
        if (r == EDDY_PENDING) {
            return r;
        }
        if (r < 0) {
            a->err = r; /* the listener died: the parent sees it in the exit status */
            eddy_tcp_close(a->l);
            return r;
        }
        a->accepted++;
        echo_conn_t *c = calloc(1, sizeof *c);
        c->s = s;
        c->stats = a->stats;
        eddy_runtime_t rt;
        eddy_task_t t;
        eddy_cx_runtime(cx, &rt);
        if (eddy_spawn(rt, echo_conn_poll, c, echo_conn_drop, &t) != 0) {
            eddy_tcp_close(s);
            free(c);
            a->err = -1;
            continue;
        }
        eddy_task_free(t);
    }
    eddy_tcp_close(a->l);
    return EDDY_READY;
}

typedef struct {
    eddy_future_t sl;
    int *fillers;
    int nfill;
} releaser_t;

/* After 2 s: close the filler descriptors, so accept can succeed again. */
static int releaser_poll(void *state, eddy_cx_t *cx)
{
    releaser_t *r = state;
    if (r->sl.id == 0) {
        eddy_runtime_t rt;
        eddy_cx_runtime(cx, &rt);
        int rc = eddy_sleep(rt, 2000 * MS, &r->sl);
        if (rc < 0) {
            return rc;
        }
    }
    int rc = eddy_future_poll(r->sl, cx);
    if (rc == EDDY_PENDING) {
        return rc;
    }
    eddy_future_free(r->sl);
    for (int i = 0; i < r->nfill; i++) {
        close(r->fillers[i]);
    }
    printf("freed %d\n", r->nfill);
    fflush(stdout);
    return EDDY_READY;
}

/* The child: a fresh process (exec), so its runtime is not a forked one. */
static int emfile_child(void)
{
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = 64;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
        return 10;
    }
    eddy_runtime_t rt;
    if (eddy_runtime_new(NULL, &rt) != 0) {
        return 11;
    }
    echo_stats_t stats = { 0 };
    emf_acceptor_t acc = { .stats = &stats };
    uint16_t port;
    if (eddy_tcp_listen(rt, "127.0.0.1", 0, 64, &acc.l) != 0 || eddy_tcp_local_port(acc.l, &port) != 0) {
        return 12;
    }
    /* Exhaust the descriptor table. */
    static int fillers[64];
    int nfill = 0;
    for (;;) {
        int fd = dup(0);
        if (fd < 0) {
            if (errno != EMFILE) {
                return 13;
            }
            break;
        }
        fillers[nfill++] = fd;
        if (nfill == 64) {
            return 14;
        }
    }
    releaser_t rel = { .fillers = fillers, .nfill = nfill };
    eddy_task_t ta, tr;
    if (eddy_spawn(rt, emf_acceptor_poll, &acc, NULL, &ta) != 0 || eddy_spawn(rt, releaser_poll, &rel, NULL, &tr) != 0) {
        return 15;
    }
    printf("port %u full %d\n", (unsigned)port, nfill);
    fflush(stdout);
    int r = eddy_runtime_run(rt);
    int st = 1;
    eddy_task_status(ta, &st);
    eddy_task_free(ta);
    eddy_task_free(tr);
    int left = eddy_runtime_free(rt);
    printf("done run=%d acceptor=%d accepted=%d err=%d echoed=%d conn_errors=%d left=%d\n", r, st, acc.accepted,
           acc.err, stats.conns_done, stats.conn_errors, left);
    fflush(stdout);
    return (r == 0 && st == 0 && acc.accepted == EMF_CLIENTS && acc.err == 0 && stats.conns_done == EMF_CLIENTS &&
            left == 0)
               ? 0
               : 20;
}

static long proc_cpu_ticks(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        return -1;
    }
    char buf[1024];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    if (p == NULL) {
        return -1;
    }
    /* fields after ")": state(3) ... utime(14) stime(15) */
    unsigned long ut = 0, stt = 0;
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &stt) != 2) {
        return -1;
    }
    return (long)(ut + stt);
}

static void test_emfile_real_rlimit_child(void **state)
{
    fixture_t *f = *state;
    if (getenv("EDDY_UNDER_VALGRIND")) {
        /* valgrind keeps descriptors of its own at the top of the table: a lowered
           RLIMIT_NOFILE breaks valgrind itself. Covered by the plain and ASan runs. */
        skip();
    }
    int out[2];
    assert_int_equal(pipe2(out, O_CLOEXEC), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(out[1], 1);
        execl("/proc/self/exe", "test_faults", "--emfile-child", (char *)NULL);
        _exit(127);
    }
    close(out[1]);
    FILE *in = fdopen(out[0], "r");
    assert_non_null(in);
    char line[256];
    unsigned port = 0;
    int nfill = 0;
    assert_non_null(fgets(line, sizeof line, in));
    assert_int_equal(sscanf(line, "port %u full %d", &port, &nfill), 2);
    int fds[EMF_CLIENTS];
    for (int i = 0; i < EMF_CLIENTS; i++) {
        fds[i] = raw_connect("127.0.0.1", (uint16_t)port); /* completed by the kernel backlog */
        assert_true(fds[i] >= 0);
        set_rcv_timeout(fds[i], 10);
        assert_int_equal(write_all_fd(fds[i], "hi", 2), 0);
    }
    sleep_ms(300); /* the acceptor is now failing with EMFILE */
    long hz = sysconf(_SC_CLK_TCK);
    long c0 = proc_cpu_ticks(pid);
    uint64_t t0 = now_ns();
    sleep_ms(1000);
    long c1 = proc_cpu_ticks(pid);
    uint64_t wall = elapsed_ms(t0);
    assert_true(c0 >= 0 && c1 >= 0);            /* the child is alive */
    assert_int_equal(waitpid(pid, NULL, WNOHANG), 0);
    long cpu_ms = (c1 - c0) * 1000 / hz;
    print_message("EMFILE child (RLIMIT_NOFILE 64, %d filler fds): %ld ms CPU over %llu ms while exhausted\n", nfill,
                  cpu_ms, (unsigned long long)wall);
    assert_true(cpu_ms < 100); /* < 10 %: no busy loop */
    /* After the release (2 s in the child), every queued connection is accepted and echoed. */
    for (int i = 0; i < EMF_CLIENTS; i++) {
        char back[2] = { 0 };
        assert_int_equal(read_full_fd(fds[i], back, 2), 2);
        assert_memory_equal(back, "hi", 2);
        close(fds[i]);
    }
    while (fgets(line, sizeof line, in) != NULL) {
        print_message("child: %s", line);
    }
    fclose(in);
    int wst = 0;
    assert_int_equal(waitpid(pid, &wst, 0), pid);
    assert_true(WIFEXITED(wst));
    assert_int_equal(WEXITSTATUS(wst), 0);
    FINISH(f);
}

/* ---- fork: the parent keeps working ---- */

static int noop_poll(void *state, eddy_cx_t *cx)
{
    (void)state;
    (void)cx;
    return EDDY_READY;
}

static void test_fork_parent_keeps_working(void **state)
{
    fixture_t *f = *state;
    /* The parent has live state when it forks: a listener with a queued connection,
     * a pending sleep and a spawned task. */
    echo_stats_t stats = { 0 };
    acceptor_t acc = { .want = 2, .stats = &stats };
    uint16_t port;
    assert_int_equal(eddy_tcp_listen(f->rt, "127.0.0.1", 0, 16, &acc.listener), 0);
    assert_int_equal(eddy_tcp_local_port(acc.listener, &port), 0);
    eddy_future_t sl;
    assert_int_equal(eddy_sleep(f->rt, 20 * MS, &sl), 0);
    eddy_task_t ta;
    assert_int_equal(eddy_spawn(f->rt, acceptor_poll, &acc, NULL, &ta), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        alarm(10);
        eddy_runtime_t rt2;
        int bad = 0;
        bad += eddy_runtime_run(f->rt) != EDDY_EFORKED;
        bad += eddy_runtime_new(NULL, &rt2) != EDDY_EFORKED;
        bad += eddy_tcp_close(acc.listener) != EDDY_EFORKED;
        bad += eddy_runtime_free(f->rt) != EDDY_EFORKED;
        _exit(bad);
    }
    int wst = 0;
    assert_int_equal(waitpid(pid, &wst, 0), pid);
    assert_true(WIFEXITED(wst));
    assert_int_equal(WEXITSTATUS(wst), 0);
    /* The parent: two full echo exchanges on the runtime created before fork. */
    fclient_t *c = calloc(2, sizeof *c);
    eddy_task_t tc[2];
    for (int i = 0; i < 2; i++) {
        fclient_init(&c[i], "127.0.0.1", port, 200 + (unsigned)i, 300 * 1000);
        assert_int_equal(eddy_spawn(f->rt, fclient_poll, &c[i], NULL, &tc[i]), 0);
    }
    assert_int_equal(block_on_future(f->rt, sl), 0);
    assert_int_equal(eddy_runtime_run(f->rt), 0);
    for (int i = 0; i < 2; i++) {
        int st = 1;
        assert_int_equal(eddy_task_status(tc[i], &st), EDDY_READY);
        assert_int_equal(st, 0);
        assert_int_equal(c[i].recvd, c[i].total);
        assert_int_equal(eddy_task_free(tc[i]), 0);
    }
    assert_int_equal(stats.conns_done, 2);
    assert_int_equal(eddy_task_free(ta), 0);
    assert_int_equal(eddy_future_free(sl), 0);
    /* And a new runtime in the parent works too. */
    eddy_runtime_t rt2;
    assert_int_equal(eddy_runtime_new(NULL, &rt2), 0);
    int st = 1;
    assert_int_equal(eddy_block_on(rt2, noop_poll, NULL, NULL, &st), 0);
    assert_int_equal(st, 0);
    assert_int_equal(eddy_runtime_free(rt2), 0);
    free(c);
    FINISH(f);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--emfile-child") == 0) {
        return emfile_child();
    }
    const struct CMUnitTest tests[] = {
        T(test_reset_mid_read),
        T(test_reset_mid_write),
        T(test_half_close_peer_first),
        T(test_half_close_we_shut_first),
        T(test_eintr_storm),
        T(test_slow_reader_backpressure),
        T(test_emfile_real_rlimit_child),
        T(test_fork_parent_keeps_working),
    };
    return cmocka_run_group_tests_name("faults", tests, NULL, NULL);
}

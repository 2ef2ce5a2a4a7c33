/* loadgen: single-threaded epoll TCP echo load generator.
 *
 *   loadgen [-h host] [-p port] [-c conns] [-s size] [-d seconds] [-w warmup] [-n roundtrips] [--churn] [--mark]
 *
 * Ping-pong: each of C connections sends S bytes, waits for all S to come back (every byte
 * verified), repeats. Runs W seconds of warm-up, then D seconds measured (or exactly N round
 * trips in total with -n, for instruction counting). Prints round trips/s and p50/p99/max
 * latency from a log-linear histogram. --churn: connect, send, read echo, close, C in flight.
 * --mark: print `mark: start` when the measured window starts and `mark: end` when it ends
 * (stdout, flushed at once), so a runner can sample the server's CPU time over the window.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    int fd;
    size_t sent, recvd;
    uint64_t started;
    uint32_t seq;
} conn_t;

static const char *host = "127.0.0.1";
static int port = 9000, nconns = 50, size = 64, churn = 0, mark = 0;
static double duration = 5, warmup = 1;
static long long target_rt = 0;
static unsigned char *out_buf, *in_buf;
static int ep;

/* Histogram: 64 buckets per power of two of nanoseconds. */
#define SUB 64
static uint64_t hist[64 * SUB];
static uint64_t lat_max;

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void record(uint64_t ns) {
    if (ns > lat_max) lat_max = ns;
    if (ns < SUB) { hist[ns]++; return; }
    int b = 63 - __builtin_clzll(ns);
    int shift = b - 6;
    uint64_t idx = (uint64_t)(b - 5) * SUB + ((ns >> shift) & (SUB - 1));
    if (idx >= 64 * SUB) idx = 64 * SUB - 1;
    hist[idx]++;
}

static uint64_t bucket_value(int i) {
    if (i < SUB) return i;
    int b = i / SUB + 5, sub = i % SUB;
    return ((uint64_t)1 << b) + ((uint64_t)sub << (b - 6));
}

static uint64_t percentile(double p, uint64_t total) {
    uint64_t want = (uint64_t)(p * total), acc = 0;
    for (int i = 0; i < 64 * SUB; i++) {
        acc += hist[i];
        if (acc > want) return bucket_value(i);
    }
    return lat_max;
}

static int open_conn(conn_t *c) {
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, host, &a.sin_addr);
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c->fd < 0) return -1;
    if (connect(c->fd, (struct sockaddr *)&a, sizeof a) != 0) { perror("connect"); close(c->fd); return -1; }
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(c->fd, F_SETFL, O_NONBLOCK);
    struct epoll_event ev = {.events = EPOLLIN | EPOLLET, .data.ptr = c};
    epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
    c->sent = c->recvd = 0;
    return 0;
}

static void fill(conn_t *c) {
    for (int i = 0; i < size; i++) out_buf[i] = (unsigned char)(c->seq * 131 + i * 7 + (c->fd & 0xff));
}

static int send_msg(conn_t *c) {
    fill(c);
    c->started = now_ns();
    size_t off = 0;
    while (off < (size_t)size) {
        ssize_t n = send(c->fd, out_buf + off, size - off, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EAGAIN) continue; /* tiny messages: spin briefly */
            perror("send"); return -1;
        }
        off += n;
    }
    c->recvd = 0;
    return 0;
}

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") && i + 1 < argc) host = argv[++i];
        else if (!strcmp(argv[i], "-p") && i + 1 < argc) port = atoi(argv[++i]);
        else if (!strcmp(argv[i], "-c") && i + 1 < argc) nconns = atoi(argv[++i]);
        else if (!strcmp(argv[i], "-s") && i + 1 < argc) size = atoi(argv[++i]);
        else if (!strcmp(argv[i], "-d") && i + 1 < argc) duration = atof(argv[++i]);
        else if (!strcmp(argv[i], "-w") && i + 1 < argc) warmup = atof(argv[++i]);
        else if (!strcmp(argv[i], "-n") && i + 1 < argc) target_rt = atoll(argv[++i]);
        else if (!strcmp(argv[i], "--churn")) churn = 1;
        else if (!strcmp(argv[i], "--mark")) mark = 1;
        else { fprintf(stderr, "usage: %s [-h host] [-p port] [-c conns] [-s size] [-d secs] [-w warmup] [-n rts] [--churn] [--mark]\n", argv[0]); return 2; }
    }
    /* C=5 000 / churn C=10 000 need more descriptors than the usual soft limit of 1 024. */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && (rlim_t)nconns + 16 > rl.rlim_cur) {
        fprintf(stderr, "loadgen: %d connections need more descriptors than RLIMIT_NOFILE (%llu)\n",
                nconns, (unsigned long long)rl.rlim_cur);
        return 1;
    }
    out_buf = malloc(size);
    in_buf = malloc(size > 65536 ? size : 65536);
    unsigned char *expect = malloc(size);
    ep = epoll_create1(EPOLL_CLOEXEC);
    conn_t *conns = calloc(nconns, sizeof *conns);
    for (int i = 0; i < nconns; i++) {
        conns[i].seq = i;
        if (open_conn(&conns[i]) != 0) return 1;
        if (send_msg(&conns[i]) != 0) return 1;
    }
    uint64_t t0 = now_ns();
    uint64_t measure_start = target_rt ? t0 : t0 + (uint64_t)(warmup * 1e9);
    uint64_t end = measure_start + (uint64_t)(duration * 1e9);
    long long done = 0, errors = 0;
    int measuring = target_rt ? 1 : 0;
    if (measuring && mark) { printf("mark: start\n"); fflush(stdout); }
    struct epoll_event evs[512];
    for (;;) {
        uint64_t t = now_ns();
        if (!measuring && t >= measure_start) {
            measuring = 1; done = 0; memset(hist, 0, sizeof hist); lat_max = 0;
            if (mark) { printf("mark: start\n"); fflush(stdout); }
        }
        if (!target_rt && t >= end) break;
        if (target_rt && done >= target_rt) break;
        int n = epoll_wait(ep, evs, 512, 100);
        for (int i = 0; i < n; i++) {
            conn_t *c = evs[i].data.ptr;
            for (;;) {
                ssize_t r = recv(c->fd, in_buf + c->recvd, size - c->recvd, 0);
                if (r < 0) { if (errno == EAGAIN) break; perror("recv"); errors++; break; }
                if (r == 0) { fprintf(stderr, "server closed a connection\n"); return 1; }
                c->recvd += r;
                if (c->recvd < (size_t)size) continue;
                fill(c);
                if (memcmp(in_buf, out_buf, size) != 0) { fprintf(stderr, "echo mismatch\n"); return 1; }
                uint64_t lat = now_ns() - c->started;
                if (measuring) { record(lat); done++; }
                if (target_rt && done >= target_rt) break;
                if (churn) {
                    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
                    close(c->fd);
                    if (open_conn(c) != 0) return 1;
                }
                c->seq++;
                if (send_msg(c) != 0) return 1;
                if (!churn) continue;
                break;
            }
        }
    }
    if (mark) { printf("mark: end\n"); fflush(stdout); }
    double secs = target_rt ? (now_ns() - t0) / 1e9 : duration;
    printf("conns=%d size=%d mode=%s roundtrips=%lld secs=%.2f rps=%.0f p50_us=%.1f p99_us=%.1f max_us=%.1f errors=%lld\n",
           nconns, size, churn ? "churn" : "pingpong", done, secs, done / secs,
           percentile(0.50, done) / 1e3, percentile(0.99, done) / 1e3, lat_max / 1e3, errors);
    (void)expect;
    return errors ? 1 : 0;
}

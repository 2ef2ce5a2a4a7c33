/* delay_client.c — N concurrent HTTP requests to eddy-delayserver from C.
 *
 *   delay_client [--host HOST] [--port PORT] [-n N] [-v]
 *
 * Spawns N Eddy tasks (default 10). Task i connects (eddy_tcp_connect, a future),
 * sends `GET /{ms}/{text} HTTP/1.1` with delays spread over 100..1000 ms (the longest
 * first), reads the reply to EOF and prints it as soon as it completes (status line
 * and body; -v for the whole reply). The total
 * time printed at the end is close to the longest delay, not the sum: the requests
 * run concurrently on one thread.
 *
 * Build: cc -std=c11 delay_client.c $(pkg-config --cflags --libs eddy)
 */
#define _GNU_SOURCE 1

#include <eddy.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define REPLY_MAX 16384

typedef struct {
    int index;
    unsigned delay_ms;
    const char *host; /* a name or a numeric address: eddy_tcp_connect resolves names off the loop */
    uint16_t port;
    char request[512];
    size_t request_len, sent;
    eddy_future_t connect;
    eddy_tcp_t stream;
    int phase; /* 0 connect, 1 send, 2 receive, 3 done */
    size_t reply_len;
    int truncated;
    char reply[REPLY_MAX + 1];
} request_t;

static uint64_t start_ns;
static int verbose; /* -v: print whole replies (headers too) */

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int finish(request_t *r, int status)
{
    if (r->connect.id != 0) {
        eddy_future_free(r->connect);
        r->connect.id = 0;
    }
    if (r->stream.id != 0) {
        eddy_tcp_close(r->stream);
        r->stream.id = 0;
    }
    r->phase = 3;
    double ms = (double)(now_ns() - start_ns) / 1e6;
    if (status < 0) {
        /* The host too: a lookup failure (EDDY_EAI_*) is getaddrinfo's message alone. */
        printf("[%2d] delay %4u ms: %s port %u failed after %.0f ms: %s (%s)\n", r->index, r->delay_ms, r->host,
               (unsigned)r->port, ms, eddy_strerror(status), eddy_err_name(status));
    } else {
        r->reply[r->reply_len] = '\0';
        if (verbose) {
            printf("[%2d] delay %4u ms: reply after %.0f ms%s:\n", r->index, r->delay_ms, ms,
                   r->truncated ? " (truncated)" : "");
            /* Indent the reply so interleaved output stays readable. */
            const char *line = r->reply;
            while (*line != '\0') {
                const char *end = strchr(line, '\n');
                size_t len = end != NULL ? (size_t)(end - line) : strlen(line);
                if (len > 0 && line[len - 1] == '\r') {
                    len--;
                }
                printf("     | %.*s\n", (int)len, line);
                line = end != NULL ? end + 1 : line + strlen(line);
            }
        } else {
            /* Status line and body, one line per reply. */
            size_t status_len = strcspn(r->reply, "\r\n");
            const char *body = strstr(r->reply, "\r\n\r\n");
            body = body != NULL ? body + 4 : "";
            printf("[%2d] delay %4u ms: reply after %4.0f ms: %.*s | %s%s\n", r->index, r->delay_ms, ms,
                   (int)status_len, r->reply, body, r->truncated ? " (truncated)" : "");
        }
        if (strncmp(r->reply, "HTTP/1.1 200", 12) != 0) {
            status = -1; /* not a success reply */
        }
    }
    fflush(stdout);
    return status < 0 ? status : EDDY_READY;
}

/* The task: a state machine polled by the runtime. */
static int request_poll(void *state, eddy_cx_t *cx)
{
    request_t *r = state;
    int rc;
    if (r->phase == 0) {
        if (r->connect.id == 0) {
            eddy_runtime_t rt;
            rc = eddy_cx_runtime(cx, &rt);
            if (rc == 0) {
                rc = eddy_tcp_connect(rt, r->host, r->port, &r->connect);
            }
            if (rc < 0) {
                return finish(r, rc);
            }
        }
        rc = eddy_future_poll(r->connect, cx);
        if (rc == EDDY_PENDING) {
            return EDDY_PENDING;
        }
        if (rc < 0) {
            return finish(r, rc);
        }
        rc = eddy_future_take_tcp(r->connect, &r->stream);
        eddy_future_free(r->connect);
        r->connect.id = 0;
        if (rc < 0) {
            r->stream.id = 0;
            return finish(r, rc);
        }
        r->phase = 1;
    }
    while (r->phase == 1) {
        size_t n = 0;
        rc = eddy_tcp_poll_write(r->stream, cx, r->request + r->sent, r->request_len - r->sent, &n);
        if (rc == EDDY_PENDING) {
            return EDDY_PENDING;
        }
        if (rc < 0) {
            return finish(r, rc);
        }
        r->sent += n;
        if (r->sent == r->request_len) {
            r->phase = 2;
        }
    }
    while (r->phase == 2) {
        char discard[1024];
        char *dst = r->reply + r->reply_len;
        size_t room = REPLY_MAX - r->reply_len;
        if (room == 0) { /* keep reading to EOF, drop the excess */
            dst = discard;
            room = sizeof discard;
        }
        size_t n = 0;
        rc = eddy_tcp_poll_read(r->stream, cx, dst, room, &n);
        if (rc == EDDY_PENDING) {
            return EDDY_PENDING;
        }
        if (rc < 0) {
            return finish(r, rc);
        }
        if (n == 0) {
            return finish(r, 0); /* EOF: Connection: close */
        }
        if (dst == discard) {
            r->truncated = 1;
        } else {
            r->reply_len += n;
        }
    }
    return EDDY_READY;
}

static void usage(const char *argv0)
{
    fprintf(stderr, "usage: %s [--host HOST] [--port PORT] [-n N] [-v]\n"
                    "  N concurrent GET /{ms}/{text} requests (delays 100..1000 ms) to an\n"
                    "  eddy-delayserver; defaults: --host 127.0.0.1 --port 8080 -n 10\n",
            argv0);
}

int main(int argc, char **argv)
{
    const char *host = "127.0.0.1";
    long port = 8080, n = 10;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if ((strcmp(a, "--host") == 0) && v != NULL) {
            host = v;
            i++;
        } else if ((strcmp(a, "--port") == 0 || strcmp(a, "-p") == 0) && v != NULL) {
            port = strtol(v, NULL, 10);
            i++;
        } else if ((strcmp(a, "-n") == 0 || strcmp(a, "--count") == 0) && v != NULL) {
            n = strtol(v, NULL, 10);
            i++;
        } else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
            verbose = 1;
        } else if (strncmp(a, "--host=", 7) == 0) {
            host = a + 7;
        } else if (strncmp(a, "--port=", 7) == 0) {
            port = strtol(a + 7, NULL, 10);
        } else {
            usage(argv[0]);
            return strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0 ? 0 : 2;
        }
    }
    if (port <= 0 || port > 65535 || n <= 0 || n > 10000) {
        usage(argv[0]);
        return 2;
    }
    eddy_runtime_t rt;
    int rc = eddy_runtime_new(NULL, &rt);
    if (rc < 0) {
        fprintf(stderr, "eddy_runtime_new: %s\n", eddy_strerror(rc));
        return 1;
    }
    request_t *reqs = calloc((size_t)n, sizeof *reqs);
    eddy_task_t *tasks = calloc((size_t)n, sizeof *tasks);
    if (reqs == NULL || tasks == NULL) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    unsigned longest = 0;
    unsigned long sum = 0;
    start_ns = now_ns();
    for (long i = 0; i < n; i++) {
        request_t *r = &reqs[i];
        r->index = (int)i;
        /* Longest first, so completion order is visibly not spawn order. */
        r->delay_ms = n == 1 ? 100u : (unsigned)(1000 - (900 * i) / (n - 1));
        sum += r->delay_ms;
        if (r->delay_ms > longest) {
            longest = r->delay_ms;
        }
        r->host = host;
        r->port = (uint16_t)port;
        int len = snprintf(r->request, sizeof r->request,
                           "GET /%u/hello-from-c-task-%ld HTTP/1.1\r\nHost: %s:%ld\r\nConnection: close\r\n\r\n",
                           r->delay_ms, i, host, port);
        r->request_len = (size_t)len;
        rc = eddy_spawn(rt, request_poll, r, NULL, &tasks[i]);
        if (rc < 0) {
            fprintf(stderr, "eddy_spawn: %s\n", eddy_strerror(rc));
            return 1;
        }
    }
    rc = eddy_runtime_run(rt);
    double total_ms = (double)(now_ns() - start_ns) / 1e6;
    int failed = rc < 0;
    for (long i = 0; i < n; i++) {
        int status = 0;
        if (eddy_task_status(tasks[i], &status) != EDDY_READY || status != 0) {
            failed++;
        }
        eddy_task_free(tasks[i]);
    }
    printf("total: %.0f ms for %ld concurrent requests (longest delay %u ms, sum of delays %lu ms)\n", total_ms,
           n, longest, sum);
    printf("%ld ok, %d failed\n", n - failed, failed);
    int leaked = eddy_runtime_free(rt);
    if (leaked != 0) {
        fprintf(stderr, "eddy_runtime_free: %d handle(s) were still open\n", leaked);
    }
    free(reqs);
    free(tasks);
    return failed == 0 && rc == 0 ? 0 : 1;
}

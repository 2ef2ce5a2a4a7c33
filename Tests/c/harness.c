/* harness.c — see harness.h. */
#include "harness.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (d == NULL) {
        return -1;
    }
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] != '.') {
            n++;
        }
    }
    closedir(d);
    return n; /* includes the DIR's own descriptor, consistently */
}

uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t elapsed_ms(uint64_t start_ns)
{
    return (now_ns() - start_ns) / MS;
}

void sleep_ms(unsigned ms)
{
    struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

unsigned slow_factor(void)
{
    if (getenv("EDDY_UNDER_VALGRIND") != NULL) {
        return 20;
    }
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    return 3;
#else
    return 1;
#endif
}

int fx_setup_nort(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    if (f == NULL) {
        return -1;
    }
    alarm(TEST_ALARM_SECONDS * slow_factor());
    f->fds = count_fds();
    *state = f;
    return 0;
}

int fx_setup(void **state)
{
    if (fx_setup_nort(state) != 0) {
        return -1;
    }
    fixture_t *f = *state;
    int r = eddy_runtime_new(NULL, &f->rt);
    if (r != 0) {
        fprintf(stderr, "eddy_runtime_new: %d (%s)\n", r, eddy_err_name(r));
        f->rt.id = 0;
        return -1;
    }
    return 0;
}

int fx_teardown(void **state)
{
    fixture_t *f = *state;
    if (f != NULL && f->rt.id != 0) {
        /* The test failed before FINISH: clean up so later tests start fresh. */
        eddy_runtime_free(f->rt);
    }
    free(f);
    alarm(0);
    return 0;
}

char fx_dir[64];

int fx_dir_setup(void **state, const char *tag)
{
    snprintf(fx_dir, sizeof fx_dir, "/tmp/eddy-%s-XXXXXX", tag);
    assert_non_null(mkdtemp(fx_dir));
    return fx_setup(state);
}

int fx_dir_teardown(void **state)
{
    int r = fx_teardown(state);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", fx_dir);
    assert_int_equal(system(cmd), 0);
    return r;
}

void check_fds(const fixture_t *f)
{
    assert_int_equal(count_fds(), f->fds);
}

void finish(fixture_t *f)
{
    int r = eddy_runtime_free(f->rt);
    f->rt.id = 0;
    if (r != 0) {
        print_error("eddy_runtime_free returned %d (%s): leaked handles or tasks\n", r,
                    r < 0 ? eddy_err_name(r) : "count");
    }
    assert_int_equal(r, 0);
    check_fds(f);
}

static int make_addr(const char *host, uint16_t port, struct sockaddr_storage *ss, socklen_t *len)
{
    memset(ss, 0, sizeof *ss);
    struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons(port);
        *len = sizeof *a4;
        return AF_INET;
    }
    if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons(port);
        *len = sizeof *a6;
        return AF_INET6;
    }
    return -1;
}

static uint16_t bound_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0) {
        return 0;
    }
    if (ss.ss_family == AF_INET) {
        return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    }
    return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

int raw_listen(const char *host, uint16_t *port)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int fam = make_addr(host, 0, &ss, &len);
    if (fam < 0) {
        return -1;
    }
    int fd = socket(fam, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return -1;
    }
    if (bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, 128) != 0) {
        close(fd);
        return -1;
    }
    *port = bound_port(fd);
    return fd;
}

int raw_bound_unlistened(uint16_t *port)
{
    struct sockaddr_storage ss;
    socklen_t len;
    make_addr("127.0.0.1", 0, &ss, &len);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return -1;
    }
    if (bind(fd, (struct sockaddr *)&ss, len) != 0) {
        close(fd);
        return -1;
    }
    *port = bound_port(fd);
    return fd;
}

int raw_connect(const char *host, uint16_t port)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int fam = make_addr(host, port, &ss, &len);
    if (fam < 0) {
        return -1;
    }
    int fd = socket(fam, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return -1;
    }
    while (connect(fd, (struct sockaddr *)&ss, len) != 0) {
        if (errno != EINTR) {
            close(fd);
            return -1;
        }
    }
    return fd;
}

int write_all_fd(int fd, const void *buf, size_t len)
{
    const unsigned char *p = buf;
    while (len > 0) {
        ssize_t w = send(fd, p, len, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -1;
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

ssize_t read_full_fd(int fd, void *buf, size_t len)
{
    unsigned char *p = buf;
    size_t got = 0;
    while (got < len) {
        ssize_t r = read(fd, p + got, len - got);
        if (r < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -1;
        }
        if (r == 0) {
            break;
        }
        got += (size_t)r;
    }
    return (ssize_t)got;
}

int await_poll(void *state, eddy_cx_t *cx)
{
    await_t *a = state;
    a->polls++;
    a->result = eddy_future_poll(a->fut, cx);
    if (a->result == EDDY_PENDING) {
        return EDDY_PENDING;
    }
    return a->result; /* EDDY_READY (0) or the error */
}

int block_on_future(eddy_runtime_t rt, eddy_future_t fut)
{
    await_t a = { .fut = fut, .polls = 0, .result = 0 };
    int status = 12345;
    int r = eddy_block_on(rt, await_poll, &a, NULL, &status);
    if (r != 0) {
        print_error("eddy_block_on returned %d (%s)\n", r, eddy_err_name(r));
        return r;
    }
    return status;
}

int probe_poll(void *state, eddy_cx_t *cx)
{
    probe_t *p = state;
    p->polls++;
    if (p->sleep_ms != 0) {
        if (p->sleep.id == 0) {
            eddy_runtime_t rt;
            int r = eddy_cx_runtime(cx, &rt);
            if (r == 0) {
                r = eddy_sleep(rt, p->sleep_ms * MS, &p->sleep);
            }
            if (r < 0) {
                return r;
            }
        }
        int r = eddy_future_poll(p->sleep, cx);
        if (r != EDDY_READY) {
            return r;
        }
        eddy_future_free(p->sleep);
        p->sleep.id = 0;
    }
    return p->result;
}

void probe_drop(void *state)
{
    probe_t *p = state;
    p->drops++;
    if (p->sleep.id != 0) {
        eddy_future_free(p->sleep); /* the task owned it */
        p->sleep.id = 0;
    }
}

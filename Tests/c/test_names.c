/* test_names.c — names through libeddy.so (issue 15 item 1): eddy_resolve on the
 * blocking pool, eddy_future_get_addrs, eddy_tcp_connect by name, Happy Eyeballs
 * (eddy_tcp_connect_addrs) on loopback only, eddy_tcp_listen_addr, the resolver's own
 * error codes, bad input, and the numeric connect path (no pool, no extra malloc).
 * "localhost" and "LOCALHOST" are names getaddrinfo answers from /etc/hosts; libeddy's
 * numeric fast path takes numeric addresses only. */
#include "harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "malloc_count.h" /* defines malloc & co.: this suite asserts no allocation per call */

static eddy_runtime_metrics_t metrics(eddy_runtime_t rt)
{
    eddy_runtime_metrics_t m;
    memset(&m, 0, sizeof m);
    m.struct_size = sizeof m;
    assert_int_equal(eddy_runtime_metrics(rt, &m), 0);
    return m;
}

/* The pool's completed-job count once it reaches `want` (the counter moves just after
 * the job's result is published), or after a second. */
static uint64_t pool_completed(eddy_runtime_t rt, uint64_t want)
{
    uint64_t n = 0;
    for (int i = 0; i < 100 * (int)slow_factor(); i++) {
        n = metrics(rt).blocking_completed;
        if (n >= want) break;
        sleep_ms(10);
    }
    return n;
}

static uint16_t listener_port(eddy_tcp_t l)
{
    uint16_t p = 0;
    assert_int_equal(eddy_tcp_local_port(l, &p), 0);
    return p;
}

/* A loopback port nobody listens on (bound, then closed). */
static uint16_t closed_port(eddy_runtime_t rt, const char *host)
{
    eddy_tcp_t l;
    assert_int_equal(eddy_tcp_listen(rt, host, 0, 1, &l), 0);
    uint16_t p = listener_port(l);
    eddy_tcp_close(l);
    return p;
}

/* Connect future -> status; the stream into *out on success. */
static int finish_connect(eddy_runtime_t rt, eddy_future_t fut, eddy_tcp_t *out)
{
    int status = block_on_future(rt, fut);
    if (status == 0) assert_int_equal(eddy_future_take_tcp(fut, out), 0);
    eddy_future_free(fut);
    return status;
}

static void test_resolve_a_name(void **state)
{
    fixture_t *f = *state;
    eddy_future_t fut;
    assert_int_equal(eddy_resolve(f->rt, "LOCALHOST", 80, &fut), 0);
    size_t count = 99;
    assert_int_equal(eddy_future_get_addrs(fut, NULL, 0, &count), EDDY_ENOTREADY);
    assert_int_equal(block_on_future(f->rt, fut), 0);
    assert_int_equal(eddy_future_get_addrs(fut, NULL, 0, &count), 0);
    assert_int_equal(count, 1);
    eddy_addr_t a[4], want;
    assert_int_equal(eddy_future_get_addrs(fut, a, 4, &count), 0);
    assert_int_equal(eddy_addr_parse("127.0.0.1", 80, &want), 0);
    assert_memory_equal(&a[0], &want, sizeof want);
    /* Again (the addresses stay until the future is freed). */
    assert_int_equal(eddy_future_get_addrs(fut, a, 1, &count), 0);
    assert_int_equal(count, 1);
    eddy_future_free(fut);
    assert_true(pool_completed(f->rt, 1) >= 1);
    /* A numeric host: at once, no pool. */
    assert_int_equal(eddy_resolve(f->rt, "[::1]", 9, &fut), 0);
    assert_int_equal(block_on_future(f->rt, fut), 0);
    assert_int_equal(eddy_future_get_addrs(fut, a, 4, &count), 0);
    assert_int_equal(count, 1);
    assert_int_equal(a[0].family, EDDY_ADDR_IPV6);
    assert_int_equal(a[0].port, 9);
    eddy_future_free(fut);
    FINISH(f);
}

static void test_unknown_name(void **state)
{
    fixture_t *f = *state;
    uint64_t start = now_ns();
    eddy_future_t fut;
    assert_int_equal(eddy_tcp_connect(f->rt, "nonexistent.invalid", 80, &fut), 0);
    eddy_tcp_t s;
    assert_int_equal(finish_connect(f->rt, fut, &s), EDDY_EAI_NONAME);
    assert_int_equal(eddy_resolve(f->rt, "nonexistent.invalid", 80, &fut), 0);
    assert_int_equal(block_on_future(f->rt, fut), EDDY_EAI_NONAME);
    size_t count;
    assert_int_equal(eddy_future_get_addrs(fut, NULL, 0, &count), EDDY_EAI_NONAME);
    eddy_future_free(fut);
    assert_true(elapsed_ms(start) < 1000 * slow_factor());
    /* Outside the errno range (glibc's EAI_NONAME is -2 = -ENOENT), getaddrinfo's text. */
    assert_true(EDDY_EAI_NONAME < -4096 && EDDY_EAI_NONAME != -ENOENT);
    assert_string_equal(eddy_err_name(EDDY_EAI_NONAME), "EDDY_EAI_NONAME");
    assert_string_equal(eddy_strerror(EDDY_EAI_NONAME), gai_strerror(EAI_NONAME));
    assert_string_equal(eddy_strerror(EDDY_EAI_AGAIN), gai_strerror(EAI_AGAIN));
    assert_string_equal(eddy_strerror(EDDY_EAI_FAIL), gai_strerror(EAI_FAIL));
    FINISH(f);
}

static void test_bad_input(void **state)
{
    fixture_t *f = *state;
    eddy_future_t fut;
    eddy_tcp_t l;
    eddy_addr_t a, bad;
    char long_name[300];
    memset(long_name, 'a', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = 0;
    assert_int_equal(eddy_resolve(f->rt, NULL, 1, &fut), EDDY_EINVAL);
    assert_int_equal(eddy_resolve(f->rt, "LOCALHOST", 1, NULL), EDDY_EINVAL);
    assert_int_equal(eddy_tcp_connect(f->rt, "", 1, &fut), EDDY_EINVAL);
    assert_int_equal(eddy_tcp_connect(f->rt, long_name, 1, &fut), EDDY_EINVAL);
    assert_int_equal(eddy_resolve(f->rt, long_name, 1, &fut), EDDY_EINVAL);
    assert_int_equal(eddy_resolve(f->rt, "", 1, &fut), EDDY_EINVAL);
    assert_int_equal(eddy_resolve(f->rt, "LOCALHOST", 1, &fut), 0);
    assert_int_equal(block_on_future(f->rt, fut), 0);
    size_t count;
    assert_int_equal(eddy_future_get_addrs(fut, NULL, 0, NULL), EDDY_EINVAL);
    assert_int_equal(eddy_future_get_addrs(fut, NULL, 5, &count), EDDY_EINVAL);
    assert_int_equal(eddy_future_get_addrs(fut, &a, SIZE_MAX, &count), 0); /* absurd cap: room enough */
    assert_int_equal(count, 1);
    eddy_tcp_t s;
    assert_int_equal(eddy_future_take_tcp(fut, &s), EDDY_EINVAL); /* a lookup yields no stream */
    eddy_future_free(fut);
    assert_int_equal(eddy_future_get_addrs(fut, &a, 1, &count), EDDY_EBADHANDLE);
    /* A sleep has no addresses. */
    assert_int_equal(eddy_sleep(f->rt, 0, &fut), 0);
    assert_int_equal(eddy_future_get_addrs(fut, &a, 1, &count), EDDY_EINVAL);
    eddy_future_free(fut);
    /* connect_addrs / listen_addr. */
    assert_int_equal(eddy_addr_parse("127.0.0.1", 1, &a), 0);
    memset(&bad, 0, sizeof bad);
    bad.family = 5;
    eddy_addr_t two[2] = { a, bad };
    assert_int_equal(eddy_tcp_connect_addrs(f->rt, NULL, 1, &fut), EDDY_EINVAL);
    assert_int_equal(eddy_tcp_connect_addrs(f->rt, &a, 0, &fut), EDDY_EINVAL);
    assert_int_equal(eddy_tcp_connect_addrs(f->rt, &a, 2000, &fut), EDDY_EINVAL);
    assert_int_equal(eddy_tcp_connect_addrs(f->rt, &a, SIZE_MAX, &fut), EDDY_EINVAL);
    assert_int_equal(eddy_tcp_connect_addrs(f->rt, two, 2, &fut), EDDY_EINVAL);
    assert_int_equal(eddy_tcp_connect_addrs(f->rt, &a, 1, NULL), EDDY_EINVAL);
    assert_int_equal(eddy_tcp_listen_addr(f->rt, NULL, 1, 0, &l), EDDY_EINVAL);
    assert_int_equal(eddy_tcp_listen_addr(f->rt, &bad, 1, 0, &l), EDDY_EINVAL);
    assert_int_equal(eddy_tcp_listen_addr(f->rt, &a, -1, 0, &l), EDDY_EINVAL);
    assert_int_equal(eddy_tcp_listen_addr(f->rt, &a, 1, 0x80, &l), EDDY_EINVAL);
    assert_int_equal(eddy_tcp_listen_addr(f->rt, &a, 1, 0, NULL), EDDY_EINVAL);
    eddy_runtime_t stale = { 12345 };
    assert_int_equal(eddy_resolve(stale, "LOCALHOST", 1, &fut), EDDY_EBADHANDLE);
    assert_int_equal(eddy_tcp_connect_addrs(stale, &a, 1, &fut), EDDY_EBADHANDLE);
    FINISH(f);
}

/* Freed while in flight: the lookup is dropped (queued: never runs), nothing leaks. */
static void test_free_in_flight(void **state)
{
    fixture_t *f = *state;
    for (int i = 0; i < 40; i++) {
        eddy_future_t fut;
        assert_int_equal(eddy_resolve(f->rt, "LOCALHOST", 1, &fut), 0);
        eddy_future_free(fut);
        assert_int_equal(eddy_tcp_connect(f->rt, "LOCALHOST", 1, &fut), 0);
        eddy_future_free(fut);
    }
    FINISH(f); /* runtime free waits for the pool: no handle, task or descriptor left */
}

/* A name end to end, and listening on a resolved name. */
static void test_connect_and_listen_by_name(void **state)
{
    fixture_t *f = *state;
    eddy_future_t fut;
    assert_int_equal(eddy_resolve(f->rt, "LOCALHOST", 0, &fut), 0);
    assert_int_equal(block_on_future(f->rt, fut), 0);
    eddy_addr_t a;
    size_t count;
    assert_int_equal(eddy_future_get_addrs(fut, &a, 1, &count), 0);
    eddy_future_free(fut);
    eddy_tcp_t l, c;
    assert_int_equal(eddy_tcp_listen_addr(f->rt, &a, 0, 0, &l), 0);
    uint16_t port = listener_port(l);
    assert_true(port != 0);
    assert_int_equal(eddy_tcp_connect(f->rt, "LOCALHOST", port, &fut), 0);
    assert_int_equal(finish_connect(f->rt, fut, &c), 0);
    eddy_addr_t peer;
    assert_int_equal(eddy_tcp_peer_addr(c, &peer), 0);
    assert_int_equal(peer.port, port);
    eddy_tcp_close(c);
    eddy_tcp_close(l);
    FINISH(f);
}

/* "localhost" is a name like any other (resolved on the pool: ::1 and/or 127.0.0.1,
 * Happy Eyeballs), not a numeric alias: a server on 127.0.0.1 only is reached. */
static void test_localhost_is_a_name(void **state)
{
    fixture_t *f = *state;
    eddy_addr_t a;
    assert_int_equal(eddy_addr_parse("localhost", 80, &a), EDDY_EINVAL);
    eddy_tcp_t l, c;
    assert_int_equal(eddy_tcp_listen(f->rt, "127.0.0.1", 0, 8, &l), 0);
    uint16_t port = listener_port(l);
    uint64_t jobs = metrics(f->rt).blocking_completed;
    eddy_future_t fut;
    assert_int_equal(eddy_tcp_connect(f->rt, "localhost", port, &fut), 0);
    assert_int_equal(finish_connect(f->rt, fut, &c), 0);
    assert_true(pool_completed(f->rt, jobs + 1) >= jobs + 1); /* the lookup ran on the pool */
    eddy_addr_t peer;
    assert_int_equal(eddy_tcp_peer_addr(c, &peer), 0);
    assert_int_equal(peer.family, EDDY_ADDR_IPV4);
    assert_int_equal(peer.port, port);
    eddy_tcp_close(c);
    eddy_tcp_close(l);
    FINISH(f);
}

static int ipv6_loopback(void)
{
    int fd = socket(AF_INET6, SOCK_STREAM, 0);
    if (fd < 0) return 0;
    struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
    int ok = bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return ok;
}

/* [::1] refuses, 127.0.0.1 accepts: the refusal starts the next attempt at once. */
static void test_happy_eyeballs_refused_v6(void **state)
{
    fixture_t *f = *state;
    if (!ipv6_loopback()) {
        print_error("IPv6 loopback unusable\n");
        fail();
    }
    eddy_tcp_t l, c;
    assert_int_equal(eddy_tcp_listen(f->rt, "127.0.0.1", 0, 8, &l), 0);
    eddy_addr_t list[2];
    assert_int_equal(eddy_addr_parse("::1", closed_port(f->rt, "::1"), &list[0]), 0);
    assert_int_equal(eddy_addr_parse("127.0.0.1", listener_port(l), &list[1]), 0);
    uint64_t start = now_ns();
    eddy_future_t fut;
    assert_int_equal(eddy_tcp_connect_addrs(f->rt, list, 2, &fut), 0);
    assert_int_equal(finish_connect(f->rt, fut, &c), 0);
    assert_true(elapsed_ms(start) < 200 * slow_factor());
    eddy_addr_t peer;
    assert_int_equal(eddy_tcp_peer_addr(c, &peer), 0);
    assert_memory_equal(&peer, &list[1], sizeof peer);
    eddy_tcp_close(c);
    eddy_tcp_close(l);
    /* Every address refused: the last attempt's error. */
    assert_int_equal(eddy_addr_parse("127.0.0.1", closed_port(f->rt, "127.0.0.1"), &list[1]), 0);
    assert_int_equal(eddy_tcp_connect_addrs(f->rt, list, 2, &fut), 0);
    assert_int_equal(finish_connect(f->rt, fut, &c), EDDY_ECONNREFUSED);
    FINISH(f);
}

/* A first address whose accept queue is full (its SYN is dropped: the attempt hangs):
 * the second attempt starts after 250 ms and wins; the hanging one is closed. */
static void test_happy_eyeballs_delay(void **state)
{
    fixture_t *f = *state;
    eddy_tcp_t hole, l, c;
    assert_int_equal(eddy_tcp_listen(f->rt, "127.0.0.1", 0, 0, &hole), 0);
    /* backlog 0 would read as 1024 here: make it 0 on the descriptor itself. */
    int hfd;
    assert_int_equal(eddy_tcp_fd(hole, &hfd), 0);
    assert_int_equal(listen(hfd, 0), 0);
    struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(listener_port(hole)) };
    inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    int fillers[2];
    for (int i = 0; i < 2; i++) {
        fillers[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        connect(fillers[i], (struct sockaddr *)&to, sizeof to);
    }
    sleep_ms(100);
    int fds = count_fds();
    assert_int_equal(eddy_tcp_listen(f->rt, "127.0.0.1", 0, 8, &l), 0);
    eddy_addr_t list[2];
    assert_int_equal(eddy_addr_parse("127.0.0.1", listener_port(hole), &list[0]), 0);
    assert_int_equal(eddy_addr_parse("127.0.0.1", listener_port(l), &list[1]), 0);
    uint64_t start = now_ns();
    eddy_future_t fut;
    assert_int_equal(eddy_tcp_connect_addrs(f->rt, list, 2, &fut), 0);
    assert_int_equal(finish_connect(f->rt, fut, &c), 0);
    uint64_t ms = elapsed_ms(start);
    assert_true(ms >= 240);
    assert_true(ms < 900 * slow_factor());
    eddy_addr_t peer;
    assert_int_equal(eddy_tcp_peer_addr(c, &peer), 0);
    assert_memory_equal(&peer, &list[1], sizeof peer);
    eddy_tcp_close(c);
    eddy_tcp_close(l);
    assert_int_equal(count_fds(), fds); /* the hanging attempt was closed */
    close(fillers[0]);
    close(fillers[1]);
    eddy_tcp_close(hole);
    FINISH(f);
}

/* The numeric path: no blocking-pool hop, and the name support adds no malloc to it. */
static void test_numeric_fast_path(void **state)
{
    fixture_t *f = *state;
    eddy_tcp_t l, c;
    assert_int_equal(eddy_tcp_listen(f->rt, "127.0.0.1", 0, 64, &l), 0);
    uint16_t port = listener_port(l);
    long numeric = -1, byname = -1;
    for (int round = 0; round < 3; round++) { /* the last round counts (caches warm) */
        eddy_future_t fut;
#if COUNT_MALLOCS
        mallocs = 0;
        counting = 1;
#endif
        int rc = eddy_tcp_connect(f->rt, "127.0.0.1", port, &fut);
#if COUNT_MALLOCS
        counting = 0;
        numeric = mallocs;
#endif
        assert_int_equal(rc, 0);
        assert_int_equal(finish_connect(f->rt, fut, &c), 0);
        eddy_tcp_close(c);
    }
    eddy_runtime_metrics_t m = metrics(f->rt);
    assert_int_equal(m.blocking_threads, 0);
    assert_int_equal(m.blocking_completed + m.blocking_queued + m.blocking_running, 0);
    for (int round = 0; round < 3; round++) {
        eddy_future_t fut;
#if COUNT_MALLOCS
        mallocs = 0;
        counting = 1;
#endif
        int rc = eddy_tcp_connect(f->rt, "LOCALHOST", port, &fut);
#if COUNT_MALLOCS
        counting = 0;
        byname = mallocs;
#endif
        assert_int_equal(rc, 0);
        assert_int_equal(finish_connect(f->rt, fut, &c), 0);
        eddy_tcp_close(c);
    }
    assert_true(pool_completed(f->rt, 1) >= 1);
#if COUNT_MALLOCS
    printf("mallocs to start a connect: numeric %ld, by name %ld\n", numeric, byname);
    /* The numeric call allocates only the connect's own objects (future object, its
     * connect state, the socket): 3, as before names existed (the numeric branch of
     * eddy_tcp_connect is unchanged; the name branch is a separate function). A name
     * costs more (the lookup job, the race): the counting does see allocations. */
    if (malloc_counting_works()) {
        assert_true(numeric <= 3);
        assert_true(byname > numeric);
    } else {
        printf("malloc counts not compared: the allocator is not ours (valgrind)\n");
    }
#else
    (void)numeric;
    (void)byname;
#endif
    eddy_tcp_close(l);
    FINISH(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_resolve_a_name, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_unknown_name, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_bad_input, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_free_in_flight, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_connect_and_listen_by_name, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_localhost_is_a_name, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_happy_eyeballs_refused_v6, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_happy_eyeballs_delay, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_numeric_fast_path, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests_name("names", tests, NULL, NULL);
}

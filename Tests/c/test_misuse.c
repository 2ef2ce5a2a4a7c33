/* test_misuse.c — every misuse class gets an error value, never a crash or a leak:
 * NULL out-pointers and arguments (EDDY_EINVAL), stale / freed / forged / wrong-kind
 * handles (EDDY_EBADHANDLE), bad cx pointers (EDDY_EINVAL), runtime_free or run from
 * inside its own task (EDDY_EBUSY), calls from a foreign thread while the runtime runs
 * (EDDY_EWRONGTHREAD), and a forked child (EDDY_EFORKED).
 *
 * Checks use EXPECT (records, continues) rather than cmocka asserts, so one run lists
 * every mismatch, and so nothing longjmps out of a poll_fn through the library. */
#include "harness.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct {
    int fails;
    char msg[4096];
} rec_t;

static void rec_fail(rec_t *r, const char *expr, int got, int want, int line)
{
    r->fails++;
    size_t used = strlen(r->msg);
    if (used < sizeof r->msg - 1) {
        snprintf(r->msg + used, sizeof r->msg - used, "  line %d: %s\n      expected %d (%s), got %d (%s)\n",
                 line, expr, want, eddy_err_name(want), got, eddy_err_name(got));
    }
}

#define EXPECT(rec, expr, want)                                                                    \
    do {                                                                                           \
        int got_ = (expr);                                                                         \
        if (got_ != (want)) {                                                                      \
            rec_fail((rec), #expr, got_, (want), __LINE__);                                        \
        }                                                                                          \
    } while (0)

static void rec_check(const rec_t *r)
{
    if (r->fails != 0) {
        print_error("%d mismatched misuse checks:\n%s", r->fails, r->msg);
    }
    assert_int_equal(r->fails, 0);
}

static int noop_poll(void *state, eddy_cx_t *cx)
{
    (void)state;
    (void)cx;
    return EDDY_READY;
}

static void noop_then(void *user, int status)
{
    (void)user;
    (void)status;
}

static int count_drops;
static void count_drop(void *state)
{
    (void)state;
    count_drops++;
}

/* ---- errors and version ---- */

static void test_version_and_error_names(void **state)
{
    (void)state;
    assert_int_equal(eddy_version(), EDDY_VERSION_HEX);
    assert_non_null(eddy_version_string());
    char want[32];
    snprintf(want, sizeof want, "%d.%d.%d", EDDY_VERSION_MAJOR, EDDY_VERSION_MINOR, EDDY_VERSION_PATCH);
    assert_memory_equal(eddy_version_string(), want, strlen(want));
    const int codes[] = { 0,
                          EDDY_PENDING,
                          EDDY_EINTR,
                          EDDY_EAGAIN,
                          EDDY_ENOMEM,
                          EDDY_EBUSY,
                          EDDY_EINVAL,
                          EDDY_EMFILE,
                          EDDY_EPIPE,
                          EDDY_EADDRINUSE,
                          EDDY_EADDRNOTAVAIL,
                          EDDY_ECONNRESET,
                          EDDY_ENOTCONN,
                          EDDY_ETIMEDOUT,
                          EDDY_ECONNREFUSED,
                          EDDY_ECANCELED,
                          EDDY_EBADHANDLE,
                          EDDY_EFORKED,
                          EDDY_ESHUTDOWN,
                          EDDY_EWRONGTHREAD,
                          EDDY_ENOTREADY,
                          EDDY_EBADPOLL,
                          -1,
                          -4999,
                          -5000,
                          -5999,
                          -123456,
                          12345,
                          INT32_MIN,
                          INT32_MAX };
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        assert_non_null(eddy_strerror(codes[i]));
        assert_non_null(eddy_err_name(codes[i]));
    }
    assert_true(strlen(eddy_strerror(EDDY_ECONNREFUSED)) > 0);
    /* Each macro's own spelling is the name eddy_err_name gives its value: Eddy's
     * codes keep the EDDY_ prefix, errno codes are the errno's name. */
#define NAMED(code, own) { code, #code, own }
    static const struct { int code; const char *macro; int own; } named[] = {
        NAMED(EDDY_EINTR, 0), NAMED(EDDY_EAGAIN, 0), NAMED(EDDY_ENOMEM, 0), NAMED(EDDY_EBUSY, 0), NAMED(EDDY_EINVAL, 0),
        NAMED(EDDY_EMFILE, 0), NAMED(EDDY_EPIPE, 0), NAMED(EDDY_EADDRINUSE, 0),
        NAMED(EDDY_EADDRNOTAVAIL, 0), NAMED(EDDY_ECONNRESET, 0), NAMED(EDDY_ENOTCONN, 0),
        NAMED(EDDY_ETIMEDOUT, 0), NAMED(EDDY_ECONNREFUSED, 0), NAMED(EDDY_ECANCELED, 0),
        NAMED(EDDY_EBADHANDLE, 1), NAMED(EDDY_EFORKED, 1), NAMED(EDDY_ESHUTDOWN, 1),
        NAMED(EDDY_EWRONGTHREAD, 1), NAMED(EDDY_ENOTREADY, 1), NAMED(EDDY_EBADPOLL, 1),
        NAMED(EDDY_READY, 1), NAMED(EDDY_PENDING, 1),
        /* ---- names (issue 15 item 1) ---- */
        NAMED(EDDY_EAI_BADFLAGS, 1), NAMED(EDDY_EAI_NONAME, 1), NAMED(EDDY_EAI_AGAIN, 1), NAMED(EDDY_EAI_FAIL, 1),
        NAMED(EDDY_EAI_NODATA, 1), NAMED(EDDY_EAI_FAMILY, 1), NAMED(EDDY_EAI_SOCKTYPE, 1),
        NAMED(EDDY_EAI_SERVICE, 1), NAMED(EDDY_EAI_ADDRFAMILY, 1), NAMED(EDDY_EAI_MEMORY, 1),
        NAMED(EDDY_EAI_OVERFLOW, 1),
    };
#undef NAMED
    for (size_t i = 0; i < sizeof named / sizeof named[0]; i++) {
        const char *want_name = named[i].own ? named[i].macro : named[i].macro + strlen("EDDY_");
        assert_string_equal(eddy_err_name(named[i].code), want_name);
        /* Eddy's own codes have their own text, never glibc's "Unknown error N". */
        if (named[i].own) assert_null(strstr(eddy_strerror(named[i].code), "Unknown"));
    }
    /* The header's table is the library's: every EDDY_ERROR_MAP entry's name and
     * message, word for word. */
    int entries = 0;
#define CHECK_ENTRY(suffix, name, message)                         \
    assert_string_equal(eddy_err_name(EDDY_##suffix), name);       \
    assert_string_equal(eddy_strerror(EDDY_##suffix), message);    \
    entries++;
    EDDY_ERROR_MAP(CHECK_ENTRY)
#undef CHECK_ENTRY
    assert_int_equal(entries, sizeof named / sizeof named[0]);
    /* Unknown codes: one fixed name and message, in and out of the errno range. */
    const int unknown[] = { -4999, -5000, -5007, -5100, -5999, -123456, 2, 12345, INT32_MIN, INT32_MAX };
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        assert_string_equal(eddy_err_name(unknown[i]), "EDDY_EUNKNOWN");
        assert_string_equal(eddy_strerror(unknown[i]), "unknown error");
    }
}

/* ---- NULL out-pointers and bad arguments ---- */

static void test_config(void **state)
{
    fixture_t *f = *state;
    rec_t r = { 0 };
    eddy_config_t c;
    memset(&c, 0xFF, sizeof c);
    EXPECT(&r, eddy_config_init(NULL), EDDY_EINVAL);
    EXPECT(&r, eddy_config_init(&c), 0);
    EXPECT(&r, (int)c.struct_size, (int)sizeof c);
    EXPECT(&r, (int)c.flags, 0);
    eddy_runtime_t rt = { 0 };
    c.task_budget = 16;
    c.event_batch = 64;
    c.blocking_threads = 2;
    EXPECT(&r, eddy_runtime_new(&c, &rt), 0);
    if (rt.id != 0) {
        EXPECT(&r, eddy_runtime_free(rt), 0);
    }
    eddy_runtime_t untouched = { 777 };
    c.struct_size = 3; /* not from eddy_config_init */
    EXPECT(&r, eddy_runtime_new(&c, &untouched), EDDY_EINVAL);
    c.struct_size = 1u << 30;
    EXPECT(&r, eddy_runtime_new(&c, &untouched), EDDY_EINVAL);
    EXPECT(&r, (int)untouched.id, 777); /* outputs written only on success */
    EXPECT(&r, eddy_runtime_new(NULL, NULL), EDDY_EINVAL);
    /* A field above its maximum (e.g. -1 stored in the uint32) is EINVAL, not clamped;
     * the maxima themselves are accepted. */
    uint32_t *fields[] = { &c.event_batch, &c.task_budget, &c.blocking_threads };
    const uint32_t maxima[] = { 1024, 1u << 20, 1024 };
    for (size_t i = 0; i < 3; i++) {
        EXPECT(&r, eddy_config_init(&c), 0);
        *fields[i] = maxima[i] + 1;
        EXPECT(&r, eddy_runtime_new(&c, &untouched), EDDY_EINVAL);
        *fields[i] = UINT32_MAX;
        EXPECT(&r, eddy_runtime_new(&c, &untouched), EDDY_EINVAL);
        *fields[i] = maxima[i];
        eddy_runtime_t ok = { 0 };
        EXPECT(&r, eddy_runtime_new(&c, &ok), 0);
        if (ok.id != 0) EXPECT(&r, eddy_runtime_free(ok), 0);
    }
    EXPECT(&r, (int)untouched.id, 777);
    rec_check(&r);
    FINISH(f);
}

static void test_null_out_pointers(void **state)
{
    fixture_t *f = *state;
    rec_t r = { 0 };
    eddy_runtime_t rt = f->rt;
    count_drops = 0;
    int st;
    EXPECT(&r, eddy_spawn(rt, NULL, NULL, NULL, &(eddy_task_t){ 0 }), EDDY_EINVAL);
    EXPECT(&r, eddy_block_on(rt, noop_poll, NULL, NULL, NULL), EDDY_EINVAL);
    EXPECT(&r, eddy_block_on(rt, NULL, NULL, NULL, &st), EDDY_EINVAL);
    EXPECT(&r, count_drops, 0);

    eddy_task_t t;
    EXPECT(&r, eddy_spawn(rt, noop_poll, NULL, NULL, &t), 0);
    EXPECT(&r, eddy_runtime_run_until(rt, t, NULL), EDDY_EINVAL);
    EXPECT(&r, eddy_task_status(t, NULL), EDDY_EINVAL);
    EXPECT(&r, eddy_runtime_run_until(rt, t, &st), 0);
    EXPECT(&r, eddy_task_free(t), 0);

    eddy_tcp_t l = { 0 };
    uint16_t port = 0;
    EXPECT(&r, eddy_tcp_listen(rt, "127.0.0.1", 0, 16, NULL), EDDY_EINVAL);
    EXPECT(&r, eddy_tcp_listen(rt, NULL, 0, 16, &l), EDDY_EINVAL);
    EXPECT(&r, eddy_tcp_listen(rt, "example.invalid", 0, 16, &l), EDDY_EINVAL); /* no DNS */
    EXPECT(&r, eddy_tcp_listen(rt, "256.1.1.1", 0, 16, &l), EDDY_EINVAL);
    EXPECT(&r, eddy_tcp_listen(rt, "", 0, 16, &l), EDDY_EINVAL);
    EXPECT(&r, (int)l.id, 0);
    EXPECT(&r, eddy_tcp_listen(rt, "127.0.0.1", 0, 16, &l), 0);
    EXPECT(&r, eddy_tcp_local_port(l, NULL), EDDY_EINVAL);
    EXPECT(&r, eddy_tcp_local_port(l, &port), 0);

    eddy_future_t fut = { 0 };
    EXPECT(&r, eddy_tcp_connect(rt, "127.0.0.1", port, NULL), EDDY_EINVAL);
    EXPECT(&r, eddy_tcp_connect(rt, NULL, port, &fut), EDDY_EINVAL);
    /* A host name is looked up since issue 15 (the future reports EDDY_EAI_*): only a
     * host that can be no name is refused here. */
    EXPECT(&r, eddy_tcp_connect(rt, "", port, &fut), EDDY_EINVAL);
    EXPECT(&r, eddy_sleep(rt, 1, NULL), EDDY_EINVAL);
    EXPECT(&r, (int)fut.id, 0);

    /* Huge durations are accepted (they saturate to "never", see eddy_sleep). */
    eddy_future_t never, never_to;
    EXPECT(&r, eddy_sleep(rt, UINT64_MAX, &never), 0);
    EXPECT(&r, eddy_timeout(rt, never, UINT64_MAX, &never_to), 0);
    EXPECT(&r, eddy_future_take_value(never_to, &(eddy_value_t){ 0 }), EDDY_ENOTREADY);
    EXPECT(&r, eddy_future_free(never_to), 0);
    /* backlog <= 0 means the default (documented), it is not an error. */
    eddy_tcp_t l2;
    EXPECT(&r, eddy_tcp_listen(rt, "127.0.0.1", 0, -1, &l2), 0);
    EXPECT(&r, eddy_tcp_close(l2), 0);
    /* nargs that no signature can match (a negative count cast to size_t). */
    eddy_future_t bc = { 0 };
    eddy_value_t args[1] = { { .i = 0 } };
    EXPECT(&r, eddy_blocking_call(rt, (void (*)(void))noop_then, "v(i)", args, SIZE_MAX, &bc), EDDY_EINVAL);
    EXPECT(&r, eddy_blocking_call(rt, (void (*)(void))noop_then, "v(i)", args, (size_t)INT64_MAX + 1, &bc), EDDY_EINVAL);
    EXPECT(&r, (int)bc.id, 0);

    eddy_future_t s;
    EXPECT(&r, eddy_sleep(rt, 0, &s), 0);
    EXPECT(&r, eddy_timeout(rt, s, 1000, NULL), EDDY_EINVAL);
    EXPECT(&r, eddy_future_take_tcp(s, NULL), EDDY_EINVAL);
    EXPECT(&r, eddy_future_take_value(s, NULL), EDDY_EINVAL);
    EXPECT(&r, eddy_future_then(s, NULL, NULL), EDDY_EINVAL);
    EXPECT(&r, eddy_future_free(s), 0); /* a failed eddy_timeout did not take it */

    EXPECT(&r, eddy_tcp_close(l), 0);
    rec_check(&r);
    FINISH(f);
}

/* Misuse from inside a poll: NULL outputs/buffers, bad cx pointers, busy runtime. */
typedef struct {
    rec_t *rec;
    eddy_tcp_t listener, stream;
    eddy_future_t fut;
    eddy_task_t other;
    eddy_cx_t *saved_cx;
    int phase;
} inside_t;

static int inside_poll(void *state, eddy_cx_t *cx)
{
    inside_t *in = state;
    rec_t *r = in->rec;
    unsigned char buf[16];
    size_t n;
    int st;
    eddy_waker_t w;
    eddy_runtime_t rt;
    eddy_tcp_t s;
    EXPECT(r, eddy_cx_waker(cx, NULL), EDDY_EINVAL);
    EXPECT(r, eddy_cx_runtime(cx, NULL), EDDY_EINVAL);
    EXPECT(r, eddy_tcp_poll_accept(in->listener, cx, NULL), EDDY_EINVAL);
    EXPECT(r, eddy_tcp_poll_read(in->stream, cx, buf, sizeof buf, NULL), EDDY_EINVAL);
    EXPECT(r, eddy_tcp_poll_read(in->stream, cx, NULL, sizeof buf, &n), EDDY_EINVAL);
    EXPECT(r, eddy_tcp_poll_write(in->stream, cx, buf, sizeof buf, NULL), EDDY_EINVAL);
    EXPECT(r, eddy_tcp_poll_write(in->stream, cx, NULL, sizeof buf, &n), EDDY_EINVAL);
    /* Absurd sizes (a negative length cast to size_t): EINVAL, nothing read or written. */
    const size_t absurd[] = { SIZE_MAX, (size_t)-1 - 4095, (size_t)INT64_MAX + 1 };
    for (size_t i = 0; i < sizeof absurd / sizeof absurd[0]; i++) {
        n = 12345;
        EXPECT(r, eddy_tcp_poll_read(in->stream, cx, buf, absurd[i], &n), EDDY_EINVAL);
        EXPECT(r, eddy_tcp_poll_write(in->stream, cx, buf, absurd[i], &n), EDDY_EINVAL);
        EXPECT(r, (int)n, 12345);
    }
    EXPECT(r, eddy_task_poll_join(in->other, cx, NULL), EDDY_EINVAL);
    /* NULL cx */
    EXPECT(r, eddy_cx_waker(NULL, &w), EDDY_EINVAL);
    EXPECT(r, eddy_cx_runtime(NULL, &rt), EDDY_EINVAL);
    EXPECT(r, eddy_future_poll(in->fut, NULL), EDDY_EINVAL);
    EXPECT(r, eddy_tcp_poll_accept(in->listener, NULL, &s), EDDY_EINVAL);
    EXPECT(r, eddy_tcp_poll_read(in->stream, NULL, buf, sizeof buf, &n), EDDY_EINVAL);
    EXPECT(r, eddy_tcp_poll_write(in->stream, NULL, buf, sizeof buf, &n), EDDY_EINVAL);
    EXPECT(r, eddy_tcp_poll_shutdown(in->stream, NULL), EDDY_EINVAL);
    EXPECT(r, eddy_task_poll_join(in->other, NULL, &st), EDDY_EINVAL);
    /* forged cx: any pointer that is not the context of this poll */
    long junk[8] = { 0 };
    eddy_cx_t *forged = (eddy_cx_t *)(void *)junk;
    EXPECT(r, eddy_cx_waker(forged, &w), EDDY_EINVAL);
    EXPECT(r, eddy_cx_runtime((eddy_cx_t *)(uintptr_t)0x10, &rt), EDDY_EINVAL);
    EXPECT(r, eddy_future_poll(in->fut, forged), EDDY_EINVAL);
    EXPECT(r, eddy_tcp_poll_read(in->stream, (eddy_cx_t *)(uintptr_t)-1, buf, sizeof buf, &n), EDDY_EINVAL);
    /* the cx of an earlier poll (stale) */
    if (in->saved_cx != NULL && in->saved_cx != cx) {
        EXPECT(r, eddy_cx_waker(in->saved_cx, &w), EDDY_EINVAL);
    }
    /* the runtime cannot be freed or re-entered from its own task */
    EXPECT(r, eddy_cx_runtime(cx, &rt), 0);
    EXPECT(r, eddy_runtime_free(rt), EDDY_EBUSY);
    EXPECT(r, eddy_runtime_run(rt), EDDY_EBUSY);
    in->saved_cx = cx;
    if (in->phase++ == 0) {
        /* be polled a second time so the first cx becomes stale */
        EXPECT(r, eddy_cx_waker(cx, &w), 0);
        EXPECT(r, eddy_waker_wake(w), 0);
        EXPECT(r, eddy_waker_free(w), 0);
        return EDDY_PENDING;
    }
    return EDDY_READY;
}

static void test_misuse_inside_poll(void **state)
{
    fixture_t *f = *state;
    rec_t r = { 0 };
    inside_t in = { .rec = &r };
    uint16_t port;
    assert_int_equal(eddy_tcp_listen(f->rt, "127.0.0.1", 0, 16, &in.listener), 0);
    assert_int_equal(eddy_tcp_local_port(in.listener, &port), 0);
    eddy_future_t c;
    assert_int_equal(eddy_tcp_connect(f->rt, "127.0.0.1", port, &c), 0);
    assert_int_equal(block_on_future(f->rt, c), 0);
    assert_int_equal(eddy_future_take_tcp(c, &in.stream), 0);
    assert_int_equal(eddy_future_free(c), 0);
    assert_int_equal(eddy_sleep(f->rt, 0, &in.fut), 0);
    assert_int_equal(eddy_spawn(f->rt, noop_poll, NULL, NULL, &in.other), 0);
    int st = 1;
    assert_int_equal(eddy_block_on(f->rt, inside_poll, &in, NULL, &st), 0);
    assert_int_equal(st, 0);
    assert_int_equal(in.phase, 2);
    /* A cx used after its poll returned, outside any poll. */
    eddy_waker_t w;
    EXPECT(&r, eddy_cx_waker(in.saved_cx, &w), EDDY_EINVAL);
    EXPECT(&r, eddy_cx_runtime(in.saved_cx, &(eddy_runtime_t){ 0 }), EDDY_EINVAL);
    EXPECT(&r, eddy_future_poll(in.fut, in.saved_cx), EDDY_EINVAL);
    EXPECT(&r, eddy_cx_waker(NULL, &w), EDDY_EINVAL);
    rec_check(&r);
    assert_int_equal(eddy_runtime_run(f->rt), 0);
    assert_int_equal(eddy_task_free(in.other), 0);
    assert_int_equal(eddy_future_free(in.fut), 0);
    assert_int_equal(eddy_tcp_close(in.stream), 0);
    assert_int_equal(eddy_tcp_close(in.listener), 0);
    FINISH(f);
}

/* A cx handed to another thread during the poll is not that thread's context. */
typedef struct {
    eddy_cx_t *cx;
    int rc_waker, rc_runtime;
} cx_thread_t;

static void *use_cx_from_thread(void *arg)
{
    cx_thread_t *ct = arg;
    eddy_waker_t w;
    eddy_runtime_t rt;
    ct->rc_waker = eddy_cx_waker(ct->cx, &w);
    ct->rc_runtime = eddy_cx_runtime(ct->cx, &rt);
    if (ct->rc_waker == 0) {
        eddy_waker_free(w);
    }
    return NULL;
}

static int cx_to_thread_poll(void *state, eddy_cx_t *cx)
{
    cx_thread_t *ct = state;
    ct->cx = cx;
    pthread_t th;
    if (pthread_create(&th, NULL, use_cx_from_thread, ct) != 0) {
        return EDDY_ENOMEM;
    }
    pthread_join(th, NULL); /* brief, deliberate block inside the poll */
    return EDDY_READY;
}

static void test_cx_from_other_thread(void **state)
{
    fixture_t *f = *state;
    cx_thread_t ct = { .rc_waker = 1, .rc_runtime = 1 };
    int st = 1;
    assert_int_equal(eddy_block_on(f->rt, cx_to_thread_poll, &ct, NULL, &st), 0);
    assert_int_equal(st, 0);
    assert_int_equal(ct.rc_waker, EDDY_EINVAL);
    assert_int_equal(ct.rc_runtime, EDDY_EINVAL);
    FINISH(f);
}

/* ---- handles: forged, wrong kind, stale ---- */

static void all_runtime_calls(rec_t *r, eddy_runtime_t rt, int want, int line)
{
    eddy_task_t t = { 0 };
    eddy_future_t fut = { 0 };
    eddy_tcp_t l = { 0 };
    int st;
    int got;
#define RT_EXPECT(expr)                                                                            \
    do {                                                                                           \
        got = (expr);                                                                              \
        if (got != want) {                                                                         \
            rec_fail(r, #expr, got, want, line);                                                   \
        }                                                                                          \
    } while (0)
    RT_EXPECT(eddy_runtime_run(rt));
    RT_EXPECT(eddy_runtime_run_until(rt, t, &st));
    RT_EXPECT(eddy_block_on(rt, noop_poll, NULL, NULL, &st));
    RT_EXPECT(eddy_spawn(rt, noop_poll, NULL, NULL, &t));
    RT_EXPECT(eddy_tcp_listen(rt, "127.0.0.1", 0, 16, &l));
    RT_EXPECT(eddy_tcp_connect(rt, "127.0.0.1", 9, &fut));
    RT_EXPECT(eddy_sleep(rt, 1, &fut));
    RT_EXPECT(eddy_blocking_call(rt, (void (*)(void))noop_poll, "i(pp)", (eddy_value_t[2]){ { 0 } }, 2, &fut));
    RT_EXPECT(eddy_spawn_blocking(rt, (void *(*)(void *))(void (*)(void))noop_poll, NULL, &fut));
    RT_EXPECT(eddy_runtime_free(rt));
#undef RT_EXPECT
    if (t.id != 0 || fut.id != 0 || l.id != 0) {
        rec_fail(r, "outputs written on failure", 1, 0, line);
    }
}

static void all_task_calls(rec_t *r, eddy_runtime_t rt, eddy_task_t t, int line)
{
    int st = 0, got;
    if ((got = eddy_task_status(t, &st)) != EDDY_EBADHANDLE) {
        rec_fail(r, "eddy_task_status", got, EDDY_EBADHANDLE, line);
    }
    if ((got = eddy_task_abort(t)) != EDDY_EBADHANDLE) {
        rec_fail(r, "eddy_task_abort", got, EDDY_EBADHANDLE, line);
    }
    if ((got = eddy_task_free(t)) != EDDY_EBADHANDLE) {
        rec_fail(r, "eddy_task_free", got, EDDY_EBADHANDLE, line);
    }
    if (rt.id != 0 && (got = eddy_runtime_run_until(rt, t, &st)) != EDDY_EBADHANDLE) {
        rec_fail(r, "eddy_runtime_run_until(rt, bad task)", got, EDDY_EBADHANDLE, line);
    }
}

static void all_future_calls(rec_t *r, eddy_runtime_t rt, eddy_future_t fut, int line)
{
    eddy_tcp_t s = { 0 };
    eddy_value_t v;
    eddy_future_t out = { 0 };
    int got;
    if ((got = eddy_future_take_tcp(fut, &s)) != EDDY_EBADHANDLE) {
        rec_fail(r, "eddy_future_take_tcp", got, EDDY_EBADHANDLE, line);
    }
    if ((got = eddy_future_take_value(fut, &v)) != EDDY_EBADHANDLE) {
        rec_fail(r, "eddy_future_take_value", got, EDDY_EBADHANDLE, line);
    }
    if ((got = eddy_future_then(fut, noop_then, NULL)) != EDDY_EBADHANDLE) {
        rec_fail(r, "eddy_future_then", got, EDDY_EBADHANDLE, line);
    }
    if ((got = eddy_future_free(fut)) != EDDY_EBADHANDLE) {
        rec_fail(r, "eddy_future_free", got, EDDY_EBADHANDLE, line);
    }
    if (rt.id != 0 && (got = eddy_timeout(rt, fut, 1000, &out)) != EDDY_EBADHANDLE) {
        rec_fail(r, "eddy_timeout(rt, bad inner)", got, EDDY_EBADHANDLE, line);
    }
    if (s.id != 0 || out.id != 0) {
        rec_fail(r, "outputs written on failure", 1, 0, line);
    }
}

static void all_tcp_calls(rec_t *r, eddy_tcp_t tcp, int line)
{
    uint16_t port = 4242;
    int got;
    if ((got = eddy_tcp_local_port(tcp, &port)) != EDDY_EBADHANDLE) {
        rec_fail(r, "eddy_tcp_local_port", got, EDDY_EBADHANDLE, line);
    }
    if ((got = eddy_tcp_set_nodelay(tcp, 1)) != EDDY_EBADHANDLE) {
        rec_fail(r, "eddy_tcp_set_nodelay", got, EDDY_EBADHANDLE, line);
    }
    if ((got = eddy_tcp_close(tcp)) != EDDY_EBADHANDLE) {
        rec_fail(r, "eddy_tcp_close", got, EDDY_EBADHANDLE, line);
    }
    if (port != 4242) {
        rec_fail(r, "output written on failure", 1, 0, line);
    }
}

static void all_waker_calls(rec_t *r, eddy_waker_t w, int line)
{
    int got;
    if ((got = eddy_waker_wake(w)) != EDDY_EBADHANDLE) {
        rec_fail(r, "eddy_waker_wake", got, EDDY_EBADHANDLE, line);
    }
    if ((got = eddy_waker_free(w)) != EDDY_EBADHANDLE) {
        rec_fail(r, "eddy_waker_free", got, EDDY_EBADHANDLE, line);
    }
}

/* Poll-style calls with a bad handle, made inside a real poll. */
typedef struct {
    rec_t *rec;
    uint64_t ids[16];
    size_t nids;
    int line;
} bad_poll_t;

static int bad_handles_poll(void *state, eddy_cx_t *cx)
{
    bad_poll_t *b = state;
    for (size_t i = 0; i < b->nids; i++) {
        uint64_t id = b->ids[i];
        unsigned char buf[8];
        size_t n;
        int st, got;
        eddy_tcp_t s;
        if ((got = eddy_tcp_poll_accept((eddy_tcp_t){ id }, cx, &s)) != EDDY_EBADHANDLE) {
            rec_fail(b->rec, "eddy_tcp_poll_accept", got, EDDY_EBADHANDLE, b->line);
        }
        if ((got = eddy_tcp_poll_read((eddy_tcp_t){ id }, cx, buf, sizeof buf, &n)) != EDDY_EBADHANDLE) {
            rec_fail(b->rec, "eddy_tcp_poll_read", got, EDDY_EBADHANDLE, b->line);
        }
        if ((got = eddy_tcp_poll_write((eddy_tcp_t){ id }, cx, buf, sizeof buf, &n)) != EDDY_EBADHANDLE) {
            rec_fail(b->rec, "eddy_tcp_poll_write", got, EDDY_EBADHANDLE, b->line);
        }
        if ((got = eddy_tcp_poll_shutdown((eddy_tcp_t){ id }, cx)) != EDDY_EBADHANDLE) {
            rec_fail(b->rec, "eddy_tcp_poll_shutdown", got, EDDY_EBADHANDLE, b->line);
        }
        if ((got = eddy_future_poll((eddy_future_t){ id }, cx)) != EDDY_EBADHANDLE) {
            rec_fail(b->rec, "eddy_future_poll", got, EDDY_EBADHANDLE, b->line);
        }
        if ((got = eddy_task_poll_join((eddy_task_t){ id }, cx, &st)) != EDDY_EBADHANDLE) {
            rec_fail(b->rec, "eddy_task_poll_join", got, EDDY_EBADHANDLE, b->line);
        }
    }
    return EDDY_READY;
}

static void check_bad_ids(fixture_t *f, rec_t *r, const uint64_t *ids, size_t nids, int line)
{
    bad_poll_t b = { .rec = r, .nids = nids, .line = line };
    for (size_t i = 0; i < nids; i++) {
        b.ids[i] = ids[i];
        all_runtime_calls(r, (eddy_runtime_t){ ids[i] }, EDDY_EBADHANDLE, line);
        all_task_calls(r, f->rt, (eddy_task_t){ ids[i] }, line);
        all_future_calls(r, f->rt, (eddy_future_t){ ids[i] }, line);
        all_tcp_calls(r, (eddy_tcp_t){ ids[i] }, line);
        all_waker_calls(r, (eddy_waker_t){ ids[i] }, line);
    }
    int st = 1;
    int got = eddy_block_on(f->rt, bad_handles_poll, &b, NULL, &st);
    if (got != 0 || st != 0) {
        rec_fail(r, "eddy_block_on(bad_handles_poll)", got != 0 ? got : st, 0, line);
    }
}

static void test_forged_handles(void **state)
{
    fixture_t *f = *state;
    rec_t r = { 0 };
    eddy_future_t s;
    assert_int_equal(eddy_sleep(f->rt, 0, &s), 0);
    const uint64_t forged[] = { 0,
                                1,
                                UINT64_MAX,
                                0xdeadbeefcafef00dull,
                                s.id ^ 1,
                                s.id ^ (1ull << 63),
                                s.id ^ (1ull << 40),
                                s.id ^ (1ull << 32),
                                s.id + (1ull << 33),
                                f->rt.id ^ (1ull << 24),
                                s.id ^ 0xFFFFFFFFull };
    check_bad_ids(f, &r, forged, sizeof forged / sizeof forged[0], __LINE__);
    assert_int_equal(eddy_future_free(s), 0);
    rec_check(&r);
    FINISH(f);
}

typedef struct {
    eddy_waker_t w;
    int rc;
} get_waker_t;

static int get_waker_poll(void *state, eddy_cx_t *cx)
{
    get_waker_t *g = state;
    g->rc = eddy_cx_waker(cx, &g->w);
    return EDDY_READY;
}

static void test_wrong_kind_handles(void **state)
{
    fixture_t *f = *state;
    rec_t r = { 0 };
    eddy_task_t t;
    eddy_future_t fut;
    eddy_tcp_t l;
    get_waker_t g = { .rc = 1 };
    assert_int_equal(eddy_spawn(f->rt, noop_poll, NULL, NULL, &t), 0);
    assert_int_equal(eddy_sleep(f->rt, 1000 * MS, &fut), 0);
    assert_int_equal(eddy_tcp_listen(f->rt, "127.0.0.1", 0, 16, &l), 0);
    int st;
    assert_int_equal(eddy_block_on(f->rt, get_waker_poll, &g, NULL, &st), 0);
    assert_int_equal(g.rc, 0);

    /* Each real handle, presented as every other kind. */
    all_runtime_calls(&r, (eddy_runtime_t){ t.id }, EDDY_EBADHANDLE, __LINE__);
    all_runtime_calls(&r, (eddy_runtime_t){ fut.id }, EDDY_EBADHANDLE, __LINE__);
    all_runtime_calls(&r, (eddy_runtime_t){ l.id }, EDDY_EBADHANDLE, __LINE__);
    all_runtime_calls(&r, (eddy_runtime_t){ g.w.id }, EDDY_EBADHANDLE, __LINE__);
    const uint64_t not_task[] = { f->rt.id, fut.id, l.id, g.w.id };
    const uint64_t not_future[] = { f->rt.id, t.id, l.id, g.w.id };
    const uint64_t not_tcp[] = { f->rt.id, t.id, fut.id, g.w.id };
    const uint64_t not_waker[] = { f->rt.id, t.id, fut.id, l.id };
    for (int i = 0; i < 4; i++) {
        all_task_calls(&r, f->rt, (eddy_task_t){ not_task[i] }, __LINE__);
        all_future_calls(&r, f->rt, (eddy_future_t){ not_future[i] }, __LINE__);
        all_tcp_calls(&r, (eddy_tcp_t){ not_tcp[i] }, __LINE__);
        all_waker_calls(&r, (eddy_waker_t){ not_waker[i] }, __LINE__);
    }
    /* Poll-style calls: none of these ids is a stream/listener/future/task for every call. */
    bad_poll_t b = { .rec = &r, .nids = 2, .line = __LINE__ };
    b.ids[0] = f->rt.id;
    b.ids[1] = g.w.id;
    assert_int_equal(eddy_block_on(f->rt, bad_handles_poll, &b, NULL, &st), 0);

    /* The real handles are untouched by all of that. */
    EXPECT(&r, eddy_runtime_run(f->rt), 0);
    EXPECT(&r, eddy_task_status(t, &st), EDDY_READY);
    EXPECT(&r, eddy_task_free(t), 0);
    EXPECT(&r, eddy_future_free(fut), 0);
    EXPECT(&r, eddy_tcp_close(l), 0);
    EXPECT(&r, eddy_waker_free(g.w), 0);
    rec_check(&r);
    FINISH(f);
}

static void test_stale_handles(void **state)
{
    fixture_t *f = *state;
    rec_t r = { 0 };
    eddy_task_t t;
    eddy_future_t fut;
    eddy_tcp_t l;
    get_waker_t g = { .rc = 1 };
    int st;
    assert_int_equal(eddy_spawn(f->rt, noop_poll, NULL, NULL, &t), 0);
    assert_int_equal(eddy_runtime_run_until(f->rt, t, &st), 0);
    assert_int_equal(eddy_task_free(t), 0);
    assert_int_equal(eddy_sleep(f->rt, 0, &fut), 0);
    assert_int_equal(eddy_future_free(fut), 0);
    assert_int_equal(eddy_tcp_listen(f->rt, "127.0.0.1", 0, 16, &l), 0);
    assert_int_equal(eddy_tcp_close(l), 0);
    assert_int_equal(eddy_block_on(f->rt, get_waker_poll, &g, NULL, &st), 0);
    assert_int_equal(eddy_waker_free(g.w), 0);

    /* Slots get reused: new handles must not revive the old ones. */
    eddy_future_t fresh[8];
    for (int i = 0; i < 8; i++) {
        assert_int_equal(eddy_sleep(f->rt, 0, &fresh[i]), 0);
        EXPECT(&r, fresh[i].id != fut.id, 1);
    }
    all_task_calls(&r, f->rt, t, __LINE__);
    all_future_calls(&r, f->rt, fut, __LINE__);
    all_tcp_calls(&r, l, __LINE__);
    all_waker_calls(&r, g.w, __LINE__);
    const uint64_t stale[] = { t.id, fut.id, l.id };
    check_bad_ids(f, &r, stale, 3, __LINE__);
    for (int i = 0; i < 8; i++) {
        EXPECT(&r, eddy_future_free(fresh[i]), 0);
    }
    rec_check(&r);
    FINISH(f);
}

static void test_handles_of_freed_runtime(void **state)
{
    fixture_t *f = *state;
    rec_t r = { 0 };
    eddy_runtime_t rt2;
    assert_int_equal(eddy_runtime_new(NULL, &rt2), 0);
    eddy_task_t t;
    eddy_future_t fut;
    eddy_tcp_t l;
    get_waker_t g = { .rc = 1 };
    int st;
    count_drops = 0;
    assert_int_equal(eddy_spawn(rt2, noop_poll, NULL, count_drop, &t), 0);
    assert_int_equal(eddy_sleep(rt2, 1000 * MS, &fut), 0);
    assert_int_equal(eddy_tcp_listen(rt2, "127.0.0.1", 0, 16, &l), 0);
    assert_int_equal(eddy_block_on(rt2, get_waker_poll, &g, NULL, &st), 0);
    int closed = eddy_runtime_free(rt2);
    EXPECT(&r, closed >= 4, 1); /* task handle, sleep, listener, waker */
    EXPECT(&r, count_drops, 1);
    all_runtime_calls(&r, rt2, EDDY_EBADHANDLE, __LINE__);
    eddy_runtime_t none = { 0 };
    all_task_calls(&r, none, t, __LINE__);
    all_future_calls(&r, f->rt, fut, __LINE__);
    all_tcp_calls(&r, l, __LINE__);
    all_waker_calls(&r, g.w, __LINE__);
    /* The handles of a freed runtime are not usable from another runtime either. */
    const uint64_t dead[] = { t.id, fut.id, l.id, g.w.id };
    check_bad_ids(f, &r, dead, 4, __LINE__);
    rec_check(&r);
    FINISH(f);
}

/* ---- threads ---- */

typedef struct {
    eddy_runtime_t rt;
    eddy_waker_t w;
    int have_waker;
    int done;
    rec_t *rec;
    int spawned_ran;
    eddy_task_t spawned;
    pthread_t th;
} wrong_thread_t;

static int spawned_from_thread_poll(void *state, eddy_cx_t *cx)
{
    (void)cx;
    wrong_thread_t *wt = state;
    __atomic_store_n(&wt->spawned_ran, 1, __ATOMIC_RELEASE);
    return EDDY_READY;
}

static void *wrong_thread_main(void *arg)
{
    wrong_thread_t *wt = arg;
    rec_t *r = wt->rec;
    eddy_future_t fut = { 0 };
    eddy_tcp_t l = { 0 };
    sleep_ms(20); /* the loop is now blocked in epoll_wait */
    EXPECT(r, eddy_sleep(wt->rt, 1, &fut), EDDY_EWRONGTHREAD);
    EXPECT(r, eddy_tcp_listen(wt->rt, "127.0.0.1", 0, 16, &l), EDDY_EWRONGTHREAD);
    EXPECT(r, eddy_runtime_free(wt->rt), EDDY_EWRONGTHREAD);
    int rr = eddy_runtime_run(wt->rt);
    EXPECT(r, rr == EDDY_EWRONGTHREAD || rr == EDDY_EBUSY, 1);
    EXPECT(r, (int)(fut.id | l.id), 0);
    /* spawn is allowed from any thread */
    EXPECT(r, eddy_spawn(wt->rt, spawned_from_thread_poll, wt, NULL, &wt->spawned), 0);
    EXPECT(r, eddy_task_abort((eddy_task_t){ wt->spawned.id ^ (1ull << 63) }), EDDY_EBADHANDLE);
    EXPECT(r, eddy_task_free(wt->spawned), EDDY_EWRONGTHREAD); /* loop thread only while it runs */
    __atomic_store_n(&wt->done, 1, __ATOMIC_RELEASE);
    EXPECT(r, eddy_waker_wake(wt->w), 0);
    EXPECT(r, eddy_waker_free(wt->w), 0);
    return NULL;
}

static int wrong_thread_poll(void *state, eddy_cx_t *cx)
{
    wrong_thread_t *wt = state;
    if (__atomic_load_n(&wt->done, __ATOMIC_ACQUIRE)) {
        return EDDY_READY;
    }
    if (!wt->have_waker) {
        int rc = eddy_cx_waker(cx, &wt->w);
        if (rc < 0) {
            return rc;
        }
        wt->have_waker = 1;
        if (pthread_create(&wt->th, NULL, wrong_thread_main, wt) != 0) {
            return EDDY_ENOMEM;
        }
    }
    return EDDY_PENDING;
}

static void test_wrong_thread_while_running(void **state)
{
    fixture_t *f = *state;
    rec_t r = { 0 };
    wrong_thread_t wt = { .rt = f->rt, .rec = &r };
    int st = 1;
    assert_int_equal(eddy_block_on(f->rt, wrong_thread_poll, &wt, NULL, &st), 0);
    pthread_join(wt.th, NULL);
    assert_int_equal(st, 0);
    /* The task spawned from the other thread runs on the loop (on a multi-thread runtime:
     * on whichever worker took it from the inject queue, maybe still about to). */
    assert_int_equal(eddy_runtime_run(f->rt), 0);
    for (int i = 0; i < 10000 && !__atomic_load_n(&wt.spawned_ran, __ATOMIC_ACQUIRE); i++) {
        sleep_ms(1);
    }
    assert_true(__atomic_load_n(&wt.spawned_ran, __ATOMIC_ACQUIRE));
    rec_check(&r);
    assert_int_equal(eddy_task_free(wt.spawned), 0); /* the owning thread, loop stopped */
    FINISH(f);
}

/* ---- fork ---- */

static void test_fork_child_gets_eforked(void **state)
{
    fixture_t *f = *state;
    eddy_tcp_t l;
    eddy_future_t fut;
    eddy_task_t t;
    assert_int_equal(eddy_tcp_listen(f->rt, "127.0.0.1", 0, 16, &l), 0);
    assert_int_equal(eddy_sleep(f->rt, 10 * MS, &fut), 0);
    assert_int_equal(eddy_spawn(f->rt, noop_poll, NULL, NULL, &t), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* Child: no cmocka here (no longjmp); report through the exit status. */
        alarm(10); /* a hang shows as SIGALRM in the parent */
        int bad = 0;
        eddy_runtime_t rt2 = { 0 };
        eddy_future_t f2 = { 0 };
        eddy_tcp_t l2 = { 0 };
        int st;
        uint16_t port;
#define CHILD_EXPECT(expr)                                                                         \
    do {                                                                                           \
        int got_ = (expr);                                                                         \
        if (got_ != EDDY_EFORKED) {                                                                \
            fprintf(stderr, "child: %s -> %d (%s), expected EDDY_EFORKED\n", #expr, got_,          \
                    eddy_err_name(got_));                                                          \
            bad++;                                                                                 \
        }                                                                                          \
    } while (0)
        CHILD_EXPECT(eddy_runtime_new(NULL, &rt2));
        CHILD_EXPECT(eddy_runtime_run(f->rt));
        CHILD_EXPECT(eddy_runtime_run_until(f->rt, t, &st));
        CHILD_EXPECT(eddy_block_on(f->rt, noop_poll, NULL, NULL, &st));
        CHILD_EXPECT(eddy_spawn(f->rt, noop_poll, NULL, NULL, &t));
        CHILD_EXPECT(eddy_task_status(t, &st));
        CHILD_EXPECT(eddy_task_abort(t));
        CHILD_EXPECT(eddy_sleep(f->rt, 1, &f2));
        CHILD_EXPECT(eddy_tcp_listen(f->rt, "127.0.0.1", 0, 16, &l2));
        CHILD_EXPECT(eddy_tcp_connect(f->rt, "127.0.0.1", 1, &f2));
        CHILD_EXPECT(eddy_tcp_local_port(l, &port));
        CHILD_EXPECT(eddy_future_take_value(fut, &(eddy_value_t){ .i = 0 }));
        CHILD_EXPECT(eddy_future_free(fut));
        CHILD_EXPECT(eddy_tcp_close(l));
        CHILD_EXPECT(eddy_task_free(t));
        CHILD_EXPECT(eddy_waker_wake((eddy_waker_t){ 1 }));
        CHILD_EXPECT(eddy_runtime_free(f->rt));
#undef CHILD_EXPECT
        fflush(stderr);
        _exit(bad > 100 ? 100 : bad);
    }
    int wst = 0;
    assert_int_equal(waitpid(pid, &wst, 0), pid);
    if (WIFSIGNALED(wst)) {
        print_error("child killed by signal %d (%s)\n", WTERMSIG(wst),
                    WTERMSIG(wst) == SIGALRM ? "hung: SIGALRM" : "crashed");
    }
    assert_true(WIFEXITED(wst));
    assert_int_equal(WEXITSTATUS(wst), 0);
    /* The parent is unaffected. */
    uint16_t port = 0;
    int st = 1;
    assert_int_equal(eddy_tcp_local_port(l, &port), 0);
    assert_int_equal(block_on_future(f->rt, fut), 0);
    assert_int_equal(eddy_runtime_run_until(f->rt, t, &st), 0);
    assert_int_equal(eddy_task_free(t), 0);
    assert_int_equal(eddy_future_free(fut), 0);
    assert_int_equal(eddy_tcp_close(l), 0);
    FINISH(f);
}

/* fork() inside a poll: the child still holds the live cx (its TLS slot says "in a
 * poll") and live handles, the very state in which the tcp hot path does not test the
 * fork flag up front (Fork.swift). Every hot export must still answer EDDY_EFORKED,
 * with good and bad arguments alike. The child reports through its exit status. */
typedef struct {
    eddy_tcp_t listener, stream;
    int child_status;
} fork_poll_t;

static int fork_inside_poll(void *state, eddy_cx_t *cx)
{
    fork_poll_t *fp = state;
    /* Warm this thread's tcp handle cache with the stream (the read just registers the
     * waker: nothing was sent), so the child's calls meet a cached entry. */
    unsigned char warm[16];
    size_t got = 0;
    if (eddy_tcp_poll_read(fp->stream, cx, warm, sizeof warm, &got) != EDDY_PENDING) {
        fp->child_status = -4;
        return EDDY_READY;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        fp->child_status = -1;
        return EDDY_READY;
    }
    if (pid == 0) {
        alarm(10);
        int bad = 0;
        unsigned char buf[16] = { 0 };
        size_t n = 0;
        eddy_tcp_t s;
#define CHILD_EXPECT(expr)                                                                         \
    do {                                                                                           \
        int got_ = (expr);                                                                         \
        if (got_ != EDDY_EFORKED) {                                                                \
            fprintf(stderr, "child in poll: %s -> %d (%s), expected EDDY_EFORKED\n", #expr, got_,  \
                    eddy_err_name(got_));                                                          \
            bad++;                                                                                 \
        }                                                                                          \
    } while (0)
        CHILD_EXPECT(eddy_tcp_poll_read(fp->stream, cx, buf, sizeof buf, &n));
        CHILD_EXPECT(eddy_tcp_poll_write(fp->stream, cx, buf, sizeof buf, &n));
        CHILD_EXPECT(eddy_tcp_poll_accept(fp->listener, cx, &s));
        CHILD_EXPECT(eddy_tcp_poll_shutdown(fp->stream, cx));
        /* bad arguments too: the fork answer comes first */
        CHILD_EXPECT(eddy_tcp_poll_read(fp->stream, NULL, buf, sizeof buf, &n));
        CHILD_EXPECT(eddy_tcp_poll_read(fp->stream, cx, buf, sizeof buf, NULL));
        CHILD_EXPECT(eddy_tcp_poll_write(fp->listener, cx, buf, sizeof buf, &n));
        CHILD_EXPECT(eddy_tcp_poll_read((eddy_tcp_t){ 12345 }, cx, buf, sizeof buf, &n));
        CHILD_EXPECT(eddy_tcp_poll_accept(fp->stream, (eddy_cx_t *)(uintptr_t)0x10, &s));
        CHILD_EXPECT(eddy_tcp_local_port(fp->stream, &(uint16_t){ 0 }));
#undef CHILD_EXPECT
        fflush(stderr);
        _exit(bad > 100 ? 100 : bad);
    }
    int wst = 0;
    if (waitpid(pid, &wst, 0) != pid) {
        fp->child_status = -2;
    } else if (WIFSIGNALED(wst)) {
        fp->child_status = 1000 + WTERMSIG(wst);
    } else {
        fp->child_status = WEXITSTATUS(wst);
    }
    return EDDY_READY;
}

static void test_fork_inside_poll_gets_eforked(void **state)
{
    fixture_t *f = *state;
    fork_poll_t fp = { .child_status = -3 };
    uint16_t port;
    assert_int_equal(eddy_tcp_listen(f->rt, "127.0.0.1", 0, 16, &fp.listener), 0);
    assert_int_equal(eddy_tcp_local_port(fp.listener, &port), 0);
    eddy_future_t c;
    assert_int_equal(eddy_tcp_connect(f->rt, "127.0.0.1", port, &c), 0);
    assert_int_equal(block_on_future(f->rt, c), 0);
    assert_int_equal(eddy_future_take_tcp(c, &fp.stream), 0);
    assert_int_equal(eddy_future_free(c), 0);
    int st = 1;
    assert_int_equal(eddy_block_on(f->rt, fork_inside_poll, &fp, NULL, &st), 0);
    /* 0: every call answered EDDY_EFORKED; 1..100: that many did not; 1000+N: signal N */
    assert_int_equal(fp.child_status, 0);
    /* The parent's handles still work. */
    assert_int_equal(eddy_tcp_local_port(fp.listener, &port), 0);
    assert_int_equal(eddy_tcp_close(fp.stream), 0);
    assert_int_equal(eddy_tcp_close(fp.listener), 0);
    FINISH(f);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_version_and_error_names, fx_setup_nort, fx_teardown),
        T(test_config),
        T(test_null_out_pointers),
        T(test_misuse_inside_poll),
        T(test_cx_from_other_thread),
        T(test_forged_handles),
        T(test_wrong_kind_handles),
        T(test_stale_handles),
        T(test_handles_of_freed_runtime),
        T(test_wrong_thread_while_running),
        T(test_fork_child_gets_eforked),
        T(test_fork_inside_poll_gets_eforked),
    };
    return cmocka_run_group_tests_name("misuse", tests, NULL, NULL);
}

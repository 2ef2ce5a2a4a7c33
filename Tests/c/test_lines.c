/* test_lines.c — the buffered reader (eddy_reader_*, issue 15 item 5) and files
 * through the blocking pool (eddy_file_*, issue 16 item 5): lines, frames, the
 * limit, a peer reset mid-line, absurd sizes; whole-file and fd reads/writes,
 * missing paths and directories, futures freed while their job runs (no leak). */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/* A connected pair: *peer is a plain blocking socket, the stream is Eddy's. */
static eddy_tcp_t stream_pair(eddy_runtime_t rt, int *peer)
{
    uint16_t port = 0;
    int l = raw_listen("127.0.0.1", &port);
    assert_true(l >= 0);
    *peer = raw_connect("127.0.0.1", port);
    assert_true(*peer >= 0);
    int s = accept(l, NULL, NULL);
    assert_true(s >= 0);
    close(l);
    eddy_tcp_t t;
    assert_int_equal(eddy_tcp_stream_from_fd(rt, s, &t), 0);
    return t;
}

/* One reader operation driven by eddy_block_on. */
typedef struct {
    eddy_reader_t r;
    const char *sep; /* NULL: poll_exact(n) */
    size_t n;
    const uint8_t *data;
    size_t len;
    int rc;
} rop_t;

static int rop_poll(void *state, eddy_cx_t *cx)
{
    rop_t *o = state;
    int rc = o->sep ? eddy_reader_poll_line(o->r, cx, o->sep, strlen(o->sep), &o->data, &o->len)
                    : eddy_reader_poll_exact(o->r, cx, o->n, &o->data);
    if (rc == EDDY_PENDING) return EDDY_PENDING;
    if (!o->sep && rc == EDDY_READY) o->len = o->n;
    o->rc = rc;
    return EDDY_READY;
}

static int run_rop(eddy_runtime_t rt, rop_t *o)
{
    int status = -1;
    assert_int_equal(eddy_block_on(rt, rop_poll, o, NULL, &status), 0);
    assert_int_equal(status, 0);
    return o->rc;
}

/* The next line as a C string in buf ("" at end); returns the poll's result. */
static int next_line(eddy_runtime_t rt, eddy_reader_t r, const char *sep, char *buf, size_t cap)
{
    rop_t o = { .r = r, .sep = sep };
    int rc = run_rop(rt, &o);
    buf[0] = 0;
    if (rc == EDDY_READY) {
        assert_true(o.len < cap);
        if (o.len) memcpy(buf, o.data, o.len);
        buf[o.len] = 0;
    }
    return rc;
}

static void test_lines_frames_and_tail(void **state)
{
    fixture_t *f = *state;
    int peer;
    eddy_tcp_t s = stream_pair(f->rt, &peer);
    eddy_reader_t r;
    assert_int_equal(eddy_reader_new(s, 0, &r), 0);
    const char *msg = "one\ntwo\r\nFRAME1234last";
    assert_int_equal(write_all_fd(peer, msg, strlen(msg)), 0);
    shutdown(peer, SHUT_WR);
    char line[128];
    assert_int_equal(next_line(f->rt, r, "\n", line, sizeof line), EDDY_READY);
    assert_string_equal(line, "one\n");
    assert_int_equal(next_line(f->rt, r, "\r\n", line, sizeof line), EDDY_READY);
    assert_string_equal(line, "two\r\n");
    rop_t o = { .r = r, .n = 9 };
    assert_int_equal(run_rop(f->rt, &o), EDDY_READY);
    assert_memory_equal(o.data, "FRAME1234", 9);
    assert_int_equal(next_line(f->rt, r, "\n", line, sizeof line), EDDY_READY);
    assert_string_equal(line, "last"); /* unterminated last line */
    assert_int_equal(next_line(f->rt, r, "\n", line, sizeof line), EDDY_READY);
    assert_string_equal(line, ""); /* end */
    rop_t e = { .r = r, .n = 1 };
    assert_int_equal(run_rop(f->rt, &e), -ENODATA);
    assert_int_equal(eddy_reader_free(r), 0);
    assert_int_equal(eddy_reader_free(r), EDDY_EBADHANDLE);
    assert_int_equal(eddy_tcp_close(s), 0);
    close(peer);
    FINISH(f);
}

static void test_limit_and_bad_sizes(void **state)
{
    fixture_t *f = *state;
    int peer;
    eddy_tcp_t s = stream_pair(f->rt, &peer);
    eddy_reader_t r;
    assert_int_equal(eddy_reader_new(s, (size_t)-1, &r), EDDY_EINVAL);
    assert_int_equal(eddy_reader_new(s, (size_t)1 << 40, &r), EDDY_EINVAL);
    assert_int_equal(eddy_reader_new(s, 16, NULL), EDDY_EINVAL);
    eddy_reader_t bogus = { 12345 };
    assert_int_equal(eddy_reader_free(bogus), EDDY_EBADHANDLE);
    assert_int_equal(eddy_reader_new(s, 16, &r), 0);
    /* A frame size the peer announces: refused before reading, nothing allocated. */
    rop_t big = { .r = r, .n = (size_t)1 << 40 };
    assert_int_equal(run_rop(f->rt, &big), -EMSGSIZE);
    rop_t huge = { .r = r, .n = (size_t)-1 };
    assert_int_equal(run_rop(f->rt, &huge), EDDY_EINVAL);
    /* bad separators and pointers */
    rop_t nosep = { .r = r, .sep = "" };
    assert_int_equal(run_rop(f->rt, &nosep), EDDY_EINVAL);
    char longsep[80];
    memset(longsep, 'x', sizeof longsep - 1);
    longsep[sizeof longsep - 1] = 0;
    rop_t ls = { .r = r, .sep = longsep };
    assert_int_equal(run_rop(f->rt, &ls), EDDY_EINVAL);
    /* a line over the limit, then a good one */
    const char *msg = "0123456789abcdefghijklmnop\nok\n";
    assert_int_equal(write_all_fd(peer, msg, strlen(msg)), 0);
    char line[128];
    int rc, errors = 0;
    while ((rc = next_line(f->rt, r, "\n", line, sizeof line)) == -EMSGSIZE) errors++;
    assert_int_equal(rc, EDDY_READY);
    assert_true(errors >= 1);
    if (strcmp(line, "ok\n") != 0) { /* the tail of the long line fitted the limit */
        assert_true(strlen(line) <= 17);
        assert_int_equal(next_line(f->rt, r, "\n", line, sizeof line), EDDY_READY);
    }
    assert_string_equal(line, "ok\n");
    assert_int_equal(eddy_reader_free(r), 0);
    assert_int_equal(eddy_tcp_close(s), 0);
    close(peer);
    FINISH(f);
}

static void test_peer_reset_mid_line_and_closed_stream(void **state)
{
    fixture_t *f = *state;
    int peer;
    eddy_tcp_t s = stream_pair(f->rt, &peer);
    eddy_reader_t r;
    assert_int_equal(eddy_reader_new(s, 0, &r), 0);
    assert_int_equal(write_all_fd(peer, "half a li", 9), 0);
    struct linger lg = { 1, 0 };
    setsockopt(peer, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(peer); /* RST */
    char line[64];
    assert_int_equal(next_line(f->rt, r, "\n", line, sizeof line), EDDY_ECONNRESET);
    assert_int_equal(eddy_tcp_close(s), 0);
    assert_int_equal(next_line(f->rt, r, "\n", line, sizeof line), EDDY_EBADHANDLE);
    assert_int_equal(eddy_reader_free(r), 0);
    FINISH(f);
}

static void test_runtime_free_releases_a_reader_and_a_pending_file_future(void **state)
{
    fixture_t *f = *state;
    int peer;
    eddy_tcp_t s = stream_pair(f->rt, &peer);
    eddy_reader_t r;
    assert_int_equal(eddy_reader_new(s, 0, &r), 0);
    eddy_future_t fu;
    assert_int_equal(eddy_file_open(f->rt, "/dev/null", O_RDONLY, &fu), 0);
    /* the stream, the reader and the future: force-closed; the open's descriptor closed */
    assert_int_equal(eddy_runtime_free(f->rt), 3);
    f->rt.id = 0;
    assert_int_equal(eddy_reader_free(r), EDDY_EBADHANDLE);
    close(peer);
    check_fds(f);
}

/* ---- files ---- */

static char dir[64];

static void make_dir(void)
{
    snprintf(dir, sizeof dir, "/tmp/eddy-c-files-XXXXXX");
    assert_non_null(mkdtemp(dir));
}

static void remove_dir(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_whole_file_and_fd_io(void **state)
{
    fixture_t *f = *state;
    make_dir();
    char path[128];
    snprintf(path, sizeof path, "%s/a", dir);
    size_t n = (3u << 20) + 7;
    unsigned char *data = malloc(n);
    for (size_t i = 0; i < n; i++) data[i] = pattern_byte(1, i);
    eddy_future_t w, rd;
    assert_int_equal(eddy_file_write(f->rt, path, data, n, 0, &w), 0);
    assert_int_equal(block_on_future(f->rt, w), 0);
    eddy_value_t v;
    assert_int_equal(eddy_future_take_value(w, &v), 0);
    assert_int_equal(v.u, n);
    const uint8_t *got;
    size_t len;
    assert_int_equal(eddy_future_file_data(w, &got, &len), EDDY_EINVAL); /* not a read */
    assert_int_equal(eddy_future_free(w), 0);
    assert_int_equal(eddy_file_write(f->rt, path, "END", 3, EDDY_FILE_APPEND, &w), 0);
    assert_int_equal(block_on_future(f->rt, w), 0);
    assert_int_equal(eddy_future_free(w), 0);
    assert_int_equal(eddy_file_read(f->rt, path, &rd), 0);
    assert_int_equal(block_on_future(f->rt, rd), 0);
    assert_int_equal(eddy_future_file_data(rd, &got, &len), 0);
    assert_int_equal(len, n + 3);
    assert_memory_equal(got, data, n);
    assert_memory_equal(got + n, "END", 3);
    assert_int_equal(eddy_future_free(rd), 0);
    free(data);

    /* streamed: open, read pieces from the fd, write through another */
    eddy_future_t o;
    assert_int_equal(eddy_file_open(f->rt, path, O_RDONLY, &o), 0);
    assert_int_equal(block_on_future(f->rt, o), 0);
    int fd = -1;
    assert_int_equal(eddy_future_take_fd(o, &fd), 0);
    assert_true(fd >= 0);
    assert_int_equal(eddy_future_take_fd(o, &fd), EDDY_EINVAL); /* once */
    assert_int_equal(eddy_future_free(o), 0);
    assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    assert_int_equal(eddy_file_read_fd(f->rt, fd, 10, &rd), 0);
    assert_int_equal(block_on_future(f->rt, rd), 0);
    assert_int_equal(eddy_future_file_data(rd, &got, &len), 0);
    assert_int_equal(len, 10);
    assert_int_equal(got[0], pattern_byte(1, 0));
    assert_int_equal(eddy_future_free(rd), 0);
    /* a huge max allocates what the file holds */
    assert_int_equal(eddy_file_read_fd(f->rt, fd, (size_t)1 << 50, &rd), 0);
    assert_int_equal(block_on_future(f->rt, rd), 0);
    assert_int_equal(eddy_future_file_data(rd, &got, &len), 0);
    assert_int_equal(len, n + 3 - 10);
    assert_int_equal(eddy_future_free(rd), 0);
    close(fd);
    snprintf(path, sizeof path, "%s/b", dir);
    assert_int_equal(eddy_file_open(f->rt, path, O_WRONLY | O_CREAT | O_TRUNC, &o), 0);
    assert_int_equal(block_on_future(f->rt, o), 0);
    assert_int_equal(eddy_future_take_fd(o, &fd), 0);
    assert_int_equal(eddy_future_free(o), 0);
    assert_int_equal(eddy_file_write_fd(f->rt, fd, "hello", 5, &w), 0);
    close(fd); /* allowed at once: the job writes through its own duplicate */
    assert_int_equal(block_on_future(f->rt, w), 0);
    assert_int_equal(eddy_future_free(w), 0);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, 5);
    remove_dir();
    FINISH(f);
}

static void test_file_errors(void **state)
{
    fixture_t *f = *state;
    make_dir();
    char path[128];
    snprintf(path, sizeof path, "%s/missing/x", dir);
    eddy_future_t fu;
    assert_int_equal(eddy_file_read(f->rt, path, &fu), 0);
    assert_int_equal(block_on_future(f->rt, fu), -ENOENT);
    const uint8_t *got;
    size_t len;
    assert_int_equal(eddy_future_file_data(fu, &got, &len), -ENOENT);
    assert_int_equal(eddy_future_free(fu), 0);
    assert_int_equal(eddy_file_read(f->rt, dir, &fu), 0);
    assert_int_equal(block_on_future(f->rt, fu), -EISDIR);
    assert_int_equal(eddy_future_free(fu), 0);
    assert_int_equal(eddy_file_open(f->rt, dir, O_RDONLY, &fu), 0);
    assert_int_equal(block_on_future(f->rt, fu), -EISDIR);
    assert_int_equal(eddy_future_free(fu), 0);
    assert_int_equal(eddy_file_write(f->rt, dir, "x", 1, 0, &fu), 0);
    assert_int_equal(block_on_future(f->rt, fu), -EISDIR);
    assert_int_equal(eddy_future_free(fu), 0);
    /* bad arguments, refused at the call */
    assert_int_equal(eddy_file_read(f->rt, NULL, &fu), EDDY_EINVAL);
    assert_int_equal(eddy_file_read(f->rt, dir, NULL), EDDY_EINVAL);
    assert_int_equal(eddy_file_write(f->rt, path, NULL, 5, 0, &fu), EDDY_EINVAL);
    assert_int_equal(eddy_file_write(f->rt, path, "x", (size_t)-1, 0, &fu), EDDY_EINVAL);
    assert_int_equal(eddy_file_write(f->rt, path, "x", 1, 0x80, &fu), EDDY_EINVAL);
    assert_int_equal(eddy_file_read_fd(f->rt, -1, 1, &fu), EDDY_EINVAL);
    assert_int_equal(eddy_file_read_fd(f->rt, 987654, 1, &fu), EDDY_EINVAL); /* not open */
    assert_int_equal(eddy_file_read_fd(f->rt, 0, (size_t)-1, &fu), EDDY_EINVAL);
    assert_int_equal(eddy_file_write_fd(f->rt, -3, "x", 1, &fu), EDDY_EINVAL);
    /* A length no buffer can have (found by the ABI fuzzer: the copy's allocation
     * trapped): refused, never a crash; nothing read from data. */
    static char small[16];
    assert_int_equal(eddy_file_write(f->rt, path, small, ((size_t)1 << 62) + 3, 0, &fu), EDDY_EINVAL);
    assert_int_equal(eddy_file_write_fd(f->rt, 1, small, ((size_t)1 << 62) + 3, &fu), EDDY_EINVAL);
    assert_int_equal(eddy_file_write(f->rt, path, small, ((size_t)1 << 47) + 1, 0, &fu), EDDY_EINVAL);
    eddy_runtime_t bad = { 77 };
    assert_int_equal(eddy_file_read(bad, dir, &fu), EDDY_EBADHANDLE);
    remove_dir();
    FINISH(f);
}

static void test_futures_freed_in_flight_leak_nothing(void **state)
{
    fixture_t *f = *state;
    make_dir();
    char path[128];
    snprintf(path, sizeof path, "%s/big", dir);
    size_t n = 4u << 20;
    unsigned char *data = calloc(1, n);
    eddy_future_t w;
    assert_int_equal(eddy_file_write(f->rt, path, data, n, 0, &w), 0);
    free(data); /* the call copied it */
    assert_int_equal(block_on_future(f->rt, w), 0);
    assert_int_equal(eddy_future_free(w), 0);
    /* Free opens and reads at once, some queued, some running: the pool job
     * closes or frees what nobody will take. */
    for (int i = 0; i < 40; i++) {
        eddy_future_t o, rd;
        assert_int_equal(eddy_file_open(f->rt, path, O_RDONLY, &o), 0);
        assert_int_equal(eddy_file_read(f->rt, path, &rd), 0);
        if (i % 3 == 0) sleep_ms(1);
        assert_int_equal(eddy_future_free(o), 0);
        assert_int_equal(eddy_future_free(rd), 0);
    }
    /* A completed open never taken: closed by the free. */
    eddy_future_t o;
    assert_int_equal(eddy_file_open(f->rt, path, O_RDONLY, &o), 0);
    assert_int_equal(block_on_future(f->rt, o), 0);
    assert_int_equal(eddy_future_free(o), 0);
    remove_dir();
    FINISH(f); /* frees the runtime (joins the pool), then counts descriptors */
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_lines_frames_and_tail),
        T(test_limit_and_bad_sizes),
        T(test_peer_reset_mid_line_and_closed_stream),
        T(test_runtime_free_releases_a_reader_and_a_pending_file_future),
        T(test_whole_file_and_fd_io),
        T(test_file_errors),
        T(test_futures_freed_in_flight_leak_nothing),
    };
    return cmocka_run_group_tests_name("lines", tests, NULL, NULL);
}

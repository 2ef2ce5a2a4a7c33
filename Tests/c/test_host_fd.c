/* test_host_fd.c — EDDY_HOST_OP_FD (issue 17): a host task waits for an fd watch's
 * readiness inside eddy_host_turn, with the readiness its last syscall proved gone
 * cleared at submission (what the Python binding's asyncio loop does per readiness
 * event instead of eddy_fd_clear_ready + eddy_host_enter + eddy_fd_poll_ready).
 * Ready at once, blocking until a late write (so the clear really happened), a
 * hang-up, and misuse: bad interest / clear bits, a freed watch, REPEAT refused. */
#include "harness.h"
#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

typedef struct {
    int fd;
    unsigned delay_ms;
    pthread_t th;
} late_writer_t;

static void *late_writer_main(void *arg)
{
    late_writer_t *w = arg;
    sleep_ms(w->delay_ms);
    char b = 'x';
    (void)!write(w->fd, &b, 1);
    return NULL;
}

/* One FD operation for `task`, one turn; returns the event's result (one event expected). */
static int64_t fd_op(eddy_runtime_t rt, eddy_host_task_t task, eddy_fd_t watch, uint64_t clear, uint64_t interest)
{
    eddy_host_op_t op = { task, EDDY_HOST_OP_FD, watch.id, clear, interest };
    const eddy_host_op_t *ops[1] = { &op };
    eddy_host_event_t ev[4];
    eddy_host_batch_t b = { rt, ops, 1, ev, 4, 0 };
    assert_int_equal(eddy_host_turn(&b), 0);
    assert_int_equal(b.n, 1);
    assert_true(ev[0].task.id == task.id);
    return ev[0].result;
}

static eddy_host_task_t started_task(eddy_runtime_t rt)
{
    eddy_host_task_t task = { 0 };
    assert_int_equal(eddy_host_spawn(rt, &task), 0);
    eddy_host_event_t ev[4];
    eddy_host_batch_t b = { rt, NULL, 0, ev, 4, 0 };
    assert_int_equal(eddy_host_turn(&b), 0); /* the first event: start the task */
    assert_int_equal(b.n, 1);
    return task;
}

static void test_fd_op_ready_clear_and_wait(void **state)
{
    fixture_t *f = *state;
    int p[2];
    assert_int_equal(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
    eddy_fd_t watch;
    assert_int_equal(eddy_fd_watch(f->rt, p[0], &watch), 0);
    eddy_host_task_t task = started_task(f->rt);

    char c;
    assert_int_equal(write(p[1], "a", 1), 1);
    /* Readable now: the event is the ready bit, at once. */
    assert_int_equal(fd_op(f->rt, task, watch, 0, EDDY_FD_READABLE), EDDY_FD_READABLE);
    /* Without a clear the cached readiness answers again, though the pipe is still full. */
    assert_int_equal(fd_op(f->rt, task, watch, 0, EDDY_FD_READABLE), EDDY_FD_READABLE);
    assert_int_equal(read(p[0], &c, 1), 1);
    assert_int_equal(read(p[0], &c, 1), -1); /* EAGAIN: the readiness is gone */

    /* Clear at submission: now the operation waits for the late writer's byte. */
    late_writer_t w = { p[1], 50, 0 };
    uint64_t t0 = now_ns();
    assert_int_equal(pthread_create(&w.th, NULL, late_writer_main, &w), 0);
    assert_int_equal(fd_op(f->rt, task, watch, EDDY_FD_READABLE, EDDY_FD_READABLE), EDDY_FD_READABLE);
    assert_true(elapsed_ms(t0) >= 50);
    assert_int_equal(pthread_join(w.th, NULL), 0);
    assert_int_equal(read(p[0], &c, 1), 1);

    /* Writable: a pipe with room. */
    eddy_fd_t wwatch;
    assert_int_equal(eddy_fd_watch(f->rt, p[1], &wwatch), 0);
    assert_int_equal(fd_op(f->rt, task, wwatch, 0, EDDY_FD_WRITABLE), EDDY_FD_WRITABLE);
    assert_int_equal(eddy_fd_free(wwatch), 0);

    /* A hang-up reads as ready (both bits), even right after a clear. */
    close(p[1]);
    /* (A spurious EDDY_HOST_WOKEN may come first: freeing wwatch woke the task, whose
     * waker it held, and a wake while nothing is outstanding ends the next operation.) */
    int64_t r = fd_op(f->rt, task, watch, EDDY_FD_READABLE, EDDY_FD_READABLE);
    for (int i = 0; r == EDDY_HOST_WOKEN && i < 3; i++)
        r = fd_op(f->rt, task, watch, 0, EDDY_FD_READABLE);
    assert_true(r > 0 && (r & EDDY_FD_READABLE));

    assert_int_equal(eddy_fd_free(watch), 0);
    close(p[0]);
    eddy_runtime_t rt = f->rt; /* the task is left to eddy_runtime_free (1 force-closed) */
    f->rt.id = 0;
    assert_int_equal(eddy_runtime_free(rt), 1);
    check_fds(f);
}

static void test_fd_op_misuse(void **state)
{
    fixture_t *f = *state;
    int p[2];
    assert_int_equal(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
    eddy_fd_t watch;
    assert_int_equal(eddy_fd_watch(f->rt, p[0], &watch), 0);
    eddy_host_task_t task = started_task(f->rt);

    assert_int_equal(fd_op(f->rt, task, watch, 0, 0), EDDY_EINVAL);   /* no interest */
    assert_int_equal(fd_op(f->rt, task, watch, 0, 0x4), EDDY_EINVAL); /* unknown interest bit */
    assert_int_equal(fd_op(f->rt, task, watch, 0x8, EDDY_FD_READABLE), EDDY_EINVAL); /* unknown clear bit */
    eddy_fd_t bogus = { 12345 };
    assert_int_equal(fd_op(f->rt, task, bogus, 0, EDDY_FD_READABLE), EDDY_EBADHANDLE);
    /* REPEAT is for READ / WRITE only: the whole batch is refused. */
    eddy_host_op_t op = { task, EDDY_HOST_OP_FD | EDDY_HOST_OP_REPEAT, watch.id, 0, EDDY_FD_READABLE };
    const eddy_host_op_t *ops[1] = { &op };
    eddy_host_event_t ev[4];
    eddy_host_batch_t b = { f->rt, ops, 1, ev, 4, 0 };
    assert_int_equal(eddy_host_turn(&b), EDDY_EINVAL);
    /* A freed watch: the event is its error, nothing is touched. */
    assert_int_equal(eddy_fd_free(watch), 0);
    assert_int_equal(fd_op(f->rt, task, watch, EDDY_FD_READABLE, EDDY_FD_READABLE), EDDY_EBADHANDLE);

    close(p[0]);
    close(p[1]);
    eddy_runtime_t rt = f->rt;
    f->rt.id = 0;
    assert_int_equal(eddy_runtime_free(rt), 1);
    check_fds(f);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_fd_op_ready_clear_and_wait),
        T(test_fd_op_misuse),
    };
    return cmocka_run_group_tests_name("host_fd", tests, NULL, NULL);
}

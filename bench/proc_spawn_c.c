/* proc_spawn_c.c — process spawn + wait per second through Eddy's C front door
 * (eddy_process_spawn + eddy_process_poll_wait in eddy_block_on) against the floor: a
 * bare posix_spawn + blocking waitpid. Children of /bin/true, sequential, interleaved
 * rounds, best of each. Part of `make bench-proc` (issue 16). */
#define _GNU_SOURCE
#include <eddy.h>

#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>

extern char **environ;

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

typedef struct {
    eddy_process_t p;
    int code, sig, rc;
} wait_t;

static int wait_poll(void *state, eddy_cx_t *cx)
{
    wait_t *w = state;
    w->rc = eddy_process_poll_wait(w->p, cx, &w->code, &w->sig);
    return w->rc == EDDY_PENDING ? EDDY_PENDING : EDDY_READY;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 400, rounds = argc > 2 ? atoi(argv[2]) : 5;
    const char *child[] = {"/bin/true", NULL};
    double best_eddy = 1e9, best_plain = 1e9;
    eddy_runtime_t rt;
    if (eddy_runtime_new(NULL, &rt) != 0) return 1;
    for (int r = 0; r < rounds; r++) {
        double t0 = now();
        for (int i = 0; i < n; i++) {
            wait_t w = {0};
            int st;
            if (eddy_process_spawn(rt, child, NULL, NULL, NULL, &w.p) != 0) return 1;
            if (eddy_block_on(rt, wait_poll, &w, NULL, &st) != 0 || w.rc != EDDY_READY || w.code != 0) return 1;
            eddy_process_free(w.p);
        }
        double t1 = now();
        for (int i = 0; i < n; i++) {
            pid_t pid;
            int st;
            if (posix_spawn(&pid, child[0], NULL, NULL, (char *const *)child, environ) != 0) return 1;
            waitpid(pid, &st, 0);
        }
        double t2 = now();
        if (t1 - t0 < best_eddy) best_eddy = t1 - t0;
        if (t2 - t1 < best_plain) best_plain = t2 - t1;
    }
    eddy_runtime_free(rt);
    printf("| C: eddy_process_spawn + poll_wait vs posix_spawn + waitpid (sequential) | %.0f | %.0f (floor) | %.2f |\n",
           n / best_eddy, n / best_plain, best_plain / best_eddy);
    return 0;
}

/* chan_cost.c — C channel and mutex fast paths (issue 16): ns per uncontended
 * eddy_channel_try_send + eddy_channel_try_recv pair and per eddy_semaphore_try_acquire +
 * release pair (a mutex), one thread. Run it under bench/malloc_count.c (LD_PRELOAD) with
 * two counts: the malloc totals are equal, i.e. zero allocations per operation.
 *   cc -O2 -Iinclude bench/chan_cost.c -L.build/release -leddy -o /tmp/chan_cost
 *   LD_LIBRARY_PATH=.build/c/lib /tmp/chan_cost 1000000 (after make test-c made the soname link) */
#include <eddy.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    eddy_runtime_t rt; eddy_sender_t tx; eddy_receiver_t rx; eddy_semaphore_t s;
    eddy_runtime_new(NULL, &rt);
    eddy_channel_new(rt, 1024, NULL, &tx, &rx);
    eddy_semaphore_new(rt, 1, 1, &s);
    void *v;
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (long i = 0; i < n; i++) {
        if (eddy_channel_try_send(tx, (void *)(i + 1)) != 0 || eddy_channel_try_recv(rx, &v) != 0) return 1;
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    double ns = ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / n;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (long i = 0; i < n; i++) {
        if (eddy_semaphore_try_acquire(s) != 0 || eddy_semaphore_release(s) != 0) return 2;
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    double ns2 = ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / n;
    fprintf(stderr, "n=%ld: %.1f ns per try_send+try_recv, %.1f ns per mutex try_acquire+release\n", n, ns, ns2);
    eddy_runtime_free(rt);
    return 0;
}

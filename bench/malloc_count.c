/* LD_PRELOAD malloc counter: counts malloc/calloc/realloc/posix_memalign/aligned_alloc
 * calls of the process and writes "mallocs=N frees=M" to $MALLOC_COUNT_OUT at exit.
 * Used to show allocations per echo round trip: run a server for N1 and N2 round trips
 * and divide the difference (bench/malloc_per_rt.sh).
 *
 * Live mode, for reading the counts while the server runs (bench/run.py does, so one
 * server process serves several measurements): with $MALLOC_COUNT_LIVE set to a path, the
 * counters live in that file, mapped shared: two native-endian 64-bit integers, mallocs
 * then frees, readable at any time. Built by `make bench-servers` (bench/run.py). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static atomic_long static_counts[2];
/* [0] mallocs, [1] frees; points into the shared file in live mode. */
static atomic_long *counts = static_counts;
#define n_malloc counts[0]
#define n_free counts[1]
static void *(*real_malloc)(size_t);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static void (*real_free)(void *);
static int (*real_posix_memalign)(void **, size_t, size_t);
static void *(*real_aligned_alloc)(size_t, size_t);

/* dlsym itself may calloc: serve that from a small static arena. */
static char arena[4096];
static size_t arena_used;
static int resolving;

static void resolve(void) {
    if (real_malloc || resolving) return;
    resolving = 1;
    real_malloc = dlsym(RTLD_NEXT, "malloc");
    real_calloc = dlsym(RTLD_NEXT, "calloc");
    real_realloc = dlsym(RTLD_NEXT, "realloc");
    real_free = dlsym(RTLD_NEXT, "free");
    real_posix_memalign = dlsym(RTLD_NEXT, "posix_memalign");
    real_aligned_alloc = dlsym(RTLD_NEXT, "aligned_alloc");
    resolving = 0;
}

static void *arena_alloc(size_t n) {
    n = (n + 15) & ~(size_t)15;
    if (arena_used + n > sizeof arena) return NULL;
    void *p = arena + arena_used;
    arena_used += n;
    return p;
}

void *malloc(size_t n) {
    resolve();
    if (!real_malloc) return arena_alloc(n);
    atomic_fetch_add_explicit(&n_malloc, 1, memory_order_relaxed);
    return real_malloc(n);
}
void *calloc(size_t a, size_t b) {
    resolve();
    if (!real_calloc) { void *p = arena_alloc(a * b); if (p) memset(p, 0, a * b); return p; }
    atomic_fetch_add_explicit(&n_malloc, 1, memory_order_relaxed);
    return real_calloc(a, b);
}
void *realloc(void *p, size_t n) {
    resolve();
    atomic_fetch_add_explicit(&n_malloc, 1, memory_order_relaxed);
    return real_realloc(p, n);
}
void free(void *p) {
    if ((char *)p >= arena && (char *)p < arena + sizeof arena) return;
    resolve();
    if (p) atomic_fetch_add_explicit(&n_free, 1, memory_order_relaxed);
    real_free(p);
}
int posix_memalign(void **out, size_t align, size_t n) {
    resolve();
    atomic_fetch_add_explicit(&n_malloc, 1, memory_order_relaxed);
    return real_posix_memalign(out, align, n);
}
void *aligned_alloc(size_t align, size_t n) {
    resolve();
    atomic_fetch_add_explicit(&n_malloc, 1, memory_order_relaxed);
    return real_aligned_alloc(align, n);
}

__attribute__((constructor)) static void live(void) {
    const char *path = getenv("MALLOC_COUNT_LIVE");
    if (!path) return;
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return;
    if (ftruncate(fd, 4096) == 0) {
        void *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (m != MAP_FAILED) {
            atomic_long *c = m;
            atomic_store(&c[0], atomic_load(&static_counts[0]));
            atomic_store(&c[1], atomic_load(&static_counts[1]));
            counts = c;
        }
    }
    close(fd);
}

__attribute__((destructor)) static void report(void) {
    const char *path = getenv("MALLOC_COUNT_OUT");
    if (!path) return;
    FILE *f = fopen(path, "w");
    if (!f) return;
    fprintf(f, "mallocs=%ld frees=%ld\n", atomic_load(&n_malloc), atomic_load(&n_free));
    fclose(f);
}

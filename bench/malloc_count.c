/* LD_PRELOAD malloc counter: counts malloc/calloc/realloc/posix_memalign/aligned_alloc
 * calls of the process and writes "mallocs=N frees=M" to $MALLOC_COUNT_OUT at exit.
 * Used to show allocations per echo round trip: run a server for N1 and N2 round trips
 * and divide the difference. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static atomic_long n_malloc, n_free;
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

__attribute__((destructor)) static void report(void) {
    const char *path = getenv("MALLOC_COUNT_OUT");
    if (!path) return;
    FILE *f = fopen(path, "w");
    if (!f) return;
    fprintf(f, "mallocs=%ld frees=%ld\n", atomic_load(&n_malloc), atomic_load(&n_free));
    fclose(f);
}

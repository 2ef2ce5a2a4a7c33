/* malloc_count.h — counts the process's allocations while armed, for the suites that
 * assert "no malloc on this path" (test_udp, test_names). It DEFINES malloc & co.
 * (interposed for the whole process, libeddy.so included): include it from exactly one
 * .c of a test binary, and only from suites that need it (harness.c does not: every
 * suite would lose valgrind's own malloc). Not under ASan, which owns malloc: there
 * COUNT_MALLOCS is 0 and the counting assertions are compiled out. */
#ifndef EDDY_TEST_MALLOC_COUNT_H
#define EDDY_TEST_MALLOC_COUNT_H

#include <errno.h>
#include <stddef.h>

#ifndef __has_feature
#define __has_feature(x) 0 /* gcc: __SANITIZE_ADDRESS__ says it */
#endif
#if defined(__SANITIZE_ADDRESS__) || __has_feature(address_sanitizer)
#define COUNT_MALLOCS 0
#else
#define COUNT_MALLOCS 1
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);
/* Counts only while `counting` is set. */
static volatile int counting;
static volatile long mallocs;
void *malloc(size_t n) { if (counting) mallocs++; return __libc_malloc(n); }
void *calloc(size_t a, size_t b) { if (counting) mallocs++; return __libc_calloc(a, b); }
void *realloc(void *p, size_t n) { if (counting) mallocs++; return __libc_realloc(p, n); }
void free(void *p) { __libc_free(p); }
int posix_memalign(void **out, size_t align, size_t n)
{
    if (counting) mallocs++;
    void *p = __libc_memalign(align, n);
    if (!p) return ENOMEM;
    *out = p;
    return 0;
}
void *aligned_alloc(size_t align, size_t n) { if (counting) mallocs++; return __libc_memalign(align, n); }
void *memalign(size_t align, size_t n) { if (counting) mallocs++; return __libc_memalign(align, n); }
/* 1 when the interposition sees this process's allocations. Under valgrind its own
 * allocator replaces these definitions and nothing is counted: suites that compare
 * counts say so and leave the comparison to the runs without valgrind. */
__attribute__((unused)) static int malloc_counting_works(void)
{
    mallocs = 0;
    counting = 1;
    void *volatile p = malloc(24);
    counting = 0;
    free(p);
    return mallocs == 1;
}
#endif

#endif

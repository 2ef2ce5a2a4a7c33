// Private to CEddySys: system calls issued inline (see ceddy_read in shim.c for why).
#ifndef CEDDY_RAW_SYSCALL_H
#define CEDDY_RAW_SYSCALL_H
#include <errno.h>
#include <unistd.h>
#include <sys/syscall.h>

#if defined(__x86_64__)
// The hot calls issue the instruction themselves: libc's syscall(2) shuffles six
// variadic arguments and reaches errno through __errno_location on every call; here
// errno is written only on failure.
static inline long raw_syscall6(long nr, long a1, long a2, long a3, long a4, long a5, long a6) {
    register long r10 __asm__("r10") = a4;
    register long r8 __asm__("r8") = a5;
    register long r9 __asm__("r9") = a6;
    long ret;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "0"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
}
static inline long raw_syscall3(long nr, long a1, long a2, long a3) {
    long ret;
    __asm__ volatile("syscall" : "=a"(ret) : "0"(nr), "D"(a1), "S"(a2), "d"(a3) : "rcx", "r11", "memory");
    return ret;
}
/// -1 and errno for a failed raw call, the result otherwise.
static inline long libc_result(long r) {
    if ((unsigned long)r > -4096UL) {
        errno = (int)-r;
        return -1;
    }
    return r;
}
#define ceddy_raw_syscall3(...) libc_result(raw_syscall3(__VA_ARGS__))
#define ceddy_raw_syscall6(...) libc_result(raw_syscall6(__VA_ARGS__))
#else
// Every variadic argument widened to long: syscall(2) reads six longs.
#define ceddy_raw_syscall3(nr, a1, a2, a3) syscall(nr, (long)(a1), (long)(a2), (long)(a3))
#define ceddy_raw_syscall6(nr, a1, a2, a3, a4, a5, a6) \
    syscall(nr, (long)(a1), (long)(a2), (long)(a3), (long)(a4), (long)(a5), (long)(a6))
#endif

#endif

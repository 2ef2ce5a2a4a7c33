import CEddySys
#if canImport(Glibc)
import Glibc
#endif

/// Creates a nonblocking, close-on-exec socket of `type` (SOCK_STREAM, SOCK_DGRAM):
/// the descriptor or -errno.
func sysSocket(family: Int32, type: Int32) -> Int32 {
    let fd = Glibc.socket(family, type | CEDDY_SOCK_NONBLOCK | CEDDY_SOCK_CLOEXEC, 0)
    return fd >= 0 ? fd : -Glibc.errno
}

/// Readies a descriptor handed to Eddy from outside (socket activation, interop):
/// it must be a socket of `type` (EINVAL: another type; ENOTSOCK: not a socket; EBADF:
/// not open); it becomes non-blocking and close-on-exec. 0 or -errno.
func sysPrepareAdopted(_ fd: Int32, type: Int32) -> Int32 {
    if fd < 0 { return -EBADF }
    let t = sysGetIntOption(fd, SOL_SOCKET, SO_TYPE)
    if t < 0 { return t }
    if t != type { return -EINVAL }
    let fl = fcntl(fd, F_GETFL)
    if fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 { return -Glibc.errno }
    let fdfl = fcntl(fd, F_GETFD)
    if fdfl < 0 || fcntl(fd, F_SETFD, fdfl | FD_CLOEXEC) < 0 { return -Glibc.errno }
    return 0
}

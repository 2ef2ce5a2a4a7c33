import Glibc

/// The blocking file calls behind `File` and `AsyncFile` (and the C ABI's eddy_file_*):
/// each runs on a blocking-pool thread and returns its result as a value. Descriptors
/// are close-on-exec; a directory is refused at open with EISDIR (reading one would
/// fail later, after the caller was told the open worked).
package enum FileCalls {
    /// Bytes per read(2)/write(2): memory grows with the file, not with a caller's size.
    package static let chunk = 1 << 20

    /// open(2) of `path` with `flags` (O_CLOEXEC added), refusing directories.
    package static func open(_ path: String, _ flags: Int32, mode: mode_t = 0o666) -> Result<Int32, EddyError> {
        if path.utf8.contains(0) { return .failure(.invalidArgument) }  // C would cut it there
        var fd: Int32
        repeat { fd = Glibc.open(path, flags | O_CLOEXEC, mode) } while fd < 0 && errno == EINTR
        if fd < 0 { return .failure(.errno(errno)) }
        var st = stat()
        if fstat(fd, &st) != 0 {
            let e = errno
            Glibc.close(fd)
            return .failure(.errno(e))
        }
        if st.st_mode & S_IFMT == S_IFDIR {
            Glibc.close(fd)
            return .failure(.errno(EISDIR))
        }
        return .success(fd)
    }

    /// Up to `max` bytes from `fd` (nil: to end of file), read in `chunk` pieces into one
    /// scratch buffer and appended (a memcpy): the result grows with the file, not `max`.
    package static func read(_ fd: Int32, max: Int?) -> Result<[UInt8], EddyError> {
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 16)
        defer { scratch.deallocate() }
        var out: [UInt8] = []
        while max.map({ out.count < $0 }) ?? true {
            let want = min(chunk, max.map { $0 - out.count } ?? chunk)
            let got = Glibc.read(fd, scratch.baseAddress!, want)
            if got < 0 {
                if errno == EINTR { continue }
                return .failure(.errno(errno))
            }
            if got == 0 { break }
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: scratch[..<got]))
        }
        return .success(out)
    }

    /// Writes all of `bytes` to `fd`.
    package static func write(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Result<Int, EddyError> {
        var done = 0
        while done < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + done, min(chunk, bytes.count - done))
            if n < 0 {
                if errno == EINTR { continue }
                return .failure(.errno(errno))
            }
            done += n
        }
        return .success(done)
    }

    /// The whole file at `path`.
    package static func readWhole(_ path: String) -> Result<[UInt8], EddyError> {
        open(path, O_RDONLY).flatMap { fd in
            defer { Glibc.close(fd) }
            return read(fd, max: nil)
        }
    }

    /// Writes `bytes` to `path` (created 0o666 less the umask; truncated unless `append`).
    package static func writeWhole(_ path: String, _ bytes: UnsafeRawBufferPointer, append: Bool) -> Result<Int, EddyError> {
        open(path, O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC)).flatMap { fd in
            defer { Glibc.close(fd) }
            return write(fd, bytes)
        }
    }
}

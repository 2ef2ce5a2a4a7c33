// What the Swift examples share: unbuffered output, usage errors, stopping on
// SIGINT/SIGTERM, and the skeleton of a TCP server on an Eddy runtime.

import Eddy
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Writes `text` to a file descriptor (1 = stdout, 2 = stderr), unbuffered. Used instead
/// of `print`/`fputs`: Glibc's `stdout`/`stderr` globals are not concurrency-safe in
/// Swift 6, and unbuffered lines show up at once when the output is a pipe.
public func emit(_ text: String, to fd: Int32 = 1) {
    var text = text
    text.withUTF8 { bytes in
        var offset = 0
        while offset < bytes.count {
            let n = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            offset += n
        }
    }
}

/// A command-line problem; an empty message means `--help`.
public struct UsageError: Error {
    public var message: String
    public init(message: String) { self.message = message }
}

/// Set (to the signal number) by the SIGINT/SIGTERM handler.
let stopSignal = Atomic<Int32>(0)

/// Installs handlers so SIGINT/SIGTERM stop a server cleanly instead of killing it.
/// `Runtime.Configuration.returnOnSignal` makes the runtime return from epoll_wait
/// when the signal lands there; the main task also polls the flag, for signals that
/// arrive while the loop is busy running tasks.
func installStopHandlers() {
    var action = sigaction()
    action.__sigaction_handler.sa_handler = { signal in
        stopSignal.store(signal, ordering: .relaxed)
    }
    sigemptyset(&action.sa_mask)
    action.sa_flags = 0
    sigaction(SIGINT, &action, nil)
    sigaction(SIGTERM, &action, nil)
    // Our own process: a peer that goes away must not kill us through stdout either.
    signal(SIGPIPE, SIG_IGN)
}

/// Accepts connections until cancelled, one Eddy task per connection.
func acceptLoop(_ name: String, _ listener: TcpListener,
                _ onConnection: @escaping @Sendable (TcpStream) async -> Void) async {
    while true {
        do {
            let stream = try await listener.accept()
            try? stream.setNoDelay(true)
            _ = Eddy.spawn { await onConnection(stream) }
        } catch is CancellationError {
            return
        } catch let error as EddyError where error == .cancelled || error == .shutdown {
            return
        } catch {
            // EMFILE and friends: back off instead of spinning, keep the listener.
            emit("\(name): accept failed: \(error)\n", to: 2)
            do {
                try await Eddy.sleep(for: .milliseconds(100))
            } catch {
                return
            }
        }
    }
}

/// Runs a TCP server on a fresh Eddy runtime until SIGINT/SIGTERM: binds `host:port`,
/// prints `listening on HOST:PORT` as the first stdout line, and runs `onConnection`
/// for each accepted stream. Returns the process exit status.
/// With `unixPath` (issue 15) it listens on that Unix-domain socket instead, prints
/// `listening on unix:PATH` and removes the socket file when it stops.
///
/// `workers` > 1 (issue 14): a multi-thread runtime where each worker has its own
/// SO_REUSEPORT listener on the same port and its own accept loop, so each connection
/// lives on the worker that accepted it (TCP only; 0: `EDDY_WORKERS`, else 1).
public func runTCPServer(name: String, host: String, port: UInt16, unixPath: String? = nil, workers: Int = 0,
                         onConnection: @escaping @Sendable (TcpStream) async -> Void) -> Int32 {
    installStopHandlers()
    var runtimeConfig = Runtime.Configuration()
    runtimeConfig.returnOnSignal = true
    runtimeConfig.workers = unixPath == nil ? workers : 1
    let runtime: Runtime
    do {
        runtime = try Runtime(runtimeConfig)
    } catch {
        emit("\(name): cannot create runtime: \(error)\n", to: 2)
        return 1
    }
    defer { _ = try? runtime.shutdown() }

    let listener: TcpListener
    do {
        if let unixPath {
            listener = try TcpListener.bind(unixPath: unixPath, unlinkOnClose: true, runtime: runtime)
        } else {
            listener = try TcpListener.bind(host: host, port: port, reusePort: runtime.workers > 1, runtime: runtime)
        }
    } catch {
        emit("\(name): cannot listen on \(unixPath.map { "unix:\($0)" } ?? "\(host):\(port)"): \(error)\n", to: 2)
        return 1
    }
    let address = unixPath.map { "unix:\($0)" } ?? (try? listener.localAddress.description) ?? "\(host):\(listener.port)"
    emit("listening on \(address)\n")

    do {
        try runtime.blockOn { () async throws -> Void in
            _ = Eddy.spawn { await acceptLoop(name, listener, onConnection) }
            // The other workers: a listener each on the same port, bound on that worker.
            let bound = listener.port
            for w in 1..<max(1, runtime.workers) {
                _ = try runtime.spawn(onWorker: w) {
                    let mine = try TcpListener.bind(host: host, port: bound, reusePort: true, runtime: runtime)
                    defer { mine.close() }
                    await acceptLoop(name, mine, onConnection)
                }
            }
            while stopSignal.load(ordering: .relaxed) == 0 {
                try await Eddy.sleep(for: .milliseconds(100))
            }
        }
    } catch let error as EddyError where error == .errno(EINTR) {
        // returnOnSignal: a signal interrupted epoll_wait. Ours, if the flag is set.
        if stopSignal.load(ordering: .relaxed) == 0 {
            emit("\(name): interrupted by an unexpected signal\n", to: 2)
        }
    } catch {
        emit("\(name): runtime failed: \(error)\n", to: 2)
        return 1
    }
    listener.close()
    return 0
}

// MARK: - Command-line options

/// Walks `--name value`, `--name=value` and `-x value` options. `handle` gets each name and
/// a function that takes its value (nil when missing) and returns false for names it does not
/// know. `-h`/`--help` becomes `UsageError(message: "")`.
public func readOptions(_ arguments: [String],
                        _ handle: (_ name: String, _ value: () -> String?) throws(UsageError) -> Bool) throws(UsageError) {
    var i = 1
    while i < arguments.count {
        var name = arguments[i]
        var inline: String? = nil
        if name.hasPrefix("--"), let eq = name.firstIndex(of: "=") {
            inline = String(name[name.index(after: eq)...])
            name = String(name[..<eq])
        }
        if name == "-h" || name == "--help" { throw UsageError(message: "") }
        let known = try handle(name) {
            if let inline { return inline }
            i += 1
            return i < arguments.count ? arguments[i] : nil
        }
        if !known { throw UsageError(message: "unknown option \(name)") }
        i += 1
    }
}

/// An address for `--host`: the examples' servers bind numeric addresses, so "localhost"
/// is taken as 127.0.0.1 here (the library itself resolves it like any name).
public func hostOption(_ value: String?) throws(UsageError) -> String {
    guard let v = value, !v.isEmpty else { throw UsageError(message: "--host needs an address") }
    return v == "localhost" ? "127.0.0.1" : v
}

/// A port for `--port`; 0 (any free port) only where `allowZero`.
public func portOption(_ value: String?, allowZero: Bool) throws(UsageError) -> UInt16 {
    guard let v = value, let port = UInt16(v), allowZero || port > 0 else {
        throw UsageError(message: "--port needs a number \(allowZero ? 0 : 1)...65535")
    }
    return port
}

/// Prints `usage` (for `--help`, exit 0) or the problem and `usage` (exit 2).
public func exitStatus(for error: UsageError, program: String, usage: String) -> Int32 {
    if error.message.isEmpty {
        emit(usage)
        return 0
    }
    emit("\(program): \(error.message)\n\(usage)", to: 2)
    return 2
}

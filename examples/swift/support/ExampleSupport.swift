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
public func runTCPServer(name: String, host: String, port: UInt16,
                         onConnection: @escaping @Sendable (TcpStream) async -> Void) -> Int32 {
    installStopHandlers()
    var runtimeConfig = Runtime.Configuration()
    runtimeConfig.returnOnSignal = true
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
        listener = try TcpListener.bind(host: host, port: port, runtime: runtime)
    } catch {
        emit("\(name): cannot listen on \(host):\(port): \(error)\n", to: 2)
        return 1
    }
    let address = (try? listener.localAddress.description) ?? "\(host):\(listener.port)"
    emit("listening on \(address)\n")

    do {
        try runtime.blockOn { () async throws -> Void in
            _ = Eddy.spawn { await acceptLoop(name, listener, onConnection) }
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

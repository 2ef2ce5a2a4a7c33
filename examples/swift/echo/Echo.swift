// eddy-echo: TCP echo server, one Eddy task per connection, one fixed buffer per
// connection (no allocation per read).

import Eddy
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Writes `text` to a file descriptor (1 = stdout, 2 = stderr), unbuffered. Used instead
/// of `print`/`fputs`: Glibc's `stdout`/`stderr` globals are not concurrency-safe in
/// Swift 6, and unbuffered lines show up at once when the output is a pipe.
func emit(_ text: String, to fd: Int32 = 1) {
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
struct UsageError: Error {
    var message: String
}

let usage = """
    usage: eddy-echo [--host ADDR] [--port PORT]

    TCP echo server on Eddy: every byte received is sent back.
      --host ADDR   numeric IPv4/IPv6 address to bind (default 127.0.0.1)
      --port PORT   port to bind, 0 for any free port (default 9000)
    The first line on stdout is `listening on HOST:PORT`. SIGINT/SIGTERM stop it cleanly.

    """

struct EchoConfig: Sendable {
    var host = "127.0.0.1"
    var port: UInt16 = 9000
}

/// Bytes read per system call; also the whole per-connection memory.
let bufferSize = 16 * 1024

func parseOptions(_ arguments: [String]) -> Result<EchoConfig, UsageError> {
    var config = EchoConfig()
    var i = 1
    while i < arguments.count {
        var name = arguments[i]
        var value: String? = nil
        if name.hasPrefix("--"), let eq = name.firstIndex(of: "=") {
            value = String(name[name.index(after: eq)...])
            name = String(name[..<eq])
        }
        func takeValue() -> String? {
            if let value { return value }
            i += 1
            return i < arguments.count ? arguments[i] : nil
        }
        switch name {
        case "-h", "--help":
            return .failure(UsageError(message: ""))
        case "--host":
            guard let v = takeValue(), !v.isEmpty else {
                return .failure(UsageError(message: "--host needs an address"))
            }
            // Eddy takes numeric addresses only (no resolver): accept the one name everybody types.
            config.host = v == "localhost" ? "127.0.0.1" : v
        case "--port", "-p":
            guard let v = takeValue(), let port = UInt16(v) else {
                return .failure(UsageError(message: "--port needs a number 0...65535"))
            }
            config.port = port
        default:
            return .failure(UsageError(message: "unknown option \(name)"))
        }
        i += 1
    }
    return .success(config)
}

// MARK: - Stopping on SIGINT / SIGTERM

/// Set (to the signal number) by the signal handler; read by the main task.
let stopSignal = Atomic<Int32>(0)

/// SIGINT/SIGTERM get a handler that only records the signal. With
/// `Runtime.Configuration.returnOnSignal`, a signal landing in epoll_wait makes
/// `blockOn` return EINTR; the main task also polls the flag every 100 ms for a
/// signal that arrives while the loop is busy running tasks.
func installStopHandlers() {
    var action = sigaction()
    action.__sigaction_handler.sa_handler = { signal in
        stopSignal.store(signal, ordering: .relaxed)
    }
    sigemptyset(&action.sa_mask)
    action.sa_flags = 0
    sigaction(SIGINT, &action, nil)
    sigaction(SIGTERM, &action, nil)
    signal(SIGPIPE, SIG_IGN)
}

// MARK: - Server

func echo(_ stream: TcpStream) async {
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bufferSize, alignment: 16)
    defer {
        buffer.deallocate()
        stream.close()
    }
    do {
        while true {
            let n = try await stream.read(into: buffer)
            if n == 0 {
                // The peer is done sending: finish our side too.
                try? stream.shutdown(.write)
                return
            }
            try await stream.writeAll(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
        }
    } catch {
        // ECONNRESET, EPIPE, cancellation: this connection is over, nothing else is.
    }
}

func acceptLoop(_ listener: TcpListener) async {
    while true {
        do {
            let stream = try await listener.accept()
            try? stream.setNoDelay(true)
            _ = Eddy.spawn {
                await echo(stream)
            }
        } catch is CancellationError {
            return
        } catch let error as EddyError where error == .cancelled || error == .shutdown {
            return
        } catch {
            // EMFILE and friends: back off instead of spinning, keep the listener.
            emit("eddy-echo: accept failed: \(error)\n", to: 2)
            do {
                try await Eddy.sleep(for: .milliseconds(100))
            } catch {
                return
            }
        }
    }
}

/// Runs the echo server until SIGINT/SIGTERM. Returns the process exit status.
func runEcho(_ arguments: [String]) -> Int32 {
    let config: EchoConfig
    switch parseOptions(arguments) {
    case .success(let c):
        config = c
    case .failure(let error):
        let message = error.message
        if message.isEmpty {
            emit(usage)
            return 0
        }
        emit("eddy-echo: \(message)\n\(usage)", to: 2)
        return 2
    }
    installStopHandlers()

    var runtimeConfig = Runtime.Configuration()
    runtimeConfig.returnOnSignal = true
    let runtime: Runtime
    do {
        runtime = try Runtime(runtimeConfig)
    } catch {
        emit("eddy-echo: cannot create runtime: \(error)\n", to: 2)
        return 1
    }
    defer { _ = try? runtime.shutdown() }

    let listener: TcpListener
    do {
        listener = try TcpListener.bind(host: config.host, port: config.port, runtime: runtime)
    } catch {
        emit("eddy-echo: cannot listen on \(config.host):\(config.port): \(error)\n", to: 2)
        return 1
    }
    let address = (try? listener.localAddress.description) ?? "\(config.host):\(listener.port)"
    emit("listening on \(address)" + "\n")

    do {
        try runtime.blockOn { () async throws -> Void in
            _ = Eddy.spawn {
                await acceptLoop(listener)
            }
            while stopSignal.load(ordering: .relaxed) == 0 {
                try await Eddy.sleep(for: .milliseconds(100))
            }
        }
    } catch let error as EddyError where error == .errno(EINTR) {
        // returnOnSignal: a signal interrupted epoll_wait; only ours have handlers.
    } catch {
        emit("eddy-echo: runtime failed: \(error)\n", to: 2)
        return 1
    }
    listener.close()
    return 0
}

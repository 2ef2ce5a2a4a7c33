// eddy-delayserver: command line, listener, one Eddy task per connection.

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
    usage: eddy-delayserver [--host ADDR] [--port PORT] [--header-timeout-ms MS] [--verbose]

    HTTP/1.1 server: GET /{ms}/{message} waits ms milliseconds (0...60000) on an Eddy
    timer, then answers 200 with the percent-decoded message as a text/plain body.
      --host ADDR             numeric IPv4/IPv6 address to bind (default 127.0.0.1)
      --port PORT             port to bind, 0 for any free port (default 8080)
      --header-timeout-ms MS  a request head must arrive within MS ms (default 10000);
                              also the keep-alive idle timeout
      --verbose               one line per request on stderr
    The first line on stdout is `listening on HOST:PORT`. SIGINT/SIGTERM stop the server.

    """

func parseOptions(_ arguments: [String]) -> Result<ServerConfig, UsageError> {
    var config = ServerConfig()
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
        case "-v", "--verbose":
            config.verbose = true
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
        case "--header-timeout-ms":
            guard let v = takeValue(), let ms = Int(v), ms > 0, ms <= 3_600_000 else {
                return .failure(UsageError(message: "--header-timeout-ms needs a number 1...3600000"))
            }
            config.headerTimeout = .milliseconds(ms)
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

/// Installs handlers so SIGINT/SIGTERM stop the server cleanly instead of killing it.
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

// MARK: - Server

func acceptLoop(_ listener: TcpListener, _ config: ServerConfig) async {
    while true {
        do {
            let stream = try await listener.accept()
            try? stream.setNoDelay(true)
            _ = Eddy.spawn {
                await serveConnection(stream, config)
            }
        } catch is CancellationError {
            return
        } catch let error as EddyError where error == .cancelled || error == .shutdown {
            return
        } catch {
            // EMFILE and friends: back off instead of spinning, keep the listener.
            emit("eddy-delayserver: accept failed: \(error)\n", to: 2)
            do {
                try await Eddy.sleep(for: .milliseconds(100))
            } catch {
                return
            }
        }
    }
}

/// Runs the server until SIGINT/SIGTERM. Returns the process exit status.
func runDelayServer(_ arguments: [String]) -> Int32 {
    let config: ServerConfig
    switch parseOptions(arguments) {
    case .success(let c):
        config = c
    case .failure(let error):
        let message = error.message
        if message.isEmpty {
            emit(usage)
            return 0
        }
        emit("eddy-delayserver: \(message)\n\(usage)", to: 2)
        return 2
    }
    installStopHandlers()

    var runtimeConfig = Runtime.Configuration()
    runtimeConfig.returnOnSignal = true
    let runtime: Runtime
    do {
        runtime = try Runtime(runtimeConfig)
    } catch {
        emit("eddy-delayserver: cannot create runtime: \(error)\n", to: 2)
        return 1
    }
    defer { _ = try? runtime.shutdown() }

    let listener: TcpListener
    do {
        listener = try TcpListener.bind(host: config.host, port: config.port, runtime: runtime)
    } catch {
        emit("eddy-delayserver: cannot listen on \(config.host):\(config.port): \(error)\n", to: 2)
        return 1
    }
    let address = (try? listener.localAddress.description) ?? "\(config.host):\(listener.port)"
    emit("listening on \(address)" + "\n")

    do {
        try runtime.blockOn { () async throws -> Void in
            _ = Eddy.spawn {
                await acceptLoop(listener, config)
            }
            while stopSignal.load(ordering: .relaxed) == 0 {
                try await Eddy.sleep(for: .milliseconds(100))
            }
        }
    } catch let error as EddyError where error == .errno(EINTR) {
        // returnOnSignal: a signal interrupted epoll_wait. Ours, if the flag is set.
        if stopSignal.load(ordering: .relaxed) == 0 {
            emit("eddy-delayserver: interrupted by an unexpected signal\n", to: 2)
        }
    } catch {
        emit("eddy-delayserver: runtime failed: \(error)\n", to: 2)
        return 1
    }
    listener.close()
    return 0
}

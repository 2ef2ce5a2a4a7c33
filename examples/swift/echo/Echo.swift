// eddy-echo: TCP echo server, one Eddy task per connection, one fixed buffer per
// connection (no allocation per read).

import Eddy
import EddyExampleSupport

#if canImport(Glibc)
import Glibc
#endif

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
    return runTCPServer(name: "eddy-echo", host: config.host, port: config.port) { stream in
        await echo(stream)
    }
}

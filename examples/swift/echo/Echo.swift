// eddy-echo: TCP echo server, one Eddy task per connection, one fixed buffer per
// connection (no allocation per read). With --udp: a UDP echo server, one task and one
// buffer for all datagrams (no allocation per datagram).

import Eddy
import EddyExampleSupport

#if canImport(Glibc)
import Glibc
#endif

let usage = """
    usage: eddy-echo [--udp] [--host ADDR] [--port PORT] [--workers N]

    TCP echo server on Eddy: every byte received is sent back.
      --udp         UDP instead: every datagram is sent back to its sender
      --host ADDR   numeric IPv4/IPv6 address to bind (default 127.0.0.1)
      --port PORT   port to bind, 0 for any free port (default 9000)
      --workers N   TCP: a multi-thread runtime, one SO_REUSEPORT listener per worker
                    (default: EDDY_WORKERS, else 1)
    The first line on stdout is `listening on HOST:PORT` (UDP: followed by ` (udp)`).
    SIGINT/SIGTERM stop it cleanly.

    """

struct EchoConfig: Sendable {
    var host = "127.0.0.1"
    var port: UInt16 = 9000
    var udp = false
    var workers = 0
}

/// Bytes read per system call; also the whole per-connection memory.
let bufferSize = 16 * 1024

func parseOptions(_ arguments: [String]) throws(UsageError) -> EchoConfig {
    var config = EchoConfig()
    try readOptions(arguments) { (name, value) throws(UsageError) in
        switch name {
        case "--host": config.host = try hostOption(value())
        case "--port", "-p": config.port = try portOption(value(), allowZero: true)
        case "--udp": config.udp = true
        case "--workers":
            guard let v = value(), let n = Int(v), (1...1024).contains(n) else {
                throw UsageError(message: "--workers needs a count in 1...1024")
            }
            config.workers = n
        default: return false
        }
        return true
    }
    return config
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
    do { config = try parseOptions(arguments) } catch {
        return exitStatus(for: error, program: "eddy-echo", usage: usage)
    }
    if config.udp {
        return runUDPServer(name: "eddy-echo", host: config.host, port: config.port) { socket in
            await echoDatagrams(socket)
        }
    }
    return runTCPServer(name: "eddy-echo", host: config.host, port: config.port, workers: config.workers) { stream in
        await echo(stream)
    }
}

/// UDP echo: each datagram goes back to its sender. One buffer as large as any datagram,
/// so nothing is ever truncated; errors of one datagram (an ICMP error surfacing, a full
/// send buffer) do not end the server.
func echoDatagrams(_ socket: UdpSocket) async {
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 65_536, alignment: 16)
    defer { buffer.deallocate() }
    while true {
        do {
            let d = try await socket.receive(into: buffer)
            _ = try await socket.send(UnsafeRawBufferPointer(rebasing: buffer[0..<d.count]), to: d.sender)
        } catch let error as EddyError where error == .cancelled || error == .shutdown || error == .errno(EBADF) {
            return
        } catch is CancellationError {
            return
        } catch {
            continue
        }
    }
}

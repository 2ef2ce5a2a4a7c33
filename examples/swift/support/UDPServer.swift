// The skeleton of a UDP server on an Eddy runtime (issue 15): like runTCPServer, with
// one bound socket instead of a listener.

import Eddy

#if canImport(Glibc)
import Glibc
#endif

/// Runs a UDP server on a fresh Eddy runtime until SIGINT/SIGTERM: binds `host:port`,
/// prints `listening on HOST:PORT` (UDP) as the first stdout line, and runs `serve` with
/// the socket in one Eddy task. Returns the process exit status.
public func runUDPServer(name: String, host: String, port: UInt16,
                         serve: @escaping @Sendable (UdpSocket) async -> Void) -> Int32 {
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

    let socket: UdpSocket
    do {
        socket = try UdpSocket.bind(host: host, port: port, runtime: runtime)
    } catch {
        emit("\(name): cannot bind UDP \(host):\(port): \(error)\n", to: 2)
        return 1
    }
    let address = (try? socket.localAddress.description) ?? "\(host):\(port)"
    emit("listening on \(address) (udp)\n")

    do {
        try runtime.blockOn { () async throws -> Void in
            _ = Eddy.spawn { await serve(socket) }
            while stopSignal.load(ordering: .relaxed) == 0 {
                try await Eddy.sleep(for: .milliseconds(100))
            }
        }
    } catch let error as EddyError where error == .errno(EINTR) {
        if stopSignal.load(ordering: .relaxed) == 0 {
            emit("\(name): interrupted by an unexpected signal\n", to: 2)
        }
    } catch {
        emit("\(name): runtime failed: \(error)\n", to: 2)
        return 1
    }
    socket.close()
    return 0
}

// Draining on SIGTERM/SIGINT (issue 16): stop accepting, let the requests already
// received finish, then exit 0. The signals come through Eddy's `Signals` watcher.

import Eddy
import EddyExampleSupport
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Shared by the accept loop, the connections and the main task (all on the loop thread;
/// atomics only because the type must be Sendable to be captured by `Eddy.spawn`).
final class Drain: Sendable {
    /// Requests whose head has arrived and whose response is not written yet.
    let inFlight = Atomic<Int>(0)
    /// Set when the stop signal arrived: connections close after their current response.
    let draining = Atomic<Bool>(false)

    var isDraining: Bool { draining.load(ordering: .relaxed) }
}

/// Runs the delay server until SIGTERM/SIGINT, then drains. Returns the exit status.
func runDrainingServer(_ config: ServerConfig) -> Int32 {
    let name = "eddy-delayserver"
    signal(SIGPIPE, SIG_IGN)  // our own stdout too: a reader that goes away must not kill us
    let runtime: Runtime
    do { runtime = try Runtime() } catch {
        emit("\(name): cannot create runtime: \(error)\n", to: 2)
        return 1
    }
    defer { _ = try? runtime.shutdown() }  // cancels idle keep-alive connections
    let listener: TcpListener
    do {
        if let path = config.unixPath {
            listener = try TcpListener.bind(unixPath: path, unlinkOnClose: true, runtime: runtime)
        } else {
            listener = try TcpListener.bind(host: config.host, port: config.port, runtime: runtime)
        }
    } catch {
        let where_ = config.unixPath.map { "unix:\($0)" } ?? "\(config.host):\(config.port)"
        emit("\(name): cannot listen on \(where_): \(error)\n", to: 2)
        return 1
    }
    let address = config.unixPath.map { "unix:\($0)" }
        ?? (try? listener.localAddress.description) ?? "\(config.host):\(listener.port)"
    let drain = Drain()
    do {
        try runtime.blockOn { () async throws -> Void in
            // Watch before announcing the address: a client that reads the line and
            // signals at once must find the signal handled.
            let stop = try Signals(.terminate, .interrupt)
            emit("listening on \(address)\n")
            let acceptor = Eddy.spawn { await acceptUntilDrained(listener, config, drain) }
            let sig = try await stop.next()
            if config.verbose { emit("\(name): \(sig): draining\n", to: 2) }
            drain.draining.store(true, ordering: .relaxed)
            acceptor.cancel()
            listener.close()  // new connections are refused from here on
            while drain.inFlight.load(ordering: .relaxed) > 0 {
                try await Eddy.sleep(for: .milliseconds(5))
            }
        }
    } catch {
        emit("\(name): runtime failed: \(error)\n", to: 2)
        return 1
    }
    return 0
}

/// Accepts connections until cancelled, one Eddy task per connection.
private func acceptUntilDrained(_ listener: TcpListener, _ config: ServerConfig, _ drain: Drain) async {
    while !drain.isDraining {
        do {
            let stream = try await listener.accept()
            try? stream.setNoDelay(true)
            _ = Eddy.spawn { await serveConnection(stream, config, drain) }
        } catch is CancellationError {
            return
        } catch let error as EddyError where error == .cancelled || error == .shutdown {
            return
        } catch {
            if drain.isDraining { return }
            // EMFILE and friends: back off instead of spinning, keep the listener.
            emit("eddy-delayserver: accept failed: \(error)\n", to: 2)
            do { try await Eddy.sleep(for: .milliseconds(100)) } catch { return }
        }
    }
}

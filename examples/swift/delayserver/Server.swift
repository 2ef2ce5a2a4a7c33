// eddy-delayserver: command line, listener, one Eddy task per connection.

import Eddy
import EddyExampleSupport

#if canImport(Glibc)
import Glibc
#endif

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
    return runTCPServer(name: "eddy-delayserver", host: config.host, port: config.port) { stream in
        await serveConnection(stream, config)
    }
}

// eddy-delayserver: command line, listener, one Eddy task per connection.

import Eddy
import EddyExampleSupport

#if canImport(Glibc)
import Glibc
#endif

let usage = """
    usage: eddy-delayserver [--host ADDR] [--port PORT | --unix PATH] [--header-timeout-ms MS] [--verbose]

    HTTP/1.1 server: GET /{ms}/{message} waits ms milliseconds (0...60000) on an Eddy
    timer, then answers 200 with the percent-decoded message as a text/plain body.
      --host ADDR             numeric IPv4/IPv6 address to bind (default 127.0.0.1)
      --port PORT             port to bind, 0 for any free port (default 8080)
      --unix PATH             serve on a Unix-domain socket instead (`@name`: abstract);
                              the socket file is removed at exit. Try:
                              curl --unix-socket PATH http://localhost/100/hi
      --header-timeout-ms MS  a request head must arrive within MS ms (default 10000);
                              also the keep-alive idle timeout
      --verbose               one line per request on stderr
    The first line on stdout is `listening on HOST:PORT` (`listening on unix:PATH`).
    SIGINT/SIGTERM drain the server: it stops accepting, finishes the requests it has
    received (each answered with Connection: close), and exits 0.

    """

func parseOptions(_ arguments: [String]) throws(UsageError) -> ServerConfig {
    var config = ServerConfig()
    try readOptions(arguments) { (name, value) throws(UsageError) in
        switch name {
        case "-v", "--verbose": config.verbose = true
        case "--host": config.host = try hostOption(value())
        case "--port", "-p": config.port = try portOption(value(), allowZero: true)
        case "--unix":
            guard let v = value(), !v.isEmpty else { throw UsageError(message: "--unix needs a path") }
            config.unixPath = v
        case "--header-timeout-ms":
            guard let v = value(), let ms = Int(v), ms > 0, ms <= 3_600_000 else {
                throw UsageError(message: "--header-timeout-ms needs a number 1...3600000")
            }
            config.headerTimeout = .milliseconds(ms)
        default: return false
        }
        return true
    }
    return config
}

/// Runs the server until SIGINT/SIGTERM, then drains (Drain.swift). Returns the process
/// exit status.
func runDelayServer(_ arguments: [String]) -> Int32 {
    let config: ServerConfig
    do { config = try parseOptions(arguments) } catch {
        return exitStatus(for: error, program: "eddy-delayserver", usage: usage)
    }
    return runDrainingServer(config)
}

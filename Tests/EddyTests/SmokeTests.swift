import Glibc
import Testing
@testable import Eddy

@Suite struct SmokeTests {
    @Test func asyncSleepAndEcho() throws {
        let rt = try Runtime()
        let total = try rt.blockOn { () async throws -> Int in
            let listener = try TcpListener.bind(host: "127.0.0.1", port: 0)
            let port = listener.port
            let server = Eddy.spawn {
                let s = try await listener.accept()
                var buf = [UInt8](repeating: 0, count: 100)
                let n = try await s.read(into: &buf)
                try await s.writeAll(Array(buf[0..<n]))
                s.close()
                return n
            }
            try await Eddy.sleep(for: .milliseconds(5))
            let c = try await TcpStream.connect(host: "127.0.0.1", port: port)
            try await c.writeAll("hello")
            let back = try await c.read(maxBytes: 100)
            #expect(back == Array("hello".utf8))
            c.close()
            listener.close()
            return try await server.value
        }
        #expect(total == 5)
    }
}

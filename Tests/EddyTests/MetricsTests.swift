import Glibc
import Testing
@testable import Eddy

@Suite(.serialized) struct MetricsTests {
    @Test func countersMoveAndStayConsistent() throws {
        let rt = try Runtime()
        let m0 = rt.metrics
        #expect(m0.polls == 0 && m0.ticks == 0 && m0.liveTasks == 0)
        try rt.blockOn(Sleep(for: .milliseconds(5)))
        _ = try rt.blockOn(rt.spawnBlocking { 1 })
        let m1 = rt.metrics
        #expect(m1.polls >= 2)
        #expect(m1.ticks >= 2)
        #expect(m1.parks >= 1)
        #expect(m1.liveTasks == 0 && m1.localQueueDepth == 0 && m1.remoteQueueDepth == 0)
        #expect(m1.blocking.maxThreads == 4 && m1.blocking.threads >= 1)
    }

    @Test func taskDumpSaysWhatEachTaskWaitsOn() throws {
        let rt = try Runtime()
        let sleeper = rt.spawn(Sleep(for: .seconds(60)))
        let dump = try rt.blockOn { () async throws -> [TaskSnapshot] in
            let listener = try TcpListener.bind(host: "127.0.0.1", port: 0)
            let client = try await TcpStream.connect(host: "127.0.0.1", port: listener.port)
            let server = try await listener.accept()
            let reader = Runtime.current!.spawn(ReadOnce(stream: server))
            try await Eddy.sleep(for: .milliseconds(10))
            let d = try Runtime.current!.taskDump()
            reader.abort()
            client.close()
            listener.close()
            return d
        }
        sleeper.abort()
        let text = dump.map(\.description).joined(separator: "\n")
        #expect(dump.contains { $0.waitsOn.contains { $0.hasPrefix("timer in ") } }, "\(text)")
        #expect(dump.contains { $0.waitsOn.contains { $0.hasSuffix(" readable") } }, "\(text)")
        // Between runs, the owner may dump too.
        #expect(throws: Never.self) { _ = try rt.taskDump() }
    }
}

/// Reads once from `stream` (poll-style).
private struct ReadOnce: Future {
    let stream: TcpStream
    var buf = [UInt8](repeating: 0, count: 16)
    mutating func poll(_ cx: inout Context) -> Poll<Int> {
        let r = buf.withUnsafeMutableBytes { stream.pollRead(&cx, into: $0) }
        switch r {
        case .ready(let r): return .ready((try? r.get()) ?? -1)
        case .pending: return .pending
        }
    }
}

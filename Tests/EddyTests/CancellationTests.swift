import Glibc
import Testing
@testable import Eddy

/// Swift task cancellation reaching suspended socket operations, through both paths:
/// the one cancellation record of a task Eddy started (`TaskCancelSlot`) and the
/// per-suspension record of any other task (group children, user-made tasks).
@Suite(.serialized) struct CancellationTests {
    /// A connected pair whose peer does not write: reads on `server` block.
    private func quietPair(_ listener: TcpListener) async throws -> (client: TcpStream, server: TcpStream) {
        let client = try await TcpStream.connect(host: "127.0.0.1", port: listener.port)
        return (client, try await listener.accept())
    }

    /// Bounds a test whose cancellation is lost: after 2 s the client writes, the blocked
    /// read returns data, and the test fails instead of hanging. Cancel it when done.
    private func rescuer(_ client: TcpStream) -> Task<Void, any Error> {
        Eddy.spawn {
            try await Eddy.sleep(for: .seconds(2))
            try await client.writeAll("late")
        }
    }

    @Test func cancellingASpawnedTaskWakesItsRead() throws {
        let rt = try Runtime()
        let elapsed = try rt.blockOn { () async throws -> Double in
            let listener = try TcpListener.bind(host: "127.0.0.1", port: 0)
            let (client, server) = try await quietPair(listener)
            let start = Instant.now()
            let rescue = rescuer(client)
            let t = Eddy.spawn { try await server.read(maxBytes: 16) }
            try await Eddy.sleep(for: .milliseconds(5))  // let it park
            t.cancel()
            await #expect(throws: CancellationError.self) { try await t.value }
            rescue.cancel()
            _ = await rescue.result
            // The slot is gone with its task, and the stream still works afterwards.
            #expect(rt.core.cancelSlots.entries == 1)  // blockOn's own task
            try await client.writeAll("x")
            #expect(try await server.read(maxBytes: 16) == Array("x".utf8))
            client.close(); server.close(); listener.close()
            return millis(since: start)
        }
        #expect(elapsed < 2_000)  // before the rescuer's write: the cancellation ended the read
    }

    @Test func aTaskCancelledBeforeItReadsThrowsWithoutParking() throws {
        let rt = try Runtime()
        try rt.blockOn {
            let listener = try TcpListener.bind(host: "127.0.0.1", port: 0)
            let (client, server) = try await quietPair(listener)
            let reached = Box(false)
            let t = Eddy.spawn {
                while !Task.isCancelled { await Task.yield() }
                reached.value = true
                return try await server.read(maxBytes: 16)
            }
            await Task.yield()
            t.cancel()
            await #expect(throws: CancellationError.self) { try await t.value }
            #expect(reached.value)
            client.close(); server.close(); listener.close()
        }
    }

    @Test func cancellingAGroupChildWakesItsRead() throws {
        let rt = try Runtime()
        try rt.blockOn {
            let listener = try TcpListener.bind(host: "127.0.0.1", port: 0)
            let (client, server) = try await quietPair(listener)
            let rescue = rescuer(client)
            let outcome = try await withThrowingTaskGroup(of: String.self) { group in
                group.addTask {
                    do { _ = try await server.read(maxBytes: 16); return "read returned" } catch is CancellationError {
                        return "cancelled"
                    }
                }
                try await Eddy.sleep(for: .milliseconds(5))
                group.cancelAll()
                return try await group.next() ?? "none"
            }
            #expect(outcome == "cancelled")
            rescue.cancel()
            _ = await rescue.result
            client.close(); server.close(); listener.close()
        }
    }

    @Test func cancellingAUserTaskOnTheExecutorWakesItsSleep() throws {
        let rt = try Runtime()
        let exec = rt.executor
        try rt.blockOn {
            // Not cancelled, the sleep would return after 2 s and the expectation fail.
            let t = Task(executorPreference: exec) { try await Eddy.sleep(for: .seconds(2)) }
            try await Eddy.sleep(for: .milliseconds(5))
            t.cancel()
            await #expect(throws: CancellationError.self) { try await t.value }
        }
    }

    @Test func slotTableKeepsEntriesThroughGrowthAndRemoval() {
        var table = TaskSlotTable()
        defer { table.release() }
        let slots = (0..<300).map { _ in TaskCancelSlot() }
        let keys = (1...300).map { UInt($0) << 6 }  // task-like (aligned) addresses
        for (k, s) in zip(keys, slots) { table.insert(k, s) }
        for (k, s) in zip(keys, slots) { #expect(table.find(k)?.takeUnretainedValue() === s) }
        for k in keys where k % 3 == 0 { table.remove(k) }
        for (k, s) in zip(keys, slots) {
            if k % 3 == 0 { #expect(table.find(k) == nil) } else { #expect(table.find(k)?.takeUnretainedValue() === s) }
        }
        #expect(table.find(12345) == nil)
    }
}

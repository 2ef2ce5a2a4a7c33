import Glibc
import Testing
@testable import Eddy

@Suite(.serialized) struct BroadcastWatchTests {
    @Test func everyReceiverGetsEveryValue() throws {
        let (tx, rx1) = broadcast(of: Int.self, capacity: 4)
        let rx2 = tx.subscribe()
        #expect(tx.send(1) == 2)
        tx.send(2)
        for rx in [rx1, rx2] {
            guard case .value(1) = rx.tryReceive() else { Issue.record("want 1"); return }
            guard case .value(2) = rx.tryReceive() else { Issue.record("want 2"); return }
            #expect(rx.tryReceive() == nil)
        }
    }

    @Test func aLaggingReceiverIsToldHowManyItMissed() throws {
        let (tx, rx) = broadcast(of: Int.self, capacity: 2)
        for i in 0..<5 { tx.send(i) }  // keeps 3, 4
        guard case .lagged(3) = rx.tryReceive() else { Issue.record("want lagged(3)"); return }
        guard case .value(3) = rx.tryReceive() else { Issue.record("want 3"); return }
        guard case .value(4) = rx.tryReceive() else { Issue.record("want 4"); return }
        #expect(rx.tryReceive() == nil)
    }

    @Test func receiversSeeClosedAfterTheSendersAreGone() throws {
        let rt = try Runtime()
        let got = try rt.blockOn { () async throws -> [Int] in
            let rx = { () -> BroadcastReceiver<Int> in
                let (tx, rx) = broadcast(of: Int.self, capacity: 8)
                _ = Eddy.spawn {
                    for i in 0..<3 {
                        tx.send(i)
                        try await Eddy.sleep(for: .milliseconds(1))
                    }
                }
                return rx
            }()
            var out: [Int] = []
            loop: while true {
                switch try await rx.receive() {
                case .value(let v): out.append(v)
                case .lagged: Issue.record("no lag expected")
                case .closed: break loop
                }
            }
            return out
        }
        #expect(got == [0, 1, 2])
    }

    @Test func watchKeepsTheLatestAndWakesOnChange() throws {
        let rt = try Runtime()
        let (tx, rx) = watch(0)
        #expect(rx.value == 0 && !rx.hasChanged)
        tx.send(1)
        tx.send(2)
        #expect(rx.hasChanged)
        #expect(rx.value == 2)  // intermediate values skipped
        let th = Thread { usleep(2_000); tx.send(3) }
        try rt.blockOn { try await rx.changed() }
        th.join()
        #expect(rx.value == 3)
    }

    @Test func watchChangedFailsOnceTheSenderIsGone() throws {
        let rt = try Runtime()
        let rx = { () -> WatchReceiver<Int> in watch(7).1 }()  // its sender is gone
        _ = try rt.blockOn { await #expect(throws: SyncError.closed) { try await rx.changed() } }
        #expect(rx.value == 7)
    }
}

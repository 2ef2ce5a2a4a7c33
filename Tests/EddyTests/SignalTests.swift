import CEddySys
import Glibc
import Synchronization
import Testing
@testable import Eddy

/// The action currently installed for `signo`.
private func currentHandler(_ signo: Int32) -> Int {
    var sa = sigaction()
    sigaction(signo, nil, &sa)
    return unsafeBitCast(sa.__sigaction_handler.sa_handler, to: Int.self)
}

/// Calls of `countingHandler`: the host's own action in `aSignalThatArrivedWhileWatched...`.
private let hostHandlerCalls = Atomic<Int>(0)

private func isBlocked(_ signo: Int32) -> Bool {
    var set = sigset_t()
    pthread_sigmask(SIG_BLOCK, nil, &set)
    return sigismember(&set, signo) == 1
}

/// Signals (signalfd-backed watchers). Serialized: they change process-wide dispositions.
@Suite(.serialized) struct SignalTests {
    @Test func aProcessDirectedSignalIsDeliveredToTheWatcher() throws {
        let rt = try Runtime()
        let got = try rt.blockOn { () async throws -> Int32 in
            let sig = try Signals(.user1)
            kill(getpid(), SIGUSR1)
            return try await sig.next().rawValue
        }
        #expect(got == SIGUSR1)
    }

    @Test func signalsBeforeTheWatcherLooksCoalesce() throws {
        let rt = try Runtime()
        let extra = try rt.blockOn { () async throws -> Bool in
            let sig = try Signals(.user1)
            // Directed at this thread, which blocks it: all three are pending before the
            // signalfd is read. (kill(getpid()) may pick a thread of another suite that does
            // not block it, whose handler forwards a copy later: a second, real arrival.)
            for _ in 0..<3 { pthread_kill(pthread_self(), SIGUSR1) }
            _ = try await sig.next()
            // The three arrivals were one: nothing more within 100 ms.
            do {
                _ = try await Eddy.timeout(.milliseconds(100)) { try await sig.next() }
                return true
            } catch let e as EddyError where e == .timedOut { return false }
        }
        #expect(extra == false)
    }

    @Test func everyWatcherOfASignalSeesIt() throws {
        let rt = try Runtime()
        let got = try rt.blockOn { () async throws -> [Int32] in
            let a = try Signals(.user2), b = try Signals(.user2, .user1)
            kill(getpid(), SIGUSR2)
            return [try await a.next().rawValue, try await b.next().rawValue]
        }
        #expect(got == [SIGUSR2, SIGUSR2])
    }

    @Test func aSignalSentFromAnUnblockedThreadNeverTakesItsDefaultAction() throws {
        // SIGTERM's default action ends the test process: the thread below does not block
        // it, so the kernel may deliver it there, where Eddy's handler forwards it.
        let rt = try Runtime()
        let got = try rt.blockOn { () async throws -> [Int32] in
            let sig = try Signals(.terminate, .interrupt)
            var seen: [Int32] = []
            for _ in 0..<5 {
                let t = try #require(startThread {
                    var none = sigset_t()
                    sigemptyset(&none)
                    pthread_sigmask(SIG_SETMASK, &none, nil)
                    kill(getpid(), SIGTERM)
                }, "thread")
                seen.append(try await sig.next().rawValue)
                pthread_join(t, nil)
            }
            return seen
        }
        #expect(got == Array(repeating: SIGTERM, count: 5))
    }

    @Test func theLastWatcherRestoresTheActionAndTheMask() throws {
        // The test's thread (a dispatch worker) blocks every signal: unblock SIGUSR1 here
        // so that the restored mask is visible, and block it again afterwards.
        let wasBlocked = isBlocked(SIGUSR1)
        _ = ceddy_sig_block(SIGUSR1, 0)
        defer { if wasBlocked { _ = ceddy_sig_block(SIGUSR1, 1) } }
        let rt = try Runtime()
        let before = currentHandler(SIGUSR1)
        #expect(!isBlocked(SIGUSR1))
        try rt.blockOn { () async throws -> Void in
            let a = try Signals(.user1)
            let b = try Signals(.user1)
            #expect(isBlocked(SIGUSR1))
            #expect(currentHandler(SIGUSR1) != before)
            a.cancel()
            #expect(isBlocked(SIGUSR1))  // b still watches
            kill(getpid(), SIGUSR1)
            #expect(try await b.next() == .user1)
            b.cancel()
        }
        #expect(currentHandler(SIGUSR1) == before)
        #expect(!isBlocked(SIGUSR1))
    }

    @Test func uncatchableAndOutOfRangeSignalsAreRefused() throws {
        let rt = try Runtime()
        try rt.blockOn { () async throws -> Void in
            for n: Int32 in [0, -1, SIGKILL, SIGSTOP, 32, 33, 65, 1000] {
                #expect(throws: EddyError.errno(EINVAL)) { try Signals(Signal(rawValue: n)) }
            }
            #expect(throws: EddyError.errno(EINVAL)) { try Signals([]) }
        }
    }

    @Test func aWatcherOnAnotherThreadSeesSignalsWhileTheFirstIsNotPolled() throws {
        // Watcher A (this thread, runtime A) is never polled. Watcher B lives on another
        // thread that did not block SIGUSR2 before; the signal comes from a thread with an
        // empty mask, so Eddy's handler forwards it: B must see it (each watching thread
        // blocks the signal and is a forwarding target), then a plain process-directed one.
        let rtA = try Runtime()
        let a = try rtA.blockOn { () async throws -> Signals in try Signals(.user2) }
        let got = Box<[Int32]>([])
        let t = try #require(startThread {
            var set = sigset_t()
            sigemptyset(&set)
            sigaddset(&set, SIGUSR2)
            pthread_sigmask(SIG_UNBLOCK, &set, nil)
            guard let rtB = try? Runtime() else { return }
            got.value = (try? rtB.blockOn { () async throws -> [Int32] in
                let b = try Signals(.user2)
                let raiser = startThread {
                    var none = sigset_t()
                    sigemptyset(&none)
                    pthread_sigmask(SIG_SETMASK, &none, nil)
                    kill(getpid(), SIGUSR2)
                }
                let first = try await Eddy.timeout(.seconds(5)) { try await b.next().rawValue }
                if let raiser { pthread_join(raiser, nil) }
                kill(getpid(), SIGUSR2)
                let second = try await Eddy.timeout(.seconds(5)) { try await b.next().rawValue }
                b.cancel()
                return [first, second]
            }) ?? []
        }, "thread")
        pthread_join(t, nil)
        a.cancel()
        #expect(got.value == [SIGUSR2, SIGUSR2])
    }

    @Test func cancelEndsTheIteration() throws {
        let rt = try Runtime()
        let n = try rt.blockOn { () async throws -> Int in
            let sig = try Signals(.user2)
            kill(getpid(), SIGUSR2)
            var count = 0
            for await s in sig {
                #expect(s == .user2)
                count += 1
                sig.cancel()
            }
            return count
        }
        #expect(n == 1)
    }

    @Test func aSignalThatArrivedWhileWatchedNeverReachesThePreviousActionAfterTheLastWatcherGoes() throws {
        // The host's action for SIGUSR2 counts its calls (with SIG_DFL the process would
        // die instead). A SIGUSR2 is pending on the watching thread when the last watcher
        // is cancelled from another thread (which leaves this thread's mask as it is);
        // the host then unblocks SIGUSR2 here. The signal arrived while watched: it
        // belongs to the watcher and must be gone, not handed to the host's action.
        let wasBlocked = isBlocked(SIGUSR2)
        var host = sigaction(), before = sigaction()
        host.__sigaction_handler.sa_handler = { _ in hostHandlerCalls.add(1, ordering: .relaxed) }
        sigemptyset(&host.sa_mask)
        sigaction(SIGUSR2, &host, &before)
        defer {
            sigaction(SIGUSR2, &before, nil)
            _ = ceddy_sig_block(SIGUSR2, wasBlocked ? 1 : 0)
        }
        _ = ceddy_sig_block(SIGUSR2, 0)
        hostHandlerCalls.store(0, ordering: .relaxed)
        let rt = try Runtime()
        let sig = try rt.blockOn { () async throws -> Signals in try Signals(.user2) }
        #expect(isBlocked(SIGUSR2))
        pthread_kill(pthread_self(), SIGUSR2)  // pending here, unread
        let t = try #require(startThread { sig.cancel() }, "thread")
        pthread_join(t, nil)
        #expect(currentHandler(SIGUSR2) == unsafeBitCast(host.__sigaction_handler.sa_handler, to: Int.self))
        _ = ceddy_sig_block(SIGUSR2, 0)  // a pending SIGUSR2 would be delivered now
        #expect(hostHandlerCalls.load(ordering: .relaxed) == 0)
        // The host's action is back: a signal sent now reaches it.
        pthread_kill(pthread_self(), SIGUSR2)
        #expect(hostHandlerCalls.load(ordering: .relaxed) == 1)
    }
}

// ThenTask: the internal task behind eddy_future_then.
//
// The callback must run exactly once, on the loop thread:
// - when the future completes (status 0 or its error);
// - when the future handle is freed first (CFuture.close wakes us; we report
//   EDDY_ECANCELED);
// - when the runtime is freed first: the core drops this task's future on the
//   loop thread and ThenCallback's deinit reports EDDY_ECANCELED.

import Eddy

public typealias CThenFn = @convention(c) (UnsafeMutableRawPointer?, Int32) -> Void

final class ThenCallback: @unchecked Sendable {
    private let fn: CThenFn
    private let user: UnsafeMutableRawPointer?
    private var called = false

    init(fn: CThenFn, user: UnsafeMutableRawPointer?) {
        self.fn = fn
        self.user = user
    }

    func fire(_ status: Int32) {
        if called { return }
        called = true
        fn(user, status)
    }

    deinit { fire(EddyCode.ecanceled) }
}

/// @unchecked Sendable: holds a CFuture and a C pointer that are only touched
/// on the runtime's loop thread.
struct ThenTask: Future, @unchecked Sendable {
    let future: CFuture
    let callback: ThenCallback

    mutating func poll(_ cx: inout Context) -> Poll<Void> {
        let r = future.poll(&cx)
        if r == EddyCode.pending {
            if future.thenWaker.map({ !$0.willWake(cx.waker) }) ?? true { future.thenWaker = cx.waker }
            return .pending
        }
        future.thenWaker = nil
        callback.fire(r == EddyCode.ready ? 0 : r)
        return .ready(())
    }
}

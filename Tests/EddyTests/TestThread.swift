import Glibc

/// A plain pthread running a closure, for cross-thread tests (BlockingPoolTests,
/// ChannelTests ...): `join()` waits for it.
final class Thread: @unchecked Sendable {
    private var tid = pthread_t()
    private let body: () -> Void
    init(_ body: @escaping () -> Void) {
        self.body = body
        let me = Unmanaged.passRetained(self).toOpaque()
        pthread_create(&tid, nil, { arg in
            let t = Unmanaged<Thread>.fromOpaque(arg!).takeRetainedValue()
            t.body()
            return nil
        }, me)
    }
    func join() { pthread_join(tid, nil) }
}

/// The result of polling a future once.
public enum Poll<T> {
    /// The future finished with this value.
    case ready(T)
    /// Not yet: the future arranged for `cx.waker` to be woken when it can progress.
    case pending
}

extension Poll: Sendable where T: Sendable {}

extension Poll {
    /// `true` for `.ready`.
    @inlinable public var isReady: Bool { if case .ready = self { return true } else { return false } }
}

/// A value that becomes available later, driven by `poll`.
///
/// Contract (the one tokio and the book teach): `poll` never blocks. It returns
/// `.ready(value)` once, or `.pending` after arranging for `cx.waker` to be woken
/// when progress is possible. Wakes may be spurious: a woken future simply polls again.
public protocol Future<Output> {
    /// What the future produces.
    associatedtype Output
    /// Advances the future: `.ready(output)` once, or `.pending` after arranging for
    /// `cx.waker` to be woken. Never blocks; not polled again after `.ready`.
    mutating func poll(_ cx: inout Context) -> Poll<Output>
}

/// A future built from a closure, for small adapters.
public struct PollFn<T>: Future {
    @usableFromInline var body: (inout Context) -> Poll<T>
    /// Wraps `body`, called on every poll.
    public init(_ body: @escaping (inout Context) -> Poll<T>) { self.body = body }
    /// Calls the closure.
    @inlinable public mutating func poll(_ cx: inout Context) -> Poll<T> { body(&cx) }
}

/// A future that is ready at once.
public struct Ready<T>: Future {
    @usableFromInline var value: T?
    /// A future whose first poll returns `value`.
    public init(_ value: T) { self.value = value }
    /// Ready with the value on the first poll.
    public mutating func poll(_ cx: inout Context) -> Poll<T> {
        guard let v = value else { return .pending }
        value = nil
        return .ready(v)
    }
}

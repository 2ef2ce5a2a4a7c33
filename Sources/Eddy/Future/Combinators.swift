/// One of two values (the output of `select`).
public enum Either<A, B> {
    /// The first future finished first, with this output.
    case first(A)
    /// The second future finished first, with this output.
    case second(B)
}

extension Either: Sendable where A: Sendable, B: Sendable {}

/// Polls two futures until both are done; outputs both.
public struct Join<A: Future, B: Future>: Future {
    @usableFromInline var a: A
    @usableFromInline var b: B
    @usableFromInline var outA: A.Output?
    @usableFromInline var outB: B.Output?

    /// Polls `a` and `b` (in that order) on every poll.
    public init(_ a: A, _ b: B) {
        self.a = a
        self.b = b
    }

    /// Ready with both outputs once both futures are done.
    public mutating func poll(_ cx: inout Context) -> Poll<(A.Output, B.Output)> {
        if outA == nil, case .ready(let v) = a.poll(&cx) { outA = v }
        if outB == nil, case .ready(let v) = b.poll(&cx) { outB = v }
        if let x = outA, let y = outB { return .ready((x, y)) }
        return .pending
    }
}

/// Polls two futures; the first to finish wins and the other is dropped with the
/// `Select` itself (dropping a leaf future cancels it: a sleep disarms, a socket closes).
public struct Select<A: Future, B: Future>: Future {
    @usableFromInline var a: A
    @usableFromInline var b: B

    /// Polls `a`, then `b`, on every poll; the output is the first one to be ready.
    public init(_ a: A, _ b: B) {
        self.a = a
        self.b = b
    }

    /// Ready with the output of the first future that is done (`a` wins a tie).
    public mutating func poll(_ cx: inout Context) -> Poll<Either<A.Output, B.Output>> {
        if case .ready(let v) = a.poll(&cx) { return .ready(.first(v)) }
        if case .ready(let v) = b.poll(&cx) { return .ready(.second(v)) }
        return .pending
    }
}

/// Both futures, concurrently, in one task.
public func join<A: Future, B: Future>(_ a: A, _ b: B) -> Join<A, B> { Join(a, b) }

/// Whichever future finishes first (`a` is polled first when both are ready).
public func select<A: Future, B: Future>(_ a: A, _ b: B) -> Select<A, B> { Select(a, b) }

/// `future`, failing with `EddyError.timedOut` after `duration`.
public func timeout<F: Future>(_ duration: Duration, _ future: F) -> Timeout<F> { Timeout(future, after: duration) }

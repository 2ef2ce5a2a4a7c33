import CEddySys

/// A point on the monotonic clock (CLOCK_MONOTONIC), in nanoseconds.
public struct Instant: Comparable, Hashable, Sendable {
    /// Nanoseconds on CLOCK_MONOTONIC.
    public var nanoseconds: UInt64

    /// The instant `nanoseconds` on CLOCK_MONOTONIC.
    public init(nanoseconds: UInt64) { self.nanoseconds = nanoseconds }

    /// Now.
    @inlinable public static func now() -> Instant { Instant(nanoseconds: ceddy_now_ns()) }

    /// Earlier than.
    public static func < (a: Instant, b: Instant) -> Bool { a.nanoseconds < b.nanoseconds }

    /// `self` moved by `duration` (saturating; negative durations move backwards).
    public func advanced(by duration: Duration) -> Instant {
        let ns = duration.nanosecondsClamped
        if ns >= 0 {
            let (r, o) = nanoseconds.addingReportingOverflow(UInt64(ns))
            return Instant(nanoseconds: o ? .max : r)
        }
        let back = ns.magnitude  // not UInt64(-ns): -Int64.min traps
        return Instant(nanoseconds: nanoseconds > back ? nanoseconds - back : 0)
    }

    /// Time from `earlier` to `self` (zero if `earlier` is later).
    public func duration(since earlier: Instant) -> Duration {
        nanoseconds > earlier.nanoseconds ? .nanoseconds(Int64(nanoseconds - earlier.nanoseconds)) : .zero
    }
}

extension Duration {
    /// Whole nanoseconds, clamped to Int64.
    var nanosecondsClamped: Int64 {
        let (s, a) = components
        let (ms, o1) = s.multipliedReportingOverflow(by: 1_000_000_000)
        if o1 { return s < 0 ? .min : .max }
        let (t, o2) = ms.addingReportingOverflow(a / 1_000_000_000)
        if o2 { return s < 0 ? .min : .max }
        return t
    }
}

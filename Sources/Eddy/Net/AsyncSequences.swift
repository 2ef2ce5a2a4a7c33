/// `for try await` over a listener's connections and a UDP socket's datagrams (issue 15).
///
/// Each `next()` is one `accept()` / `receive(maxBytes:)`: the sequences add no
/// buffering and no task. Iterate on the socket's loop thread (a task run by Eddy),
/// as the methods they call require. The sequence of a closed socket ends with the
/// close's error (`.badHandle`), like the calls it makes.

extension TcpListener {
    /// The accepted connections, one per iteration; never ends by itself.
    public var connections: Connections { Connections(listener: self) }

    /// `for try await stream in listener.connections`.
    public struct Connections: AsyncSequence, Sendable {
        /// Each element is an accepted connection.
        public typealias Element = TcpStream
        let listener: TcpListener

        /// An iterator accepting on the listener.
        public func makeAsyncIterator() -> Iterator { Iterator(listener: listener) }

        /// Accepts one connection per `next()`.
        public struct Iterator: AsyncIteratorProtocol {
            let listener: TcpListener
            /// The next connection (`accept()`); never nil.
            public mutating func next() async throws -> TcpStream? { try await listener.accept() }
        }
    }
}

/// One datagram received by `UdpSocket.datagrams`.
public struct Datagram: Sendable, Equatable {
    /// The payload (at most the sequence's `maxBytes`).
    public var bytes: [UInt8]
    /// The sender's address.
    public var sender: Endpoint
    /// The datagram was longer than `maxBytes` (MSG_TRUNC); `bytes` holds its start.
    public var truncated: Bool

    /// A datagram of `bytes` from `sender`.
    public init(bytes: [UInt8], sender: Endpoint, truncated: Bool) {
        self.bytes = bytes
        self.sender = sender
        self.truncated = truncated
    }
}

extension UdpSocket {
    /// The received datagrams of at most 65 535 bytes, one per iteration; never ends
    /// by itself. Errors of a connected socket (ICMP refused ...) are thrown.
    public var datagrams: Datagrams { Datagrams(socket: self, maxBytes: 65_535) }

    /// The received datagrams, each cut to `maxBytes` (`truncated` says so). A
    /// `maxBytes` outside `0...65535` makes the first `next()` throw `.invalidArgument`.
    public func datagrams(maxBytes: Int) -> Datagrams { Datagrams(socket: self, maxBytes: maxBytes) }

    /// `for try await datagram in socket.datagrams`.
    public struct Datagrams: AsyncSequence, Sendable {
        /// Each element is one received datagram.
        public typealias Element = Datagram
        let socket: UdpSocket
        let maxBytes: Int

        /// An iterator receiving on the socket.
        public func makeAsyncIterator() -> Iterator { Iterator(socket: socket, maxBytes: maxBytes) }

        /// Receives one datagram per `next()`.
        public struct Iterator: AsyncIteratorProtocol {
            let socket: UdpSocket
            let maxBytes: Int
            /// The next datagram (`receive(maxBytes:)`); never nil.
            public mutating func next() async throws -> Datagram? {
                let r = try await socket.receive(maxBytes: maxBytes)
                return Datagram(bytes: r.bytes, sender: r.sender, truncated: r.truncated)
            }
        }
    }
}

// SwiftNIO TCP echo server (anchor). One event loop thread on 127.0.0.1:PORT.
//
//     nio-echo [--port PORT]
//
// The classic NIO echo handler: channelRead writes the inbound ByteBuffer back,
// channelReadComplete flushes (NIO owns the read buffers; the framework allows no
// caller-owned buffer). SIGTERM/SIGINT set a flag that a 50 ms repeated task on the loop
// checks; then the server channel is closed, the group shut down, and the process
// exits 0 (callgrind needs the clean exit).
import NIOCore
import NIOPosix
#if canImport(Glibc)
import Glibc
#endif

final class EchoHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.write(data, promise: nil)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}

nonisolated(unsafe) var stopRequested: sig_atomic_t = 0

var port = 9000
var args = CommandLine.arguments.dropFirst()
while let a = args.popFirst() {
    if a == "--port", let v = args.popFirst(), let p = Int(v) {
        port = p
    } else {
        fputs("usage: nio-echo [--port PORT]\n", stderr)
        exit(2)
    }
}

signal(SIGTERM) { _ in stopRequested = 1 }
signal(SIGINT) { _ in stopRequested = 1 }

let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
let bootstrap = ServerBootstrap(group: group)
    .serverChannelOption(ChannelOptions.backlog, value: 1024)
    .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
    .childChannelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(EchoHandler())
        }
    }
    .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
    .childChannelOption(ChannelOptions.maxMessagesPerRead, value: 16)

let server = try bootstrap.bind(host: "127.0.0.1", port: port).wait()
print("listening on 127.0.0.1:\(port)")
fflush(stdout)

// Poll the signal flag every 50 ms on the loop (a timer, not a busy loop).
let stopped = server.eventLoop.makePromise(of: Void.self)
let watcher = server.eventLoop.scheduleRepeatedTask(initialDelay: .milliseconds(50), delay: .milliseconds(50)) { task in
    if stopRequested != 0 {
        task.cancel()
        stopped.succeed(())
    }
}
try stopped.futureResult.wait()
_ = watcher
try server.close().wait()
try group.syncShutdownGracefully()
exit(0)

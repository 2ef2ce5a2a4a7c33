import Foundation
import Glibc
import Testing
@testable import Eddy
import CEddyABI  // eddy_err_name / eddy_strerror as include/eddy.h declares them
import EddyC

/// One name and one message per code: EddyError, eddy_err_name / eddy_strerror and
/// include/eddy.h's comments agree, and a misuse gets the code the docs name.
@Suite(.serialized) struct ErrorTableTests {
    /// `#define EDDY_Xxx (-N) /* message */` lines of include/eddy.h: (name, code, message?).
    static func headerCodes() throws -> [(String, Int32, String?)] {
        let header = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../include/eddy.h").standardizedFileURL
        let text = try String(contentsOf: header, encoding: .utf8)
        let re = try NSRegularExpression(pattern: #"^#define (EDDY_E[A-Z]+) \((-\d+)\)(?:\s*/\* (.*) \*/)?\s*$"#,
                                         options: [.anchorsMatchLines])
        let ns = text as NSString
        return re.matches(in: text, range: NSRange(location: 0, length: ns.length)).map { m in
            let msg = m.range(at: 3).location == NSNotFound ? nil : ns.substring(with: m.range(at: 3))
            return (ns.substring(with: m.range(at: 1)), Int32(ns.substring(with: m.range(at: 2)))!, msg)
        }
    }

    @Test func swiftAndCAgreeOnEveryCode() {
        var codes = Array(Int32(-5200)...Int32(-1))
        codes += [Int32.min, -100_000, -4096, -4095]
        var mismatches = 0
        for code in codes {
            let e = EddyError(code: code)
            let cName = String(cString: eddy_err_name(code)!), cMessage = String(cString: eddy_strerror(code)!)
            if e.name != cName || e.message != cMessage {
                mismatches += 1
                if mismatches < 10 { Issue.record("\(code): Swift \(e.name) \"\(e.message)\", C \(cName) \"\(cMessage)\"") }
            }
        }
        #expect(mismatches == 0)
    }

    @Test func headerCommentsAreTheMessages() throws {
        let defs = try Self.headerCodes()
        let own = defs.filter { $0.1 <= -5000 }
        #expect(own.count == 6, "Eddy's own codes in include/eddy.h: \(own.map(\.0))")
        for (name, code, comment) in defs {
            let e = EddyError(code: code)
            if code <= -5000 {
                #expect(e.name == name)
                #expect(e.message == comment, "\(name)")
            } else {
                #expect("EDDY_" + e.name == name)  // errno codes: the errno's own name
                #expect(comment == nil, "\(name): errno codes use the C library's text")
            }
        }
        let statics: [(EddyError, String)] = [(.badHandle, "EDDY_EBADHANDLE"), (.forked, "EDDY_EFORKED"),
            (.shutdown, "EDDY_ESHUTDOWN"), (.wrongThread, "EDDY_EWRONGTHREAD"), (.notReady, "EDDY_ENOTREADY"),
            (.badPoll, "EDDY_EBADPOLL"), (.invalidArgument, "EINVAL"), (.cancelled, "ECANCELED"), (.timedOut, "ETIMEDOUT")]
        for (e, name) in statics {
            #expect(e.name == name)
            #expect(defs.contains { $0.0 == (name.hasPrefix("EDDY_") ? name : "EDDY_" + name) && $0.1 == e.code })
        }
    }

    /// docs/ARCHITECTURE.md: async operations called off the loop thread throw
    /// `wrongThread` (a `Task.detached` runs on Swift's global executor).
    @Test func detachedTaskMisuseIsWrongThread() throws {
        let rt = try Runtime()
        let listener = try TcpListener.bind(host: "127.0.0.1", port: 0, runtime: rt)
        let port = listener.port
        let got: [String: EddyError?] = try rt.blockOn { () async throws -> [String: EddyError?] in
            let (c, s) = try await connectedPair()
            let r: [String: EddyError?] = await Task.detached { () async -> [String: EddyError?] in
                var r: [String: EddyError?] = [:]
                r["read"] = await thrownError { try await c.read(maxBytes: 1) }
                r["write"] = await thrownError { try await c.writeAll("x") }
                r["accept"] = await thrownError { try await listener.accept() }
                r["connect"] = await thrownError { try await TcpStream.connect(host: "127.0.0.1", port: port) }
                r["sleep"] = await thrownError { try await Eddy.sleep(for: .milliseconds(1)) }
                r["timeout"] = await thrownError { try await Eddy.timeout(.seconds(1)) { 1 } }
                r["bind"] = await thrownError { try TcpListener.bind(host: "127.0.0.1", port: 0) }
                r["spawn"] = await thrownError { try await Eddy.spawn { 1 }.value }
                return r
            }.value
            c.close()
            s.close()
            return r
        }
        listener.close()
        #expect(got.count == 8)
        for (op, e) in got.sorted(by: { $0.key < $1.key }) {
            #expect(e == .wrongThread, "\(op): \(e.map(\.description) ?? "no error")")
        }
    }

    /// After the runtime shut down, the same operations are `shutdown`.
    @Test func useAfterShutdownIsShutdown() throws {
        var rt: Runtime? = try Runtime()
        let (c, s) = try rt!.blockOn { try await connectedPair() }
        rt = nil  // last reference: shuts the runtime down
        #expect(throws: EddyError.shutdown) { try c.shutdown(.write) }
        #expect(throws: EddyError.shutdown) { _ = try c.localAddress }
        _ = s
    }
}

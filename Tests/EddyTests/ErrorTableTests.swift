import Foundation
import Glibc
import Testing
@testable import Eddy
import CEddyABI  // eddy_err_name / eddy_strerror as include/eddy.h declares them, its EDDY_ERROR_MAP
import EddyC

/// One name and one message per code: EddyError, eddy_err_name / eddy_strerror and
/// include/eddy.h's EDDY_ERROR_MAP agree, and a misuse gets the code the docs name.
@Suite(.serialized) struct ErrorTableTests {
    /// `#define EDDY_Exxx (-Eyyy)` / `(-N)` lines of include/eddy.h: (macro, value text).
    static func headerDefines() throws -> [(macro: String, value: String)] {
        let header = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../include/eddy.h").standardizedFileURL
        let text = try String(contentsOf: header, encoding: .utf8)
        let re = try NSRegularExpression(pattern: #"^#define (EDDY_E[A-Z_]+) \((-(?:E[A-Z0-9]+|\d+))\)\s*$"#,
                                         options: [.anchorsMatchLines])
        let ns = text as NSString
        return re.matches(in: text, range: NSRange(location: 0, length: ns.length)).map { m in
            (ns.substring(with: m.range(at: 1)), ns.substring(with: m.range(at: 2)))
        }
    }

    /// include/eddy.h's EDDY_ERROR_MAP as the C compiler expanded it (CEddyABI).
    static func headerMap() -> [(code: Int32, macro: String, name: String, message: String)] {
        var map: [(code: Int32, macro: String, name: String, message: String)] = []
        var i = 0
        while let e = ceddy_error_entry(i) {
            map.append((e.pointee.code, String(cString: e.pointee.macro), String(cString: e.pointee.name),
                        String(cString: e.pointee.message)))
            i += 1
        }
        return map
    }

    /// ErrorTable.swift is the header's map, entry by entry, and holds nothing else.
    @Test func swiftTableIsTheHeaderMap() {
        let map = Self.headerMap()
        #expect(map.count >= 21, "EDDY_ERROR_MAP: \(map.map(\.macro))")
        #expect(map.filter { $0.code <= -5000 }.count == 6 + 11, "Eddy's own codes (6 + 11 resolver codes): \(map.map(\.macro))")
        #expect(Set(map.map(\.code)).count == map.count, "a code twice in EDDY_ERROR_MAP")
        for e in map {
            let swift = headerError(e.code)
            #expect(swift.map { "\($0.name)" } == e.name, "\(e.macro)")
            #expect(swift.map { "\($0.message)" } == e.message, "\(e.macro)")
            // Own codes (and READY/PENDING) are named by their macro, errno codes by the errno.
            #expect(e.macro == e.name || e.macro == "EDDY_" + e.name, "\(e.macro) named \(e.name)")
            if e.code < 0 && e.code > -4096 {
                #expect(errnoName(-e.code).map { "\($0)" } == e.name, "\(e.macro): not errno \(e.name)")
            }
            if e.code <= 0 {  // EddyError(code: 1) is EPERM: a positive code is an errno
                #expect(EddyError(code: e.code).name == e.name)
                #expect(EddyError(code: e.code).message == e.message)
            }
        }
        // Nothing in the Swift table the header lacks (every code it could hold is in range).
        let codes = Set(map.map(\.code))
        for code in Int32(-5200)...Int32(1) where headerError(code) != nil {
            #expect(codes.contains(code), "ErrorTable.swift has \(code), EDDY_ERROR_MAP does not")
        }
    }

    /// The header's #defines are the map's codes: errno codes spelled `(-Exxx)` with the
    /// errno of their own name, Eddy's own as numbers below -5000, one map entry each.
    @Test func headerDefinesAreTheMap() throws {
        let defs = try Self.headerDefines()
        let map = Self.headerMap()
        #expect(defs.count == map.count - 2, "defines \(defs.map(\.macro))")  // map: + READY, PENDING
        for (macro, value) in defs {
            let entry = try #require(map.first { $0.macro == macro }, "\(macro) is not in EDDY_ERROR_MAP")
            if value.hasPrefix("-E") {
                #expect("EDDY_" + value.dropFirst() == macro, "\(macro) defined as (\(value))")
                #expect(entry.name == String(value.dropFirst()))
            } else {
                #expect(Int32(value) == entry.code, "\(macro) (\(value))")
                #expect(entry.code <= -5000, "\(macro): a number where an errno exists")
            }
        }
        let statics: [(EddyError, String)] = [(.badHandle, "EDDY_EBADHANDLE"), (.forked, "EDDY_EFORKED"),
            (.shutdown, "EDDY_ESHUTDOWN"), (.wrongThread, "EDDY_EWRONGTHREAD"), (.notReady, "EDDY_ENOTREADY"),
            (.badPoll, "EDDY_EBADPOLL"), (.nameNotFound, "EDDY_EAI_NONAME"), (.invalidArgument, "EINVAL"), (.cancelled, "ECANCELED"), (.timedOut, "ETIMEDOUT")]
        for (e, name) in statics {
            #expect(e.name == name)
            #expect(map.contains { $0.name == name && $0.code == e.code })
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

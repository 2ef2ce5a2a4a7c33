import Glibc
import Testing
@testable import Eddy

/// Files through the blocking pool (issue 16 item 5).
@Suite struct FileTests {
    func tempDir() throws -> String {
        var template = Array("/tmp/eddy-file-swift-XXXXXX".utf8CString)
        guard let p = mkdtemp(&template) else { throw EddyError.errno(errno) }
        return String(cString: p)
    }

    @Test func wholeFileAndStreamedRoundTrips() throws {
        let dir = try tempDir()
        defer { _ = system("rm -rf '\(dir)'") }
        let before = openDescriptorCount()
        let rt = try Runtime()
        try rt.blockOn {
            let path = "\(dir)/f"
            var data = [UInt8](repeating: 0, count: (3 << 20) + 5)
            for i in stride(from: 0, to: data.count, by: 4093) { data[i] = UInt8(truncatingIfNeeded: i / 4093 + 1) }
            try await File.write(path, data)
            #expect(try await File.read(path) == data)
            try await File.write(path, Array("end".utf8), append: true)
            #expect(try await File.read(path) == data + Array("end".utf8))
            let w = try await File.open("\(dir)/s", .write)
            for i in 0..<10 { try await w.write(Array("line \(i)\n".utf8)) }
            w.close()
            #expect(w.isClosed)
            #expect(await thrownError { try await w.write([1]) } == .badHandle)
            let f = try await File.open("\(dir)/s")
            #expect(try await f.read(maxBytes: 7) == Array("line 0\n".utf8))
            #expect(try await f.read(maxBytes: Int.max).count == 63)  // a huge size allocates what is read
            #expect(try await f.read(maxBytes: 10).isEmpty)
            #expect(await thrownError { try await f.read(maxBytes: -1) } == .invalidArgument)
            f.close()
            f.close()
            let job = try File.readJob("\(dir)/s")  // poll style: a BlockingHandle
            let r = try await job.value
            #expect(try r.get().count == 70)
        }
        #expect(openDescriptorCount() == before + ownDescriptors(rt))
    }

    @Test func missingPathsAndDirectoriesAreClearErrors() throws {
        let dir = try tempDir()
        defer { _ = system("rm -rf '\(dir)'") }
        let before = openDescriptorCount()
        let rt = try Runtime()
        try rt.blockOn {
            #expect(await thrownError { try await File.read("\(dir)/nope") } == .errno(ENOENT))
            #expect(await thrownError { try await File.open("\(dir)/nope/x") } == .errno(ENOENT))
            #expect(await thrownError { try await File.read(dir) } == .errno(EISDIR))
            #expect(await thrownError { try await File.open(dir) } == .errno(EISDIR))
            #expect(await thrownError { try await File.write(dir, [1]) } == .errno(EISDIR))
            #expect(await thrownError { try await File.read("a\0b") } == .invalidArgument)
            try await File.write("\(dir)/x", [1])
            #expect(await thrownError { try await File.open("\(dir)/x", .createNew) } == .errno(EEXIST))
        }
        #expect(openDescriptorCount() == before + ownDescriptors(rt))
        #expect(throws: EddyError.wrongThread) { try File.readJob("/") }  // no runtime here
    }

    @Test func closeWhileAJobRunsLeavesTheCloseToIt() throws {
        let dir = try tempDir()
        defer { _ = system("rm -rf '\(dir)'") }
        let before = openDescriptorCount()
        let rt = try Runtime()
        try rt.blockOn {
            try await File.write("\(dir)/big", [UInt8](repeating: 7, count: 8 << 20))
            let f = try await File.open("\(dir)/big")
            let reader = Eddy.spawn { try await f.readToEnd().count }
            await Task.yield()
            f.close()  // the read (if it started) still owns the descriptor
            let n = try? await reader.value
            #expect(n == nil || n == 8 << 20)
        }
        #expect(openDescriptorCount() == before + ownDescriptors(rt))
    }
}

import Glibc
import Testing
@testable import Eddy

/// Everything `stream` sends until end-of-file.
private func readAll(_ stream: TcpStream) async throws -> String {
    var out: [UInt8] = []
    while true {
        let chunk = try await stream.read(maxBytes: 4096)
        if chunk.isEmpty { break }
        out += chunk
    }
    return String(decoding: out, as: UTF8.self)
}

/// Descriptors of this process without close-on-exec (a child legitimately inherits them).
private func inheritableDescriptors() -> Set<Int32> {
    var fds = Set<Int32>()
    for fd in Int32(0)..<1024 {
        let flags = fcntl(fd, F_GETFD)
        if flags >= 0 && flags & FD_CLOEXEC == 0 { fds.insert(fd) }
    }
    return fds
}

/// /proc/PID/stat's state letter, nil once the process is gone (reaped).
private func processState(_ pid: Int32) -> Character? {
    guard let f = fopen("/proc/\(pid)/stat", "r") else { return nil }
    defer { fclose(f) }
    var buf = [UInt8](repeating: 0, count: 512)
    let n = fread(&buf, 1, 511, f)
    let line = String(decoding: buf[0..<n], as: UTF8.self)
    guard let close = line.lastIndex(of: ")") else { return nil }
    return line[line.index(close, offsetBy: 2)]
}

/// Child processes. Serialized: one test toggles EDDY_TEST_NO_PIDFD, others count fds.
@Suite(.serialized) struct SubprocessTests {
    @Test func stdoutIsAStreamAndTheTerminationStatusArrives() throws {
        let rt = try Runtime()
        let (text, status, pidfd) = try rt.blockOn { () async throws -> (String, TerminationStatus, Bool) in
            let p = try Subprocess.spawn(["echo", "hello"], stdout: .pipe)
            let text = try await readAll(p.stdout!)
            return (text, try await p.wait(), p.usesPidfd)
        }
        #expect(text == "hello\n")
        #expect(status == .exited(0))
        #expect(pidfd)
    }

    @Test func environmentAndWorkingDirectory() throws {
        let rt = try Runtime()
        let text = try rt.blockOn { () async throws -> String in
            let p = try Subprocess.spawn(["/bin/sh", "-c", "echo $EDDY_X; pwd; echo oops >&2"],
                                         environment: ["EDDY_X": "forty two", "PATH": "/usr/bin:/bin"],
                                         workingDirectory: "/tmp", stdout: .pipe, stderr: .stdout)
            let text = try await readAll(p.stdout!)
            _ = try await p.wait()
            return text
        }
        #expect(text == "forty two\n/tmp\noops\n")
    }

    @Test func stdinIsAStreamAndShutdownSendsEndOfFile() throws {
        let rt = try Runtime()
        let (text, status) = try rt.blockOn { () async throws -> (String, TerminationStatus) in
            let p = try Subprocess.spawn(["cat"], stdin: .pipe, stdout: .pipe, stderr: .null)
            try await p.stdin!.writeAll("through cat")
            try p.stdin!.shutdown(.write)
            let text = try await readAll(p.stdout!)
            return (text, try await p.wait())
        }
        #expect(text == "through cat")
        #expect(status == .exited(0))
    }

    @Test func exitCodesAndSignals() throws {
        let rt = try Runtime()
        let (three, killed, again) = try rt.blockOn { () async throws -> (TerminationStatus, TerminationStatus, EddyError?) in
            let a = try Subprocess.spawn(["/bin/sh", "-c", "exit 3"])
            let b = try Subprocess.spawn(["sleep", "30"])
            try b.kill()
            let sb = try await b.wait()
            var again: EddyError? = nil
            do { try b.kill() } catch let e as EddyError { again = e }
            return (try await a.wait(), sb, again)
        }
        #expect(three == .exited(3))
        #expect(three.returnCode == 3)
        #expect(killed == .signalled(SIGKILL))
        #expect(killed.returnCode == -SIGKILL)
        #expect(again == .errno(ESRCH))
    }

    @Test func killingAProcessThatExitedUnwaitedIsESRCH() throws {
        let rt = try Runtime()
        let (err, status) = try rt.blockOn { () async throws -> (EddyError?, TerminationStatus?) in
            let p = try Subprocess.spawn(["true"])
            while processState(p.pid) != "Z" { try await Eddy.sleep(for: .milliseconds(5)) }
            do { try p.kill(SIGTERM) } catch let e as EddyError { return (e, p.status) }
            return (nil, p.status)
        }
        #expect(err == .errno(ESRCH))
        #expect(status == .exited(0))  // reaped by the kill's check
    }

    @Test func aProgramThatDoesNotExistIsENOENTWithNoLeakAndNoChild() throws {
        let rt = try Runtime()
        let before = openDescriptorCount()
        let err = try rt.blockOn { () async throws -> EddyError? in
            do {
                _ = try Subprocess.spawn(["/nonexistent/eddy-no-such-program"], stdin: .pipe, stdout: .pipe, stderr: .null)
                return nil
            } catch { return error as? EddyError }
        }
        #expect(err == .errno(ENOENT))
        #expect(openDescriptorCount() == before)
        var status: Int32 = 0
        #expect(waitpid(-1, &status, WNOHANG) == -1 && errno == ECHILD)  // no child, no zombie
        #expect(throws: EddyError.errno(EINVAL)) {
            try rt.blockOn { () async throws -> Void in _ = try Subprocess.spawn([]) }
        }
    }

    @Test func noEddyDescriptorLeaksIntoTheChild() throws {
        let rt = try Runtime()
        let allowed = inheritableDescriptors().union([0, 1, 2, 3])  // 3: ls's directory
        let listed = try rt.blockOn { () async throws -> [Int32] in
            let sig = try Signals(.user1)  // a signalfd, open in the parent meanwhile
            let other = try Subprocess.spawn(["sleep", "5"], stdin: .pipe, stdout: .pipe)
            let p = try Subprocess.spawn(["ls", "/proc/self/fd"], stdin: .pipe, stdout: .pipe)
            let text = try await readAll(p.stdout!)
            _ = try await p.wait()
            try other.kill()
            _ = try await other.wait()
            sig.cancel()
            return text.split(separator: "\n").compactMap { Int32($0) }
        }
        #expect(listed.count >= 3)
        #expect(Set(listed).isSubset(of: allowed), "child saw \(listed), allowed \(allowed.sorted())")
    }

    @Test func aDroppedChildIsReapedNeverAZombie() throws {
        let rt = try Runtime()
        let pids = try rt.blockOn { () async throws -> [Int32] in
            let running = try Subprocess.spawn(["sleep", "0.2"])
            let exited = try Subprocess.spawn(["true"])
            while processState(exited.pid) != "Z" { try await Eddy.sleep(for: .milliseconds(5)) }
            return [running.pid, exited.pid]  // both dropped here, neither waited for
        }
        let deadline = ContinuousClock.now + .seconds(10)
        while pids.contains(where: { processState($0) != nil }) && ContinuousClock.now < deadline { usleep(10_000) }
        for pid in pids { #expect(processState(pid) == nil, "pid \(pid) still \(String(describing: processState(pid)))") }
    }

    @Test func theSigchldFallbackWaitsWithoutAPidfd() throws {
        setenv("EDDY_TEST_NO_PIDFD", "1", 1)
        defer { unsetenv("EDDY_TEST_NO_PIDFD") }
        let rt = try Runtime()
        let (status, pidfd, dropped) = try rt.blockOn { () async throws -> (TerminationStatus, Bool, Int32) in
            let p = try Subprocess.spawn(["/bin/sh", "-c", "sleep 0.05; exit 5"])
            let q = try Subprocess.spawn(["sleep", "0.1"])
            return (try await p.wait(), p.usesPidfd || q.usesPidfd, q.pid)
        }
        #expect(status == .exited(5))
        #expect(!pidfd)
        let deadline = ContinuousClock.now + .seconds(10)
        while processState(dropped) != nil && ContinuousClock.now < deadline { usleep(10_000) }
        #expect(processState(dropped) == nil)
    }
}

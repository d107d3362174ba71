// The .deb of `make dist` on a Debian host without Swift: a minimal Debian root (debootstrap, cached by
// .ci/debian-root) gets the package through apt, which resolves its Depends from the mirror; `smaller doctor`
// runs there, and a worker inside it (chroot, sharing the host's loopback) joins a coordinator outside and
// completes a noop grid. Root only, and only for a package named by SMALLER_DEB (`make test-dist` builds one
// and runs this); skipped with the reason otherwise.
import Experiment
import Foundation
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

@Suite(.serialized) struct DistInstallTests {
    static let deb: String? = ProcessInfo.processInfo.environment["SMALLER_DEB"].flatMap {
        FileManager.default.fileExists(atPath: $0) ? URL(fileURLWithPath: $0).standardizedFileURL.path : nil
    }
    static var hasDebootstrap: Bool {
        ["/usr/sbin/debootstrap", "/usr/bin/debootstrap"].contains { FileManager.default.isExecutableFile(atPath: $0) }
    }
    static let runnable = getuid() == 0 && hasDebootstrap && deb != nil
    static var skipReason: Comment {
        if getuid() != 0 { return "needs root (debootstrap, chroot)" }
        if !hasDebootstrap { return "debootstrap is not installed (`.ci/install-deps --test` installs it)" }
        return "no package: set SMALLER_DEB to a .deb from `make dist` (`make test-dist` does both)"
    }

    /// `command` run by /bin/sh inside `root`, in a mount namespace of its own with /proc mounted (gone with it).
    static func inRoot(_ root: URL, _ command: String) -> [String] {
        ["--mount", "--propagation", "private", "--fork", "--kill-child", "/bin/sh", "-c",
         "mount -t proc proc \"$0/proc\" && exec chroot \"$0\" /bin/sh -c \"$1\"", root.path, command]
    }

    @Test(.enabled(if: runnable, skipReason)) func theDebInstallsOnPlainDebianAndItsWorkerRunsAGrid() throws {
        let dir = try Fixtures.temporaryDirectory("dist-install")
        defer { try? FileManager.default.removeItem(at: dir) }
        let started = Date()
        let made = shell("'\(Fixtures.repositoryRoot.path)/.ci/debian-root'", in: dir)
        try #require(made.status == 0, "\(made.output.suffix(3000))")
        let cached = URL(fileURLWithPath: made.output.split(separator: "\n").last.map(String.init) ?? "")
        // A copy per run: the cache stays the bare debootstrap, so every run installs from scratch.
        let root = dir.appendingPathComponent("root")
        let deb = try #require(Self.deb)
        let debName = URL(fileURLWithPath: deb).lastPathComponent
        let prepared = shell("""
            cp -a '\(cached.path)' '\(root.path)' && cp /etc/resolv.conf '\(root.path)/etc/' && \
            rm -f '\(root.path)'/etc/apt/sources.list '\(root.path)'/etc/apt/sources.list.d/* && \
            for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do \
              if [ -f "$f" ]; then cp "$f" '\(root.path)'"$f"; fi; done && \
            cp '\(deb)' '\(root.path)/tmp/\(debName)'
            """, in: dir)
        try #require(prepared.status == 0, "\(prepared.output)")
        let prepareSeconds = Date().timeIntervalSince(started)

        // No Swift in the root before or after: the package must bring everything but Debian's libraries.
        let swiftFiles = "find / -xdev \\( -name 'libswiftCore*' -o -name 'libFoundation.so*' -o -name swift \\) -print"
        func noSwift(_ when: String) throws {
            let found = try Child(Self.inRoot(root, swiftFiles), in: dir, name: "find-\(when)", executable: "/usr/bin/unshare")
            #expect(found.wait(seconds: 120, "find") == 0)
            #expect(found.text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "Swift in the root \(when): \(found.text.prefix(2000))")
        }
        try noSwift("before")
        let install = try Child(Self.inRoot(root, """
            export DEBIAN_FRONTEND=noninteractive && apt-get update -qq && \
            apt-get install -y -qq --no-install-recommends /tmp/\(debName)
            """), in: dir, name: "install", executable: "/usr/bin/unshare")
        #expect(install.wait(seconds: 900, "apt-get install") == 0, "\(install.text.suffix(4000))")
        try noSwift("after")

        let doctor = try Child(Self.inRoot(root, "smaller doctor"), in: dir, name: "doctor", executable: "/usr/bin/unshare")
        #expect(doctor.wait(seconds: 60, "doctor") == 0, "\(doctor.text)")
        let lines = doctor.text.split(separator: "\n")
        #expect(lines.contains { $0.hasPrefix("swift (on PATH)") && $0.hasSuffix(" not found") }, "\(doctor.text)")
        #expect(lines.contains { $0.hasPrefix("ZeroMQ CURVE") && $0.hasSuffix(" available") }, "\(doctor.text)")

        // The coordinator outside runs the same build, unpacked from the package (the host has its libraries).
        let unpacked = dir.appendingPathComponent("unpacked")
        #expect(shell("dpkg-deb -x '\(deb)' '\(unpacked.path)'", in: dir).status == 0)
        let outside = unpacked.appendingPathComponent("usr/bin/smaller").path
        let yaml = "name: dist\nnoop: {tasks: 20, seconds: 0, salt: dist}\nexecution: {noop_output_bytes: 4096}\n"
        let grid = try LoopbackGrid(yaml, in: dir)
        let coordinator = try Child(["coordinator", grid.job, "--bind", grid.endpoint, "--dir", grid.run.url.path], in: dir,
                                    name: "coordinator", executable: outside)
        let worker = try Child(Self.inRoot(root, "exec smaller worker --connect \(grid.endpoint) --dir /tmp/worker"), in: dir,
                               name: "worker", executable: "/usr/bin/unshare")
        try grid.finish(coordinator, [worker])
        #expect(worker.wait(seconds: 15, "worker") == 0, "\(worker.text.suffix(2000))")
        let version = shell("'\(outside)' --version", in: dir).output.trimmingCharacters(in: .whitespacesAndNewlines)
        let records = try grid.run.exportedRecords()
        #expect(records.count == 20 && records.allSatisfy { "\($0.engineVersion) (\($0.gitCommit ?? ""))" == version },
                "\(version) vs \(records.first.map { "\($0.engineVersion) \($0.gitCommit ?? "-")" } ?? "none")")
        print("DistInstallTests: root ready in \(Int(prepareSeconds)) s (debootstrap cache at \(cached.path)); whole test \(Int(Date().timeIntervalSince(started))) s")
    }
}

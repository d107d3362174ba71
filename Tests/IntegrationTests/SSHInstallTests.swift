// `cluster/ssh/start.sh --install DEB` through the fake ssh/scp of ClusterScriptTests, plus a fake `apt-get` that
// unpacks the package into the host's root/ (first on its PATH): hosts without the package's build get it
// copied and installed, a host that runs it already is skipped, a second run installs nothing, and the installed
// workers join and run tasks. The package is a real .deb made with dpkg-deb, holding a wrapper around the
// built `smaller` with the Smaller-Version field .ci/dist writes.
import Experiment
import Foundation
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

@Suite(.serialized, .enabled(if: Smaller.available, Smaller.unavailable)) struct SSHInstallTests {
    static let script = Fixtures.repositoryRoot.appendingPathComponent("cluster/ssh/start.sh").path

    /// A .deb named like make dist's, whose /usr/bin/smaller runs the built binary; returns its path.
    static func makePackage(in dir: URL, version: String) throws -> String {
        let root = dir.appendingPathComponent("pkg")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("DEBIAN"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: root.appendingPathComponent("usr/bin"), withIntermediateDirectories: true)
        let wrapper = root.appendingPathComponent("usr/bin/smaller")
        try "#!/bin/sh\nexec '\(Smaller.executable!.path)' \"$@\"\n".write(to: wrapper, atomically: true, encoding: .utf8)
        chmod(wrapper.path, 0o755)
        try """
            Package: smaller
            Version: \(BuildInfo.version)+gittest
            Architecture: amd64
            Maintainer: test <test@localhost>
            Smaller-Version: \(version)
            Description: test package
             a wrapper around the built smaller

            """.write(to: root.appendingPathComponent("DEBIAN/control"), atomically: true, encoding: .utf8)
        let deb = dir.appendingPathComponent("smaller_\(BuildInfo.version)+gittest_amd64.deb").path
        let built = shell("dpkg-deb --root-owner-group --build '\(root.path)' '\(deb)'", in: dir)
        #expect(built.status == 0, "\(built.output)")
        return deb
    }

    /// apt-get that records its arguments and unpacks `./NAME.deb` into $HOME/root; sudo that runs its command.
    static func writeFakeAptAndSudo(in bin: URL, root: URL) throws {
        let apt = """
            #!/bin/sh
            printf 'apt-get' >> "\(root.path)/calls"; printf ' [%s]' "$@" >> "\(root.path)/calls"; echo >> "\(root.path)/calls"
            for a in "$@"; do
                case "$a" in ./*.deb) dpkg-deb -x "$a" "$HOME/root" || exit 100 ;; esac
            done
            """
        let sudo = "#!/bin/sh\n[ \"$1\" = -n ] && shift\nexec \"$@\"\n"
        for (name, text) in [("apt-get", apt), ("sudo", sudo)] {
            let url = bin.appendingPathComponent(name)
            try (text + "\n").write(to: url, atomically: true, encoding: .utf8)
            chmod(url.path, 0o755)
        }
    }

    @Test func installsWhereTheBuildIsMissingSkipsWhereItIsAndWorkersJoin() throws {
        let dir = try Fixtures.temporaryDirectory("ssh-install")
        defer { try? FileManager.default.removeItem(at: dir) }
        let fakeRoot = dir.appendingPathComponent("hosts"), fakeBin = dir.appendingPathComponent("bin")
        for d in [fakeRoot, fakeBin] { try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true) }
        try ClusterScriptTests.writeFakeSSH(in: fakeBin, root: fakeRoot)
        try Self.writeFakeAptAndSudo(in: fakeBin, root: fakeRoot)
        // No built `smaller` on PATH: a host has one only once the package is installed there.
        let env = ["PATH": "\(fakeBin.path):/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]
        let version = try Child(["--version"], in: dir, name: "version")
        #expect(version.wait(seconds: 20) == 0)
        let ours = version.text.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(ours == "\(BuildInfo.version) (\(BuildInfo.commit))")
        let deb = try Self.makePackage(in: dir, version: ours)
        let debName = URL(fileURLWithPath: deb).lastPathComponent

        #expect(try Child(["keys", "generate", "--dir", dir.appendingPathComponent("keys").path, "--workers", "3"], in: dir,
                          name: "keys").wait(seconds: 30, "keys generate") == 0)
        try "alpha\nbeta\ngamma\n".write(to: dir.appendingPathComponent("hosts.txt"), atomically: true, encoding: .utf8)
        // beta runs this build already (installed earlier).
        let betaRoot = fakeRoot.appendingPathComponent("beta/root")
        try FileManager.default.createDirectory(at: betaRoot, withIntermediateDirectories: true)
        #expect(shell("dpkg-deb -x '\(deb)' '\(betaRoot.path)'", in: dir).status == 0)

        let run = RunDir(url: dir.appendingPathComponent("run"))
        let endpoint = "tcp://127.0.0.1:\(freePort())"
        let coordinator = try Child(["coordinator", try writeJob("name: sshi\nnoop: {tasks: 60, seconds: 0.2}\n", in: dir), "--bind",
                                     endpoint, "--dir", run.url.path, "--keys", dir.appendingPathComponent("keys").path],
                                    in: dir, name: "coordinator")
        let start = shell("'\(Self.script)' --install '\(deb)' hosts.txt \(endpoint) keys", in: dir, environment: env)
        #expect(start.status == 0, "\(start.output)")
        #expect(start.output.contains("alpha: installed smaller \(ours)") && start.output.contains("gamma: installed smaller \(ours)"),
                "\(start.output)")
        #expect(start.output.contains("beta: smaller \(ours) is installed already"), "\(start.output)")
        let calls = (try? String(contentsOf: fakeRoot.appendingPathComponent("calls"), encoding: .utf8)) ?? ""
        let copies = calls.split(separator: "\n").filter { $0.hasPrefix("scp") && $0.contains(debName) }
        #expect(copies.count == 2 && !copies.contains { $0.contains("[beta:") }, "\(copies)")
        #expect(calls.split(separator: "\n").filter { $0.hasPrefix("apt-get") && $0.contains("[./\(debName)]") }.count == 2, "\(calls)")
        // The copied package is removed once installed.
        #expect(!FileManager.default.fileExists(atPath: fakeRoot.appendingPathComponent("alpha/.smaller/\(debName)").path))
        // The three workers, each run from its host's installed package, join over CURVE and run tasks.
        #expect(waitUntil(seconds: 30) { run.coordinatorLog.components(separatedBy: "joined").count - 1 == 3 }, "\(run.coordinatorLog)")
        #expect(!run.coordinatorLog.contains("refused"))
        #expect(waitUntil(seconds: 30) { ((try? run.states()) ?? [:]).values.filter { $0 == "done" }.count >= 3 })
        let pids = ["alpha", "beta", "gamma"].compactMap { host in
            Int32(((try? String(contentsOf: fakeRoot.appendingPathComponent("\(host)/.smaller/worker.pid"), encoding: .utf8)) ?? "")
                .trimmingCharacters(in: .whitespacesAndNewlines))
        }
        #expect(pids.count == 3)
        let stop = Fixtures.repositoryRoot.appendingPathComponent("cluster/ssh/stop.sh").path
        #expect(shell("'\(stop)' hosts.txt", in: dir, environment: env).status == 0)
        #expect(waitUntil(seconds: 20) { !pids.contains(where: processAlive) }, "workers still running after stop.sh")

        // A second run installs nothing: every host runs the package's build.
        try FileManager.default.removeItem(at: fakeRoot.appendingPathComponent("calls"))
        let again = shell("'\(Self.script)' --install '\(deb)' hosts.txt \(endpoint) keys", in: dir, environment: env)
        #expect(again.status == 0, "\(again.output)")
        let callsAgain = (try? String(contentsOf: fakeRoot.appendingPathComponent("calls"), encoding: .utf8)) ?? ""
        #expect(!callsAgain.contains(debName) && !callsAgain.contains("apt-get"), "\(callsAgain)")
        #expect(again.output.components(separatedBy: "is installed already").count - 1 == 3, "\(again.output)")
        #expect(try Child(["cancel", run.url.path], in: dir, name: "cancel").wait(seconds: 20, "cancel") == 0)
        #expect(coordinator.wait(seconds: 20, "coordinator") == 130)
        let later = ["alpha", "beta", "gamma"].compactMap { host in
            Int32(((try? String(contentsOf: fakeRoot.appendingPathComponent("\(host)/.smaller/worker.pid"), encoding: .utf8)) ?? "")
                .trimmingCharacters(in: .whitespacesAndNewlines))
        }
        for pid in pids + later where processAlive(pid) { kill(pid, SIGKILL) }
    }

    @Test func aMissingPackageIsRefusedBeforeAnyHostIsTouched() throws {
        let dir = try Fixtures.temporaryDirectory("ssh-install-missing")
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = shell("'\(Self.script)' --install nowhere.deb hosts.txt tcp://127.0.0.1:1 keys", in: dir)
        #expect(out.status == 64 && out.output.contains("no package at nowhere.deb"), "\(out.output)")
    }
}

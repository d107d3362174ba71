// The `cluster/local` and `cluster/ssh` recipes with real processes: local workers complete a grid and stop;
// the ssh recipe runs through a fake `ssh`/`scp` on PATH that runs each remote command locally, in a home
// directory of its own per host, and records its arguments; the scripts pass `sh -n`, `bash -n` and shellcheck.
import Experiment
import Foundation
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// Runs `script` with /bin/sh in `dir` with extra environment; returns the exit status and the output.
/// Through system(3), not Process, and with every descriptor above 2 closed first: Foundation's Process
/// counts a child as running while any other process holds a descriptor it made for that child, and the
/// recipes leave workers running in the background with whatever they inherited.
@discardableResult
func shell(_ script: String, in dir: URL, environment: [String: String] = [:]) -> (status: Int32, output: String) {
    func quote(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }
    let out = dir.appendingPathComponent("shell-\(UUID().uuidString.prefix(6)).out")
    let exports = environment.map { "export \($0.key)=\(quote($0.value)); " }.joined()
    let closeAll = "for fd in $(ls /proc/$$/fd); do [ \"$fd\" -gt 2 ] && eval \"exec $fd>&-\"; done; "
    let inner = "\(closeAll)\(exports)cd \(quote(dir.path)) && ( \(script) ) </dev/null >\(quote(out.path)) 2>&1"
    let status = Glibc.system("exec bash -c \(quote(inner))")
    return (status == -1 ? -1 : (status >> 8) & 0xff, (try? String(contentsOf: out, encoding: .utf8)) ?? "")
}

func processAlive(_ pid: Int32) -> Bool {
    guard kill(pid, 0) == 0 else { return false }
    // A zombie (exited, not yet reaped by its parent) counts as gone.
    let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
    return !(stat.split(separator: ")").last?.trimmingCharacters(in: .whitespaces).hasPrefix("Z") ?? true)
}

@Suite(.serialized) struct ClusterScriptTests {
    static let cluster = Fixtures.repositoryRoot.appendingPathComponent("cluster")
    static let scripts = ["local/workers.sh", "local/stop.sh", "ssh/start.sh", "ssh/stop.sh", "slurm/workers.sbatch"]

    @Test func scriptsParse() throws {
        let dir = try Fixtures.temporaryDirectory("cluster-parse")
        defer { try? FileManager.default.removeItem(at: dir) }
        for script in Self.scripts {
            let path = Self.cluster.appendingPathComponent(script).path
            #expect(shell("sh -n '\(path)' && bash -n '\(path)'", in: dir).status == 0, "\(script) does not parse")
        }
    }

    /// Whether `shellcheck` is on PATH.
    static var hasShellcheck: Bool {
        (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").contains {
            FileManager.default.isExecutableFile(atPath: "\($0)/shellcheck")
        }
    }

    @Test(.enabled(if: hasShellcheck, "shellcheck is not installed (`.ci/install-deps --test` installs it)"))
    func scriptsPassShellcheck() throws {
        let dir = try Fixtures.temporaryDirectory("cluster-lint")
        defer { try? FileManager.default.removeItem(at: dir) }
        let paths = Self.scripts.map { "'\(Self.cluster.appendingPathComponent($0).path)'" }.joined(separator: " ")
        let lint = shell("shellcheck -s sh \(paths)", in: dir)
        #expect(lint.status == 0, "shellcheck:\n\(lint.output)")
    }

    @Test(.enabled(if: Smaller.available, Smaller.unavailable)) func localWorkersCompleteAGridAndStop() throws {
        let dir = try Fixtures.temporaryDirectory("cluster-local")
        defer { try? FileManager.default.removeItem(at: dir) }
        let binDir = Smaller.executable!.deletingLastPathComponent().path
        let env = ["PATH": "\(binDir):\(ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")"]
        let script = Self.cluster.appendingPathComponent("local").path

        // 1. A grid of slow tasks: three workers join, stop.sh ends them (each says BYE: its lease is released).
        let slow = "name: cl-slow\nnoop: {tasks: 40, seconds: 1}\n"
        let slowRun = RunDir(url: dir.appendingPathComponent("slow"))
        let slowEndpoint = "tcp://127.0.0.1:\(freePort())"
        let c1 = try Child(["coordinator", try writeJob(slow, in: dir, name: "slow.yaml"), "--bind", slowEndpoint, "--dir", slowRun.url.path],
                           in: dir, name: "c1")
        let started = shell("'\(script)/workers.sh' 3 \(slowEndpoint) w1", in: dir, environment: env)
        #expect(started.status == 0, "\(started.output)")
        let pids = ((try? String(contentsOf: dir.appendingPathComponent("cluster-local.pids"), encoding: .utf8)) ?? "")
            .split(separator: "\n").compactMap { Int32($0) }
        #expect(pids.count == 3)
        #expect(waitUntil(seconds: 30) { slowRun.coordinatorLog.components(separatedBy: "joined").count - 1 == 3 }, "\(slowRun.coordinatorLog)")
        var lastError = ""
        #expect(waitUntil(seconds: 30) {
            do {
                let states = try slowRun.states()
                lastError = "states: \(Set(states.values)) of \(states.count)"
                return states.values.contains("leased")
            } catch { lastError = "\(error)"; return false }
        }, "\(lastError)")
        let stopped = shell("'\(script)/stop.sh'", in: dir, environment: env)
        #expect(stopped.status == 0, "\(stopped.output)")
        #expect(waitUntil(seconds: 20) { !pids.contains(where: processAlive) }, "workers still running after stop.sh")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("cluster-local.pids").path))
        #expect(waitUntil(seconds: 10) { slowRun.coordinatorLog.components(separatedBy: "left: worker stopped").count - 1 == 3 },
                "\(slowRun.coordinatorLog)")
        #expect(waitUntil(seconds: 10) { !((try? slowRun.states()) ?? [:]).values.contains("leased") })
        #expect(try slowRun.eventCount("attempt-failed") == 0)  // leaving on purpose costs no attempt
        // `smaller cancel` stops the coordinator cleanly (a signal's disposition is the spawner's business).
        #expect(try Child(["cancel", slowRun.url.path], in: dir, name: "cancel1").wait(seconds: 20, "cancel") == 0)
        #expect(c1.wait(seconds: 20, "coordinator") == 130)
        for pid in pids where processAlive(pid) { kill(pid, SIGKILL) }

        // 2. A fast grid completes with two local workers, which exit by themselves on the coordinator's BYE.
        let fast = "name: cl-fast\nnoop: {tasks: 50, seconds: 0.01}\n"
        let fastRun = RunDir(url: dir.appendingPathComponent("fast"))
        let fastEndpoint = "tcp://127.0.0.1:\(freePort())"
        let c2 = try Child(["coordinator", try writeJob(fast, in: dir, name: "fast.yaml"), "--bind", fastEndpoint, "--dir", fastRun.url.path],
                           in: dir, name: "c2")
        #expect(shell("'\(script)/workers.sh' 2 \(fastEndpoint) w2", in: dir, environment: env).status == 0)
        let fastPids = ((try? String(contentsOf: dir.appendingPathComponent("cluster-local.pids"), encoding: .utf8)) ?? "")
            .split(separator: "\n").compactMap { Int32($0) }
        #expect(c2.wait(seconds: 60, "coordinator") == 0, "\(c2.text.suffix(2000))")
        #expect(Set(fastRun.exportedIDs) == Set(try JobSpec.parse(yaml: fast).plan().tasks.map(\.id)))
        #expect(try fastRun.resultCount() == (50, 50))
        #expect(waitUntil(seconds: 20) { !fastPids.contains(where: processAlive) }, "workers did not exit after the grid finished")
        for i in 0..<2 {
            #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("w2/\(i)/worker.log").path))
        }
        for pid in fastPids where processAlive(pid) { kill(pid, SIGKILL) }
    }

    /// A fake `ssh` (runs the remote command with sh in HOME=FAKE/<host>, FAKE/<host>/root/usr/bin first on PATH,
    /// records every argument, and reads its stdin unless given -n, as the real one does) and a fake `scp`
    /// (copies into FAKE/<host>/<path>).
    static func writeFakeSSH(in bin: URL, root: URL) throws {
        let ssh = """
            #!/bin/sh
            # Fake ssh for tests: ssh [-n] [-q] HOST COMMAND...
            printf 'ssh' >> "\(root.path)/calls"; printf ' [%s]' "$@" >> "\(root.path)/calls"; echo >> "\(root.path)/calls"
            stdin=yes
            while [ $# -gt 0 ]; do
                case "$1" in
                    -n) stdin=no; shift ;;
                    -q|-T) shift ;;
                    -*) echo "fake ssh: unsupported option $1" >&2; exit 255 ;;
                    *) break ;;
                esac
            done
            host=$1; shift
            mkdir -p "\(root.path)/$host"
            if [ "$stdin" = yes ]; then cat > /dev/null; fi
            # What a package installed on this host put under root/ comes first on its PATH (SSHInstallTests).
            cd "\(root.path)/$host" && HOME="\(root.path)/$host" PATH="\(root.path)/$host/root/usr/bin:$PATH" exec sh -c "$*" < /dev/null
            """
        let scp = """
            #!/bin/sh
            # Fake scp for tests: scp [-q] SOURCE... HOST:PATH (PATH relative to the host's home).
            printf 'scp' >> "\(root.path)/calls"; printf ' [%s]' "$@" >> "\(root.path)/calls"; echo >> "\(root.path)/calls"
            [ "$1" = -q ] && shift
            n=$#
            eval "target=\\${$n}"
            host=${target%%:*}; path=${target#*:}
            i=1
            while [ "$i" -lt "$n" ]; do
                eval "src=\\${$i}"
                cp "$src" "\(root.path)/$host/$path" || exit 1
                i=$((i + 1))
            done
            """
        for (name, text) in [("ssh", ssh), ("scp", scp)] {
            let url = bin.appendingPathComponent(name)
            try (text + "\n").write(to: url, atomically: true, encoding: .utf8)
            chmod(url.path, 0o755)
        }
    }

    @Test(.enabled(if: Smaller.available, Smaller.unavailable)) func sshRecipeStartsAWorkerPerHostWithItsKeyAndStopsThem() throws {
        let dir = try Fixtures.temporaryDirectory("cluster-ssh")
        defer { try? FileManager.default.removeItem(at: dir) }
        let fakeRoot = dir.appendingPathComponent("hosts")
        let fakeBin = dir.appendingPathComponent("bin")
        try FileManager.default.createDirectory(at: fakeRoot, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: fakeBin, withIntermediateDirectories: true)
        try Self.writeFakeSSH(in: fakeBin, root: fakeRoot)
        let binDir = Smaller.executable!.deletingLastPathComponent().path
        let env = ["PATH": "\(fakeBin.path):\(binDir):\(ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")"]
        let script = Self.cluster.appendingPathComponent("ssh").path

        let keys = try Child(["keys", "generate", "--dir", dir.appendingPathComponent("keys").path, "--workers", "4"], in: dir, name: "keys")
        #expect(keys.wait(seconds: 30, "keys generate") == 0)
        // Three hosts: explicit threads and key, threads only, neither; a comment and a blank line between.
        let hosts = "alpha 2 worker-4\n# a comment\n\nbeta 1\ngamma\n"
        try hosts.write(to: dir.appendingPathComponent("hosts.txt"), atomically: true, encoding: .utf8)
        let expected: [(host: String, threads: Int, key: String)] = [("alpha", 2, "worker-4"), ("beta", 1, "worker-2"), ("gamma", 1, "worker-3")]

        let yaml = "name: ssh\nnoop: {tasks: 60, seconds: 0.2}\n"
        let run = RunDir(url: dir.appendingPathComponent("run"))
        let endpoint = "tcp://127.0.0.1:\(freePort())"
        let coordinator = try Child(["coordinator", try writeJob(yaml, in: dir), "--bind", endpoint, "--dir", run.url.path,
                                     "--keys", dir.appendingPathComponent("keys").path], in: dir, name: "coordinator")
        let start = shell("'\(script)/start.sh' hosts.txt \(endpoint) keys", in: dir, environment: env)
        #expect(start.status == 0, "\(start.output)")
        let calls = (try? String(contentsOf: fakeRoot.appendingPathComponent("calls"), encoding: .utf8)) ?? ""
        var pids: [Int32] = []
        for host in expected {
            // The key pair and the coordinator's public key were copied to the host, and nothing else.
            let keyDir = fakeRoot.appendingPathComponent("\(host.host)/.smaller/keys")
            let copied = Set((try? FileManager.default.contentsOfDirectory(atPath: keyDir.path)) ?? [])
            #expect(copied == ["coordinator.pub", "\(host.key).key"], "\(host.host): \(copied)")
            // The worker command names the endpoint, the keys, the key name and the threads.
            let command = calls.split(separator: "\n").first { $0.hasPrefix("ssh [-n] [\(host.host)]") && $0.contains("smaller worker") } ?? ""
            #expect(command.contains("--connect '\(endpoint)'") && command.contains("--keys ~/.smaller/keys")
                    && command.contains("--key-name '\(host.key)'") && command.contains("--threads \(host.threads)"), "\(command)")
            let pidFile = fakeRoot.appendingPathComponent("\(host.host)/.smaller/worker.pid")
            #expect(waitUntil(seconds: 10) { FileManager.default.fileExists(atPath: pidFile.path) })
            if let pid = Int32(((try? String(contentsOf: pidFile, encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)) {
                pids.append(pid)
            }
        }
        #expect(pids.count == 3)
        // All three joined over CURVE with their own keys (none refused) and run tasks.
        #expect(waitUntil(seconds: 30) { run.coordinatorLog.components(separatedBy: "joined").count - 1 == 3 }, "\(run.coordinatorLog)")
        #expect(!run.coordinatorLog.contains("refused"))
        #expect(waitUntil(seconds: 30) { ((try? run.states()) ?? [:]).values.filter { $0 == "done" }.count >= 3 })
        // Each worker announced the threads its host line asked for.
        for (host, pid) in zip(expected, pids) {
            #expect(run.coordinatorLog.contains("\(host.threads) threads, pid \(pid))"), "\(host.host): \(run.coordinatorLog)")
        }

        // stop.sh ends every host's worker (each says BYE) and removes the pid files.
        let stop = shell("'\(script)/stop.sh' hosts.txt", in: dir, environment: env)
        #expect(stop.status == 0, "\(stop.output)")
        #expect(waitUntil(seconds: 20) { !pids.contains(where: processAlive) }, "workers still running after stop.sh")
        for host in expected {
            #expect(!FileManager.default.fileExists(atPath: fakeRoot.appendingPathComponent("\(host.host)/.smaller/worker.pid").path))
        }
        #expect(waitUntil(seconds: 10) { run.coordinatorLog.components(separatedBy: "left: worker stopped").count - 1 == 3 },
                "\(run.coordinatorLog)")
        #expect(try Child(["cancel", run.url.path], in: dir, name: "cancel").wait(seconds: 20, "cancel") == 0)
        #expect(coordinator.wait(seconds: 20, "coordinator") == 130)
        for pid in pids where processAlive(pid) { kill(pid, SIGKILL) }
    }
}

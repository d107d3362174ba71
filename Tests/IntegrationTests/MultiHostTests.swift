// Across hosts, for real: three network namespaces on a bridge (coordinator, two workers, each with its own
// directories, so artifacts travel over ZeroMQ), CURVE on. Cutting one worker's link mid-task (no FIN: the
// host just vanishes) gets its task rerun on the other; restoring the link lets it rejoin.
// Disabled without root, and cancelled (a skip the runner reports) where namespaces cannot be created (no `ip`).
import Experiment
import Foundation
import Testing
import TestSupport

/// Three namespaces on a private bridge; torn down on deinit.
final class Namespaces: @unchecked Sendable {
    let tag = String(UInt32.random(in: 0..<UInt32.max), radix: 36).prefix(5)
    let subnet = "10.213.\(Int.random(in: 1..<250))"
    var bridge: String { "smbr\(tag)" }
    func ns(_ h: String) -> String { "sm\(tag)\(h)" }
    func hostVeth(_ h: String) -> String { "smh\(tag)\(h)" }
    func address(_ h: String) -> String { "\(subnet).\(["c": 1, "a": 2, "b": 3][h]!)" }
    var ready = false

    @discardableResult
    static func sh(_ command: String) -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", command]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        do { try p.run() } catch { return -1 }
        p.waitUntilExit()
        return p.terminationStatus
    }

    init() {
        var script = ["ip link add \(bridge) type bridge", "ip link set \(bridge) up"]
        for h in ["c", "a", "b"] {
            script += ["ip netns add \(ns(h))", "ip link add \(hostVeth(h)) type veth peer name smn\(tag)\(h)",
                       "ip link set smn\(tag)\(h) netns \(ns(h))", "ip link set \(hostVeth(h)) master \(bridge)",
                       "ip link set \(hostVeth(h)) up", "ip -n \(ns(h)) addr add \(address(h))/24 dev smn\(tag)\(h)",
                       "ip -n \(ns(h)) link set smn\(tag)\(h) up", "ip -n \(ns(h)) link set lo up"]
        }
        ready = Self.sh(script.joined(separator: " && ")) == 0
    }

    func setLink(_ h: String, up: Bool) { Self.sh("ip link set \(hostVeth(h)) \(up ? "up" : "down")") }

    deinit {
        for h in ["c", "a", "b"] { Self.sh("ip link del \(hostVeth(h)); ip netns del \(ns(h))") }
        Self.sh("ip link del \(bridge)")
    }
}

@Suite(.serialized, .enabled(if: Smaller.available, Smaller.unavailable)) struct MultiHostTests {
    @Test(.enabled(if: getuid() == 0, "network namespaces need root"))
    func gridAcrossNamespacesSurvivesAVanishingHost() throws {
        let net = Namespaces()
        guard net.ready else { try Test.cancel("could not create network namespaces on a bridge here") }
        let dir = try Fixtures.temporaryDirectory("netns")
        defer { try? FileManager.default.removeItem(at: dir) }
        let gen = try Child(["keys", "generate", "--dir", dir.appendingPathComponent("keys").path, "--workers", "2"], in: dir, name: "keys")
        #expect(gen.wait(seconds: 20) == 0)
        let yaml = """
            name: hosts
            seeds: [1, 2, 3]
            languages: [a, b, c, d]
            compression:
              - quantize: {scheme: dynamic}
            execution: {executor: noop, noop_seconds: 0.4, noop_output_bytes: 300000, heartbeat_interval: 0.25, liveness: 4}
            """
        let job = try writeJob(yaml, in: dir)
        let exe = Smaller.executable!.path
        let endpoint = "tcp://\(net.address("c")):5555"
        let keys = dir.appendingPathComponent("keys").path
        let runURL = dir.appendingPathComponent("coordinator-host/run")
        let run = RunDir(url: runURL)
        func inNS(_ h: String, _ args: [String]) -> [String] { ["netns", "exec", net.ns(h), exe] + args }
        let coordinator = try Child(inNS("c", ["coordinator", job, "--bind", endpoint, "--keys", keys, "--dir", runURL.path]),
                                    in: dir, name: "coordinator", executable: "/usr/sbin/ip")
        let a = try Child(inNS("a", ["worker", "--connect", endpoint, "--keys", keys, "--key-name", "worker-1",
                                     "--dir", dir.appendingPathComponent("host-a").path]), in: dir, name: "wa", executable: "/usr/sbin/ip")
        let b = try Child(inNS("b", ["worker", "--connect", endpoint, "--keys", keys, "--key-name", "worker-2",
                                     "--dir", dir.appendingPathComponent("host-b").path]), in: dir, name: "wb", executable: "/usr/sbin/ip")
        defer { a.kill9(); b.kill9(); coordinator.kill9() }

        // Wait for host a to hold a lease, then pull its cable.
        var cutTask: String?
        _ = waitUntil(seconds: 30) {
            cutTask = try? run.query { try String.fetchOne($0, sql: "SELECT id FROM tasks WHERE state = 'leased' AND worker LIKE ?", arguments: ["%-\(a.pid)-%"]) }
            return cutTask != nil
        }
        let task = try #require(cutTask, "host a never got a task: \(run.coordinatorLog)")
        net.setLink("a", up: false)
        // Its task is leased again, to host b (or finished by b).
        let rerun = waitUntil(seconds: 20) {
            ((try? run.query { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM leases WHERE task = ? AND worker LIKE ?", arguments: [task, "%-\(b.pid)-%"]) ?? 0 }) ?? 0) > 0
        }
        #expect(rerun, "task \(task.prefix(12)) was not rerun on host b")
        net.setLink("a", up: true)
        // Host a comes back by itself.
        let aID = "-\(a.pid)-"
        let rejoined = waitUntil(seconds: 20) {
            run.coordinatorLog.components(separatedBy: "\n").filter { $0.contains("joined") && $0.contains(aID) }.count >= 2
        }
        #expect(rejoined, "host a did not rejoin: \(run.coordinatorLog.suffix(2000))")
        #expect(coordinator.wait(seconds: 60, "coordinator") == 0)
        let ids = Set(try JobSpec.parse(yaml: yaml).plan().tasks.map(\.id))
        #expect(Set(run.exportedIDs) == ids)
        #expect(try run.resultCount() == (ids.count, ids.count))
        // Artifacts travelled: the compress tasks' inputs reached the worker hosts' own caches.
        let caches = ["host-a", "host-b"].map { dir.appendingPathComponent("\($0)/cache").path }
        let cached = caches.flatMap { (try? FileManager.default.subpathsOfDirectory(atPath: $0)) ?? [] }.filter { $0.count > 60 && !$0.hasPrefix("incoming") }
        #expect(!cached.isEmpty)
    }
}

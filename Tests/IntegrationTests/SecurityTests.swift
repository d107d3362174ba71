// CURVE with a ZAP allowlist, for real: an allowlisted worker completes the grid; a stranger (a key off the
// allowlist, or no key at all) is refused, logged by the coordinator, and exits non-zero saying why.
import Experiment
import Foundation
import Testing
import TestSupport

@Suite(.serialized, .enabled(if: Smaller.available, Smaller.unavailable)) struct SecurityTests {
    @Test func workerWithAKeyNotOnTheAllowlistIsRefused() throws {
        let dir = try Fixtures.temporaryDirectory("curve")
        defer { try? FileManager.default.removeItem(at: dir) }
        for (name, keys) in [("keys", "keys"), ("stranger", "stranger")] {
            let gen = try Child(["keys", "generate", "--dir", dir.appendingPathComponent(keys).path, "--workers", "1"], in: dir, name: "gen-\(name)")
            #expect(gen.wait(seconds: 20) == 0, "\(gen.text)")
        }
        // The stranger knows the coordinator's public key but its own key is not on the allowlist.
        let strangerPub = dir.appendingPathComponent("stranger/coordinator.pub")
        try FileManager.default.removeItem(at: strangerPub)
        try FileManager.default.copyItem(at: dir.appendingPathComponent("keys/coordinator.pub"), to: strangerPub)

        let yaml = "name: sec\nnoop: {tasks: 20, seconds: 0.02}\n"
        let job = try writeJob(yaml, in: dir)
        let endpoint = "tcp://127.0.0.1:\(freePort())"
        let runURL = dir.appendingPathComponent("run")
        let run = RunDir(url: runURL)
        let coordinator = try Child(["coordinator", job, "--bind", endpoint, "--dir", runURL.path,
                                     "--keys", dir.appendingPathComponent("keys").path], in: dir, name: "coordinator")
        let stranger = try Child(["worker", "--connect", endpoint, "--keys", dir.appendingPathComponent("stranger").path,
                                  "--key-name", "worker-1", "--dir", dir.appendingPathComponent("ws").path], in: dir, name: "stranger")
        #expect(waitUntil(seconds: 20) { run.coordinatorLog.contains("refused") }, "no refusal logged: \(run.coordinatorLog)")
        // Refused on every try, it gives up on its own, naming the cause.
        #expect(stranger.wait(seconds: 20, "refused worker") == 1)
        #expect(stranger.text.contains("refused the connection 3 times in a row") && stranger.text.contains("not on its allowlist"),
                "\(stranger.text.suffix(2000))")
        let good = try Child(["worker", "--connect", endpoint, "--keys", dir.appendingPathComponent("keys").path,
                              "--key-name", "worker-1", "--dir", dir.appendingPathComponent("wg").path], in: dir, name: "good")
        #expect(coordinator.wait(seconds: 40, "coordinator") == 0)
        good.wait(seconds: 10, "allowlisted worker")
        #expect(Set(run.exportedIDs) == Set(try JobSpec.parse(yaml: yaml).plan().tasks.map(\.id)))
        #expect(run.coordinatorLog.contains("public key not on the allowlist"))
        let strangerLeases = try run.query {
            try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM leases WHERE worker LIKE ?", arguments: ["%-\(stranger.pid)-%"]) ?? 0
        }
        #expect(strangerLeases == 0)
        #expect(!run.coordinatorLog.contains("-\(stranger.pid)-"))
    }

    @Test func workerWithoutKeysAgainstACurveCoordinatorExitsSayingWhyAndIsLogged() throws {
        let dir = try Fixtures.temporaryDirectory("curve-nokey")
        defer { try? FileManager.default.removeItem(at: dir) }
        let gen = try Child(["keys", "generate", "--dir", dir.appendingPathComponent("keys").path, "--workers", "1"], in: dir, name: "gen")
        #expect(gen.wait(seconds: 20) == 0, "\(gen.text)")
        let job = try writeJob("name: sec\nnoop: {tasks: 2, seconds: 0}\n", in: dir)
        let endpoint = "tcp://127.0.0.1:\(freePort())"
        let run = RunDir(url: dir.appendingPathComponent("run"))
        let coordinator = try Child(["coordinator", job, "--bind", endpoint, "--dir", run.url.path,
                                     "--keys", dir.appendingPathComponent("keys").path], in: dir, name: "coordinator")
        defer { coordinator.kill9() }
        #expect(waitUntil(seconds: 20) { run.coordinatorLog.contains("bound") })
        // Loopback needs no --keys on the worker's side, so it connects in plaintext to a CURVE coordinator.
        let plain = try Child(["worker", "--connect", endpoint, "--dir", dir.appendingPathComponent("wp").path], in: dir, name: "plain")
        #expect(plain.wait(seconds: 20, "keyless worker") == 1)
        // Which side reads the other's greeting first is a race: the worker sees either the mismatch (refused 3 times)
        // or handshakes the coordinator closed (10 times); both name the mismatch.
        #expect(plain.text.contains("refused the connection") && plain.text.contains("mechanism mismatch"),
                "\(plain.text.suffix(2000))")
        #expect(waitUntil(seconds: 5) { run.coordinatorLog.contains("it offered no CURVE key") }, "\(run.coordinatorLog)")
        #expect(try run.query { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM leases") ?? 0 } == 0)
    }

    @Test func bindingBeyondLoopbackWithoutKeysIsRefused() throws {
        let dir = try Fixtures.temporaryDirectory("nokeys")
        defer { try? FileManager.default.removeItem(at: dir) }
        let job = try writeJob("name: n\nnoop: {tasks: 1}\n", in: dir)
        let child = try Child(["coordinator", job, "--bind", "tcp://*:\(freePort())", "--dir", dir.appendingPathComponent("r").path], in: dir, name: "c")
        #expect(child.wait(seconds: 20) != 0)
        #expect(child.text.contains("--keys"))
    }
}

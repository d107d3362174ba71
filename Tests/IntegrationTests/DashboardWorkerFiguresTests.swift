// Workers' CPU time and resident memory, reported in their HEARTBEATs, on the dashboard for real: `smaller run`
// with two workers burning CPU; /api/workers against each worker's own /proc/<pid>/statm, /metrics' labelled
// series (gone with a killed worker), and a real Prometheus scraping them.
import Experiment
import Foundation
import Testing
import TestSupport

extension DashboardTests {
    /// The figures are at most a heartbeat (0.25 s here) plus a status snapshot (0.5 s) old; a noop worker's
    /// resident size barely moves in that time.
    static let residentTolerance = 16 << 20
    /// CPU a busy one-thread worker must add in the time it is watched: well below the wall time it burns.
    static let cpuGrowth = 0.5

    @Test func workersReportCPUAndMemoryInTheirHeartbeats() throws {
        let dir = try Fixtures.temporaryDirectory("dash-figures")
        defer { try? FileManager.default.removeItem(at: dir) }
        let job = try writeJob("name: figs\nnoop: {tasks: 40, seconds: 1, burn: true}\nexecution: {heartbeat_interval: 0.25}\n", in: dir)
        let port = freePort()
        let base = "http://127.0.0.1:\(port)"
        let run = RunDir(url: dir.appendingPathComponent("run"))
        let child = try Child(["run", job, "--workers", "2", "--threads-per-worker", "1", "--out", run.url.path,
                               "--http", "127.0.0.1:\(port)"], in: dir, name: "run")
        defer {
            if child.process.isRunning { kill(child.pid, SIGINT) }
            if child.wait(seconds: 20, "run after SIGINT") == nil { child.kill9() }
        }
        func workers() -> [[String: Any]] {
            guard let reply = httpGet(base + "/api/workers"), reply.status == 200 else { return [] }
            return (try? JSONSerialization.jsonObject(with: Data(reply.body.utf8)) as? [[String: Any]]) ?? []
        }
        func figures(_ w: [String: Any]) -> (id: String, pid: Int32, cpu: Double, rss: Int)? {
            guard let id = w["id"] as? String, let pid = w["pid"] as? Int, let cpu = w["cpuSeconds"] as? Double,
                  let rss = w["residentBytes"] as? Int else { return nil }
            return (id, Int32(pid), cpu, rss)
        }
        var first: [String: Double] = [:]
        #expect(waitUntil(seconds: 60) {
            let rows = workers().compactMap(figures)
            first = Dictionary(rows.map { ($0.id, $0.cpu) }, uniquingKeysWith: { a, _ in a })
            return rows.count == 2
        }, "\(child.text.suffix(2000))")
        #expect(first.values.allSatisfy { $0 >= 0 })

        // CPU grows while they burn; resident memory matches what the kernel says of each worker process now.
        var last: [(id: String, pid: Int32, cpu: Double, rss: Int)] = []
        #expect(waitUntil(seconds: 30) {
            last = workers().compactMap(figures)
            return last.count == 2 && last.allSatisfy { $0.cpu >= (first[$0.id] ?? .infinity) + Self.cpuGrowth }
        }, "CPU seconds did not grow: first \(first), then \(last)")
        for w in last {
            let statm = try String(contentsOfFile: "/proc/\(w.pid)/statm", encoding: .utf8).split(separator: " ")
            let kernel = try #require(Int(statm[1])) * Int(sysconf(Int32(_SC_PAGESIZE)))
            #expect(abs(w.rss - kernel) <= Self.residentTolerance, "worker \(w.id): heartbeat \(w.rss) B, /proc/\(w.pid)/statm \(kernel) B")
        }
        let cores = workers().compactMap { $0["cpuCores"] as? Double }
        // Burning, a worker uses some CPU; with one compute thread (and ZeroMQ's I/O thread, and /proc's 10 ms
        // ticks over 0.25 s intervals) it cannot use two cores. How much it gets depends on the machine's load.
        #expect(cores.count == 2 && cores.allSatisfy { $0 > 0 && $0 < 2 }, "cores in use between two heartbeats: \(cores)")

        // /metrics: one series of each per worker, labelled with its id as the page shows it.
        let metrics = try #require(httpGet(base + "/metrics")).body
        for w in last {
            #expect(metrics.contains("smaller_worker_resident_bytes{worker=\"\(w.id)\"}"), "\(metrics.suffix(3000))")
            #expect(metrics.contains("smaller_worker_cpu_seconds_total{worker=\"\(w.id)\"}"))
        }
        if Outside.prometheus != nil { try prometheusSeesOneSeriesPerWorker(port: port, ids: Set(last.map(\.id)), in: dir) }

        // A killed worker is forgotten, and so are its series.
        let victim = try #require(last.first)
        kill(victim.pid, SIGKILL)
        #expect(waitUntil(seconds: 30) {
            let body = httpGet(base + "/metrics")?.body ?? ""
            return body.contains("smaller_worker_resident_bytes{") && !body.contains("worker=\"\(victim.id)\"")
        }, "the killed worker's series stayed in /metrics")
    }

    /// A real Prometheus scraping the dashboard every second finds `smaller_worker_resident_bytes` once per worker.
    func prometheusSeesOneSeriesPerWorker(port: Int, ids: Set<String>, in dir: URL) throws {
        let (prometheus, api) = try Outside.startPrometheus(scraping: port, in: dir)
        defer { prometheus.kill9() }
        var seen: [String: Double] = [:]
        let answered = waitUntil(seconds: 60) {
            guard let result = Outside.query(api, "smaller_worker_resident_bytes") else { return false }
            seen = [:]
            for series in result { if let worker = series.labels["worker"] { seen[worker] = series.value } }
            return Set(seen.keys) == ids
        }
        #expect(answered, "Prometheus: \(seen), workers \(ids); \(prometheus.text.suffix(2000))")
        #expect(seen.values.allSatisfy { $0 > 0 })
    }
}

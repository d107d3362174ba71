// The coordinator's dashboard for real: `smaller run` on a noop grid with the dashboard on a free loopback port;
// its JSON API against the journal, the errors it gives bad input, /metrics, and the page in headless Chromium.
import Experiment
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
import TestSupport

/// A blocking HTTP GET (tests only): status and body, or nil when nothing answered.
func httpGet(_ url: String, headers: [String: String] = [:], timeout: Double = 10) -> (status: Int, body: String)? {
    guard let u = URL(string: url) else { return nil }
    var request = URLRequest(url: u, timeoutInterval: timeout)
    for (k, v) in headers { request.setValue(v, forHTTPHeaderField: k) }
    let done = DispatchSemaphore(value: 0)
    nonisolated(unsafe) var result: (Int, String)?
    URLSession.shared.dataTask(with: request) { data, response, _ in
        if let http = response as? HTTPURLResponse { result = (http.statusCode, String(decoding: data ?? Data(), as: UTF8.self)) }
        done.signal()
    }.resume()
    done.wait()
    return result
}

/// A noop grid over languages × one compression setting, run by `smaller run` with its dashboard on `port`.
struct DashboardRun {
    static let yaml = """
        name: dash
        seeds: [1]
        languages: [hau, yor]
        compression:
          - prune: {sparsity: [0.5, 0.9]}
        execution: {executor: noop, noop_seconds: 0.6, heartbeat_interval: 0.25}
        """
    let dir: URL, port: Int, run: RunDir, child: Child
    var base: String { "http://127.0.0.1:\(port)" }

    /// `noopSeconds` per task: long enough that the grid is still running while a browser looks.
    init(_ name: String, noopSeconds: Double = 0.6) throws {
        dir = try Fixtures.temporaryDirectory(name)
        port = freePort()
        let job = try writeJob(Self.yaml.replacingOccurrences(of: "noop_seconds: 0.6", with: "noop_seconds: \(noopSeconds)"), in: dir)
        run = RunDir(url: dir.appendingPathComponent("run"))
        child = try Child(["run", job, "--workers", "2", "--threads-per-worker", "1", "--out", run.url.path,
                           "--http", "127.0.0.1:\(port)"], in: dir, name: "run")
    }

    /// Stops the run the way Ctrl-C does, so it stops its local workers too (a SIGKILL would orphan them).
    func stop() {
        if child.process.isRunning { kill(child.pid, SIGINT) }
        if child.wait(seconds: 20, "run after SIGINT") == nil { child.kill9() }
        try? FileManager.default.removeItem(at: dir)
    }

    /// Waits for the dashboard to answer.
    func ready() -> Bool { waitUntil(seconds: 30) { httpGet(base + "/api/status")?.status == 200 } }

    func json(_ path: String) throws -> [String: Any] {
        let reply = try #require(httpGet(base + path))
        #expect(reply.status == 200, "\(path): \(reply.body)")
        return try #require(try JSONSerialization.jsonObject(with: Data(reply.body.utf8)) as? [String: Any])
    }
}

@Suite(.serialized, .enabled(if: Smaller.available, Smaller.unavailable)) struct DashboardTests {
    @Test func apiAgreesWithTheJournalAndRefusesBadInput() throws {
        let grid = try DashboardRun("dash-api")
        defer { grid.stop() }
        #expect(grid.ready(), "\(grid.child.text.suffix(2000))")
        #expect(grid.child.text.contains("dashboard: http://127.0.0.1:\(grid.port)/"))
        let planned = try JobSpec.parse(yaml: DashboardRun.yaml).plan().tasks
        let status = try grid.json("/api/status")
        #expect(status["total"] as? Int == planned.count)
        let counts = try #require(status["tasks"] as? [String: Int])
        #expect(counts.values.reduce(0, +) == planned.count)

        // Every task, paged from the journal, in the graph's order.
        var ids: [String] = []
        for page in 1...10 {
            let reply = try grid.json("/api/tasks?per_page=3&page=\(page)")
            let items = try #require(reply["items"] as? [[String: Any]])
            if items.isEmpty { break }
            ids += items.compactMap { $0["id"] as? String }
        }
        #expect(ids == planned.map(\.id))

        // Bad input: 404 and 400 with a message that names the problem.
        func message(_ body: String) -> String {
            let object = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: [String: String]]
            return object?["error"]?["message"] ?? ""
        }
        let missing = try #require(httpGet(grid.base + "/no/such/page"))
        #expect(missing.status == 404 && message(missing.body).contains("no such path: /no/such/page"), "\(missing)")
        for (query, says) in [("state=bogus", "state=bogus"), ("page=0", "page=0"), ("page=x", "page=x"),
                              ("per_page=100000", "per_page=100000"), ("colour=red", "unknown query parameter 'colour'"),
                              ("page=1&page=2", "given twice")] {
            let bad = try #require(httpGet(grid.base + "/api/tasks?" + query))
            #expect(bad.status == 400 && message(bad.body).contains(says), "\(query): \(bad)")
        }

        // Wait for the first result; then the finished cells, the results and /metrics agree with the journal.
        #expect(waitUntil(seconds: 60) { ((try? grid.run.resultCount().rows) ?? 0) >= 2 })
        // Results only grow: the API has at least what the journal had just before, each a planned task.
        let journaled = try grid.run.resultCount().rows
        let results = try grid.json("/api/results?per_page=500")
        #expect((results["total"] as? Int ?? 0) >= journaled)
        let titles = Set(planned.map(\.spec.title))
        let items = try #require(results["items"] as? [[String: Any]])
        #expect(items.count >= journaled && items.allSatisfy { titles.contains($0["title"] as? String ?? "") })
        let metrics = try #require(httpGet(grid.base + "/metrics"))
        #expect(metrics.status == 200)
        for name in ["smaller_tasks{state=\"done\"}", "smaller_tasks_by_kind{kind=\"pretrain\",state=\"done\"}",
                     "smaller_workers{state=", "smaller_results_total", "smaller_task_duration_seconds_bucket",
                     "smaller_coordinator_resident_bytes", "process_cpu_seconds_total"] {
            #expect(metrics.body.contains(name), "\(name) missing from /metrics")
        }
        #expect(grid.child.wait(seconds: 120, "run") == 0, "\(grid.child.text.suffix(2000))")
    }
}

/// Real outside components the dashboard is checked against: a headless Chromium and a Prometheus server.
enum Outside {
    static let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }
    static let prometheus = ["/usr/bin/prometheus"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// Runs headless Chromium on `url`, killed after `seconds`; returns what it printed.
    static func chromium(_ arguments: [String], seconds: Double = 60) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: chromium!)
        p.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"] + arguments
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("chromium-\(UUID().uuidString).out")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: out) }
        p.standardOutput = try FileHandle(forWritingTo: out)
        p.standardError = FileHandle.nullDevice
        try p.run()
        if !waitUntil(seconds: seconds, { !p.isRunning }) { kill(p.processIdentifier, SIGKILL) }
        p.waitUntilExit()
        return (try? String(contentsOf: out, encoding: .utf8)) ?? ""
    }

    /// A Prometheus server on a free loopback port that scrapes the dashboard on `port` every second; the base URL
    /// of its HTTP API.
    static func startPrometheus(scraping port: Int, in dir: URL) throws -> (server: Child, api: String) {
        let promPort = freePort()
        let config = dir.appendingPathComponent("prometheus.yml")
        try """
            global: {scrape_interval: 1s, evaluation_interval: 1s}
            scrape_configs:
              - job_name: smaller
                static_configs: [{targets: ["127.0.0.1:\(port)"]}]
            """.write(to: config, atomically: true, encoding: .utf8)
        let server = try Child(["--config.file=\(config.path)", "--storage.tsdb.path=\(dir.appendingPathComponent("tsdb").path)",
                                "--web.listen-address=127.0.0.1:\(promPort)"], in: dir, name: "prometheus", executable: prometheus!)
        return (server, "http://127.0.0.1:\(promPort)")
    }

    /// The series an instant query returns, each its labels and value; nil until Prometheus answers.
    static func query(_ api: String, _ query: String) -> [(labels: [String: String], value: Double)]? {
        guard let reply = httpGet(api + "/api/v1/query?query=" + query), reply.status == 200,
              let object = try? JSONSerialization.jsonObject(with: Data(reply.body.utf8)) as? [String: Any],
              let data = object["data"] as? [String: Any], let result = data["result"] as? [[String: Any]] else { return nil }
        return result.compactMap { series in
            guard let labels = series["metric"] as? [String: String], let value = series["value"] as? [Any],
                  let text = value.last as? String, let number = Double(text) else { return nil }
            return (labels, number)
        }
    }

    /// What a short-lived command prints on stdout ("" when it cannot start).
    static func output(_ executable: String, _ arguments: [String]) -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = arguments
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return "" }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    /// Where tests leave files for a person to look at (kept after the run).
    static var outputDirectory: URL {
        let url = Fixtures.repositoryRoot.appendingPathComponent(".build/test-output")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

extension DashboardTests {
    @Test(.enabled(if: Outside.chromium != nil, "chromium is not installed (.ci/install-deps --test installs it)"))
    func chromiumShowsBothWorkersAndAFinishedCell() throws {
        let grid = try DashboardRun("dash-page", noopSeconds: 3)
        defer { grid.stop() }
        #expect(grid.ready(), "\(grid.child.text.suffix(2000))")
        // Both workers connected and a fine-tuning cell (one task per language here) finished, per the journal.
        let finetuned = waitUntil(seconds: 60) {
            ((try? grid.run.query { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM tasks WHERE kind = 'finetune' AND state = 'done'") }) ?? 0) >= 1
        }
        #expect(finetuned)
        #expect(waitUntil(seconds: 30) { grid.run.statusText.components(separatedBy: "\"host\"").count - 1 >= 2 })
        // Chromium dumps the DOM and shoots at the load event (an open event stream would hold virtual time back
        // for good); the page draws the state it carries before then. The event stream is checked apart below.
        let dom = try Outside.chromium(["--dump-dom", "--timeout=5000", grid.base + "/"])
        let drawn = dom.components(separatedBy: "<script")[0]
        #expect(drawn.components(separatedBy: "<tr class=\"worker\">").count - 1 == 2, "\(drawn.prefix(4000))")
        #expect(drawn.contains("data-state=\"done\""), "\(drawn.prefix(4000))")
        #expect(drawn.contains("data-state=\"leased\"") || drawn.contains("data-state=\"pending\""), "the grid finished before the page was read")
        let shot = Outside.outputDirectory.appendingPathComponent("dashboard.png")
        try? FileManager.default.removeItem(at: shot)
        _ = try Outside.chromium(["--screenshot=\(shot.path)", "--window-size=1280,1100", "--timeout=5000", grid.base + "/"])
        #expect(FileManager.default.fileExists(atPath: shot.path))
        print("dashboard screenshot: \(shot.path)")
    }

    @Test(.enabled(if: Outside.prometheus != nil, "prometheus is not installed (.ci/install-deps --test installs it)"))
    func prometheusScrapesTheJournalsTaskCounts() throws {
        // A run cancelled part way (some tasks done), then resumed with no workers: its counts stay put, so what
        // Prometheus scraped must equal the journal's exactly.
        let dir = try Fixtures.temporaryDirectory("dash-prom")
        defer { try? FileManager.default.removeItem(at: dir) }
        let runURL = dir.appendingPathComponent("run")
        let job = try writeJob(DashboardRun.yaml, in: dir)
        let warmup = try Child(["run", job, "--workers", "1", "--out", runURL.path, "--no-http"], in: dir, name: "warmup")
        #expect(waitUntil(seconds: 60) { ((try? RunDir(url: runURL).resultCount().rows) ?? 0) >= 2 })
        _ = FileManager.default.createFile(atPath: runURL.appendingPathComponent("cancel").path, contents: nil)
        #expect(warmup.wait(seconds: 60, "warm-up run") != nil, "\(warmup.text.suffix(2000))")
        let port = freePort()
        let idle = try Child(["run", job, "--workers", "0", "--out", runURL.path, "--http", "127.0.0.1:\(port)"], in: dir, name: "idle")
        defer { idle.kill9() }
        #expect(waitUntil(seconds: 30) { httpGet("http://127.0.0.1:\(port)/api/status")?.status == 200 }, "\(idle.text)")

        let (prometheus, api) = try Outside.startPrometheus(scraping: port, in: dir)
        defer { prometheus.kill9() }

        let ids = Set(try JobSpec.parse(yaml: DashboardRun.yaml).plan().tasks.map(\.id))
        let journal = try RunDir(url: runURL).states().filter { ids.contains($0.key) }
        var expected: [String: Int] = [:]
        for state in journal.values { expected[state, default: 0] += 1 }
        #expect((expected["done"] ?? 0) >= 1 && (expected["pending"] ?? 0) >= 1, "\(expected)")

        var scraped: [String: Int] = [:]
        let answered = waitUntil(seconds: 60) {
            guard let result = Outside.query(api, "smaller_tasks"), result.count == 5 else { return false }
            scraped = [:]
            for series in result { if let state = series.labels["state"] { scraped[state] = Int(series.value) } }
            return true
        }
        #expect(answered, "Prometheus never answered with 5 series: \(prometheus.text.suffix(2000))")
        for state in ["pending", "leased", "done", "failed", "skipped"] {
            #expect(scraped[state] == expected[state] ?? 0, "\(state): Prometheus \(scraped[state] ?? -1), journal \(expected[state] ?? 0)")
        }
    }
}

extension DashboardTests {
    @Test func aThousandParallelRequestsNeitherStopTheGridNorLoseAResult() throws {
        let dir = try Fixtures.temporaryDirectory("dash-load")
        defer { try? FileManager.default.removeItem(at: dir) }
        let yaml = "name: dash-load\nnoop: {tasks: 400, seconds: 0.02}\n"
        let job = try writeJob(yaml, in: dir)
        let port = freePort()
        let run = RunDir(url: dir.appendingPathComponent("run"))
        let child = try Child(["run", job, "--workers", "2", "--out", run.url.path, "--http", "127.0.0.1:\(port)"], in: dir, name: "run")
        defer { child.kill9() }
        let base = "http://127.0.0.1:\(port)"
        #expect(waitUntil(seconds: 30) { httpGet(base + "/api/status")?.status == 200 }, "\(child.text)")

        // 1,000 requests over loopback from 50 threads at once, across the endpoints. Plain threads, not GCD's: a
        // GCD worker blocked on a request would hold a thread that URLSession needs to deliver the replies.
        let paths = ["/api/status", "/metrics", "/api/tasks?page=2&per_page=50", "/api/results", "/api/workers", "/"]
        final class Tally: @unchecked Sendable {
            let lock = NSLock()
            var statuses: [Int: Int] = [:]
            func add(_ status: Int) { lock.lock(); statuses[status, default: 0] += 1; lock.unlock() }
        }
        let tally = Tally()
        let group = DispatchGroup()
        for t in 0..<50 {
            group.enter()
            Thread.detachNewThread {
                for i in 0..<20 { tally.add(httpGet(base + paths[(t * 20 + i) % paths.count], timeout: 30)?.status ?? -1) }
                group.leave()
            }
        }
        #expect(group.wait(timeout: .now() + 120) == .success)
        let statuses = tally.statuses
        // Requests after the grid finished find the server gone (-1); none may fail otherwise.
        #expect(statuses.keys.allSatisfy { $0 == 200 || $0 == -1 }, "\(statuses)")
        #expect((statuses[200] ?? 0) >= 100, "\(statuses)")
        #expect(child.wait(seconds: 120, "run") == 0, "\(child.text.suffix(2000))")
        let ids = try JobSpec.parse(yaml: yaml).plan().tasks.map(\.id)
        #expect(Set(run.exportedIDs) == Set(ids) && run.exportedIDs.count == ids.count)
        #expect(try run.resultCount() == (ids.count, ids.count))
    }

    @Test func eventStreamResumesAfterTheLastEventAndResetsAcrossProcesses() throws {
        let grid = try DashboardRun("dash-sse", noopSeconds: 2)
        defer { grid.stop() }
        #expect(grid.ready(), "\(grid.child.text.suffix(2000))")
        #expect(waitUntil(seconds: 60) { ((try? grid.run.resultCount().rows) ?? 0) >= 1 })
        let status = try grid.json("/api/status")
        let last = try #require(status["lastEvent"] as? String)
        let parts = last.split(separator: "-")
        let epoch = String(parts[0]), n = try #require(Int(parts[1]))
        #expect(n >= 3)
        // Resuming after event 1 replays 2...n, each with its id, in order.
        let stream = sse(grid.base + "/events", lastEventID: "\(epoch)-1", seconds: 1.5)
        let ids = stream.components(separatedBy: "\n").filter { $0.hasPrefix("id: ") }.map { String($0.dropFirst(4)) }
        #expect(Array(ids.prefix(n - 1)) == (2...n).map { "\(epoch)-\($0)" }, "\(stream.prefix(2000))")
        #expect(stream.contains("event: task") && stream.contains("event: status"))
        // An id from another coordinator process (or none this one gave) gets a reset; so does a huge number.
        for id in ["otherepoch-5", "\(epoch)-99999999999999999999999", "\(epoch)-\(Int.max)", "garbage"] {
            let first = sse(grid.base + "/events", lastEventID: id, seconds: 0.5).components(separatedBy: "\n\n")[0]
            #expect(first.contains("event: reset"), "\(id): \(first)")
        }
    }

    /// What an event stream sends within `seconds` (curl, which sends Last-Event-ID like a reconnecting browser).
    func sse(_ url: String, lastEventID: String, seconds: Double) -> String {
        Outside.output("/usr/bin/curl", ["-s", "-N", "-m", String(seconds), "-H", "Last-Event-ID: \(lastEventID)", url])
    }
}

extension DashboardTests {
    /// The dashboard bound beyond loopback, on a network-namespace host, asked from another host: without the
    /// token 401, with it (header or query) 200; and the CLI refuses such a bind without a token.
    @Test(.enabled(if: getuid() == 0, "network namespaces need root"),
          .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/curl"), "curl is not installed"))
    func beyondLoopbackEveryRequestNeedsTheToken() throws {
        let dir = try Fixtures.temporaryDirectory("dash-netns")
        defer { try? FileManager.default.removeItem(at: dir) }
        let job = try writeJob(DashboardRun.yaml, in: dir)
        let refused = try Child(["coordinator", job, "--dir", dir.appendingPathComponent("refused").path, "--http", "0.0.0.0:0"],
                                in: dir, name: "refused")
        #expect(refused.wait(seconds: 20) != 0)
        #expect(refused.text.contains("--http-token"), "\(refused.text)")

        let net = Namespaces()
        guard net.ready else { try Test.cancel("could not create network namespaces on a bridge here") }
        let token = "t0ken-" + UUID().uuidString
        let tokenFile = dir.appendingPathComponent("token")
        try (token + "\n").write(to: tokenFile, atomically: true, encoding: .utf8)
        let http = "\(net.address("c")):8080"
        let coordinator = try Child(["netns", "exec", net.ns("c"), Smaller.executable!.path, "coordinator", job,
                                     "--bind", "tcp://127.0.0.1:5555", "--dir", dir.appendingPathComponent("run").path,
                                     "--http", http, "--http-token", tokenFile.path], in: dir, name: "coordinator", executable: "/usr/sbin/ip")
        defer { coordinator.kill9() }
        func status(_ arguments: [String]) -> String {
            Outside.output("/usr/sbin/ip", ["netns", "exec", net.ns("a"), "/usr/bin/curl", "-s", "-m", "5", "-o", "/dev/null",
                                            "-w", "%{http_code}"] + arguments)
        }
        let url = "http://\(http)/api/status"
        #expect(waitUntil(seconds: 30) { status([url]) == "401" }, "\(coordinator.text)")
        #expect(status(["-H", "Authorization: Bearer wrong-token-of-some-length", url]) == "401")
        #expect(status(["-H", "Authorization: Bearer \(token)", url]) == "200")
        #expect(status([url + "?token=\(token)"]) == "200")
        #expect(status(["http://\(http)/metrics"]) == "401")
        #expect(status(["-H", "Authorization: Bearer \(token)", "http://\(http)/metrics"]) == "200")
    }
}

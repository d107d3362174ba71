// The dashboard page survives its coordinator restarting, in a real headless Chromium: the page stays open while
// the coordinator is SIGKILLed and started again on the same run directory and port; the browser reconnects its
// event stream, the new process answers `reset`, and the page ends showing what only the second process saw.
import Experiment
import Foundation
import Testing
import TestSupport

extension DashboardTests {
    @Test(.enabled(if: Outside.chromium != nil, "chromium is not installed (.ci/install-deps --test installs it)"))
    func thePageFollowsARestartedCoordinator() throws {
        let dir = try Fixtures.temporaryDirectory("dash-restart")
        defer { try? FileManager.default.removeItem(at: dir) }
        let tasks = 8
        let grid = try LoopbackGrid("name: dash-restart\nnoop: {tasks: \(tasks), seconds: 2}\nexecution: {heartbeat_interval: 0.25}\n", in: dir)
        let port = freePort()
        let base = "http://127.0.0.1:\(port)"
        func coordinator(_ name: String) throws -> Child {
            try Child(["coordinator", grid.job, "--bind", grid.endpoint, "--dir", grid.run.url.path, "--http", "127.0.0.1:\(port)"],
                      in: dir, name: name)
        }
        let first = try coordinator("coordinator0")
        let a = try grid.worker("wa"), b = try grid.worker("wb")
        #expect(waitUntil(seconds: 30) { httpGet(base + "/api/status")?.status == 200 }, "\(first.text.suffix(2000))")

        let page = try DevToolsPage(chromium: Outside.chromium!, url: base + "/")
        var dom = ""
        func drawn(_ seconds: Double, _ condition: (String) -> Bool) -> Bool {
            waitUntil(seconds: seconds) {
                dom = ((try? page.dom()) ?? "").components(separatedBy: "<script")[0]
                return condition(dom)
            }
        }
        // The page follows the first coordinator live: both workers, and a result that came after it loaded.
        #expect(drawn(30) { $0.components(separatedBy: "<tr class=\"worker\">").count - 1 == 2 && $0.contains("coordinator pid \(first.pid)") },
                "\(dom.prefix(3000))")
        #expect(waitUntil(seconds: 30) { ((try? grid.run.resultCount().rows) ?? 0) >= 1 })
        #expect(try grid.run.resultCount().rows < tasks, "the grid finished before the restart: the tasks are too short")

        first.kill9()
        #expect(drawn(10) { $0.contains("reconnecting") }, "the page did not notice its coordinator was gone: \(dom.prefix(3000))")
        let second = try coordinator("coordinator1")
        // Only the second process has this pid, and only it resumed the journal; its grid ends with every task done:
        // the summary, the grid's one cell and the results table (each redrawn from the new process's events).
        let resumed = drawn(90) {
            $0.contains("coordinator pid \(second.pid)") && $0.contains("(resumed)") && $0.contains("<b>\(tasks)</b> of <b>\(tasks)</b> tasks finished")
                && $0.contains("data-state=\"done\"><a href=") && $0.contains(">\(tasks)/\(tasks)</a>") && $0.contains("id=\"rcount\" class=\"muted\">(\(tasks))")
        }
        #expect(resumed, "\(dom.prefix(4000))\n\(second.text.suffix(2000))")
        #expect(!dom.contains("coordinator pid \(first.pid)"))
        let shot = Outside.outputDirectory.appendingPathComponent("dashboard-restart.png")
        try page.screenshot(to: shot)
        print("dashboard screenshot after a coordinator restart: \(shot.path)")

        #expect(second.wait(seconds: 60, "second coordinator") == 0, "\(second.text.suffix(3000))")
        a.wait(seconds: 15, "worker a")
        b.wait(seconds: 15, "worker b")
        try grid.expectEveryTaskOnce()
    }
}

extension DashboardTests {
    /// A job with many settings on one language (like jobs/compression-curve.yaml's 14): the grid turns so that
    /// settings go down the side, and neither it nor the page is wider than the window; labels keep their full
    /// text as a tooltip.
    @Test(.enabled(if: Outside.chromium != nil, "chromium is not installed (.ci/install-deps --test installs it)"))
    func aGridOfManySettingsFitsThePage() throws {
        let dir = try Fixtures.temporaryDirectory("dash-wide")
        defer { try? FileManager.default.removeItem(at: dir) }
        let sparsities = (1...14).map { String(format: "%.2f", Double($0) / 15) }.joined(separator: ", ")
        let job = try writeJob("""
            name: dash-wide
            seeds: [1]
            languages: [hau]
            compression:
              - prune: {sparsity: [\(sparsities)], when: after, finetune_epochs: 1}
            execution: {executor: noop, noop_seconds: 5}
            """, in: dir)
        let port = freePort()
        let run = try Child(["run", job, "--workers", "1", "--out", dir.appendingPathComponent("run").path, "--http", "127.0.0.1:\(port)"],
                            in: dir, name: "run")
        defer {
            kill(run.pid, SIGINT)
            if run.wait(seconds: 20, "run after SIGINT") == nil { run.kill9() }
        }
        #expect(waitUntil(seconds: 30) { httpGet("http://127.0.0.1:\(port)/api/status")?.status == 200 }, "\(run.text.suffix(2000))")
        let page = try DevToolsPage(chromium: Outside.chromium!, url: "http://127.0.0.1:\(port)/", width: 1024, height: 900)
        var shape: [String: Any] = [:]
        let fits = waitUntil(seconds: 30) {
            shape = (try? page.evaluate("""
                ({title: document.getElementById("gridtitle").textContent,
                  rows: document.querySelectorAll("#grid tr").length,
                  box: document.getElementById("grid").parentElement.scrollWidth - document.getElementById("grid").parentElement.clientWidth,
                  page: document.documentElement.scrollWidth - window.innerWidth,
                  tip: document.querySelector("#grid tr:nth-child(4) th").title})
                """) as? [String: Any]) ?? [:]
            return shape["rows"] as? Int ?? 0 >= 17
        }
        #expect(fits, "\(shape)")
        #expect(shape["title"] as? String == "Grid (setting × language)", "\(shape)")
        #expect(shape["box"] as? Int == 0 && shape["page"] as? Int == 0, "wider than the window: \(shape)")
        #expect((shape["tip"] as? String ?? "").hasPrefix("prune sparsity=") && (shape["tip"] as? String ?? "").hasSuffix("finetune_epochs=1"), "\(shape)")
        let shot = Outside.outputDirectory.appendingPathComponent("dashboard-many-settings.png")
        try page.screenshot(to: shot)
        print("dashboard screenshot of a job with many settings: \(shot.path)")
    }
}

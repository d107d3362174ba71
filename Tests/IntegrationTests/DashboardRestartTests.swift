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

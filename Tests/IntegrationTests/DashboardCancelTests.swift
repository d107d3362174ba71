// The dashboard's one action, POST /api/cancel: refused without a token even on loopback (403), refused without
// the token where there is one (401), and with it the grid stops cleanly (exit 130, resumable) as after
// `smaller cancel`.
import Foundation
import Testing
import TestSupport

extension DashboardTests {
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/curl"), "curl is not installed"))
    func cancellingOverHTTPNeedsTheToken() throws {
        let dir = try Fixtures.temporaryDirectory("dash-cancel")
        defer { try? FileManager.default.removeItem(at: dir) }
        let job = try writeJob("name: dash-cancel\nnoop: {tasks: 20, seconds: 2}\n", in: dir)
        let runURL = dir.appendingPathComponent("run")
        func post(_ port: Int, _ headers: [String] = []) -> (status: String, body: String) {
            let out = Outside.output("/usr/bin/curl", ["-s", "-m", "10", "-X", "POST", "-w", "\n%{http_code}"] + headers
                                     + ["http://127.0.0.1:\(port)/api/cancel"])
            let lines = out.split(separator: "\n", omittingEmptySubsequences: false)
            return (String(lines.last ?? ""), lines.dropLast().joined(separator: "\n"))
        }

        // Loopback without a token: no cancel action, and the grid goes on.
        let open = freePort()
        let first = try Child(["run", job, "--workers", "1", "--out", runURL.path, "--http", "127.0.0.1:\(open)"], in: dir, name: "open")
        #expect(waitUntil(seconds: 30) { httpGet("http://127.0.0.1:\(open)/api/status")?.status == 200 }, "\(first.text.suffix(2000))")
        let refused = post(open)
        #expect(refused.status == "403" && refused.body.contains("--http-token"), "\(refused)")
        #expect(httpGet("http://127.0.0.1:\(open)/api/cancel")?.status ?? 0 >= 400, "a GET never cancels")
        Thread.sleep(forTimeInterval: 1)
        #expect(first.process.isRunning && !FileManager.default.fileExists(atPath: runURL.appendingPathComponent("cancel").path))
        kill(first.pid, SIGINT)
        #expect(first.wait(seconds: 30, "run after SIGINT") == 130)

        // With a token: refused without it, and with it the run stops cleanly and stays resumable.
        let token = "cancel-token-" + UUID().uuidString
        let tokenFile = dir.appendingPathComponent("token")
        try (token + "\n").write(to: tokenFile, atomically: true, encoding: .utf8)
        let guarded = freePort()
        let second = try Child(["run", job, "--workers", "1", "--out", runURL.path, "--http", "127.0.0.1:\(guarded)",
                                "--http-token", tokenFile.path], in: dir, name: "guarded")
        #expect(waitUntil(seconds: 30) { httpGet("http://127.0.0.1:\(guarded)/api/status?token=\(token)")?.status == 200 },
                "\(second.text.suffix(2000))")
        #expect(post(guarded).status == "401")
        #expect(post(guarded, ["-H", "Authorization: Bearer not-the-token-at-all"]).status == "401")
        #expect(second.process.isRunning)
        let accepted = post(guarded, ["-H", "Authorization: Bearer \(token)"])
        #expect(accepted.status == "202" && accepted.body.contains("cancelling"), "\(accepted)")
        #expect(second.wait(seconds: 30, "run after the HTTP cancel") == 130, "\(second.text.suffix(2000))")
        #expect(second.text.contains("stopped:"), "\(second.text.suffix(2000))")
        let done = try RunDir(url: runURL).resultCount().rows
        #expect(done < 20, "the grid finished before the cancel: nothing was stopped")
    }
}

// DashboardRoutes: the dashboard's endpoints. Reads come from LiveRun (in memory, kept incrementally) and, for
// task pages, from the journal's read-only connection with LIMIT/OFFSET; bad query parameters get a 400 that says why.
import Coordinator
import Experiment
import Foundation
import Hummingbird
import Report

struct DashboardRoutes: Sendable {
    let live: LiveRun
    let journal: Journal
    /// Where POST /api/cancel asks the coordinator to stop (the run directory's `cancel` file, as `smaller cancel`
    /// writes it); nil on a dashboard without a token, which has no cancel action.
    let cancelFile: URL?

    static let maxPerPage = 500
    static let defaultPerPage = 100
    static let maxPage = 1_000_000
    /// How often an event stream looks for new events.
    static let streamInterval = Duration.milliseconds(250)
    static let reconnectMilliseconds = 1000

    func register(on router: Router<BasicRequestContext>) {
        router.get("/") { request, _ in
            _ = try Query(request, allowed: [])
            return Self.body(DashboardPage.html(initial: try Self.encoded(live.initialState(results: Self.maxPerPage)),
                                                     plot: live.sparsityChart()?.svg), type: "text/html; charset=utf-8")
        }
        router.get("/api/status") { request, _ in
            _ = try Query(request, allowed: [])
            return try Self.json(live.summary())
        }
        router.get("/api/workers") { request, _ in
            _ = try Query(request, allowed: [])
            return try Self.json(live.workers())
        }
        router.get("/api/cells") { request, _ in
            _ = try Query(request, allowed: [])
            return try Self.json(live.cells())
        }
        router.get("/api/tasks") { request, _ in try tasks(request) }
        router.get("/api/results") { request, _ in try results(request) }
        router.get("/api/plot.svg") { request, _ in
            _ = try Query(request, allowed: [])
            return Self.body(live.sparsityChart()?.svg ?? "", type: "image/svg+xml")
        }
        router.get("/metrics") { request, _ in
            _ = try Query(request, allowed: [])
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(bytes: live.exposition())))
        }
        router.get("/events") { request, _ in try events(request) }
        router.post("/api/cancel") { request, _ in try cancel(request) }
    }

    /// The one action: stop the grid cleanly, as `smaller cancel DIR` does (the coordinator's loop looks for the
    /// file; the run directory resumes). Only on a dashboard with a token, even on loopback: any local process or
    /// web page may POST to a loopback port, and none of them should stop a grid. The middleware has checked the
    /// token by now.
    func cancel(_ request: Request) throws -> Response {
        _ = try Query(request, allowed: [])
        guard let cancelFile else {
            throw HTTPError(.forbidden, message: "this dashboard has no cancel action: start the coordinator with --http-token FILE (also on loopback), or run `smaller cancel DIR`")
        }
        do { try Data().write(to: cancelFile) } catch {
            throw HTTPError(.internalServerError, message: "could not ask the coordinator to stop: \(error)")
        }
        var response = Self.body(#"{"cancelling":true}"#, type: "application/json")
        response.status = .accepted
        return response
    }

    func tasks(_ request: Request) throws -> Response {
        let query = try Query(request, allowed: ["state", "page", "per_page"])
        let state = try query.oneOf("state", TaskState.allCases.map(\.rawValue))
        let (page, perPage) = try query.paging()
        let total = state.map { live.summary().tasks[$0] ?? 0 } ?? live.summary().total
        let rows = try journal.taskPage(state: state, limit: perPage, offset: (page - 1) * perPage)
        return try Self.json(Page(page: page, perPage: perPage, total: total, items: rows))
    }

    func results(_ request: Request) throws -> Response {
        let query = try Query(request, allowed: ["language", "setting", "page", "per_page"])
        let language = query.text("language"), setting = query.text("setting")
        let (page, perPage) = try query.paging()
        let (total, rows) = live.resultPage(language: language, setting: setting, limit: perPage, offset: (page - 1) * perPage)
        return try Self.json(Page(page: page, perPage: perPage, total: total, items: rows))
    }

    /// Server-Sent Events: task changes and results as they commit (each with an id `epoch-n`, so a browser that
    /// reconnects resumes after the last it saw, or is told `reset` when that is gone or from another
    /// coordinator process), and the summary (workers, counts, failures) whenever the coordinator refreshes it.
    func events(_ request: Request) throws -> Response {
        let query = try Query(request, allowed: ["after"])
        let resume = request.headers.first(where: { $0.name.canonicalName == "last-event-id" })?.value ?? query.text("after")
        let live = self.live
        var after: Int? = nil
        var reset = false
        if let resume {
            let parts = resume.split(separator: "-", maxSplits: 1)
            if parts.count == 2, String(parts[0]) == live.epoch, let n = Int(parts[1]), n >= 0 { after = n } else { reset = true }
        } else {
            after = live.lastEventID
        }
        let start = after
        let startReset = reset
        let headers: HTTPFields = [.contentType: "text/event-stream", .cacheControl: "no-cache"]
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            var after = start
            var version = -1
            // A browser reconnects a second after the stream breaks (a restarted coordinator is back that soon). The
            // field joins the first event that follows (a block of its own would be an empty event).
            let opening = "retry: \(Self.reconnectMilliseconds)\n" + (startReset ? "event: reset\ndata: {}\n\n" : "")
            try await writer.write(ByteBuffer(string: opening))
            while !Task.isCancelled {
                // Read before collecting: the last round after the close still sends what came before it (the
                // final summary of a finished grid).
                let closing = live.isClosed
                var text = ""
                let (events, last, _) = live.events(after: after)
                if let events {
                    for (id, event) in events { text += try Self.frame(event, id: "\(live.epoch)-\(id)") }
                } else {
                    text += "id: \(live.epoch)-\(last)\nevent: reset\ndata: {}\n\n"
                }
                after = last
                if let (summary, v) = live.summaryIfChanged(since: version) {
                    version = v
                    text += "event: status\ndata: \(try Self.encoded(summary))\n\n"
                }
                if !text.isEmpty { try await writer.write(ByteBuffer(string: text)) }
                if closing { break }
                try await Task.sleep(for: Self.streamInterval)
            }
            try await writer.finish(nil)
        })
    }

    static func frame(_ event: LiveEvent, id: String) throws -> String {
        let data: String
        switch event {
        case .reset: data = "{}"
        case .task(let change): data = try encoded(change)
        case .result(let row): data = try encoded(row)
        }
        return "id: \(id)\nevent: \(event.name)\ndata: \(data)\n\n"
    }

    static func encoded(_ value: some Encodable) throws -> String {
        String(decoding: try JSONWriter.encoder(pretty: false).encode(value), as: UTF8.self)
    }

    static func json(_ value: some Encodable) throws -> Response {
        body(try encoded(value), type: "application/json")
    }

    static func body(_ text: String, type: String) -> Response {
        Response(status: .ok, headers: [.contentType: type], body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}

struct InitialState: Encodable {
    var status: Summary
    var cells: [Cell]
    var results: [ResultRow]
}

struct Page<Item: Encodable>: Encodable {
    var page, perPage, total: Int
    var items: [Item]
}

/// A request's query parameters, checked: unknown names, repeated names and malformed values are a 400.
struct Query {
    private var values: [String: String] = [:]

    init(_ request: Request, allowed: Set<String>) throws {
        for (key, value) in request.uri.queryParameters {
            let name = String(key)
            if name == "token" { continue }
            guard allowed.contains(name) else {
                let known = allowed.isEmpty ? "it takes none" : "known: \(allowed.sorted().joined(separator: ", "))"
                throw HTTPError(.badRequest, message: "unknown query parameter '\(name)' for \(request.uri.path) (\(known))")
            }
            guard values[name] == nil else { throw HTTPError(.badRequest, message: "query parameter '\(name)' given twice") }
            guard value.utf8.count <= Self.maxValueBytes else {
                throw HTTPError(.badRequest, message: "query parameter '\(name)' is longer than \(Self.maxValueBytes) bytes")
            }
            values[name] = String(value)
        }
    }

    static let maxValueBytes = 256

    func text(_ name: String) -> String? { values[name] }

    func oneOf(_ name: String, _ allowed: [String]) throws -> String? {
        guard let value = values[name] else { return nil }
        guard allowed.contains(value) else {
            throw HTTPError(.badRequest, message: "\(name)=\(value) is not one of \(allowed.joined(separator: ", "))")
        }
        return value
    }

    func int(_ name: String, _ range: ClosedRange<Int>, default fallback: Int) throws -> Int {
        guard let text = values[name] else { return fallback }
        guard let value = Int(text), range.contains(value) else {
            throw HTTPError(.badRequest, message: "\(name)=\(text) must be a whole number in \(range.lowerBound)...\(range.upperBound)")
        }
        return value
    }

    func paging() throws -> (page: Int, perPage: Int) {
        (try int("page", 1...DashboardRoutes.maxPage, default: 1),
         try int("per_page", 1...DashboardRoutes.maxPerPage, default: DashboardRoutes.defaultPerPage))
    }
}

// DashboardServer: the coordinator's HTTP side (issue #15) on Hummingbird, on threads of its own: the JSON API,
// /metrics, the live page and its event stream, and the cancel action (with a token only). It reads LiveRun and a
// read-only journal connection; the coordinator's ZeroMQ loop never waits for it.
import Coordinator
import Experiment
import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

package struct DashboardOptions: Sendable {
    package var host: String
    /// 0: a free port.
    package var port: Int
    /// Bearer token every request must carry (`Authorization: Bearer …`, or `?token=` for a browser); nil: none.
    package var token: String?
    package var runDirectory: URL

    package init(host: String, port: Int, token: String?, runDirectory: URL) {
        self.host = host; self.port = port; self.token = token; self.runDirectory = runDirectory
    }
}

package struct DashboardError: Error, CustomStringConvertible {
    package var description: String
}

package final class DashboardServer: Sendable {
    package let live: LiveRun
    /// `http://host:port/` (with the token as a query parameter when there is one, so the printed link opens).
    package let url: String
    package let port: Int
    private let task: Task<Void, Never>
    private let group: ServiceGroup
    private let done: DispatchSemaphore

    /// How long `start` waits for the socket to be bound.
    static let bindTimeout = 10.0

    /// Binds and starts serving; returns once the port is known. Throws when the address cannot be bound.
    package init(options: DashboardOptions, live: LiveRun) throws {
        self.live = live
        let journal = try Journal(runDirectory: options.runDirectory, readOnly: true)
        live.preload(try journal.recordTexts().compactMap { try? ResultRecord.decode(Data($0.utf8)) })
        let routes = DashboardRoutes(live: live, journal: journal,
                                     cancelFile: options.token == nil ? nil : options.runDirectory.appendingPathComponent("cancel"))
        let router = Router()
        router.add(middleware: DashboardMiddleware(token: options.token))
        routes.register(on: router)
        var logger = Logger(label: "smaller.dashboard")
        logger.logLevel = .error
        let bound = BoundPort()
        let app = Application(router: router,
                              configuration: .init(address: .hostname(options.host, port: options.port), serverName: nil),
                              onServerRunning: { channel in bound.set(.success(channel.localAddress?.port ?? options.port)) },
                              logger: logger)
        let done = DispatchSemaphore(value: 0)
        self.done = done
        // Its own group, told to shut down by `stop`: the process's signals belong to the coordinator.
        let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
        self.group = group
        task = Task.detached {
            do { try await group.run() } catch { bound.set(.failure(error)) }
            done.signal()
        }
        guard let port = try bound.wait(timeout: Self.bindTimeout) else {
            task.cancel()
            throw DashboardError(description: "the dashboard did not bind \(options.host):\(options.port) within \(Int(Self.bindTimeout)) s")
        }
        self.port = port
        let host = options.host.contains(":") ? "[\(options.host)]" : options.host
        url = "http://\(host):\(port)/" + (options.token.map { "?token=" + (Self.queryEscaped($0)) } ?? "")
    }

    static func queryEscaped(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? text
    }

    /// Ends the event streams, then the server: it finishes open requests (a few seconds at most, then it is cancelled).
    package func stop() {
        live.close()
        let group = group
        Task { await group.triggerGracefulShutdown() }
        if done.wait(timeout: .now() + Self.stopTimeout) == .timedOut {
            task.cancel()
            _ = done.wait(timeout: .now() + 1)
        }
    }

    static let stopTimeout = 3.0
}

/// The bound port (or the bind's error), handed from the server's task to the thread that started it.
private final class BoundPort: @unchecked Sendable {
    private let lock = NSLock()
    private let ready = DispatchSemaphore(value: 0)
    private var result: Result<Int, any Error>?

    func set(_ value: Result<Int, any Error>) {
        lock.lock()
        let first = result == nil
        if first { result = value }
        lock.unlock()
        if first { ready.signal() }
    }

    func wait(timeout: Double) throws -> Int? {
        guard ready.wait(timeout: .now() + timeout) == .success else { return nil }
        lock.lock()
        defer { lock.unlock() }
        return try result?.get()
    }
}

/// The token check (401 without it) and messages on errors that have none (an unknown path's 404).
struct DashboardMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    let token: String?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let token, !Self.carries(request, token) {
            throw HTTPError(.unauthorized, headers: [.wwwAuthenticate: "Bearer"],
                            message: "this dashboard needs its token: Authorization: Bearer <token>, or ?token=<token>")
        }
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound && error.body == nil {
            throw HTTPError(.notFound, message: "no such path: \(request.uri.path) (see / and /api/status, /api/workers, /api/tasks, /api/results, /api/cells, /events, /metrics)")
        }
    }

    static func carries(_ request: Request, _ token: String) -> Bool {
        if let header = request.headers[.authorization], header.hasPrefix("Bearer "),
           constantTimeEqual(String(header.dropFirst(7)), token) { return true }
        if let query = request.uri.queryParameters["token"], constantTimeEqual(String(query), token) { return true }
        return false
    }

    /// Compares without stopping at the first difference, so timing does not tell how much of a guess was right.
    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        var diff = UInt8(x.count == y.count ? 0 : 1)
        for i in 0..<max(x.count, y.count) { diff |= (i < x.count ? x[i] : 0) ^ (i < y.count ? y[i] : 0) }
        return diff == 0
    }
}

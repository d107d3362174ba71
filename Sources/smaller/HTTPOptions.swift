// The dashboard's flags, shared by `smaller coordinator` and `smaller run`: where it listens, whether at all, and
// the token it requires (always beyond loopback).
import ArgumentParser
import Coordinator
import Dashboard
import Foundation
import Wire

struct HTTPOptions: ParsableArguments {
    @Option(name: .customLong("http"), help: "Dashboard and /metrics address HOST:PORT (port 0: a free one).")
    var http = "127.0.0.1:0"
    @Flag(name: .customLong("no-http"), help: "Serve no dashboard and no /metrics.") var noHTTP = false
    @Option(name: .customLong("http-token"), help: "File holding the bearer token every dashboard request must carry (required beyond loopback).")
    var httpToken: String?

    /// The HOST:PORT parsed with the endpoint rules (`[v6]:port` too).
    var address: Endpoint.Address? { (try? Endpoint(parsing: "tcp://" + http))?.destination }

    func validate() throws {
        if noHTTP { return }
        guard let address, let port = address.port, let number = Int(port), (0...65535).contains(number) else {
            throw ValidationError("--http \(http) is not HOST:PORT with a port from 0 to 65535")
        }
        if httpToken == nil, !isLoopback("tcp://" + http) {
            throw ValidationError("--http \(http) is beyond loopback: give --http-token FILE (requests without the token get 401)")
        }
        if let httpToken, (try? Self.token(httpToken)) == nil {
            throw ValidationError("--http-token \(httpToken): not a readable file with a token of at least \(Self.minTokenBytes) printable characters")
        }
    }

    static let minTokenBytes = 16

    /// The file's first line, trimmed; at least `minTokenBytes` printable ASCII characters.
    static func token(_ path: String) throws -> String {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let token = String(text.split(separator: "\n", omittingEmptySubsequences: false).first ?? "").trimmingCharacters(in: .whitespaces)
        guard token.utf8.count >= minTokenBytes, token.utf8.allSatisfy({ $0 > 32 && $0 < 127 }) else {
            throw ValidationError("--http-token \(path): the token must be at least \(minTokenBytes) printable characters")
        }
        return token
    }

    /// The live view the coordinator feeds (nil with --no-http): set as its observer before it is made.
    func liveRun() -> LiveRun? { noHTTP ? nil : LiveRun() }

    /// Starts the dashboard on `live` and the run directory (whose journal the coordinator has made); prints its URL.
    func serve(_ live: LiveRun?, runDirectory: URL) throws -> DashboardServer? {
        guard let live, let address, let port = address.port.flatMap({ Int($0) }) else { return nil }
        let options = DashboardOptions(host: address.host, port: port, token: try httpToken.map(Self.token), runDirectory: runDirectory)
        let server: DashboardServer
        do { server = try DashboardServer(options: options, live: live) } catch {
            throw CommandFailure("the dashboard cannot listen on \(http): \(error); choose another with --http HOST:PORT (port 0: a free one) or serve none with --no-http")
        }
        printErr("dashboard: \(server.url)")
        return server
    }
}

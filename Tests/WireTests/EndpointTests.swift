// Endpoint parsing and the loopback rule: a table of endpoints (source;destination forms, names, IPv6, ipc,
// inproc, wildcards) with the parts each parses to and whether plaintext is allowed on it.
import Foundation
import Testing
@testable import Wire

@Suite struct EndpointTests {
    /// Names resolved by the table instead of DNS, so the test does not depend on the network.
    static func fakeResolve(_ host: String) -> [IPAddress]? {
        let table: [String: [String]] = [
            "localhost": ["127.0.0.1", "::1"],
            "db.example": ["192.0.2.7"],
            "mixed.example": ["127.0.0.1", "192.0.2.8"],
            "loop6.example": ["::ffff:127.0.0.2"],
        ]
        if let numeric = IPAddress(numeric: host) { return [numeric] }
        return table[host].map { $0.compactMap { IPAddress(numeric: $0) } }
    }

    struct Row {
        var endpoint: String
        var loopback: Bool
        var source: String? = nil
        var host: String? = nil
        var port: String? = nil
    }

    static let rows: [Row] = [
        Row(endpoint: "ipc:///tmp/smaller.sock", loopback: true),
        Row(endpoint: "inproc://workers", loopback: true),
        Row(endpoint: "tcp://127.0.0.1:5555", loopback: true, host: "127.0.0.1", port: "5555"),
        Row(endpoint: "tcp://127.8.9.10:5555", loopback: true, host: "127.8.9.10", port: "5555"),
        Row(endpoint: "tcp://127.0.0.1:*", loopback: true, host: "127.0.0.1", port: "*"),
        Row(endpoint: "tcp://[::1]:5555", loopback: true, host: "::1", port: "5555"),
        Row(endpoint: "tcp://[::ffff:127.0.0.1]:5555", loopback: true, host: "::ffff:127.0.0.1", port: "5555"),
        Row(endpoint: "tcp://localhost:5555", loopback: true, host: "localhost", port: "5555"),
        Row(endpoint: "tcp://loop6.example:1", loopback: true, host: "loop6.example", port: "1"),
        Row(endpoint: "tcp://127.0.0.1;127.0.0.1:5555", loopback: true, source: "127.0.0.1", host: "127.0.0.1", port: "5555"),
        Row(endpoint: "tcp://127.0.0.1:0;localhost:5555", loopback: true, source: "127.0.0.1", host: "localhost", port: "5555"),
        Row(endpoint: "tcp://[::1]:4000;[::1]:5555", loopback: true, source: "::1", host: "::1", port: "5555"),
        // Issue #12, item 4: these passed the old prefix test.
        Row(endpoint: "tcp://127.0.0.1;db.example:5555", loopback: false, source: "127.0.0.1", host: "db.example", port: "5555"),
        Row(endpoint: "tcp://127.anything.example:5555", loopback: false, host: "127.anything.example", port: "5555"),
        Row(endpoint: "tcp://db.example;127.0.0.1:5555", loopback: false, source: "db.example", host: "127.0.0.1", port: "5555"),
        Row(endpoint: "tcp://*:5555", loopback: false, host: "*", port: "5555"),
        Row(endpoint: "tcp://0.0.0.0:5555", loopback: false, host: "0.0.0.0", port: "5555"),
        Row(endpoint: "tcp://[::]:5555", loopback: false, host: "::", port: "5555"),
        Row(endpoint: "tcp://192.0.2.1:5555", loopback: false, host: "192.0.2.1", port: "5555"),
        Row(endpoint: "tcp://[2001:db8::1]:5555", loopback: false, host: "2001:db8::1", port: "5555"),
        Row(endpoint: "tcp://mixed.example:5555", loopback: false, host: "mixed.example", port: "5555"),
        Row(endpoint: "tcp://unknown.example:5555", loopback: false, host: "unknown.example", port: "5555"),
        Row(endpoint: "tcp://128.0.0.1:5555", loopback: false, host: "128.0.0.1", port: "5555"),
        Row(endpoint: "pgm://127.0.0.1;239.192.1.1:5555", loopback: false),
        Row(endpoint: "ws://127.0.0.1:5555", loopback: false),
    ]

    @Test func tableOfEndpoints() throws {
        for row in Self.rows {
            let e = try Endpoint(parsing: row.endpoint)
            #expect(e.isLoopback(resolve: Self.fakeResolve) == row.loopback, "\(row.endpoint)")
            #expect(e.source?.host == row.source, "\(row.endpoint)")
            #expect(e.destination?.host == row.host, "\(row.endpoint)")
            #expect(e.destination?.port == row.port, "\(row.endpoint)")
        }
    }

    @Test func malformedEndpointsAreErrors() {
        for bad in ["127.0.0.1:5555", "tcp://", "://x", "tcp://127.0.0.1", "tcp://127.0.0.1:", "tcp://127.0.0.1:65536",
                    "tcp://127.0.0.1:55a", "tcp://[::1:5555", "tcp://[::1]5555", "tcp://:5555", "tcp://a;b;127.0.0.1:5555",
                    "tcp://127.0.0.1;:5555", "tcp://127.0.0.1/x:5555", "tcp://127.0.0.1:-1", "tcp://ex ample:1"] {
            #expect(throws: EndpointError.self, "\(bad)") { _ = try Endpoint(parsing: bad) }
        }
    }

    /// The real resolver: numeric addresses need no lookup, `lo` is the loopback interface (a bind may name an
    /// interface), `localhost` is in /etc/hosts; a reserved `.invalid` name never resolves.
    @Test func systemResolver() throws {
        #expect(Endpoint.resolve("127.0.0.1") == [IPAddress(numeric: "127.0.0.1")!])
        #expect(try Endpoint(parsing: "tcp://[::1]:5555").isLoopback())
        #expect(try Endpoint(parsing: "tcp://lo:5555").isLoopback())
        #expect(try Endpoint(parsing: "tcp://localhost:5555").isLoopback())
        #expect(try !Endpoint(parsing: "tcp://smaller-test.invalid:5555").isLoopback())
        #expect(try !Endpoint(parsing: "tcp://127.0.0.1;smaller-test.invalid:5555").isLoopback())
    }

    @Test func addressesPrintAndClassify() {
        #expect(IPAddress(numeric: "127.0.0.1")!.description == "127.0.0.1")
        #expect(IPAddress(numeric: "::1")!.description == "0:0:0:0:0:0:0:1")
        #expect(IPAddress(numeric: "fe80::1%eth0")!.isLoopback == false)
        #expect(IPAddress(numeric: "::2")!.isLoopback == false)
        #expect(IPAddress(numeric: "::ffff:10.0.0.1")!.isLoopback == false)
        #expect(IPAddress(numeric: "localhost") == nil)
        #expect(IPAddress(bytes: [1, 2, 3]) == nil)
    }
}

// ZeroMQ links and works: PAIR round trips over inproc://, multipart frames intact, timeouts honoured.
import CZeroMQ
import Testing
@testable import Wire

@Suite struct ZeroMQSmokeTests {
    @Test func pairRoundTripOverInproc() throws {
        let context = try ZMQContext()
        let server = try ZMQSocket(context, .pair)
        let client = try ZMQSocket(context, .pair)
        try server.bind("inproc://smoke")
        try client.connect("inproc://smoke")

        let message: [[UInt8]] = [Array("HELLO".utf8), [], [0, 1, 2, 255]]
        try client.send(message)
        let received = try #require(try server.receive(timeoutMs: 2000))
        #expect(received == message)

        try server.send([Array("ACK".utf8)])
        #expect(try client.receive(timeoutMs: 2000) == [Array("ACK".utf8)])
    }

    @Test func receiveTimesOutWhenNothingArrives() throws {
        let context = try ZMQContext()
        let socket = try ZMQSocket(context, .pair)
        try socket.bind("inproc://quiet")
        #expect(try socket.receive(timeoutMs: 10) == nil)
    }

    @Test func badEndpointIsAThrownError() throws {
        let context = try ZMQContext()
        let socket = try ZMQSocket(context, .pair)
        #expect(throws: ZeroMQError.self) { try socket.bind("nonsense://x") }
    }

    @Test func reportsVersionAndCurve() {
        var major: Int32 = 0, minor: Int32 = 0, patch: Int32 = 0
        zmq_version(&major, &minor, &patch)
        #expect(ZeroMQInfo.version == "\(major).\(minor).\(patch)")
        #expect(major == 4)
        #expect(ZeroMQInfo.hasCurve)
    }
}

// The socket monitor against a real CURVE ROUTER over loopback TCP: a key off the allowlist is an AUTH refusal,
// a plaintext peer a mechanism mismatch, both on the worker's side; the ROUTER's side reports the accepted and
// dropped connection by the descriptor its messages carry (ZMQ_SRCFD).
import Foundation
import Testing
@testable import Wire

@Suite(.serialized) struct SocketMonitorTests {
    /// Collects `monitor`'s events, serving `zap` meanwhile, until `done` holds or 10 s pass.
    static func events(_ monitor: SocketMonitor, zap: ZAPHandler? = nil, until done: ([SocketEvent]) -> Bool) -> [SocketEvent] {
        var seen: [SocketEvent] = []
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline, !done(seen) {
            zap?.serve()
            seen += monitor.events()
            Thread.sleep(forTimeInterval: 0.005)
        }
        return seen
    }

    static func curveRouter(_ context: ZMQContext, allowed: CurveKeyPair) throws -> (ZMQSocket, CurveServerKeys, String) {
        let keys = CurveServerKeys(server: try CurveKeyPair.generate(), allowedClients: [allowed.publicKey])
        let router = try ZMQSocket.coordinatorRouter(context, bind: "tcp://127.0.0.1:*", curve: keys)
        return (router, keys, router.lastEndpoint)
    }

    @Test func aKeyOffTheAllowlistAndAPlaintextPeerAreRefusedWithTheirCause() throws {
        let context = try ZMQContext()
        let allowed = try CurveKeyPair.generate()
        var logged: [String] = []
        let zap = try ZAPHandler(context: context, allowed: [allowed.publicKey], log: { logged.append($0) })
        let (router, keys, endpoint) = try Self.curveRouter(context, allowed: allowed)

        var strangerMonitor: SocketMonitor?
        let stranger = try ZMQSocket.workerDealer(context, routingID: "stranger", connect: endpoint,
                                                  curve: CurveClientKeys(client: try CurveKeyPair.generate(), serverPublicKey: keys.server.publicKey),
                                                  beforeConnect: { strangerMonitor = try SocketMonitor($0) })
        let refused = Self.events(try #require(strangerMonitor), zap: zap) { $0.contains(.handshakeFailedAuth(status: 400)) }
        #expect(refused.contains(.handshakeFailedAuth(status: 400)), "\(refused)")
        #expect(SocketEvent.handshakeFailedAuth(status: 400).refusal?.contains("allowlist") == true)
        #expect(logged.contains { $0.contains("public key not on the allowlist") })
        withExtendedLifetime(stranger) {}

        var plainMonitor: SocketMonitor?
        let plain = try ZMQSocket.workerDealer(context, routingID: "plain", connect: endpoint, curve: nil,
                                               beforeConnect: { plainMonitor = try SocketMonitor($0) })
        let mismatch = SocketEvent.handshakeFailedProtocol(code: SocketEvent.mechanismMismatch)
        let seen = Self.events(try #require(plainMonitor), zap: zap) { $0.contains(mismatch) }
        #expect(seen.contains(mismatch), "\(seen)")
        #expect(mismatch.refusal?.contains("mechanism mismatch") == true)
        #expect(SocketEvent.handshakeSucceeded.refusal == nil && SocketEvent.handshakeFailedNoDetail(errno: 104).refusal == nil)
        withExtendedLifetime((router, plain)) {}
    }

    @Test func theRoutersMonitorNamesTheDroppedConnectionByItsMessagesDescriptor() throws {
        let context = try ZMQContext()
        var monitor: SocketMonitor?
        let router = try ZMQSocket.coordinatorRouter(context, bind: "tcp://127.0.0.1:*", curve: nil,
                                                     beforeBind: { monitor = try SocketMonitor($0) })
        let routerMonitor = try #require(monitor)
        var dealer: ZMQSocket? = try ZMQSocket.workerDealer(context, routingID: "w1", connect: router.lastEndpoint, curve: nil)
        try dealer?.send([Array("hi".utf8)])
        let frames = try #require(try router.receive(timeoutMs: 5000))
        #expect(frames.first == Array("w1".utf8))
        let fd = router.lastSourceFD
        #expect(fd >= 0)
        let accepted = Self.events(routerMonitor) { $0.contains(.accepted(fd: fd)) }
        #expect(accepted.contains(.accepted(fd: fd)), "\(accepted)")
        dealer = nil  // closes the socket (linger 0): the connection drops
        let dropped = Self.events(routerMonitor) { $0.contains(.disconnected(fd: fd)) }
        #expect(dropped.contains(.disconnected(fd: fd)), "\(dropped)")
        withExtendedLifetime(router) {}  // the drop is the dealer's, not the router closing
    }
}

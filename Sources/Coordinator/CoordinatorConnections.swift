// The coordinator's view of its connections (the ROUTER's monitor): a worker whose connection drops is
// presumed dead unless it comes back within the reconnect grace, and a refused handshake that ZAP never sees
// (a peer without a CURVE key) is logged, rate-limited, like the refusals ZAP logs.
import Foundation
import Wire

extension CoordinatorServer {
    /// The monitor's events since the last call, applied: state events for dropped connections, log lines
    /// for refused handshakes.
    func connectionEvents() -> [CoordinatorAction] {
        guard let monitor else { return [] }
        var actions: [CoordinatorAction] = []
        for event in monitor.events() {
            switch event {
            case .accepted(let fd): connections.accepted(fd)
            case .disconnected(let fd):
                if let peer = connections.closed(fd) {
                    actions += state.handle(.connectionDropped(from: Self.key(peer)), now: now)
                }
            case .handshakeFailedProtocol(let code):
                let why = code != SocketEvent.mechanismMismatch ? "ZeroMQ protocol error 0x\(String(code, radix: 16)) in the handshake"
                    : options.curve != nil ? "it offered no CURVE key (a plaintext worker; this coordinator requires CURVE)"
                    : "it offered a CURVE key (this coordinator is plaintext, without --keys)"
                // libzmq 4.3's monitor names only the bound endpoint here, not the peer's address.
                rateLimitedLog.note("refused handshake", "refused a connection on \(boundEndpoint): \(why) (key -, peer address not reported by libzmq)", now: now)
            case .handshakeFailedNoDetail(let errno) where options.curve != nil:
                // A plaintext worker that read this CURVE greeting first closes at once: this side sees only that.
                rateLimitedLog.note("refused handshake", "refused a connection on \(boundEndpoint): it closed during the CURVE handshake (errno \(errno)): it offered no CURVE key, or the link broke (key -, peer address not reported by libzmq)", now: now)
            case .handshakeSucceeded, .handshakeFailedAuth, .handshakeFailedNoDetail:
                break  // ZAP logs the refusals by key, with the peer's address
            }
        }
        return actions
    }

    /// Ties a message's connection (`fd`) to its sender when the connection is new to it: the monitor's events
    /// are applied first (a reused descriptor's DISCONNECTED comes before its new ACCEPTED), and a worker
    /// whose connection had dropped is back.
    func noteConnection(_ identity: [UInt8]?, fd: Int32) -> [CoordinatorAction] {
        guard let identity, !connections.isCurrent(fd, of: identity) else { return [] }
        var actions = connectionEvents()
        if connections.adopt(fd, by: identity) {
            actions += state.handle(.connectionOpened(from: Self.key(identity)), now: now)
        }
        return actions
    }
}

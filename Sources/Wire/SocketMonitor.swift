// SocketMonitor: libzmq's socket monitor (`zmq_socket_monitor` into a PAIR socket) as typed events, so the
// coordinator and the worker learn what libzmq otherwise keeps to itself: a refused handshake and why, and a
// connection that dropped (with the file descriptor its messages carried as ZMQ_SRCFD).
import CZeroMQ
import Foundation

/// One event of a monitored socket. libzmq 4.3's monitor (version 1) names only the local endpoint for a
/// bound socket, not the peer's address: peers are told apart by their connection's file descriptor.
package enum SocketEvent: Equatable, Sendable {
    /// A bound socket accepted a connection on `fd`.
    case accepted(fd: Int32)
    /// The connection on `fd` is gone (closed by the peer, cut, or refused after its handshake).
    case disconnected(fd: Int32)
    case handshakeSucceeded
    /// The peer's security refused us, or ours refused it: `status` is the ZAP status code (400: not allowed).
    case handshakeFailedAuth(status: Int)
    /// The peers do not speak the same protocol; `code` is a `ZMQ_PROTOCOL_ERROR_*` value.
    case handshakeFailedProtocol(code: UInt32)
    /// The handshake broke off without a reason (the peer closed or the link failed during it); `errno`.
    case handshakeFailedNoDetail(errno: Int32)

    /// The protocol error a plaintext peer meets at a CURVE peer, or the reverse.
    package static let mechanismMismatch = UInt32(ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH)

    /// Why a handshake failed, in words; nil for events that are not a failed handshake.
    package var refusal: String? {
        switch self {
        case .handshakeFailedAuth(let status):
            return "the coordinator refused this worker's CURVE key (ZAP status \(status): not on its allowlist)"
        case .handshakeFailedProtocol(let code) where code == Self.mechanismMismatch:
            return "security mechanism mismatch: one side uses CURVE keys and the other plaintext (give both or neither --keys)"
        case .handshakeFailedProtocol(let code):
            return "ZeroMQ protocol error 0x\(String(code, radix: 16)) during the handshake (is the peer a smaller coordinator?)"
        default:
            return nil
        }
    }
}

/// The events of one socket, read without blocking. The socket must outlive its monitor's use.
package final class SocketMonitor {
    let pair: ZMQSocket
    private static let counter = MonitorCounter()

    /// Monitors `socket` for the events either process acts on.
    package init(_ socket: ZMQSocket) throws {
        let n = Self.counter.next()
        let endpoint = "inproc://smaller-monitor-\(n)"
        let events = ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_HANDSHAKE_SUCCEEDED
            | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL
        guard zmq_socket_monitor(socket.handle, endpoint, events) == 0 else { throw ZeroMQError.last("zmq_socket_monitor") }
        pair = try ZMQSocket(socket.context, .pair)
        try pair.connect(endpoint)
    }

    /// Every event waiting now, oldest first (an event is two frames: 2-byte id and 4-byte value, then an
    /// endpoint). Malformed or unknown events are skipped.
    package func events() -> [SocketEvent] {
        var out: [SocketEvent] = []
        while let frames = try? pair.receive(timeoutMs: 0) {
            guard let first = frames.first, first.count >= 6 else { continue }
            let id = Int32(UInt16(first[0]) | UInt16(first[1]) << 8)
            let value = UInt32(first[2]) | UInt32(first[3]) << 8 | UInt32(first[4]) << 16 | UInt32(first[5]) << 24
            switch id {
            case ZMQ_EVENT_ACCEPTED: out.append(.accepted(fd: Int32(bitPattern: value)))
            case ZMQ_EVENT_DISCONNECTED: out.append(.disconnected(fd: Int32(bitPattern: value)))
            case ZMQ_EVENT_HANDSHAKE_SUCCEEDED: out.append(.handshakeSucceeded)
            case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH: out.append(.handshakeFailedAuth(status: Int(value)))
            case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL: out.append(.handshakeFailedProtocol(code: value))
            case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL: out.append(.handshakeFailedNoDetail(errno: Int32(bitPattern: value)))
            default: continue
            }
        }
        return out
    }
}

/// A counter for unique monitor endpoints across threads (tests run several coordinators in one process).
private final class MonitorCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    func next() -> Int {
        lock.lock()
        defer { lock.unlock() }
        n += 1
        return n
    }
}

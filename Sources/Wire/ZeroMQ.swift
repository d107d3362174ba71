// A thin, owned wrapper over libzmq: a context, sockets with multipart send/receive, and version facts.
// A socket is owned by one thread at a time (ZeroMQ sockets are not thread-safe); values cross threads, not sockets.
import CZeroMQ
#if canImport(Glibc)
import Glibc
#endif

/// A failed ZeroMQ call, with errno's text.
package struct ZeroMQError: Error, CustomStringConvertible {
    package let call: String
    package let code: Int32
    package var description: String { "\(call): \(String(cString: zmq_strerror(code))) (errno \(code))" }

    static func last(_ call: String) -> ZeroMQError { ZeroMQError(call: call, code: zmq_errno()) }
}

package enum ZeroMQInfo {
    /// libzmq's runtime version, e.g. "4.3.4".
    package static var version: String {
        var major: Int32 = 0, minor: Int32 = 0, patch: Int32 = 0
        zmq_version(&major, &minor, &patch)
        return "\(major).\(minor).\(patch)"
    }

    /// Whether this libzmq was built with CURVE security (libsodium).
    package static var hasCurve: Bool { zmq_has("curve") == 1 }
}

/// A ZeroMQ context; one per process is the norm. Terminating it waits for sockets to close.
package final class ZMQContext: @unchecked Sendable {
    let handle: UnsafeMutableRawPointer

    package init() throws {
        guard let h = zmq_ctx_new() else { throw ZeroMQError.last("zmq_ctx_new") }
        handle = h
    }

    deinit { zmq_ctx_term(handle) }
}

package enum SocketType: Int32, Sendable {
    case pair = 0, pub = 1, sub = 2, req = 3, rep = 4, dealer = 5, router = 6, pull = 7, push = 8
}

/// One ZeroMQ socket. Close happens in deinit with linger 0, so a dropped socket never blocks shutdown.
package final class ZMQSocket {
    let handle: UnsafeMutableRawPointer
    package let context: ZMQContext

    /// The file descriptor of the connection the last received message came on (ZMQ_SRCFD; -1 when the
    /// transport has none): it ties a monitor's `disconnected(fd:)` to the peer that sent on that connection.
    package private(set) var lastSourceFD: Int32 = -1

    package init(_ context: ZMQContext, _ type: SocketType) throws {
        guard let h = zmq_socket(context.handle, type.rawValue) else { throw ZeroMQError.last("zmq_socket") }
        handle = h
        self.context = context
        try setOption(ZMQ_LINGER, Int32(0))
    }

    deinit { zmq_close(handle) }

    package func bind(_ endpoint: String) throws {
        guard zmq_bind(handle, endpoint) == 0 else { throw ZeroMQError.last("zmq_bind(\(endpoint))") }
    }

    package func connect(_ endpoint: String) throws {
        guard zmq_connect(handle, endpoint) == 0 else { throw ZeroMQError.last("zmq_connect(\(endpoint))") }
    }

    func setOption(_ option: Int32, _ value: Int32) throws {
        var v = value
        guard zmq_setsockopt(handle, option, &v, MemoryLayout<Int32>.size) == 0 else {
            throw ZeroMQError.last("zmq_setsockopt(\(option))")
        }
    }

    func setOption(_ option: Int32, _ value: Int64) throws {
        var v = value
        guard zmq_setsockopt(handle, option, &v, MemoryLayout<Int64>.size) == 0 else {
            throw ZeroMQError.last("zmq_setsockopt(\(option))")
        }
    }

    func setOption(_ option: Int32, bytes: [UInt8]) throws {
        let rc = bytes.withUnsafeBytes { zmq_setsockopt(handle, option, $0.baseAddress, $0.count) }
        guard rc == 0 else { throw ZeroMQError.last("zmq_setsockopt(\(option))") }
    }

    /// Sends one multipart message; every frame but the last carries ZMQ_SNDMORE.
    package func send(_ frames: [[UInt8]]) throws {
        precondition(!frames.isEmpty, "a ZeroMQ message has at least one frame")
        for (i, frame) in frames.enumerated() {
            let flags: Int32 = i < frames.count - 1 ? ZMQ_SNDMORE : 0
            let rc = frame.withUnsafeBytes { zmq_send(handle, $0.baseAddress, $0.count, flags) }
            guard rc >= 0 else { throw ZeroMQError.last("zmq_send") }
        }
    }

    /// Sends without blocking; false when the message cannot be queued now (no peer, or its queue is full).
    /// Frames after a refused first frame are not sent, so a message is never cut in half.
    @discardableResult
    package func trySend(_ frames: [[UInt8]]) throws -> Bool {
        precondition(!frames.isEmpty, "a ZeroMQ message has at least one frame")
        for (i, frame) in frames.enumerated() {
            let flags: Int32 = (i < frames.count - 1 ? ZMQ_SNDMORE : 0) | ZMQ_DONTWAIT
            let rc = frame.withUnsafeBytes { zmq_send(handle, $0.baseAddress, $0.count, flags) }
            if rc < 0 {
                let code = zmq_errno()
                if code == EAGAIN && i == 0 { return false }
                // EHOSTUNREACH: a ROUTER with ROUTER_MANDATORY and an unknown peer; treat as not sent.
                if code == EHOSTUNREACH && i == 0 { return false }
                throw ZeroMQError(call: "zmq_send", code: code)
            }
        }
        return true
    }

    /// The endpoint actually bound (resolves a wildcard port such as `tcp://127.0.0.1:*`).
    package var lastEndpoint: String {
        var buffer = [CChar](repeating: 0, count: 1024)
        var size = buffer.count
        guard zmq_getsockopt(handle, ZMQ_LAST_ENDPOINT, &buffer, &size) == 0 else { return "" }
        return cText(buffer)
    }

    /// Sets a string-valued option (ZMQ_ROUTING_ID, ZMQ_ZAP_DOMAIN, CURVE keys in Z85, ...).
    func setOption(_ option: Int32, string: String) throws {
        try setOption(option, bytes: Array(string.utf8))
    }

    /// Receives one whole multipart message, or nil when nothing arrives within `timeoutMs` (-1 waits forever).
    /// A zero timeout does not poll: it tries a non-blocking receive (one system call fewer per message).
    package func receive(timeoutMs: Int = -1) throws -> [[UInt8]]? {
        if timeoutMs != 0 {
            guard try poll(timeoutMs: timeoutMs) else { return nil }
        }
        var frames: [[UInt8]] = []
        var more = true
        while more {
            var msg = zmq_msg_t()
            zmq_msg_init(&msg)
            defer { zmq_msg_close(&msg) }
            let flags: Int32 = (timeoutMs == 0 && frames.isEmpty) ? ZMQ_DONTWAIT : 0
            guard zmq_msg_recv(&msg, handle, flags) >= 0 else {
                let code = zmq_errno()
                if frames.isEmpty && (code == EAGAIN || code == EINTR) { return nil }
                throw ZeroMQError(call: "zmq_msg_recv", code: code)
            }
            // A ROUTER makes the routing-id frame itself (no descriptor): the peer's frames carry it.
            if frames.isEmpty { lastSourceFD = -1 }
            let fd = zmq_msg_get(&msg, ZMQ_SRCFD)
            if fd >= 0 { lastSourceFD = fd }
            let size = zmq_msg_size(&msg)
            let data = zmq_msg_data(&msg)
            frames.append(size == 0 ? [] : Array(UnsafeRawBufferPointer(start: data, count: size)))
            more = zmq_msg_more(&msg) == 1
        }
        return frames
    }

    /// Waits until a message can be read on this socket or `fd` is readable; returns which (both false on timeout).
    package func poll(timeoutMs: Int, orFileDescriptor fd: Int32) throws -> (socket: Bool, fd: Bool) {
        var items = [zmq_pollitem_t(socket: handle, fd: 0, events: Int16(ZMQ_POLLIN), revents: 0),
                     zmq_pollitem_t(socket: nil, fd: fd, events: Int16(ZMQ_POLLIN), revents: 0)]
        let rc = zmq_poll(&items, 2, timeoutMs)
        if rc < 0 {
            if zmq_errno() == EINTR { return (false, false) }
            throw ZeroMQError.last("zmq_poll")
        }
        return (items[0].revents & Int16(ZMQ_POLLIN) != 0, items[1].revents & Int16(ZMQ_POLLIN) != 0)
    }

    /// Waits until a message can be read; false on timeout.
    package func poll(timeoutMs: Int) throws -> Bool {
        var item = zmq_pollitem_t(socket: handle, fd: 0, events: Int16(ZMQ_POLLIN), revents: 0)
        let rc = zmq_poll(&item, 1, timeoutMs)
        if rc < 0 {
            if zmq_errno() == EINTR { return false }
            throw ZeroMQError.last("zmq_poll")
        }
        return rc > 0
    }
}

/// The text of a NUL-terminated C buffer.
func cText(_ buffer: [CChar]) -> String {
    String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

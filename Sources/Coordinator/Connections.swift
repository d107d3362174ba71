// Connections: which peer sends on which connection, from the ROUTER's messages (their ZMQ_SRCFD) and its
// monitor's accepted/disconnected events, so that a dropped connection names the worker it carried. libzmq 4.3
// has no ROUTER notifications (ZMQ_ROUTER_NOTIFY is a draft API the Debian build leaves out).
//
// File descriptors are reused: a message is tied to a connection only while that connection is open by the
// monitor's account, and the monitor is read before a peer's new connection is taken (libzmq reports the
// ACCEPTED before the connection carries anything, and a DISCONNECTED before its descriptor can be reused).

struct Connections {
    /// Connections accepted and not yet closed.
    private var open: Set<Int32> = []
    private var owner: [Int32: [UInt8]] = [:]
    /// Each peer's connection: the one its latest message came on.
    private var current: [[UInt8]: Int32] = [:]

    /// Whether `fd` is `peer`'s known connection, or carries no descriptor (inproc): nothing to learn then.
    /// One lookup per message.
    func isCurrent(_ fd: Int32, of peer: [UInt8]) -> Bool { fd < 0 || current[peer] == fd }

    /// A message from `peer` on `fd`, not its known connection (the monitor's events applied first): true when
    /// `fd` is open and now `peer`'s; false for a straggler from a connection already closed.
    mutating func adopt(_ fd: Int32, by peer: [UInt8]) -> Bool {
        guard open.contains(fd) else { return false }
        owner[fd] = peer
        current[peer] = fd
        return true
    }

    mutating func accepted(_ fd: Int32) {
        open.insert(fd)
        owner[fd] = nil
    }

    /// The peer whose current connection `fd` was (nil when it had moved to another one, or never spoke).
    mutating func closed(_ fd: Int32) -> [UInt8]? {
        open.remove(fd)
        guard let peer = owner.removeValue(forKey: fd), current[peer] == fd else { return nil }
        current[peer] = nil
        return peer
    }
}

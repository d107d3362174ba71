// The protocol's two sockets, made with every option docs/protocol.md asks of them, so that the coordinator and
// the worker never set a socket option (nor import libzmq) themselves.
import CZeroMQ

extension ZMQSocket {
    /// Messages queued per peer and direction. Sends never block (`trySend`), so a message refused by a full queue
    /// is lost; libzmq's default limit (1,000) is raised far above what credits keep in flight.
    static let queueLimit: Int32 = 100_000

    /// The coordinator's ROUTER, bound to `endpoint`: a reconnecting worker's routing id takes over its old
    /// connection (`ZMQ_ROUTER_HANDOVER`), libzmq drops a peer whose message exceeds the protocol's limit before
    /// we read it (`ZMQ_MAXMSGSIZE`), and with `curve` it is a CURVE server whose clients the `ZAPHandler` of the
    /// same context admits. Linger is 0, as for every socket. `beforeBind` sees the socket first (a monitor
    /// attached there misses no connection).
    package static func coordinatorRouter(_ context: ZMQContext, bind endpoint: String, curve: CurveServerKeys?,
                                          beforeBind: (ZMQSocket) throws -> Void = { _ in }) throws -> ZMQSocket {
        let socket = try ZMQSocket(context, .router)
        try socket.setOption(ZMQ_ROUTER_HANDOVER, Int32(1))
        try socket.setSharedOptions()
        if let curve { try curve.configure(server: socket) }
        try beforeBind(socket)
        try socket.bind(endpoint)
        return socket
    }

    /// A worker's DEALER, connected to `endpoint`, with the worker id as its routing id (so the coordinator
    /// knows a reconnecting worker) and, with `curve`, as a CURVE client of the coordinator's key. `beforeConnect`
    /// sees the socket first (a monitor attached there misses no handshake).
    package static func workerDealer(_ context: ZMQContext, routingID: String, connect endpoint: String,
                                     curve: CurveClientKeys?, beforeConnect: (ZMQSocket) throws -> Void = { _ in }) throws -> ZMQSocket {
        let socket = try ZMQSocket(context, .dealer)
        try socket.setOption(ZMQ_ROUTING_ID, string: routingID)
        try socket.setSharedOptions()
        if let curve { try curve.configure(client: socket) }
        try beforeConnect(socket)
        try socket.connect(endpoint)
        return socket
    }

    private func setSharedOptions() throws {
        try setOption(ZMQ_MAXMSGSIZE, Int64(ProtocolConstants.maxMessageBytes))
        try setOption(ZMQ_SNDHWM, Self.queueLimit)
        try setOption(ZMQ_RCVHWM, Self.queueLimit)
    }
}

// The protocol's numbers, mirroring docs/protocol.md ("Constants"); change both together.
import Foundation

package enum ProtocolConstants {
    /// Frame 0 of every message: "SMALLER" then the version byte.
    package static let tagPrefix: [UInt8] = Array("SMALLER".utf8)
    package static let version: UInt8 = 3
    package static var tag: [UInt8] { tagPrefix + [version] }

    package static let heartbeatInterval: Double = 1.0
    package static let liveness = 3
    package static let reconnectInitial: Double = 0.1
    package static let reconnectMax: Double = 5.0
    package static let maxAttempts = 3
    /// A worker whose handshake is refused this many times in a row (libzmq retries every 0.1 s) stops.
    package static let refusedHandshakeLimit = 3
    /// A worker whose handshakes break off without a reason this many times in a row stops. When one side is
    /// plaintext and the other CURVE, the side that reads the other's greeting first sees the mechanism mismatch
    /// and closes: the other side sees only a handshake that broke off. A coordinator that is down refuses the
    /// TCP connection (no handshake at all), so only a peer that keeps closing handshakes reaches this.
    package static let brokenHandshakeLimit = 10
    /// A worker whose connection dropped is presumed dead unless it says HELLO again within this long: a live
    /// worker reconnects after its first back-off (`reconnectInitial` + 20 % jitter), a killed one never does.
    package static let reconnectGrace = 0.25

    package static let chunkBytes = 1 << 20
    package static let maxBodyBytes = 4 << 20
    package static let maxMessageBytes = (8 << 20) + (64 << 10)
    package static let maxIdentifierLength = 128
    /// Frames after the routing id: tag, command, body, and a payload in CHUNK only.
    package static let minFrames = 3
    package static let maxFrames = 4
    package static let maxCommandBytes = 16
    /// The largest artifact a size, offset or total may name (1 TiB). Below Int64.max by far, so offset + length
    /// of a valid chunk or fetch can never overflow.
    package static let maxArtifactBytes = 1 << 40
    /// The longest string in a body (binary or JSON): log tails, errors, reasons, metric names.
    package static let maxStringBytes = 1 << 20
    /// Values (spec params, metrics) nest at most this deep, so a hostile body cannot exhaust the stack.
    package static let maxNesting = 32
    /// The most leases a worker may ask to hold at once (HELLO `prefetch`, READY `credit`).
    package static let maxPrefetch = 1024
    /// The most leases a HELLO may name (`leases`): the one running plus results awaiting their ACK, which a
    /// worker holds at most `prefetch` of when it reconnects.
    package static let maxAnnouncedLeases = 2 * maxPrefetch
    /// A worker's HEARTBEAT figures: at most 10^12 CPU seconds (4096 threads busy for eight years) and 1 PiB
    /// resident; anything larger, negative or NaN is malformed.
    package static let maxCPUSeconds = 1e12
    package static let maxResidentBytes = 1 << 50
    /// Leases a `smaller worker` holds at once by default (it runs one; the rest hide the round trip).
    package static let defaultPrefetch = 32
    /// The coordinator grants a worker more than one lease only for task kinds whose mean run time (EMA of
    /// the records' endedAt − startedAt) is below this: the tasks a round trip would slow down.
    package static let prefetchBelowSeconds = 0.005
}

// The protocol's numbers, mirroring docs/protocol.md ("Constants"); change both together.
import Foundation

package enum ProtocolConstants {
    /// Frame 0 of every message: "SMALLER" then the version byte.
    package static let tagPrefix: [UInt8] = Array("SMALLER".utf8)
    package static let version: UInt8 = 1
    package static var tag: [UInt8] { tagPrefix + [version] }

    package static let heartbeatInterval: Double = 1.0
    package static let liveness = 3
    package static let reconnectInitial: Double = 0.1
    package static let reconnectMax: Double = 5.0
    package static let maxAttempts = 3

    package static let chunkBytes = 1 << 20
    package static let maxBodyBytes = 4 << 20
    package static let maxMessageBytes = (8 << 20) + (64 << 10)
    package static let maxIdentifierLength = 128
}

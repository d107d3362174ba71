// SHA-256 of downloaded data files, through swift-crypto (the same implementation the orchestrator hashes with).
import Crypto
import Foundation

package enum Digest {
    /// Lower-case hex SHA-256 of `data`, as `sha256sum` prints it.
    package static func sha256Hex(_ data: Data) -> String {
        SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }
}

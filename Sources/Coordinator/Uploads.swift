// Uploads: the coordinator's bound on partial uploads, each an open file in the artifact store: how many one
// peer and all peers may have open at once, and how long one may sit idle before it is closed and forgotten.
import Foundation
import Wire

struct Uploads {
    /// A worker uploads a record's artifacts one after another; a few at once leave room for retries.
    static let perPeer = 8
    /// Well below a low `ulimit -n` (the journal, sockets and exports need descriptors too).
    static let total = 64
    /// A healthy upload sends its next chunk within milliseconds; one idle this long is abandoned.
    static let idleSeconds = 30.0

    private var open: [String: (peer: String, lastActive: Double)] = [:]
    private var perPeerCount: [String: Int] = [:]

    var count: Int { open.count }

    /// Nil when the chunk may go to the store, else why not. Only a chunk at offset 0 of a digest not being
    /// uploaded opens a file; later chunks of a tracked upload renew it.
    mutating func admit(_ chunk: Chunk, from peer: String, now: Double) -> String? {
        if let entry = open[chunk.sha256] {
            if chunk.offset == 0, entry.peer != peer { return "\(chunk.sha256.prefix(12)) is being uploaded by \(entry.peer)" }
            open[chunk.sha256]!.lastActive = now
            return nil
        }
        guard chunk.offset == 0 else { return nil }  // the store refuses it: no upload to continue
        if perPeerCount[peer, default: 0] >= Self.perPeer { return "\(Self.perPeer) uploads of this peer are open" }
        if open.count >= Self.total { return "\(Self.total) uploads are open" }
        open[chunk.sha256] = (peer, now)
        perPeerCount[peer, default: 0] += 1
        return nil
    }

    /// The upload ended (complete, discarded, or refused by the store).
    mutating func close(_ sha256: String) {
        guard let entry = open.removeValue(forKey: sha256) else { return }
        perPeerCount[entry.peer]! -= 1
        if perPeerCount[entry.peer] == 0 { perPeerCount[entry.peer] = nil }
    }

    /// Uploads idle past `idleSeconds`, closed here; the caller discards their partial files.
    mutating func expire(now: Double) -> [(sha256: String, peer: String)] {
        let idle = open.filter { now - $0.value.lastActive > Self.idleSeconds }.map { ($0.key, $0.value.peer) }
        for (sha, _) in idle { close(sha) }
        return idle
    }
}

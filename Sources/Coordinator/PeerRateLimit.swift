// PeerRateLimit: a token bucket per greeted worker, checked before a message is decoded. A message costs one
// token, a HEARTBEAT or PROGRESS many (they carry no work; an honest worker sends a few a second), so a peer
// flooding them is cut to a trickle while the RESULTs of a fast grid (~9,000 messages/s per worker in
// `bench cluster` here) pass untouched. Over the limit a message is dropped and counted, never answered.
// Strangers have no bucket: they cannot get past "say HELLO", which is answered once per interval.

struct PeerRateLimit {
    /// Tokens added per second, and the most a bucket holds (one second's worth: a burst).
    static let tokensPerSecond = 50_000.0
    /// What a HEARTBEAT or PROGRESS costs: at most 200 of them per second per peer.
    static let chatterCost = 250.0

    private var buckets: [String: (tokens: Double, at: Double)] = [:]
    /// Messages dropped for being over the limit, since the start.
    private(set) var dropped = 0

    /// Whether a message from `peer` may pass now; `chatter` for HEARTBEAT and PROGRESS. A peer without a
    /// bucket gets one (full) if `greeted()`, else passes unlimited.
    mutating func admit(_ peer: String, chatter: Bool, now: Double, greeted: () -> Bool) -> Bool {
        guard var b = buckets[peer] ?? (greeted() ? (Self.tokensPerSecond, now) : nil) else { return true }
        b.tokens = min(Self.tokensPerSecond, b.tokens + max(0, now - b.at) * Self.tokensPerSecond)
        b.at = now
        let cost = chatter ? Self.chatterCost : 1
        let pass = b.tokens >= cost
        if pass { b.tokens -= cost } else { dropped += 1 }
        buckets[peer] = b
        return pass
    }

    /// Forgets the buckets of peers no longer greeted (the state machine forgot them).
    mutating func prune(keeping greeted: (String) -> Bool) {
        if buckets.contains(where: { !greeted($0.key) }) { buckets = buckets.filter { greeted($0.key) } }
    }
}

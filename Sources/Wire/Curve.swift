// CURVE security: key pairs (Z85 text files), server and client socket setup, and a ZAP handler that admits
// only allowlisted worker public keys and logs every refusal.
import CZeroMQ
import Foundation

package struct CurveKeyPair: Sendable, Equatable {
    /// Z85 text, 40 characters each.
    package var publicKey: String
    package var secretKey: String

    package static func generate() throws -> CurveKeyPair {
        var pub = [CChar](repeating: 0, count: 41)
        var sec = [CChar](repeating: 0, count: 41)
        guard zmq_curve_keypair(&pub, &sec) == 0 else { throw ZeroMQError.last("zmq_curve_keypair") }
        return CurveKeyPair(publicKey: cText(pub), secretKey: cText(sec))
    }

    /// A key file holds `public <z85>` and `secret <z85>` lines (the secret only in `.key` files, mode 0600).
    package func write(name: String, in directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let key = directory.appendingPathComponent("\(name).key")
        try "public \(publicKey)\nsecret \(secretKey)\n".write(to: key, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: key.path)
        try "public \(publicKey)\n".write(to: directory.appendingPathComponent("\(name).pub"), atomically: true, encoding: .utf8)
    }

    package static func read(_ file: URL) throws -> (publicKey: String, secretKey: String?) {
        let text: String
        do { text = try String(contentsOf: file, encoding: .utf8) } catch {
            throw CurveError("cannot read key file \(file.path): \(error.localizedDescription)")
        }
        var pub: String?, sec: String?
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { continue }
            if parts[0] == "public" { pub = parts[1] }
            if parts[0] == "secret" { sec = parts[1] }
        }
        guard let pub, isZ85Key(pub), sec.map(isZ85Key) ?? true else {
            throw CurveError("\(file.path) is not a key file (expected 'public <40 Z85 chars>' lines)")
        }
        return (pub, sec)
    }

    package static func isZ85Key(_ s: String) -> Bool {
        s.utf8.count == 40 && zmqZ85Decode(s) != nil
    }

    /// The 32 raw bytes of a Z85 key (ZAP carries raw keys).
    package static func zmqZ85Decode(_ s: String) -> [UInt8]? {
        guard s.utf8.count == 40 else { return nil }
        var out = [UInt8](repeating: 0, count: 32)
        let ok = s.withCString { zmq_z85_decode(&out, $0) } != nil
        return ok ? out : nil
    }
}

package struct CurveError: Error, CustomStringConvertible {
    package var description: String
    init(_ d: String) { description = d }
}

/// The coordinator's side: its key pair and the allowlist of worker public keys (Z85).
package struct CurveServerKeys: Sendable {
    package var server: CurveKeyPair
    package var allowedClients: Set<String>

    package init(server: CurveKeyPair, allowedClients: Set<String>) {
        self.server = server
        self.allowedClients = allowedClients
    }

    /// `DIR/coordinator.key` and every `DIR/allowed/*.pub`.
    package static func load(directory: URL) throws -> CurveServerKeys {
        let (pub, sec) = try CurveKeyPair.read(directory.appendingPathComponent("coordinator.key"))
        guard let sec else { throw CurveError("\(directory.path)/coordinator.key has no secret key") }
        let allowedDir = directory.appendingPathComponent("allowed")
        let files = (try? FileManager.default.contentsOfDirectory(at: allowedDir, includingPropertiesForKeys: nil)) ?? []
        var allowed = Set<String>()
        for file in files where file.pathExtension == "pub" { allowed.insert(try CurveKeyPair.read(file).publicKey) }
        guard !allowed.isEmpty else { throw CurveError("no worker keys allowed: \(allowedDir.path)/*.pub is empty") }
        return CurveServerKeys(server: CurveKeyPair(publicKey: pub, secretKey: sec), allowedClients: allowed)
    }

    func configure(server socket: ZMQSocket) throws {
        try socket.setOption(ZMQ_CURVE_SERVER, Int32(1))
        try socket.setOption(ZMQ_CURVE_SECRETKEY, string: server.secretKey)
        try socket.setOption(ZMQ_ZAP_DOMAIN, string: "smaller")
    }
}

/// A worker's side: its key pair and the coordinator's public key.
package struct CurveClientKeys: Sendable {
    package var client: CurveKeyPair
    package var serverPublicKey: String

    package init(client: CurveKeyPair, serverPublicKey: String) {
        self.client = client
        self.serverPublicKey = serverPublicKey
    }

    /// `DIR/coordinator.pub` and `DIR/<name>.key`.
    package static func load(directory: URL, name: String) throws -> CurveClientKeys {
        let server = try CurveKeyPair.read(directory.appendingPathComponent("coordinator.pub")).publicKey
        let (pub, sec) = try CurveKeyPair.read(directory.appendingPathComponent("\(name).key"))
        guard let sec else { throw CurveError("\(directory.path)/\(name).key has no secret key") }
        return CurveClientKeys(client: CurveKeyPair(publicKey: pub, secretKey: sec), serverPublicKey: server)
    }

    func configure(client socket: ZMQSocket) throws {
        try socket.setOption(ZMQ_CURVE_SERVERKEY, string: serverPublicKey)
        try socket.setOption(ZMQ_CURVE_PUBLICKEY, string: client.publicKey)
        try socket.setOption(ZMQ_CURVE_SECRETKEY, string: client.secretKey)
    }
}

/// ZAP (RFC 27) handler on `inproc://zeromq.zap.01`: admits CURVE clients whose public key is allowlisted.
/// Served from the coordinator's loop (`serve()` handles whatever requests are waiting).
package final class ZAPHandler {
    let socket: ZMQSocket
    let allowed: Set<[UInt8]>
    let log: (String) -> Void
    package private(set) var refused = 0

    package init(context: ZMQContext, allowed: Set<String>, log: @escaping (String) -> Void) throws {
        socket = try ZMQSocket(context, .rep)
        try socket.bind("inproc://zeromq.zap.01")
        self.allowed = Set(allowed.compactMap(CurveKeyPair.zmqZ85Decode))
        self.log = log
    }

    package func serve() {
        while let frames = try? socket.receive(timeoutMs: 0) {
            // version, request id, domain, address, identity, mechanism, credentials...
            guard frames.count >= 6 else {
                try? socket.send([Array("1.0".utf8), frames.count > 1 ? frames[1] : [], Array("400".utf8),
                                  Array("malformed ZAP request".utf8), [], []])
                continue
            }
            let address = String(decoding: frames[3], as: UTF8.self)
            let mechanism = String(decoding: frames[5], as: UTF8.self)
            var ok = false
            var reason = "mechanism \(mechanism) not allowed"
            if mechanism == "CURVE", frames.count >= 7 {
                ok = allowed.contains(frames[6])
                reason = ok ? "OK" : "public key not on the allowlist"
            }
            if !ok {
                refused += 1
                let key = frames.count >= 7 ? z85(frames[6]) : "-"
                log("refused a connection from \(address): \(reason) (key \(key))")
            }
            try? socket.send([Array("1.0".utf8), frames[1], Array((ok ? "200" : "400").utf8), Array(reason.utf8), [], []])
        }
    }

    func z85(_ raw: [UInt8]) -> String {
        guard raw.count == 32 else { return "?" }
        var out = [CChar](repeating: 0, count: 41)
        _ = raw.withUnsafeBufferPointer { zmq_z85_encode(&out, $0.baseAddress, 32) }
        return cText(out)
    }
}

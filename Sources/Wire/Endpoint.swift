// Endpoint: a ZeroMQ endpoint parsed (transport, optional source, host, port) and the loopback rule on it:
// plaintext is allowed only when every address the endpoint involves is a loopback address.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

package struct EndpointError: Error, Equatable, CustomStringConvertible {
    package var endpoint: String
    package var why: String
    package var description: String { "endpoint \(endpoint): \(why)" }
}

/// One IP address as bytes (4 for IPv4, 16 for IPv6).
package struct IPAddress: Equatable, Hashable, Sendable, CustomStringConvertible {
    package var bytes: [UInt8]

    package init?(bytes: [UInt8]) {
        guard bytes.count == 4 || bytes.count == 16 else { return nil }
        self.bytes = bytes
    }

    /// A numeric IPv4 or IPv6 address (a zone suffix such as `%eth0` is dropped: it names a link, not an address).
    package init?(numeric text: String) {
        let plain = String(text.prefix { $0 != "%" })
        var v4 = in_addr()
        var v6 = in6_addr()
        if inet_pton(AF_INET, plain, &v4) == 1 {
            self.bytes = withUnsafeBytes(of: &v4) { Array($0) }
        } else if inet_pton(AF_INET6, plain, &v6) == 1 {
            self.bytes = withUnsafeBytes(of: &v6) { Array($0) }
        } else {
            return nil
        }
    }

    /// 127.0.0.0/8, ::1, and IPv4-mapped 127.0.0.0/8 (`::ffff:127.0.0.1`).
    package var isLoopback: Bool {
        if bytes.count == 4 { return bytes[0] == 127 }
        if bytes == [UInt8](repeating: 0, count: 15) + [1] { return true }
        return bytes.prefix(12) == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF] && bytes[12] == 127
    }

    package var description: String {
        if bytes.count == 4 { return bytes.map(String.init).joined(separator: ".") }
        return stride(from: 0, to: 16, by: 2).map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }
            .joined(separator: ":")
    }
}

/// A ZeroMQ endpoint: `transport://address`; for tcp the address is `[source;]host:port`, where the source
/// (`host` or `host:port`, ZeroMQ's source-address form) is the local side a connecting socket binds to.
package struct Endpoint: Equatable, Sendable {
    package struct Address: Equatable, Sendable {
        /// A name, a numeric address (IPv6 without brackets), an interface name, or `*` (every interface).
        package var host: String
        /// A number, `*` or `0` (any port); nil when absent (allowed only in a source).
        package var port: String?
    }

    package var transport: String
    /// Everything after `://`.
    package var address: String
    /// tcp only: the source part, if any, and the destination (or, for a bind, the local interface).
    package var source: Address?
    package var destination: Address?

    package init(parsing text: String) throws(EndpointError) {
        func fail(_ why: String) -> EndpointError { EndpointError(endpoint: text, why: why) }
        guard let separator = text.range(of: "://") else { throw fail("no transport (expected transport://address)") }
        transport = String(text[..<separator.lowerBound]).lowercased()
        address = String(text[separator.upperBound...])
        guard !transport.isEmpty, !address.isEmpty else { throw fail("empty transport or address") }
        guard transport == "tcp" else { return }
        // ZeroMQ splits at the last ';' (src;dst); the source cannot hold another one.
        var destinationText = Substring(address)
        if let semicolon = address.lastIndex(of: ";") {
            let sourceText = address[..<semicolon]
            guard !sourceText.contains(";") else { throw fail("more than one source") }
            source = try Self.hostAndPort(sourceText, portRequired: false, text)
            destinationText = address[address.index(after: semicolon)...]
        }
        destination = try Self.hostAndPort(destinationText, portRequired: true, text)
    }

    /// `host:port`, `[v6]:port`, `host` (if the port is optional); an unbracketed IPv6 address takes the part after
    /// its last ':' as the port, as ZeroMQ does.
    static func hostAndPort(_ s: Substring, portRequired: Bool, _ endpoint: String) throws(EndpointError) -> Address {
        func fail(_ why: String) -> EndpointError { EndpointError(endpoint: endpoint, why: why) }
        var host: Substring
        var port: Substring?
        if s.hasPrefix("[") {
            guard let close = s.firstIndex(of: "]") else { throw fail("unclosed '['") }
            host = s[s.index(after: s.startIndex)..<close]
            let rest = s[s.index(after: close)...]
            if !rest.isEmpty {
                guard rest.hasPrefix(":") else { throw fail("unexpected text after ']'") }
                port = rest.dropFirst()
            }
        } else if let colon = s.lastIndex(of: ":") {
            host = s[..<colon]
            port = s[s.index(after: colon)...]
        } else {
            host = s
        }
        guard !host.isEmpty else { throw fail("no host") }
        guard host.allSatisfy({ $0.isASCII && !$0.isWhitespace && $0 != "/" && $0 != "[" && $0 != "]" }) else {
            throw fail("host \(host) is not a name or an address")
        }
        if let p = port {
            guard p == "*" || (!p.isEmpty && p.count <= 5 && p.allSatisfy(\.isASCII) && p.allSatisfy(\.isNumber) && Int(p)! <= 65535) else {
                throw fail("port \(p) is not a number from 0 to 65535 or *")
            }
        } else if portRequired {
            throw fail("no port")
        }
        return Address(host: String(host), port: port.map(String.init))
    }

    /// True when the endpoint never leaves this machine: `ipc://` and `inproc://`, or tcp whose source (if any) and
    /// destination each resolve to loopback addresses only. The wildcard `*`, a name that does not resolve, and any
    /// other transport (pgm, ws, …) are not loopback. `resolve` maps a host to its addresses (nil: unknown).
    package func isLoopback(resolve: (String) -> [IPAddress]? = Self.resolve) -> Bool {
        switch transport {
        case "ipc", "inproc": return true
        case "tcp":
            guard let destination else { return false }
            for host in [source?.host, destination.host].compactMap({ $0 }) {
                guard host != "*", let addresses = resolve(host), !addresses.isEmpty,
                      addresses.allSatisfy(\.isLoopback) else { return false }
            }
            return true
        default: return false
        }
    }

    /// A host's addresses the way ZeroMQ may read it: numeric, else the addresses of the network interface of
    /// that name (a bind may name one) together with what the resolver returns for the name. Nil when neither
    /// knows it.
    package static func resolve(_ host: String) -> [IPAddress]? {
        if let numeric = IPAddress(numeric: host) { return [numeric] }
        var found = interfaceAddresses(host)
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        if getaddrinfo(host, nil, &hints, &list) == 0 {
            var next = list
            while let info = next {
                if let a = address(info.pointee.ai_addr) { found.append(a) }
                next = info.pointee.ai_next
            }
            freeaddrinfo(list)
        }
        return found.isEmpty ? nil : found
    }

    static func interfaceAddresses(_ name: String) -> [IPAddress] {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0 else { return [] }
        defer { freeifaddrs(list) }
        var found: [IPAddress] = []
        var next = list
        while let entry = next {
            if String(cString: entry.pointee.ifa_name) == name, let a = address(entry.pointee.ifa_addr) { found.append(a) }
            next = entry.pointee.ifa_next
        }
        return found
    }

    static func address(_ sockaddrPointer: UnsafeMutablePointer<sockaddr>?) -> IPAddress? {
        guard let sa = sockaddrPointer else { return nil }
        switch Int32(sa.pointee.sa_family) {
        case AF_INET:
            return sa.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { p in
                var a = p.pointee.sin_addr
                return IPAddress(bytes: withUnsafeBytes(of: &a) { Array($0) })
            }
        case AF_INET6:
            return sa.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { p in
                var a = p.pointee.sin6_addr
                return IPAddress(bytes: withUnsafeBytes(of: &a) { Array($0) })
            }
        default: return nil
        }
    }
}

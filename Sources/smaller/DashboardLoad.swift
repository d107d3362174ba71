// DashboardLoad: the load `smaller bench cluster --dashboard` puts on the coordinator's HTTP side while the
// throughput grid runs: one event-stream client reading everything, and a GET of /metrics every 100 ms.
// Plain loopback sockets, so the bench measures the server and not a client library.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

final class DashboardLoad: @unchecked Sendable {
    let port: UInt16
    private let stop = StopFlag()
    private let group = DispatchGroup()
    private let lock = NSLock()
    private(set) var scrapes = 0
    private(set) var streamBytes = 0

    static let scrapeInterval = 0.1

    init(port: Int) { self.port = UInt16(clamping: port) }

    func start() {
        group.enter()
        group.enter()
        Thread.detachNewThread { [self] in
            defer { group.leave() }
            guard let fd = connectLoopback() else { return }
            defer { close(fd) }
            send(fd, "GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n")
            var timeout = timeval(tv_sec: 0, tv_usec: 200_000)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            var buffer = [UInt8](repeating: 0, count: 65536)
            while !stop.isSet {
                let n = read(fd, &buffer, buffer.count)
                if n == 0 { return }
                if n > 0 { lock.lock(); streamBytes += n; lock.unlock() }
            }
        }
        Thread.detachNewThread { [self] in
            defer { group.leave() }
            while !stop.isSet {
                if let fd = connectLoopback() {
                    send(fd, "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                    var buffer = [UInt8](repeating: 0, count: 65536)
                    while read(fd, &buffer, buffer.count) > 0 {}
                    close(fd)
                    lock.lock(); scrapes += 1; lock.unlock()
                }
                Thread.sleep(forTimeInterval: Self.scrapeInterval)
            }
        }
    }

    func finish() {
        stop.set()
        _ = group.wait(timeout: .now() + 2)
    }

    private func connectLoopback() -> Int32? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = port.bigEndian
        let ok = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if ok != 0 { close(fd); return nil }
        return fd
    }

    private func send(_ fd: Int32, _ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    }
}

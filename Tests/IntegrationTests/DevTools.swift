// A headless Chromium driven over the DevTools protocol (tests only): it keeps a page open for as long as a test
// needs (`--dump-dom` dumps at the load event, before a live page has changed), and reads its DOM and screenshots
// whenever asked. A minimal WebSocket client (RFC 6455: masked text frames out, unmasked frames in) over a plain
// loopback socket; no library.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

enum DevToolsError: Error, CustomStringConvertible {
    case failed(String)
    var description: String { if case .failed(let why) = self { why } else { "" } }
}

final class DevToolsPage {
    let browser: Process
    let profile: URL
    private let fd: Int32
    private var nextID = 0
    private var buffer: [UInt8] = []
    /// The page's session, once attached; commands before that go to the browser.
    private var session: String?

    /// Starts Chromium on `url` with a window of `width` × `height` and attaches to its page.
    init(chromium: String, url: String, width: Int = 1280, height: Int = 1100) throws {
        profile = FileManager.default.temporaryDirectory.appendingPathComponent("devtools-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: profile, withIntermediateDirectories: true)
        browser = Process()
        browser.executableURL = URL(fileURLWithPath: chromium)
        browser.arguments = ["--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--remote-debugging-port=0",
                             "--user-data-dir=\(profile.path)", "--window-size=\(width),\(height)", url]
        browser.standardOutput = FileHandle.nullDevice
        browser.standardError = FileHandle.nullDevice
        try browser.run()
        let port: Int, path: String
        do {
            (port, path) = try Self.browserTarget(profile: profile)
            fd = try Self.connect(port: port)
        } catch {
            kill(browser.processIdentifier, SIGKILL)
            browser.waitUntilExit()
            try? FileManager.default.removeItem(at: profile)
            throw error
        }
        try handshake(path: path, port: port)
        // Attach to the page (one session over the browser's connection; commands then name the session).
        var page: String?
        _ = waitUntil(seconds: 30) {
            let targets = (try? call("Target.getTargets", [:]))?["targetInfos"] as? [[String: Any]] ?? []
            page = targets.first { $0["type"] as? String == "page" }?["targetId"] as? String
            return page != nil
        }
        guard let page else { throw DevToolsError.failed("Chromium has no page target") }
        guard let id = try call("Target.attachToTarget", ["targetId": page, "flatten": true])["sessionId"] as? String else {
            throw DevToolsError.failed("no session for the page")
        }
        session = id
    }

    /// The DevTools port and the browser's WebSocket path: Chromium picks a port for port 0 and writes both to
    /// DevToolsActivePort. (Its HTTP listing, /json/list, is not read: Foundation's client refuses its headers.)
    static func browserTarget(profile: URL) throws -> (port: Int, path: String) {
        let portFile = profile.appendingPathComponent("DevToolsActivePort")
        var lines: [Substring] = []
        _ = waitUntil(seconds: 30) {
            lines = ((try? String(contentsOf: portFile, encoding: .utf8)) ?? "").split(separator: "\n")
            return lines.count >= 2 && Int(lines[0]) != nil
        }
        guard lines.count >= 2, let port = Int(lines[0]) else { throw DevToolsError.failed("Chromium wrote no DevToolsActivePort") }
        return (port, String(lines[1]))
    }

    deinit {
        close(fd)
        if browser.isRunning { kill(browser.processIdentifier, SIGKILL) }
        browser.waitUntilExit()
        try? FileManager.default.removeItem(at: profile)
    }

    /// The page's DOM as HTML now.
    func dom() throws -> String {
        guard let html = try evaluate("document.documentElement.outerHTML") as? String else { throw DevToolsError.failed("no DOM") }
        return html
    }

    /// The value of a JavaScript expression in the page (JSON-like: strings, numbers, booleans, arrays, objects).
    func evaluate(_ expression: String) throws -> Any? {
        let result = try call("Runtime.evaluate", ["expression": expression, "returnByValue": true])
        return (result["result"] as? [String: Any])?["value"]
    }

    /// A PNG of the page's viewport, written to `file`.
    func screenshot(to file: URL) throws {
        let result = try call("Page.captureScreenshot", ["format": "png"])
        guard let text = result["data"] as? String, let png = Data(base64Encoded: text) else { throw DevToolsError.failed("no screenshot") }
        try png.write(to: file)
    }

    /// Sends one command (to the page once attached) and waits for its reply, skipping events; its `result`.
    func call(_ method: String, _ params: [String: Any]) throws -> [String: Any] {
        nextID += 1
        let id = nextID
        var command: [String: Any] = ["id": id, "method": method, "params": params]
        if let session { command["sessionId"] = session }
        try sendText(try JSONSerialization.data(withJSONObject: command))
        while true {
            let message = try receiveMessage()
            guard let object = try? JSONSerialization.jsonObject(with: Data(message)) as? [String: Any],
                  object["id"] as? Int == id else { continue }
            if let error = object["error"] { throw DevToolsError.failed("\(method): \(error)") }
            return object["result"] as? [String: Any] ?? [:]
        }
    }

    // MARK: The socket and RFC 6455

    static func connect(port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { close(fd); throw DevToolsError.failed("cannot connect to 127.0.0.1:\(port)") }
        var timeout = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        return fd
    }

    private func handshake(path: String, port: Int) throws {
        let key = Data((0..<16).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        try write(Array(("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: \(key)\r\nSec-WebSocket-Version: 13\r\n\r\n").utf8))
        let end = Array("\r\n\r\n".utf8)
        while buffer.count < 4 || !buffer.indices.dropLast(3).contains(where: { Array(buffer[$0..<$0 + 4]) == end }) { try fill() }
        let split = buffer.indices.dropLast(3).first { Array(buffer[$0..<$0 + 4]) == end }!
        let head = String(decoding: buffer[..<split], as: UTF8.self)
        buffer.removeFirst(split + 4)
        guard head.hasPrefix("HTTP/1.1 101") else { throw DevToolsError.failed("WebSocket handshake refused: \(head)") }
    }

    private func sendText(_ payload: Data) throws {
        var frame: [UInt8] = [0x81]
        let n = payload.count
        if n < 126 { frame.append(0x80 | UInt8(n)) } else if n <= 0xFFFF {
            frame += [0x80 | 126, UInt8(n >> 8), UInt8(n & 0xFF)]
        } else {
            frame.append(0x80 | 127)
            frame += (0..<8).reversed().map { UInt8((UInt64(n) >> (8 * UInt64($0))) & 0xFF) }
        }
        let mask = (0..<4).map { _ in UInt8.random(in: 0...255) }
        frame += mask
        frame += payload.enumerated().map { $1 ^ mask[$0 % 4] }
        try write(frame)
    }

    /// One whole message (continuation frames joined; pings and other control frames skipped).
    private func receiveMessage() throws -> [UInt8] {
        var message: [UInt8] = []
        while true {
            let header = try take(2)
            var length = UInt64(header[1] & 0x7F)
            if length == 126 { length = try take(2).reduce(0) { $0 << 8 | UInt64($1) } }
            if length == 127 { length = try take(8).reduce(0) { $0 << 8 | UInt64($1) } }
            guard length <= 256 << 20 else { throw DevToolsError.failed("a frame of \(length) bytes") }
            let mask = header[1] & 0x80 != 0 ? try take(4) : nil
            var payload = try take(Int(length))
            if let mask { payload = payload.enumerated().map { $1 ^ mask[$0 % 4] } }
            let opcode = header[0] & 0x0F
            if opcode == 0x8 { throw DevToolsError.failed("Chromium closed the DevTools connection") }
            if opcode >= 0x8 { continue }
            message += payload
            if header[0] & 0x80 != 0 { return message }
        }
    }

    private func take(_ n: Int) throws -> [UInt8] {
        while buffer.count < n { try fill() }
        defer { buffer.removeFirst(n) }
        return Array(buffer[..<n])
    }

    private func fill() throws {
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        let got = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard got > 0 else { throw DevToolsError.failed("DevTools connection: read \(got), errno \(errno)") }
        buffer += chunk[..<got]
    }

    private func write(_ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw DevToolsError.failed("DevTools connection: write failed, errno \(errno)") }
            sent += n
        }
    }
}

// The measured GEMM choices of one machine in a small JSON file (the CLI puts it in $XDG_CACHE_HOME/smaller or
// ~/.cache/smaller), so that every run on the machine, and every process of one run, uses the same kernel per
// shape class and a rerun reproduces a run's bits. The file names the machine it was measured on (CPU model,
// oneDNN's ISA and version); a file from another machine, or one that does not parse, is ignored with a warning
// and replaced by the next measurement, never trusted and never a crash. Writes replace the file atomically.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

package final class GemmChoiceStore: @unchecked Sendable {
    package let url: URL
    /// Where the store's warnings go (the CLI prints them on stderr).
    private let warn: @Sendable (String) -> Void
    private var warned = Set<String>()
    /// Larger files are not read (this one holds a few dozen lines).
    static let maxBytes = 1 << 20

    package init(url: URL, warn: @escaping @Sendable (String) -> Void) {
        self.url = url; self.warn = warn
    }

    /// What the file's choices are valid for.
    package struct Machine: Codable, Equatable, Sendable {
        package var cpu: String, isa: String, oneDNN: String
        package init(cpu: String, isa: String, oneDNN: String) { self.cpu = cpu; self.isa = isa; self.oneDNN = oneDNN }
        package static var current: Machine {
            Machine(cpu: cpuModel, isa: ComputeInfo.isa, oneDNN: ComputeInfo.oneDNNVersion)
        }
        /// /proc/cpuinfo's first "model name" ("unknown" where there is none).
        static var cpuModel: String {
            guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
                  let line = text.split(separator: "\n").first(where: { $0.hasPrefix("model name") }),
                  let colon = line.firstIndex(of: ":") else { return "unknown" }
            return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
    }

    struct Entry: Codable {
        var transA: String, transB: String, m: Int, n: Int, k: Int, threads: Int
        var measured: GemmMeasurement
    }

    struct File: Codable {
        var version: Int
        var machine: Machine
        var choices: [Entry]
    }

    static let version = 1

    /// What a choice file's bytes hold.
    package enum Contents: Equatable {
        /// Its choices; `malformed` entries (a bad transpose flag, size or rate) were left out.
        case choices([GemmShapeClass: GemmMeasurement], malformed: Int)
        /// Too large, not JSON of this shape, or another version.
        case unreadable
        /// A readable file measured on another machine.
        case foreign(Machine)
    }

    /// Reads a choice file's bytes; with `machine`, a file measured elsewhere is `foreign`. Never traps.
    package static func decode(_ data: Data, machine: Machine?) -> Contents {
        guard data.count <= maxBytes, let file = try? JSONDecoder().decode(File.self, from: data), file.version == version
        else { return .unreadable }
        if let machine, file.machine != machine { return .foreign(file.machine) }
        var out: [GemmShapeClass: GemmMeasurement] = [:]
        var malformed = 0
        for e in file.choices {
            guard let c = shapeClass(e) else { malformed += 1; continue }
            out[c] = e.measured
        }
        return .choices(out, malformed: malformed)
    }

    /// A choice file's bytes: `choices` for `machine`, entries in class order, keys sorted (the same choices give
    /// the same bytes).
    package static func encode(_ choices: [GemmShapeClass: GemmMeasurement], machine: Machine) throws -> Data {
        let entries = choices.sorted { $0.key < $1.key }.map { c, m in
            Entry(transA: c.transA == .none ? "N" : "T", transB: c.transB == .none ? "N" : "T", m: c.m, n: c.n, k: c.k,
                  threads: c.threads, measured: m)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(File(version: version, machine: machine, choices: entries))
    }

    /// The file's choices for this machine: empty when there is no file, and (with a warning) when it does not
    /// parse or was measured elsewhere.
    package func load() -> [GemmShapeClass: GemmMeasurement] {
        guard let data = try? Data(contentsOf: url) else { return [:] }
        switch Self.decode(data, machine: .current) {
        case .unreadable:
            warnOnce("ignoring \(url.path): not a GEMM choice file this version can read")
            return [:]
        case .foreign(let other):
            warnOnce("ignoring \(url.path): measured on another machine (\(other.cpu), \(other.isa), oneDNN \(other.oneDNN))")
            return [:]
        case .choices(let out, let malformed):
            if malformed > 0 { warnOnce("ignoring a malformed entry in \(url.path)") }
            return out
        }
    }

    /// Adds `measured` for `shapeClass` unless the file has that class already (another process measured it
    /// first: its choice wins, so that all agree), and returns the choice to use.
    package func add(_ shapeClass: GemmShapeClass, _ measured: GemmMeasurement) -> GemmMeasurement {
        var all = load()
        if let existing = all[shapeClass] { return existing }
        all[shapeClass] = measured
        save(all)
        return measured
    }

    /// Runs `body` holding an exclusive lock on the file's sibling `.lock` (flock), so that processes of one
    /// machine measure a class one at a time (two timings at once would also spoil each other) and never
    /// overwrite each other's entries. Without a lock file (unwritable directory) `body` runs unlocked.
    package func withLock<R>(_ body: () -> R) -> R {
        try? FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let fd = open(url.path + ".lock", O_CREAT | O_RDWR | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return body() }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 && errno == EINTR {}
        defer { flock(fd, LOCK_UN) }
        return body()
    }

    /// Replaces the file with `choices` for this machine (atomically: a reader sees the old file or the new one).
    package func save(_ choices: [GemmShapeClass: GemmMeasurement]) {
        do {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Self.encode(choices, machine: .current).write(to: url, options: .atomic)
        } catch {
            warnOnce("could not write \(url.path): \(error.localizedDescription) (choices stay in this process)")
        }
    }

    private static func shapeClass(_ e: Entry) -> GemmShapeClass? {
        let flags = ["N": Transpose.none, "T": .transposed]
        guard let ta = flags[e.transA], let tb = flags[e.transB],
              [e.m, e.n, e.k].allSatisfy({ $0 >= 1 && $0 <= 1 << 40 && $0.nonzeroBitCount == 1 }), e.threads >= 1, e.threads <= 4096,
              e.measured.ownGFlops.isFinite, e.measured.oneDNNGFlops.isFinite
        else { return nil }
        return GemmShapeClass(ta, tb, m: e.m, n: e.n, k: e.k, threads: e.threads)
    }

    private func warnOnce(_ message: String) {
        if warned.insert(message).inserted { warn(message) }
    }
}

// Ctrl-C and SIGTERM become a flag the loops poll (libraries never install handlers themselves).
import Foundation
import Wire
#if canImport(Glibc)
import Glibc
#endif

nonisolated(unsafe) private var stopSignal: sig_atomic_t = 0

enum Signals {
    /// Installs handlers for SIGINT and SIGTERM that only set a flag; a second Ctrl-C exits at once. Also unblocks
    /// both on the calling thread: a process inherits the signal mask of the thread that started it, and a
    /// parent starting it from a Dispatch thread (a test runner; `smaller run` restarting a worker from a
    /// termination handler) passes both blocked, so Ctrl-C stayed pending and the run finished with 0.
    static func install() {
        let handler: @convention(c) (Int32) -> Void = { _ in
            if stopSignal != 0 { _exit(130) }
            stopSignal = 1
        }
        signal(SIGINT, handler)
        signal(SIGTERM, handler)
        signal(SIGPIPE, SIG_IGN)
        var stops = sigset_t()
        sigemptyset(&stops)
        sigaddset(&stops, SIGINT)
        sigaddset(&stops, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &stops, nil)
    }

    static var stopRequested: Bool { stopSignal != 0 }
}

/// The path of this executable, so `smaller run` can start `smaller worker` children.
enum SelfExecutable {
    static var path: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }
}

/// Plaintext is allowed only when every address the endpoint involves is loopback (Wire's `Endpoint`); an
/// endpoint that does not parse is not.
func isLoopback(_ endpoint: String) -> Bool {
    (try? Endpoint(parsing: endpoint))?.isLoopback() ?? false
}

/// Writes to stderr; a write that fails (a full disk under a redirected log, /dev/full) loses the text, never the
/// process, as Foundation's `FileHandle.write(_:)` would.
func writeErr(_ text: String) { try? FileHandle.standardError.write(contentsOf: Data(text.utf8)) }

func printErr(_ text: String) { writeErr(text + "\n") }

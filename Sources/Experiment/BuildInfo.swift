// BuildInfo: what build a process is. `gitCommit` comes from GitCommitPlugin, which writes it before each build.
package enum BuildInfo {
    /// The engine's version (records' `engineVersion`, `smaller --version`).
    package static let version = "0.1.0"
    /// `git describe --always --dirty` of the checkout the binary was built from: the commit, with `-dirty` when
    /// the tree had uncommitted changes; "unknown" when it was built outside a git checkout.
    package static var commit: String { gitCommit }
}

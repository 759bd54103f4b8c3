extension Axon {
    /// The library's version (semantic versioning), as `axon --version` prints it.
    public static let version = "0.6.0"
}

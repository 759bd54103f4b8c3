import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file that grows by whole records: logs and event files that other programs read while a
/// run writes them. Each ``append(_:)`` is one `write` call, so a reader (or a crash) sees
/// complete records and at most one partial record at the end, never interleaved pieces.
/// Errors name the file and give the system's reason in words.
public final class AppendOnlyFile {
    /// The file written to.
    public let url: URL
    private var descriptor: Int32

    /// Opens `url` for appending, creating it (and its directory) if needed; `truncate` empties
    /// an existing file first.
    public init(_ url: URL, truncate: Bool) throws {
        self.url = url
        try FileAccess.prepareDirectory(url.deletingLastPathComponent())
        descriptor = open(url.path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (truncate ? O_TRUNC : 0), 0o644)
        guard descriptor >= 0 else { throw FileAccess.failure(url.path, "cannot open the file for writing") }
    }

    deinit { if descriptor >= 0 { _ = closeDescriptor(descriptor) } }

    /// Appends `data` in one write.
    public func append(_ data: Data) throws {
        guard descriptor >= 0 else { throw AxonError.file(path: url.path, reason: "is already closed") }
        try data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
            var written = 0
            while written < bytes.count {
                let count = write(descriptor, bytes.baseAddress! + written, bytes.count - written)
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else { throw FileAccess.failure(url.path, "cannot write the file") }
                written += count
            }
        }
    }

    /// Flushes what was appended to the disk.
    public func sync() throws {
        guard descriptor >= 0, fsync(descriptor) == 0 else { throw FileAccess.failure(url.path, "cannot flush the file to disk") }
    }

    /// Flushes and closes the file; later appends throw.
    public func close() throws {
        guard descriptor >= 0 else { return }
        defer { descriptor = -1 }
        try sync()
        guard closeDescriptor(descriptor) == 0 else { throw FileAccess.failure(url.path, "cannot close the file") }
    }
}

/// `close(2)`, reachable by that name where ``AppendOnlyFile/close()`` shadows it.
private func closeDescriptor(_ descriptor: Int32) -> Int32 { close(descriptor) }

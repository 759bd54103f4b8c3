import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The file-system operations behind the library's outputs: whole-file reads, durable atomic
/// replacement, and writability checks made before a run starts rather than after it ends.
///
/// Every failure is an ``AxonError/file(path:reason:)`` that names the path and gives the
/// operating system's reason in words (`cannot create the file: permission denied`), never a
/// numeric domain code.
///
/// ```swift
/// try FileAccess.checkWritableFile(URL(fileURLWithPath: "curves.svg"))  // before training
/// // ... train ...
/// try FileAccess.writeAtomically(Data("<svg/>".utf8), to: URL(fileURLWithPath: "curves.svg"))
/// ```
public enum FileAccess {
    /// Throws unless a file could be created or replaced at `url`: the path is not a directory,
    /// its directory exists, and a file can be created there. Leaves nothing behind.
    public static func checkWritableFile(_ url: URL) throws {
        let path = url.path
        var info = stat()
        if stat(path, &info) == 0 {
            guard !isDirectory(info) else { throw AxonError.file(path: path, reason: "is a directory, not a file") }
            guard access(path, W_OK) == 0 else { throw failure(path, "cannot write the file") }
        }
        let directory = url.deletingLastPathComponent()
        guard stat(directory.path, &info) == 0 else {
            let reason = errno == ENOENT ? "does not exist" : "cannot be used (\(reasonInWords(errno)))"
            throw AxonError.file(path: path, reason: "cannot create the file: its directory \(directory.path) \(reason)")
        }
        guard isDirectory(info) else {
            throw AxonError.file(path: path, reason: "cannot create the file: \(directory.path) is not a directory")
        }
        try probeCreation(in: directory, for: path)
    }

    /// Creates the directory `url` and any missing parents, and throws unless files can be
    /// created in it.
    public static func prepareDirectory(_ url: URL) throws {
        let path = url.standardizedFileURL.path
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            prefix += "/" + component
            if mkdir(prefix, 0o755) != 0 && errno != EEXIST {
                throw failure(path, "cannot create the directory\(prefix == path ? "" : " (at \(prefix))")")
            }
            var info = stat()
            guard stat(prefix, &info) == 0 else { throw failure(path, "cannot create the directory") }
            guard isDirectory(info) else {
                throw AxonError.file(path: path, reason: "cannot create the directory: \(prefix) is a file")
            }
        }
        try probeCreation(in: url, for: path)
    }

    /// Reads the file at `url`: all of it, or its first `limit` bytes when it is longer.
    public static func read(_ url: URL, upTo limit: Int = .max) throws -> Data {
        let path = url.path
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw failure(path, "cannot open the file") }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw failure(path, "cannot read the file") }
        guard !isDirectory(info) else { throw AxonError.file(path: path, reason: "is a directory, not a file") }
        var data = Data(count: Swift.min(Int(info.st_size), Swift.max(limit, 0)))
        var filled = 0
        try data.withUnsafeMutableBytes { (bytes: UnsafeMutableRawBufferPointer) in
            while filled < bytes.count {
                let count = readBytes(descriptor, bytes.baseAddress! + filled, bytes.count - filled)
                if count < 0 && errno == EINTR { continue }
                guard count >= 0 else { throw failure(path, "cannot read the file") }
                guard count > 0 else {
                    throw AxonError.file(path: path, reason: "cannot read the file: it shrank from \(bytes.count) to \(filled) bytes while being read")
                }
                filled += count
            }
        }
        return data
    }

    /// Replaces the file at `url` with `data` so that a crash at any moment leaves either the
    /// complete old file or the complete new one: the data goes to a temporary file beside it,
    /// is flushed to the disk, renamed into place, and the directory is flushed too.
    ///
    /// A writer killed midway leaves a hidden `.NAME.PID.RANDOM.tmp` file, which
    /// ``removeStaleTemporaryFiles(in:)`` clears.
    public static func writeAtomically(_ data: Data, to url: URL) throws {
        let path = url.path
        let directory = url.deletingLastPathComponent()
        let temporary = directory.appendingPathComponent(
            ".\(url.lastPathComponent).\(getpid()).\(UInt32.random(in: 0...UInt32.max))\(temporarySuffix)").path
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw failure(path, "cannot create the file") }
        do {
            try data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
                var written = 0
                while written < bytes.count {
                    let count = write(descriptor, bytes.baseAddress! + written, bytes.count - written)
                    if count < 0 && errno == EINTR { continue }
                    guard count > 0 else { throw failure(path, "cannot write the file") }
                    written += count
                }
            }
            guard fsync(descriptor) == 0 else { throw failure(path, "cannot flush the file to disk") }
            guard close(descriptor) == 0 else {
                unlink(temporary)
                throw failure(path, "cannot write the file")
            }
        } catch {
            close(descriptor)
            unlink(temporary)
            throw error
        }
        guard rename(temporary, path) == 0 else {
            let error = failure(path, "cannot move the new file into place")
            unlink(temporary)
            throw error
        }
        try syncDirectory(directory)
    }

    /// Removes the file at `url` if it exists.
    public static func remove(_ url: URL) throws {
        guard unlink(url.path) == 0 || errno == ENOENT else { throw failure(url.path, "cannot remove the file") }
    }

    /// Removes the temporary files that writers killed during ``writeAtomically(_:to:)`` left in
    /// `directory`, and returns their names. Call it only while no other writer can be active
    /// there (a ``RunDirectory`` does so once it holds the directory's lock).
    @discardableResult
    public static func removeStaleTemporaryFiles(in directory: URL) throws -> [String] {
        let stale = try fileNames(in: directory).filter { $0.hasPrefix(".") && $0.hasSuffix(temporarySuffix) }
        for name in stale { try remove(directory.appendingPathComponent(name)) }
        if !stale.isEmpty { try syncDirectory(directory) }
        return stale
    }

    /// The names of the entries of `directory`, sorted.
    static func fileNames(in directory: URL) throws -> [String] {
        guard let stream = opendir(directory.path) else { throw failure(directory.path, "cannot list the directory") }
        defer { closedir(stream) }
        var names: [String] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    /// Flushes a directory's entries (a rename or removal in it) to the disk.
    static func syncDirectory(_ directory: URL) throws {
        let descriptor = open(directory.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw failure(directory.path, "cannot open the directory") }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw failure(directory.path, "cannot flush the directory to disk") }
    }

    static let temporarySuffix = ".tmp"

    /// An error for `path` whose reason is `action` and the current `errno` in words.
    static func failure(_ path: String, _ action: String) -> AxonError {
        AxonError.file(path: path, reason: "\(action): \(reasonInWords(errno))")
    }

    /// `strerror`'s text with a lower-case first letter, to follow a colon.
    static func reasonInWords(_ code: Int32) -> String {
        let text = String(cString: strerror(code))
        return text.prefix(1).lowercased() + text.dropFirst()
    }

    private static func isDirectory(_ info: stat) -> Bool { (info.st_mode & S_IFMT) == S_IFDIR }

    /// Creates and removes a uniquely named file in `directory`: the one test of writability that
    /// also covers read-only file systems, quotas and access-control lists.
    private static func probeCreation(in directory: URL, for path: String) throws {
        let probe = directory.appendingPathComponent(".axon-probe.\(getpid()).\(UInt32.random(in: 0...UInt32.max))").path
        let descriptor = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw AxonError.file(path: path, reason: "cannot create files in \(directory.path): \(reasonInWords(errno))")
        }
        close(descriptor)
        unlink(probe)
    }
}

/// `read(2)`, reachable by that name where ``FileAccess/read(_:)`` shadows it.
private func readBytes(_ descriptor: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
    read(descriptor, buffer, count)
}

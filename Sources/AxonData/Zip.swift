import AxonCore
import Foundation
import ZIPFoundation

/// ZIP archives as NumPy's `.npz` files use them, through ZIPFoundation: entries stored or
/// deflated, read through a temporary file and written in memory.
///
/// Reading trusts nothing in the file: only file entries are read, a name may appear once, an
/// entry may not inflate past the size its header declares (checked chunk by chunk, so a small
/// hostile file cannot grow to gigabytes first), every entry's CRC-32 is verified, and every
/// entry the central directory lists must be read. Two gaps in ZIPFoundation 0.9 are closed
/// here and one avoided: its in-memory archives trap when a record points past the data (so
/// archives are read from a temporary file, where such a read just comes up short), opening one
/// without an end record leaks its file handle (so the record is found first), and its entry
/// iterator stops quietly at a malformed directory record (so the entries read are counted
/// against the record's total).
enum Zip {
    struct Entry {
        var name: String
        var contents: Data
    }

    /// The entries of the archive `data`, in central-directory order. `path` names the file in errors.
    static func read(_ data: Data, path: String) throws -> [Entry] {
        func refuse(_ reason: String) -> AxonError { AxonError.file(path: path, reason: "is not a readable ZIP archive: \(reason)") }
        guard let declaredCount = declaredEntryCount(data) else {
            throw refuse("missing end of central directory record (truncated, or not a ZIP file)")
        }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("axon-archive-\(UUID().uuidString).zip")
        do {
            try data.write(to: file)
        } catch {
            throw AxonError.file(path: path, reason: "cannot be staged for reading in \(file.path): \(error.localizedDescription)")
        }
        defer { try? FileManager.default.removeItem(at: file) }
        let archive: Archive
        do {
            archive = try Archive(url: file, accessMode: .read)
        } catch {
            throw refuse("\(words(error)) (truncated, or not a ZIP file)")
        }
        var entries: [Entry] = []
        var names = Set<String>()
        for entry in archive {
            let name = entry.path
            guard entry.type == .file else { throw refuse("'\(name)' is a \(entry.type), not a file") }
            guard names.insert(name).inserted else { throw refuse("it holds '\(name)' twice") }
            let declared = entry.uncompressedSize
            guard declared <= UInt64(data.count) * 1032 + 1024 else {
                // Deflate expands at most ~1032 times; a larger claim is a lie.
                throw refuse("'\(name)' claims \(declared) bytes, more than \(data.count) bytes can inflate to")
            }
            var contents = Data()
            let checksum: ZIPFoundation.CRC32
            do {
                checksum = try archive.extract(entry) { chunk in
                    guard UInt64(contents.count + chunk.count) <= declared else {
                        throw refuse("'\(name)' inflates past the \(declared) bytes declared")
                    }
                    contents.append(chunk)
                }
            } catch let error as AxonError {
                throw error
            } catch {
                throw refuse("'\(name)': \(words(error))")
            }
            guard UInt64(contents.count) == declared else { throw refuse("'\(name)' holds \(contents.count) bytes, not the \(declared) declared") }
            guard checksum == entry.checksum else { throw refuse("the checksum of '\(name)' does not match: the archive is damaged") }
            entries.append(Entry(name: name, contents: contents))
        }
        // 0xFFFF defers to a ZIP64 record, which ZIPFoundation reads itself.
        guard declaredCount == 0xFFFF || entries.count == declaredCount else {
            throw refuse("its central directory lists \(declaredCount) entries but only \(entries.count) could be read")
        }
        return entries
    }

    /// The entry count of the last end-of-central-directory record (searched from the end, as
    /// ZIPFoundation does), or nil when there is none whose comment fits in the file.
    static func declaredEntryCount(_ data: Data) -> Int? {
        let bytes = [UInt8](data)
        func uint16(_ offset: Int) -> Int { Int(bytes[offset]) | Int(bytes[offset + 1]) << 8 }
        guard bytes.count >= 22 else { return nil }
        for end in stride(from: bytes.count - 22, through: 0, by: -1)
        where bytes[end] == 0x50 && bytes[end + 1] == 0x4B && bytes[end + 2] == 0x05 && bytes[end + 3] == 0x06 {
            return end + 22 + uint16(end + 20) <= bytes.count ? uint16(end + 10) : nil
        }
        return nil
    }

    /// ZIPFoundation's error cases (`missingEndOfCentralDirectoryRecord`) as words.
    static func words(_ error: any Error) -> String {
        String("\(error)".flatMap { $0.isUppercase ? [" ", Character($0.lowercased())] : [$0] })
    }

    /// An archive holding `entries` uncompressed, as `numpy.savez` writes them, dated
    /// 1980-01-01 (the earliest ZIP date) so that the same arrays give the same bytes.
    static func write(_ entries: [Entry], path: String) throws -> Data {
        do {
            let archive = try Archive(accessMode: .create)
            let epoch = DateComponents(calendar: Calendar(identifier: .gregorian), timeZone: TimeZone(identifier: "UTC"), year: 1980, month: 1, day: 1).date
            for entry in entries {
                try archive.addEntry(
                    with: entry.name, type: .file, uncompressedSize: Int64(entry.contents.count), modificationDate: epoch ?? Date(timeIntervalSince1970: 315_532_800),
                    permissions: 0o644, compressionMethod: .none
                ) { position, size in
                    entry.contents.subdata(in: (entry.contents.startIndex + Int(position))..<(entry.contents.startIndex + Int(position) + size))
                }
            }
            guard let data = archive.data else { throw AxonError.file(path: path, reason: "the archive was not written") }
            return data
        } catch let error as AxonError {
            throw error
        } catch {
            throw AxonError.file(path: path, reason: "cannot be written as a ZIP archive: \(error)")
        }
    }
}

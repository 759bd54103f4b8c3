import AxonCore
import Foundation

/// The subset of the ZIP format that NumPy's `.npz` archives use: entries stored or deflated,
/// found through the central directory, without ZIP64, encryption or multiple disks.
///
/// Reading trusts nothing in the file: every offset and size is checked against the file's
/// length before it is used, an entry may not inflate past the size its header declares, and
/// every entry's CRC-32 is verified.
enum Zip {
    struct Entry {
        var name: String
        var contents: Data
    }

    /// The entries of the archive `data`, in central-directory order. `path` names the file in errors.
    static func read(_ data: Data, path: String) throws -> [Entry] {
        let bytes = [UInt8](data)
        func refuse(_ reason: String) -> AxonError { AxonError.file(path: path, reason: "is not a readable ZIP archive: \(reason)") }
        func uint16(_ offset: Int) -> Int { Int(bytes[offset]) | Int(bytes[offset + 1]) << 8 }
        func uint32(_ offset: Int) -> Int { uint16(offset) | uint16(offset + 2) << 16 }

        // The end-of-central-directory record: 22 bytes plus a comment of at most 65,535.
        let endLength = 22
        guard bytes.count >= endLength else { throw refuse("it is \(bytes.count) bytes long, shorter than the smallest archive") }
        let earliest = max(0, bytes.count - endLength - 0xFFFF)
        guard let end = stride(from: bytes.count - endLength, through: earliest, by: -1).first(where: { uint32($0) == 0x0605_4B50 }) else {
            throw refuse("it has no end-of-central-directory record (truncated, or not a ZIP file)")
        }
        let entryCount = uint16(end + 10), directorySize = uint32(end + 12), directoryOffset = uint32(end + 16)
        guard uint16(end + 4) == 0, uint16(end + 6) == 0, uint16(end + 8) == entryCount else {
            throw refuse("it spans several disks")
        }
        guard directoryOffset <= end, directorySize <= end - directoryOffset else {
            throw refuse("its central directory (offset \(directoryOffset), \(directorySize) bytes) lies outside the file")
        }

        var entries: [Entry] = []
        var names = Set<String>()
        var cursor = directoryOffset
        for index in 0..<entryCount {
            let label = "entry \(index + 1) of \(entryCount)"
            guard cursor <= directoryOffset + directorySize - 46, uint32(cursor) == 0x0201_4B50 else {
                throw refuse("the central directory ends inside \(label)")
            }
            let flags = uint16(cursor + 8), method = uint16(cursor + 10), crc = UInt32(uint32(cursor + 16))
            let compressedSize = uint32(cursor + 20), size = uint32(cursor + 24)
            let nameLength = uint16(cursor + 28), extraLength = uint16(cursor + 30), commentLength = uint16(cursor + 32)
            let localOffset = uint32(cursor + 42)
            let recordEnd = cursor + 46 + nameLength + extraLength + commentLength
            guard recordEnd <= directoryOffset + directorySize else { throw refuse("the central directory ends inside \(label)") }
            let name = String(decoding: bytes[(cursor + 46)..<(cursor + 46 + nameLength)], as: UTF8.self)
            cursor = recordEnd

            guard flags & 1 == 0 else { throw refuse("'\(name)' is encrypted") }
            guard compressedSize != 0xFFFF_FFFF, size != 0xFFFF_FFFF, localOffset != 0xFFFF_FFFF else {
                throw refuse("'\(name)' needs ZIP64 (over 4 GiB), which is not supported")
            }
            guard names.insert(name).inserted else { throw refuse("it holds '\(name)' twice") }
            guard localOffset <= directoryOffset - 30, uint32(localOffset) == 0x0403_4B50 else {
                throw refuse("the local header of '\(name)' is missing or outside the file")
            }
            let dataStart = localOffset + 30 + uint16(localOffset + 26) + uint16(localOffset + 28)
            guard dataStart <= directoryOffset, compressedSize <= directoryOffset - dataStart else {
                throw refuse("the data of '\(name)' (\(compressedSize) bytes) lies outside the file")
            }
            let stored = data.subdata(in: (data.startIndex + dataStart)..<(data.startIndex + dataStart + compressedSize))
            let contents: Data
            switch method {
            case 0:
                guard compressedSize == size else { throw refuse("'\(name)' is stored with two different sizes") }
                contents = stored
            case 8:
                do {
                    contents = try Gzip.decompress(stored, windowBits: -15, limit: { _ in size })
                } catch let AxonError.invalidValue(_, reason) {
                    throw refuse("'\(name)': \(reason)")
                }
                guard contents.count == size else { throw refuse("'\(name)' inflates to \(contents.count) bytes, not the \(size) declared") }
            default:
                throw refuse("'\(name)' uses compression method \(method); only stored (0) and deflated (8) entries are read")
            }
            var check = CRC32()
            check.update(contents)
            guard check.value == crc else { throw refuse("the checksum of '\(name)' does not match: the archive is damaged") }
            entries.append(Entry(name: name, contents: contents))
        }
        return entries
    }

    /// An archive holding `entries` uncompressed, as `numpy.savez` writes them.
    static func write(_ entries: [Entry], path: String) throws -> Data {
        var archive = Data(), directory = Data()
        func append16(_ value: Int, to data: inout Data) { data.append(littleEndian: UInt16(truncatingIfNeeded: value)) }
        func append32(_ value: Int, to data: inout Data) { data.append(littleEndian: UInt32(truncatingIfNeeded: value)) }
        guard entries.count <= 0xFFFF else {
            throw AxonError.file(path: path, reason: "cannot hold \(entries.count) arrays: a ZIP archive without ZIP64 holds at most 65,535")
        }
        for entry in entries {
            let name = Data(entry.name.utf8)
            guard entry.contents.count < 0xFFFF_FFFF, archive.count < 0xFFFF_FFFF - entry.contents.count, name.count <= 0xFFFF else {
                throw AxonError.file(path: path, reason: "'\(entry.name)' makes the archive larger than 4 GiB, which needs ZIP64 (not supported)")
            }
            var crc = CRC32()
            crc.update(entry.contents)
            let offset = archive.count
            // Version 2.0, no flags, stored, 1980-01-01 00:00, CRC, sizes, name.
            func common(_ data: inout Data) {
                append16(20, to: &data); append16(0, to: &data); append16(0, to: &data)
                append16(0, to: &data); append16(0x21, to: &data)
                append32(Int(crc.value), to: &data); append32(entry.contents.count, to: &data); append32(entry.contents.count, to: &data)
                append16(name.count, to: &data); append16(0, to: &data)
            }
            append32(0x0403_4B50, to: &archive)
            common(&archive)
            archive.append(name)
            archive.append(entry.contents)

            append32(0x0201_4B50, to: &directory)
            append16(20, to: &directory)
            common(&directory)
            append16(0, to: &directory); append16(0, to: &directory); append16(0, to: &directory)
            append32(0, to: &directory); append32(offset, to: &directory)
            directory.append(name)
        }
        let directoryOffset = archive.count
        archive.append(directory)
        append32(0x0605_4B50, to: &archive)
        append16(0, to: &archive); append16(0, to: &archive)
        append16(entries.count, to: &archive); append16(entries.count, to: &archive)
        append32(directory.count, to: &archive); append32(directoryOffset, to: &archive)
        append16(0, to: &archive)
        return archive
    }
}

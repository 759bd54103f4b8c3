import SystemZlib
import AxonCore
import Foundation

/// Decompression of gzip files through the system zlib.
enum Gzip {
    /// Whether `data` starts with the gzip magic bytes.
    static func isCompressed(_ data: Data) -> Bool { data.count >= 2 && data[data.startIndex] == 0x1F && data[data.startIndex + 1] == 0x8B }

    /// Inflates `data`. After each chunk, `limit` sees the output so far and may return the
    /// size the output must not exceed (for example the size a file format's header declares),
    /// so that a small hostile file cannot inflate to gigabytes before it is refused.
    /// `windowBits` is zlib's: the default detects a gzip or zlib header, -15 reads raw deflate
    /// data (ZIP entries).
    static func decompress(_ data: Data, windowBits: Int32 = 15 + 32, limit: (Data) throws -> Int? = { _ in nil }) throws -> Data {
        var maximum: Int?
        var stream = z_stream()
        guard inflateInit2_(&stream, windowBits, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw AxonError.invalidValue(operation: "gzip", reason: "zlib could not be initialised")
        }
        defer { inflateEnd(&stream) }
        var output = Data()
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        var input = [UInt8](data)
        var status: Int32 = Z_OK
        try input.withUnsafeMutableBufferPointer { source in
            stream.next_in = source.baseAddress
            stream.avail_in = uInt(source.count)
            repeat {
                try chunk.withUnsafeMutableBufferPointer { destination in
                    stream.next_out = destination.baseAddress
                    stream.avail_out = uInt(destination.count)
                    status = inflate(&stream, Z_NO_FLUSH)
                    guard status == Z_OK || status == Z_STREAM_END else {
                        throw AxonError.invalidValue(operation: "gzip", reason: "corrupt compressed data (zlib status \(status))")
                    }
                    output.append(destination.baseAddress!, count: destination.count - Int(stream.avail_out))
                    if maximum == nil { maximum = try limit(output) }
                    if let maximum, output.count > maximum {
                        throw AxonError.invalidValue(
                            operation: "gzip", reason: "the data inflates to more than the \(maximum) bytes its header declares")
                    }
                }
            } while status != Z_STREAM_END && (stream.avail_in > 0 || stream.avail_out == 0)
        }
        guard status == Z_STREAM_END else {
            throw AxonError.invalidValue(operation: "gzip", reason: "the compressed data ends early")
        }
        return output
    }
}

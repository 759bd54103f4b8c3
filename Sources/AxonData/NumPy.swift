import AxonCore
import Foundation

/// NumPy's own files: single arrays as `.npy` and named arrays as `.npz` (a ZIP archive of
/// `.npy` files, stored or deflated), so data prepared in Python feeds in directly and results
/// go back.
///
/// Reading accepts format versions 1 to 3, either byte order, C or Fortran order, and the
/// dtypes that convert to the library's exactly or by the usual rounding: `f2`, `f4`, `f8` (rounded
/// to float32), `i1` `i2` `i4`, `i8` (each value must fit in int32), `u1` `u2` `u4`, `u8` (must
/// fit in uint32) and `b1`. Everything is checked against the file's length before an element is
/// allocated. Writing produces version 1.0 files in C order and little-endian, as
/// `numpy.save` does.
///
/// ```swift
/// let images = try NumPy.read(URL(fileURLWithPath: "x.npy"))          // HostArray
/// try NumPy.write(images, to: URL(fileURLWithPath: "copy.npy"))
/// let arrays = try NumPy.readArchive(URL(fileURLWithPath: "data.npz"))  // [String: HostArray]
/// ```
public enum NumPy {
    /// The array in the `.npy` file at `url`.
    public static func read(_ url: URL) throws -> HostArray {
        try decode(try FileAccess.read(url), name: url.path)
    }

    /// Writes `array` to `url` as an `.npy` file, atomically.
    public static func write(_ array: HostArray, to url: URL) throws {
        try FileAccess.writeAtomically(encode(array), to: url)
    }

    /// The arrays in the `.npz` archive at `url`, by name (the entry names without `.npy`).
    public static func readArchive(_ url: URL) throws -> [String: HostArray] {
        try decodeArchive(try FileAccess.read(url), name: url.path)
    }

    /// Writes `arrays` to `url` as an uncompressed `.npz` archive (as `numpy.savez` does), atomically.
    public static func writeArchive(_ arrays: [String: HostArray], to url: URL) throws {
        try FileAccess.writeAtomically(try encodeArchive(arrays, name: url.path), to: url)
    }

    /// The arrays in the bytes of an `.npz` archive; `name` identifies it in errors.
    public static func decodeArchive(_ data: Data, name: String) throws -> [String: HostArray] {
        var arrays: [String: HostArray] = [:]
        for entry in try Zip.read(data, path: name) {
            guard entry.name.hasSuffix(".npy") else {
                throw AxonError.file(path: name, reason: "holds '\(entry.name)', which is not an .npy file")
            }
            arrays[String(entry.name.dropLast(4))] = try decode(entry.contents, name: "\(name): \(entry.name)")
        }
        return arrays
    }

    /// The bytes of an uncompressed `.npz` archive of `arrays`, in name order; `name` identifies
    /// it in errors.
    public static func encodeArchive(_ arrays: [String: HostArray], name: String = "archive.npz") throws -> Data {
        let entries = arrays.sorted(by: { $0.key < $1.key }).map { Zip.Entry(name: "\($0.key).npy", contents: encode($0.value)) }
        return try Zip.write(entries, path: name)
    }

    /// The bytes of an `.npy` file (version 1.0) holding `array`. NumPy has no `bfloat16`, so
    /// such an array is written as `float32`, which holds every value exactly.
    public static func encode(_ array: HostArray) -> Data {
        if array.dtype == .bfloat16, let widened = try? HostArray(shape: array.shape, elements: array.elements.converted(to: .float32)) {
            return encode(widened)
        }
        let descr: String
        switch array.dtype {
        case .float32, .bfloat16: descr = "<f4"
        case .int32: descr = "<i4"
        case .uint32: descr = "<u4"
        case .bool: descr = "|b1"
        }
        let dimensions = array.shape.dimensions.map(String.init)
        let shape = dimensions.count == 1 ? "(\(dimensions[0]),)" : "(\(dimensions.joined(separator: ", ")))"
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shape), }"
        // Magic (6) + version (2) + length (2) + header + newline, padded to a multiple of 64.
        header += String(repeating: " ", count: (64 - (10 + header.utf8.count + 1) % 64) % 64) + "\n"
        var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
        data.append(littleEndian: UInt16(header.utf8.count))
        data.append(contentsOf: Array(header.utf8))
        data.append(array.littleEndianBytes)
        return data
    }

    /// The array in the bytes of an `.npy` file; `name` identifies it in errors.
    public static func decode(_ data: Data, name: String) throws -> HostArray {
        func refuse(_ reason: String) -> AxonError { AxonError.file(path: name, reason: "is not a readable .npy file: \(reason)") }
        let bytes = [UInt8](data)
        guard bytes.count >= 10, bytes[0] == 0x93, bytes[1...5].elementsEqual("NUMPY".utf8) else {
            throw refuse("it does not begin with the magic \\x93NUMPY")
        }
        guard (1...3).contains(bytes[6]) else { throw refuse("format version \(bytes[6]).\(bytes[7]) is not one of 1.0 to 3.0") }
        let wide = bytes[6] > 1
        let headerStart = wide ? 12 : 10
        guard bytes.count >= headerStart else { throw refuse("it ends inside its header length") }
        let headerLength = (0..<(wide ? 4 : 2)).reduce(0) { $0 | Int(bytes[8 + $1]) << (8 * $1) }
        guard headerLength <= bytes.count - headerStart else {
            throw refuse("its header claims \(headerLength) bytes but only \(bytes.count - headerStart) follow")
        }
        let header: NumPyHeader
        do {
            header = try NumPyHeader.parse(String(decoding: bytes[headerStart..<(headerStart + headerLength)], as: UTF8.self))
        } catch {
            throw refuse(error.reason)
        }
        let body = bytes[(headerStart + headerLength)...]
        guard let count = Shape(header.shape).checkedElementCount,
            case let (byteCount, overflow) = count.multipliedReportingOverflow(by: header.itemSize), !overflow
        else {
            throw refuse("shape \(header.shape) is negative or too large to address")
        }
        guard byteCount == body.count else {
            throw refuse("shape \(header.shape) of '\(header.descr)' needs \(byteCount) bytes of data but the file has \(body.count)")
        }
        let elements: HostElements
        do {
            elements = try header.layout.decode(body, count: count)
        } catch {
            throw refuse(error.reason)
        }
        guard header.fortranOrder else { return try HostArray(shape: Shape(header.shape), elements: elements) }
        // Column-major data is the row-major array of the reversed shape, transposed.
        let reversed = try HostArray(shape: Shape(header.shape.reversed()), elements: elements)
        return try reversed.permuted(Array((0..<header.shape.count).reversed()))
    }
}

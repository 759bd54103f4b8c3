import Backend
import AxonCore
import Foundation

/// Reader for the IDX format of LeCun's MNIST files (raw or gzip-compressed): a magic number
/// whose third byte is the element type and fourth the rank, big-endian 32-bit dimensions,
/// then the elements.
public enum IDX {
    /// The default bound on an IDX file's data, decoded or inflated: 1 GiB.
    public static let defaultMaximumBytes = 1 << 30

    /// The array stored in the file at `url`; unsigned bytes become `float32` values 0–255.
    /// A gzip-compressed file is inflated no further than its IDX header declares, and no
    /// file may declare more than `maximumBytes` of data.
    public static func read(_ url: URL, maximumBytes: Int = defaultMaximumBytes) throws -> HostArray {
        try decodeFile(try FileAccess.read(url), name: url.path, maximumBytes: maximumBytes)
    }

    /// Decodes the bytes of an IDX file, raw or gzip-compressed (see ``read(_:maximumBytes:)``).
    public static func decodeFile(_ data: Data, name: String, maximumBytes: Int = defaultMaximumBytes) throws -> HostArray {
        guard Gzip.isCompressed(data) else { return try decode(data, name: name, maximumBytes: maximumBytes) }
        return try decode(inflate(data, name: name, maximumBytes: maximumBytes), name: name, maximumBytes: maximumBytes)
    }

    /// Inflates a gzip-compressed IDX file, refusing it as soon as it outgrows its own header.
    static func inflate(_ compressed: Data, name: String, maximumBytes: Int = defaultMaximumBytes) throws -> Data {
        do {
            return try Gzip.decompress(compressed) { prefix in try Header(prefix, name: name, maximumBytes: maximumBytes)?.fileSize }
        } catch let AxonError.invalidValue(_, reason) {
            throw AxonError.invalidValue(operation: "IDX.read", reason: "\(name): \(reason)")
        }
    }

    /// Decodes an uncompressed IDX file.
    public static func decode(_ data: Data, name: String = "IDX data", maximumBytes: Int = defaultMaximumBytes) throws -> HostArray {
        guard let header = try Header(data, name: name, maximumBytes: maximumBytes) else {
            throw AxonError.invalidValue(operation: "IDX.read", reason: "\(name) ends inside its header (\(data.count) bytes)")
        }
        guard data.count == header.fileSize else {
            throw AxonError.invalidValue(
                operation: "IDX.read",
                reason: "\(name) should hold \(header.count) elements of \(header.width) bytes for shape \(header.dimensions), but has \(data.count - header.start) bytes")
        }
        let bytes = [UInt8](data)
        let (start, width, type) = (header.start, header.width, header.type)
        func word(_ index: Int) -> UInt64 {
            (0..<width).reduce(UInt64(0)) { $0 << 8 | UInt64(bytes[start + index * width + $1]) }
        }
        let values: [Float] = (0..<header.count).map { index in
            switch type {
            case 0x08: return Float(bytes[start + index])
            case 0x09: return Float(Int8(bitPattern: bytes[start + index]))
            case 0x0B: return Float(Int16(truncatingIfNeeded: word(index)))
            case 0x0C: return Float(Int32(truncatingIfNeeded: word(index)))
            case 0x0D: return Float(bitPattern: UInt32(truncatingIfNeeded: word(index)))
            default: return Float(Double(bitPattern: word(index)))
            }
        }
        return try HostArray(shape: Shape(header.dimensions), elements: .float32(values))
    }

    /// An IDX header: magic (two zero bytes, the element type, the rank), then a big-endian
    /// 32-bit size per dimension. Sizes are multiplied with overflow checks.
    struct Header {
        let type: UInt8, width: Int, dimensions: [Int], start: Int, count: Int, fileSize: Int

        /// The header at the start of `data`, or nil while `data` is too short to hold it.
        init?(_ data: Data, name: String, maximumBytes: Int) throws {
            let bytes = [UInt8](data.prefix(4 + 4 * 255))
            guard bytes.prefix(2).allSatisfy({ $0 == 0 }) else {
                throw AxonError.invalidValue(operation: "IDX.read", reason: "\(name) does not start with an IDX magic number")
            }
            guard bytes.count >= 4 else { return nil }
            type = bytes[2]
            switch type {
            case 0x08, 0x09: width = 1
            case 0x0B: width = 2
            case 0x0C, 0x0D: width = 4
            case 0x0E: width = 8
            default:
                throw AxonError.invalidValue(operation: "IDX.read", reason: "\(name) has unknown element type 0x\(String(type, radix: 16))")
            }
            start = 4 + 4 * Int(bytes[3])
            guard bytes.count >= start else { return nil }
            dimensions = (0..<Int(bytes[3])).map { axis in (0..<4).reduce(0) { $0 << 8 | Int(bytes[4 + axis * 4 + $1]) } }
            guard let count = Shape(dimensions).checkedElementCount, case let (size, false) = count.multipliedReportingOverflow(by: width),
                size <= maximumBytes
            else {
                throw AxonError.invalidValue(
                    operation: "IDX.read",
                    reason: "\(name) declares shape \(dimensions) of \(width)-byte elements, more than the \(maximumBytes) bytes allowed")
            }
            self.count = count
            fileSize = start + size
        }
    }
}

/// The MNIST digits from IDX files.
public enum MNIST {
    /// Published MD5 checksums of the four original gzip files.
    public static let checksums = [
        "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
        "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
        "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
    ]

    /// Training and held-out sets from `directory`. With the training files present they are
    /// the training set and the `t10k` files are held out; with only the `t10k` files, the
    /// first 8,000 images train and the last 2,000 are held out. Images are `[N, 28, 28, 1]`
    /// scaled to [0, 1]; labels are `int32` class indices. Gzip files are checked against the
    /// published checksums.
    public static func load(directory: URL) throws -> (train: Dataset, heldOut: Dataset) {
        let test = try load(directory, prefix: "t10k")
        if let train = try? load(directory, prefix: "train") { return (train, test) }
        return try test.split(at: 8_000)
    }

    private static func load(_ directory: URL, prefix: String) throws -> Dataset {
        let images = try read(directory, "\(prefix)-images-idx3-ubyte")
        let labels = try read(directory, "\(prefix)-labels-idx1-ubyte")
        guard images.shape.rank == 3, labels.shape.rank == 1, images.shape[0] == labels.shape[0] else {
            throw AxonError.invalidValue(
                operation: "MNIST.load", reason: "images \(images.shape) and labels \(labels.shape) do not describe one set of 28×28 digits")
        }
        guard images.shape[1] == 28, images.shape[2] == 28 else {
            throw AxonError.invalidValue(operation: "MNIST.load", reason: "\(prefix) images are \(images.shape), expected [N, 28, 28]")
        }
        let values = labels.elements.floats
        if let index = values.firstIndex(where: { !(0...9).contains($0) || $0.rounded() != $0 }) {
            throw AxonError.invalidValue(
                operation: "MNIST.load", reason: "\(prefix) label \(index) is \(values[index]); MNIST labels are the whole numbers 0 to 9")
        }
        let pixels = HostElements.float32(images.elements.floats.map { $0 / 255 })
        let classes = HostElements.int32(values.map { Int32($0) })
        return try Dataset(
            features: HostArray(shape: Shape(images.shape.dimensions + [1]), elements: pixels),
            labels: HostArray(shape: labels.shape, elements: classes))
    }

    /// Reads `name.gz` (verifying its checksum) or, failing that, the uncompressed `name`.
    private static func read(_ directory: URL, _ name: String) throws -> HostArray {
        let compressed = directory.appendingPathComponent(name + ".gz")
        if FileManager.default.fileExists(atPath: compressed.path) {
            let data = try FileAccess.read(compressed)
            if let expected = checksums[name + ".gz"] {
                let actual = MD5.hexDigest(data)
                guard actual == expected else {
                    throw AxonError.invalidValue(
                        operation: "MNIST.load", reason: "\(compressed.path) has MD5 \(actual), expected \(expected); the file is damaged or not MNIST")
                }
            }
            return try IDX.decode(IDX.inflate(data, name: compressed.path), name: compressed.path)
        }
        return try IDX.read(directory.appendingPathComponent(name))
    }
}

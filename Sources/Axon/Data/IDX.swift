import Backend
import Foundation

/// Reader for the IDX format of LeCun's MNIST files (raw or gzip-compressed): a magic number
/// whose third byte is the element type and fourth the rank, big-endian 32-bit dimensions,
/// then the elements.
public enum IDX {
    /// The array stored in the file at `url`; unsigned bytes become `float32` values 0–255.
    public static func read(_ url: URL) throws -> HostArray {
        let raw = try FileAccess.read(url)
        return try decode(Gzip.isCompressed(raw) ? Gzip.decompress(raw) : raw, name: url.lastPathComponent)
    }

    /// Decodes an uncompressed IDX file.
    public static func decode(_ data: Data, name: String = "IDX data") throws -> HostArray {
        let bytes = [UInt8](data)
        guard bytes.count >= 4, bytes[0] == 0, bytes[1] == 0 else {
            throw AxonError.invalidValue(operation: "IDX.read", reason: "\(name) does not start with an IDX magic number")
        }
        let rank = Int(bytes[3])
        guard bytes.count >= 4 + 4 * rank else {
            throw AxonError.invalidValue(operation: "IDX.read", reason: "\(name) ends inside its header")
        }
        let dimensions = (0..<rank).map { axis in
            (0..<4).reduce(0) { $0 << 8 | Int(bytes[4 + axis * 4 + $1]) }
        }
        let shape = Shape(dimensions)
        let start = 4 + 4 * rank
        let width: Int
        switch bytes[2] {
        case 0x08, 0x09: width = 1
        case 0x0B: width = 2
        case 0x0C, 0x0D: width = 4
        case 0x0E: width = 8
        default:
            throw AxonError.invalidValue(operation: "IDX.read", reason: "\(name) has unknown element type 0x\(String(bytes[2], radix: 16))")
        }
        guard bytes.count == start + shape.elementCount * width else {
            throw AxonError.invalidValue(
                operation: "IDX.read",
                reason: "\(name) should hold \(shape.elementCount) elements of \(width) bytes for shape \(shape), but has \(bytes.count - start) bytes")
        }
        func word(_ index: Int) -> UInt64 {
            (0..<width).reduce(UInt64(0)) { $0 << 8 | UInt64(bytes[start + index * width + $1]) }
        }
        let values: [Float] = (0..<shape.elementCount).map { index in
            switch bytes[2] {
            case 0x08: return Float(bytes[start + index])
            case 0x09: return Float(Int8(bitPattern: bytes[start + index]))
            case 0x0B: return Float(Int16(truncatingIfNeeded: word(index)))
            case 0x0C: return Float(Int32(truncatingIfNeeded: word(index)))
            case 0x0D: return Float(bitPattern: UInt32(truncatingIfNeeded: word(index)))
            default: return Float(Double(bitPattern: word(index)))
            }
        }
        return try HostArray(shape: shape, elements: .float32(values))
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
        let pixels = HostElements.float32(images.elements.floats.map { $0 / 255 })
        let classes = HostElements.int32(labels.elements.floats.map { Int32($0) })
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
            return try IDX.decode(Gzip.decompress(data), name: name)
        }
        return try IDX.read(directory.appendingPathComponent(name))
    }
}

import Backend
import Foundation

/// Bytes in the layouts of this library's files.
extension HostArray {
    /// The elements as dense little-endian bytes, booleans one byte each (0 or 1): the layout
    /// of checkpoints, NumPy files and safetensors alike.
    public var littleEndianBytes: Data {
        switch elements {
        case let .float32(values): return values.withUnsafeBytes { Data($0) }
        case let .bfloat16(values): return values.withUnsafeBytes { Data($0) }
        case let .int32(values): return values.withUnsafeBytes { Data($0) }
        case let .uint32(values): return values.withUnsafeBytes { Data($0) }
        case let .bool(values): return Data(values.map { $0 ? 1 : 0 })
        }
    }

    /// An array of `shape` and `dtype` from dense little-endian `bytes` (booleans one byte each,
    /// any non-zero byte true). Throws, naming `label`, unless the shape is valid and the byte
    /// count is exactly what shape and dtype need; the count is checked before anything is
    /// allocated.
    public init<Bytes: DataProtocol>(littleEndian bytes: Bytes, dtype: DType, shape: Shape, label: String) throws {
        guard shape.dimensions.allSatisfy({ $0 >= 0 }) else {
            throw AxonError.invalidValue(operation: label, reason: "shape \(shape) has a negative dimension")
        }
        guard let byteCount = Shape(shape.dimensions + [dtype.byteSize]).checkedElementCount else {
            throw AxonError.invalidValue(operation: label, reason: "shape \(shape) is too large to address")
        }
        guard byteCount == bytes.count else {
            throw AxonError.invalidValue(
                operation: label, reason: "shape \(shape) of \(dtype) needs \(byteCount) bytes but \(bytes.count) are stored")
        }
        let count = byteCount / dtype.byteSize
        func values<T>(_: T.Type) -> [T] {
            [T](unsafeUninitializedCapacity: count) { buffer, initialized in
                _ = bytes.copyBytes(to: UnsafeMutableRawBufferPointer(buffer))
                initialized = count
            }
        }
        switch dtype {
        case .float32: try self.init(shape: shape, elements: .float32(values(Float.self)))
        case .bfloat16: try self.init(shape: shape, elements: .bfloat16(values(BFloat16.self)))
        case .int32: try self.init(shape: shape, elements: .int32(values(Int32.self)))
        case .uint32: try self.init(shape: shape, elements: .uint32(values(UInt32.self)))
        case .bool: try self.init(shape: shape, elements: .bool(bytes.map { $0 != 0 }))
        }
    }
}

/// Little-endian writing for binary file formats.
extension Data {
    /// Appends `value`'s bytes, least significant first: the byte order of every binary format
    /// the library reads and writes.
    public mutating func append<Integer: FixedWidthInteger>(littleEndian value: Integer) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }
}

import AxonCore
import Foundation

/// Elements as another library stores them (NumPy, safetensors, ONNX), converted to this
/// library's dtypes: floating point to float32 (64-bit rounds to nearest, 16-bit and bfloat16
/// widen exactly), signed integers to int32 and unsigned to uint32 (each value must fit),
/// booleans one byte each.
public struct ForeignElements: Sendable {
    /// The family of an element type.
    public enum Kind: Sendable {
        /// IEEE 754 binary floating point.
        case float
        /// bfloat16: the upper half of a float32.
        case bfloat16
        /// Two's-complement integers.
        case signed
        /// Unsigned integers.
        case unsigned
        /// Booleans, one byte each.
        case bool
    }

    /// The element family.
    public let kind: Kind
    /// Bytes per element.
    public let size: Int
    /// Whether the bytes are most significant first.
    public let bigEndian: Bool

    /// An element type of `size` bytes.
    public init(kind: Kind, size: Int, bigEndian: Bool = false) {
        (self.kind, self.size, self.bigEndian) = (kind, size, bigEndian)
    }

    /// The `count` elements in `bytes`, which the caller has checked hold `count × size`
    /// bytes; a failure says which element does not fit and why.
    public func decode<Bytes: RandomAccessCollection<UInt8> & DataProtocol>(_ bytes: Bytes, count: Int) throws(FormatProblem) -> HostElements {
        // This library's own layouts copy as they are; only the others convert element by element.
        let native: [Kind: DType] = [.float: .float32, .signed: .int32, .unsigned: .uint32]
        if !bigEndian, size == 4, let dtype = native[kind],
            let array = try? HostArray(littleEndian: bytes, dtype: dtype, shape: [count], label: "decode") {
            return array.elements
        }
        let base = bytes.startIndex
        func word(_ index: Int) -> UInt64 {
            let start = index * size
            return (0..<size).reduce(UInt64(0)) { value, byte in
                let position = bigEndian ? start + byte : start + size - 1 - byte
                return value << 8 | UInt64(bytes[bytes.index(base, offsetBy: position)])
            }
        }
        /// `word(index)` sign-extended from `size` bytes.
        func signed(_ index: Int) -> Int64 {
            let shift = UInt64(64 - 8 * size)
            return Int64(bitPattern: word(index) << shift) >> shift
        }
        switch (kind, size) {
        case (.float, 2): return (.float32((0..<count).map { Float(Float16(bitPattern: UInt16(word($0)))) }))
        case (.float, 4): return (.float32((0..<count).map { Float(bitPattern: UInt32(word($0))) }))
        case (.float, _): return (.float32((0..<count).map { Float(Double(bitPattern: word($0))) }))
        case (.bfloat16, _): return (.float32((0..<count).map { Float(bitPattern: UInt32(word($0)) << 16) }))
        case (.bool, _): return (.bool((0..<count).map { word($0) != 0 }))
        case (.signed, _):
            var values: [Int32] = []
            values.reserveCapacity(count)
            for index in 0..<count {
                guard let value = Int32(exactly: signed(index)) else { throw FormatProblem("element \(index) (\(signed(index))) does not fit in int32") }
                values.append(value)
            }
            return (.int32(values))
        case (.unsigned, _):
            var values: [UInt32] = []
            values.reserveCapacity(count)
            for index in 0..<count {
                guard let value = UInt32(exactly: word(index)) else { throw FormatProblem("element \(index) (\(word(index))) does not fit in uint32") }
                values.append(value)
            }
            return (.uint32(values))
        }
    }
}

/// What is wrong with a file's contents, in words, for the reader to wrap in an error that
/// names the file.
public struct FormatProblem: Error, Sendable {
    /// What is wrong with the file, in words.
    public let reason: String
    /// A problem described by `reason`.
    public init(_ reason: String) { self.reason = reason }
}

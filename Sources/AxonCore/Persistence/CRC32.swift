/// A 32-bit cyclic redundancy check in its reflected form, a byte at a time through a 256-entry
/// table: ``CRC32/Polynomial/ieee`` (zlib, gzip, PNG, ZIP and this library's checkpoints) or ``CRC32/Polynomial/castagnoli``
/// (CRC-32C, which TFRecord and TensorBoard event files use).
///
/// Written here rather than taken from zlib because the core library depends on `Backend` alone
/// (DESIGN.md §7).
///
/// ```swift
/// var crc = CRC32(.castagnoli)
/// crc.update(Array("123456789".utf8))
/// assert(crc.value == 0xE306_9283)
/// ```
public struct CRC32: Sendable {
    /// A generator polynomial, bit-reversed.
    public struct Polynomial: Sendable {
        let table: [UInt32]

        init(reversed polynomial: UInt32) {
            table = (0..<256).map { index in
                (0..<8).reduce(UInt32(index)) { crc, _ in crc & 1 == 1 ? (crc >> 1) ^ polynomial : crc >> 1 }
            }
        }

        /// IEEE 802.3 (0x04C11DB7).
        public static let ieee = Polynomial(reversed: 0xEDB8_8320)
        /// Castagnoli (0x1EDC6F41), CRC-32C.
        public static let castagnoli = Polynomial(reversed: 0x82F6_3B78)
    }

    private let table: [UInt32]
    private var state: UInt32 = 0xFFFF_FFFF

    /// A checksum with `polynomial`'s table, starting empty.
    public init(_ polynomial: Polynomial = .ieee) { table = polynomial.table }

    /// Adds `bytes` to the checksum.
    public mutating func update<Bytes: Sequence<UInt8>>(_ bytes: Bytes) {
        var crc = state
        table.withUnsafeBufferPointer { table in
            for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        }
        state = crc
    }

    /// The checksum of everything added so far.
    public var value: UInt32 { ~state }
}

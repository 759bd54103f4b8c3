/// CRC-32 as zlib, gzip and PNG compute it (IEEE 802.3: reflected, polynomial 0xEDB88320,
/// initial value and final XOR 0xFFFFFFFF), a byte at a time through a 256-entry table.
///
/// Written here rather than taken from zlib because the core library depends on `Backend` alone
/// (DESIGN.md §7); checkpoints are its only user.
struct CRC32 {
    private static let table: [UInt32] = (0..<256).map { index in
        (0..<8).reduce(UInt32(index)) { crc, _ in crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
    }

    private var state: UInt32 = 0xFFFF_FFFF

    /// Adds `bytes` to the checksum.
    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        var crc = state
        Self.table.withUnsafeBufferPointer { table in
            for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        }
        state = crc
    }

    /// The checksum of everything added so far.
    var value: UInt32 { ~state }
}

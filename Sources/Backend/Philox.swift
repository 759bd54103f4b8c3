/// Philox-4x32-10, the counter-based generator of Salmon et al., "Parallel random numbers: as
/// easy as 1, 2, 3" (SC 2011). This pure-Swift version is the specification every backend's
/// `randomBits` must reproduce bit for bit.
public enum Philox {
    /// A 64-bit key: two 32-bit words.
    public struct Key: Sendable, Hashable {
        /// The key's low word.
        public var word0: UInt32
        /// The key's high word.
        public var word1: UInt32
        /// A key of two words.
        public init(_ word0: UInt32, _ word1: UInt32) {
            self.word0 = word0
            self.word1 = word1
        }

        /// A key from a 64-bit seed (low word first).
        public init(seed: UInt64) {
            self.init(UInt32(truncatingIfNeeded: seed), UInt32(truncatingIfNeeded: seed >> 32))
        }

        /// A new key derived from this one and a 64-bit tag, e.g. a hashed parameter name or a
        /// step number. Deterministic, and distinct tags give independent streams.
        public func folded(with tag: UInt64) -> Key {
            let block = Philox.block(
                counter: (UInt32(truncatingIfNeeded: tag), UInt32(truncatingIfNeeded: tag >> 32), 0x4B45_5946, 0),
                key: self)
            return Key(block.0, block.1)
        }

        /// A key folded with the FNV-1a hash of `name`, so each parameter gets its own stream.
        public func folded(with name: String) -> Key {
            var hash: UInt64 = 0xCBF2_9CE4_8422_2325
            for byte in name.utf8 {
                hash ^= UInt64(byte)
                hash = hash &* 0x0000_0100_0000_01B3
            }
            return folded(with: hash)
        }
    }

    /// One Philox-4x32-10 block: ten rounds over a 128-bit counter with a 64-bit key. The round
    /// multipliers are 0xD2511F53 and 0xCD9E8D57; the key schedule adds the Weyl constants
    /// 0x9E3779B9 and 0xBB67AE85 between rounds.
    @inlinable
    public static func block(
        counter: (UInt32, UInt32, UInt32, UInt32), key: Key
    ) -> (UInt32, UInt32, UInt32, UInt32) {
        var (c0, c1, c2, c3) = counter
        var k0 = key.word0
        var k1 = key.word1
        for round in 0..<10 {
            if round > 0 {
                k0 = k0 &+ 0x9E37_79B9
                k1 = k1 &+ 0xBB67_AE85
            }
            let product0 = UInt64(0xD251_1F53) &* UInt64(c0)
            let product1 = UInt64(0xCD9E_8D57) &* UInt64(c2)
            let hi0 = UInt32(truncatingIfNeeded: product0 >> 32)
            let lo0 = UInt32(truncatingIfNeeded: product0)
            let hi1 = UInt32(truncatingIfNeeded: product1 >> 32)
            let lo1 = UInt32(truncatingIfNeeded: product1)
            (c0, c1, c2, c3) = (hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0)
        }
        return (c0, c1, c2, c3)
    }

    /// The stream layout shared by all backends: element `i` of a request starting at `offset`
    /// is word `(offset + i) % 4` of the block whose counter is `(offset + i) / 4` as a 64-bit
    /// number in the first two counter words (low word first), the other two words zero.
    @inlinable
    public static func bits(key: Key, offset: UInt64, count: Int) -> [UInt32] {
        [UInt32](unsafeUninitializedCapacity: count) { output, initialized in
            fill(output, key: key, offset: offset)
            initialized = count
        }
    }

    /// Writes the stream described at `bits(key:offset:count:)` into `output`.
    @inlinable
    public static func fill(_ output: UnsafeMutableBufferPointer<UInt32>, key: Key, offset: UInt64) {
        var index = 0
        while index < output.count {
            let position = offset &+ UInt64(index)
            let blockIndex = position / 4
            let block = Philox.block(
                counter: (UInt32(truncatingIfNeeded: blockIndex), UInt32(truncatingIfNeeded: blockIndex >> 32), 0, 0),
                key: key)
            var word = Int(position % 4)
            while word < 4, index < output.count {
                switch word {
                case 0: output[index] = block.0
                case 1: output[index] = block.1
                case 2: output[index] = block.2
                default: output[index] = block.3
                }
                word += 1
                index += 1
            }
        }
    }

    /// Maps 32 random bits to a float in [0, 1) using the top 24 bits, so every value is exact.
    @inlinable
    public static func unitFloat(_ bits: UInt32) -> Float {
        Float(bits >> 8) * 0x1p-24
    }
}

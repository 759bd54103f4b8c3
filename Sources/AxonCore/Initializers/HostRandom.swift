import Backend
import Foundation

/// Host-side sampling from Philox bits, so that the same key gives the same values whatever
/// backend they are uploaded to. Samples are drawn in double precision and rounded to float.
struct HostRandom {
    private let key: Philox.Key
    private var offset: UInt64 = 0

    init(key: Philox.Key) { self.key = key }

    /// The next `count` raw words of the stream.
    mutating func bits(_ count: Int) -> [UInt32] {
        defer { offset += UInt64(count) }
        return Philox.bits(key: key, offset: offset, count: count)
    }

    /// Uniform samples in [low, high).
    mutating func uniform(_ count: Int, low: Double, high: Double) -> [Double] {
        bits(count).map { low + (high - low) * Double($0) * 0x1p-32 }
    }

    /// Standard normal samples by the Box–Muller transform, two per pair of words.
    mutating func normal(_ count: Int) -> [Double] {
        let words = bits((count + 1) / 2 * 2)
        var samples: [Double] = []
        samples.reserveCapacity(count + 1)
        for pair in stride(from: 0, to: words.count, by: 2) {
            let u1 = (Double(words[pair]) + 1) * 0x1p-32  // in (0, 1], so log is finite
            let u2 = Double(words[pair + 1]) * 0x1p-32
            let radius = (-2 * Foundation.log(u1)).squareRoot()
            samples.append(radius * Foundation.cos(2 * .pi * u2))
            samples.append(radius * Foundation.sin(2 * .pi * u2))
        }
        return Array(samples.prefix(count))
    }

    /// Standard normal samples truncated to [−2, 2] by rejection, as Keras's truncated normal.
    mutating func truncatedNormal(_ count: Int) -> [Double] {
        var samples: [Double] = []
        samples.reserveCapacity(count)
        while samples.count < count {
            samples += normal(Swift.max(16, (count - samples.count) * 11 / 10)).filter { Swift.abs($0) <= 2 }
        }
        return Array(samples.prefix(count))
    }
}

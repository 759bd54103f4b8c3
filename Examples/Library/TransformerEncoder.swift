import AxonCore
import AxonData
import Foundation

extension Examples {
    /// A one-block transformer encoder (token embedding, sinusoidal positional encoding,
    /// multi-head self-attention, residual connections and layer norm, a feed-forward block,
    /// mean pooling) that learns which symbol occurs most often in a random sequence.
    public static func transformerEncoder(epochs: Int = 8, count: Int = 4_000, on backend: any Backend) throws -> Double {
        let (length, symbols, width) = (12, 5, 16)
        let tokens = Axon.input("features", shape: [nil, length], dtype: .int32)
        let embedded = tokens.embedding(vocabularySize: symbols, features: width)
        let positioned = Axon.layer("positional_encoding", inputs: [embedded], outputShape: { $0[0] }) { inputs, _ in
            try inputs[0] + Tensor(sinusoidalPositions(length: length, width: width), shape: [length, width], on: inputs[0].backend)
        }
        let attended = Axon.multiHeadAttention(
            query: positioned, value: positioned, heads: 2, keyDimension: width / 2, outputDimension: width, dropout: 0.1, name: "self_attention")
        let normalized = positioned.add(attended.output).layerNorm()
        let fed = normalized.dense(2 * width, activation: .relu).dense(width)
        let encoded = normalized.add(fed).layerNorm()
        let model = encoded.globalAvgPool().dense(symbols)
        let data = try majoritySequences(count: count, length: length, symbols: symbols, seed: 11).split(at: count * 4 / 5)
        return try train(model, data, epochs: epochs, optimizer: .adam(learningRate: 3e-3), on: backend)
    }

    /// `sin` and `cos` of `position / 10000^(2i / width)` in alternate features (Vaswani et al., 2017).
    static func sinusoidalPositions(length: Int, width: Int) -> [Float] {
        (0..<length).flatMap { position in
            (0..<width).map { feature in
                let angle = Double(position) / pow(10_000, Double(feature / 2 * 2) / Double(width))
                return Float(feature % 2 == 0 ? sin(angle) : cos(angle))
            }
        }
    }

    /// Random sequences of `symbols` symbols, each labelled with its most frequent symbol (the
    /// smallest on a tie).
    static func majoritySequences(count: Int, length: Int, symbols: Int, seed: UInt64) throws -> Dataset {
        let bits = Philox.bits(key: Philox.Key(seed: seed), offset: 0, count: count * length)
        let tokens = bits.map { Int32((UInt64($0) * UInt64(symbols)) >> 32) }
        let labels = (0..<count).map { row -> Int32 in
            var tally = [Int](repeating: 0, count: symbols)
            for token in tokens[(row * length)..<((row + 1) * length)] { tally[Int(token)] += 1 }
            return Int32(tally.firstIndex(of: tally.max() ?? 0) ?? 0)
        }
        return try Dataset(
            features: HostArray(shape: [count, length], elements: .int32(tokens)), labels: HostArray(shape: [count], elements: .int32(labels)))
    }
}

import AxonCore
import Backend
import Foundation
import Testing

/// Spatial, alpha, feature-alpha dropout and DropBlock: identity in inference, and in training
/// the properties that define them (whole channels, zero mean and unit variance kept, blocks).
@Suite("Dropout variants")
struct DropoutLayerTests {
    func train(_ model: Axon, _ x: Tensor, seed: UInt64 = 5) throws -> [Float] {
        let built = try model.build(on: backend, mode: .train)
        return try built.predict(built.initialize(seed: 0), inputs: ["x": x], randomKey: Philox.Key(seed: seed)).output().scalars
    }

    func input(_ shape: Shape, seed: UInt64 = 3) throws -> Tensor {
        try Initializer.normal(mean: 0, standardDeviation: 1).tensor(shape: shape, key: Philox.Key(seed: seed), on: backend)
    }

    @Test("every variant is the identity in inference")
    func inference() throws {
        let x = try input([2, 6, 6, 3])
        for model in [
            Axon.input("x", shape: [nil, 6, 6, 3]).spatialDropout(), Axon.input("x", shape: [nil, 6, 6, 3]).alphaDropout(),
            Axon.input("x", shape: [nil, 6, 6, 3]).featureAlphaDropout(), Axon.input("x", shape: [nil, 6, 6, 3]).dropBlock(rate: 0.5),
        ] {
            let built = try model.build(on: backend, mode: .inference)
            #expect(try built.predict(built.initialize(seed: 0), inputs: ["x": x]).output().scalars == x.scalars)
        }
    }

    @Test("spatial dropout keeps or drops each channel of each example whole, scaling kept ones by 1/(1 − rate)")
    func spatial() throws {
        let x = try input([2, 4, 4, 6])
        let y = try train(Axon.input("x", shape: [nil, 4, 4, 6]).spatialDropout(rate: 0.5), x)
        let values = try x.scalars
        var dropped = 0
        for example in 0..<2 {
            for channel in 0..<6 {
                let indices = (0..<16).map { example * 96 + $0 * 6 + channel }
                let zero = indices.allSatisfy { y[$0] == 0 }
                let scaled = indices.allSatisfy { abs(y[$0] - 2 * values[$0]) < 1e-5 }
                #expect(zero || scaled)
                if zero { dropped += 1 }
            }
        }
        #expect(dropped > 0 && dropped < 12)
    }

    @Test("alpha dropout keeps a standard normal input at zero mean and unit variance")
    func alphaMoments() throws {
        let x = try input([1, 40_000])
        let y = try train(Axon.input("x", shape: [nil, 40_000]).alphaDropout(rate: 0.2), x).map(Double.init)
        let mean = y.reduce(0, +) / Double(y.count)
        let variance = y.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(y.count)
        #expect(abs(mean) < 0.03)
        #expect(abs(variance - 1) < 0.05)
        // About a fifth of the values sit at the dropped value a·α′ + b.
        let a = 1 / ((0.8 * (1 + 0.2 * 1.7580993408473766 * 1.7580993408473766)).squareRoot())
        let droppedValue = a * -1.7580993408473766 + -a * -1.7580993408473766 * 0.2
        let fraction = Double(y.filter { abs($0 - droppedValue) < 1e-5 }.count) / Double(y.count)
        #expect(abs(fraction - 0.2) < 0.01)
    }

    @Test("feature alpha dropout drops whole channels to the same value")
    func featureAlpha() throws {
        let x = try input([1, 5, 5, 8])
        let y = try train(Axon.input("x", shape: [nil, 5, 5, 8]).featureAlphaDropout(rate: 0.5), x)
        var droppedChannels = 0
        for channel in 0..<8 {
            let column = (0..<25).map { y[$0 * 8 + channel] }
            if Set(column).count == 1 { droppedChannels += 1 }
        }
        #expect(droppedChannels > 0 && droppedChannels < 8)
    }

    @Test("DropBlock zeroes whole blocks, about the rate of the input, and rescales the rest")
    func dropBlock() throws {
        let x = try Tensor([Float](repeating: 1, count: 4 * 32 * 32), shape: [4, 32, 32, 1], on: backend)
        let y = try train(Axon.input("x", shape: [nil, 32, 32, 1]).dropBlock(rate: 0.2, blockSize: 3), x)
        let zero = y.map { $0 == 0 }
        let fraction = Double(zero.filter { $0 }.count) / Double(y.count)
        #expect(abs(fraction - 0.2) < 0.05)
        // Every dropped position lies in some 3×3 block that is dropped entirely.
        func dropped(_ n: Int, _ i: Int, _ j: Int) -> Bool { zero[n * 1024 + i * 32 + j] }
        for n in 0..<4 {
            for i in 0..<32 {
                for j in 0..<32 where dropped(n, i, j) {
                    let inBlock = (max(0, i - 2)...min(i, 29)).contains { top in
                        (max(0, j - 2)...min(j, 29)).contains { left in
                            (0..<3).allSatisfy { a in (0..<3).allSatisfy { b in dropped(n, top + a, left + b) } }
                        }
                    }
                    #expect(inBlock)
                }
            }
        }
        // Kept values are scaled so the sum is preserved: count / kept.
        let kept = Float(zero.filter { !$0 }.count)
        #expect(abs((y.first { $0 != 0 } ?? 0) - Float(y.count) / kept) < 1e-3)
    }

    @Test("masks drawn for examples from firstExample on are those rows of the whole batch's masks (as a data-parallel rank draws them)")
    func masksOfAPartAreRowsOfTheWholeBatchMasks() throws {
        func rows(_ x: Tensor) throws -> [Float] { try x.sliced(axis: 0, 2..<4).scalars }
        let key = Philox.Key(seed: 8)
        // Attention dropout on the weights [4, 3, 3]: the outputs of the part's examples.
        let (q, k, v) = (try input([4, 3, 2], seed: 1), try input([4, 3, 2], seed: 2), try input([4, 3, 2], seed: 3))
        func attention(_ range: Range<Int>, dropout: Float) throws -> Tensor {
            try Layers.dotProductAttention(
                query: q.sliced(axis: 0, range), key: k.sliced(axis: 0, range), value: v.sliced(axis: 0, range), dropout: dropout,
                randomKey: key, mode: .train, firstExample: range.lowerBound).output
        }
        let (whole, part) = (try attention(0..<4, dropout: 0.5), try attention(2..<4, dropout: 0.5))
        #expect(try part.scalars == rows(whole))
        #expect(try part.scalars != attention(2..<4, dropout: 0).scalars)
        // Alpha dropout at the part's offset: 6·6·3 elements per example.
        let x = try input([4, 6, 6, 3])
        let alpha = try Layers.alphaDropout(x, rate: 0.5, key: key)
        #expect(try Layers.alphaDropout(x.sliced(axis: 0, 2..<4), rate: 0.5, key: key, offset: 2 * 108).scalars == rows(alpha))
        // DropBlock: the same blocks (its rescaling counts the part's kept values, so compare the zeros).
        let blocks = try Layers.dropBlock(x, rate: 0.3, blockSize: 2, key: key)
        let partBlocks = try Layers.dropBlock(x.sliced(axis: 0, 2..<4), rate: 0.3, blockSize: 2, key: key, firstExample: 2)
        #expect(try partBlocks.scalars.map { $0 == 0 } == rows(blocks).map { $0 == 0 })
        #expect(try partBlocks.scalars.contains(0))
        // Recurrent dropout: an LSTM's outputs for the part's examples.
        let sequence = try input([4, 5, 3], seed: 4)
        var weights = RecurrentWeights(
            kernel: try input([3, 8], seed: 5), recurrentKernel: try input([2, 8], seed: 6), recurrentDropout: (rate: 0.5, key: key))
        let lstm = try Layers.recurrent(.lstm, sequence, weights: weights).sequence
        weights.firstExample = 2
        let partLSTM = try Layers.recurrent(.lstm, sequence.sliced(axis: 0, 2..<4), weights: weights).sequence
        let worst = zip(try partLSTM.scalars, try rows(lstm)).map { Swift.abs($0 - $1) }.max() ?? .infinity
        #expect(worst <= 1e-6, "largest difference \(worst)")
        weights.firstExample = 0
        let unshifted = try Layers.recurrent(.lstm, sequence.sliced(axis: 0, 2..<4), weights: weights).sequence
        #expect(try unshifted.scalars != partLSTM.scalars)
    }
}

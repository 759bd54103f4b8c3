import AxonCore
import AxonData
import Foundation

extension Examples {
    /// A bidirectional LSTM trained with CTC to read symbol sequences from unsegmented frames:
    /// each example shows one to four symbols, each held for one to three noisy frames, with
    /// blank frames between some of them; the model must output the symbols without knowing
    /// where they start. Returns the fraction of held-out sequences decoded exactly (greedy:
    /// the best class per frame, repeats merged, blanks dropped).
    public static func ctcSequences(epochs: Int = 12, count: Int = 3_000, on backend: any Backend) throws -> Double {
        let (frames, symbols) = (16, 4)
        let (train, heldOut) = try ctcData(count: count, frames: frames, symbols: symbols, seed: 21).split(at: count * 4 / 5)
        let model = Axon.input("features", shape: [nil, frames, symbols + 1], axes: ["batch", "time", "classes"])
            .bidirectional { input, reverse in input.lstm(24, reverse: reverse) }.sequence
            .dense(symbols + 1)
        let loop = try Loop.trainer(model: model, loss: .connectionistTemporalClassification(), optimizer: .adam(learningRate: 1e-2), on: backend)
            .log(.perEpoch)
        let final = try loop.run(try train.batches(size: 64, shuffle: true, seed: 2, on: backend), epochs: epochs)
        let built = try model.build(on: backend)
        let logits = try built.predict(final.stepState.model, inputs: ["features": Tensor(heldOut.features, on: backend)]).output()
        let decoded = try greedyDecode(logits)
        guard case let .int32(labels) = heldOut.labels.elements else { return 0 }
        let width = heldOut.labels.shape[1]
        let correct = decoded.enumerated().filter { row, sequence in
            Array(labels[(row * width)..<((row + 1) * width)].prefix { $0 != 0 }.map(Int.init)) == sequence
        }.count
        let accuracy = Double(correct) / Double(decoded.count)
        print(String(format: "held-out sequences read exactly: %.2f%%", accuracy * 100))
        return accuracy
    }

    /// Best path decoding: the most likely class per frame, repeats merged, blanks (class 0) dropped.
    static func greedyDecode(_ logits: Tensor) throws -> [[Int]] {
        let (batch, frames) = (logits.shape[0], logits.shape[1])
        guard case let .int32(best) = try logits.argmax(axis: -1).array.elements else { return [] }
        return (0..<batch).map { row in
            var previous = 0
            return (0..<frames).compactMap { frame -> Int? in
                let symbol = Int(best[row * frames + frame])
                defer { previous = symbol }
                return symbol != 0 && symbol != previous ? symbol : nil
            }
        }
    }

    /// Frames `[count, frames, symbols + 1]` (one-hot with noise, channel 0 the blank) and labels
    /// `[count, 4]` padded with the blank.
    static func ctcData(count: Int, frames: Int, symbols: Int, seed: UInt64) throws -> Dataset {
        // Each example draws at most 1 + 4 + 8 + frames·(symbols + 1) numbers from its own stretch
        // of the Philox stream, so no example runs short of bits or shares them with another.
        let draws = 13 + frames * (symbols + 1)
        var bits: [UInt32] = [], used = 0
        func next(_ upper: Int) -> Int {
            used += 1
            return Int((UInt64(bits[used - 1]) * UInt64(upper)) >> 32)
        }
        var features: [Float] = [], labels: [Int32] = []
        for example in 0..<count {
            (bits, used) = (Philox.bits(key: Philox.Key(seed: seed), offset: UInt64(example * draws), count: draws), 0)
            // Neighbouring symbols differ, so each needs no blank between to be read apart.
            var sequence = [1 + next(symbols)]
            for _ in 0..<next(4) { sequence.append((sequence[sequence.count - 1] + next(symbols - 1)) % symbols + 1) }
            var timeline: [Int] = []
            for symbol in sequence {
                timeline += Array(repeating: symbol, count: 1 + next(3))
                if next(2) == 0 { timeline.append(0) }
            }
            timeline += Array(repeating: 0, count: Swift.max(0, frames - timeline.count))
            for frame in timeline.prefix(frames) {
                features += (0...symbols).map { $0 == frame ? 1 : 0 }.map { Float($0) + 0.2 * (Float(next(1000)) / 1000 - 0.5) }
            }
            labels += sequence.map(Int32.init) + Array(repeating: 0, count: 4 - sequence.count)
        }
        return try Dataset(
            features: HostArray(shape: [count, frames, symbols + 1], elements: .float32(features)),
            labels: HostArray(shape: [count, 4], elements: .int32(labels)))
    }
}

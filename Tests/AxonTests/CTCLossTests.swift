import AxonCore
import Backend
import Foundation
import Testing

/// CTC against a hand-derived two-frame case and against brute force: the probability of a
/// labelling summed over every frame-by-frame path that collapses to it (merge repeats, drop
/// blanks), enumerated directly.
@Suite("Connectionist temporal classification")
struct CTCLossTests {
    /// −log Σ over all paths of length `frames` collapsing to `labels`, from softmax probabilities.
    func bruteForce(_ logits: [Float], frames: Int, classes: Int, labels: [Int], blank: Int = 0) -> Double {
        let probabilities = (0..<frames).map { t -> [Double] in
            let row = (0..<classes).map { Double(logits[t * classes + $0]) }
            let total = row.map { Foundation.exp($0) }.reduce(0, +)
            return row.map { Foundation.exp($0) / total }
        }
        var sum = 0.0
        for code in 0..<Int(pow(Double(classes), Double(frames))) {
            var rest = code
            let path = (0..<frames).map { _ -> Int in defer { rest /= classes }; return rest % classes }
            var collapsed: [Int] = []
            var previous = -1
            for symbol in path {
                if symbol != previous && symbol != blank { collapsed.append(symbol) }
                previous = symbol
            }
            if collapsed == labels { sum += path.enumerated().map { probabilities[$0.offset][$0.element] }.reduce(1, *) }
        }
        return -Foundation.log(sum)
    }

    @Test("two frames and one label: the paths 'a a', 'blank a' and 'a blank'")
    func twoFrames() throws {
        // Uniform logits over {blank, a}: each path has probability ¼, three paths fit.
        let loss = try Losses.connectionistTemporalClassification(
            logits: tensor([0, 0, 0, 0], [1, 2, 2]), labels: Tensor(integers: [1], shape: [1, 1], on: backend), reduction: .none)
        try expectClose(loss, [Float(-Foundation.log(0.75))], atol: 1e-6)
    }

    @Test("the loss is the brute-force sum over alignments, with repeats, lengths and padding")
    func bruteForceAgreement() throws {
        let (frames, classes) = (5, 3)
        let logits = try sample([3, frames, classes], seed: 1, low: -2, high: 2)
        let values = try logits.scalars
        // Labels [1, 2], [2, 2] (a repeat needs a blank between) and [1] over 4 frames.
        let labels = try Tensor(integers: [1, 2, 2, 2, 1, 0], shape: [3, 2], on: backend)
        let loss = try Losses.connectionistTemporalClassification(
            logits: logits, labels: labels, inputLengths: [5, 5, 4], labelLengths: [2, 2, 1], reduction: .none)
        let expected = [
            bruteForce(Array(values[0..<15]), frames: 5, classes: 3, labels: [1, 2]),
            bruteForce(Array(values[15..<30]), frames: 5, classes: 3, labels: [2, 2]),
            bruteForce(Array(values[30..<42]), frames: 4, classes: 3, labels: [1]),
        ]
        try expectClose(loss, expected.map(Float.init), atol: 1e-5, rtol: 1e-5)
        // PyTorch's mean: each loss over its label length, then the batch mean.
        let mean = try Losses.connectionistTemporalClassification(
            logits: logits, labels: labels, inputLengths: [5, 5, 4], labelLengths: [2, 2, 1])
        try expectClose(mean, [Float((expected[0] / 2 + expected[1] / 2 + expected[2]) / 3)], atol: 1e-5, rtol: 1e-5)
    }

    @Test("an empty label is the all-blank path; too few frames is infinite, or zero when asked")
    func edgeCases() throws {
        let logits = try sample([1, 2, 3], seed: 2)
        let empty = try Losses.connectionistTemporalClassification(
            logits: logits, labels: Tensor(integers: [0], shape: [1, 1], on: backend), labelLengths: [0], reduction: .none)
        try expectClose(empty, [Float(bruteForce(try logits.scalars, frames: 2, classes: 3, labels: []))], atol: 1e-5)
        // [1, 1] needs three frames (1, blank, 1).
        let repeated = try Tensor(integers: [1, 1], shape: [1, 2], on: backend)
        #expect(try Losses.connectionistTemporalClassification(logits: logits, labels: repeated, reduction: .none).scalars == [.infinity])
        #expect(try Losses.connectionistTemporalClassification(logits: logits, labels: repeated, reduction: .none, zeroInfinity: true).scalars == [0])
    }

    @Test("the training loop's CTC loss reads label lengths from the blank padding")
    func loopLoss() throws {
        let logits = try sample([2, 5, 3], seed: 5)
        let padded = try Tensor(integers: [1, 2, 2, 0], shape: [2, 2], on: backend)
        let explicit = try Losses.connectionistTemporalClassification(logits: logits, labels: padded, labelLengths: [2, 1])
        #expect(try Loss.connectionistTemporalClassification()(padded, logits).scalars == explicit.scalars)
    }

    @Test("the CTC gradient matches finite differences")
    func gradient() throws {
        let labels = try Tensor(integers: [1, 2, 2, 0], shape: [2, 2], on: backend)
        try checkGradients([try sample([2, 4, 3], seed: 3)]) { x in
            try Losses.connectionistTemporalClassification(logits: x[0], labels: labels, inputLengths: [4, 3], labelLengths: [2, 1])
        }
    }

    @Test("labels out of range, the blank as a label and lengths beyond the data are refused")
    func badInput() throws {
        let logits = try sample([1, 3, 3], seed: 4)
        let cases: [(() throws -> Void, String)] = [
            ({ _ = try Losses.connectionistTemporalClassification(logits: logits, labels: Tensor(integers: [3], shape: [1, 1], on: backend)) }, "label 3"),
            ({ _ = try Losses.connectionistTemporalClassification(logits: logits, labels: Tensor(integers: [0], shape: [1, 1], on: backend)) }, "other than the blank 0"),
            ({ _ = try Losses.connectionistTemporalClassification(logits: logits, labels: Tensor(integers: [1], shape: [1, 1], on: backend), inputLengths: [4]) }, "input lengths in 1...3"),
            ({ _ = try Losses.connectionistTemporalClassification(logits: logits, labels: Tensor(integers: [1], shape: [1, 1], on: backend), labelLengths: [2]) }, "label lengths in 0...1"),
        ]
        for (body, expected) in cases {
            let message = errorMessage(body)
            #expect(message?.contains(expected) == true, "\(message ?? "no error")")
        }
    }
}

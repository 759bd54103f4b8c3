import AxonCore
import Backend
import Foundation
import Testing

/// Every loss against values computed by hand from its formula.
@Suite("Losses")
struct LossTests {
    let oneHot: Tensor
    let probabilities: Tensor

    init() throws {
        oneHot = try tensor([0, 1, 1, 0], [2, 2])
        probabilities = try tensor([0.25, 0.75, 0.5, 0.5], [2, 2])
    }

    @Test("categorical cross-entropy from probabilities, with each reduction")
    func categoricalCrossEntropy() throws {
        // −ln 0.75 = 0.287682, −ln 0.5 = 0.693147
        try expectClose(Losses.categoricalCrossEntropy(oneHot, probabilities, reduction: .none), [0.287682, 0.693147], shape: [2])
        try expectClose(Losses.categoricalCrossEntropy(oneHot, probabilities), [0.490415], shape: [])
        try expectClose(Losses.categoricalCrossEntropy(oneHot, probabilities, reduction: .sum), [0.980829])
    }

    @Test("categorical cross-entropy from logits with sparse labels, and label smoothing")
    func crossEntropyVariants() throws {
        let logits = try tensor([0, Float(Foundation.log(3.0))], [1, 2])
        let label = try Tensor(integers: [1], shape: [1], on: backend)
        try expectClose(Losses.categoricalCrossEntropy(label, logits, fromLogits: true, sparse: true), [0.287682])
        // Smoothed targets [0.05, 0.95]: −(0.05·ln 0.25 + 0.95·ln 0.75)
        let row = try tensor([0, 1], [1, 2]), p = try tensor([0.25, 0.75], [1, 2])
        try expectClose(Losses.categoricalCrossEntropy(row, p, labelSmoothing: 0.1), [0.342613])
        try expectClose(Losses.categoricalCrossEntropy(row, logits, fromLogits: true, labelSmoothing: 0.1), [0.342613])
    }

    @Test("log(0) is guarded: perfect and all-wrong predictions stay finite")
    func clamping() throws {
        let target = try tensor([0, 1], [1, 2])
        try expectClose(Losses.categoricalCrossEntropy(target, try tensor([0, 1], [1, 2])), [1.0e-7], atol: 2e-7)
        try expectClose(Losses.categoricalCrossEntropy(target, try tensor([1, 0], [1, 2])), [16.118095], rtol: 1e-5)
        try expectClose(Losses.binaryCrossEntropy(try tensor([1], [1, 1]), try tensor([0], [1, 1])), [16.118095], rtol: 1e-5)
        try expectClose(Losses.binaryCrossEntropy(try tensor([1], [1, 1]), try tensor([1000], [1, 1]), fromLogits: true), [0])
    }

    @Test("binary cross-entropy from probabilities and from logits")
    func binaryCrossEntropy() throws {
        let y = try tensor([1, 0], [1, 2])
        try expectClose(Losses.binaryCrossEntropy(y, try tensor([0.8, 0.3], [1, 2])), [0.289909])
        // softplus(−2) = 0.126928, softplus(−1) = 0.313262
        try expectClose(Losses.binaryCrossEntropy(y, try tensor([2, -1], [1, 2]), fromLogits: true), [0.220095])
        // Smoothing 0.2 pulls targets to [0.9, 0.1]: −mean(0.9 ln 0.8 + 0.1 ln 0.2, 0.1 ln 0.3 + 0.9 ln 0.7)
        let smoothed = -((0.9 * Foundation.log(0.8) + 0.1 * Foundation.log(0.2)) + (0.1 * Foundation.log(0.3) + 0.9 * Foundation.log(0.7))) / 2
        try expectClose(Losses.binaryCrossEntropy(y, try tensor([0.8, 0.3], [1, 2]), labelSmoothing: 0.2), [Float(smoothed)])
    }

    @Test("regression losses")
    func regression() throws {
        let y = try tensor([1, 2], [1, 2]), p = try tensor([2, 4], [1, 2])
        try expectClose(Losses.meanSquaredError(y, p), [2.5])
        try expectClose(Losses.meanAbsoluteError(y, p), [1.5])
        let zero = try tensor([0, 0], [1, 2])
        try expectClose(Losses.logCosh(zero, try tensor([1, -2], [1, 2])), [0.879398])
        try expectClose(Losses.logCosh(zero, try tensor([100, 100], [1, 2])), [99.306853], rtol: 1e-6)
        try expectClose(Losses.huber(zero, try tensor([0.5, 3], [1, 2])), [1.3125])
        try expectClose(Losses.huber(zero, try tensor([0.5, 3], [1, 2]), delta: 2), [(0.125 + 2 * (3 - 1)) / 2])
        // mean(2 − ln 2, 4 − 2·ln 4)
        try expectClose(Losses.poisson(y, p), [1.267132], rtol: 1e-5)
    }

    @Test("margin losses")
    func margins() throws {
        let signs = try tensor([1, -1], [1, 2])
        try expectClose(Losses.hinge(signs, try tensor([0.3, 0.4], [1, 2])), [1.05])
        try expectClose(Losses.softMargin(signs, try tensor([0.5, 0.5], [1, 2])), [0.724077])
        try expectClose(Losses.categoricalHinge(try tensor([0, 1, 0], [1, 3]), try tensor([0.2, 0.5, 0.3], [1, 3])), [0.8])
        let ranking = try Losses.marginRanking(
            try tensor([1, -1], [2]), try tensor([0.5, 0.5], [2]), try tensor([0.2, 0.2], [2]), margin: 0.1)
        try expectClose(ranking, [0.2])
    }

    @Test("distribution losses")
    func distributions() throws {
        let half = try tensor([0.5, 0.5], [1, 2])
        try expectClose(Losses.klDivergence(half, try tensor([0.25, 0.75], [1, 2])), [0.143841])
        try expectClose(Losses.klDivergence(half, half), [0])
        let cosine = try Losses.cosineSimilarity(try tensor([1, 0, 1, 0], [2, 2]), try tensor([2, 0, 0, 3], [2, 2]), reduction: .none)
        try expectClose(cosine, [-1, 0], atol: 1e-6)
    }

    @Test("losses reject mismatched shapes and unknown names")
    func errors() throws {
        let message = errorMessage { _ = try Losses.meanSquaredError(try tensor([1], [1, 1]), try tensor([1, 2], [1, 2])) }
        #expect(message == "meanSquaredError: targets [1, 1] and predictions [1, 2] must have one shape")
        #expect(try Loss.named("huber").name == "huber")
        #expect(errorMessage { _ = try Loss.named("nope") }?.hasPrefix("Loss.named: unknown loss 'nope'") == true)
    }

    @Test("loss gradients by finite differences")
    func gradients() throws {
        let target = try tensor([0.2, 0.8, 0.6, 0.4], [2, 2])
        let labels = try Tensor(integers: [1, 0], shape: [2], on: backend)
        let raw = try sample([2, 2], seed: 3)
        try checkGradients([raw]) { xs in try Losses.categoricalCrossEntropy(labels, xs[0], fromLogits: true, sparse: true) }
        try checkGradients([try sample([2, 2], seed: 4, low: 0.1, high: 0.9)]) { xs in try Losses.binaryCrossEntropy(target, xs[0]) }
        try checkGradients([raw]) { xs in try Losses.binaryCrossEntropy(target, xs[0], fromLogits: true) }
        try checkGradients([raw]) { xs in try Losses.logCosh(target, xs[0]) }
        try checkGradients([raw]) { xs in try Losses.huber(target, xs[0] * 2, delta: 0.7) }
        try checkGradients([raw]) { xs in try Losses.cosineSimilarity(target, xs[0]) }
    }
}

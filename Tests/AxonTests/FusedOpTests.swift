import AxonCore
import Backend
import Foundation
import Testing

@Suite("Fused ops: values")
struct FusedOpTests {
    @Test("dense adds bias and applies the activation")
    func dense() throws {
        let x = try tensor([1, 2, -1, -2], [2, 2])
        let w = try tensor([1, 2, 3, 4], [2, 2])
        let b = try tensor([1, 1], [2])
        // [1, 2]·W = [7, 10]; [-1, -2]·W = [-7, -10]
        try expectClose(x.dense(weight: w, bias: b), [8, 11, -6, -9])
        try expectClose(x.dense(weight: w, bias: b, activation: .relu), [8, 11, 0, 0])
        try expectClose(x.dense(weight: w, activation: .tanh), [Foundation.tanh(7), Foundation.tanh(10), -Foundation.tanh(7), -Foundation.tanh(10)])
        try expectClose(tensor([1, 2], [2]).dense(weight: w), [7, 10], shape: [2])
        let message = errorMessage { _ = try tensor([1, 2, 3], [1, 3]).dense(weight: w) }
        #expect(message == "dense: shape mismatch: input [1, 3] needs its last dimension to equal the weight's first, weight is [2, 2]")
    }

    @Test("softmax and log-softmax are stable for large logits")
    func softmax() throws {
        let logits = try tensor([0, Float(Foundation.log(2.0)), 1000, 1000], [2, 2])
        try expectClose(logits.softmax(), [1.0 / 3, 2.0 / 3, 0.5, 0.5])
        try expectClose(logits.logSoftmax(), [Float(Foundation.log(1.0 / 3)), Float(Foundation.log(2.0 / 3)), -0.6931472, -0.6931472])
        try expectClose(tensor([1, 2, 3, 4], [2, 2]).softmax(axis: 0), [0.11920292, 0.11920292, 0.880797, 0.880797])
    }

    @Test("softmax cross-entropy equals −log of the true class probability")
    func crossEntropy() throws {
        let logits = try tensor([0, Float(Foundation.log(3.0)), 2, 2], [2, 2])
        let labels = try tensor([0, 1, 1, 0], [2, 2])
        // Row 0: p = [1/4, 3/4] → −log(3/4); row 1: p = [1/2, 1/2] → log 2.
        try expectClose(logits.softmaxCrossEntropy(labels: labels), [0.28768207, 0.6931472], shape: [2])
        let gradient = try backend.softmaxCrossEntropyBackward(
            logits: logits.buffer, labels: labels.buffer, gradLoss: try tensor([1, 2], [2]).buffer, axis: -1)
        expectClose(try backend.download(gradient).elements.floats, [0.25, -0.25, -1, 1])
    }

    @Test("normalisation over the batch axis (batch norm) and the feature axis (layer norm)")
    func normalize() throws {
        let x = try tensor([1, 2, 3, 4], [4, 1])
        let one = try tensor([1], [1, 1]), zero = try tensor([0], [1, 1])
        let batch = try x.normalized(scale: one, offset: zero, axes: [0], epsilon: 0)
        // mean 2.5, variance 1.25
        let s = Float(1 / 1.25.squareRoot())
        try expectClose(batch.output, [-1.5 * s, -0.5 * s, 0.5 * s, 1.5 * s])
        try expectClose(batch.mean, [2.5], shape: [1, 1])
        try expectClose(batch.variance, [1.25])
        let rows = try tensor([1, 3, 10, 20], [2, 2])
        let scale = try tensor([2, 1], [1, 2]), offset = try tensor([0, 5], [1, 2])
        let layer = try rows.normalized(scale: scale, offset: offset, axes: [1], epsilon: 0)
        try expectClose(layer.output, [-2, 6, -2, 6], atol: 1e-5)
    }

    @Test("dropout keeps exactly the elements whose Philox bits fall under the threshold")
    func dropout() throws {
        let key = Philox.Key(seed: 5)
        let x = try tensor((1...8).map(Float.init), [2, 4])
        let y = try x.dropout(rate: 0.25, key: key, offset: 3)
        let bits = Philox.bits(key: key, offset: 3, count: 8)
        let threshold = UInt64(0.75 * 4_294_967_296.0)
        let expected = (0..<8).map { UInt64(bits[$0]) < threshold ? Float($0 + 1) / 0.75 : 0 }
        try expectClose(y, expected)
        try expectClose(x.dropout(rate: 0, key: key), (1...8).map(Float.init))
        // A noise shape of [2, 1] drops whole rows.
        let rows = try x.dropout(rate: 0.5, key: key, noiseShape: [2, 1]).scalars
        for row in 0..<2 {
            let kept = rows[(row * 4)..<(row * 4 + 4)].map { $0 != 0 }
            #expect(Set(kept).count == 1)
        }
        #expect(throws: BackendError.self) { try x.dropout(rate: 1, key: key) }
    }

    @Test("Adam step by hand: the first step moves each weight by lr·sign(g)")
    func adam() throws {
        let p = try tensor([1, 1], [2]), g = try tensor([0.5, -2], [2]), zero = try tensor([0, 0], [2])
        let step = AdamStep(learningRate: 0.1, step: 1)
        let r = try backend.adamUpdate(
            parameter: p.buffer, gradient: g.buffer, firstMoment: zero.buffer, secondMoment: zero.buffer, step: step)
        // m = 0.1·g, v = 0.001·g²; bias correction gives m̂ = g, v̂ = g², so Δ = −lr·g/(|g| + ε).
        expectClose(try backend.download(r.parameter).elements.floats, [0.9, 1.1], atol: 1e-6)
        expectClose(try backend.download(r.firstMoment).elements.floats, [0.05, -0.2])
        expectClose(try backend.download(r.secondMoment).elements.floats, [0.00025, 0.004])
        var decayed = step
        decayed.weightDecay = 0.5
        let w = try backend.adamUpdate(
            parameter: p.buffer, gradient: g.buffer, firstMoment: zero.buffer, secondMoment: zero.buffer, step: decayed)
        // AdamW adds lr·λ·p = 0.05 to each step.
        expectClose(try backend.download(w.parameter).elements.floats, [0.85, 1.05], atol: 1e-6)
    }

    @Test("SGD momentum by hand over two steps, heavy-ball and Nesterov")
    func momentum() throws {
        let g = try tensor([1, 2], [2]), zero = try tensor([0, 0], [2])
        let step = MomentumStep(learningRate: 0.1, momentum: 0.9)
        let first = try backend.momentumUpdate(parameter: zero.buffer, gradient: g.buffer, velocity: zero.buffer, step: step)
        let second = try backend.momentumUpdate(parameter: first.parameter, gradient: g.buffer, velocity: first.velocity, step: step)
        // v₁ = g, v₂ = g + 0.9·g = 1.9·g; p₂ = −0.1·(g + 1.9·g) = −0.29·g
        expectClose(try backend.download(second.velocity).elements.floats, [1.9, 3.8])
        expectClose(try backend.download(second.parameter).elements.floats, [-0.29, -0.58])
        let nesterov = MomentumStep(learningRate: 0.1, momentum: 0.9, nesterov: true)
        let n1 = try backend.momentumUpdate(parameter: zero.buffer, gradient: g.buffer, velocity: zero.buffer, step: nesterov)
        // v₁ = g; the step uses g + 0.9·v₁ = 1.9·g
        expectClose(try backend.download(n1.parameter).elements.floats, [-0.19, -0.38])
    }
}

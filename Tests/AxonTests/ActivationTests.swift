import AxonCore
import Backend
import Foundation
import Testing

@Suite("Activations")
struct ActivationTests {
    // Points away from every kink (0, ±1, ±3, 6) so finite differences are valid.
    let points: [Float] = [-2.7, -1.3, -0.4, 0.3, 0.9, 2.2, 6.5]

    /// Each activation written independently in double precision from its published formula.
    func reference(_ activation: Activation, _ x: Double) -> Double {
        let softplus = { (v: Double) in Foundation.log(1 + Foundation.exp(v)) }
        let sigmoid = { (v: Double) in 1 / (1 + Foundation.exp(-v)) }
        switch activation {
        case .celu: return Swift.max(0, x) + Swift.min(0, Foundation.exp(x) - 1)
        case .elu: return x > 0 ? x : Foundation.exp(x) - 1
        case .exp: return Foundation.exp(x)
        case .gelu: return 0.5 * x * (1 + Foundation.erf(x / 2.0.squareRoot()))
        case .hardTanh: return Swift.min(Swift.max(x, -1), 1)
        case .hardSigmoid: return Swift.min(Swift.max(x + 3, 0), 6) / 6
        case .hardSilu: return x * Swift.min(Swift.max(x + 3, 0), 6) / 6
        case .leakyRelu: return x > 0 ? x : 0.01 * x
        case .linear: return x
        case .logSigmoid: return Foundation.log(sigmoid(x))
        case .mish: return x * Foundation.tanh(softplus(x))
        case .relu: return Swift.max(x, 0)
        case .relu6: return Swift.min(Swift.max(x, 0), 6)
        case .selu: return 1.0507009873554805 * (x > 0 ? x : 1.6732632423543772 * (Foundation.exp(x) - 1))
        case .sigmoid: return sigmoid(x)
        case .silu: return x * sigmoid(x)
        case .softplus: return softplus(x)
        case .softsign: return x / (1 + Swift.abs(x))
        case .tanh: return Foundation.tanh(x)
        case .softmax, .logSoftmax, .logSumExp: return .nan  // checked over a whole row below
        }
    }

    @Test("elementwise activations match their formulas", arguments: Activation.all.filter {
        if case .softmax = $0 { return false }
        if case .logSoftmax = $0 { return false }
        if case .logSumExp = $0 { return false }
        return true
    })
    func elementwise(_ activation: Activation) throws {
        let y = try activation.apply(tensor(points, [points.count]))
        expectClose(try y.scalars, points.map { Float(reference(activation, Double($0))) }, atol: 2e-6, rtol: 2e-5)
    }

    @Test("row-wise activations: softmax, log-softmax, log-sum-exp")
    func rowWise() throws {
        let x = try tensor(points, [1, points.count])
        let total = points.reduce(0.0) { $0 + Foundation.exp(Double($1)) }
        try expectClose(Activation.softmax().apply(x), points.map { Float(Foundation.exp(Double($0)) / total) }, atol: 1e-6)
        try expectClose(Activation.logSoftmax().apply(x), points.map { Float(Double($0) - Foundation.log(total)) }, atol: 1e-5)
        try expectClose(Activation.logSumExp().apply(x), [Float(Foundation.log(total))], shape: [1, 1], atol: 1e-5)
    }

    @Test("options change the result")
    func options() throws {
        let x = try tensor([-2, 2], [2])
        try expectClose(Activation.leakyRelu(alpha: 0.2).apply(x), [-0.4, 2])
        try expectClose(Activation.elu(alpha: 2).apply(x), [Float(2 * (Foundation.exp(-2.0) - 1)), 2])
        try expectClose(Activation.celu(alpha: 2).apply(x), [Float(2 * (Foundation.exp(-1.0) - 1)), 2])
        let approximate = try Activation.gelu(approximate: true).apply(x).scalars
        let exact = try Activation.gelu().apply(x).scalars
        expectClose(approximate, exact, atol: 1e-3)
        #expect(approximate != exact)
        try expectClose(Activation.softmax(axis: 0).apply(tensor([0, 0, 0, 0], [2, 2])), [0.5, 0.5, 0.5, 0.5])
        #expect(Activation.hardSwish == .hardSilu)
    }

    @Test("there are 22 activations, each usable as a layer and as a dense activation")
    func asLayers() throws {
        #expect(Activation.all.count == 22)
        for activation in Activation.all {
            let model = Axon.input("x", shape: [nil, 3]).dense(3, activation: activation).activation(activation)
            let built = try model.build(on: backend)
            #expect(built.layerNames == ["x", "dense_0", "\(activation.name)_0"])
            #expect(try built.predict(try built.initialize(seed: 0), inputs: ["x": try sample([2, 3], seed: 1)]).output().rank == 2)
        }
    }

    @Test("gradients by finite differences", arguments: Activation.all)
    func gradients(_ activation: Activation) throws {
        try checkGradients([try tensor(points, [1, points.count])], epsilon: 1e-2, atol: 3e-3) { xs in try activation.apply(xs[0]) }
    }
}

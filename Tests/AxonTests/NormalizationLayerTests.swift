import AxonCore
import Backend
import Foundation
import Testing

/// Group, instance and multi-axis layer normalisation against values derived by hand:
/// `(x − mean) / √(var + ε)` over the group, with the biased variance.
@Suite("Normalisation: group, instance, layer over trailing axes")
struct NormalizationLayerTests {
    func run(_ model: Axon, _ values: [Float], _ shape: Shape) throws -> [Float] {
        let built = try model.build(on: backend)
        return try built.predict(built.initialize(seed: 0), inputs: ["x": tensor(values, shape)]).output().scalars
    }

    /// (x − m) / √(v + 1e-5) for one group.
    func standardized(_ values: [Double]) -> [Float] {
        let mean = values.reduce(0, +) / Double(values.count)
        let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count)
        return values.map { Float(($0 - mean) / (variance + 1e-5).squareRoot()) }
    }

    @Test("group norm normalises each group of channels: {1, 3} and {10, 14}")
    func groupNorm() throws {
        let x = Axon.input("x", shape: [nil, 1, 4])
        let output = try run(x.groupNorm(groups: 2), [1, 3, 10, 14], [1, 1, 4])
        expectClose(output, standardized([1, 3]) + standardized([10, 14]), atol: 1e-5, rtol: 1e-5)
    }

    @Test("instance norm normalises each channel over the spatial positions")
    func instanceNorm() throws {
        // Two positions, two channels: channel 0 holds {1, 3}, channel 1 holds {10, 14}.
        let x = Axon.input("x", shape: [nil, 2, 2])
        let output = try run(x.instanceNorm(), [1, 10, 3, 14], [1, 2, 2])
        let (first, second) = (standardized([1, 3]), standardized([10, 14]))
        expectClose(output, [first[0], second[0], first[1], second[1]], atol: 1e-5, rtol: 1e-5)
    }

    @Test("layer norm over two trailing axes normalises the whole example; without affine it has no parameters")
    func layerNormTrailingAxes() throws {
        let x = Axon.input("x", shape: [nil, 2, 2])
        let model = x.layerNorm(axisCount: 2, center: false, scale: false)
        expectClose(try run(model, [1, 2, 3, 4], [1, 2, 2]), standardized([1, 2, 3, 4]), atol: 1e-5, rtol: 1e-5)
        #expect(try model.build(on: backend).initialize(seed: 0).parameters.names.isEmpty)
    }

    @Test("moments and the moving average are the textbook formulas")
    func statisticsHelpers() throws {
        let (mean, variance) = try Layers.moments(tensor([1, 2, 3, 6], [2, 2]), axes: [1])
        #expect(try mean.scalars == [1.5, 4.5])
        #expect(try variance.scalars == [0.25, 2.25])
        #expect(try Layers.exponentialMovingAverage(tensor([1], [1]), tensor([3], [1]), momentum: 0.75).scalars == [1.5])
    }

    @Test("gradients of group and instance norm match finite differences")
    func gradients() throws {
        let x = try tensor((0..<24).map { Float(($0 * 5) % 7) - 3 }, [1, 2, 3, 4])
        for model in [
            Axon.input("x", shape: [nil, 2, 3, 4]).groupNorm(groups: 2),
            Axon.input("x", shape: [nil, 2, 3, 4]).instanceNorm(channels: .first),
            Axon.input("x", shape: [nil, 2, 3, 4]).layerNorm(axisCount: 3),
        ] {
            let built = try model.build(on: backend)
            let state = try built.initialize(seed: 0)
            try checkGradients([x], atol: 3e-3) { xs in try built.predict(state, inputs: ["x": xs[0]]).output() }
        }
    }
}

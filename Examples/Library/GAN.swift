import AxonCore
import Foundation

/// How close generated points are to the data: a mixture of eight Gaussians (σ = 0.05) on a
/// circle of radius 2.
public struct MixtureStatistics: Sendable, CustomStringConvertible {
    /// The mean distance from a point to its nearest mode.
    public let meanDistanceToNearestMode: Float
    /// Modes that at least 2% of the points lie within 0.25 of.
    public let modesCovered: Int
    /// The mean distance from the origin (the data's is 2).
    public let meanRadius: Float

    public var description: String {
        String(format: "mean distance to the nearest mode %.3f, modes covered %d of 8, mean radius %.3f",
               meanDistanceToNearestMode, modesCovered, meanRadius)
    }
}

extension Examples {
    /// The modes of the mixture: eight points on a circle of radius 2.
    static let mixtureModes: [(x: Float, y: Float)] = (0..<8).map { k in
        let angle = 2 * Float.pi * Float(k) / 8
        return (2 * Foundation.cos(angle), 2 * Foundation.sin(angle))
    }

    /// A generative adversarial network on the mixture, Axon's composition example: the
    /// discriminator is a shared block applied to real and to generated points; for the
    /// generator's step the generator and the discriminator form one graph with the
    /// discriminator frozen; one custom loop alternates the two steps with two Adam optimizers.
    /// Returns the generated points' statistics before and after training.
    public static func gan(steps: Int = 3_000, batchSize: Int = 128, on backend: any Backend) throws -> (before: MixtureStatistics, after: MixtureStatistics) {
        let generator = Axon.input("noise", shape: [nil, 2])
            .dense(64, activation: .relu).dense(64, activation: .relu).dense(2)
            .namespace("generator")
        let discriminator = Axon.block("discriminator") { $0.dense(64, activation: .relu).dense(64, activation: .relu).dense(1) }
        // The discriminator's step: real and generated points through one set of weights.
        let judge = try Axon.container([
            "real": discriminator(Axon.input("real", shape: [nil, 2])), "fake": discriminator(Axon.input("fake", shape: [nil, 2])),
        ]).build(on: backend, mode: .train)
        // The generator's step: both networks as one graph, the discriminator frozen.
        let adversary = try discriminator(generator).freeze { $0.name.hasPrefix("discriminator") }.build(on: backend, mode: .train)
        let sampler = try generator.build(on: backend)
        let (discriminatorOptimizer, generatorOptimizer) = (try Optimizer.adam(learningRate: 1e-3, beta1: 0.5), try Optimizer.adam(learningRate: 1e-3, beta1: 0.5))
        let isDiscriminator: @Sendable (String) -> Bool = { $0.hasPrefix("discriminator/") }

        let loop = Loop(initialize: {
            let variables = try adversary.initialize(seed: 0)
            var optimizer = OptimizerState()
            optimizer.merge(try discriminatorOptimizer.initialize(variables.parameters.selecting(where: isDiscriminator)), prefix: "discriminator")
            optimizer.merge(try generatorOptimizer.initialize(adversary.trainableParameters(variables)), prefix: "generator")
            return StepState(model: variables, optimizer: optimizer)
        }, step: { state, batch, _ in
            guard let real = batch.inputs["real"], let noise = batch.inputs["noise"] else {
                throw AxonError.invalidValue(operation: "gan", reason: "a batch needs real points and noise")
            }
            var parameters = state.model.parameters
            let fake = try sampler.predict(state.model, inputs: ["noise": noise]).output().detached()
            // Discriminator: real points are 1, generated ones 0.
            let (_, judged) = try valueAndGradient(at: parameters.selecting(where: isDiscriminator)) { trial in
                let output = try judge.predict(ModelState(parameters: parameters.merging(trial)), inputs: ["real": real, "fake": fake])
                let (realLogits, fakeLogits) = (try output.output("real"), try output.output("fake"))
                let realLoss = try Losses.binaryCrossEntropy(Tensor.ones(shape: realLogits.shape, on: backend), realLogits, fromLogits: true)
                return try realLoss + Losses.binaryCrossEntropy(Tensor.zeros(shape: fakeLogits.shape, on: backend), fakeLogits, fromLogits: true)
            }
            let (judgeNext, judgeState) = try discriminatorOptimizer.step(
                parameters: parameters.selecting(where: isDiscriminator), gradients: judged, state: state.optimizer.part("discriminator"))
            parameters = parameters.merging(judgeNext)
            // Generator: make the (frozen) discriminator call its points real.
            let (generatorLoss, guided) = try valueAndGradient(at: adversary.trainableParameters(ModelState(parameters: parameters))) { trial in
                let logits = try adversary.predict(ModelState(parameters: parameters.merging(trial)), inputs: ["noise": noise]).output()
                return try Losses.binaryCrossEntropy(Tensor.ones(shape: logits.shape, on: backend), logits, fromLogits: true)
            }
            let (generatorNext, generatorState) = try generatorOptimizer.step(
                parameters: adversary.trainableParameters(ModelState(parameters: parameters)), gradients: guided,
                state: state.optimizer.part("generator"))
            state.model = ModelState(parameters: parameters.merging(generatorNext))
            state.optimizer.merge(judgeState, prefix: "discriminator")
            state.optimizer.merge(generatorState, prefix: "generator")
            return StepOutput(loss: generatorLoss, predictions: fake, targets: real)
        })
        let probe = try Tensor(standardNormal(count: 1_000, seed: 99), shape: [1_000, 2], on: backend)
        func statistics(_ variables: ModelState) throws -> MixtureStatistics {
            mixtureStatistics(try sampler.predict(variables, inputs: ["noise": probe]).output().scalars)
        }
        let before = try statistics(adversary.initialize(seed: 0))
        let final = try loop.run(MixtureBatches(batchSize: batchSize, count: steps, backend: backend), epochs: 1)
        let after = try statistics(final.stepState.model)
        print("generated points before training: \(before)")
        print("generated points after \(steps) steps: \(after)")
        return (before, after)
    }

    /// `count` points `[x, y]` from the mixture, drawn from Philox bits of `seed`.
    static func mixture(count: Int, seed: UInt64) -> [Float] {
        let bits = Philox.bits(key: Philox.Key(seed: seed).folded(with: "modes"), offset: 0, count: count)
        let offsets = standardNormal(count: count, seed: seed)
        return (0..<count).flatMap { i -> [Float] in
            let mode = mixtureModes[Int(bits[i] % 8)]
            return [mode.x + 0.05 * offsets[2 * i], mode.y + 0.05 * offsets[2 * i + 1]]
        }
    }

    /// `2 · count` standard normal values by Box–Muller from Philox bits of `seed`.
    static func standardNormal(count: Int, seed: UInt64) -> [Float] {
        let bits = Philox.bits(key: Philox.Key(seed: seed), offset: 0, count: 2 * count)
        return (0..<count).flatMap { i -> [Float] in
            let u1 = Swift.max(Philox.unitFloat(bits[2 * i]), .leastNormalMagnitude), u2 = Philox.unitFloat(bits[2 * i + 1])
            let radius = (-2 * Foundation.log(u1)).squareRoot()
            return [radius * Foundation.cos(2 * .pi * u2), radius * Foundation.sin(2 * .pi * u2)]
        }
    }

    static func mixtureStatistics(_ points: [Float]) -> MixtureStatistics {
        let count = points.count / 2
        var distance: Float = 0, radius: Float = 0
        var near = Array(repeating: 0, count: mixtureModes.count)
        for i in 0..<count {
            let (x, y) = (points[2 * i], points[2 * i + 1])
            let distances = mixtureModes.map { ((x - $0.x) * (x - $0.x) + (y - $0.y) * (y - $0.y)).squareRoot() }
            let nearest = distances.enumerated().min { $0.element < $1.element }
            distance += nearest?.element ?? 0
            if let nearest, nearest.element < 0.25 { near[nearest.offset] += 1 }
            radius += (x * x + y * y).squareRoot()
        }
        let covered = near.filter { Float($0) >= 0.02 * Float(count) }.count
        return MixtureStatistics(meanDistanceToNearestMode: distance / Float(count), modesCovered: covered, meanRadius: radius / Float(count))
    }
}

/// Batches of real points and generator noise, drawn per step so that any step can be replayed.
struct MixtureBatches: BatchSource {
    let batchSize: Int
    let count: Int
    let backend: any Backend

    var batchCount: Int { count }

    func batch(_ index: Int, epoch: Int) throws -> Batch {
        let seed = UInt64(epoch * count + index)
        let real = try Tensor(Examples.mixture(count: batchSize, seed: 2 * seed), shape: [batchSize, 2], on: backend)
        let noise = try Tensor(Examples.standardNormal(count: batchSize, seed: 2 * seed + 1), shape: [batchSize, 2], on: backend)
        return Batch(inputs: ["real": real, "noise": noise], targets: real)
    }
}

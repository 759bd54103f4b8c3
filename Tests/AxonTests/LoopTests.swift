import AxonCore
import Backend
import Foundation
import Testing

@Suite("Training loop")
struct LoopTests {
    /// A small regression problem: y = (x·[1, −2] + 0.5)·`scale` with 24 examples.
    func regression(scale: Float = 1) throws -> Dataset {
        let x: [Float] = (0..<48).map { (i: Int) -> Float in Float((i * 37) % 17) / 17 - 0.5 }
        let y: [Float] = (0..<24).map { (i: Int) -> Float in
            let (a, b): (Float, Float) = (x[2 * i], x[2 * i + 1])
            return (a - 2 * b + 0.5) * scale
        }
        return try Dataset(
            features: HostArray(shape: [24, 2], elements: .float32(x)), labels: HostArray(shape: [24, 1], elements: .float32(y)))
    }

    var model: Axon { Axon.input("features", shape: [nil, 2]).dense(8, activation: .tanh).dropout(rate: 0.1).dense(1) }

    func trainer(seed: UInt64 = 1, lossScaling: LossScaling = .none) throws -> Loop {
        try Loop.trainer(
            model: model, loss: .meanSquaredError, optimizer: .adam(learningRate: 0.01), on: backend, seed: seed, lossScaling: lossScaling)
    }

    /// Every parameter's values after `loop` trains 3 epochs on the regression problem.
    func trainedValues(_ loop: Loop) throws -> [String: [Float]] {
        let final = try loop.run(try regression().batches(size: 4, on: backend), epochs: 3)
        return try Dictionary(uniqueKeysWithValues: final.stepState.model.parameters.map { ($0.name, try $0.tensor.scalars) })
    }

    @Test("a power-of-two loss scale, fixed or dynamic, trains to the same bits as no scaling; the reported loss is unscaled")
    func powerOfTwoLossScaleIsExact() throws {
        let plain = try trainedValues(trainer())
        #expect(try trainedValues(trainer(lossScaling: .fixed(1024))) == plain)
        #expect(try trainedValues(trainer(lossScaling: .dynamic(initial: 8, growthInterval: 4))) == plain)
        let losses = try [LossScaling.none, .fixed(4096)].map { scaling in
            try trainer(lossScaling: scaling).run(try regression().batches(size: 4, on: backend), epochs: 1).history.last?["loss"]
        }
        #expect(losses[0] != nil && losses[0] == losses[1])
    }

    @Test("a dynamic scale skips a step whose gradients overflow and halves; finite runs grow it")
    func dynamicLossScale() throws {
        // 2^127 times a loss of about 10^7 (targets scaled by 10^4) overflows float32: the first
        // step is skipped and the scale halves.
        let huge = Float(sign: .plus, exponent: 127, significand: 1)
        let overflowing = try trainer(lossScaling: .dynamic(initial: huge, growthInterval: 100))
        let initial = try model.build(on: backend, mode: .train).initialize(seed: 1)
        let first = try overflowing.run(try regression(scale: 10_000).batches(size: 4, on: backend), epochs: 1, iterations: 1)
        #expect(first.stepLoss.map { $0 > 1e6 && $0.isFinite } == true, "the unscaled loss is reported: \(String(describing: first.stepLoss))")
        for (name, tensor) in first.stepState.model.parameters {
            #expect(try tensor.scalars == initial.parameters.tensor(name).scalars, "\(name) changed on a skipped step")
        }
        #expect(first.stepState.optimizer.hyperparameters[LossScaling.scaleKey] == huge / 2)
        // Growth: 3 finite steps with an interval of 3 double the scale once, and the run restarts.
        let growing = try trainer(lossScaling: .dynamic(initial: 8, growthInterval: 3))
        let grown = try growing.run(try regression().batches(size: 4, on: backend), epochs: 1, iterations: 3)
        #expect(grown.stepState.optimizer.hyperparameters[LossScaling.scaleKey] == 16)
        #expect(grown.stepState.optimizer.counts[LossScaling.finiteStepsKey] == 0)
        let error = try #require(throws: AxonError.self) { try trainer(lossScaling: .fixed(0)) }
        #expect("\(error)".contains("loss scaling") && "\(error)".contains("finite and positive"), "\(error)")
    }

    @Test("events fire in the documented order and counts")
    func eventOrder() throws {
        var events: [String] = []
        let loop = try trainer()
        for event in LoopEvent.allCases {
            loop.handle(event) { state in
                events.append(event == .iterationCompleted ? "it\(state.epoch).\(state.iteration)" : event.rawValue)
                return .proceed
            }
        }
        let final = try loop.run(try regression().batches(size: 10, on: backend), epochs: 2)
        #expect(events == [
            "started",
            "epochStarted", "iterationStarted", "it0.0", "iterationStarted", "it0.1", "iterationStarted", "it0.2", "epochCompleted",
            "epochStarted", "iterationStarted", "it1.0", "iterationStarted", "it1.1", "iterationStarted", "it1.2", "epochCompleted",
            "completed",
        ])
        #expect(final.step == 6)
        #expect(final.history.count == 2)
    }

    @Test("filters: every n, first, once; iteration limit")
    func filters() throws {
        var every2 = 0, first = 0, third: [Int] = []
        let loop = try trainer()
            .handle(.iterationCompleted, filter: .every(2)) { _ in every2 += 1; return .proceed }
            .handle(.iterationCompleted, filter: .first) { _ in first += 1; return .proceed }
            .handle(.iterationCompleted, filter: .once(3)) { state in third.append(state.step); return .proceed }
        let final = try loop.run(try regression().batches(size: 4, on: backend), epochs: 3, iterations: 2)
        #expect(final.step == 6)
        #expect(every2 == 3 && first == 1 && third == [3])
    }

    @Test("filters: before n, after n, and a predicate on the state")
    func filterPredicates() throws {
        var before: [Int] = [], after: [Int] = [], secondEpoch: [Int] = []
        let loop = try trainer()
            .handle(.iterationCompleted, filter: .before(3)) { state in before.append(state.step); return .proceed }
            .handle(.iterationCompleted, filter: .after(4)) { state in after.append(state.step); return .proceed }
            .handle(.iterationCompleted, filter: .when { state, occurrence in state.epoch == 1 && occurrence % 2 == 0 }) { state in
                secondEpoch.append(state.step)
                return .proceed
            }
        _ = try loop.run(try regression().batches(size: 4, on: backend), epochs: 3, iterations: 2)
        #expect(before == [1, 2] && after == [5, 6] && secondEpoch == [4])
    }

    @Test("halting an epoch and halting the loop")
    func halting() throws {
        var events: [LoopEvent] = []
        let loop = try trainer()
            .handle(.iterationCompleted) { state in state.iteration == 1 ? .haltEpoch : .proceed }
            .handle(.epochHalted) { _ in events.append(.epochHalted); return .proceed }
            .handle(.epochCompleted) { _ in events.append(.epochCompleted); return .proceed }
        let final = try loop.run(try regression().batches(size: 4, on: backend), epochs: 2)
        #expect(events == [.epochHalted, .epochHalted])
        #expect(final.step == 4)
        var halted = 0
        let stopping = try trainer()
            .handle(.iterationCompleted) { state in state.step == 3 ? .haltLoop : .proceed }
            .handle(.halted) { _ in halted += 1; return .proceed }
        #expect(try stopping.run(try regression().batches(size: 4, on: backend), epochs: 5).step == 3)
        #expect(halted == 1)
    }

    @Test("training lowers the loss; validation and metrics are recorded each epoch")
    func trainingProgress() throws {
        let (train, heldOut) = try regression().split(at: 20)
        let loop = try trainer().metric(.meanAbsoluteError).validate(on: try heldOut.batches(size: 4, on: backend))
        let final = try loop.run(try train.batches(size: 5, shuffle: true, seed: 2, on: backend), epochs: 30)
        let losses = final.history.compactMap { $0["loss"] }
        #expect(losses.count == 30)
        #expect(losses.last! < losses.first! / 4)
        #expect(final.history.last?["validation_loss"] != nil)
        #expect(final.history.last?["validation_mean_absolute_error"] != nil)
        #expect(final.metrics["mean_absolute_error"] != nil)
    }

    @Test("early stopping stops once the monitored value stops improving")
    func earlyStopping() throws {
        var epoch = 0
        // A metric that improves twice, then gets worse.
        let values = [5.0, 4.0, 3.0, 3.5, 3.6, 3.7, 3.8, 3.9]
        let loop = try trainer()
            .handle(.epochCompleted) { state in
                state.metrics["score"] = values[epoch]
                epoch += 1
                return .proceed
            }
            .earlyStopping(monitor: "score", patience: 2)
        let final = try loop.run(try regression().batches(size: 12, on: backend), epochs: 8)
        #expect(epoch == 5)  // best at epoch 3, two epochs without improvement
        #expect(final.epoch == 4)
        let missing = try trainer().earlyStopping(monitor: "nothing")
        #expect(errorMessage { _ = try missing.run(try regression().batches(size: 12, on: backend), epochs: 1) }?
            .hasPrefix("monitor: no metric 'nothing'") == true)
    }

    @Test("reduce-on-plateau scales the learning rate")
    func reduceOnPlateau() throws {
        let loop = try trainer()
            .handle(.epochCompleted) { state in state.metrics["flat"] = 1; return .proceed }
            .reduceLROnPlateau(monitor: "flat", factor: 0.5, patience: 1)
        let final = try loop.run(try regression().batches(size: 12, on: backend), epochs: 4)
        // Epoch 1 sets the best; epochs 2, 3 and 4 each reach the patience of 1.
        #expect(final.stepState.optimizer.hyperparameters[OptimizerState.learningRateScale] == 0.125)
    }

    @Test("resuming from an epoch's checkpoint gives exactly the parameters of an uninterrupted run")
    func checkpointResume() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("axon-checkpoint-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let data = try regression().batches(size: 5, shuffle: true, seed: 9, on: backend)
        let run = try RunDirectory(directory)
        let uninterrupted = try trainer(seed: 4).checkpoint(in: run).run(data, epochs: 3)
        run.close()
        let saved = try Checkpoint.load(directory.appendingPathComponent("checkpoint_epoch_1.axon"), on: backend)
        #expect(saved.epoch == 1 && saved.iteration == 0 && saved.step == 5)
        let resumed = try trainer(seed: 4).run(data, epochs: 3, resumeFrom: saved)
        #expect(resumed.step == uninterrupted.step)
        for name in uninterrupted.stepState.model.parameters.names {
            let a = try uninterrupted.stepState.model.parameters.tensor(name).scalars.map(\.bitPattern)
            let b = try resumed.stepState.model.parameters.tensor(name).scalars.map(\.bitPattern)
            #expect(a == b, "\(name)")
        }
        #expect(resumed.history == uninterrupted.history)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".tmp") }
        #expect(leftovers.isEmpty)
    }

    @Test("a replaced train step can alternate two optimizers")
    func customStep() throws {
        let built = try model.build(on: backend, mode: .train)
        let first = try Optimizer.sgd(learningRate: 0.05), second = try Optimizer.adam(learningRate: 0.01)
        let firstLayer: Set<String> = ["dense_0.kernel", "dense_0.bias"]
        let loop = Loop(initialize: {
            let variables = try built.initialize(seed: 0)
            var optimizer = OptimizerState()
            optimizer.merge(try second.initialize(variables.parameters), prefix: "second")
            return StepState(model: variables, optimizer: optimizer)
        }, step: { state, batch, step in
            let model = state.model
            let (loss, gradients) = try valueAndGradient(at: model.parameters) { p in
                try Losses.meanSquaredError(batch.targets, built.predict(ModelState(parameters: p, state: model.state), inputs: batch.inputs).output())
            }
            // Even steps train the first layer with SGD, odd steps the rest with Adam.
            let selected = step % 2 == 0 ? firstLayer : Set(model.parameters.names).subtracting(firstLayer)
            var chosen = ParameterStore(), chosenGradients = ParameterStore()
            for name in selected {
                chosen[name] = try model.parameters.tensor(name)
                chosenGradients[name] = try gradients.tensor(name)
            }
            var parameters = model.parameters
            if step % 2 == 0 {
                let (updated, _) = try first.step(parameters: chosen, gradients: chosenGradients, state: OptimizerState())
                for (name, value) in updated { parameters[name] = value }
            } else {
                var adamState = state.optimizer.part("second")
                for name in adamState.tensors.names where !selected.contains(where: { name.hasSuffix("/" + $0) }) {
                    adamState.tensors[name] = nil
                }
                let (updated, next) = try second.step(parameters: chosen, gradients: chosenGradients, state: adamState)
                for (name, value) in updated { parameters[name] = value }
                state.optimizer.merge(next, prefix: "second")
            }
            state.model = ModelState(parameters: parameters, state: model.state)
            return StepOutput(loss: loss, predictions: try built.predict(state.model, inputs: batch.inputs).output(), targets: batch.targets)
        })
        let before = try built.initialize(seed: 0)
        let final = try loop.run(try regression().batches(size: 6, on: backend), epochs: 1)
        let after = final.stepState.model.parameters
        for name in ["dense_0.kernel", "dense_1.kernel"] {
            #expect(try before.parameters.tensor(name).scalars != after.tensor(name).scalars, "\(name) trained")
        }
        #expect(final.stepState.optimizer.counts["second/0/count"] == 2)
    }

    @Test("the evaluator aggregates metrics over a held-out set")
    func evaluator() throws {
        let built = try model.build(on: backend)
        let variables = try built.initialize(seed: 0)
        let data = try regression().batches(size: 7, on: backend)
        let result = try Loop.evaluator(model: model, state: variables, on: backend, loss: .meanSquaredError)
            .metric(.meanSquaredError).run(data, epochs: 1)
        // Over all 24 examples at once, independently.
        let everything = try regression()
        let predictions = try built.predict(variables, inputs: ["features": try Tensor(everything.features, on: backend)]).output()
        let mse = try Losses.meanSquaredError(try Tensor(everything.labels, on: backend), predictions).item()
        #expect(Swift.abs(result.metrics["mean_squared_error"]! - Double(mse)) < 1e-5)
        #expect(Swift.abs(result.metrics["loss"]! - Double(mse)) < 1e-5)
    }

    @Test("class-index targets outside the model's classes are refused instead of training on a loss of 0")
    func classTargetsOutOfRange() throws {
        let classifier = Axon.input("features", shape: [nil, 2]).dense(3)
        for (labels, shown) in [([Int32](repeating: 1, count: 5) + [3], "from 1 to 3"), ([-1, 0, 1, 2], "from -1 to 2")] {
            let dataset = try Dataset(
                features: HostArray(shape: [labels.count, 2], elements: .float32(Array(repeating: 0.5, count: 2 * labels.count))),
                labels: HostArray(shape: [labels.count], elements: .int32(labels)))
            let loop = try Loop.trainer(
                model: classifier, loss: .categoricalCrossEntropy(fromLogits: true, sparse: true), optimizer: .sgd(learningRate: 0.1), on: backend)
            #expect(errorMessage { _ = try loop.run(try dataset.batches(size: 8, on: backend), epochs: 1) }
                == "trainer: the targets are class indices \(shown), but the model predicts 3 classes (0 to 2)")
        }
    }
}

import AxonCore
import Backend
import CPUReference
import Foundation
import Testing

@Suite("Compiled steps")
struct CompiledStepTests {
    /// 26 examples of a 3-class problem in 6 features: batches of 4 leave a last batch of 2,
    /// a second shape.
    func data() throws -> Dataset {
        let x: [Float] = (0..<156).map { Float(($0 * 37) % 23) / 23 - 0.5 }
        let y: [Int32] = (0..<26).map { Int32(($0 * 7) % 3) }
        return try Dataset(features: HostArray(shape: [26, 6], elements: .float32(x)), labels: HostArray(shape: [26], elements: .int32(y)))
    }

    /// Dense layers with batch norm and dropout: state updates and random masks every step.
    var model: Axon {
        Axon.input("features", shape: [nil, 6]).dense(16).batchNorm().relu().dropout(rate: 0.3).dense(3)
    }

    func trainer(compiled: Bool, optimizer: Optimizer? = nil, on backend: any Backend = backend) throws -> Loop {
        let loop = try Loop.trainer(
            model: model, loss: .categoricalCrossEntropy(fromLogits: true, sparse: true), optimizer: optimizer ?? .adam(learningRate: 0.01),
            on: backend, seed: 4)
        loop.compilation?.isEnabled = compiled
        return loop
    }

    /// Every step's loss and every final parameter, model state and optimizer value (slot
    /// tensors as bit patterns, step counts), over 4 epochs of 7 batches.
    func run(_ loop: Loop, on backend: any Backend = backend) throws -> (losses: [UInt64], values: [String: [UInt32]]) {
        var losses: [UInt64] = []
        loop.handle(.iterationCompleted) { state in
            losses.append((state.stepLoss ?? .nan).bitPattern)
            return .proceed
        }
        let final = try loop.run(try data().batches(size: 4, on: backend), epochs: 4)
        var values: [String: [UInt32]] = [:]
        let optimizer = final.stepState.optimizer
        for (name, tensor) in final.stepState.model.parameters.merging(final.stepState.model.state).merging(optimizer.tensors) {
            values[name] = try tensor.scalars.map(\.bitPattern)
        }
        for (name, count) in optimizer.counts { values["count " + name] = [UInt32(count)] }
        return (losses, values)
    }

    @Test("a compiled trainer replays both batch shapes and trains to the same bits as the eager one, dropout and batch norm included")
    func compiledTrainingEqualsEager() throws {
        let compiledLoop = try trainer(compiled: true)
        let compiled = try run(compiledLoop)
        let eager = try run(try trainer(compiled: false))
        #expect(compiledLoop.compilation?.compiledShapes == 2, "\(compiledLoop.compilation?.eagerReasons ?? [])")
        #expect(compiledLoop.compilation?.eagerReasons == [])
        #expect(compiled.losses.count == 28)
        #expect(compiled.losses == eager.losses)
        #expect(compiled.values == eager.values)
    }

    @Test(
        "a fused optimizer's update runs inside the compiled step with each step's learning rate: decaying schedules train to the eager bits",
        arguments: ["adam", "adamw", "momentum"])
    func fusedUpdatesRunInTheStep(_ name: String) throws {
        let rate = LearningRate.schedule(.exponentialDecay(from: 0.02, decayRate: 0.5, transitionSteps: 5))
        let optimizer: Optimizer = switch name {
        case "adam": try .adam(learningRate: rate)
        case "adamw": try .adamw(learningRate: rate, weightDecay: 0.01)
        default: try .sgd(learningRate: rate, momentum: 0.9, nesterov: true)
        }
        let counting = UpdateCounter()
        let compiledLoop = try trainer(compiled: true, optimizer: optimizer, on: counting)
        let compiled = try run(compiledLoop, on: counting)
        let eager = try run(try trainer(compiled: false, optimizer: optimizer))
        #expect(compiledLoop.compilation?.compiledShapes == 2, "\(compiledLoop.compilation?.eagerReasons ?? [])")
        #expect(compiled.losses == eager.losses)
        #expect(compiled.values == eager.values)
        #expect(compiled.values["count 0/count"] == [28])
        // 28 steps update 6 parameters each; inside the step, the update also runs once more per
        // parameter for each of the 2 batch shapes, when the function is checked against its plan.
        #expect(counting.updates.count == 28 * 6 + 2 * 6)
    }

    @Test("a replayed step donates the parameters and moments it alone holds to the update, never the gradient, and trains to the eager bits in place")
    func replaysDonateTheVariablesTheyAloneHold() throws {
        let updater = InPlaceUpdater()
        let compiled = try run(try trainer(compiled: true, on: updater), on: updater)
        let eager = try run(try trainer(compiled: false))
        #expect(compiled.losses == eager.losses)
        #expect(compiled.values == eager.values)
        let donations = updater.donations.values
        #expect(donations.count == 28 * 6 + 2 * 6)
        // Parameter and moments together or nothing; at least the 24 replays after each batch
        // shape's trace and check donate, for each of the 6 parameters.
        #expect(donations.allSatisfy { $0 == [true, false, true, true] || $0 == [false, false, false, false] })
        #expect(donations.filter { $0[0] }.count >= 24 * 6)
    }

    @Test("a replayed step donates nothing a handler still holds, and the held values stay as they were")
    func heldVariablesAreNotDonated() throws {
        let updater = InPlaceUpdater()
        let loop = try trainer(compiled: true, on: updater)
        var kept = ParameterStore(), values: [String: [Float]] = [:], changed: [String] = []
        loop.handle(.iterationCompleted) { state in
            for (name, tensor) in kept where try tensor.scalars != values[name] { changed.append("step \(state.step): \(name)") }
            kept = state.stepState.model.parameters.merging(state.stepState.optimizer.tensors)
            values = Dictionary(uniqueKeysWithValues: try kept.map { ($0.name, try $0.tensor.scalars) })
            return .proceed
        }
        let held = try run(loop, on: updater)
        #expect(held.values == (try run(try trainer(compiled: false))).values)
        #expect(kept.count == 6 * 3)
        #expect(changed == [])
        #expect(updater.donations.values.allSatisfy { $0 == [false, false, false, false] })
    }

    @Test("an optimizer without a fused update updates after the replayed step, to the eager bits")
    func composedOptimizersUpdateAfterTheStep() throws {
        let optimizer = try Optimizer.rmsprop(learningRate: .schedule(.cosineDecay(from: 0.01, decaySteps: 20)), momentum: 0.5)
        let compiledLoop = try trainer(compiled: true, optimizer: optimizer)
        let compiled = try run(compiledLoop)
        let eager = try run(try trainer(compiled: false, optimizer: optimizer))
        #expect(compiledLoop.compilation?.compiledShapes == 2, "\(compiledLoop.compilation?.eagerReasons ?? [])")
        #expect(compiled.losses == eager.losses)
        #expect(compiled.values == eager.values)
    }

    @Test("a compiled evaluator and a compiled model give the eager predictions bit for bit")
    func compiledInferenceEqualsEager() throws {
        let built = try model.build(on: backend)
        let state = try built.initialize(seed: 2)
        let fast = built.compiled()
        for seed in 0..<4 as Range<UInt64> {
            let x = try sample([5, 6], seed: seed)
            let expected = try built.predict(state, inputs: ["features": x]).output().scalars
            #expect(try fast.predict(state, inputs: ["features": x]).output().scalars.map(\.bitPattern) == expected.map(\.bitPattern))
        }
        #expect(fast.function.compiledSignatures == 1)

        let metrics = try [true, false].map { compiled in
            let evaluator = try Loop.evaluator(
                model: model, state: state, on: backend, loss: .categoricalCrossEntropy(fromLogits: true, sparse: true))
            evaluator.compilation?.isEnabled = compiled
            evaluator.metric(.accuracy())
            let result = try evaluator.run(try data().batches(size: 4, on: backend), epochs: 3)
            if compiled { #expect(evaluator.compilation?.compiledShapes == 2) }
            return result.metrics
        }
        #expect(metrics[0] == metrics[1])
    }

    @Test("a replayed function computes from each call's arguments: x·x + 1 by hand")
    func replayUsesNewArguments() throws {
        let function = CompiledFunction { arguments, _ in
            let x = try #require(arguments["x"])
            return ["y": try x * x + 1]
        }
        for value in [1, 2, 3, 4, -0.5] as [Float] {
            let y = try #require(try function(["x": try tensor([value, 2 * value], [2])])["y"])
            #expect(try y.scalars == [value * value + 1, 4 * value * value + 1])
        }
        #expect(function.compiledSignatures == 1)
        #expect(function.eagerReasons.isEmpty)
    }

    @Test("a replay leaves out the calls whose results nothing returned depends on")
    func replaysLeaveOutUnusedCalls() throws {
        let counting = UnaryCounter()
        let function = CompiledFunction { arguments, _ in
            let x = try #require(arguments["x"])
            _ = try x.exp()  // computed, never used
            return ["y": try x * 2]
        }
        let x = try Tensor([1, -2], shape: [2], on: counting)
        for _ in 0..<5 { #expect(try function(["x": x])["y"]?.scalars == [2, -4]) }
        #expect(function.compiledSignatures == 1)
        // The trace and the check against it run the function itself; the replays never exp.
        #expect(counting.unaryCalls.count == 2)
    }

    @Test("a replay computes what depends on constants alone once, when traced, and still reads each call's arguments: x + Σc by hand")
    func constantSubexpressionsAreFoldedIntoThePlan() throws {
        let counting = CountingBackend()
        let function = CompiledFunction { arguments, _ in
            let x = try #require(arguments["x"])
            let c = try Tensor([1, 2, 4], shape: [3], on: x.backend)
            return ["y": try x + c.sum(axes: [0])]
        }
        for value in [1, -2, 0.5, 3, 8] as [Float] {
            #expect(try function(["x": try Tensor([value, 2 * value], shape: [2], on: counting)])["y"]?.scalars == [value + 7, 2 * value + 7])
        }
        #expect(function.compiledSignatures == 1)
        #expect(function.eagerReasons.isEmpty)
        // The trace and the eager run that checks it each sum c; the four replays never do.
        #expect(counting.count("reduce") == 2)
        #expect(counting.count("binary") == 2 + 4)
    }

    @Test("a replay runs a chain of elementwise operations as one fused call, up to a value it returns: exp(2x + 1) − x by hand")
    func elementwiseChainsAreFused() throws {
        let counting = ElementwiseCounter()
        let function = CompiledFunction { arguments, _ in
            let x = try #require(arguments["x"])
            let doubled = try x * 2
            return ["y": try (doubled + 1).exp() - x, "doubled": doubled]
        }
        let values: [Float] = [-1.5, -0.25, 0, 0.5, 2]
        for shift in 0..<5 {
            let v = values.map { $0 + Float(shift) / 8 }
            let results = try function(["x": try Tensor(v, shape: [5], on: counting)])
            #expect(try results["y"]?.scalars == v.map { Foundation.exp(2 * $0 + 1) - $0 })
            #expect(try results["doubled"]?.scalars == v.map { 2 * $0 })
        }
        #expect(function.compiledSignatures == 1)
        // Eager, the trace and its check run the four primitives; a replay runs the multiply
        // (its value is returned, so the chain stops there) and one fused call for the rest.
        #expect(counting.primitives.count == 4 + 4 + 1 + 3 * 1)
        #expect(counting.programs.count == 4)
    }

    @Test("a replay folds the cast that narrows a float32 batch norm's output into the normalisation, with the eager bits")
    func narrowingCastsFoldIntoNormalization() throws {
        let counting = NormalizationCounter()
        let function = CompiledFunction { arguments, _ in
            let (x, scale, offset) = (try #require(arguments["x"]), try #require(arguments["scale"]), try #require(arguments["offset"]))
            let normalized = try x.cast(to: .float32).normalized(scale: scale, offset: offset, axes: [0], epsilon: 1e-5)
            return ["y": try normalized.output.cast(to: .bfloat16), "mean": normalized.mean]
        }
        let scale = try Tensor([0.5, 2, -1], shape: [3], on: counting), offset = try Tensor([0.25, 0, 1], shape: [3], on: counting)
        for shift in 0..<4 {
            let x = try Tensor((0..<12).map { Float(($0 * 5 + shift) % 7) / 3 }, shape: [4, 3], on: counting).cast(to: .bfloat16)
            let eager = try x.cast(to: .float32).normalized(scale: scale, offset: offset, axes: [0], epsilon: 1e-5)
            let replayed = try function(["x": x, "scale": scale, "offset": offset])
            #expect(try replayed["y"]?.dtype == .bfloat16)
            #expect(try replayed["y"]?.cast(to: .float32).scalars.map(\.bitPattern)
                == eager.output.cast(to: .bfloat16).cast(to: .float32).scalars.map(\.bitPattern))
            #expect(try replayed["mean"]?.scalars.map(\.bitPattern) == eager.mean.scalars.map(\.bitPattern))
        }
        #expect(function.compiledSignatures == 1)
        // The eager runs, the trace and its check normalise in float32; the 3 replays write bfloat16.
        #expect(counting.outputDTypes.values.compactMap { $0 } == [DType](repeating: .bfloat16, count: 3))
    }

    @Test("a function that reads a value back to the host, or a key it did not fold from its own, runs eagerly and says why")
    func unreplayableFunctionsRunEagerly() throws {
        // The branch depends on the data: a replay could not follow it.
        let branching = CompiledFunction { arguments, _ in
            let x = try #require(arguments["x"])
            return ["y": try x.sum().item() > 0 ? x * 2 : x * -1]
        }
        #expect(try branching(["x": try tensor([1, 2], [2])])["y"]?.scalars == [2, 4])
        #expect(try branching(["x": try tensor([-1, -2], [2])])["y"]?.scalars == [1, 2])
        #expect(try branching(["x": try tensor([-3, 1], [2])])["y"]?.scalars == [3, -1])
        #expect(branching.compiledSignatures == 0)
        #expect(branching.eagerReasons.first?.contains("back to the host") == true, "\(branching.eagerReasons)")

        // Bits from a key derived by the caller in its own way: the plan cannot derive it,
        // and the check against the function catches the different bits.
        let counter = Counter()
        let drawing = CompiledFunction { arguments, _ in
            let x = try #require(arguments["x"])
            let bits = try Tensor.randomBits(key: Philox.Key(seed: counter.next()), shape: x.shape, on: x.backend)
            return ["y": try x + bits.cast(to: .float32)]
        }
        let x = try tensor([0, 0, 0], [3])
        var draws: [[Float]] = []
        for _ in 0..<4 { draws.append(try #require(try drawing(["x": x])["y"]).scalars) }
        #expect(Set(draws).count == 4)
        #expect(drawing.compiledSignatures == 0)
        #expect(drawing.eagerReasons.first?.contains("differed") == true, "\(drawing.eagerReasons)")
    }

    @Test("a model with a hook trains eagerly, calling its hook every step")
    func hooksKeepStepsEager() throws {
        let calls = Counter()
        let hooked = Axon.input("features", shape: [nil, 6]).dense(3).hook(.forward) { _, _ in _ = calls.next() }
        let loop = try Loop.trainer(
            model: hooked, loss: .categoricalCrossEntropy(fromLogits: true, sparse: true), optimizer: .sgd(learningRate: 0.1), on: backend)
        _ = try loop.run(try data().batches(size: 4, on: backend), epochs: 2)
        #expect(calls.count == 14)
        #expect(loop.compilation?.compiledShapes == 0)
        #expect(loop.compilation?.eagerReasons.first?.contains("hooks") == true)
    }
}

/// A thread-safe counter for closures that must be `Sendable`.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var value: UInt64 = 0
    var count: Int { lock.withLock { Int(value) } }
    func next() -> UInt64 { lock.withLock { value += 1; return value } }
}

/// The reference backend, counting the unary and binary primitives and the elementwise programs it runs.
final class ElementwiseCounter: DelegatingBackend, @unchecked Sendable {
    let fallback: any Backend = ReferenceBackend()
    let primitives = Counter(), programs = Counter()
    var name: String { "elementwise-counter" }
    var deviceDescription: String { fallback.deviceDescription }

    func unary(_ operation: UnaryOperation, _ x: Buffer) throws -> Buffer {
        _ = primitives.next()
        return try fallback.unary(operation, x)
    }

    func binary(_ operation: BinaryOperation, _ a: Buffer, _ b: Buffer) throws -> Buffer {
        _ = primitives.next()
        return try fallback.binary(operation, a, b)
    }

    func elementwise(_ program: ElementwiseProgram, _ inputs: [Buffer]) throws -> Buffer {
        _ = programs.next()
        return try fallback.elementwise(program, inputs)
    }
}

/// The reference backend, counting the fused optimizer updates it runs.
final class UpdateCounter: DelegatingBackend, @unchecked Sendable {
    let fallback: any Backend = ReferenceBackend()
    let updates = Counter()
    var name: String { "update-counter" }
    var deviceDescription: String { fallback.deviceDescription }

    func adamUpdate(
        parameter: Buffer, gradient: Buffer, firstMoment: Buffer, secondMoment: Buffer, step: AdamStep
    ) throws -> (parameter: Buffer, firstMoment: Buffer, secondMoment: Buffer) {
        _ = updates.next()
        return try fallback.adamUpdate(parameter: parameter, gradient: gradient, firstMoment: firstMoment, secondMoment: secondMoment, step: step)
    }

    func momentumUpdate(parameter: Buffer, gradient: Buffer, velocity: Buffer, step: MomentumStep) throws -> (parameter: Buffer, velocity: Buffer) {
        _ = updates.next()
        return try fallback.momentumUpdate(parameter: parameter, gradient: gradient, velocity: velocity, step: step)
    }
}

/// The reference backend, writing Adam's results over the operands donated to it as an
/// in-place backend does, and noting which operands were donated.
final class InPlaceUpdater: DelegatingBackend, @unchecked Sendable {
    let fallback: any Backend = ReferenceBackend()
    /// Whether the parameter, gradient and moments were donated, for each update.
    let donations = Log<[Bool]>()
    var name: String { "in-place-updater" }
    var deviceDescription: String { fallback.deviceDescription }

    func adamUpdate(
        parameter: Buffer, gradient: Buffer, firstMoment: Buffer, secondMoment: Buffer, step: AdamStep
    ) throws -> (parameter: Buffer, firstMoment: Buffer, secondMoment: Buffer) {
        donations.append([parameter, gradient, firstMoment, secondMoment].map(\.isDonated))
        let result = try fallback.adamUpdate(parameter: parameter, gradient: gradient, firstMoment: firstMoment, secondMoment: secondMoment, step: step)
        return (overwrite(parameter, result.parameter), overwrite(firstMoment, result.firstMoment), overwrite(secondMoment, result.secondMoment))
    }

    /// `result` copied over `operand` when that was donated, in the operand's storage.
    private func overwrite(_ operand: Buffer, _ result: Buffer) -> Buffer {
        guard let reused = operand.reusable(as: result.shape, result.dtype), let target = reused.storage as? HostStorage,
            let source = result.storage as? HostStorage
        else { return result }
        target.address.copyMemory(from: source.address, byteCount: result.shape.elementCount * result.dtype.byteSize)
        return reused
    }
}

/// The reference backend, declaring batch norm native in bfloat16 (its composition honours an
/// output dtype) and noting the output dtype each normalisation is asked for, eager ones included.
final class NormalizationCounter: DelegatingBackend, @unchecked Sendable {
    let fallback: any Backend = ReferenceBackend()
    let outputDTypes = Log<DType?>()
    var name: String { "normalization-counter" }
    var deviceDescription: String { fallback.deviceDescription }
    var nativeOperations: NativeOperations {
        var native = fallback.nativeOperations
        native.bfloat16.insert(.normalization)
        return native
    }

    func normalize(_ x: Buffer, scale: Buffer, offset: Buffer, descriptor: NormalizationDescriptor) throws -> NormalizationResult {
        outputDTypes.append(descriptor.outputDType)
        return try composedNormalize(x, scale: scale, offset: offset, descriptor: descriptor)
    }
}

/// Values appended from any thread.
final class Log<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [Value] = []
    var values: [Value] { lock.withLock { stored } }
    func append(_ value: Value) { lock.withLock { stored.append(value) } }
}

/// The reference backend, counting the unary operations it runs.
final class UnaryCounter: DelegatingBackend, @unchecked Sendable {
    let fallback: any Backend = ReferenceBackend()
    let unaryCalls = Counter()
    var name: String { "unary-counter" }
    var deviceDescription: String { fallback.deviceDescription }

    func unary(_ operation: UnaryOperation, _ x: Buffer) throws -> Buffer {
        _ = unaryCalls.next()
        return try fallback.unary(operation, x)
    }
}

#if Vulkan
import AxonCore
import AxonConformance
import Backend
import CPUReference
import Foundation
import Testing
import Vulkan

/// Behaviour of the Vulkan backend beyond numerical agreement (which the conformance suite
/// checks): batching, barriers, memory reuse, the pipeline cache, device selection, errors and
/// validation. Runs on lavapipe in CI.
@Suite("Vulkan backend", .serialized)
struct VulkanBackendTests {
    /// A scratch directory for pipeline caches.
    static func temporaryDirectory() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("axon-vulkan-\(UUID().uuidString)")
    }

    static func backend(cache: URL? = temporaryDirectory(), validation: Bool = false) throws -> VulkanBackend {
        try VulkanBackend(deviceSelection: nil, validation: validation, cacheDirectory: cache)
    }

    /// One small training step's worth of model, data and loop, with a handler per step.
    static func train(on backend: VulkanBackend, steps: Int, compiled: Bool = true, afterEachStep: @escaping @Sendable () -> Void) throws {
        let model = Axon.input("features", shape: [nil, 8, 8, 1])
            .conv(4, kernelSize: [3], padding: .same).batchNorm().relu().maxPool()
            .flatten().dense(16, activation: .relu).dense(10)
        let x = try Tensor(InputSpecValues.uniform(count: 4 * 64), shape: [4, 8, 8, 1], on: backend)
        let y = try Tensor(integers: [0, 1, 2, 3], shape: [4], on: backend)
        let loop = try Loop.trainer(
            model: model, loss: .categoricalCrossEntropy(fromLogits: true, sparse: true), optimizer: .adam(learningRate: 1e-3),
            on: backend
        ).handle(.iterationCompleted) { _ in
            afterEachStep()
            return .proceed
        }
        loop.compilation?.isEnabled = compiled
        _ = try loop.run(Array(repeating: Batch(inputs: ["features": x], targets: y), count: steps), epochs: 1)
    }

    /// Per step from the third on (the first traces the step, the second checks its replay
    /// against the eager step): submissions, driver allocations and recorded commands.
    static func perStep(compiled: Bool) throws -> (submissions: [Int], commands: [Int], allocations: [Int]) {
        let backend = try Self.backend()
        let samples = Samples()
        try Self.train(on: backend, steps: 6, compiled: compiled) {
            samples.append((backend.submissions, backend.driverAllocations, backend.recordedCommands))
        }
        let steps = Array(samples.values.dropFirst(2))
        return (zip(steps.dropFirst(), steps).map { $0.0.0 - $0.1.0 }, zip(steps.dropFirst(), steps).map { $0.0.2 - $0.1.2 }, steps.map(\.1))
    }

    @Test("an eager training step is one submission per read-back and reuses pooled memory")
    func eagerStepBatchesWork() throws {
        let (submissions, commands, allocations) = try Self.perStep(compiled: false)
        // Dozens of commands per step (65 for this model), one submission when the loop reads the
        // loss back, plus one for each batch that fills up before.
        #expect(commands.allSatisfy { $0 > 50 }, "commands per step: \(commands)")
        #expect(submissions.allSatisfy { $0 >= 1 && $0 <= 1 + commands.max()! / 256 }, "submissions per step: \(submissions)")
        // After the first step every buffer comes from the pool.
        #expect(allocations.allSatisfy { $0 == allocations[0] }, "driver allocations after each step: \(allocations)")
    }

    @Test("a compiled training step submits its forward and backward pass as recorded command buffers")
    func compiledStepReplaysRecordedCommands() throws {
        let eager = try Self.perStep(compiled: false).commands
        let (submissions, commands, allocations) = try Self.perStep(compiled: true)
        // Recorded afresh each step: copies of the 12 inputs the recording reads (8 parameters,
        // 2 batch-norm statistics, the batch and its labels), the 8 parameters' optimizer updates
        // and copies of the 12 results the loop keeps (gradients, loss, state, predictions) —
        // not the 57 dispatches of the forward and backward pass.
        #expect(commands.allSatisfy { $0 < eager.min()! }, "commands per step: \(commands), eager: \(eager)")
        // Three submissions: the copies in, the recording, and the updates with the read-back.
        #expect(submissions.allSatisfy { $0 == 3 }, "submissions per step: \(submissions)")
        #expect(allocations.allSatisfy { $0 == allocations[0] }, "driver allocations after each step: \(allocations)")
    }

    @Test("recorded commands read each call's arguments, results stay valid after later calls, and a read-back splits the recording")
    func recordedCommandsReadNewArguments() throws {
        let backend = try Self.backend()
        // w = y + Σy with y = x·x + x, then the elements of w at `indices` squared less
        // themselves, and their sum. Vulkan checks gather indices on the host, so the gather
        // cannot be recorded: the calls before it and after it are.
        let function = CompiledFunction { arguments, _ in
            guard let x = arguments["x"], let indices = arguments["indices"] else { return [:] }
            let y = try x * x + x
            let w = try y + y.sum()
            let picked = try w.gather(indices: indices, axis: 0)
            return ["w": w, "out": try picked * picked - picked, "total": try picked.sum()]
        }
        func values(_ call: Int) -> [Float] { (0..<6).map { Float($0) - 2.5 + Float(call) / 4 } }
        var kept: [(call: Int, w: Tensor, out: Tensor, total: Tensor)] = []
        var commands: [Int] = []
        for call in 0..<6 {
            let before = backend.recordedCommands
            let results = try function([
                "x": try Tensor(values(call), shape: [6], on: backend),
                "indices": try Tensor(integers: [5, 0, Int32(call % 6)], shape: [3], on: backend),
            ])
            commands.append(backend.recordedCommands - before)
            kept.append((call, try #require(results["w"]), try #require(results["out"]), try #require(results["total"])))
        }
        // Every result, read after all six calls, is its own call's (computed here on the host,
        // with small integers and quarters, exact in float32).
        for (call, w, out, total) in kept {
            let y = values(call).map { $0 * $0 + $0 }
            let expectedW = y.map { $0 + y.reduce(0, +) }
            let picked = [5, 0, call % 6].map { expectedW[$0] }
            #expect(try w.array.elements.floats == expectedW, "w of call \(call)")
            #expect(try out.array.elements.floats == picked.map { $0 * $0 - $0 }, "out of call \(call)")
            #expect(try total.array.elements.floats == [picked.reduce(0, +)], "total of call \(call)")
        }
        #expect(function.compiledSignatures == 1)
        // Replays record only the copies in and out and the gather (which checks its indices on
        // the host): fewer commands than the traced and checked calls.
        #expect(commands.dropFirst(2).allSatisfy { $0 < commands[0] }, "commands per call: \(commands)")
    }

    @Test("compiled functions recorded, replayed and freed on four threads at once share one backend")
    func recordingsAcrossThreads() throws {
        let backend = try Self.backend()
        let wrong = Messages()
        DispatchQueue.concurrentPerform(iterations: 4) { thread in
            do {
                // A new function each round, so recordings are freed while other threads record and submit.
                for round in 0..<4 {
                    let function = CompiledFunction { arguments, _ in
                        guard let x = arguments["x"] else { return [:] }
                        let y = try x * x + x
                        return ["z": try y + y.sum()]
                    }
                    for call in 0..<4 {
                        let x = (0..<5).map { Float($0 + thread + round + call) / 2 }
                        let z = try function(["x": try Tensor(x, shape: [5], on: backend)])["z"]?.array.elements.floats
                        let y = x.map { $0 * $0 + $0 }
                        if z != y.map({ $0 + y.reduce(0, +) }) { wrong.append("thread \(thread), round \(round), call \(call): \(z ?? [])") }
                    }
                }
            } catch {
                wrong.append("thread \(thread): \(error)")
            }
        }
        #expect(wrong.values.isEmpty, "\(wrong.values)")
    }

    @Test("attention with a mask and the causal triangle is one shader dispatch, and two with dropout")
    func attentionIsOneDispatch() throws {
        let backend = try Self.backend()
        func upload(_ shape: Shape) throws -> Buffer {
            try backend.upload(HostArray(shape: shape, elements: .float32(InputSpecValues.uniform(count: shape.elementCount))))
        }
        let (query, key, value, mask) = (try upload([2, 2, 3, 4]), try upload([2, 2, 5, 4]), try upload([2, 2, 5, 3]), try upload([2, 1, 1, 5]))
        let before = backend.recordedCommands
        let plain = try backend.attention(query: query, key: key, value: value, mask: mask, descriptor: AttentionDescriptor(scale: 0.5, causal: true))
        #expect(backend.recordedCommands - before == 1)
        let dropout = AttentionDescriptor.Dropout(rate: 0.25, key: Philox.Key(seed: 1))
        let middle = backend.recordedCommands
        _ = try backend.attention(query: query, key: key, value: value, mask: nil, descriptor: AttentionDescriptor(scale: 0.5, dropout: dropout))
        #expect(backend.recordedCommands - middle == 2)
        #expect(plain.weights.shape == [2, 2, 3, 5])
    }

    @Test("a recurrent sequence records one product and one cell shader per step forward, three dispatches per step backward, and no submission")
    func recurrenceStaysInOneSubmission() throws {
        let backend = try Self.backend()
        func upload(_ shape: Shape) throws -> Buffer {
            try backend.upload(HostArray(shape: shape, elements: .float32(InputSpecValues.uniform(count: shape.elementCount))))
        }
        let time = 12
        let operands = RecurrentOperands(
            input: try upload([3, time, 4]), kernel: try upload([4, 8]), recurrentKernel: try upload([2, 8]), bias: try upload([8]),
            initialStates: [try upload([3, 2]), try upload([3, 2])])
        try backend.synchronize()
        let (commands, submissions) = (backend.recordedCommands, backend.submissions)
        let forward = try backend.recurrentSequence(operands, descriptor: RecurrentDescriptor(cell: .lstm))
        let forwardCommands = backend.recordedCommands - commands
        #expect(forwardCommands >= 2 * time && forwardCommands <= 2 * time + 8, "forward commands: \(forwardCommands)")
        _ = try backend.recurrentSequenceBackward(
            gradOutput: try upload([3, time, 2]), gradStates: [try upload([3, 2]), try upload([3, 2])], operands: operands,
            workspace: forward.workspace, descriptor: RecurrentDescriptor(cell: .lstm))
        let backwardCommands = backend.recordedCommands - commands - forwardCommands
        #expect(backwardCommands >= 3 * time && backwardCommands <= 3 * time + 16, "backward commands: \(backwardCommands)")
        #expect(backend.submissions == submissions)
    }

    @Test("a barrier separates dependent dispatches only")
    func barriersOnlyForDependencies() throws {
        let backend = try Self.backend()
        let x = try backend.upload(HostArray(shape: [64], elements: .float32((0..<64).map(Float.init))))
        try backend.synchronize()
        let before = backend.barriers
        // Two independent ops on a buffer written by earlier, completed work: the batch's
        // opening barrier only.
        let a = try backend.unary(.exp, x)
        let b = try backend.unary(.sin, x)
        #expect(backend.barriers - before == 1)
        // An op that reads both results must wait for them: one more barrier.
        let c = try backend.binary(.add, a, b)
        #expect(backend.barriers - before == 2)
        let expected = (0..<64).map { Foundation.exp(Float($0)) + Foundation.sin(Float($0)) }
        guard case let .float32(values) = try backend.download(c).elements else { Issue.record("not float32"); return }
        for (value, reference) in zip(values, expected) {
            #expect(Swift.abs(value - reference) <= 1e-5 * Swift.max(1, Swift.abs(reference)))
        }
    }

    @Test("a second backend start creates its pipelines from the on-disk cache")
    func pipelineCachePersists() throws {
        let cache = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: cache) }
        func work(_ backend: VulkanBackend) throws {
            let x = try backend.upload(HostArray(shape: [2, 3], elements: .float32([1, 2, 3, 4, 5, 6])))
            _ = try backend.download(backend.matmul(x, x, transposeA: false, transposeB: true))
            _ = try backend.download(backend.reduce(.sum, x, axes: [1], keepDimensions: false))
            try backend.synchronize()
        }
        let first = try Self.backend(cache: cache)
        try work(first)
        let files = try FileManager.default.contentsOfDirectory(atPath: cache.path)
        #expect(files.count == 1 && files[0].hasSuffix(".bin"), "cache files: \(files)")
        // The driver's header (length, version 1, vendor, device, cache UUID) names the device
        // the file name was derived from.
        let data = try Data(contentsOf: cache.appendingPathComponent(files[0]))
        let words = data.prefix(16).withUnsafeBytes { Array($0.bindMemory(to: UInt32.self)) }
        #expect(words.count == 4 && words[0] == 32 && words[1] == 1)
        #expect(files[0].hasPrefix(String(format: "%04x-%04x-", words[2], words[3])))
        let second = try Self.backend(cache: cache)
        try work(second)
        let statistics = second.pipelineStatistics
        #expect(statistics.created == first.pipelineStatistics.created)
        // Drivers that keep pipelines in the cache (data beyond the header) must serve them all
        // from it; Mesa 22's lavapipe stores only the header, so there it compiles again.
        if data.count > 32 {
            #expect(statistics.fromCache == statistics.created, "\(statistics.fromCache) of \(statistics.created) pipelines came from the cache")
        }
    }

    @Test("convolutions lowered a few images at a time agree with the reference")
    func chunkedConvolution() throws {
        // A workspace too small for one image's column matrix: every image is its own chunk.
        let chunked = try VulkanBackend(deviceSelection: nil, validation: false, cacheDirectory: nil, convolutionWorkspaceBytes: 1)
        let reference = ReferenceBackend()
        let descriptor = ConvolutionDescriptor(strides: [2, 1], padding: [Padding(1, 1), Padding(0, 2)], kernelDilation: [1, 2], groups: 2)
        func values(_ count: Int, _ seed: UInt64) -> [Float] {
            Philox.bits(key: Philox.Key(seed: seed), offset: 0, count: count).map { Philox.unitFloat($0) * 2 - 1 }
        }
        let input = try HostArray(shape: [3, 9, 8, 4], elements: .float32(values(3 * 9 * 8 * 4, 1)))
        let kernel = try HostArray(shape: [3, 2, 2, 6], elements: .float32(values(3 * 2 * 2 * 6, 2)))
        let bias = try HostArray(shape: [6], elements: .float32(values(6, 3)))
        func outputs(_ backend: any Backend) throws -> [HostArray] {
            let (x, k, b) = (try backend.upload(input), try backend.upload(kernel), try backend.upload(bias))
            let y = try backend.convolution(x, kernel: k, bias: b, descriptor: descriptor, activation: .relu)
            let gradOutput = try backend.upload(HostArray(shape: y.shape, elements: .float32(values(y.shape.elementCount, 4))))
            return try [
                y,
                backend.convolutionBackwardInput(gradOutput: gradOutput, kernel: k, inputShape: input.shape, descriptor: descriptor),
                backend.convolutionBackwardKernel(input: x, gradOutput: gradOutput, kernelShape: kernel.shape, descriptor: descriptor),
            ].map { try backend.download($0) }
        }
        let (discrepancy, passed) = Discrepancy.measure(try outputs(chunked), try outputs(reference), tolerance: .of(.linearAlgebra))
        #expect(passed, "worst difference \(discrepancy)")
    }

    @Test("AXON_VULKAN_DEVICE picks a device by index or name and rejects unknown ones")
    func deviceSelection() throws {
        let chosen = try VulkanBackend(deviceSelection: "0", validation: false, cacheDirectory: nil)
        let name = String(chosen.deviceDescription.prefix { $0 != " " })
        let byName = try VulkanBackend(deviceSelection: name.uppercased(), validation: false, cacheDirectory: nil)
        #expect(byName.deviceDescription == chosen.deviceDescription)
        #expect(throws: BackendError.self) { try VulkanBackend(deviceSelection: "99", validation: false, cacheDirectory: nil) }
        do {
            _ = try VulkanBackend(deviceSelection: "no such device", validation: false, cacheDirectory: nil)
            Issue.record("an unknown device name was accepted")
        } catch let error as BackendError {
            #expect(error.description.contains("no device name contains 'no such device'"))
            #expect(error.description.contains("0: \(name)"))
        }
    }

    @Test("buffers of another backend, oversized buffers and bad indices are thrown errors")
    func errors() throws {
        let backend = try Self.backend()
        let foreign = try ReferenceBackend().full(1, shape: [2], dtype: .float32)
        #expect(throws: BackendError.foreignBuffer(operation: "unary", expected: "vulkan")) { try backend.unary(.exp, foreign) }
        do {
            _ = try backend.full(0, shape: [1 << 22, 1 << 20], dtype: .float32)
            Issue.record("a 16 TiB buffer was allocated")
        } catch let error as BackendError {
            guard case .outOfMemory = error else { Issue.record("unexpected error \(error)"); return }
        }
        let x = try backend.upload(HostArray(shape: [3], elements: .float32([1, 2, 3])))
        let indices = try backend.upload(HostArray(shape: [2], elements: .int32([0, 3])))
        #expect(throws: BackendError.indexOutOfRange(operation: "gather", index: 3, size: 3)) {
            try backend.gather(x, indices: indices, axis: 0)
        }
    }

    @Test("without a Vulkan driver, starting the backend is a thrown unavailable error")
    func noDriver() throws {
        // The shared backend the other suites use is started first, so pointing the loader at
        // no driver for a moment cannot affect them.
        _ = try ConformanceBackends.backend("vulkan")
        setenv("VK_DRIVER_FILES", "/nonexistent/axon_icd.json", 1)
        defer { unsetenv("VK_DRIVER_FILES") }
        do {
            _ = try VulkanBackend(deviceSelection: nil, validation: false, cacheDirectory: nil)
            Issue.record("the backend started without a driver")
        } catch let error as BackendError {
            guard case let .unavailable(backend, reason) = error else { Issue.record("unexpected error \(error)"); return }
            #expect(backend == "vulkan")
            #expect(reason.contains("no Vulkan driver"))
        }
    }

    @Test("with validation on, a message from the validation layer fails the run")
    func validationMessagesFail() throws {
        // Clean work reports nothing.
        let clean = try Self.backend(validation: true)
        let x = try clean.upload(HostArray(shape: [4, 4], elements: .float32((0..<16).map(Float.init))))
        _ = try clean.download(clean.matmul(x, x, transposeA: false, transposeB: false))
        // The layer's best-practices checks (off by default) warn about choices the backend makes
        // on purpose, such as one small allocation per pooled buffer; those messages must surface.
        // The layer reads the variable when the instance is created, so it is set only for that.
        setenv("VK_LAYER_ENABLES", "VK_VALIDATION_FEATURE_ENABLE_BEST_PRACTICES_EXT", 1)
        let strict = try { defer { unsetenv("VK_LAYER_ENABLES") }; return try Self.backend(validation: true) }()
        let y = try strict.upload(HostArray(shape: [4, 4], elements: .float32((0..<16).map(Float.init))))
        do {
            _ = try strict.download(strict.matmul(y, y, transposeA: false, transposeB: false))
            try strict.synchronize()
            Issue.record("no validation message was reported")
        } catch let error as BackendError {
            #expect(error.description.contains("validation message"))
        }
    }
}

/// Messages appended from several threads.
final class Messages: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [String] = []
    func append(_ message: String) { lock.withLock { stored.append(message) } }
    var values: [String] { lock.withLock { stored } }
}

/// Values appended from the loop's handler.
final class Samples: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [(Int, Int, Int)] = []
    func append(_ value: (Int, Int, Int)) { lock.withLock { stored.append(value) } }
    var values: [(Int, Int, Int)] { lock.withLock { stored } }
}
#endif

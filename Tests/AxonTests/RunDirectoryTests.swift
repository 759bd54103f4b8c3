import AxonCore
import Backend
import Foundation
import Testing

@Suite("Run directories and durable training")
struct RunDirectoryTests {
    /// y = x·[1, −2] + 0.5 on 24 examples, batches of 5 (the last of 4): five iterations an epoch.
    func data() throws -> any BatchSource {
        let x: [Float] = (0..<48).map { Float(($0 * 37) % 17) / 17 - 0.5 }
        let y: [Float] = (0..<24).map { x[2 * $0] - 2 * x[2 * $0 + 1] + 0.5 }
        return try Dataset(features: HostArray(shape: [24, 2], elements: .float32(x)), labels: HostArray(shape: [24, 1], elements: .float32(y)))
            .batches(size: 5, shuffle: true, seed: 3, on: backend)
    }

    let model = Axon.input("features", shape: [nil, 2]).dense(8, activation: .tanh).dropout(rate: 0.1).dense(1)

    func trainer(learningRate: Float = 0.01, model: Axon? = nil) throws -> Loop {
        try Loop.trainer(model: model ?? self.model, loss: .meanSquaredError, optimizer: .adam(learningRate: .constant(learningRate)), on: backend, seed: 5)
            .metric(.meanAbsoluteError)
    }

    /// An epoch-end state whose last history entry holds `metrics`.
    func state(epoch: Int, metrics: [String: Double]) throws -> LoopState {
        var state = LoopState(stepState: StepState(model: ModelState(parameters: ["w": try tensor([Float(epoch)], [1])])))
        (state.epoch, state.step) = (epoch, epoch * 10)
        state.history = Array(repeating: metrics, count: epoch)
        return state
    }

    func files(_ directory: URL) throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted() }

    @Test("a second run on a directory in use is refused with the first run's process id")
    func lock() throws {
        let directory = temporaryDirectory("lock")
        defer { try? FileManager.default.removeItem(at: directory) }
        let first = try RunDirectory(directory)
        let message = errorMessage { _ = try RunDirectory(directory, mode: .overwrite) }
        #expect(message == "\(directory.path): is in use by another training run (process \(getpid())); wait for it to end or use another directory")
        first.close()
        _ = try RunDirectory(directory, mode: .overwrite)
    }

    @Test("a new run refuses a directory holding checkpoints; overwrite clears them; resume needs one")
    func modes() throws {
        let directory = temporaryDirectory("modes")
        defer { try? FileManager.default.removeItem(at: directory) }
        #expect(errorMessage { _ = try RunDirectory(directory, mode: .resume) } == "\(directory.path): holds no checkpoint to resume from (it does not exist)")
        #expect(!FileManager.default.fileExists(atPath: directory.path), "resuming must not create the directory")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        #expect(errorMessage { _ = try RunDirectory(directory, mode: .resume) } == "\(directory.path): holds no checkpoint to resume from")
        do {
            let run = try RunDirectory(directory)
            try run.save(try state(epoch: 1, metrics: [:]))
        }
        #expect(errorMessage { _ = try RunDirectory(directory) }?.contains("already holds checkpoints of an earlier run (1, the newest checkpoint_epoch_1.axon)") == true)
        let resumed = try RunDirectory(directory, mode: .resume)
        #expect(try resumed.latest?.lastPathComponent == "checkpoint_epoch_1.axon")
        resumed.close()
        let fresh = try RunDirectory(directory, mode: .overwrite)
        #expect(try fresh.latest == nil)
        #expect(try files(directory) == ["axon.lock"])
    }

    @Test("opening a directory removes the temporary files of killed writers and nothing else")
    func staleTemporaryFiles() throws {
        let directory = temporaryDirectory("stale")
        defer { try? FileManager.default.removeItem(at: directory) }
        do { try RunDirectory(directory).save(try state(epoch: 1, metrics: [:])) }
        for name in [".checkpoint_epoch_2.axon.4242.17.tmp", ".latest.4242.18.tmp"] {
            try Data("half-written".utf8).write(to: directory.appendingPathComponent(name))
        }
        let run = try RunDirectory(directory, mode: .resume)
        #expect(run.removedStaleFiles == [".checkpoint_epoch_2.axon.4242.17.tmp", ".latest.4242.18.tmp"])
        #expect(try files(directory) == ["axon.lock", "checkpoint_epoch_1.axon", "latest"])
        run.close()
        // A first save killed after its checkpoint's rename but before latest's: a leftover.
        try FileManager.default.removeItem(at: directory.appendingPathComponent("latest"))
        let next = try RunDirectory(directory)
        #expect(next.removedStaleFiles == ["checkpoint_epoch_1.axon"])
        #expect(try files(directory) == ["axon.lock"])
    }

    @Test("keep-last keeps the newest checkpoints, keep-best the best by the metric, and latest always")
    func retention() throws {
        let losses = [0.5, 0.3, 0.4, 0.2, 0.6]
        func kept(_ retention: RunDirectory.Retention) throws -> [String] {
            let directory = temporaryDirectory("retention")
            defer { try? FileManager.default.removeItem(at: directory) }
            let run = try RunDirectory(directory, retention: retention)
            for (index, loss) in losses.enumerated() {
                try run.save(try state(epoch: index + 1, metrics: ["validation_loss": loss, "accuracy": 1 - loss]))
            }
            return try files(directory).filter { $0.hasPrefix("checkpoint_") }
        }
        func names(_ epochs: [Int]) -> [String] { epochs.map { "checkpoint_epoch_\($0).axon" } }
        #expect(try kept(.all) == names([1, 2, 3, 4, 5]))
        #expect(try kept(.init(keepLast: 2)) == names([4, 5]))
        // Lowest losses: epochs 4 (0.2) and 2 (0.3); epoch 5 is latest.
        #expect(try kept(.init(keepBest: .init(metric: "validation_loss", mode: .min, count: 2))) == names([2, 4, 5]))
        #expect(try kept(.init(keepBest: .init(metric: "accuracy", mode: .max, count: 1))) == names([4, 5]))
        #expect(try kept(.init(keepLast: 1, keepBest: .init(metric: "validation_loss", mode: .min))) == names([4, 5]))
        #expect(errorMessage { _ = try RunDirectory(temporaryDirectory("bad"), retention: .init(keepLast: 0)) }?.contains("keepLast must be at least 1") == true)
    }

    @Test("a latest file that names anything but a checkpoint here is refused")
    func hostileLatest() throws {
        let directory = temporaryDirectory("latest")
        defer { try? FileManager.default.removeItem(at: directory) }
        do { try RunDirectory(directory).save(try state(epoch: 1, metrics: [:])) }
        let pointer = directory.appendingPathComponent("latest")
        try Data("../../etc/passwd\n".utf8).write(to: pointer)
        #expect(errorMessage { _ = try RunDirectory.latestCheckpoint(in: directory) }?.contains("does not name a checkpoint file") == true)
        try Data("checkpoint_epoch_9.axon".utf8).write(to: pointer)
        #expect(errorMessage { _ = try RunDirectory.latestCheckpoint(in: directory) }?.contains("names checkpoint_epoch_9.axon, which does not exist") == true)
    }

    @Test("resuming in the middle of an epoch equals the uninterrupted run, parameters and metrics bit for bit")
    func midEpochResume() throws {
        let directory = temporaryDirectory("midepoch")
        defer { try? FileManager.default.removeItem(at: directory) }
        let uninterrupted = try trainer().run(try data(), epochs: 3)
        // Stop before step 7 (epoch 2, iteration 3), saving the state there.
        let run = try RunDirectory(directory)
        let stopped = try trainer().handle(.iterationStarted) { state in
            guard state.step == 7 else { return .proceed }
            try run.save(state)
            return .haltLoop
        }.run(try data(), epochs: 3)
        #expect(stopped.step == 7)
        run.close()
        let latest = try #require(try RunDirectory.latestCheckpoint(in: directory))
        #expect(latest.lastPathComponent == "checkpoint_step_7.axon")
        let saved = try Checkpoint.load(latest, on: backend)
        #expect((saved.epoch, saved.iteration) == (1, 2))
        let resumed = try trainer().run(try data(), epochs: 3, resumeFrom: saved)
        #expect(resumed.step == uninterrupted.step)
        for name in uninterrupted.stepState.model.parameters.names {
            #expect(try resumed.stepState.model.parameters.tensor(name).scalars.map(\.bitPattern)
                == uninterrupted.stepState.model.parameters.tensor(name).scalars.map(\.bitPattern), "\(name)")
        }
        #expect(resumed.history == uninterrupted.history)
    }

    @Test("a checkpoint of another model is refused, naming the parameter that differs")
    func otherModel() throws {
        let directory = temporaryDirectory("othermodel")
        defer { try? FileManager.default.removeItem(at: directory) }
        let run = try RunDirectory(directory)
        _ = try trainer().checkpoint(in: run).run(try data(), epochs: 1)
        let saved = try Checkpoint.load(try #require(try run.latest), on: backend)
        let wider = Axon.input("features", shape: [nil, 2]).dense(16, activation: .tanh).dropout(rate: 0.1).dense(1)
        let message = errorMessage { _ = try trainer(model: wider).run(try data(), epochs: 2, resumeFrom: saved) }
        #expect(message == "resume: the saved state does not fit this model and optimizer: parameter 'dense_0.bias' is float32 [8] there, float32 [16] here")
    }

    @Test("a diverging run halts at its first non-finite loss, with the state before that step saved")
    func divergence() throws {
        let directory = temporaryDirectory("divergence")
        defer { try? FileManager.default.removeItem(at: directory) }
        var losses: [Double] = []
        let run = try RunDirectory(directory)
        let final = try trainer(learningRate: 1e30)
            .handle(.iterationCompleted) { state in losses.append(state.stepLoss!); return .proceed }
            .haltOnNonFiniteLoss(savingTo: run).checkpoint(in: run)
            .run(try data(), epochs: 50)
        // Adam's first step moves every parameter by about the learning rate (m̂/√v̂ = ±1), so
        // the parameters are finite but near 1e30, and the second step's float32 loss, the
        // square of outputs near 1e31, overflows to +∞.
        #expect(losses.count == 2 && losses[0].isFinite && !losses[1].isFinite, "\(losses)")
        #expect(final.step == 2)
        let reason = try #require(final.haltReason)
        #expect(reason.hasPrefix("the loss became +infinity at epoch 1, iteration 2 (step 2); the state before that step is saved as"), "\(reason)")
        let latest = try #require(try run.latest)
        #expect(latest.lastPathComponent == "checkpoint_step_1.axon")
        let saved = try Checkpoint.load(latest, on: backend, requireFiniteParameters: true)
        #expect((saved.epoch, saved.iteration, saved.step) == (0, 1, 1))
    }
}

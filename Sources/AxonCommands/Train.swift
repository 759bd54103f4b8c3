import ArgumentParser
import AxonCore
import AxonInterop
import Backend
import Distributed
import Foundation
import Logging

/// `axon train`: trains a model, validating on the held-out split after every epoch, and ends
/// with a line `held-out accuracy: 97.12% (loss 0.0912)`.
///
/// Every output path is checked before the first step, the results are printed before the plot
/// is written, a diverging run halts with its last finite state saved, and `--resume DIR`
/// continues a run from its newest checkpoint exactly as if it had never stopped.
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a model and report held-out accuracy.",
        discussion: """
            Examples:
              axon train --model mnist-cnn --epochs 3 --checkpoint-dir runs/cnn --keep-last 2
              axon train --resume runs/cnn --epochs 6     # continue the same run to 6 epochs
              axon train --tensorboard runs/tb --log-csv runs/metrics.csv
              mpirun -np 2 axon train --distributed --batch-size 64 --checkpoint-dir runs/dp
            """)

    enum Verbosity: String, ExpressibleByArgument { case batch, epoch, silent }

    @OptionGroup var backendOptions: BackendOptions
    @OptionGroup var dataOptions: DataOptions
    @Option(help: "mnist-mlp, mnist-cnn, resnet-small or mnist-lstm (default mnist-mlp, or a resumed run's).") var model: String?
    @Option(help: "Epochs the run should have completed in all, resumed ones included.") var epochs = 5
    @Option(name: .customLong("batch-size"), help: "Default 128, or a resumed run's.") var batchSize: Int?
    @Option(help: "sgd, momentum, adam, adamw, adabelief, adagrad, rmsprop, radam, yogi, lamb, noisy_sgd, fromage (default adam, or a resumed run's).")
    var optimizer: String?
    @Option(name: .customLong("learning-rate"), help: "Default 0.001 (0.003 for mnist-lstm), or a resumed run's.") var learningRate: Float?
    @Option(help: "Seeds the data, the initial parameters and dropout (default 0, or a resumed run's).") var seed: UInt64?
    @Option(help: "batch, epoch or silent.") var verbosity: Verbosity = .epoch
    @Option(name: .customLong("checkpoint-dir"), help: "Save a checkpoint after every epoch in this run directory.")
    var checkpointDirectory: String?
    @Option(help: "Continue the run whose checkpoints are in this directory from its newest one.") var resume: String?
    @Flag(help: "Discard the checkpoints already in --checkpoint-dir instead of refusing to start.") var overwrite = false
    @Option(name: .customLong("keep-last"), help: "Keep only the newest N checkpoints (and the best ones, with --keep-best).")
    var keepLast: Int?
    @Option(name: .customLong("keep-best"), help: "Keep the best checkpoints by this metric, e.g. validation_loss.") var keepBest: String?
    @Option(name: .customLong("keep-best-count"), help: "How many best checkpoints --keep-best keeps.") var keepBestCount = 1
    @Option(name: .customLong("keep-best-mode"), help: "min or max (default: max for accuracy-like metrics, else min).")
    var keepBestMode: MonitorMode?
    @Flag(name: .customLong("halt-on-nan"), inversion: .prefixedNo, help: "Stop when the loss becomes NaN or infinite, saving the last finite state.")
    var haltOnNaN = true
    @Flag(name: .customLong("compile"), inversion: .prefixedNo, help: "Replay each batch shape's traced forward and backward pass from its third step on (--no-compile: every step eager, with the same results).")
    var compile = true
    @Option(help: "Write loss and accuracy curves to this SVG file.") var plot: String?
    @Option(help: "Write TensorBoard event files (scalars, histograms, the model) into this directory.") var tensorboard: String?
    @Option(name: .customLong("log-csv"), help: "Write every batch's and epoch's metrics to this CSV file.") var logCSV: String?
    @Option(name: .customLong("log-jsonl"), help: "Write every epoch's metrics to this file as JSON lines.") var logJSONL: String?
    @Flag(help: "Train data-parallel on the processes an MPI launcher started (mpirun -np N axon train --distributed); --batch-size is then per process, and only rank 0 prints and writes files.")
    var distributed = false
    @Option(help: "fp32, or bf16: layers compute in bfloat16 on float32 master parameters, normalisation in float32 (default fp32, or a resumed run's).")
    var precision: Precision?
    @Option(name: .customLong("bucket-mb"), help: "With --distributed: the most megabytes of gradients one all-reduce carries.") var bucketMB = 16
    @Flag(name: .customLong("sync-batch-norm"), help: "With --distributed: batch norm uses the global batch's statistics, so the processes train as one process with the global batch (slower: the statistics are summed over the processes in every layer).")
    var syncBatchNorm = false

    func validate() throws {
        guard epochs >= 1 else { throw ValidationError("--epochs must be at least 1, got \(epochs)") }
        if let resume, let checkpointDirectory, resume != checkpointDirectory {
            throw ValidationError("--resume continues in its own directory; drop --checkpoint-dir \(checkpointDirectory) or make it \(resume)")
        }
        if resume != nil && overwrite { throw ValidationError("--overwrite discards a run and --resume continues it; choose one") }
        let directory = resume ?? checkpointDirectory
        if directory == nil && (overwrite || keepLast != nil || keepBest != nil) {
            throw ValidationError("--overwrite, --keep-last and --keep-best need --checkpoint-dir")
        }
        if let keepLast, keepLast < 1 { throw ValidationError("--keep-last must be at least 1, got \(keepLast)") }
        guard keepBestCount >= 1 else { throw ValidationError("--keep-best-count must be at least 1, got \(keepBestCount)") }
    }

    func run() throws {
        // A rank that fails ends every rank, so that none waits for it in a collective.
        try runReportingErrors(onFailure: distributed ? { MPICommunicator.abortWorld(1) } : nil) {
            let world = try distributed ? MPICommunicator.world() : nil
            let leader = (world?.rank ?? 0) == 0
            // Everything that can fail without training fails here, before the first step.
            let plotURL = plot.map { URL(fileURLWithPath: $0) }
            let csvURL = logCSV.map { URL(fileURLWithPath: $0) }, jsonlURL = logJSONL.map { URL(fileURLWithPath: $0) }
            if leader {
                for url in [plotURL, csvURL, jsonlURL].compactMap({ $0 }) { try FileAccess.checkWritableFile(url) }
                if let tensorboard { try FileAccess.prepareDirectory(URL(fileURLWithPath: tensorboard)) }
            }
            let backend = try backendOptions.resolve()
            let ranks = world?.size ?? 1
            // A run's batch is the global one, so that it resumes on any number of processes.
            let requested = RunConfiguration.Requested(
                model: model, optimizer: optimizer, learningRate: learningRate, batchSize: batchSize.map { $0 * ranks }, seed: seed,
                data: dataOptions.data, precision: precision)
            var notes: [String] = []
            let (configuration, runDirectory, resumed) = try open(requested, on: backend, writable: leader, notes: &notes)
            defer { runDirectory?.close() }
            guard configuration.batchSize % ranks == 0 else {
                throw AxonError.invalidValue(
                    operation: "train --distributed",
                    reason: "the run's batch of \(configuration.batchSize) examples does not divide among \(ranks) processes; use a number of processes that divides it")
            }

            let (train, heldOut) = try dataOptions.load(configuration.data, seed: configuration.seed)
            func say(_ line: String) { if leader { print(line) } }
            say("backend: \(backend.name) (\(backend.deviceDescription))")
            say("data: \(configuration.data.rawValue), \(train.count) training and \(heldOut.count) held-out images; model: \(configuration.model.rawValue)"
                + (configuration.precision == .fp32 ? "" : ", precision \(configuration.precision.rawValue)"))
            if let world {
                say("distributed: \(world.size) processes, \(configuration.batchSize / world.size) examples each per batch of \(configuration.batchSize) (\(MPICommunicator.libraryVersion))")
            }
            if let resumed {
                let position = resumed.iteration == 0
                    ? "after epoch \(resumed.epoch)" : "in epoch \(resumed.epoch + 1) at iteration \(resumed.iteration + 1)"
                say("resuming \(URL(fileURLWithPath: resume ?? ".").path) \(position) (step \(resumed.step))")
            }
            for note in notes { say("note: \(note)") }
            LoggingSystem.bootstrap { label in
                var handler = StreamLogHandler.standardOutput(label: label)
                handler.logLevel = .info
                return handler
            }
            var batches = try train.batches(size: configuration.batchSize, shuffle: true, seed: configuration.seed, on: backend)
            if let world { batches = try batches.shard(world.rank, of: world.size) }
            let loop = try Loop.trainer(
                model: configuration.precision.applied(to: configuration.model.model), loss: .categoricalCrossEntropy(fromLogits: true, sparse: true),
                optimizer: Optimizer.named(configuration.optimizer, learningRate: configuration.learningRate), on: backend,
                seed: configuration.seed,
                dataParallel: world.map {
                    DataParallel($0, bucketBytes: Swift.max(bucketMB, 1) << 20, synchronizesBatchStatistics: syncBatchNorm, settings: configuration.metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
                }
            ).metric(.accuracy()).validate(on: try heldOut.batches(size: 500, on: backend))
            loop.compilation?.isEnabled = compile
            switch leader ? verbosity : .silent {
            case .batch: loop.log(.perBatch)
            case .epoch: loop.progress(totalIterations: batches.batchCount)
            case .silent: break
            }
            if let tensorboard, leader {
                loop.log(to: TensorBoardLogger(directory: URL(fileURLWithPath: tensorboard), model: configuration.model.model), scope: .batch)
            }
            if let csvURL, leader { loop.log(to: CSVLogger(csvURL), scope: .batch) }
            if let jsonlURL, leader { loop.log(to: JSONLinesLogger(jsonlURL), scope: .epoch) }
            if haltOnNaN { loop.haltOnNonFiniteLoss(savingTo: runDirectory) }
            if let runDirectory { loop.checkpoint(in: runDirectory) }

            let start = Date()
            let final = try loop.run(batches, epochs: epochs, resumeFrom: resumed)
            let seconds = Date().timeIntervalSince(start)
            let trained = final.history.count - (resumed?.history.count ?? 0)
            say(String(format: "trained %d epochs in %.1f s (%.0f examples/s)", trained, seconds,
                       Double(train.count * trained) / Swift.max(seconds, 1e-9)))
            if let last = final.history.last {
                say(String(format: "held-out accuracy: %.2f%% (loss %.4f)", 100 * (last["validation_accuracy"] ?? 0), last["validation_loss"] ?? .nan))
            }
            if let plotURL, leader {
                let caption = "\(configuration.model.rawValue) on \(backend.name) · \(final.history.count) epochs"
                try TrainingPlot.write(history: final.history, caption: caption, to: plotURL)
            }
            if let reason = final.haltReason {
                throw AxonError.invalidValue(operation: "train", reason: "halted: \(reason)")
            }
        }
    }

    /// The run's configuration, its directory (locked; `nil` unless `writable`, on every rank of a
    /// distributed run but rank 0) and the state it resumes from, if any.
    private func open(
        _ requested: RunConfiguration.Requested, on backend: any Backend, writable: Bool, notes: inout [String]
    ) throws -> (RunConfiguration, RunDirectory?, LoopState?) {
        let retention = RunDirectory.Retention(
            keepLast: keepLast,
            keepBest: keepBest.map { metric in
                RunDirectory.Retention.Best(metric: metric, mode: keepBestMode ?? Self.defaultMode(metric), count: keepBestCount)
            })
        guard let resume else {
            let configuration = try RunConfiguration(requested)
            guard writable else { return (configuration, nil, nil) }
            let directory = try checkpointDirectory.map {
                try RunDirectory(
                    URL(fileURLWithPath: $0), mode: overwrite ? .overwrite : .new, retention: retention,
                    metadata: configuration.metadata.merging(["backend": backend.name]) { $1 })
            }
            return (configuration, directory, nil)
        }
        let directory = writable ? try RunDirectory(URL(fileURLWithPath: resume), mode: .resume, retention: retention) : nil
        let newest = try directory.map { try $0.latest } ?? RunDirectory.latestCheckpoint(in: URL(fileURLWithPath: resume))
        guard let latest = newest else { throw AxonError.file(path: resume, reason: "holds no checkpoint to resume from") }
        let contents = try Checkpoint.read(latest, on: backend, requireFiniteParameters: true)
        let configuration = try RunConfiguration(resuming: contents.metadata, checkpoint: latest.path, requested, notes: &notes)
        directory?.metadata = configuration.metadata.merging(["backend": backend.name]) { $1 }
        return (configuration, directory, contents.state)
    }

    /// Keras's `auto` mode: metrics where more is better are maximised, others minimised.
    static func defaultMode(_ metric: String) -> MonitorMode {
        ["accuracy", "auc", "precision", "recall"].contains { metric.contains($0) } ? .max : .min
    }
}

/// `min` and `max` as command-line values (`--keep-best-mode`).
extension MonitorMode: ExpressibleByArgument {}

/// `fp32` and `bf16` as command-line values (`--precision`).
extension Precision: ExpressibleByArgument {}

import AxonCore
import Foundation

/// What makes two `axon train` runs the same run: saved in every checkpoint's metadata so that
/// `--resume` can continue with it and refuse options that would make it another run.
struct RunConfiguration: Equatable {
    var model: ModelName
    var optimizer: String
    var learningRate: Float
    var batchSize: Int
    var seed: UInt64
    var data: DataOptions.Source
    var precision: Precision

    /// The options `axon train` asks for, each nil where not given on the command line.
    struct Requested {
        var model: String?, optimizer: String?, learningRate: Float?, batchSize: Int?, seed: UInt64?, data: DataOptions.Source?
        var precision: Precision? = nil
    }

    static let defaults = RunConfiguration(
        model: .mnistMLP, optimizer: "adam", learningRate: 1e-3, batchSize: 128, seed: 0, data: .digits, precision: .fp32)

    var metadata: [String: String] {
        [
            "program": "axon train", "model": model.rawValue, "optimizer": optimizer, "learning_rate": "\(learningRate)",
            "batch_size": "\(batchSize)", "seed": "\(seed)", "data": data.rawValue, "precision": precision.rawValue,
        ]
    }

}

extension RunConfiguration {
    /// The configuration of a new run: the requested options over the defaults.
    init(_ requested: Requested) throws {
        var base = Self.defaults
        if let model = requested.model.flatMap(ModelName.init(rawValue:)) { base.learningRate = model.defaultLearningRate }
        self = try base.overridden(by: requested)
    }

    /// The configuration to resume a checkpoint with: its saved configuration (the defaults for
    /// keys it lacks) under the requested options. When `refusing`, options that would make it
    /// another run are refused; a new learning rate is allowed and reported in `notes`.
    init(
        resuming metadata: [String: String], checkpoint: String, _ requested: Requested, notes: inout [String], refusing: Bool = true
    ) throws {
        func saved<T>(_ key: String, _ parse: (String) -> T?, _ fallback: T) throws -> T {
            guard let text = metadata[key] else { return fallback }
            guard let value = parse(text) else {
                throw AxonError.file(path: checkpoint, reason: "its saved \(key) '\(text)' is not understood by this version")
            }
            return value
        }
        let defaults = Self.defaults
        let stored = RunConfiguration(
            model: try saved("model", ModelName.init(rawValue:), defaults.model),
            optimizer: try saved("optimizer", { $0 }, defaults.optimizer),
            learningRate: try saved("learning_rate", Float.init, defaults.learningRate),
            batchSize: try saved("batch_size", Int.init, defaults.batchSize),
            seed: try saved("seed", UInt64.init, defaults.seed),
            data: try saved("data", DataOptions.Source.init(rawValue:), defaults.data),
            precision: try saved("precision", Precision.init(rawValue:), defaults.precision))
        self = try stored.overridden(by: requested)
        guard refusing else { return }
        let differences = [
            ("model", stored.model.rawValue, model.rawValue), ("optimizer", stored.optimizer, optimizer),
            ("data", stored.data.rawValue, data.rawValue), ("seed", "\(stored.seed)", "\(seed)"),
            ("batch size", "\(stored.batchSize)", "\(batchSize)"), ("precision", stored.precision.rawValue, precision.rawValue),
        ].filter { $0.1 != $0.2 }
        guard differences.isEmpty else {
            let list = differences.map { "\($0.0) \($0.1) there, \($0.2) here" }.joined(separator: "; ")
            throw AxonError.file(
                path: checkpoint,
                reason: "belongs to another run (\(list)); resume with the same options, or start a new run in another directory")
        }
        if stored.learningRate != learningRate {
            notes.append("continuing with learning rate \(learningRate) (the run so far used \(stored.learningRate))")
        }
    }

    private func overridden(by requested: Requested) throws -> RunConfiguration {
        var result = self
        if let name = requested.model {
            guard let model = ModelName(rawValue: name) else {
                throw AxonError.invalidValue(operation: "train", reason: "unknown model '\(name)'; choose \(ModelName.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            result.model = model
        }
        if let optimizer = requested.optimizer { result.optimizer = optimizer }
        if let learningRate = requested.learningRate { result.learningRate = learningRate }
        if let batchSize = requested.batchSize { result.batchSize = batchSize }
        if let seed = requested.seed { result.seed = seed }
        if let data = requested.data { result.data = data }
        if let precision = requested.precision { result.precision = precision }
        guard result.learningRate.isFinite, result.learningRate > 0 else {
            throw AxonError.invalidValue(operation: "train", reason: "--learning-rate must be a positive finite number, got \(result.learningRate)")
        }
        guard result.batchSize >= 1 else {
            throw AxonError.invalidValue(operation: "train", reason: "--batch-size must be at least 1, got \(result.batchSize)")
        }
        _ = try Optimizer.named(result.optimizer, learningRate: result.learningRate)
        return result
    }
}

/// The arithmetic `axon train --precision` trains in.
enum Precision: String, CaseIterable {
    /// Everything in float32.
    case fp32
    /// Layers compute in bfloat16 on float32 master parameters; normalisation stays float32.
    case bf16

    /// `model` under this precision's policy.
    func applied(to model: Axon) throws -> Axon {
        self == .bf16 ? try model.applyingPolicy(.bfloat16) : model
    }
}

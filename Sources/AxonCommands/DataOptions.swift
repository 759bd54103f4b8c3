import ArgumentParser
import AxonCore
import AxonData
import Foundation

/// Where the data comes from: the embedded procedural digits (default) or MNIST IDX files.
struct DataOptions: ParsableArguments {
    enum Source: String, ExpressibleByArgument, CaseIterable { case digits, mnist }

    @Option(help: "digits (generated, no download) or mnist (IDX files in --data-dir); default digits, or a resumed run's.")
    var data: Source?
    @Option(name: .customLong("data-dir"), help: "Directory of MNIST IDX files (raw or .gz).") var dataDirectory = "../shared/datasets/mnist"

    /// Training and held-out sets: 10,000 + 2,000 generated digits, or MNIST's split.
    func load(_ source: Source, seed: UInt64) throws -> (train: Dataset, heldOut: Dataset) {
        switch source {
        case .digits: return try Digits.generate(count: 12_000, seed: seed &+ 1_000).split(at: 10_000)
        case .mnist: return try MNIST.load(directory: URL(fileURLWithPath: dataDirectory))
        }
    }
}

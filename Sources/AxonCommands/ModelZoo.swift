import AxonCore

/// The models the CLI can train, all on 28×28×1 images with 10 classes.
enum ModelName: String, CaseIterable {
    case mnistMLP = "mnist-mlp"
    case mnistCNN = "mnist-cnn"
    case resnetSmall = "resnet-small"
    /// Each image read row by row: 28 steps of 28 features through an LSTM of 128 units.
    case mnistLSTM = "mnist-lstm"

    /// The learning rate a new run starts with unless `--learning-rate` is given.
    var defaultLearningRate: Float { self == .mnistLSTM ? 3e-3 : 1e-3 }

    var model: Axon {
        let input = Axon.input("features", shape: [nil, 28, 28, 1], axes: ["batch", "height", "width", "channels"])
        switch self {
        case .mnistMLP:
            return input.flatten().dense(128, activation: .relu).dense(10)
        case .mnistCNN:
            return input
                .conv(32, kernelSize: [3], padding: .same).batchNorm().relu().maxPool()
                .conv(64, kernelSize: [3], padding: .same).batchNorm().relu().maxPool()
                .flatten().dropout(rate: 0.25).dense(10)
        case .resnetSmall:
            func block(_ x: Axon, _ filters: Int) -> Axon {
                x.residual { $0.conv(filters, kernelSize: [3], padding: .same).batchNorm().relu().conv(filters, kernelSize: [3], padding: .same).batchNorm() }.relu()
            }
            let stem = input.conv(16, kernelSize: [3], padding: .same, activation: .relu)
            let stage1 = block(block(stem, 16), 16).maxPool()
            let stage2 = block(stage1.conv(32, kernelSize: [1]), 32).maxPool()
            return stage2.globalAvgPool().dense(10)
        case .mnistLSTM:
            return input.reshape([28, 28]).lstm(128).last.dense(10)
        }
    }
}

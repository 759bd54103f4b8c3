import AxonCore
import Backend
import Foundation

/// Loss case files: targets, predictions, and the mean loss and its gradient with respect to
/// the predictions as another implementation computed them (optax and `jax.grad`, by
/// `scripts/record-optax.py`). The case runs Axon's loss of that name and options, and its
/// reverse-mode gradient, on every backend.
///
/// ```json
/// {"name": "loss huber recorded from optax", "loss": "huber", "options": {"delta": 0.5},
///  "yTrue": {"shape": [1, 2], "dtype": "float32", "values": [0, 1]},
///  "yPred": {"shape": [1, 2], "values": [0.25, 3]},
///  "value": 0.39, "gradient": {"shape": [1, 2], "values": [0.125, 0.25]}}
/// ```
public enum RecordedLoss {
    /// The loss's options; an absent one takes Axon's default.
    struct Options: Decodable {
        var fromLogits: Bool?
        var sparse: Bool?
        var labelSmoothing: Float?
        var delta: Float?
    }

    struct Document: Decodable {
        let name: String
        let loss: String
        let options: Options
        let yTrue: CaseFile.TensorSpec
        let yPred: CaseFile.TensorSpec
        let value: Float
        let gradient: CaseFile.TensorSpec
    }

    /// Whether a case file's JSON is a recorded loss.
    static func isLoss(_ data: Data) -> Bool {
        ((try? JSONSerialization.jsonObject(with: data)) as? [String: Any])?["loss"] != nil
    }

    /// Axon's loss function of that name (a ``Losses`` member) with the file's options.
    static func function(_ name: String, _ options: Options) throws -> @Sendable (Tensor, Tensor) throws -> Tensor {
        switch name {
        case "categoricalCrossEntropy":
            return {
                try Losses.categoricalCrossEntropy(
                    $0, $1, fromLogits: options.fromLogits ?? false, sparse: options.sparse ?? false, labelSmoothing: options.labelSmoothing ?? 0)
            }
        case "binaryCrossEntropy":
            return { try Losses.binaryCrossEntropy($0, $1, fromLogits: options.fromLogits ?? false, labelSmoothing: options.labelSmoothing ?? 0) }
        case "meanSquaredError": return { try Losses.meanSquaredError($0, $1) }
        case "huber": return { try Losses.huber($0, $1, delta: options.delta ?? 1) }
        case "logCosh": return { try Losses.logCosh($0, $1) }
        case "hinge": return { try Losses.hinge($0, $1) }
        case "klDivergence": return { try Losses.klDivergence($0, $1) }
        case "cosineSimilarity": return { try Losses.cosineSimilarity($0, $1) }
        default: throw ConformanceError("unknown loss '\(name)' in a recorded loss case")
        }
    }

    /// A recorded loss file as a conformance case.
    public static func decode(_ data: Data, name file: String, directory: URL) throws -> ConformanceCase {
        let document: Document
        do {
            document = try JSONDecoder().decode(Document.self, from: data)
        } catch {
            throw ConformanceError("\(file) is not a valid recorded loss: \(error)")
        }
        let loss = try function(document.loss, document.options)
        let targets = try CaseFile.array(document.yTrue, directory, "\(file) yTrue")
        let predictions = try CaseFile.array(document.yPred, directory, "\(file) yPred")
        let expected = [
            try HostArray(shape: [], elements: .float32([document.value])), try CaseFile.array(document.gradient, directory, "\(file) gradient"),
        ]
        return ConformanceCase(
            document.name, covers: ["loss.\(document.loss)"], opClass: .gradient,
            body: .library { backend in
                let yTrue = try Tensor(targets, on: backend)
                let yPred = try Tensor(predictions, on: backend)
                let value = try loss(yTrue, yPred)
                let slope = try gradient(at: yPred) { try loss(yTrue, $0) }
                return [try value.array, try slope.array]
            },
            expected: expected)
    }
}

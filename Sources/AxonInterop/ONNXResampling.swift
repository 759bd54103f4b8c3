import AxonCore
import Foundation

/// Group and instance norm as `InstanceNormalization` over regrouped channels, and resize as
/// `Resize` with the sampling conventions of `jax.image.resize`.
extension ONNXGraphBuilder {
    /// Channels regrouped `[N, G, rest]`, each group normalised by `InstanceNormalization`,
    /// the shape restored, then the per-channel scale and offset.
    mutating func groupNorm(_ layer: LayerDescription, _ options: ONNXOptions, input: String, inputShape: SymbolicShape) throws -> String {
        let hint = layer.name, rank = inputShape.count
        let last = try options.string("channels") == "last"
        guard let channels = last ? inputShape[rank - 1] : inputShape[1] else { throw ONNXUnsupported("unknown channel count") }
        let groups = (options.values["groups"] as? Int) ?? channels
        let first = channelsFirst(input, rank: rank, last: last, hint: hint)
        let grouped = node("Reshape", [first, int64s([0, groups, -1], hint: hint)], hint: hint)[0]
        let ones = constant(Array(repeating: 1, count: groups), shape: [groups], hint: hint)
        let zeros = constant(Array(repeating: 0, count: groups), shape: [groups], hint: hint)
        let normalized = node("InstanceNormalization", [grouped, ones, zeros], [ONNXAttribute.float("epsilon", try options.float("epsilon"))], hint: hint)[0]
        var y = node("Reshape", [normalized, node("Shape", [first], hint: hint)[0]], hint: hint)[0]
        if try options.bool("affine") {
            let perChannel = [channels] + Array(repeating: 1, count: rank - 2)
            let gamma = try parameter("\(layer.parameterScope).gamma"), beta = try parameter("\(layer.parameterScope).beta")
            y = node("Mul", [y, constant(gamma.values, shape: perChannel, hint: hint)], hint: hint)[0]
            y = node("Add", [y, constant(beta.values, shape: perChannel, hint: hint)], hint: hint)[0]
        }
        return channelsLast(y, rank: rank, last: last, hint: hint)
    }

    /// `Resize` to the layer's sizes (the batch and channel sizes taken from the input at run
    /// time): nearest as `⌊(o + ½)·in/out⌋` (half-pixel, rounding halves up), linear and cubic
    /// (a = −½, samples outside the input excluded and the rest renormalised) at half-pixel
    /// centres or aligned corners. Antialiased downsampling and Lanczos kernels have no ONNX
    /// form.
    mutating func resize(_ layer: LayerDescription, _ options: ONNXOptions, input: String, inputShape: SymbolicShape) throws -> String {
        let hint = layer.name, rank = inputShape.count
        let last = try options.string("channels") == "last"
        let size = try options.ints("size")
        let spatialIn = last ? Array(inputShape[1..<(rank - 1)]) : Array(inputShape[2...])
        let method = try options.string("method")
        let downsampling = zip(spatialIn, size).contains { input, output in input.map { output < $0 } ?? true }
        let antialias = try options.bool("antialias")
        if method != "nearest" && antialias && downsampling {
            throw ONNXUnsupported("antialiased downsampling")
        }
        var attributes: [Onnx_AttributeProto]
        switch method {
        case "nearest":
            attributes = [ONNXAttribute.string("mode", "nearest"), ONNXAttribute.string("nearest_mode", "round_prefer_ceil")]
        case "linear":
            attributes = [ONNXAttribute.string("mode", "linear")]
        case "cubic":
            attributes = [ONNXAttribute.string("mode", "cubic"), ONNXAttribute.float("cubic_coeff_a", -0.5), ONNXAttribute.int("exclude_outside", 1)]
        default:
            throw ONNXUnsupported("the \(method) kernel")
        }
        let alignCorners = try options.bool("alignCorners")
        let aligned = alignCorners && method != "nearest"
        attributes.append(ONNXAttribute.string("coordinate_transformation_mode", aligned ? "align_corners" : "half_pixel"))
        let first = channelsFirst(input, rank: rank, last: last, hint: hint)
        let leading = node("Slice", [node("Shape", [first], hint: hint)[0], int64s([0], hint: hint), int64s([2], hint: hint)], hint: hint)[0]
        let sizes = node("Concat", [leading, int64s(size, hint: hint)], [ONNXAttribute.int("axis", 0)], hint: hint)[0]
        let y = node("Resize", [first, "", "", sizes], attributes, hint: hint)[0]
        return channelsLast(y, rank: rank, last: last, hint: hint)
    }
}

#if Vulkan
import Backend

extension VulkanBackend {
    /// Pooling as one compute shader dispatch over the output.
    public func window(_ operation: WindowOperation, _ x: Buffer, descriptor: WindowDescriptor) throws -> Buffer {
        let name = "window(\(operation.rawValue))"
        let shape = try ShapeRules.window(x.shape, descriptor: descriptor)
        let output = try makeBuffer(shape, .float32)
        let count = shape.elementCount
        guard count > 0 else { return output }
        try run(
            "window", constants: [code(operation)], inputs: [x], outputs: [output],
            push: [UInt32(count)] + geometry(x.shape, shape, descriptor, name), groups: elementGroups(count))
        return output
    }

    public func windowBackward(
        _ operation: WindowOperation, input: Buffer, gradOutput: Buffer, descriptor: WindowDescriptor
    ) throws -> Buffer {
        let name = "windowBackward(\(operation.rawValue))"
        let shape = try ShapeRules.window(input.shape, descriptor: descriptor)
        let gradInput = try makeBuffer(input.shape, .float32)
        let count = input.shape.elementCount
        guard count > 0 else { return gradInput }
        let geometry = try geometry(input.shape, shape, descriptor, name)
        // Max routes each window's gradient to its first maximum: find those once per window.
        var chosen = gradOutput
        if operation == .max, shape.elementCount > 0 {
            chosen = try makeBuffer(shape, .int32)
            try run("window", constants: [3], inputs: [input], outputs: [chosen], push: [UInt32(shape.elementCount)] + geometry, groups: elementGroups(shape.elementCount))
        }
        try run(
            "window_backward", constants: [code(operation)], inputs: [chosen, gradOutput], outputs: [gradInput],
            push: [UInt32(count)] + geometry, groups: elementGroups(count))
        return gradInput
    }

    private func code(_ operation: WindowOperation) -> UInt32 {
        UInt32(WindowOperation.allCases.firstIndex(of: operation)!)
    }

    /// `[rank, input, output, window, strides, low padding]` with each list padded to
    /// `MAX_RANK`. Neighbouring axes that are not pooled (window 1, stride 1, no padding)
    /// merge, so channels and batch cost no rank.
    private func geometry(_ input: Shape, _ output: Shape, _ d: WindowDescriptor, _ name: String) throws -> [UInt32] {
        var axes: [(input: Int, output: Int, window: Int, stride: Int, low: Int)] = []
        for axis in 0..<input.rank {
            let plain = d.windowDimensions[axis] == 1 && d.strides[axis] == 1 && d.padding[axis] == Padding(0, 0)
            if plain, let last = axes.last, last.window == 1, last.stride == 1, last.low == 0, last.input == last.output {
                axes[axes.count - 1].input *= input[axis]
                axes[axes.count - 1].output *= output[axis]
                continue
            }
            axes.append((input[axis], output[axis], d.windowDimensions[axis], d.strides[axis], d.padding[axis].low))
        }
        let rank = StridedLayout.maximumRank
        guard axes.count <= rank else {
            throw BackendError.invalidArgument(
                operation: name, reason: "the vulkan backend pools at most \(rank) distinct axes, \(input) needs \(axes.count)")
        }
        func padded(_ values: [Int]) -> [UInt32] { values.map { UInt32($0) } + [UInt32](repeating: 1, count: rank - values.count) }
        return [UInt32(axes.count)] + padded(axes.map(\.input)) + padded(axes.map(\.output)) + padded(axes.map(\.window))
            + padded(axes.map(\.stride)) + padded(axes.map(\.low))
    }
}
#endif

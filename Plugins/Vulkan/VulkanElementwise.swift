#if Vulkan
import Backend

extension VulkanBackend {
    /// One elementwise compute shader dispatch.
    public func unary(_ operation: UnaryOperation, _ x: Buffer) throws -> Buffer {
        let output = try makeBuffer(x.shape, x.dtype)
        let count = x.shape.elementCount
        guard count > 0 else { return output }
        let code = UInt32(UnaryOperation.allCases.firstIndex(of: operation)!)
        try run("unary", constants: [code, x.dtype.shaderKind], inputs: [x], outputs: [output], push: [UInt32(count)], groups: elementGroups(count))
        return output
    }

    /// One broadcasting elementwise compute shader dispatch.
    public func binary(_ operation: BinaryOperation, _ a: Buffer, _ b: Buffer) throws -> Buffer {
        let name = "binary(\(operation.rawValue))"
        let code = UInt32(BinaryOperation.allCases.firstIndex(of: operation)!)
        return try broadcasting("binary", constants: [code, a.dtype.shaderKind], [a, b], dtype: a.dtype, name)
    }

    public func compare(_ operation: ComparisonOperation, _ a: Buffer, _ b: Buffer) throws -> Buffer {
        let name = "compare(\(operation.rawValue))"
        let code = UInt32(ComparisonOperation.allCases.firstIndex(of: operation)!)
        return try broadcasting("compare", constants: [code, a.dtype.shaderKind], [a, b], dtype: .bool, name)
    }

    public func select(_ condition: Buffer, _ onTrue: Buffer, _ onFalse: Buffer) throws -> Buffer {
        return try broadcasting("select", constants: [], [condition, onTrue, onFalse], dtype: onTrue.dtype, "select")
    }

    /// Casts by the specification (`HostElements.converted(to:)`); from `bfloat16` through an
    /// exact widening to `float32`.
    public func cast(_ x: Buffer, to dtype: DType) throws -> Buffer {
        if x.dtype == dtype { return x }
        if x.dtype == .bfloat16, dtype != .float32 { return try cast(cast(x, to: .float32), to: dtype) }
        let output = try makeBuffer(x.shape, dtype)
        let count = x.shape.elementCount
        guard count > 0 else { return output }
        if x.dtype == .bfloat16 || dtype == .bfloat16 {
            try run("bfloat16", constants: [x.dtype.shaderKind], inputs: [x], outputs: [output], push: [UInt32(count)], groups: elementGroups(count))
            return output
        }
        try run("cast", constants: [x.dtype.shaderKind, dtype.shaderKind], inputs: [x], outputs: [output], push: [UInt32(count)], groups: elementGroups(count))
        return output
    }

    /// Runs a shader over the broadcast shape of `operands`, each read through its strides.
    private func broadcasting(
        _ shader: String, constants: [UInt32], _ operands: [Buffer], dtype: DType, _ name: String
    ) throws -> Buffer {
        let shape = try operands.dropFirst().reduce(operands[0].shape) { try Shape.broadcast($0, $1.shape, operation: name) }
        let output = try makeBuffer(shape, dtype)
        let count = shape.elementCount
        guard count > 0 else { return output }
        let layout = StridedLayout(shape, strides: operands.map { $0.shape.broadcastStrides(to: shape) })
        try run(
            shader, constants: constants, inputs: operands, outputs: [output],
            push: [UInt32(count)] + layout.pushWords(operation: name), groups: elementGroups(count))
        return output
    }
}
#endif

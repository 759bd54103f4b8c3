import Backend
import CPUReference
import Foundation

/// The reference backend with a count of every primitive and fused op called, to check how
/// often the model runs each node.
final class CountingBackend: Backend, @unchecked Sendable {
    let base = ReferenceBackend()
    private let lock = NSLock()
    private var counts: [String: Int] = [:]

    var name: String { base.name }
    var deviceDescription: String { "counting " + base.deviceDescription }

    func count(_ operation: String) -> Int { lock.withLock { counts[operation, default: 0] } }

    private func record<T>(_ operation: String, _ body: () throws -> T) rethrows -> T {
        lock.withLock { counts[operation, default: 0] += 1 }
        return try body()
    }

    func upload(_ array: HostArray) throws -> Buffer { try record("upload") { try base.upload(array) } }
    func download(_ buffer: Buffer) throws -> HostArray { try record("download") { try base.download(buffer) } }
    func full(_ value: Double, shape: Shape, dtype: DType) throws -> Buffer { try record("full") { try base.full(value, shape: shape, dtype: dtype) } }
    func synchronize() throws { try base.synchronize() }
    func unary(_ operation: UnaryOperation, _ x: Buffer) throws -> Buffer { try record(operation.rawValue) { try base.unary(operation, x) } }
    func binary(_ operation: BinaryOperation, _ a: Buffer, _ b: Buffer) throws -> Buffer { try record(operation.rawValue) { try base.binary(operation, a, b) } }
    func compare(_ operation: ComparisonOperation, _ a: Buffer, _ b: Buffer) throws -> Buffer { try record("compare") { try base.compare(operation, a, b) } }
    func select(_ condition: Buffer, _ onTrue: Buffer, _ onFalse: Buffer) throws -> Buffer { try record("select") { try base.select(condition, onTrue, onFalse) } }
    func cast(_ x: Buffer, to dtype: DType) throws -> Buffer { try record("cast") { try base.cast(x, to: dtype) } }
    func reduce(_ operation: ReductionOperation, _ x: Buffer, axes: [Int], keepDimensions: Bool) throws -> Buffer {
        try record("reduce") { try base.reduce(operation, x, axes: axes, keepDimensions: keepDimensions) }
    }
    func indexReduce(_ operation: IndexReductionOperation, _ x: Buffer, axis: Int, keepDimensions: Bool) throws -> Buffer {
        try record("indexReduce") { try base.indexReduce(operation, x, axis: axis, keepDimensions: keepDimensions) }
    }
    func matmul(_ a: Buffer, _ b: Buffer, transposeA: Bool, transposeB: Bool) throws -> Buffer {
        try record("matmul") { try base.matmul(a, b, transposeA: transposeA, transposeB: transposeB) }
    }
    func convolution(_ input: Buffer, kernel: Buffer, descriptor: ConvolutionDescriptor) throws -> Buffer {
        try record("convolution") { try base.convolution(input, kernel: kernel, descriptor: descriptor) }
    }
    func convolutionBackwardInput(gradOutput: Buffer, kernel: Buffer, inputShape: Shape, descriptor: ConvolutionDescriptor) throws -> Buffer {
        try record("convolutionBackwardInput") {
            try base.convolutionBackwardInput(gradOutput: gradOutput, kernel: kernel, inputShape: inputShape, descriptor: descriptor)
        }
    }
    func convolutionBackwardKernel(input: Buffer, gradOutput: Buffer, kernelShape: Shape, descriptor: ConvolutionDescriptor) throws -> Buffer {
        try record("convolutionBackwardKernel") {
            try base.convolutionBackwardKernel(input: input, gradOutput: gradOutput, kernelShape: kernelShape, descriptor: descriptor)
        }
    }
    func window(_ operation: WindowOperation, _ x: Buffer, descriptor: WindowDescriptor) throws -> Buffer {
        try record("window") { try base.window(operation, x, descriptor: descriptor) }
    }
    func windowBackward(_ operation: WindowOperation, input: Buffer, gradOutput: Buffer, descriptor: WindowDescriptor) throws -> Buffer {
        try record("windowBackward") { try base.windowBackward(operation, input: input, gradOutput: gradOutput, descriptor: descriptor) }
    }
    func permute(_ x: Buffer, _ permutation: [Int]) throws -> Buffer { try record("permute") { try base.permute(x, permutation) } }
    func slice(_ x: Buffer, starts: [Int], limits: [Int], strides: [Int]) throws -> Buffer {
        try record("slice") { try base.slice(x, starts: starts, limits: limits, strides: strides) }
    }
    func pad(_ x: Buffer, padding: [Padding], value: Double) throws -> Buffer { try record("pad") { try base.pad(x, padding: padding, value: value) } }
    func concatenate(_ xs: [Buffer], axis: Int) throws -> Buffer { try record("concatenate") { try base.concatenate(xs, axis: axis) } }
    func broadcast(_ x: Buffer, to shape: Shape) throws -> Buffer { try record("broadcast") { try base.broadcast(x, to: shape) } }
    func gather(_ x: Buffer, indices: Buffer, axis: Int) throws -> Buffer { try record("gather") { try base.gather(x, indices: indices, axis: axis) } }
    func scatterAdd(_ updates: Buffer, indices: Buffer, axis: Int, dimensionSize: Int) throws -> Buffer {
        try record("scatterAdd") { try base.scatterAdd(updates, indices: indices, axis: axis, dimensionSize: dimensionSize) }
    }
    func iota(shape: Shape, axis: Int, dtype: DType) throws -> Buffer { try record("iota") { try base.iota(shape: shape, axis: axis, dtype: dtype) } }
    func randomBits(key: Philox.Key, offset: UInt64, shape: Shape) throws -> Buffer {
        try record("randomBits") { try base.randomBits(key: key, offset: offset, shape: shape) }
    }
}

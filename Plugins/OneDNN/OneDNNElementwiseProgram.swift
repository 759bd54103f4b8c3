#if OneDNN
import Backend
import COneDNNKernels

extension OneDNNBackend {
    /// Runs the program in one pass over memory: each thread takes a chunk of the elements and
    /// runs every step on a tile of them at a time, in registers that stay in cache. Each
    /// element gets the bits of the primitives the program chains: the steps compute with this
    /// backend's kernels (relu, the transcendental functions of `axon_vector_function`), with the
    /// float definitions the fallback's primitives use (`UnaryOperation`'s and
    /// `BinaryOperation`'s), or with vector code that rounds the same way (+, −, ×, ÷).
    public func elementwise(_ program: ElementwiseProgram, _ inputs: [Buffer]) throws -> Buffer {
        let shape = try inputs.dropFirst().reduce(inputs[0].shape) { try Shape.broadcast($0, $1.shape, operation: "elementwise") }
        let count = shape.elementCount
        let sources = try inputs.map { (address: try address($0, "elementwise").assumingMemoryBound(to: Float.self), broadcast: $0.shape.elementCount == 1) }
        // The result is the last step's, so a donated input's element is read before it is written over.
        let (output, pointer) = try output(shape, over: inputs)
        let target = pointer.assumingMemoryBound(to: Float.self)
        let tile = ProgramTiles.width
        try work.forEachChunk(items: count, operations: count * program.steps.count * Self.elementwiseCost) { range in
            // One tile per register: the inputs broadcast from one element, then the steps' results.
            let registers = UnsafeMutablePointer<Float>.allocate(capacity: (program.inputCount + program.steps.count) * tile)
            defer { registers.deallocate() }
            for (index, source) in sources.enumerated() where source.broadcast {
                (registers + index * tile).initialize(repeating: source.address[0], count: tile)
            }
            var start = range.lowerBound
            while start < range.upperBound {
                let n = Swift.min(tile, range.upperBound - start)
                func register(_ index: Int) -> UnsafePointer<Float> {
                    if index < sources.count, !sources[index].broadcast { return UnsafePointer(sources[index].address + start) }
                    return UnsafePointer(registers + index * tile)
                }
                for (offset, step) in program.steps.enumerated() {
                    let written = program.inputCount + offset
                    let out = written == program.resultRegister ? target + start : registers + written * tile
                    switch step {
                    case let .unary(operation, a): ProgramTiles.unary(operation, register(a), out, n)
                    case let .binary(operation, a, b): ProgramTiles.binary(operation, register(a), register(b), out, n)
                    }
                }
                start += n
            }
        }
        return output
    }
}

/// The loops of one program step over a tile.
enum ProgramTiles {
    /// Elements per tile: every register's tile of a program of a dozen steps fits in L1.
    static let width = 512
    typealias Vector = Kernels.Vector

    static func unary(_ operation: UnaryOperation, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ count: Int) {
        switch operation {
        case .relu: Kernels.relu(x, y, count)
        default:
            if let function = operation.vectorFunction {
                axon_vector_function(function, x, y, count)
            } else {
                for i in 0..<count { y[i] = operation(x[i]) }
            }
        }
    }

    static func binary(
        _ operation: BinaryOperation, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ count: Int
    ) {
        switch operation {
        case .add: vectorised(a, b, y, count, +)
        case .subtract: vectorised(a, b, y, count, -)
        case .multiply: vectorised(a, b, y, count, *)
        case .divide: vectorised(a, b, y, count, /)
        default: for i in 0..<count { y[i] = operation(a[i], b[i]) }
        }
    }

    /// `body` on whole vectors, then the tail: IEEE arithmetic rounds each lane as it rounds a scalar.
    @inline(__always)
    private static func vectorised(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ count: Int,
        _ body: (Vector, Vector) -> Vector
    ) {
        var i = 0
        while i + Vector.scalarCount <= count {
            let result = body(UnsafeRawPointer(a + i).loadUnaligned(as: Vector.self), UnsafeRawPointer(b + i).loadUnaligned(as: Vector.self))
            UnsafeMutableRawPointer(y + i).storeBytes(of: result, as: Vector.self)
            i += Vector.scalarCount
        }
        while i < count {
            y[i] = body(Vector(repeating: a[i]), Vector(repeating: b[i]))[0]
            i += 1
        }
    }
}
#endif

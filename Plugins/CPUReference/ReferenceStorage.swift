import Backend

/// A dense host allocation holding one buffer's elements (`bool` as one byte, 0 or 1).
final class ReferenceStorage: HostStorage, @unchecked Sendable {
    var pointer: UnsafeMutableRawPointer { address }
    let count: Int
    let dtype: DType

    init(count: Int, dtype: DType) {
        self.count = count
        self.dtype = dtype
        super.init(address: .allocate(byteCount: max(count * dtype.byteSize, 1), alignment: 64))
    }

    deinit { address.deallocate() }

    func elements<T>(_ type: T.Type) -> UnsafeMutableBufferPointer<T> {
        UnsafeMutableBufferPointer(start: pointer.assumingMemoryBound(to: T.self), count: count)
    }
}

/// The elements of any host-memory buffer, whichever CPU backend allocated it.
struct HostView {
    let address: UnsafeMutableRawPointer
    let count: Int

    func elements<T>(_ type: T.Type) -> UnsafeMutableBufferPointer<T> {
        UnsafeMutableBufferPointer(start: address.assumingMemoryBound(to: T.self), count: count)
    }
}

extension Buffer {
    /// The host elements behind this buffer, or a `foreignBuffer` error for device memory.
    func hostView(_ operation: String) throws -> HostView {
        guard let storage = storage as? HostStorage else {
            throw BackendError.foreignBuffer(operation: operation, expected: "host-memory")
        }
        return HostView(address: storage.address, count: shape.elementCount)
    }

    func floats(_ operation: String) throws -> UnsafeMutableBufferPointer<Float> {
        try ShapeRules.requireDType(self, [.float32], operation: operation)
        return try hostView(operation).elements(Float.self)
    }
}

/// Creates a buffer of `shape` and lets `body` write its elements.
func makeBuffer<T>(
    _ shape: Shape, _ dtype: DType, as type: T.Type, _ body: (UnsafeMutableBufferPointer<T>) throws -> Void
) rethrows -> Buffer {
    assert(MemoryLayout<T>.stride == dtype.byteSize, "\(T.self) does not hold \(dtype) elements")
    let storage = ReferenceStorage(count: shape.elementCount, dtype: dtype)
    try body(storage.elements(T.self))
    return Buffer(storage: storage, shape: shape, dtype: dtype)
}

/// Visits every element of `shape` in row-major order, passing the output index and the
/// matching offsets into up to three operands read with the given strides (0 on broadcast axes).
@inline(__always)
func forEachElement(
    _ shape: Shape, _ stridesA: [Int], _ stridesB: [Int] = [], _ stridesC: [Int] = [],
    _ body: (_ index: Int, _ a: Int, _ b: Int, _ c: Int) -> Void
) {
    let rank = shape.rank
    let total = shape.elementCount
    if total == 0 { return }
    if rank == 0 {
        body(0, 0, 0, 0)
        return
    }
    let sa = stridesA.isEmpty ? [Int](repeating: 0, count: rank) : stridesA
    let sb = stridesB.isEmpty ? [Int](repeating: 0, count: rank) : stridesB
    let sc = stridesC.isEmpty ? [Int](repeating: 0, count: rank) : stridesC
    let inner = shape[rank - 1]
    let (ia, ib, ic) = (sa[rank - 1], sb[rank - 1], sc[rank - 1])
    var counter = [Int](repeating: 0, count: rank)
    var (baseA, baseB, baseC) = (0, 0, 0)
    var index = 0
    while index < total {
        var (a, b, c) = (baseA, baseB, baseC)
        for _ in 0..<inner {
            body(index, a, b, c)
            a += ia
            b += ib
            c += ic
            index += 1
        }
        // Advance the odometer over the outer axes.
        var axis = rank - 2
        while axis >= 0 {
            counter[axis] += 1
            baseA += sa[axis]
            baseB += sb[axis]
            baseC += sc[axis]
            if counter[axis] < shape[axis] { break }
            baseA -= sa[axis] * shape[axis]
            baseB -= sb[axis] * shape[axis]
            baseC -= sc[axis] * shape[axis]
            counter[axis] = 0
            axis -= 1
        }
    }
}

extension BackendError {
    /// What the reference backend throws if a `bfloat16` operand reaches an operation it
    /// leaves to the front door, which widens such operands to `float32` first.
    static func computedInFloat32(_ operation: String) -> BackendError {
        .unsupportedDType(operation: operation, dtype: .bfloat16, reason: "the reference backend computes bfloat16 in float32 behind the front door")
    }
}

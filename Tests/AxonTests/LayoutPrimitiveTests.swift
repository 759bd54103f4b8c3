import AxonCore
import Backend
import Testing

@Suite("Reference backend: layout and indexing")
struct LayoutPrimitiveTests {
    let x: Tensor  // [[1, 2, 3], [4, 5, 6]]

    init() throws { x = try tensor([1, 2, 3, 4, 5, 6], [2, 3]) }

    @Test("reshape keeps order and infers one dimension")
    func reshape() throws {
        try expectClose(x.reshaped(to: [3, -1]), [1, 2, 3, 4, 5, 6], shape: [3, 2])
        let message = errorMessage { _ = try x.reshaped(to: [4]) }
        #expect(message == "reshape: shape mismatch: cannot reshape [2, 3] (6 elements) to [4] (4 elements)")
    }

    @Test("permute and transpose")
    func permute() throws {
        try expectClose(x.transposed(), [1, 4, 2, 5, 3, 6], shape: [3, 2])
        let cube = try tensor((0..<24).map(Float.init), [2, 3, 4])
        let permuted = try cube.permuted([2, 0, 1])
        #expect(permuted.shape == [4, 2, 3])
        // permuted[i, j, k] = cube[j, k, i] = 12j + 4k + i
        try expectClose(permuted.sliced(starts: [1, 1, 2], limits: [2, 2, 3]), [12 + 8 + 1])
        #expect(throws: BackendError.self) { try x.permuted([0, 0]) }
    }

    @Test("slices with strides")
    func slice() throws {
        try expectClose(x.sliced(starts: [0, 1], limits: [2, 3]), [2, 3, 5, 6], shape: [2, 2])
        try expectClose(x.sliced(starts: [0, 0], limits: [2, 3], strides: [1, 2]), [1, 3, 4, 6], shape: [2, 2])
        try expectClose(x.sliced(axis: 0, 1..<2), [4, 5, 6], shape: [1, 3])
        #expect(throws: BackendError.self) { try x.sliced(starts: [0, 2], limits: [2, 4]) }
    }

    @Test("pad with a value")
    func pad() throws {
        try expectClose(
            x.padded([Padding(1, 0), Padding(0, 1)], value: -1),
            [-1, -1, -1, -1, 1, 2, 3, -1, 4, 5, 6, -1], shape: [3, 4])
    }

    @Test("concatenate along an axis")
    func concatenate() throws {
        let y = try tensor([7, 8], [2, 1])
        try expectClose(Tensor.concatenate([x, y], axis: 1), [1, 2, 3, 7, 4, 5, 6, 8], shape: [2, 4])
        try expectClose(Tensor.concatenate([x, x], axis: 0), [1, 2, 3, 4, 5, 6, 1, 2, 3, 4, 5, 6], shape: [4, 3])
        #expect(throws: BackendError.self) { try Tensor.concatenate([x, y], axis: 0) }
    }

    @Test("broadcast to a larger shape")
    func broadcast() throws {
        try expectClose(tensor([1, 2], [2, 1]).broadcast(to: [2, 2]), [1, 1, 2, 2])
        #expect(throws: BackendError.self) { try x.broadcast(to: [3, 3]) }
    }

    @Test("gather and its adjoint scatter-add")
    func gatherScatter() throws {
        let indices = try Tensor(integers: [2, 0, 2], shape: [3], on: backend)
        try expectClose(x.gather(indices: indices, axis: 1), [3, 1, 3, 6, 4, 6], shape: [2, 3])
        let rows = try Tensor(integers: [1, 1, 0, 1], shape: [2, 2], on: backend)
        try expectClose(x.gather(indices: rows, axis: 0), [4, 5, 6, 4, 5, 6, 1, 2, 3, 4, 5, 6], shape: [2, 2, 3])
        let updates = try tensor([1, 2, 3, 4, 5, 6], [2, 3])
        // Index 2 is hit twice, so its slots accumulate.
        try expectClose(
            updates.scatterAdd(indices: indices, axis: 1, dimensionSize: 4), [2, 0, 4, 0, 5, 0, 10, 0], shape: [2, 4])
        let bad = try Tensor(integers: [3], shape: [1], on: backend)
        let message = errorMessage { _ = try x.gather(indices: bad, axis: 1) }
        #expect(message == "gather: index 3 is out of range for a dimension of size 3")
    }

    @Test("iota counts along an axis")
    func iota() throws {
        #expect(try Tensor.iota(shape: [2, 3], axis: 1, on: backend).array.elements == .int32([0, 1, 2, 0, 1, 2]))
        #expect(try Tensor.iota(shape: [2, 3], axis: 0, dtype: .float32, on: backend).scalars == [0, 0, 0, 1, 1, 1])
    }

    @Test("random bits equal the Philox specification")
    func randomBits() throws {
        let key = Philox.Key(seed: 2024)
        let bits = try Tensor.randomBits(key: key, offset: 6, shape: [2, 5], on: backend)
        #expect(try bits.array.elements == .uint32(Philox.bits(key: key, offset: 6, count: 10)))
    }

    @Test("upload rejects a count that does not fit the shape")
    func hostArrayErrors() {
        let message = errorMessage { _ = try tensor([1, 2, 3], [2, 2]) }
        #expect(message == "HostArray: shape mismatch: shape [2, 2] needs 4 elements but 3 were given")
    }
}

import AxonCore
import Backend
import Foundation
import Testing

/// Attention against hand-derived values (softmax of two scores, the causal first row, Keras's
/// additive scores), the equivalence of bool and additive masks, finite-difference gradients,
/// multi-head attention against its definition written out with plain tensor ops, and errors.
@Suite("Attention")
struct AttentionTests {
    @Test("dot-product attention is the softmax-weighted sum of the values")
    func twoKeys() throws {
        // Scores [1, 0] → weights [e, 1]/(e + 1).
        let (q, k, v) = (try tensor([1, 0], [1, 1, 2]), try tensor([1, 0, 0, 1], [1, 2, 2]), try tensor([1, 2, 3, 4], [1, 2, 2]))
        let result = try Layers.dotProductAttention(query: q, key: k, value: v, scale: 1)
        let e = Float(M_E)
        let (p0, p1) = (e / (e + 1), 1 / (e + 1))
        try expectClose(result.weights, [p0, p1], shape: [1, 1, 2])
        try expectClose(result.output, [p0 * 1 + p1 * 3, p0 * 2 + p1 * 4], shape: [1, 1, 2])
    }

    @Test("causal attention lets the first query see only the first key")
    func causalFirstRow() throws {
        let (q, k, v) = (try sample([1, 3, 2], seed: 1), try sample([1, 3, 2], seed: 2), try sample([1, 3, 4], seed: 3))
        let result = try Layers.dotProductAttention(query: q, key: k, value: v, causal: true)
        let out = try result.output.scalars, values = try v.scalars
        expectClose(Array(out[0..<4]), Array(values[0..<4]))
        let weights = try result.weights.scalars
        #expect(weights[1] == 0 && weights[2] == 0 && weights[5] == 0)
    }

    @Test("a bool mask keeps what an additive mask of zeros and −∞ keeps")
    func boolMaskEqualsAdditive() throws {
        let (q, k, v) = (try sample([2, 3, 4], seed: 4), try sample([2, 5, 4], seed: 5), try sample([2, 5, 3], seed: 6))
        let keep: [Bool] = (0..<15).map { $0 % 5 == 0 || $0 % 3 != 0 }
        let boolMask = try Tensor(keep, shape: [3, 5], on: backend)
        let additive = try tensor(keep.map { $0 ? 0 : -.infinity }, [3, 5])
        let a = try Layers.dotProductAttention(query: q, key: k, value: v, mask: boolMask).output
        let b = try Layers.dotProductAttention(query: q, key: k, value: v, mask: additive).output
        expectClose(try a.scalars, try b.scalars)
    }

    @Test("dropout on the weights is identity in inference and deterministic in training")
    func dropoutModes() throws {
        let (q, k, v) = (try sample([2, 3, 4], seed: 7), try sample([2, 5, 4], seed: 8), try sample([2, 5, 3], seed: 9))
        let plain = try Layers.dotProductAttention(query: q, key: k, value: v).output.scalars
        let inference = try Layers.dotProductAttention(query: q, key: k, value: v, dropout: 0.5, mode: .inference).output.scalars
        #expect(plain == inference)
        let first = try Layers.dotProductAttention(query: q, key: k, value: v, dropout: 0.5, randomKey: Philox.Key(seed: 3), mode: .train).output.scalars
        let again = try Layers.dotProductAttention(query: q, key: k, value: v, dropout: 0.5, randomKey: Philox.Key(seed: 3), mode: .train).output.scalars
        #expect(first == again)
        #expect(first != plain)
    }

    @Test("attention gradients for query, key and value match finite differences")
    func gradients() throws {
        let mask = try sample([1, 4], seed: 13, low: -2, high: 0)
        try checkGradients([try sample([2, 3, 2], seed: 10), try sample([2, 4, 2], seed: 11), try sample([2, 4, 3], seed: 12)]) { x in
            try Layers.dotProductAttention(query: x[0], key: x[1], value: x[2], mask: mask, scale: 0.8, causal: true).output
        }
        try checkGradients([try sample([2, 3, 2], seed: 14), try sample([2, 4, 2], seed: 15), try sample([2, 4, 3], seed: 16), try sample([2], seed: 17)]) { x in
            try Layers.additiveAttention(query: x[0], value: x[2], key: x[1], scale: x[3], causal: true)
        }
    }

    @Test("multi-head attention is per-head attention of the projections, joined and projected")
    func multiHeadDefinition() throws {
        let (query, memory) = (Axon.input("q", shape: [nil, 3, 4]), Axon.input("m", shape: [nil, 5, 4]))
        let heads = Axon.multiHeadAttention(query: query, value: memory, heads: 2, keyDimension: 3, valueDimension: 2, outputDimension: 4, name: "mha")
        let built = try Axon.container(["out": heads.output, "weights": heads.weights]).build(on: backend)
        let state = try built.initialize(seed: 1)
        let (q, m) = (try sample([2, 3, 4], seed: 18), try sample([2, 5, 4], seed: 19))
        let result = try built.predict(state, inputs: ["q": q, "m": m])
        func dense(_ x: Tensor, _ layer: String) throws -> Tensor {
            try x.matmul(state.parameters.tensor("\(layer).kernel")) + state.parameters.tensor("\(layer).bias")
        }
        let (pq, pk, pv) = (try dense(q, "mha_query"), try dense(m, "mha_key"), try dense(m, "mha_value"))
        var joined: [Tensor] = []
        var allWeights: [Float] = []
        for head in 0..<2 {
            let qh = try pq.sliced(starts: [0, 0, 3 * head], limits: [2, 3, 3 * head + 3], strides: [1, 1, 1])
            let kh = try pk.sliced(starts: [0, 0, 3 * head], limits: [2, 5, 3 * head + 3], strides: [1, 1, 1])
            let vh = try pv.sliced(starts: [0, 0, 2 * head], limits: [2, 5, 2 * head + 2], strides: [1, 1, 1])
            let weights = try (qh.matmul(kh, transposeOther: true) * (1 / Float(3).squareRoot())).softmax(axis: -1)
            joined.append(try weights.matmul(vh))
            allWeights += try weights.scalars
        }
        let expected = try dense(Tensor.concatenate(joined, axis: 2), "mha_output")
        #expect(try result.output("out").shape == [2, 3, 4])
        expectClose(try result.output("out").scalars, try expected.scalars, atol: 1e-5)
        // The weights node is [batch, heads, queries, keys]; the loop above went head-major.
        let weights = try result.output("weights").permuted([1, 0, 2, 3]).scalars
        expectClose(weights, allWeights, atol: 1e-6)
    }

    @Test("additive attention scores are the scaled sums of tanh(q + k), as Keras defines them")
    func additiveScores() throws {
        // One query [1, 0], keys [0, 0] and [1, 1]; scale [1, 2]:
        // scores tanh(1) + 2·tanh(0) and tanh(2) + 2·tanh(1).
        let q = try tensor([1, 0], [1, 1, 2]), k = try tensor([0, 0, 1, 1], [1, 2, 2]), v = try tensor([10, 20], [1, 2, 1])
        let y = try Layers.additiveAttention(query: q, value: v, key: k, scale: try tensor([1, 2], [2]))
        let (s0, s1) = (Foundation.tanh(1.0), Foundation.tanh(2.0) + 2 * Foundation.tanh(1.0))
        let p1 = 1 / (1 + Foundation.exp(s0 - s1))
        try expectClose(y, [Float(10 * (1 - p1) + 20 * p1)], shape: [1, 1, 1])
    }

    @Test("attention with mismatched features or a mask that does not broadcast is refused")
    func badShapes() throws {
        let (q, k) = (Axon.input("q", shape: [nil, 3, 4]), Axon.input("k", shape: [nil, 5, 3]))
        let v = Axon.input("v", shape: [nil, 6, 2])
        let mask = Axon.input("mask", shape: [nil, 4, 5])
        let cases: [(Axon, String)] = [
            (Axon.dotProductAttention(query: q, key: k, value: k), "same known feature dimension"),
            (Axon.dotProductAttention(query: q, key: q, value: v), "same number of positions"),
            (Axon.dotProductAttention(query: q, key: q, value: q, mask: mask), "does not broadcast"),
            (Axon.dotProductAttention(query: q, key: q, value: q, dropout: 1), "dropout must be in [0, 1)"),
            (Axon.multiHeadAttention(query: q, value: q, heads: 0, keyDimension: 2, outputDimension: 4).output, "at least one head and positive dimensions, got 0 heads"),
        ]
        for (model, expected) in cases {
            let message = errorMessage { _ = try model.build(on: backend) }
            #expect(message?.contains(expected) == true, "\(message ?? "no error")")
        }
    }
}

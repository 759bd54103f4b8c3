// Recurrent and attention models: LSTM and GRU over padded token sequences, bidirectional
// layers, and a transformer encoder block.
import AxonCore
import CPUReference

ReferenceBackend.register()
let backend = try BackendRegistry.shared.resolve("reference")

// snippet.lstm
// Token ids, padded with 0 at the end; each row's length masks the padding.
let tokens = Axon.input("tokens", shape: [nil, 20], dtype: .int32)
let embedded = tokens.embedding(vocabularySize: 1_000, features: 32)
let encoded = embedded.lstm(64, lengths: tokens.sequenceLengths())
let sentiment = encoded.last.dense(2)  // from each sequence's own last step
// snippet.end

// snippet.bidirectional
let both = embedded.bidirectional { input, reverse in
    input.gru(32, reverse: reverse, recurrentDropout: 0.1)
}
let tagged = both.sequence.dense(5)  // a tag per token: [batch, 20, 5]
// snippet.end

// snippet.transformer
func encoderBlock(_ x: Axon, features: Int, heads: Int) -> Axon {
    let (attended, _) = Axon.multiHeadAttention(
        query: x, value: x, heads: heads, keyDimension: features / heads, outputDimension: features)
    let normed = x.add(attended).layerNorm()
    let feedForward = normed.dense(4 * features, activation: .gelu()).dense(features)
    return normed.add(feedForward).layerNorm()
}
let sequence = Axon.input("sequence", shape: [nil, 16, 32])
let classified = encoderBlock(sequence, features: 32, heads: 4).globalAvgPool().dense(3)
// snippet.end

// snippet.causal
// Causal attention: position i attends to positions 0...i only.
let (_, weights) = Axon.multiHeadAttention(
    query: sequence, value: sequence, heads: 2, keyDimension: 8, outputDimension: 32, causal: true)
// snippet.end

// snippet.hide
let batch = try Tensor(integers: (0..<40).map { $0 % 20 < 12 ? Int32($0 % 7 + 1) : 0 }, shape: [2, 20], on: backend)
let frames = try Initializer.normal().tensor(shape: [2, 16, 32], key: Philox.Key(seed: 5), on: backend)
let sentimentOut = try sentiment.build(on: backend).predict(try sentiment.build(on: backend).initialize(seed: 0), inputs: ["tokens": batch]).output()
let taggedOut = try tagged.build(on: backend).predict(try tagged.build(on: backend).initialize(seed: 0), inputs: ["tokens": batch]).output()
let classes = try classified.build(on: backend).predict(try classified.build(on: backend).initialize(seed: 0), inputs: ["sequence": frames]).output()
let attention = try weights.build(on: backend).predict(try weights.build(on: backend).initialize(seed: 0), inputs: ["sequence": frames]).output()
// Causality, from the definition: every weight above the diagonal is zero, every row sums to one.
let w = try attention.scalars  // [2, 2, 16, 16]
for row in 0..<(2 * 2 * 16) {
    let i = row % 16
    let entries = w[(row * 16)..<(row * 16 + 16)]
    guard entries.dropFirst(i + 1).allSatisfy({ $0 == 0 }), abs(entries.reduce(0, +) - 1) < 1e-5 else {
        throw SnippetCheck("causal attention row \(row) is \(Array(entries))")
    }
}
guard sentimentOut.shape == [2, 2], taggedOut.shape == [2, 20, 5], classes.shape == [2, 3] else {
    throw SnippetCheck("shapes \(sentimentOut.shape), \(taggedOut.shape), \(classes.shape)")
}

struct SnippetCheck: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

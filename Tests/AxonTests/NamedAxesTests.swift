import AxonCore
import Backend
import Foundation
import Testing

/// Axis names declared on inputs: how they flow through shape inference, where they show, and
/// layers told an axis by name.
@Suite("Named axes")
struct NamedAxesTests {
    let frames = Axon.input("frames", shape: [nil, 5, 3], axes: ["batch", "time", "features"])

    func names(_ model: Axon) throws -> [String: [String?]] {
        Dictionary(uniqueKeysWithValues: try model.layers().map { ($0.name, $0.axisNames) })
    }

    @Test("names flow through layers that keep, drop, move or reshape axes")
    func namesFlowThroughShapeInference() throws {
        let dense = frames.dense(4, name: "dense")
        let last = dense.lstm(6, name: "lstm").last
        let moved = dense.transpose(["features", "time"], name: "moved")
        let step = dense.take(0, axis: "time", name: "step")
        let flat = dense.flatten(name: "flat")
        let model = Axon.container(["last": last, "moved": moved, "step": step, "flat": flat])
        let named = try names(model)
        #expect(named["dense"] == ["batch", "time", "features"])
        #expect(named["lstm_hidden"] == ["batch", "features"])
        #expect(named["moved"] == ["batch", "features", "time"])
        #expect(try model.layers().first { $0.name == "moved" }?.outputShape == [nil, 4, 5])
        #expect(named["step"] == ["batch", "features"])
        #expect(named["flat"] == ["batch", nil])

        let image = Axon.input("image", shape: [nil, 4, 4, 2], axes: ["batch", "height", "width", "channels"])
        let pooled = try names(image.conv(3, kernelSize: [3], name: "conv").globalAvgPool(name: "pool"))
        #expect(pooled["conv"] == ["batch", "height", "width", "channels"])
        #expect(pooled["pool"] == ["batch", "channels"])
    }

    @Test("a reshape keeps names only up to the first axis it changes")
    func reshapeKeepsLeadingNames() throws {
        let named = try names(frames.reshape([3, 5], name: "reshaped"))
        #expect(named["reshaped"] == ["batch", nil, nil])
    }

    @Test("a model without names is unchanged: no names anywhere")
    func unnamedModelsHaveNoNames() throws {
        let model = Axon.input("x", shape: [nil, 3]).dense(2)
        #expect(try model.layers().allSatisfy { $0.axisNames.isEmpty })
        #expect(model.description.contains("[nil, 2]"))
    }

    @Test("the summary and the graph drawing show the names")
    func summaryShowsNames() throws {
        let model = frames.dense(4).lstm(6).last
        #expect(model.description.contains("[batch: nil, time: 5, features: 3]"))
        #expect(model.description.contains("[batch: nil, time: 5, features: 4]"))
        #expect(model.description.contains("[batch: nil, features: 6]"))
        let built = try model.build(on: backend, mode: .inference)
        #expect(built.description.contains("[batch: nil, features: 6]"))
        #expect(built.graph(.mermaid).contains("batch: nil, time: 5, features: 4"))
    }

    @Test("layers told an axis by name compute what they compute with its position")
    func namedAxesMatchPositions() throws {
        let x = try sample([2, 5, 3], seed: 7)
        func run(_ model: Axon) throws -> [Float] {
            let built = try model.build(on: backend, mode: .train)
            return try built.predict(try built.initialize(seed: 1), inputs: ["frames": x]).output().scalars
        }
        let pairs: [(Axon, Axon)] = [
            (frames.softmax(axis: "time"), frames.softmax(axis: 1)),
            (frames.logSoftmax(axis: "features"), frames.logSoftmax(axis: -1)),
            (Axon.concatenate([frames, frames.relu()], axis: "time"), Axon.concatenate([frames, frames.relu()], axis: 1)),
            (frames.take(-1, axis: "time"), frames.take(-1, axis: 0)),
            (frames.transpose(["features", "time"]), frames.transpose([1, 0])),
            (frames.split(5, axis: "time")[2], frames.split(5, axis: 1)[2]),
            (frames.batchNorm(axis: "time"), frames.batchNorm(axis: 1)),
        ]
        for (byName, byPosition) in pairs {
            #expect(try run(byName) == run(byPosition))
        }
        // Independently: a softmax along time sums to one over the five steps.
        let probabilities = try run(frames.softmax(axis: "time"))
        for b in 0..<2 {
            for f in 0..<3 {
                let total = (0..<5).reduce(Float(0)) { $0 + probabilities[b * 15 + $1 * 3 + f] }
                #expect(Swift.abs(total - 1) < 1e-5)
            }
        }
    }

    @Test("an unknown axis name is an error that lists the axes there are")
    func unknownNameIsAnError() throws {
        let message = errorMessage { _ = try frames.softmax(axis: "tiem", name: "probs").layers() }
        #expect(message?.contains("layer 'probs' (softmax): has no axis named 'tiem'") == true)
        #expect(message?.contains("'batch', 'time', 'features'") == true)
        let unnamed = errorMessage { _ = try Axon.input("x", shape: [nil, 3]).softmax(axis: "time").layers() }
        #expect(unnamed?.contains("has no named axes") == true)
        let batch = errorMessage { _ = try frames.take(0, axis: "batch").layers() }
        #expect(batch?.contains("cannot work on the batch axis 'batch'") == true)
    }

    @Test("merging inputs that name one axis differently is an error")
    func clashingNamesAreAnError() throws {
        let other = Axon.input("other", shape: [nil, 5, 5], axes: ["batch", "features", "time"])
        let square = frames.dense(5)
        let message = errorMessage { _ = try square.add(other, name: "sum").layers() }
        #expect(message?.contains("layer 'sum' (add): its inputs name axis 1 differently: 'time' in input 0") == true)
        #expect(message?.contains("'features' in input 1 [batch: nil, features: 5, time: 5]") == true)
        // Transposing one of them by name resolves it.
        let fixed = try names(square.add(other.transpose(["time", "features"]), name: "sum"))
        #expect(fixed["sum"] == ["batch", "time", "features"])
        let joined = errorMessage { _ = try Axon.concatenate([square, other], axis: "batch").layers() }
        #expect(joined?.contains("name axis 1 differently") == true)
    }

    @Test("declared names must be one per axis, non-empty and unique")
    func declaredNamesAreChecked() {
        let cases: [([String], String)] = [
            (["batch", "time"], "names 2 axes (batch, time) but its shape [nil, 5, 3] has 3"),
            (["batch", "", "features"], "axis 1 has an empty name"),
            (["batch", "time", "time"], "names two axes 'time'"),
        ]
        for (axes, expected) in cases {
            let message = errorMessage { _ = try Axon.input("x", shape: [nil, 5, 3], axes: axes).layers() }
            #expect(message?.contains("layer 'x' (input): \(expected)") == true, "\(message ?? "no error")")
        }
    }

    @Test("shape errors show the inputs with their axis names")
    func shapeErrorsUseNames() throws {
        let message = errorMessage { _ = try frames.lstm(4).last.lstm(2).last.layers() }
        #expect(message?.contains("(inputs with named axes: [batch: nil, features: 4])") == true, "\(message ?? "no error")")
        let built = try frames.dense(2).build(on: backend, mode: .inference)
        let wrong = errorMessage {
            _ = try built.predict(try built.initialize(seed: 0), inputs: ["frames": try Tensor.zeros(shape: [2, 4, 3], on: backend)])
        }
        #expect(wrong?.contains("expected shape [batch: nil, time: 5, features: 3], got [2, 4, 3]") == true, "\(wrong ?? "no error")")
    }

    @Test("saved graphs keep declared names and axes given by name")
    func savedGraphsKeepNames() throws {
        let model = frames.softmax(axis: "time").transpose(["features", "time"]).dense(2)
        let loaded = try GraphSerialization.decode(try GraphSerialization.encode(model), source: "named.json")
        #expect(try loaded.layers().map(\.axisNames) == model.layers().map(\.axisNames))
        #expect(try loaded.layers().last?.axisNames == ["batch", "features", "time"])
        let text = String(decoding: try GraphSerialization.encode(model), as: UTF8.self)
        #expect(text.contains("\"time\""))
        // Options as exporters read them carry positions, not names.
        let softmax = try model.layers().first { $0.kind == "softmax" }
        let options = String(decoding: softmax?.options ?? Data(), as: UTF8.self)
        #expect(options.contains("\"axis\":1") && !options.contains("axisName"), "\(options)")
    }
}

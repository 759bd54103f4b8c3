import AxonCore
import AxonInterop
import Backend
import Foundation
import Testing

@Suite("Run loggers: CSV, JSON lines, TensorBoard")
struct RunLoggerTests {
    /// y = x·[1, −2] + 0.5 on 24 examples, in batches of 10 (3 a epoch).
    func regression() throws -> Dataset {
        let x: [Float] = (0..<48).map { Float(($0 * 37) % 17) / 17 - 0.5 }
        let y: [Float] = (0..<24).map { x[2 * $0] - 2 * x[2 * $0 + 1] + 0.5 }
        return try Dataset(
            features: HostArray(shape: [24, 2], elements: .float32(x)), labels: HostArray(shape: [24, 1], elements: .float32(y)))
    }

    let model = Axon.input("features", shape: [nil, 2]).dense(4, activation: .tanh, name: "hidden").dense(1, name: "out")

    /// A custom logger records exactly the calls the protocol documents, in order.
    final class Recorder: RunLogger {
        var calls: [String] = []
        func runStarted(state: LoopState) throws { calls.append("start \(state.step)") }
        func epochStarted(state: LoopState) throws { calls.append("epoch \(state.epoch)") }
        func record(_ record: MetricRecord, state: LoopState) throws {
            calls.append("\(record.scope.rawValue) \(record.epoch).\(record.iteration) step \(record.step) \(record.values.keys.sorted())")
        }
        func runEnded(state: LoopState, completed: Bool) throws { calls.append("end \(completed)") }
    }

    @Test("a custom logger sees the start, every epoch, each record with its step and the end")
    func customLogger() throws {
        let recorder = Recorder()
        let data = try regression().batches(size: 10, on: backend)
        let loop = try Loop.trainer(model: model, loss: .meanSquaredError, optimizer: .sgd(learningRate: 0.1), on: backend)
            .validate(on: data)
        loop.log(to: recorder, scope: .batch)
        _ = try loop.run(data, epochs: 2, iterations: 2)
        let batch = #"["loss", "step_loss"]"#, epoch = #"["loss", "validation_loss"]"#
        #expect(recorder.calls == [
            "start 0",
            "epoch 0", "batch 0.0 step 1 \(batch)", "batch 0.1 step 2 \(batch)", "epoch 0.1 step 2 \(epoch)",
            "epoch 1", "batch 1.0 step 3 \(batch)", "batch 1.1 step 4 \(batch)", "epoch 1.1 step 4 \(epoch)",
            "end true",
        ])
    }

    @Test("CSV and JSON-lines files hold every value of every record, exactly")
    func fileLoggers() throws {
        let directory = try EcosystemReaders.scratchDirectory("loggers")
        defer { try? FileManager.default.removeItem(at: directory) }
        let csv = directory.appendingPathComponent("metrics.csv"), jsonl = directory.appendingPathComponent("metrics.jsonl")
        let loop = try Loop.trainer(model: model, loss: .meanSquaredError, optimizer: .sgd(learningRate: 0.1), on: backend)
        loop.log(to: CSVLogger(csv), scope: .batch).log(to: JSONLinesLogger(jsonl), scope: .epoch)
        var stepLosses: [Double] = []
        loop.handle(.iterationCompleted) { state in
            stepLosses.append(state.stepLoss ?? .nan)
            return .proceed
        }
        let final = try loop.run(try regression().batches(size: 10, on: backend), epochs: 2)

        let rows = try String(contentsOf: csv, encoding: .utf8).split(separator: "\n").map { $0.split(separator: ",").map(String.init) }
        #expect(rows.first == ["scope", "epoch", "iteration", "step", "name", "value"])
        let stepLossRows = rows.filter { $0[0] == "batch" && $0[4] == "step_loss" }
        #expect(stepLossRows.map { Double($0[5]) } == stepLosses)
        #expect(stepLossRows.map { $0[3] } == ["1", "2", "3", "4", "5", "6"])
        let epochLoss = rows.filter { $0[0] == "epoch" && $0[4] == "loss" }
        #expect(epochLoss.map { [$0[1], $0[3]] } == [["1", "3"], ["2", "6"]])
        #expect(epochLoss.map { Double($0[5]) } == final.history.map { $0["loss"] })

        struct Line: Decodable { let scope: String; let epoch: Int; let step: Int; let values: [String: Double] }
        let lines = try String(contentsOf: jsonl, encoding: .utf8).split(separator: "\n").map {
            try JSONDecoder().decode(Line.self, from: Data($0.utf8))
        }
        #expect(lines.map(\.scope) == ["epoch", "epoch"])
        #expect(lines.map(\.values) == final.history)
    }

    @Test("TensorBoard's reader reads every scalar, the histograms and the model text from the event file")
    func tensorBoard() throws {
        let directory = try EcosystemReaders.scratchDirectory("tensorboard")
        defer { try? FileManager.default.removeItem(at: directory) }
        let logger = TensorBoardLogger(directory: directory, model: model)
        var stepLosses: [Double] = []
        var gradientCounts: [Int] = []
        let loop = try Loop.trainer(model: model, loss: .meanSquaredError, optimizer: .adam(learningRate: 0.01), on: backend)
        loop.log(to: logger, scope: .batch)
        loop.handle(.iterationCompleted) { state in
            stepLosses.append(state.stepLoss ?? .nan)
            gradientCounts.append(state.gradients?.count ?? 0)
            return .proceed
        }
        let final = try loop.run(try regression().batches(size: 10, on: backend), epochs: 2)
        #expect(gradientCounts == Array(repeating: 4, count: 6))

        struct Dump: Decodable {
            let files: Int, records: Int
            let file_version: [String]
            let scalars: [String: [[Double]]]
            let histograms: [String: [[Double]]]
            let text: [String: [String]]
        }
        let dump = try EcosystemReaders.json(Dump.self, "tensorboard_events.py", ["dump", directory.path])
        // Version, summary, graph, 6 batch records and 2 epoch records.
        #expect(dump.files == 1 && dump.records == 11)
        #expect(dump.file_version == ["brain.Event:2"])
        #expect(dump.scalars["batch/step_loss"] == zip(1...6, stepLosses).map { [Double($0), Double(Float($1))] })
        #expect(dump.scalars["epoch/loss"] == zip([3, 6], final.history).map { [Double($0), Double(Float($1["loss"]!))] })
        #expect(Set(dump.scalars.keys) == ["batch/loss", "batch/step_loss", "epoch/loss"])

        let parameters = final.stepState.model.parameters
        #expect(Set(dump.histograms.keys) == Set(parameters.names.flatMap { ["parameters/\($0)", "gradients/\($0)"] }))
        for (name, tensor) in parameters {
            let values = try tensor.scalars.map(Double.init)
            let last = dump.histograms["parameters/\(name)"]?.last
            // step, min, max, count, sum, and the buckets' total, which must be the count.
            #expect(last?[0] == 6 && last?[1] == values.min() && last?[2] == values.max(), "\(name)")
            #expect(last?[3] == Double(values.count) && last?[5] == Double(values.count), "\(name)")
            #expect(abs((last?[4] ?? .nan) - values.reduce(0, +)) < 1e-9, "\(name)")
        }
        #expect(dump.text["model/summary"] == ["```\n\(model.description)\n```"])
        #expect(dump.text["model/graph"]?.first?.contains("flowchart") == true)
    }

    @Test("TensorBoard record framing: length, masked CRC-32C of the length, payload, masked CRC-32C")
    func recordFraming() {
        // CRC-32C("123456789") = 0xE3069283 (RFC 3720's check value); the masked form as
        // tensorboard's own masked_crc32c(b"123456789") gives it: 0xC78AB0E5.
        var crc = CRC32(.castagnoli)
        crc.update(Array("123456789".utf8))
        #expect(crc.value == 0xE306_9283)
        #expect(TensorBoardRecords.maskedCRC(Data("123456789".utf8)) == 0xC78A_B0E5)
        let record = TensorBoardRecords.frame(Data([1, 2, 3]))
        #expect(record.count == 8 + 4 + 3 + 4)
        #expect(Array(record.prefix(8)) == [3, 0, 0, 0, 0, 0, 0, 0])
    }
}

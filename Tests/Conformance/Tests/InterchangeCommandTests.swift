import AxonCore
import AxonData
import Foundation
import Testing

/// The interchange commands as a user runs them: train with loggers, export in every format,
/// import back, and predict from NumPy files.
@Suite("axon export, import and predict with files", .serialized)
struct InterchangeCommandTests {
    let workspace = AxonCommandLine.workspace("interchange")

    func axon(_ arguments: [String]) throws -> AxonCommandLine.Result {
        let result = try AxonCommandLine.run(arguments, in: workspace)
        #expect(result.status == 0, "axon \(arguments.joined(separator: " ")): \(result.error)")
        return result
    }

    func accuracy(_ output: String) -> Substring? { output.split(separator: "\n").first { $0.hasPrefix("held-out accuracy") } }

    @Test("a trained run exports as ONNX, safetensors and a model file, and the imports evaluate the same")
    func roundTrips() throws {
        defer { try? FileManager.default.removeItem(at: workspace) }
        let trained = try axon([
            "train", "--verbosity", "silent", "--epochs", "1", "--checkpoint-dir", "run", "--tensorboard", "tb", "--log-csv", "metrics.csv",
        ])
        #expect(try FileManager.default.contentsOfDirectory(atPath: workspace.appendingPathComponent("tb").path).contains { $0.hasPrefix("events.out.tfevents.") })
        #expect(try String(contentsOf: workspace.appendingPathComponent("metrics.csv"), encoding: .utf8).hasPrefix("scope,epoch,iteration,step,name,value\n"))
        let expected = accuracy(trained.output)
        #expect(expected != nil)
        for format in ["onnx", "safetensors", "model"] {
            _ = try axon(["export", "--checkpoint", "run", "--format", format, "--output", "exported.\(format)"])
        }
        _ = try axon(["import", "--format", "safetensors", "--input", "exported.safetensors", "--output", "imported.axon"])
        #expect(accuracy(try axon(["evaluate", "--checkpoint", "imported.axon"]).output) == expected)
        try FileManager.default.moveItem(at: workspace.appendingPathComponent("exported.model"), to: workspace.appendingPathComponent("whole.axonmodel"))
        #expect(accuracy(try axon(["evaluate", "--checkpoint", "whole.axonmodel"]).output) == expected)
        _ = try axon(["import", "--format", "onnx", "--input", "exported.onnx", "--output", "from-onnx.axonmodel"])
        #expect(accuracy(try axon(["evaluate", "--checkpoint", "from-onnx.axonmodel"]).output) == expected)
    }

    @Test("predict reads examples from .npy and writes the outputs to .npy")
    func predictWithNumPyFiles() throws {
        defer { try? FileManager.default.removeItem(at: workspace) }
        let fixtures = ConformanceBackends.root.appendingPathComponent("Tests/AxonTests/Fixtures/onnx")
        let io = try NumPy.readArchive(fixtures.appendingPathComponent("cnn-io.npz"))
        try NumPy.write(try #require(io["input"]), to: workspace.appendingPathComponent("x.npy"))
        _ = try axon(["import", "--format", "onnx", "--input", fixtures.appendingPathComponent("cnn.onnx").path, "--output", "cnn.axonmodel"])
        let predicted = try axon(["predict", "--checkpoint", "cnn.axonmodel", "--input", "x.npy", "--output", "y.npy"])
        #expect(predicted.output.contains("wrote \(workspace.appendingPathComponent("y.npy").path): float32 [3, 3]"))
        let y = try NumPy.read(workspace.appendingPathComponent("y.npy"))
        let expected = try #require(io["output"])
        #expect(y.shape == expected.shape)
        #expect(zip(y.elements.floats, expected.elements.floats).allSatisfy { abs($0 - $1) <= 1e-5 + 1e-5 * abs($1) })
    }
}

import AxonCore
import Foundation

/// The same workloads on every registered backend, reported as a table and as JSON and Markdown
/// (`swift.json`, `swift.md`) for `scripts/bench.sh` to set beside PyTorch and JAX. Run by
/// `axon bench` and by the `Benchmarks` executable. A benchmark, not a test.
public enum BenchmarkSuite {
    /// Runs every workload (or those whose names contain one of `workloads`) on every registered
    /// backend (or those in `only`) and writes the report to `output`. Peak RSS is measured, in a
    /// full run, in a fresh process: this executable with `childArguments` followed by
    /// `--rss BACKEND`, which must end in ``runChild(backend:quick:)``.
    /// With `contention`, every workload runs again beside that competing work (this executable
    /// with `childArguments` and `--contender KIND`, which must end in ``Contention/run()``),
    /// written as `swift-KIND.json` and `.md` and printed beside the quiet figures. Quiet rows
    /// are median calls; contended rows are throughput (``Workloads/Statistic``).
    public static func run(
        quick: Bool, output: String, childArguments: [String], only: [String]? = nil, workloads: [String]? = nil, contention: Contention? = nil
    ) throws {
        try FileAccess.prepareDirectory(URL(fileURLWithPath: output))  // fail before the measurements, not after
        let machine = Machine.measure(quick: quick)
        print("machine: \(machine)")
        var results: [BackendResults] = []
        let available = BackendRegistry.shared.availableNames
        if let unknown = only?.first(where: { !available.contains($0) }) {
            throw BackendError.unknownBackend(name: unknown, available: available)
        }
        for name in available where only?.contains(name) ?? true {
            let backend = try BackendRegistry.shared.backend(named: name)
            print("backend: \(name) — \(backend.deviceDescription)")
            var measurements = try Workloads.run(on: backend, quick: quick, filters: workloads)
            if workloads == nil, let rss = Workloads.childPeakRSS(arguments: childArguments + ["--rss", name] + (quick ? ["--quick"] : [])) {
                measurements.append(Measurement(workload: Workloads.peakRSSName, value: rss, unit: "MB", higherIsBetter: false))
            }
            for measurement in measurements { print("  \(measurement)") }
            results.append(BackendResults(backend: name, device: backend.deviceDescription, measurements: measurements))
        }
        try BenchmarkReport(machine: machine, results: results).write(to: URL(fileURLWithPath: output))
        print("written to \(output)/swift.json and swift.md")
        guard let contention else { return }
        let contender = try contention.start(arguments: childArguments)
        defer { Contention.stop(contender) }
        var contended: [BackendResults] = []
        for quiet in results {
            let backend = try BackendRegistry.shared.backend(named: quiet.backend)
            print("backend: \(quiet.backend) beside \(contention.rawValue) contention — workload: quiet → contended")
            let measurements = try Workloads.$statistic.withValue(.throughput) {
                try Workloads.run(on: backend, quick: quick, filters: workloads)
            }
            for measurement in measurements {
                let before = quiet.measurements.first { $0.workload == measurement.workload }
                print(String(format: "  %@: %.4g → %.4g %@", measurement.workload, before?.value ?? .nan, measurement.value, measurement.unit))
            }
            contended.append(BackendResults(backend: quiet.backend, device: quiet.device, measurements: measurements))
        }
        try BenchmarkReport(machine: machine, results: contended).write(to: URL(fileURLWithPath: output), name: "swift-\(contention.rawValue)")
        print("written to \(output)/swift-\(contention.rawValue).json and .md")
    }

    /// The child side of the peak-RSS measurement: trains the MLP and prints the peak in MB.
    public static func runChild(backend name: String, quick: Bool) throws {
        let backend = try BackendRegistry.shared.backend(named: name)
        _ = try Workloads.mlpTraining(on: backend, batch: 128, steps: quick ? 5 : 200)
        print(Workloads.peakResidentMegabytes())
    }
}

/// One number of one workload.
struct Measurement: Codable, CustomStringConvertible {
    let workload: String
    let value: Double
    let unit: String
    let higherIsBetter: Bool

    var description: String { String(format: "%@: %.4g %@", workload, value, unit) }
}

struct BackendResults: Codable {
    let backend: String
    let device: String
    let measurements: [Measurement]
}

/// The Swift side of the report.
struct BenchmarkReport: Codable {
    /// Where it ran (measured quiet, before the workloads).
    let machine: Machine
    let results: [BackendResults]

    func write(to directory: URL, name: String = "swift") throws {
        try FileAccess.prepareDirectory(directory)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try FileAccess.writeAtomically(try encoder.encode(self), to: directory.appendingPathComponent("\(name).json"))
        var lines = ["| workload | " + results.map(\.backend).joined(separator: " | ") + " |", "|---|" + results.map { _ in "---|" }.joined()]
        // Rows by workload name, in order of first appearance: a backend may measure rows others do not.
        var workloads: [String] = []
        for measurement in results.flatMap(\.measurements) where !workloads.contains(measurement.workload) {
            workloads.append(measurement.workload)
        }
        for workload in workloads {
            let cells = results.map { result in
                result.measurements.first { $0.workload == workload }.map { String(format: "%.4g %@", $0.value, $0.unit) } ?? "—"
            }
            lines.append("| \(workload) | " + cells.joined(separator: " | ") + " |")
        }
        let text = "machine: \(machine)\n\n" + lines.joined(separator: "\n") + "\n"
        try FileAccess.writeAtomically(Data(text.utf8), to: directory.appendingPathComponent("\(name).md"))
    }
}

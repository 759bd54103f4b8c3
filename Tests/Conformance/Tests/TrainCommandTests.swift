import AxonCore
import Backend
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The `axon` executable built beside this test bundle, run as a user would.
enum AxonCommandLine {
    struct Result {
        let status: Int32
        let output: String
        let error: String
    }

    /// A new, empty directory for one test's files: `axon-NAME-UUID` in the temporary directory.
    static func workspace(_ name: String) -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("axon-\(name)-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// `.build/<configuration>/axon`, next to the test bundle.
    static let executable = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("axon")

    /// Starts `program` (this build's `axon` unless given) with `arguments` in `directory`, with
    /// `environment` added to this process's.
    static func start(
        _ arguments: [String], in directory: URL, program: URL = executable, environment: [String: String] = [:]
    ) throws -> (Process, output: URL, error: URL) {
        #expect(FileManager.default.isExecutableFile(atPath: program.path), "build it first: \(program.path)")
        let process = Process()
        process.executableURL = program
        process.arguments = arguments
        process.currentDirectoryURL = directory
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let id = UUID().uuidString
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("axon-out-\(id)")
        let error = FileManager.default.temporaryDirectory.appendingPathComponent("axon-err-\(id)")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        _ = FileManager.default.createFile(atPath: error.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: output)
        process.standardError = try FileHandle(forWritingTo: error)
        try process.run()
        return (process, output, error)
    }

    static func collect(_ process: Process, output: URL, error: URL) throws -> Result {
        process.waitUntilExit()
        defer {
            try? FileManager.default.removeItem(at: output)
            try? FileManager.default.removeItem(at: error)
        }
        return Result(
            status: process.terminationStatus, output: try String(contentsOf: output, encoding: .utf8),
            error: try String(contentsOf: error, encoding: .utf8))
    }

    static func run(
        _ arguments: [String], in directory: URL, program: URL = executable, environment: [String: String] = [:]
    ) throws -> Result {
        let (process, output, error) = try start(arguments, in: directory, program: program, environment: environment)
        return try collect(process, output: output, error: error)
    }
}

/// A small deterministic generator for the kill schedule (SplitMix64).
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Names of files created in, or moved into, a directory, as Linux's inotify reports them: lets
/// a test kill a process at the moment it starts writing a file.
final class DirectoryWatcher {
    private let descriptor: Int32

    init(_ directory: URL) {
        descriptor = inotify_init1(Int32(IN_CLOEXEC))
        #expect(descriptor >= 0 && inotify_add_watch(descriptor, directory.path, UInt32(IN_CREATE | IN_MOVED_TO)) >= 0)
    }

    deinit { close(descriptor) }

    /// Waits until the `count`-th event whose file name satisfies `matching`; false after `timeout` seconds.
    func wait(for count: Int, matching: (String) -> Bool, timeout: TimeInterval) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        var seen = 0
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while seen < count {
            var request = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0, poll(&request, 1, Int32(remaining * 1000)) > 0 else { return false }
            let length = read(descriptor, &buffer, buffer.count)
            var offset = 0
            // struct inotify_event: wd, mask, cookie, len (4 bytes each), then len bytes of name.
            while offset + 16 <= length {
                let nameLength = buffer[(offset + 12)..<(offset + 16)].reversed().reduce(0) { $0 << 8 | Int($1) }
                let name = String(decoding: buffer[(offset + 16)..<(offset + 16 + nameLength)].prefix { $0 != 0 }, as: UTF8.self)
                if matching(name) { seen += 1 }
                offset += 16 + nameLength
            }
        }
        return true
    }
}

@Suite("axon train: durable runs", .serialized)
struct TrainCommandTests {
    let workspace = AxonCommandLine.workspace("train")

    func files(_ directory: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: workspace.appendingPathComponent(directory).path).sorted()
    }

    func train(_ arguments: [String]) throws -> AxonCommandLine.Result {
        try AxonCommandLine.run(["train", "--verbosity", "silent"] + arguments, in: workspace)
    }

    @Test("--resume continues a run to the same bytes as an uninterrupted one", arguments: ConformanceBackends.names)
    func resumeIsExact(backend: String) throws {
        defer { try? FileManager.default.removeItem(at: workspace) }
        let whole = try train(["--backend", backend, "--epochs", "2", "--checkpoint-dir", "whole"])
        #expect(whole.status == 0, "\(whole.error)")
        let first = try train(["--backend", backend, "--epochs", "1", "--checkpoint-dir", "split"])
        #expect(first.status == 0, "\(first.error)")
        let resumed = try train(["--backend", backend, "--epochs", "2", "--resume", "split"])
        #expect(resumed.status == 0, "\(resumed.error)")
        #expect(resumed.output.contains("resuming \(workspace.appendingPathComponent("split").path) after epoch 1 (step 79)"), "\(resumed.output)")
        let accuracy = { (output: String) in output.split(separator: "\n").first { $0.hasPrefix("held-out accuracy") } }
        #expect(accuracy(resumed.output) != nil && accuracy(resumed.output) == accuracy(whole.output))
        let a = try Data(contentsOf: workspace.appendingPathComponent("whole/checkpoint_epoch_2.axon"))
        let b = try Data(contentsOf: workspace.appendingPathComponent("split/checkpoint_epoch_2.axon"))
        #expect(a == b, "the resumed run's checkpoint differs from the uninterrupted run's")
    }

    @Test("SIGKILL at random moments and during writes never leaves a corrupt latest, and the next start leaves no stray file")
    func killedRuns() throws {
        defer { try? FileManager.default.removeItem(at: workspace) }
        let directory = workspace.appendingPathComponent("killed")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var random = SplitMix(state: 2026_12_02)
        // Large batches make epochs short; --keep-last adds removals to every save.
        let common = ["train", "--verbosity", "silent", "--batch-size", "2000", "--keep-last", "2", "--epochs", "100000"]
        // The moments a kill lands on: at random, or as a file appears (a checkpoint's temporary
        // file: during its write; latest's: between the checkpoint's rename and latest's; latest
        // itself: during the removals that follow).
        let moments: [(String) -> Bool] = [
            { $0.hasPrefix(".checkpoint_") && $0.hasSuffix(".tmp") }, { $0.hasPrefix(".latest.") }, { $0 == "latest" },
        ]
        var checkpointsSeen = 0, killsMidWrite = 0
        for round in 0..<18 {
            let resuming = FileManager.default.fileExists(atPath: directory.appendingPathComponent("latest").path)
            let watcher = DirectoryWatcher(directory)
            let (process, output, error) = try AxonCommandLine.start(
                common + (resuming ? ["--resume", "killed"] : ["--checkpoint-dir", "killed"]), in: workspace)
            if round % 2 == 0 {
                usleep(UInt32.random(in: 600_000...2_400_000, using: &random))
            } else {
                let moment = moments[(round / 2) % moments.count]
                #expect(watcher.wait(for: Int.random(in: 1...4, using: &random), matching: moment, timeout: 60), "round \(round): no write seen")
            }
            kill(process.processIdentifier, SIGKILL)
            let result = try AxonCommandLine.collect(process, output: output, error: error)
            #expect(process.terminationReason == .uncaughtSignal, "round \(round) ended by itself: \(result.error)")
            if try FileManager.default.contentsOfDirectory(atPath: directory.path).contains(where: { $0.hasSuffix(".tmp") }) {
                killsMidWrite += 1
            }
            if let latest = try RunDirectory.latestCheckpoint(in: directory) {
                let state = try Checkpoint.load(latest, on: ConformanceBackends.reference)  // checksums verified
                #expect(state.iteration == 0 && state.epoch >= 1)
                checkpointsSeen += 1
            }
        }
        #expect(checkpointsSeen >= 9, "too few rounds got as far as a checkpoint to test anything")
        #expect(killsMidWrite >= 1, "no kill landed while a file was being written")
        let latest = try #require(try RunDirectory.latestCheckpoint(in: directory))
        let epoch = try Checkpoint.summary(of: latest).epoch
        let last = try AxonCommandLine.run(
            ["train", "--verbosity", "silent", "--batch-size", "2000", "--keep-last", "2", "--epochs", "\(epoch + 1)", "--resume", "killed"],
            in: workspace)
        #expect(last.status == 0, "\(last.error)")
        #expect(try files("killed") == ["axon.lock", "checkpoint_epoch_\(epoch).axon", "checkpoint_epoch_\(epoch + 1).axon", "latest"])
    }

    @Test("a second run on a directory in use is refused with the first run's process id")
    func busyDirectory() throws {
        defer { try? FileManager.default.removeItem(at: workspace) }
        let (first, output, error) = try AxonCommandLine.start(
            ["train", "--verbosity", "silent", "--epochs", "100000", "--checkpoint-dir", "busy"], in: workspace)
        defer {
            kill(first.processIdentifier, SIGKILL)
            _ = try? AxonCommandLine.collect(first, output: output, error: error)
        }
        let latest = workspace.appendingPathComponent("busy/latest")
        for _ in 0..<300 where !FileManager.default.fileExists(atPath: latest.path) { usleep(100_000) }
        #expect(FileManager.default.fileExists(atPath: latest.path), "the first run never saved a checkpoint")
        for attempt in [["--checkpoint-dir", "busy", "--overwrite"], ["--resume", "busy"]] {
            let second = try train(attempt)
            #expect(second.status == 1)
            #expect(second.error.contains("is in use by another training run (process \(first.processIdentifier))"), "\(second.error)")
        }
    }

    @Test("a diverging run halts with its last finite state saved; without halting it still checkpoints")
    func divergence() throws {
        defer { try? FileManager.default.removeItem(at: workspace) }
        let halted = try train(["--optimizer", "sgd", "--learning-rate", "1e30", "--epochs", "3", "--checkpoint-dir", "nan"])
        #expect(halted.status == 1)
        #expect(halted.error.contains("halted: the loss became") && halted.error.contains("the state before that step is saved as"), "\(halted.error)")
        let latest = try #require(try RunDirectory.latestCheckpoint(in: workspace.appendingPathComponent("nan")))
        _ = try Checkpoint.load(latest, on: ConformanceBackends.reference, requireFiniteParameters: true)

        let unguarded = try train(["--optimizer", "sgd", "--learning-rate", "1e30", "--epochs", "1", "--checkpoint-dir", "unguarded", "--no-halt-on-nan"])
        #expect(unguarded.status == 0, "\(unguarded.error)")
        let saved = try Checkpoint.load(workspace.appendingPathComponent("unguarded/checkpoint_epoch_1.axon"), on: ConformanceBackends.reference)
        #expect(saved.history.count == 1 && saved.history[0]["loss"]!.isNaN)
    }

    @Test("bad output paths fail before the first step, naming the path and the reason")
    func badOutputPaths() throws {
        defer { try? FileManager.default.removeItem(at: workspace) }
        try Data("x".utf8).write(to: workspace.appendingPathComponent("a-file"))
        let cases: [([String], String)] = [
            (["--plot", "missing/curves.svg"], "\(workspace.path)/missing/curves.svg: cannot create the file: its directory \(workspace.path)/missing does not exist"),
            (["--plot", "."], "is a directory, not a file"),
            (["--checkpoint-dir", "a-file/run"], "cannot create the directory: \(workspace.path)/a-file is a file"),
        ]
        for (arguments, expected) in cases {
            let result = try train(["--epochs", "50"] + arguments)
            #expect(result.status == 1)
            #expect(result.error.contains(expected), "\(arguments): \(result.error)")
            #expect(!result.output.contains("trained"), "\(arguments) trained before failing")
        }
    }

    @Test("meaningless counts and rates are refused before anything runs")
    func badNumbers() throws {
        defer { try? FileManager.default.removeItem(at: workspace) }
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let cases: [([String], Int32, String)] = [
            (["--epochs", "0"], 64, "--epochs must be at least 1, got 0"),
            (["--threads", "\(cores + 1)"], 64, "--threads \(cores + 1) is more than this machine's \(cores) cores"),
            (["--keep-last", "0", "--checkpoint-dir", "run"], 64, "--keep-last must be at least 1, got 0"),
            (["--learning-rate", "nan"], 1, "--learning-rate must be a positive finite number, got nan"),
            (["--batch-size=-3"], 1, "--batch-size must be at least 1, got -3"),
        ]
        for (arguments, status, expected) in cases {
            let result = try train(arguments)
            #expect(result.status == status && result.error.contains(expected), "\(arguments): \(result.status) \(result.error)")
            #expect(!result.output.contains("trained"))
        }
        let predict = try AxonCommandLine.run(["predict", "--checkpoint", "missing.axon", "--count=-5"], in: workspace)
        #expect(predict.status == 64 && predict.error.contains("--count must be at least 1, got -5"), "\(predict.error)")
    }

    @Test("--resume refuses a run of another model, naming what differs; a new run refuses a used directory")
    func refusals() throws {
        defer { try? FileManager.default.removeItem(at: workspace) }
        #expect(try train(["--epochs", "1", "--checkpoint-dir", "run"]).status == 0)
        let other = try train(["--epochs", "2", "--resume", "run", "--model", "mnist-cnn", "--optimizer", "sgd"])
        #expect(other.status == 1)
        #expect(other.error.contains("belongs to another run (model mnist-mlp there, mnist-cnn here; optimizer adam there, sgd here)"), "\(other.error)")
        let again = try train(["--epochs", "1", "--checkpoint-dir", "run"])
        #expect(again.status == 1 && again.error.contains("already holds checkpoints of an earlier run"), "\(again.error)")
        #expect(try train(["--epochs", "1", "--checkpoint-dir", "run", "--overwrite"]).status == 0)
        let nothing = try train(["--epochs", "1", "--resume", "absent"])
        #expect(nothing.status == 1 && nothing.error.contains("holds no checkpoint to resume from"), "\(nothing.error)")
    }
}

@Suite("axon summary")
struct SummaryCommandTests {
    @Test("--graph prints the model as Mermaid or DOT, and an unknown format is a usage error")
    func graphFormats() throws {
        let directory = FileManager.default.temporaryDirectory
        let mermaid = try AxonCommandLine.run(["summary", "--model", "mnist-mlp", "--graph", "mermaid"], in: directory)
        #expect(mermaid.status == 0)
        #expect(mermaid.output.hasPrefix("flowchart TD\n"))
        #expect(mermaid.output.contains("    n2 --> n3\n"))
        let dot = try AxonCommandLine.run(["summary", "--model", "resnet-small", "--graph", "dot"], in: directory)
        #expect(dot.status == 0 && dot.output.hasPrefix("digraph model {"))
        let unknown = try AxonCommandLine.run(["summary", "--graph", "png"], in: directory)
        #expect(unknown.status != 0 && unknown.error.contains("unknown graph format 'png'"))
    }
}

import Foundation
import Testing

/// The ecosystem's own readers and writers (numpy, safetensors, tensorboard, onnxruntime),
/// run as Python scripts from `scripts/interop/` in the virtualenv `scripts/interop-venv.sh`
/// creates under `.build/` on first use. A test that needs one fails, never skips, when the
/// environment cannot be made.
enum EcosystemReaders {
    /// The repository's root directory.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// A tensor as a script prints it: NumPy's dtype string, shape and values (as doubles, row-major).
    struct Array: Decodable, Equatable {
        let dtype: String
        let shape: [Int]
        let values: [Double]
    }

    /// Runs `scripts/interop/<script>` with `arguments` and returns its standard output.
    static func run(_ script: String, _ arguments: [String]) throws -> Data {
        let python = try String(decoding: execute(root.appendingPathComponent("scripts/interop-venv.sh").path, []), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        return try execute(python, [root.appendingPathComponent("scripts/interop/\(script)").path] + arguments)
    }

    /// Runs `script` and decodes its JSON output as `T`.
    static func json<T: Decodable>(_ type: T.Type, _ script: String, _ arguments: [String]) throws -> T {
        try JSONDecoder().decode(T.self, from: run(script, arguments))
    }

    /// A fresh empty directory for one test's files.
    static func scratchDirectory(_ name: String) throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("axon-interop-\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    private static func execute(_ executable: String, _ arguments: [String]) throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = root
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // Read both pipes to the end before waiting, so a chatty child cannot block on a full pipe.
        let group = DispatchGroup()
        nonisolated(unsafe) var errorText = Data()
        group.enter()
        DispatchQueue.global().async {
            errorText = errors.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw EcosystemError(
                "\(URL(fileURLWithPath: executable).lastPathComponent) \(arguments.joined(separator: " ")) exited with status \(process.terminationStatus): \(String(decoding: errorText, as: UTF8.self).suffix(2000))")
        }
        return data
    }
}

struct EcosystemError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

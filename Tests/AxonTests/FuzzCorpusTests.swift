import AxonConformance
import AxonData
import AxonFuzzTargets
import Foundation
import Testing

/// The fuzz targets' seeds and the inputs the fuzzer once crashed on (scripts/fuzz.sh), replayed
/// on every test run: seeds are valid files and must decode; found inputs must now throw.
@Suite("Fuzz corpus replay")
struct FuzzCorpusTests {
    static let fuzz = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fuzz")

    func files(_ folder: String, _ target: String) throws -> [URL] {
        let directory = Self.fuzz.appendingPathComponent("\(folder)/\(target)")
        return try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
            .filter { !$0.lastPathComponent.hasPrefix(".") }.sorted { $0.path < $1.path }
    }

    @Test("every seed of every target is a valid file", arguments: FuzzTargets.all.keys.sorted())
    func seedsDecode(_ target: String) throws {
        let seeds = try files("Seeds", target)
        #expect(!seeds.isEmpty)
        for seed in seeds {
            #expect(throws: Never.self, "\(seed.lastPathComponent)") { try FuzzTargets.all[target]!(try Data(contentsOf: seed)) }
        }
    }

    @Test("inputs the fuzzer crashed on now throw", arguments: FuzzTargets.all.keys.sorted())
    func regressionsThrow(_ target: String) throws {
        for input in try files("Regressions", target) {
            #expect(throws: (any Error).self, "\(input.lastPathComponent)") { try FuzzTargets.all[target]!(try Data(contentsOf: input)) }
        }
    }

    @Test("hostile .npy and case files are refused with the file's name and the problem")
    func hostileFiles() throws {
        func npy(_ header: String, _ data: [UInt8] = [], length: Int? = nil) -> Data {
            let text = Array(header.utf8)
            let claimed = length ?? text.count
            return Data([0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(claimed & 0xFF), UInt8(claimed >> 8)] + text + data)
        }
        let cases: [(Data, String)] = [
            (npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", length: 9_000), "x.npy: is not a readable .npy file: its header claims 9000 bytes"),
            (npy("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296, 4294967296), }"), "is negative or too large to address"),
            (npy("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999999,), }"), "a whole number that fits in 64 bits"),
            (npy("{'descr': '<i4', 'fortran_order': False, 'shape': (1,), }", [1, 2, 3]), "shape [1] of '<i4' needs 4 bytes of data but the file has 3"),
            (npy("{'descr': '<f4', 'shape': (2,), }"), "must hold exactly 'descr' (a string), 'fortran_order' and 'shape'"),
            (npy("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", Array(repeating: 0, count: 8)), "dtype '<c8' is not supported"),
        ]
        for (data, expected) in cases {
            #expect(errorMessage { _ = try NumPy.decode(data, name: "x.npy") }?.contains(expected) == true, "\(expected)")
        }
        let scratch = FileManager.default.temporaryDirectory
        func caseFile(_ tensor: String) -> Data {
            Data(#"{"name": "n", "op": "binary.add", "class": "elementwise", "inputs": [\#(tensor), \#(tensor)]}"#.utf8)
        }
        let files: [(Data, String)] = [
            (caseFile(#"{"values": [3e9], "dtype": "int32"}"#), "c.json: 3000000000.0 is not a Int32 value"),
            (caseFile(#"{"values": [1, 2], "shape": [-1, -2]}"#), "c.json: shape [-1, -2] does not hold the 2 values given"),
            (caseFile(#"{"uniform": {"shape": [65536, 65536], "seed": 1}}"#), "larger than 67108864 elements"),
            (caseFile(#"{"indices": {"shape": [2], "seed": 1, "upper": 0}}"#), "upper bound of at least 1, got 0"),
        ]
        for (data, expected) in files {
            #expect(errorMessage { _ = try CaseFile.decode(data, name: "c.json", directory: scratch) }?.contains(expected) == true, "\(expected)")
        }
    }
}

import AxonCore
import Backend
import AxonData
import Foundation
import Testing

@Suite("NumPy .npy and .npz files")
struct NumPyFileTests {
    @Test("files numpy.save, savez and savez_compressed wrote load with numpy's values")
    func readsWhatNumPyWrote() throws {
        let directory = try EcosystemReaders.scratchDirectory("numpy-read")
        defer { try? FileManager.default.removeItem(at: directory) }
        _ = try EcosystemReaders.run("numpy_files.py", ["write", directory.path])
        func load(_ name: String) throws -> HostArray { try NumPy.read(directory.appendingPathComponent("\(name).npy")) }

        let f4 = (0..<12).map { Float($0) * 0.25 - 1 }
        #expect(try load("f4") == HostArray(shape: [3, 4], elements: .float32(f4)))
        // Fortran order comes back row-major; float64 rounds to float32.
        #expect(try load("f8_fortran") == HostArray(shape: [2, 3], elements: .float32([0, 1, 2, 3, 4, 5].map { Float(Double($0) / 3) })))
        #expect(try load("i8") == HostArray(shape: [4], elements: .int32([-5, 0, 7, Int32.max])))
        #expect(try load("u1") == HostArray(shape: [3], elements: .uint32([0, 200, 255])))
        #expect(try load("big_endian_i4") == HostArray(shape: [3], elements: .int32([1, -2, 3])))
        #expect(try load("b1") == HostArray(shape: [2, 2], elements: .bool([true, false, false, true])))
        #expect(try load("f2") == HostArray(shape: [3], elements: .float32([0.5, -2, 65504])))
        #expect(try load("scalar") == HostArray(shape: [], elements: .float32([3.5])))
        let tooWide = directory.appendingPathComponent("too_wide.npy").path
        #expect(errorMessage { _ = try load("too_wide") } == "\(tooWide): is not a readable .npy file: element 0 (1099511627776) does not fit in int32")

        for archive in ["stored", "compressed"] {
            let arrays = try NumPy.readArchive(directory.appendingPathComponent("\(archive).npz"))
            #expect(arrays.keys.sorted() == ["a", "b"])
            #expect(arrays["a"] == (try HostArray(shape: [3, 4], elements: .float32(f4))), "\(archive)")
            #expect(arrays["b"] == (try HostArray(shape: [2], elements: .int32([4, 5]))), "\(archive)")
        }
    }

    @Test("files this library writes load in numpy with the same dtypes, shapes and values")
    func numpyReadsWhatWeWrote() throws {
        let directory = try EcosystemReaders.scratchDirectory("numpy-write")
        defer { try? FileManager.default.removeItem(at: directory) }
        let arrays: [String: HostArray] = [
            "floats": try HostArray(shape: [2, 3], elements: .float32([-1.5, 0, .pi, 1e-30, -0, 65536])),
            "ints": try HostArray(shape: [3], elements: .int32([Int32.min, -1, Int32.max])),
            "unsigned": try HostArray(shape: [1, 2], elements: .uint32([0, UInt32.max])),
            "flags": try HostArray(shape: [2], elements: .bool([false, true])),
            "scalar": try HostArray(shape: [], elements: .float32([2.25])),
            "empty": try HostArray(shape: [0, 4], elements: .float32([])),
        ]
        let expected: [String: EcosystemReaders.Array] = [
            "floats": .init(dtype: "<f4", shape: [2, 3], values: [-1.5, 0, Double(Float.pi), Double(Float(1e-30)), 0, 65536]),
            "ints": .init(dtype: "<i4", shape: [3], values: [-2_147_483_648, -1, 2_147_483_647]),
            "unsigned": .init(dtype: "<u4", shape: [1, 2], values: [0, 4_294_967_295]),
            "flags": .init(dtype: "|b1", shape: [2], values: [0, 1]),
            "scalar": .init(dtype: "<f4", shape: [], values: [2.25]),
            "empty": .init(dtype: "<f4", shape: [0, 4], values: []),
        ]
        for (name, array) in arrays {
            let file = directory.appendingPathComponent("\(name).npy")
            try NumPy.write(array, to: file)
            let read = try EcosystemReaders.json([String: EcosystemReaders.Array].self, "numpy_files.py", ["dump", file.path])
            #expect(read[""] == expected[name], "\(name)")
        }
        let archive = directory.appendingPathComponent("all.npz")
        try NumPy.writeArchive(arrays, to: archive)
        #expect(try EcosystemReaders.json([String: EcosystemReaders.Array].self, "numpy_files.py", ["dump", archive.path]) == expected)
        #expect(try NumPy.readArchive(archive) == arrays)
    }

    @Test("truncated, corrupt and lying .npz archives are refused with the file's name and the problem")
    func hostileArchives() throws {
        let valid = try NumPy.encodeArchive(["a": HostArray(shape: [2], elements: .float32([1, 2]))], name: "x.npz")
        func refusal(_ bytes: Data) -> String? { errorMessage { _ = try NumPy.decodeArchive(bytes, name: "x.npz") } }
        #expect(try NumPy.decodeArchive(valid, name: "x.npz") == ["a": HostArray(shape: [2], elements: .float32([1, 2]))])
        #expect(refusal(valid.prefix(valid.count - 1))?.contains("x.npz: is not a readable ZIP archive: missing end of central directory record") == true)
        #expect(refusal(Data(count: 10))?.contains("missing end of central directory record (truncated, or not a ZIP file)") == true)
        var corrupt = valid
        corrupt[corrupt.startIndex + 30 + 5 + 70] ^= 0xFF  // a byte of the stored .npy data
        #expect(refusal(corrupt)?.contains("the checksum of 'a.npy' does not match") == true)
        var lying = valid
        let sizeOffset = valid.count - 22 - (46 + 5) + 20  // the central directory's compressed size
        lying.replaceSubrange(sizeOffset..<(sizeOffset + 4), with: [0xFF, 0xFF, 0xFF, 0x7F])
        // A stored entry is read by its uncompressed size; the data, checksum intact, still reads.
        #expect(try NumPy.decodeArchive(lying, name: "x.npz") == ["a": HostArray(shape: [2], elements: .float32([1, 2]))])
        var huge = valid
        let declaredOffset = valid.count - 22 - (46 + 5) + 24  // the central directory's uncompressed size
        huge.replaceSubrange(declaredOffset..<(declaredOffset + 4), with: [0xFF, 0xFF, 0xFF, 0x7F])
        #expect(refusal(huge)?.contains("'a.npy' claims 2147483647 bytes, more than 244 bytes can inflate to") == true)
        var short = valid  // the end record claims two entries; the directory holds one
        for offset in [short.count - 12, short.count - 14] { short[offset] = 2 }
        #expect(refusal(short)?.contains("its central directory lists 2 entries but only 1 could be read") == true)
        var twice = try NumPy.encodeArchive(["a": HostArray(shape: [0], elements: .float32([]))], name: "x.npz")
        // Rename nothing but duplicate the one entry's central record: count 2, same name.
        let record = twice.subdata(in: (twice.count - 22 - 51)..<(twice.count - 22))
        twice.insert(contentsOf: record, at: twice.count - 22)
        for offset in [twice.count - 12, twice.count - 14] { twice[offset] = 2 }  // both entry counts
        let size = UInt32(2 * record.count)
        for (index, byte) in withUnsafeBytes(of: size.littleEndian, Swift.Array.init).enumerated() { twice[twice.count - 10 + index] = byte }
        #expect(refusal(twice)?.contains("it holds 'a.npy' twice") == true)
    }
}

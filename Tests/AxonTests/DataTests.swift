import AxonCore
import AxonData
import Backend
import Foundation
import Testing

/// The MNIST test set shipped beside the repository (see ../shared/datasets/README.md).
let mnistDirectory: URL = {
    let file = URL(fileURLWithPath: #filePath)
    return file.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("shared/datasets/mnist")
}()

@Suite("Datasets")
struct DataTests {
    @Test("IDX decoding of unsigned bytes and big-endian floats")
    func idx() throws {
        let bytes = Data([0, 0, 0x08, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 255])
        let array = try IDX.decode(bytes)
        #expect(array.shape == [2, 3])
        #expect(array.elements == .float32([1, 2, 3, 4, 5, 255]))
        let floats = Data([0, 0, 0x0D, 1, 0, 0, 0, 1]) + Data([0x3F, 0xC0, 0, 0])  // 1.5
        #expect(try IDX.decode(floats).elements == .float32([1.5]))
        #expect(errorMessage { _ = try IDX.decode(Data([0, 0, 0x08, 1, 0, 0, 0, 3, 1])) }
            == "IDX.read: IDX data should hold 3 elements of 1 bytes for shape [3], but has 1 bytes")
        #expect(errorMessage { _ = try IDX.decode(Data([7, 7, 7])) } == "IDX.read: IDX data does not start with an IDX magic number")
    }

    @Test("IDX headers that overflow, exceed the size bound or outgrow their data are refused before allocation")
    func hostileIDX() throws {
        let huge = Data([0, 0, 0x08, 3] + Array(repeating: 0xFF, count: 12))  // (2³² − 1)³ elements
        #expect(errorMessage { _ = try IDX.decode(huge) }?.contains("declares shape [4294967295, 4294967295, 4294967295] of 1-byte elements, more than the 1073741824 bytes allowed") == true)
        let large = Data([0, 0, 0x0E, 2, 0, 1, 0, 0, 0, 1, 0, 0])  // 2³² doubles: 32 GiB
        #expect(errorMessage { _ = try IDX.decode(large) }?.contains("more than the 1073741824 bytes allowed") == true)
        // Type 0x0E (8-byte doubles) over data holding one byte per element.
        #expect(errorMessage { _ = try IDX.decode(Data([0, 0, 0x0E, 1, 0, 0, 0, 2, 1, 2])) }
            == "IDX.read: IDX data should hold 2 elements of 8 bytes for shape [2], but has 2 bytes")
        #expect(errorMessage { _ = try IDX.decode(Data([0, 0, 0x08, 2, 0, 0])) } == "IDX.read: IDX data ends inside its header (6 bytes)")
        #expect(errorMessage { _ = try IDX.decode(Data([0, 0, 0x08, 1, 0, 0, 0, 4, 1, 2, 3, 4]), maximumBytes: 3) }?
            .contains("more than the 3 bytes allowed") == true)
    }

    @Test("a gzip bomb is refused once it inflates past the size its header declares")
    func gzipBomb() throws {
        let bomb = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/idx-bomb.gz")
        let message = errorMessage { _ = try IDX.read(bomb) }
        #expect(message == "IDX.read: \(bomb.path): the data inflates to more than the 18 bytes its header declares")
    }

    @Test("MNIST labels that are not whole numbers 0 to 9 are refused, NaN and huge values included")
    func mnistLabels() throws {
        for (type, label, shown) in [(UInt8(0x08), [UInt8(12)], "12.0"), (0x0D, [0x7F, 0xC0, 0, 0], "nan"), (0x0D, [0x4F, 0x80, 0, 0], "4.2949673e+09"), (0x0D, [0x40, 0x20, 0, 0], "2.5")] {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("axon-labels-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            try Data([0, 0, 0x08, 3, 0, 0, 0, 1, 0, 0, 0, 28, 0, 0, 0, 28] + Array(repeating: 0, count: 784))
                .write(to: directory.appendingPathComponent("t10k-images-idx3-ubyte"))
            try Data([0, 0, type, 1, 0, 0, 0, 1] + label).write(to: directory.appendingPathComponent("t10k-labels-idx1-ubyte"))
            #expect(errorMessage { _ = try MNIST.load(directory: directory) }
                == "MNIST.load: t10k label 0 is \(shown); MNIST labels are the whole numbers 0 to 9")
        }
        #expect(errorMessage { _ = try Digits.generate(count: -1, seed: 0) } == "Digits.generate: count must be from 0 to 1000000, got -1")
    }

    @Test("the MNIST test set splits 8,000 / 2,000 and is checksummed")
    func mnist() throws {
        let (train, heldOut) = try MNIST.load(directory: mnistDirectory)
        #expect(train.count == 8_000 && heldOut.count == 2_000)
        #expect(train.features.shape == [8_000, 28, 28, 1])
        #expect(train.labels.dtype == .int32)
        let pixels = train.features.elements.floats
        #expect(pixels.min() == 0 && pixels.max() == 1)
        // The first test-set digit is a 7; the last is a 6.
        guard case let .int32(first) = train.labels.elements, case let .int32(last) = heldOut.labels.elements else {
            Issue.record("labels are not int32")
            return
        }
        #expect(first[0] == 7 && last[1_999] == 6)
        #expect(Set(first).count == 10)
    }

    @Test("a damaged file fails its checksum with a clear message")
    func checksum() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("axon-mnist-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        for name in ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"] {
            var data = try Data(contentsOf: mnistDirectory.appendingPathComponent(name))
            if name.hasPrefix("t10k-labels") { data[data.count - 10] ^= 0xFF }
            try data.write(to: directory.appendingPathComponent(name))
        }
        let message = errorMessage { _ = try MNIST.load(directory: directory) }
        #expect(message?.contains("has MD5") == true && message?.contains("expected ec29112dd5afa0611ce80d1b7f02629c") == true)
    }

    @Test("batches: sizes, drop-last, and a deterministic shuffle that covers every example")
    func batching() throws {
        let dataset = try Dataset(
            features: HostArray(shape: [10, 1], elements: .float32((0..<10).map(Float.init))),
            labels: HostArray(shape: [10], elements: .int32((0..<10).map(Int32.init))))
        let plain = try dataset.batches(size: 4, on: backend)
        #expect(plain.batchCount == 3)
        #expect(try plain.batch(2, epoch: 0).targets.shape == [2])
        #expect(try dataset.batches(size: 4, dropLast: true, on: backend).batchCount == 2)
        let shuffled = try dataset.batches(size: 4, shuffle: true, seed: 5, on: backend)
        let epoch0 = shuffled.order(epoch: 0), epoch1 = shuffled.order(epoch: 1)
        #expect(epoch0.sorted() == Array(0..<10) && epoch1.sorted() == Array(0..<10))
        #expect(epoch0 != epoch1 && epoch0 != Array(0..<10))
        #expect(try dataset.batches(size: 4, shuffle: true, seed: 5, on: backend).order(epoch: 0) == epoch0)
        let first = try shuffled.batch(0, epoch: 0)
        #expect(try first.inputs["features"]?.scalars == epoch0.prefix(4).map(Float.init))
        #expect(throws: AxonError.self) { try dataset.batches(size: 0, on: backend) }
        // A batch larger than the data set is the whole set, however large (no overflow).
        let whole = try dataset.batches(size: .max, on: backend)
        #expect(whole.batchCount == 1)
        #expect(try whole.batch(0, epoch: 0).targets.shape == [10])
        #expect(try dataset.batches(size: .max, dropLast: true, on: backend).batchCount == 0)
    }
}

@Suite("Training on real data")
struct MNISTTrainingTests {
    @Test("an MLP trained on 8,000 MNIST images for 2 epochs reaches ≥ 90% on the other 2,000")
    func mnistMLP() throws {
        let (train, heldOut) = try MNIST.load(directory: mnistDirectory)
        let model = Axon.input("features", shape: [nil, 28, 28, 1]).flatten().dense(128, activation: .relu).dense(10)
        let loop = try Loop.trainer(
            model: model, loss: .categoricalCrossEntropy(fromLogits: true, sparse: true), optimizer: .adam(learningRate: 1e-3),
            on: backend, seed: 0
        ).metric(.accuracy())
        let final = try loop.run(try train.batches(size: 64, shuffle: true, seed: 1, on: backend), epochs: 2)
        let evaluation = try Loop.evaluator(model: model, state: final.stepState.model, on: backend)
            .metric(.accuracy()).run(try heldOut.batches(size: 500, on: backend), epochs: 1)
        let accuracy = evaluation.metrics["accuracy"] ?? 0
        #expect(accuracy >= 0.90, "held-out accuracy \(accuracy)")
    }
}

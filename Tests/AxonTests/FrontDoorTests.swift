import AxonConformance
import Backend
import CPUReference
import Foundation
import Testing

import AxonCore

/// Counts matrix products and leaves everything else to its fallback.
final class MatmulCounter: DelegatingBackend, @unchecked Sendable {
    let fallback: any Backend
    private(set) var matmuls = 0
    var name: String { "matmul-counter" }
    var deviceDescription: String { fallback.deviceDescription }
    init(fallback: any Backend) { self.fallback = fallback }

    func matmul(_ a: Buffer, _ b: Buffer, transposeA: Bool, transposeB: Bool) throws -> Buffer {
        matmuls += 1
        return try fallback.matmul(a, b, transposeA: transposeA, transposeB: transposeB)
    }
}

@Suite("The front door, delegation and optional primitives")
struct FrontDoorTests {
    @Test("a result above the allocation bound is an outOfMemory error naming the bytes asked")
    func allocationBound() {
        let door = CheckedBackend(ReferenceBackend(), maximumAllocationBytes: 1024)
        // 257 float32 elements are 1,028 bytes, 4 more than the bound.
        #expect(throws: BackendError.outOfMemory(backend: "reference", bytes: 1028)) {
            _ = try door.full(0, shape: [257], dtype: .float32)
        }
        #expect(throws: BackendError.outOfMemory(backend: "reference", bytes: 1028)) {
            _ = try door.randomBits(key: Philox.Key(seed: 1), offset: 0, shape: [257])
        }
        #expect((try? door.full(0, shape: [256], dtype: .float32)) != nil)
        // 2⁶² float32 elements need more bytes than Int holds.
        #expect(throws: BackendError.outOfMemory(backend: "reference", bytes: Int.max)) {
            _ = try door.iota(shape: [1 << 30, 1 << 30, 4], axis: 0, dtype: .float32)
        }
    }

    @Test("shapes given as arguments may not hold a negative dimension or overflow Int")
    func invalidShapeArguments() {
        let door = ReferenceBackend().checked
        for shape: Shape in [[-1], [2, -3], [Int.max, 2]] {
            #expect(throws: BackendError.self) { _ = try door.full(0, shape: shape, dtype: .int32) }
            #expect(throws: BackendError.self) { _ = try door.randomBits(key: Philox.Key(seed: 0), offset: 0, shape: shape) }
        }
        #expect(throws: BackendError.invalidArgument(
            operation: "full", reason: "shape [2, -3] has a negative dimension or more elements than can be addressed")) {
            _ = try door.full(0, shape: [2, -3], dtype: .float32)
        }
    }

    @Test("a float-only operation refuses integer, unsigned and boolean operands, naming the dtypes it takes")
    func floatOnlyOperationsRefuseOtherDTypes() throws {
        let door = ReferenceBackend().checked
        let float = try door.full(1, shape: [2, 2], dtype: .float32)
        for dtype in [DType.int32, .uint32, .bool] {
            let other = try door.full(1, shape: [2, 2], dtype: dtype)
            #expect(throws: BackendError.unsupportedDType(operation: "matmul", dtype: dtype, reason: "expected bfloat16 or float32")) {
                _ = try door.matmul(float, other, transposeA: false, transposeB: false)
            }
        }
        // Floats of two dtypes are refused for differing, not for their kind.
        let half = try door.full(1, shape: [2, 2], dtype: .bfloat16)
        #expect(throws: BackendError.unsupportedDType(
            operation: "matmul", dtype: .bfloat16, reason: "operands must share a dtype, got float32 and bfloat16")) {
            _ = try door.matmul(float, half, transposeA: false, transposeB: false)
        }
    }

    @Test("tensors made on a bare backend run behind its door, and doors do not nest")
    func tensorsUseTheDoor() throws {
        let bare = ReferenceBackend()
        let tensor = try Tensor([1, 2, 3], on: bare)
        let door = try #require(tensor.backend as? CheckedBackend)
        #expect(door.implementation === bare)
        #expect(CheckedBackend(door).implementation === bare)
        #expect(tensor.backend.isSameBackend(as: bare))
        #expect(throws: BackendError.self) { _ = try tensor.reshaped(to: [-1, -3]) }
    }

    @Test("a delegating backend runs its own primitive, the fallback's others, and composes unimplemented fused ops on itself")
    func delegation() throws {
        let counter = MatmulCounter(fallback: ReferenceBackend())
        let door = counter.checked
        let x = try door.upload(HostArray(shape: [1, 2], elements: .float32([1, 2])))
        let w = try door.upload(HostArray(shape: [2, 1], elements: .float32([3, 4])))
        // dense is not overridden: its composition must call this backend's matmul, not the fallback's dense.
        let y = try door.download(door.dense(x, weight: w, bias: nil, activation: .identity))
        #expect(y.elements == .float32([11]))  // 1·3 + 2·4
        #expect(counter.matmuls == 1)
        #expect(try door.download(door.unary(.negate, x)).elements == .float32([-1, -2]))
    }

    @Test("optional primitives decompose into required ones with the published values")
    func decompositions() throws {
        let core = CheckedBackend(CoreOnlyBackend(ReferenceBackend()))
        let x = try core.upload(HostArray(shape: [3], elements: .float32([1e-7, 0, -1])))
        func values(_ operation: UnaryOperation) throws -> [Float] { try core.download(core.unary(operation, x)).elements.floats }
        // Near 0 the decompositions keep full precision (exp(x) − 1 in float32 would be 19% off
        // at 1e-7): within 2 ulps of the C library's double-precision expm1 and log1p.
        func close(_ value: Float, _ expected: Double) -> Bool { abs(Double(value) - expected) <= 2 * Double(Float(expected).ulp) }
        #expect(close(try values(.expm1)[0], Foundation.expm1(Double(Float(1e-7)))))
        #expect(close(try values(.log1p)[0], Foundation.log1p(Double(Float(1e-7)))))
        #expect(try values(.expm1)[2] == Float(-0.63212055882855767))  // e⁻¹ − 1
        #expect(try values(.log1p)[2] == -.infinity)  // log(0)
        #expect(try values(.sigmoid)[1] == 0.5)
        #expect(try values(.reciprocal)[2] == -1)
    }

    @Test("average pooling decomposes into sum pooling over the in-bounds counts")
    func averagePoolingDecomposition() throws {
        let core = CheckedBackend(CoreOnlyBackend(ReferenceBackend()))
        let x = try core.upload(HostArray(shape: [3], elements: .float32([1, 2, 6])))
        let descriptor = WindowDescriptor(windowDimensions: [2], strides: [2], padding: [Padding(0, 1)])
        // Windows {1, 2} and {6, padding}: the padding is not counted, so the means are 1.5 and 6.
        #expect(try core.download(core.window(.average, x, descriptor: descriptor)).elements == .float32([1.5, 6]))
        let gradient = try core.upload(HostArray(shape: [2], elements: .float32([2, 4])))
        #expect(try core.download(core.windowBackward(.average, input: x, gradOutput: gradient, descriptor: descriptor)).elements
            == .float32([1, 1, 4]))
    }
}

@Suite("Registry: descriptors, options and the host fallback")
struct RegistryDescriptorTests {
    static func descriptor(_ seen: @escaping @Sendable (Int?) -> Void = { _ in }) -> BackendDescriptor {
        BackendDescriptor(
            name: "tuned", priority: 1, summary: "a reference backend with an option",
            options: [BackendOption(name: "threads", help: "worker threads", kind: .integer(1...4))]
        ) { configuration in
            seen(configuration.integer("threads"))
            return try configuration.hostFallback()
        }
    }

    @Test("options are checked against the backend's declaration and reach its factory")
    func options() throws {
        let registry = BackendRegistry()
        ReferenceBackend.register(in: registry)
        let seen = LockedBox<Int?>(nil)
        registry.register(Self.descriptor { value in seen.set(value) })
        #expect(throws: BackendError.invalidArgument(operation: "backend option", reason: "tuned.threads must be 1…4, got '9'")) {
            try registry.setOptions(["tuned.threads=9"])
        }
        #expect(throws: BackendError.self) { try registry.setOptions(["threads=2"]) }
        #expect(throws: BackendError.invalidArgument(
            operation: "backend option", reason: "backend 'tuned' has no option 'cores' (it has threads)")) {
            try registry.setOptions(["tuned.cores=2"])
        }
        try registry.setOptions(["tuned.threads=3"])
        _ = try registry.backend(named: "tuned")
        #expect(seen.value == 3)
        #expect(registry.descriptorsByPriority.map(\.helpText).joined().contains("tuned.threads=1…4: worker threads"))
    }

    @Test("a backend that delegates to a host fallback is unavailable when none is registered")
    func missingHostFallback() {
        let registry = BackendRegistry()
        registry.register(Self.descriptor())
        #expect(throws: BackendError.unavailable(
            backend: "tuned", reason: "it delegates to a host fallback backend (such as reference), and none is registered")) {
            _ = try registry.backend(named: "tuned")
        }
    }

    @Test("the registry hands out backends behind their door, with its allocation bound")
    func registryUsesTheDoor() throws {
        let registry = BackendRegistry()
        ReferenceBackend.register(in: registry)
        registry.maximumAllocationBytes = 64
        let backend = try registry.backend(named: "reference")
        #expect(backend is CheckedBackend)
        #expect(throws: BackendError.outOfMemory(backend: "reference", bytes: 68)) {
            _ = try backend.full(1, shape: [17], dtype: .float32)
        }
    }
}

/// A value shared with a `@Sendable` closure.
final class LockedBox<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value
    init(_ value: Value) { stored = value }
    var value: Value { lock.withLock { stored } }
    func set(_ value: Value) { lock.withLock { stored = value } }
}

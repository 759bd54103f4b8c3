import AxonCore
import Backend
import Foundation
import Testing

@Suite("Reference backend: elementwise primitives")
struct ElementwisePrimitiveTests {
    func run(_ operation: UnaryOperation, _ inputs: [Float]) throws -> [Float] {
        let x = try backend.upload(HostArray(shape: [inputs.count], elements: .float32(inputs)))
        return try backend.download(backend.unary(operation, x)).elements.floats
    }

    @Test("unary ops give their textbook values")
    func unaryValues() throws {
        expectClose(try run(.negate, [1, -2, 0]), [-1, 2, 0])
        expectClose(try run(.abs, [-3, 2]), [3, 2])
        expectClose(try run(.sign, [-3, 0, 2]), [-1, 0, 1])
        expectClose(try run(.exp, [0, 1, -1]), [1, 2.7182817, 0.36787945])
        expectClose(try run(.expm1, [0, 1e-6]), [0, 1.0000005e-6])
        expectClose(try run(.log, [1, 2.7182817, 0]), [0, 1, -.infinity])
        expectClose(try run(.log1p, [0, 1e-6]), [0, 9.999995e-7])
        expectClose(try run(.sqrt, [4, 2]), [2, 1.4142135])
        expectClose(try run(.rsqrt, [4, 0.25]), [0.5, 2])
        expectClose(try run(.square, [-3, 0.5]), [9, 0.25])
        expectClose(try run(.reciprocal, [4, -0.5]), [0.25, -2])
        expectClose(try run(.sin, [0, .pi / 2]), [0, 1])
        expectClose(try run(.cos, [0, .pi]), [1, -1])
        expectClose(try run(.tan, [0, .pi / 4]), [0, 1])
        expectClose(try run(.tanh, [0, 1]), [0, 0.7615942])
        expectClose(try run(.sigmoid, [0, 2, -100, 100]), [0.5, 0.880797, 0, 1])
        expectClose(try run(.erf, [0, 1, -1]), [0, 0.8427008, -0.8427008])
        expectClose(try run(.relu, [-1, 0, 3]), [0, 0, 3])
        expectClose(try run(.floor, [1.5, -1.5]), [1, -2])
        expectClose(try run(.ceil, [1.5, -1.5]), [2, -1])
        expectClose(try run(.round, [0.5, 1.5, 2.5, -0.5, 1.2]), [0, 2, 2, -0, 1])
    }

    @Test("every unary op has a test value")
    func unaryCoverage() throws {
        // The loop over CaseIterable makes a new op fail here until it is handled.
        for operation in UnaryOperation.allCases where operation != .logicalNot {
            let result = try run(operation, [0.25])
            #expect(result.count == 1, "\(operation)")
        }
        let mask = try backend.upload(HostArray(shape: [2], elements: .bool([true, false])))
        #expect(try backend.download(backend.unary(.logicalNot, mask)).elements == .bool([false, true]))
    }

    @Test("integer unary ops")
    func integerUnary() throws {
        let x = try backend.upload(HostArray(shape: [3], elements: .int32([-2, 0, 5])))
        #expect(try backend.download(backend.unary(.negate, x)).elements == .int32([2, 0, -5]))
        #expect(try backend.download(backend.unary(.abs, x)).elements == .int32([2, 0, 5]))
        #expect(try backend.download(backend.unary(.sign, x)).elements == .int32([-1, 0, 1]))
        #expect(throws: BackendError.self) { try backend.unary(.exp, x) }
    }

    @Test("binary ops broadcast NumPy-style")
    func broadcasting() throws {
        let a = try tensor([1, 2, 3, 4, 5, 6], [2, 3])
        let column = try tensor([10, 20], [2, 1])
        let row = try tensor([100, 200, 300], [3])
        try expectClose(a + column, [11, 12, 13, 24, 25, 26], shape: [2, 3])
        try expectClose(a * row, [100, 400, 900, 400, 1000, 1800], shape: [2, 3])
        try expectClose(column - row, [-90, -190, -290, -80, -180, -280], shape: [2, 3])
        try expectClose(a / 2, [0.5, 1, 1.5, 2, 2.5, 3])
        let scalarFirst = try tensor([1], [1, 1])
        try expectClose(scalarFirst + row, [101, 201, 301], shape: [1, 3])
    }

    @Test("binary float ops")
    func binaryFloat() throws {
        let a = try tensor([2, -3, 5, .nan], [4])
        let b = try tensor([3, 2, -2, 1], [4])
        try expectClose(a.pow(try tensor([3, 2, 0.5, 1], [4])), [8, 9, 2.236068, .nan])
        try expectClose(a.maximum(b), [3, 2, 5, .nan])
        try expectClose(a.minimum(b), [2, -3, -2, .nan])
        try expectClose(a.remainder(b), [2, -1, 1, .nan])
    }

    @Test("integer arithmetic truncates and defines division by zero as 0")
    func integerBinary() throws {
        let a = try backend.upload(HostArray(shape: [4], elements: .int32([7, -7, 5, Int32.min])))
        let b = try backend.upload(HostArray(shape: [4], elements: .int32([2, 2, 0, -1])))
        #expect(try backend.download(backend.binary(.divide, a, b)).elements == .int32([3, -3, 0, Int32.min]))
        #expect(try backend.download(backend.binary(.remainder, a, b)).elements == .int32([1, -1, 0, 0]))
        #expect(try backend.download(backend.binary(.add, a, b)).elements == .int32([9, -5, 5, Int32.max]))
        #expect(try backend.download(backend.binary(.maximum, a, b)).elements == .int32([7, 2, 5, -1]))
    }

    @Test("comparisons return bool and treat NaN as unequal")
    func comparisons() throws {
        let a = try tensor([1, 2, .nan], [3])
        let b = try tensor([2, 2, .nan], [3])
        let expected: [(ComparisonOperation, [Bool])] = [
            (.equal, [false, true, false]), (.notEqual, [true, false, true]), (.less, [true, false, false]),
            (.lessEqual, [true, true, false]), (.greater, [false, false, false]), (.greaterEqual, [false, true, false]),
        ]
        for (operation, values) in expected {
            #expect(try a.compare(operation, b).array.elements == .bool(values), "\(operation)")
        }
    }

    @Test("select broadcasts condition and branches")
    func select() throws {
        let condition = try Tensor([true, false], shape: [2, 1], on: backend)
        let result = try condition.select(try tensor([1, 2, 3], [3]), try tensor([-1], []))
        try expectClose(result, [1, 2, 3, -1, -1, -1], shape: [2, 3])
    }

    @Test("cast truncates toward zero and saturates")
    func cast() throws {
        let x = try tensor([1.7, -1.7, 3e10, .nan, 0], [5])
        #expect(try x.cast(to: .int32).array.elements == .int32([1, -1, Int32.max, 0, 0]))
        #expect(try x.cast(to: .uint32).array.elements == .uint32([1, 0, UInt32.max, 0, 0]))
        #expect(try x.cast(to: .bool).array.elements == .bool([true, true, true, true, false]))
        let labels = try Tensor(integers: [3, 0], shape: [2], on: backend)
        #expect(try labels.cast(to: .float32).scalars == [3, 0])
    }

    @Test("logical ops on masks")
    func logical() throws {
        let a = try Tensor([true, true, false, false], shape: [4], on: backend)
        let b = try Tensor([true, false, true, false], shape: [4], on: backend)
        #expect(try a.logicalAnd(b).array.elements == .bool([true, false, false, false]))
        #expect(try a.logicalOr(b).array.elements == .bool([true, true, true, false]))
    }

    @Test("mismatched shapes and dtypes throw clear errors")
    func errors() throws {
        let message = errorMessage { _ = try tensor([1, 2, 3], [3]) + tensor([1, 2], [2]) }
        #expect(message == "binary(add): shape mismatch: shapes [3] and [2] cannot be broadcast together (dimension 0 is 3 vs 2)")
        let labels = try Tensor(integers: [1], shape: [1], on: backend)
        let dtype = errorMessage { _ = try tensor([1], [1]) + labels }
        #expect(dtype == "binary(add): unsupported dtype int32: operands must share a dtype, got float32 and int32")
    }
}

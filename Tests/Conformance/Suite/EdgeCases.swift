import Backend

/// Literal values at the edges of each op's definition: integer arithmetic, comparisons, casts
/// and reductions with negative operands, division and remainder by zero, `Int32.min / −1`,
/// wrapping overflow, saturating float-to-integer casts, ties in index reductions, and NaN and
/// infinities through float reductions, maxima and pooling, all of which must match exactly;
/// and trigonometry of large arguments.
public enum EdgeCases {
    static func int32(_ values: [Int32]) -> InputSpec {
        .elements(shape: [values.count], .int32(values))
    }

    static func uint32(_ values: [UInt32]) -> InputSpec {
        .elements(shape: [values.count], .uint32(values))
    }

    static func float32(_ values: [Float], shape: [Int]? = nil) -> InputSpec {
        PrimitiveCases.literal(values, shape ?? [values.count])
    }

    /// Every edge case.
    public static var all: [ConformanceCase] {
        let a = int32([-7, -3, 0, 5, 9, .min, .max, 12]), b = int32([2, -2, 3, 0, -4, -1, 1, 5])
        let ua = uint32([0, 1, 7, .max, 10, 3, 100, 8]), ub = uint32([3, 0, 2, 1, 4, 3, 7, 9])
        let arithmetic: [BinaryOperation] = [.add, .subtract, .multiply, .divide, .remainder, .maximum, .minimum]
        var cases: [ConformanceCase] = []
        for operation in arithmetic {
            cases.append(.op("int32 \(operation.rawValue) at the edges", "binary.\(operation.rawValue)", [a, b], opClass: .exact))
            cases.append(.op("uint32 \(operation.rawValue) at the edges", "binary.\(operation.rawValue)", [ua, ub], opClass: .exact))
        }
        for operation in [UnaryOperation.negate, .abs, .sign] {
            cases.append(.op("int32 \(operation.rawValue) at the edges", "unary.\(operation.rawValue)", [a], opClass: .exact))
        }
        for operation in ComparisonOperation.allCases {
            cases.append(.op("int32 compare \(operation.rawValue)", "compare.\(operation.rawValue)", [a, b], opClass: .exact))
            cases.append(.op("uint32 compare \(operation.rawValue)", "compare.\(operation.rawValue)", [ua, ub], opClass: .exact))
        }
        let floats = float32([-1.5, 0, 3.7, 5e9, -5e9, .nan, -0.5, 2_147_483_520])
        for dtype in ["int32", "uint32", "bool"] {
            cases.append(.op("cast float32 to \(dtype), saturating", "cast", [floats], ["dtype": .string(dtype)], opClass: .exact))
        }
        for (source, input) in [("int32", a), ("uint32", ua)] {
            for dtype in ["float32", "bool", source == "int32" ? "uint32" : "int32"] {
                cases.append(.op("cast \(source) to \(dtype)", "cast", [input], ["dtype": .string(dtype)], opClass: .exact))
            }
        }
        let matrix = InputSpec.elements(shape: [2, 4], .int32([-7, -3, 2, 5, 9, -1, 4, 3]))
        for operation in [ReductionOperation.sum, .max, .min, .product] {
            cases.append(.op("int32 reduce \(operation.rawValue)", "reduce.\(operation.rawValue)", [matrix], ["axes": .ints([1])], opClass: .exact))
        }
        cases.append(.op("argmax with ties and NaN", "indexReduce.argmax", [float32([3, 9, 9, -1, .nan, .nan, 2])], ["axis": .int(0)], opClass: .exact))
        cases.append(.op("argmin with ties", "indexReduce.argmin", [float32([3, -1, 9, -1])], ["axis": .int(0)], opClass: .exact))
        let noClasses = float32([], shape: [2, 0])
        cases.append(.op("softmax cross-entropy over an empty class axis", "softmaxCrossEntropy", [noClasses, noClasses], opClass: .exact))
        cases.append(.op(
            "softmax cross-entropy's backward over an empty class axis", "softmaxCrossEntropyBackward", [noClasses, noClasses, float32([1, 2])],
            opClass: .exact))
        let special = float32([1, .nan, 3, -.infinity, 2, 0], shape: [2, 3])
        for operation in [ReductionOperation.max, .min, .sum] {
            cases.append(.op("reduce \(operation.rawValue) with NaN and -∞", "reduce.\(operation.rawValue)", [special], ["axes": .ints([1])], opClass: .exact))
        }
        let signed = float32([.nan, -0.0, .infinity, -.infinity, -2, 3])
        for operation in [BinaryOperation.maximum, .minimum] {
            cases.append(.op("\(operation.rawValue) with NaN and ±∞", "binary.\(operation.rawValue)", [signed, float32([1, 1, .nan, 0, -3, 3])], opClass: .exact))
        }
        for operation in [UnaryOperation.sign, .relu, .abs] {
            cases.append(.op("\(operation.rawValue) of NaN, −0 and ±∞", "unary.\(operation.rawValue)", [signed], opClass: .exact))
        }
        let pooled = float32([1, .nan, 4, 4, -.infinity, -.infinity], shape: [1, 6, 1])
        let pool: [String: Attribute] = ["window": .ints([1, 2, 1]), "strides": .ints([1, 2, 1]), "padding": .ints([0, 0, 0, 0, 0, 0])]
        cases.append(.op("max pool with NaN, ties and -∞", "window.max", [pooled], pool, opClass: .exact))
        cases.append(.op("max pool backward with NaN and ties", "windowBackward.max", [pooled, float32([1, 2, 3], shape: [1, 3, 1])], pool, opClass: .exact))
        // A batch large enough to be cut into chunks, a NaN in one example and -∞ in another:
        // a backend that checks its input chunk by chunk must still treat the whole op alike.
        let batch = [8, 64, 64, 32], perExample = 64 * 64 * 32
        var values = (0..<(8 * perExample)).map { Float($0 % 61) - 30 }
        (values[5 * perExample + 1234], values[1 * perExample + 77]) = (.nan, -.infinity)
        let window: [String: Attribute] = ["window": .ints([1, 2, 2, 1]), "strides": .ints([1, 2, 2, 1]), "padding": .ints([0, 0, 0, 0, 0, 0, 0, 0])]
        let chunked = InputSpec.elements(shape: batch, .float32(values))
        let gradient = InputSpec.uniform(shape: [8, 32, 32, 32], seed: 61, low: -1, high: 1)
        cases.append(.op("max pool of a large batch with NaN in one example", "window.max", [chunked], window, opClass: .exact))
        cases.append(.op("max pool backward of a large batch with NaN in one example", "windowBackward.max", [chunked, gradient], window, opClass: .exact))
        // Trigonometry far from zero, where a device's argument reduction is put to the test.
        let wide = InputSpec.uniform(shape: [4, 33], seed: 60, low: -1000, high: 1000)
        for operation in [UnaryOperation.sin, .cos] {
            cases.append(.op("\(operation.rawValue) of arguments up to ±1000", "unary.\(operation.rawValue)", [wide], opClass: .elementwise))
        }
        cases.append(.op("int32 iota", "iota", [], ["shape": .ints([2, 3]), "axis": .int(0), "dtype": .string("uint32")], opClass: .exact))
        return cases
    }
}

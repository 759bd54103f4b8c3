import Backend

/// The `bfloat16` cases: casts to and from every dtype against hand-derived bit patterns, and a
/// `bfloat16` twin of every primitive and fused-op case that takes floats. A twin's inputs are
/// the original's rounded to `bfloat16`; each backend's result is compared with the reference
/// backend's `bfloat16` result and with the `float32` result of the same op on the same
/// (widened, so identical) inputs, at the `bfloat16` tolerance.
public enum BFloat16Cases {
    /// Every `bfloat16` case.
    public static var all: [ConformanceCase] {
        casts + twins(of: PrimitiveCases.all.filter { !float32Only.contains($0.name) }) + mixedNormalizations(of: PrimitiveCases.all)
    }

    /// Op cases without a bfloat16 twin: the backward passes of the long recurrent cases, whose
    /// forward pass hands bfloat16-rounded states to the backward one, so their gradients leave
    /// bfloat16's tolerance of the float32 result on every backend alike (by 0.02 on all three);
    /// the short recurrent cases keep their twins.
    static let float32Only: Set<String> = [
        "recurrent sequence backward lstm cut into batch chunks", "recurrent sequence backward gru cut into batch chunks",
    ]

    /// `bfloat16` twins of the op cases among `cases` that have a `float32` input.
    public static func twins(of cases: [ConformanceCase]) -> [ConformanceCase] {
        cases.compactMap { original in
            guard case let .op(op, inputs, attributes) = original.body, op != "cast", original.opClass != .error,
                inputs.contains(where: \.isFloat32)
            else { return nil }
            let rounded = inputs.map { $0.isFloat32 ? InputSpec.bfloat16($0) : $0 }
            return ConformanceCase(
                "bfloat16 \(original.name)", covers: ["bfloat16.\(op)"], opClass: .bfloat16,
                body: .op(name: op, inputs: rounded, attributes: attributes))
        }
    }

    /// Mixed-precision twins of the normalisation cases: the data in `bfloat16` (backward: the
    /// data, the output's gradient, or both), the parameters in `float32`, as a `float32` batch
    /// norm reads a `bfloat16` layer's output and gradient. Compared, like the others, with the
    /// `float32` op on the widened operands.
    public static func mixedNormalizations(of cases: [ConformanceCase]) -> [ConformanceCase] {
        cases.flatMap { original -> [ConformanceCase] in
            guard case let .op(op, inputs, attributes) = original.body, op == "normalize" || op == "normalizeBackward" else { return [] }
            // normalizeBackward's operands: the output's gradient, then the data.
            let variants: [(String, Set<Int>)] = op == "normalize"
                ? [("bfloat16 data", [0])]
                : [("bfloat16 data", [1]), ("bfloat16 gradient", [0]), ("bfloat16 data and gradient", [0, 1])]
            return variants.map { label, rounded in
                let mixed = inputs.enumerated().map { rounded.contains($0.offset) ? InputSpec.bfloat16($0.element) : $0.element }
                return ConformanceCase(
                    "\(label), float32 parameters: \(original.name)", covers: ["bfloat16.\(op)"], opClass: .bfloat16,
                    body: .op(name: op, inputs: mixed, attributes: attributes))
            }
        }
    }

    /// The `float32` result of a twin: its op on its inputs widened to `float32` (exactly), on `backend`.
    static func float32Result(_ op: String, _ inputs: [InputSpec], _ attributes: Attributes, on backend: any Backend) throws -> [HostArray] {
        let buffers = try inputs.map { spec in
            let array = try spec.make()
            return try backend.upload(HostArray(shape: array.shape, elements: array.elements.converted(to: array.dtype == .bfloat16 ? .float32 : array.dtype)))
        }
        // An output asked for in bfloat16 (a normalisation's outputDType) comes back widened, as the twin's are.
        return try OpTable.run(op, on: backend, inputs: buffers, attributes: attributes).map { buffer in
            let array = try backend.download(buffer)
            return try HostArray(shape: array.shape, elements: array.elements.converted(to: array.dtype == .bfloat16 ? .float32 : array.dtype))
        }
    }

    // MARK: Casts, bit for bit

    static func bits(_ patterns: [UInt16]) -> HostElements { .bfloat16(patterns.map(BFloat16.init(bitPattern:))) }

    static func cast(_ name: String, _ input: HostElements, to dtype: DType, expected: HostElements) -> ConformanceCase {
        let array = (try? HostArray(shape: [input.count], elements: expected))
        return ConformanceCase(
            "cast \(name)", covers: ["cast"], opClass: .exact,
            body: .op(name: "cast", inputs: [.elements(shape: [input.count], input)], attributes: Attributes(["dtype": .string(dtype.rawValue)])),
            expected: array.map { [$0] } ?? [])
    }

    /// Casts whose expected bits are derived by hand from the bit layouts (sign, 8-bit exponent
    /// biased by 127, 7 mantissa bits).
    /// `values` four times over.
    static func repeated<T>(_ values: [T]) -> [T] { Array([[T]](repeating: values, count: 4).joined()) }

    static var casts: [ConformanceCase] {
        [
            // 1 + 2⁻⁸ is halfway between 1 (0x3F80, even) and 1 + 2⁻⁷: ties go to 1. 1 + 3·2⁻⁸ is
            // halfway between 0x3F81 (odd) and 0x3F82: ties go to 0x3F82. The float just above
            // 1 + 2⁻⁸ rounds up. 3.4e38 is beyond bfloat16's largest finite (0x7F7F ≈ 3.39e38) by
            // more than half a step: infinity. 2⁻¹⁴⁹ rounds to zero.
            // Repeated four times (with NaNs), so that vectorised casts take them in full vectors too.
            cast("float32 to bfloat16 rounds to nearest even",
                 .float32(repeated([1, 1.00390625, 1.01171875, Float(bitPattern: 0x3F80_8001), -2.5, .infinity, -.infinity, 3.4e38, Float(bitPattern: 1), .nan])),
                 to: .bfloat16, expected: bits(repeated([0x3F80, 0x3F80, 0x3F82, 0x3F81, 0xC020, 0x7F80, 0xFF80, 0x7F80, 0x0000, 0x7FC0]))),
            // 257 is halfway between 256 and 258: 256 (even). 259: 260. 2²⁴ + 2¹⁶ + 1 is just above
            // the midpoint of 2²⁴ (0x4B80) and 2²⁴ + 2¹⁷ (0x4B81): rounding once gives 0x4B81,
            // rounding through float32 first (to 2²⁴ + 2¹⁶, a tie) would give 0x4B80.
            cast("int32 to bfloat16 rounds once", .int32([257, 259, 16_842_753, -16_842_753, Int32.min, Int32.max, 0, -3]),
                 to: .bfloat16, expected: bits([0x4380, 0x4382, 0x4B81, 0xCB81, 0xCF00, 0x4F00, 0x0000, 0xC040])),
            cast("uint32 to bfloat16 rounds once", .uint32([UInt32.max, 16_842_753, 255]),
                 to: .bfloat16, expected: bits([0x4F80, 0x4B81, 0x437F])),
            cast("bool to bfloat16", .bool([true, false]), to: .bfloat16, expected: bits([0x3F80, 0x0000])),
            cast("bfloat16 to float32 widens exactly", bits(repeated([0x3F81, 0xC020, 0x7F80, 0x0001, 0x7F7F])),
                 to: .float32, expected: .float32(repeated([1.0078125, -2.5, .infinity, Float(bitPattern: 0x0001_0000), Float(bitPattern: 0x7F7F_0000)]))),
            // Truncation toward zero, saturation, NaN to 0, as for float32.
            cast("bfloat16 to int32 truncates and saturates", bits([0xC020, 0x4070, 0x7EF0, 0xFEF0, 0x7FC0]),
                 to: .int32, expected: .int32([-2, 3, Int32.max, Int32.min, 0])),
            cast("bfloat16 to uint32 truncates and saturates", bits([0xC020, 0x4070, 0x7EF0]),
                 to: .uint32, expected: .uint32([0, 3, UInt32.max])),
            cast("bfloat16 to bool", bits([0x0000, 0x8000, 0x7FC0, 0x3F00]), to: .bool, expected: .bool([false, false, true, true])),
            // 1.00390625000001 is just above a tie; through float32 it would become the tie itself
            // (1 + 2⁻⁸) and then round down to 1.
            ConformanceCase(
                "full bfloat16 rounds a double once", covers: ["full"], opClass: .exact,
                body: .op(name: "full", inputs: [], attributes: Attributes(["value": .double(1.00390625000001), "shape": .ints([3]), "dtype": .string("bfloat16")])),
                expected: (try? HostArray(shape: [3], elements: bits([0x3F81, 0x3F81, 0x3F81]))).map { [$0] } ?? []),
        ]
    }
}

extension InputSpec {
    /// Whether the spec makes `float32` elements.
    var isFloat32: Bool { (try? make().dtype) == .float32 }
}

import Backend

/// The one table of tolerances. Two values `x` (backend) and `y` (reference) agree when
/// `|x − y| ≤ max(atol, rtol · max(|x|, |y|))`; NaN must meet NaN and an infinity the same
/// infinity. A case may tighten its class's tolerance, never loosen it.
public struct Tolerance: Sendable, Codable, Equatable, CustomStringConvertible {
    /// `atol`.
    public var absolute: Double
    /// `rtol`.
    public var relative: Double

    /// A tolerance of `absolute` and `relative`.
    public init(absolute: Double, relative: Double) {
        self.absolute = absolute
        self.relative = relative
    }

    /// Integer, boolean and random-bit results, and host-computed values, must match exactly.
    public static let exact = Tolerance(absolute: 0, relative: 0)

    /// The tolerance of each class of operation.
    public static func of(_ opClass: OpClass) -> Tolerance {
        switch opClass {
        case .exact, .error: return .exact
        case .elementwise: return Tolerance(absolute: 1e-6, relative: 1e-5)
        case .reduction: return Tolerance(absolute: 1e-5, relative: 1e-4)
        case .linearAlgebra: return Tolerance(absolute: 1e-4, relative: 1e-4)
        case .gradient: return Tolerance(absolute: 1e-4, relative: 1e-3)
        // Whole runs amplify rounding differences step by step (batch norm and momentum most of all).
        case .training: return Tolerance(absolute: 1e-2, relative: 2e-2)
        // Two steps of bfloat16's 8-bit significand: each result is rounded to it once (2⁻⁸
        // relative at most), and two backends may round neighbouring float32 values apart.
        case .bfloat16: return Tolerance(absolute: 1e-2, relative: 1.6e-2)
        }
    }

    /// The stricter of this tolerance and `other`, per component.
    public func tightened(by other: Tolerance?) -> Tolerance {
        guard let other else { return self }
        return Tolerance(absolute: Swift.min(absolute, other.absolute), relative: Swift.min(relative, other.relative))
    }

    public var description: String { "atol \(absolute), rtol \(relative)" }
}

/// Classes of operations that share a tolerance.
public enum OpClass: String, Sendable, Codable, CaseIterable {
    /// Integers, masks, random bits, layout: no difference allowed.
    case exact
    /// Elementwise arithmetic and transcendental functions.
    case elementwise
    /// Sums, means, maxima and the fused ops built on them.
    case reduction
    /// Matrix products and convolutions.
    case linearAlgebra
    /// Gradients.
    case gradient
    /// Whole training runs, where rounding differences compound over steps.
    case training
    /// Operations on `bfloat16` operands, compared with each other and with `float32`.
    case bfloat16
    /// The error contract: the case must throw, with the same error on every backend.
    case error
}

/// The worst disagreement found between two sets of arrays.
public struct Discrepancy: Sendable, Codable, Equatable {
    /// The largest absolute difference.
    public var absolute: Double = 0
    /// The largest relative difference.
    public var relative: Double = 0
    /// A failure other than a numeric difference (shape, dtype, NaN placement).
    public var mismatch: String?

    /// No discrepancy.
    public init() {}

    /// Compares `actual` with `expected` element by element under `tolerance`.
    public static func measure(_ actual: [HostArray], _ expected: [HostArray], tolerance: Tolerance) -> (Discrepancy, passed: Bool) {
        var result = Discrepancy()
        var passed = true
        guard actual.count == expected.count else {
            result.mismatch = "\(actual.count) outputs, expected \(expected.count)"
            return (result, false)
        }
        for (index, (a, e)) in zip(actual, expected).enumerated() {
            guard a.shape == e.shape, a.dtype == e.dtype else {
                result.mismatch = "output \(index) is \(a.dtype) \(a.shape), expected \(e.dtype) \(e.shape)"
                return (result, false)
            }
            for (x, y) in zip(a.elements.floats.map(Double.init), e.elements.floats.map(Double.init)) {
                if x.isNaN || y.isNaN || x.isInfinite || y.isInfinite {
                    if !(x.isNaN && y.isNaN) && x != y {
                        result.mismatch = "output \(index): \(x) where the reference has \(y)"
                        passed = false
                    }
                    continue
                }
                let difference = Swift.abs(x - y)
                let scale = Swift.max(Swift.abs(x), Swift.abs(y))
                result.absolute = Swift.max(result.absolute, difference)
                if scale > 0 { result.relative = Swift.max(result.relative, difference / scale) }
                if difference > Swift.max(tolerance.absolute, tolerance.relative * scale) { passed = false }
            }
        }
        return (result, passed)
    }
}

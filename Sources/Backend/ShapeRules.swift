/// Output shapes and operand checks shared by every backend, so that all of them accept the
/// same inputs, compute the same shapes and throw the same messages.
public enum ShapeRules {
    /// The largest dimension, window, stride, dilation or padding any operation accepts:
    /// 2³¹ − 1, so that every backend (32-bit shader indices, oneDNN, the host loops) can take it.
    public static let maximumDimension = Int(Int32.max)

    /// Throws unless every value lies within ±``maximumDimension``.
    public static func requireRepresentable(_ values: [Int], _ what: String, operation: String) throws {
        guard let bad = values.first(where: { abs($0) > maximumDimension }) else { return }
        throw BackendError.invalidArgument(
            operation: operation, reason: "\(what) \(bad) is beyond 2³¹ − 1, the largest every backend supports")
    }

    /// `terms` summed and `factors` multiplied without overflow, or an `invalidArgument`
    /// naming `what`: shape arithmetic on attributes a caller chose must not trap.
    public static func checked(_ operation: String, _ what: @autoclosure () -> String, _ compute: (inout Arithmetic) -> Int) throws -> Int {
        var arithmetic = Arithmetic()
        let value = compute(&arithmetic)
        guard !arithmetic.overflowed else {
            throw BackendError.invalidArgument(operation: operation, reason: "\(what()) overflows the integer range")
        }
        return value
    }

    /// Integer arithmetic that records overflow instead of trapping.
    public struct Arithmetic {
        /// Whether any operation so far overflowed.
        public private(set) var overflowed = false
        /// Arithmetic with nothing overflowed yet.
        public init() {}
        /// `a + b`, wrapping on overflow and recording it.
        public mutating func add(_ a: Int, _ b: Int) -> Int {
            let (value, overflow) = a.addingReportingOverflow(b)
            overflowed = overflowed || overflow
            return value
        }
        /// `a · b`, wrapping on overflow and recording it.
        public mutating func multiply(_ a: Int, _ b: Int) -> Int {
            let (value, overflow) = a.multipliedReportingOverflow(by: b)
            overflowed = overflowed || overflow
            return value
        }
    }

    /// Throws unless `x`'s dtype is one of `allowed`.
    public static func requireDType(_ x: Buffer, _ allowed: Set<DType>, operation: String) throws {
        guard allowed.contains(x.dtype) else {
            let names = allowed.map(\.rawValue).sorted().joined(separator: " or ")
            throw BackendError.unsupportedDType(operation: operation, dtype: x.dtype, reason: "expected \(names)")
        }
    }

    /// Throws unless `a` and `b` have one dtype.
    public static func requireSameDType(_ a: Buffer, _ b: Buffer, operation: String) throws {
        guard a.dtype == b.dtype else {
            throw BackendError.unsupportedDType(
                operation: operation, dtype: b.dtype, reason: "operands must share a dtype, got \(a.dtype) and \(b.dtype)")
        }
    }

    /// Throws unless `shape` and `target` have the same element count and `target` is valid.
    public static func checkReshape(_ shape: Shape, to target: Shape) throws {
        guard target.dimensions.allSatisfy({ $0 >= 0 }), shape.elementCount == target.elementCount else {
            throw BackendError.shapeMismatch(
                operation: "reshape",
                reason: "cannot reshape \(shape) (\(shape.elementCount) elements) to \(target) (\(target.elementCount) elements)")
        }
    }

    /// Normalised, sorted, unique axes and the reduced shape.
    public static func reduction(
        _ shape: Shape, axes: [Int], keepDimensions: Bool, operation: String
    ) throws -> (shape: Shape, axes: [Int]) {
        let resolved = try Set(axes.map { try shape.normalizedAxis($0, operation: operation) }).sorted()
        var dims: [Int] = []
        for axis in 0..<shape.rank {
            if resolved.contains(axis) {
                if keepDimensions { dims.append(1) }
            } else {
                dims.append(shape[axis])
            }
        }
        return (Shape(dims), resolved)
    }

    /// The geometry of a batched matmul.
    public struct MatmulGeometry: Sendable {
        /// The product's shape.
        public let output: Shape
        /// The broadcast batch dimensions.
        public let batch: Shape
        /// Rows, columns and the inner dimension of each product.
        public let m: Int, n: Int, k: Int
    }

    /// The geometry of `a · b` (each optionally transposed in its last two axes), with batch dimensions broadcast; throws when they do not fit.
    public static func matmul(_ a: Shape, _ b: Shape, transposeA: Bool, transposeB: Bool) throws -> MatmulGeometry {
        guard a.rank >= 2, b.rank >= 2 else {
            throw BackendError.shapeMismatch(
                operation: "matmul", reason: "operands need rank ≥ 2, got \(a) and \(b)")
        }
        let m = transposeA ? a[a.rank - 1] : a[a.rank - 2]
        let ka = transposeA ? a[a.rank - 2] : a[a.rank - 1]
        let kb = transposeB ? b[b.rank - 1] : b[b.rank - 2]
        let n = transposeB ? b[b.rank - 2] : b[b.rank - 1]
        guard ka == kb else {
            throw BackendError.shapeMismatch(
                operation: "matmul",
                reason: "inner dimensions differ: \(a)\(transposeA ? "ᵀ" : "") · \(b)\(transposeB ? "ᵀ" : "") has \(ka) vs \(kb)")
        }
        let batch = try Shape.broadcast(
            Shape(Array(a.dimensions.dropLast(2))), Shape(Array(b.dimensions.dropLast(2))), operation: "matmul")
        return MatmulGeometry(output: Shape(batch.dimensions + [m, n]), batch: batch, m: m, n: n, k: ka)
    }

    /// The output shape of a convolution and its descriptor with every list filled in.
    public static func convolution(
        input: Shape, kernel: Shape, descriptor: ConvolutionDescriptor
    ) throws -> (output: Shape, descriptor: ConvolutionDescriptor) {
        guard input.rank >= 3, kernel.rank == input.rank else {
            throw BackendError.shapeMismatch(
                operation: "convolution",
                reason: "expected input [N, spatial..., C] and kernel [spatial..., C/groups, O] of the same rank ≥ 3, got input \(input) and kernel \(kernel)")
        }
        let spatial = input.rank - 2
        let d = try descriptor.resolved(spatialRank: spatial)
        let channels = input[input.rank - 1]
        let outChannels = kernel[kernel.rank - 1]
        guard channels % d.groups == 0, outChannels % d.groups == 0,
            kernel[kernel.rank - 2].multipliedReportingOverflow(by: d.groups) == (channels, false)
        else {
            throw BackendError.shapeMismatch(
                operation: "convolution",
                reason: "input \(input) has \(channels) channels; with \(d.groups) group(s) the kernel \(kernel) needs \(channels / max(d.groups, 1)) input channels per group and output channels divisible by the group count")
        }
        var dims = [input[0]]
        for i in 0..<spatial {
            guard input[i + 1] > 0, kernel[i] > 0 else {
                throw BackendError.shapeMismatch(
                    operation: "convolution",
                    reason: "spatial dimension \(i) of input \(input) and kernel \(kernel) must be at least 1")
            }
            let padded = try checked("convolution", "spatial dimension \(i) of input \(input) after dilation and padding") {
                $0.add($0.add($0.add($0.multiply(input[i + 1] - 1, d.inputDilation[i]), 1), d.padding[i].low), d.padding[i].high)
            }
            let dilatedKernel = try checked("convolution", "the extent of kernel \(kernel) dilated by \(d.kernelDilation)") {
                $0.add($0.multiply(kernel[i] - 1, d.kernelDilation[i]), 1)
            }
            guard padded >= dilatedKernel else {
                throw BackendError.shapeMismatch(
                    operation: "convolution",
                    reason: "spatial dimension \(i) of input \(input) is \(padded) after dilation and padding, smaller than the dilated kernel extent \(dilatedKernel)")
            }
            dims.append((padded - dilatedKernel) / d.strides[i] + 1)
        }
        dims.append(outChannels)
        return (Shape(dims), d)
    }

    /// The output shape of a window over `input`; throws when the descriptor does not fit.
    public static func window(_ input: Shape, descriptor d: WindowDescriptor) throws -> Shape {
        guard d.windowDimensions.count == input.rank, d.strides.count == input.rank, d.padding.count == input.rank else {
            throw BackendError.invalidArgument(
                operation: "window",
                reason: "window \(d.windowDimensions), strides \(d.strides) and padding need one entry per dimension of \(input)")
        }
        try requireRepresentable(d.windowDimensions + d.strides + d.padding.flatMap { [$0.low, $0.high] }, "window attribute", operation: "window")
        guard (d.windowDimensions + d.strides).allSatisfy({ $0 >= 1 }),
            d.padding.allSatisfy({ $0.low >= 0 && $0.high >= 0 })
        else {
            throw BackendError.invalidArgument(
                operation: "window", reason: "window sizes and strides must be ≥ 1 and padding ≥ 0")
        }
        return try Shape((0..<input.rank).map { axis in
            let padded = try checked("window", "dimension \(axis) of \(input) after padding \(d.padding[axis])") {
                $0.add($0.add(input[axis], d.padding[axis].low), d.padding[axis].high)
            }
            guard padded >= d.windowDimensions[axis] else {
                throw BackendError.shapeMismatch(
                    operation: "window",
                    reason: "dimension \(axis) of \(input) is \(padded) after padding, smaller than the window \(d.windowDimensions[axis])")
            }
            return (padded - d.windowDimensions[axis]) / d.strides[axis] + 1
        })
    }

    /// `shape` permuted; throws unless `permutation` is a permutation of its axes.
    public static func permute(_ shape: Shape, _ permutation: [Int]) throws -> Shape {
        guard permutation.count == shape.rank, Set(permutation) == Set(0..<shape.rank) else {
            throw BackendError.invalidArgument(
                operation: "permute", reason: "\(permutation) is not a permutation of the axes of \(shape)")
        }
        return Shape(permutation.map { shape[$0] })
    }

    /// The shape of a strided slice; throws when the bounds do not fit.
    public static func slice(_ shape: Shape, starts: [Int], limits: [Int], strides: [Int]) throws -> Shape {
        guard starts.count == shape.rank, limits.count == shape.rank, strides.count == shape.rank else {
            throw BackendError.invalidArgument(
                operation: "slice", reason: "starts, limits and strides need \(shape.rank) entries for shape \(shape)")
        }
        return try Shape((0..<shape.rank).map { axis in
            guard starts[axis] >= 0, starts[axis] <= limits[axis], limits[axis] <= shape[axis], strides[axis] >= 1 else {
                throw BackendError.invalidArgument(
                    operation: "slice",
                    reason: "range \(starts[axis])..<\(limits[axis]) step \(strides[axis]) is invalid for dimension \(axis) of \(shape)")
            }
            return (limits[axis] - starts[axis] - 1) / strides[axis] + (limits[axis] > starts[axis] ? 1 : 0)
        })
    }

    /// `shape` padded (negative padding crops); throws when a dimension would be negative.
    public static func pad(_ shape: Shape, padding: [Padding]) throws -> Shape {
        guard padding.count == shape.rank, padding.allSatisfy({ $0.low >= 0 && $0.high >= 0 }) else {
            throw BackendError.invalidArgument(
                operation: "pad", reason: "padding needs \(shape.rank) non-negative (low, high) pairs for shape \(shape)")
        }
        return try Shape((0..<shape.rank).map { axis in
            try checked("pad", "dimension \(axis) of \(shape) padded by \(padding[axis])") {
                $0.add($0.add(shape[axis], padding[axis].low), padding[axis].high)
            }
        })
    }

    /// The shape of the concatenation along `axis` and the axis resolved from a negative one; throws when the other dimensions differ.
    public static func concatenate(_ shapes: [Shape], axis: Int) throws -> (shape: Shape, axis: Int) {
        guard let first = shapes.first else {
            throw BackendError.invalidArgument(operation: "concatenate", reason: "needs at least one operand")
        }
        let resolved = try first.normalizedAxis(axis, operation: "concatenate")
        var total = 0
        for shape in shapes {
            guard shape.rank == first.rank,
                (0..<first.rank).allSatisfy({ $0 == resolved || shape[$0] == first[$0] })
            else {
                throw BackendError.shapeMismatch(
                    operation: "concatenate",
                    reason: "shapes \(shapes.map(\.description).joined(separator: ", ")) differ outside axis \(resolved)")
            }
            total = try checked("concatenate", "the total size along axis \(resolved)") { $0.add(total, shape[resolved]) }
        }
        var dims = first.dimensions
        dims[resolved] = total
        return (Shape(dims), resolved)
    }

    /// Throws unless `shape` broadcasts to `target` by NumPy's rules.
    public static func broadcast(_ shape: Shape, to target: Shape) throws {
        guard try Shape.broadcast(shape, target, operation: "broadcast") == target else {
            throw BackendError.shapeMismatch(operation: "broadcast", reason: "\(shape) cannot be broadcast to \(target)")
        }
    }

    /// The shape of gathering `indices` along `axis`, and the axis resolved; throws when the axis is out of range.
    public static func gather(_ shape: Shape, indices: Shape, axis: Int) throws -> (shape: Shape, axis: Int) {
        let resolved = try shape.normalizedAxis(axis, operation: "gather")
        let dims = Array(shape.dimensions[..<resolved]) + indices.dimensions + Array(shape.dimensions[(resolved + 1)...])
        return (Shape(dims), resolved)
    }

    /// The shape scatterAdd returns and the axis within it.
    public static func scatterAdd(
        updates: Shape, indices: Shape, axis: Int, dimensionSize: Int
    ) throws -> (shape: Shape, axis: Int) {
        let rank = updates.rank - indices.rank + 1
        let resolved = axis < 0 ? axis + rank : axis
        guard rank >= 1, resolved >= 0, resolved < rank, dimensionSize >= 0,
            Array(updates.dimensions[resolved..<(resolved + indices.rank)]) == indices.dimensions
        else {
            throw BackendError.shapeMismatch(
                operation: "scatterAdd",
                reason: "updates \(updates) must hold the indices' shape \(indices) at axis \(axis)")
        }
        let dims = Array(updates.dimensions[..<resolved]) + [dimensionSize]
            + Array(updates.dimensions[(resolved + indices.rank)...])
        return (Shape(dims), resolved)
    }
}

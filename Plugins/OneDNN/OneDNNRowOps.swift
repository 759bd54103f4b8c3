#if OneDNN
import Backend
import CDNNL
import COneDNNKernels
import Foundation

// Softmax and log-softmax as oneDNN primitives over plain row-major layouts, and
// the softmax cross-entropy pair as passes over the rows with one vector exp.
extension OneDNNBackend {
    /// A plain row-major descriptor of `shape`.
    static func plain(_ shape: Shape) throws -> dnnl_memory_desc_t {
        try DNNL.memoryDescriptor(shape.dimensions, strides: shape.strides)
    }

    func softmaxFamily(_ x: Buffer, axis: Int, logarithmic: Bool) throws -> Buffer? {
        guard x.shape.rank >= 1, Self.supports([x]) else { return nil }
        let resolved = try x.shape.normalizedAxis(axis, operation: logarithmic ? "logSoftmax" : "softmax")
        let md = try Self.plain(x.shape)
        let primitive = try cache.primitive(logarithmic ? "logsoftmax" : "softmax", x.shape, resolved) {
            var data = md
            if logarithmic {
                var descriptor = dnnl_logsoftmax_desc_t()
                try DNNL.check(dnnl_logsoftmax_forward_desc_init(&descriptor, dnnl_forward_inference, &data, Int32(resolved)), "log-softmax descriptor")
                return try withUnsafePointer(to: &descriptor) { try makePrimitive(UnsafeRawPointer($0), attributes: nil) }
            }
            var descriptor = dnnl_softmax_desc_t()
            try DNNL.check(dnnl_softmax_forward_desc_init(&descriptor, dnnl_forward_inference, &data, Int32(resolved)), "softmax descriptor")
            return try withUnsafePointer(to: &descriptor) { try makePrimitive(UnsafeRawPointer($0), attributes: nil) }
        }
        let (output, pointer) = try allocate(x.shape)
        try execute(primitive, [(DNNL_ARG_SRC, try address(x, "softmax"), md), (DNNL_ARG_DST, pointer, md)])
        return output
    }

    public func softmax(_ x: Buffer, axis: Int) throws -> Buffer {
        try softmaxFamily(x, axis: axis, logarithmic: false) ?? composedSoftmax(x, axis: axis)
    }

    public func logSoftmax(_ x: Buffer, axis: Int) throws -> Buffer {
        try softmaxFamily(x, axis: axis, logarithmic: true) ?? composedLogSoftmax(x, axis: axis)
    }

    /// Rows and classes when the cross-entropy runs along the last, non-empty axis of
    /// same-shaped float32 logits and labels.
    func crossEntropyRows(_ logits: Buffer, _ labels: Buffer, axis: Int) -> (rows: Int, classes: Int)? {
        let rank = logits.shape.rank
        guard rank >= 1, logits.shape == labels.shape, Self.supports([logits, labels]), axis == -1 || axis == rank - 1,
            logits.shape[rank - 1] > 0
        else { return nil }
        let classes = logits.shape[rank - 1]
        return (logits.shape.elementCount / classes, classes)
    }

    public func softmaxCrossEntropy(logits: Buffer, labels: Buffer, axis: Int) throws -> Buffer {
        guard let (rows, classes) = crossEntropyRows(logits, labels, axis: axis) else {
            return try composedSoftmaxCrossEntropy(logits: logits, labels: labels, axis: axis)
        }
        let x = try address(logits, "softmaxCrossEntropy").assumingMemoryBound(to: Float.self)
        let y = try address(labels, "softmaxCrossEntropy").assumingMemoryBound(to: Float.self)
        let (loss, pointer) = try allocate(Shape(Array(logits.shape.dimensions.dropLast())))
        let out = pointer.assumingMemoryBound(to: Float.self)
        // Blocks of rows whose shifted logits fit in L1 go through one vector pass of exp.
        let blockRows = Swift.max(1, Self.rowBlockElements / classes)
        let exponentials = UnsafeMutablePointer<Float>.allocate(capacity: blockRows * classes)
        let maxima = UnsafeMutablePointer<Float>.allocate(capacity: blockRows)
        defer { exponentials.deallocate(); maxima.deallocate() }
        for first in stride(from: 0, to: rows, by: blockRows) {
            let count = Swift.min(blockRows, rows - first)
            Self.shiftedRows(x + first * classes, count, classes, maxima: maxima, into: exponentials)
            axon_vector_function(AxonVectorExp, exponentials, exponentials, count * classes)
            for row in 0..<count {
                let (xs, ys, es, maximum) = (x + (first + row) * classes, y + (first + row) * classes, exponentials + row * classes, maxima[row])
                var total: Float = 0
                for c in 0..<classes { total += es[c] }
                let logTotal = total.logarithm
                var value: Float = 0
                for c in 0..<classes { value -= ys[c] * (xs[c] - maximum - logTotal) }
                out[first + row] = value
            }
        }
        return loss
    }

    /// How many shifted logits the cross-entropy exponentiates in one pass: 16 KB, in L1.
    static let rowBlockElements = 4096

    /// Writes each of `rows` rows of `classes` logits at `x` less its maximum to `shifted`, and the maxima to `maxima`.
    static func shiftedRows(
        _ x: UnsafePointer<Float>, _ rows: Int, _ classes: Int, maxima: UnsafeMutablePointer<Float>, into shifted: UnsafeMutablePointer<Float>
    ) {
        for row in 0..<rows {
            let (xs, ss) = (x + row * classes, shifted + row * classes)
            var maximum = -Float.infinity
            for c in 0..<classes { maximum = Swift.max(maximum, xs[c]) }
            for c in 0..<classes { ss[c] = xs[c] - maximum }
            maxima[row] = maximum
        }
    }

    public func softmaxCrossEntropyBackward(logits: Buffer, labels: Buffer, gradLoss: Buffer, axis: Int) throws -> Buffer {
        guard let (rows, classes) = crossEntropyRows(logits, labels, axis: axis), gradLoss.shape.elementCount == rows,
            gradLoss.dtype == .float32
        else {
            return try composedSoftmaxCrossEntropyBackward(logits: logits, labels: labels, gradLoss: gradLoss, axis: axis)
        }
        let x = try address(logits, "softmaxCrossEntropyBackward").assumingMemoryBound(to: Float.self)
        let y = try address(labels, "softmaxCrossEntropyBackward").assumingMemoryBound(to: Float.self)
        let g = try address(gradLoss, "softmaxCrossEntropyBackward").assumingMemoryBound(to: Float.self)
        let (gradient, pointer) = try allocate(logits.shape)
        let out = pointer.assumingMemoryBound(to: Float.self)
        // The shifted logits are exponentiated in the output, in one vector pass.
        let maxima = UnsafeMutablePointer<Float>.allocate(capacity: rows)
        defer { maxima.deallocate() }
        Self.shiftedRows(x, rows, classes, maxima: maxima, into: out)
        axon_vector_function(AxonVectorExp, out, out, rows * classes)
        for row in 0..<rows {
            let (ys, os) = (y + row * classes, out + row * classes)
            var total: Float = 0, mass: Float = 0
            for c in 0..<classes {
                total += os[c]
                mass += ys[c]
            }
            for c in 0..<classes { os[c] = g[row] * (os[c] / total * mass - ys[c]) }
        }
        return gradient
    }
}

extension Float {
    var logarithm: Float { Foundation.log(self) }
}
#endif

/// The default composition of the recurrent sequence ops: the sequence unrolled into primitives
/// step by step, forward and backward through time.
///
/// Steps run in processing order: a reversed sequence is first reordered (each sequence
/// within its own length; the reordering is its own inverse), so the loop always runs forwards.
/// The workspace is, per step and stacked along a leading time axis: the state going in, the
/// activated gates, and for an LSTM the cell state going in and coming out, for a GRU with
/// `resetAfter` the recurrent part `h·U_n + b̂_n`.
struct RecurrentUnroll {
    let backend: any Backend
    let operands: RecurrentOperands
    let descriptor: RecurrentDescriptor
    let batch: Int, time: Int, features: Int, units: Int
    let schedule: RecurrentSchedule
    var keep: Buffer? { schedule.keep }

    var width: Int { descriptor.gates * units }

    init(_ operands: RecurrentOperands, _ descriptor: RecurrentDescriptor, on backend: any Backend) throws {
        let input = operands.input.shape, recurrent = operands.recurrentKernel.shape
        guard input.rank == 3, recurrent.rank == 2, input[1] >= 1 else {
            throw BackendError.shapeMismatch(
                operation: "recurrentSequence", reason: "needs an input [batch, time ≥ 1, features] and a recurrent kernel [units, gates·units], got \(input) and \(recurrent)")
        }
        self.backend = backend
        self.operands = operands
        self.descriptor = descriptor
        (batch, time, features, units) = (input[0], input[1], input[2], recurrent[0])
        schedule = try backend.recurrentSchedule(batch: batch, time: time, lengths: operands.lengths, reverse: descriptor.reverse)
    }

    // MARK: Helpers

    func reordered(_ x: Buffer) throws -> Buffer { try schedule.reordered(x, on: backend) }

    /// Step `t` of `x` `[batch, time, n]` as `[batch, n]`.
    func step(_ x: Buffer, _ t: Int) throws -> Buffer {
        let n = x.shape[2]
        return try backend.reshape(backend.slice(x, starts: [0, t, 0], limits: [batch, t + 1, n], strides: [1, 1, 1]), to: [batch, n])
    }

    /// Step `t` of a workspace entry `[time, batch, n]` as `[batch, n]`.
    func saved(_ x: Buffer, _ t: Int) throws -> Buffer {
        let n = x.shape[2]
        return try backend.reshape(backend.slice(x, starts: [t, 0, 0], limits: [t + 1, batch, n], strides: [1, 1, 1]), to: [batch, n])
    }

    /// Gate block `index` (of `units` columns) of `x` `[rows, k·units]`.
    func block(_ x: Buffer, _ index: Int, count: Int = 1) throws -> Buffer {
        try backend.slice(x, starts: [0, index * units], limits: [x.shape[0], (index + count) * units], strides: [1, 1])
    }

    /// Steps stacked along a new leading (`time`) or second (`batch, time`) axis.
    func stacked(_ steps: [Buffer], timeFirst: Bool) throws -> Buffer {
        try backend.concatenate(
            steps.map { try backend.reshape($0, to: timeFirst ? Shape([1] + $0.shape.dimensions) : Shape([$0.shape[0], 1, $0.shape[1]])) },
            axis: timeFirst ? 0 : 1)
    }

    func add(_ a: Buffer, _ b: Buffer) throws -> Buffer { try backend.binary(.add, a, b) }
    func subtract(_ a: Buffer, _ b: Buffer) throws -> Buffer { try backend.binary(.subtract, a, b) }
    func multiply(_ a: Buffer, _ b: Buffer) throws -> Buffer { try backend.binary(.multiply, a, b) }
    func product(_ a: Buffer, _ b: Buffer, transposeA: Bool = false, transposeB: Bool = false) throws -> Buffer {
        try backend.matmul(a, b, transposeA: transposeA, transposeB: transposeB)
    }
    func oneMinus(_ x: Buffer) throws -> Buffer { try subtract(backend.scalar(1), x) }

    /// The derivative of `activation` from its output `y`.
    func derivative(_ activation: FusedActivation, output y: Buffer) throws -> Buffer {
        switch activation {
        case .identity: return try backend.full(1, shape: y.shape, dtype: .float32)
        case .relu: return try backend.cast(backend.compare(.greater, y, backend.scalar(0)), to: .float32)
        case .sigmoid: return try multiply(y, oneMinus(y))
        case .tanh: return try oneMinus(multiply(y, y))
        }
    }

    /// The carried state as the recurrent product sees it: times the recurrent mask, if any.
    func masked(_ h: Buffer) throws -> Buffer { try operands.recurrentMask.map { try multiply(h, $0) } ?? h }

    // MARK: Forward

    func forward() throws -> RecurrentSequenceResult {
        let (act, gate) = (descriptor.activation, descriptor.recurrentActivation)
        let x = try reordered(operands.input)
        var projected = try product(backend.reshape(x, to: [batch * time, features]), operands.kernel)
        if let bias = operands.bias { projected = try add(projected, bias) }
        projected = try backend.reshape(projected, to: [batch, time, width])
        let recurrentKernel = operands.recurrentKernel
        var (h, c) = (operands.initialStates[0], operands.initialStates.count > 1 ? operands.initialStates[1] : nil)
        var (hIn, cIn, gates, extra, outputs) = ([Buffer](), [Buffer](), [Buffer](), [Buffer](), [Buffer]())
        for t in 0..<time {
            let p = try step(projected, t)
            let hd = try masked(h)
            hIn.append(h)
            var hNew: Buffer, cNew: Buffer? = nil
            switch descriptor.cell {
            case .simple:
                hNew = try backend.activate(add(p, product(hd, recurrentKernel)), act)
                gates.append(hNew)
            case .lstm:
                guard let cPrevious = c else { throw BackendError.invalidArgument(operation: "recurrentSequence", reason: "an LSTM needs two states") }
                let z = try add(p, product(hd, recurrentKernel))
                let (i, f) = (try backend.activate(block(z, 0), gate), try backend.activate(block(z, 1), gate))
                let (g, o) = (try backend.activate(block(z, 2), act), try backend.activate(block(z, 3), gate))
                let cell = try add(multiply(f, cPrevious), multiply(i, g))
                hNew = try multiply(o, backend.activate(cell, act))
                cIn.append(cPrevious)
                extra.append(cell)
                gates.append(try backend.concatenate([i, f, g, o], axis: 1))
                cNew = cell
            case let .gru(resetAfter):
                let r: Buffer, z: Buffer, n: Buffer
                if resetAfter {
                    var u = try product(hd, recurrentKernel)
                    if let recurrentBias = operands.recurrentBias { u = try add(u, recurrentBias) }
                    r = try backend.activate(add(block(p, 0), block(u, 0)), gate)
                    z = try backend.activate(add(block(p, 1), block(u, 1)), gate)
                    let un = try block(u, 2)
                    n = try backend.activate(add(block(p, 2), multiply(r, un)), act)
                    extra.append(un)
                } else {
                    let u = try product(hd, block(recurrentKernel, 0, count: 2))
                    r = try backend.activate(add(block(p, 0), block(u, 0)), gate)
                    z = try backend.activate(add(block(p, 1), block(u, 1)), gate)
                    n = try backend.activate(add(block(p, 2), product(multiply(r, hd), block(recurrentKernel, 2))), act)
                }
                hNew = try add(multiply(oneMinus(z), n), multiply(z, h))
                gates.append(try backend.concatenate([r, z, n], axis: 1))
            }
            if let keep {
                let m = try step(backend.reshape(keep, to: [batch, time, 1]), t)
                let skip = try oneMinus(m)
                outputs.append(try multiply(hNew, m))
                h = try add(multiply(hNew, m), multiply(h, skip))
                if let cNew, let cPrevious = c { c = try add(multiply(cNew, m), multiply(cPrevious, skip)) }
            } else {
                outputs.append(hNew)
                h = hNew
                if let cNew { c = cNew }
            }
        }
        let workspace = try [hIn, gates, cIn, extra].filter { !$0.isEmpty }.map { try stacked($0, timeFirst: true) }
        return RecurrentSequenceResult(
            output: try reordered(stacked(outputs, timeFirst: false)), states: [h] + (c.map { [$0] } ?? []), workspace: workspace)
    }
}

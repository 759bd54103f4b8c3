#if OneDNN
import Backend
import COneDNNKernels
import Foundation

// The optimizer steps as one pass over each parameter's elements, instead of the dozen
// elementwise ops of the default composition.
extension OneDNNBackend {
    /// What streaming one float through memory weighs against the work-sharing grain (in
    /// floating-point operations): a pass over 100,000 parameters is worth two threads.
    static let streamedOperationsPerElement = 8

    /// Float views of same-shaped float32 buffers, or `nil` when they do not qualify.
    func floatViews(_ buffers: [Buffer]) throws -> [UnsafeMutablePointer<Float>]? {
        guard let shape = buffers.first?.shape, buffers.allSatisfy({ $0.shape == shape && $0.dtype == .float32 }) else { return nil }
        return try buffers.map { try address($0, "update").assumingMemoryBound(to: Float.self) }
    }

    public func adamUpdate(
        parameter: Buffer, gradient: Buffer, firstMoment: Buffer, secondMoment: Buffer, step: AdamStep
    ) throws -> (parameter: Buffer, firstMoment: Buffer, secondMoment: Buffer) {
        guard step.step >= 1, let inputs = try floatViews([parameter, gradient, firstMoment, secondMoment]) else {
            return try composedAdamUpdate(parameter: parameter, gradient: gradient, firstMoment: firstMoment, secondMoment: secondMoment, step: step)
        }
        let (p, g, m, v) = (inputs[0], inputs[1], inputs[2], inputs[3])
        // In place where the operands were donated: each element is read before it is written.
        let (newParameter, pp) = try output(parameter.shape, over: [parameter])
        let (newFirst, mp) = try output(parameter.shape, over: [firstMoment])
        let (newSecond, vp) = try output(parameter.shape, over: [secondMoment])
        let (np, nm, nv) = (pp.assumingMemoryBound(to: Float.self), mp.assumingMemoryBound(to: Float.self), vp.assumingMemoryBound(to: Float.self))
        let (b1, b2, eps, lr, decay) = (step.beta1, step.beta2, step.epsilon, step.learningRate, step.weightDecay)
        // Multiplying by the reciprocal corrections saves two divisions per element.
        let (c1, c2) = (1 / step.firstMomentCorrection, 1 / step.secondMomentCorrection)
        // Each element's update is independent and rounds the same in any chunk; the step reads
        // and writes 28 bytes an element, so it is cut by memory traffic rather than arithmetic.
        let count = parameter.shape.elementCount
        try work.forEachChunk(items: count, operations: count * Self.streamedOperationsPerElement * 7) { range in
            let (start, length) = (range.lowerBound, range.count)
            axon_adam_update(
                p + start, g + start, m + start, v + start, np + start, nm + start, nv + start, length, b1, b2, eps, lr, decay, c1, c2)
        }
        return (newParameter, newFirst, newSecond)
    }

    public func momentumUpdate(
        parameter: Buffer, gradient: Buffer, velocity: Buffer, step: MomentumStep
    ) throws -> (parameter: Buffer, velocity: Buffer) {
        guard let inputs = try floatViews([parameter, gradient, velocity]) else {
            return try composedMomentumUpdate(parameter: parameter, gradient: gradient, velocity: velocity, step: step)
        }
        let (p, g, v) = (inputs[0], inputs[1], inputs[2])
        let (newParameter, pp) = try output(parameter.shape, over: [parameter])
        let (newVelocity, vp) = try output(parameter.shape, over: [velocity])
        let (np, nv) = (pp.assumingMemoryBound(to: Float.self), vp.assumingMemoryBound(to: Float.self))
        let (mu, lr, nesterov) = (step.momentum, step.learningRate, step.nesterov)
        let count = parameter.shape.elementCount
        var i = 0
        while i + 8 <= count {
            let gi = Lanes.load(g, i)
            let vi = gi + Lanes.load(v, i) * mu
            (Lanes.load(p, i) - (nesterov ? gi + vi * mu : vi) * lr).store(np, i)
            vi.store(nv, i)
            i += 8
        }
        while i < count {
            let vi = g[i] + v[i] * mu
            let direction = nesterov ? g[i] + vi * mu : vi
            np[i] = p[i] - direction * lr
            nv[i] = vi
            i += 1
        }
        return (newParameter, newVelocity)
    }
}
/// Eight floats, loaded from and stored to unaligned memory as one vector.
typealias Lanes = SIMD8<Float>

extension SIMD8 where Scalar == Float {
    @inline(__always) static func load(_ pointer: UnsafeMutablePointer<Float>, _ index: Int) -> Self {
        UnsafeRawPointer(pointer + index).loadUnaligned(as: Self.self)
    }

    @inline(__always) func store(_ pointer: UnsafeMutablePointer<Float>, _ index: Int) {
        UnsafeMutableRawPointer(pointer + index).storeBytes(of: self, as: Self.self)
    }
}
#endif

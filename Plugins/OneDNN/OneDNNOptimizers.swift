#if OneDNN
import Backend
import Foundation

// The optimizer steps as one pass over each parameter's elements, instead of the dozen
// elementwise ops of the default composition.
extension OneDNNBackend {
    /// Float views of same-shaped float32 buffers, or `nil` when they do not qualify.
    func floatViews(_ buffers: [Buffer]) throws -> [UnsafeMutablePointer<Float>]? {
        guard let shape = buffers.first?.shape, buffers.allSatisfy({ $0.shape == shape && $0.dtype == .float32 }) else { return nil }
        return try buffers.map { try address($0, "update").assumingMemoryBound(to: Float.self) }
    }

    public func adamUpdate(
        parameter: Buffer, gradient: Buffer, firstMoment: Buffer, secondMoment: Buffer, step: AdamStep
    ) throws -> (parameter: Buffer, firstMoment: Buffer, secondMoment: Buffer) {
        guard step.step >= 1, let inputs = try floatViews([parameter, gradient, firstMoment, secondMoment]) else {
            return try host.adamUpdate(parameter: parameter, gradient: gradient, firstMoment: firstMoment, secondMoment: secondMoment, step: step)
        }
        let (p, g, m, v) = (inputs[0], inputs[1], inputs[2], inputs[3])
        let (newParameter, pp) = try allocate(parameter.shape)
        let (newFirst, mp) = try allocate(parameter.shape)
        let (newSecond, vp) = try allocate(parameter.shape)
        let (np, nm, nv) = (pp.assumingMemoryBound(to: Float.self), mp.assumingMemoryBound(to: Float.self), vp.assumingMemoryBound(to: Float.self))
        let (b1, b2, eps, lr, decay) = (step.beta1, step.beta2, step.epsilon, step.learningRate, step.weightDecay)
        let (c1, c2) = (step.firstMomentCorrection, step.secondMomentCorrection)
        let count = parameter.shape.elementCount
        // Eight lanes at a time (the same arithmetic, so the lanes agree with the tail), then
        // the remainder one by one.
        typealias Lanes = SIMD8<Float>
        var i = 0
        func load(_ pointer: UnsafeMutablePointer<Float>) -> Lanes { UnsafeRawPointer(pointer + i).loadUnaligned(as: Lanes.self) }
        func store(_ lanes: Lanes, _ pointer: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(pointer + i).storeBytes(of: lanes, as: Lanes.self) }
        while i + 8 <= count {
            let (pi, gi) = (load(p), load(g))
            let mi = load(m) * b1 + gi * (1 - b1)
            let vi = load(v) * b2 + gi * gi * (1 - b2)
            let direction = (mi / c1) / ((vi / c2).squareRoot() + eps) + pi * decay
            store(pi - direction * lr, np)
            store(mi, nm)
            store(vi, nv)
            i += 8
        }
        while i < count {
            let mi = m[i] * b1 + g[i] * (1 - b1)
            let vi = v[i] * b2 + g[i] * g[i] * (1 - b2)
            let direction = (mi / c1) / ((vi / c2).squareRoot() + eps) + p[i] * decay
            np[i] = p[i] - direction * lr
            nm[i] = mi
            nv[i] = vi
            i += 1
        }
        return (newParameter, newFirst, newSecond)
    }

    public func momentumUpdate(
        parameter: Buffer, gradient: Buffer, velocity: Buffer, step: MomentumStep
    ) throws -> (parameter: Buffer, velocity: Buffer) {
        guard let inputs = try floatViews([parameter, gradient, velocity]) else {
            return try host.momentumUpdate(parameter: parameter, gradient: gradient, velocity: velocity, step: step)
        }
        let (p, g, v) = (inputs[0], inputs[1], inputs[2])
        let (newParameter, pp) = try allocate(parameter.shape)
        let (newVelocity, vp) = try allocate(parameter.shape)
        let (np, nv) = (pp.assumingMemoryBound(to: Float.self), vp.assumingMemoryBound(to: Float.self))
        let (mu, lr, nesterov) = (step.momentum, step.learningRate, step.nesterov)
        let count = parameter.shape.elementCount
        typealias Lanes = SIMD8<Float>
        var i = 0
        func load(_ pointer: UnsafeMutablePointer<Float>) -> Lanes { UnsafeRawPointer(pointer + i).loadUnaligned(as: Lanes.self) }
        func store(_ lanes: Lanes, _ pointer: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(pointer + i).storeBytes(of: lanes, as: Lanes.self) }
        while i + 8 <= count {
            let gi = load(g)
            let vi = gi + load(v) * mu
            store(load(p) - (nesterov ? gi + vi * mu : vi) * lr, np)
            store(vi, nv)
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
#endif

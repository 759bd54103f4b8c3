// Default compositions of the fused optimizer steps. Each default calls a public `composed…`
// function, so an override that handles only some operands can fall back to the composition.

import Foundation

extension Backend {
    public func momentumUpdate(
        parameter: Buffer, gradient: Buffer, velocity: Buffer, step: MomentumStep
    ) throws -> (parameter: Buffer, velocity: Buffer) {
        try composedMomentumUpdate(parameter: parameter, gradient: gradient, velocity: velocity, step: step)
    }

    public func adamUpdate(
        parameter: Buffer, gradient: Buffer, firstMoment: Buffer, secondMoment: Buffer, step: AdamStep
    ) throws -> (parameter: Buffer, firstMoment: Buffer, secondMoment: Buffer) {
        try composedAdamUpdate(parameter: parameter, gradient: gradient, firstMoment: firstMoment, secondMoment: secondMoment, step: step)
    }

    /// ``Backend/momentumUpdate(parameter:gradient:velocity:step:)`` as elementwise primitives.
    public func composedMomentumUpdate(
        parameter: Buffer, gradient: Buffer, velocity: Buffer, step: MomentumStep
    ) throws -> (parameter: Buffer, velocity: Buffer) {
        let newVelocity = try binary(.add, gradient, binary(.multiply, velocity, scalar(step.momentum)))
        let direction = step.nesterov
            ? try binary(.add, gradient, binary(.multiply, newVelocity, scalar(step.momentum)))
            : newVelocity
        let newParameter = try binary(.subtract, parameter, binary(.multiply, direction, scalar(step.learningRate)))
        return (newParameter, newVelocity)
    }

    /// ``Backend/adamUpdate(parameter:gradient:firstMoment:secondMoment:step:)`` as elementwise primitives.
    public func composedAdamUpdate(
        parameter: Buffer, gradient: Buffer, firstMoment: Buffer, secondMoment: Buffer, step: AdamStep
    ) throws -> (parameter: Buffer, firstMoment: Buffer, secondMoment: Buffer) {
        guard step.step >= 1 else {
            throw BackendError.invalidArgument(operation: "adamUpdate", reason: "step must be ≥ 1, got \(step.step)")
        }
        let m = try binary(
            .add, binary(.multiply, firstMoment, scalar(step.beta1)), binary(.multiply, gradient, scalar(1 - step.beta1)))
        let v = try binary(
            .add, binary(.multiply, secondMoment, scalar(step.beta2)),
            binary(.multiply, unaryOrDecomposition(.square, gradient), scalar(1 - step.beta2)))
        let mHat = try binary(.divide, m, scalar(step.firstMomentCorrection))
        let vHat = try binary(.divide, v, scalar(step.secondMomentCorrection))
        var direction = try binary(.divide, mHat, binary(.add, unary(.sqrt, vHat), scalar(step.epsilon)))
        if step.weightDecay != 0 {
            direction = try binary(.add, direction, binary(.multiply, parameter, scalar(step.weightDecay)))
        }
        let newParameter = try binary(.subtract, parameter, binary(.multiply, direction, scalar(step.learningRate)))
        return (newParameter, m, v)
    }
}

extension AdamStep {
    /// `1 − β₁ᵗ`, the bias correction of the first moment.
    public var firstMomentCorrection: Float { Float(1 - pow(Double(beta1), Double(step))) }
    /// `1 − β₂ᵗ`, the bias correction of the second moment.
    public var secondMomentCorrection: Float { Float(1 - pow(Double(beta2), Double(step))) }
}

/// A chain of float32 elementwise operations that a backend may run in one pass over memory
/// (``Backend/elementwise(_:_:)``), as a compiled function fuses the chains it finds.
///
/// Registers `0..<inputCount` hold the inputs; step `i` writes register `inputCount + i` from
/// registers written before it; the last step's register is the result. Every input has the
/// result's shape or a single element, which is broadcast.
///
/// ```swift
/// // exp(x · y + 1): registers 0 = x, 1 = y, 2 = 1
/// let program = try ElementwiseProgram(inputCount: 3, steps: [
///     .binary(.multiply, 0, 1),  // register 3
///     .binary(.add, 3, 2),       // register 4
///     .unary(.exp, 4),           // register 5, the result
/// ])
/// ```
public struct ElementwiseProgram: Sendable, Hashable, CustomStringConvertible {
    /// One operation of the chain, naming the registers it reads.
    public enum Step: Sendable, Hashable {
        /// A unary operation on one register.
        case unary(UnaryOperation, Int)
        /// A binary operation on two registers, in order.
        case binary(BinaryOperation, Int, Int)

        /// The registers the step reads.
        public var operands: [Int] {
            switch self {
            case let .unary(_, a): return [a]
            case let .binary(_, a, b): return [a, b]
            }
        }
    }

    /// How many inputs the program reads.
    public let inputCount: Int
    /// The operations, in order.
    public let steps: [Step]

    /// A program; throws unless it has at least one input and one step, every step reads
    /// registers written before it, and every operation is defined on float32.
    public init(inputCount: Int, steps: [Step]) throws {
        func refuse(_ reason: String) -> BackendError { .invalidArgument(operation: "elementwise", reason: reason) }
        guard inputCount >= 1, !steps.isEmpty else {
            throw refuse("a program needs at least one input and one step, got \(inputCount) inputs and \(steps.count) steps")
        }
        for (index, step) in steps.enumerated() {
            let written = inputCount + index
            for register in step.operands where register < 0 || register >= written {
                throw refuse("step \(index) reads register \(register); only registers 0..<\(written) are written before it")
            }
            let definedOnFloat: Bool
            switch step {
            case let .unary(operation, _): definedOnFloat = operation.accepts(.float32)
            case let .binary(operation, _, _): definedOnFloat = operation != .logicalAnd && operation != .logicalOr
            }
            guard definedOnFloat else { throw refuse("step \(index) (\(step)) is not defined on float32") }
        }
        self.inputCount = inputCount
        self.steps = steps
    }

    /// The result's register.
    public var resultRegister: Int { inputCount + steps.count - 1 }

    public var description: String {
        steps.enumerated().map { index, step in
            switch step {
            case let .unary(operation, a): return "r\(inputCount + index) = \(operation.rawValue)(r\(a))"
            case let .binary(operation, a, b): return "r\(inputCount + index) = \(operation.rawValue)(r\(a), r\(b))"
            }
        }.joined(separator: "; ")
    }
}

extension Backend {
    /// ``Backend/elementwise(_:_:)`` as one primitive call per step.
    public func composedElementwise(_ program: ElementwiseProgram, _ inputs: [Buffer]) throws -> Buffer {
        var registers = inputs
        for step in program.steps {
            switch step {
            case let .unary(operation, a): registers.append(try unary(operation, registers[a]))
            case let .binary(operation, a, b): registers.append(try binary(operation, registers[a], registers[b]))
            }
        }
        return registers[program.resultRegister]
    }

    /// Runs the program's steps one primitive at a time (override to fuse them).
    public func elementwise(_ program: ElementwiseProgram, _ inputs: [Buffer]) throws -> Buffer {
        try composedElementwise(program, inputs)
    }
}

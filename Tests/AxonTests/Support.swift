import AxonCore
import Backend
import CPUReference
import Testing

/// The backend every unit test runs on.
let backend: any Backend = ReferenceBackend().checked

/// A float32 tensor on the reference backend.
func tensor(_ values: [Float], _ shape: Shape) throws -> Tensor {
    try Tensor(values, shape: shape, on: backend)
}

/// Deterministic pseudo-random floats in [low, high) for test inputs.
func sample(_ shape: Shape, seed: UInt64, low: Float = -1, high: Float = 1) throws -> Tensor {
    let values = Philox.bits(key: Philox.Key(seed: seed), offset: 0, count: shape.elementCount)
        .map { low + (high - low) * Philox.unitFloat($0) }
    return try tensor(values, shape)
}

/// Checks `actual` against `expected` elementwise with `|a − e| ≤ atol + rtol·|e|`.
func expectClose(
    _ actual: [Float], _ expected: [Float], atol: Float = 1e-5, rtol: Float = 1e-5,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(actual.count == expected.count, "count \(actual.count) vs \(expected.count)", sourceLocation: sourceLocation)
    for (index, (a, e)) in zip(actual, expected).enumerated() {
        let ok = (a.isNaN && e.isNaN) || a == e || Swift.abs(a - e) <= atol + rtol * Swift.abs(e)
        #expect(ok, "element \(index): \(a) vs expected \(e)", sourceLocation: sourceLocation)
    }
}

func expectClose(
    _ actual: Tensor, _ expected: [Float], shape: Shape? = nil, atol: Float = 1e-5, rtol: Float = 1e-5,
    sourceLocation: SourceLocation = #_sourceLocation
) throws {
    if let shape { #expect(actual.shape == shape, sourceLocation: sourceLocation) }
    expectClose(try actual.scalars, expected, atol: atol, rtol: rtol, sourceLocation: sourceLocation)
}

/// The text of the error `body` throws, or `nil` if it throws none.
func errorMessage(_ body: () throws -> Void) -> String? {
    do {
        try body()
        return nil
    } catch {
        return "\(error)"
    }
}

/// Compares the reverse-mode gradient of `f` at `inputs` with central finite differences of
/// `Σ f(inputs) · w` for a fixed random `w`, which checks the whole vector-Jacobian product.
func checkGradients(
    _ inputs: [Tensor], epsilon: Float = 1e-2, atol: Float = 2e-3, rtol: Float = 2e-2,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ f: ([Tensor]) throws -> Tensor
) throws {
    let names = inputs.indices.map { "x\($0)" }
    var parameters = ParameterStore()
    for (name, input) in zip(names, inputs) { parameters[name] = input }
    let probe = try f(inputs)
    let weights = try sample(probe.shape, seed: 99, low: 0.5, high: 1.5)
    func objective(_ xs: [Tensor]) throws -> Tensor { try (f(xs) * weights).sum() }

    let analytic = try gradient(at: parameters) { p in try objective(names.map { try p.tensor($0) }) }
    for (position, name) in names.enumerated() {
        let base = try inputs[position].scalars
        var numeric: [Float] = []
        for index in base.indices {
            func evaluate(_ delta: Float) throws -> Float {
                var values = base
                values[index] += delta
                var xs = inputs
                xs[position] = try tensor(values, inputs[position].shape)
                return try objective(xs).item()
            }
            numeric.append((try evaluate(epsilon) - evaluate(-epsilon)) / (2 * epsilon))
        }
        expectClose(try analytic.tensor(name).scalars, numeric, atol: atol, rtol: rtol, sourceLocation: sourceLocation)
    }
}

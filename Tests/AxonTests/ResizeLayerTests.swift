import AxonCore
import Backend
import Testing

/// Resize against published and hand-derived values: Elixir Axon's documented nearest example,
/// the half-pixel linear weights, align-corners sampling, the antialiased box of a 2× linear
/// downsample, and finite-difference gradients.
@Suite("Resize")
struct ResizeLayerTests {
    func resize(_ values: [Float], _ shape: Shape, _ size: [Int], method: ResizeMethod, antialias: Bool = true, alignCorners: Bool = false) throws -> Tensor {
        try Layers.resize(tensor(values, shape), size: size, method: method, antialias: antialias, alignCorners: alignCorners)
    }

    @Test("nearest 3×3 → 4×4 is Axon's documented example")
    func nearestMatchesAxonDocumentation() throws {
        let y = try resize((0..<9).map(Float.init), [1, 3, 3, 1], [4, 4], method: .nearest)
        try expectClose(y, [0, 1, 1, 2, 3, 4, 4, 5, 3, 4, 4, 5, 6, 7, 7, 8], shape: [1, 4, 4, 1])
    }

    @Test("linear 2 → 4 samples at half-pixel centres and renormalises at the edges")
    func linearHalfPixel() throws {
        // Samples at −¼, ¼, ¾, 5⁄4: the outer two see one input each.
        try expectClose(try resize([0, 1], [1, 2, 1], [4], method: .linear), [0, 0.25, 0.75, 1])
    }

    @Test("align corners puts the first and last samples on the first and last inputs")
    func alignCorners() throws {
        try expectClose(try resize([0, 3], [1, 2, 1], [4], method: .linear, alignCorners: true), [0, 1, 2, 3])
        // Cubic at ½: taps 0, 1, 2 weigh k(½) = 9⁄16, 9⁄16, k(1½) = −1⁄16 (tap −1 is missing), so the
        // value is (9⁄16·3 − 1⁄16·6)/(17⁄16) = 21⁄17, not the 1½ of a full set of taps.
        try expectClose(
            try resize([0, 3, 6], [1, 3, 1], [5], method: .cubic, alignCorners: true), [0, 21.0 / 17, 3, 6 - 21.0 / 17, 6], atol: 1e-5)
    }

    @Test("antialiased linear downsampling by 2 averages with the stretched triangle")
    func antialiasDownsample() throws {
        // Output 0 samples at ½ with a triangle of half-width 2: inputs 0, 1, 2 weigh ¾, ¾, ¼;
        // output 1 samples at 2½: inputs 1, 2, 3 weigh ¼, ¾, ¾. Both normalise by 1¾.
        let y = try resize([4, 8, 12, 16], [1, 4, 1], [2], method: .linear)
        try expectClose(y, [(0.75 * 4 + 0.75 * 8 + 0.25 * 12) / 1.75, (0.25 * 8 + 0.75 * 12 + 0.75 * 16) / 1.75], atol: 1e-5)
        // Without antialias it is plain interpolation at ½ and 2½.
        try expectClose(try resize([4, 8, 12, 16], [1, 4, 1], [2], method: .linear, antialias: false), [6, 14])
    }

    @Test("cubic interpolation reproduces a linear ramp away from the edges")
    func cubicKeepsLinearFunctions() throws {
        // Keys's kernel reproduces polynomials up to degree two where all four taps are inside.
        let ramp = (0..<8).map { Float($0) }
        let y = try resize(ramp, [1, 8, 1], [16], method: .cubic).scalars
        for o in 4..<12 { #expect(Swift.abs(y[o] - ((Float(o) + 0.5) / 2 - 0.5)) < 1e-5, "output \(o): \(y[o])") }
    }

    @Test("resize gradients match finite differences for every method")
    func gradients() throws {
        let x = try sample([1, 4, 5, 2], seed: 3)
        for method in ResizeMethod.allCases where method != .nearest {
            try checkGradients([x]) { xs in try Layers.resize(xs[0], size: [7, 3], method: method) }
        }
        try checkGradients([x]) { xs in try Layers.resize(xs[0], size: [6, 2], method: .nearest) }
    }

    @Test("resize to zero size, a wrong count of sizes, or nearest with align corners is refused")
    func badSizes() throws {
        let input = Axon.input("x", shape: [nil, 4, 4, 1])
        let cases: [(Axon, String)] = [
            (input.resize([0, 4]), "between 1 and 2³¹ − 1"),
            (input.resize([4]), "needs 2 output sizes"),
            (input.resize([4, 4], alignCorners: true), "not nearest"),
        ]
        for (model, expected) in cases {
            let message = errorMessage { _ = try model.build(on: backend) }
            #expect(message?.contains(expected) == true, "\(message ?? "no error")")
            #expect(message?.contains("resize_0") == true, "\(message ?? "no error")")
        }
        // A size the shape rules allow but no host table of sample positions should hold.
        let huge = errorMessage { _ = try Layers.resize(tensor([1, 2], [1, 2, 1]), size: [1 << 30]) }
        #expect(huge?.contains("sample positions") == true, "\(huge ?? "no error")")
    }
}

import AxonCore
import Backend
import Testing

@Suite("Reference backend: convolution and window reductions")
struct ConvolutionAndWindowPrimitiveTests {
    let signal: Tensor  // [1, 4, 1] = 1, 2, 3, 4
    let difference: Tensor  // kernel [2, 1, 1] = 1, -1

    init() throws {
        signal = try tensor([1, 2, 3, 4], [1, 4, 1])
        difference = try tensor([1, -1], [2, 1, 1])
    }

    @Test("1-d convolution: valid, strided with padding, kernel-dilated and input-dilated")
    func oneDimensional() throws {
        try expectClose(signal.convolution(kernel: difference, descriptor: .init()), [-1, -1, -1], shape: [1, 3, 1])
        let strided = ConvolutionDescriptor(strides: [2], padding: [Padding(1, 1)])
        // padded 0 1 2 3 4 0, windows at 0, 2, 4
        try expectClose(signal.convolution(kernel: difference, descriptor: strided), [-1, -1, 4], shape: [1, 3, 1])
        let dilated = ConvolutionDescriptor(kernelDilation: [2])
        try expectClose(signal.convolution(kernel: difference, descriptor: dilated), [-2, -2], shape: [1, 2, 1])
        // The input becomes 1 0 2 0 3 0 4, as a transposed convolution needs.
        let inputDilated = ConvolutionDescriptor(inputDilation: [2])
        try expectClose(
            signal.convolution(kernel: difference, descriptor: inputDilated), [1, -2, 2, -3, 3, -4], shape: [1, 6, 1])
    }

    @Test("2-d convolution over channels and a 2×2 window")
    func twoDimensional() throws {
        let pixels = try tensor([1, 2, 3, 4, 5, 6, 7, 8], [1, 2, 2, 2])
        let mixing = try tensor([1, 0, 1, 0, 1, 1], [1, 1, 2, 3])  // out = (c0, c1, c0 + c1)
        try expectClose(
            pixels.convolution(kernel: mixing, descriptor: .init()), [1, 2, 3, 3, 4, 7, 5, 6, 11, 7, 8, 15],
            shape: [1, 2, 2, 3])
        let grid = try tensor((1...9).map(Float.init), [1, 3, 3, 1])
        let kernel = try tensor([1, 2, 3, 4], [2, 2, 1, 1])
        try expectClose(grid.convolution(kernel: kernel, descriptor: .init()), [37, 47, 67, 77], shape: [1, 2, 2, 1])
    }

    @Test("grouped convolution keeps groups apart")
    func groups() throws {
        let x = try tensor([1, 2, 3, 4], [1, 1, 1, 4])
        let kernel = try tensor([1, 10, 2, 20], [1, 1, 2, 2])
        // Output 0 sees channels 0–1 through column 0; output 1 sees channels 2–3 through column 1.
        try expectClose(x.convolution(kernel: kernel, descriptor: .init(groups: 2)), [5, 110], shape: [1, 1, 1, 2])
    }

    @Test("convolution backward ops match a hand derivation")
    func backwardByHand() throws {
        let x = try tensor([1, 2, 3], [1, 3, 1]), k = try tensor([1, 2], [2, 1, 1])
        let dy = try backend.upload(HostArray(shape: [1, 2, 1], elements: .float32([1, 1])))
        // y[i] = x[i] + 2·x[i+1]: dx = [1, 1 + 2, 2], dk = [x0 + x1, x1 + x2].
        let dx = try backend.convolutionBackwardInput(gradOutput: dy, kernel: k.buffer, inputShape: [1, 3, 1], descriptor: .init())
        let dk = try backend.convolutionBackwardKernel(input: x.buffer, gradOutput: dy, kernelShape: [2, 1, 1], descriptor: .init())
        #expect(try backend.download(dx).elements == .float32([1, 3, 2]))
        #expect(try backend.download(dk).elements == .float32([3, 5]))
    }

    @Test("convolution rejects mismatched channels with both shapes in the message")
    func convolutionErrors() throws {
        let message = errorMessage {
            _ = try tensor([1, 2, 3, 4], [1, 2, 2, 1]).convolution(kernel: try tensor([1, 2], [1, 1, 2, 1]), descriptor: .init())
        }
        #expect(message?.contains("input [1, 2, 2, 1] has 1 channels") == true)
        #expect(message?.contains("kernel [1, 1, 2, 1]") == true)
        #expect(throws: BackendError.self) {
            try signal.convolution(kernel: difference, descriptor: .init(strides: [0]))
        }
    }

    @Test("max, sum and average pooling")
    func pooling() throws {
        let grid = try tensor((1...16).map(Float.init), [1, 4, 4, 1])
        let descriptor = WindowDescriptor(
            windowDimensions: [1, 2, 2, 1], strides: [1, 2, 2, 1], padding: Array(repeating: Padding(0, 0), count: 4))
        try expectClose(grid.window(.max, descriptor: descriptor), [6, 8, 14, 16], shape: [1, 2, 2, 1])
        try expectClose(grid.window(.sum, descriptor: descriptor), [14, 22, 46, 54])
        try expectClose(grid.window(.average, descriptor: descriptor), [3.5, 5.5, 11.5, 13.5])
    }

    @Test("average pooling does not count padding")
    func paddedAverage() throws {
        let x = try tensor([1, 2, 3], [1, 3, 1])
        let descriptor = WindowDescriptor(
            windowDimensions: [1, 2, 1], strides: [1, 1, 1], padding: [Padding(0, 0), Padding(1, 0), Padding(0, 0)])
        try expectClose(x.window(.average, descriptor: descriptor), [1, 1.5, 2.5])
        try expectClose(x.window(.max, descriptor: descriptor), [1, 2, 3])
        try expectClose(x.window(.sum, descriptor: descriptor), [1, 3, 5])
    }

    @Test("max pooling's gradient goes to the first maximum")
    func maxPoolBackward() throws {
        let descriptor = WindowDescriptor(windowDimensions: [2], strides: [2], padding: [Padding(0, 0)])
        let x = try backend.upload(HostArray(shape: [4], elements: .float32([1, 3, 5, 5])))
        let dy = try backend.upload(HostArray(shape: [2], elements: .float32([1, 2])))
        let dx = try backend.windowBackward(.max, input: x, gradOutput: dy, descriptor: descriptor)
        #expect(try backend.download(dx).elements == .float32([0, 1, 2, 0]))
        let average = try backend.windowBackward(.average, input: x, gradOutput: dy, descriptor: descriptor)
        #expect(try backend.download(average).elements == .float32([0.5, 0.5, 1, 1]))
    }
}

import Backend

// Matrix products, convolution and pooling, with their vector-Jacobian products.

extension Tensor {
    /// `op(self) · op(other)` over the last two axes with broadcast batch axes.
    public func matmul(_ other: Tensor, transposeSelf: Bool = false, transposeOther: Bool = false) throws -> Tensor {
        let (tA, tB) = (transposeSelf, transposeOther)
        return try Tensor.make("matmul", [self, other], { backend, b in
            try backend.matmul(b[0], b[1], transposeA: tA, transposeB: tB)
        }) { g, x, _, wanted in
            let (a, b) = (x[0], x[1])
            let da = !wanted[0] ? nil : tA ? try b.matmul(g, transposeSelf: tB, transposeOther: true) : try g.matmul(b, transposeOther: !tB)
            let db = !wanted[1] ? nil : tB ? try g.matmul(a, transposeSelf: true, transposeOther: tA) : try a.matmul(g, transposeSelf: !tA)
            return [try da?.summed(toShape: a.shape), try db?.summed(toShape: b.shape)]
        }
    }

    /// Channels-last N-d convolution of `self` (`[N, spatial..., C]`) with `kernel`
    /// (`[spatial..., C/groups, O]`).
    public func convolution(kernel: Tensor, descriptor: ConvolutionDescriptor) throws -> Tensor {
        try Tensor.make("convolution", [self, kernel], { backend, b in
            try backend.convolution(b[0], kernel: b[1], descriptor: descriptor)
        }) { g, x, _, wanted in
            try Tensor.convolutionGradients(g, input: x[0], kernel: x[1], descriptor: descriptor, wanted: wanted)
        }
    }

    /// The input's and the kernel's cotangents, each only where `wanted` (a model's first
    /// convolution needs none for its data).
    static func convolutionGradients(
        _ g: Tensor, input: Tensor, kernel: Tensor, descriptor: ConvolutionDescriptor, wanted: [Bool]
    ) throws -> [Tensor?] {
        let (inputShape, kernelShape) = (input.shape, kernel.shape)
        let dx = try wanted[0] ? Tensor.computed("convolutionBackwardInput", [g, kernel]) { backend, b in
            try backend.convolutionBackwardInput(gradOutput: b[0], kernel: b[1], inputShape: inputShape, descriptor: descriptor)
        } : nil
        let dk = try wanted[1] ? Tensor.computed("convolutionBackwardKernel", [input, g]) { backend, b in
            try backend.convolutionBackwardKernel(input: b[0], gradOutput: b[1], kernelShape: kernelShape, descriptor: descriptor)
        } : nil
        return [dx, dk]
    }

    /// A window reduction (pooling) over every axis.
    public func window(_ operation: WindowOperation, descriptor: WindowDescriptor) throws -> Tensor {
        try Tensor.make("window", [self], { backend, b in try backend.window(operation, b[0], descriptor: descriptor) }) {
            g, x, _ in
            [try Tensor.computed("windowBackward", [x[0], g]) { backend, b in
                try backend.windowBackward(operation, input: b[0], gradOutput: b[1], descriptor: descriptor)
            }]
        }
    }
}

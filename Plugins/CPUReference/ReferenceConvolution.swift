import Backend

/// The geometry of one convolution, lowered to matrix products (im2col): for every output
/// position `p` and kernel position `q`, `table[p * kernelVolume + q]` is the input position it
/// reads, or -1 where it falls into padding or between dilated input elements.
struct ConvolutionPlan {
    let batch: Int, channels: Int, outChannels: Int, groups: Int
    let groupChannels: Int, groupOutChannels: Int
    let kernelVolume: Int, inputPositions: Int, outputPositions: Int
    let table: [Int32]

    /// Columns of one im2col row: every kernel position times the group's input channels.
    var patch: Int { kernelVolume * groupChannels }

    init(input: Shape, kernel: Shape, output: Shape, descriptor d: ConvolutionDescriptor) {
        let spatial = input.rank - 2
        batch = input[0]
        channels = input[input.rank - 1]
        outChannels = kernel[kernel.rank - 1]
        groups = d.groups
        groupChannels = channels / groups
        groupOutChannels = outChannels / groups
        let inputDims = Array(input.dimensions[1...spatial])
        let kernelDims = Array(kernel.dimensions[0..<spatial])
        let outputDims = Array(output.dimensions[1...spatial])
        kernelVolume = kernelDims.reduce(1, *)
        inputPositions = inputDims.reduce(1, *)
        outputPositions = outputDims.reduce(1, *)
        let inputStrides = Shape(inputDims).strides
        var table = [Int32](repeating: -1, count: outputPositions * kernelVolume)
        var outIndex = [Int](repeating: 0, count: spatial)
        for p in 0..<outputPositions {
            var kernelIndex = [Int](repeating: 0, count: spatial)
            for q in 0..<kernelVolume {
                var position = 0
                var valid = true
                for axis in 0..<spatial {
                    let dilated = outIndex[axis] * d.strides[axis] - d.padding[axis].low
                        + kernelIndex[axis] * d.kernelDilation[axis]
                    guard dilated >= 0, dilated % d.inputDilation[axis] == 0,
                        dilated / d.inputDilation[axis] < inputDims[axis]
                    else {
                        valid = false
                        break
                    }
                    position += dilated / d.inputDilation[axis] * inputStrides[axis]
                }
                if valid { table[p * kernelVolume + q] = Int32(position) }
                Self.advance(&kernelIndex, kernelDims)
            }
            Self.advance(&outIndex, outputDims)
        }
        self.table = table
    }

    private static func advance(_ index: inout [Int], _ dims: [Int]) {
        var axis = dims.count - 1
        while axis >= 0 {
            index[axis] += 1
            if index[axis] < dims[axis] { return }
            index[axis] = 0
            axis -= 1
        }
    }

    /// Fills `column` (outputPositions × patch) with group `g` of image `n`'s patches.
    func im2col(_ input: UnsafePointer<Float>, image n: Int, group g: Int, into column: UnsafeMutablePointer<Float>) {
        let base = input + n * inputPositions * channels + g * groupChannels
        for p in 0..<outputPositions {
            for q in 0..<kernelVolume {
                let destination = column + (p * kernelVolume + q) * groupChannels
                let position = Int(table[p * kernelVolume + q])
                if position < 0 {
                    destination.update(repeating: 0, count: groupChannels)
                } else {
                    destination.update(from: base + position * channels, count: groupChannels)
                }
            }
        }
    }

    /// Adds `column`'s entries back into group `g` of image `n`'s input gradient.
    func col2im(_ column: UnsafePointer<Float>, image n: Int, group g: Int, into gradInput: UnsafeMutablePointer<Float>) {
        let base = gradInput + n * inputPositions * channels + g * groupChannels
        for p in 0..<outputPositions {
            for q in 0..<kernelVolume {
                let position = Int(table[p * kernelVolume + q])
                if position < 0 { continue }
                let source = column + (p * kernelVolume + q) * groupChannels
                let destination = base + position * channels
                for c in 0..<groupChannels { destination[c] += source[c] }
            }
        }
    }

    /// Runs `body(images)` over the batch: in parallel chunks of images when the batch can
    /// occupy every core, else over all images at once (the matrix products then go parallel).
    func forEachImageChunk(_ body: (_ images: Range<Int>, _ parallelGemm: Bool) -> Void) {
        let threads = ReferenceThreads.count
        if batch >= threads && threads > 1 {
            let perChunk = (batch + threads - 1) / threads
            parallelFor(threads) { chunk in
                let start = chunk * perChunk
                if start < batch { body(start..<Swift.min(start + perChunk, batch), false) }
            }
        } else {
            body(0..<batch, true)
        }
    }
}

extension Gemm {
    func run(parallel: Bool) {
        if parallel { run() } else { rows(0, m) }
    }
}

extension ReferenceBackend {
    /// Convolution by direct summation over every output position and kernel tap.
    public func convolution(_ input: Buffer, kernel: Buffer, descriptor: ConvolutionDescriptor) throws -> Buffer {
        let (outShape, d) = try ShapeRules.convolution(input: input.shape, kernel: kernel.shape, descriptor: descriptor)
        let x = try input.floats("convolution"), w = try kernel.floats("convolution")
        let plan = ConvolutionPlan(input: input.shape, kernel: kernel.shape, output: outShape, descriptor: d)
        return makeBuffer(outShape, .float32, as: Float.self) { out in
            let (xs, ws, ys) = (UnsafePointer(x.baseAddress!), UnsafePointer(w.baseAddress!), out.baseAddress!)
            plan.forEachImageChunk { images, parallel in
                let column = UnsafeMutablePointer<Float>.allocate(capacity: plan.outputPositions * plan.patch)
                defer { column.deallocate() }
                for n in images {
                    for g in 0..<plan.groups {
                        plan.im2col(xs, image: n, group: g, into: column)
                        Gemm(
                            m: plan.outputPositions, n: plan.groupOutChannels, k: plan.patch,
                            a: column, lda: plan.patch, b: ws + g * plan.groupOutChannels, ldb: plan.outChannels,
                            c: ys + n * plan.outputPositions * plan.outChannels + g * plan.groupOutChannels,
                            ldc: plan.outChannels
                        ).run(parallel: parallel)
                    }
                }
            }
        }
    }

    public func convolutionBackwardInput(
        gradOutput: Buffer, kernel: Buffer, inputShape: Shape, descriptor: ConvolutionDescriptor
    ) throws -> Buffer {
        let (outShape, d) = try ShapeRules.convolution(input: inputShape, kernel: kernel.shape, descriptor: descriptor)
        let dy = try gradOutput.floats("convolutionBackwardInput"), w = try kernel.floats("convolutionBackwardInput")
        let plan = ConvolutionPlan(input: inputShape, kernel: kernel.shape, output: outShape, descriptor: d)
        // Each group's kernel, transposed to groupOutChannels × patch.
        var transposedKernels = [Float](repeating: 0, count: plan.groups * plan.patch * plan.groupOutChannels)
        transposedKernels.withUnsafeMutableBufferPointer { wt in
            for g in 0..<plan.groups {
                transpose(
                    w.baseAddress! + g * plan.groupOutChannels, rows: plan.patch, columns: plan.groupOutChannels,
                    ld: plan.outChannels, into: wt.baseAddress! + g * plan.patch * plan.groupOutChannels)
            }
        }
        return makeBuffer(inputShape, .float32, as: Float.self) { out in
            out.initialize(repeating: 0)
            let (dys, dxs) = (UnsafePointer(dy.baseAddress!), out.baseAddress!)
            transposedKernels.withUnsafeBufferPointer { wt in
                plan.forEachImageChunk { images, parallel in
                    let column = UnsafeMutablePointer<Float>.allocate(capacity: plan.outputPositions * plan.patch)
                    defer { column.deallocate() }
                    for n in images {
                        for g in 0..<plan.groups {
                            Gemm(
                                m: plan.outputPositions, n: plan.patch, k: plan.groupOutChannels,
                                a: dys + n * plan.outputPositions * plan.outChannels + g * plan.groupOutChannels,
                                lda: plan.outChannels,
                                b: wt.baseAddress! + g * plan.patch * plan.groupOutChannels, ldb: plan.patch,
                                c: column, ldc: plan.patch
                            ).run(parallel: parallel)
                            plan.col2im(column, image: n, group: g, into: dxs)
                        }
                    }
                }
            }
        }
    }

    public func convolutionBackwardKernel(
        input: Buffer, gradOutput: Buffer, kernelShape: Shape, descriptor: ConvolutionDescriptor
    ) throws -> Buffer {
        let (outShape, d) = try ShapeRules.convolution(input: input.shape, kernel: kernelShape, descriptor: descriptor)
        let x = try input.floats("convolutionBackwardKernel"), dy = try gradOutput.floats("convolutionBackwardKernel")
        let plan = ConvolutionPlan(input: input.shape, kernel: kernelShape, output: outShape, descriptor: d)
        let kernelCount = kernelShape.elementCount
        let threads = plan.batch >= ReferenceThreads.count ? ReferenceThreads.count : 1
        // One private accumulator per chunk of images, summed at the end.
        let partials = UnsafeMutablePointer<Float>.allocate(capacity: threads * kernelCount)
        partials.initialize(repeating: 0, count: threads * kernelCount)
        defer { partials.deallocate() }
        let (xs, dys) = (UnsafePointer(x.baseAddress!), UnsafePointer(dy.baseAddress!))
        let perChunk = (plan.batch + threads - 1) / threads
        parallelFor(threads) { chunk in
            let column = UnsafeMutablePointer<Float>.allocate(capacity: plan.outputPositions * plan.patch)
            let columnT = UnsafeMutablePointer<Float>.allocate(capacity: plan.outputPositions * plan.patch)
            defer {
                column.deallocate()
                columnT.deallocate()
            }
            let dw = partials + chunk * kernelCount
            for n in (chunk * perChunk)..<Swift.min((chunk + 1) * perChunk, plan.batch) {
                for g in 0..<plan.groups {
                    plan.im2col(xs, image: n, group: g, into: column)
                    transpose(column, rows: plan.outputPositions, columns: plan.patch, ld: plan.patch, into: columnT)
                    Gemm(
                        m: plan.patch, n: plan.groupOutChannels, k: plan.outputPositions,
                        a: columnT, lda: plan.outputPositions,
                        b: dys + n * plan.outputPositions * plan.outChannels + g * plan.groupOutChannels,
                        ldb: plan.outChannels,
                        c: dw + g * plan.groupOutChannels, ldc: plan.outChannels, accumulate: true
                    ).run(parallel: threads == 1)
                }
            }
        }
        return makeBuffer(kernelShape, .float32, as: Float.self) { out in
            out.initialize(repeating: 0)
            for chunk in 0..<threads {
                for index in 0..<kernelCount { out[index] += partials[chunk * kernelCount + index] }
            }
        }
    }
}

#if OneDNN
import Backend
import CDNNL

extension OneDNNBackend {
    public func convolution(_ input: Buffer, kernel: Buffer, descriptor: ConvolutionDescriptor) throws -> Buffer {
        try host.convolution(input, kernel: kernel, descriptor: descriptor)
    }

    public func convolutionBackwardInput(gradOutput: Buffer, kernel: Buffer, inputShape: Shape, descriptor: ConvolutionDescriptor) throws -> Buffer {
        try host.convolutionBackwardInput(gradOutput: gradOutput, kernel: kernel, inputShape: inputShape, descriptor: descriptor)
    }

    public func convolutionBackwardKernel(input: Buffer, gradOutput: Buffer, kernelShape: Shape, descriptor: ConvolutionDescriptor) throws -> Buffer {
        try host.convolutionBackwardKernel(input: input, gradOutput: gradOutput, kernelShape: kernelShape, descriptor: descriptor)
    }
}
#endif

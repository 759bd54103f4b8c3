// swift run -c release mnist-lstm [MNIST-DIRECTORY]
import AxonExamples
import Foundation

let directory = CommandLine.arguments.dropFirst().first ?? "../shared/datasets/mnist"
_ = try Examples.mnistLSTM(dataDirectory: URL(fileURLWithPath: directory), on: Examples.backend())

// swift run -c release mnist-mlp [MNIST-DIRECTORY]
import AxonExamples
import Foundation

let directory = CommandLine.arguments.dropFirst().first ?? "../shared/datasets/mnist"
_ = try Examples.mnistMLP(dataDirectory: URL(fileURLWithPath: directory), on: Examples.backend())

// swift run -c release mnist-cnn [MNIST-DIRECTORY]
import AxonExamples
import Foundation

let directory = CommandLine.arguments.dropFirst().first ?? "../shared/datasets/mnist"
_ = try Examples.mnistCNN(dataDirectory: URL(fileURLWithPath: directory), on: Examples.backend())

// swift run -c release residual-cnn
import AxonExamples

_ = try Examples.residualCNN(on: Examples.backend())

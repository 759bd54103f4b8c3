// swift run -c release transformer-encoder
import AxonExamples

_ = try Examples.transformerEncoder(on: Examples.backend())

// swift run -c release gan
import AxonExamples

_ = try Examples.gan(on: Examples.backend())

// swift run -c release ctc-sequences
import AxonExamples

_ = try Examples.ctcSequences(on: Examples.backend())

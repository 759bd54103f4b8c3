import AxonExamples
import Testing

/// Each example runs end to end on a little data and learns something.
@Suite("Examples (smoke)")
struct ExampleSmokeTests {
    @Test("MNIST MLP") func mlp() throws {
        #expect(try Examples.mnistMLP(dataDirectory: mnistDirectory, epochs: 1, limit: 1_000, on: backend) > 0.5)
    }

    @Test("MNIST CNN") func cnn() throws {
        #expect(try Examples.mnistCNN(dataDirectory: mnistDirectory, epochs: 2, limit: 2_000, on: backend) > 0.5)
    }

    @Test("MNIST read row by row by an LSTM") func lstm() throws {
        #expect(try Examples.mnistLSTM(dataDirectory: mnistDirectory, epochs: 2, limit: 1_000, on: backend) > 0.3)
    }

    @Test("CTC reads generated symbol sequences from unsegmented frames") func ctc() throws {
        // Exact-sequence accuracy; guessing one to four symbols out of four is well under 10%.
        #expect(try Examples.ctcSequences(epochs: 8, count: 2_000, on: backend) > 0.8)
    }

    @Test("GAN: the generated points move to the mixture's modes") func gan() throws {
        let (before, after) = try Examples.gan(steps: 800, batchSize: 64, on: backend)
        #expect(after.meanDistanceToNearestMode < before.meanDistanceToNearestMode / 3, "\(before) → \(after)")
        #expect(Swift.abs(after.meanRadius - 2) < Swift.abs(before.meanRadius - 2) / 3, "\(before) → \(after)")
        #expect(before.modesCovered == 0 && after.modesCovered >= 4, "\(before) → \(after)")
    }

    @Test("transformer encoder on generated sequences") func transformer() throws {
        // Five symbols: chance is 20%.
        #expect(try Examples.transformerEncoder(epochs: 3, count: 3_000, on: backend) > 0.5)
    }

    @Test("residual CNN with combinators and summary") func residual() throws {
        #expect(try Examples.residualCNN(epochs: 2, count: 3_000, on: backend) > 0.5)
    }
}

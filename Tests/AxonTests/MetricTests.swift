import AxonCore
import Backend
import Testing

@Suite("Metrics")
struct MetricTests {
    @Test("categorical accuracy with sparse or one-hot labels")
    func categorical() throws {
        let predictions = try tensor([0.1, 0.9, 0.8, 0.2, 0.3, 0.7], [3, 2])
        let sparse = try Tensor(integers: [1, 1, 1], shape: [3], on: backend)
        let oneHot = try tensor([0, 1, 0, 1, 0, 1], [3, 2])
        try expectClose(Metrics.accuracy(sparse, predictions), [2.0 / 3])
        try expectClose(Metrics.accuracy(oneHot, predictions), [2.0 / 3])
    }

    @Test("binary accuracy uses the threshold")
    func binary() throws {
        let p = try tensor([0.2, 0.7, 0.6], [3, 1]), y = try tensor([0, 1, 0], [3, 1])
        try expectClose(Metrics.accuracy(y, p), [2.0 / 3])
        try expectClose(Metrics.accuracy(y, p, threshold: 0.65), [1])
    }

    @Test("running aggregation is exact over unequal batches, not a mean of means")
    func aggregation() throws {
        var accuracy = Metric.accuracy()
        try accuracy.update(yTrue: try tensor([1, 1], [2, 1]), yPred: try tensor([0.9, 0.8], [2, 1]))
        try accuracy.update(yTrue: try tensor([1, 1, 1, 1], [4, 1]), yPred: try tensor([0.9, 0.1, 0.1, 0.1], [4, 1]))
        #expect(accuracy.value == 0.5)
        accuracy.reset()
        #expect(accuracy.value == 0)
        var custom = Metric.custom("mean_prediction") { _, p in try p.mean() }
        try custom.update(yTrue: try tensor([0], [1]), yPred: try tensor([1], [1]))
        try custom.update(yTrue: try tensor([0, 0, 0], [3]), yPred: try tensor([0, 0, 0], [3]))
        #expect(custom.value == 0.25)
        var summed = Metric.custom("total", aggregation: .sum) { _, p in try p.sum() }
        try summed.update(yTrue: try tensor([0], [1]), yPred: try tensor([2], [1]))
        try summed.update(yTrue: try tensor([0], [1]), yPred: try tensor([3], [1]))
        #expect(summed.value == 5)
    }

    @Test("confusion-matrix metrics")
    func confusion() throws {
        let y = try tensor([1, 1, 0, 0, 1], [5]), p = try tensor([0.9, 0.4, 0.6, 0.1, 0.8], [5])
        #expect(try Metrics.confusion(y, p) == Metrics.Confusion(tp: 2, fp: 1, tn: 1, fn: 1))
        let expected: [(Metric, Double)] = [
            (.precision(), 2.0 / 3), (.recall(), 2.0 / 3), (.sensitivity(), 2.0 / 3), (.specificity(), 0.5),
            (.truePositives(), 2), (.falsePositives(), 1), (.trueNegatives(), 1), (.falseNegatives(), 1),
            (.precision(threshold: 0.95), 0), (.truePositives(threshold: 0.5), 2), (.falseNegatives(threshold: 0.85), 2),
        ]
        for (metric, value) in expected {
            var running = metric
            try running.update(yTrue: y, yPred: p)
            #expect(Swift.abs(running.value - value) < 1e-9, "\(metric.name)")
        }
    }

    @Test("top-k accuracy")
    func topK() throws {
        let p = try tensor([0.1, 0.5, 0.4, 0.6, 0.3, 0.1], [2, 3])
        var top2 = Metric.topKCategoricalAccuracy(k: 2)
        try top2.update(yTrue: try Tensor(integers: [2, 2], shape: [2], on: backend), yPred: p)
        #expect(top2.value == 0.5)
        var top3 = Metric.topKCategoricalAccuracy(k: 3)
        try top3.update(yTrue: try tensor([0, 0, 1, 0, 0, 1], [2, 3]), yPred: p)
        #expect(top3.value == 1)
    }

    @Test("error metrics aggregate per element")
    func errors() throws {
        var mse = Metric.meanSquaredError, mae = Metric.meanAbsoluteError
        for m in [0, 1] {
            let y = try tensor([1, 2], [1, 2]), p = try tensor(m == 0 ? [2, 4] : [1, 2], [1, 2])
            try mse.update(yTrue: y, yPred: p)
            try mae.update(yTrue: y, yPred: p)
        }
        #expect(mse.value == 1.25)
        #expect(mae.value == 0.75)
    }
}

import Foundation

/// One axis of a plot: the range it spans, linear or logarithmic, and its ticks.
struct PlotScale {
    let low: Double
    let high: Double
    let logarithmic: Bool
    let ticks: [Double]

    /// Where `value` falls along the axis, 0 at `low` and 1 at `high`.
    func fraction(_ value: Double) -> Double {
        if logarithmic { return (log10(value) - log10(low)) / (log10(high) - log10(low)) }
        return (value - low) / (high - low)
    }

    /// A linear scale over `values` with four to eight ticks at steps of 1, 2 or 5 times a power
    /// of ten, widened to whole steps.
    static func linear(_ values: [Double], integral: Bool = false) -> PlotScale {
        var (low, high) = (values.min() ?? 0, values.max() ?? 1)
        if high - low < 1e-12 { (low, high) = (low - Swift.max(abs(low) * 0.1, 0.5), high + Swift.max(abs(high) * 0.1, 0.5)) }
        let rough = (high - low) / 5
        let power = pow(10, floor(log10(rough)))
        var step = [1.0, 2, 5, 10].map { $0 * power }.first { $0 >= rough } ?? 10 * power
        if integral { step = Swift.max(step.rounded(.up), 1) }
        let (first, last) = ((low / step).rounded(.down) * step, (high / step).rounded(.up) * step)
        let count = Int(((last - first) / step).rounded()) + 1
        return PlotScale(low: first, high: last, logarithmic: false, ticks: (0..<count).map { first + Double($0) * step })
    }

    /// A logarithmic scale over positive `values` with a tick at each power of ten.
    static func logarithmic(_ values: [Double]) -> PlotScale {
        let low = pow(10, floor(log10(values.min() ?? 1))), high = pow(10, ceil(log10(values.max() ?? 10)))
        let decades = Int(log10(high / low).rounded())
        return PlotScale(low: low, high: high, logarithmic: true, ticks: (0...decades).map { low * pow(10, Double($0)) })
    }

    /// The scale a metric's values read best on: logarithmic for positive values spanning two
    /// decades or more (a loss that falls by orders of magnitude), linear otherwise.
    static func fitting(_ values: [Double]) -> PlotScale {
        guard let low = values.min(), let high = values.max(), low > 0, high / low >= 100 else { return linear(values) }
        return logarithmic(values)
    }

    /// A tick's label: up to four significant digits, no trailing zeros.
    static func label(_ value: Double) -> String { String(format: "%.4g", abs(value) < 1e-12 ? 0 : value) }
}

import AxonCore
import Foundation

/// A run's metrics per epoch as a self-contained SVG: a caption naming the model and backend,
/// then one panel per metric (training and validation curves together) with its name and unit,
/// epochs on a labelled x-axis with a tick each, value ticks with light gridlines, the legend
/// to the right of the data area, and a logarithmic scale for a loss spanning decades.
enum TrainingPlot {
    static let width = 760.0
    static let panelHeight = 230.0
    static let captionHeight = 40.0
    static let characterWidth = 7.0  // of the 12-pixel sans-serif text, generously

    /// One panel: a metric with its training and validation values.
    struct Panel {
        let metric: String
        let series: [(name: String, color: String, values: [Double?])]

        var isPercentage: Bool { ["accuracy", "precision", "recall", "f1"].contains { metric.contains($0) } }
        var title: String {
            if isPercentage { return "\(metric) (%)" }
            return metric.contains("loss") ? "\(metric) (mean per example)" : metric
        }
    }

    /// The panels of `history`: a metric and its `validation_` twin share one; loss first, then
    /// accuracy, then the rest by name.
    static func panels(_ history: [[String: Double]]) -> [Panel] {
        let keys = Set(history.flatMap(\.keys)).filter { !$0.hasPrefix("step_") }
        let metrics = Set(keys.map { $0.hasPrefix("validation_") ? String($0.dropFirst("validation_".count)) : $0 })
        let order = metrics.sorted { a, b in
            let rank = { (name: String) in name == "loss" ? 0 : name == "accuracy" ? 1 : 2 }
            return (rank(a), a) < (rank(b), b)
        }
        return order.map { metric in
            let series = [("training", "#1f77b4", metric), ("validation", "#ff7f0e", "validation_\(metric)")]
                .filter { keys.contains($0.2) }
                .map { name, color, key in (name: name, color: color, values: history.map { $0[key].flatMap { $0.isFinite ? $0 : nil } }) }
            return Panel(metric: metric, series: series)
        }
    }

    static func render(history: [[String: Double]], caption: String) -> String {
        let panels = panels(history)
        let height = captionHeight + Double(Swift.max(panels.count, 1)) * panelHeight
        var svg = [
            ##"<svg xmlns="http://www.w3.org/2000/svg" width="\##(Int(width))" height="\##(Int(height))" viewBox="0 0 \##(Int(width)) \##(Int(height))" font-family="sans-serif" font-size="12">"##,
            ##"<rect width="\##(Int(width))" height="\##(Int(height))" fill="white"/>"##,
            ##"<text class="caption" x="\##(width / 2)" y="24" text-anchor="middle" font-size="14" font-weight="bold">\##(escaped(caption))</text>"##,
        ]
        for (index, panel) in panels.enumerated() {
            svg += draw(panel, epochs: history.count, top: captionHeight + Double(index) * panelHeight)
        }
        svg.append("</svg>")
        return svg.joined(separator: "\n") + "\n"
    }

    static func write(history: [[String: Double]], caption: String, to url: URL) throws {
        try FileAccess.writeAtomically(Data(render(history: history, caption: caption).utf8), to: url)
    }

    /// One panel's frame, grid, ticks, labels, curves and legend, `top` pixels down.
    static func draw(_ panel: Panel, epochs: Int, top: Double) -> [String] {
        let scale = panel.isPercentage ? 100.0 : 1.0
        let values = panel.series.flatMap { $0.values.compactMap { $0 } }.map { $0 * scale }
        let yScale = PlotScale.fitting(values.isEmpty ? [0, 1] : values)
        let xScale = epochs <= 20
            ? PlotScale(low: epochs > 1 ? 1 : 0, high: Double(Swift.max(epochs, 2)), logarithmic: false, ticks: (1...Swift.max(epochs, 1)).map(Double.init))
            : PlotScale.linear([1, Double(epochs)], integral: true)
        let labelWidth = Double(yScale.ticks.map { PlotScale.label($0).count }.max() ?? 1) * characterWidth
        let (left, right) = (30 + labelWidth + 10, width - 130)  // y label, tick labels; legend beyond `right`
        let (plotTop, bottom) = (top + 34, top + panelHeight - 46)
        func x(_ epoch: Double) -> Double { left + (right - left) * (epochs > 1 ? xScale.fraction(epoch) : 0.5) }
        func y(_ value: Double) -> Double { bottom - (bottom - plotTop) * yScale.fraction(value) }
        var svg = [##"<text class="title" x="\##((left + right) / 2)" y="\##(top + 22)" text-anchor="middle" font-weight="bold">\##(escaped(panel.title))</text>"##]
        for tick in yScale.ticks {
            svg.append(##"<line x1="\##(left)" x2="\##(right)" y1="\##(y(tick))" y2="\##(y(tick))" stroke="#e6e6e6"/>"##)
            svg.append(##"<text class="y-tick" x="\##(left - 6)" y="\##(y(tick) + 4)" text-anchor="end">\##(PlotScale.label(tick))</text>"##)
        }
        for tick in xScale.ticks where tick >= 1 && tick <= Double(Swift.max(epochs, 1)) {
            svg.append(##"<line x1="\##(x(tick))" x2="\##(x(tick))" y1="\##(plotTop)" y2="\##(bottom)" stroke="#f0f0f0"/>"##)
            svg.append(##"<line x1="\##(x(tick))" x2="\##(x(tick))" y1="\##(bottom)" y2="\##(bottom + 4)" stroke="#666"/>"##)
            svg.append(##"<text class="x-tick" x="\##(x(tick))" y="\##(bottom + 17)" text-anchor="middle">\##(Int(tick))</text>"##)
        }
        svg.append(##"<rect x="\##(left)" y="\##(plotTop)" width="\##(right - left)" height="\##(bottom - plotTop)" fill="none" stroke="#666"/>"##)
        svg.append(##"<text class="x-label" x="\##((left + right) / 2)" y="\##(bottom + 36)" text-anchor="middle">epoch</text>"##)
        let yLabel = yScale.logarithmic ? "\(panel.metric) (log scale)" : panel.metric
        svg.append(##"<text class="y-label" transform="translate(16 \##((plotTop + bottom) / 2)) rotate(-90)" text-anchor="middle">\##(escaped(yLabel))</text>"##)
        for (position, series) in panel.series.enumerated() {
            let points = series.values.enumerated().compactMap { epoch, value in
                value.map { (x(Double(epoch + 1)), y($0 * scale)) }
            }
            if points.count > 1 {
                let path = points.map { String(format: "%.1f,%.1f", $0.0, $0.1) }.joined(separator: " ")
                svg.append(##"<polyline fill="none" stroke="\##(series.color)" stroke-width="2" points="\##(path)"/>"##)
            }
            for point in points {
                svg.append(String(format: ##"<circle cx="%.1f" cy="%.1f" r="2.5" "##, point.0, point.1) + ##"fill="\##(series.color)"/>"##)
            }
            let legendY = plotTop + 12 + Double(position) * 18
            svg.append(##"<line x1="\##(right + 14)" x2="\##(right + 36)" y1="\##(legendY - 4)" y2="\##(legendY - 4)" stroke="\##(series.color)" stroke-width="2"/>"##)
            svg.append(##"<text class="legend" x="\##(right + 42)" y="\##(legendY)">\##(series.name)</text>"##)
        }
        return svg
    }

    static func escaped(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}

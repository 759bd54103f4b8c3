import AxonCore
import Foundation

/// Loss and accuracy curves per epoch (training and validation) as a self-contained SVG.
enum TrainingPlot {
    static func write(history: [[String: Double]], to url: URL) throws {
        let panels: [(title: String, series: [(name: String, key: String, color: String)])] = [
            ("loss", [("train", "loss", "#1f77b4"), ("validation", "validation_loss", "#ff7f0e")]),
            ("accuracy", [("train", "accuracy", "#1f77b4"), ("validation", "validation_accuracy", "#ff7f0e")]),
        ]
        let (width, height, margin) = (420.0, 280.0, 40.0)
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width * 2))\" height=\"\(Int(height))\" font-family=\"sans-serif\" font-size=\"12\">\n"
        for (index, panel) in panels.enumerated() {
            let left = Double(index) * width
            let values = panel.series.flatMap { series in history.compactMap { $0[series.key] } }
            let low = values.min() ?? 0, high = Swift.max(values.max() ?? 1, (values.min() ?? 0) + 1e-9)
            func x(_ epoch: Int) -> Double { left + margin + (width - 2 * margin) * (history.count > 1 ? Double(epoch) / Double(history.count - 1) : 0.5) }
            func y(_ value: Double) -> Double { height - margin - (height - 2 * margin) * (value - low) / (high - low) }
            svg += "<rect x=\"\(left + margin)\" y=\"\(margin)\" width=\"\(width - 2 * margin)\" height=\"\(height - 2 * margin)\" fill=\"none\" stroke=\"#999\"/>\n"
            svg += "<text x=\"\(left + width / 2)\" y=\"\(margin - 12)\" text-anchor=\"middle\">\(panel.title) by epoch</text>\n"
            svg += String(format: "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">%.3g</text>\n", left + margin - 4, margin + 4, high)
            svg += String(format: "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">%.3g</text>\n", left + margin - 4, height - margin, low)
            for (position, series) in panel.series.enumerated() {
                let points = history.enumerated().compactMap { epoch, metrics in metrics[series.key].map { String(format: "%.1f,%.1f", x(epoch), y($0)) } }
                guard !points.isEmpty else { continue }
                svg += "<polyline fill=\"none\" stroke=\"\(series.color)\" stroke-width=\"2\" points=\"\(points.joined(separator: " "))\"/>\n"
                svg += "<text x=\"\(left + margin + 8)\" y=\"\(height - margin - 8 - Double(position) * 14)\" fill=\"\(series.color)\">\(series.name)</text>\n"
            }
        }
        svg += "</svg>\n"
        try FileAccess.writeAtomically(Data(svg.utf8), to: url)
    }
}

import Foundation

/// A ``RunLogger`` that writes every record to a CSV file in long form, one row per value:
/// `scope,epoch,iteration,step,name,value` (epochs and iterations from 1). Long form keeps a
/// fixed header while the set of values changes (validation values appear only at epoch ends),
/// and loads directly into pandas, R or a spreadsheet pivot table. A fresh run replaces the
/// file; a resumed run appends to it.
///
/// ```swift
/// loop.log(to: CSVLogger(URL(fileURLWithPath: "run/metrics.csv")), scope: .batch)
/// ```
public final class CSVLogger: RunLogger {
    let url: URL
    private var file: AppendOnlyFile?

    /// A logger writing to the CSV file at `url`, created when the run starts.
    public init(_ url: URL) { self.url = url }

    public func runStarted(state: LoopState) throws {
        let fresh = state.step == 0
        file = try AppendOnlyFile(url, truncate: fresh)
        if fresh { try file?.append(Data("scope,epoch,iteration,step,name,value\n".utf8)) }
    }

    public func record(_ record: MetricRecord, state: LoopState) throws {
        let prefix = "\(record.scope.rawValue),\(record.epoch + 1),\(record.iteration + 1),\(record.step)"
        let rows = record.values.keys.sorted().map { name in "\(prefix),\(FileLoggerText.csvField(name)),\(FileLoggerText.number(record.values[name] ?? .nan))\n" }
        try file?.append(Data(rows.joined().utf8))
    }

    public func runEnded(state: LoopState, completed: Bool) throws {
        try file?.close()
        file = nil
    }
}

/// A ``RunLogger`` that writes every record as one JSON object per line:
/// `{"scope":"epoch","epoch":1,"iteration":469,"step":469,"values":{"loss":0.31,…}}` (epochs
/// and iterations from 1; non-finite values as the strings `"nan"`, `"inf"`, `"-inf"`). A
/// fresh run replaces the file; a resumed run appends to it.
public final class JSONLinesLogger: RunLogger {
    let url: URL
    private var file: AppendOnlyFile?

    /// A logger writing to the JSON Lines file at `url`, created when the run starts.
    public init(_ url: URL) { self.url = url }

    public func runStarted(state: LoopState) throws {
        file = try AppendOnlyFile(url, truncate: state.step == 0)
    }

    public func record(_ record: MetricRecord, state: LoopState) throws {
        let values = record.values.keys.sorted().map { name in
            let value = record.values[name] ?? .nan
            return "\(FileLoggerText.jsonString(name)):\(value.isFinite ? FileLoggerText.number(value) : "\"\(FileLoggerText.number(value))\"")"
        }
        let line = #"{"scope":"\#(record.scope.rawValue)","epoch":\#(record.epoch + 1),"iteration":\#(record.iteration + 1),"step":\#(record.step),"values":{\#(values.joined(separator: ","))}}"#
        try file?.append(Data((line + "\n").utf8))
    }

    public func runEnded(state: LoopState, completed: Bool) throws {
        try file?.close()
        file = nil
    }
}

/// Text forms shared by the file loggers.
enum FileLoggerText {
    /// The shortest text that reads back to the same `Double`; `nan`, `inf`, `-inf` otherwise.
    static func number(_ value: Double) -> String {
        if value.isNaN { return "nan" }
        if value.isInfinite { return value > 0 ? "inf" : "-inf" }
        return "\(value)"
    }

    /// `text` as a CSV field, quoted when it holds a comma, quote or line break.
    static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0.isNewline }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// `text` as a JSON string literal.
    static func jsonString(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case _ where scalar.value < 0x20: result += String(format: "\\u%04x", scalar.value)
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }
}

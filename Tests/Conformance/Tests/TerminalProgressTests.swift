import Foundation
import Testing

/// `axon train`'s progress as people see it: under a pseudo-terminal (util-linux `script`, its
/// size set with `stty`), piped to a file, with and without `NO_COLOR`.
@Suite("axon train progress on terminals and pipes", .serialized)
struct TerminalProgressTests {
    let directory = FileManager.default.temporaryDirectory

    /// `axon train` for one short epoch under a pseudo-terminal `columns` wide, as a terminal
    /// emulator runs it (`TERM` set, `NO_COLOR` unset unless given); its output as the terminal
    /// received it.
    func underTerminal(columns: Int, noColor: Bool = false) throws -> String {
        let axon = AxonCommandLine.executable.path
        let command = "stty cols \(columns) rows 24; '\(axon)' train --epochs 1 --batch-size 16 --backend reference"
        let result = try AxonCommandLine.run(
            ["-qec", command, "/dev/null"], in: directory, program: URL(fileURLWithPath: "/usr/bin/script"),
            environment: ["TERM": "xterm-256color", "NO_COLOR": noColor ? "1" : ""])
        #expect(result.status == 0, "\(result.error)")
        return result.output
    }

    /// The redrawn frames: the text between carriage returns, escape sequences removed.
    func frames(_ output: String) -> [String] {
        let plain = output.replacingOccurrences(of: "\u{1B}\\[[0-9;]*[A-Za-z]", with: "", options: .regularExpression)
        return plain.split(separator: "\r").map { String($0).trimmingCharacters(in: .newlines) }.filter { $0.hasPrefix("epoch 1 ") }
    }

    @Test("on a terminal the bar is redrawn in place within its width, in colour, with throughput and ETA",
          arguments: [100, 50, 30])
    func barFitsTheTerminal(columns: Int) throws {
        let output = try underTerminal(columns: columns)
        let drawn = frames(output)
        #expect(drawn.count >= 2, "\(output)")
        for frame in drawn {
            #expect(frame.count < columns, "'\(frame)' is \(frame.count) columns on a terminal of \(columns)")
            #expect(frame.contains("/625"))
        }
        #expect(drawn.last?.contains("625/625") == true)
        if columns >= 50 { #expect(drawn.allSatisfy { $0.contains("it/s") && $0.contains("ETA ") }) }
        if columns == 100 {
            #expect(drawn.allSatisfy { $0.contains("█") || $0.contains("·") }, "the bar shows on a wide terminal")
            #expect(output.contains("\u{1B}[32m"), "the bar is coloured")
        }
        #expect(output.contains("\u{1B}[K"))
        #expect(output.contains("epoch 1: "), "the epoch's summary line")
    }

    @Test("NO_COLOR keeps the redrawn bar and drops the colour")
    func noColor() throws {
        let output = try underTerminal(columns: 100, noColor: true)
        #expect(frames(output).count >= 2)
        #expect(!output.contains("\u{1B}[32m") && !output.contains("\u{1B}[2m"))
    }

    @Test("piped, the progress is plain lines at each quarter of the epoch, with no escape sequences")
    func plainLinesWhenPiped() throws {
        let result = try AxonCommandLine.run(["train", "--epochs", "1", "--batch-size", "16", "--backend", "reference"], in: directory)
        #expect(result.status == 0)
        #expect(!result.output.contains("\r") && !result.output.contains("\u{1B}"))
        let lines = result.output.split(separator: "\n").filter { $0.hasPrefix("epoch 1: ") && $0.contains("%") }
        #expect(lines.map { $0.prefix(while: { $0 != "(" }) } == ["epoch 1: 25% ", "epoch 1: 50% ", "epoch 1: 75% "])
        #expect(lines.allSatisfy { $0.contains("it/s, ETA ") && $0.contains("loss ") })
    }
}

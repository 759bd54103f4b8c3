import Foundation

/// What standard output can show: whether it is a terminal that takes escape sequences (not a
/// pipe, a file or `TERM=dumb`), whether colour is welcome (not when `NO_COLOR` is set, as
/// no-color.org asks), and how wide it is now.
struct Terminal: Sendable {
    let isInteractive: Bool
    let usesColor: Bool

    static var standardOutput: Terminal {
        let environment = ProcessInfo.processInfo.environment
        let interactive = isatty(STDOUT_FILENO) != 0 && environment["TERM"] != "dumb"
        return Terminal(isInteractive: interactive, usesColor: interactive && (environment["NO_COLOR"] ?? "").isEmpty)
    }

    /// The columns of the terminal, asked each time so that a resized window is followed;
    /// `COLUMNS`, then 80, when the terminal does not say.
    var width: Int {
        var size = winsize()
        if isInteractive, ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return Int(size.ws_col) }
        return Int(ProcessInfo.processInfo.environment["COLUMNS"] ?? "").flatMap { $0 > 0 ? $0 : nil } ?? 80
    }
}

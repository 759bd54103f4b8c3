import Foundation

/// Where the registry looks for backend plugins, in order: the entries of `AXON_PLUGIN_PATH`
/// (directories or files, separated by `:`), the `plugins` folder beside the executable, and
/// the per-user folder (`$XDG_DATA_HOME/axon/plugins`, else `~/.local/share/axon/plugins`).
///
/// A directory contributes its shared libraries (`*.so`, `*.dylib` on macOS) in name order; a
/// file named in `AXON_PLUGIN_PATH` is tried whatever its name. An entry of `AXON_PLUGIN_PATH`
/// that does not exist is reported; the two standard folders are simply skipped when absent.
///
/// ```swift
/// let path = PluginSearchPath(entries: [.init(url: URL(fileURLWithPath: "/opt/axon/plugins"), required: true)])
/// let reports = BackendRegistry.shared.loadPlugins(from: path)
/// ```
public struct PluginSearchPath: Sendable {
    /// One directory or file to search.
    public struct Entry: Sendable, Equatable {
        /// The directory or file.
        public var url: URL
        /// Whether its absence is reported (entries a user named) or ignored (standard folders).
        public var required: Bool

        /// An entry for `url`.
        public init(url: URL, required: Bool) {
            self.url = url
            self.required = required
        }
    }

    /// The environment variable that lists plugin directories and files.
    public static let environmentVariable = "AXON_PLUGIN_PATH"

    /// The entries, searched in order.
    public var entries: [Entry]

    /// A search path of `entries`.
    public init(entries: [Entry]) {
        self.entries = entries
    }

    /// `AXON_PLUGIN_PATH`, the executable's `plugins` folder and the per-user folder.
    public static var standard: PluginSearchPath {
        let environment = ProcessInfo.processInfo.environment
        var entries = (environment[environmentVariable] ?? "").split(separator: ":").map {
            Entry(url: URL(fileURLWithPath: String($0)), required: true)
        }
        if let executable = Bundle.main.executableURL?.resolvingSymlinksInPath() {
            entries.append(Entry(url: executable.deletingLastPathComponent().appendingPathComponent("plugins"), required: false))
        }
        let dataHome = environment["XDG_DATA_HOME"].flatMap { $0.isEmpty ? nil : URL(fileURLWithPath: $0) }
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".local/share")
        entries.append(Entry(url: dataHome.appendingPathComponent("axon/plugins"), required: false))
        return PluginSearchPath(entries: entries)
    }

    /// The library files to try, each once, and reports for entries that do not exist.
    func candidates() -> (files: [String], missing: [PluginReport]) {
        var files: [String] = []
        var seen: Set<String> = []
        var missing: [PluginReport] = []
        let fileManager = FileManager.default
        for entry in entries {
            let path = entry.url.standardizedFileURL.path
            var isDirectory: ObjCBool = false
            guard fileManager.fileExists(atPath: path, isDirectory: &isDirectory) else {
                if entry.required { missing.append(PluginReport(path: path, outcome: .skipped(.pathDoesNotExist))) }
                continue
            }
            let found = isDirectory.boolValue ? Self.libraries(in: path) : [path]
            for file in found where seen.insert(URL(fileURLWithPath: file).resolvingSymlinksInPath().path).inserted {
                files.append(file)
            }
        }
        return (files, missing)
    }

    private static let libraryExtension: String = {
        #if os(macOS)
        return "dylib"
        #else
        return "so"
        #endif
    }()

    private static func libraries(in directory: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { ($0 as NSString).pathExtension == libraryExtension }.sorted()
            .map { (directory as NSString).appendingPathComponent($0) }
    }
}

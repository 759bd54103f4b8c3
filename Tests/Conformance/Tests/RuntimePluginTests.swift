import Backend
import Foundation
import Testing

/// The plugin build of `axon` (scripts/build-plugins.sh, which scripts/test.sh runs first), run
/// as a user would: backends loaded at run time from shared libraries. A missing plugin build
/// fails these tests; it is never a skip.
@Suite(.serialized) struct RuntimePluginTests {
    static let root = ConformanceBackends.root
    static let install = root.appendingPathComponent(".build/plugin-axon")
    static let pluginAxon = install.appendingPathComponent("axon")
    static let plugins = install.appendingPathComponent("plugins")
    static let countingPlugin = root.appendingPathComponent(".build/plugin-examples/libAxonCounting.so")
    static let backendModules = root.appendingPathComponent(".build/dynamic-host/release/Modules")
    static let pluginFiles = ["reference": "libAxonReference.so", "onednn": "libAxonOneDNN.so", "vulkan": "libAxonVulkan.so"]

    let workspace: URL

    init() throws {
        try #require(
            FileManager.default.isExecutableFile(atPath: Self.pluginAxon.path),
            "no plugin build at \(Self.install.path): run scripts/build-plugins.sh (scripts/test.sh does)")
        workspace = FileManager.default.temporaryDirectory.appendingPathComponent("axon-plugins-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: workspace, withIntermediateDirectories: true)
    }

    /// Runs `program` with only the plugin path given here (no user folder, no inherited path).
    func run(_ program: URL, _ arguments: [String], pluginPath: String = "") throws -> AxonCommandLine.Result {
        try AxonCommandLine.run(
            arguments, in: workspace, program: program,
            environment: ["AXON_PLUGIN_PATH": pluginPath, "XDG_DATA_HOME": workspace.path, "AXON_BACKEND": ""])
    }

    /// A copy of the plugin build in the workspace: `axon`, `libBackend.so` and the given plugins.
    func installation(plugins names: [String]) throws -> URL {
        let directory = workspace.appendingPathComponent("install")
        let manager = FileManager.default
        try manager.createDirectory(at: directory.appendingPathComponent("plugins"), withIntermediateDirectories: true)
        for file in ["axon", "libBackend.so"] {
            try manager.copyItem(at: Self.install.appendingPathComponent(file), to: directory.appendingPathComponent(file))
        }
        for name in names {
            try manager.copyItem(at: Self.plugins.appendingPathComponent(name), to: directory.appendingPathComponent("plugins/\(name)"))
        }
        return directory
    }

    @Test func backendsCommandShowsTheThreeBackendsLoadedAsPluginsFromBesideTheExecutable() throws {
        let result = try run(Self.pluginAxon, ["backends"])
        #expect(result.status == 0, "\(result.error)")
        for (name, file) in Self.pluginFiles {
            let path = Self.plugins.appendingPathComponent(file).path
            #expect(result.output.contains("\(name): starts"), "\(result.output)")
            #expect(result.output.contains("  plugin \(path) (version 1.0.0)"), "\(result.output)")
            #expect(result.output.contains("\(path): loaded backend '\(name)'"), "\(result.output)")
        }
        #expect(result.output.contains("Backend library: \(Self.install.path)/libBackend.so"), "\(result.output)")
        #expect(!result.output.contains("linked into the program"))
        #expect(result.error.isEmpty, "no plugin may be skipped: \(result.error)")
    }

    @Test func pluginsInThePerUserFolderAreLoaded() throws {
        let folder = workspace.appendingPathComponent("axon/plugins")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: Self.countingPlugin, to: folder.appendingPathComponent("libAxonCounting.so"))
        let result = try run(Self.pluginAxon, ["backends"])  // XDG_DATA_HOME is the workspace
        #expect(result.status == 0, "\(result.error)")
        #expect(result.output.contains("counting: starts — counts primitives and runs them on reference"), "\(result.output)")
        #expect(result.output.contains("\(folder.path)/libAxonCounting.so: loaded backend 'counting' (version 0.1.0)"), "\(result.output)")
    }

    @Test func pluginBuildHasNoLoadTimeDependencyOnOneDNNOrVulkan() throws {
        let ldd = URL(fileURLWithPath: "/usr/bin/ldd")
        let host = try run(ldd, [Self.pluginAxon.path])
        #expect(host.status == 0 && host.output.contains("libBackend.so"), "\(host.output)")
        #expect(!host.output.contains("libdnnl") && !host.output.contains("libvulkan"), "\(host.output)")
        // The same check sees the dependencies where they are: in the plugins.
        #expect(try run(ldd, [Self.plugins.appendingPathComponent("libAxonOneDNN.so").path]).output.contains("libdnnl"))
        #expect(try run(ldd, [Self.plugins.appendingPathComponent("libAxonVulkan.so").path]).output.contains("libvulkan"))
    }

    @Test func trainsOnReferenceWhenThePluginOfOneDNNMissesItsLibrary() throws {
        let directory = try installation(plugins: ["libAxonReference.so"])
        // The oneDNN plugin as built, except that the library it needs is one this machine lacks.
        var library = try Data(contentsOf: Self.plugins.appendingPathComponent("libAxonOneDNN.so"))
        let needed = Data("libdnnl.so.2".utf8), absent = Data("libdnnl.so.9".utf8)
        var replaced = 0
        while let range = library.range(of: needed) {
            library.replaceSubrange(range, with: absent)
            replaced += 1
        }
        try #require(replaced > 0)
        let broken = directory.appendingPathComponent("plugins/libAxonOneDNN.so")
        try library.write(to: broken)

        let result = try run(directory.appendingPathComponent("axon"), ["train", "--epochs", "1", "--verbosity", "silent"])
        #expect(result.status == 0, "\(result.error)")
        #expect(result.output.contains("backend: reference"), "\(result.output)")
        #expect(result.output.contains("held-out accuracy:"), "\(result.output)")
        #expect(
            result.error.contains("note: plugin \(broken.path): skipped: cannot be loaded: libdnnl.so.9: cannot open shared object file"),
            "\(result.error)")
    }

    @Test func outOfTreeCountingBackendPassesConformanceWhenLoadedFromAPath() throws {
        let result = try run(
            Self.pluginAxon,
            ["conformance", "--backend", "counting", "--mnist-dir", ConformanceBackends.mnist.path,
             "--cases", Self.root.appendingPathComponent("Tests/Conformance/Cases").path, "--output", workspace.path],
            pluginPath: Self.countingPlugin.path)
        #expect(result.status == 0, "\(result.output.suffix(2000)) \(result.error)")
        let report = try String(contentsOf: workspace.appendingPathComponent("conformance.md"), encoding: .utf8)
        #expect(report.contains(" cases on counting: "), "\(report.prefix(300))")
        #expect(report.contains(", 0 failed."), "\(report.prefix(300))")
    }

    @Test func brokenPluginsAreEachReportedWithTheirFileAndSkipped() throws {
        let bad = workspace.appendingPathComponent("bad")
        try FileManager.default.createDirectory(at: bad, withIntermediateDirectories: true)
        try Data("this is not a shared library\n".utf8).write(to: bad.appendingPathComponent("libGarbage.so"))
        try compileFixture("THROWS", to: bad.appendingPathComponent("libThrows.so"))
        try compileFixture("OTHER_ABI", to: bad.appendingPathComponent("libOtherABI.so"))
        try compileFixture("NO_ENTRY", to: bad.appendingPathComponent("libNoEntry.so"))
        try compileFixture("NO_BACKEND", to: bad.appendingPathComponent("libNoBackend.so"), linkingBackend: false)
        // The reference plugin under a second name: the second to load finds its name taken.
        try FileManager.default.copyItem(at: Self.plugins.appendingPathComponent("libAxonReference.so"), to: bad.appendingPathComponent("libAxonReference.so"))
        try FileManager.default.copyItem(at: Self.plugins.appendingPathComponent("libAxonReference.so"), to: bad.appendingPathComponent("libAxonReferenceCopy.so"))
        // The reference plugin as SwiftPM links it, with its own copy of Backend compiled in.
        let ownCopy = Self.root.appendingPathComponent(".build/dynamic-backends/release/libAxonReference.so")
        try FileManager.default.copyItem(at: ownCopy, to: bad.appendingPathComponent("libOwnBackend.so"))
        let missing = workspace.appendingPathComponent("no-such-folder").path
        let directory = try installation(plugins: [])

        let result = try run(directory.appendingPathComponent("axon"), ["backends"], pluginPath: "\(bad.path):\(missing)")
        #expect(result.status == 0, "\(result.error)")
        #expect(result.output.contains("reference: starts"), "\(result.output)")
        func skipped(_ file: String, _ reason: String) {
            let path = file.hasPrefix("/") ? file : bad.appendingPathComponent(file).path
            #expect(result.output.contains("\(path): skipped: \(reason)"), "\(result.output)")
            #expect(result.error.contains("note: plugin \(path): skipped: \(reason)"), "\(result.error)")
        }
        skipped(missing, "no such file or directory (named in AXON_PLUGIN_PATH)")
        skipped("libGarbage.so", "cannot be loaded: ")
        skipped("libThrows.so", "registering backend 'refuses' failed: the device driver is too old")
        skipped("libOtherABI.so", "built for plugin interface version \(BackendPlugin.abiVersion + 1), this program uses version \(BackendPlugin.abiVersion)")
        skipped("libNoEntry.so", "not a backend plugin: it has no 'axon_backend_plugin' function")
        skipped("libNoBackend.so", "not a backend plugin: it does not link the Backend library")
        skipped("libOwnBackend.so", "the plugin uses the Backend library at \(bad.appendingPathComponent("libOwnBackend.so").path), this program the one at \(directory.path)/libBackend.so; both must use one copy")
        skipped("libAxonReferenceCopy.so", "backend name 'reference' is already taken by the backend plugin \(bad.appendingPathComponent("libAxonReference.so").path)")
        #expect(result.output.contains("\(bad.appendingPathComponent("libAxonReference.so").path): loaded backend 'reference'"))
    }

    @Test func singleBinaryAxonReportsPluginsAsSkippedAndKeepsItsLinkedBackends() throws {
        let result = try run(AxonCommandLine.executable, ["backends"], pluginPath: Self.plugins.path)
        #expect(result.status == 0, "\(result.error)")
        #expect(result.output.contains("Backend library: compiled into this program"), "\(result.output)")
        for (name, file) in Self.pluginFiles {
            #expect(result.output.contains("\(name): starts"), "\(result.output)")
            #expect(result.output.contains(
                "\(Self.plugins.appendingPathComponent(file).path): skipped: this program has Backend compiled in"), "\(result.output)")
        }
        #expect(!result.output.contains("loaded backend"))
    }

    /// Compiles one variant of Fixtures/plugins/BadPlugin.swift into a shared library, against
    /// the plugin build's Backend module and libBackend.so unless `linkingBackend` is false.
    func compileFixture(_ condition: String, to output: URL, linkingBackend: Bool = true) throws {
        let source = Self.root.appendingPathComponent("Tests/Conformance/Fixtures/plugins/BadPlugin.swift")
        var arguments = ["swiftc", "-emit-library", "-module-name", "BadPlugin", "-D", condition, source.path, "-o", output.path]
        if linkingBackend {
            arguments += ["-I", Self.backendModules.path, "-L", Self.install.path, "-lBackend"]
        }
        let result = try run(URL(fileURLWithPath: "/usr/bin/env"), arguments)
        try #require(result.status == 0, "swiftc \(condition): \(result.error)")
    }
}

/// The search path on its own, in process: what is tried, in which order, and what is reported.
@Suite struct PluginSearchPathTests {
    @Test func directoriesContributeTheirLibrariesInNameOrderAndFilesAreTriedOnce() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("axon-search-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        for name in ["libB.so", "libA.so", "notes.txt", "libC.so.backup"] {
            try Data().write(to: directory.appendingPathComponent(name))
        }
        let explicit = directory.appendingPathComponent("notes.txt")
        let missingOptional = directory.appendingPathComponent("absent-standard-folder")
        let missingRequired = directory.appendingPathComponent("absent-named-folder")
        let path = PluginSearchPath(entries: [
            .init(url: explicit, required: true), .init(url: directory, required: true),
            .init(url: directory.appendingPathComponent("libA.so"), required: true),
            .init(url: missingOptional, required: false), .init(url: missingRequired, required: true),
        ])
        let registry = BackendRegistry()
        let reports = registry.loadPlugins(from: path)
        #expect(reports.map(\.path) == [missingRequired.path, explicit.path, directory.appendingPathComponent("libA.so").path, directory.appendingPathComponent("libB.so").path])
        #expect(reports.first.map { "\($0)" } == "\(missingRequired.path): skipped: no such file or directory (named in AXON_PLUGIN_PATH)")
        // This test binary has Backend compiled in, so no file is even opened.
        for report in reports.dropFirst() {
            guard case .skipped(.hostLinksBackendStatically) = report.outcome else {
                Issue.record("expected a static-host report, got \(report)")
                continue
            }
        }
        #expect(registry.pluginReports.count == reports.count)
        #expect(registry.availableNames.isEmpty)
        #expect(BackendRegistry.sharedBackendLibrary == nil)
    }
}

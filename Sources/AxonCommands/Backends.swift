import ArgumentParser
import Backend
import Distributed

/// `axon backends`: each registered backend, where it comes from (linked in, or a plugin and its
/// file), the device it uses and whether it starts; then every plugin file found and why any
/// was skipped.
struct Backends: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the backends, where each comes from and whether it starts, and the plugins found.",
        discussion: """
            Examples:
              axon backends
              AXON_PLUGIN_PATH=.build/plugin-axon/plugins axon backends
            """)

    func run() throws {
        let registry = BackendRegistry.shared
        for descriptor in registry.descriptorsByPriority {
            let name = descriptor.name
            do {
                let backend = try registry.backend(named: name)
                print("\(name): starts — \(backend.deviceDescription)")
            } catch {
                print("\(name): does not start — \(error)")
            }
            print("  \(descriptor.summary)")
            if let origin = registry.origin(of: name) { print("  \(origin)") }
            for option in descriptor.options {
                print("  option \(name).\(option.name): \(option.help)")
            }
        }
        if let chosen = try? registry.backend(named: "auto") {
            print("auto selects: \(chosen.name)")
        } else {
            print("auto selects: nothing, no backend starts")
        }
        print("Backend library: \(BackendRegistry.sharedBackendLibrary ?? "compiled into this program (plugins cannot be loaded)")")
        let reports = registry.pluginReports
        print(reports.isEmpty ? "plugins: none found (\(PluginSearchPath.environmentVariable), plugins/ beside the executable, ~/.local/share/axon/plugins)" : "plugins:")
        for report in reports { print("  \(report)") }
        print("MPI: \(MPICommunicator.libraryVersion)")
        if MPICommunicator.isLaunched {
            let world = try MPICommunicator.world()
            print("  world: \(world.size) processes, this one rank \(world.rank)")
        } else {
            print("  not started by an MPI launcher (mpirun -np N axon train --distributed trains on N processes)")
        }
    }
}

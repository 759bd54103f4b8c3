import ArgumentParser
import AxonBackends
import Backend

/// `axon backends`: what is compiled in, the device each uses, and whether it starts.
struct Backends: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the available backends and whether each starts.")

    func run() throws {
        LinkedBackends.register()
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
            for option in descriptor.options {
                print("  option \(name).\(option.name): \(option.help)")
            }
        }
        if let chosen = try? registry.backend(named: "auto") {
            print("auto selects: \(chosen.name)")
        }
    }
}

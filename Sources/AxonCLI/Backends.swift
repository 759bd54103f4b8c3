import ArgumentParser
import Backend

/// `axon backends`: what is compiled in, the device each uses, and whether it starts.
struct Backends: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the available backends and whether each starts.")

    func run() throws {
        registerLinkedBackends()
        let registry = BackendRegistry.shared
        for name in registry.availableNames {
            do {
                let backend = try registry.backend(named: name)
                print("\(name): starts — \(backend.deviceDescription)")
            } catch {
                print("\(name): does not start — \(error)")
            }
        }
        if let chosen = try? registry.backend(named: "auto") {
            print("auto selects: \(chosen.name)")
        }
    }
}

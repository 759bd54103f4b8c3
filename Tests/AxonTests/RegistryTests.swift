import AxonCore
import Backend
import CPUReference
import Testing

@Suite("Backend registry")
struct RegistryTests {
    @Test("asking for an unknown backend lists the available ones")
    func unknownBackend() {
        let registry = BackendRegistry()
        ReferenceBackend.register(in: registry)
        let message = errorMessage { _ = try registry.backend(named: "cuda") }
        #expect(message == "unknown backend 'cuda'; available backends: reference")
    }

    @Test("backends are created once and shared")
    func sharedInstance() throws {
        let registry = BackendRegistry()
        ReferenceBackend.register(in: registry)
        #expect(try registry.backend(named: "reference") === registry.backend(named: "reference"))
        #expect(try registry.resolve("reference").name == "reference")
    }

    @Test("auto picks the highest-priority backend that starts and skips failing ones")
    func automatic() throws {
        let registry = BackendRegistry()
        ReferenceBackend.register(in: registry)
        registry.register(name: "broken", priority: 100) {
            throw BackendError.unavailable(backend: "broken", reason: "no device")
        }
        #expect(registry.availableNames == ["broken", "reference"])
        #expect(try registry.backend(named: "auto").name == "reference")
        let message = errorMessage { _ = try registry.backend(named: "broken") }
        #expect(message == "backend 'broken' is not available: no device")
    }

    @Test("auto with nothing that starts explains why")
    func nothingStarts() {
        let registry = BackendRegistry()
        registry.register(name: "broken", priority: 1) { throw BackendError.unavailable(backend: "broken", reason: "no device") }
        let message = errorMessage { _ = try registry.backend(named: "auto") }
        #expect(message?.contains("none started (broken: backend 'broken' is not available: no device)") == true)
    }

    @Test("buffers from another backend are rejected")
    func foreignBuffers() throws {
        final class OtherStorage: BufferStorage {}
        let foreign = Buffer(storage: OtherStorage(), shape: [1], dtype: .float32)
        let message = errorMessage { _ = try ReferenceBackend().unary(.exp, foreign) }
        #expect(message == "unary: the buffer belongs to another backend (expected a host-memory buffer)")
    }
}

// Broken backend plugins for RuntimePluginTests, one per compilation condition. Each must be
// reported with its file and skipped; none may stop the program.
//   THROWS      a well-formed plugin whose registration throws
//   OTHER_ABI   a descriptor for another plugin interface version
//   NO_ENTRY    a library that links Backend but has no entry point
//   NO_BACKEND  an entry point in a library that does not link Backend (built without it)
#if THROWS || OTHER_ABI || NO_ENTRY
import Backend
#endif

#if THROWS
struct DriverTooOld: Error, CustomStringConvertible {
    var description: String { "the device driver is too old" }
}

@_cdecl("axon_backend_plugin")
public func axonBackendPlugin() -> UnsafeRawPointer {
    BackendPlugin.export(name: "refuses", version: "0.0.1") {
        BackendPlugin.retained { throw DriverTooOld() }
    }
}
#elseif OTHER_ABI
@_cdecl("axon_backend_plugin")
public func axonBackendPlugin() -> UnsafeRawPointer {
    let descriptor = UnsafeMutableRawPointer.allocate(byteCount: 32, alignment: 8)
    descriptor.initializeMemory(as: UInt8.self, repeating: 0, count: 32)
    descriptor.storeBytes(of: BackendPlugin.abiVersion + 1, as: UInt32.self)
    return UnsafeRawPointer(descriptor)
}
#elseif NO_ENTRY
public func pluginType() -> BackendPlugin.Type { BackendPlugin.self }
#elseif NO_BACKEND
@_cdecl("axon_backend_plugin")
public func axonBackendPlugin() -> UnsafeRawPointer? { nil }
#endif

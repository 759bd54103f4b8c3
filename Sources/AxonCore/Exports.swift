// `import Axon` also brings in the shared value types (Shape, DType, Philox, BackendRegistry,
// ...) that the library's API is written in.
@_exported import Backend

import Backend

extension Plan {
    /// `calls` with each cast that narrows a value folded into the call computing it, when that
    /// call can write the narrower dtype itself (``Trace/Call/narrowed``), the cast is the value's
    /// only reader, both run on one backend, and the value is not a result: a float32 batch norm
    /// whose output the next layer reads in bfloat16 then writes bfloat16, saving the float32
    /// output's pass and the cast's. The call rounds as the cast would, so the bits are the same.
    static func foldingNarrowingCasts(_ calls: [Trace.Call], results: Set<Int>) -> [Trace.Call] {
        var readers: [Int: Int] = [:]
        var producers: [Int: Int] = [:]  // a first output's slot → the call computing it
        for (index, call) in calls.enumerated() {
            for slot in Set(call.inputs.map(\.slot)) { readers[slot, default: 0] += 1 }
            if let first = call.outputs.first { producers[first.slot] = index }
        }
        var folded = calls
        var dropped = Set<Int>()
        for (index, cast) in calls.enumerated() {
            guard case let .cast(dtype)? = cast.elementwise, let value = cast.inputs.first, let output = cast.outputs.first,
                dtype.byteSize < value.dtype.byteSize, readers[value.slot] == 1, !results.contains(value.slot),
                let source = producers[value.slot], let narrowed = calls[source].narrowed,
                calls[source].backend.isSameBackend(as: cast.backend)
            else { continue }
            let call = calls[source]
            folded[source] = Trace.Call(
                operation: "\(call.operation) writing \(dtype)", backend: call.backend, inputs: call.inputs,
                outputs: [output] + call.outputs.dropFirst(), key: call.key, settings: call.settings, elementwise: nil, run: narrowed(dtype))
            dropped.insert(index)
        }
        return folded.indices.filter { !dropped.contains($0) }.map { folded[$0] }
    }
}

#if OneDNN
import Backend
import CDNNL

extension OneDNNBackend {
    /// Float32 concatenation through oneDNN's concat primitive; other dtypes on the fallback.
    public func concatenate(_ xs: [Buffer], axis: Int) throws -> Buffer {
        let (outShape, resolved) = try ShapeRules.concatenate(xs.map(\.shape), axis: axis)
        guard xs.count > 1, outShape.rank >= 1, Self.supports(xs) else { return try fallback.concatenate(xs, axis: axis) }
        let sources = try xs.map { try Self.plain($0.shape) }
        let destination = try Self.plain(outShape)
        let primitive = try cache.primitive("concat", xs.map(\.shape), resolved) {
            var (d, s) = (destination, sources)
            var descriptor: dnnl_primitive_desc_t?
            let attributes = try DNNL.userScratchpad(nil)
            defer { dnnl_primitive_attr_destroy(attributes) }
            try DNNL.check(dnnl_concat_primitive_desc_create(&descriptor, &d, Int32(s.count), Int32(resolved), &s, attributes, engine), "concat descriptor")
            guard let descriptor else { throw BackendError.deviceFailure(backend: "onednn", reason: "no concat descriptor") }
            return try Primitive(descriptor: descriptor)
        }
        let (output, pointer) = try allocate(outShape)
        var arguments = try xs.enumerated().map { index, x in (DNNL_ARG_MULTIPLE_SRC + Int32(index), try address(x, "concatenate"), sources[index]) }
        arguments.append((DNNL_ARG_DST, pointer, destination))
        try execute(primitive, arguments)
        return output
    }
}
#endif

#if OneDNN
import CDNNL
import Dispatch

/// A square matmul through the oneDNN C API directly (primitive and memories made once, on
/// oneDNN's own OpenMP threads), the yardstick for the same product through the `Backend` protocol.
enum DirectOneDNN {
    /// Median seconds of one `size`³ product on `threads` OpenMP threads, or `nil` if oneDNN refused.
    static func matmulSeconds(size: Int, threads: Int, repeats: Int) -> Double? {
        // OpenMP's thread count is per thread; the backend keeps this one's at one.
        let previous = omp_get_max_threads()
        omp_set_num_threads(Int32(threads))
        defer { omp_set_num_threads(previous) }
        var engine: dnnl_engine_t?, stream: dnnl_stream_t?
        guard dnnl_engine_create(&engine, dnnl_cpu, 0) == dnnl_success,
            dnnl_stream_create(&stream, engine, dnnl_stream_default_flags.rawValue) == dnnl_success
        else { return nil }
        defer {
            dnnl_stream_destroy(stream)
            dnnl_engine_destroy(engine)
        }
        var dims = [dnnl_dim_t](repeating: 0, count: 12)
        dims[0] = dnnl_dim_t(size)
        dims[1] = dnnl_dim_t(size)
        var md = dnnl_memory_desc_t()
        guard dnnl_memory_desc_init_by_tag(&md, 2, dims, dnnl_f32, dnnl_ab) == dnnl_success else { return nil }
        var (a, b, c) = (md, md, md)
        var descriptor = dnnl_matmul_desc_t()
        guard dnnl_matmul_desc_init(&descriptor, &a, &b, nil, &c) == dnnl_success else { return nil }
        var pd: dnnl_primitive_desc_t?
        guard dnnl_primitive_desc_create(&pd, &descriptor, nil, engine, nil) == dnnl_success else { return nil }
        defer { dnnl_primitive_desc_destroy(pd) }
        var primitive: dnnl_primitive_t?
        guard dnnl_primitive_create(&primitive, pd) == dnnl_success else { return nil }
        defer { dnnl_primitive_destroy(primitive) }
        let buffers = (0..<3).map { _ in UnsafeMutablePointer<Float>.allocate(capacity: size * size) }
        defer { for buffer in buffers { buffer.deallocate() } }
        for buffer in buffers { buffer.initialize(repeating: 0.5, count: size * size) }
        var memories: [dnnl_memory_t?] = []
        for buffer in buffers {
            var memory: dnnl_memory_t?
            guard dnnl_memory_create(&memory, &md, engine, buffer) == dnnl_success else { return nil }
            memories.append(memory)
        }
        defer { for memory in memories { dnnl_memory_destroy(memory) } }
        let arguments = [
            dnnl_exec_arg_t(arg: DNNL_ARG_SRC, memory: memories[0]), dnnl_exec_arg_t(arg: DNNL_ARG_WEIGHTS, memory: memories[1]),
            dnnl_exec_arg_t(arg: DNNL_ARG_DST, memory: memories[2]),
        ]
        var times: [Double] = []
        for run in 0...repeats {
            let start = DispatchTime.now().uptimeNanoseconds
            dnnl_primitive_execute(primitive, stream, 3, arguments)
            dnnl_stream_wait(stream)
            if run > 0 { times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9) }
        }
        return times.sorted()[times.count / 2]
    }
}
#endif

#if Vulkan
import Backend

/// A `[rows, length]` view of a buffer in which each row gathers the elements of some axes
/// (in their order) and rows run over the other axes, both through strides, so reductions read
/// their input in place (see Shaders/rowview.glsl). Axes of size 1 are dropped and neighbours
/// that are contiguous in memory merge; each side may keep at most four axes.
struct RowView {
    static let maximumRank = 4

    let rows: Int
    let length: Int
    private let rowAxes: [(size: Int, stride: Int)]
    private let elementAxes: [(size: Int, stride: Int)]

    /// The view of a dense buffer of `shape` whose rows hold the elements of `axes`, or `nil`
    /// when a side needs more than four merged axes.
    init?(_ shape: Shape, rowsOver axes: [Int]) {
        let strides = shape.strides
        let kept = (0..<shape.rank).filter { !axes.contains($0) }
        rowAxes = Self.merged(kept, shape, strides)
        elementAxes = Self.merged(axes, shape, strides)
        guard rowAxes.count <= Self.maximumRank, elementAxes.count <= Self.maximumRank else { return nil }
        rows = kept.reduce(1) { $0 * shape[$1] }
        length = axes.reduce(1) { $0 * shape[$1] }
    }

    /// The push constants of rowview.glsl, with each row split into `chunks` runs.
    func push(scalar: Float = 0, chunks: Int = 1) -> [UInt32] {
        func words(_ axes: [(size: Int, stride: Int)]) -> [UInt32] {
            let pad = Self.maximumRank - axes.count
            return [UInt32(axes.count)] + (axes.map { UInt32($0.size) } + [UInt32](repeating: 1, count: pad))
                + (axes.map { UInt32($0.stride) } + [UInt32](repeating: 0, count: pad))
        }
        let chunkLength = (length + chunks - 1) / Swift.max(chunks, 1)
        return [UInt32(rows * chunks), UInt32(length), scalar.bitPattern] + words(rowAxes) + words(elementAxes)
            + [UInt32(chunks), UInt32(Swift.max(chunkLength, 1))]
    }

    /// The axes with their sizes and strides, merged as a one-operand ``StridedLayout`` merges them.
    private static func merged(_ axes: [Int], _ shape: Shape, _ strides: [Int]) -> [(size: Int, stride: Int)] {
        let layout = StridedLayout(Shape(axes.map { shape[$0] }), strides: [axes.map { strides[$0] }])
        return zip(layout.dimensions, layout.strides[0]).map { (size: $0, stride: $1) }
    }
}
#endif

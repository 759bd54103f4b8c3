import Backend

/// A tensor written inline in a recorded case file: `{"shape": [...], "dtype": "float32" or
/// "int32" (default float32), "values": [...]}`, checked against its shape when it is made.
struct RecordedTensor: Decodable {
    let shape: [Int]
    let dtype: String?
    let values: [Double]

    func array(_ context: String) throws -> HostArray {
        do {
            switch dtype ?? "float32" {
            case "float32": return try HostArray(shape: Shape(shape), elements: .float32(values.map { Float($0) }))
            case "int32":
                let integers = try values.map { value -> Int32 in
                    guard let integer = Int32(exactly: value) else { throw ConformanceError("\(value) is not an int32") }
                    return integer
                }
                return try HostArray(shape: Shape(shape), elements: .int32(integers))
            default: throw ConformanceError("dtype must be float32 or int32, got \(dtype ?? "")")
            }
        } catch {
            throw ConformanceError("\(context): \(error)")
        }
    }
}

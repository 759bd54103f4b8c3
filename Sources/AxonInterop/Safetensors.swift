import AxonCore
import AxonData
import Foundation

/// The safetensors format of Hugging Face: an 8-byte little-endian header length, a JSON header
/// naming each tensor's dtype, shape and byte range (plus free-form `__metadata__` strings),
/// then the tensors' little-endian bytes back to back.
///
/// Reading validates the header strictly before it reads a tensor: the header fits in the file
/// and is at most 100 MB, names are unique, every range lies inside the data, ranges neither
/// overlap nor leave holes, and each range is exactly shape × dtype bytes. Float16, bfloat16
/// and float64 tensors are read as float32; 8-, 16- and 64-bit integers as int32 or uint32
/// when every value fits. Writing produces float32, int32, uint32 and bool tensors.
///
/// ```swift
/// try Safetensors.write(["w": array], metadata: ["format": "pt"], to: URL(fileURLWithPath: "w.safetensors"))
/// let file = try Safetensors.read(URL(fileURLWithPath: "w.safetensors"))
/// print(file.tensors["w"]!.shape, file.metadata)
/// ```
public enum Safetensors {
    /// The tensors of a file by name, and its metadata.
    public struct Contents: Sendable {
        /// The tensors by name.
        public var tensors: [String: HostArray]
        /// The file's `__metadata__` strings.
        public var metadata: [String: String]

        /// Contents of `tensors` and `metadata`.
        public init(tensors: [String: HostArray], metadata: [String: String] = [:]) {
            (self.tensors, self.metadata) = (tensors, metadata)
        }
    }

    /// The largest header read, as in the reference implementation.
    public static let maximumHeaderLength = 100_000_000

    /// Writes `tensors` and `metadata` to `url`, atomically.
    public static func write(_ tensors: [String: HostArray], metadata: [String: String] = [:], to url: URL) throws {
        try FileAccess.writeAtomically(try encode(tensors, metadata: metadata), to: url)
    }

    /// The tensors and metadata in the file at `url`.
    public static func read(_ url: URL) throws -> Contents {
        try decode(try FileAccess.read(url), path: url.path)
    }

    /// The bytes of a safetensors file holding `tensors` (in name order) and `metadata`.
    public static func encode(_ tensors: [String: HostArray], metadata: [String: String] = [:]) throws -> Data {
        guard tensors["__metadata__"] == nil else {
            throw AxonError.invalidValue(operation: "Safetensors.encode", reason: "'__metadata__' is reserved and cannot name a tensor")
        }
        var header: [String: Any] = [:]
        var payload = Data()
        for (name, array) in tensors.sorted(by: { $0.key < $1.key }) {
            let bytes = array.littleEndianBytes
            header[name] = ["dtype": dtypeName(array.dtype), "shape": array.shape.dimensions, "data_offsets": [payload.count, payload.count + bytes.count]]
            payload.append(bytes)
        }
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var headerBytes = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys, .withoutEscapingSlashes])
        // Pad with spaces so the data starts 8-byte aligned, as the reference writer does.
        headerBytes.append(contentsOf: [UInt8](repeating: 0x20, count: (8 - headerBytes.count % 8) % 8))
        var file = Data()
        file.append(littleEndian: UInt64(headerBytes.count))
        file.append(headerBytes)
        file.append(payload)
        return file
    }

    /// The tensors and metadata in the bytes of a safetensors file; `path` names it in errors.
    public static func decode(_ data: Data, path: String) throws -> Contents {
        func refuse(_ reason: String) -> AxonError { AxonError.file(path: path, reason: "is not a valid safetensors file: \(reason)") }
        guard data.count >= 8 else { throw refuse("it is \(data.count) bytes long, shorter than the 8-byte header length") }
        let claimed = data.prefix(8).reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        guard claimed <= UInt64(data.count - 8) else {
            throw refuse("its header claims \(claimed) bytes but only \(data.count - 8) follow")
        }
        guard claimed <= UInt64(maximumHeaderLength) else {
            throw refuse("its header claims \(claimed) bytes, more than the \(maximumHeaderLength) allowed")
        }
        let headerEnd = data.startIndex + 8 + Int(claimed)
        let header: StrictJSON
        do {
            header = try StrictJSON.parse(data[(data.startIndex + 8)..<headerEnd])
        } catch {
            throw refuse("its header is not valid JSON: \(error.reason)")
        }
        guard let members = header.objectMembers else { throw refuse("its header is not a JSON object") }
        let body = data[headerEnd...]

        var metadata: [String: String] = [:]
        var layout: [(name: String, dtype: ForeignElements, shape: [Int], range: Range<Int>)] = []
        for (name, entry) in members {
            if name == "__metadata__" {
                guard let pairs = entry.objectMembers else { throw refuse("'__metadata__' is not an object of strings") }
                for (key, value) in pairs {
                    guard let text = value.stringValue else { throw refuse("metadata '\(key)' is not a string") }
                    metadata[key] = text
                }
                continue
            }
            guard let fields = entry.objectMembers, Set(fields.map(\.key)) == ["dtype", "shape", "data_offsets"],
                let dtypeName = entry["dtype"]?.stringValue, let shapeValues = entry["shape"]?.arrayElements,
                let offsets = entry["data_offsets"]?.arrayElements?.compactMap(\.integerValue), offsets.count == 2
            else {
                throw refuse("tensor '\(name)' must have exactly 'dtype' (a string), 'shape' (integers) and 'data_offsets' (two integers)")
            }
            guard let dtype = dtypes[dtypeName] else {
                throw refuse("tensor '\(name)' has dtype '\(dtypeName)'; this library reads \(dtypes.keys.sorted().joined(separator: ", "))")
            }
            let shape = shapeValues.compactMap(\.integerValue)
            guard shape.count == shapeValues.count, shape.allSatisfy({ $0 >= 0 }) else {
                throw refuse("tensor '\(name)' has shape \(shapeValues.map { "\($0)" }), not a list of non-negative integers")
            }
            let (begin, end) = (offsets[0], offsets[1])
            guard begin >= 0, begin <= end, end <= body.count else {
                throw refuse("tensor '\(name)' has data offsets [\(begin), \(end)] outside the \(body.count) bytes of data")
            }
            guard let count = Shape(shape).checkedElementCount, case let (bytes, overflow) = count.multipliedReportingOverflow(by: dtype.size),
                !overflow, bytes == end - begin
            else {
                throw refuse("tensor '\(name)' of shape \(shape) and dtype \(dtypeName) needs \(Shape(shape).checkedElementCount.map { "\($0 * dtype.size)" } ?? "too many") bytes but its offsets span \(end - begin)")
            }
            layout.append((name, dtype, shape, begin..<end))
        }
        // The ranges, in order, must tile the data exactly: no overlap, no hole, nothing after.
        var covered = 0
        for entry in layout.sorted(by: { ($0.range.lowerBound, $0.range.upperBound) < ($1.range.lowerBound, $1.range.upperBound) }) {
            guard entry.range.lowerBound == covered else {
                throw refuse(entry.range.lowerBound < covered
                    ? "tensor '\(entry.name)' (bytes \(entry.range.lowerBound)..<\(entry.range.upperBound)) overlaps the tensor before it"
                    : "bytes \(covered)..<\(entry.range.lowerBound) of the data belong to no tensor")
            }
            covered = entry.range.upperBound
        }
        guard covered == body.count else { throw refuse("bytes \(covered)..<\(body.count) of the data belong to no tensor") }

        var tensors: [String: HostArray] = [:]
        for entry in layout {
            let start = body.startIndex + entry.range.lowerBound
            let bytes = body[start..<(start + entry.range.count)]
            let count = entry.range.count / entry.dtype.size
            do {
                tensors[entry.name] = try HostArray(shape: Shape(entry.shape), elements: try entry.dtype.decode(bytes, count: count))
            } catch let problem as FormatProblem {
                throw refuse("tensor '\(entry.name)': \(problem.reason)")
            }
        }
        return Contents(tensors: tensors, metadata: metadata)
    }

    static func dtypeName(_ dtype: DType) -> String {
        switch dtype {
        case .float32: return "F32"
        case .bfloat16: return "BF16"
        case .int32: return "I32"
        case .uint32: return "U32"
        case .bool: return "BOOL"
        }
    }

    /// The dtypes read, by safetensors' names.
    static let dtypes: [String: ForeignElements] = [
        "F16": ForeignElements(kind: .float, size: 2), "BF16": ForeignElements(kind: .bfloat16, size: 2),
        "F32": ForeignElements(kind: .float, size: 4), "F64": ForeignElements(kind: .float, size: 8),
        "I8": ForeignElements(kind: .signed, size: 1), "I16": ForeignElements(kind: .signed, size: 2),
        "I32": ForeignElements(kind: .signed, size: 4), "I64": ForeignElements(kind: .signed, size: 8),
        "U8": ForeignElements(kind: .unsigned, size: 1), "U16": ForeignElements(kind: .unsigned, size: 2),
        "U32": ForeignElements(kind: .unsigned, size: 4), "U64": ForeignElements(kind: .unsigned, size: 8),
        "BOOL": ForeignElements(kind: .bool, size: 1),
    ]
}

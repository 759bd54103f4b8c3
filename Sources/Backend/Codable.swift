/// Encodings of the shared value types, for saved models: a dtype as its name, a shape as its
/// list of dimensions, a host array as its shape, dtype and elements (checked against each
/// other when decoded; `bfloat16` elements as their 16-bit patterns, so nothing rounds).
extension DType: Codable {}

extension Shape: Codable {
    public init(from decoder: any Decoder) throws {
        self.init(try decoder.singleValueContainer().decode([Int].self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(dimensions)
    }
}

extension HostArray: Codable {
    private enum CodingKeys: String, CodingKey { case shape, dtype, values }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let shape = try container.decode(Shape.self, forKey: .shape)
        let elements: HostElements
        switch try container.decode(DType.self, forKey: .dtype) {
        case .float32: elements = .float32(try container.decode([Float].self, forKey: .values))
        case .bfloat16: elements = .bfloat16(try container.decode([UInt16].self, forKey: .values).map(BFloat16.init(bitPattern:)))
        case .int32: elements = .int32(try container.decode([Int32].self, forKey: .values))
        case .uint32: elements = .uint32(try container.decode([UInt32].self, forKey: .values))
        case .bool: elements = .bool(try container.decode([Bool].self, forKey: .values))
        }
        do {
            try self.init(shape: shape, elements: elements)
        } catch {
            throw DecodingError.dataCorruptedError(forKey: .values, in: container, debugDescription: "\(error)")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(shape, forKey: .shape)
        try container.encode(dtype, forKey: .dtype)
        switch elements {
        case let .float32(values): try container.encode(values, forKey: .values)
        case let .bfloat16(values): try container.encode(values.map(\.bitPattern), forKey: .values)
        case let .int32(values): try container.encode(values, forKey: .values)
        case let .uint32(values): try container.encode(values, forKey: .values)
        case let .bool(values): try container.encode(values, forKey: .values)
        }
    }
}

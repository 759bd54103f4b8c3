import Backend
import Foundation

/// What a data-parallel trainer does besides the single-process step: agree on one model,
/// start every rank from rank 0's state, and average gradients and model state.
extension DataParallel {
    /// `state` after checking that every rank trains the same model, with rank 0's values.
    func synchronized(_ state: StepState) throws -> StepState {
        let backend = state.model.parameters.names.first.flatMap { state.model.parameters[$0]?.backend.name } ?? "none"
        try checkAgreement(state, backend: backend)
        return try broadcastFromRankZero(state)
    }

    /// One step's examples, loss sum and metric statistics summed over the ranks, so that every
    /// rank logs the global batch's values.
    func aggregated(examples: Double, lossSum: Double?, statistics: [[Double]]) throws -> (Double, Double?, [[Double]]) {
        let flat = try summed([examples] + (lossSum.map { [$0] } ?? []) + statistics.flatMap { $0 })
        var offset = lossSum == nil ? 1 : 2
        let split = statistics.map { part in
            defer { offset += part.count }
            return Array(flat[offset..<(offset + part.count)])
        }
        return (flat[0], lossSum == nil ? nil : flat[1], split)
    }

    /// Throws, naming the rank and what differs, unless every rank trains a model with the same
    /// parameter names, shapes and dtypes on the same backend with the same ``settings``: a
    /// mismatch would otherwise surface as a hang or a silent mix of two models.
    func checkAgreement(_ state: StepState, backend: String) throws {
        let layout = Self.layout(state)
        let fields: [(String, String)] = [
            ("backend", backend), ("configuration", settings),
            ("batch statistics", synchronizesBatchStatistics ? "global batch" : "each rank's part"),
            ("tensor count", "\(layout.count)"), ("element count", "\(layout.map(\.elements).reduce(0, +))"),
            ("tensor layout (a checksum of names, shapes and dtypes)", "\(Self.checksum(layout.map(\.text).joined(separator: ";")))"),
        ]
        let gathered = try collective.allGather(Self.fixed(fields.map(\.1).joined(separator: "\u{1}")))
        let mine = Self.text(gathered[0]).components(separatedBy: "\u{1}")
        for (rank, bytes) in gathered.enumerated().dropFirst() {
            let theirs = Self.text(bytes).components(separatedBy: "\u{1}")
            for (index, field) in fields.enumerated() where mine.indices.contains(index) && mine[index] != theirs.dropFirst(index).first {
                let (zero, other) = Self.difference(mine[index], theirs.dropFirst(index).first ?? "")
                throw AxonError.invalidValue(
                    operation: "data-parallel training",
                    reason: "rank \(rank) does not train rank 0's model: its \(field.0) differs ('\(zero)' on rank 0, '\(other)' on rank \(rank))")
            }
        }
    }

    /// Rank 0's parameters, model state and optimizer tensors, on every rank.
    func broadcastFromRankZero(_ state: StepState) throws -> StepState {
        var result = state
        result.model.parameters = try broadcast(state.model.parameters)
        result.model.state = try broadcast(state.model.state)
        result.optimizer.tensors = try broadcast(state.optimizer.tensors)
        return result
    }

    /// Sums of per-step statistics (loss and metric totals) over the ranks.
    func summed(_ values: [Double]) throws -> [Double] {
        var values = values
        try collective.allReduceSum(&values)
        return values
    }

    private func broadcast(_ store: ParameterStore) throws -> ParameterStore {
        var result = ParameterStore()
        for name in store.names {
            let tensor = try store.tensor(name)
            let host = try tensor.array
            var bytes = [UInt8](host.littleEndianBytes)
            try collective.broadcast(&bytes, from: 0)
            let array = try HostArray(littleEndian: bytes, dtype: tensor.dtype, shape: tensor.shape, label: "rank 0's \(name)")
            result[name] = try Tensor(array, on: tensor.backend)
        }
        return result
    }

    private static func layout(_ state: StepState) -> [(text: String, elements: Int)] {
        [("parameter", state.model.parameters), ("state", state.model.state), ("optimizer", state.optimizer.tensors)].flatMap { kind, store in
            store.names.compactMap { name in
                store[name].map { ("\(kind) \(name) \($0.dtype) \($0.shape)", $0.shape.elementCount) }
            }
        }
    }

    /// The words of two space-separated lists that the other lacks (the whole texts when they
    /// share no word or differ only in order).
    private static func difference(_ a: String, _ b: String) -> (String, String) {
        let (x, y) = (a.split(separator: " "), b.split(separator: " "))
        let (onlyX, onlyY) = (x.filter { !y.contains($0) }, y.filter { !x.contains($0) })
        return onlyX.isEmpty && onlyY.isEmpty || onlyX.count == x.count ? (a, b) : (onlyX.joined(separator: " "), onlyY.joined(separator: " "))
    }

    private static func checksum(_ text: String) -> UInt32 {
        var crc = CRC32()
        crc.update(Data(text.utf8))
        return crc.value
    }

    /// `text` in a fixed 2,048-byte field (every rank gathers the same count).
    private static func fixed(_ text: String) -> [UInt8] {
        let bytes = Array(text.utf8.prefix(2_048))
        return bytes + [UInt8](repeating: 0, count: 2_048 - bytes.count)
    }

    private static func text(_ bytes: [UInt8]) -> String {
        String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
    }
}

#if Vulkan
import Backend
import CVulkan

/// Command buffers kept from a ``CommandStream/record(_:)``, with their descriptor sets, push
/// constants and every buffer they bind, ready to be submitted again.
final class RecordedCommands: @unchecked Sendable {
    let stream: CommandStream
    let batches: [CommandStream.Batch]
    /// Signalled when a run of the batches finishes (the last batch's fence).
    var fence: VkFence? { batches.last?.fence }
    /// Whether a run was submitted and not yet waited for (guarded by the stream's lock).
    var pending = false

    init(stream: CommandStream, batches: [CommandStream.Batch]) {
        self.stream = stream
        self.batches = batches
    }

    deinit { stream.release(batches) }
}

/// A ``RecordedWork`` on Vulkan: the inputs are copied into buffers the recorded commands
/// read, the command buffers are submitted as they were recorded, and the outputs they write
/// are handed back, copied where the caller keeps them.
final class VulkanRecordedWork: RecordedWork, @unchecked Sendable {
    private let backend: VulkanBackend
    private let cells: [Buffer]
    private let outputs: [Buffer]
    private let commands: RecordedCommands

    init(backend: VulkanBackend, cells: [Buffer], outputs: [Buffer], commands: RecordedCommands) {
        self.backend = backend
        self.cells = cells
        self.outputs = outputs
        self.commands = commands
    }

    func run(_ inputs: [Buffer], keeping: [Bool]) throws -> [Buffer] {
        guard inputs.count == cells.count, zip(inputs, cells).allSatisfy({ $0.shape == $1.shape && $0.dtype == $1.dtype }) else {
            throw BackendError.shapeMismatch(
                operation: "recorded work",
                reason: "recorded for inputs \(cells.map { "\($0.dtype) \($0.shape)" }), given \(inputs.map { "\($0.dtype) \($0.shape)" })")
        }
        guard keeping.count == outputs.count else {
            throw BackendError.invalidArgument(operation: "recorded work", reason: "has \(outputs.count) outputs, told whether to keep \(keeping.count)")
        }
        for (input, cell) in zip(inputs, cells) { try backend.copy(input, into: cell) }
        try backend.stream.submit(commands)
        return try zip(outputs, keeping).map { output, keep in
            guard keep else { return output }
            let copy = try backend.makeBuffer(output.shape, output.dtype)
            try backend.copy(output, into: copy)
            return copy
        }
    }
}

extension VulkanBackend {
    /// Records `body`'s dispatches into command buffers of their own, which
    /// `RecordedWork.run(_:keeping:)` submits again without recording them.
    public func recordWork(inputs: [Buffer], _ body: ([Buffer]) throws -> [Buffer]) throws -> (any RecordedWork)? {
        let cells = try inputs.map { try makeBuffer($0.shape, $0.dtype) }
        let (outputs, commands) = try stream.record { try body(cells) }
        for output in outputs where !owns(output) {
            throw BackendError.foreignBuffer(operation: "recorded work", expected: name)
        }
        return VulkanRecordedWork(backend: self, cells: cells, outputs: outputs, commands: commands)
    }

    /// Copies every element of `source` into `target`, of the same shape and dtype.
    func copy(_ source: Buffer, into target: Buffer) throws {
        let words = source.dtype.words(source.shape.elementCount)
        guard words > 0 else { return }
        try stream.copy(storage(source, "copy"), to: storage(target, "copy"), bytes: words * 4)
    }
}
#endif

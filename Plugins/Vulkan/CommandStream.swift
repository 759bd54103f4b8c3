#if Vulkan
import Backend
import CVulkan
import Foundation

/// Records dispatches and copies into command buffers and submits them at sync points.
///
/// Work is recorded into the current batch (a command buffer, a fence, a descriptor pool and
/// the buffers it uses) until a download or an explicit synchronisation needs the results, or
/// the batch holds `pendingLimit` commands; then it is submitted. A batch keeps every buffer it
/// binds alive until its fence has signalled, so memory is never reused under running work.
///
/// Barriers: each buffer remembers the barrier epochs in which a command last wrote and last
/// read it. A command that touches a buffer written in the current epoch, or writes one read in
/// it, is preceded by one memory barrier, which starts a new epoch; independent commands run
/// without barriers between them.
/// Each batch starts with a barrier, which orders it after the batches submitted before it.
///
/// ``record(_:)`` keeps the batches its body fills instead of submitting them, as a
/// ``RecordedCommands`` that ``submit(_:)`` sends to the queue again on every run.
final class CommandStream: @unchecked Sendable {
    private let owner: VulkanDevice
    private let commandPool: VkCommandPool
    private let lock = NSLock()
    /// Held by a thread for the whole of a recording, so no other thread's work joins it.
    private let exclusive = NSRecursiveLock()
    private var recording: Batch?
    /// The finished batches of the recording under way, if one is.
    private var captured: [Batch]?
    /// Recordings submitted and not yet waited for.
    private var submittedRecordings: [RecordedCommands] = []
    /// Batches of freed recordings, to recycle (guarded by `retiredLock`, which is taken alone).
    private var retired: [Batch] = []
    private let retiredLock = NSLock()
    private var inFlight: [Batch] = []
    private var spare: [Batch] = []
    private var epoch: UInt64 = 1
    /// Commands per batch before it is submitted without waiting.
    let pendingLimit: Int
    /// Batches submitted so far.
    private(set) var submissions = 0
    /// Barriers recorded so far (including the one that starts each batch).
    private(set) var barriers = 0
    /// Dispatches and copies recorded so far.
    private(set) var commands = 0

    static let maximumBindings = 8

    final class Batch {
        let commandBuffer: VkCommandBuffer
        let fence: VkFence
        let descriptorPool: VkDescriptorPool
        var resources: [AnyObject] = []
        var commands = 0

        init(commandBuffer: VkCommandBuffer, fence: VkFence, descriptorPool: VkDescriptorPool) {
            self.commandBuffer = commandBuffer
            self.fence = fence
            self.descriptorPool = descriptorPool
        }
    }

    init(device: VulkanDevice, pendingLimit: Int = 256) throws {
        owner = device
        self.pendingLimit = pendingLimit
        var info = VkCommandPoolCreateInfo()
        info.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO
        info.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT.rawValue
        info.queueFamilyIndex = device.queueFamily
        var pool: VkCommandPool?
        try VulkanCheck.result(vkCreateCommandPool(device.device, &info, nil, &pool), "vkCreateCommandPool")
        commandPool = pool!
    }

    deinit {
        try? finish()
        for batch in retired { try? recycle(batch) }
        for batch in spare {
            vkDestroyFence(owner.device, batch.fence, nil)
            vkDestroyDescriptorPool(owner.device, batch.descriptorPool, nil)
        }
        vkDestroyCommandPool(owner.device, commandPool, nil)
    }

    /// Records a dispatch of `pipeline` with `inputs` then `outputs` bound in that order.
    func dispatch(
        _ pipeline: ComputePipeline, inputs: [VulkanStorage], outputs: [VulkanStorage], push: [UInt32],
        groups: (UInt32, UInt32, UInt32)
    ) throws {
        try exclusive.withLock { try lock.withLock {
            let batch = try current()
            let buffers = inputs + outputs
            order(reading: inputs, writing: outputs, in: batch)
            var allocate = VkDescriptorSetAllocateInfo()
            allocate.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO
            allocate.descriptorPool = batch.descriptorPool
            allocate.descriptorSetCount = 1
            var set: VkDescriptorSet?
            try withUnsafePointer(to: Optional(pipeline.setLayout)) { layout in
                allocate.pSetLayouts = layout
                try VulkanCheck.result(vkAllocateDescriptorSets(owner.device, &allocate, &set), "vkAllocateDescriptorSets")
            }
            var infos = buffers.map { VkDescriptorBufferInfo(buffer: $0.allocation.buffer, offset: 0, range: VkDeviceSize(VK_WHOLE_SIZE)) }
            infos.withUnsafeMutableBufferPointer { infoPointer in
                var writes = (0..<buffers.count).map { index -> VkWriteDescriptorSet in
                    var write = VkWriteDescriptorSet()
                    write.sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET
                    write.dstSet = set
                    write.dstBinding = UInt32(index)
                    write.descriptorCount = 1
                    write.descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER
                    write.pBufferInfo = UnsafePointer(infoPointer.baseAddress! + index)
                    return write
                }
                vkUpdateDescriptorSets(owner.device, UInt32(writes.count), &writes, 0, nil)
            }
            vkCmdBindPipeline(batch.commandBuffer, VK_PIPELINE_BIND_POINT_COMPUTE, pipeline.pipeline)
            vkCmdBindDescriptorSets(batch.commandBuffer, VK_PIPELINE_BIND_POINT_COMPUTE, pipeline.layout, 0, 1, &set, 0, nil)
            if !push.isEmpty {
                push.withUnsafeBytes { bytes in
                    vkCmdPushConstants(
                        batch.commandBuffer, pipeline.layout, VK_SHADER_STAGE_COMPUTE_BIT.rawValue, 0,
                        UInt32(bytes.count), bytes.baseAddress)
                }
            }
            vkCmdDispatch(batch.commandBuffer, groups.0, groups.1, groups.2)
            for input in inputs { input.readInEpoch = epoch }
            for output in outputs { output.writtenInEpoch = epoch }
            batch.resources.append(contentsOf: buffers as [AnyObject])
            try finishCommand(batch)
        } }
    }

    /// Records a copy from host-visible staging memory into `target`.
    func upload(_ staging: StagingBuffer, to target: VulkanStorage, bytes: Int) throws {
        try exclusive.withLock { try lock.withLock {
            let batch = try current()
            order(reading: [], writing: [target], in: batch)
            recordCopy(from: staging.allocation, to: target.allocation, bytes: bytes, device: target, in: batch)
            target.writtenInEpoch = epoch
            batch.resources.append(staging)
            try finishCommand(batch)
        } }
    }

    /// Records a copy of the first `bytes` of `source` into `target`.
    func copy(_ source: VulkanStorage, to target: VulkanStorage, bytes: Int) throws {
        try exclusive.withLock { try lock.withLock {
            let batch = try current()
            order(reading: [source], writing: [target], in: batch)
            recordCopy(from: source.allocation, to: target.allocation, bytes: bytes, device: target, in: batch)
            source.readInEpoch = epoch
            target.writtenInEpoch = epoch
            batch.resources.append(source)
            try finishCommand(batch)
        } }
    }

    /// Copies `source` into `staging` and waits until the bytes are readable on the host.
    func download(_ source: VulkanStorage, into staging: StagingBuffer, bytes: Int) throws {
        try exclusive.withLock { try lock.withLock {
            try refuseWhileRecording("read a buffer back to the host")
            let batch = try current()
            order(reading: [source], writing: [], in: batch)
            recordCopy(from: source.allocation, to: staging.allocation, bytes: bytes, device: source, in: batch)
            var barrier = VkMemoryBarrier()
            barrier.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER
            barrier.srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT.rawValue
            barrier.dstAccessMask = VK_ACCESS_HOST_READ_BIT.rawValue
            vkCmdPipelineBarrier(
                batch.commandBuffer, VK_PIPELINE_STAGE_TRANSFER_BIT.rawValue, VK_PIPELINE_STAGE_HOST_BIT.rawValue, 0,
                1, &barrier, 0, nil, 0, nil)
            batch.resources.append(staging)
            try submitLocked(wait: true)
        } }
    }

    /// Submits recorded work and waits for everything submitted.
    func finish() throws {
        try exclusive.withLock { try lock.withLock {
            try refuseWhileRecording("wait for its work")
            try submitLocked(wait: true)
        } }
    }

    // MARK: Recordings

    /// Runs `body` with its commands kept as a recording rather than submitted. Work recorded
    /// before goes to the queue first, and other threads' work waits until `body` returns.
    func record<T>(_ body: () throws -> T) throws -> (T, RecordedCommands) {
        try exclusive.withLock {
            try lock.withLock {
                try submitLocked(wait: false)
                captured = []
            }
            do {
                let value = try body()
                let batches = try lock.withLock { () throws -> [Batch] in
                    if let batch = recording {
                        recording = nil
                        captured?.append(batch)
                        try VulkanCheck.result(vkEndCommandBuffer(batch.commandBuffer), "vkEndCommandBuffer")
                    }
                    defer { captured = nil }
                    return captured ?? []
                }
                return (value, RecordedCommands(stream: self, batches: batches))
            } catch {
                lock.withLock {
                    let abandoned = (captured ?? []) + (recording.map { [$0] } ?? [])
                    recording = nil
                    captured = nil
                    for batch in abandoned { try? recycle(batch) }
                }
                throw error
            }
        }
    }

    /// Submits a recording after the work recorded so far, once its previous run has finished
    /// (its command buffers are not resubmitted while pending).
    func submit(_ recorded: RecordedCommands) throws {
        try exclusive.withLock { try lock.withLock {
            try refuseWhileRecording("submit a recording")
            try submitLocked(wait: false)
            try settle(recorded)
            guard !recorded.batches.isEmpty else { return }
            var buffers: [VkCommandBuffer?] = recorded.batches.map(\.commandBuffer)
            var info = VkSubmitInfo()
            info.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO
            info.commandBufferCount = UInt32(buffers.count)
            try buffers.withUnsafeMutableBufferPointer { pointer in
                info.pCommandBuffers = UnsafePointer(pointer.baseAddress)
                try VulkanCheck.result(vkQueueSubmit(owner.queue, 1, &info, recorded.fence), "vkQueueSubmit")
            }
            recorded.pending = true
            submissions += 1
            submittedRecordings.append(recorded)
        } }
    }

    /// Gives a freed recording's batches back for reuse. A recording is not freed while a run of
    /// it is pending (`submittedRecordings` holds it until `settle`), so its batches are idle;
    /// they wait in `retired` until the stream next takes a batch, because a recording can be
    /// freed while the stream's lock is held (when `settle` drops the last reference to it).
    func release(_ batches: [Batch]) {
        retiredLock.withLock { retired.append(contentsOf: batches) }
    }

    // MARK: Batches (called with the lock held)

    private func refuseWhileRecording(_ what: String) throws {
        guard captured == nil else {
            throw BackendError.unavailable(backend: "vulkan", reason: "cannot \(what) while work is being recorded for replay")
        }
    }

    /// Waits for a submitted recording's run to finish and readies its fence for the next.
    private func settle(_ recorded: RecordedCommands) throws {
        guard recorded.pending else { return }
        var fence = recorded.fence
        try VulkanCheck.result(vkWaitForFences(owner.device, 1, &fence, VkBool32(VK_TRUE), UInt64.max), "vkWaitForFences")
        try VulkanCheck.result(vkResetFences(owner.device, 1, &fence), "vkResetFences")
        recorded.pending = false
        submittedRecordings.removeAll { $0 === recorded }
    }

    /// Records a buffer copy between staging memory and `device`'s buffer.
    private func recordCopy(from source: Allocation, to target: Allocation, bytes: Int, device: VulkanStorage, in batch: Batch) {
        var region = VkBufferCopy(srcOffset: 0, dstOffset: 0, size: VkDeviceSize(bytes))
        vkCmdCopyBuffer(batch.commandBuffer, source.buffer, target.buffer, 1, &region)
        batch.resources.append(device)
    }

    private func current() throws -> Batch {
        if let recording { return recording }
        for batch in retiredLock.withLock({ () -> [Batch] in defer { retired = [] }; return retired }) { try recycle(batch) }
        let batch = try spare.popLast() ?? makeBatch()
        var begin = VkCommandBufferBeginInfo()
        begin.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO
        begin.flags = captured == nil ? VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT.rawValue : 0
        try VulkanCheck.result(vkBeginCommandBuffer(batch.commandBuffer, &begin), "vkBeginCommandBuffer")
        recordBarrier(batch)
        recording = batch
        return batch
    }

    /// Records a barrier before a command that reads `inputs` and writes `outputs` when one of
    /// them was written in the current epoch (read after write, write after write) or an output
    /// was read in it (write after read, as when a scratch buffer is reused).
    private func order(reading inputs: [VulkanStorage], writing outputs: [VulkanStorage], in batch: Batch) {
        let hazard = (inputs + outputs).contains { $0.writtenInEpoch == epoch } || outputs.contains { $0.readInEpoch == epoch }
        if hazard { recordBarrier(batch) }
    }

    /// One global memory barrier between all compute and transfer work before and after it.
    private func recordBarrier(_ batch: Batch) {
        let stages = VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT.rawValue | VK_PIPELINE_STAGE_TRANSFER_BIT.rawValue
        var barrier = VkMemoryBarrier()
        barrier.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER
        barrier.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT.rawValue | VK_ACCESS_TRANSFER_WRITE_BIT.rawValue
        barrier.dstAccessMask = VK_ACCESS_SHADER_READ_BIT.rawValue | VK_ACCESS_SHADER_WRITE_BIT.rawValue
            | VK_ACCESS_TRANSFER_READ_BIT.rawValue | VK_ACCESS_TRANSFER_WRITE_BIT.rawValue
        vkCmdPipelineBarrier(batch.commandBuffer, stages, stages, 0, 1, &barrier, 0, nil, 0, nil)
        epoch += 1
        barriers += 1
    }

    private func finishCommand(_ batch: Batch) throws {
        batch.commands += 1
        commands += 1
        guard batch.commands >= pendingLimit else { return }
        if captured != nil {
            // A full batch of a recording is kept; the next command starts another.
            recording = nil
            captured?.append(batch)
            try VulkanCheck.result(vkEndCommandBuffer(batch.commandBuffer), "vkEndCommandBuffer")
        } else {
            try submitLocked(wait: false)
        }
    }

    private func submitLocked(wait: Bool) throws {
        if let batch = recording {
            recording = nil
            try VulkanCheck.result(vkEndCommandBuffer(batch.commandBuffer), "vkEndCommandBuffer")
            var info = VkSubmitInfo()
            info.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO
            info.commandBufferCount = 1
            var commandBuffer: VkCommandBuffer? = batch.commandBuffer
            try withUnsafePointer(to: &commandBuffer) { pointer in
                info.pCommandBuffers = pointer
                try VulkanCheck.result(vkQueueSubmit(owner.queue, 1, &info, batch.fence), "vkQueueSubmit")
            }
            submissions += 1
            inFlight.append(batch)
        }
        if wait { for recorded in submittedRecordings { try settle(recorded) } }
        // Bound the work (and memory) in flight: wait for the oldest batches beyond three.
        let waitCount = wait ? inFlight.count : Swift.max(0, inFlight.count - 3)
        guard waitCount > 0 else { return }
        let waited = Array(inFlight.prefix(waitCount))
        var fences: [VkFence?] = waited.map(\.fence)
        try VulkanCheck.result(vkWaitForFences(owner.device, UInt32(fences.count), &fences, VkBool32(VK_TRUE), UInt64.max), "vkWaitForFences")
        inFlight.removeFirst(waitCount)
        for batch in waited { try recycle(batch) }
    }

    private func recycle(_ batch: Batch) throws {
        var fence: VkFence? = batch.fence
        try VulkanCheck.result(vkResetFences(owner.device, 1, &fence), "vkResetFences")
        try VulkanCheck.result(vkResetCommandBuffer(batch.commandBuffer, 0), "vkResetCommandBuffer")
        try VulkanCheck.result(vkResetDescriptorPool(owner.device, batch.descriptorPool, 0), "vkResetDescriptorPool")
        batch.resources.removeAll(keepingCapacity: true)
        batch.commands = 0
        spare.append(batch)
    }

    private func makeBatch() throws -> Batch {
        var allocate = VkCommandBufferAllocateInfo()
        allocate.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO
        allocate.commandPool = commandPool
        allocate.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY
        allocate.commandBufferCount = 1
        var commandBuffer: VkCommandBuffer?
        try VulkanCheck.result(vkAllocateCommandBuffers(owner.device, &allocate, &commandBuffer), "vkAllocateCommandBuffers")
        var fenceInfo = VkFenceCreateInfo()
        fenceInfo.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO
        var fence: VkFence?
        try VulkanCheck.result(vkCreateFence(owner.device, &fenceInfo, nil, &fence), "vkCreateFence")
        let sets = UInt32(pendingLimit + 1)
        var size = VkDescriptorPoolSize(type: VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, descriptorCount: sets * UInt32(Self.maximumBindings))
        var poolInfo = VkDescriptorPoolCreateInfo()
        poolInfo.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO
        poolInfo.maxSets = sets
        poolInfo.poolSizeCount = 1
        var pool: VkDescriptorPool?
        try withUnsafePointer(to: &size) { sizePointer in
            poolInfo.pPoolSizes = sizePointer
            try VulkanCheck.result(vkCreateDescriptorPool(owner.device, &poolInfo, nil, &pool), "vkCreateDescriptorPool")
        }
        return Batch(commandBuffer: commandBuffer!, fence: fence!, descriptorPool: pool!)
    }
}
#endif

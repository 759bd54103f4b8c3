#if Vulkan
import Backend
import CVulkan
import Foundation

/// One `VkBuffer` bound to its own `VkDeviceMemory`, mapped when it lives in host-visible memory.
final class Allocation: @unchecked Sendable {
    let buffer: VkBuffer
    let memory: VkDeviceMemory
    let bytes: Int
    let mapped: UnsafeMutableRawPointer?

    init(buffer: VkBuffer, memory: VkDeviceMemory, bytes: Int, mapped: UnsafeMutableRawPointer?) {
        self.buffer = buffer
        self.memory = memory
        self.bytes = bytes
        self.mapped = mapped
    }
}

/// A pooling allocator: sizes round up to a size class (steps of a quarter power of two), and
/// released allocations wait in a free list of their class for the next request of that class,
/// so a training loop stops calling `vkAllocateMemory` after its first step. The free lists
/// hold at most `cacheLimit` bytes; beyond it, and when the device runs out of memory, cached
/// allocations are freed.
final class AllocationPool: @unchecked Sendable {
    enum Kind { case device, staging }

    private let owner: VulkanDevice
    private let kind: Kind
    private let lock = NSLock()
    private var free: [Int: [Allocation]] = [:]
    private var cachedBytes = 0
    private let cacheLimit: Int
    /// How many allocations were made from the driver (not reused).
    private(set) var driverAllocations = 0

    init(device: VulkanDevice, kind: Kind, cacheLimit: Int = 1 << 30) {
        self.owner = device
        self.kind = kind
        self.cacheLimit = cacheLimit
    }

    deinit { trim() }

    /// The size class of a request: at least 256 bytes, then 4, 5, 6 or 7 times a power of two.
    static func sizeClass(_ bytes: Int) -> Int {
        let size = max(bytes, 256)
        let power = Int.bitWidth - 1 - (size - 1).leadingZeroBitCount - 2
        let step = 1 << power
        return (size + step - 1) / step * step
    }

    func take(_ bytes: Int) throws -> Allocation {
        let size = Self.sizeClass(bytes)
        if let reused = lock.withLock({ () -> Allocation? in
            guard let allocation = free[size]?.popLast() else { return nil }
            cachedBytes -= size
            return allocation
        }) {
            return reused
        }
        do {
            return try allocate(size)
        } catch BackendError.outOfMemory {
            trim()
            return try allocate(size)
        }
    }

    func give(_ allocation: Allocation) {
        let overflow: [Allocation] = lock.withLock {
            free[allocation.bytes, default: []].append(allocation)
            cachedBytes += allocation.bytes
            var evicted: [Allocation] = []
            while cachedBytes > cacheLimit, let size = free.first(where: { !$0.value.isEmpty })?.key {
                let victim = free[size]!.removeLast()
                cachedBytes -= victim.bytes
                evicted.append(victim)
            }
            return evicted
        }
        overflow.forEach(destroy)
    }

    /// Frees every cached allocation.
    func trim() {
        let all: [Allocation] = lock.withLock {
            defer {
                free.removeAll()
                cachedBytes = 0
            }
            return free.values.flatMap { $0 }
        }
        all.forEach(destroy)
    }

    private func destroy(_ allocation: Allocation) {
        if allocation.mapped != nil { vkUnmapMemory(owner.device, allocation.memory) }
        vkDestroyBuffer(owner.device, allocation.buffer, nil)
        vkFreeMemory(owner.device, allocation.memory, nil)
    }

    private func allocate(_ size: Int) throws -> Allocation {
        let device = owner.device
        var info = VkBufferCreateInfo()
        info.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO
        info.size = VkDeviceSize(size)
        info.sharingMode = VK_SHARING_MODE_EXCLUSIVE
        info.usage = VK_BUFFER_USAGE_TRANSFER_SRC_BIT.rawValue | VK_BUFFER_USAGE_TRANSFER_DST_BIT.rawValue
            | (kind == .device ? VK_BUFFER_USAGE_STORAGE_BUFFER_BIT.rawValue : 0)
        var buffer: VkBuffer?
        try VulkanCheck.result(vkCreateBuffer(device, &info, nil, &buffer), "vkCreateBuffer", bytes: size)
        var requirements = VkMemoryRequirements()
        vkGetBufferMemoryRequirements(device, buffer, &requirements)
        let hostVisible = VkMemoryPropertyFlagBits(VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT.rawValue | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT.rawValue)
        let type = kind == .device
            ? owner.memoryType(requirements.memoryTypeBits, required: VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, preferred: VkMemoryPropertyFlagBits(0))
                ?? owner.memoryType(requirements.memoryTypeBits, required: VkMemoryPropertyFlagBits(0), preferred: VkMemoryPropertyFlagBits(0))
            : owner.memoryType(requirements.memoryTypeBits, required: hostVisible, preferred: VK_MEMORY_PROPERTY_HOST_CACHED_BIT)
        guard let type else {
            vkDestroyBuffer(device, buffer, nil)
            throw BackendError.unavailable(backend: "vulkan", reason: "the device has no suitable memory type for \(kind) buffers")
        }
        var allocateInfo = VkMemoryAllocateInfo()
        allocateInfo.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO
        allocateInfo.allocationSize = requirements.size
        allocateInfo.memoryTypeIndex = type
        var memory: VkDeviceMemory?
        let result = vkAllocateMemory(device, &allocateInfo, nil, &memory)
        guard result == VK_SUCCESS, let memory else {
            vkDestroyBuffer(device, buffer, nil)
            try VulkanCheck.result(result, "vkAllocateMemory", bytes: size)
            throw BackendError.outOfMemory(backend: "vulkan", bytes: size)
        }
        var mapped: UnsafeMutableRawPointer?
        do {
            try VulkanCheck.result(vkBindBufferMemory(device, buffer, memory, 0), "vkBindBufferMemory")
            if kind == .staging {
                try VulkanCheck.result(vkMapMemory(device, memory, 0, VkDeviceSize(size), 0, &mapped), "vkMapMemory", bytes: size)
            }
        } catch {
            vkDestroyBuffer(device, buffer, nil)
            vkFreeMemory(device, memory, nil)
            throw error
        }
        lock.withLock { driverAllocations += 1 }
        return Allocation(buffer: buffer!, memory: memory, bytes: size, mapped: mapped)
    }
}

/// A backend buffer's device memory. It goes back to its pool when the last ``Buffer`` and the
/// last pending command batch that use it let go of it.
final class VulkanStorage: BufferStorage, @unchecked Sendable {
    let allocation: Allocation
    let pool: AllocationPool
    /// The barrier epochs of the command stream in which a command last wrote and last read
    /// this buffer (guarded by the stream's lock).
    var writtenInEpoch: UInt64 = 0
    var readInEpoch: UInt64 = 0

    init(allocation: Allocation, pool: AllocationPool) {
        self.allocation = allocation
        self.pool = pool
    }

    deinit { pool.give(allocation) }
}

/// Host-visible memory for one upload or download, returned to its pool once the transfer's
/// batch has completed.
final class StagingBuffer: @unchecked Sendable {
    let allocation: Allocation
    private let pool: AllocationPool

    init(bytes: Int, pool: AllocationPool) throws {
        allocation = try pool.take(bytes)
        self.pool = pool
    }

    var contents: UnsafeMutableRawPointer { allocation.mapped! }

    deinit { pool.give(allocation) }
}
#endif

#if OneDNN
import Backend
import Foundation

/// Host memory for the oneDNN backend's buffers: 64-byte aligned blocks recycled by
/// power-of-two size class, so that a training step in steady state neither zero-fills nor
/// page-faults for its outputs. Up to `limit` bytes of freed blocks are kept.
final class HostMemoryPool: @unchecked Sendable {
    private let lock = NSLock()
    private var free: [Int: [UnsafeMutableRawPointer]] = [:]
    private var cachedBytes = 0
    let limit: Int

    init(limit: Int = 512 << 20) { self.limit = limit }

    /// Frees the cached blocks: a backend released before the process ends leaks nothing.
    deinit {
        for block in free.values.joined() { block.deallocate() }
    }

    static func sizeClass(_ bytes: Int) -> Int {
        var size = 64
        while size < bytes { size <<= 1 }
        return size
    }

    /// An uninitialised block of at least `bytes` bytes.
    func take(_ bytes: Int) -> (UnsafeMutableRawPointer, Int) {
        let size = Self.sizeClass(bytes)
        if let block = lock.withLock({ () -> UnsafeMutableRawPointer? in
            guard let block = free[size]?.popLast() else { return nil }
            cachedBytes -= size
            return block
        }) {
            return (block, size)
        }
        return (UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64), size)
    }

    func give(_ block: UnsafeMutableRawPointer, size: Int) {
        let kept = lock.withLock { () -> Bool in
            guard cachedBytes + size <= limit else { return false }
            free[size, default: []].append(block)
            cachedBytes += size
            return true
        }
        if !kept { block.deallocate() }
    }
}

/// A buffer's memory from the pool, returned to it when the buffer is released.
final class PooledStorage: HostStorage, @unchecked Sendable {
    let size: Int
    let pool: HostMemoryPool

    init(bytes: Int, pool: HostMemoryPool) {
        let (block, size) = pool.take(bytes)
        self.size = size
        self.pool = pool
        super.init(address: block)
    }

    deinit { pool.give(address, size: size) }
}
#endif

#if OneDNN
import Foundation
import Synchronization

/// Whether more threads are ready to run than the machine has cores, from the count of
/// runnable threads in `/proc/loadavg`, looked up at most every 50 ms: crowded after two looks
/// in a row that found more (one finds a short-lived process too often). On a crowded machine a
/// thread that spins waiting for work takes the time slices that its own process's other
/// threads, and the other processes, need; ``ChunkPool`` then sleeps at once instead (libgomp
/// throttles its spinning the same way when it is oversubscribed).
final class Crowding: Sendable {
    private let cores: Int
    private let crowded = Atomic<Bool>(false)
    private let lastLookFoundMore = Atomic<Bool>(false)
    private let checkedAt = Atomic<UInt64>(0)
    private static let interval: UInt64 = 50_000_000

    init(cores: Int) { self.cores = cores }

    /// Whether the machine was crowded at the last look, looking again when that is over 50 ms old.
    var isCrowded: Bool {
        let now = DispatchTime.now().uptimeNanoseconds, last = checkedAt.load(ordering: .relaxed)
        if now &- last > Self.interval, checkedAt.compareExchange(expected: last, desired: now, ordering: .relaxed).exchanged {
            let more = Self.runnableThreads().map { $0 > cores } ?? false
            let previous = lastLookFoundMore.exchange(more, ordering: .relaxed)
            crowded.store(more && previous, ordering: .relaxed)
        }
        return crowded.load(ordering: .relaxed)
    }

    /// The fourth field's numerator of `/proc/loadavg` ("0.52 0.58 0.59 3/467 12345"): the
    /// threads running or ready to run now, this one included; `nil` where there is no such file.
    static func runnableThreads() -> Int? {
        let file = open("/proc/loadavg", O_RDONLY)
        guard file >= 0 else { return nil }
        defer { close(file) }
        var bytes = [UInt8](repeating: 0, count: 128)
        let count = bytes.withUnsafeMutableBytes { read(file, $0.baseAddress, $0.count) }
        guard count > 0 else { return nil }
        let fields = String(decoding: bytes[..<count], as: UTF8.self).split(separator: " ")
        guard fields.count > 3, let running = fields[3].split(separator: "/").first else { return nil }
        return Int(running)
    }
}
#endif

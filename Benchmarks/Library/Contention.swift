import AxonCore
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Competing work to run the workloads beside, because users train on laptops, CI runners and
/// shared servers, not on quiet machines. Each kind runs in a separate process (this executable
/// started with `--contender KIND`), one thread per core.
public enum Contention: String, CaseIterable, Sendable {
    /// Plain busy loops.
    case busy
    /// Loops of small system calls (a read of `/dev/zero` and a write to `/dev/null`), which
    /// enter and leave the kernel all the time.
    case syscalls
    /// A second multi-threaded process: the CNN training step on the first linked backend of
    /// `onednn`, `reference`, with one thread per core.
    case process

    /// Runs this kind of competing work until the process is killed (the child's side).
    public func run() throws -> Never {
        let cores = Swift.max(ProcessInfo.processInfo.activeProcessorCount, 1)
        switch self {
        case .busy:
            for _ in 0..<cores { Thread.detachNewThread { Self.spin() } }
        case .syscalls:
            for _ in 0..<cores { Thread.detachNewThread { Self.callTheKernel() } }
        case .process:
            let names = BackendRegistry.shared.availableNames
            let backend = try BackendRegistry.shared.backend(named: names.contains("onednn") ? "onednn" : "reference")
            while true { _ = try Workloads.cnnTraining(on: backend, batch: 64, steps: 20) }
        }
        while true { sleep(60) }
    }

    /// Starts this kind of competing work in a child process: `executable` with `arguments`
    /// followed by `--contender KIND`; stop it with ``stop(_:)``.
    func start(arguments: [String]) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        process.arguments = arguments + ["--contender", rawValue]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        Thread.sleep(forTimeInterval: 1)  // until its threads run (and its backend has started)
        return process
    }

    static func stop(_ process: Process) {
        process.terminate()
        process.waitUntilExit()
    }

    private static func spin() -> Never {
        // An atomic counter, so the optimiser keeps the loop: a plain counter that printed on
        // wrapping was folded into a loop of prints, which made "busy" a loop of writes.
        let counter = Atomic<UInt64>(0)
        while true { counter.add(1, ordering: .relaxed) }
    }

    private static func callTheKernel() -> Never {
        let (zero, null) = (open("/dev/zero", O_RDONLY), open("/dev/null", O_WRONLY))
        var byte: UInt8 = 0
        while true {
            _ = read(zero, &byte, 1)
            _ = write(null, &byte, 1)
        }
    }
}

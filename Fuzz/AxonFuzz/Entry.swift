import AxonFuzzTargets
import Foundation

#if FUZZING
/// libFuzzer's entry point (built by scripts/fuzz.sh with -sanitize=fuzzer); the target comes
/// from AXON_FUZZ_TARGET.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> Int32 {
    FuzzTargets.run(target, Data(bytes: bytes, count: count))
    return 0
}

private let target = ProcessInfo.processInfo.environment["AXON_FUZZ_TARGET"] ?? ""

/// libFuzzer's driver, called from the program's entry point.
@_silgen_name("LLVMFuzzerRunDriver")
private func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> Int32
) -> Int32

/// The entry point: SwiftPM links an executable's `main` to `<module>_main`, so libFuzzer's own
/// `main` is not used and its driver is started from here.
@_cdecl("axon_fuzz_main")
public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var (count, arguments) = (argc, argv)
    return runFuzzerDriver(&count, &arguments, fuzzOneInput)
}
#else
/// Without libFuzzer: `axon-fuzz TARGET FILE...` runs a target over files (a corpus or crash
/// inputs), for replaying what the fuzzer found in an ordinary build.
@main
enum Replay {
    static func main() {
        let arguments = CommandLine.arguments.dropFirst()
        guard let target = arguments.first else {
            print("usage: axon-fuzz TARGET FILE...; targets: \(FuzzTargets.all.keys.sorted().joined(separator: ", "))")
            exit(2)
        }
        for path in arguments.dropFirst() {
            guard let data = FileManager.default.contents(atPath: path) else {
                print("cannot read \(path)")
                exit(1)
            }
            FuzzTargets.run(target, data)
        }
        print("\(arguments.count - 1) input(s) for \(target): no crash")
    }
}
#endif

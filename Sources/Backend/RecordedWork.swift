/// Device work a backend recorded once and submits again on every run — on Vulkan, command
/// buffers with their pipelines, descriptor sets and push constants already written — so a
/// run costs a submission instead of recording every dispatch anew.
///
/// A recording reads its inputs from buffers of its own and writes its outputs into buffers
/// of its own: ``run(_:keeping:)`` copies the inputs in, submits the work, and hands the
/// outputs back. Runs of one recording must not overlap (its own buffers are reused); the
/// caller serialises them.
public protocol RecordedWork: AnyObject, Sendable {
    /// Runs the recorded work on `inputs` (of the shapes and dtypes it was recorded with) and
    /// returns its outputs. `keeping[i]` says whether output `i` must outlive the next run:
    /// those come back as copies; the others are the recording's own buffers, which the next
    /// run overwrites.
    func run(_ inputs: [Buffer], keeping: [Bool]) throws -> [Buffer]
}

extension Backend {
    /// No recording: `body` is not called and the caller runs its operations as usual.
    public func recordWork(inputs: [Buffer], _ body: ([Buffer]) throws -> [Buffer]) throws -> (any RecordedWork)? {
        nil
    }
}

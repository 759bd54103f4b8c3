import AxonCore
import Foundation
import Testing

/// What a user of any command-line tool expects of `axon`: a version, examples in every
/// subcommand's help, completion scripts, and exit statuses that tell a failure from a wrong
/// command line.
@Suite("axon command-line conventions")
struct CommandLineConventionTests {
    let directory = FileManager.default.temporaryDirectory

    @Test("--version prints the library's version")
    func version() throws {
        let result = try AxonCommandLine.run(["--version"], in: directory)
        #expect(result.status == 0)
        #expect(result.output == Axon.version + "\n")
    }

    @Test("every subcommand's help shows examples", arguments: [
        "train", "evaluate", "predict", "plot", "export", "import", "summary", "backends", "conformance", "bench", "bench-distributed",
    ])
    func helpHasExamples(subcommand: String) throws {
        let result = try AxonCommandLine.run([subcommand, "--help"], in: directory)
        #expect(result.status == 0)
        // An example runs `axon SUBCOMMAND` (under a launcher such as mpirun where it needs one).
        let examples = result.output.components(separatedBy: "Examples:\n").dropFirst().first ?? ""
        #expect(examples.hasPrefix("  ") && (examples.contains("axon \(subcommand) ") || examples.contains("axon \(subcommand)\n")), "\(result.output)")
    }

    @Test("the top-level help documents the exit statuses and completion scripts")
    func topLevelHelp() throws {
        let help = try AxonCommandLine.run(["--help"], in: directory).output
        #expect(help.contains("Exit status: 0 on success, 1 when the command fails"))
        #expect(help.contains("64 when the command line is wrong"))
        for shell in ["bash", "zsh", "fish"] {
            let script = try AxonCommandLine.run(["--generate-completion-script", shell], in: directory)
            #expect(script.status == 0)
            #expect(script.output.contains("evaluate") && script.output.contains("--checkpoint"), "\(shell) completion")
        }
    }

    @Test("a wrong command line exits 64, a failing command 1, each with the reason on standard error")
    func exitStatuses() throws {
        let usage = try AxonCommandLine.run(["train", "--no-such-option"], in: directory)
        #expect(usage.status == 64)
        #expect(usage.error.contains("--no-such-option"))
        let failure = try AxonCommandLine.run(["evaluate", "--checkpoint", "/nonexistent/run"], in: directory)
        #expect(failure.status == 1)
        #expect(failure.error.contains("/nonexistent/run"))
        #expect(failure.output.isEmpty)
    }
}

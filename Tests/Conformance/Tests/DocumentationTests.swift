import Foundation
import Testing

/// The code in the documentation's articles is compiled and run: every Swift listing an article
/// shows comes from a snippet in `Snippets/` (built with the package, as DocC's `@Snippet`
/// directive expects), each snippet runs to completion with its hidden checks, and the only
/// other Swift an article may show is a `Package.swift` excerpt, which the package manager
/// must accept.
@Suite("Documentation")
struct DocumentationTests {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let snippetDirectory = root.appendingPathComponent("Snippets")

    /// Every snippet's name (its file name without `.swift`).
    static let snippets: [String] = {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: snippetDirectory.path)) ?? []
        return files.filter { $0.hasSuffix(".swift") }.map { String($0.dropLast(6)) }.sorted()
    }()

    /// Every article of every documentation catalog.
    static var articles: [URL] {
        let enumerator = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil)
        var found: [URL] = []
        while let url = enumerator?.nextObject() as? URL {
            if url.lastPathComponent.hasPrefix(".build") || url.lastPathComponent == ".git" {
                enumerator?.skipDescendants()
            } else if url.pathExtension == "md", url.deletingLastPathComponent().pathExtension == "docc" {
                found.append(url)
            }
        }
        return found.sorted { $0.path < $1.path }
    }

    @Test("the repository has snippets and articles to check")
    func somethingToCheck() {
        #expect(Self.snippets.count >= 9, "\(Self.snippets)")
        #expect(Self.articles.count >= 15, "\(Self.articles.map(\.lastPathComponent))")
    }

    @Test("every snippet runs to completion and its checks pass", arguments: snippets)
    func snippetRuns(_ name: String) throws {
        let program = AxonCommandLine.executable.deletingLastPathComponent().appendingPathComponent(name)
        let directory = AxonCommandLine.workspace("snippet")
        defer { try? FileManager.default.removeItem(at: directory) }
        // The distributed training article's snippet runs on two processes, as it says.
        let (process, output, error) = name.hasPrefix("Distributed")
            ? try AxonCommandLine.start(
                ["--oversubscribe", "-np", "2", program.path], in: directory, program: DistributedTrainingTests.mpirun,
                environment: DistributedTrainingTests.environment)
            : try AxonCommandLine.start([], in: directory, program: program)
        let result = try AxonCommandLine.collect(process, output: output, error: error)
        #expect(result.status == 0, "\(name) exited with \(result.status): \(result.error.suffix(2_000))")
    }

    @Test("every @Snippet directive names a snippet and a slice that exist")
    func directivesResolve() throws {
        let directive = /@Snippet\(path: "Axon\/Snippets\/([A-Za-z]+)"(?:, slice: "([a-z]+)")?\)/
        var count = 0
        for article in Self.articles {
            let text = try String(contentsOf: article, encoding: .utf8)
            for match in text.matches(of: directive) {
                count += 1
                let name = String(match.1)
                let file = Self.snippetDirectory.appendingPathComponent("\(name).swift")
                guard let source = try? String(contentsOf: file, encoding: .utf8) else {
                    Issue.record("\(article.lastPathComponent) shows snippet \(name), but Snippets/\(name).swift does not exist")
                    continue
                }
                if let slice = match.2 {
                    #expect(source.contains("// snippet.\(slice)\n"), "\(article.lastPathComponent): Snippets/\(name).swift has no slice '\(slice)'")
                }
            }
        }
        #expect(count >= 25, "only \(count) snippet directives found")
    }

    @Test("an article's only Swift outside snippets is a Package.swift excerpt the package manager accepts")
    func listingsAreSnippetsOrManifests() throws {
        let fence = /```swift\n((?:.|\n)*?)```/
        for article in Self.articles {
            let text = try String(contentsOf: article, encoding: .utf8)
            for match in text.matches(of: fence) {
                let code = String(match.1)
                guard code.hasPrefix("// Package.swift\n") else {
                    Issue.record("\(article.lastPathComponent) shows Swift that is neither a snippet nor a Package.swift excerpt:\n\(code)")
                    continue
                }
                try checkManifest(excerpt: code, from: article.lastPathComponent)
            }
        }
    }

    /// Dumps a manifest made of `excerpt` (the arguments after `name:`) with `swift package`.
    private func checkManifest(excerpt: String, from article: String) throws {
        let directory = AxonCommandLine.workspace("manifest")
        defer { try? FileManager.default.removeItem(at: directory) }
        let manifest = "// swift-tools-version: 6.1\nimport PackageDescription\n\nlet package = Package(\n    name: \"Example\",\n"
            + excerpt.split(separator: "\n").dropFirst().joined(separator: "\n") + "\n)\n"
        try manifest.write(to: directory.appendingPathComponent("Package.swift"), atomically: true, encoding: .utf8)
        let (process, output, error) = try AxonCommandLine.start(
            ["swift", "package", "dump-package"], in: directory, program: URL(fileURLWithPath: "/usr/bin/env"))
        let result = try AxonCommandLine.collect(process, output: output, error: error)
        #expect(result.status == 0, "the Package.swift excerpt in \(article) does not compile:\n\(manifest)\n\(result.error)")
        #expect(result.output.contains("\"AxonCore\""), "\(article): \(result.output.prefix(500))")
    }
}

#!/usr/bin/env python3
"""Lists the public symbols declared in this repository that have no documentation comment.

Reads the symbol graphs that `swift package generate-documentation` extracted
(.build/<triple>/extracted-symbols/<package>/<Target>/*.symbols.json) for the targets named on
the command line, and exits with status 1 naming each undocumented symbol with its file and
line. A symbol counts as documented when it has a comment of its own or DocC shows the comment
of the protocol requirement it implements (`sourceOrigin`); symbols the compiler synthesises
(Equatable's `==`, Codable's `init(from:)`, ...) have no location in the repository and are not
counted.

    scripts/docs-coverage.py .build AxonCore Backend ...
"""
import glob
import json
import os
import sys


def undocumented(build, target, root):
    pattern = os.path.join(build, "*", "extracted-symbols", "*", target, "*.symbols.json")
    files = glob.glob(pattern)
    if not files:
        sys.exit(f"docs-coverage: no symbol graph for {target} under {build}; run generate-documentation first")
    found = {}
    for path in files:
        with open(path, encoding="utf-8") as handle:
            graph = json.load(handle)
        for symbol in graph["symbols"]:
            uri = symbol.get("location", {}).get("uri", "")
            if not uri.startswith("file://" + root + "/") or "/.build/" in uri:
                continue
            if symbol.get("docComment") or symbol.get("sourceOrigin"):
                continue
            where = uri[len("file://" + root + "/"):] + ":" + str(symbol["location"]["position"]["line"] + 1)
            found[where + " " + ".".join(symbol["pathComponents"])] = (where, symbol["kind"]["displayName"], ".".join(symbol["pathComponents"]))
    return sorted(found.values())


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    build, targets = sys.argv[1], sys.argv[2:]
    root = os.path.realpath(os.getcwd())
    missing = [(target, *entry) for target in targets for entry in undocumented(build, target, root)]
    for target, where, kind, name in missing:
        print(f"{where}: {target}: {kind} {name} has no documentation comment")
    if missing:
        print(f"docs-coverage: {len(missing)} public symbol(s) undocumented")
        return 1
    print(f"docs-coverage: every public symbol of {', '.join(targets)} is documented")
    return 0


if __name__ == "__main__":
    sys.exit(main())

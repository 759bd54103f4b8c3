#!/usr/bin/env bash
# Guards the plugin interface: Backend is compiled without library evolution, so any change to
# its declarations changes the binary interface plugins are built against, and must come with a
# new BackendPlugin.abiVersion. This dumps Backend's ABI with swift-api-digester (from the
# release build), hashes it, and compares version and hash with Sources/Backend/Plugins/abi.txt.
#   scripts/backend-abi.sh           check (CI): fails if the interface changed under the same version
#   scripts/backend-abi.sh --record  after bumping abiVersion: record the new version and hash
set -euo pipefail
cd "$(dirname "$0")/.."
record=Sources/Backend/Plugins/abi.txt
modules=.build/release/Modules
[[ -f "$modules/Backend.swiftmodule" ]] || swift build -c release --target Backend > /dev/null
digester="$(dirname "$(readlink -f "$(command -v swift)")")/swift-api-digester"
dump="$(mktemp)"
trap 'rm -f "$dump"' EXIT
"$digester" -dump-sdk -abi -module Backend -I "$modules" -o "$dump"
# The dump ends with the tool's own arguments (the output path among them): not part of the ABI.
hash="$(python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); d["ABIRoot"].pop("tool_arguments", None); print(json.dumps(d, sort_keys=True))' "$dump" | sha256sum | cut -d' ' -f1)"
version="$(sed -n 's/.*static var abiVersion: UInt32 { \([0-9]*\) }.*/\1/p' Sources/Backend/Plugins/BackendPlugin.swift)"
[[ -n "$version" ]] || { echo "backend-abi: cannot find BackendPlugin.abiVersion" >&2; exit 1; }

if [[ "${1:-}" == "--record" ]]; then
    printf '# BackendPlugin.abiVersion, then the SHA-256 of Backend'"'"'s ABI dump; written by scripts/backend-abi.sh --record\n%s %s\n' \
        "$version" "$hash" > "$record"
    echo "recorded plugin interface version $version ($hash)"
    exit 0
fi
read -r recorded_version recorded_hash < <(grep -v '^#' "$record")
if [[ "$hash" == "$recorded_hash" && "$version" == "$recorded_version" ]]; then
    echo "plugin interface version $version matches Backend's ABI"
elif [[ "$hash" == "$recorded_hash" ]]; then
    echo "backend-abi: abiVersion is $version but Backend's ABI is unchanged since version $recorded_version; record it with scripts/backend-abi.sh --record" >&2
    exit 1
elif [[ "$version" == "$recorded_version" ]]; then
    echo "backend-abi: Backend's binary interface changed, but BackendPlugin.abiVersion is still $version." >&2
    echo "  Plugins built against version $version would load and then misbehave. Bump abiVersion in" >&2
    echo "  Sources/Backend/Plugins/BackendPlugin.swift, then run scripts/backend-abi.sh --record." >&2
    exit 1
else
    echo "backend-abi: abiVersion changed to $version; record the new ABI with scripts/backend-abi.sh --record" >&2
    exit 1
fi

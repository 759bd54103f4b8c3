#!/usr/bin/env bash
# Builds the API documentation and the articles of every public module as one static site
# (swift-docc-plugin), with DocC's warnings — broken symbol links, undocumented parameters,
# snippets that do not exist — treated as errors, then checks that every public symbol declared
# in the repository has a documentation comment (scripts/docs-coverage.py).
#
#   scripts/docs.sh                  # → .build/docs/site (open .build/docs/site/documentation/axoncore/index.html through a web server)
#   scripts/docs.sh --output DIR
set -euo pipefail
cd "$(dirname "$0")/.."
output=.build/docs/site
if [[ "${1:-}" == "--output" ]]; then output=$2; fi
output=$(realpath -m "$output")  # the plugin resolves a relative path against its own work directory
mkdir -p "$(dirname "$output")"
targets=(AxonCore Backend AxonData AxonInterop Distributed CPUReference OneDNN Vulkan AxonBackends AxonConformance AxonCommands)
arguments=()
for target in "${targets[@]}"; do arguments+=(--target "$target"); done
swift package --disable-sandbox generate-documentation "${arguments[@]}" \
    --enable-experimental-combined-documentation --warnings-as-errors \
    --transform-for-static-hosting --output-path "$output"
python3 scripts/docs-coverage.py .build "${targets[@]}"
echo "documentation site: $output"

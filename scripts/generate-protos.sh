#!/usr/bin/env bash
# Generates the Swift for the protocol buffer messages in Sources/AxonInterop/Protos (ONNX and
# TensorBoard) with protoc and swift-protobuf's protoc-gen-swift, into
# Sources/AxonInterop/Generated. The output is committed so that ordinary builds need neither
# protoc nor the plugin; `--check` regenerates into a scratch folder and fails if the
# committed files differ.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v protoc >/dev/null || { echo "error: protoc is missing (apt-get install protobuf-compiler)" >&2; exit 1; }
# The plugin from the swift-protobuf version the package resolved, built once.
swift package resolve >/dev/null
plugin_build=.build/protoc-gen-swift
swift build -c release --package-path .build/checkouts/swift-protobuf --scratch-path "$plugin_build" --product protoc-gen-swift >&2
plugin="$plugin_build/release/protoc-gen-swift"

out=Sources/AxonInterop/Generated
[ "${1:-}" = "--check" ] && out=$(mktemp -d)
mkdir -p "$out"
protoc --plugin="protoc-gen-swift=$plugin" --proto_path=Sources/AxonInterop/Protos \
  --swift_opt=Visibility=Internal --swift_out="$out" Sources/AxonInterop/Protos/*.proto
if [ "${1:-}" = "--check" ]; then
  diff -r "$out" Sources/AxonInterop/Generated >&2 || { echo "error: Sources/AxonInterop/Generated is stale; run scripts/generate-protos.sh" >&2; exit 1; }
  rm -rf "$out"
fi

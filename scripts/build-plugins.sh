#!/usr/bin/env bash
# Builds `axon` the plugin way and lays it out as it would be installed:
#   .build/plugin-axon/axon               no backend compiled in, no load-time oneDNN or Vulkan
#   .build/plugin-axon/libBackend.so      the one copy of Backend that axon and every plugin share
#   .build/plugin-axon/plugins/*.so       reference, onednn and vulkan as run-time plugins
# and the out-of-tree example backend (Examples/CountingBackend) as .build/plugin-examples/libAxonCounting.so.
# Each package builds in its own scratch directory under .build (they resolve the main package
# with different traits). Pass --debug for debug builds.
set -euo pipefail
cd "$(dirname "$0")/.."
configuration=release
[[ "${1:-}" == "--debug" ]] && configuration=debug

build() {  # package directory, scratch directory
    swift build -c "$configuration" --package-path "$1" --scratch-path "$2"
}
build Plugins/Dynamic/Host .build/dynamic-host
build Plugins/Dynamic/Backends .build/dynamic-backends
build Examples/CountingBackend .build/counting-backend

out=.build/plugin-axon
rm -rf "$out" .build/plugin-examples
mkdir -p "$out/plugins" .build/plugin-examples

# SwiftPM links a package's own targets statically into every product that reaches them, even a
# target that is also a dynamic library product, so the host and the in-tree plugins would each
# carry a copy of Backend beside libBackend.so (and the loader would refuse them). Relink them
# from SwiftPM's own object lists without Backend's objects, against libBackend.so. A plugin
# package that depends only on the Backend product, like Examples/CountingBackend, needs none of this.
relink() {  # scratch directory, product, output, executable|library, extra arguments...
    local products="$1/$configuration" list
    list="$(mktemp)"
    grep -v '/Backend\.build/' "$products/$2.product/Objects.LinkFileList" > "$list"
    swiftc "-emit-$4" -o "$3" @"$list" -L "$products" -lBackend -Xlinker '-rpath=$ORIGIN' "${@:5}"
    rm -f "$list"
}
relink .build/dynamic-host axon-plugin-host "$out/axon" executable \
    -Xlinker --gc-sections -Xlinker --defsym -Xlinker main=AxonPluginHost_main
cp ".build/dynamic-host/$configuration/libBackend.so" "$out/"
for plugin in AxonReference AxonOneDNN AxonVulkan; do
    relink .build/dynamic-backends "$plugin" "$out/plugins/lib$plugin.so" library
done
cp ".build/counting-backend/$configuration/libAxonCounting.so" .build/plugin-examples/
echo "plugin build: $out (axon, libBackend.so, plugins/), example: .build/plugin-examples/libAxonCounting.so"

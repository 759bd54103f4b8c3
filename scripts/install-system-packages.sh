#!/usr/bin/env bash
# Installs the Debian packages the project builds and runs against, if any is missing: zlib
# (gzip dataset files), rsvg-convert (the plot test renders the SVG),
# oneDNN and OpenBLAS (OneDNN trait), the Vulkan loader, glslang and Mesa's lavapipe
# software driver (Vulkan trait), Open MPI (MPI trait: the Distributed module, mpirun for its
# tests), and protoc (the generated-protobuf check of CI). Idempotent:
# does nothing when all are present.
set -euo pipefail

packages=(zlib1g-dev librsvg2-bin libdnnl-dev libopenblas-dev libvulkan-dev glslang-tools glslang-dev mesa-vulkan-drivers vulkan-validationlayers libopenmpi-dev openmpi-bin protobuf-compiler)

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo)
else
  echo "error: missing packages (${missing[*]}) and neither root nor sudo is available to install them" >&2
  exit 1
fi
echo "installing: ${missing[*]}"
"${as_root[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null

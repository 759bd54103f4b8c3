#!/usr/bin/env bash
# Packages what a GPU machine without a Swift toolchain needs to run the Vulkan backend's
# benchmarks and conformance suite: `axon` built in release mode with --static-swift-stdlib and
# only the Vulkan trait (so no oneDNN to carry), stripped and gzipped; the Vulkan loader's
# Debian package; and the MNIST files of the training recipes. Writes .gpu/ (git-ignored, about
# 25 MB) and prints the command to run there (see docs/vulkan.md).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-system-packages.sh
swift build -c release --static-swift-stdlib --traits Vulkan --product axon --scratch-path .build-gpu
rm -rf .gpu
mkdir -p .gpu/mnist /tmp/axon-apt-lists/partial
strip -o .gpu/axon .build-gpu/release/axon
gzip .gpu/axon
cp ../shared/datasets/mnist/*.gz .gpu/mnist/
apt_options=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/axon-apt-lists -oAPT::Sandbox::User=root)
apt-get "${apt_options[@]}" update -qq
(cd .gpu && apt-get "${apt_options[@]}" download -qq libvulkan1)
cat <<'COMMAND'
Packaged .gpu/. On the device machine, carry .gpu and run:
  for f in .gpu/*.deb; do dpkg -x $f /; done; ldconfig; gunzip -f .gpu/axon.gz; chmod +x .gpu/axon
  ls /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json 2>/dev/null && export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
  .gpu/axon backends && .gpu/axon bench --backends vulkan --output $OUT/bench && .gpu/axon conformance --mnist-dir .gpu/mnist --cases Tests/Conformance/Cases --output $OUT/conformance
COMMAND

#!/usr/bin/env bash
# Creates (or reuses) the Python virtualenv the interop tests run the ecosystem's readers in:
# numpy, safetensors, tensorboard, onnx and onnxruntime from PyPI, at the versions in
# scripts/interop/requirements.txt, under .build/interop-venv. Prints the interpreter's path.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.build/interop-venv
requirements=scripts/interop/requirements.txt
stamp="$venv/requirements.txt"
mkdir -p .build
# Tests running in parallel may ask at once: one creates the environment, the others wait.
exec 9>.build/interop-venv.lock
flock 9
if [ ! -x "$venv/bin/python" ] || ! cmp -s "$requirements" "$stamp"; then
  rm -rf "$venv"
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements" >&2
  cp "$requirements" "$stamp"
fi
echo "$PWD/$venv/bin/python"

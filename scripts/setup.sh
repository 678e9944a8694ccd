#!/usr/bin/env bash
# Set up this project on a fresh Debian/Python 3.11 machine: headless OpenGL for MuJoCo (Mesa's CPU driver through
# EGL), the CPU build of torch 2.13.0, and this package with its test extras. Idempotent and quiet when done already.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
for pkg in libegl1 libgl1-mesa-dri; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing ${need[*]} (headless rendering)"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

PY=${PYTHON:-python3}
"$PY" -c 'import sys; assert sys.version_info[:2] == (3, 11), f"Python 3.11 needed, found {sys.version.split()[0]}"'
# torch first, pinned, so nothing pulls a CUDA build from the registry.
"$PY" -c 'import torch, sys; sys.exit(0 if torch.__version__.startswith("2.13.0") else 1)' 2>/dev/null \
  || "$PY" -m pip install -q "torch==2.13.0"
"$PY" -m pip install -q -e ".[dev]"
echo "setup: ok"

#!/usr/bin/env bash
# Install Z-Image Desktop from source with the right PyTorch for this machine, in one step:
#   bash packaging/install.sh            (use --dry-run to only print what it would do)
# NVIDIA: the CUDA build the driver supports (Pascal GPUs get CUDA 12.6, newer builds dropped them);
# AMD: the ROCm build; macOS: the default build (Apple MPS); otherwise the CPU build.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
dry=""
[ "${1:-}" = "--dry-run" ] && dry="echo"
base="https://download.pytorch.org/whl"
index=""
why=""
if [ "$(uname -s)" = "Darwin" ]; then
    why="macOS: the default build uses Apple MPS"
elif command -v nvidia-smi >/dev/null 2>&1 && driver=$(nvidia-smi --query-gpu=driver_version --format=csv,noheader 2>/dev/null | head -1) && [ -n "$driver" ]; then
    major=${driver%%.*}
    cap=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -1 || true)
    cap_major=${cap%%.*}
    if [ "$major" -ge 570 ] && [ "${cap_major:-9}" -ge 7 ]; then cuda=cu128
    elif [ "$major" -ge 560 ]; then cuda=cu126
    elif [ "$major" -ge 525 ]; then cuda=cu118
    else
        echo "The NVIDIA driver $driver is too old for current PyTorch; update it, or install the CPU build." >&2
        cuda=cpu
    fi
    index="$base/$cuda"
    why="NVIDIA driver $driver${cap:+, compute capability $cap}: $cuda"
elif command -v rocminfo >/dev/null 2>&1 && rocminfo >/dev/null 2>&1; then
    index="$base/rocm6.4"
    why="AMD ROCm found: rocm6.4"
else
    index="$base/cpu"
    why="no supported GPU found: CPU build (slow, but it works)"
fi
# Exact versions from the lock (packaging/requirements-lock.txt, refreshed on purpose with lock.sh): a new
# upstream release cannot change what this installs. Constraints, not requirements: only what the app
# needs is installed, at the locked version.
lock=packaging/requirements-lock.txt
torch_pin=$(grep -m1 '^torch==' "$lock" | cut -d' ' -f1)
echo "PyTorch: $why"
if [ -n "$index" ]; then
    $dry "$PYTHON" -m pip install "$torch_pin" --index-url "$index"
else
    $dry "$PYTHON" -m pip install "$torch_pin"
fi
$dry "$PYTHON" -m pip install . --constraint "$lock"
echo "Done: start the app with  zimage-desktop"

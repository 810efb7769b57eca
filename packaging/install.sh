#!/usr/bin/env bash
# Install Z-Image Desktop from source with the right PyTorch for this machine, in one step:
#   bash packaging/install.sh            (--dry-run only prints what it would do; --start opens the window after)
# Outside a virtual environment it makes one (system Pythons refuse pip installs, PEP 668), in
# $ZIMAGE_VENV or ~/.local/share/zimage-desktop/venv, and links the command into ~/.local/bin.
# NVIDIA: the CUDA build the driver supports (Pascal GPUs get CUDA 12.6, newer builds dropped them);
# AMD: the ROCm build; macOS: the default build (Apple MPS); otherwise the CPU build.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
dry=""
start=""
for arg in "$@"; do
    case "$arg" in
        --dry-run) dry="echo" ;;
        --start) start=1 ;;
    esac
done
venv=""
if ! "$PYTHON" -c 'import sys; sys.exit(sys.prefix == sys.base_prefix)' 2>/dev/null; then
    venv="${ZIMAGE_VENV:-$HOME/.local/share/zimage-desktop/venv}"
    echo "Not in a virtual environment: installing into $venv"
    if [ ! -x "$venv/bin/python" ]; then
        $dry "$PYTHON" -m venv "$venv" || {
            echo "Could not create a virtual environment; on Debian/Ubuntu: sudo apt install python3-venv" >&2
            exit 1
        }
    fi
    PYTHON="$venv/bin/python"
fi
# An index that does not answer costs seconds, not minutes of pip's default retries.
quick=(--retries 1 --timeout 20)
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
    $dry "$PYTHON" -m pip install "$torch_pin" --index-url "$index" "${quick[@]}" || {
        echo "The PyTorch index $index did not answer; installing PyTorch from PyPI instead." >&2
        $dry "$PYTHON" -m pip install "$torch_pin" "${quick[@]}"
    }
else
    $dry "$PYTHON" -m pip install "$torch_pin" "${quick[@]}"
fi
$dry "$PYTHON" -m pip install . --constraint "$lock" "${quick[@]}"
command_path="zimage-desktop"
if [ -n "$venv" ]; then
    $dry mkdir -p "$HOME/.local/bin"
    $dry ln -sf "$venv/bin/zimage-desktop" "$HOME/.local/bin/zimage-desktop"
    command_path="$HOME/.local/bin/zimage-desktop"
fi
echo "Done: start the app with  $command_path"
echo "To try the window before the 8.5 GB download: $command_path self-test --keep ~/zimage-tiny, then point Settings ▸ Models folder at ~/zimage-tiny/models/comfy (noise, but every part of the window works)."
if [ -n "$start" ]; then
    $dry "$PYTHON" -m zimage_desktop
fi

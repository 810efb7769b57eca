#!/usr/bin/env bash
# Refresh packaging/requirements-lock.txt: the exact versions the bundle and the installers are built from.
#   bash packaging/lock.sh
# Run it on purpose (a new release of a dependency we want), then build the bundle and run its checks
# (`SKIP_TARBALL=1 bash packaging/build-linux.sh` runs packaging/check_bundle.py) before committing the
# new lock. The tests (README's test command, .ci/run) keep running on the newest versions pyproject.toml
# allows, so breakage upstream shows up there first while releases stay on the lock.
#
# One lock for every platform (uv's universal resolution, markers per platform), for Python 3.11+.
# PyTorch is pinned to TORCH_VERSION, but its build (CUDA 12.6/12.8, ROCm, CPU, macOS) is the installer's
# choice per machine, so torch's GPU-runtime packages (nvidia-*, cuda-*, triton), which differ per build
# and index, are not in the lock: they come with the torch build. No hashes for the same reason (a torch
# wheel's hash differs per index).
set -euo pipefail
cd "$(dirname "$0")/.."
TORCH_VERSION="${TORCH_VERSION:-2.13.0}"
python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install -q uv
constraints="$(mktemp)"
echo "torch==$TORCH_VERSION" > "$constraints"
out=packaging/requirements-lock.txt
python3 -m uv pip compile pyproject.toml --extra packaging --universal --python-version 3.11 \
    --constraint "$constraints" --no-header --no-annotate --quiet \
  | grep -Ev '^(nvidia-|cuda-|triton==)' > "$out.new"
{
    echo "# Exact versions for the bundle and the installers: refresh with  bash packaging/lock.sh"
    echo "# (torch's build is chosen per machine by packaging/install.sh; its GPU runtime comes with it)"
    cat "$out.new"
} > "$out"
rm -f "$out.new" "$constraints"
grep -q "^torch==$TORCH_VERSION" "$out" || { echo "torch==$TORCH_VERSION is not in $out" >&2; exit 1; }
echo "wrote $out ($(grep -c '==' "$out") pinned distributions)"

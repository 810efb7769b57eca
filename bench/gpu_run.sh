#!/usr/bin/env bash
# On a lent GPU machine, from the repo root: bash bench/gpu_run.sh PART [--no-edits …]  (1 or 2; see
# docs/PERFORMANCE.md; further arguments go to gpu_profiles.py).
# Installs the carried wheels (.whl/, from bench/prepare_gpu_wheels.sh) beside the machine's own
# packages, then runs one part of the benchmark; the table is also written to $OUT.
set -uo pipefail
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
    || exit 1
export PYTHONPATH="/tmp/site:$PWD" PYTHONUNBUFFERED=1 TOKENIZERS_PARALLELISM=false
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 bench/gpu_profiles.py --part "$1" --work /tmp/zimage-bench "${@:2}" 2>&1 | tee "${OUT:-/tmp}/gpu_profiles_part$1.md"

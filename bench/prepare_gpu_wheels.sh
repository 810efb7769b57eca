#!/usr/bin/env bash
# Preparation for bench/gpu_profiles.py on the lent GPU machines (run here, where pip reaches PyPI).
# Their Python 3.12 has torch, transformers, accelerate, safetensors, tokenizers and numpy, but not
# diffusers, gguf or importlib_metadata (which diffusers needs). This downloads those wheels, in the
# versions the tests use, into .whl/ (git-ignored), which the device call carries with the tree.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf .whl
python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux2014_x86_64 -d .whl \
    diffusers==0.42.1 gguf==0.19.0 importlib_metadata==8.7.0 zipp==3.23.0
ls -l .whl

"""``zimage-desktop self-test``: prove an install works before any download.

Loads every library class the app uses (engine/library_check.py), then builds tiny random Z-Image
models in all three layouts, generates one small image from each with previews, writes it with
metadata, reads the metadata back and checks that a seed repeats.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def run_self_test(keep: Path | None = None) -> int:
    from .devkit.tiny import build_tiny_models
    from .engine.generator import Generator
    from .engine.request import GenerationRequest
    from .history.metadata import read_png_metadata, write_png

    started = time.perf_counter()
    from .engine.library_check import REQUIRED, missing_imports

    # First the libraries: a bundle that lacks a module or a data file says which, by name.
    missing = missing_imports()
    print(f"{'ok  ' if not missing else 'FAIL'} libraries: {len(REQUIRED) - len(missing)} of {len(REQUIRED)} classes load"
          + ("".join(f"\n     {m}" for m in missing)))
    if missing:
        print("self-test failed: the libraries above cannot be loaded", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="zimage-selftest-") as tmp:
        root = keep or Path(tmp)
        models = build_tiny_models(root / "models")
        request = GenerationRequest(prompt="self-test 自检 “Z-Image”", width=256, height=256, seed=1234)
        failures: list[str] = []
        for name, folder in (("diffusers folder", models.diffusers), ("ComfyUI files", models.comfy),
                             ("GGUF Q8_0", models.gguf)):
            generator = Generator(folder, device="cpu")
            steps: list[int] = []
            result = generator.run(request, on_step=lambda e: steps.append(e.step))
            image = result.images[0]
            again = generator.run(request).images[0]
            path = write_png(root / f"selftest-{folder.name}.png", image.image, image.request, image.model, image.timings)
            recalled = read_png_metadata(path)
            checks = {
                "one preview per step": steps == list(range(1, request.steps + 1)),
                "image size": image.image.size == (request.width, request.height),
                "same seed, same image": np.array_equal(np.asarray(image.image), np.asarray(again.image)),
                "metadata round-trip": recalled.request == image.request,  # the request as made (cfg resolved)
            }
            bad = [k for k, ok in checks.items() if not ok]
            failures += [f"{name}: {k}" for k in bad]
            print(f"{'ok  ' if not bad else 'FAIL'} {name}: {image.timings['total_s']:.2f}s"
                  + (f" ({', '.join(bad)})" if bad else ""))
    if failures:
        print("self-test failed: " + "; ".join(failures), file=sys.stderr)
        return 1
    print(f"self-test passed in {time.perf_counter() - started:.1f}s")
    return 0

"""What editing adds to memory: the img2img/inpaint pipelines made from the loaded one (target:
≤ 5 % more RSS, since they share every module), and the peak RSS of a 2048² upscale on the CPU.

Runs on the tiny random kit (zimage_desktop.devkit.tiny), in this process, on the CPU: the
from_pipe figure is what building the two edit pipelines adds to the RSS of a loaded pipeline
(their weights are the same tensors, so the ratio holds for the full model, where the base is
larger); the upscale figure is the process's peak (VmHWM, reset after loading) while a 1024²
picture becomes 2048² (1024² tiles with the CPU plan, 2 steps at strength 0.5: one step a tile).

Usage: python bench/edit_memory.py [--side 1024] [--scale 2]
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--side", type=int, default=1024)
    parser.add_argument("--scale", type=float, default=2.0)
    args = parser.parse_args()

    import numpy as np
    from PIL import Image

    from zimage_desktop.devkit.tiny import build_tiny_models
    from zimage_desktop.engine.edit_run import edit_pipeline
    from zimage_desktop.engine.generator import Generator
    from zimage_desktop.engine.planner import make_plan
    from zimage_desktop.engine.devices import MachineInfo
    from zimage_desktop.engine.request_builder import RequestBuilder

    with tempfile.TemporaryDirectory() as tmp:
        kit = build_tiny_models(Path(tmp) / "kit")
        plan = make_plan(MachineInfo(total_ram=32 * 1024**3), {"Q8_0"}, "cpu")
        gen = Generator(kit.gguf, device="cpu", plan=plan, previews=False)
        gen.ensure_loaded()
        gc.collect()
        loaded = _kib("VmRSS")
        edit_pipeline(gen, False)
        edit_pipeline(gen, True)
        gc.collect()
        with_edit = _kib("VmRSS")

        rng = np.random.default_rng(0)
        source = Path(tmp) / "source.png"
        Image.fromarray(rng.integers(0, 256, (args.side, args.side, 3), dtype=np.uint8)).save(source)
        request = RequestBuilder("cpu").upscale("a detailed picture", source, scale=args.scale, strength=0.5,
                                                seed=1, steps=2)
        gc.collect()
        Path("/proc/self/clear_refs").write_text("5")  # the peak restarts at the current RSS
        before = _kib("VmRSS")
        started = time.perf_counter()
        result = gen.run(request)
        seconds = time.perf_counter() - started
        peak = _kib("VmHWM")
    print(json.dumps({
        "rss_loaded_mib": round(loaded / 1024, 1),
        "from_pipe_added_mib": round((with_edit - loaded) / 1024, 1),
        "from_pipe_added_percent": round(100 * (with_edit - loaded) / loaded, 2),
        "upscale_size": list(result.images[0].image.size),
        "upscale_rss_before_mib": round(before / 1024, 1),
        "upscale_peak_rss_mib": round(peak / 1024, 1),
        "upscale_added_peak_mib": round((peak - before) / 1024, 1),
        "upscale_seconds": round(seconds, 1),
        "tile_pixels": 1024 * 1024,
    }))


if __name__ == "__main__":
    main()

"""The CPU's GGUF decoders inside the real pipeline: today's (engine/gguf_fast.py) against the ones
before round 36 (zimage_desktop/devkit/fast_reference.py, whole-tensor byte operations, every
matmul whole), alternating in one process on the full-size files (issue 28).

One ``Generator`` on the CPU, as ``generate --device cpu`` makes it but holding its encoder (so a
prompt's embeddings stay cached and each run is the denoising step and the decode): each run is one
256² image, 1 step, the same seed, made with the old or the new decoders in turn (ABBA order);
prints each run's step and the medians, and checks that both make the same picture bit for bit.

Usage: python bench/fast_path_ab.py /work/bigweights/models [--runs 3] [--size 256] [--steps 1]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
PROMPT = "a lighthouse on a cliff at dusk, warm light, 35 mm photo"  # bench/peer_sdcpp.py's


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("models", type=Path)
    parser.add_argument("--runs", type=int, default=3, help="runs of each")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--steps", type=int, default=1)
    args = parser.parse_args()
    import numpy as np

    from zimage_desktop.devkit import fast_reference
    from zimage_desktop.engine import gguf_fast
    from zimage_desktop.engine.generator import Generator
    from zimage_desktop.engine.request import GenerationRequest

    transformer = sorted((args.models / "diffusion_models").glob("*.gguf"))[0]
    gen = Generator(args.models, device="cpu")
    req = GenerationRequest.create(PROMPT, seed=1, width=args.size, height=args.size, steps=args.steps,
                                   transformer=str(transformer))
    new = dict(gguf_fast.DECODERS)
    short = gguf_fast.SHORT_INPUT_TOKENS

    def use(which: str) -> None:
        gguf_fast.DECODERS.update(new if which == "new" else fast_reference.DECODERS)
        gguf_fast.SHORT_INPUT_TOKENS = short if which == "new" else 0

    use("new")
    gen.run(req)  # load, encode (cached from now on), warm-up
    steps: dict[str, list[float]] = {"old": [], "new": []}
    pictures: dict[str, np.ndarray] = {}
    for index in range(args.runs * 2):
        which = ("new", "old", "old", "new")[index % 4]
        use(which)
        image = gen.run(req).images[0]
        steps[which].append(image.timings["denoise_s"] / args.steps)
        picture = np.asarray(image.image)
        if which in pictures and not np.array_equal(pictures[which], picture):
            raise SystemExit(f"the {which} decoders made two different pictures")
        pictures[which] = picture
        print(json.dumps({"run": index, "decoders": which, "step_s": round(steps[which][-1], 2),
                          "timings": image.timings}), flush=True)
    same = bool(np.array_equal(pictures["old"], pictures["new"]))
    largest = int(np.abs(pictures["old"].astype(np.int16) - pictures["new"].astype(np.int16)).max())
    old, new_s = statistics.median(steps["old"]), statistics.median(steps["new"])
    print("SUMMARY " + json.dumps({"size": args.size, "runs": args.runs, "old_step_s": round(old, 2),
                                   "new_step_s": round(new_s, 2), "new/old": round(new_s / old, 3),
                                   "same_picture": same, "largest_difference": largest}), flush=True)


if __name__ == "__main__":
    main()

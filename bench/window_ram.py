"""Peak RAM of the real window loading a models folder and making one image, against the residency
table it predicts (issue 27).

``bench/recipe_ram.py`` measures one-prompt ``generate`` processes; the window is the other
process the table predicts for: Qt, the window and its history beside the engine, and an engine
that keeps its GGUF text encoder converted to the int kernels (a ``generate`` keeps the GGUF
bytes). This opens the real main window (``app.run_app``, offscreen Qt) on a fresh data folder
whose settings point at ``MODELS``, lets its worker load the model as it does at start-up, then
submits one image through the window's own controller, and reads the process's VmRSS/VmHWM at each
event: loading begins, loaded (the load column's prediction), the image done (the plan's peak
for that size, without the enhancer: the image's own ``predicted_peak_gib``).

The transformer can be cut short as in ``recipe_ram.py`` (``--full-blocks``: the first N blocks of
each call run, later ones pass their input through; ``child_generate`` there says why the peak
stays), and bf16 convolutions compute in float32 on a CPU without bf16 kernels (the same shim).

Usage: python bench/window_ram.py MODELS [--size 256] [--steps 1] [--full-blocks 1] [--timeout 1800]
Exits 1 when the measured peak of loading or of the image is more than 10 % off its prediction.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def status(field: str) -> float:
    """A /proc/self/status memory field in GiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 2**20
    return 0.0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("models")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--steps", type=int, default=1)
    parser.add_argument("--full-blocks", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=1800)
    parser.add_argument("--profile", default="auto")
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    started = time.perf_counter()

    from recipe_ram import _fp32_convolutions_for_bf16_on_this_cpu, cut_transformer_short

    from zimage_desktop.app import run_app
    from zimage_desktop.config import Paths
    from zimage_desktop.engine.request import GenerationRequest
    from zimage_desktop.ui.settings_store import SettingsStore

    hwm_after_blocks = cut_transformer_short(args.full_blocks)
    _fp32_convolutions_for_bf16_on_this_cpu()
    data = tempfile.mkdtemp(prefix="zimage-window-ram-")
    SettingsStore(Paths.resolve(data)).update(models_dir=str(Path(args.models).resolve()), profile=args.profile)
    window = run_app(data, exec_loop=False)
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    assert app is not None
    seen: dict[str, dict] = {"shown": {"rss": status("VmRSS"), "hwm": status("VmHWM")}}
    done: dict[str, float] = {}

    def on_event(event) -> None:  # type: ignore[no-untyped-def]
        name = type(event).__name__
        if name not in ("Loading", "Loaded", "JobFinished", "Failed"):
            return
        seen[name] = {"rss": status("VmRSS"), "hwm": status("VmHWM"), "s": time.perf_counter() - started}
        if name == "Failed":
            seen[name]["message"] = str(getattr(event, "message", ""))
            done["end"] = time.time()
        elif name == "Loaded":
            plan = event.plan
            seen["plan"] = {"profile": plan.profile, "packed": plan.encoder_packed, "process_gib": plan.process_gib,
                            "load": plan.table().phase_memory(args.size, args.size)["load"][1],
                            "image": plan.predicted_peaks(args.size, args.size, enhance=False)[1]}
            window.controller.submit(GenerationRequest(
                prompt="a lighthouse on a cliff at dusk, warm light, 35 mm photo", width=args.size,
                height=args.size, steps=args.steps, seed=1))
        elif name == "JobFinished":
            done["end"] = time.time()

    window.worker.worker_event.connect(on_event)
    deadline = time.time() + args.timeout
    while time.time() < deadline and "end" not in done:
        app.processEvents()
        time.sleep(0.02)
    window.worker.stop(5000)
    seen["blocks_hwm_gib"] = {"values": hwm_after_blocks}
    print(json.dumps(seen))
    if "JobFinished" not in seen or "plan" not in seen:
        print(f"no image: {seen.get('Failed', {}).get('message', 'timed out')}", file=sys.stderr)
        return 1
    plan = seen["plan"]
    load_peak = seen["Loaded"]["hwm"]
    image_peak = seen["JobFinished"]["hwm"]
    rows = [("loading (VmHWM when loaded)", plan["load"], load_peak),
            (f"one image {args.size}², {args.steps} step (VmHWM at the end)", plan["image"], image_peak)]
    print(f"\nwindow, profile {plan['profile']} (encoder packed: {plan['packed']}, process allowance "
          f"{plan['process_gib']:.2f} GiB); RSS before loading {seen['Loading']['rss']:.2f} GiB, after "
          f"{seen['Loaded']['rss']:.2f} GiB\n")
    print("| phase | predicted peak RAM GiB | measured peak RSS GiB | measured / predicted | within 10 % |")
    print("|---|---:|---:|---:|---|")
    failures = 0
    for label, predicted, measured in rows:
        ratio = measured / predicted
        ok = abs(ratio - 1) <= 0.10
        failures += 0 if ok else 1
        print(f"| {label} | {predicted:.2f} | {measured:.2f} | {ratio:.2f} | {'yes' if ok else 'NO'} |")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

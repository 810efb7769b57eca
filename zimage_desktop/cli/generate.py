"""The work behind `generate` (and `history rerun`, `enhance`): images to files with progress,
Ctrl+C to cancel between steps, one JSON line per image. No torch at import."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from ..config import Paths, Settings
from ..messages import msg, render
from .common import CancelFlag


def generate_to_files(request, models_dir: Path, targets: list[Path | None], paths: Paths, device: str,
                      preview_dir: Path | None, record_history: bool = True, parent_id: int | None = None,
                      enhance: bool = False, engine: Any = None, cpu_int8: bool = False) -> int:
    """Generate with the local engine, or with ``engine`` (a ComfyUI server: ``remote.engine``)."""
    from ..engine.generator import Generator
    from ..engine.residency import CLI_PROCESS_RAM_GIB
    from ..history.saving import save_generated
    from ..models.hashing import HashCache
    from ..preflight import check_data_folder, check_device, check_folder_writable, check_output_paths

    # Before any model loads: a bad --out, data folder or device must not cost a generation.
    check_output_paths(targets)
    if record_history or None in targets:
        check_data_folder(paths.data, paths.images)
    if engine is None:
        check_device(device)
    if preview_dir is not None:
        check_folder_writable(preview_dir, msg("cli_generate.the_previews", "the step previews"))
    if enhance:
        from .enhance import check_enhance_idea

        check_enhance_idea(request.prompt)
    if request.is_edit:  # the source and mask by content address, kept beside the history
        from ..history.edit_inputs import keep_edit_inputs, name_edit_inputs

        request = keep_edit_inputs(request, paths.data) if record_history else name_edit_inputs(request)
    if engine is None:
        # One prompt (and the enhancer's, with --enhance): a CPU-held GGUF encoder is converted to the
        # int kernels only for the enhancer. Measured on the full-size Q6_K encoder on an idle machine
        # (bench/pack_time.py, round 33): the conversion costs 9-12 s and a 100-token encode takes
        # 14.7 s unpacked, 15.2 s packed, so it pays only for the enhancer's short decoding calls.
        # Every image of the run has the one prompt: on the CPU the encoder is let go once it is
        # encoded (and --cpu-int8 converts only then), so the two are never held together.
        generator = Generator(models_dir, device=device, previews=preview_dir is not None,
                              hash_cache=HashCache(paths.hash_cache), pack_encoder=enhance,
                              process_gib=CLI_PROCESS_RAM_GIB, cpu_int8=cpu_int8, release_encoder=True)
    else:
        generator = engine
        engine.roles()  # which files the server has: a missing one or a dead server is said before anything runs
        engine.job_files(request)  # and the job's LoRAs and ControlNet: one sentence naming what it lacks
    if enhance:
        from .enhance import enhance_for_generate

        request = enhance_for_generate(generator, request)
    show_progress = sys.stderr.isatty()

    def on_step(event) -> None:
        if preview_dir is not None and event.preview is not None:
            from PIL import Image

            preview_dir.mkdir(parents=True, exist_ok=True)
            name = f"image{event.image_index + 1}-step{event.step:02d}.png"
            Image.fromarray(event.preview).save(preview_dir / name)
        if show_progress:
            print(f"\rimage {event.image_index + 1}/{event.image_count}  step {event.step}/{event.total_steps}"
                  f"  ETA {event.eta_s:4.1f}s ", end="", file=sys.stderr, flush=True)

    store = None
    if record_history:
        from .common import open_store

        store = open_store(paths)

    problems: list[str] = []

    def on_image(image) -> None:
        target = targets[request.seeds.index(image.seed)]
        saved = save_generated(image, paths, store, target, parent_id)
        if show_progress:
            print(file=sys.stderr)
        if saved.problem:  # kept elsewhere or not recorded: say where, finish the other images
            problems.append(saved.problem)
            print(f"error: {render(saved.problem, Settings.load(paths).shown_language)}", file=sys.stderr)
        for note in image.notes:  # e.g. Turbo ignoring --negative/--cfg (said once per run)
            print(f"note: {render(note, Settings.load(paths).shown_language)}", file=sys.stderr)
        record: dict[str, Any] = {
            "path": str(saved.path.resolve()), "id": saved.history_id, "seed": image.seed, "width": image.request.width,
            "height": image.request.height, "steps": image.request.steps, "cfg": image.request.cfg,
            "timings": image.timings,
            "model": image.model.get("name"),
            # The plan's predicted peak for this image's size: compare with what a profiler measures.
            "predicted_peak_gib": image.model.get("predicted_peak_gib"),
        }
        if image.model.get("engine"):
            record["engine"] = image.model["engine"]
        print(json.dumps(record, ensure_ascii=False), flush=True)

    try:
        with CancelFlag() as cancel:
            result = generator.run(request, on_step=on_step, is_cancelled=cancel, on_image=on_image)
    finally:
        if store is not None:
            store.close()
    if result.cancelled:
        print(f"Cancelled after {len(result.images)} of {request.count} images.", file=sys.stderr)
        return 1
    return 1 if problems else 0

"""What an image records about how it was made: the model files in use (names, sha256, device,
dtype, plan), the plan's predicted peak for its size, and the control it followed.

Functions of the ``Generator`` that made the image; its ``model_info`` is cached once every
file's hash is known.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import guidance
from .model_identity import file_roles
from .request import GeneratedImage, GenerationRequest
from .request_table import RequestParts, request_peaks

if TYPE_CHECKING:
    from .generator import Generator


def model_info(gen: Generator) -> dict:
    """Names and sha256 of the files in use. A file's hash comes from the hash cache (the
    downloader's hash, or an earlier one, kept by size+mtime); one not known yet is hashed on a
    background thread — never here, before the first image (≈ 20 GB for bf16) — and is ""
    until then."""
    assert gen.model_set is not None
    if gen._model_info is not None:
        return gen._model_info
    paths = list(gen.model_set.files())
    known = {p: gen.hash_cache.cached(p) for p in paths}
    files = [{"name": p.name, "sha256": known[p] or ""} for p in paths]
    if not all(known.values()):
        gen._hasher.start([p for p in paths if not known[p]])
    info: dict[str, Any] = {
        "name": gen.model_set.display_name,
        "arch": gen.model_set.arch,
        "form": gen.model_set.form,
        "files": files,
        "hash": files[0]["sha256"][:10] if files else "",
        "device": str(gen.device),
        "dtype": str(gen.dtype).replace("torch.", ""),
        "profile": gen.plan.profile if gen.plan else "",
        "transformer_form": gen.plan.transformer_form if gen.plan else "",
        "roles": file_roles(gen.model_set),  # for the ComfyUI graph in the PNG
    }
    if gen.plan is not None and gen.plan.transformer_int8:
        info["int8"] = True  # --cpu-int8: the picture is not the file's exact product (engine/gguf_int8.py)
    shift = getattr(getattr(getattr(gen.pipe, "scheduler", None), "config", None), "shift", None)
    if isinstance(shift, (int, float)):
        info["shift"] = float(shift)  # the graph's ModelSamplingAuraFlow
    if all(known.values()):
        gen._model_info = info
    return info


def finished_image(gen: Generator, req: GenerationRequest, image, timings: dict, notes: list[str]) -> GeneratedImage:
    """The image with its record: the files that made it, and the control it followed."""
    model = image_model(gen, req)
    if not req.controls:
        return GeneratedImage(request=req, image=image, timings=timings, model=model, notes=tuple(notes))
    prepared, file = gen._control_run
    # "placement": where its own weights were for this image (resident, fp8, offload: control_plan), as
    # decided again for each request's plan (control_run.controlnet)
    placement = gen._control_model[3] if gen._control_model is not None else ""
    model = dict(model, controls=[{"name": file.path.name, "version": file.version,
                                   "sha256": gen.hash_cache.sha256(file.path), "placement": placement}])
    return GeneratedImage(request=req, image=image, timings=timings, model=model,
                          notes=tuple(notes) + tuple(gen._control_notes), control_images=(prepared,))


def image_model(gen: Generator, req: GenerationRequest) -> dict:
    """The files that made an image and the plan's predicted peak for its size. Read after the
    image: the background hashing (started at the first call) has had the whole image to finish."""
    plan = gen.plan
    assert plan is not None
    # For the device the pipeline runs on: a GPU profile run on the CPU holds everything in RAM.
    ran_on = str(gen.device) if gen.device is not None else None
    assert gen.model_set is not None
    cfg = guidance.uses_negative_branch(gen.model_set.architecture, req)
    vram, ram = request_peaks(plan, req.width, req.height, request_parts(gen, req), ran_on, cfg=cfg)
    return {**gen.model_info(), "predicted_peak_gib": {"vram": vram, "ram": ram, "profile": plan.profile,
                                                      "transformer_form": plan.transformer_form,
                                                      "device": ran_on or plan.device_name}}


def request_parts(gen: Generator, req: GenerationRequest) -> RequestParts:
    """What ``req`` adds to the plan's residency table as loaded now: the edit's VAE encode, the
    LoRA set as applied (hooks, or merged with its backup), the ControlNet as placed."""
    patcher = gen.lora_patcher
    applied = patcher.application if patcher is not None else None
    merged = applied is not None and applied.merged
    control = gen._control_model if req.controls else None
    return RequestParts(edit=req.is_edit, lora_gib=gen.lora_gib,
                        lora_copy_gib=applied.copy_gib if applied is not None and not merged else None,
                        lora_kept_gib=patcher.kept_gib([path for path, _ in gen._lora_pairs]) if patcher else 0.0,
                        lora_backup=applied.backup if merged and applied else "",
                        lora_backup_gib=applied.backup_gib if merged and applied else 0.0,
                        control=control[3] if control else "",
                        control_gib=control[1].path.stat().st_size / 1024**3 if control else 0.0)


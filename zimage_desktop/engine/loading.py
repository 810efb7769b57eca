"""Loading for the ``Generator``: the plan for a request, and the pipeline loaded and placed as it
says (the weights converted where the plan says: a CPU-held GGUF encoder packed, a CPU transformer
in int8). Functions of the Generator that owns the pipeline, as ``edit_run``'s and
``control_run``'s are.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import torch

from ..errors import BadInputError
from ..messages import msg
from .devices import probe
from .gguf_packed import pack_cpu_text_encoder
from .guards import install_fp16_guards
from .host_memory import release_dropped_weights, return_freed_memory
from .loader import load_pipeline
from .lora_patch import LoraPatcher
from .model_files import ModelSet, resolve_model_set
from .model_identity import encoder_id
from .placement import apply_plan, component_dtypes, run_device, when_evicted
from .plan_table import INT8_FORMS
from .planner import MemoryPlan, files_for_plan, gpu_index_of, make_plan
from .preview import LatentPreviewer
from .prompts import PromptEncoder
from .oom import is_out_of_memory
from .recovery import host_memory

if TYPE_CHECKING:
    from .generator import Generator

log = logging.getLogger(__name__)

DEVICE_CHOICE = re.compile(r"auto|cpu|mps|cuda(:\d+)?")


def plan_for(gen: Generator, transformer: str | None, profile: str) -> tuple[MemoryPlan, ModelSet]:
    """The plan for a request and the files it will load (reads headers only)."""
    if not DEVICE_CHOICE.fullmatch(gen.device_choice):
        raise BadInputError(msg("generator.unknown_device_choose", "Unknown device {device_choice!r}; choose auto, "
                                "cuda, cuda:N (a GPU by its index), mps or cpu.",
                                device_choice=gen.device_choice))
    from ..preflight import check_device

    check_device(gen.device_choice)
    found = resolve_model_set(gen.models_dir, transformer)
    if gen.plan_override is not None:
        plan = gen.plan_override
    else:
        if gen.machine is None:
            gen.machine = probe()
        if gen.device_choice in ("cpu", "mps") and profile == "auto":
            profile = gen.device_choice
        plan = make_plan(gen.machine, found.available_forms, profile,
                         force_form=found.transformer_form if transformer else None,
                         present_te_forms=found.text_encoder_forms, installed_gib=dict(found.form_gib),
                         compute_dtype="float32" if gen._force_fp32 else None,
                         gpu_index=gpu_index_of(gen.device_choice), lora_gib=gen.lora_gib,
                         model=found.arch, pack_encoder=gen.pack_encoder, process_gib=gen.process_gib,
                         cpu_int8=gen.cpu_int8, release_encoder=gen.release_encoder)
    if gen.plan_override is not None:  # what this engine holds (its table says it)
        plan = replace(plan, encoder_packed=gen.pack_encoder, process_gib=gen.process_gib,
                       encoder_released=gen.release_encoder and plan.device == "cpu")
    if gen.plan_override is not None and gen.cpu_int8 and not plan.transformer_int8 \
            and found.transformer_form in INT8_FORMS:
        plan = replace(plan, transformer_int8=True)  # a fixed CPU plan (tests, benchmarks) asked for int8
    if gen._force_fp32 and plan.compute_dtype != "float32":  # a fixed plan (tests, benchmarks)
        plan = replace(plan, compute_dtype="float32", explanation_note="fp32 after an overflow")
    return plan, files_for_plan(gen.models_dir, found, plan, transformer)


def load(gen: Generator, plan: MemoryPlan, model_set: ModelSet) -> None:
    """Unload what ``gen`` holds, then load ``model_set`` and place it as ``plan`` says (out of
    memory: ``gen._out_of_memory``, which frees and offers the lighter profile)."""
    gen.unload()
    device = run_device(plan, gen.device_choice)
    dtype = getattr(torch, plan.compute_dtype)
    te_dtype, vae_dtype = component_dtypes(plan, dtype)
    started = time.perf_counter()
    out_of_memory = ""  # "", "gpu" or "ram"
    pipe: Any = None
    text_encoder: torch.nn.Module | None = None
    try:
        pipe = load_pipeline(model_set, dtype, te_dtype, vae_dtype)
        pipe.set_progress_bar_config(disable=True)
        text_encoder = apply_plan(pipe, plan, device, model_set.transformer_form)
        # An encoder the plan holds on the CPU multiplies ~100 tokens a call: int8/int4 kernels (issue 28)
        pack_cpu_text_encoder(text_encoder, plan.encoder_packed and (
            device.type == "cpu" or (plan.text_encoder == "cpu" and plan.device != "mps")))
        # A one-prompt run lets the encoder go after encoding, and converts a transformer that int8
        # makes bigger only then (after_encode).
        if plan.transformer_int8 and device.type == "cpu" and not plan.int8_after_encode:
            from .gguf_int8 import convert_to_int8

            convert_to_int8(pipe.transformer)
        if dtype == torch.float16:
            install_fp16_guards(pipe.transformer)
        for hook in gen.on_loaded:
            hook(pipe)
    except (RuntimeError, MemoryError) as exc:  # torch.OutOfMemoryError is a RuntimeError
        if not is_out_of_memory(exc):
            raise
        out_of_memory = "ram" if host_memory(exc) else "gpu"
    if out_of_memory:  # outside the except: its traceback would keep the half-placed pipeline alive
        pipe = text_encoder = None
        gen._out_of_memory(plan, msg("generator.stage_loading", "loading"), out_of_memory == "ram")
    assert text_encoder is not None
    gen.pipe, gen.model_set, gen.plan, gen.device, gen.dtype = pipe, model_set, plan, device, dtype
    new_lora_patcher(gen)
    gen.prompts = PromptEncoder(pipe.tokenizer, text_encoder, encoder_id(model_set),
                                hidden_layer=model_set.architecture.text_hidden_layer)
    gen._previewer = LatentPreviewer(model_set.architecture)
    return_freed_memory()  # what loading freed (a float32 VAE cast to bf16, packed GGUF bytes)
    gen.load_seconds = time.perf_counter() - started
    log.info("loaded %s in %.1f s: %s", model_set.display_name, gen.load_seconds, plan.explanation)


def new_lora_patcher(gen: Generator) -> None:
    """A LoRA patcher over the pipeline's transformer as its layers are now."""
    transformer = getattr(gen.pipe, "transformer")
    gen.lora_patcher = LoraPatcher(transformer)
    # The hooks' device copies of the LoRA matrices leave with a swapped-out transformer (its
    # residency row and the "lora" row swap together).
    when_evicted(transformer, gen.lora_patcher.drop_device_copies)


def after_encode(gen: Generator) -> float:
    """A one-prompt run on the CPU (``plan.encoder_released``), once its prompt is encoded: let the
    text encoder go (its embeddings stay cached), then convert an int8 plan's transformer, so the
    two are never held together. A CLI ``generate --cpu-int8`` at full size would otherwise hold
    the Q6_K encoder (3.1 GiB) beside the int8 transformer (5.8 GiB): above stable-diffusion.cpp's
    8.6 GiB peak (issue 28). Returns the seconds the conversion took (load work, not encoding)."""
    assert gen.prompts is not None and gen.plan is not None and gen.pipe is not None
    gen.prompts.release_encoder()
    release_dropped_weights()
    if not gen.plan.int8_after_encode:
        return 0.0
    from .gguf_int8 import convert_to_int8

    started = time.perf_counter()
    if gen.lora_patcher is not None:
        # Its hooks sit on the layers about to be replaced, and it holds every layer by name: kept
        # through the conversion it would keep each layer's GGUF bytes beside its int8 form (at full
        # size a 10.0 GiB peak where 6.7 are held after, measured).
        gen.lora_patcher.remove()
        gen.lora_patcher = None
    convert_to_int8(gen.pipe.transformer)
    return_freed_memory()
    new_lora_patcher(gen)
    gen._apply_loras()  # the request's set (if any) onto the new layers
    seconds = time.perf_counter() - started
    gen.load_seconds += seconds
    log.info("converted the transformer to int8 after encoding in %.1f s", seconds)
    return seconds

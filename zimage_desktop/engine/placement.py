"""Put a loaded pipeline where a MemoryPlan says, with diffusers' and accelerate's own mechanisms.

- FP8 storage: ``enable_layerwise_casting`` (the model's ``_skip_layerwise_casting_patterns``
  keep ``t_embedder``/``cap_embedder`` in the compute dtype). Never combined with GGUF.
- The text encoder leaves the pipeline: the engine encodes prompts itself (``PromptEncoder``),
  and diffusers' ``enable_model_cpu_offload`` would hook it onto the GPU whatever
  ``_exclude_from_cpu_offload`` says (it ignores that list for models in its offload sequence).
- Swapping ("model" offload, and a text encoder that visits the GPU only to encode): each member
  of a swap ring carries accelerate's ``CpuOffload`` hook, extended to evict the other members
  before it runs. Nothing moves while the same member keeps running, so a transformer stays on the
  GPU from image to image and leaves only for a new prompt's encoder (or the VAE, when the plan
  cannot hold both). diffusers' own model offload is not used: ``maybe_free_model_hooks`` at the
  end of every call sends every model back to the CPU, 11.5 GiB each way per image for bf16.
- Offload "group": ``enable_group_offload`` at leaf level, with CUDA streams on CUDA.
  ``low_cpu_mem_usage`` stays off: with it every onload pins each leaf again (≈ 3.5 GB of CPU
  copying per step for Q4), and it saves no RAM in steady state. ``record_stream`` stays off
  (garbled outputs in some models, diffusers #12673).
- Offload "sequential": transformer and VAE group-offloaded at leaf level without prefetching:
  the least VRAM, the slowest. accelerate's ``enable_sequential_cpu_offload`` fails with GGUF
  (diffusers #14691) and cannot run with the CPU as execution device.
- VAE tiling in 512-pixel tiles (the default tile is the whole 1024² image).

Hooks are built without touching the device (tests build them against a pretend CUDA device);
only resident components are moved, last.
"""

from __future__ import annotations

from dataclasses import astuple, dataclass, replace
from typing import Callable

import torch
from accelerate.hooks import CpuOffload, add_hook_to_module

from ..errors import BadInputError
from ..messages import msg
from .planner import MemoryPlan, build_table

VAE_TILE_PIXELS = 512
CPU = torch.device("cpu")


@dataclass(frozen=True)
class Layout:
    """Each component's ``mode`` in the plan's residency table (residency.py).

    "resident": on the accelerator all the time; "swap": on the accelerator while it runs, evicting
    the other swap members; "stream": layer by layer (group offload); "cpu": runs on the CPU.
    """

    transformer: str
    vae: str
    text_encoder: str


def layout_for(plan: MemoryPlan) -> Layout:
    """The modes of the three components, read from the plan's table (the same rows the memory
    prediction adds up). On the CPU a table says "cpu" for everything; the hooks then are those
    of the GPU profile run on the CPU (tests and benchmarks run profiles there)."""
    table = build_table("cuda" if plan.device == "cpu" else plan.device_name, plan.transformer_form,
                        plan.compute_dtype, plan.text_encoder, plan.text_encoder_form, plan.offload)
    modes = {c.name: c.mode for c in table.components}
    return Layout(modes["transformer"], modes["vae"], modes["text_encoder"])


def on_accelerator(module: torch.nn.Module) -> bool:
    return next(module.parameters()).device.type != "cpu"


class SwapHook(CpuOffload):
    """accelerate's CpuOffload, evicting every other member of its ring before its module runs."""

    def __init__(self, device: torch.device, ring: list[torch.nn.Module]) -> None:
        super().__init__(execution_device=device)
        self.ring = ring
        self.on_evict: list[Callable[[], None]] = []  # what leaves with this module (when_evicted)

    def pre_forward(self, module, *args, **kwargs):
        evicted = False
        for other in self.ring:
            if other is not module and on_accelerator(other):
                other.to(CPU)
                for leave in getattr(getattr(other, "_hf_hook", None), "on_evict", ()):
                    leave()
                evicted = True
        if evicted and torch.device(self.execution_device).type == "cuda":
            torch.cuda.empty_cache()
        return super().pre_forward(module, *args, **kwargs)


def when_evicted(module: torch.nn.Module, callback: Callable[[], None]) -> bool:
    """Call ``callback`` whenever a swap ring moves ``module`` off the device (what its residency row
    swaps with it: the LoRA matrices its hooks copied there). False: ``module`` is not swapped."""
    hook = getattr(module, "_hf_hook", None)
    if not isinstance(hook, SwapHook):
        return False
    hook.on_evict.append(callback)
    return True


def component_dtypes(plan: MemoryPlan, compute: torch.dtype) -> tuple[torch.dtype, torch.dtype]:
    """(text encoder, VAE) storage dtypes for a plan.

    The planner picks the encoder's dtype: bf16 on the CPU (fp32 would take 15 GiB of RAM), 16-bit
    on a GPU even under fp32 compute. The VAE runs in fp32 under fp16 compute, as its config's
    ``force_upcast`` asks (ZImagePipeline does not honour it): 0.33 GB, and no overflow in decoding
    that would make the whole model reload in fp32.
    """
    te = getattr(torch, plan.text_encoder_dtype) if plan.text_encoder_dtype else compute
    vae = torch.float32 if compute == torch.float16 else compute
    return te, vae


def same_placement(plan: MemoryPlan, loaded: MemoryPlan | None) -> bool:
    """Whether a loaded pipeline serves this plan: the predicted peaks (which grow with the LoRAs)
    and their wording do not change what is loaded or where."""
    if loaded is None:
        return False
    ignore = dict(predicted_vram_gib=0.0, predicted_ram_gib=0.0, warnings=(), lora_gib=0.0, mps_encoder_over=(),
                  form_reason="", encoder_reason="", explanation_note="", ram_limit_gib=0.0)
    return replace(plan, **ignore) == replace(loaded, **ignore)  # type: ignore[arg-type]


def run_device(plan: MemoryPlan, choice: str) -> torch.device:
    """The torch device a plan runs on for the user's device choice ("auto" and "cuda": the plan's
    own GPU; "cuda:N", "cpu", "mps": that one)."""
    if choice in ("auto", "cuda"):
        device = torch.device(plan.device_name if choice == "auto" or plan.device == "cuda"
                              else f"cuda:{plan.gpu_index}")
    else:
        device = torch.device(choice)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise BadInputError(msg("generator.profile_needs_cuda_gpu", "The {profile} profile needs a CUDA GPU, and none "
                                "is available; choose the cpu profile.",
                                profile=plan.profile))
    return device


def apply_plan(pipe, plan: MemoryPlan, device: torch.device, storage_form: str) -> torch.nn.Module:
    """Place the pipeline; returns the text encoder, which the pipeline no longer holds.

    ``storage_form`` is the loaded transformer file's form ("bf16", "fp8" or a GGUF form)."""
    text_encoder = pipe.text_encoder
    pipe.register_modules(text_encoder=None)
    resident = build_hooks(pipe, text_encoder, plan, device, storage_form)
    for module in resident:  # the only step that touches the device
        module.to(device)
    return text_encoder


def build_hooks(pipe, text_encoder: torch.nn.Module, plan: MemoryPlan, device: torch.device,
                storage_form: str) -> list[torch.nn.Module]:
    """Casting, tiling and offload hooks for the plan; returns the modules to make resident."""
    compute = getattr(torch, plan.compute_dtype)
    gguf = storage_form not in ("bf16", "fp8")
    if plan.transformer_form == "fp8" or storage_form == "fp8":
        if gguf:
            raise BadInputError(msg("placement.fp_storage_cannot_combined", "FP8 storage cannot be combined with a GGUF "
                                    "transformer."))
        pipe.transformer.enable_layerwise_casting(storage_dtype=torch.float8_e4m3fn, compute_dtype=compute)
    if plan.vae_tiling:
        vae = pipe.vae
        vae.enable_tiling()
        vae.tile_sample_min_size = VAE_TILE_PIXELS
        vae.tile_latent_min_size = VAE_TILE_PIXELS // 8
    if plan.vae_slicing:
        pipe.vae.enable_slicing()

    # One module per row of the residency table; a new component (LoRA weights, a control net)
    # is a new row there and a new entry here.
    modules = {"transformer": pipe.transformer, "vae": pipe.vae, "text_encoder": text_encoder}
    where = dict(zip(("transformer", "vae", "text_encoder"), astuple(layout_for(plan))))
    ring = [modules[name] for name, w in where.items() if w == "swap"]
    for module in ring:
        add_hook_to_module(module, SwapHook(device, ring))  # init_hook parks it on the CPU
    for name, w in where.items():
        if w == "stream":
            modules[name].enable_group_offload(
                onload_device=device, offload_device=CPU, offload_type="leaf_level",
                use_stream=uses_streams(plan, device), low_cpu_mem_usage=False,
            )
        elif w == "cpu":
            modules[name].to(CPU)
    return [modules[name] for name, w in where.items() if w == "resident"]


def uses_streams(plan: MemoryPlan, device: torch.device) -> bool:
    """Group offload prefetches the next layer on a CUDA stream; "sequential" does not prefetch."""
    return plan.offload == "group" and device.type == "cuda"


def execution_device(module: torch.nn.Module) -> torch.device:
    """Where a placed module computes: its hook's device, its group-offload device, or its weights'."""
    hook = getattr(module, "_hf_hook", None)
    exec_device = getattr(hook, "execution_device", None)
    if exec_device is not None:
        return torch.device(exec_device)
    from diffusers.hooks.group_offloading import _get_group_onload_device

    try:
        return _get_group_onload_device(module)
    except ValueError:
        return next(module.parameters()).device

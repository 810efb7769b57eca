"""A plan's residency table: one row per component (text encoder, transformer, VAE), its size
as held and how it is placed, and the (VRAM, RAM) peaks summed over it (engine/residency.py).
``placement.build_hooks`` places the weights from this same table.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Mapping

from ..errors import BadInputError
from ..messages import msg
from .form_components import TEXT_ENCODER_FORMS_GIB, TRANSFORMER_GIB
from .residency import PROCESS_RAM_GIB, Component, Residency
from .residency_rows import lora_components

if TYPE_CHECKING:
    from .planner import Profile

VAE_GIB = 0.16

TE_MODE = {"device": "resident", "offload": "swap", "cpu": "cpu"}
# A GGUF encoder held on the CPU (not on a Mac) has its Q4_K/Q6_K layers converted at load into
# PyTorch's int4/int8 CPU kernels' layouts (engine/gguf_packed.py), which hold more than the file:
# Qwen3-4B's Q6_K file (embedding kept, 3.63 G linear weights at 1 byte instead of 0.82) ×1.20; a
# Q4_K_M file (Q4_K at 0.625 instead of 0.5625, its Q6_K layers at 1 byte) ×1.11.
# tests/test_gguf_packed.py derives both from Qwen3-4B's shapes. Only a run that packs holds that
# (``packed``: a one-prompt ``generate`` keeps the GGUF bytes, Generator(pack_encoder=False)).
CPU_HELD_GROWTH = {"Q6_K": 1.20, "Q4_K": 1.11}
# A GGUF transformer converted to int8 at load (``--cpu-int8``, engine/gguf_int8.py) holds every
# Q8_0/Q4_K/Q6_K Linear weight at 1 byte (+8 a row), the rest as the file stores it: 5.76 GiB for
# Z-Image's real shapes whatever the file's mix (tests/test_gguf_int8.py derives it). An installed
# file's own converted size comes from its header (``sizes["int8:<form>"]``, model_files); for a
# catalog file not yet installed, its form grows by the catalog's ratio (Q4_K_M ×1.24, Q6_K ×1.05,
# Q8_0 ×0.86).
INT8_TRANSFORMER_GIB = 5.76
INT8_FORMS = ("Q8_0", "Q6_K", "Q4_K")


def build_table(device: str, form: str, dtype: str, te: str, te_form: str = "bf16", offload: str = "none",
                vae_tiling: bool = True, sizes: Mapping[str, float] | None = None, te_dtype: str = "",
                lora_gib: float = 0.0, packed: bool = True, int8: bool = False,
                process_gib: float = PROCESS_RAM_GIB, released: bool = False) -> Residency:
    """The residency table of a plan (engine/residency.py): one row per component, its size as
    held, and how it is placed. ``device`` carries the GPU's index ("cuda:1"); ``sizes`` are the
    installed files' own sizes (form → GiB, "te:<form>" for encoders) where known: a small test
    model is small; ``lora_gib`` is the LoRA files in use; ``packed``: a CPU-held GGUF encoder is
    converted to the int kernels at load (engine/gguf_packed.py); ``int8``: a GGUF transformer on the
    CPU is converted to int8 at load (engine/gguf_int8.py); ``process_gib``: the process without the
    model (the window's, or a CLI process's: residency.py); ``released``: a one-prompt run on the CPU
    lets its encoder go once the prompt is encoded and converts an int8 transformer only then
    (engine/loading.after_encode). placement.build_hooks places the weights from this same table."""
    sizes = sizes or {}
    widen = 2.0 if dtype == "float32" else 1.0
    transformer = sizes.get(form, TRANSFORMER_GIB[form]) * (2.0 if form == "bf16" and dtype == "float32" else 1.0)
    as_loaded = transformer
    if int8 and device.startswith("cpu") and form in INT8_FORMS:
        # The installed file's own converted size where known (model_files: from its header), else
        # the catalog file's share of the full model's.
        transformer = sizes.get("int8:" + form, transformer * INT8_TRANSFORMER_GIB / TRANSFORMER_GIB[form])
    # GGUF encoders stay quantized; a bf16 one stays 16-bit whatever the compute dtype
    # (plan_encoder.text_encoder_dtype: bf16 on the CPU, 16-bit on a GPU even under fp32 compute).
    encoder = sizes.get("te:" + te_form, TEXT_ENCODER_FORMS_GIB[te_form])
    vae = VAE_GIB * (1.0 if dtype == "bfloat16" else 2.0)  # fp32 under fp16 compute too (force_upcast)
    te_mode = TE_MODE[te]
    if offload == "none":
        # A transformer that must make room for a new prompt's encoder swaps with it.
        modes = ("swap" if te_mode == "swap" else "resident", "resident")
    elif offload == "model":
        modes = ("swap", "swap")
    elif offload in ("group", "sequential"):
        if te_mode == "swap":
            raise BadInputError(msg("placement.text_encoder_swapped_onto", "A text encoder swapped onto the GPU cannot be "
                                    "combined with streamed offloading."))
        modes = ("stream", "resident" if offload == "group" else "stream")
    else:
        raise BadInputError(msg("placement.unknown_offload_mode", "Unknown offload mode {offload!r}.", offload=offload))
    if device.startswith("cpu"):
        te_mode, modes = "cpu", ("cpu", "cpu")
    if packed and te_mode == "cpu" and not device.startswith("mps"):
        encoder *= CPU_HELD_GROWTH.get(te_form, 1.0)
    # Group offload prefetches on a CUDA stream from page-locked memory; with low_cpu_mem_usage
    # off, loading pins a copy beside the original (two copies until the original is dropped).
    pinned = offload == "group" and device.startswith("cuda")
    te_dtype = te_dtype or dtype
    released = released and device.startswith("cpu")
    # A transformer that int8 makes bigger (Q4_K, Q6_K) is converted once the encoder is gone; one it
    # makes smaller (Q8_0) at load, before the encoder runs beside it.
    later = released and transformer > as_loaded
    transformer_row = Component("transformer", transformer, form, dtype, modes[0], ("denoise",),
                                pinned=pinned and modes[0] == "stream",
                                load_copies=2 if pinned and modes[0] == "stream" else 1,
                                early_gib=as_loaded if later else -1.0, early_until="encode" if later else "")
    rows = (
        Component("text_encoder", encoder, te_form, te_dtype, te_mode, ("enhance", "encode"),
                  until="encode" if released else ""),
        transformer_row,
        Component("vae", vae, "fp32" if dtype != "bfloat16" else "bf16", "float32" if dtype == "float16" else dtype,
                  modes[1], ("decode",)),
        # LoRA matrices compute beside the layers they change (engine/lora_patch.py, hooks); their
        # file's copy stays in RAM for switching (a merged set: engine/request_table.py).
        *lora_components(transformer_row, lora_gib),
    )
    return Residency(device=device, components=rows, tiled_vae=vae_tiling, widen=widen, process_gib=process_gib)


def profile_peaks(profile: Profile, form: str, dtype: str, te: str, te_form: str = "bf16",
           offload: str | None = None, sizes: Mapping[str, float] | None = None, gpu_index: int = 0,
           width: int = 1024, height: int = 1024, lora_gib: float = 0.0, packed: bool = True,
           int8: bool = False, process_gib: float = PROCESS_RAM_GIB, released: bool = False) -> tuple[float, float]:
    """(VRAM, RAM) peaks in GiB: the sums over the plan's residency table."""
    table = build_table(device_name(profile.device, gpu_index), form, dtype, te, te_form, offload or profile.offload,
                        profile.vae_tiling, sizes, lora_gib=lora_gib, packed=packed, int8=int8,
                        process_gib=process_gib, released=released)
    return table.peaks(width, height)


def device_name(kind: str, gpu_index: int = 0) -> str:
    """"cuda:N" for CUDA (the chosen GPU), else the device kind."""
    return f"cuda:{gpu_index}" if kind == "cuda" else kind

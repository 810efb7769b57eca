"""MemoryPlan: how to fit Z-Image-Turbo on this machine — a pure function of its inputs.

``make_plan(machine, files, override)`` picks the transformer form (bf16, FP8 storage, GGUF
Q8_0…Q3_K), where the text encoder runs, the offload mode, VAE tiling and the compute dtype, and
predicts peak VRAM and RAM. Predictions are sums of component sizes (MODEL_FACTS.md) and
activation estimates for 1024²; ``bench/gpu_profiles.py`` measures the real peaks.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .devices import MachineInfo

GIB = 1024**3

# Resident size on the device of each transformer form (bytes of the weights as stored there).
TRANSFORMER_GIB = {
    "bf16": 11.46, "fp8": 5.73, "Q8_0": 6.73, "Q6_K": 5.50, "Q5_K": 5.14, "Q4_K": 4.64, "Q3_K": 3.53,
}
QUALITY_ORDER = ("bf16", "Q8_0", "fp8", "Q6_K", "Q5_K", "Q4_K", "Q3_K")
GGUF_FORMS = {"Q8_0", "Q6_K", "Q5_K", "Q4_K", "Q3_K"}
TEXT_ENCODER_GIB = 7.49  # Qwen3-4B in bf16
VAE_GIB = 0.16
# Transient memory at 1024² (bf16/fp16; fp32 doubles it): the transformer's per-block activations
# plus one dequantized GGUF/FP8 weight, and the VAE decoder whole or in 512-pixel tiles.
DENOISE_ACT_GIB = 0.65
DECODE_ACT_GIB = {True: 0.45, False: 2.6}
PROCESS_RAM_GIB = 1.5  # Python, torch, Qt
GROUP_OFFLOAD_RESIDENT_GIB = 0.35  # the leaf being computed plus the one being prefetched

# Catalog component ids (issue 4 downloads them by these names).
COMPONENT_FOR_FORM = {
    "bf16": "transformer-bf16", "fp8": "transformer-bf16", "Q8_0": "transformer-gguf-q8_0",
    "Q6_K": "transformer-gguf-q6_k", "Q5_K": "transformer-gguf-q5_k_m", "Q4_K": "transformer-gguf-q4_k_m",
    "Q3_K": "transformer-gguf-q3_k_s",
}
BASE_COMPONENTS = ("text-encoder-bf16", "vae", "configs")


@dataclass(frozen=True)
class Profile:
    name: str
    budget_gib: float  # the peak the plan must stay under (None-like 0: no GPU budget)
    device: str  # "cuda" | "mps" | "cpu"
    forms: tuple[str, ...]  # transformer forms in order of preference
    text_encoder: str  # "device" (resident beside the transformer) | "offload" (GPU only while encoding) | "cpu"
    offload: str  # "none" | "model" | "group" | "sequential"
    vae_tiling: bool
    label: str


PROFILES: dict[str, Profile] = {p.name: p for p in (
    Profile("24gb", 22.0, "cuda", ("bf16", "Q8_0"), "device", "none", True, "fits 24 GB"),
    # The transformer stays on the GPU from image to image; a new prompt's encoder swaps in for it.
    Profile("16gb", 14.5, "cuda", ("bf16", "Q8_0", "fp8"), "offload", "none", True, "fits 16 GB"),
    Profile("12gb", 10.5, "cuda", ("fp8", "Q8_0", "Q6_K"), "offload", "none", True, "fits 12 GB"),
    Profile("8gb", 7.0, "cuda", ("Q6_K", "Q5_K", "Q4_K", "Q3_K"), "cpu", "none", True, "fits 8 GB"),
    Profile("6gb", 5.5, "cuda", ("Q4_K", "Q3_K"), "cpu", "model", True, "fits 6 GB"),
    Profile("4gb", 3.8, "cuda", ("Q4_K", "Q3_K"), "cpu", "group", True, "fits 4 GB"),
    Profile("mps", 0.0, "mps", ("bf16", "Q8_0", "Q6_K", "Q4_K"), "cpu", "none", True, "Apple GPU"),
    Profile("cpu", 0.0, "cpu", ("Q8_0", "Q6_K", "Q4_K", "Q3_K"), "cpu", "none", True, "CPU only (slow)"),
)}
PROFILE_NAMES = ("auto", *PROFILES)
# "auto" picks the first profile whose lower bound the GPU's total memory reaches.
AUTO_THRESHOLDS_GIB = (("24gb", 22.0), ("16gb", 14.5), ("12gb", 10.5), ("8gb", 7.0), ("6gb", 5.4), ("4gb", 3.5))


@dataclass(frozen=True)
class MemoryPlan:
    profile: str
    device: str
    compute_dtype: str  # "bfloat16" | "float16" | "float32"
    transformer_form: str  # one of TRANSFORMER_GIB
    text_encoder: str
    offload: str
    vae_tiling: bool
    vae_slicing: bool
    predicted_vram_gib: float
    predicted_ram_gib: float
    explanation: str
    needs: tuple[str, ...]  # catalog component ids this plan loads
    missing: tuple[str, ...] = ()  # of those, what is not in the models folder
    fp16_retry_fp32: bool = False  # fp16 compute that falls back to fp32 on overflow
    text_encoder_dtype: str = ""  # its storage/compute dtype off the CPU; "" = compute_dtype
    warnings: tuple[str, ...] = field(default_factory=tuple)


def compute_dtype_for(machine: MachineInfo, device: str) -> str:
    if device == "cuda" and machine.gpus:
        gpu = machine.gpus[0]
        if gpu.bf16:
            return "bfloat16"
        # Turing/Volta run fp16 fast (with overflow guards); Pascal runs fp16 at 1/64 speed.
        return "float16" if gpu.capability >= (7, 0) else "float32"
    if device in ("mps", "cuda"):  # a CUDA profile shown on a machine without a GPU: assume a modern one
        return "bfloat16"
    return "float32"


def auto_profile(machine: MachineInfo) -> str:
    if machine.gpus:
        total = max(g.total_vram for g in machine.gpus) / GIB
        for name, threshold in AUTO_THRESHOLDS_GIB:
            if total >= threshold:
                return name
        return "cpu"
    return "mps" if machine.mps else "cpu"


def _peaks(profile: Profile, form: str, dtype: str, te: str) -> tuple[float, float]:
    """(VRAM, RAM) peaks in GiB for this profile with this transformer form and compute dtype."""
    widen = 2.0 if dtype == "float32" else 1.0
    transformer = TRANSFORMER_GIB[form] * (2.0 if form == "bf16" and dtype == "float32" else 1.0)
    vae = VAE_GIB * (1.0 if dtype == "bfloat16" else 2.0)  # fp32 under fp16 compute too (force_upcast)
    act = DENOISE_ACT_GIB * widen
    decode = DECODE_ACT_GIB[profile.vae_tiling] * widen
    if profile.device == "cpu":
        return 0.0, PROCESS_RAM_GIB + transformer + TEXT_ENCODER_GIB + vae + act + decode
    # The encoder stays 16-bit off the CPU, whatever the compute dtype (generator.component_dtypes).
    encoding = TEXT_ENCODER_GIB + 0.2
    if profile.offload == "none":
        if te == "offload":  # the encoder swaps with the transformer; either may wait in RAM
            vram = max(transformer + vae + max(act, decode), encoding + vae)
            ram = PROCESS_RAM_GIB + max(TEXT_ENCODER_GIB, transformer)
        else:
            vram = (TEXT_ENCODER_GIB if te == "device" else 0.0) + transformer + vae + max(act, decode)
            ram = PROCESS_RAM_GIB + (TEXT_ENCODER_GIB if te == "cpu" else 0.0)
    elif profile.offload == "model":
        phases = [transformer + act, vae + decode]
        if te == "offload":
            phases.append(encoding)
        vram = max(phases)
        ram = PROCESS_RAM_GIB + transformer + TEXT_ENCODER_GIB + vae
    else:  # group / sequential: weights stream in per layer
        vram = GROUP_OFFLOAD_RESIDENT_GIB * widen + max(act, vae + decode)
        ram = PROCESS_RAM_GIB + transformer + TEXT_ENCODER_GIB + vae
    if profile.device == "mps":  # unified memory: the GPU's share is also RAM
        ram += vram
    return round(vram, 2), round(ram, 2)


def make_plan(machine: MachineInfo, present_forms: frozenset[str] | set[str] = frozenset(),
              override: str = "auto", have_text_encoder: bool = True, have_vae: bool = True,
              force_form: str | None = None, compute_dtype: str | None = None) -> MemoryPlan:
    """The plan for ``override`` (a profile name, or "auto") on this machine.

    ``present_forms`` are the transformer forms whose files are in the models folder (``fp8``
    counts as present when a bf16 or fp8 file is). The best present form that fits the budget is
    used; else the lightest present one (with a warning); with none present the plan names the
    preferred one as missing. ``force_form`` is the form of a file the user chose explicitly.
    ``compute_dtype`` replaces the machine's (the engine re-plans in float32 after an overflow,
    which may need a lighter form to fit).
    """
    name = auto_profile(machine) if override == "auto" else override
    if name not in PROFILES:
        from ..errors import BadInputError

        raise BadInputError(f"Unknown profile {override!r}; choose one of {', '.join(PROFILE_NAMES)}.")
    if force_form is not None and force_form not in TRANSFORMER_GIB:
        force_form = "bf16"
    profile = PROFILES[name]
    warnings: list[str] = []
    device = profile.device
    if device == "cuda" and not machine.gpus:
        warnings.append("No CUDA GPU was found; this profile will fail — choose 'cpu'.")
    dtype = compute_dtype or compute_dtype_for(machine, device)
    te = profile.text_encoder

    def fits(form: str) -> bool:
        vram, _ = _peaks(profile, form, dtype, te)
        return profile.budget_gib == 0 or vram <= profile.budget_gib

    candidates = [f for f in profile.forms if fits(f)] or [profile.forms[-1]]
    if device in ("mps", "cpu") and machine.total_ram:
        # Unified memory on Apple (macOS lets the GPU use ~70% of RAM); plain RAM on the CPU.
        limit = machine.total_ram / GIB * (0.7 if device == "mps" else 0.9)
        candidates = [f for f in candidates if _peaks(profile, f, dtype, te)[1] <= limit] or [candidates[-1]]
    present_forms = set(present_forms)
    ideal = next((f for f in candidates if f in present_forms), candidates[0])
    if force_form is not None:
        form = force_form
        if form not in candidates:
            warnings.append(f"The chosen {form} transformer may not fit this profile's memory budget.")
    elif present := [f for f in candidates if f in present_forms]:
        form = present[0]
    elif fallback := [f for f in QUALITY_ORDER[::-1] if f in present_forms and f in TRANSFORMER_GIB]:
        # Never refuse to run with what is installed: use the lightest file there is, and say so.
        form = fallback[0]
        warnings.append(f"The {candidates[0]} transformer this profile wants is not installed; using {form}, "
                        "which may not fit.")
    else:
        form = candidates[0]
    vram, ram = _peaks(profile, form, dtype, te)
    if machine.total_ram and ram > machine.total_ram / GIB:
        warnings.append(f"Needs about {ram:.0f} GiB of RAM but the machine has {machine.total_ram / GIB:.0f} GiB.")

    # What the profile wants (the model manager downloads this), even when a fallback runs now.
    needs = (COMPONENT_FOR_FORM[ideal], *BASE_COMPONENTS)
    missing = [] if ideal in present_forms else [COMPONENT_FOR_FORM[ideal]]
    if not have_text_encoder:
        missing.append("text-encoder-bf16")
    if not have_vae:
        missing.append("vae")
    return MemoryPlan(
        profile=name, device=device, compute_dtype=dtype, transformer_form=form, text_encoder=te,
        offload=profile.offload, vae_tiling=profile.vae_tiling, vae_slicing=profile.offload == "group",
        predicted_vram_gib=vram, predicted_ram_gib=ram,
        explanation=explain(profile, form, dtype, te, vram, ram, fits(form)),
        needs=needs, missing=tuple(missing), fp16_retry_fp32=dtype == "float16", warnings=tuple(warnings),
        text_encoder_dtype=_text_encoder_dtype(machine, device, te, dtype),
    )


def _text_encoder_dtype(machine: MachineInfo, device: str, te: str, dtype: str) -> str:
    if te == "cpu" or device == "cpu":
        return "bfloat16"  # on the CPU: half the RAM of fp32 (it would be 15 GiB), and it runs once a prompt
    if dtype != "float32":
        return dtype
    # fp32 compute (an overflow retry, or a GPU without fast fp16): the encoder stays 16-bit.
    gpu = machine.gpus[0] if machine.gpus else None
    return "float16" if gpu is not None and not gpu.bf16 else "bfloat16"


FORM_TEXT = {"bf16": "bf16 transformer", "fp8": "FP8-stored transformer (bf16 compute)"}
TE_TEXT = {"device": "text encoder on the GPU", "offload": "text encoder moved to the GPU only to encode",
           "cpu": "text encoder on the CPU"}
OFFLOAD_TEXT = {"none": "", "model": "swapped in and out of the GPU per stage",
                "group": "streamed to the GPU layer by layer", "sequential": "streamed to the GPU module by module"}


def explain(profile: Profile, form: str, dtype: str, te: str, vram: float, ram: float, fits: bool = True) -> str:
    parts = [FORM_TEXT.get(form, f"GGUF {form} transformer")]
    where = {"cuda": "on the GPU", "mps": "on the Apple GPU", "cpu": "on the CPU"}[profile.device]
    parts[0] += f" {OFFLOAD_TEXT[profile.offload] or where}"
    if profile.device != "cpu":
        parts.append(TE_TEXT[te])
    if profile.vae_tiling:
        parts.append("tiled VAE")
    if dtype != "bfloat16":
        parts.append(f"{dtype} compute" + (" (fp32 if it overflows)" if dtype == "float16" else ""))
    memory = f"peak ≈ {vram:.1f} GiB VRAM, {ram:.0f} GiB RAM" if profile.device != "cpu" else f"≈ {ram:.0f} GiB RAM"
    label = profile.label if fits else profile.label.replace("fits", "may not fit")
    return f"{', '.join(parts)} — {label} ({memory})"


def plan_for_folder(machine: MachineInfo, models_dir, profile: str = "auto") -> MemoryPlan:
    """The plan for a models folder as it is (reads file headers only); the CLI and the model
    manager show this one."""
    from ..errors import UserFacingError
    from .model_files import resolve_model_set

    forms: frozenset[str] = frozenset()
    try:
        forms = resolve_model_set(models_dir).available_forms
    except UserFacingError:  # nothing usable there yet: plan for a download
        pass
    return make_plan(machine, forms, profile)


LIGHTER = ("24gb", "16gb", "12gb", "8gb", "6gb", "4gb", "cpu")


def lighter_profile(name: str) -> str | None:
    """The next profile down, offered after running out of GPU memory."""
    if name in LIGHTER and name != LIGHTER[-1]:
        return LIGHTER[LIGHTER.index(name) + 1]
    return None


def reference_plan(device: str = "cpu", compute_dtype: str = "float32") -> MemoryPlan:
    """Everything resident on one device in one dtype, no tricks: the baseline for comparisons."""
    return MemoryPlan(
        profile="reference", device=device, compute_dtype=compute_dtype, transformer_form="bf16",
        text_encoder="device", offload="none", vae_tiling=False, vae_slicing=False, predicted_vram_gib=0.0,
        predicted_ram_gib=0.0, explanation="reference: all components resident, no offload", needs=(),
    )

"""MemoryPlan: how to fit Z-Image-Turbo on this machine — a pure function of its inputs.

``make_plan(machine, files, override)`` picks the transformer form (bf16, FP8 storage, GGUF
Q8_0…Q3_K), where the text encoder runs, the offload mode, VAE tiling and the compute dtype, and
predicts peak VRAM and RAM. Predictions are sums over the plan's residency table (residency.py:
component sizes from MODEL_FACTS.md, the CUDA context, activations for the image size, copies
during moves); ``bench/gpu_profiles.py`` measures the real peaks against them.

Beside it: the catalog components and sizes of each form (``form_components``), the residency
table and its peaks (``plan_table``), the text encoder's Apple placement and dtype
(``plan_encoder``) and the plan's sentence (``plan_explain``).
"""

from __future__ import annotations

from ..messages import msg

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Mapping

from ..errors import BadInputError
from .architectures import DEFAULT, architecture
from .devices import GpuInfo, MachineInfo
from .form_components import (  # noqa: F401  (re-exported: the model manager, the CLI and tests name them here)
    COMPONENT_FOR_FORM, GIB, TE_COMPONENT_FOR_FORM, TEXT_ENCODER_FORMS_GIB, TEXT_ENCODER_GIB, TRANSFORMER_GIB,
    model_components,
)
from .plan_encoder import MPS_GPU_SHARE, mps_encoder, text_encoder_dtype  # noqa: F401  (MPS_GPU_SHARE: re-exported)
from .plan_explain import plan_sentence
from .plan_table import (  # noqa: F401  (VAE_GIB, CPU_HELD_GROWTH: re-exported)
    CPU_HELD_GROWTH, INT8_FORMS, VAE_GIB, build_table, device_name, profile_peaks,
)
from .residency import PROCESS_RAM_GIB, Residency

if TYPE_CHECKING:
    from .model_files import ModelSet

QUALITY_ORDER = ("bf16", "Q8_0", "fp8", "Q6_K", "Q5_K", "Q4_K", "Q3_K")
GGUF_FORMS = {"Q8_0", "Q6_K", "Q5_K", "Q4_K", "Q3_K"}
TE_QUALITY_ORDER = ("bf16", "Q8_0", "Q6_K", "Q4_K")

@dataclass(frozen=True)
class Profile:
    name: str
    # The peak the plan must stay under (0: no GPU budget), CUDA context included; never above the
    # profile's own AUTO_THRESHOLDS_GIB, so the smallest card "auto" gives it can hold the peak.
    budget_gib: float
    device: str  # "cuda" | "mps" | "cpu"
    forms: tuple[str, ...]  # transformer forms in order of preference
    text_encoder: str  # "device" (resident beside the transformer) | "offload" (GPU only while encoding) | "cpu"
    offload: str  # "none" | "model" | "group" | "sequential"
    vae_tiling: bool
    label: str
    te_forms: tuple[str, ...] = ("bf16",)  # text-encoder forms in order of preference
    # With a (small) GGUF encoder: where it runs and the offload mode; "" = as for bf16.
    gguf_text_encoder: str = ""
    gguf_offload: str = ""

    def placement(self, te_form: str) -> tuple[str, str]:
        """(text-encoder placement, offload mode) for an encoder of this form."""
        if te_form != "bf16":
            return self.gguf_text_encoder or self.text_encoder, self.gguf_offload or self.offload
        return self.text_encoder, self.offload


GGUF_TE = ("Q6_K", "Q8_0", "Q4_K")
PROFILES: dict[str, Profile] = {p.name: p for p in (
    Profile("24gb", 22.0, "cuda", ("bf16", "Q8_0"), "device", "none", True, "fits 24 GB", ("bf16", "Q8_0")),
    # 12-16 GB: the transformer stays on the GPU from image to image; a new prompt's encoder swaps in
    # for it (offload "none" with the encoder "offload": placement's swap ring).
    Profile("16gb", 14.5, "cuda", ("bf16", "Q8_0", "fp8"), "offload", "none", True, "fits 16 GB", ("bf16", "Q8_0")),
    Profile("12gb", 10.5, "cuda", ("fp8", "Q8_0", "Q6_K"), "offload", "none", True, "fits 12 GB", ("bf16", *GGUF_TE)),
    # 6-8 GB: a GGUF encoder (≈ 3 GiB) swaps with the transformer on the GPU, never both resident;
    # the bf16 one (7.5 GiB) cannot, so it stays on the CPU. On 8 GB the transformer stays between
    # images (it leaves only for a new prompt); on 6 GB it also makes room for the VAE.
    Profile("8gb", 7.0, "cuda", ("Q6_K", "fp8", "Q5_K", "Q4_K", "Q3_K"), "cpu", "none", True, "fits 8 GB",
            (*GGUF_TE, "bf16"), "offload"),
    Profile("6gb", 5.4, "cuda", ("Q4_K", "Q3_K"), "cpu", "model", True, "fits 6 GB", (*GGUF_TE, "bf16"), "offload"),
    Profile("4gb", 3.5, "cuda", ("Q4_K", "Q3_K"), "cpu", "group", True, "fits 4 GB", ("Q6_K", "Q4_K", "Q8_0", "bf16")),
    # Apple: unified memory, so the encoder on the CPU saves nothing and runs slower; it stays on
    # the GPU unless the GPU's share would pass macOS's limit (make_plan, plan_encoder.mps_encoder).
    Profile("mps", 0.0, "mps", ("bf16", "Q8_0", "Q6_K", "Q4_K"), "device", "none", True, "Apple GPU",
            (*GGUF_TE, "bf16")),
    Profile("cpu", 0.0, "cpu", ("Q8_0", "Q6_K", "Q4_K", "Q3_K"), "cpu", "none", True, "CPU only (slow)",
            ("Q8_0", "Q6_K", "Q4_K", "bf16")),
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
    needs: tuple[str, ...]  # catalog component ids this plan loads
    missing: tuple[str, ...] = ()  # of those, what is not in the models folder
    fp16_retry_fp32: bool = False  # fp16 compute that falls back to fp32 on overflow
    warnings: tuple[str, ...] = field(default_factory=tuple)
    text_encoder_form: str = "bf16"  # one of TEXT_ENCODER_FORMS_GIB ("bf16" = the safetensors file)
    text_encoder_dtype: str = ""  # what the encoder is held and computed in; "" = compute_dtype
    gpu_index: int = 0  # the CUDA GPU this plan was made for (its profile, dtype and placement)
    sizes: tuple[tuple[str, float], ...] = ()  # installed files' sizes the table used (installed_gib)
    # mps only, when memory forced the encoder off the Apple GPU: (the GPU's share with it, macOS's limit) in GiB
    mps_encoder_over: tuple[float, ...] = ()
    lora_gib: float = 0.0  # the LoRA files in use (a "lora" row of its table); the engine keeps it current
    # A GGUF encoder the plan holds on the CPU is converted to the int kernels at load (engine/gguf_packed.py);
    # False for an engine that keeps the GGUF bytes (a one-prompt `generate`: Generator(pack_encoder=False)).
    encoder_packed: bool = True
    # RAM the process holds besides the model: the window's (Qt, the window, the history) or a CLI
    # process's (Generator(process_gib=CLI_PROCESS_RAM_GIB)); residency.py has both, measured.
    process_gib: float = PROCESS_RAM_GIB
    # What the sentence (``explanation``, derived from the figures above) says beyond them: why this
    # transformer form ("the best that fits"), why the encoder sits where it does (Apple), the RAM
    # limit "fits" is judged against on Apple/CPU (GiB; 0: none), and a note ("fp32 after an overflow").
    form_reason: str = ""
    encoder_reason: str = ""
    ram_limit_gib: float = 0.0
    explanation_note: str = ""
    # A GGUF transformer on the CPU converted to int8 × int8 layers at load (engine/gguf_int8.py,
    # ``--cpu-int8``): faster steps, a slightly different picture, more bytes held (its table says).
    transformer_int8: bool = False
    # A one-prompt run on the CPU (a CLI ``generate``: Generator(release_encoder=True)) lets the text
    # encoder go once the prompt is encoded, and converts an int8 transformer only then, so the two
    # are never held together (engine/loading.after_encode; its table says so per phase).
    encoder_released: bool = False

    @property
    def explanation(self) -> str:
        """The plan's English sentence (logs, ``info``, ``models plan``), made from its own figures each
        time it is read, so a plan whose peaks the engine replaced (a LoRA set) says the new ones."""
        return plan_sentence(self, PROFILES.get(self.profile))

    @property
    def int8_after_encode(self) -> bool:
        """An int8 transformer converted once the released encoder is gone (one that int8 makes
        bigger: Q4_K, Q6_K), not at load (Q8_0 shrinks: converted before the encoder runs)."""
        return self.transformer_int8 and self.encoder_released and \
            self.table().component("transformer").early_gib >= 0

    @property
    def text_encoder_is_gguf(self) -> bool:
        return self.text_encoder_form != "bf16"

    @property
    def device_name(self) -> str:
        """The torch device this plan runs on: "cuda:N", "mps" or "cpu"."""
        return device_name(self.device, self.gpu_index)

    def table(self, device: str | None = None) -> Residency:
        """The residency table of this plan (placement builds the hooks from it). ``device``: the
        device the pipeline really runs on where that is not the plan's own — a GPU profile run on
        the CPU (``--device cpu --profile 8gb``) keeps every weight in RAM, swaps nothing and pins
        nothing, so its table says "cpu" everywhere."""
        return build_table(device or self.device_name, self.transformer_form, self.compute_dtype, self.text_encoder,
                           self.text_encoder_form, self.offload, self.vae_tiling, dict(self.sizes),
                           self.text_encoder_dtype, self.lora_gib, self.encoder_packed, self.transformer_int8,
                           self.process_gib, self.encoder_released)

    def predicted_peaks(self, width: int = 1024, height: int = 1024, enhance: bool = True,
                        device: str | None = None, cfg: bool = False) -> tuple[float, float]:
        """(VRAM, RAM) peak in GiB for an image of this size (with the prompt enhancer's phase, or
        without it for an image made from the prompt as typed), on ``device`` (default: the plan's);
        ``cfg``: sampled with classifier-free guidance (a batch of two in each step)."""
        return self.table(device).peaks(width, height, () if enhance else ("enhance",), 2 if cfg else 1)


def chosen_gpu(machine: MachineInfo, gpu_index: int | None = None) -> GpuInfo | None:
    """The GPU a plan is made for: the one at ``gpu_index``, else the one with the most memory.
    That one card decides the profile, the compute dtype and where the weights go."""
    if not machine.gpus:
        return None
    if gpu_index is not None:
        for gpu in machine.gpus:
            if gpu.index == gpu_index:
                return gpu
        raise BadInputError(msg("planner.no_gpu_with_index", "There is no CUDA GPU {index}; this computer has {count}.",
                                index=gpu_index, count=len(machine.gpus)))
    return max(machine.gpus, key=lambda g: g.total_vram)


def gpu_index_of(choice: str) -> int | None:
    """N for a device choice "cuda:N", else None (the planner then takes the GPU with the most
    memory)."""
    return int(choice.split(":", 1)[1]) if choice.startswith("cuda:") and choice[5:].isdigit() else None


def compute_dtype_for(machine: MachineInfo, device: str, gpu_index: int | None = None) -> str:
    if device == "cuda" and machine.gpus:
        gpu = chosen_gpu(machine, gpu_index)
        assert gpu is not None
        if gpu.bf16:
            return "bfloat16"
        # Turing/Volta run fp16 fast (with overflow guards); Pascal runs fp16 at 1/64 speed.
        return "float16" if gpu.capability >= (7, 0) else "float32"
    if device in ("mps", "cuda"):  # a CUDA profile shown on a machine without a GPU: assume a modern one
        return "bfloat16"
    return "float32"


def auto_profile(machine: MachineInfo, gpu_index: int | None = None) -> str:
    gpu = chosen_gpu(machine, gpu_index)
    if gpu is not None:
        total = gpu.total_vram / GIB
        for name, threshold in AUTO_THRESHOLDS_GIB:
            if total >= threshold:
                return name
        return "cpu"
    return "mps" if machine.mps else "cpu"


def _pick_te(profile: Profile, present: set[str]) -> tuple[str, str]:
    """(form to run now, form the profile wants): the preferred installed encoder, else the
    best installed one, else the profile's first choice (to be downloaded). Where bf16 is only
    the last resort (6-8 GB, CPU, Apple) the profile still wants its GGUF encoder."""
    first = profile.te_forms[0]
    run = next((f for f in (*profile.te_forms, *TE_QUALITY_ORDER) if f in present), first)
    wanted = next((f for f in profile.te_forms if f in present), first)
    if wanted == "bf16" and first != "bf16":
        wanted = first
    return run, wanted


def make_plan(machine: MachineInfo, present_forms: frozenset[str] | set[str] = frozenset(),
              override: str = "auto", have_text_encoder: bool = True, have_vae: bool = True,
              force_form: str | None = None, present_te_forms: frozenset[str] | set[str] | None = None,
              installed_gib: Mapping[str, float] | None = None, compute_dtype: str | None = None,
              gpu_index: int | None = None, lora_gib: float = 0.0, have_configs: bool = True,
              model: str = DEFAULT.id, pack_encoder: bool = True, cpu_int8: bool = False,
              process_gib: float = PROCESS_RAM_GIB, release_encoder: bool = False) -> MemoryPlan:
    """The plan for ``override`` (a profile name, or "auto") on this machine.

    ``present_forms`` are the transformer forms whose files are in the models folder (``fp8``
    counts as present when a bf16 or fp8 file is). The best present form that fits the budget is
    used; else the best present one that fits, else the lightest (with a warning); with none
    present the plan names the preferred one as missing. ``force_form`` is the form of a file
    the user chose explicitly. ``present_te_forms`` are the installed text-encoder forms ("bf16",
    "Q8_0", "Q6_K", "Q4_K"); None means "the bf16 one if ``have_text_encoder``". ``installed_gib``
    (ModelSet.form_gib) replaces the full-size figures for installed files.
    ``compute_dtype`` replaces the machine's (the engine re-plans in float32 after an overflow,
    which may need a lighter form to fit). ``gpu_index`` picks the CUDA GPU (default: the one
    with the most memory); that card alone decides profile, dtype and placement.
    ``lora_gib`` is the size of the LoRA files in use. ``have_configs``: the small configs component
    (the tokenizer) is in the models folder; without it, it is named among what to download.
    ``model`` (an engine/architectures.py id) names whose files the plan asks for; a model that
    fp16 breaks (Z-Image base) computes in fp32 where the machine would pick fp16. ``pack_encoder``:
    whether the engine converts a CPU-held GGUF encoder to the int kernels (what it then holds).
    ``process_gib``: the RAM the process holds besides the model (the window's by default; a CLI
    process holds less: residency.CLI_PROCESS_RAM_GIB).
    ``cpu_int8``: the user asked for int8 × int8 transformer layers (used only on the CPU profile with
    a Q8_0/Q6_K/Q4_K GGUF transformer; otherwise the plan says it is not used).
    ``release_encoder``: the engine makes one prompt's images and lets the encoder go after encoding it
    (a CLI ``generate``); taken on the CPU profile only.
    """
    gpu = chosen_gpu(machine, gpu_index)
    index = gpu.index if gpu is not None else 0
    name = auto_profile(machine, gpu_index) if override == "auto" else override
    if name not in PROFILES:
        raise BadInputError(msg("planner.unknown_profile_choose_one", "Unknown profile {override!r}; choose one of {names}.",
                                override=override, names=', '.join(PROFILE_NAMES)))
    if force_form is not None and force_form not in TRANSFORMER_GIB:
        force_form = "bf16"
    profile = PROFILES[name]
    warnings: list[str] = []
    device = profile.device
    if device == "cuda" and not machine.gpus:
        warnings.append(msg("planner.no_cuda_profile_fails", "No CUDA GPU was found; this profile will fail — choose 'cpu'."))
    dtype = compute_dtype or compute_dtype_for(machine, device, gpu_index)
    if dtype == "float16" and not architecture(model).fp16_safe:
        dtype = "float32"
        warnings.append(msg("planner.fp16_unsafe_model", "{model} overflows in fp16 on this GPU; it computes in fp32 "
                            "(slower, twice the memory).", model=architecture(model).title))
    if present_te_forms is None:
        present_te_forms = {"bf16"} if have_text_encoder else set()
    te_form, te_ideal = _pick_te(profile, set(present_te_forms))
    te, offload = profile.placement(te_form)
    ram_limit = machine.total_ram / GIB * (0.7 if device == "mps" else 0.9) if machine.total_ram else 0.0
    released = release_encoder and device == "cpu"

    def fits(form: str) -> bool:
        vram, ram = profile_peaks(profile, form, dtype, te, te_form, offload, installed_gib, index, lora_gib=lora_gib,
                                   packed=pack_encoder, int8=cpu_int8, process_gib=process_gib, released=released)
        if device in ("mps", "cpu"):
            # Unified memory on Apple (macOS lets the GPU use ~70% of RAM); plain RAM on the CPU.
            return not ram_limit or ram <= ram_limit
        return profile.budget_gib == 0 or vram <= profile.budget_gib

    candidates = [f for f in profile.forms if fits(f)] or [profile.forms[-1]]
    present_forms = set(present_forms)
    ideal = next((f for f in candidates if f in present_forms), candidates[0])
    if force_form is not None:
        form = force_form
        if form not in candidates:
            warnings.append(msg("planner.forced_form_may_not_fit", "The chosen {form} transformer may not fit this profile's "
                                "memory budget.", form=form))
    elif present := [f for f in candidates if f in present_forms]:
        form = present[0]
    elif installed := [f for f in QUALITY_ORDER if f in present_forms and f in TRANSFORMER_GIB]:
        # Never refuse to run with what is installed: the best installed file that fits, else the
        # lightest, and say so. (On the CPU a bf16 file that fits RAM beats FP8 storage.)
        form = next((f for f in installed if fits(f)), installed[-1])
        warnings.append(msg("planner.wanted_form_missing", "The {wanted} transformer this profile wants is not installed; "
                            "using {form}.", wanted=candidates[0], form=form) if fits(form) else
                        msg("planner.wanted_form_missing_may_not_fit", "The {wanted} transformer this profile wants is not "
                            "installed; using {form}, which may not fit.", wanted=candidates[0], form=form))
    else:
        form = candidates[0]
    te_why, mps_over = "", ()  # type: tuple[str, tuple[float, ...]]
    if device == "mps":
        te, te_why, mps_over = mps_encoder(machine, profile, form, dtype, te_form, installed_gib, lora_gib)
    int8 = cpu_int8 and device == "cpu" and form in INT8_FORMS
    if cpu_int8 and not int8:
        warnings.append(msg("planner.int8_not_used", "int8 layers are used only for a Q8_0, Q6_K or Q4_K GGUF transformer "
                            "on the CPU; this plan runs the {form} transformer as usual.", form=form))
    vram, ram = profile_peaks(profile, form, dtype, te, te_form, offload, installed_gib, index, lora_gib=lora_gib,
                              packed=pack_encoder, int8=int8, process_gib=process_gib, released=released)
    if device == "cuda" and profile.budget_gib and vram > profile.budget_gib and not warnings:
        warnings.append(msg("planner.over_budget", "This plan needs about {vram:.1f} GiB of GPU memory, more than the "
                            "{budget:.1f} GiB of the {profile} profile; it may run out of memory.",
                            vram=vram, budget=profile.budget_gib, profile=name))
    if machine.total_ram and ram > machine.total_ram / GIB:
        warnings.append(msg("planner.needs_more_ram", "Needs about {ram:.0f} GiB of RAM but the machine has {total:.0f} GiB.",
                            ram=ram, total=machine.total_ram / GIB))

    # What the profile wants (the model manager downloads this), even when a fallback runs now.
    te_component = TE_COMPONENT_FOR_FORM[te_ideal]
    transformer_component, configs_component = model_components(model, ideal)
    needs = (transformer_component, te_component, "vae", configs_component)
    missing = [] if ideal in present_forms else [transformer_component]
    if te_ideal not in present_te_forms:
        missing.append(te_component)
    if not have_vae:
        missing.append("vae")
    if not have_configs:
        missing.append(configs_component)
    reason = ("the best that fits" if form == candidates[0] else "the best installed that fits" if form in candidates
              else "installed" if form in present_forms else "")
    return MemoryPlan(
        profile=name, device=device, compute_dtype=dtype, transformer_form=form, text_encoder=te,
        offload=offload, vae_tiling=profile.vae_tiling, vae_slicing=offload == "group",
        predicted_vram_gib=vram, predicted_ram_gib=ram,
        needs=needs, missing=tuple(missing), fp16_retry_fp32=dtype == "float16", warnings=tuple(warnings),
        text_encoder_form=te_form, text_encoder_dtype=text_encoder_dtype(gpu, device, te, dtype, te_form),
        gpu_index=index, sizes=tuple(sorted((installed_gib or {}).items())), lora_gib=lora_gib,
        mps_encoder_over=mps_over, encoder_packed=pack_encoder, form_reason=reason, encoder_reason=te_why,
        ram_limit_gib=ram_limit, process_gib=process_gib, transformer_int8=int8, encoder_released=released,
    )


def plan_for_folder(machine: MachineInfo, models_dir, profile: str = "auto", gpu_index: int | None = None,
                    cpu_int8: bool = False) -> MemoryPlan:
    """The plan for a models folder as it is (reads file headers only); the CLI and the model
    manager show this one (``cpu_int8``: the window's setting, as its engine would plan)."""
    from ..errors import UserFacingError
    from .model_files import resolve_model_set

    forms: frozenset[str] = frozenset()
    te_forms: frozenset[str] = frozenset()  # nothing usable there yet: plan for a download
    sizes: dict[str, float] = {}
    try:
        found = resolve_model_set(models_dir)
        forms, te_forms, sizes = found.available_forms, found.text_encoder_forms, dict(found.form_gib)
    except UserFacingError:
        pass
    from ..model_folders import has_configs

    return make_plan(machine, forms, profile, present_te_forms=te_forms, installed_gib=sizes, gpu_index=gpu_index,
                     have_configs=has_configs(models_dir) or (Path(models_dir) / "model_index.json").is_file(),
                     cpu_int8=cpu_int8)


def files_for_plan(models_dir, found: ModelSet, plan: MemoryPlan, transformer: str | None) -> ModelSet:
    """The files a plan loads: ``found`` (the request's transformer, or the folder's default), unless
    the plan prefers another of the installed transformer or text-encoder files (reads headers only)."""
    from .model_files import provides, resolve_model_set

    same_transformer = bool(transformer) or plan.transformer_form in provides(found.transformer_form)
    if same_transformer and found.text_encoder_form == plan.text_encoder_form:
        return found
    return resolve_model_set(models_dir, transformer if same_transformer else None,
                             () if same_transformer else (plan.transformer_form,), plan.text_encoder_form)


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
        predicted_ram_gib=0.0, explanation_note="reference: all components resident, no offload", needs=(),
    )

"""The residency table: where every component of a plan lives in every phase — one table that
both places the weights (placement.build_hooks reads each row's ``mode``) and predicts memory
(the peaks are sums over the same rows).

A row (``Component``) says how a component is stored (form, dtype, size), how it is placed
(``mode``), whether its RAM copy is page-locked, and in which phases it runs. ``Residency.where``
simulates a cycle of phases to say, per phase, where each component sits (device with index, or
"ram"); the peaks add per phase:

- VRAM: the CUDA context allowance + every component on the device + the phase's activations,
  which grow with the image size;
- RAM: the process (Python, torch) + every component held in RAM + every copy that exists while a
  component moves (a swap moves one member out while the other comes in: both are in RAM; group
  offload with ``low_cpu_mem_usage=False`` pins a copy beside the original while loading).

Phases an image may run (``PHASES``): "enhance" (the prompt enhancer's LLM: the text encoder with
a KV cache), "encode" (the prompt), "vae-encode" (an edit's source picture, and a control image's
latents, through the VAE encoder), "denoise" (the transformer, with a LoRA set's matrices and a
ControlNet's weights beside it) and "decode". A component runs in the phases its row lists, so the
VAE row lists "vae-encode" only for a request that encodes a picture (``engine/request_table.py``
builds a request's table: an edit, a LoRA set and its merged backup, a ControlNet); the simulation,
the peaks, placement and the display follow the rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

# Figures (GiB) the prediction adds to the weights. The CUDA context is an allowance until the
# first GPU run measures it (bench/gpu_profiles.py prints the measured figure).
CUDA_CONTEXT_GIB = 0.5
# What a process holds besides the model, measured at full size on the CPU (round 34,
# docs/PERFORMANCE.md). The window (bench/window_ram.py): 0.55 GiB with Qt, torch and diffusers
# imported before loading, plus the gallery's thumbnail cache when full (600 thumbnails, ≤ 0.15 GiB:
# bench/history_scale.py). A one-prompt `generate` (bench/recipe_ram.py): 0.37 GiB after its imports,
# about 0.5 once loaded (what loading leaves on the heap). Until round 34 one 1.5 GiB guess served
# both, and every measured peak came out 0.86-0.90 of its prediction.
PROCESS_RAM_GIB = 0.7
CLI_PROCESS_RAM_GIB = 0.5
GROUP_OFFLOAD_RESIDENT_GIB = 0.35  # the leaf being computed plus the one being prefetched
REFERENCE_PIXELS = 1024 * 1024


@dataclass(frozen=True)
class Phase:
    """One stage of making an image. ``fixed_gib`` is transient memory whatever the size (a
    dequantized weight, a KV cache); ``per_mpix_gib`` grows with the pixel count (1024² = 1 Mpx)."""

    name: str
    fixed_gib: float
    per_mpix_gib: float
    tiled_per_mpix_gib: float | None = None  # with VAE tiling: the tile's share instead

    def activations(self, pixels: int, tiled: bool, widen: float) -> float:
        per = self.tiled_per_mpix_gib if tiled and self.tiled_per_mpix_gib is not None else self.per_mpix_gib
        mpix = pixels / REFERENCE_PIXELS
        if tiled and self.tiled_per_mpix_gib is not None:
            mpix = min(mpix, 1.0)  # a 512-pixel tile does not grow with the image
        return (self.fixed_gib + per * mpix) * widen


# In the order a cycle runs them. At 1024² in 16-bit: denoise 0.65 GiB (the block's activations
# plus one dequantized GGUF/FP8 weight), decode 2.6 GiB whole or 0.45 GiB in 512-pixel tiles.
# The VAE encoder (an edit's source, a control image): 1.3 GiB whole, 0.3 GiB in 512-pixel tiles.
PHASES: tuple[Phase, ...] = (
    Phase("enhance", 0.8, 0.0),  # KV cache + one cast copy of the output head (enhance_session)
    Phase("encode", 0.2, 0.0),
    Phase("vae-encode", 0.05, 1.25, tiled_per_mpix_gib=0.25),
    Phase("denoise", 0.25, 0.4),
    Phase("decode", 0.05, 2.55, tiled_per_mpix_gib=0.4),
)
PHASE_NAMES = tuple(p.name for p in PHASES)
MODES = ("resident", "swap", "stream", "cpu", "ram")


@dataclass(frozen=True)
class Component:
    """One row of the table.

    ``mode``: "resident" on the device all the time; "swap" on the device while it runs and until
    another swap member runs; "stream" in RAM, layer by layer on the device (group offload);
    "cpu" runs on the CPU; "ram" is held in RAM and never computes (a merged LoRA set's backup).
    ``pinned``: its RAM copy is page-locked (CUDA streams, a backup copied back at DMA speed), which
    is also why loading holds two copies for group offload (``load_copies``). ``ram_copy``: a copy
    stays in RAM while it is on the device (a LoRA file's matrices, kept to switch sets: the device
    holds a second copy of them). ``arrives``: the phase the row is first held in, "" when it is
    loaded with the model (a LoRA set is read when a request applies it, before its prompt's
    "encode"; a ControlNet when a controlled image first needs it, in "vae-encode"): the load column
    leaves such a row out. ``arrival_gib``: RAM held only while it arrives (the file read before its
    weights are placed), added to that phase. ``copy_gib``: the size of the copy a ``ram_copy`` row
    computes with (the LoRA hooks' matrices in the compute dtype; on the CPU only what is really
    copied), when it is not ``gib``."""

    name: str
    gib: float  # size as held (storage form and dtype)
    form: str  # storage form: "bf16", "fp8", "Q4_K", … ("fp32"/"fp16" for a widened copy)
    dtype: str  # compute dtype
    mode: str
    phases: tuple[str, ...]
    pinned: bool = False
    load_copies: int = 1
    ram_copy: bool = False
    arrives: str = ""
    arrival_gib: float = 0.0
    copy_gib: float = -1.0  # with ``ram_copy``: the copy where it computes, when not ``gib`` (another dtype)
    # A one-prompt run on the CPU (a CLI ``generate``) lets its text encoder go once the prompt is
    # encoded (``until``: the last phase the row is held in, "" = every phase), and converts its
    # transformer to int8 only then: the row holds ``early_gib`` (its file's form) from loading
    # through ``early_until`` and ``gib`` after it (engine/loading.after_encode).
    until: str = ""
    early_gib: float = -1.0
    early_until: str = ""

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"unknown mode {self.mode!r}")
        unknown = (set(self.phases) | {self.arrives, self.until, self.early_until}) - set(PHASE_NAMES) - {""}
        if unknown:
            raise ValueError(f"unknown phases {sorted(unknown)}")

    def held(self, phase: str) -> bool:
        """Whether the row is held in ``phase`` ("load" or a phase name)."""
        return not self.until or phase == "load" or PHASE_NAMES.index(phase) <= PHASE_NAMES.index(self.until)

    def held_gib(self, phase: str) -> float:
        """Its size as held in ``phase`` ("load" or a phase name): 0 once let go."""
        if not self.held(phase):
            return 0.0
        if self.early_gib >= 0 and (phase == "load" or PHASE_NAMES.index(phase) <= PHASE_NAMES.index(self.early_until)):
            return self.early_gib
        return self.gib


@dataclass(frozen=True)
class Residency:
    device: str  # "cuda:0", "mps" or "cpu"
    components: tuple[Component, ...]
    tiled_vae: bool = True
    widen: float = 1.0  # activations double in fp32
    process_gib: float = PROCESS_RAM_GIB
    context_gib: float = field(default=-1.0)  # < 0: the allowance for the device

    @property
    def accelerator(self) -> bool:
        return not self.device.startswith("cpu")

    @property
    def context(self) -> float:
        if self.context_gib >= 0:
            return self.context_gib
        return CUDA_CONTEXT_GIB if self.device.startswith("cuda") else 0.0

    def component(self, name: str) -> Component:
        return next(c for c in self.components if c.name == name)

    def with_component(self, component: Component) -> Residency:
        """This table with ``component`` added (or replacing the row of the same name)."""
        rows = tuple(c for c in self.components if c.name != component.name) + (component,)
        return replace(self, components=rows)

    def active_phases(self) -> tuple[str, ...]:
        used = {p for c in self.components for p in c.phases}
        return tuple(p for p in PHASE_NAMES if p in used)

    def where(self) -> dict[str, dict[str, str]]:
        """phase → component → "device" (on the accelerator), "stream" (in RAM, a layer at a time
        on the device), "ram" (waiting in RAM) or "cpu" (runs on the CPU). Swap members stay on
        the device after running until another member runs (simulated over two cycles)."""
        on_device: set[str] = set()
        table: dict[str, dict[str, str]] = {}
        for _ in range(2):  # the second pass starts from the state a cycle leaves behind
            for phase in self.active_phases():
                # Every swap member that runs in this phase comes on together (a transformer and
                # the LoRA matrices its hooks use) and evicts the others.
                runners = {c.name for c in self.components if c.mode == "swap" and phase in c.phases}
                if runners:
                    on_device = runners
                row = {}
                for c in self.components:
                    if not c.held(phase):
                        row[c.name] = "gone"  # let go after an earlier phase (a one-prompt run's encoder)
                    elif c.mode == "ram" and self.accelerator:
                        row[c.name] = "ram"
                    elif not self.accelerator or c.mode in ("cpu", "ram"):
                        row[c.name] = "cpu"
                    elif c.mode == "resident":
                        row[c.name] = "device"
                    elif c.mode == "stream":
                        row[c.name] = "stream"
                    else:
                        row[c.name] = "device" if c.name in on_device else "ram"
                table[phase] = row
        return table

    def swaps_in(self, phase: str, previous: str | None) -> bool:
        """Whether a swap member moves onto the device at the start of ``phase``."""
        if previous is None:
            return False
        where = self.where()
        return any(where[phase][c.name] == "device" and where[previous][c.name] == "ram"
                   for c in self.components if c.mode == "swap")

    def phase_memory(self, width: int = 1024, height: int = 1024, skip: tuple[str, ...] = (),
                     denoise_batch: int = 1) -> dict[str, tuple[float, float]]:
        """phase → (VRAM, RAM) in GiB, including "load" (RAM only: the pipeline is built in RAM);
        phases in ``skip`` (e.g. "enhance" for an image made without the enhancer) are left out.
        ``denoise_batch`` 2: classifier-free guidance runs the positive and negative prompts as one
        batch, twice the denoising activations."""
        pixels = width * height
        where = self.where()
        out: dict[str, tuple[float, float]] = {}
        # Loading builds every component in RAM first; pinning keeps a second copy meanwhile. Rows a
        # request brings later (``arrives``) are not there yet.
        load_copies = sum(c.held_gib("load") * (c.load_copies if self.accelerator else 1)
                          for c in self.components if not c.arrives)
        out["load"] = (0.0, round(self.process_gib + load_copies, 2))
        previous: str | None = self.active_phases()[-1] if self.active_phases() else None
        for phase in PHASES:
            if phase.name not in where or phase.name in skip:
                continue
            row = where[phase.name]
            act = phase.activations(pixels * (denoise_batch if phase.name == "denoise" else 1), self.tiled_vae,
                                    self.widen)
            vram = ram = 0.0
            for c in self.components:
                place, gib = row[c.name], c.held_gib(phase.name)
                if place == "gone":
                    continue
                if place == "device":
                    vram += c.copy_gib if c.ram_copy and c.copy_gib >= 0 else gib
                    ram += gib if c.ram_copy else 0.0
                elif place == "stream":
                    vram += GROUP_OFFLOAD_RESIDENT_GIB * self.widen if phase.name in c.phases else 0.0
                    ram += gib
                else:
                    ram += gib + (max(c.copy_gib, 0.0) if c.ram_copy and place == "cpu" else 0.0)
            # A row arriving now: its file is read into RAM while its weights are placed.
            ram += sum(c.arrival_gib for c in self.components if c.arrives == phase.name)
            if self.swaps_in(phase.name, previous):
                # The member coming in is still in RAM while the one going out arrives there.
                ram += sum(c.gib for c in self.components
                           if c.mode == "swap" and row[c.name] == "device" and not c.ram_copy)
            # Activations live where the phase's components compute.
            runners = [row[c.name] for c in self.components if phase.name in c.phases]
            if any(place in ("device", "stream") for place in runners):
                vram += act
            else:
                ram += act
            if self.accelerator:
                vram += self.context
            if self.device.startswith("mps"):  # unified memory: the GPU's share is also RAM
                ram += vram
            out[phase.name] = (round(vram, 2), round(ram + self.process_gib, 2))
            previous = phase.name
        return out

    def peaks(self, width: int = 1024, height: int = 1024, skip: tuple[str, ...] = (),
              denoise_batch: int = 1) -> tuple[float, float]:
        """(VRAM, RAM) peak in GiB over every phase (but ``skip``), loading included."""
        memory = self.phase_memory(width, height, skip, denoise_batch)
        return (round(max(v for v, _ in memory.values()), 2), round(max(r for _, r in memory.values()), 2))

    def rows(self) -> list[dict]:
        """The table for display and JSON: one dict per component."""
        where = self.where()
        return [{"component": c.name, "form": c.form, "dtype": c.dtype, "gib": round(c.gib, 2), "mode": c.mode,
                 "pinned": c.pinned, "ram_copy": c.ram_copy,
                 "arrives": c.arrives or "load", "device": self.device if self.accelerator else "cpu",
                 "phases": {p: where[p][c.name] for p in where}} for c in self.components]

    def format(self, width: int = 1024, height: int = 1024) -> str:
        """A plain-text table (``info``): rows of components, columns of phases, then the peaks."""
        where = self.where()
        phases = list(where)
        lines = [f"{'component':<14}{'form':<7}{'dtype':<10}{'GiB':>6}  {'mode':<9}{'pinned':<7}"
                 + "".join(f"{p:<11}" for p in phases)]
        for c in self.components:
            lines.append(f"{c.name:<14}{c.form:<7}{c.dtype:<10}{c.gib:>6.2f}  {c.mode:<9}{'yes' if c.pinned else 'no':<7}"
                         + "".join(f"{where[p][c.name]:<11}" for p in phases))
        memory = self.phase_memory(width, height)
        lines.append(f"{'VRAM GiB':<53}" + "".join(f"{memory[p][0]:<11.2f}" for p in phases)
                     + f"(+{self.context:.1f} context)" * bool(self.context))
        lines.append(f"{'RAM GiB':<53}" + "".join(f"{memory[p][1]:<11.2f}" for p in phases)
                     + f"load {memory['load'][1]:.2f}")
        return "\n".join(lines)

"""A LoRA file's tensors, in whatever layout its trainer wrote, as (down, up, scale) per layer of our
transformer (diffusers module names), checked before anything touches the model.

Layouts read (the names Z-Image LoRAs circulate with):
- diffusers / PEFT: ``transformer.layers.N.attention.to_q.lora_A.weight`` / ``lora_B`` (also
  ``base_model.model.``, ``.default.``);
- ComfyUI / ai-toolkit / diffusion-pipe: ``diffusion_model.layers.N.…`` with ``lora_A/lora_B`` or
  ``lora_down/lora_up`` + ``alpha``, on ComfyUI's own module names (fused ``attention.qkv``, whose up
  matrix is split into q/k/v rows; ``attention.out``; ``final_layer``; ``x_embedder``);
- kohya / sd-scripts: ``lora_unet_layers_N_attention_to_q.lora_down.weight`` + ``.alpha`` (module
  paths with underscores, matched against our own module names written the same way).
LyCORIS LoHa and LoKr files (``hada_w*``, ``lokr_w*`` under any of these names, ``lycoris_`` too) are
read by ``engine/lycoris.py``; DoRA (``dora_scale``), LoCon's Tucker ``lora_mid`` and the convolution-only
Tucker factors of LoHa/LoKr are refused with a sentence (DoRA rescales the base weight by its own
norm, which a hook beside a quantized layer cannot do without dequantizing it). A LoRA for another model (SDXL,
FLUX, Qwen-Image, Wan, SD3, SD 1.5) is recognised from its key names and refused, naming that
model. Only safetensors are read; nothing is unpickled.
"""

from __future__ import annotations

import json
import math
import re
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ModelFilesError
from ..messages import msg
from .lycoris import LOHA_ROLES, LOKR_ROLES, TUCKER_ROLES, LohaLayer, LokrLayer, is_loha, is_lokr, read_lycoris
from .tensor_index import read_safetensors_index, refuse_pickle

if TYPE_CHECKING:
    import torch

# A rank-256 LoRA of every Z-Image layer is about 1.3 GB in bf16; a file far above that is a model.
MAX_LORA_BYTES = 2 * 1024**3
LORA_SUFFIXES = (".safetensors",)
PREFIXES = ("base_model.model.", "model.diffusion_model.", "diffusion_model.", "transformer.", "unet.")
KOHYA_PREFIXES = ("lora_unet_", "lycoris_")
# suffix → role; longest first so ".lora_A.default.weight" wins over ".weight"
SUFFIXES = (
    (".lora_A.default.weight", "down"), (".lora_B.default.weight", "up"),
    (".lora_A.weight", "down"), (".lora_B.weight", "up"),
    (".lora_down.weight", "down"), (".lora_up.weight", "up"),
    (".lora.down.weight", "down"), (".lora.up.weight", "up"),
    (".alpha", "alpha"), (".lora_mid.weight", "mid"), (".dora_scale", "dora"),
    *((f".{role}", role) for role in LOHA_ROLES + LOKR_ROLES + TUCKER_ROLES),
    (".diff", "diff"), (".diff_b", "diff"), (".lora_B.bias", "bias"), (".lora_up.bias", "bias"),
)
# Ours → ComfyUI's (the original Z-Image code's) module names; its fused "qkv" is split into three.
COMFY_NAMES = (
    ("all_final_layer.2-1.", "final_layer."), ("all_x_embedder.2-1", "x_embedder"),
    (".attention.to_out.0", ".attention.out"),
)
# Words in the keys of LoRAs for other models, checked when nothing matches ours.
OTHER_MODELS = (
    ("lora_te2_", "SDXL"), ("input_blocks", "Stable Diffusion (SD 1.5 or SDXL)"),
    ("down_blocks", "Stable Diffusion (SD 1.5 or SDXL)"), ("lora_te_", "Stable Diffusion 1.5"),
    ("double_blocks", "FLUX"), ("single_blocks", "FLUX"), ("single_transformer_blocks", "FLUX"),
    ("img_mlp", "Qwen-Image"), ("txt_mlp", "Qwen-Image"), ("img_mod", "Qwen-Image"),
    ("joint_blocks", "Stable Diffusion 3"), ("self_attn", "Wan"), ("cross_attn", "Wan"),
)


@dataclass(frozen=True)
class LoraHeader:
    shapes: dict[str, tuple[int, ...]]
    metadata: dict[str, str]


def read_lora_header(path: Path) -> LoraHeader:
    """Tensor names and the ``__metadata__`` of a LoRA file; refuses pickles, other formats,
    incomplete files and files far too big to be a LoRA."""
    refuse_pickle(path)
    if path.suffix.lower() not in LORA_SUFFIXES:
        raise ModelFilesError(msg("lora.not_safetensors", "{name} is not a .safetensors file; LoRAs are read only "
                                  "from .safetensors files.", name=path.name))
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ModelFilesError(msg("lora.unreadable", "{name} cannot be read ({exc}).", name=path.name,
                                  exc=exc)) from None
    if size > MAX_LORA_BYTES:
        raise ModelFilesError(msg("lora.too_big", "{name} is {gib:.1f} GB, far larger than any LoRA; it is a model "
                                  "or another kind of file.", name=path.name, gib=size / 1024**3))
    index = read_safetensors_index(path)
    metadata: dict[str, str] = {}
    with path.open("rb") as fh:
        (length,) = struct.unpack("<Q", fh.read(8))
        raw = json.loads(fh.read(length)).get("__metadata__")
    if isinstance(raw, dict):
        metadata = {str(k): v for k, v in raw.items() if isinstance(v, str)}
    return LoraHeader(dict(index.shapes), metadata)


@dataclass
class LoraLayer:
    """``up @ down`` times ``scale`` is the layer's weight change at strength 1."""

    down: "torch.Tensor"  # (rank, in)
    up: "torch.Tensor"  # (out, rank)
    scale: float

    def tensors(self) -> tuple["torch.Tensor", ...]:
        return (self.down, self.up)

    def dense(self) -> "torch.Tensor":
        """ΔW at strength 1, in float32 (for checks against other tools)."""
        return (self.up.float() @ self.down.float()) * self.scale

    def change(self, x: "torch.Tensor", moved) -> "torch.Tensor":
        """The layer's output change for input ``x`` before ``scale``; ``moved(t, dtype)`` is ``t`` on
        x's device (cached by the patcher)."""
        import torch

        down, up = moved(self.down, x.dtype), moved(self.up, x.dtype)
        return torch.nn.functional.linear(torch.nn.functional.linear(x, down), up)


AnyLayer = LoraLayer | LohaLayer | LokrLayer


@dataclass
class LoraWeights:
    name: str
    layers: dict[str, list[AnyLayer]]  # module name → its changes (q/k/v of a fused qkv share a down)
    unmatched: list[str] = field(default_factory=list)  # keys that fit no layer (applied without them)

    @property
    def nbytes(self) -> int:
        seen: set[int] = set()
        total = 0
        for parts in self.layers.values():
            for part in parts:
                for t in part.tensors():
                    if id(t) not in seen:
                        seen.add(id(t))
                        total += t.numel() * t.element_size()
        return total


def module_aliases(shapes: dict[str, tuple[int, int]]) -> dict[str, list[tuple[str, int]]]:
    """Every name a trainer may give one of our layers → [(our module, rows it takes)]; with the
    kohya spelling (dots as underscores) of each. ``shapes`` maps our Linear modules to (out, in)."""
    aliases: dict[str, list[tuple[str, int]]] = {}
    for name, (out, _) in shapes.items():
        aliases[name] = [(name, out)]
        aliases.setdefault(_comfy_name(name), [(name, out)])
        if name.endswith(".attention.to_q"):
            base = name[: -len(".to_q")]
            parts = [f"{base}.to_{p}" for p in "qkv"]
            if all(p in shapes for p in parts):
                aliases[f"{base}.qkv"] = [(p, shapes[p][0]) for p in parts]
    for key, target in list(aliases.items()):
        aliases.setdefault(key.replace(".", "_"), target)
    return aliases


def _comfy_name(name: str) -> str:
    for ours, theirs in COMFY_NAMES:
        name = name.replace(ours, theirs)
    return name


def _split_key(key: str) -> tuple[str, str] | None:
    for prefix in KOHYA_PREFIXES:
        if key.startswith(prefix):
            key = key[len(prefix):]
    for prefix in PREFIXES:
        if key.startswith(prefix):
            key = key[len(prefix):]
    for suffix, role in SUFFIXES:
        if key.endswith(suffix):
            return key[: -len(suffix)].replace(".default", ""), role
    return None


def has_lora_tensors(keys: list[str]) -> bool:
    """Whether any tensor is named as a LoRA (or LyCORIS) matrix, whichever layer it is for."""
    wanted = tuple(suffix for suffix, role in SUFFIXES if role not in ("alpha", "diff", "bias"))
    return any(key.endswith(wanted) for key in keys)


def other_model(keys: list[str], metadata: dict[str, str]) -> str | None:
    """The model a LoRA is for, when its keys or metadata say it is not Z-Image."""
    arch = (metadata.get("modelspec.architecture") or metadata.get("ss_base_model_version") or "").lower()
    if arch and not any(word in arch for word in ("z-image", "zimage", "z_image", "lumina")):
        for word, label in (("xl", "SDXL"), ("flux", "FLUX"), ("qwen", "Qwen-Image"), ("wan", "Wan"),
                            ("sd3", "Stable Diffusion 3"), ("v1", "Stable Diffusion 1.5"), ("sd1", "Stable Diffusion 1.5"),
                            ("hunyuan", "HunyuanVideo"), ("chroma", "Chroma")):
            if word in arch:
                return label
    joined = "\n".join(keys[:2000])
    for word, label in OTHER_MODELS:
        if word in joined:
            return label
    return None


def classify_keys(keys: list[str], shapes: dict[str, tuple[int, int]]
                  ) -> tuple[dict[str, dict[str, str]], list[str], set[str]]:
    """Group keys by the layer they change: ({trainer's module name: {role: key}}, unmatched keys,
    roles seen)."""
    aliases = module_aliases(shapes)
    groups: dict[str, dict[str, str]] = {}
    unmatched: list[str] = []
    roles: set[str] = set()
    for key in keys:
        split = _split_key(key)
        if split is None or split[0] not in aliases:
            unmatched.append(key)
            continue
        module, role = split
        roles.add(role)
        groups.setdefault(module, {})[role] = key
    return groups, unmatched, roles


def read_lora(path: Path, shapes: dict[str, tuple[int, int]]) -> LoraWeights:
    """The LoRA in ``path`` for a transformer whose Linear layers have these (out, in) shapes."""
    from safetensors import safe_open

    header = read_lora_header(path)  # complete, a safetensors file, not too big
    keys = list(header.shapes)
    groups, unmatched, roles = classify_keys(keys, shapes)
    name = path.stem
    if "dora" in roles:
        raise ModelFilesError(msg("lora.dora_unsupported", "{name} is a DoRA file (its dora_scale rescales the "
                                  "model's own weights), which this app does not apply; use a plain LoRA, LoHa or "
                                  "LoKr file.", name=path.name))
    for role, label in (("hada_t1", "LoHa (Tucker)"), ("lokr_t2", "LoKr (Tucker)"), ("mid", "LoCon (Tucker)"),
                        ("diff", "full-weight difference")):
        if role in roles:
            raise ModelFilesError(msg("lora.kind_unsupported", "{name} is a {kind} file; only plain LoRA files "
                                      "(down/up or A/B matrices) can be applied here.", name=path.name, kind=label))
    pairs = {m: g for m, g in groups.items() if "down" in g and "up" in g}
    lycoris = {m: g for m, g in groups.items() if m not in pairs and (is_loha(g) or is_lokr(g))}
    if not pairs and not lycoris:
        other = other_model(keys, header.metadata)
        if other:
            raise ModelFilesError(msg("lora.other_model", "{name} is a LoRA for {model}, not for Z-Image; it cannot "
                                      "be used with this model.", name=path.name, model=other))
        if any(k.endswith(".weight") and len(s) == 2 and min(s) > 512 for k, s in header.shapes.items()):
            raise ModelFilesError(msg("lora.is_a_model", "{name} holds full model weights, not a LoRA; put a "
                                      "transformer in diffusion_models/.", name=path.name))
        sample = ", ".join(k[:60] for k in (unmatched or keys)[:3]) or "—"
        raise ModelFilesError(msg("lora.no_layer_matches", "None of the {count} tensors in {name} matches a layer of "
                                  "the Z-Image transformer (e.g. {keys}).", count=len(keys), name=path.name,
                                  keys=sample))
    aliases = module_aliases(shapes)
    peft_alpha = _peft_alpha(header.metadata)
    layers: dict[str, list[AnyLayer]] = {}
    with safe_open(str(path), framework="pt") as fh:
        for module, group in lycoris.items():
            targets = aliases[module]
            for target, layer in read_lycoris(path, fh, module, group, targets, shapes[targets[0][0]][1], _finite):
                layers.setdefault(target, []).append(layer)
        for module, group in pairs.items():
            down, up = fh.get_tensor(group["down"]), fh.get_tensor(group["up"])
            alpha = fh.get_tensor(group["alpha"]) if "alpha" in group else None
            targets = aliases[module]
            _check(path, module, down, up, alpha, targets, shapes)
            rank = down.shape[0]
            scale = float(alpha.float().reshape(-1)[0]) / rank if alpha is not None else peft_alpha(module, rank)
            start = 0
            for target, rows in targets:
                layers.setdefault(target, []).append(LoraLayer(down, up[start:start + rows], scale))
                start += rows
    for module, group in groups.items():
        if module not in pairs and module not in lycoris:
            unmatched.extend(group.values())
    return LoraWeights(name, layers, unmatched)


def _peft_alpha(metadata: dict[str, str]):
    """diffusers' ``save_lora_weights`` keeps PEFT's ``lora_alpha`` (and per-layer patterns) in the
    ``lora_adapter_metadata`` JSON instead of alpha tensors; scale = alpha / rank as PEFT computes."""
    import json

    try:
        config = json.loads(metadata.get("lora_adapter_metadata") or "{}")
    except ValueError:
        config = {}
    config = {k.removeprefix("transformer."): v for k, v in config.items()} if isinstance(config, dict) else {}
    default = config.get("lora_alpha")
    patterns: dict = config["alpha_pattern"] if isinstance(config.get("alpha_pattern"), dict) else {}
    ranks: dict = config["rank_pattern"] if isinstance(config.get("rank_pattern"), dict) else {}
    rslora = bool(config.get("use_rslora"))

    def pick(table: dict, module: str):
        for pattern, value in table.items():
            try:
                if module == pattern or module.endswith("." + str(pattern)) or re.fullmatch(str(pattern), module):
                    return value
            except re.error:
                continue
        return None

    def scale(module: str, rank: int) -> float:
        alpha = pick(patterns, module)
        alpha = default if alpha is None else alpha
        if not isinstance(alpha, (int, float)):
            return 1.0
        r = pick(ranks, module) or config.get("r") or rank
        r = r if isinstance(r, (int, float)) and r > 0 else rank
        return float(alpha) / (math.sqrt(r) if rslora else r)

    return scale


def _check(path: Path, module: str, down: "torch.Tensor", up: "torch.Tensor", alpha: "torch.Tensor | None",
           targets: list[tuple[str, int]], shapes: dict[str, tuple[int, int]]) -> None:

    out = sum(rows for _, rows in targets)
    in_features = shapes[targets[0][0]][1]
    if (down.ndim != 2 or up.ndim != 2 or down.shape[1] != in_features or up.shape[0] != out
            or up.shape[1] != down.shape[0]):
        raise ModelFilesError(msg("lora.shape_mismatch", "{name} does not fit this transformer: layer {layer} is "
                                  "{want_out}×{want_in}, the LoRA's matrices are {down} and {up} (a LoRA for another "
                                  "model size, or a damaged file).", name=path.name, layer=module, want_out=out,
                                  want_in=in_features, down="×".join(map(str, down.shape)),
                                  up="×".join(map(str, up.shape))))
    for tensor in (down, up) + ((alpha,) if alpha is not None else ()):
        if not tensor.is_floating_point() or not _finite(tensor):
            raise ModelFilesError(msg("lora.not_finite", "{name} is damaged: layer {layer} holds values that are not "
                                      "finite numbers (NaN or infinity).", name=path.name, layer=module))
    if alpha is not None and (alpha.numel() != 1 or not math.isfinite(float(alpha.float().reshape(-1)[0]))):
        raise ModelFilesError(msg("lora.alpha_invalid", "{name} is damaged: the alpha of layer {layer} is not one "
                                  "number.", name=path.name, layer=module))


def _finite(tensor: "torch.Tensor") -> bool:
    """No NaN or infinity: no value has its exponent bits all set. Tested on the bits with numpy,
    which took 60 ms for a rank-32 Z-Image LoRA where torch's isfinite (or a sum) on bf16 took
    seconds on a 2-core CPU; other dtypes (fp8, fp64) go through torch."""
    import numpy as np
    import torch

    masks = {torch.bfloat16: (torch.int16, 0x7F80), torch.float16: (torch.int16, 0x7C00),
             torch.float32: (torch.int32, 0x7F800000)}
    if tensor.dtype in masks:
        view, mask = masks[tensor.dtype]
        bits = tensor.contiguous().view(view).numpy()
        return not bool(np.any((bits & mask) == mask))
    return bool(torch.isfinite(tensor.float()).all())


def linear_shapes(model: "torch.nn.Module") -> dict[str, tuple[int, int]]:
    """(out, in) of every Linear-like module (torch's, diffusers' GGUFLinear) of a transformer."""
    out: dict[str, tuple[int, int]] = {}
    for name, module in model.named_modules():
        if hasattr(module, "in_features") and hasattr(module, "out_features"):
            out[name] = (int(module.out_features), int(module.in_features))
    return out


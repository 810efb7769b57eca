"""A llama.cpp-layout Qwen3 GGUF file as Z-Image's text encoder, with the weights kept quantized.

``transformers`` can read such files (``gguf_file=``) but dequantizes every tensor at load: it
saves download, not memory. Here the Linear weights stay in their GGUF types (Q4_K … Q8_0, BF16 as
GGUF blocks, F16 as float16) inside ``GGUFLinear`` layers, which dequantize one weight per call, as
ComfyUI-GGUF does (on the CPU with engine/gguf_fast.py's decoders); the token embedding dequantizes only the rows a prompt uses.
All 36 layers are loaded although Z-Image reads ``hidden_states[-2]`` (the last layer's input):
the prompt enhancer (engine/enhance.py) runs the same model as a chat model, and the last layer is
about 3% of the file.

Reading the metadata and checking it against the Z-Image text-encoder config needs only gguf-py
(no torch), so the model-file scanner can use it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ModelFilesError
from ..messages import msg

if TYPE_CHECKING:
    import torch

    from .tensor_index import TensorIndex

ARCH = "qwen3"
# llama.cpp tensor names → transformers' Qwen3Model names ("{}" is the layer number).
LAYER_NAMES = {
    "attn_norm.weight": "input_layernorm.weight",
    "attn_q.weight": "self_attn.q_proj.weight",
    "attn_k.weight": "self_attn.k_proj.weight",
    "attn_v.weight": "self_attn.v_proj.weight",
    "attn_output.weight": "self_attn.o_proj.weight",
    "attn_q_norm.weight": "self_attn.q_norm.weight",
    "attn_k_norm.weight": "self_attn.k_norm.weight",
    "ffn_norm.weight": "post_attention_layernorm.weight",
    "ffn_gate.weight": "mlp.gate_proj.weight",
    "ffn_up.weight": "mlp.up_proj.weight",
    "ffn_down.weight": "mlp.down_proj.weight",
}
GLOBAL_NAMES = {"token_embd.weight": "embed_tokens.weight", "output_norm.weight": "norm.weight"}
UNUSED_NAMES = {"output.weight"}  # an untied LM head: Z-Image never projects to the vocabulary
# metadata key (after "qwen3.") → Qwen3 config attribute it must equal
CONFIG_KEYS = {
    "block_count": "num_hidden_layers",
    "embedding_length": "hidden_size",
    "feed_forward_length": "intermediate_size",
    "attention.head_count": "num_attention_heads",
    "attention.head_count_kv": "num_key_value_heads",
    "attention.key_length": "head_dim",
}
_BLOCK = re.compile(r"^blk\.(\d+)\.(.+)$")
OTHER_ARCHS = {"lumina2": msg("gguf_encoder.arch_lumina2", "a Z-Image/Lumina2 transformer"),
               "flux": msg("model_files.guess_flux", "a FLUX transformer"),
               "llama": msg("gguf_encoder.arch_llama", "a Llama model"),
               "qwen2": msg("gguf_encoder.arch_qwen2", "a Qwen2 model"),
               "qwen3moe": msg("gguf_encoder.arch_qwen3moe", "a Qwen3 mixture-of-experts model"),
               "t5": msg("gguf_encoder.arch_t5", "a T5 model"), "t5encoder": msg("model_files.guess_t5", "a T5 text encoder"),
               "gemma3": msg("gguf_encoder.arch_gemma3", "a Gemma 3 model")}


def hf_name(gguf_name: str) -> str | None:
    """transformers' name for a llama.cpp tensor name, or None for tensors Z-Image never uses."""
    if gguf_name in GLOBAL_NAMES:
        return GLOBAL_NAMES[gguf_name]
    if gguf_name in UNUSED_NAMES:
        return None
    match = _BLOCK.match(gguf_name)
    if match and match.group(2) in LAYER_NAMES:
        return f"layers.{match.group(1)}.{LAYER_NAMES[match.group(2)]}"
    return ""  # unknown: reported by the caller


def _field(reader, key: str) -> Any:
    field = reader.fields.get(key)
    if field is None:
        return None
    try:
        return field.contents()
    except Exception:  # a damaged field reads as missing
        return None


def _open(path: Path):
    import gguf

    try:
        return gguf.GGUFReader(path)
    except Exception as exc:  # the reader raises many kinds on damaged files
        raise ModelFilesError(
            msg("gguf_encoder.readable_gguf_file_may", "{name} is not a readable GGUF file ({error_type}: {exc}); it may be "
                "damaged or incomplete — download it again.",
                name=path.name, error_type=type(exc).__name__, exc=exc)
        ) from None


def check_gguf_text_encoder(path: Path, config: dict, reader=None) -> dict[str, int]:
    """Refuse, with one sentence, a GGUF that is not the Qwen3 model the config describes.

    Returns the model's sizes read from the metadata (the config's names)."""
    path = Path(path)
    reader = reader if reader is not None else _open(path)
    arch = _field(reader, "general.architecture")
    if arch != ARCH:
        unknown = (msg("gguf_encoder.arch_unknown", "a model of architecture {arch!r}", arch=arch) if arch
                   else msg("gguf_encoder.arch_none", "a model without an architecture"))
        what = OTHER_ARCHS.get(str(arch), unknown)
        raise ModelFilesError(
            msg("gguf_encoder.gguf_file_qwen_text", "{name} is a GGUF file of {what}, not a Qwen3 text encoder; Z-Image "
                "needs Qwen3-4B in text_encoders/.", name=path.name, what=what)
        )
    sizes: dict[str, int] = {}
    for key, attr in CONFIG_KEYS.items():
        value = _field(reader, f"{ARCH}.{key}")
        if value is None:
            if key == "attention.key_length":  # optional in llama.cpp: hidden / heads
                continue
            raise ModelFilesError(
                msg("gguf_encoder.lacks_gguf_metadata_may", "{name} lacks the GGUF metadata {arch}.{key}; it may be damaged "
                    "— download it again.", name=path.name, arch=ARCH, key=key)
            )
        sizes[attr] = int(value)
    mismatched = [f"{attr} {sizes[attr]} (expected {config[attr]})" for attr in sizes
                  if attr in config and sizes[attr] != int(config[attr])]
    if mismatched:
        raise ModelFilesError(
            msg("gguf_encoder.qwen_model_another_size", "{name} is a Qwen3 model of another size ({names}); Z-Image needs "
                "Qwen3-4B.", name=path.name, names=', '.join(mismatched))
        )
    shapes = {t.name: [int(d) for d in t.shape] for t in reader.tensors}  # innermost first
    embed = shapes.get("token_embd.weight")
    if embed is not None and embed[0] != int(config["hidden_size"]):
        raise ModelFilesError(
            msg("gguf_encoder.holds_qwen_embedding_width", "{name} holds a Qwen3 embedding of width {embed}, but its "
                "metadata and Z-Image say {config}; the file is damaged or mislabelled.",
                name=path.name, embed=embed[0], config=config['hidden_size'])
        )
    names = set(shapes)
    strange = sorted(n for n in names if hf_name(n) == "")
    layers = int(config["num_hidden_layers"])
    needed = {"token_embd.weight"} | {f"blk.{i}.{s}" for i in range(layers) for s in LAYER_NAMES}
    missing = sorted(needed - names)
    if strange or missing:
        detail = (msg("gguf_encoder.layout_missing", "{count} tensors missing, e.g. {example}", count=len(missing),
                      example=missing[0]) if missing
                  else msg("gguf_encoder.layout_unexpected", "unexpected tensor {tensor}", tensor=strange[0]))
        raise ModelFilesError(msg("gguf_encoder.does_have_layout_llama", "{name} does not have the layout of a llama.cpp "
                                  "Qwen3 file ({detail}).",
                                  name=path.name, detail=detail))
    return sizes


# GGUF types grouped into the text-encoder forms the planner knows (by stored size).
GGUF_TE_FORM = {"Q8_0": "Q8_0", "Q6_K": "Q6_K", "Q5_K": "Q6_K", "Q5_0": "Q6_K", "Q5_1": "Q6_K", "Q4_K": "Q4_K",
                "Q4_0": "Q4_K", "Q4_1": "Q4_K", "Q3_K": "Q4_K", "Q2_K": "Q4_K"}


def text_encoder_form(index: TensorIndex) -> str:
    """"bf16" for safetensors (and 16-bit GGUF files), else the GGUF form of most matrices."""
    if index.format != "gguf":
        return "bf16"
    counts: dict[str, int] = {}
    for name, shape in index.shapes.items():
        if len(shape) == 2:
            kind = index.dtypes.get(name, "")
            counts[kind] = counts.get(kind, 0) + 1
    kind = max(counts, key=lambda k: counts[k]) if counts else ""
    return GGUF_TE_FORM.get(kind, "bf16")


# ---------------------------------------------------------------------------------------------
# Building the model (torch from here on)


def _torch_classes():
    import torch
    from diffusers.quantizers.gguf.utils import GGUFParameter, dequantize_gguf_tensor

    class QuantizedEmbedding(torch.nn.Module):
        """An embedding table kept in its GGUF type; only the looked-up rows are dequantized."""

        def __init__(self, weight, compute_dtype: torch.dtype) -> None:
            super().__init__()
            self.weight = weight
            self.compute_dtype = compute_dtype

        def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
            weight = self.weight
            if isinstance(weight, GGUFParameter):
                # GGUF rows are whole blocks, so a row of bytes dequantizes on its own.
                kind = getattr(weight, "quant_type")
                rows = GGUFParameter(weight.as_tensor()[input_ids.reshape(-1)], quant_type=kind)
                values = dequantize_gguf_tensor(rows)
            else:
                values = weight[input_ids.reshape(-1)]
            return values.to(self.compute_dtype).reshape(*input_ids.shape, -1)

    return QuantizedEmbedding


def load_gguf_text_encoder(path: Path, config, compute_dtype: torch.dtype):
    """A ``Qwen3Model`` for ``config`` (a Qwen3Config) with the GGUF file's weights, quantized."""
    import torch
    from accelerate import init_empty_weights
    from transformers import Qwen3Model

    from .gguf_fast import FastGGUFLinear

    from .gguf_read import read_gguf_state

    path = Path(path)
    reader = _open(path)
    check_gguf_text_encoder(path, config.to_dict(), reader)
    embed = next(t for t in reader.tensors if t.name == "token_embd.weight")
    config = config.__class__.from_dict({**config.to_dict(), "vocab_size": int(embed.shape[-1])})
    del reader, embed  # the tensors are read below without the file mapping
    QuantizedEmbedding = _torch_classes()
    with init_empty_weights(include_buffers=False):
        model = Qwen3Model(config)

    def used(gguf_name: str) -> bool:
        return bool(hf_name(gguf_name))

    params: dict[str, Any] = {}
    for gguf_name, tensor in read_gguf_state(path, used).items():
        # Matrices stay as stored (GGUF blocks, or float16); vectors (norms) take the compute dtype.
        if not hasattr(tensor, "quant_type") and (tensor.ndim < 2 or tensor.dtype == torch.float32):
            tensor = tensor.to(compute_dtype)
        params[str(hf_name(gguf_name))] = (
            tensor if isinstance(tensor, torch.nn.Parameter) else torch.nn.Parameter(tensor, requires_grad=False)
        )

    expected = {n: tuple(t.shape) for n, t in model.named_parameters()}
    for name, param in params.items():
        shape = tuple(getattr(param, "quant_shape", param.shape))
        if name in expected and shape != expected[name]:
            raise ModelFilesError(msg("gguf_encoder.tensor_shape", "{name} is damaged or not Qwen3-4B: its tensor {tensor} "
                                      "has the shape {shape}, not {expected}.", name=path.name, tensor=name,
                                      shape="×".join(map(str, shape)), expected="×".join(map(str, expected[name]))))
    model.embed_tokens = QuantizedEmbedding(params.pop("embed_tokens.weight"), compute_dtype)
    for name, param in params.items():
        owner_name, _, leaf = name.rpartition(".")
        owner = model.get_submodule(owner_name)
        if isinstance(owner, torch.nn.Linear):
            if param.dtype == compute_dtype and not hasattr(param, "quant_type"):
                owner.weight = param  # an F32 matrix: an ordinary layer
                continue
            with init_empty_weights():
                linear = FastGGUFLinear(owner.in_features, owner.out_features, bias=False, compute_dtype=compute_dtype)
            linear.requires_grad_(False)
            linear.weight = param
            parent_name, _, child = owner_name.rpartition(".")
            setattr(model.get_submodule(parent_name), child, linear)
        else:
            setattr(owner, leaf, param)
    left = [n for n, p in model.named_parameters() if p.is_meta]
    if left:
        raise ModelFilesError(msg("gguf_encoder.does_hold_every_tensor", "{name} does not hold every tensor of Qwen3-4B "
                                  "(e.g. {left} is missing).",
                                  name=path.name, left=left[0]))
    model.config.dtype = compute_dtype
    return model.eval()

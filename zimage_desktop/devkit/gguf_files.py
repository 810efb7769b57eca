"""GGUF files laid out like the ones people download, for tests and benchmarks.

- ``write_qwen3_gguf``: a Qwen3 text encoder the way llama.cpp's converter writes it (arch
  ``qwen3``, llama.cpp tensor names, ``qwen3.*`` metadata, no ``output.weight`` when tied, norms in
  F32), quantized as F16, BF16, Q8_0, a single K-quant or the "Q4_K_M" mix.
- ``write_transformer_gguf``: a Z-Image transformer (city96-style keys) in any of those types,
  including K-quant mixes like the published Q4_K_M / Q3_K_M files.

K-quants come from ``kquants`` (gguf-py cannot write them).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Callable

import numpy as np

from . import kquants

# transformers' Qwen3 names → llama.cpp names (the inverse of engine.gguf_encoder's map)
_LAYER = {
    "input_layernorm.weight": "attn_norm.weight", "self_attn.q_proj.weight": "attn_q.weight",
    "self_attn.k_proj.weight": "attn_k.weight", "self_attn.v_proj.weight": "attn_v.weight",
    "self_attn.o_proj.weight": "attn_output.weight", "self_attn.q_norm.weight": "attn_q_norm.weight",
    "self_attn.k_norm.weight": "attn_k_norm.weight", "post_attention_layernorm.weight": "ffn_norm.weight",
    "mlp.gate_proj.weight": "ffn_gate.weight", "mlp.up_proj.weight": "ffn_up.weight",
    "mlp.down_proj.weight": "ffn_down.weight",
}


def llama_cpp_name(hf: str) -> str:
    hf = hf.removeprefix("model.")
    if hf == "embed_tokens.weight":
        return "token_embd.weight"
    if hf == "norm.weight":
        return "output_norm.weight"
    if hf == "lm_head.weight":
        return "output.weight"
    _, index, rest = hf.split(".", 2)
    return f"blk.{index}.{_LAYER[rest]}"


def _more_bits(layer: int, n_layers: int) -> bool:
    """llama.cpp's use_more_bits: the first and last eighth of the layers, and every third between."""
    return layer < n_layers // 8 or layer >= 7 * n_layers // 8 or (layer - n_layers // 8) % 3 == 2


def qwen3_type_for(name: str, quant: str, n_layers: int) -> str:
    """The GGUF type llama.cpp gives a Qwen3 tensor for a file type (norms are always F32).

    "Q4_K_M": Q4_K, with Q6_K for the (tied) embedding and for attn_v / ffn_down of the layers
    use_more_bits picks; "Q3_K_M" likewise with Q3_K / Q5_K / Q4_K."""
    if not name.endswith(".weight") or "norm" in name:
        return "F32"
    if quant not in ("Q4_K_M", "Q3_K_M"):
        return quant
    if name == "token_embd.weight":
        return "Q6_K"
    layer = int(name.split(".")[1])
    if name.endswith(("attn_v.weight", "ffn_down.weight")) and _more_bits(layer, n_layers):
        return "Q6_K" if quant == "Q4_K_M" else "Q5_K"
    return "Q4_K" if quant == "Q4_K_M" else "Q3_K"


def encode_tensor(data: np.ndarray, kind: str) -> tuple[np.ndarray, Any]:
    """(array, raw_dtype) for GGUFWriter.add_tensor. A K-quant on rows that are not a multiple of
    256 falls back to Q8_0 (then F16), as llama.cpp falls back for odd shapes."""
    import gguf

    data = np.ascontiguousarray(data, dtype=np.float32)
    if kind == "F32" or data.ndim < 2:
        return data, None
    if kind == "F16":
        return data.astype(np.float16), None
    if kind in kquants.QUANTIZERS:
        if data.shape[-1] % kquants.QK_K == 0:
            return kquants.quantize(data, kind), gguf.GGMLQuantizationType[kind]
        kind = "Q8_0"
    qtype = gguf.GGMLQuantizationType[kind]
    if data.shape[-1] % gguf.GGML_QUANT_SIZES[qtype][0]:
        return data.astype(np.float16), None
    return gguf.quants.quantize(data, qtype), qtype


def _write(path: Path, arch: str, tensors: dict[str, np.ndarray], type_for: Callable[[str], str],
           metadata: Callable[[object], None] | None = None) -> dict[str, str]:
    import gguf

    writer = gguf.GGUFWriter(str(path), arch=arch)
    if metadata is not None:
        metadata(writer)
    written: dict[str, str] = {}
    for name, data in tensors.items():
        array, raw = encode_tensor(data, type_for(name))
        written[name] = raw.name if raw is not None else ("F16" if array.dtype == np.float16 else "F32")
        writer.add_tensor(name, array, raw_dtype=raw)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return written


def _qwen3_metadata(config: dict) -> Callable[[object], None]:
    def metadata(writer) -> None:
        writer.add_name("Qwen3 test model")
        writer.add_context_length(int(config.get("max_position_embeddings", 40960)))
        writer.add_block_count(int(config["num_hidden_layers"]))
        writer.add_embedding_length(int(config["hidden_size"]))
        writer.add_feed_forward_length(int(config["intermediate_size"]))
        writer.add_head_count(int(config["num_attention_heads"]))
        writer.add_head_count_kv(int(config["num_key_value_heads"]))
        writer.add_key_length(int(config["head_dim"]))
        writer.add_value_length(int(config["head_dim"]))
        writer.add_rope_freq_base(float(config.get("rope_theta") or 1_000_000.0))
        writer.add_layer_norm_rms_eps(float(config["rms_norm_eps"]))

    return metadata


def write_qwen3_gguf(state: dict, config: dict, path: Path, quant: str = "Q8_0") -> dict[str, str]:
    """Write a Qwen3Model state dict (transformers names, ``model.`` prefix optional) as llama.cpp
    would; returns {llama.cpp name: GGUF type written}."""
    tensors = {llama_cpp_name(k): _numpy(v) for k, v in state.items()}
    if config.get("tie_word_embeddings", True):
        tensors.pop("output.weight", None)
    n_layers = int(config["num_hidden_layers"])
    return _write(Path(path), "qwen3", tensors, lambda n: qwen3_type_for(n, quant, n_layers), _qwen3_metadata(config))


def transformer_type_for(name: str, quant: str) -> str:
    """GGUF type of a Z-Image transformer tensor in city96-style files. Mixes ("Q4_K_M",
    "Q3_K_M") keep attention outputs and the second FFN matrix one step up, like the
    published files; embedders and final layers stay high precision."""
    if not name.endswith(".weight"):
        return "F32"
    if any(part in name for part in ("x_embedder", "t_embedder", "cap_embedder", "final_layer", "norm")):
        return "F32" if "norm" in name else "F16"
    if quant == "Q4_K_M":
        return "Q6_K" if name.endswith(("attention.out.weight", "feed_forward.w2.weight")) else "Q4_K"
    if quant == "Q3_K_M":
        if name.endswith("feed_forward.w2.weight"):
            return "Q5_K"
        return "Q4_K" if name.endswith("attention.out.weight") else "Q3_K"
    return quant


def write_transformer_gguf(state: dict, path: Path, quant: str = "Q4_K_M") -> dict[str, str]:
    """Write a Z-Image transformer state dict (ComfyUI keys) as GGUF of ``quant`` (a GGUF type or
    a K-quant mix); returns {name: GGUF type written}."""
    tensors = {k: _numpy(v) for k, v in state.items()}
    return _write(Path(path), "lumina2", tensors, lambda n: transformer_type_for(n, quant))


def _numpy(value) -> np.ndarray:
    if hasattr(value, "detach"):
        return value.detach().float().cpu().numpy()
    return np.asarray(value, dtype=np.float32)


# Text-encoder sizes whose matrices K-quants can hold (rows of 256 values), for tests that need
# them; the transformer's caption width must match the encoder's hidden size.
KQUANT_TEXT_ENCODER = dict(hidden_size=256, intermediate_size=512, num_attention_heads=4, num_key_value_heads=2,
                           head_dim=64, num_hidden_layers=4)
KQUANT_TRANSFORMER = dict(cap_feat_dim=256, dim=768, n_heads=6, n_kv_heads=6, axes_dims=[32, 48, 48])


def use_gguf_text_encoder(pipe, models_dir: Path, quant: str, keep_safetensors: bool = False) -> Path:
    """Put ``pipe``'s text encoder into ``models_dir/text_encoders`` as a llama.cpp Qwen3 GGUF
    (and drop the safetensors one unless ``keep_safetensors``); returns the GGUF path."""
    folder = Path(models_dir) / "text_encoders"
    folder.mkdir(parents=True, exist_ok=True)
    if not keep_safetensors:
        for old in folder.glob("*.safetensors"):
            old.unlink()
    path = folder / f"Qwen3-test-{quant}.gguf"
    write_qwen3_gguf(pipe.text_encoder.state_dict(), pipe.text_encoder.config.to_dict(), path, quant)
    return path


# -- full-size files for benchmarks -------------------------------------------------------------
# A random 64-row slab per tensor, quantized for real and repeated to the full shape: the layout,
# types and sizes are exactly a real file's (memory does not depend on the values), and building
# takes minutes instead of the hour a 10 B-value quantization takes on 2 cores.


def _kind_for(shape: tuple[int, ...], kind: str) -> str:
    """The type a tensor is really written in (the writer's fallbacks for odd shapes)."""
    import gguf

    if len(shape) < 2 or kind in ("F32", "F16"):
        return "F32" if len(shape) < 2 else kind
    if kind in kquants.QUANTIZERS and shape[-1] % kquants.QK_K:
        kind = "Q8_0"
    if shape[-1] % gguf.GGML_QUANT_SIZES[gguf.GGMLQuantizationType[kind]][0]:
        return "F16"
    return kind


def _tiled(shape: tuple[int, ...], kind: str, seed: int):
    import numpy as np

    rng = np.random.default_rng(seed)
    if len(shape) < 2:
        return (1.0 + 0.02 * rng.standard_normal(shape)).astype(np.float32)
    rows = min(64, shape[0])
    slab, _ = encode_tensor((rng.standard_normal((rows, shape[1])) * 0.02).astype(np.float32), kind)
    return np.ascontiguousarray(np.tile(slab, (math.ceil(shape[0] / rows), 1))[: shape[0]])


def write_streamed(path: Path, arch: str, tensors: list[tuple[str, tuple[int, ...], str]], metadata=None) -> None:
    """A GGUF file written tensor by tensor (never the whole model in memory)."""
    import gguf
    import numpy as np

    writer = gguf.GGUFWriter(str(path), arch=arch)
    if metadata is not None:
        metadata(writer)
    plan = [(name, shape, _kind_for(shape, kind)) for name, shape, kind in tensors]
    for name, shape, kind in plan:
        if kind in ("F32", "F16"):
            dtype = np.dtype(np.float32 if kind == "F32" else np.float16)
            writer.add_tensor_info(name, shape, dtype, math.prod(shape) * dtype.itemsize)
        else:
            qtype = gguf.GGMLQuantizationType[kind]
            block, size = gguf.GGML_QUANT_SIZES[qtype]
            byte_shape = (*shape[:-1], shape[-1] // block * size)  # gguf-py takes quantized shapes in bytes
            writer.add_tensor_info(name, byte_shape, np.dtype(np.uint8), math.prod(byte_shape), raw_dtype=qtype)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    for i, (name, shape, kind) in enumerate(plan):
        writer.write_tensor_data(_tiled(shape, kind, i))
    writer.close()


def write_random_qwen3_gguf(config: dict, path: Path, quant: str = "Q6_K") -> None:
    """A llama.cpp-layout Qwen3 GGUF of random weights in the shapes of ``config`` (streamed)."""
    import torch
    from transformers import Qwen3Config, Qwen3Model

    with torch.device("meta"):
        shapes = {k: tuple(v.shape) for k, v in Qwen3Model(Qwen3Config(**config)).state_dict().items()}
    n_layers = int(config["num_hidden_layers"])
    names = [(llama_cpp_name(k), s) for k, s in shapes.items()]
    write_streamed(Path(path), "qwen3", [(n, s, qwen3_type_for(n, quant, n_layers)) for n, s in names],
                   _qwen3_metadata(config))

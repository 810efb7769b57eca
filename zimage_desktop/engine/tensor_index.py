"""Tensor names, shapes and storage types read from model file headers (safetensors, GGUF),
without loading weights; pickle checkpoints are refused here, before anything opens them."""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from ..errors import ModelFilesError
from ..messages import msg

PICKLE_SUFFIXES = {".ckpt", ".pt", ".pth", ".bin", ".pkl", ".pickle"}
MAX_HEADER_BYTES = 100 * 1024 * 1024


@dataclass(frozen=True)
class TensorIndex:
    """Tensor names, shapes and storage types of one weights file (or a sharded folder)."""

    shapes: dict[str, tuple[int, ...]]
    format: str  # "safetensors" | "gguf"
    dtypes: dict[str, str] = field(default_factory=dict)  # "BF16", "F8_E4M3", "Q4_K", …

    def stripped(self, prefixes: Iterable[str]) -> dict[str, tuple[int, ...]]:
        prefixes = tuple(prefixes)
        out: dict[str, tuple[int, ...]] = {}
        for name, shape in self.shapes.items():
            for prefix in prefixes:
                if name.startswith(prefix):
                    name = name[len(prefix):]
                    break
            out[name] = shape
        return out


def resident_gib(index: TensorIndex, path: Path) -> float:
    """GiB a model takes in memory: GGUF files as stored, safetensors at 16 bits per weight."""
    if index.format == "gguf" and path.is_file():
        return path.stat().st_size / 1024**3
    return sum(_numel(shape) for shape in index.shapes.values()) * 2 / 1024**3


# Bytes a weight of the GGUF types that ``--cpu-int8`` converts (engine/gguf_int8.py) take in the file.
INT8_CONVERTED_BYTES = {"Q8_0": 34 / 32, "Q6_K": 210 / 256, "Q4_K": 144 / 256}


def int8_gib(index: TensorIndex, path: Path) -> float:
    """GiB a GGUF transformer holds once ``--cpu-int8`` converted its Q8_0/Q6_K/Q4_K tensors to one
    byte a weight: the file's size less those tensors' bytes, plus one byte per converted weight
    (their per-row scales are ~1/500 of it). The same for every mix of a model: a Q4_K_M file of a
    smaller size (fewer Q6_K tensors) converts to the same bytes (round 34, bench/recipe_ram.py)."""
    stored = path.stat().st_size if path.is_file() else 0
    for name, shape in index.shapes.items():
        per_weight = INT8_CONVERTED_BYTES.get(index.dtypes.get(name, ""))
        if per_weight is not None:
            stored += round(_numel(shape) * (1 - per_weight))
    return stored / 1024**3


def _numel(shape: tuple[int, ...]) -> int:
    out = 1
    for d in shape:
        out *= d
    return out


def refuse_pickle(path: Path) -> None:
    if path.suffix.lower() in PICKLE_SUFFIXES:
        raise ModelFilesError(
            msg("tensor_index.pickle_checkpoint_pickle_files", "{name} is a pickle checkpoint ({suffix}); pickle files can "
                "run code when loaded, so only .safetensors and .gguf files are ever loaded.",
                name=path.name, suffix=path.suffix)
        )


def read_safetensors_index(path: Path) -> TensorIndex:
    """Names and shapes from a safetensors header; checks that the file is complete."""
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            raw_len = fh.read(8)
            if len(raw_len) < 8:
                raise ValueError("too short")
            (header_len,) = struct.unpack("<Q", raw_len)
            if header_len > min(MAX_HEADER_BYTES, size - 8):
                raise ValueError("bad header length")
            header = json.loads(fh.read(header_len))
    except RecursionError:
        raise ModelFilesError(msg("tensor_index.invalid_safetensors_header_nested", "{name} has an invalid safetensors "
                                  "header (nested too deeply); it is damaged or not a model file — download it again.",
                                  name=path.name)) from None
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise ModelFilesError(
            msg("tensor_index.readable_safetensors_file_may", "{name} is not a readable safetensors file ({exc}); it may be "
                "damaged or a different format — download it again.", name=path.name, exc=exc)
        ) from None
    if not isinstance(header, dict):
        raise ModelFilesError(msg("tensor_index.invalid_safetensors_header_download", "{name} has an invalid safetensors "
                                  "header; download it again.", name=path.name))
    shapes: dict[str, tuple[int, ...]] = {}
    dtypes: dict[str, str] = {}
    data_end = 0
    for name, info in header.items():
        if name == "__metadata__":
            continue
        problem = _tensor_entry_problem(info)
        if problem:
            raise ModelFilesError(msg("tensor_index.invalid_safetensors_header_tensor", "{name} has an invalid safetensors "
                                      "header (tensor {tensor!r}: {problem}); it is damaged or not a model file — download "
                                      "it again.",
                                      name=path.name, tensor=name[:60], problem=problem))
        shapes[name] = tuple(info["shape"])
        dtypes[name] = info["dtype"]
        data_end = max(data_end, info["data_offsets"][1])
    if 8 + header_len + data_end > size:
        raise ModelFilesError(
            msg("tensor_index.incomplete_bytes_download_was", "{name} is incomplete ({size:,} of {expected:,} bytes); the "
                "download was probably interrupted — download it again.",
                name=path.name, size=size, expected=8 + header_len + data_end)
        )
    return TensorIndex(shapes, "safetensors", dtypes)


_DTYPE_BYTES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U64": 8,
                "U32": 4, "U16": 2, "U8": 1, "BOOL": 1, "F8_E4M3": 1, "F8_E5M2": 1}


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _tensor_entry_problem(info: object) -> str | None:
    """What is wrong with one header entry, following the safetensors format (None: nothing)."""
    if not isinstance(info, dict):
        return msg("tensor_index.not_object", "not an object")
    dtype, shape, offsets = info.get("dtype"), info.get("shape"), info.get("data_offsets")
    if not isinstance(dtype, str) or not dtype:
        return msg("tensor_index.dtype_not_name", "the dtype is not a name")
    if not isinstance(shape, list) or len(shape) > 8 or not all(_whole(d) for d in shape):
        return msg("tensor_index.shape_not_list", "the shape is not a list of whole numbers")
    if (not isinstance(offsets, list) or len(offsets) != 2 or not all(_whole(o) for o in offsets)
            or offsets[0] > offsets[1]):
        return msg("tensor_index.offsets_bad", "the data offsets are not two increasing whole numbers")
    count = 1
    for d in shape:
        count *= d
    # newer sub-byte types (F4, F6…) are not in the table: their size is not checked here
    if dtype in _DTYPE_BYTES and count * _DTYPE_BYTES[dtype] != offsets[1] - offsets[0]:
        return msg("tensor_index.shape_size_mismatch", "the shape does not match the stored size")
    return None


def read_gguf_index(path: Path) -> TensorIndex:
    try:
        import gguf

        reader = gguf.GGUFReader(path)
        # GGUF stores dimensions innermost first; report them the torch way round.
        shapes = {t.name: tuple(int(d) for d in reversed(t.shape.tolist())) for t in reader.tensors}
        dtypes = {t.name: t.tensor_type.name for t in reader.tensors}
    except Exception as exc:  # the gguf reader raises many kinds on damaged files
        raise ModelFilesError(
            msg("tensor_index.readable_gguf_file_may", "{name} is not a readable GGUF file ({error_type}: {exc}); it may be "
                "damaged or incomplete — download it again.",
                name=path.name, error_type=type(exc).__name__, exc=exc)
        ) from None
    return TensorIndex(shapes, "gguf", dtypes)


def read_index(path: Path) -> TensorIndex:
    refuse_pickle(path)
    if path.is_dir():
        return read_sharded_index(path)
    if path.suffix.lower() == ".gguf":
        return read_gguf_index(path)
    if path.suffix.lower() == ".safetensors":
        return read_safetensors_index(path)
    raise ModelFilesError(msg("tensor_index.model_file_app_can", "{name} is not a model file this app can load "
                              "(.safetensors or .gguf).", name=path.name))


def read_sharded_index(folder: Path) -> TensorIndex:
    shards = sorted(folder.glob("*.safetensors"))
    if not shards:
        pickles = [p for p in folder.iterdir() if p.suffix.lower() in PICKLE_SUFFIXES]
        if pickles:
            refuse_pickle(pickles[0])
        raise ModelFilesError(msg("tensor_index.folder_holds_safetensors_files", "The folder {folder} holds no .safetensors "
                                  "files.", folder=folder))
    shapes: dict[str, tuple[int, ...]] = {}
    dtypes: dict[str, str] = {}
    for shard in shards:
        part = read_safetensors_index(shard)
        shapes.update(part.shapes)
        dtypes.update(part.dtypes)
    for index_file in folder.glob("*.safetensors.index.json"):
        try:
            wanted = set(json.loads(index_file.read_text(encoding="utf-8"))["weight_map"])
        except (OSError, ValueError, KeyError, TypeError):
            raise ModelFilesError(msg("tensor_index.valid_shard_index", "{name} in {folder} is not a valid shard index.",
                                      name=index_file.name, folder=folder)) from None
        missing = wanted - set(shapes)
        if missing:
            raise ModelFilesError(
                msg("tensor_index.shards_are_incomplete_tensors", "The shards in {folder} are incomplete: {count} tensors "
                    "listed in {name} are missing (e.g. {example}).",
                    folder=folder, count=len(missing), name=index_file.name, example=sorted(missing)[0])
            )
    return TensorIndex(shapes, "safetensors", dtypes)

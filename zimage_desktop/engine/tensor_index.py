"""Tensor names, shapes and storage types read from model file headers (safetensors, GGUF),
without loading weights; pickle checkpoints are refused here, before anything opens them."""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from ..errors import ModelFilesError

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


def _numel(shape: tuple[int, ...]) -> int:
    out = 1
    for d in shape:
        out *= d
    return out


def refuse_pickle(path: Path) -> None:
    if path.suffix.lower() in PICKLE_SUFFIXES:
        raise ModelFilesError(
            f"{path.name} is a pickle checkpoint ({path.suffix}); pickle files can run code when "
            "loaded, so only .safetensors and .gguf files are ever loaded."
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
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise ModelFilesError(
            f"{path.name} is not a readable safetensors file ({exc}); it may be damaged or a "
            "different format — download it again."
        ) from None
    if not isinstance(header, dict):
        raise ModelFilesError(f"{path.name} has an invalid safetensors header; download it again.")
    shapes: dict[str, tuple[int, ...]] = {}
    dtypes: dict[str, str] = {}
    data_end = 0
    for name, info in header.items():
        if name == "__metadata__" or not isinstance(info, dict):
            continue
        shapes[name] = tuple(int(d) for d in info.get("shape", ()))
        dtypes[name] = str(info.get("dtype", ""))
        offsets = info.get("data_offsets") or (0, 0)
        data_end = max(data_end, int(offsets[1]))
    if 8 + header_len + data_end > size:
        raise ModelFilesError(
            f"{path.name} is incomplete ({size:,} of {8 + header_len + data_end:,} bytes); "
            "the download was probably interrupted — download it again."
        )
    return TensorIndex(shapes, "safetensors", dtypes)


def read_gguf_index(path: Path) -> TensorIndex:
    try:
        import gguf

        reader = gguf.GGUFReader(path)
        # GGUF stores dimensions innermost first; report them the torch way round.
        shapes = {t.name: tuple(int(d) for d in reversed(t.shape.tolist())) for t in reader.tensors}
        dtypes = {t.name: t.tensor_type.name for t in reader.tensors}
    except Exception as exc:  # the gguf reader raises many kinds on damaged files
        raise ModelFilesError(
            f"{path.name} is not a readable GGUF file ({type(exc).__name__}: {exc}); it may be "
            "damaged or incomplete — download it again."
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
    raise ModelFilesError(f"{path.name} is not a model file this app can load (.safetensors or .gguf).")


def read_sharded_index(folder: Path) -> TensorIndex:
    shards = sorted(folder.glob("*.safetensors"))
    if not shards:
        pickles = [p for p in folder.iterdir() if p.suffix.lower() in PICKLE_SUFFIXES]
        if pickles:
            refuse_pickle(pickles[0])
        raise ModelFilesError(f"The folder {folder} holds no .safetensors files.")
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
            raise ModelFilesError(f"{index_file.name} in {folder} is not a valid shard index.") from None
        missing = wanted - set(shapes)
        if missing:
            raise ModelFilesError(
                f"The shards in {folder} are incomplete: {len(missing)} tensors listed in "
                f"{index_file.name} are missing (e.g. {sorted(missing)[0]})."
            )
    return TensorIndex(shapes, "safetensors", dtypes)

"""GGUF tensors read into memory with plain file reads, not through a memory map.

diffusers' ``load_gguf_checkpoint`` (and a naive reader) copy each tensor out of gguf-py's memory
map while the map stays open, so every touched page of the file also counts in the process's
resident memory until loading ends: the peak is about twice the file. Reading each tensor with
``readinto`` keeps only the copy — the same tensors, the same types (quantized ones as diffusers'
``GGUFParameter``, F32/F16 as plain tensors), so the result can be handed to
``from_single_file`` exactly as diffusers' own loader would build it.
"""

from __future__ import annotations

from ..messages import msg

from pathlib import Path
from typing import Callable

import numpy as np
import torch


def read_gguf_state(path: Path, keep: Callable[[str], bool] | None = None) -> dict[str, torch.Tensor]:
    """{tensor name: tensor} of a GGUF file, skipping names ``keep`` rejects."""
    import gguf
    from diffusers.quantizers.gguf.utils import SUPPORTED_GGUF_QUANT_TYPES, GGUFParameter

    plain = (gguf.GGMLQuantizationType.F32, gguf.GGMLQuantizationType.F16)
    # The reader maps the file to parse its header; only the tensors' dtypes, shapes and offsets
    # are taken from it (reading those touches no tensor data).
    reader = gguf.GGUFReader(path)
    _check_no_overlap(path, [(int(t.data_offset), int(t.n_bytes), t.name) for t in reader.tensors])
    layout = [(t.name, t.tensor_type, t.data.dtype, t.data.shape, t.data_offset) for t in reader.tensors
              if keep is None or keep(t.name)]
    del reader
    state: dict[str, torch.Tensor] = {}
    with open(path, "rb", buffering=0) as fh:
        for name, kind, dtype, shape, offset in layout:
            if kind not in plain and kind not in SUPPORTED_GGUF_QUANT_TYPES:
                from ..errors import ModelFilesError

                raise ModelFilesError(msg("gguf_read.gguf_type_supported", "The GGUF type {type_name} of {tensor} in {file} is "
                                          "not supported.",
                                          type_name=kind.name, tensor=name, file=Path(path).name))
            array = np.empty(shape, dtype=dtype)
            fh.seek(offset)
            if fh.readinto(memoryview(array).cast("B")) != array.nbytes:  # type: ignore[arg-type]
                from ..errors import ModelFilesError

                raise ModelFilesError(msg("gguf_read.truncated_download_again", "{name} is truncated; download it again.",
                                          name=Path(path).name))
            tensor = torch.from_numpy(array)
            state[name] = tensor if kind in plain else GGUFParameter(tensor, quant_type=kind)
    return state


def _check_no_overlap(path: Path, spans: list[tuple[int, int, str]]) -> None:
    """Two tensors sharing bytes is a damaged (or crafted) file: refused, never read as weights."""
    from ..errors import ModelFilesError

    end, last = -1, ""
    for offset, size, name in sorted(spans):
        if offset < end:
            raise ModelFilesError(msg("gguf_read.overlapping_tensors", "{file} is damaged: its tensors {first} and {second} "
                                      "share the same bytes; download it again.",
                                      file=Path(path).name, first=last, second=name))
        end, last = offset + size, name

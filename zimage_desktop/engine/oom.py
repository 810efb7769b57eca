"""Which exceptions mean "out of memory", whatever library raised them (see ``recovery``'s
docstring for the list). A leaf module (torch only), so that low-level code such as ``gguf_fast``
can tell an allocation failure from its own without importing the planner through ``recovery``."""

from __future__ import annotations

import torch

# Lower-case fragments of the messages of RuntimeErrors that are allocation failures.
OOM_MARKERS = (
    "out of memory",  # "CUDA error: out of memory", "MPS backend out of memory", HIP
    "cublas_status_alloc_failed",
    "cudnn_status_alloc_failed",
    "cudnn_status_not_enough_workspace",
    "can't allocate memory",  # DefaultCPUAllocator
    "failed to allocate",
)


def is_out_of_memory(exc: BaseException) -> bool:
    if isinstance(exc, (torch.OutOfMemoryError, MemoryError)):
        return True
    if isinstance(exc, RuntimeError):
        text = str(exc).lower()
        return any(marker in text for marker in OOM_MARKERS)
    return False

"""Giving freed host memory back to the system after loading or unloading a model.

glibc's allocator keeps memory that Python and torch free inside its heaps unless the block was
big enough to get its own mapping, and the threshold for that grows with every large block freed
(up to 32 MiB). Loading frees many such blocks (a VAE read in float32 and cast to bf16, the GGUF
bytes of an encoder converted to the int kernels), so the process's resident memory stayed above
what it holds: the RAM the residency table predicts, and what the rest of the machine could use.
``malloc_trim(0)`` returns the free pages of every heap to the system (it costs a walk over the
heaps, milliseconds). Other platforms and C libraries: nothing to do.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

_libc: ctypes.CDLL | None = None


def return_freed_memory() -> bool:
    """Hand freed heap pages back to the system; True when the C library did (Linux, glibc)."""
    global _libc
    if not sys.platform.startswith("linux"):
        return False
    try:
        if _libc is None:
            _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim = _libc.malloc_trim
    except (OSError, AttributeError):  # musl and others have no malloc_trim
        return False
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return bool(trim(0))


def release_dropped_weights() -> None:
    """After dropping a model: collect its cycles (hooks hold some), give the freed heap back, and
    empty CUDA's cache."""
    import gc

    import torch

    gc.collect()
    return_freed_memory()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()

"""What hardware there is: CUDA GPUs, Apple MPS, the CPU, and system memory."""

from __future__ import annotations

from ..messages import msg

import ctypes
import os
import platform
import sys
from dataclasses import asdict, dataclass, field

@dataclass(frozen=True)
class GpuInfo:
    index: int
    name: str
    total_vram: int
    free_vram: int
    capability: tuple[int, int]
    bf16: bool


@dataclass(frozen=True)
class MachineInfo:
    gpus: tuple[GpuInfo, ...] = ()
    mps: bool = False
    cpu_name: str = ""
    cpu_count: int = 1
    total_ram: int = 0
    free_ram: int = 0
    torch_version: str = ""
    cuda_version: str | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict:
        return asdict(self)


def _system_ram() -> tuple[int, int]:
    """(total, available) bytes of system memory; zeros when it cannot be read."""
    if sys.platform.startswith("linux"):
        values: dict[str, int] = {}
        try:
            with open("/proc/meminfo", encoding="ascii") as fh:
                for line in fh:
                    key, _, rest = line.partition(":")
                    values[key] = int(rest.split()[0]) * 1024
        except (OSError, ValueError, IndexError):
            return 0, 0
        return values.get("MemTotal", 0), values.get("MemAvailable", values.get("MemFree", 0))
    if sys.platform == "win32":
        class MemoryStatus(ctypes.Structure):
            _fields_ = [("dwLength", ctypes.c_ulong), ("dwMemoryLoad", ctypes.c_ulong),
                        ("ullTotalPhys", ctypes.c_ulonglong), ("ullAvailPhys", ctypes.c_ulonglong),
                        ("ullTotalPageFile", ctypes.c_ulonglong), ("ullAvailPageFile", ctypes.c_ulonglong),
                        ("ullTotalVirtual", ctypes.c_ulonglong), ("ullAvailVirtual", ctypes.c_ulonglong),
                        ("sullAvailExtendedVirtual", ctypes.c_ulonglong)]
        status = MemoryStatus()
        status.dwLength = ctypes.sizeof(MemoryStatus)
        if ctypes.windll.kernel32.GlobalMemoryStatusEx(ctypes.byref(status)):  # type: ignore[attr-defined]
            return int(status.ullTotalPhys), int(status.ullAvailPhys)
        return 0, 0
    try:  # macOS and other POSIX systems
        total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 0, 0
    return total, total // 2  # no cheap portable "available"; assume half is free


def probe() -> MachineInfo:
    """Look at the machine (imports torch)."""
    import torch

    gpus: list[GpuInfo] = []
    notes: list[str] = []
    if torch.cuda.is_available():
        for index in range(torch.cuda.device_count()):
            props = torch.cuda.get_device_properties(index)
            try:
                free, total = torch.cuda.mem_get_info(index)
            except RuntimeError as exc:
                notes.append(msg("devices.gpu_cannot_read_free", "GPU {index}: cannot read free memory ({exc})",
                                 index=index, exc=exc))
                free, total = props.total_memory, props.total_memory
            capability = (props.major, props.minor)
            gpus.append(GpuInfo(index, props.name, int(total), int(free), capability, capability >= (8, 0)))
    mps = bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())
    total_ram, free_ram = _system_ram()
    return MachineInfo(
        gpus=tuple(gpus), mps=mps, cpu_name=platform.processor() or platform.machine(),
        cpu_count=os.cpu_count() or 1, total_ram=total_ram, free_ram=free_ram,
        torch_version=torch.__version__, cuda_version=torch.version.cuda, notes=tuple(notes),
    )

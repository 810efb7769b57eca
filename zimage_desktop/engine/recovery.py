"""What the engine does when memory or numbers fail: which exceptions mean "out of memory"
(whatever library raised them; the test itself is ``oom.is_out_of_memory``, a leaf module), the
one error they all become, and whether a float32 retry fits.

PyTorch raises ``torch.OutOfMemoryError`` for the caching allocator only. cuBLAS and cuDNN report
a failed workspace allocation as a plain ``RuntimeError`` (``CUBLAS_STATUS_ALLOC_FAILED``,
``CUDNN_STATUS_ALLOC_FAILED``), a CUDA launch may fail with "CUDA error: out of memory", Apple's
MPS backend says "MPS backend out of memory" (a RuntimeError), the CPU allocator "can't allocate
memory", and Python raises ``MemoryError``. All of them take the same path in the generator:
free the pipeline, offer the lighter profile.
"""

from __future__ import annotations

from ..errors import OutOfMemoryError
from ..messages import Message, msg
from .devices import MachineInfo
from .planner import GIB, PROFILES, MemoryPlan, lighter_profile

def host_memory(exc: BaseException) -> bool:
    """Whether the memory that ran out is the computer's RAM rather than the GPU's."""
    text = str(exc).lower()
    return isinstance(exc, MemoryError) or "can't allocate memory" in text or "cpu" in text.split("memory")[0][-40:]


def out_of_memory_error(profile: str, stage: str, host: bool = False) -> OutOfMemoryError:
    """The one error every kind of out-of-memory becomes (after the pipeline was freed), naming
    the lighter profile to offer."""
    lighter = lighter_profile(profile)
    if host:
        hint = (msg("generator.try_lighter", " Try the lighter {profile} profile.", profile=lighter) if lighter
                else msg("generator.close_other_programs_ram", " Close other programs to free memory."))
        return OutOfMemoryError(msg("generator.ram_ran_out", "The computer ran out of memory (RAM) while {stage} with "
                                    "the {profile} profile; the model was unloaded.{hint}",
                                    stage=stage, profile=profile, hint=hint), lighter)
    hint = (msg("generator.try_lighter", " Try the lighter {profile} profile.", profile=lighter) if lighter
            else msg("generator.close_other_programs", " Close other programs that use the GPU."))
    return OutOfMemoryError(msg("generator.gpu_ran_out_memory", "The GPU ran out of memory while {stage} with the "
                                "{profile} profile; the model was unloaded.{hint}",
                                stage=stage, profile=profile, hint=hint), lighter)


def fp32_retry_problem(fp32: MemoryPlan, machine: MachineInfo | None, step: int, dtype: str) -> Message | None:
    """Why a float32 retry of an image cannot run under this profile, or None when it fits: its
    table must stay within the profile's VRAM budget and the machine's RAM."""
    budget = PROFILES[fp32.profile].budget_gib if fp32.profile in PROFILES else 0.0
    over_vram = fp32.device == "cuda" and budget > 0 and fp32.predicted_vram_gib > budget
    over_ram = bool(machine and machine.total_ram and fp32.predicted_ram_gib > machine.total_ram / GIB)
    if not (over_vram or over_ram):
        return None
    return msg("generator.fp32_retry_does_not_fit", "The image went numerically invalid at step {step} in {dtype}, and "
               "a float32 retry needs about {vram:.1f} GiB of GPU memory and {ram:.0f} GiB of RAM, more than the {profile} "
               "profile can hold; try another seed or prompt, or a lighter transformer.",
               step=step, dtype=dtype, vram=fp32.predicted_vram_gib, ram=fp32.predicted_ram_gib, profile=fp32.profile)

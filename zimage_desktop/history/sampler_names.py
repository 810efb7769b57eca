"""Sampler and schedule labels of other tools, mapped onto what we run.

A1111/Forge write one label for both (``Sampler: DPM++ 2M Karras``; since 1.9 the schedule may be
apart in ``Schedule type: Karras``); ComfyUI has ``sampler_name`` + ``scheduler``, which save nodes
such as comfy-image-saver glue into one name (``euler_ancestral_karras``); InvokeAI names diffusers
schedulers (``euler_a``, ``dpmpp_2m_k``), old InvokeAI and NovelAI k-diffusion ones (``k_euler_a``).
Everything becomes ComfyUI's spelling first; what we cannot run is said in one note naming both.
"""

from __future__ import annotations

from ..engine.request import SAMPLERS, SCHEDULERS
from ..messages import msg

# ComfyUI's scheduler names (comfy/samplers.py SCHEDULER_NAMES), longest first for suffix matching.
COMFY_SCHEDULES = ("ddim_uniform", "sgm_uniform", "kl_optimal", "exponential", "linear_quadratic", "karras",
                   "simple", "normal", "beta")
# A1111 sampler labels (modules/sd_samplers_kdiffusion.py) → ComfyUI sampler names.
A1111_SAMPLERS = {
    "euler": "euler", "euler a": "euler_ancestral", "lms": "lms", "heun": "heun", "dpm2": "dpm_2",
    "dpm2 a": "dpm_2_ancestral", "dpm++ 2s a": "dpmpp_2s_ancestral", "dpm++ 2m": "dpmpp_2m",
    "dpm++ sde": "dpmpp_sde", "dpm++ 2m sde": "dpmpp_2m_sde", "dpm++ 2m sde heun": "dpmpp_2m_sde",
    "dpm++ 3m sde": "dpmpp_3m_sde", "dpm fast": "dpm_fast", "dpm adaptive": "dpm_adaptive", "lcm": "lcm",
    "ddim": "ddim", "plms": "plms", "unipc": "uni_pc", "restart": "restart", "ipndm": "ipndm",
    "deis": "deis", "res multistep": "res_multistep", "dpm++ 2m sde gpu": "dpmpp_2m_sde_gpu",
}
# InvokeAI/k-diffusion short names → ComfyUI sampler names (a trailing _k / _karras is the schedule).
SHORT_SAMPLERS = {"euler_a": "euler_ancestral", "k_euler_a": "euler_ancestral", "k_euler": "euler",
                  "k_lms": "lms", "k_heun": "heun", "k_dpm_2": "dpm_2", "k_dpm_2_a": "dpm_2_ancestral",
                  "k_dpmpp_2": "dpmpp_2m", "k_dpmpp_2_a": "dpmpp_2s_ancestral", "dpmpp_2": "dpmpp_2m",
                  "dpmpp_2s": "dpmpp_2s_ancestral", "unipc": "uni_pc", "kdpm_2": "dpm_2", "kdpm_2_a": "dpm_2_ancestral"}
A1111_SCHEDULES = ((" karras", "karras"), (" exponential", "exponential"), (" sgm uniform", "sgm_uniform"),
                   (" simple", "simple"), (" normal", "normal"), (" beta", "beta"), (" uniform", "normal"))
SNAKE_SCHEDULES = tuple(("_" + s, s) for s in COMFY_SCHEDULES) + (("_k", "karras"),)
# Labels that say "the sampler's default schedule": no schedule information.
NO_SCHEDULE = ("", "automatic", "auto", "default")


def _key(label: str) -> str:
    return " ".join(label.strip().lower().replace("_", " ").split())


def split_label(sampler: str | None, scheduler: str | None) -> tuple[str | None, str | None]:
    """(sampler, schedule) in ComfyUI's spelling, the schedule taken off the sampler's label when
    the tool glued them together; None where the tool said nothing."""
    schedule = _key(scheduler).replace(" ", "_") if scheduler else ""
    if schedule in NO_SCHEDULE:
        schedule = ""
    if not sampler or not sampler.strip():
        return None, schedule or None
    label = _key(sampler)
    name = A1111_SAMPLERS.get(label)
    if name is None:  # A1111 before 1.9: the schedule's label after the sampler's
        for suffix, sched in A1111_SCHEDULES:
            base = label[: -len(suffix)]
            if label.endswith(suffix) and base in A1111_SAMPLERS:
                name, schedule = A1111_SAMPLERS[base], schedule or sched
                break
    if name is None:
        snake = label.replace(" ", "_")
        for suffix, sched in SNAKE_SCHEDULES:  # comfy-image-saver: f"{sampler_name}_{scheduler}"
            if snake.endswith(suffix) and len(snake) > len(suffix):
                snake, schedule = snake[: -len(suffix)], schedule or sched
                break
        name = SHORT_SAMPLERS.get(snake, snake)
    return name, schedule or None


def _said(sampler: str | None, scheduler: str | None) -> str:
    parts = [sampler, scheduler if scheduler and _key(scheduler) not in NO_SCHEDULE else None]
    return " / ".join(s.strip() for s in parts if s and s.strip())


def map_sampling(sampler: str | None, scheduler: str | None) -> tuple[str | None, str | None, str | None]:
    """(our sampler, our schedule, a note): None for each we keep at our default; the note, when
    set, names what the tool used and what runs here instead, once for both."""
    name, schedule = split_label(sampler, scheduler)
    ours_sampler = name if name in SAMPLERS else None
    ours_schedule = schedule if schedule in SCHEDULERS else None
    lost_sampler = name is not None and ours_sampler is None
    lost_schedule = schedule is not None and ours_schedule is None
    if not (lost_sampler or lost_schedule):
        return ours_sampler, ours_schedule, None
    note = msg("sampler_names.not_available", "The image was made with {label}, which is not available here; it is "
               "re-made with {sampler} and the {schedule} schedule.", label=_said(sampler, scheduler),
               sampler=ours_sampler or SAMPLERS[0], schedule=ours_schedule or SCHEDULERS[0])
    return ours_sampler, ours_schedule, note

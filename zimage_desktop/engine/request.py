"""What to generate (GenerationRequest): its fields, their validation and its saved (JSON) form.

The LoRA and control inputs it names live in ``request_inputs``, what a run reports (StepEvent,
GeneratedImage, GenerationResult) in ``results``; both are importable from here too.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import PurePath
from typing import Any

from ..errors import BadInputError
from ..messages import msg
from .architectures import DEFAULT
from .edit_checks import validate_edit
from .guidance import problems as guidance_problems
from .request_inputs import (  # noqa: F401  (re-exported: callers name them here)
    CONTROL_KINDS, LORA_STRENGTH_LIMIT, MAX_CONTROL_STRENGTH, MAX_CONTROLS, MAX_LORAS, ControlRef, LoraRef, is_number,
    is_text, lora_problems,
)
from .results import GeneratedImage, GenerationResult, StepEvent  # noqa: F401  (re-exported: callers name them here)

SIZE_MULTIPLE = 16
MIN_SIDE = 256
MAX_SIDE = 2048
DEFAULT_STEPS = DEFAULT.default_steps  # the one place: the model's own fact, in architectures.py
MAX_STEPS = 100
MAX_COUNT = 64
# Z-Image's text encoder sees at most 512 tokens; one token is at least one character for
# Chinese and about four for English, so anything longer than this can never fit.
MAX_PROMPT_CHARS = 4096
# ComfyUI and torch.Generator.manual_seed take any unsigned 64-bit seed.
MAX_SEED = 2**64 - 1
# Seeds we draw ourselves stay short, so they are easy to read and type; any seed up to MAX_SEED
# (e.g. a ComfyUI one) is accepted.
RANDOM_SEED_LIMIT = 2**32
# Sampling: "euler" and "simple" are what ComfyUI's Z-Image example uses; "res_multistep" is its
# current template's sampler; "diffusers" is ZImagePipeline's own schedule (linspace(1, 1/n, n),
# shifted), which equals "simple" when the steps divide 1000 and which every image made before
# schedules were recorded used.
SAMPLERS = ("euler", "res_multistep")
SCHEDULERS = ("simple", "diffusers")
DEFAULT_SAMPLER = "euler"
DEFAULT_SCHEDULER = "simple"
LEGACY_SCHEDULER = "diffusers"
REQUEST_SCHEMA = 3


def snap_size(value: int) -> int:
    """Nearest allowed side length (a multiple of 16 within 256..2048), for UIs to offer."""
    snapped = int(round(value / SIZE_MULTIPLE)) * SIZE_MULTIPLE
    return max(MIN_SIDE, min(MAX_SIDE, snapped))


def random_seed() -> int:
    return secrets.randbelow(RANDOM_SEED_LIMIT)


@dataclass(frozen=True)
class GenerationRequest:
    """One press of "Generate": a prompt turned into ``count`` images with seeds seed, seed+1, ….

    ``seed`` is always a concrete number once the request exists (``create`` draws one when the
    caller passes None) so that every image can be re-made exactly.
    """

    prompt: str
    width: int = 1024
    height: int = 1024
    steps: int = DEFAULT_STEPS
    seed: int = 0
    count: int = 1
    # Which transformer file inside diffusion_models/ to use; None lets the loader choose.
    transformer: str | None = None
    # Memory profile name ("auto", "8gb", …); the planner interprets it.
    profile: str = "auto"
    sampler: str = DEFAULT_SAMPLER
    scheduler: str = DEFAULT_SCHEDULER
    # Structured inputs (e.g. the poster panel's fields) kept for exact recall.
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    # The user's own words when ``prompt`` is the prompt enhancer's rewrite of them ("" otherwise).
    original_prompt: str = ""
    # Editing (issue 21). ``source``/``mask`` are files the engine reads; a saved request (history
    # row, PNG metadata) names them only by content address, and a path read back from one is never
    # opened: the history resolves the sha256 inside its own folder.
    mode: str = "txt2img"  # "txt2img" | "img2img" | "inpaint" | "outpaint" | "upscale"
    source: str | None = None  # the source image file (PNG/JPEG/WebP)
    source_sha256: str | None = None  # content address of the source as kept in the history
    mask: str | None = None  # mask image file, white = may change (inpaint; outpaint makes its own)
    mask_sha256: str | None = None
    strength: float = 1.0  # denoise strength 0 < s <= 1 (img2img, inpaint, outpaint, upscale pass)
    outpaint: tuple[int, int, int, int] | None = None  # pixels added left, top, right, bottom
    mask_blur: int = 8  # feather of the mask edge in pixels (0..64)
    only_masked: bool = False  # crop around the mask, work at the model's resolution, paste back
    only_masked_padding: int = 32
    upscale: float = 1.0  # pixel scale for mode "upscale" (1.5, 2 …; the target size is width/height)
    # The file in upscale_models/ that enlarges the pixels: None = the first there, "" = Lanczos.
    upscale_model: str | None = None
    source_entry: int | None = None  # lineage: the history id the source came from, if any
    # LoRAs applied to the transformer, in order (engine/loras.py).
    loras: tuple[LoraRef, ...] = ()
    # ControlNet Union inputs (empty: no control; old requests load without them).
    controls: tuple[ControlRef, ...] = ()
    # Classifier-free guidance (engine/guidance.py): the CFG scale as ComfyUI/A1111 count it (1 =
    # none; None = the model's default) and the negative prompt. Turbo ignores both.
    negative_prompt: str = ""
    cfg: float | None = None

    def __post_init__(self) -> None:
        problems = validate(self)
        if problems:
            raise BadInputError(problems[0])

    @classmethod
    def create(cls, prompt: str, *, seed: int | None = None, **kwargs: Any) -> "GenerationRequest":
        return cls(prompt=prompt, seed=random_seed() if seed is None else seed, **kwargs)

    @property
    def search_text(self) -> str:
        """What history search looks in: the prompt and, after enhancing, the user's own words."""
        return f"{self.prompt}\n{self.original_prompt}" if self.original_prompt else self.prompt

    @property
    def seeds(self) -> list[int]:
        return [(self.seed + i) % (MAX_SEED + 1) for i in range(self.count)]

    @property
    def is_edit(self) -> bool:
        """True for every mode that starts from a source image."""
        return self.mode != "txt2img"

    def for_seed(self, seed: int) -> "GenerationRequest":
        """The single-image request that re-makes the image with this seed (the transformer by its
        file name, as saved requests name it; source and mask stay the files they are)."""
        return replace(self, seed=seed, count=1, transformer=_file_name(self.transformer))

    def to_dict(self) -> dict[str, Any]:
        """The saved form: source and mask by content address only (their paths are left out)."""
        data = asdict(self)
        data.pop("source")
        data.pop("mask")
        if self.outpaint is not None:
            data["outpaint"] = list(self.outpaint)
        data["schema"] = REQUEST_SCHEMA
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "GenerationRequest":
        if not isinstance(data, dict):
            raise BadInputError(msg("request.saved_request_json_object", "The saved request is not a JSON object."))
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        if "prompt" not in values:
            raise BadInputError(msg("request.saved_request_prompt", "The saved request has no prompt."))
        # Saved before schedules were recorded: made with the pipeline's own schedule, and so
        # re-made with it.
        values.setdefault("scheduler", LEGACY_SCHEDULER)
        # A saved request (PNG metadata, a history row) names its transformer file for information;
        # re-making it looks that name up inside the models folder, never at a path from the file.
        if isinstance(values.get("transformer"), str):
            values["transformer"] = _file_name(values["transformer"])
        # Never a path from saved data: the history resolves source_sha256/mask_sha256 itself.
        values.pop("source", None)
        values.pop("mask", None)
        if isinstance(values.get("outpaint"), list):
            values["outpaint"] = tuple(values["outpaint"])
        if "loras" in values:
            if not isinstance(values["loras"], (list, tuple)):
                raise BadInputError(msg("request.lora_entry_invalid", "A LoRA entry of the request is not a name with a "
                                        "strength."))
            values["loras"] = tuple(LoraRef.from_value(v) for v in values["loras"])
        controls = values.get("controls", ())
        if not isinstance(controls, (list, tuple)):
            raise BadInputError(msg("request.controls_not_list", "The saved request's controls are not a list."))
        values["controls"] = tuple(ControlRef.from_dict(c) for c in controls)
        return cls(**values)

    @classmethod
    def from_json(cls, text: str) -> "GenerationRequest":
        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as exc:
            raise BadInputError(msg("request.saved_request_valid_json", "The saved request is not valid JSON ({exc}).",
                                    exc=exc)) from None
        return cls.from_dict(data)


def _file_name(value: Any) -> Any:
    """A transformer named by a path: its file name (anything else is left for validation)."""
    return PurePath(value.replace("\\", "/")).name or None if isinstance(value, str) else value


def _has_words(text: str) -> bool:
    """False for a prompt of only spaces and invisible control characters (``\x00``, say)."""
    return any(not c.isspace() and c.isprintable() for c in text)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def validate(req: GenerationRequest) -> list[str]:
    """All problems with a request, as sentences for the user (empty when it is fine)."""
    problems: list[str] = []
    if not isinstance(req.prompt, str) or not _has_words(req.prompt):
        problems.append(msg("request.prompt_empty_describe_image", "The prompt is empty: describe the image you want."))
    elif not is_text(req.prompt):
        problems.append(msg("request.prompt_contains_bytes_that", "The prompt contains bytes that are not valid UTF-8 text; "
                            "retype it or save it as UTF-8."))
    elif len(req.prompt) > MAX_PROMPT_CHARS:
        problems.append(
            msg("request.prompt_characters_long_limit", "The prompt is {length} characters long; the limit is "
                "{MAX_PROMPT_CHARS} (the model reads at most 512 tokens).",
                length=len(req.prompt), MAX_PROMPT_CHARS=MAX_PROMPT_CHARS)
        )
    if not isinstance(req.original_prompt, str) or len(req.original_prompt) > MAX_PROMPT_CHARS:
        problems.append(msg("request.original_prompt_must_text", "The original prompt must be a text of at most "
                            "{MAX_PROMPT_CHARS} characters.",
                            MAX_PROMPT_CHARS=MAX_PROMPT_CHARS))
    for name, side in (("width", msg("request.width", "width")), ("height", msg("request.height", "height"))):
        value = getattr(req, name)
        if not _is_int(value):
            problems.append(msg("request.must_whole_number_pixels", "The {name} must be a whole number of pixels, not "
                                "{value!r}.", name=side, value=value))
        elif value % SIZE_MULTIPLE or not MIN_SIDE <= value <= MAX_SIDE:
            problems.append(
                msg("request.allowed_use_multiple_between", "The {name} {value} is not allowed: use a multiple of "
                    "{SIZE_MULTIPLE} between {MIN_SIDE} and {MAX_SIDE} (nearest: {nearest}).",
                    name=side, value=value, SIZE_MULTIPLE=SIZE_MULTIPLE, MIN_SIDE=MIN_SIDE, MAX_SIDE=MAX_SIDE,
                    nearest=snap_size(value))
            )
    if not _is_int(req.steps) or not 1 <= req.steps <= MAX_STEPS:
        problems.append(msg("request.steps_must_between_z", "Steps must be between 1 and {MAX_STEPS} (Z-Image-Turbo uses "
                            "{DEFAULT_STEPS}).",
                            MAX_STEPS=MAX_STEPS, DEFAULT_STEPS=DEFAULT_STEPS))
    if not _is_int(req.seed) or not 0 <= req.seed <= MAX_SEED:
        problems.append(msg("request.seed_must_whole_number", "The seed must be a whole number between 0 and {MAX_SEED}.",
                            MAX_SEED=MAX_SEED))
    if req.sampler not in SAMPLERS:
        problems.append(msg("request.sampler_available_choose_one", "The sampler {sampler!r} is not available; choose one "
                            "of {names}.", sampler=req.sampler, names=', '.join(SAMPLERS)))
    if req.scheduler not in SCHEDULERS:
        problems.append(msg("request.schedule_available_choose_one", "The schedule {scheduler!r} is not available; choose "
                            "one of {names}.",
                            scheduler=req.scheduler, names=', '.join(SCHEDULERS)))
    if not _is_int(req.count) or not 1 <= req.count <= MAX_COUNT:
        problems.append(msg("request.number_images_must_between", "The number of images must be between 1 and {MAX_COUNT}.",
                            MAX_COUNT=MAX_COUNT))
    if req.transformer is not None and (not isinstance(req.transformer, str) or not req.transformer):
        problems.append(msg("request.transformer_file_name_must", "The transformer file name must be a non-empty text."))
    if not isinstance(req.profile, str) or not req.profile:
        problems.append(msg("request.memory_profile_must_name", "The memory profile must be a name such as 'auto'."))
    if not isinstance(req.controls, tuple) or not all(isinstance(c, ControlRef) for c in req.controls):
        problems.append(msg("request.controls_type", "The request's controls must be control inputs."))
    else:
        if len(req.controls) > MAX_CONTROLS:
            problems.append(msg("request.controls_too_many", "At most {n} control image can be used at once.",
                                n=MAX_CONTROLS))
        for control in req.controls:
            problems.extend(control.problems())
        if req.controls and getattr(req, "mode", "txt2img") == "upscale":
            # An upscale runs in tiles, each a crop the one control image would have to follow.
            problems.append(msg("request.controls_upscale", "A control image works with text to image, "
                                "image to image, inpaint and outpaint, not with upscaling; remove the control."))
    if not isinstance(req.extra, dict):
        problems.append(msg("request.request_s_extra_fields", "The request's extra fields must be a JSON object."))
    problems.extend(validate_edit(req))
    problems.extend(lora_problems(req.loras))
    problems.extend(guidance_problems(req.negative_prompt, req.cfg))
    return problems

"""What to generate (GenerationRequest) and what came out (GenerationResult)."""

from __future__ import annotations

import json
import math
import secrets
from dataclasses import asdict, dataclass, field, fields
from pathlib import PurePath
from typing import Any

from ..errors import BadInputError
from ..messages import msg

SIZE_MULTIPLE = 16
MIN_SIDE = 256
MAX_SIDE = 2048
DEFAULT_STEPS = 8
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
REQUEST_SCHEMA = 2
# ControlNet Union inputs (engine/controlnet.py): how a control image is made from the user's file.
CONTROL_KINDS = ("canny", "grey", "depth", "scribble", "glyph")
MAX_CONTROL_STRENGTH = 2.0
MAX_CONTROLS = 1  # the Union file takes one control image per run (ComfyUI chains one patch per node)


def snap_size(value: int) -> int:
    """Nearest allowed side length (a multiple of 16 within 256..2048), for UIs to offer."""
    snapped = int(round(value / SIZE_MULTIPLE)) * SIZE_MULTIPLE
    return max(MIN_SIDE, min(MAX_SIDE, snapped))


def random_seed() -> int:
    return secrets.randbelow(RANDOM_SEED_LIMIT)


@dataclass(frozen=True)
class ControlRef:
    """One control input: ``kind`` says how ``image`` (a path, preprocessed at run time) becomes the
    control image; ``image_sha256`` names the file's content once saved (history keeps it by hash).
    ``start``/``end`` are the fractions of the steps during which the control acts."""

    kind: str
    image: str | None = None
    image_sha256: str | None = None
    strength: float = 1.0
    start: float = 0.0
    end: float = 1.0

    @classmethod
    def from_dict(cls, data: Any) -> "ControlRef":
        if isinstance(data, ControlRef):
            return data
        if not isinstance(data, dict):
            raise BadInputError(msg("request.control_not_object", "A saved control input is not a JSON object."))
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def problems(self) -> list[str]:
        out: list[str] = []
        if self.kind not in CONTROL_KINDS:
            out.append(msg("request.control_kind_unknown", "The control kind {kind!r} is not known; choose one of "
                           "{names}.", kind=self.kind, names=", ".join(CONTROL_KINDS)))
        if self.image is not None and (not isinstance(self.image, str) or not self.image):
            out.append(msg("request.control_image_name", "The control image must be a file name."))
        if self.image is None and not self.image_sha256:
            out.append(msg("request.control_image_missing", "The {kind} control has no image.", kind=self.kind))
        if self.image_sha256 is not None and (
                not isinstance(self.image_sha256, str) or len(self.image_sha256) != 64
                or any(c not in "0123456789abcdef" for c in self.image_sha256)):
            out.append(msg("request.control_sha_invalid", "The control image's sha256 must be 64 hex digits."))
        numbers = (self.strength, self.start, self.end)
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in numbers):
            out.append(msg("request.control_numbers", "The control's strength, start and end must be numbers."))
            return out
        if not 0.0 <= self.strength <= MAX_CONTROL_STRENGTH:
            out.append(msg("request.control_strength_range", "The control strength {strength} is outside 0 to {limit}.",
                           strength=self.strength, limit=MAX_CONTROL_STRENGTH))
        if not 0.0 <= self.start < self.end <= 1.0:
            out.append(msg("request.control_range", "The control must start before it ends, both between 0 and 1 "
                           "(fractions of the steps); got {start} to {end}.", start=self.start, end=self.end))
        return out


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
    # ControlNet Union inputs (empty: no control; old requests load without them).
    controls: tuple[ControlRef, ...] = ()

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

    def for_seed(self, seed: int) -> "GenerationRequest":
        """The single-image request that re-makes the image with this seed."""
        data = self.to_dict()
        data.update(seed=seed, count=1)
        return GenerationRequest.from_dict(data)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
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
            values["transformer"] = PurePath(values["transformer"].replace("\\", "/")).name or None
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


def _is_text(value: str) -> bool:
    """False for lone surrogates: undecodable command-line bytes arrive as those (surrogateescape)."""
    try:
        value.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def validate(req: GenerationRequest) -> list[str]:
    """All problems with a request, as sentences for the user (empty when it is fine)."""
    problems: list[str] = []
    if not isinstance(req.prompt, str) or not req.prompt.strip():
        problems.append(msg("request.prompt_empty_describe_image", "The prompt is empty: describe the image you want."))
    elif not _is_text(req.prompt):
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
    if not isinstance(req.extra, dict):
        problems.append(msg("request.request_s_extra_fields", "The request's extra fields must be a JSON object."))
    return problems


@dataclass(frozen=True)
class StepEvent:
    """Progress of one denoising step; ``preview`` is an RGB uint8 array (H/8, W/8, 3) or None."""

    image_index: int
    image_count: int
    step: int  # 1-based
    total_steps: int
    seed: int
    elapsed_s: float
    eta_s: float
    preview: Any = None


@dataclass(frozen=True)
class GeneratedImage:
    """One finished image (a PIL image) and how it was made."""

    request: GenerationRequest  # single-image request: count 1, this image's seed
    image: Any
    timings: dict[str, float]
    model: dict[str, Any]
    notes: tuple[str, ...] = ()  # e.g. a retry in float32 after an overflow
    # The preprocessed control image of each of request.controls (PIL), kept with the history.
    control_images: tuple[Any, ...] = ()

    @property
    def seed(self) -> int:
        return self.request.seed


@dataclass(frozen=True)
class GenerationResult:
    request: GenerationRequest
    images: tuple[GeneratedImage, ...]
    cancelled: bool = False

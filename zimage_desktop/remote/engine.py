"""A ComfyUI server as an engine with the local Generator's shape: ``run(request, on_step,
is_cancelled, on_image) -> GenerationResult``.

Each image is the graph our PNGs carry (``history.comfy_export.api_prompt``) with the server's own
model file names, so the picture is the one the local engine makes of the same request, and the
saved PNG's ``prompt`` chunk is exactly the graph that ran. The model record says which server
made the image (never its token).
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ..engine.architectures import ARCHITECTURES, DEFAULT
from ..engine.guidance import resolved
from ..engine.request import GeneratedImage, GenerationRequest, GenerationResult, StepEvent
from ..history.comfy_export import api_prompt
from ..messages import msg
from .client import ComfyClient, Upload
from .http import BadAnswer, RemoteJobFailed, ServerConfig
from .job_inputs import FILE_LOADERS, check_files, prepare_inputs, wanted_files

ROLE_LOADERS = {"transformer": ("UNETLoader", "UnetLoaderGGUF"), "text_encoder": ("CLIPLoader", "CLIPLoaderGGUF"),
                "vae": ("VAELoader",)}
# Words in a file name that say which model it is for, best first.
ROLE_HINTS = {"transformer": ("z_image", "z-image", "zimage"), "text_encoder": ("qwen_3_4b", "qwen3", "qwen"),
              "vae": ("ae.", "ae_", "flux", "z_image", "zimage")}


def public_url(url: str) -> str:
    """The address without any user:password part (what is recorded with an image)."""
    parts = urlsplit(url)
    netloc = parts.hostname or ""
    if ":" in netloc:
        netloc = f"[{netloc}]"
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def choose_files(server: str, offered: dict[str, tuple[str, ...]], wanted: dict[str, str]) -> dict[str, str]:
    """For each role the file to load on the server: the one ``wanted`` names when the server has it
    (the local engine's files: the same picture), else the one whose name says Z-Image/Qwen/FLUX VAE."""
    roles: dict[str, str] = {}
    for role, loaders in ROLE_LOADERS.items():
        names = [n for cls in loaders for n in offered.get(cls, ())]
        choice = wanted.get(role) if wanted.get(role) in names else None
        if choice is None:
            choice = next((n for hint in ROLE_HINTS[role] for n in names if hint in n.lower()), None)
        if choice is None:
            raise RemoteJobFailed(msg("remote.missing_file", "{server} has no {role} file for Z-Image (it offers: "
                                      "{names}).", server=server, role=role.replace("_", " "),
                                      names=", ".join(names[:8]) or "none"))
        if choice.endswith(".gguf") and not offered.get(loaders[-1] if role != "vae" else "", ()):
            raise RemoteJobFailed(msg("remote.needs_gguf", "{server} needs ComfyUI-GGUF to load {name}.",
                                      server=server, name=choice))
        roles[role] = choice
    return roles


class RemoteEngine:
    """One ComfyUI server running our requests (one image per graph)."""

    kind = "comfyui"

    def __init__(self, server: ServerConfig, *, wanted_files: dict[str, str] | None = None, previews: bool = True,
                 silence_s: float | None = None, models_dir: Path | None = None) -> None:
        self.server = server
        self.models_dir = models_dir  # this computer's models (a depth control's estimator)
        self.client = ComfyClient(server) if silence_s is None else ComfyClient(server, silence_s)
        self.wanted = dict(wanted_files or {})
        self.previews = previews
        self._roles: dict[str, str] | None = None

    @property
    def name(self) -> str:
        return self.server.name

    def queue_length(self) -> int:
        return self.client.queue_length()

    def roles(self) -> dict[str, str]:
        if self._roles is None:
            offered, _ = self.client.loader_files()
            self._roles = choose_files(self.name, offered, self.wanted)
        return self._roles

    def model_info(self) -> dict[str, Any]:
        roles = self.roles()
        return {"name": roles["transformer"], "arch": "z-image-turbo", "form": "comfyui",
                "files": [{"name": roles[r]} for r in ("transformer", "text_encoder", "vae")], "hash": "",
                "device": f"comfyui:{self.name}", "roles": roles,
                "engine": {"kind": "comfyui", "name": self.name, "url": public_url(self.server.url)}}

    def graph(self, request: GenerationRequest) -> dict[str, Any]:
        """The graph our PNG of this single-image request carries: the one that runs."""
        return api_prompt(request, self.model_info())

    def job_files(self, request: GenerationRequest) -> dict[str, Any]:
        """The server's names of the LoRA and ControlNet files ``request`` needs (MissingOnServer
        names the first one it lacks); asked per job: files come and go on a server."""
        wanted = wanted_files(request)
        offered = {kind: self.client.listed_files(*FILE_LOADERS[kind]) for kind, names in wanted.items() if names}
        return check_files(self.name, request, offered, self.wanted.get("controlnet")) if offered else {}

    def run(self, request: GenerationRequest, on_step: Callable[[StepEvent], None] | None = None,
            is_cancelled: Callable[[], bool] | None = None,
            on_image: Callable[[GeneratedImage], None] | None = None, *, uploads: tuple[Upload, ...] = (),
            skip_seeds: frozenset[int] = frozenset()) -> GenerationResult:
        cancelled = is_cancelled or (lambda: False)
        model = {**self.model_info(), **self.job_files(request)}
        seeds = [s for s in request.seeds if s not in skip_seeds]
        done: list[GeneratedImage] = []
        for index, seed in enumerate(seeds):
            if cancelled():
                return GenerationResult(request, tuple(done), cancelled=True)
            # as the image was made: the model's CFG filled in, as the local engine records it
            single = resolved(ARCHITECTURES.get(str(model.get("arch")), DEFAULT), request.for_seed(seed))
            started = time.monotonic()
            preview: list[Any] = [None]

            def progress(step: int, total: int, index: int = index, seed: int = seed, started: float = started) -> None:
                if on_step is None:
                    return
                elapsed = time.monotonic() - started
                eta = elapsed / step * (total - step) if step else 0.0
                on_step(StepEvent(index, len(seeds), step, total, seed, elapsed, eta, preview[0]))
                preview[0] = None

            inputs = prepare_inputs(single, self.models_dir, self.name)
            record = _with_inputs(model, inputs.model)
            graph = _server_loras(api_prompt(single, record), model.get("server_loras") or {})
            outcome = self.client.run(graph, uploads + inputs.uploads, on_progress=progress,
                                      on_preview=lambda data: preview.__setitem__(0, _decode_preview(data)),
                                      is_cancelled=cancelled, previews=self.previews and on_step is not None)
            if outcome.cancelled:
                return GenerationResult(request, tuple(done), cancelled=True)
            image = inputs.finish(self._image(outcome.images[0], single))
            made = GeneratedImage(single, image, {"total_s": round(outcome.seconds, 3)}, record, notes=inputs.notes,
                                  control_images=inputs.control_images)
            done.append(made)
            if on_image is not None:
                on_image(made)
        return GenerationResult(request, tuple(done))

    def _image(self, png: bytes, request: GenerationRequest) -> Any:
        from PIL import Image

        try:
            image = Image.open(io.BytesIO(png))
            size = image.size
            if size != (request.width, request.height):
                raise BadAnswer(msg("remote.wrong_size", "{server} sent a {w}×{h} image for a {rw}×{rh} job.",
                                    server=self.name, w=size[0], h=size[1], rw=request.width, rh=request.height))
            return image.convert("RGB")
        except (OSError, Image.DecompressionBombError, ValueError):
            raise BadAnswer(msg("remote.not_png", "{server} sent something that is not a PNG image.",
                                server=self.name)) from None


def _with_inputs(model: dict[str, Any], inputs: dict[str, Any]) -> dict[str, Any]:
    """The model record with a job's uploads: the edit input's name, the control image's name
    beside the server's ControlNet file."""
    record = {**model, **{k: v for k, v in inputs.items() if k != "controls"}}
    if "controls" in inputs:
        files = model.get("controls") or [{}]
        record["controls"] = [{**files[0], **inputs["controls"][0]}]
    return record


def _server_loras(graph: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    """The LoRA loaders with the server's names for our files (a subfolder, another case)."""
    for node in graph.values():
        if node.get("class_type") == "LoraLoaderModelOnly" and node["inputs"].get("lora_name") in names:
            node["inputs"]["lora_name"] = names[node["inputs"]["lora_name"]]
    return graph


def _decode_preview(data: bytes) -> Any:
    """A preview frame as an RGB uint8 array, or None when it does not decode."""
    import numpy as np
    from PIL import Image

    try:
        image = Image.open(io.BytesIO(data))
        if image.width * image.height > 4096 * 4096:
            return None
        return np.asarray(image.convert("RGB"))
    except (OSError, Image.DecompressionBombError, ValueError):
        return None

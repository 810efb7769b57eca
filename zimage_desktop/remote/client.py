"""A client of one ComfyUI server's HTTP + WebSocket API (the pattern of krita-ai-diffusion's
``comfy_client``), synchronous so that one worker thread per server drives it.

``run(graph, uploads, ...)`` runs any API-format graph: it uploads the images first
(``/upload/image``; the graph names them by the names given), opens the WebSocket with its own
client id, queues the graph under a prompt id of ours, follows ``progress`` messages and binary
preview frames, and downloads the outputs from ``/view``. Cancel deletes a waiting job from the
server's queue and interrupts a running one. Everything the server sends is bounded (sizes, counts,
silence) and its file names are only ever passed back to ``/view``, never used as paths here.
"""

from __future__ import annotations

import json
import struct
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..messages import msg
from .http import (MAX_IMAGE_BYTES, BadAnswer, Http, RemoteError, RemoteJobFailed, ServerConfig, ServerUnavailable,
                   multipart)

MAX_WS_MESSAGE = 32 * 1024 * 1024  # one preview frame or JSON message
MAX_OUTPUT_IMAGES = 64
MAX_NAME_CHARS = 255
# How long a running job may send nothing before we ask the server whether it still has it.
DEFAULT_SILENCE_S = 120.0
POLL_S = 0.25  # how often a waiting receive looks at the cancel flag

ProgressFn = Callable[[int, int], None]  # (step, total)
PreviewFn = Callable[[bytes], None]  # JPEG/PNG bytes of a preview frame


@dataclass(frozen=True)
class Upload:
    """An image the graph reads with LoadImage under ``name`` (uploaded to the server's input folder)."""

    name: str
    png: bytes


@dataclass
class JobOutcome:
    images: list[bytes] = field(default_factory=list)  # PNG bytes, in the server's order
    cancelled: bool = False
    prompt_id: str = ""
    seconds: float = 0.0


@dataclass(frozen=True)
class ServerReport:
    """What "Test" shows: a server's version, device, queue and which files and nodes it has."""

    name: str
    url: str
    version: str = ""
    device: str = ""
    vram_total: int = 0
    vram_free: int = 0
    queue: int = 0
    gguf: bool = False
    files: dict[str, tuple[str, ...]] = field(default_factory=dict)  # loader input → file names it lists
    error: str = ""  # one sentence when the test failed

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "url": self.url, "version": self.version, "device": self.device,
                "vram_total": self.vram_total, "vram_free": self.vram_free, "queue": self.queue, "gguf": self.gguf,
                "files": {k: list(v) for k, v in self.files.items()}, "error": self.error}


LOADERS = {"UNETLoader": ("unet_name", "transformer"), "UnetLoaderGGUF": ("unet_name", "transformer"),
           "CLIPLoader": ("clip_name", "text_encoder"), "CLIPLoaderGGUF": ("clip_name", "text_encoder"),
           "VAELoader": ("vae_name", "vae")}


def _text(value: Any, limit: int = 200) -> str:
    return value[:limit] if isinstance(value, str) else ""


class ComfyClient:
    def __init__(self, server: ServerConfig, silence_s: float = DEFAULT_SILENCE_S) -> None:
        self.server = server
        self.http = Http(server)
        self.silence_s = silence_s

    @property
    def name(self) -> str:
        return self.server.name

    # -- facts about the server ------------------------------------------------------------

    def queue_length(self) -> int:
        info = self.http.get_json("/prompt")
        try:
            value = info["exec_info"]["queue_remaining"]
        except (KeyError, TypeError):
            value = None
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 1_000_000:
            raise BadAnswer(msg("remote.bad_queue", "{server} did not say how long its queue is.", server=self.name))
        return value

    def loader_files(self) -> tuple[dict[str, tuple[str, ...]], bool]:
        """({loader class: the model files it offers}, whether ComfyUI-GGUF is installed)."""
        files: dict[str, tuple[str, ...]] = {}
        for cls, (key, _) in LOADERS.items():
            info = self.http.get_json(f"/object_info/{cls}")
            node = info.get(cls) if isinstance(info, dict) else None
            if not isinstance(node, dict):
                continue
            try:
                choices = node["input"]["required"][key][0]
            except (KeyError, TypeError, IndexError):
                choices = []
            files[cls] = tuple(c[:MAX_NAME_CHARS] for c in choices[:10_000] if isinstance(c, str)) \
                if isinstance(choices, list) else ()
        return files, "UnetLoaderGGUF" in files

    def listed_files(self, cls: str, key: str) -> tuple[str, ...]:
        """The file names one loader node offers (``/object_info/{cls}``'s choices for ``key``;
        empty when the server has no such node)."""
        info = self.http.get_json(f"/object_info/{cls}")
        node = info.get(cls) if isinstance(info, dict) else None
        try:
            choices = node["input"]["required"][key][0] if isinstance(node, dict) else []
        except (KeyError, TypeError, IndexError):
            choices = []
        if not isinstance(choices, list):
            return ()
        return tuple(c[:MAX_NAME_CHARS] for c in choices[:10_000] if isinstance(c, str))

    def report(self) -> ServerReport:
        """The "Test" button: never raises; a failure is the report's ``error`` sentence."""
        try:
            stats = self.http.get_json("/system_stats")
            system = stats.get("system") if isinstance(stats, dict) else None
            devices = stats.get("devices") if isinstance(stats, dict) else None
            if not isinstance(system, dict) or not isinstance(devices, list):
                raise BadAnswer(msg("remote.not_comfyui", "{server} does not answer like a ComfyUI server.",
                                    server=self.name))
            first = devices[0] if devices and isinstance(devices[0], dict) else {}
            files, gguf = self.loader_files()
            return ServerReport(self.name, self.server.url, version=_text(system.get("comfyui_version")),
                                device=_text(first.get("name")), vram_total=_int(first.get("vram_total")),
                                vram_free=_int(first.get("vram_free")), queue=self.queue_length(), gguf=gguf,
                                files=files)
        except RemoteError as exc:
            return ServerReport(self.name, self.server.url, error=exc.message)

    # -- running a graph -------------------------------------------------------------------

    def upload(self, item: Upload) -> str:
        # No overwrite: our names are the content's sha256, so a file of that name is the same
        # picture (ComfyUI keeps it) and a clash with someone else's file is renamed, never replaced.
        body, ctype = multipart({"type": "input"}, "image", item.name, item.png)
        _, data = self.http.request("POST", "/upload/image", body=body, content_type=ctype)
        answer = self.http._json("/upload/image", 200, data)
        name = answer.get("name") if isinstance(answer, dict) else None
        if not isinstance(name, str) or not name or len(name) > MAX_NAME_CHARS:
            raise BadAnswer(msg("remote.bad_upload", "{server} did not take the image {name}.", server=self.name,
                                name=item.name))
        return name

    def run(self, graph: dict[str, Any], uploads: Sequence[Upload] = (), *, on_progress: ProgressFn | None = None,
            on_preview: PreviewFn | None = None, is_cancelled: Callable[[], bool] = lambda: False,
            previews: bool = True) -> JobOutcome:
        """Run ``graph`` to its end and return its output images. Raises ServerUnavailable /
        BadAnswer (retriable: the job may run elsewhere) or RemoteJobFailed (one sentence, names
        the server)."""
        import websocket  # websocket-client; imported here so the rest of the app never needs it

        started = time.monotonic()
        renamed = {item.name: self.upload(item) for item in uploads}
        renamed = {ours: theirs for ours, theirs in renamed.items() if ours != theirs}
        if renamed:  # the server stored an input under another name: the graph reads that one
            graph = {node_id: _renamed_inputs(node, renamed) for node_id, node in graph.items()}
        prompt_id = str(uuid.uuid4())
        # A client id per job: ComfyUI forgets a client id when its old socket's close is handled,
        # which can come after the next job's socket with the same id connected (its messages lost).
        client_id = uuid.uuid4().hex
        try:
            ws = websocket.create_connection(self.server.ws_url(client_id), timeout=self.server.timeout_s,
                                             header=self.server.auth_headers(), enable_multithread=False)
        except (OSError, websocket.WebSocketException) as exc:
            raise ServerUnavailable(msg("remote.unreachable", "{server} cannot be reached ({reason}).",
                                        server=self.name, reason=str(exc)[:200] or type(exc).__name__)) from None
        try:
            payload: dict[str, Any] = {"prompt": graph, "client_id": client_id, "prompt_id": prompt_id}
            if previews:
                payload["extra_data"] = {"preview_method": "auto"}
            self.http.post_json("/prompt", payload)
            outcome = self._follow(ws, prompt_id, on_progress, on_preview, is_cancelled)
        finally:
            ws.close()
        outcome.prompt_id = prompt_id
        if not outcome.cancelled:
            outcome.images = self._download(prompt_id)
        outcome.seconds = time.monotonic() - started
        return outcome

    def cancel(self, prompt_id: str) -> None:
        """Out of the server's queue if it waits, interrupted if it runs (each a no-op otherwise)."""
        self.http.post_json("/queue", {"delete": [prompt_id]})
        self.http.post_json("/interrupt", {"prompt_id": prompt_id})

    def _follow(self, ws: Any, prompt_id: str, on_progress: ProgressFn | None, on_preview: PreviewFn | None,
                is_cancelled: Callable[[], bool]) -> JobOutcome:
        import websocket

        ws.settimeout(POLL_S)
        last_heard = time.monotonic()
        cancel_sent = False
        while True:
            if is_cancelled() and not cancel_sent:
                self.cancel(prompt_id)
                cancel_sent = True
                if not self._known(prompt_id):  # it was still waiting: gone from the queue now
                    return JobOutcome(cancelled=True)
            try:
                opcode, data = ws.recv_data()
            except websocket.WebSocketTimeoutException:
                if time.monotonic() - last_heard > self.silence_s:
                    if not self._known(prompt_id):
                        if self._finished(prompt_id):
                            return JobOutcome()
                        raise ServerUnavailable(msg("remote.lost_job", "{server} no longer has the job.",
                                                    server=self.name))
                    last_heard = time.monotonic()
                continue
            except (OSError, websocket.WebSocketException) as exc:
                raise ServerUnavailable(msg("remote.connection_lost", "The connection to {server} was lost ({reason}).",
                                            server=self.name, reason=str(exc)[:200] or type(exc).__name__)) from None
            last_heard = time.monotonic()
            if len(data) > MAX_WS_MESSAGE:
                raise BadAnswer(msg("remote.message_too_big", "{server} sent a message of {size} bytes.",
                                    server=self.name, size=len(data)))
            if opcode == websocket.ABNF.OPCODE_BINARY:
                image = _preview_image(data, prompt_id)
                if image is not None and on_preview is not None:
                    on_preview(image)
                continue
            if opcode == websocket.ABNF.OPCODE_CLOSE:
                raise ServerUnavailable(msg("remote.closed", "{server} closed the connection.", server=self.name))
            if opcode != websocket.ABNF.OPCODE_TEXT:
                continue
            try:
                message = json.loads(data)
            except (ValueError, RecursionError):
                raise BadAnswer(msg("remote.bad_message", "{server} sent a message that is not ComfyUI's JSON.",
                                    server=self.name)) from None
            kind = message.get("type") if isinstance(message, dict) else None
            body = message.get("data") if isinstance(message, dict) else None
            if not isinstance(body, dict) or body.get("prompt_id") != prompt_id:
                continue
            if kind == "progress" and on_progress is not None:
                value, total = body.get("value"), body.get("max")
                if isinstance(value, int) and isinstance(total, int) and 0 <= value <= total <= 100_000:
                    on_progress(value, total)
            elif kind == "execution_error":
                raise RemoteJobFailed(msg("remote.execution_error", "{server} could not run the job: {reason}.",
                                          server=self.name, reason=_error_reason(body)))
            elif kind == "execution_interrupted":
                return JobOutcome(cancelled=True)
            elif kind == "executing" and body.get("node") is None:  # sent after the history is written
                return JobOutcome()

    def _known(self, prompt_id: str) -> bool:
        """Whether the server's queue (running or waiting) still holds this prompt."""
        queue = self.http.get_json("/queue")
        if not isinstance(queue, dict):
            raise BadAnswer(msg("remote.bad_queue", "{server} did not say how long its queue is.", server=self.name))
        for key in ("queue_running", "queue_pending"):
            for entry in (queue.get(key) or [])[:100_000] if isinstance(queue.get(key), list) else []:
                if isinstance(entry, list) and len(entry) > 1 and entry[1] == prompt_id:
                    return True
        return False

    def _finished(self, prompt_id: str) -> bool:
        history = self.http.get_json(f"/history/{prompt_id}")
        return isinstance(history, dict) and prompt_id in history

    def _download(self, prompt_id: str) -> list[bytes]:
        entry = None
        for wait in (0.0, 0.2, 0.5, 1.0, 2.0):  # the history is written as the prompt ends: a moment's grace
            time.sleep(wait)
            history = self.http.get_json(f"/history/{prompt_id}")
            entry = history.get(prompt_id) if isinstance(history, dict) else None
            if entry is not None:
                break
        if not isinstance(entry, dict):
            raise ServerUnavailable(msg("remote.lost_job", "{server} no longer has the job.", server=self.name))
        status = entry.get("status")
        if isinstance(status, dict) and status.get("status_str") == "error":
            raise RemoteJobFailed(msg("remote.execution_error", "{server} could not run the job: {reason}.",
                                      server=self.name, reason=_history_error(status)))
        refs: list[dict[str, str]] = []
        outputs = entry.get("outputs")
        if not isinstance(outputs, dict):
            outputs = {}
        for node_id in sorted(outputs, key=str)[:1000]:
            node = outputs[node_id]
            for image in (node.get("images") or [])[:MAX_OUTPUT_IMAGES] if isinstance(node, dict) else []:
                ref = _image_ref(image)
                if ref is not None and ref["type"] == "output":
                    refs.append(ref)
        if not refs:
            raise BadAnswer(msg("remote.no_image", "{server} finished the job but offers no image.", server=self.name))
        images = []
        for ref in refs[:MAX_OUTPUT_IMAGES]:
            _, data = self.http.request("GET", "/view", query=ref, limit=MAX_IMAGE_BYTES)
            if not data.startswith(b"\x89PNG\r\n\x1a\n"):
                raise BadAnswer(msg("remote.not_png", "{server} sent something that is not a PNG image.",
                                    server=self.name))
            images.append(data)
        return images


def _renamed_inputs(node: Any, renamed: dict[str, str]) -> Any:
    if not isinstance(node, dict) or node.get("class_type") != "LoadImage":
        return node
    inputs = dict(node.get("inputs") or {})
    image = inputs.get("image")
    if isinstance(image, str) and image in renamed:
        inputs["image"] = renamed[image]
    return {**node, "inputs": inputs}


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def _image_ref(image: Any) -> dict[str, str] | None:
    """{filename, subfolder, type} as the server named them — only ever sent back to /view."""
    if not isinstance(image, dict):
        return None
    ref = {k: image.get(k, "") for k in ("filename", "subfolder", "type")}
    if not all(isinstance(v, str) and len(v) <= MAX_NAME_CHARS for v in ref.values()) or not ref["filename"]:
        return None
    return ref  # type: ignore[return-value]


def _preview_image(data: bytes, prompt_id: str) -> bytes | None:
    """The image bytes of a binary preview frame (type 1, or 4 with metadata naming our prompt)."""
    if len(data) < 8:
        return None
    (event,) = struct.unpack(">I", data[:4])
    if event == 1:
        return data[8:]
    if event == 4:
        (size,) = struct.unpack(">I", data[4:8])
        if size > len(data) - 8:
            return None
        try:
            meta = json.loads(data[8:8 + size])
        except (ValueError, RecursionError):
            return None
        if isinstance(meta, dict) and meta.get("prompt_id") not in (None, prompt_id):
            return None
        return data[8 + size:]
    return None


def _error_reason(body: dict[str, Any]) -> str:
    node = _text(body.get("node_type"), 80)
    text = _text(body.get("exception_message"), 300).strip().splitlines()
    first = text[0].rstrip(". ") if text else _text(body.get("exception_type"), 80) or "unknown error"
    return f"{node}: {first}" if node else first


def _history_error(status: dict[str, Any]) -> str:
    for item in (status.get("messages") or [])[:100] if isinstance(status.get("messages"), list) else []:
        if isinstance(item, list) and len(item) == 2 and item[0] == "execution_error" and isinstance(item[1], dict):
            return _error_reason(item[1])
    return "unknown error"


__all__ = ["BadAnswer", "ComfyClient", "JobOutcome", "RemoteError", "RemoteJobFailed", "ServerConfig", "ServerReport",
           "ServerUnavailable", "Upload"]

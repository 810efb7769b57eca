"""Real ComfyUI servers from the test kit (``shared/peers/comfyui``) for tests and benchmarks.

The kit's README says how: its own virtual environment (``ZIMAGE_COMFY_VENV``; the kit's
requirements never go into ours), ``build_weights.py`` for small random Z-Image weights, and
``start_server.py --tiny`` for an unmodified ComfyUI on loopback. ``local_models`` makes a models
folder our own engine loads from the same files (configs with the kit's sizes, the Qwen tokenizer
ComfyUI ships), so a remote picture can be compared with the local one.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

VENV_ENV = "ZIMAGE_COMFY_VENV"
KIT_ENV = "ZIMAGE_COMFY_KIT"
# The chat template our prompt encoder applies (Qwen3's, reduced to what Z-Image uses).
CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n"
    "{% if enable_thinking is defined and enable_thinking is false %}<think>\n\n</think>\n\n{% endif %}"
    "{% endif %}"
)


def kit_dir() -> Path:
    default = Path(__file__).resolve().parents[2] / ".." / "shared" / "peers" / "comfyui"
    return Path(os.environ.get(KIT_ENV) or default).resolve()


def kit_python() -> Path | None:
    """The kit venv's python, or None (with the reason in ``why_missing``)."""
    venv = os.environ.get(VENV_ENV)
    if not venv:
        return None
    python = Path(venv) / "bin" / "python"
    return python if python.exists() and (kit_dir() / "start_server.py").exists() else None


def why_missing() -> str:
    if not os.environ.get(VENV_ENV):
        return f"{VENV_ENV} is not set (the ComfyUI kit's venv; .ci/run makes one, see its README)"
    return f"no kit venv python under {os.environ[VENV_ENV]} or no kit at {kit_dir()}"


def build_weights(python: Path, target: Path, seed: int = 1234) -> Path:
    if not (target / "tiny_zimage.json").exists():
        subprocess.run([str(python), str(kit_dir() / "build_weights.py"), str(target), "--seed", str(seed)],
                       check=True, stdout=subprocess.DEVNULL, timeout=600)
    return target


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class KitServer:
    """One ``start_server.py --tiny`` process on 127.0.0.1, one CPU thread (the cores are shared)."""

    def __init__(self, python: Path, models: Path, workdir: Path, port: int | None = None,
                 preview: str = "latent2rgb") -> None:
        self.python, self.models, self.workdir = python, models, workdir
        self.port = port or free_port()
        self.preview = preview
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "KitServer":
        self.workdir.mkdir(parents=True, exist_ok=True)
        ready = self.workdir / "ready-url"
        ready.unlink(missing_ok=True)
        env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
        env.pop("PYTHONPATH", None)
        self.proc = subprocess.Popen(
            [str(self.python), str(kit_dir() / "start_server.py"), "--port", str(self.port), "--models",
             str(self.models), "--workdir", str(self.workdir), "--tiny", "--preview-method", self.preview,
             "--ready-file", str(ready), "--timeout", "400"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, start_new_session=True)
        self._ready = ready
        return self

    def wait_ready(self, timeout: float = 420) -> "KitServer":
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self._ready.exists() and self._ready.read_text().strip():
                return self
            if self.proc is not None and self.proc.poll() is not None:
                break
            time.sleep(0.5)
        log = self.workdir / "server.log"
        tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        self.stop()
        raise RuntimeError(f"the kit's ComfyUI on port {self.port} did not start:\n{tail}")

    def kill9(self) -> None:
        """Kill ComfyUI at once, as a crash or a power cut would (the launcher and its child)."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)


def local_models(kit_models: Path, target: Path) -> Path:
    """A models folder for our engine with the kit's files (linked) and configs of the kit's sizes."""
    from ..engine.model_files import shipped_config_dir

    facts = json.loads((kit_models / "tiny_zimage.json").read_text())
    for key in ("dit", "te", "vae"):
        link = target / facts["files"][key]
        link.parent.mkdir(parents=True, exist_ok=True)
        if not link.exists():
            link.symlink_to((kit_models / facts["files"][key]).resolve())
    configs = target / "configs" / "z-image-turbo"
    if configs.exists():
        return target
    shutil.copytree(shipped_config_dir(), configs)
    dit, te = facts["dit"], facts["text_encoder"]
    tr = json.loads((configs / "transformer" / "config.json").read_text())
    tr.update(dim=dit["dim"], n_heads=dit["heads"], n_kv_heads=dit["heads"], n_layers=dit["n_layers"],
              n_refiner_layers=dit["n_refiner_layers"], cap_feat_dim=dit["cap_feat_dim"])
    (configs / "transformer" / "config.json").write_text(json.dumps(tr, indent=2))
    enc = json.loads((configs / "text_encoder" / "config.json").read_text())
    enc.update(hidden_size=te["hidden"], intermediate_size=te["inter"], num_hidden_layers=te["layers"],
               num_attention_heads=te["heads"], num_key_value_heads=te["kv_heads"], head_dim=te["head_dim"],
               vocab_size=te["vocab"], max_window_layers=te["layers"])
    (configs / "text_encoder" / "config.json").write_text(json.dumps(enc, indent=2))
    tokenizer = configs / "tokenizer"
    shutil.copytree(kit_dir() / "ComfyUI" / "comfy" / "text_encoders" / "qwen25_tokenizer", tokenizer)
    config = json.loads((tokenizer / "tokenizer_config.json").read_text())
    config["chat_template"] = CHAT_TEMPLATE
    (tokenizer / "tokenizer_config.json").write_text(json.dumps(config, indent=2))
    return target

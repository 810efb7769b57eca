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
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

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
                 preview: str = "latent2rgb", pythonpath: Path | None = None) -> None:
        """``pythonpath``: a folder the server's Python imports from first (a ``sitecustomize.py`` that
        adapts ComfyUI to the kit's sizes, as bench/comfyui_control_graph.py's does)."""
        self.python, self.models, self.workdir = python, models, workdir
        self.port = port or free_port()
        self.preview = preview
        self.pythonpath = pythonpath
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
        if self.pythonpath is not None:
            env["PYTHONPATH"] = str(self.pythonpath)
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
        tail = self.log_tail()
        self.stop()
        raise RuntimeError(f"the kit's ComfyUI on port {self.port} did not start:\n{tail}")

    def log_tail(self, chars: int = 2000) -> str:
        """The end of ComfyUI's own log (start_server.py writes it into the work folder)."""
        log = self.workdir / "server.log"
        return log.read_text(errors="replace")[-chars:] if log.exists() else ""

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



@contextmanager
def kit_servers(python: Path, models: dict[str, Path], root: Path, timeout: float = 420,
                preview: str = "latent2rgb", pythonpath: Path | None = None) -> Iterator[dict[str, KitServer]]:
    """Kit servers by name (``{"a": models_folder, …}``, each working in ``root/<name>``), started side by
    side, each waited for until it answers, and all stopped on the way out. A server that does not start
    raises with the end of its log; an error inside the block gets every server's log tail as a note."""
    servers = {name: KitServer(python, folder, root / name, preview=preview, pythonpath=pythonpath)
               for name, folder in models.items()}
    try:
        for server in servers.values():
            server.start()
        for server in servers.values():
            server.wait_ready(timeout)
        yield servers
    except Exception as exc:
        for name, server in servers.items():
            exc.add_note(f"--- kit server {name} ({server.url}) log tail ---\n{server.log_tail()}")
        raise
    finally:
        for server in servers.values():
            server.stop()

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



# Runs in the kit's venv: ComfyUI's own weight adapters (comfy/weight_adapter) on LoRA files, each
# module prefix's weight change at strength 1 computed by ``calculate_weight`` on a zero weight.
_ADAPTER_SCRIPT = r"""
import json, sys
import comfy.cli_args
comfy.cli_args.args.cpu = True
import torch
import comfy.weight_adapter as weight_adapter
from safetensors.torch import load_file, save_file
jobs = json.loads(open(sys.argv[1]).read())
out = {}
for n, (path, shapes) in enumerate(jobs):
    lora = load_file(path)
    for prefix, shape in shapes.items():
        alpha = lora[prefix + ".alpha"].item() if prefix + ".alpha" in lora else None
        dora = lora.get(prefix + ".dora_scale")
        for cls in weight_adapter.adapters:
            adapter = cls.load(prefix, lora, alpha, dora, set())
            if adapter is not None:
                weight = torch.zeros(shape, dtype=torch.float32)
                delta = adapter.calculate_weight(weight, prefix, 1.0, 1.0, None, lambda a: a)
                out[f"{n}/{prefix}"] = delta.contiguous()
                break
save_file(out, sys.argv[2])
"""


def comfy_weight_deltas(python: Path, jobs: list[tuple[Path, dict[str, tuple[int, int]]]], workdir: Path
                        ) -> list[dict]:
    """For each (LoRA file, {module prefix: weight (out, in)}): {prefix: ΔW at strength 1} as
    ComfyUI's weight adapters compute it, in one process of the kit's venv."""
    from safetensors.torch import load_file

    workdir.mkdir(parents=True, exist_ok=True)
    jobs_file, out = workdir / "adapter-jobs.json", workdir / "adapter-deltas.safetensors"
    jobs_file.write_text(json.dumps([[str(path), shapes] for path, shapes in jobs]))
    comfy = kit_dir() / "ComfyUI"
    env = dict(os.environ, PYTHONPATH=f"{comfy}{os.pathsep}{kit_dir() / 'shim'}", OMP_NUM_THREADS="1")
    subprocess.run([str(python), "-c", _ADAPTER_SCRIPT, str(jobs_file), str(out)], cwd=str(comfy), env=env,
                   check=True, timeout=300, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    found = load_file(str(out))
    return [{key.split("/", 1)[1]: t for key, t in found.items() if key.startswith(f"{n}/")} for n in range(len(jobs))]

"""Does the ComfyUI graph our PNGs carry for a controlled image run in real ComfyUI, and does its
ZImageFunControlnet change the picture there? Runs the unmodified ComfyUI of shared/peers on the
CPU with its tiny random weights and a tiny ControlNet Union 2.1 of the same width (devkit), queues
``history.comfy_export.api_prompt`` for a request with a canny control (full range, and a partial
range that splits into KSamplerAdvanced segments), and with strength 0.

    python bench/comfyui_control_graph.py --comfy-python /tmp/comfyvenv/bin/python

Prints one line per graph and "ratio" = mean |controlled − strength 0| / 255 (0: no effect).
Exit 0 only when every graph ran and the control changed ComfyUI's picture.

ComfyUI's ``ZImage_Control`` (what ModelPatchLoader builds) has the real model's width as its
defaults (dim 3840, 30 heads), like the four size facts the kit's ``--tiny`` patch changes; a
``sitecustomize`` on the server's PYTHONPATH changes those defaults to the kit's (1152, 9 heads)
and nothing that computes.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
KIT = ROOT.parent / "shared" / "peers" / "comfyui"
if not KIT.is_dir():
    KIT = Path("/work/shared/peers/comfyui")


SITECUSTOMIZE = '''
import importlib.abc, importlib.util, sys


class _TinyControl(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name != "comfy.ldm.lumina.controlnet":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        run = spec.loader.exec_module

        def exec_module(module):
            run(module)
            init = module.ZImage_Control.__init__

            def tiny(self, *args, **kwargs):
                kwargs.setdefault("dim", 1152)
                kwargs.setdefault("n_heads", 9)
                kwargs.setdefault("n_kv_heads", 9)
                init(self, *args, **kwargs)

            module.ZImage_Control.__init__ = tiny

        spec.loader.exec_module = exec_module
        return spec


sys.meta_path.insert(0, _TinyControl())
'''


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post(url: str, body: dict) -> dict:
    req = urllib.request.Request(url, json.dumps(body).encode(), {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read())
    except urllib.error.HTTPError as exc:
        raise SystemExit(f"ComfyUI refused the graph: {exc.read().decode()[:2000]}") from None


def get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as r:
        return r.read()


def run_graph(base: str, graph: dict, timeout: float = 300) -> bytes:
    pid = post(f"{base}/prompt", {"prompt": graph, "client_id": "zimage-desktop-check"})["prompt_id"]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        history = json.loads(get(f"{base}/history/{pid}"))
        if pid in history:
            entry = history[pid]
            if entry["status"]["status_str"] != "success":
                raise SystemExit(f"ComfyUI failed: {json.dumps(entry['status'])[:3000]}")
            image = next(i for out in entry["outputs"].values() for i in out.get("images", []))
            return get(f"{base}/view?filename={image['filename']}&subfolder={image['subfolder']}&type=output")
        time.sleep(0.5)
    raise SystemExit("ComfyUI did not finish in time")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--comfy-python", required=True, help="python of a venv with the kit's requirements")
    ap.add_argument("--size", type=int, default=256)
    args = ap.parse_args()
    import io

    import numpy as np
    from PIL import Image, ImageDraw

    from zimage_desktop.devkit.controlnet import write_tiny_controlnet
    from zimage_desktop.engine.control_images import prepare
    from zimage_desktop.engine.request import ControlRef, GenerationRequest
    from zimage_desktop.history.comfy_export import api_prompt

    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        models, work = tmp_path / "models", tmp_path / "work"
        subprocess.run([args.comfy_python, str(KIT / "build_weights.py"), str(models)], check=True,
                       capture_output=True)
        # the kit's DiT: dim 1152, 9 heads (its README); ComfyUI looks in <base-directory>/models/model_patches
        patch = write_tiny_controlnet(work / "models", "2.1", transformer={"dim": 1152, "n_heads": 9, "n_kv_heads": 9})
        source = Image.new("RGB", (args.size, args.size), "white")
        ImageDraw.Draw(source).ellipse((40, 40, args.size - 40, args.size - 60), fill="black")
        prepared = prepare("canny", source, args.size, args.size).image
        (work / "input").mkdir(parents=True, exist_ok=True)
        prepared.save(work / "input" / "control.png")
        hook = tmp_path / "hook"
        hook.mkdir()
        (hook / "sitecustomize.py").write_text(SITECUSTOMIZE)
        env = dict(os.environ, PYTHONPATH=str(hook))
        port = free_port()
        server = subprocess.Popen([args.comfy_python, str(KIT / "start_server.py"), "--port", str(port), "--models",
                                   str(models), "--workdir", str(work), "--tiny", "--ready-file", str(tmp_path / "url"),
                                   "--timeout", "240"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                  env=env)
        try:
            deadline = time.monotonic() + 240
            while not (tmp_path / "url").is_file():
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"ComfyUI did not start: {server.stdout.read() if server.stdout else ''}")
                time.sleep(0.5)
            base = f"http://127.0.0.1:{port}"
            model = {"roles": {"transformer": "zimage_tiny_bf16.safetensors", "text_encoder": "qwen3_tiny.safetensors",
                               "vae": "ae_tiny.safetensors"},
                     "controls": [{"name": patch.name, "prepared": "control.png"}]}
            pictures = {}
            for label, strength, start, end in (("full", 1.0, 0.0, 1.0), ("partial", 1.0, 0.0, 0.5),
                                                ("zero", 0.0, 0.0, 1.0)):
                req = GenerationRequest(prompt="a poster", width=args.size, height=args.size, steps=4, seed=5,
                                        controls=(ControlRef("canny", "/x.png", "a" * 64, strength, start, end),))
                png = run_graph(base, api_prompt(req, model))
                pictures[label] = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.float32)
                classes = sorted({n["class_type"] for n in api_prompt(req, model).values()})
                print(f"{label}: ran in ComfyUI ({', '.join(classes)})")
            ok = True
            for label in ("full", "partial"):
                ratio = float(np.abs(pictures[label] - pictures["zero"]).mean() / 255)
                print(f"{label} vs strength 0: ratio {ratio:.4f}")
                ok = ok and ratio > 0.001
            return 0 if ok else 1
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()


if __name__ == "__main__":
    raise SystemExit(main())

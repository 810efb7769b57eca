"""Edit and LoRA jobs on real ComfyUI servers from the kit (loopback, small random weights, CPU).

Server "a" has a LoRA in its loras/ folder; server "b" (its own models folder) does not. An
inpaint made on a server keeps every pixel outside the mask the source's and is compared with the
local engine's picture; a LoRA job runs on the server that has the file and equals the local
picture; a job whose LoRA no server has is one sentence naming the file and the server, and goes
to this computer when the user's list has it. Skipped with the reason without the kit's venv.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from zimage_desktop.devkit import comfy_kit
from zimage_desktop.engine import request as request_module
from zimage_desktop.engine.request import GenerationRequest, LoraRef
from zimage_desktop.remote.engine import RemoteEngine
from zimage_desktop.remote.farm import Farm, FarmEvents, LocalEngine
from zimage_desktop.remote.http import ServerConfig

pytestmark = [pytest.mark.comfy, pytest.mark.skipif(comfy_kit.kit_python() is None, reason=comfy_kit.why_missing())]

LORA = "kit_style"


@pytest.fixture(autouse=True)
def small_images(monkeypatch):
    monkeypatch.setattr(request_module, "MIN_SIDE", 64)


def write_kit_lora(path: Path, seed: int = 3) -> Path:
    """A rank-4 LoRA on the kit transformer's first block, in ComfyUI's own layout (down/up + alpha)."""
    import torch
    from safetensors.torch import save_file

    g = torch.Generator().manual_seed(seed)
    state = {}
    for module, (rows, cols) in {"attention.qkv": (3456, 1152), "attention.out": (1152, 1152),
                                 "feed_forward.w1": (3072, 1152)}.items():
        key = f"diffusion_model.layers.0.{module}"
        state[f"{key}.lora_down.weight"] = torch.randn(4, cols, generator=g) * 0.3
        state[f"{key}.lora_up.weight"] = torch.randn(rows, 4, generator=g) * 0.3
        state[f"{key}.alpha"] = torch.tensor(4.0)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(state, str(path))
    return path


@pytest.fixture(scope="module")
def kit(tmp_path_factory):
    python = comfy_kit.kit_python()
    assert python is not None
    root = tmp_path_factory.mktemp("comfy-jobs")
    models = comfy_kit.build_weights(python, root / "models")
    write_kit_lora(models / "loras" / f"{LORA}.safetensors")
    bare = root / "models-b"  # the same weights, no LoRA
    for sub in ("diffusion_models", "text_encoders", "vae"):
        (bare / sub).mkdir(parents=True)
        for f in (models / sub).iterdir():
            (bare / sub / f.name).symlink_to(f)
    with comfy_kit.kit_servers(python, {"a": models, "b": bare}, root) as servers:
        yield {"models": models, "root": root, **servers}


@pytest.fixture(scope="module")
def local(kit):
    from zimage_desktop.engine.generator import Generator
    from zimage_desktop.engine.planner import reference_plan

    folder = comfy_kit.local_models(kit["models"], kit["root"] / "local")
    (folder / "loras").mkdir(exist_ok=True)
    link = folder / "loras" / f"{LORA}.safetensors"
    if not link.exists():
        link.symlink_to(kit["models"] / "loras" / f"{LORA}.safetensors")
    return Generator(folder, device="cpu", plan=reference_plan("cpu"))


def engine(kit, name: str) -> RemoteEngine:
    return RemoteEngine(ServerConfig(f"kit-{name}", kit[name].url, timeout_s=20))


def pixels(image) -> np.ndarray:
    return np.asarray(image.convert("RGB"), dtype=np.int16)


@pytest.fixture(scope="module")
def pictures(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pictures")
    rng = np.random.default_rng(5)
    ramp = np.linspace(0, 255, 64, dtype=np.float32)
    base = np.stack([ramp[None, :].repeat(64, 0), ramp[:, None].repeat(64, 1), np.full((64, 64), 90.0)], -1)
    noisy = np.clip(base + rng.normal(0, 20, base.shape), 0, 255).astype(np.uint8)
    Image.fromarray(noisy, "RGB").save(folder / "src.png")
    mask = np.zeros((64, 64), np.uint8)
    mask[20:44, 24:40] = 255
    Image.fromarray(mask, "L").save(folder / "mask.png")
    return folder


class Events:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.started: list[str] = []
        self.images: list[tuple[str, object]] = []
        self.requeued: list[tuple[str, str]] = []
        self.failed: list[tuple[str, str]] = []

    def farm_events(self) -> FarmEvents:
        return FarmEvents(started=lambda job, eng: self.started.append(eng),
                          image=lambda job, eng, image: self.images.append((eng, image)),
                          requeued=lambda job, eng, why: self.requeued.append((eng, why)),
                          failed=lambda job, eng, why: self.failed.append((eng, why)))


def run_farm(engines, req: GenerationRequest) -> Events:
    events = Events()
    farm = Farm(engines, events.farm_events(), backoff_s=600)
    try:
        assert farm.wait_ready()
        farm.submit(req)
        assert farm.join(timeout=600)
    finally:
        farm.stop()
    return events


def test_uploads_named_by_content_are_kept_once_and_never_overwritten(kit):
    """ComfyUI's /upload/image without overwrite (server.py image_upload): the same name and
    content is kept as it is; another picture under a taken name is renamed, never replaces it."""
    from zimage_desktop.remote.client import ComfyClient, Upload
    from zimage_desktop.remote.job_inputs import png_upload

    client = ComfyClient(ServerConfig("kit-a", kit["a"].url, timeout_s=20))
    first = png_upload(Image.new("RGB", (8, 8), (1, 2, 3)))
    assert client.upload(first) == first.name
    assert client.upload(first) == first.name  # a second job with the same input: one file
    clash = Upload(first.name, png_upload(Image.new("RGB", (8, 8), (9, 9, 9))).png)
    renamed = client.upload(clash)
    assert renamed != first.name and renamed.endswith(" (1).png")
    _, kept = client.http.request("GET", "/view", query={"filename": first.name, "type": "input", "subfolder": ""},
                                  limit=1 << 20)
    assert kept == first.png


def test_inpaint_on_a_server_keeps_the_pixels_outside_the_mask_and_matches_local(kit, local, pictures):
    from zimage_desktop.engine.editing import feathered_mask

    req = GenerationRequest(prompt="a red door", width=64, height=64, steps=4, seed=77, mode="inpaint",
                            strength=0.75, mask_blur=4, source=str(pictures / "src.png"),
                            mask=str(pictures / "mask.png"))
    made = engine(kit, "a").run(req).images[0]
    source = pixels(Image.open(pictures / "src.png"))
    outside = np.asarray(feathered_mask(Image.open(pictures / "mask.png").convert("L"), 4)) == 0
    remote = pixels(made.image)
    assert np.array_equal(remote[outside], source[outside])  # untouched where the mask is not
    inside = ~outside
    assert np.abs(remote[inside] - source[inside]).mean() > 2  # and the server did redraw the masked part
    here = pixels(local.run(req).images[0].image)
    other = pixels(local.run(replace(req, seed=78)).images[0].image)
    diff, apart = np.abs(remote - here), np.abs(other - here)
    # The graph is the PNG's own (history/comfy_edit_graph.py: the mask grown and made constant per
    # latent cell, the result pasted through our feather); measured: max 1 level, as text-to-image.
    print(f"inpaint remote vs local: max {diff.max()}, mean {diff[inside].mean():.2f} inside the mask; "
          f"another seed: mean {apart[inside].mean():.2f}")
    assert diff[outside].max() == 0
    assert diff.max() <= 1, diff.max()
    assert apart[inside].mean() > 2  # the seed matters: the comparison can tell pictures apart
    assert made.model["edit_input"].endswith(".png") and len(made.model["edit_input"]) == 68  # sha256 name
    assert made.model["engine"]["name"] == "kit-a"


def test_img2img_on_a_server_matches_local(kit, local, pictures):
    req = GenerationRequest(prompt="a red door", width=64, height=64, steps=4, seed=77, mode="img2img",
                            strength=0.75, source=str(pictures / "src.png"))
    remote = pixels(engine(kit, "b").run(req).images[0].image)
    here = pixels(local.run(req).images[0].image)
    diff = np.abs(remote - here)
    print(f"img2img remote vs local: max {diff.max()}, mean {diff.mean():.3f}")
    assert diff.max() <= 1


def test_a_lora_job_runs_on_the_server_that_has_the_lora_and_equals_local(kit, local):
    req = GenerationRequest(prompt="a fox", width=64, height=64, steps=2, seed=9, loras=(LoraRef(LORA, 1.0),))
    events = run_farm([engine(kit, "b"), engine(kit, "a")], req)  # b first: it lacks the LoRA
    assert not events.failed, events.failed
    assert events.started == ["kit-b", "kit-a"]
    assert len(events.requeued) == 1 and events.requeued[0][0] == "kit-b"
    why = events.requeued[0][1]
    assert why == f"kit-b does not have the LoRA {LORA}.safetensors (in its models/loras folder)."
    (eng, made), = events.images
    assert eng == "kit-a"
    here = local.run(req).images[0].image
    plain = local.run(GenerationRequest(prompt="a fox", width=64, height=64, steps=2, seed=9)).images[0].image
    assert np.abs(pixels(made.image) - pixels(here)).max() <= 1
    assert np.abs(pixels(plain) - pixels(here)).max() > 4  # the LoRA changed the picture


def test_a_lora_no_server_has_is_one_sentence_and_stays_local_when_allowed(kit, local):
    from zimage_desktop.remote.job_inputs import MissingOnServer

    req = GenerationRequest(prompt="a fox", width=64, height=64, steps=2, seed=10, loras=(LoraRef("nowhere", 0.8),))
    with pytest.raises(MissingOnServer) as caught:
        engine(kit, "a").run(req)
    assert caught.value.message == "kit-a does not have the LoRA nowhere.safetensors (in its models/loras folder)."
    events = run_farm([engine(kit, "a"), engine(kit, "b")], req)  # no local engine in the list
    assert not events.images and len(events.failed) == 1
    assert "nowhere.safetensors" in events.failed[0][1] and "\n" not in events.failed[0][1]
    local_lora = Path(local.models_dir) / "loras" / "nowhere.safetensors"
    write_kit_lora(local_lora, seed=4)
    try:
        events = run_farm([engine(kit, "a"), LocalEngine(lambda: local)], req)
    finally:
        local_lora.unlink()
    assert not events.failed, events.failed
    assert events.started == ["kit-a", "local"] and [eng for eng, _ in events.images] == ["local"]


def test_queue_panel_shows_each_job_on_each_server_and_cancels_one(kit, qtbot, tmp_path):
    """Two servers, three jobs: a line per running job with its server and progress; one job's own
    Cancel stops it on its server while the other goes on, and the freed server takes the next."""
    from PySide6.QtCore import Qt

    from zimage_desktop.config import Paths
    from zimage_desktop.remote import engines
    from zimage_desktop.ui.controller import GenerationController
    from zimage_desktop.ui.queue_panel import QueuePanel
    from zimage_desktop.ui.remote_engines import RemoteEngines
    from zimage_desktop.ui.worker import JobCancelled, JobFinished, JobStarted

    paths = Paths(tmp_path / "data")
    servers = tuple(engines.ServerEntry(f"kit-{n}", kit[n].url) for n in ("a", "b"))
    engines.save(paths, engines.EngineList(servers, ("kit-a", "kit-b", "local"), local_enabled=False))
    controller = GenerationController()
    panel = QueuePanel(controller)
    qtbot.addWidget(panel)
    panel.show()
    events: list[object] = []
    remotes = RemoteEngines(paths, controller)
    remotes.start(panel.on_worker_event, events.append)
    try:
        ids = [controller.submit(GenerationRequest(prompt=f"job {i}", width=64, height=64, steps=steps, seed=i))
               for i, steps in ((0, 100), (1, 100), (2, 2))]
        qtbot.waitUntil(lambda: len(panel.rows) == 2 and all("step" in r.progress.text() for r in panel.rows.values()),
                        timeout=300_000)
        shown = sorted(r.label.toolTip() for r in panel.rows.values())  # which server takes which job is a race
        assert shown in (["[kit-a] job 0", "[kit-b] job 1"], ["[kit-a] job 1", "[kit-b] job 0"]), shown
        assert panel.current.isVisible() and panel.list.count() == 1
        started = {e.job_id: e.engine for e in events if isinstance(e, JobStarted)}
        freed = started[ids[1]]
        qtbot.mouseClick(panel.rows[ids[1]].cancel, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: any(isinstance(e, JobCancelled) and e.job_id == ids[1] for e in events),
                        timeout=120_000)
        assert ids[1] not in panel.rows and ids[0] in panel.rows  # the other job goes on
        qtbot.waitUntil(lambda: any(isinstance(e, JobFinished) and e.job_id == ids[2] for e in events), timeout=300_000)
        assert [e.engine for e in events if isinstance(e, JobStarted) and e.job_id == ids[2]] == [freed]
        assert not any(isinstance(e, JobCancelled) and e.job_id == ids[0] for e in events)
        if ids[0] in panel.rows:  # still running (100 steps): its own Cancel ends it too
            qtbot.mouseClick(panel.rows[ids[0]].cancel, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: not panel.rows and not panel.current.isVisible(), timeout=120_000)
    finally:
        controller.stop()
        remotes.stop(30_000)

"""The residency table's later phases on a pretend two-GPU machine (the chosen GPU is cuda:1):
the prompt enhancer ("enhance"), an edit's VAE encode ("vae-encode", also a control image's), a
LoRA set (its matrices with hooks, or merged with the originals' backup on the GPU or in pinned
RAM) and a ControlNet (resident, or streamed from RAM). The real pipeline runs with the real hooks;
after each phase every tensor of every row — module parameters, the hooks' device copies of the
LoRA matrices, the merge's backup, the ControlNet's own weights — must be where the request's table
(engine/request_table.py) says, and each image's predicted peak must be that table's.
"""

from __future__ import annotations

import dataclasses
import shutil
from dataclasses import replace

import pytest
import torch
from PIL import Image

from tests.fixtures.pretend_cuda import pretend_cuda
from tests.test_profiles import REQ, many_forms  # noqa: F401  (module fixture)
from tests.test_residency_devices import CASES, CUDA1, components, expected_dtype_ok, two_gpus
from zimage_desktop.engine import control_plan, lora_plan
from zimage_desktop.engine.controlnet_files import pick_controlnet
from zimage_desktop.engine.enhance import Sampling
from zimage_desktop.engine.enhance_session import enhance_request
from zimage_desktop.engine.generator import Generator
from zimage_desktop.engine.lora_patch import LoraPatcher
from zimage_desktop.engine.request import ControlRef, LoraRef
from zimage_desktop.engine.request_table import RequestParts, request_table
from zimage_desktop.engine.residency import Residency


@pytest.fixture(scope="module")
def kit(many_forms, tmp_path_factory):  # noqa: F811
    """The profiles' kit with a LoRA, a ControlNet Union 2.1, a source picture and a mask."""
    from tests.fixtures import build_tiny_pipeline
    from zimage_desktop.devkit.controlnet import write_tiny_controlnet
    from zimage_desktop.devkit.tiny_loras import write_peft_lora

    root = tmp_path_factory.mktemp("phases") / "models"
    shutil.copytree(many_forms, root)
    (root / "loras").mkdir(exist_ok=True)
    write_peft_lora(build_tiny_pipeline(seed=0).transformer, root / "loras" / "style.safetensors")
    write_tiny_controlnet(root, "2.1")
    pictures = root.parent
    source = Image.new("RGB", (REQ.width, REQ.height), (200, 120, 40))
    source.paste((30, 90, 200), (64, 64, 192, 192))
    source.save(pictures / "source.png")
    mask = Image.new("L", (REQ.width, REQ.height), 0)
    mask.paste(255, (96, 96, 160, 160))
    mask.save(pictures / "mask.png")
    return root


def lora_tensors(patcher: LoraPatcher) -> dict[str, list[tuple[str, torch.Tensor]]]:
    """The LoRA rows' tensors: the hooks' device copies ("lora"), the merge's backup ("lora_backup")."""
    copies = [(f"copy{i}", t) for i, t in enumerate(patcher._on_device.values())]
    return {"lora": copies, "lora_backup": list(patcher.merger._backup.items())}


def file_tensors(patcher: LoraPatcher) -> list[torch.Tensor]:
    return [getattr(layer, f.name) for weights in patcher._files.values() for parts in weights.layers.values()
            for layer in parts for f in dataclasses.fields(layer) if isinstance(getattr(layer, f.name), torch.Tensor)]


def controlnet_tensors(gen: Generator) -> list[tuple[str, torch.Tensor]]:
    """The ControlNet's own weights (its embedders and refiners are the transformer's)."""
    if gen._control_model is None:
        return []
    assert gen.pipe is not None
    shared = {id(p) for p in gen.pipe.transformer.parameters()}
    return [(n, p) for n, p in gen._control_model[2].named_parameters() if id(p) not in shared]


def problems_after(gen: Generator, table: Residency, phase: str) -> list[str]:
    """Every tensor of every row that is not where, in what, or pinned as ``table`` says."""
    assert gen.lora_patcher is not None
    rows = {r["component"]: r for r in table.rows()}
    where = table.where()[phase]
    tensors = {name: list(module.named_parameters()) for name, module in components(gen).items()}
    tensors.update(lora_tensors(gen.lora_patcher), controlnet=controlnet_tensors(gen))
    out = []
    for name, found in tensors.items():
        if name not in rows:
            out += [f"{phase}: {name}.{n} exists but the table has no {name} row" for n, _ in found[:1]]
            continue
        row, place = rows[name], where[name]
        if place == "device" and name in ("lora", "lora_backup", "controlnet") and not found:
            out.append(f"{phase}: the table puts {name} on the device and nothing of it is there")
        wanted = CUDA1 if place == "device" else torch.device("cpu")  # ram, stream (between blocks), cpu
        for n, t in found:
            if t.device != wanted:
                out.append(f"{phase}: {name}.{n} on {t.device}, table says {place} ({wanted})")
            if name in components(gen) and not expected_dtype_ok(row, t):
                out.append(f"{phase}: {name}.{n} is {t.dtype}, table says {row['form']}/{row['dtype']}")
            if place != "device" and bool(t.is_pinned()) != row["pinned"]:
                out.append(f"{phase}: {name}.{n} pinned={t.is_pinned()}, table says {row['pinned']}")
    out += [f"{phase}: a LoRA file's tensor on {t.device}" for t in file_tensors(gen.lora_patcher)
            if t.device.type != "cpu"]
    return out


def run_case(kit, profile: str, request, enhance: bool = False):
    """Two images of ``request`` (two prompts: the second brings the encoder back), then, with
    ``enhance``, the enhancer before the second. Returns [(image, phase, problems)] and the results."""
    gib, transformer = CASES[profile]
    gen = Generator(kit, device="cuda:1", machine=two_gpus(gib))
    seen: list[tuple[int, str, list[str]]] = []
    results = []
    with pretend_cuda(count=2):
        for image, prompt in enumerate(("a small house by a lake", "a red kite over a beach")):
            req = replace(request, prompt=prompt, transformer=transformer, profile=profile, steps=1)

            def check(phase: str, image: int = image, req=req) -> None:
                assert gen.plan is not None
                seen.append((image, phase, problems_after(gen, request_table(gen.plan, gen.request_parts(req)),
                                                          phase)))

            gen.ensure_loaded(transformer, profile)
            if enhance and image == 1:
                enhance_request(gen, req, Sampling(max_new_tokens=3, seed=1))
                check("enhance")
            assert gen.pipe is not None and gen.prompts is not None
            once: set[str] = set()

            def first(phase: str):
                def hook(*_args) -> None:
                    if phase not in once:
                        once.add(phase)
                        check(phase)
                return hook

            handles = [gen.prompts.text_encoder.register_forward_hook(first("encode")),
                       gen.pipe.vae.encoder.register_forward_hook(first("vae-encode"))]

            def on_stage(event) -> None:
                if event.stage == "saving":
                    check("decode")

            try:  # each step's callback comes after the step, before the next one or the decode
                results.append(gen.run(req, on_step=lambda *_: check("denoise"), on_stage=on_stage,
                                       on_image=lambda image: None))
            finally:
                for handle in handles:
                    handle.remove()
    return gen, seen, results


def steady(seen) -> list[str]:
    """The problems once the cycle has run once: the first image starts from the state loading
    leaves (every swap member parked in RAM); its denoise and decode already are the steady state."""
    return [p for image, phase, problems in seen if image == 1 or phase in ("denoise", "decode") for p in problems]


EDIT = dict(mode="img2img", strength=0.6)
LORA = (LoraRef("style", 0.8),)


def test_enhancer_edit_and_lora_hooks_on_a_swapped_transformer(kit):
    """16 GB: the encoder swaps with the transformer, so the hooks' LoRA copies must leave with it
    (the enhancer and the prompt encoder find only themselves on the GPU), and the source's VAE
    encode runs with the resident VAE."""
    request = replace(REQ, **EDIT, source=str(kit.parent / "source.png"), loras=LORA)
    gen, seen, results = run_case(kit, "16gb", request, enhance=True)
    assert [(i, p) for i, p, _ in seen][-5:] == [(1, "enhance"), (1, "encode"), (1, "vae-encode"), (1, "denoise"),
                                                (1, "decode")]
    problems = steady(seen)
    assert problems == [], "\n".join(problems)
    assert gen.plan is not None
    table = request_table(gen.plan, gen.request_parts(results[-1].request))
    where = table.where()
    assert table.component("lora").mode == "swap" and table.component("lora").ram_copy
    assert where["encode"]["lora"] == where["enhance"]["lora"] == "ram" and where["denoise"]["lora"] == "device"
    assert where["vae-encode"]["vae"] == "device"
    # The image's predicted peak is the request's table: the edit's phase and the LoRA rows included.
    peak = results[-1].images[0].model["predicted_peak_gib"]
    parts = RequestParts(edit=True, lora_gib=gen.lora_gib)
    assert gen.lora_gib > 0 and (peak["vram"], peak["ram"]) == request_table(gen.plan, parts).peaks(
        REQ.width, REQ.height, ("enhance",))
    plain = gen.plan.table().phase_memory(REQ.width, REQ.height)
    assert "vae-encode" in table.phase_memory(REQ.width, REQ.height) and "vae-encode" not in plain


def test_the_check_fails_when_the_lora_copies_stay_behind(kit, monkeypatch):
    """Mutation: the LoRA copies are not dropped when the swap ring evicts the transformer (the
    code before the "lora" row): the check sees them on cuda:1 while the encoder runs."""
    monkeypatch.setattr(LoraPatcher, "drop_device_copies", lambda self: None)
    _, seen, _ = run_case(kit, "16gb", replace(REQ, loras=LORA))
    encode = [p for image, phase, problems in seen if image == 1 and phase == "encode" for p in problems]
    assert encode and all("lora.copy" in p and "cuda:1" in p for p in encode)


def test_inpaint_with_a_lora_on_a_gguf_transformer_that_swaps_with_the_vae(kit):
    """6 GB: transformer and VAE swap; the source's VAE encode brings the VAE in and sends the
    transformer (and its LoRA copies) out; denoising brings them back."""
    request = replace(REQ, **dict(EDIT, mode="inpaint"), source=str(kit.parent / "source.png"), mask=str(kit.parent / "mask.png"),
                      loras=LORA)
    gen, seen, _ = run_case(kit, "6gb", request)
    problems = steady(seen)
    assert problems == [], "\n".join(problems)
    assert gen.plan is not None
    where = request_table(gen.plan, RequestParts(edit=True, lora_gib=gen.lora_gib)).where()
    assert where["vae-encode"]["vae"] == "device" and where["vae-encode"]["transformer"] == "ram"
    assert where["vae-encode"]["lora"] == "ram" and where["denoise"]["lora"] == "device"


def test_lora_copies_stay_beside_a_streamed_transformer(kit):
    """4 GB: the transformer streams from pinned RAM, the LoRA copies stay on the GPU beside it."""
    gen, seen, results = run_case(kit, "4gb", replace(REQ, loras=LORA))
    problems = steady(seen)
    assert problems == [], "\n".join(problems)
    assert gen.plan is not None
    table = request_table(gen.plan, gen.request_parts(results[-1].request))
    assert table.component("lora").mode == "resident" and table.component("transformer").pinned
    assert table.where()["encode"]["lora"] == "device"


def test_a_controlnet_without_room_on_the_card_streams_from_plain_ram(kit, monkeypatch):
    """24 GB with no room left for the ControlNet: its own weights stream block by block from plain
    (unpinned) RAM; the control image's latents come from the VAE's "vae-encode" phase."""
    monkeypatch.setattr(control_plan, "MARGIN_GIB", 100.0)  # no room for the ControlNet on the card
    gen, seen, results = run_case(kit, "24gb", replace(REQ, controls=(ControlRef("grey", str(kit.parent / "source.png")),)))
    problems = steady(seen)
    assert problems == [], "\n".join(problems)
    assert [p for i, p, _ in seen if i == 1] == ["encode", "vae-encode", "denoise", "decode"]
    assert gen.plan is not None and gen._control_model is not None and gen._control_model[3] == "offload"
    table = request_table(gen.plan, gen.request_parts(results[-1].request))
    assert table.component("controlnet").mode == "stream" and not table.component("controlnet").pinned


def test_a_controlled_image_on_a_streamed_transformer(kit):
    """4 GB with a ControlNet: after each controlled step the streamed transformer's tensors —
    including the pad tokens, embedders and refiners the ControlNet shares — are back in pinned RAM.
    (The controlled loop ran under inference_mode, which left 73 of them on the GPU in every later
    phase; it now runs under no_grad, as the pipeline does.)"""
    gen, seen, _ = run_case(kit, "4gb", replace(REQ, controls=(ControlRef("grey", str(kit.parent / "source.png")),)))
    problems = steady(seen)
    assert problems == [], "\n".join(problems[:5])
    assert gen.plan is not None and gen.plan.table().component("transformer").mode == "stream"
    assert gen._control_model is not None and gen._control_model[3] == "resident"


@pytest.mark.parametrize("backup", ["device", "pinned"])
def test_a_merged_sets_backup_and_a_resident_controlnet(kit, monkeypatch, backup):
    """24 GB: the set is merged and its originals are kept on the GPU, or (no room there) in pinned
    RAM; the ControlNet stays on the GPU. The prediction counts the backup where it is."""
    if backup == "pinned":
        monkeypatch.setattr(lora_plan, "VRAM_MARGIN_GIB", 100.0)  # no room on the card for the backup
    request = replace(REQ, loras=LORA, controls=(ControlRef("grey", str(kit.parent / "source.png")),))
    gen, seen, results = run_case(kit, "24gb", request)
    problems = steady(seen)
    assert problems == [], "\n".join(problems)
    assert gen.lora_patcher is not None and gen.lora_patcher.application is not None
    assert gen.lora_patcher.application.backup == backup and gen.lora_patcher.merger.merged_layers > 0
    assert gen.plan is not None
    parts = gen.request_parts(results[-1].request)
    table = request_table(gen.plan, parts)
    assert table.component("lora_backup").pinned == (backup == "pinned")
    assert table.where()["denoise"]["lora_backup"] == ("device" if backup == "device" else "ram")
    assert table.component("controlnet").mode == "resident"
    assert table.component("lora_backup").gib == gen.lora_patcher.application.backup_gib > 0
    assert table.where()["denoise"]["lora"] == "ram"  # merged: no device copy of the matrices
    peak = results[-1].images[0].model["predicted_peak_gib"]
    assert (peak["vram"], peak["ram"]) == table.peaks(REQ.width, REQ.height, ("enhance",))
    # The backup counts where it is: on the GPU's side or the RAM's, the size of the layers it keeps.
    memory = table.phase_memory(REQ.width, REQ.height)
    hooks = request_table(gen.plan, replace(parts, lora_backup="", lora_backup_gib=0.0)).phase_memory(
        REQ.width, REQ.height)
    side = 0 if backup == "device" else 1
    copy = gen.lora_gib if backup == "device" else 0.0  # the hooks' device copy the merge does without
    assert memory["encode"][side] == pytest.approx(hooks["encode"][side] + table.component("lora_backup").gib - copy,
                                                   abs=0.011)



def _controlnet_state(gen: Generator, image) -> tuple:
    """(placement, devices of its own weights, dtypes of its own matrices, what the image's record says)."""
    assert gen._control_model is not None
    own = controlnet_tensors(gen)
    matrices = {t.dtype for n, t in own if n.endswith(".weight") and t.dim() == 2}
    return gen._control_model[3], {t.device for _, t in own}, matrices, image.model["controls"][0].get("placement")


def _check_image(gen: Generator, req, image) -> None:
    """The image's predicted peak counts the ControlNet as placed, and every tensor is where that table says."""
    assert gen.plan is not None and gen._control_model is not None
    parts = gen.request_parts(req)
    assert parts.control == gen._control_model[3]
    peak = image.model["predicted_peak_gib"]
    assert (peak["vram"], peak["ram"]) == request_table(gen.plan, parts).peaks(req.width, req.height, ("enhance",))
    problems = problems_after(gen, request_table(gen.plan, parts), "decode")
    assert problems == [], "\n".join(problems)


def test_the_controlnet_is_placed_again_when_a_lora_set_changes_the_room(kit, monkeypatch):
    """Issue 27: the ControlNet's placement follows each request's plan, not the one of the first
    controlled image. 4 GB (the transformer streams, a LoRA set's hook copies stay on the card beside
    it), with a margin that leaves the ControlNet just room beside the plan without the set: plain →
    resident, with the set (its plan's peak grows by the copies) → streamed from RAM, plain again →
    resident. After each image its own weights are where the placement says, and the image's record
    and predicted peak say the placement that ran. (The tiny set's copies are a few KB, below the
    peaks' 0.01 GiB: the engine counts them 1 GiB bigger — ``lora_copy_gib``, its size input.)"""
    from zimage_desktop.engine import lora_apply

    real = lora_apply.lora_copy_gib
    monkeypatch.setattr(lora_apply, "lora_copy_gib", lambda *args: real(*args) + 1.0)
    gib, transformer = CASES["4gb"]
    gen = Generator(kit, device="cuda:1", machine=two_gpus(gib))
    plain = replace(REQ, transformer=transformer, profile="4gb", steps=1,
                    controls=(ControlRef("grey", str(kit.parent / "source.png")),))
    styled = replace(plain, loras=LORA)
    with pretend_cuda(count=2):
        gen.ensure_loaded(transformer, "4gb")  # the plan without a set: the room the margin is set from
        assert gen.plan is not None
        without = gen.plan.predicted_vram_gib
        cn_gib = pick_controlnet(kit).path.stat().st_size / control_plan.GIB
        monkeypatch.setattr(control_plan, "MARGIN_GIB", control_plan.PROFILES["4gb"].budget_gib - without - cn_gib - 0.1)
        seen, peaks = [], []
        for req in (plain, styled, plain):
            image = gen.run(req).images[0]
            assert gen.plan is not None
            peaks.append(gen.plan.predicted_vram_gib)
            seen.append(_controlnet_state(gen, image))
            _check_image(gen, req, image)
    assert peaks[0] == peaks[2] == without and peaks[1] > without + 0.5  # the set's copies on the card
    assert seen == [("resident", {CUDA1}, {torch.bfloat16}, "resident"),
                    ("offload", {torch.device("cpu")}, {torch.bfloat16}, "offload"),
                    ("resident", {CUDA1}, {torch.bfloat16}, "resident")]


def test_the_controlnet_goes_to_fp8_and_back_to_bf16_as_the_room_changes(kit, monkeypatch):
    """The room beside the plan shrinks to only the FP8 form's, then grows again: the ControlNet is
    stored in float8 on the card, then in bf16 again (FP8 cannot be undone: it is read again)."""
    gib, transformer = CASES["24gb"]
    gen = Generator(kit, device="cuda:1", machine=two_gpus(gib))
    req = replace(REQ, transformer=transformer, profile="24gb", steps=1,
                  controls=(ControlRef("grey", str(kit.parent / "source.png")),))
    cn_gib = pick_controlnet(kit).path.stat().st_size / control_plan.GIB
    seen = []
    with pretend_cuda(count=2):
        for room in (cn_gib * 2, cn_gib * 0.75, cn_gib * 2):
            gen.ensure_loaded(transformer, "24gb")
            assert gen.plan is not None
            monkeypatch.setattr(control_plan, "MARGIN_GIB", control_plan.PROFILES["24gb"].budget_gib
                                - gen.plan.predicted_vram_gib - room)
            image = gen.run(req).images[0]
            seen.append(_controlnet_state(gen, image))
            _check_image(gen, req, image)
    assert seen == [("resident", {CUDA1}, {torch.bfloat16}, "resident"),
                    ("fp8", {CUDA1}, {torch.float8_e4m3fn}, "fp8"),
                    ("resident", {CUDA1}, {torch.bfloat16}, "resident")]

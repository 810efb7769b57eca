"""The prediction a request reports is what that request holds, in three cases the plan made at
load could not know (issue 27):

(a) a LoRA set added, changed or dropped on a loaded engine: the room a merge is decided with, the
    application's figures and the image's predicted peak count the set in use now (its files' real
    sizes, merged with its backup or on the fly with its copies in the compute dtype), never the set
    the model was loaded with; files of earlier sets the engine keeps cached count as such;
(b) LoRA and ControlNet rows are not loaded with the model (the LoRA files are read when a request
    applies them, the ControlNet when a controlled image first needs it): the load column leaves them
    out, and the phase they arrive in holds them (and the ControlNet file read while it is placed);
(c) a CPU-held GGUF encoder is counted at its int-kernel packed size only when the run packs it (a
    one-prompt CLI ``generate`` does not).
"""

from __future__ import annotations

import shutil
from dataclasses import replace

import pytest

from tests.test_profiles import REQ, many_forms  # noqa: F401  (module fixture)
from tests.test_residency_phases import kit  # noqa: F401  (the kit with a LoRA, a ControlNet and a source)
from zimage_desktop.engine.devices import GpuInfo, MachineInfo
from zimage_desktop.engine.generator import Generator
from zimage_desktop.engine.lora_plan import choose_lora_application, lora_room
from zimage_desktop.engine.planner import CPU_HELD_GROWTH, make_plan
from zimage_desktop.engine.request import ControlRef, LoraRef
from zimage_desktop.engine.request_table import RequestParts, request_table

GIB = 1024**3
LORA = (LoraRef("style", 0.8),)


def big_gpu(vram_gib: int = 24, ram_gib: int = 64) -> MachineInfo:
    return MachineInfo(gpus=(GpuInfo(0, "card", vram_gib * GIB, vram_gib * GIB, (8, 9), True),),
                       total_ram=ram_gib * GIB)


def lora_file_gib(kit) -> float:
    return (kit / "loras" / "style.safetensors").stat().st_size / GIB


# -- (a) a LoRA set that changes on a loaded engine ---------------------------------------------


def test_the_merge_is_decided_and_reported_with_the_set_in_use():
    """24 GB, bf16 resident: a 1.2 GiB set merged with its backup. The application's figures are the
    request table's peaks with that application (the files in RAM only, the backup where it went) —
    whether the plan was made with the set or the set came after the model loaded."""
    machine = big_gpu()
    loaded_without = make_plan(machine, {"bf16"}, "24gb")
    for plan in (loaded_without, make_plan(machine, {"bf16"}, "24gb", lora_gib=1.2)):
        in_use = replace(plan, lora_gib=1.2)  # what the engine's plan says once the request's set is known
        for backup_gib in (1.0, 30.0):  # on the GPU; in (pinned) RAM
            room = lora_room(in_use, machine)
            applied = choose_lora_application(room, backup_gib)
            assert applied.merged and applied.backup == ("device" if backup_gib == 1.0 else "pinned")
            parts = RequestParts(lora_gib=1.2, lora_backup=applied.backup, lora_backup_gib=backup_gib)
            assert (applied.vram_gib, applied.ram_gib) == request_table(in_use, parts).peaks()
        hooks = choose_lora_application(lora_room(in_use, big_gpu(ram_gib=16)), 300.0)
        assert not hooks.merged
        assert (hooks.vram_gib, hooks.ram_gib) == request_table(in_use, RequestParts(lora_gib=1.2)).peaks()


def test_a_set_added_changed_or_dropped_later_is_the_one_predicted(kit):
    """A loaded engine (CPU) makes a plain image, then one with a LoRA, then a plain one again: each
    image's prediction counts exactly the set it used (the file's size, as applied), as an engine
    that loaded with that set would."""
    gen = Generator(kit, device="cpu", machine=big_gpu(0))
    plain = gen.run(replace(REQ, transformer="tiny_zimage_bf16.safetensors")).images[0]
    assert gen.plan is not None and "lora" not in {c.name for c in request_table(gen.plan).components}
    styled = gen.run(replace(REQ, transformer="tiny_zimage_bf16.safetensors", loras=LORA)).images[0]
    assert gen.plan is not None and gen.lora_patcher is not None and gen.lora_patcher.application is not None
    assert gen.plan.lora_gib == pytest.approx(lora_file_gib(kit), rel=0.01)  # the set in use, not the one at load
    table = request_table(gen.plan, gen.request_parts(styled.request))
    assert table.component("lora").gib == pytest.approx(lora_file_gib(kit), rel=0.01)
    applied = gen.lora_patcher.application
    assert (applied.vram_gib, applied.ram_gib) == table.peaks()
    # The plan's own figures (what ControlNet placement and the window read) are the set as applied.
    assert (gen.plan.predicted_vram_gib, gen.plan.predicted_ram_gib) == table.peaks()
    peak = styled.model["predicted_peak_gib"]
    assert (peak["vram"], peak["ram"]) == table.peaks(REQ.width, REQ.height, ("enhance",))
    fresh = Generator(kit, device="cpu", machine=big_gpu(0))
    fresh.run(replace(REQ, transformer="tiny_zimage_bf16.safetensors", loras=LORA))
    assert fresh.lora_patcher is not None and fresh.lora_patcher.application == applied
    again = gen.run(replace(REQ, transformer="tiny_zimage_bf16.safetensors")).images[0]
    assert gen.plan is not None
    table = request_table(gen.plan, gen.request_parts(again.request))
    # Dropped: no matrices, no backup; the file stays cached (switching back reads nothing), counted as such.
    assert [c.name for c in table.components if c.name.startswith("lora")] == ["lora_cache"]
    assert table.component("lora_cache").gib == pytest.approx(lora_file_gib(kit), rel=0.01)
    assert table.component("lora_cache").gib == pytest.approx(sum(
        t.numel() * t.element_size() for weights in gen.lora_patcher._files.values() for parts in weights.layers.values()
        for layer in parts for t in vars(layer).values() if hasattr(t, "numel")) / GIB, rel=0.1)  # header: 7 % here
    peak = again.model["predicted_peak_gib"]
    assert (peak["vram"], peak["ram"]) == table.peaks(REQ.width, REQ.height, ("enhance",))
    assert gen.plan.lora_gib == 0.0 and plain.model["predicted_peak_gib"]["ram"] <= peak["ram"]


@pytest.mark.parametrize("dtype", ["bf16", "f32"])
def test_the_hooks_copies_are_counted_in_the_compute_dtype(kit, tmp_path, dtype):
    """A LoRA on the fly (a Q8_0 transformer on the CPU, float32 compute): the hooks compute with
    float32 copies of a bf16 file's matrices (twice the file, beside it) and with a float32 file's
    own tensors. The table's LoRA row holds exactly those bytes, and the image's peak counts them."""
    import torch
    from safetensors.torch import load_file, save_file

    models = tmp_path / "models"
    shutil.copytree(kit, models)
    state = load_file(str(models / "loras" / "style.safetensors"))
    save_file({k: v.to(torch.bfloat16 if dtype == "bf16" else torch.float32) for k, v in state.items()},
              str(models / "loras" / "style.safetensors"))
    gen = Generator(models, device="cpu", machine=big_gpu(0))
    image = gen.run(replace(REQ, transformer="tiny_zimage-Q8_0.gguf", loras=LORA)).images[0]
    patcher = gen.lora_patcher
    assert patcher is not None and patcher.application is not None and not patcher.application.merged
    files = {t.data_ptr() for weights in patcher._files.values() for parts in weights.layers.values()
             for layer in parts for t in vars(layer).values() if isinstance(t, torch.Tensor)}
    copies = sum(t.numel() * t.element_size() for t in patcher._on_device.values() if t.data_ptr() not in files)
    assert gen.plan is not None
    row = request_table(gen.plan, gen.request_parts(image.request)).component("lora")
    assert row.copy_gib * GIB == copies and (copies > 0) == (dtype == "bf16")
    assert row.gib == pytest.approx(lora_file_gib(models), rel=0.01)
    plain = request_table(gen.plan, replace(gen.request_parts(image.request), lora_copy_gib=None))
    memory = request_table(gen.plan, gen.request_parts(image.request)).phase_memory(REQ.width, REQ.height)
    assert memory["denoise"][1] == pytest.approx(plain.phase_memory(REQ.width, REQ.height)["denoise"][1]
                                                 + copies / GIB, abs=0.011)


# -- (b) LoRA and ControlNet rows arrive with the request, not with the model -----------------------


def test_lora_and_controlnet_rows_are_not_in_the_load_column():
    """24 GB with a LoRA set on the fly and a resident ControlNet (6.2 GiB file): loading holds the
    plan's components only; the LoRA files are there from the prompt's encoding on, the ControlNet
    from the phase that first needs it (the control image's VAE encode), and while it is placed its
    file's tensors are in RAM beside the process."""
    plan = make_plan(big_gpu(), {"bf16"}, "24gb")
    bare = request_table(plan, RequestParts(edit=True)).phase_memory()
    parts = RequestParts(lora_gib=1.0, control="resident", control_gib=6.2)
    memory = request_table(plan, parts).phase_memory()
    assert memory["load"] == bare["load"]
    assert memory["encode"][1] == pytest.approx(bare["encode"][1] + 1.0, abs=0.011)  # the files in RAM
    # Arriving in "vae-encode": on the GPU, and the file read while it is placed.
    assert memory["vae-encode"][0] == pytest.approx(bare["vae-encode"][0] + 6.2 + 1.0, abs=0.011)
    assert memory["vae-encode"][1] == pytest.approx(bare["vae-encode"][1] + 1.0 + 6.2, abs=0.011)
    assert memory["denoise"][1] == pytest.approx(bare["denoise"][1] + 1.0, abs=0.011)  # placed: the file let go
    merged = request_table(plan, RequestParts(lora_gib=1.0, lora_backup="pinned", lora_backup_gib=5.0))
    assert merged.phase_memory()["load"] == bare["load"]


def test_the_engine_reads_loras_and_the_controlnet_after_loading(kit):
    """What (b) relies on: ``ensure_loaded`` holds neither; a controlled image with a LoRA holds both."""
    gen = Generator(kit, device="cpu", machine=big_gpu(0))
    req = replace(REQ, transformer="tiny_zimage_bf16.safetensors", loras=LORA,
                  controls=(ControlRef("grey", str(kit.parent / "source.png")),))
    gen.ensure_loaded(req.transformer, req.profile)
    assert gen.lora_patcher is not None and gen.lora_patcher.files_read == 0 and gen._control_model is None
    image = gen.run(req).images[0]
    assert gen.lora_patcher.files_read == 1 and gen._control_model is not None
    assert gen.plan is not None
    table = request_table(gen.plan, gen.request_parts(image.request))
    assert {"lora", "controlnet"} <= {c.name for c in table.components}


# -- (c) the CPU-held GGUF encoder, packed or not --------------------------------------------------


@pytest.fixture(scope="module")
def gguf_kit(tmp_path_factory):
    from tests.fixtures import build_tiny_pipeline
    from zimage_desktop.devkit.gguf_files import KQUANT_TEXT_ENCODER, use_gguf_text_encoder
    from zimage_desktop.devkit.tiny import write_comfy_folder

    folder = tmp_path_factory.mktemp("gguf_te") / "models"
    pipe = build_tiny_pipeline(seed=5, transformer=dict(cap_feat_dim=256), text_encoder=KQUANT_TEXT_ENCODER)
    write_comfy_folder(pipe, folder)
    use_gguf_text_encoder(pipe, folder, "Q6_K")
    return folder


@pytest.mark.parametrize("pack", [True, False])
def test_the_cpu_encoder_is_counted_as_this_run_holds_it(gguf_kit, pack):
    """A CPU run with a Q6_K encoder: the window's engine packs it (int8 kernels, ×1.20 held), a
    one-prompt ``generate`` (``pack_encoder=False``) keeps the GGUF file's bytes; the plan, the
    table and the image's predicted peak say which."""
    from zimage_desktop.engine.gguf_packed import PackedGGUFLinear

    gen = Generator(gguf_kit, device="cpu", machine=big_gpu(0), pack_encoder=pack)
    image = gen.run(replace(REQ, steps=1)).images[0]
    assert gen.plan is not None and gen.plan.text_encoder_form == "Q6_K" and gen.prompts is not None
    packed = any(isinstance(m, PackedGGUFLinear) for m in gen.prompts.text_encoder.modules())
    assert packed == pack
    file_gib = dict(gen.plan.sizes)["te:Q6_K"]
    table = request_table(gen.plan, gen.request_parts(image.request), str(gen.device))
    assert table.component("text_encoder").gib == pytest.approx(file_gib * (CPU_HELD_GROWTH["Q6_K"] if pack else 1.0))
    peak = image.model["predicted_peak_gib"]
    assert (peak["vram"], peak["ram"]) == table.peaks(REQ.width, REQ.height, ("enhance",))


def test_the_plan_follows_the_packing_on_a_gpu_plan_with_the_encoder_on_the_cpu():
    """4 GB with a Q6_K encoder held on the CPU (full-size figures): 3.1 GiB × 1.20 when packed, the
    file's 3.1 GiB when not — in the plan's table and its predicted RAM peak."""
    kwargs = dict(present_te_forms={"Q6_K"}, installed_gib={"te:Q6_K": 3.1})
    packed = make_plan(big_gpu(4, 32), {"Q4_K"}, "4gb", **kwargs)  # type: ignore[arg-type]
    plain = make_plan(big_gpu(4, 32), {"Q4_K"}, "4gb", pack_encoder=False, **kwargs)  # type: ignore[arg-type]
    assert packed.text_encoder == plain.text_encoder == "cpu"
    rows = [p.table().component("text_encoder").gib for p in (packed, plain)]
    assert rows == [pytest.approx(3.1 * CPU_HELD_GROWTH["Q6_K"]), pytest.approx(3.1)]
    assert packed.predicted_ram_gib - plain.predicted_ram_gib == pytest.approx(3.1 * 0.2, abs=0.011)

"""LoRAs merged into the weights where the plan has room (engine/lora_plan.py, lora_merge.py):
the merged picture against diffusers' own fuse_lora and against the hooks, exact unmerge, a strength
change that is a fresh merge, hooks where there is no room or no plain weight, no reload; and the
planner's figure for a LoHa's per-call ΔW."""


import numpy as np
import pytest
import torch

from zimage_desktop.devkit import tiny_loras as tl
from zimage_desktop.devkit.tiny import build_tiny_pipeline
from zimage_desktop.engine import request as request_module
from zimage_desktop.engine.devices import GpuInfo, MachineInfo
from zimage_desktop.engine.generator import Generator
from zimage_desktop.engine.lora_patch import LoraPatcher
from zimage_desktop.engine.lora_plan import choose_lora_application, lora_room
from zimage_desktop.engine.lora_weights import linear_shapes
from zimage_desktop.engine.loras import loras_gib
from zimage_desktop.engine.lycoris import LOHA_CALL_COPIES
from zimage_desktop.engine.planner import GIB, make_plan, reference_plan
from zimage_desktop.engine.request_table import RequestParts, request_table
from zimage_desktop.engine.request import GenerationRequest, LoraRef

from tests.fixtures.lora_kit import three_form_kit

SMALL = dict(width=128, height=128, steps=2, seed=5, prompt="a red fox in snow")
ROOMY = MachineInfo(total_ram=256 * GIB, cpu_count=2)  # room for any backup beside the reference plan
TIGHT = MachineInfo(total_ram=16 * GIB, cpu_count=2)  # the reference plan's full-size figures fill it


@pytest.fixture(autouse=True)
def small_images(monkeypatch):
    monkeypatch.setattr(request_module, "MIN_SIDE", 64)


def pixels(img):
    return np.asarray(img, dtype=np.float64)


def run(gen, **kwargs):
    return pixels(gen.run(GenerationRequest(**{**SMALL, **kwargs})).images[0].image)


def snapshot(module):
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def same_bits(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k].view(torch.uint8) if a[k].dtype.is_floating_point
                                                    else a[k], b[k].view(torch.uint8) if b[k].dtype.is_floating_point
                                                    else b[k]) for k in a)


def write_loras(pipe, loras):
    tl.write_peft_lora(pipe.transformer, loras / "style.safetensors", 4, 8.0)
    tl.write_peft_lora(pipe.transformer, loras / "detail.safetensors", 2, 2.0, seed=7, magnitude=0.25)
    tl.write_lycoris(linear_shapes(pipe.transformer), loras / "hada.safetensors", "loha", "kohya")


@pytest.fixture(scope="module")
def kit(tmp_path_factory, tiny_models):
    return three_form_kit(tmp_path_factory.mktemp("lora-merge"), tiny_models, write_loras)


@pytest.fixture(scope="module")
def roomy(kit):
    return Generator(kit["bf16"], device="cpu", plan=reference_plan("cpu"), machine=ROOMY)


def test_merged_picture_equals_diffusers_fuse_lora_and_unmerges_bit_for_bit(roomy, kit):
    gen = roomy
    plain = run(gen)
    base = snapshot(gen.pipe.transformer)
    ours = run(gen, loras=(LoraRef("style", 0.8),))
    assert gen.lora_patcher.application.merged and gen.lora_patcher.hooked == 0
    assert gen.lora_patcher.application.backup == "cpu"
    assert not same_bits(snapshot(gen.pipe.transformer), base)  # the weights hold the LoRA
    run(gen)  # no LoRA: the originals are back
    assert same_bits(snapshot(gen.pipe.transformer), base)
    pipe = gen.pipe
    pipe.load_lora_weights(str(kit["bf16"] / "loras" / "style.safetensors"), adapter_name="style")
    pipe.fuse_lora(lora_scale=0.8)
    try:
        reference = run(gen)
    finally:
        pipe.unfuse_lora()
        pipe.unload_lora_weights()
        gen.pipe.transformer.load_state_dict(base)
    assert np.abs(reference - plain).mean() > 2  # the LoRA changes the picture
    assert np.abs(ours - reference).mean() <= 1.0  # ≤ 1/255 mean


def test_merged_equals_the_hooks_where_there_is_no_room(roomy, kit):
    tight = Generator(kit["bf16"], device="cpu", plan=reference_plan("cpu"), machine=TIGHT)
    loras = (LoraRef("style", 0.7), LoraRef("detail", -1.2), LoraRef("hada", 0.5))
    merged, hooked = run(roomy, loras=loras), run(tight, loras=loras)
    assert roomy.lora_patcher.application.merged
    application = tight.lora_patcher.application
    assert application.mode == "hooks" and "does not fit" in application.reason and tight.lora_patcher.hooked > 0
    assert np.abs(merged - run(roomy)).mean() > 2
    assert np.abs(merged - hooked).mean() <= 1.0


def test_strength_change_is_a_fresh_merge_and_no_reload(roomy, kit):
    loads = []
    gen = Generator(kit["bf16"], device="cpu", plan=reference_plan("cpu"), machine=ROOMY)
    gen.on_loaded.append(loads.append)
    plain = run(gen)
    base = snapshot(gen.pipe.transformer)
    transformer = gen.pipe.transformer
    for strength in (1.5, -0.7, 0.4):
        run(gen, loras=(LoraRef("style", strength), LoraRef("detail", 1.0)))
    switched = snapshot(gen.pipe.transformer)
    picture = run(gen, loras=(LoraRef("style", 0.4), LoraRef("detail", 1.0)))
    fresh = Generator(kit["bf16"], device="cpu", plan=reference_plan("cpu"), machine=ROOMY)
    assert np.array_equal(run(fresh, loras=(LoraRef("style", 0.4), LoraRef("detail", 1.0))), picture)
    assert same_bits(snapshot(fresh.pipe.transformer), switched)  # not cumulative: the same bits as one merge
    run(gen, loras=(LoraRef("detail", 1.0),))  # a layer set shrinks: style-only layers restored
    assert np.array_equal(run(gen, loras=(LoraRef("style", 0.0),)), plain)
    assert same_bits(snapshot(gen.pipe.transformer), base)
    assert len(loads) == 1 and gen.pipe.transformer is transformer
    assert gen.lora_patcher.files_read == 2 and gen.lora_patcher.merger.merged_layers == 0


def test_bf16_weights_unmerge_exactly_where_subtracting_would_not(tmp_path):
    """With bf16 weights ``(W + ΔW) − ΔW`` is not W; the backup is."""
    model = build_tiny_pipeline(0).transformer.to(torch.bfloat16)
    base = snapshot(model)
    patcher = LoraPatcher(model)
    path = tmp_path / "s.safetensors"
    tl.write_peft_lora(model, path, 4, 8.0, magnitude=0.5)
    room = lora_room(reference_plan("cpu"), ROOMY)

    def merge(gib, rebuilds):
        return choose_lora_application(room, gib, rebuilds)

    patcher.apply([(path, 1.0)], merge)
    assert patcher.application.merged and patcher.hooked == 0
    subtracted_differs = 0
    for name, parts in patcher.load(path).layers.items():
        weight = dict(model.named_modules())[name].weight
        subtracted = (weight.float() - sum(p.dense() for p in parts)).to(torch.bfloat16)
        subtracted_differs += int(not torch.equal(subtracted, base[name + ".weight"]))
    assert subtracted_differs > 0  # a naive unmerge loses bits
    patcher.apply([(path, 0.25)], merge)
    quarter = snapshot(model)
    patcher.apply([], merge)
    assert same_bits(snapshot(model), base)
    other = build_tiny_pipeline(0).transformer.to(torch.bfloat16)
    LoraPatcher(other).apply([(path, 0.25)], merge)
    assert same_bits(snapshot(other), quarter)  # 1.0 then 0.25 = 0.25 merged once


@pytest.mark.parametrize("form", ["fp8", "gguf"])
def test_gguf_and_fp8_never_merge(kit, form):
    gen = Generator(kit[form], device="cpu", plan=reference_plan("cpu"), machine=ROOMY)
    plain = run(gen, steps=1)
    base = snapshot(gen.pipe.transformer)
    with_lora = run(gen, steps=1, loras=(LoraRef("style", 1.0),))
    application = gen.lora_patcher.application
    assert application.mode == "hooks" and gen.lora_patcher.hooked > 0
    assert "on the fly" in application.reason
    assert same_bits(snapshot(gen.pipe.transformer), base)  # never written
    assert np.abs(with_lora - plain).mean() > 2


def _gpu_machine(vram_gib: float, ram_gib: float) -> MachineInfo:
    gpu = GpuInfo(0, "test GPU", int(vram_gib * GIB), int(vram_gib * GIB), (8, 9), True)
    return MachineInfo(gpus=(gpu,), total_ram=int(ram_gib * GIB), cpu_count=8)


def test_the_plan_decides_merge_or_hooks_and_counts_the_backup():
    big = _gpu_machine(48, 128)
    plan = make_plan(big, {"bf16"}, "24gb")
    room = lora_room(plan, big)
    assert room.never == ""
    vram, ram = plan.predicted_peaks()
    assert room.vram_gib > 0.5  # 22 GiB budget, 20.4 GiB peak
    small = choose_lora_application(room, 0.5)
    assert small.backup == "device" and small.vram_gib == pytest.approx(vram + 0.5) and small.ram_gib == ram
    large = choose_lora_application(room, room.vram_gib + 1.0)  # not on the GPU: pinned RAM
    assert large.merged and large.backup == "pinned"
    # The backup is made when the set is applied (before the prompt's encoding), not while loading: the
    # load column keeps the plan's RAM peak; every phase after it holds the backup in RAM.
    memory = plan.table().phase_memory()
    with_backup = request_table(plan, RequestParts(lora_backup="pinned", lora_backup_gib=large.backup_gib)).phase_memory()
    assert with_backup["load"] == memory["load"] and large.ram_gib == max(r for _, r in with_backup.values())
    assert with_backup["encode"][1] == pytest.approx(memory["encode"][1] + large.backup_gib, abs=0.011)
    assert choose_lora_application(room, room.ram_gib + room.vram_gib + 1).mode == "hooks"
    # no room at all: hooks, saying why
    starved = _gpu_machine(24, plan.predicted_ram_gib / 0.9)
    none = choose_lora_application(lora_room(make_plan(starved, {"bf16"}, "24gb"), starved), 2.0)
    assert none.mode == "hooks" and "does not fit" in none.reason
    # quantized, streamed and swapped transformers keep the hooks whatever the room
    for profile, forms, why in (("12gb", {"fp8"}, "no bf16"), ("8gb", {"Q6_K"}, "no bf16"),
                                ("4gb", {"Q4_K"}, "no bf16"), ("6gb", {"Q4_K"}, "no bf16")):
        hooks = choose_lora_application(lora_room(make_plan(big, forms, profile), big), 0.01)
        assert hooks.mode == "hooks" and why in hooks.reason, profile
    swapped = make_plan(big, {"bf16"}, "6gb", force_form="bf16")
    assert "swapped" in lora_room(swapped, big).never
    assert "streamed" in lora_room(make_plan(big, {"bf16"}, "4gb", force_form="bf16"), big).never
    cpu = lora_room(make_plan(MachineInfo(total_ram=64 * GIB), {"bf16"}, "cpu", force_form="bf16"),
                    MachineInfo(total_ram=64 * GIB))
    assert choose_lora_application(cpu, 1.0, True).backup == "cpu"


def test_on_the_cpu_only_a_quick_merge_or_a_loha_merges():
    """A switch may cost about a second (issue 22). On the CPU a merge runs at a fraction of a GB/s,
    so a plain LoRA over many layers keeps its nearly free hooks; a LoHa, whose hooks rebuild every
    layer's ΔW per call, is merged whatever the merge costs."""
    machine = MachineInfo(total_ram=64 * GIB)
    cpu = lora_room(make_plan(machine, {"bf16"}, "cpu", force_form="bf16"), machine)
    slow = choose_lora_application(cpu, 11.5)  # a LoRA on every layer of the real transformer
    assert slow.mode == "hooks" and "on the CPU" in slow.reason and "46 s" in slow.reason
    assert choose_lora_application(cpu, 11.5, rebuilds_delta=True).merged
    assert choose_lora_application(cpu, 0.2).merged  # a LoRA on a few layers: merged within the second
    assert not choose_lora_application(cpu, 0.3).merged
    gpu = _gpu_machine(80, 256)  # on a GPU the same set merges at memory speed
    assert choose_lora_application(lora_room(make_plan(gpu, {"bf16"}, "24gb"), gpu), 11.5).merged


def test_the_patcher_tells_the_plan_when_a_set_rebuilds_its_delta(kit):
    patcher = LoraPatcher(build_tiny_pipeline(0).transformer)
    asked = []

    def hooks(gib, rebuilds):
        asked.append(rebuilds)
        return choose_lora_application(lora_room(reference_plan("cpu"), TIGHT), 1e9, rebuilds)

    loras = kit["bf16"] / "loras"
    patcher.apply([(loras / "style.safetensors", 1.0)], hooks)
    patcher.apply([(loras / "style.safetensors", 1.0), (loras / "hada.safetensors", 0.5)], hooks)
    patcher.apply([(loras / "hada.safetensors", 0.0), (loras / "detail.safetensors", 1.0)], hooks)
    assert asked == [False, True, False]  # strength 0 takes the LoHa out of the set


def test_planner_counts_the_largest_loha_delta_built_per_call(kit):
    loras = kit["bf16"] / "loras"
    plain, hada = loras / "style.safetensors", loras / "hada.safetensors"
    assert loras_gib([plain]) == pytest.approx(plain.stat().st_size / GIB)
    shapes = linear_shapes(build_tiny_pipeline(0).transformer)
    biggest = max(out * inp for name, (out, inp) in shapes.items()
                  if name.startswith("layers.") and name.endswith(tl.TARGETS))  # q/k/v one at a time
    expected = (hada.stat().st_size + biggest * 4 * LOHA_CALL_COPIES) / GIB
    assert loras_gib([hada]) == pytest.approx(expected)
    assert loras_gib([hada, plain]) == pytest.approx(expected + plain.stat().st_size / GIB)  # largest, not summed


def test_planner_counts_a_full_size_loha_layer(tmp_path):
    """One LoHa on a Z-Image feed-forward layer (10240×3840), rank 1: a tiny file whose hook builds
    three float32 ΔWs of 150 MiB each per call; the plan's RAM peak grows by that."""
    from safetensors.torch import save_file

    prefix = "lycoris_layers_0_feed_forward_w1"
    save_file({f"{prefix}.hada_w1_a": torch.ones(10240, 1), f"{prefix}.hada_w1_b": torch.ones(1, 3840),
               f"{prefix}.hada_w2_a": torch.ones(10240, 1), f"{prefix}.hada_w2_b": torch.ones(1, 3840),
               f"{prefix}.alpha": torch.tensor(1.0)}, str(tmp_path / "ff.safetensors"))
    path = tmp_path / "ff.safetensors"
    figure = loras_gib([path])
    assert figure == pytest.approx((path.stat().st_size + 3 * 4 * 10240 * 3840) / GIB)
    assert 0.43 < figure < 0.45
    machine = MachineInfo(total_ram=64 * GIB)
    without = make_plan(machine, {"Q8_0"}, "cpu").predicted_ram_gib
    assert make_plan(machine, {"Q8_0"}, "cpu", lora_gib=figure).predicted_ram_gib == pytest.approx(without + figure,
                                                                                                     abs=0.011)


def test_info_says_how_loras_are_applied(tiny_models, data_dir, capsys):
    import json

    from zimage_desktop.cli import main

    assert main(["info", "--json", "--models", str(tiny_models.gguf), "--profile", "cpu"]) == 0
    assert "no bf16 weights" in json.loads(capsys.readouterr().out)["loras"]
    assert main(["info", "--json", "--models", str(tiny_models.comfy), "--profile", "cpu"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["plan"]["transformer_form"] == "bf16" and "merged into the weights when" in report["loras"]
    assert main(["info", "--models", str(tiny_models.comfy), "--profile", "4gb", "--device", "cpu"]) == 0
    assert "LoRAs" in capsys.readouterr().out


def test_a_float32_retry_keeps_the_loras(roomy, kit):
    """An overflow reloads the transformer in float32; the retried image still has the request's LoRAs."""
    from dataclasses import replace

    def overflow_in_bf16(pipe):
        def hook(module, args, out):
            return torch.full_like(out, float("inf")) if out.dtype == torch.bfloat16 else out
        pipe.transformer.layers[0].register_forward_hook(hook)

    plan = replace(reference_plan("cpu"), compute_dtype="bfloat16", fp16_retry_fp32=True)
    gen = Generator(kit["bf16"], device="cpu", plan=plan, machine=ROOMY)
    gen.on_loaded.append(overflow_in_bf16)
    loras = (LoraRef("style", 0.8),)
    image = gen.run(GenerationRequest(**SMALL, loras=loras)).images[0]
    assert "overflowed" in image.notes[0] and gen.dtype == torch.float32
    assert gen.lora_patcher.application.merged
    with_lora = run(roomy, loras=loras)
    assert np.abs(pixels(image.image) - with_lora).mean() <= 1.0
    assert np.abs(run(roomy) - with_lora).mean() > 2

"""A one-prompt run on the CPU (a CLI ``generate``) lets the text encoder go once its prompt is
encoded, and converts a ``--cpu-int8`` transformer only then (engine/loading.after_encode), so the
encoder and the int8 transformer are never held together (issue 28: at full size the two together
held more than stable-diffusion.cpp). The pictures must not change, the encoder's memory must
really be let go, LoRAs must still apply, a later prompt must still work, and the residency table
must say what is held in each phase."""

from __future__ import annotations

import gc
import shutil
import weakref

import numpy as np
import pytest

from zimage_desktop.engine.gguf_int8 import available


def _cpu_table(**kw):
    from zimage_desktop.engine.plan_table import build_table

    return build_table("cpu", "Q4_K", "float32", "cpu", "Q6_K", packed=False, process_gib=0.5, **kw)


def test_the_table_drops_the_encoder_after_encoding_and_grows_the_transformer_only_then():
    from zimage_desktop.engine.form_components import TEXT_ENCODER_FORMS_GIB, TRANSFORMER_GIB
    from zimage_desktop.engine.plan_table import INT8_TRANSFORMER_GIB, VAE_GIB

    kept, released = _cpu_table(int8=True), _cpu_table(int8=True, released=True)
    te, q4, vae = TEXT_ENCODER_FORMS_GIB["Q6_K"], TRANSFORMER_GIB["Q4_K"], VAE_GIB * 2
    where = released.where()
    assert where["encode"]["text_encoder"] == "cpu" and where["denoise"]["text_encoder"] == "gone"
    assert where["decode"]["text_encoder"] == "gone" and kept.where()["decode"]["text_encoder"] == "cpu"
    kept_mem, rel_mem = kept.phase_memory(256, 256), released.phase_memory(256, 256)
    # Loading holds the file's form beside the encoder; after encoding the int8 form without it.
    assert rel_mem["load"][1] == pytest.approx(0.5 + te + q4 + vae, abs=0.011)
    assert kept_mem["load"][1] == pytest.approx(0.5 + te + INT8_TRANSFORMER_GIB + vae, abs=0.011)
    assert rel_mem["encode"][1] == pytest.approx(rel_mem["load"][1] + 0.2 * 2, abs=0.011)
    assert kept_mem["denoise"][1] - rel_mem["denoise"][1] == pytest.approx(te, abs=0.011)
    # The peak moves to encoding (the file's form beside the encoder), over a GiB below both held together.
    no_enhance = ("enhance",)
    assert released.peaks(256, 256, no_enhance)[1] == rel_mem["encode"][1] < kept.peaks(256, 256, no_enhance)[1] - 1.0
    # Without int8 only the encoder goes; on a GPU nothing is released (the window's engine either).
    plain = _cpu_table(released=True).phase_memory(256, 256)
    assert plain["load"][1] == rel_mem["load"][1] and plain["denoise"][1] < rel_mem["denoise"][1]
    from zimage_desktop.engine.plan_table import build_table

    gpu = build_table("cuda:0", "Q4_K", "bfloat16", "cpu", "Q6_K", released=True)
    assert "gone" not in {p for row in gpu.where().values() for p in row.values()}


def test_the_cli_plans_the_release_only_on_the_cpu():
    from zimage_desktop.engine.devices import MachineInfo
    from zimage_desktop.engine.planner import make_plan

    machine = MachineInfo(gpus=(), total_ram=32 * 2**30, mps=False)
    for form, later in (("Q4_K", True), ("Q6_K", True), ("Q8_0", False)):
        one = make_plan(machine, {form}, "cpu", present_te_forms={"Q6_K"}, cpu_int8=True, release_encoder=True,
                        pack_encoder=False)
        window = make_plan(machine, {form}, "cpu", present_te_forms={"Q6_K"}, cpu_int8=True, pack_encoder=False)
        assert one.encoder_released and not window.encoder_released and one.transformer_form == form
        # Q4_K/Q6_K grow in int8: converted after the encoder goes; Q8_0 shrinks: converted at load.
        assert one.int8_after_encode is later and not window.int8_after_encode
        assert one.predicted_peaks(enhance=False)[1] < window.predicted_peaks(enhance=False)[1], form
    gpu = make_plan(machine, {"Q4_K"}, "8gb", present_te_forms={"Q6_K"}, release_encoder=True)
    assert not gpu.encoder_released and not gpu.int8_after_encode


@pytest.fixture(scope="module")
def kit(tmp_path_factory):
    """A tiny Q4_K_M-mix GGUF kit with a PEFT LoRA in its loras folder."""
    from tests.fixtures.kquant_kit import write_q4_k_m_folder
    from zimage_desktop.devkit import tiny_loras

    root = tmp_path_factory.mktemp("release") / "models"
    pipe = write_q4_k_m_folder(root)
    (root / "loras").mkdir()
    tiny_loras.write_peft_lora(pipe.transformer, root / "loras" / "style.safetensors", 4, 8.0, magnitude=0.5)
    return root


def _picture(gen, prompt="a lighthouse", **kw):
    from zimage_desktop.engine.request import GenerationRequest

    req = GenerationRequest(prompt=prompt, seed=5, width=256, height=256, steps=2, count=2, **kw)
    return [np.asarray(image.image, np.int16) for image in gen.run(req).images]


@pytest.mark.parametrize("int8", [False, pytest.param(True, marks=pytest.mark.skipif(
    not available(), reason="oneDNN's int8 linear is x86-only"))])
def test_a_released_encoder_is_let_go_and_the_pictures_do_not_change(kit, int8):
    from zimage_desktop.engine.generator import Generator
    from zimage_desktop.engine.gguf_int8 import Int8Linear
    from zimage_desktop.engine.request import LoraRef

    # The CPU profile's own plan, as `generate --device cpu` makes it (a fixed plan has no file form).
    loras = (LoraRef("style", 0.8),)
    kept = Generator(kit, device="cpu", cpu_int8=int8, pack_encoder=False)
    expected, expected_lora = _picture(kept), _picture(kept, loras=loras)
    gen = Generator(kit, device="cpu", cpu_int8=int8, pack_encoder=False, release_encoder=True)
    gen.ensure_loaded()
    assert gen.plan is not None and gen.plan.encoder_released and gen.after_encode_pending
    assert gen.plan.int8_after_encode is int8  # the kit's Q4_K_M mix grows in int8
    assert gen.prompts is not None
    encoder = weakref.ref(gen.prompts.text_encoder)
    converted = sum(isinstance(m, Int8Linear) for m in gen.pipe.transformer.modules())
    assert converted == 0  # int8 or not: nothing converted while the encoder is held
    with_lora = _picture(gen, loras=loras)  # two images of one prompt: the second reads the cache
    gc.collect()
    assert encoder() is None, "the text encoder is still held after encoding"
    assert gen.prompts.released
    if int8:
        assert sum(isinstance(m, Int8Linear) for m in gen.pipe.transformer.modules()) > 10
    # The LoRA's hooks were moved onto the converted layers: same pictures as converting at load.
    for ours, theirs in zip(with_lora, expected_lora):
        assert np.array_equal(ours, theirs)
    assert not np.array_equal(with_lora[0], expected[0])  # the LoRA changed the picture
    # A second run on the same engine reloads the encoder it let go: new prompt, no LoRA.
    again = _picture(gen)
    for ours, theirs in zip(again, expected):
        assert np.array_equal(ours, theirs)
    other = _picture(gen, prompt="a red boat")
    assert not np.array_equal(other[0], expected[0])
    assert np.array_equal(other[0], _picture(kept, prompt="a red boat")[0])


def test_generate_from_the_command_line_lets_the_encoder_go(kit, tmp_path, data_dir, monkeypatch):
    """The CLI's engine releases (the window's does not: it keeps the encoder for the next prompt)."""
    from zimage_desktop.cli.entry import main
    from zimage_desktop.engine import loading

    models = tmp_path / "models"
    shutil.copytree(kit, models)
    calls = []
    real = loading.after_encode
    monkeypatch.setattr(loading, "after_encode", lambda gen: calls.append(gen.plan.encoder_released) or real(gen))
    assert main(["generate", "--models", str(models), "--prompt", "a cat", "--seed", "7", "--width", "256",
                 "--height", "256", "--steps", "1", "--device", "cpu", "--no-history", "--count", "2",
                 "--out", str(tmp_path / "out.png")]) == 0
    assert calls == [True]  # once: the second image read the cached embeddings
    assert (tmp_path / "out-2.png").exists()


@pytest.mark.skipif(not available(), reason="oneDNN's int8 linear is x86-only")
def test_the_conversion_after_encoding_lets_each_layers_gguf_bytes_go_as_it_goes(kit, monkeypatch):
    """Converting after the encoder is gone must not hold both forms of the transformer at once:
    a LoRA patcher made at load holds every layer by name (at full size that made a 10.0 GiB peak
    where 6.7 GiB are held after the conversion)."""
    from diffusers.quantizers.gguf.utils import GGUFLinear

    from zimage_desktop.engine import gguf_int8
    from zimage_desktop.engine.generator import Generator
    from zimage_desktop.engine.request import LoraRef

    gen = Generator(kit, device="cpu", cpu_int8=True, pack_encoder=False, release_encoder=True)
    gen.ensure_loaded()
    real, alive = gguf_int8.convert_to_int8, []

    def watched(model, on_layer=None):
        refs = [weakref.ref(m) for m in model.modules() if isinstance(m, GGUFLinear)]

        def check(done, total):
            gc.collect()
            alive.append(sum(r() is not None for r in refs))

        return real(model, check)

    monkeypatch.setattr(gguf_int8, "convert_to_int8", watched)
    _picture(gen, loras=(LoraRef("style", 0.8),))
    total = alive[0] + 1
    # After the k-th layer only the layers not yet converted (and the one kept: the timestep embedder's) live.
    assert alive and all(count <= total - done for done, count in enumerate(alive, 1)), alive

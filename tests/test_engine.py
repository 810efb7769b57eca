"""The engine on tiny real models: loading, generating, previews, cancel, prompt encoding."""

import socket

import numpy as np
import pytest
import torch

from zimage_desktop.engine.generator import Generator, initial_latents
from zimage_desktop.engine.loader import load_pipeline
from zimage_desktop.engine.model_files import resolve_model_set
from zimage_desktop.engine.planner import reference_plan
from zimage_desktop.engine.prompts import float32_compute
from zimage_desktop.engine.request import GenerationRequest

SMALL = dict(width=256, height=256)


def pixels(img):
    return np.asarray(img, dtype=np.int16)


@pytest.mark.parametrize("form", ["diffusers", "comfy", "gguf"])
def test_every_layout_generates(generators, form):
    gen = generators[form]
    result = gen.run(GenerationRequest(prompt="a red apple", width=256, height=384, seed=3))
    (image,) = result.images
    assert image.image.size == (256, 384) and image.image.mode == "RGB"
    assert pixels(image.image).std() > 1  # not a flat image
    assert set(image.timings) == {"encode_s", "denoise_s", "decode_s", "total_s"}
    assert image.model["files"]
    if gen._hasher.thread is not None:  # hashed in the background, never before the first image
        gen._hasher.thread.join(timeout=60)
    assert len(gen.model_info()["files"][0]["sha256"]) == 64


def test_layouts_agree(generators):
    """The same weights in three layouts give nearly the same image (bf16/Q8_0 storage differ)."""
    req = GenerationRequest(prompt="a lighthouse", seed=11, **SMALL)
    ref = pixels(generators["diffusers"].run(req).images[0].image)
    for form, limit in (("comfy", 4.0), ("gguf", 6.0)):
        other = pixels(generators[form].run(req).images[0].image)
        err = np.abs(ref - other).mean()
        assert err < limit, f"{form}: mean abs error {err:.2f} levels"


def test_same_seed_same_image_and_count_uses_consecutive_seeds(generators):
    gen = generators["comfy"]
    result = gen.run(GenerationRequest(prompt="a boat", seed=41, count=3, **SMALL))
    assert [im.seed for im in result.images] == [41, 42, 43]
    alone = gen.run(GenerationRequest(prompt="a boat", seed=42, **SMALL)).images[0]
    assert np.array_equal(pixels(alone.image), pixels(result.images[1].image))
    assert not np.array_equal(pixels(result.images[0].image), pixels(result.images[1].image))


def test_engine_matches_plain_pipeline(generators):
    """Our call path adds nothing: same embeddings → identical pixels; the pipeline's own padded
    encoding → at most one grey level apart (float rounding of the padded run). The pipeline's own
    schedule ("diffusers") run through our scheduler gives the pipeline's own result exactly."""
    gen = generators["diffusers"]
    req = GenerationRequest(prompt="海报 “新春特惠”", seed=7, scheduler="diffusers", **SMALL)
    ours = pixels(gen.run(req).images[0].image)
    pipe = gen.pipe
    embeds = gen.prompts.encode(req.prompt)
    same_embeds = pipe(prompt_embeds=[embeds], height=256, width=256, num_inference_steps=8, guidance_scale=0.0,
                       generator=torch.Generator("cpu").manual_seed(7), output_type="np").images[0]
    # made 8-bit as ComfyUI's SaveImage does (engine/pixels): truncated, where diffusers rounds
    assert np.array_equal(ours, np.clip(255. * same_embeds, 0, 255).astype(np.uint8))
    pipe.register_modules(text_encoder=gen.prompts.text_encoder)  # the engine holds it outside the pipeline
    padded = pipe(req.prompt, height=256, width=256, num_inference_steps=8, guidance_scale=0.0,
                  generator=torch.Generator("cpu").manual_seed(7)).images[0]
    assert np.abs(ours - pixels(padded)).max() <= 1


def test_previews_once_per_step_with_latent_size(generators):
    gen = generators["comfy"]
    events = []
    gen.run(GenerationRequest(prompt="a tree", seed=1, count=2, width=256, height=384), on_step=events.append)
    assert [(e.image_index, e.step) for e in events] == [(i, s) for i in range(2) for s in range(1, 9)]
    for e in events:
        assert e.preview.shape == (384 // 8, 256 // 8, 3) and e.preview.dtype == np.uint8
        assert e.total_steps == 8 and e.eta_s >= 0
    # the time left covers the decode and save still to come, and the second image
    assert events[7].eta_s > events[15].eta_s > 0
    # The preview moves towards the final image: successive x0 estimates differ.
    assert not np.array_equal(events[0].preview, events[6].preview)


def test_last_preview_is_the_final_latent_projection(generators):
    """At the last step sigma is 0, so the x0 estimate is exactly the final latent."""
    from zimage_desktop.engine.preview import LatentPreviewer

    gen = generators["comfy"]
    events = []
    pipe = gen.pipe
    req = GenerationRequest(prompt="a tree", seed=5, **SMALL)
    gen.run(req, on_step=events.append)
    latents = pipe(prompt_embeds=[gen.prompts.encode(req.prompt)], height=256, width=256, num_inference_steps=8,
                   guidance_scale=0.0, latents=initial_latents(5, 256, 256, torch.device("cpu")),
                   output_type="latent").images
    assert np.array_equal(events[-1].preview, LatentPreviewer().to_rgb(latents))


def test_previews_off_still_report_steps(tiny_models):
    gen = Generator(tiny_models.comfy, device="cpu", previews=False, plan=reference_plan())
    events = []
    gen.run(GenerationRequest(prompt="a tree", seed=1, **SMALL), on_step=events.append)
    assert len(events) == 8 and all(e.preview is None for e in events)


def test_cancel_mid_run_returns_no_image_and_pipeline_stays_usable(generators):
    gen = generators["comfy"]
    req = GenerationRequest(prompt="a cat", seed=9, count=2, **SMALL)
    events = []
    result = gen.run(req, on_step=events.append, is_cancelled=lambda: len(events) >= 3)
    assert result.cancelled and result.images == ()
    assert len(events) == 3  # no step ran after the cancel
    again = gen.run(req.for_seed(9)).images[0]
    fresh = Generator(gen.models_dir, device="cpu", plan=reference_plan()).run(req.for_seed(9)).images[0]
    assert np.array_equal(pixels(again.image), pixels(fresh.image))


def test_cancel_between_images_keeps_finished_ones(generators):
    gen = generators["comfy"]
    done = []
    result = gen.run(GenerationRequest(prompt="a cat", seed=1, count=3, **SMALL),
                     on_image=done.append, is_cancelled=lambda: len(done) >= 1)
    assert result.cancelled and len(result.images) == 1 and result.images[0].seed == 1


def test_prompt_cache_skips_the_text_encoder(tiny_models):
    gen = Generator(tiny_models.comfy, device="cpu", plan=reference_plan())
    gen.ensure_loaded()
    calls = []
    gen.prompts.text_encoder.register_forward_hook(lambda *a: calls.append(1))
    req = GenerationRequest(prompt="cached prompt 缓存", seed=1, **SMALL)
    first = gen.run(req).images[0]
    second = gen.run(req.for_seed(2)).images[0]
    assert len(calls) == 1
    assert second.timings["encode_s"] < first.timings["encode_s"]
    gen.run(GenerationRequest(prompt="another prompt", seed=1, **SMALL))
    assert len(calls) == 2


@pytest.mark.parametrize("prompt", ["a cat", "海报，标题文字“新春特惠”，金色粗体，居中", "x " * 150])
def test_pad_free_embeddings_equal_padded(generators, prompt):
    gen = generators["diffusers"]
    gen.ensure_loaded()
    ours = gen.prompts.encode(prompt)
    with float32_compute(gen.prompts.text_encoder):  # the same compute as ours, padded
        padded, _ = gen.pipe.encode_prompt(prompt, device=torch.device("cpu"), do_classifier_free_guidance=False)
    assert ours.shape == padded[0].shape
    assert (ours - padded[0]).abs().max().item() <= 1e-5


def test_the_encoder_computes_in_float32_like_comfyui_and_stays_bf16(generators):
    """ComfyUI keeps the bf16 weights and computes in float32 (SDClipModel.forward, dtype=float32):
    our embeddings equal a float32 copy's, differ from bf16 compute, and the weights stay bf16."""
    import copy

    from zimage_desktop.engine.prompts import PromptEncoder

    gen = generators["diffusers"]
    gen.ensure_loaded()
    encoder = copy.deepcopy(gen.prompts.text_encoder).to(torch.bfloat16)  # as the plan holds it
    prompts = PromptEncoder(gen.prompts.tokenizer, encoder, "bf16 copy")
    text = "a lighthouse at dusk, 灯塔"
    ours = prompts.encode(text)
    assert ours.dtype == torch.float32
    assert {p.dtype for p in encoder.parameters()} == {torch.bfloat16}  # memory as planned
    wide = copy.deepcopy(encoder).float()  # the same bf16 values, widened
    ids = torch.tensor([prompts.tokenizer(prompts.chat_text(text)).input_ids])
    with torch.inference_mode():
        reference = wide(input_ids=ids, output_hidden_states=True).hidden_states[-2][0]
        narrow = encoder(input_ids=ids, output_hidden_states=True).hidden_states[-2][0].float()
    scale = reference.abs().max().item()
    assert (ours - reference).abs().max().item() <= 1e-5 * scale
    assert (narrow - reference).abs().max().item() > 1e-3 * scale  # what bf16 compute was off by


def test_too_many_tokens_is_a_clear_error(generators):
    from zimage_desktop.errors import BadInputError

    with pytest.raises(BadInputError, match="tokens long"):
        generators["comfy"].run(GenerationRequest(prompt="字" * 600, seed=1, **SMALL))


def test_loading_never_touches_the_network(tiny_models, monkeypatch):
    attempts = []

    def refuse(self, address, *args, **kwargs):
        attempts.append(address)
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    for folder in (tiny_models.diffusers, tiny_models.comfy, tiny_models.gguf):
        load_pipeline(resolve_model_set(folder), torch.float32)
    assert attempts == []


def test_diffusers_keyed_single_files_load(tiny_models, tmp_path):
    """Transformer and VAE files in diffusers key layout (not ComfyUI/BFL) load too."""
    from tests.fixtures import build_tiny_pipeline, write_comfy_folder
    from safetensors.torch import save_file

    pipe = build_tiny_pipeline(seed=0)
    folder = tmp_path / "m"
    write_comfy_folder(pipe, folder, vae_keys="diffusers")
    tr = next((folder / "diffusion_models").iterdir())
    tr.unlink()
    save_file({k: v.contiguous() for k, v in pipe.transformer.state_dict().items()},
              folder / "diffusion_models" / "zimage_diffusers_keys.safetensors")
    ms = resolve_model_set(folder)
    assert (ms.transformer_keys, ms.vae_keys) == ("diffusers", "diffusers")
    ours = Generator(folder, device="cpu").run(GenerationRequest(prompt="a", seed=2, **SMALL)).images[0]
    ref = Generator(tiny_models.diffusers, device="cpu").run(GenerationRequest(prompt="a", seed=2, **SMALL)).images[0]
    assert np.abs(pixels(ours.image) - pixels(ref.image)).max() <= 1


def test_comfy_prefixed_keys_load(tmp_path):
    from tests.fixtures import build_tiny_pipeline, write_comfy_folder

    folder = tmp_path / "m"
    write_comfy_folder(build_tiny_pipeline(), folder, transformer_prefix="model.diffusion_model.")
    image = Generator(folder, device="cpu").run(GenerationRequest(prompt="a", seed=2, **SMALL)).images[0]
    assert image.image.size == (256, 256)


def test_switching_transformer_reloads(tiny_models, tmp_path):
    import shutil

    folder = tmp_path / "both"
    shutil.copytree(tiny_models.comfy, folder)
    shutil.copy(next((tiny_models.gguf / "diffusion_models").glob("*.gguf")), folder / "diffusion_models")
    gen = Generator(folder, device="cpu")
    # The cpu profile prefers GGUF Q8_0 to a bf16 file stored as FP8.
    a = gen.run(GenerationRequest(prompt="a", seed=1, **SMALL)).images[0]
    assert a.model["files"][0]["name"] == "tiny_zimage-Q8_0.gguf" and a.model["transformer_form"] == "Q8_0"
    b = gen.run(GenerationRequest(prompt="a", seed=1, transformer="tiny_zimage_bf16.safetensors", **SMALL)).images[0]
    assert b.model["files"][0]["name"] == "tiny_zimage_bf16.safetensors" and b.model["transformer_form"] == "bf16"

"""Finding and recognising model files, and every bad-file message."""

import json
import shutil

import pytest
import torch
from safetensors.torch import save_file

from zimage_desktop.engine.model_files import resolve_model_set
from zimage_desktop.errors import ModelFilesError


def _sdxl_like(path):
    save_file({
        "model.diffusion_model.input_blocks.0.0.weight": torch.zeros(4, 4, 3, 3),
        "model.diffusion_model.label_emb.0.0.weight": torch.zeros(8, 4),
    }, path)


def test_all_three_layouts_resolve(tiny_models):
    diffusers = resolve_model_set(tiny_models.diffusers)
    assert diffusers.form == "diffusers"
    comfy = resolve_model_set(tiny_models.comfy)
    assert (comfy.form, comfy.transformer_format, comfy.transformer_keys, comfy.vae_keys) == (
        "single_files", "safetensors", "comfy", "bfl")
    gguf = resolve_model_set(tiny_models.gguf)
    assert gguf.transformer_format == "gguf" and gguf.transformer.name.endswith("Q8_0.gguf")


def test_pickle_checkpoint_alone_is_refused(comfy_copy):
    for f in (comfy_copy / "diffusion_models").iterdir():
        f.unlink()
    (comfy_copy / "diffusion_models" / "z_image.ckpt").write_bytes(b"\x80\x04not really")
    with pytest.raises(ModelFilesError, match=r"z_image.ckpt is a pickle checkpoint"):
        resolve_model_set(comfy_copy)


def test_pickle_transformer_named_explicitly_is_refused(comfy_copy):
    with pytest.raises(ModelFilesError, match="pickle"):
        resolve_model_set(comfy_copy, transformer="model.pt")


def test_diffusers_folder_with_only_bin_weights_is_refused(tiny_models, tmp_path):
    folder = tmp_path / "pipe"
    shutil.copytree(tiny_models.diffusers, folder)
    for f in (folder / "vae").glob("*.safetensors"):
        f.rename(f.with_name("diffusion_pytorch_model.bin"))
    with pytest.raises(ModelFilesError, match="pickle"):
        resolve_model_set(folder)


def test_sdxl_file_is_named_as_such(comfy_copy):
    for f in (comfy_copy / "diffusion_models").iterdir():
        f.unlink()
    _sdxl_like(comfy_copy / "diffusion_models" / "sd_xl_base_1.0.safetensors")
    with pytest.raises(ModelFilesError, match="not a Z-Image transformer.*SDXL"):
        resolve_model_set(comfy_copy)


def test_wrong_files_next_to_the_right_one_are_skipped(comfy_copy):
    _sdxl_like(comfy_copy / "diffusion_models" / "aaa_sdxl.safetensors")
    (comfy_copy / "diffusion_models" / "old.ckpt").write_bytes(b"x")
    assert resolve_model_set(comfy_copy).transformer.name == "tiny_zimage_bf16.safetensors"


def test_sd_vae_is_refused_with_channel_count(comfy_copy):
    vae = comfy_copy / "vae" / "tiny_ae.safetensors"
    vae.unlink()
    save_file({"decoder.conv_in.weight": torch.zeros(8, 4, 3, 3), "encoder.conv_in.weight": torch.zeros(8, 3, 3, 3)},
              comfy_copy / "vae" / "sdxl_vae.safetensors")
    with pytest.raises(ModelFilesError, match="4 latent channels"):
        resolve_model_set(comfy_copy)


def test_clip_in_text_encoders_is_refused(comfy_copy):
    (comfy_copy / "text_encoders" / "tiny_qwen3.safetensors").unlink()
    save_file({"text_model.encoder.layers.0.mlp.fc1.weight": torch.zeros(4, 4)},
              comfy_copy / "text_encoders" / "clip_l.safetensors")
    with pytest.raises(ModelFilesError, match="not a Qwen3 text encoder.*CLIP"):
        resolve_model_set(comfy_copy)


def test_truncated_file_is_reported_as_incomplete(comfy_copy):
    path = comfy_copy / "diffusion_models" / "tiny_zimage_bf16.safetensors"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFilesError, match="incomplete"):
        resolve_model_set(comfy_copy)


def test_truncated_gguf_is_reported(tiny_models, tmp_path):
    folder = tmp_path / "g"
    shutil.copytree(tiny_models.gguf, folder)
    path = next((folder / "diffusion_models").glob("*.gguf"))
    path.write_bytes(path.read_bytes()[:5000])
    with pytest.raises(ModelFilesError, match="GGUF"):
        resolve_model_set(folder)


def test_garbage_safetensors_is_reported(comfy_copy):
    (comfy_copy / "vae" / "tiny_ae.safetensors").write_bytes(b"<html>404 not found</html>")
    with pytest.raises(ModelFilesError, match="not a readable safetensors"):
        resolve_model_set(comfy_copy)


def test_transformer_of_another_size_is_refused(comfy_copy):
    config = comfy_copy / "configs" / "z-image-turbo" / "transformer" / "config.json"
    data = json.loads(config.read_text())
    data["cap_feat_dim"] = 64
    config.write_text(json.dumps(data))
    with pytest.raises(ModelFilesError, match="different size"):
        resolve_model_set(comfy_copy)


def test_missing_tokenizer_says_where_it_goes(comfy_copy):
    shutil.rmtree(comfy_copy / "configs" / "z-image-turbo" / "tokenizer")
    with pytest.raises(ModelFilesError, match="tokenizer is missing"):
        resolve_model_set(comfy_copy)


def test_missing_folder(tmp_path):
    with pytest.raises(ModelFilesError, match="does not exist"):
        resolve_model_set(tmp_path / "nope")


def _shard_text_encoder(models_dir, split: int | None = None, index: bool = True):
    """Replace the single text-encoder file by a folder of two shards (and their index)."""
    from safetensors.torch import load_file

    single = models_dir / "text_encoders" / "tiny_qwen3.safetensors"
    state = load_file(single)
    single.unlink()
    shard_dir = models_dir / "text_encoders" / "qwen3"
    shard_dir.mkdir()
    keys = sorted(state)
    split = len(keys) // 2 if split is None else split
    parts = {"model-00001-of-00002.safetensors": keys[:split], "model-00002-of-00002.safetensors": keys[split:]}
    for name, names in parts.items():
        save_file({k: state[k] for k in names}, shard_dir / name)
    if index:
        weight_map = {k: n for n, names in parts.items() for k in names}
        (shard_dir / "model.safetensors.index.json").write_text(json.dumps({"weight_map": weight_map}))
    return shard_dir


def test_sharded_text_encoder_folder(comfy_copy):
    shard_dir = _shard_text_encoder(comfy_copy)
    assert resolve_model_set(comfy_copy).text_encoder == shard_dir
    (shard_dir / "model-00002-of-00002.safetensors").unlink()
    with pytest.raises(ModelFilesError, match="incomplete"):
        resolve_model_set(comfy_copy)


def test_sharded_text_encoder_generates_like_the_single_file(tiny_models, comfy_copy):
    import numpy as np

    from zimage_desktop.engine.generator import Generator
    from zimage_desktop.engine.planner import reference_plan
    from zimage_desktop.engine.request import GenerationRequest

    _shard_text_encoder(comfy_copy, split=5, index=False)
    req = GenerationRequest(prompt="shards", seed=3, width=256, height=256)
    sharded = Generator(comfy_copy, device="cpu", plan=reference_plan()).run(req).images[0].image
    ref = Generator(tiny_models.comfy, device="cpu", plan=reference_plan()).run(req).images[0].image
    assert np.array_equal(np.asarray(sharded), np.asarray(ref))

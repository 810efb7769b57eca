"""Damaged GGUF text encoders (issue 25): a wrongly shaped tensor, tensors sharing bytes, NaN
weights met while enhancing — each one sentence, never "unexpected RuntimeError"."""

import gguf
import pytest
import torch

from zimage_desktop.cli import main
from zimage_desktop.devkit.gguf_files import KQUANT_TEXT_ENCODER, write_qwen3_gguf
from zimage_desktop.devkit.tiny import build_tiny_pipeline, write_comfy_folder


@pytest.fixture(scope="module")
def kit(tmp_path_factory):
    root = tmp_path_factory.mktemp("gguf-faults")
    pipe = build_tiny_pipeline(seed=5, transformer=dict(cap_feat_dim=256), text_encoder=KQUANT_TEXT_ENCODER)
    write_comfy_folder(pipe, root / "base")
    return pipe, root / "base"


def _folder_with(kit, tmp_path, change):
    """The kit's models with a GGUF text encoder written from a changed copy of its weights."""
    import shutil

    pipe, base = kit
    folder = tmp_path / "models"
    shutil.copytree(base, folder)
    for old in (folder / "text_encoders").glob("*.safetensors"):
        old.unlink()
    state = {k: v.clone() for k, v in pipe.text_encoder.state_dict().items()}
    change(state)
    path = folder / "text_encoders" / "Qwen3-test-Q8_0.gguf"
    write_qwen3_gguf(state, pipe.text_encoder.config.to_dict(), path, "Q8_0")
    return folder, path


def _one_error_line(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unexpected" not in err and "Traceback" not in err, err
    return err


def test_a_wrongly_shaped_tensor_is_one_sentence(kit, tmp_path, data_dir, capsys):
    def shrink(state):
        key = "layers.0.mlp.down_proj.weight"
        state[key] = state[key][:, :-32].contiguous()  # 32 columns short

    folder, _ = _folder_with(kit, tmp_path, shrink)
    assert main(["enhance", "a fox", "--models", str(folder), "--device", "cpu", "--seed", "1"]) == 2
    err = _one_error_line(capsys)
    assert "layers.0.mlp.down_proj.weight has the shape" in err


def test_tensors_sharing_bytes_are_refused(kit, tmp_path, data_dir, capsys):
    folder, path = _folder_with(kit, tmp_path, lambda state: None)
    reader = gguf.GGUFReader(path, "r+")  # point one tensor's data at another's, as a crafted file would
    first, second = reader.tensors[3], reader.tensors[4]
    second.field.parts[-1][0] = first.field.parts[-1][0]
    del reader
    assert main(["enhance", "a fox", "--models", str(folder), "--device", "cpu", "--seed", "1"]) == 2
    err = _one_error_line(capsys)
    assert "share the same bytes" in err


def test_nan_weights_while_enhancing_are_one_sentence(kit, tmp_path, data_dir, capsys):
    def poison(state):
        state["norm.weight"] = torch.full_like(state["norm.weight"], float("nan"))

    folder, _ = _folder_with(kit, tmp_path, poison)
    assert main(["enhance", "a fox", "--models", str(folder), "--device", "cpu", "--seed", "1", "--max-tokens", "4"]) == 1
    err = _one_error_line(capsys)
    assert "computed invalid numbers (NaN or infinity)" in err

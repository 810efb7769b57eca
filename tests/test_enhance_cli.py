"""The enhancer from the command line, inside a loaded Generator, and in requests and the history."""

from __future__ import annotations

import json

import pytest

from zimage_desktop.cli import main
from zimage_desktop.engine.devices import GpuInfo, MachineInfo
from zimage_desktop.engine.enhance import Sampling
from zimage_desktop.engine.enhance_session import enhance_request, place_enhancer
from zimage_desktop.engine.request import GenerationRequest
from zimage_desktop.errors import UserFacingError

GIB = 1024**3


def enhance_json(capsys, *args) -> dict:
    assert main(["enhance", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("layout", ["comfy", "diffusers"])
def test_enhance_command_prints_the_rewrite(tiny_models, data_dir, capsys, layout):
    models = str(getattr(tiny_models, layout))
    a = enhance_json(capsys, 'a neon sign that says "OPEN"', "--models", models, "--seed", "5", "--max-tokens", "12",
                     "--device", "cpu")
    b = enhance_json(capsys, 'a neon sign that says "OPEN"', "--models", models, "--seed", "5", "--max-tokens", "12",
                     "--device", "cpu")
    assert a == {**b, "first_token_s": a["first_token_s"], "tokens_per_s": a["tokens_per_s"]}  # same seed, same text
    assert a["seed"] == 5 and a["device"] == "cpu" and a["tokens"] <= 12
    assert '"OPEN"' in a["prompt"] and a["original_prompt"] == 'a neon sign that says "OPEN"'
    # plain output: the prompt alone (a random model's answer may clean to nothing; the quote stays)
    assert main(["enhance", 'a sign "HI"', "--models", models, "--seed", "5", "--max-tokens", "4",
                 "--device", "cpu"]) == 0
    printed = capsys.readouterr().out
    assert printed.endswith("\n") and '"HI"' in printed and not printed.lstrip().startswith("{")


def test_enhance_command_bad_input_exits_2(tiny_models, data_dir, capsys, tmp_path):
    models = str(tiny_models.comfy)
    assert main(["enhance", "  ", "--models", models]) == 2
    assert main(["enhance", "a cat", "--models", models, "--max-tokens", "0"]) == 2
    assert main(["enhance", "a cat", "--models", str(tmp_path / "nothing")]) == 2
    assert main(["enhance", "a cat", "--models", models, "--seed", "x"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("error:") == 4


def test_placement_prefers_a_gpu_with_room_else_the_cpu():
    def machine(free_gib: float, bf16: bool = True) -> MachineInfo:
        gpu = GpuInfo(0, "Test GPU", int(24 * GIB), int(free_gib * GIB), (8, 6) if bf16 else (7, 5), bf16)
        return MachineInfo(gpus=(gpu,), total_ram=32 * GIB)

    assert place_enhancer(machine(20)).device == "cuda" and place_enhancer(machine(20)).dtype == "bfloat16"
    assert place_enhancer(machine(20, bf16=False)).dtype == "float16"
    assert place_enhancer(machine(6)).device == "cpu"  # a 6 GB card cannot hold the 7.5 GiB encoder
    assert place_enhancer(machine(20), "cpu").device == "cpu"
    assert place_enhancer(MachineInfo(mps=True)).device == "mps"
    assert place_enhancer(MachineInfo()).device == "cpu"
    with pytest.raises(UserFacingError, match="--device cpu"):
        place_enhancer(machine(6), "cuda")


def test_enhance_request_keeps_the_original_and_is_reproducible(generators):
    generator = generators["comfy"]
    request = GenerationRequest(prompt='海报，标题“新春特惠”', seed=9, width=256, height=256)
    first, result = enhance_request(generator, request, Sampling(max_new_tokens=10, seed=9))
    again, _ = enhance_request(generator, request, Sampling(max_new_tokens=10, seed=9))
    assert first == again and first.original_prompt == request.prompt
    assert first.prompt == result.text and "“新春特惠”" in first.prompt
    assert first.search_text == f"{first.prompt}\n{request.prompt}"
    restored = GenerationRequest.from_json(first.to_json())
    assert restored.original_prompt == request.prompt and restored.prompt == first.prompt


def test_original_prompt_is_validated():
    with pytest.raises(UserFacingError):
        GenerationRequest(prompt="a", original_prompt="x" * 5000)
    assert GenerationRequest(prompt="a").search_text == "a"


def test_generate_enhance_records_both_prompts(tiny_models, data_dir, tmp_path, capsys):
    from zimage_desktop.config import Paths
    from zimage_desktop.history.metadata import read_png_metadata
    from zimage_desktop.history.store import HistoryStore

    idea = "lighthouse storm 灯塔"
    assert main(["generate", "--models", str(tiny_models.comfy), "--prompt", idea, "--seed", "3", "--width", "256",
                 "--height", "256", "--enhance", "--out", str(tmp_path / "x.png")]) == 0
    record = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    back = read_png_metadata(tmp_path / "x.png").request
    assert back.original_prompt == idea and back.prompt != idea
    store = HistoryStore(Paths.resolve(None).history_db)
    try:
        assert [r.id for r in store.search("lighthouse")] == [record["id"]]  # the user's words
        assert [r.id for r in store.search("灯塔")] == [record["id"]]  # short term: the LIKE path
        word = max(back.prompt.split(), key=len)
        assert record["id"] in [r.id for r in store.search(word)]  # the rewrite's words
        assert store.get(record["id"]).request.original_prompt == idea
    finally:
        store.close()
    assert main(["history", "show", str(record["id"])]) == 0
    assert f"original   {idea}" in capsys.readouterr().out.splitlines()

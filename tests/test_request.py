import pytest

from zimage_desktop.engine.request import GenerationRequest, snap_size
from zimage_desktop.errors import BadInputError


def test_defaults_are_turbo_defaults():
    req = GenerationRequest(prompt="a cat")
    assert (req.width, req.height, req.steps, req.count) == (1024, 1024, 8, 1)


def test_create_draws_and_keeps_a_seed():
    seeds = {GenerationRequest.create("a cat").seed for _ in range(20)}
    assert len(seeds) > 1 and all(0 <= s < 2**32 for s in seeds)
    assert GenerationRequest.create("a cat", seed=5).seed == 5


def test_count_gives_consecutive_seeds_and_single_requests():
    req = GenerationRequest(prompt="x", seed=2**32 - 2, count=3)
    assert req.seeds == [2**32 - 2, 2**32 - 1, 2**32]  # no wrap at 32 bits: seeds are 64-bit
    single = req.for_seed(req.seeds[1])
    assert single.count == 1 and single.seed == 2**32 - 1 and single.prompt == "x"


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        (dict(prompt=""), "prompt is empty"),
        (dict(prompt="   \n"), "prompt is empty"),
        (dict(prompt="x" * 5000), "5000 characters"),
        (dict(prompt="x", width=1000), "nearest: 992"),
        (dict(prompt="x", height=4096), "nearest: 2048"),
        (dict(prompt="x", width=240), "nearest: 256"),
        (dict(prompt="x", width=1024.0), "whole number"),
        (dict(prompt="x", steps=0), "Steps"),
        (dict(prompt="x", seed=-1), "seed"),
        (dict(prompt="x", seed=2**64), "seed"),
        (dict(prompt="x", sampler="dpmpp_2m"), "sampler"),
        (dict(prompt="x", scheduler="karras"), "schedule"),
        (dict(prompt="x", count=0), "number of images"),
        (dict(prompt="x", count=True), "number of images"),
    ],
)
def test_bad_requests_are_refused_with_a_sentence(kwargs, fragment):
    with pytest.raises(BadInputError) as info:
        GenerationRequest(**kwargs)
    assert fragment in str(info.value)


def test_snap_size():
    assert [snap_size(v) for v in (1000, 1030, 10, 5000, 1024)] == [992, 1024, 256, 2048, 1024]


def test_json_round_trip_keeps_chinese_and_extra_fields():
    req = GenerationRequest(prompt="海报 “新春特惠”\n第二行", seed=7, width=1152, height=896,
                            extra={"poster": {"headline": "新春特惠"}})
    text = req.to_json()
    assert "新春特惠" in text  # stored as UTF-8, not \u escapes
    back = GenerationRequest.from_json(text)
    assert back == req and back.extra == req.extra


def test_from_json_rejects_garbage():
    for text in ("not json", "[1, 2]", '{"seed": 1}', '{"prompt": "x", "width": 17}'):
        with pytest.raises(BadInputError):
            GenerationRequest.from_json(text)

"""The library internals the engine relies on still exist (issue 27). pyproject.toml bounds
diffusers and transformers; when an upgrade removes one of these, this fails with its name
instead of the app failing on a user's machine (a cancel that no longer stops, a preview that
never shows, group offload that cannot say its device, an enhancer without a KV cache)."""

import inspect

import pytest

from tests.fixtures import build_tiny_pipeline


def test_pipeline_interrupt_flag_is_the_attribute_we_set():
    from diffusers import ZImagePipeline

    source = inspect.getsource(ZImagePipeline.__call__)
    assert "self._interrupt = False" in source and "if self.interrupt" in source, "ZImagePipeline._interrupt changed"
    pipe = build_tiny_pipeline(seed=0)
    pipe._interrupt = True
    assert pipe.interrupt is True


def test_scheduler_step_index_internals():
    from diffusers import FlowMatchEulerDiscreteScheduler

    scheduler = FlowMatchEulerDiscreteScheduler()
    assert hasattr(scheduler, "_step_index") and hasattr(scheduler, "_begin_index"), "scheduler step index changed"
    assert callable(getattr(scheduler, "_init_step_index", None)), "FlowMatchEulerDiscreteScheduler._init_step_index"


def test_group_offloading_internals():
    from diffusers.hooks import group_offloading
    from diffusers.models.modeling_utils import ModelMixin

    assert callable(getattr(group_offloading, "_get_group_onload_device", None)), "_get_group_onload_device is gone"
    params = inspect.signature(ModelMixin.enable_group_offload).parameters
    for name in ("onload_device", "offload_device", "offload_type", "use_stream", "low_cpu_mem_usage"):
        assert name in params, f"enable_group_offload lost {name}"


def test_casting_and_conversion_helpers():
    from diffusers.hooks.layerwise_casting import DEFAULT_SKIP_MODULES_PATTERN
    from diffusers.loaders import single_file_utils
    from diffusers.quantizers.gguf import utils as gguf_utils

    assert DEFAULT_SKIP_MODULES_PATTERN
    assert callable(single_file_utils.convert_z_image_transformer_checkpoint_to_diffusers)
    for name in ("GGUFParameter", "GGUFLinear", "dequantize_gguf_tensor", "SUPPORTED_GGUF_QUANT_TYPES"):
        assert hasattr(gguf_utils, name), f"diffusers.quantizers.gguf.utils.{name} is gone"


def test_swap_hook_base_still_has_its_hooks():
    from accelerate.hooks import CpuOffload

    assert callable(CpuOffload.pre_forward) and callable(CpuOffload.init_hook)
    assert "execution_device" in inspect.signature(CpuOffload.__init__).parameters


def test_the_enhancer_passes_its_kv_cache_under_a_name_the_decoder_takes():
    """transformers 4.x calls it past_key_values, 5.x cache; a wrong name is swallowed by
    **kwargs and the cache stays empty (every token recomputes the prompt)."""
    import torch
    from transformers import DynamicCache

    from zimage_desktop.engine.enhance import cache_keyword

    encoder = build_tiny_pipeline(seed=0).text_encoder
    keyword = cache_keyword(encoder)
    assert keyword in inspect.signature(encoder.forward).parameters
    cache = DynamicCache(config=encoder.config)
    with torch.inference_mode():
        encoder(input_ids=torch.tensor([[1, 2, 3]]), use_cache=True, **{keyword: cache})
    assert cache.get_seq_length() == 3, "the KV cache was not filled"


@pytest.mark.parametrize("module", ["diffusers", "transformers"])
def test_installed_versions_are_within_the_bounds(module):
    import importlib.metadata
    import re
    import tomllib
    from pathlib import Path

    from packaging.specifiers import SpecifierSet

    deps = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text())["project"]["dependencies"]
    spec = next(d for d in deps if re.match(rf"{module}\b", d))
    bounds = SpecifierSet(spec[len(module):])
    assert any(s.operator == "<" for s in bounds), f"{module} needs an upper bound (internals)"
    assert importlib.metadata.version(module) in bounds

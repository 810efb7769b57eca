"""Build a ZImagePipeline from a ModelSet, never touching the network.

Every diffusers/transformers call passes ``local_files_only=True`` and local configs. Single files
go through diffusers' own converters (``from_single_file``: ComfyUI transformer keys with fused
qkv, BFL VAE keys, GGUF via ``GGUFQuantizationConfig``); files already in diffusers/HF key layout
are loaded into a model built on the meta device, straight from the memory-mapped safetensors.
"""

from __future__ import annotations

import logging
from pathlib import Path

import torch

from ..errors import ModelFilesError
from ..messages import msg
from .architectures import diffusers_class, transformers_class
from .fp8_scales import Ranges, attach_scales, split_scales
from .model_files import ModelSet, component_config_path, read_index, shipped_config_dir
from .oom import is_out_of_memory

log = logging.getLogger(__name__)


class _EmptyFp32ListFilter(logging.Filter):
    """diffusers warns "modules … should be kept in float32: []" on every dtype cast, even when
    the list is empty (its check tests the list for None). Drop only that empty-list case."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "should be kept in float32: []" not in record.getMessage()


logging.getLogger("diffusers.models.modeling_utils").addFilter(_EmptyFp32ListFilter())


def _config_root(ms: ModelSet, component: str) -> Path:
    """The folder whose ``<component>/config.json`` describes this model set."""
    return component_config_path(ms.config_dir, component, ms.arch).parent.parent


def _load_meta_and_assign(model_cls, config, files: list[Path], dtype: torch.dtype, strip: str = "",
                          keep_fp8: bool = False, scales: Ranges | None = None):
    """Instantiate on the meta device, then take the tensors from the (mmapped) files.

    With ``keep_fp8`` float8 tensors stay float8 (no upcast of the whole model in RAM); a scaled
    FP8 file's scales are added to ``scales`` (engine/fp8_scales.py)."""
    from accelerate import init_empty_weights
    from safetensors.torch import load_file

    with init_empty_weights(include_buffers=False):
        model = model_cls.from_config(config) if hasattr(model_cls, "from_config") else model_cls(config)
    state: dict[str, torch.Tensor] = {}
    for file in files:
        tensors = load_file(str(file))
        if keep_fp8:
            found = split_scales(tensors, file.name, dtype)
            if scales is not None:
                scales.extend(found)
        for key, value in tensors.items():
            if strip and key.startswith(strip):
                key = key[len(strip):]
            if value.is_floating_point() and not (keep_fp8 and value.element_size() == 1):
                value = value.to(dtype)
            state[key] = value
    expected = set(model.state_dict())
    missing, unexpected = expected - set(state), set(state) - expected
    # Causal-LM checkpoints may carry an lm_head that the bare encoder does not use.
    unexpected = {k for k in unexpected if not k.startswith("lm_head.")}
    if missing or unexpected:
        sample = sorted(missing)[:2] + sorted(unexpected)[:2]
        raise ModelFilesError(
            msg("loader.does_match_configuration_tensors", "{name} does not match the {model_class} configuration ({missing} "
                "tensors missing, {unexpected} unexpected, e.g. {names}).",
                name=files[0].name, model_class=model_cls.__name__, missing=len(missing), unexpected=len(unexpected),
                names=', '.join(sample))
        )
    model.load_state_dict({k: state[k] for k in expected}, assign=True, strict=True)
    return model.eval()


def load_transformer(ms: ModelSet, dtype: torch.dtype):
    ZImageTransformer2DModel = diffusers_class(ms.architecture.transformer_class)

    assert ms.transformer is not None
    if ms.transformer_form == "fp8":
        return _load_fp8_transformer(ms, dtype)
    root = _config_root(ms, "transformer")
    kwargs = dict(config=str(root), subfolder="transformer", dtype=dtype, local_files_only=True)
    if ms.transformer_format == "gguf":
        from diffusers import GGUFQuantizationConfig

        from .gguf_read import read_gguf_state

        # The same tensors diffusers would read from the path, without holding the file mapped
        # (which doubled the resident peak while loading).
        from .gguf_fast import speed_up

        model = ZImageTransformer2DModel.from_single_file(
            read_gguf_state(ms.transformer), quantization_config=GGUFQuantizationConfig(compute_dtype=dtype), **kwargs
        )
        speed_up(model)  # the CPU decodes Q8_0/Q4_K/Q6_K blocks fast (issue 28); other devices: unchanged
        return model
    if ms.transformer_keys == "comfy":
        return ZImageTransformer2DModel.from_single_file(str(ms.transformer), **kwargs)
    config = ZImageTransformer2DModel.load_config(str(root), subfolder="transformer", local_files_only=True)
    return _load_meta_and_assign(ZImageTransformer2DModel, config, [ms.transformer], dtype)


def _load_fp8_transformer(ms: ModelSet, dtype: torch.dtype):
    """An fp8 (float8_e4m3fn) single file, kept in fp8: layerwise casting upcasts per layer later."""
    ZImageTransformer2DModel = diffusers_class(ms.architecture.transformer_class)
    from diffusers.loaders.single_file_utils import convert_z_image_transformer_checkpoint_to_diffusers
    from safetensors.torch import load_file

    assert ms.transformer is not None
    root = _config_root(ms, "transformer")
    config = ZImageTransformer2DModel.load_config(str(root), subfolder="transformer", local_files_only=True)
    scales: Ranges = []
    if ms.transformer_keys != "comfy":
        model = _load_meta_and_assign(ZImageTransformer2DModel, config, [ms.transformer], dtype, keep_fp8=True,
                                      scales=scales)
    else:
        # ComfyUI keys: convert (fused qkv is split along rows, which fp8 tensors allow), then assign.
        from accelerate import init_empty_weights

        state = load_file(str(ms.transformer))
        scales = split_scales(state, ms.transformer.name, dtype)
        state = convert_z_image_transformer_checkpoint_to_diffusers(state)
        with init_empty_weights(include_buffers=False):
            model = ZImageTransformer2DModel.from_config(config)
        state = {k: v if v.element_size() == 1 or not v.is_floating_point() else v.to(dtype) for k, v in state.items()}
        model.load_state_dict(state, assign=True, strict=True)
        model = model.eval()
    attach_scales(model, scales, dtype, _skip_patterns(model), ms.transformer.name)
    return _upcast_layerwise_skipped(model, dtype)


def _skip_patterns(model) -> tuple[str, ...]:
    """The modules layerwise casting leaves in the compute dtype (as enable_layerwise_casting)."""
    from diffusers.hooks.layerwise_casting import DEFAULT_SKIP_MODULES_PATTERN

    return tuple(DEFAULT_SKIP_MODULES_PATTERN) + tuple(model._skip_layerwise_casting_patterns or ())


def _upcast_layerwise_skipped(model, dtype: torch.dtype):
    """Modules that layerwise casting leaves alone (embedders, norms) must hold compute-dtype
    weights; an fp8 file may store them in fp8 too. Same patterns as enable_layerwise_casting."""
    import re

    patterns = _skip_patterns(model)
    for name, module in model.named_modules():
        if name and any(re.search(p, name) for p in patterns):
            for param in module.parameters(recurse=False):
                if param.element_size() == 1 and param.is_floating_point():
                    param.data = param.data.to(dtype)
    return model


def load_text_encoder(ms: ModelSet, dtype: torch.dtype):
    Qwen3Config, Qwen3Model = (transformers_class(ms.architecture.text_encoder_config_class),
                               transformers_class(ms.architecture.text_encoder_class))

    assert ms.text_encoder is not None
    config = Qwen3Config.from_pretrained(str(_config_root(ms, "text_encoder") / "text_encoder"), local_files_only=True)
    if ms.text_encoder_format == "gguf":
        from .gguf_encoder import load_gguf_text_encoder

        return load_gguf_text_encoder(ms.text_encoder, config, dtype)
    files = sorted(ms.text_encoder.glob("*.safetensors")) if ms.text_encoder.is_dir() else [ms.text_encoder]
    prefix = "model." if any(k.startswith("model.") for k in read_index(files[0]).shapes) else ""
    return _load_meta_and_assign(Qwen3Model, config, files, dtype, strip=prefix)


def load_vae(ms: ModelSet, dtype: torch.dtype):
    AutoencoderKL = diffusers_class(ms.architecture.vae_class)

    assert ms.vae is not None
    root = _config_root(ms, "vae")
    if ms.vae_keys == "bfl":
        return AutoencoderKL.from_single_file(
            str(ms.vae), config=str(root), subfolder="vae", dtype=dtype, local_files_only=True
        )
    config = AutoencoderKL.load_config(str(root), subfolder="vae", local_files_only=True)
    return _load_meta_and_assign(AutoencoderKL, config, [ms.vae], dtype)


def load_pipeline(ms: ModelSet, dtype: torch.dtype, text_encoder_dtype: torch.dtype | None = None,
                  vae_dtype: torch.dtype | None = None):
    """The full pipeline on the CPU in ``dtype`` (the text encoder and VAE may differ); the caller
    moves or offloads it (see placement)."""
    from diffusers.utils import logging as diffusers_logging
    from transformers import AutoTokenizer
    from transformers.utils import logging as transformers_logging

    # Callers show their own progress; the libraries' tqdm bars would only clutter stderr.
    diffusers_logging.disable_progress_bar()
    transformers_logging.disable_progress_bar()
    ZImagePipeline = diffusers_class(ms.architecture.pipeline_class)
    FlowMatchEulerDiscreteScheduler = diffusers_class(ms.architecture.scheduler_class)
    try:
        if ms.form == "diffusers":
            pipe = ZImagePipeline.from_pretrained(
                str(ms.pipeline_dir), dtype=dtype, local_files_only=True, use_safetensors=True
            )
            if text_encoder_dtype is not None and text_encoder_dtype != dtype:
                pipe.text_encoder.to(text_encoder_dtype)
            if vae_dtype is not None and vae_dtype != dtype:
                pipe.vae.to(vae_dtype)
            return pipe
        assert ms.config_dir is not None
        scheduler_root = ms.config_dir if (ms.config_dir / "scheduler").is_dir() else shipped_config_dir(ms.arch)
        scheduler = FlowMatchEulerDiscreteScheduler.from_pretrained(
            str(scheduler_root), subfolder="scheduler", local_files_only=True
        )
        tokenizer = AutoTokenizer.from_pretrained(str(ms.config_dir / "tokenizer"), local_files_only=True)
        return ZImagePipeline(
            scheduler=scheduler,
            vae=load_vae(ms, vae_dtype or dtype),
            text_encoder=load_text_encoder(ms, text_encoder_dtype or dtype),
            tokenizer=tokenizer,
            transformer=load_transformer(ms, dtype),
        )
    except (ModelFilesError, torch.OutOfMemoryError):
        raise
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        if is_out_of_memory(exc):  # the allocator's RuntimeError, not a damaged file
            raise
        # Headers were checked already, so this is a damaged file or an unexpected layout.
        raise ModelFilesError(msg("loader.model_files_could_loaded", "The model files in {root} could not be loaded: {exc}",
                                  root=ms.root, exc=exc)) from exc

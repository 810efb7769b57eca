"""The models this app can run, one entry each: everything the engine needs to know about one.

The loader, the file recogniser, the generator, the previews and the image metadata read a model's
facts from its ``Architecture`` instead of naming Z-Image themselves (as InvokeAI's model loaders and
krita-ai-diffusion's ``Arch`` do). Adding a model (Z-Image base, say) is one entry here, its
components in ``resources/catalog.json`` (with ``"model": <id>``) and its configs in
``resources/configs/<id>/`` — see docs/ARCHITECTURE.md. No torch import: the planner and the CLI
read this without loading anything.
"""

from __future__ import annotations

from ..messages import msg

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Architecture:
    id: str  # the catalog's "model" key and the configs/<id>/ folder name
    title: str
    hub_repo: str  # the publisher's Hugging Face / ModelScope repository (configs, tokenizer)
    # diffusers / transformers class names, imported by name when loading
    pipeline_class: str
    transformer_class: str
    text_encoder_class: str
    text_encoder_config_class: str
    vae_class: str
    scheduler_class: str
    # Recognising a transformer file from its header: tensors every file of this model has (keys
    # without the ComfyUI prefixes), and one that only diffusers' key naming has.
    transformer_signature: tuple[str, ...]
    transformer_layer_prefix: str  # a prefix some tensor of this model starts with (e.g. "context_refiner.")
    diffusers_key_marker: str
    # Models of one family share their tensors (Z-Image base and Turbo do): words in a file or
    # folder name that pick this entry among those whose signature matches (else: registry order).
    file_name_hints: tuple[str, ...]
    # Sampling
    latent_channels: int
    vae_scale: int  # pixels per latent cell
    size_multiple: int
    guidance_scale: float  # 0: guidance-distilled, no negative prompt
    default_steps: int
    # Classifier-free guidance as ComfyUI's KSampler and A1111 count it (1 = none). diffusers'
    # ZImagePipeline counts from 0: its guidance_scale is cfg - 1 (pred = pos + g * (pos - neg)).
    default_cfg: float
    # fp16 with ComfyUI's overflow guards (engine/guards.py) is safe only for weights like Turbo's:
    # ComfyUI allows it when std(layers.28.ffn_norm1.weight) < 0.42, false for Z-Image base.
    fp16_safe: bool
    text_hidden_layer: int  # which hidden state of the text encoder conditions the transformer
    # Previews: the VAE's latent channels projected to RGB (ComfyUI's factors for the FLUX VAE)
    preview_rgb_factors: tuple[tuple[float, float, float], ...]
    preview_rgb_bias: tuple[float, float, float]

    @property
    def uses_cfg(self) -> bool:
        """True for a model sampled with classifier-free guidance and a negative prompt; a
        guidance-distilled one (Turbo) ignores both."""
        return self.guidance_scale > 0


FLUX_VAE_RGB_FACTORS = (
    (-0.0346, 0.0244, 0.0681), (0.0034, 0.0210, 0.0687), (0.0275, -0.0668, -0.0433),
    (-0.0174, 0.0160, 0.0617), (0.0859, 0.0721, 0.0329), (0.0004, 0.0383, 0.0115),
    (0.0405, 0.0861, 0.0915), (-0.0236, -0.0185, -0.0259), (-0.0245, 0.0250, 0.1180),
    (0.1008, 0.0755, -0.0421), (-0.0515, 0.0201, 0.0011), (0.0428, -0.0012, -0.0036),
    (0.0817, 0.0765, 0.0749), (-0.1264, -0.0522, -0.1103), (-0.0280, -0.0881, -0.0499),
    (-0.1262, -0.0982, -0.0778),
)
FLUX_VAE_RGB_BIAS = (-0.0329, -0.0718, -0.0851)

Z_IMAGE_TURBO = Architecture(
    id="z-image-turbo",
    title="Z-Image-Turbo",
    hub_repo="Tongyi-MAI/Z-Image-Turbo",
    pipeline_class="ZImagePipeline",
    transformer_class="ZImageTransformer2DModel",
    text_encoder_class="Qwen3Model",
    text_encoder_config_class="Qwen3Config",
    vae_class="AutoencoderKL",
    scheduler_class="FlowMatchEulerDiscreteScheduler",
    transformer_signature=("cap_embedder.1.weight",),
    transformer_layer_prefix="context_refiner.",
    diffusers_key_marker="all_x_embedder.2-1.weight",
    file_name_hints=("turbo",),
    latent_channels=16,
    vae_scale=8,
    size_multiple=16,
    guidance_scale=0.0,
    default_steps=8,
    default_cfg=1.0,
    fp16_safe=True,
    text_hidden_layer=-2,
    preview_rgb_factors=FLUX_VAE_RGB_FACTORS,
    preview_rgb_bias=FLUX_VAE_RGB_BIAS,
)

# Z-Image, the undistilled base model (Tongyi-MAI/Z-Image): Turbo's tensors and shapes, so only a
# file's name tells them apart (the names its publishers use: Comfy-Org's z_image_bf16, the GGUF
# repos' z_image-Q…/z-image-Q…, or anything saying "base"). Its model card samples 50 steps at
# diffusers guidance 4 (cfg 5 here) with a negative prompt.
Z_IMAGE_BASE = replace(
    Z_IMAGE_TURBO,
    id="z-image-base",
    title="Z-Image",
    hub_repo="Tongyi-MAI/Z-Image",
    file_name_hints=("base", "z_image_bf16", "z_image_fp8", "z_image-q", "z-image-q", "z_image_q", "z-image_"),
    guidance_scale=4.0,
    default_steps=50,
    default_cfg=5.0,
    fp16_safe=False,
)

ARCHITECTURES: dict[str, Architecture] = {a.id: a for a in (Z_IMAGE_TURBO, Z_IMAGE_BASE)}
DEFAULT = Z_IMAGE_TURBO


def architecture(model_id: str) -> Architecture:
    from ..errors import BadInputError

    try:
        return ARCHITECTURES[model_id]
    except KeyError:
        raise BadInputError(msg("architectures.unknown_model_version_knows", "Unknown model {model_id!r}; this version "
                                "knows {names}.",
                                model_id=model_id, names=', '.join(ARCHITECTURES))) from None


def by_signature(names: set[str], file_name: str = "") -> list[Architecture]:
    """The registered models whose transformer signature these tensor names (ComfyUI prefixes
    stripped) have, the ones ``file_name`` hints at first, then in registry order."""
    found = [a for a in ARCHITECTURES.values()
             if all(k in names for k in a.transformer_signature)
             and any(k.startswith(a.transformer_layer_prefix) for k in names)]
    lowered = file_name.lower()
    return sorted(found, key=lambda a: not any(h in lowered for h in a.file_name_hints))


def diffusers_class(name: str):
    """A diffusers class by name (imported on first use)."""
    import diffusers

    return getattr(diffusers, name)


def transformers_class(name: str):
    import transformers

    return getattr(transformers, name)

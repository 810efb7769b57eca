"""Which catalog components each transformer and text-encoder form is, and their full sizes.

The planner names what a plan loads (and the model manager downloads) by these component ids;
the sizes come from the built-in catalog (one place for sizes), read once at import.
"""

from __future__ import annotations

GIB = 1024**3

# Catalog component ids (issue 4 downloads them by these names).
COMPONENT_FOR_FORM = {
    "bf16": "transformer-bf16", "fp8": "transformer-bf16", "Q8_0": "transformer-gguf-q8_0",
    "Q6_K": "transformer-gguf-q6_k", "Q5_K": "transformer-gguf-q5_k_m", "Q4_K": "transformer-gguf-q4_k_m",
    "Q3_K": "transformer-gguf-q3_k_s",
}
# Z-Image base's own transformer files (catalog "model": "z-image-base"); the forms it is not
# published in take the next larger one.
BASE_COMPONENT_FOR_FORM = {
    "bf16": "base-transformer-bf16", "fp8": "base-transformer-bf16", "Q8_0": "base-transformer-gguf-q8_0",
    "Q6_K": "base-transformer-gguf-q6_k", "Q5_K": "base-transformer-gguf-q6_k", "Q4_K": "base-transformer-gguf-q4_k_m",
    "Q3_K": "base-transformer-gguf-q4_k_m",
}


def model_components(model: str, form: str) -> tuple[str, str]:
    """(transformer, configs) catalog component ids of a model's ``form``."""
    if model == "z-image-base":
        return BASE_COMPONENT_FOR_FORM[form], "base-configs"
    return COMPONENT_FOR_FORM[form], "configs"


TE_COMPONENT_FOR_FORM = {"bf16": "text-encoder-bf16", "Q8_0": "text-encoder-gguf-q8_0",
                         "Q6_K": "text-encoder-gguf-q6_k", "Q4_K": "text-encoder-gguf-q4_k_m"}


def _catalog_gib() -> tuple[dict[str, float], dict[str, float]]:
    """Full-size figures from the built-in catalog (one place for sizes): each transformer form's
    and each text-encoder form's files as stored, in GiB. FP8 storage is the bf16 file at one
    byte a weight; GGUF and bf16 weights stay as stored on the device."""
    from ..models.catalog import load_catalog

    catalog = load_catalog()

    def gib(component: str) -> float:
        return round(catalog.components[component].size / GIB, 2)

    transformer = {form: gib(cid) for form, cid in COMPONENT_FOR_FORM.items() if form != "fp8"}
    transformer["fp8"] = round(transformer["bf16"] / 2, 2)
    return transformer, {form: gib(cid) for form, cid in TE_COMPONENT_FOR_FORM.items()}


# Resident size on the device of each transformer form, and of each text-encoder form (bf16
# safetensors, or llama.cpp GGUF files kept quantized).
TRANSFORMER_GIB, TEXT_ENCODER_FORMS_GIB = _catalog_gib()
TEXT_ENCODER_GIB = TEXT_ENCODER_FORMS_GIB["bf16"]

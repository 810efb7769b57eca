"""The edit modes' nodes of our ComfyUI graph, ComfyUI core nodes only (checked against the node
classes of the unmodified ComfyUI in ``shared/peers``; tests/test_comfy_edit_graph.py).

Each mode re-makes what ``engine/edit_run.py`` does:

- img2img: LoadImage → VAEEncode.
- inpaint: LoadImage of the source with the mask as alpha (LoadImage's MASK = 1 − alpha) →
  VAEEncode → SetLatentNoiseMask with the mask grown by the feather (GrowMask, square corners: the
  pixels our model mask covers). After VAEDecode, ImageCompositeMasked puts the result on the
  source through our feathered edge, built from core nodes the way ``editing.feathered_mask``
  builds it (grow by blur/2, Gaussian σ = blur/4, never below the painted mask, 0 beyond the grown
  mask), so every pixel outside the feather is the source's, in ComfyUI too.
- "only the masked area": the same around ImageCrop → ImageScale (lanczos) to the working size, the
  mask cropped (CropMask) and scaled nearest, the result scaled back and composited at the box.
- outpaint: LoadImage of the source → ImageScale to the inner size (when it was scaled) →
  ImagePadForOutpaint (feathering 0: its mask is exactly the new area) → the inpaint chain. ComfyUI
  fills the new area with mid-grey where we stretch and blur the edge: at strength 1 both start the
  new area from pure noise, so only the VAE's view across the seam differs.
- upscale: UpscaleModelLoader → ImageUpscaleWithModel (when the request names a model) →
  ImageScale (lanczos) to the size → VAEEncode. Our tiled pass for sizes above the profile's
  budget has no core-node equivalent: the graph runs the pass whole.
"""

from __future__ import annotations

import math
from typing import Any

from ..engine.request import GenerationRequest

Link = tuple[int, int, str]
NodeSpec = tuple[int, str, list[Any], dict[str, Link], list[tuple[str, str]]]

WIDGET_NAMES: dict[str, tuple[str | None, ...]] = {
    "LoadImage": ("image", None), "VAEEncode": (), "SetLatentNoiseMask": (),
    "ImageScale": ("upscale_method", "width", "height", "crop"),
    "ImagePadForOutpaint": ("left", "top", "right", "bottom", "feathering"),
    "GrowMask": ("expand", "tapered_corners"), "MaskToImage": (), "ImageToMask": ("channel",),
    "ImageBlur": ("blur_radius", "sigma"), "MaskComposite": ("x", "y", "operation"),
    "CropMask": ("x", "y", "width", "height"), "ImageCrop": ("width", "height", "x", "y"),
    "ImageCompositeMasked": ("x", "y", "resize_source"), "UpscaleModelLoader": ("model_name",),
    "ImageUpscaleWithModel": (),
}
IMAGE = [("IMAGE", "IMAGE")]
MASK = [("MASK", "MASK")]
LATENT = [("LATENT", "LATENT")]
DECODED: Link = (8, 0, "IMAGE")  # VAEDecode, made by comfy_export._sampling


def input_image_name(request: GenerationRequest) -> str:
    """The file name the graph's LoadImage reads (put ``comfy_input_image`` there in ComfyUI's input/)."""
    source = (request.source_sha256 or "source")[:16]
    mask = f"-mask-{request.mask_sha256[:8]}" if request.mode == "inpaint" and request.mask_sha256 else ""
    return f"zimage-{source}{mask}.png"


def crop_geometry(request: GenerationRequest) -> tuple[tuple[int, int, int, int], tuple[int, int]] | None:
    """(box, working size) of "only the masked area", from the request's mask file as the engine
    computes them; None when the mask file cannot be read (the graph then works on the whole picture)."""
    from ..engine.editing import feathered_mask, load_mask, load_source_image, mask_bbox, masked_crop_box, working_size
    from ..errors import UserFacingError

    if not (request.only_masked and request.mask and request.source):
        return None
    try:
        source, _ = load_source_image(request.source)
        hard, _ = load_mask(request.mask, source.size)
        alpha = feathered_mask(hard, request.mask_blur)
        box = masked_crop_box(mask_bbox(alpha), source.size, request.only_masked_padding)
    except (OSError, UserFacingError):
        return None
    return box, working_size(box[2] - box[0], box[3] - box[1], request.width * request.height)


def _feather(hard: Link, blur: int) -> tuple[list[NodeSpec], Link, Link]:
    """(nodes, model mask, composite mask) from the painted mask, as ``editing.feathered_mask``."""
    if blur <= 0:
        return [], hard, hard
    sigma = blur / 4
    return [
        (50, "GrowMask", [blur, False], {"mask": hard}, MASK),
        (51, "GrowMask", [blur // 2, False], {"mask": hard}, MASK),
        (52, "MaskToImage", [], {"mask": (51, 0, "MASK")}, IMAGE),
        (53, "ImageBlur", [min(31, max(1, math.ceil(3 * sigma))), round(min(10.0, max(0.1, sigma)), 2)],
         {"image": (52, 0, "IMAGE")}, IMAGE),
        (54, "ImageToMask", ["red"], {"image": (53, 0, "IMAGE")}, MASK),
        (55, "MaskComposite", [0, 0, "add"], {"destination": (54, 0, "MASK"), "source": hard}, MASK),
        (56, "MaskComposite", [0, 0, "multiply"], {"destination": (55, 0, "MASK"), "source": (50, 0, "MASK")}, MASK),
    ], (50, 0, "MASK"), (56, 0, "MASK")


def latent_nodes(request: GenerationRequest) -> list[NodeSpec]:
    """The nodes up to the KSampler's latent (always node 13)."""
    if not request.is_edit:
        return [(13, "EmptySD3LatentImage", [request.width, request.height, 1], {}, LATENT)]
    nodes: list[NodeSpec] = [(10, "LoadImage", [input_image_name(request), "image"], {}, IMAGE + MASK)]
    pixels: Link = (10, 0, "IMAGE")
    if request.mode == "upscale":
        if request.upscale_model:
            nodes += [(30, "UpscaleModelLoader", [request.upscale_model], {}, [("UPSCALE_MODEL", "UPSCALE_MODEL")]),
                      (31, "ImageUpscaleWithModel", [], {"upscale_model": (30, 0, "UPSCALE_MODEL"), "image": pixels},
                       IMAGE)]
            pixels = (31, 0, "IMAGE")
        nodes.append((14, "ImageScale", ["lanczos", request.width, request.height, "disabled"], {"image": pixels}, IMAGE))
        pixels = (14, 0, "IMAGE")
    if request.mode in ("img2img", "upscale"):
        return nodes + [(13, "VAEEncode", [], {"pixels": pixels, "vae": (17, 0, "VAE")}, LATENT)]
    hard: Link = (10, 1, "MASK")
    if request.mode == "outpaint":
        assert request.outpaint is not None
        left, top, right, bottom = request.outpaint
        inner = (request.width - left - right, request.height - top - bottom)
        nodes.append((14, "ImageScale", ["lanczos", *inner, "disabled"], {"image": pixels}, IMAGE))
        nodes.append((32, "ImagePadForOutpaint", [left, top, right, bottom, 0], {"image": (14, 0, "IMAGE")},
                      IMAGE + MASK))
        pixels, hard = (32, 0, "IMAGE"), (32, 1, "MASK")
    feather, model_mask, _ = _feather(hard, request.mask_blur)
    nodes += feather
    crop = crop_geometry(request) if request.mode == "inpaint" else None
    if crop is not None:
        (x0, y0, x1, y1), (w, h) = crop
        nodes += [
            (33, "ImageCrop", [x1 - x0, y1 - y0, x0, y0], {"image": pixels}, IMAGE),
            (34, "ImageScale", ["lanczos", w, h, "disabled"], {"image": (33, 0, "IMAGE")}, IMAGE),
            (35, "CropMask", [x0, y0, x1 - x0, y1 - y0], {"mask": model_mask}, MASK),
            (36, "MaskToImage", [], {"mask": (35, 0, "MASK")}, IMAGE),
            (37, "ImageScale", ["nearest-exact", w, h, "disabled"], {"image": (36, 0, "IMAGE")}, IMAGE),
            (38, "ImageToMask", ["red"], {"image": (37, 0, "IMAGE")}, MASK),
        ]
        pixels, model_mask = (34, 0, "IMAGE"), (38, 0, "MASK")
    return nodes + [
        (11, "VAEEncode", [], {"pixels": pixels, "vae": (17, 0, "VAE")}, LATENT),
        (13, "SetLatentNoiseMask", [], {"samples": (11, 0, "LATENT"), "mask": model_mask}, LATENT),
    ]


def output_nodes(request: GenerationRequest) -> tuple[list[NodeSpec], Link]:
    """The nodes after VAEDecode and the image SaveImage takes: inpaint and outpaint put the result
    on the source through the feathered mask."""
    if request.mode not in ("inpaint", "outpaint"):
        return [], DECODED
    if request.mode == "outpaint":
        canvas, hard = (32, 0, "IMAGE"), (32, 1, "MASK")
    else:
        canvas, hard = (10, 0, "IMAGE"), (10, 1, "MASK")
    _, _, alpha = _feather(hard, request.mask_blur)
    crop = crop_geometry(request) if request.mode == "inpaint" else None
    nodes: list[NodeSpec] = []
    made, x, y = DECODED, 0, 0
    if crop is not None:
        (x, y, x1, y1), _ = crop
        nodes += [(60, "ImageScale", ["lanczos", x1 - x, y1 - y, "disabled"], {"image": DECODED}, IMAGE),
                  (61, "CropMask", [x, y, x1 - x, y1 - y], {"mask": alpha}, MASK)]
        made, alpha = (60, 0, "IMAGE"), (61, 0, "MASK")
    nodes.append((62, "ImageCompositeMasked", [x, y, False], {"destination": canvas, "source": made, "mask": alpha},
                  IMAGE))
    return nodes, (62, 0, "IMAGE")

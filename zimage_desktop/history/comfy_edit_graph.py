"""The edit modes' nodes of our ComfyUI graph, ComfyUI core nodes only (checked against the node
classes of the unmodified ComfyUI in ``shared/peers``; tests/test_comfy_edit_graph.py).

Each mode re-makes what ``engine/edit_run.py`` does:

- img2img: LoadImage → VAEEncode.
- inpaint: LoadImage of the source with the mask as alpha (LoadImage's MASK = 1 − alpha) →
  VAEEncode → SetLatentNoiseMask with the mask grown by the feather (GrowMask, square corners: the
  pixels our model mask covers), made constant per 8×8 latent cell (``_latent_grid``) so that
  ComfyUI's bilinear sampling of it picks the latent cells our nearest sampling picks. With a binary
  latent mask, ComfyUI's blending (noised source into the model's input, clean source into its
  output, per model call: ``KSamplerX0Inpaint``) and diffusers' (noised source after each step) give
  the same Euler steps. After VAEDecode, ImageCompositeMasked puts the result on the
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
    "ImageUpscaleWithModel": (), "SolidMask": ("value", "width", "height"),
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
    """(box, working size) of an inpaint as the engine computes them from the request's files: the
    box around the mask with "only the masked area", else the whole source; the size the model
    works at. None when the files cannot be read (the graph then assumes the source is
    ``width``×``height``, as the request builder makes it for sources within the size bounds)."""
    from ..engine.editing import feathered_mask, load_mask, load_source_image, mask_bbox, masked_crop_box, working_size
    from ..errors import UserFacingError

    if request.mode != "inpaint" or not (request.mask and request.source):
        return None
    try:
        source, _ = load_source_image(request.source)
        if not request.only_masked:
            return (0, 0, *source.size), (request.width, request.height)
        hard, _ = load_mask(request.mask, source.size)
        alpha = feathered_mask(hard, request.mask_blur)
        box = masked_crop_box(mask_bbox(alpha), source.size, request.only_masked_padding)
    except (OSError, UserFacingError):
        return None
    return box, working_size(box[2] - box[0], box[3] - box[1], request.width * request.height)


def _source_size(request: GenerationRequest) -> tuple[int, int] | None:
    from PIL import Image

    try:
        with Image.open(request.source or "") as image:
            width, height = image.size
            turned = image.getexif().get(0x0112, 1) in (5, 6, 7, 8)  # load_source_image turns it upright
    except (OSError, ValueError):
        return None
    return (height, width) if turned else (width, height)


def _latent_grid(mask: Link, size: tuple[int, int]) -> tuple[list[NodeSpec], Link]:
    """The model mask made constant over each 8×8 latent cell, the cell taking its top-left pixel:
    ComfyUI samples the mask bilinearly at the cell's centre, our engine takes the top-left pixel
    (nearest); on a block-constant mask both are that pixel. SolidMask + MaskComposite shift the
    mask by 4 px so that ImageScale's nearest-exact (centre) sampling lands on pixel 8i."""
    width, height = size
    return [
        (70, "SolidMask", [0.0, width + 4, height + 4], {}, MASK),
        (71, "MaskComposite", [4, 4, "add"], {"destination": (70, 0, "MASK"), "source": mask}, MASK),
        (72, "MaskToImage", [], {"mask": (71, 0, "MASK")}, IMAGE),
        (73, "ImageCrop", [width, height, 0, 0], {"image": (72, 0, "IMAGE")}, IMAGE),
        (74, "ImageScale", ["nearest-exact", width // 8, height // 8, "disabled"], {"image": (73, 0, "IMAGE")}, IMAGE),
        (75, "ImageScale", ["nearest-exact", width, height, "disabled"], {"image": (74, 0, "IMAGE")}, IMAGE),
        (76, "ImageToMask", ["red"], {"image": (75, 0, "IMAGE")}, MASK),
    ], (76, 0, "MASK")


def _feather(hard: Link, blur: int) -> tuple[list[NodeSpec], Link, Link]:
    """(nodes, model mask, composite mask) from the painted mask, as ``editing.feathered_mask``."""
    if blur <= 0:
        return [], hard, hard
    sigma = blur / 4  # in pixels, as editing.feathered_mask; ImageBlur's sigma is in units of its radius
    radius = min(31, max(1, math.ceil(3 * sigma)))
    return [
        (50, "GrowMask", [blur, False], {"mask": hard}, MASK),
        (51, "GrowMask", [blur // 2, False], {"mask": hard}, MASK),
        (52, "MaskToImage", [], {"mask": (51, 0, "MASK")}, IMAGE),
        (53, "ImageBlur", [radius, round(min(10.0, max(0.1, sigma / radius)), 2)],
         {"image": (52, 0, "IMAGE")}, IMAGE),
        (54, "ImageToMask", ["red"], {"image": (53, 0, "IMAGE")}, MASK),
        (55, "MaskComposite", [0, 0, "add"], {"destination": (54, 0, "MASK"), "source": hard}, MASK),
        (56, "MaskComposite", [0, 0, "multiply"], {"destination": (55, 0, "MASK"), "source": (50, 0, "MASK")}, MASK),
    ], (50, 0, "MASK"), (56, 0, "MASK")


def latent_nodes(request: GenerationRequest, model: dict[str, Any] | None = None) -> list[NodeSpec]:
    """The nodes up to the KSampler's latent (always node 13). ``model["edit_input"]``, when given,
    is the name the LoadImage reads instead of ``input_image_name`` (a ComfyUI server's upload,
    named by content: remote/job_inputs.py)."""
    if not request.is_edit:
        return [(13, "EmptySD3LatentImage", [request.width, request.height, 1], {}, LATENT)]
    named = (model or {}).get("edit_input")
    image = named if isinstance(named, str) and named else input_image_name(request)
    nodes: list[NodeSpec] = [(10, "LoadImage", [image, "image"], {}, IMAGE + MASK)]
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
        if _source_size(request) != inner:  # ComfyUI's lanczos rounds through 8 bits: only when needed
            nodes.append((14, "ImageScale", ["lanczos", *inner, "disabled"], {"image": pixels}, IMAGE))
            pixels = (14, 0, "IMAGE")
        nodes.append((32, "ImagePadForOutpaint", [left, top, right, bottom, 0], {"image": pixels}, IMAGE + MASK))
        pixels, hard = (32, 0, "IMAGE"), (32, 1, "MASK")
    feather, model_mask, _ = _feather(hard, request.mask_blur)
    nodes += feather
    crop = crop_geometry(request)
    size = (request.width, request.height)
    if crop is not None:
        (x0, y0, x1, y1), size = crop
        if (x0, y0) != (0, 0) or request.only_masked:
            nodes += [(33, "ImageCrop", [x1 - x0, y1 - y0, x0, y0], {"image": pixels}, IMAGE),
                      (35, "CropMask", [x0, y0, x1 - x0, y1 - y0], {"mask": model_mask}, MASK)]
            pixels, model_mask = (33, 0, "IMAGE"), (35, 0, "MASK")
        if size != (x1 - x0, y1 - y0):
            nodes += [
                (34, "ImageScale", ["lanczos", *size, "disabled"], {"image": pixels}, IMAGE),
                (36, "MaskToImage", [], {"mask": model_mask}, IMAGE),
                (37, "ImageScale", ["nearest-exact", *size, "disabled"], {"image": (36, 0, "IMAGE")}, IMAGE),
                (38, "ImageToMask", ["red"], {"image": (37, 0, "IMAGE")}, MASK),
            ]
            pixels, model_mask = (34, 0, "IMAGE"), (38, 0, "MASK")
    grid, model_mask = _latent_grid(model_mask, size)
    nodes += grid
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
    crop = crop_geometry(request)
    nodes: list[NodeSpec] = []
    made, x, y = DECODED, 0, 0
    if crop is not None:
        (x, y, x1, y1), size = crop
        if size != (x1 - x, y1 - y):
            nodes.append((60, "ImageScale", ["lanczos", x1 - x, y1 - y, "disabled"], {"image": DECODED}, IMAGE))
            made = (60, 0, "IMAGE")
        if (x, y) != (0, 0) or request.only_masked:
            nodes.append((61, "CropMask", [x, y, x1 - x, y1 - y], {"mask": alpha}, MASK))
            alpha = (61, 0, "MASK")
    nodes.append((62, "ImageCompositeMasked", [x, y, False], {"destination": canvas, "source": made, "mask": alpha},
                  IMAGE))
    return nodes, (62, 0, "IMAGE")

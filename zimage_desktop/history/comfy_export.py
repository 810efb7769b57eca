"""Our images open in ComfyUI: the ``prompt`` (API) and ``workflow`` (UI) graphs of a request.

The graph is ComfyUI's official Z-Image template — UNETLoader, ModelSamplingAuraFlow (our shift),
CLIPLoader (lumina2), VAELoader, CLIPTextEncode with ConditioningZeroOut as the negative,
EmptySD3LatentImage, KSampler, VAEDecode, SaveImage — with our prompt, seed, steps, size, sampler
and schedule and our model files' names. ZImagePipeline's own schedule ("diffusers"), where it
differs from "simple", goes as ManualSigmas into a SamplerCustom (KSamplerSelect for the sampler). GGUF files load through
ComfyUI-GGUF's loader nodes, as ComfyUI users of those files do.
"""

from __future__ import annotations

from typing import Any

from ..engine.guidance import recorded
from ..engine.request import GenerationRequest
from .comfy_edit_graph import WIDGET_NAMES as EDIT_WIDGET_NAMES
from .comfy_edit_graph import input_image_name as input_image_name  # re-exported: callers name it here
from .comfy_edit_graph import latent_nodes, output_nodes

# ComfyUI's names of the official files (what a diffusers-folder install corresponds to).
OFFICIAL_FILES = {"transformer": "z_image_turbo_bf16.safetensors", "text_encoder": "qwen_3_4b.safetensors",
                  "vae": "ae.safetensors"}
SAVE_PREFIX = "z-image"

# (id, class, widget values in ComfyUI's widget order, linked inputs {name: (from id, slot, type)},
# outputs [(name, type)]). Node ids follow the official example.
_NodeSpec = tuple[int, str, list[Any], dict[str, tuple[int, int, str]], list[tuple[str, str]]]


def model_files(model: dict[str, Any]) -> dict[str, str]:
    """transformer / text_encoder / vae file names for ComfyUI's loaders."""
    roles = model.get("roles")
    if not isinstance(roles, dict):
        roles = {}
    return {role: str(roles.get(role) or default) for role, default in OFFICIAL_FILES.items()}


LORA_NODE_ID = 40  # the first LoraLoaderModelOnly; the official example's ids end at 18
MODEL_SAMPLING_ID = 12  # ModelSamplingAuraFlow (11 in the template; 11 is our inpaint's VAEEncode)
SAMPLER_SELECT_ID, MANUAL_SIGMAS_ID = 25, 26  # the diffusers schedule: SamplerCustom's sampler and sigmas
DEFAULT_SHIFT = 3.0  # Z-Image-Turbo's scheduler config; an image's model info carries the one used


def model_shift(model: dict[str, Any]) -> float:
    """The flow shift the picture was sampled with (ModelSamplingAuraFlow's ``shift``; a whole
    number is written as one, as the official template writes 3)."""
    shift = model.get("shift")
    value = float(shift) if isinstance(shift, (int, float)) and not isinstance(shift, bool) and shift > 0 \
        else DEFAULT_SHIFT
    return int(value) if value.is_integer() else value


def manual_sigmas(request: GenerationRequest, model: dict[str, Any]) -> str | None:
    """ZImagePipeline's own schedule ("diffusers") as ManualSigmas' text, when ComfyUI's schedulers
    do not give it: "simple" equals it only when the steps divide 1000 (sgm_uniform, normal and the
    others differ too). Printed with 10 decimals (≥ 9 significant digits), so the float32 values come back exactly."""
    values = _diffusers_sigmas(request, model)
    return None if values is None else sigmas_text(values)


def _diffusers_sigmas(request: GenerationRequest, model: dict[str, Any]) -> list[float] | None:
    """All ``request.steps`` + 1 sigmas (the final 0 too) of the "diffusers" schedule, or None
    where ComfyUI's "simple" gives the same (or "simple" was used)."""
    if request.scheduler != "diffusers":
        return None
    from ..engine.sampling import schedule

    ours = schedule("diffusers", request.steps, model_shift(model))
    if ours == schedule("simple", request.steps, model_shift(model)):
        return None
    return [*ours, 0.0]


def sigmas_text(values: list[float]) -> str:
    return ", ".join(f"{sigma:.10f}" for sigma in values)


def lora_file_name(name: str) -> str:
    """ComfyUI's ``lora_name`` for one of our LoRA names (the file in loras/)."""
    return name if name.lower().endswith(".safetensors") else f"{name}.safetensors"


def _lora_chain(request: GenerationRequest) -> tuple[list[_NodeSpec], int]:
    """LoraLoaderModelOnly nodes from the model loader (16) to the sampler, as ComfyUI users chain
    them; returns them and the id of the node whose MODEL the sampler takes."""
    from ..engine.loras import requested_loras

    nodes: list[_NodeSpec] = []
    source = 16
    for i, ref in enumerate(requested_loras(request.prompt, request.loras)):
        node_id = LORA_NODE_ID + i
        nodes.append((node_id, "LoraLoaderModelOnly", [lora_file_name(ref.name), round(float(ref.strength), 4)],
                      {"model": (source, 0, "MODEL")}, [("MODEL", "MODEL")]))
        source = node_id
    return nodes, source


def _nodes(request: GenerationRequest, model: dict[str, Any]) -> list[_NodeSpec]:
    from ..engine.loras import prompt_tags

    files = model_files(model)
    loras, model_source = _lora_chain(request)
    gguf_unet = files["transformer"].endswith(".gguf")
    gguf_clip = files["text_encoder"].endswith(".gguf")
    finish, final = output_nodes(request)
    return [
        (16, "UnetLoaderGGUF" if gguf_unet else "UNETLoader",
         [files["transformer"]] if gguf_unet else [files["transformer"], "default"], {}, [("MODEL", "MODEL")]),
        (18, "CLIPLoaderGGUF" if gguf_clip else "CLIPLoader",
         [files["text_encoder"], "lumina2"] if gguf_clip else [files["text_encoder"], "lumina2", "default"], {},
         [("CLIP", "CLIP")]),
        (17, "VAELoader", [files["vae"]], {}, [("VAE", "VAE")]),
        *loras,
        (MODEL_SAMPLING_ID, "ModelSamplingAuraFlow", [model_shift(model)], {"model": (model_source, 0, "MODEL")},
         [("MODEL", "MODEL")]),
        (6, "CLIPTextEncode", [prompt_tags(request.prompt)[0]], {"clip": (18, 0, "CLIP")}, [("CONDITIONING", "CONDITIONING")]),
        # without guidance (CFG 1) the official template's zeroed positive (what ComfyUI gives the sampler);
        # with CFG > 1 the negative (even an empty one, which diffusers encodes too) is its own CLIPTextEncode
        (7, "ConditioningZeroOut", [], {"conditioning": (6, 0, "CONDITIONING")}, [("CONDITIONING", "CONDITIONING")])
        if recorded(request, model)[0] <= 1.0 else
        (7, "CLIPTextEncode", [recorded(request, model)[1]], {"clip": (18, 0, "CLIP")},
         [("CONDITIONING", "CONDITIONING")]),
        *latent_nodes(request, model),
        *_sampling(request, model, MODEL_SAMPLING_ID),
        *finish,
        (9, "SaveImage", [SAVE_PREFIX], {"images": final}, []),
    ]


CONTROLNET_FILE = "Z-Image-Turbo-Fun-Controlnet-Union-2.1.safetensors"


def _sampling(request: GenerationRequest, model: dict[str, Any], model_source: int = 16) -> list[_NodeSpec]:
    """KSampler on the model, or — with a control — on ZImageFunControlnet's patched model
    (ModelPatchLoader + LoadImage of the preprocessed control image). A control over part of the
    steps splits the sampling into KSamplerAdvanced segments, the patched model for its steps."""
    # ComfyUI has no "diffusers" schedule: it is "simple" when the steps divide 1000, else ManualSigmas
    # through SamplerCustom — the whole schedule (text to image), the steps an edit runs (its last
    # ones), or a control's segment of them; KSamplerSelect names the sampler.
    scheduler = "simple"
    used = recorded(request, model)[0]
    cfg: float | int = int(used) if used.is_integer() else used  # 1, as ComfyUI's templates write it
    conditioning = {"positive": (6, 0, "CONDITIONING"), "negative": (7, 0, "CONDITIONING")}
    decode: _NodeSpec = (8, "VAEDecode", [], {"vae": (17, 0, "VAE")}, [("IMAGE", "IMAGE")])
    sigmas = _diffusers_sigmas(request, model)
    # An edit runs the last steps of the schedule (edit_run.steps_run); a control's range is of all steps.
    begin = request.steps - ksampler_steps(request)[0] if request.is_edit else 0
    select: _NodeSpec = (SAMPLER_SELECT_ID, "KSamplerSelect", [request.sampler], {}, [("SAMPLER", "SAMPLER")])

    def custom(node_id: int, sigmas_id: int, first: int, last: int, source: int, latent: tuple[int, int, str],
               noise: bool) -> list[_NodeSpec]:
        """SamplerCustom over steps first … last of the schedule (sigmas first … last, both in)."""
        assert sigmas is not None
        return [(sigmas_id, "ManualSigmas", [sigmas_text(sigmas[first:last + 1])], {}, [("SIGMAS", "SIGMAS")]),
                (node_id, "SamplerCustom", [noise, request.seed, "fixed", cfg],
                 {"model": (source, 0, "MODEL"), **conditioning, "sampler": (SAMPLER_SELECT_ID, 0, "SAMPLER"),
                  "sigmas": (sigmas_id, 0, "SIGMAS"), "latent_image": latent},
                 [("output", "LATENT"), ("denoised_output", "LATENT")])]

    if not request.controls and sigmas is not None:
        return [select, *custom(3, MANUAL_SIGMAS_ID, begin, request.steps, model_source, (13, 0, "LATENT"), True),
                _with_samples(decode, 3)]
    if not request.controls:
        return [
            (3, "KSampler", [request.seed, "fixed", ksampler_steps(request)[0], cfg, request.sampler, scheduler,
                             ksampler_steps(request)[1]],
             {"model": (model_source, 0, "MODEL"), **conditioning, "latent_image": (13, 0, "LATENT")},
             [("LATENT", "LATENT")]),
            _with_samples(decode, 3),
        ]
    control = request.controls[0]
    known = model.get("controls")
    info = known[0] if isinstance(known, list) and known and isinstance(known[0], dict) else {}
    image_name = str(info.get("prepared") or (f"{control.image_sha256}.png" if control.image_sha256 else "control.png"))
    inputs: dict[str, Any] = {"model": (model_source, 0, "MODEL"), "model_patch": (20, 0, "MODEL_PATCH"),
                              "vae": (17, 0, "VAE"), "image": (21, 0, "IMAGE")}
    if request.mode in ("inpaint", "outpaint"):  # Union 2.x's inpaint input: the source and its mask
        inputs.update(inpaint_image=(10, 0, "IMAGE"), mask=(10, 1, "MASK"))
    nodes: list[_NodeSpec] = [
        (20, "ModelPatchLoader", [str(info.get("name") or CONTROLNET_FILE)], {}, [("MODEL_PATCH", "MODEL_PATCH")]),
        (21, "LoadImage", [image_name, "image"], {}, [("IMAGE", "IMAGE"), ("MASK", "MASK")]),
        (22, "ZImageFunControlnet", [control.strength], inputs, [("MODEL", "MODEL")]),
    ]
    first, last = (max(begin, round(f * request.steps)) for f in (control.start, control.end))
    if (first, last) == (begin, request.steps) and sigmas is not None:
        return nodes + [select, *custom(3, MANUAL_SIGMAS_ID, begin, request.steps, 22, (13, 0, "LATENT"), True),
                        _with_samples(decode, 3)]
    if (first, last) == (begin, request.steps):
        steps, denoise = ksampler_steps(request)
        nodes.append((3, "KSampler", [request.seed, "fixed", steps, cfg, request.sampler, scheduler, denoise],
                      {"model": (22, 0, "MODEL"), **conditioning, "latent_image": (13, 0, "LATENT")},
                      [("LATENT", "LATENT")]))
        return nodes + [_with_samples(decode, 3)]
    spans = ((begin, first, model_source), (first, last, 22), (last, request.steps, model_source))
    segments = [(a, b, m) for a, b, m in spans if b > a]
    previous: tuple[int, int, str] = (13, 0, "LATENT")
    node_id = 3
    if sigmas is not None:
        nodes.append(select)
    for number, (a, b, source) in enumerate(segments):
        node_id = 3 if number == 0 else 22 + number
        final = number == len(segments) - 1
        if sigmas is not None:  # the segment's own sigmas; the next one goes on from its noisy output
            nodes += custom(node_id, MANUAL_SIGMAS_ID + number, a, b, source, previous, number == 0)
            previous = (node_id, 0, "LATENT")
            continue
        nodes.append((node_id, "KSamplerAdvanced",
                      ["enable" if number == 0 else "disable", request.seed, "fixed", request.steps, cfg, request.sampler,
                       scheduler, a, b, "disable" if final else "enable"],
                      {"model": (source, 0, "MODEL"), **conditioning, "latent_image": previous},
                      [("LATENT", "LATENT")]))
        previous = (node_id, 0, "LATENT")
    return nodes + [_with_samples(decode, node_id)]


def _with_samples(decode: _NodeSpec, source: int) -> _NodeSpec:
    node_id, cls, values, links, outputs = decode
    return node_id, cls, values, {"samples": (source, 0, "LATENT"), **links}, outputs


# Widget names in ComfyUI's order (None: UI-only widgets: KSampler's "control after generate", LoadImage's upload).
_WIDGET_NAMES: dict[str, tuple[str | None, ...]] = {
    "UNETLoader": ("unet_name", "weight_dtype"), "UnetLoaderGGUF": ("unet_name",),
    "CLIPLoader": ("clip_name", "type", "device"), "CLIPLoaderGGUF": ("clip_name", "type"),
    "VAELoader": ("vae_name",), "CLIPTextEncode": ("text",),
    "EmptySD3LatentImage": ("width", "height", "batch_size"),
    "KSampler": ("seed", None, "steps", "cfg", "sampler_name", "scheduler", "denoise"),
    "VAEDecode": (), "SaveImage": ("filename_prefix",), "LoraLoaderModelOnly": ("lora_name", "strength_model"),
    "ModelSamplingAuraFlow": ("shift",), "ConditioningZeroOut": (), "KSamplerSelect": ("sampler_name",),
    "ManualSigmas": ("sigmas",), "SamplerCustom": ("add_noise", "noise_seed", None, "cfg"),
    "ModelPatchLoader": ("name",), "LoadImage": ("image", None), "ZImageFunControlnet": ("strength",),
    "KSamplerAdvanced": ("add_noise", "noise_seed", None, "steps", "cfg", "sampler_name", "scheduler",
                         "start_at_step", "end_at_step", "return_with_leftover_noise"),
}


def api_prompt(request: GenerationRequest, model: dict[str, Any]) -> dict[str, Any]:
    """ComfyUI's API-format graph (what its SaveImage writes as the ``prompt`` chunk)."""
    graph: dict[str, Any] = {}
    for node_id, cls, values, links, _ in _nodes(request, model):
        inputs: dict[str, Any] = {name: v for name, v in zip(_WIDGET_NAMES[cls], values) if name}
        inputs.update({name: [str(src), slot] for name, (src, slot, _) in links.items()})
        graph[str(node_id)] = {"class_type": cls, "inputs": inputs, "_meta": {"title": cls}}
    return graph


def workflow(request: GenerationRequest, model: dict[str, Any]) -> dict[str, Any]:
    """The matching UI-format graph (the ``workflow`` chunk ComfyUI loads when the PNG is dropped)."""
    specs = _nodes(request, model)
    links: list[list[Any]] = []
    outgoing: dict[tuple[int, int], list[int]] = {}
    incoming: dict[int, dict[str, int]] = {}
    for node_id, _, _, inputs, _ in specs:
        for name, (src, slot, kind) in inputs.items():
            link_id = len(links) + 1
            links.append([link_id, src, slot, node_id, list(inputs).index(name), kind])
            outgoing.setdefault((src, slot), []).append(link_id)
            incoming.setdefault(node_id, {})[name] = link_id
    nodes = []
    for order, (node_id, cls, values, inputs, outputs) in enumerate(specs):
        column = {16: 0, 18: 0, 17: 0, 10: 0, 20: 0, 14: 1, 11: 1, 21: 1, 6: 1, 7: 2, 13: 1, 22: 2, 3: 3, 23: 3, 24: 3,
                  12: 1, 25: 2, 26: 2, 27: 2, 28: 2, 8: 4, 9: 5}.get(node_id, 1)
        row = order % 3 if node_id < LORA_NODE_ID else 3 + node_id - LORA_NODE_ID  # LoRAs below the prompts
        nodes.append({
            "id": node_id, "type": cls, "pos": [60 + 420 * column, 80 + 200 * row], "size": [380, 160],
            "flags": {}, "order": order, "mode": 0,
            "inputs": [{"name": name, "type": kind, "link": incoming[node_id][name]}
                       for name, (_, _, kind) in inputs.items()],
            "outputs": [{"name": name, "type": kind, "slot_index": slot, "links": outgoing.get((node_id, slot), [])}
                        for slot, (name, kind) in enumerate(outputs)],
            "properties": {"Node name for S&R": cls},
            "widgets_values": values,
        })
    return {"last_node_id": max(spec[0] for spec in specs), "last_link_id": len(links), "nodes": nodes,
            "links": links, "groups": [], "config": {}, "extra": {}, "version": 0.4}


# -- edits (issue 21): the nodes are in comfy_edit_graph.py -------------------------------------


def ksampler_steps(request: GenerationRequest) -> tuple[int, float]:
    """(steps, denoise) for ComfyUI's KSampler that run the steps we ran.

    We run the last ``steps_run`` steps of the ``request.steps`` schedule (diffusers' strength);
    KSampler with ``denoise`` d < 1 builds the schedule for ⌊steps/d⌋ steps and runs its last
    ``steps``: so steps = steps run and d chosen so that ⌊steps/d⌋ is exactly ``request.steps``."""
    from ..engine.edit_run import steps_run

    if not request.is_edit:
        return request.steps, 1
    run = steps_run(request.steps, request.strength)
    if run == request.steps:
        return run, 1
    denoise = round(run / request.steps, 4)
    if int(run / denoise) != request.steps:  # rounding pushed it past a whole number
        denoise = round(run / (request.steps + 0.5), 4)
    return run, denoise


def comfy_input_image(picture, mask=None):
    """The picture for LoadImage: RGB (img2img, outpaint, upscale: the source itself), or for inpaint
    RGBA with alpha = 255 − mask (white mask = may change), which ComfyUI's LoadImage turns back
    into the mask."""
    from PIL import ImageOps

    if mask is None:
        return picture.convert("RGB")
    image = picture.convert("RGBA")
    image.putalpha(ImageOps.invert(mask.convert("L")))
    return image


_WIDGET_NAMES.update(EDIT_WIDGET_NAMES)

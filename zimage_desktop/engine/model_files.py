"""Find and identify the model files of a models folder, without loading any weights.

Two layouts are understood (DESIGN.md §2): a full diffusers pipeline folder (``model_index.json``
and weights), and the ComfyUI-style folder with ``diffusion_models/``, ``text_encoders/``, ``vae/``
and ``configs/z-image-turbo/``. Files are recognised by their tensor names and shapes (read from
the file header only), so a wrong model gets a sentence instead of a key-mismatch traceback.
This module imports neither torch nor diffusers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from ..errors import ModelFilesError
from ..messages import joined, msg
from ..resource_root import resource
from .architectures import ARCHITECTURES, DEFAULT, Architecture, architecture
from .file_kinds import (  # noqa: F401  (re-exported: the model manager and tests use them from here)
    COMFY_PREFIXES, GGUF_FORM, VAE_PREFIXES, _guess_other_model, check_text_encoder, classify_transformer, classify_vae,
    provides, transformer_form,
)
from .gguf_encoder import text_encoder_form
from .. import model_folders
from ..model_folders import TEXT_ENCODERS, TRANSFORMERS, VAES
from .tensor_index import (  # noqa: F401  (re-exported: the loader and the model manager use them)
    PICKLE_SUFFIXES, TensorIndex, read_gguf_index, read_index, read_safetensors_index, read_sharded_index,
    int8_gib, refuse_pickle, resident_gib,
)

WEIGHT_SUFFIXES = {".safetensors", ".gguf"}
CONFIG_NAME = DEFAULT.id  # configs/<model id>/ of the default model


@dataclass(frozen=True)
class ModelSet:
    """The files one pipeline is built from.

    ``form`` is "diffusers" (everything under ``pipeline_dir``) or "single_files" (the
    ComfyUI-style files plus ``config_dir`` for configs, scheduler and tokenizer).
    ``*_keys`` say which key naming a single file uses: "comfy"/"diffusers" for the transformer,
    "bfl"/"diffusers" for the VAE.
    """

    form: str
    root: Path
    pipeline_dir: Path | None = None
    transformer: Path | None = None
    transformer_format: str = "safetensors"
    transformer_keys: str = "diffusers"
    text_encoder: Path | None = None
    text_encoder_format: str = "safetensors"  # or "gguf" (llama.cpp Qwen3 file, kept quantized)
    text_encoder_form: str = "bf16"  # see text_encoder_form()
    vae: Path | None = None
    vae_keys: str = "diffusers"
    config_dir: Path | None = None
    transformer_form: str = "bf16"  # see transformer_form()
    # Forms of all usable transformer files in the folder (for the planner).
    available_forms: frozenset[str] = frozenset()
    # Forms of all usable text encoders in the folder (for the planner).
    text_encoder_forms: frozenset[str] = frozenset()
    # GiB each installed form takes in memory, "te:<form>" for encoders (the planner's sizes).
    form_gib: tuple[tuple[str, float], ...] = ()
    arch: str = DEFAULT.id  # which registered model these files are (engine/architectures.py)

    @property
    def architecture(self) -> Architecture:
        return architecture(self.arch)

    def files(self) -> list[Path]:
        """The weight files of this set (for hashes and metadata)."""
        if self.form == "diffusers" and self.pipeline_dir is not None:
            return sorted(
                p for sub in ("transformer", "text_encoder", "vae")
                for p in (self.pipeline_dir / sub).glob("*.safetensors")
            )
        out = [p for p in (self.transformer, self.vae) if p is not None]
        if self.text_encoder is not None:
            out += sorted(self.text_encoder.glob("*.safetensors")) if self.text_encoder.is_dir() else [self.text_encoder]
        return out

    @property
    def display_name(self) -> str:
        if self.form == "diffusers" and self.pipeline_dir is not None:
            return self.pipeline_dir.name
        return self.transformer.stem if self.transformer else self.arch


def shipped_config_dir(model: str = DEFAULT.id) -> Path:
    """The configs of a registered model shipped with the app (no tokenizer)."""
    return resource("configs", model)


# ---------------------------------------------------------------------------------------------
# Resolving a models folder


def _form_gib(found: dict[str, float], form: str, gib: float) -> None:
    for f in provides(form):
        size = gib / 2 if f == "fp8" and form == "bf16" else gib
        found[f] = max(found.get(f, 0.0), size)


def _load_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelFilesError(msg("model_files.cannot_read", "Cannot read {path}: {exc}", path=path, exc=exc)) from None
    if not isinstance(data, dict):
        raise ModelFilesError(msg("model_files.json_object", "{path} is not a JSON object.", path=path))
    return data


def component_config_path(config_dir: Path | None, component: str, model: str = DEFAULT.id) -> Path:
    """configs/<model>/<component>/config.json from the models folder, else the shipped one; a
    model of Turbo's family without its own shipped configs (Z-Image base) shares Turbo's text
    encoder, VAE and transformer shape, so Turbo's shipped configs serve it too."""
    shared = shipped_config_dir(DEFAULT.id) if component in ("text_encoder", "vae", "transformer") else None
    for base in (config_dir, shipped_config_dir(model), shared):
        if base is not None and (base / component / "config.json").is_file():
            return base / component / "config.json"
    raise ModelFilesError(msg("model_files.configuration_was_found", "No configuration for the {component} was found.",
                              component=component))


def component_config(config_dir: Path | None, component: str, model: str = DEFAULT.id) -> dict:
    return _load_json(component_config_path(config_dir, component, model))


EXTRA_PATHS_FILE = "extra_paths.json"  # folders adopted "by reference" (models.store.import_folder)


def _extra_dirs(folder: Path) -> list[Path]:
    """Other folders registered for this kind (e.g. ComfyUI's own, imported by reference)."""
    try:
        data = json.loads((folder.parent / EXTRA_PATHS_FILE).read_text(encoding="utf-8"))
        return [Path(p) for p in data.get(folder.name, []) if isinstance(p, str)]
    except (OSError, ValueError, AttributeError):
        return []


def _weight_candidates(folder: Path) -> tuple[list[Path], list[Path]]:
    """Loadable files (and pickle files, for the message) directly in a folder or one level down,
    plus those in folders registered by reference."""
    found: list[Path] = []
    for base in [folder, *_extra_dirs(folder)]:
        if base.is_dir():
            found += [p for p in base.rglob("*") if p.is_file() and len(p.relative_to(base).parts) <= 2]
    found.sort()
    good = [p for p in found if p.suffix.lower() in WEIGHT_SUFFIXES]
    pickles = [p for p in found if p.suffix.lower() in PICKLE_SUFFIXES]
    return good, pickles


def _pick(kind: str, folder: Path, candidates: list[Path], pickles: list[Path], check) -> tuple[Path, str]:
    """The first candidate that ``check`` accepts; a clear error when none does."""
    rejected: list[ModelFilesError] = []
    for path in candidates:
        try:
            style = check(path)
        except ModelFilesError as exc:
            rejected.append(exc)
            continue
        if style is not None:
            return path, style
    if rejected:
        if len(rejected) == 1:
            raise ModelFilesError(rejected[0].message)
        raise ModelFilesError(msg("model_files.none_usable", "No usable {kind} in {folder}: {reasons}", kind=kind, folder=folder,
                                  reasons=joined([r.message for r in rejected])))
    if pickles:
        refuse_pickle(pickles[0])
    raise ModelFilesError(msg("model_files.found", "No {kind} found in {folder}.", kind=kind, folder=folder))


def resolve_model_set(models_dir: Path, transformer: str | Path | None = None,
                      prefer_forms: Sequence[str] = (), prefer_text_encoder: str | None = None,
                      model: str = DEFAULT.id) -> ModelSet:
    """Work out which files make the pipeline in ``models_dir`` (raises ModelFilesError).

    ``transformer`` names a file explicitly; otherwise a file of ``model`` (else of any registered
    model) whose form is earliest in ``prefer_forms`` is used (then safetensors before GGUF, then
    by name). The text encoder, VAE, configs and tokenizer are then those of the transformer's
    model. With several text encoders, one of the form ``prefer_text_encoder`` wins, else the
    first by name (a form: "bf16", "Q8_0", "Q6_K", "Q4_K").
    """
    models_dir = Path(models_dir).expanduser()
    if transformer is not None:
        refuse_pickle(Path(transformer))
    if (models_dir / "model_index.json").is_file() and transformer is None:
        return _resolve_diffusers(models_dir)
    if models_dir.exists() and not models_dir.is_dir():
        raise ModelFilesError(msg("model_files.models_folder_is_a_file", "{models_dir} is a file, not a folder: give the "
                                  "models folder that holds it.", models_dir=models_dir))
    if not models_dir.is_dir():
        raise ModelFilesError(msg("model_files.models_folder_does_exist", "The models folder {models_dir} does not exist.",
                                  models_dir=models_dir))

    def config_dir_for(arch: Architecture) -> Path | None:
        folder = model_folders.config_dir(models_dir, arch.id)
        return folder if folder.is_dir() else None

    forms: dict[Path, str] = {}
    archs: dict[Path, Architecture] = {}
    gib: dict[Path, float] = {}
    int8: dict[Path, float] = {}  # a GGUF file's size once converted by --cpu-int8
    sizes: dict[str, float] = {}

    def check_transformer(path: Path) -> str | None:
        index = read_index(path)
        found = classify_transformer(index, lambda a: component_config(config_dir_for(a), "transformer", a.id), path.name)
        if found is None:
            raise ModelFilesError(
                msg("model_files.z_image_transformer", "{name} is not a Z-Image transformer ({looks_like}).",
                    name=path.name, looks_like=_guess_other_model(set(index.stripped(COMFY_PREFIXES))))
            )
        archs[path] = found[0]
        forms[path] = transformer_form(index)
        gib[path] = resident_gib(index, path)
        if index.format == "gguf":
            int8[path] = int8_gib(index, path)
        return found[1]

    tr_dir = models_dir / TRANSFORMERS
    if transformer is not None:
        path = Path(transformer)
        if not path.is_absolute():
            # a relative name (typed, or from an image's metadata) is looked up in the models folder
            # only, never in the current folder, and may not climb out of it
            path = tr_dir / path
            if ".." in Path(transformer).parts:
                path = tr_dir / Path(transformer).name
        if not path.is_file():
            raise ModelFilesError(msg("model_files.transformer_file_does_exist", "The transformer file {transformer} does "
                                      "not exist.", transformer=transformer))
        tr_path, tr_style = path, check_transformer(path) or "comfy"
    else:
        candidates, pickles = _weight_candidates(tr_dir)
        usable: list[tuple[Path, str]] = []
        for path in candidates:
            try:
                usable.append((path, check_transformer(path) or "comfy"))
            except ModelFilesError:
                pass
        if usable:
            rank = {form: i for i, form in enumerate(prefer_forms)}

            def order(item):
                path = item[0]
                best = min((rank.get(f, len(rank)) for f in provides(forms[path])), default=len(rank))
                return (archs[path].id != model, best, path.suffix.lower() != ".safetensors", path.name)

            tr_path, tr_style = min(usable, key=order)
        else:  # say why nothing is usable
            tr_path, tr_style = _pick(msg("model_files.kind_transformer", "Z-Image transformer"), tr_dir, candidates,
                                      pickles, check_transformer)
    arch = archs[tr_path]
    for path in forms:  # the planner's sizes: forms of this model only
        if archs[path] == arch:
            _form_gib(sizes, forms[path], gib[path])
            if path in int8:
                sizes["int8:" + forms[path]] = max(sizes.get("int8:" + forms[path], 0.0), int8[path])
    config_dir = config_dir_for(arch)
    te_config = component_config(config_dir, "text_encoder", arch.id)

    te_formats: dict[Path, str] = {}
    te_forms: dict[Path, str] = {}

    def check_te(path: Path) -> str:
        index = read_index(path)
        te_formats[path] = check_text_encoder(index, te_config, path.name, path)
        te_forms[path] = text_encoder_form(index)
        sizes["te:" + te_forms[path]] = max(sizes.get("te:" + te_forms[path], 0.0), resident_gib(index, path))
        return te_formats[path]

    te_dir = models_dir / TEXT_ENCODERS
    te_candidates, te_pickles = _weight_candidates(te_dir)
    te_roots = [te_dir, *_extra_dirs(te_dir)]
    te_candidates = [p for p in te_candidates if p.parent in te_roots]
    te_candidates += sorted(d for d in te_dir.iterdir() if d.is_dir()) if te_dir.is_dir() else []
    te_path, te_format = _pick(msg("model_files.kind_text_encoder", "Qwen3 text encoder"), te_dir, te_candidates,
                               te_pickles, check_te)
    for path in te_candidates:  # learn every usable format, for the planner and the preference
        if path not in te_formats:
            try:
                check_te(path)
            except ModelFilesError:
                pass
    preferred = [p for p in te_candidates if te_forms.get(p) == prefer_text_encoder]
    if preferred and te_forms[te_path] != prefer_text_encoder:
        te_path, te_format = preferred[0], te_formats[preferred[0]]

    vae_dir = models_dir / VAES
    vae_candidates, vae_pickles = _weight_candidates(vae_dir)
    vae_path, vae_style = _pick(
        msg("model_files.kind_vae", "FLUX.1 VAE"), vae_dir, vae_candidates, vae_pickles,
        lambda p: classify_vae(read_index(p), p.name, arch.latent_channels)
    )

    tokenizer_dir = config_dir / "tokenizer" if config_dir else None
    if tokenizer_dir is None or not tokenizer_dir.is_dir():
        raise ModelFilesError(
            msg("model_files.tokenizer_missing_repo", "The tokenizer is missing: put the tokenizer/ folder of {repo} "
                "into {folder}.", repo=arch.hub_repo, folder=model_folders.config_dir(models_dir, arch.id))
        )
    return ModelSet(
        form="single_files",
        root=models_dir,
        transformer=tr_path,
        transformer_format="gguf" if tr_path.suffix.lower() == ".gguf" else "safetensors",
        transformer_keys=tr_style,
        text_encoder=te_path,
        text_encoder_format=te_format,
        text_encoder_form=te_forms[te_path],
        vae=vae_path,
        vae_keys=vae_style,
        config_dir=config_dir,
        transformer_form=forms[tr_path],
        available_forms=frozenset(f for path, form in forms.items() if archs[path] == arch for f in provides(form)),
        text_encoder_forms=frozenset(te_forms.values()),
        form_gib=tuple(sorted(sizes.items())),
        arch=arch.id,
    )


def _resolve_diffusers(folder: Path) -> ModelSet:
    index = _load_json(folder / "model_index.json")
    archs = [a for a in ARCHITECTURES.values() if a.pipeline_class == index.get("_class_name")]
    if not archs:
        raise ModelFilesError(
            msg("model_files.diffusers_pipeline_type_zimagepipeline", "{folder} is a diffusers pipeline of type {class_name!r}, "
                "not ZImagePipeline.", folder=folder, class_name=index.get('_class_name'))
        )
    arch = next((a for a in archs if any(h in folder.name.lower() for h in a.file_name_hints)), archs[0])
    for sub in ("transformer", "text_encoder", "vae"):
        part = folder / sub
        if not part.is_dir():
            raise ModelFilesError(msg("model_files.pipeline_folder_folder", "The pipeline folder {folder} has no {sub}/ "
                                      "folder.", folder=folder, sub=sub))
        if not any(part.glob("*.safetensors")):
            pickles = [p for p in part.iterdir() if p.suffix.lower() in PICKLE_SUFFIXES]
            if pickles:
                refuse_pickle(pickles[0])
            raise ModelFilesError(msg("model_files.holds_safetensors_weights", "{part} holds no .safetensors weights.",
                                      part=part))
        read_sharded_index(part)  # complete and readable?
    if not (folder / "tokenizer").is_dir():
        raise ModelFilesError(msg("model_files.pipeline_folder_tokenizer_folder", "The pipeline folder {folder} has no "
                                  "tokenizer/ folder.", folder=folder))
    tr_index = read_sharded_index(folder / "transformer")
    form = transformer_form(tr_index)
    sizes: dict[str, float] = {"te:bf16": resident_gib(read_sharded_index(folder / "text_encoder"), folder)}
    _form_gib(sizes, form, resident_gib(tr_index, folder))
    return ModelSet(form="diffusers", root=folder, pipeline_dir=folder, transformer_form=form,
                    available_forms=frozenset(provides(form)), text_encoder_forms=frozenset({"bf16"}),
                    form_gib=tuple(sorted(sizes.items())), arch=arch.id)


def installed_architecture(models_dir: Path, transformer: str | None = None) -> Architecture:
    """The registered model the models folder's files are (headers only): what the window shows
    fields for and the CLI takes default steps from. Turbo's entry where the files cannot be
    read yet (the run then says what is wrong)."""
    from ..errors import BadInputError, UserFacingError

    try:
        return resolve_model_set(models_dir, transformer).architecture
    except (BadInputError, UserFacingError, OSError, ValueError):
        return DEFAULT


@dataclass(frozen=True)
class TransformerChoice:
    """One Z-Image transformer file of a models folder, for the window's model list."""

    name: str  # the file's name in diffusion_models/ (what a request's ``transformer`` holds)
    arch: Architecture
    form: str  # "bf16", "fp8", "Q4_K" … (transformer_form)


def transformer_choices(models_dir: Path) -> list[TransformerChoice]:
    """The transformer files directly in the folder's ``diffusion_models/`` that are a registered
    model's (headers only), by model then name. Files in subfolders or folders registered by
    reference are left out: a request names its transformer by file name in ``diffusion_models/``."""
    folder = Path(models_dir).expanduser() / TRANSFORMERS
    try:
        files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in WEIGHT_SUFFIXES)
    except OSError:
        return []
    def config(a: Architecture) -> dict:
        found = model_folders.config_dir(folder.parent, a.id)
        return component_config(found if found.is_dir() else None, "transformer", a.id)

    choices: list[TransformerChoice] = []
    for path in files:
        try:
            index = read_index(path)
            kind = classify_transformer(index, config, path.name)
        except (ModelFilesError, OSError, ValueError):
            continue
        if kind is not None:
            choices.append(TransformerChoice(path.name, kind[0], transformer_form(index)))
    order = list(ARCHITECTURES)
    return sorted(choices, key=lambda c: (order.index(c.arch.id) if c.arch.id in order else len(order), c.name))


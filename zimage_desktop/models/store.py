"""The models folder: what is there, is it complete and intact, and adopting files from ComfyUI.

Files are recognised by their tensor names and shapes (engine.model_files), never by file name.
Hashes are cached by (path, size, mtime), so scanning 30 GB twice hashes nothing the second time.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from ..engine import model_files as mf
from ..errors import BadInputError, ModelFilesError
from ..messages import msg
from ..model_folders import FOLDERS, LORAS, comfy_paths, has_configs
from ..fsutil import atomic_open
from .catalog import Catalog, Component
from .hashing import HashCache

EXTRA_PATHS_FILE = mf.EXTRA_PATHS_FILE
KIND_FOLDER = {kind: FOLDERS[kind].name for kind in ("transformer", "text_encoder", "vae", "controlnet")}
IMPORT_MODES = ("hardlink", "symlink", "reference")
COMFY_SECTION = "zimage_desktop"


@dataclass(frozen=True)
class FileStatus:
    dest: str
    state: str  # "missing" | "partial" | "wrong size" | "present" | "verified" | "corrupt"
    size: int = 0


@dataclass(frozen=True)
class ComponentStatus:
    component: Component
    files: tuple[FileStatus, ...]

    @property
    def installed(self) -> bool:
        return all(f.state in ("present", "verified") for f in self.files)

    @property
    def state(self) -> str:
        states = {f.state for f in self.files}
        for worst in ("corrupt", "wrong size", "partial", "missing"):
            if worst in states:
                return "incomplete" if worst == "missing" and len(states) > 1 else worst
        return "verified" if states == {"verified"} else "installed"

    @property
    def missing_bytes(self) -> int:
        return sum(c.expected_size - (f.size if f.state == "partial" else 0)
                   for c, f in zip(self.component.files, self.files) if f.state not in ("present", "verified"))


def scan(models_dir: Path, catalog: Catalog, hash_cache: HashCache, verify: bool = False) -> list[ComponentStatus]:
    """Status of every catalog component. ``verify`` hashes files (cached) and compares sha256."""
    out = []
    for comp in catalog.components.values():
        states = []
        for f in comp.files:
            path = Path(models_dir) / f.dest
            part = path.with_name(path.name + ".part")
            if not path.is_file():
                partial = part.stat().st_size if part.exists() else 0
                states.append(FileStatus(f.dest, "partial" if partial else "missing", partial))
                continue
            size = path.stat().st_size
            if f.size is not None and size != f.size:
                states.append(FileStatus(f.dest, "wrong size", size))
            elif verify and f.sha256:
                ok = hash_cache.sha256(path) == f.sha256
                states.append(FileStatus(f.dest, "verified" if ok else "corrupt", size))
            else:
                states.append(FileStatus(f.dest, "present", size))
        out.append(ComponentStatus(comp, tuple(states)))
    return out


# -- recognising and importing ----------------------------------------------------------------


def recognise(path: Path) -> str | None:
    """"transformer", "text_encoder", "vae" or "controlnet" (ControlNet Union) for a Z-Image file,
    judged by its tensors; else None."""
    from ..engine.controlnet_files import is_controlnet

    try:
        index = mf.read_index(path)
    except ModelFilesError:
        return None
    if is_controlnet(index):
        return "controlnet"
    config_dir = mf.shipped_config_dir()
    try:
        if mf.classify_transformer(index, lambda arch: mf.component_config(None, "transformer", arch.id), path.name):
            return "transformer"
    except ModelFilesError:
        return None  # a Z-Image transformer of another size
    try:
        mf.check_text_encoder(index, mf.component_config(config_dir, "text_encoder"), path.name, path)
        return "text_encoder"
    except ModelFilesError:
        pass
    try:
        mf.classify_vae(index, path.name)
        return "vae"
    except ModelFilesError:
        return None


@dataclass
class ImportReport:
    imported: dict[str, str] = field(default_factory=dict)  # source path -> what it became
    skipped: dict[str, str] = field(default_factory=dict)  # source path -> why
    notes: list[str] = field(default_factory=list)


def import_folder(source: Path, models_dir: Path, mode: str = "hardlink", max_depth: int = 4) -> ImportReport:
    """Adopt Z-Image files found under ``source`` (e.g. a ComfyUI ``models`` folder) without copying."""
    if mode not in IMPORT_MODES:
        raise BadInputError(msg("models_store.unknown_import_mode_choose", "Unknown import mode {mode!r}; choose {names}.",
                                mode=mode, names=', '.join(IMPORT_MODES)))
    source = Path(source).expanduser().resolve()
    if not source.is_dir():
        raise BadInputError(msg("models_store.folder", "{source} is not a folder.", source=source))
    models_dir = Path(models_dir).expanduser()
    report = ImportReport()
    extra = load_extra_paths(models_dir)
    for path in sorted(source.rglob("*")):
        if not path.is_file() or len(path.relative_to(source).parts) > max_depth:
            continue
        suffix = path.suffix.lower()
        if suffix in mf.PICKLE_SUFFIXES:
            report.skipped[str(path)] = msg("models_store.pickle_skipped", "pickle checkpoint: never loaded")
            continue
        if suffix not in mf.WEIGHT_SUFFIXES:
            continue
        lora_part = _lora_relative(path.relative_to(source))
        if lora_part is not None:
            _adopt_lora(path, models_dir, lora_part, mode, report)
            continue
        kind = recognise(path)
        if kind is None:
            report.skipped[str(path)] = msg("models_store.not_zimage", "not a Z-Image-Turbo file")
            continue
        folder = KIND_FOLDER[kind]
        if mode == "reference":
            dirs = extra.setdefault(folder, [])
            if str(path.parent) not in dirs:
                dirs.append(str(path.parent))
            report.imported[str(path)] = msg("models_store.used_in_place", "{kind}, used from where it is", kind=kind)
            continue
        target = models_dir / folder / path.name
        if target.exists() or target.is_symlink():
            same = target.exists() and os.path.samefile(target, path)
            report.skipped[str(path)] = (msg("models_store.already_imported", "already imported") if same
                                          else msg("models_store.exists_already", "{target} exists already", target=target))
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        how = mode
        if mode == "hardlink":
            try:
                os.link(path, target)
            except OSError as exc:  # another drive, or a file system without hard links
                os.symlink(path, target)
                how = "symlink"
                report.notes.append(msg("models_store.hard_link_impossible_made", "{name}: hard link impossible "
                                        "({strerror}); made a symbolic link", name=path.name, strerror=exc.strerror))
        else:
            os.symlink(path, target)
        report.imported[str(path)] = (msg("models_store.symlinked", "{kind}, symlink {target}", kind=kind, target=target)
                                      if how == "symlink" else
                                      msg("models_store.hardlinked", "{kind}, hardlink {target}", kind=kind, target=target))
    if mode == "reference":
        save_extra_paths(models_dir, extra)
    if not has_configs(models_dir, mf.CONFIG_NAME):
        report.notes.append(msg("models_store.small_configs_component_tokenizer", "The small 'configs' component (tokenizer, 16 "
                                "MB) is still needed: zimage-desktop models download configs"))
    return report


def _lora_relative(relative: Path) -> Path | None:
    """The path inside a ``loras`` folder (ComfyUI's), or None for a file elsewhere."""
    parts = relative.parts
    if LORAS in parts[:-1]:
        return Path(*parts[parts.index(LORAS) + 1:])
    return None


def _adopt_lora(path: Path, models_dir: Path, relative: Path, mode: str, report: ImportReport) -> None:
    """A LoRA of ComfyUI's loras/ folder joins ours (subfolders kept); one for another model or a
    damaged one is skipped with the reason."""
    from ..engine.loras import describe

    info = describe(path, path.parent)
    if info.problem:
        report.skipped[str(path)] = info.problem
        return
    if mode == "reference":
        # our loras/ is one folder: a reference is a symbolic link there (ComfyUI sees it too)
        mode = "symlink"
    target = models_dir / LORAS / relative
    if target.exists() or target.is_symlink():
        same = target.exists() and os.path.samefile(target, path)
        report.skipped[str(path)] = (msg("models_store.already_imported", "already imported") if same
                                      else msg("models_store.exists_already", "{target} exists already", target=target))
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        if mode == "hardlink":
            os.link(path, target)
        else:
            os.symlink(path, target)
    except OSError:
        os.symlink(path, target)
        mode = "symlink"
    report.imported[str(path)] = (msg("models_store.symlinked", "{kind}, symlink {target}", kind="lora", target=target)
                                  if mode == "symlink" else
                                  msg("models_store.hardlinked", "{kind}, hardlink {target}", kind="lora",
                                      target=target))
    for neighbour in (p for p in path.parent.glob(path.stem + ".*") if p != path and p.is_file()):
        # its preview picture and Civitai's .civitai.info (trigger words) come along
        side = target.parent / neighbour.name
        if not side.exists() and neighbour.stat().st_size < 50_000_000:
            try:
                os.link(neighbour, side)
            except OSError:
                os.symlink(neighbour, side)


def load_extra_paths(models_dir: Path) -> dict[str, list[str]]:
    try:
        data = json.loads((Path(models_dir) / EXTRA_PATHS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: [str(p) for p in v if isinstance(p, str)] for k, v in data.items() if isinstance(v, list)}


def save_extra_paths(models_dir: Path, extra: dict[str, list[str]]) -> None:
    with atomic_open(Path(models_dir) / EXTRA_PATHS_FILE, "w", encoding="utf-8") as fh:
        json.dump(extra, fh, indent=2, ensure_ascii=False)


# -- ComfyUI's extra_model_paths.yaml -----------------------------------------------------------


def comfyui_snippet(models_dir: Path) -> str:
    """The section that lets ComfyUI see our models folder."""
    base = Path(models_dir).expanduser().resolve().as_posix()
    return f"{COMFY_SECTION}:\n    base_path: {json.dumps(base)}\n" + "".join(
        f"    {key}: {name}\n" for key, name in comfy_paths().items())


def write_comfyui_config(comfy_root: Path, models_dir: Path) -> Path:
    """Add (or replace) our section in ComfyUI's extra_model_paths.yaml, keeping the rest."""
    import yaml

    path = Path(comfy_root) / "extra_model_paths.yaml"
    data: dict = {}
    if path.is_file():
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise BadInputError(msg("models_store.valid_yaml_fix_before", "{path} is not valid YAML ({exc}); fix it before "
                                    "adding our models folder.", path=path, exc=exc)) from None
    data[COMFY_SECTION] = yaml.safe_load(comfyui_snippet(models_dir))[COMFY_SECTION]
    with atomic_open(path, "w", encoding="utf-8") as fh:
        yaml.safe_dump(data, fh, sort_keys=False, allow_unicode=True)
    return path


def read_comfyui_config(path: Path) -> dict[str, list[Path]]:
    """Folders per model kind named by a ComfyUI extra_model_paths.yaml (all sections)."""
    import yaml

    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise BadInputError(msg("models_store.cannot_read", "Cannot read {path}: {exc}", path=path, exc=exc)) from None
    out: dict[str, list[Path]] = {}
    for section in data.values() if isinstance(data, dict) else []:
        if not isinstance(section, dict):
            continue
        base = Path(os.path.expanduser(str(section.get("base_path", Path(path).parent))))
        for key, value in section.items():
            if key in ("base_path", "is_default") or not isinstance(value, str):
                continue
            for line in value.splitlines():
                if line.strip():
                    out.setdefault(key, []).append(base / line.strip())
    return out

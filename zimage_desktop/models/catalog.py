"""The model catalog: which files make each component, where they come from, how big they are.

The data lives in ``zimage_desktop/resources/catalog.json`` (schema in docs/CATALOG.md); ``--catalog FILE``
loads another file of the same schema. Loading validates it: a catalog can never name a
destination outside the models folder.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path, PurePosixPath
from typing import Any

from ..engine.architectures import ARCHITECTURES, DEFAULT
from ..errors import BadInputError

SOURCE_KINDS = ("hf", "modelscope")
ALLOWED_ROOTS = ("diffusion_models", "text_encoders", "vae", "configs", "vae_approx")


@dataclass(frozen=True)
class SourceLocation:
    kind: str  # "hf" | "modelscope"
    repo: str
    path: str
    revision: str


@dataclass(frozen=True)
class CatalogFile:
    dest: str  # relative POSIX path inside the models folder
    size: int | None
    sha256: str | None
    sources: tuple[SourceLocation, ...]
    # For plans and progress only, when the exact size is left to the server (never verified).
    size_estimate: int | None = None

    @property
    def expected_size(self) -> int:
        return self.size if self.size is not None else (self.size_estimate or 0)

    def source(self, kind: str) -> SourceLocation | None:
        return next((s for s in self.sources if s.kind == kind), None)


@dataclass(frozen=True)
class Component:
    id: str
    title: str
    kind: str
    files: tuple[CatalogFile, ...]
    form: str | None = None
    licence: str = ""
    optional: bool = False
    title_zh: str = ""
    model: str = DEFAULT.id  # the Architecture this component belongs to (engine/architectures.py)

    def display_title(self, language: str) -> str:
        return self.title_zh if language.startswith("zh") and self.title_zh else self.title

    @property
    def size(self) -> int:
        return sum(f.expected_size for f in self.files)


@dataclass(frozen=True)
class Catalog:
    components: dict[str, Component]
    sets: dict[str, tuple[str, ...]]
    name: str = "Z-Image-Turbo"
    origin: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def resolve(self, names: list[str] | tuple[str, ...]) -> list[Component]:
        """Components for a mix of set names and component ids, without duplicates."""
        out: list[Component] = []
        for name in names:
            ids = self.sets.get(name, (name,))
            for cid in ids:
                if cid not in self.components:
                    known = ", ".join(sorted(self.sets) + sorted(self.components))
                    raise BadInputError(f"Unknown model set or component {name!r}; known: {known}.")
                if self.components[cid] not in out:
                    out.append(self.components[cid])
        return out


def safe_dest(dest: str) -> str:
    """Refuse any destination that could land outside the models folder."""
    if not isinstance(dest, str) or not dest or "\\" in dest or "\x00" in dest:
        raise BadInputError(f"Catalog path {dest!r} is not a plain relative path.")
    path = PurePosixPath(dest)
    if path.is_absolute() or ".." in path.parts or dest.startswith("~") or ":" in path.parts[0]:
        raise BadInputError(f"Catalog path {dest!r} would land outside the models folder.")
    if path.parts[0] not in ALLOWED_ROOTS:
        raise BadInputError(f"Catalog path {dest!r} is not inside one of the model folders ({', '.join(ALLOWED_ROOTS)}).")
    return str(path)


def _parse_file(raw: dict, where: str) -> CatalogFile:
    if not isinstance(raw, dict):
        raise BadInputError(f"{where}: a file entry must be an object.")
    size = raw.get("size")
    sha = raw.get("sha256")
    estimate = raw.get("size_estimate")
    for value in (size, estimate):
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
            raise BadInputError(f"{where}: size must be a whole number of bytes.")
    if sha is not None and (not isinstance(sha, str) or len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha)):
        raise BadInputError(f"{where}: sha256 must be 64 lowercase hex digits.")
    sources = []
    raw_sources = raw.get("sources") or {}
    if not isinstance(raw_sources, dict):
        raise BadInputError(f"{where}: sources must be an object.")
    for kind, loc in raw_sources.items():
        if kind not in SOURCE_KINDS or not isinstance(loc, dict):
            raise BadInputError(f"{where}: unknown source {kind!r}.")
        repo = loc.get("repo") or loc.get("model")
        path = loc.get("path")
        if not isinstance(repo, str) or not isinstance(path, str) or ".." in PurePosixPath(path).parts:
            raise BadInputError(f"{where}: source {kind} needs a repo and a relative path.")
        revision = str(loc.get("revision") or ("master" if kind == "modelscope" else "main"))
        sources.append(SourceLocation(kind, repo, path, revision))
    if not sources:
        raise BadInputError(f"{where}: no source.")
    return CatalogFile(safe_dest(raw.get("dest", "")), size, sha, tuple(sources), estimate)


def parse_catalog(data: dict, origin: str = "") -> Catalog:
    if not isinstance(data, dict) or data.get("schema") != 1:
        raise BadInputError(f"{origin or 'The catalog'} is not a schema-1 model catalog.")
    components: dict[str, Component] = {}
    raw_components, raw_sets = data.get("components") or {}, data.get("sets") or {}
    default_model = data.get("model", DEFAULT.id)  # components may name another
    if not isinstance(raw_components, dict) or not isinstance(raw_sets, dict):
        raise BadInputError(f"{origin or 'The catalog'}: components and sets must be objects.")
    for cid, raw in raw_components.items():
        if not isinstance(raw, dict) or not raw.get("files") or not isinstance(raw["files"], list):
            raise BadInputError(f"Catalog component {cid!r} has no files.")
        files = tuple(_parse_file(f, f"component {cid}") for f in raw["files"])
        model = raw.get("model", default_model)
        if model not in ARCHITECTURES:
            raise BadInputError(f"Catalog component {cid!r} belongs to an unknown model {model!r}.")
        components[cid] = Component(cid, str(raw.get("title", cid)), str(raw.get("kind", "")), files,
                                    raw.get("form"), str(raw.get("licence", "")), bool(raw.get("optional", False)),
                                    str(raw.get("title_zh", "")), str(model))
    sets: dict[str, tuple[str, ...]] = {}
    for name, ids in raw_sets.items():
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise BadInputError(f"Catalog set {name!r} must be a list of component names.")
        missing = [i for i in ids if i not in components]
        if missing:
            raise BadInputError(f"Catalog set {name!r} names unknown components: {', '.join(missing)}.")
        sets[name] = tuple(ids)
    dests = [f.dest for c in components.values() for f in c.files]
    if len(dests) != len(set(dests)):
        raise BadInputError("Two catalog files land on the same path.")
    return Catalog(components, sets, str(data.get("name", "")), origin)


def load_catalog(path: Path | None = None) -> Catalog:
    if path is None:
        text = (resources.files("zimage_desktop.resources") / "catalog.json").read_text(encoding="utf-8")
        origin = "built-in catalog"
    else:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise BadInputError(f"Cannot read the catalog {path}: {exc.strerror}.") from None
        except UnicodeDecodeError:
            raise BadInputError(f"The catalog {path} is not UTF-8 text.") from None
        origin = str(path)
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise BadInputError(f"{origin} is not valid JSON ({exc}).") from None
    return parse_catalog(data, origin)

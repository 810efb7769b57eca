"""The model catalog: which files make each component, where they come from, how big they are.

The data lives in ``resources/catalog.json`` (schema in docs/CATALOG.md); ``--catalog FILE``
loads another file of the same schema. Loading validates it: a catalog can never name a
destination outside the models folder.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from ..engine.architectures import ARCHITECTURES, DEFAULT
from ..errors import BadInputError
from ..messages import msg
from ..model_folders import catalog_roots
from ..resource_root import resource

SOURCE_KINDS = ("hf", "modelscope")
ALLOWED_ROOTS = catalog_roots()


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
                    raise BadInputError(msg("catalog.unknown_model_set_component", "Unknown model set or component "
                                            "{name!r}; known: {known}.",
                                            name=name, known=known))
                if self.components[cid] not in out:
                    out.append(self.components[cid])
        return out


def safe_dest(dest: str) -> str:
    """Refuse any destination that could land outside the models folder."""
    if not isinstance(dest, str) or not dest or "\\" in dest or "\x00" in dest:
        raise BadInputError(msg("catalog.catalog_path_plain_relative", "Catalog path {dest!r} is not a plain relative path.",
                                dest=dest))
    path = PurePosixPath(dest)
    if path.is_absolute() or ".." in path.parts or dest.startswith("~") or ":" in path.parts[0]:
        raise BadInputError(msg("catalog.catalog_path_would_land", "Catalog path {dest!r} would land outside the models "
                                "folder.", dest=dest))
    if path.parts[0] not in ALLOWED_ROOTS:
        raise BadInputError(msg("catalog.catalog_path_inside_one", "Catalog path {dest!r} is not inside one of the model "
                                "folders ({names}).",
                                dest=dest, names=', '.join(ALLOWED_ROOTS)))
    return str(path)


def _parse_file(raw: dict, where: str) -> CatalogFile:
    if not isinstance(raw, dict):
        raise BadInputError(msg("catalog.file_entry_must_object", "{where}: a file entry must be an object.",
                                where=where))
    size = raw.get("size")
    sha = raw.get("sha256")
    estimate = raw.get("size_estimate")
    for value in (size, estimate):
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
            raise BadInputError(msg("catalog.size_must_whole_number", "{where}: size must be a whole number of bytes.",
                                    where=where))
    if sha is not None and (not isinstance(sha, str) or len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha)):
        raise BadInputError(msg("catalog.sha_must_lowercase_hex", "{where}: sha256 must be 64 lowercase hex digits.",
                                where=where))
    sources = []
    raw_sources = raw.get("sources") or {}
    if not isinstance(raw_sources, dict):
        raise BadInputError(msg("catalog.sources_must_object", "{where}: sources must be an object.", where=where))
    for kind, loc in raw_sources.items():
        if kind not in SOURCE_KINDS or not isinstance(loc, dict):
            raise BadInputError(msg("catalog.unknown_source", "{where}: unknown source {kind!r}.",
                                    where=where, kind=kind))
        repo = loc.get("repo") or loc.get("model")
        path = loc.get("path")
        if not isinstance(repo, str) or not isinstance(path, str) or ".." in PurePosixPath(path).parts:
            raise BadInputError(msg("catalog.source_needs_repo_relative", "{where}: source {kind} needs a repo and a "
                                    "relative path.", where=where, kind=kind))
        revision = str(loc.get("revision") or ("master" if kind == "modelscope" else "main"))
        sources.append(SourceLocation(kind, repo, path, revision))
    if not sources:
        raise BadInputError(msg("catalog.source", "{where}: no source.", where=where))
    return CatalogFile(safe_dest(raw.get("dest", "")), size, sha, tuple(sources), estimate)


THE_CATALOG = msg("catalog.the_catalog", "The catalog")


def parse_catalog(data: dict, origin: str = "") -> Catalog:
    if not isinstance(data, dict) or data.get("schema") != 1:
        raise BadInputError(msg("catalog.schema_model_catalog", "{origin} is not a schema-1 model catalog.",
                                origin=origin or THE_CATALOG))
    components: dict[str, Component] = {}
    raw_components, raw_sets = data.get("components") or {}, data.get("sets") or {}
    default_model = data.get("model", DEFAULT.id)  # components may name another
    if not isinstance(raw_components, dict) or not isinstance(raw_sets, dict):
        raise BadInputError(msg("catalog.components_sets_must_objects", "{origin}: components and sets must be objects.",
                                origin=origin or THE_CATALOG))
    for cid, raw in raw_components.items():
        if not isinstance(raw, dict) or not raw.get("files") or not isinstance(raw["files"], list):
            raise BadInputError(msg("catalog.catalog_component_files", "Catalog component {cid!r} has no files.",
                                    cid=cid))
        files = tuple(_parse_file(f, f"component {cid}") for f in raw["files"])
        model = raw.get("model", default_model)
        if model not in ARCHITECTURES:
            raise BadInputError(msg("catalog.catalog_component_belongs_unknown", "Catalog component {cid!r} belongs to an "
                                    "unknown model {model!r}.",
                                    cid=cid, model=model))
        components[cid] = Component(cid, str(raw.get("title", cid)), str(raw.get("kind", "")), files,
                                    raw.get("form"), str(raw.get("licence", "")), bool(raw.get("optional", False)),
                                    str(raw.get("title_zh", "")), str(model))
    sets: dict[str, tuple[str, ...]] = {}
    for name, ids in raw_sets.items():
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise BadInputError(msg("catalog.catalog_set_must_list", "Catalog set {name!r} must be a list of component names.",
                                    name=name))
        missing = [i for i in ids if i not in components]
        if missing:
            raise BadInputError(msg("catalog.catalog_set_names_unknown", "Catalog set {name!r} names unknown components: "
                                    "{names}.", name=name, names=', '.join(missing)))
        sets[name] = tuple(ids)
    dests = [f.dest for c in components.values() for f in c.files]
    if len(dests) != len(set(dests)):
        raise BadInputError(msg("catalog.two_catalog_files_land", "Two catalog files land on the same path."))
    return Catalog(components, sets, str(data.get("name", "")), origin)


def load_catalog(path: Path | None = None) -> Catalog:
    if path is None:
        text = resource("catalog.json").read_text(encoding="utf-8")
        origin: str = msg("catalog.builtin", "built-in catalog")
    else:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise BadInputError(msg("catalog.cannot_read_catalog", "Cannot read the catalog {path}: {strerror}.",
                                    path=path, strerror=exc.strerror)) from None
        except UnicodeDecodeError:
            raise BadInputError(msg("catalog.catalog_utf_text", "The catalog {path} is not UTF-8 text.", path=path)) from None
        origin = str(path)
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise BadInputError(msg("catalog.valid_json", "{origin} is not valid JSON ({exc}).", origin=origin, exc=exc)) from None
    return parse_catalog(data, origin)

"""Poster templates: the bilingual built-in ones (resources/poster_templates) and the user's own."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import BadInputError
from ..messages import msg
from ..fsutil import atomic_open
from ..resource_root import resource
from .compose import PosterSpec


@dataclass(frozen=True)
class PosterTemplate:
    id: str
    names: dict[str, str]
    specs: dict[str, PosterSpec]  # by language: "zh", "en"
    builtin: bool = True

    def name(self, language: str) -> str:
        lang = "zh" if language.startswith("zh") else "en"
        return self.names.get(lang) or next(iter(self.names.values()))

    def spec(self, language: str) -> PosterSpec:
        lang = "zh" if language.startswith("zh") else "en"
        return self.specs.get(lang) or next(iter(self.specs.values()))

    def to_dict(self) -> dict:
        return {"schema": 1, "id": self.id, "name": self.names,
                "fields": {lang: spec.to_dict() for lang, spec in self.specs.items()}}


def parse_template(data: dict, builtin: bool) -> PosterTemplate:
    if not isinstance(data, dict) or data.get("schema") != 1 or not isinstance(data.get("fields"), dict):
        raise BadInputError(msg("templates.poster_template_schema", "Not a poster template (schema 1)."))
    specs = {lang: PosterSpec.from_dict(fields) for lang, fields in data["fields"].items() if isinstance(fields, dict)}
    names = {k: str(v) for k, v in (data.get("name") or {}).items()}
    if not specs:
        raise BadInputError(msg("templates.poster_template_fields", "The poster template has no fields."))
    return PosterTemplate(str(data.get("id", "")), names or {"en": str(data.get("id", ""))}, specs, builtin)


def builtin_templates() -> list[PosterTemplate]:
    folder = resource("poster_templates")
    out = [parse_template(json.loads(f.read_text(encoding="utf-8")), True)
           for f in sorted(folder.iterdir(), key=lambda f: f.name) if f.name.endswith(".json")]
    return out


def user_templates(folder: Path) -> list[PosterTemplate]:
    out = []
    for path in sorted(Path(folder).glob("*.json")):
        try:
            out.append(parse_template(json.loads(path.read_text(encoding="utf-8")), False))
        except (OSError, ValueError, BadInputError):
            continue  # a broken user file must not hide the others
    return out


def save_user_template(folder: Path, name: str, spec: PosterSpec) -> PosterTemplate:
    slug = re.sub(r"[^\w-]+", "_", name.strip(), flags=re.UNICODE).strip("_") or "template"
    lang = "zh" if spec.language.startswith("zh") else "en"
    template = PosterTemplate(f"user_{slug}", {lang: name.strip()}, {lang: spec}, builtin=False)
    with atomic_open(Path(folder) / f"{template.id}.json", "w", encoding="utf-8") as fh:
        json.dump(template.to_dict(), fh, ensure_ascii=False, indent=1)
    return template

"""The ``loras/`` folder: which LoRA files there are, what their metadata says (trigger words, the
model they are for), their preview pictures, A1111's ``<lora:name:strength>`` prompt tags, and
finding a LoRA by name or by its AutoV2 hash. Headers only; no torch.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ModelFilesError
from ..messages import msg
from .request_inputs import LORA_STRENGTH_LIMIT, LoraRef
from .lycoris import loha_call_bytes
from .lora_weights import LORA_SUFFIXES, has_lora_tensors, other_model, read_lora_header
from .tensor_index import read_safetensors_index
from ..model_folders import LORAS

LORA_DIR = LORAS
# The Civitai helpers' conventions for the picture beside a LoRA, best first.
PREVIEW_SUFFIXES = (".preview.png", ".preview.jpg", ".preview.jpeg", ".preview.webp", ".png", ".jpg", ".jpeg",
                    ".webp")
MAX_TRIGGER_WORDS = 12
# A1111's tag: <lora:name:0.8>, the strength optional (1); a third field (A1111's text-encoder
# strength for the model-only form) is ignored.
LORA_TAG = re.compile(r"<lora:([^:<>\n]+?)(?::([^:<>\n]*))?(?::[^<>\n]*)?>", re.IGNORECASE)


@dataclass(frozen=True)
class LoraFile:
    """One LoRA in the folder, from its header and the files beside it."""

    name: str  # file name without the extension: what requests and <lora:…> tags say
    path: Path
    relative: str  # the path inside loras/, as ComfyUI's LoraLoader names it ("style/x.safetensors")
    size: int
    trigger_words: tuple[str, ...] = ()
    preview: Path | None = None
    base_model: str = ""
    problem: str = ""  # why it cannot be used (read from the header), "" when it looks fine
    metadata: dict[str, str] = field(default_factory=dict, compare=False, repr=False)


def trigger_words(metadata: dict[str, str], sidecar: dict[str, Any] | None = None) -> tuple[str, ...]:
    """Words a LoRA was trained with: trained words (Civitai's sidecar, ai-toolkit, modelspec),
    then the most frequent tags of kohya's ``ss_tag_frequency``."""
    words: list[str] = []

    def add(value: Any) -> None:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                try:
                    add(json.loads(text))
                    return
                except ValueError:
                    pass
            for word in text.split(","):
                if word.strip() and word.strip() not in words:
                    words.append(word.strip())
        elif isinstance(value, list):
            for item in value:
                add(item)

    if sidecar:
        add(sidecar.get("trainedWords"))
    for key in ("modelspec.trigger_phrase", "ss_trained_words", "trained_words", "trigger_words", "trigger_word"):
        add(metadata.get(key))
    try:
        frequency = json.loads(metadata.get("ss_tag_frequency") or "{}")
    except ValueError:
        frequency = {}
    counts: dict[str, int] = {}
    if isinstance(frequency, dict):
        for tags in frequency.values():
            if isinstance(tags, dict):
                for tag, count in tags.items():
                    if isinstance(count, int) and isinstance(tag, str) and tag.strip():
                        counts[tag.strip()] = counts.get(tag.strip(), 0) + count
    for tag in sorted(counts, key=lambda t: (-counts[t], t)):
        if len(words) >= MAX_TRIGGER_WORDS:
            break
        if tag not in words:
            words.append(tag)
    return tuple(words[:MAX_TRIGGER_WORDS])


def preview_for(path: Path) -> Path | None:
    base = path.with_suffix("")
    for suffix in PREVIEW_SUFFIXES:
        candidate = base.parent / (base.name + suffix)
        if candidate.is_file():
            return candidate
    return None


def _sidecar(path: Path) -> dict[str, Any] | None:
    info = path.with_suffix(".civitai.info")
    try:
        data = json.loads(info.read_text(encoding="utf-8")) if info.is_file() and info.stat().st_size < 4_000_000 \
            else None
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def describe(path: Path, root: Path) -> LoraFile:
    """A LoraFile from the header (a damaged file is listed with its problem, not dropped)."""
    relative = path.relative_to(root).as_posix()
    try:
        size = path.stat().st_size
    except OSError:
        size = 0
    try:
        header = read_lora_header(path)
    except ModelFilesError as exc:
        return LoraFile(path.stem, path, relative, size, preview=preview_for(path), problem=str(exc))
    meta = header.metadata
    other = other_model(list(header.shapes), meta)
    base = meta.get("modelspec.architecture") or meta.get("ss_base_model_version") or ""
    problem = msg("lora.other_model", "{name} is a LoRA for {model}, not for Z-Image; it cannot be used with this "
                  "model.", name=path.name, model=other) if other else ""
    if not problem and not has_lora_tensors(list(header.shapes)):
        problem = msg("lora.not_a_lora", "{name} holds no LoRA matrices; it is not a LoRA file.", name=path.name)
    return LoraFile(path.stem, path, relative, size, trigger_words(meta, _sidecar(path)), preview_for(path),
                    base, problem, meta)


def scan_loras(models_dir: Path) -> list[LoraFile]:
    """Every LoRA under ``models_dir/loras`` (subfolders too), by name."""
    root = Path(models_dir) / LORA_DIR
    if not root.is_dir():
        return []
    files = sorted((p for p in root.rglob("*") if p.suffix.lower() in LORA_SUFFIXES and p.is_file()),
                   key=lambda p: (p.stem.lower(), p.as_posix()))
    return [describe(p, root) for p in files]


def find_lora(models_dir: Path, name: str) -> Path | None:
    """The file a LoRA name means (case-insensitive where the exact name is not there)."""
    root = Path(models_dir) / LORA_DIR
    if not root.is_dir():
        return None
    candidates = [p for p in root.rglob("*") if p.suffix.lower() in LORA_SUFFIXES and p.is_file()]
    for exact in (True, False):
        for p in sorted(candidates):
            if (p.stem == name) if exact else (p.stem.lower() == name.lower()):
                return p
    return None


def find_lora_by_hash(models_dir: Path, sha256_10: str, hash_cache: Any) -> Path | None:
    """The file whose sha256 starts with these 10 hex digits (hashes only what is not cached)."""
    root = Path(models_dir) / LORA_DIR
    if not root.is_dir():
        return None
    want = sha256_10.lower()
    for p in sorted(root.rglob("*")):
        if p.suffix.lower() in LORA_SUFFIXES and p.is_file() and hash_cache.sha256(p)[:10] == want:
            return p
    return None


def _strength(text: str | None) -> float | None:
    if text is None or not text.strip():
        return 1.0
    try:
        value = float(text)
    except ValueError:
        return None
    return value if abs(value) <= LORA_STRENGTH_LIMIT else None


def prompt_tags(prompt: str) -> tuple[str, list[LoraRef], list[str]]:
    """(the prompt without its ``<lora:…>`` tags, the LoRAs they name, the tags that were not
    understood). The text the encoder sees is the first; the tags stay in the saved prompt."""
    refs: list[LoraRef] = []
    bad: list[str] = []
    for match in LORA_TAG.finditer(prompt):
        strength = _strength(match.group(2))
        name = match.group(1).strip()
        if strength is None or not name or any(c in name for c in "/\\"):
            bad.append(match.group(0))
            continue
        refs = [r for r in refs if r.name != name] + [LoraRef(name, strength)]
    clean = LORA_TAG.sub("", prompt)
    clean = re.sub(r"[ \t]{2,}", " ", clean)
    clean = re.sub(r"\s*,(\s*,)+", ",", clean).strip().strip(",").strip()
    return clean, refs, bad


def requested_loras(prompt: str, loras: tuple[LoraRef, ...]) -> tuple[LoraRef, ...]:
    """The request's LoRAs with the prompt's tags: a tag overrides the list's strength for its name
    (it is what the user typed last), and adds the LoRAs the list does not have."""
    _, tags, _ = prompt_tags(prompt)
    by_tag = {t.name: t for t in tags}
    merged = [LoraRef(r.name, by_tag[r.name].strength, r.sha256_10) if r.name in by_tag else r for r in loras]
    names = {r.name for r in loras}
    return tuple(merged + [t for t in tags if t.name not in names])


def format_tag(ref: LoraRef) -> str:
    return f"<lora:{ref.name}:{ref.strength:g}>"


def resolve_loras(models_dir: Path, prompt: str, loras: tuple[LoraRef, ...], hash_cache: Any
                  ) -> list[tuple[Path, LoraRef]]:
    """The files of a request's LoRAs (its list and its prompt's tags), each with its AutoV2 hash;
    a name not in the folder is found by its hash when the request has one, else refused."""
    _, _, bad = prompt_tags(prompt)
    if bad:
        raise ModelFilesError(msg("lora.bad_tag", "The prompt tag {tag} is not a LoRA tag: write <lora:name:0.8> with "
                                  "a strength from -{limit} to {limit}.", tag=bad[0][:80], limit=LORA_STRENGTH_LIMIT))
    out: list[tuple[Path, LoraRef]] = []
    for ref in requested_loras(prompt, loras):
        path = find_lora(models_dir, ref.name)
        if path is None and ref.sha256_10:
            path = find_lora_by_hash(models_dir, ref.sha256_10, hash_cache)
        if path is None:
            raise ModelFilesError(msg("lora.missing", "The LoRA {name} is not in {folder}; put its .safetensors file "
                                      "there or remove it from the request.", name=ref.name,
                                      folder=Path(models_dir) / LORA_DIR))
        out.append((path, LoraRef(path.stem, ref.strength, hash_cache.sha256(path)[:10])))
    return out


def loras_gib(paths: list[Path]) -> float:
    """What the planner adds for these LoRA files: the files (held once on the CPU, once where they
    compute) and the largest ΔW a LoHa hook builds in one call (``lycoris.loha_call_bytes``; one
    layer at a time, so the largest of the set, not the sum)."""
    files = sum(p.stat().st_size for p in paths if p.is_file())
    transient = 0
    for path in paths:
        try:
            transient = max(transient, loha_call_bytes(read_lora_header(path).shapes))
        except ModelFilesError:  # reading the file for real says what is wrong with it
            continue
    return (files + transient) / 1024**3


# The hooks' copies are made in the layer's compute dtype (lora_patch: ``moved(t, x.dtype)``).
COMPUTE_BYTES = {"bfloat16": 2, "float16": 2, "float32": 4}
SAME_DTYPE = {"bfloat16": "BF16", "float16": "F16", "float32": "F32"}


def lora_copy_gib(paths: list[Path], compute_dtype: str, on_cpu: bool) -> float:
    """What the hooks' copies of these files' matrices hold where the transformer computes: each
    matrix in the compute dtype. On the CPU a matrix already stored in that dtype is not copied
    (``Tensor.to`` returns it), so only the others count there (a bf16 file under float32 compute:
    twice the file)."""
    total = 0
    for path in paths:
        try:
            index = read_safetensors_index(path)
        except ModelFilesError:  # reading the file for real says what is wrong with it
            continue
        for name, shape in index.shapes.items():
            if len(shape) < 2 or (on_cpu and index.dtypes.get(name) == SAME_DTYPE.get(compute_dtype)):
                continue
            count = 1
            for dim in shape:
                count *= dim
            total += count * COMPUTE_BYTES.get(compute_dtype, 4)
    return total / 1024**3


def match_loras(models_dir: Path, loras: tuple[LoraRef, ...], hash_cache: Any
                ) -> tuple[tuple[LoraRef, ...], list[str]]:
    """A recalled request's LoRAs as this folder has them: found by name, else by hash (then under
    the name the file has here); the missing ones are dropped, each named in a note."""
    kept: list[LoraRef] = []
    notes: list[str] = []
    for ref in loras:
        path = find_lora(models_dir, ref.name)
        if path is None and ref.sha256_10:
            path = find_lora_by_hash(models_dir, ref.sha256_10, hash_cache)
        if path is None:
            notes.append(msg("lora.recall_missing", "The LoRA {name}{hash} is not in the loras folder; the image is "
                             "re-made without it.", name=ref.name,
                             hash=f" ({ref.sha256_10})" if ref.sha256_10 else ""))
            continue
        kept.append(LoraRef(path.stem, ref.strength, ref.sha256_10))
    return tuple(kept), notes

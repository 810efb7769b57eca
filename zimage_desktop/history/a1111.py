"""The ``parameters`` chunk: A1111/Forge text, or Fooocus's JSON.

The A1111 text is prompt line(s), optionally "Negative prompt: …" line(s), then one line of
``Key: value`` fields separated by commas, where a value may be a JSON string in double quotes.
It is parsed with ``str.find`` steps that never go back, so the time grows linearly with the text
(a backtracking regex took 25 s on 60 KB).
"""

from __future__ import annotations

from ..messages import msg

import json

from .recall import RecallValues

NEGATIVE = "Negative prompt:"
# A1111 (and us) write these; a last line with fewer is part of the prompt, as in A1111 itself.
MIN_FIELDS = 3
MAX_KEY_CHARS = 64
# A1111 writes a few dozen fields; past this many the line is not A1111's and the rest is ignored,
# which also bounds the work a hostile 1 MB line can cause.
MAX_FIELDS = 256


def parse_fields(line: str) -> dict[str, str]:
    """``Key: value, Key: "quoted, value", …`` → {key: value}; pieces without a key are skipped.

    The text between quotes is split on commas in one C-speed call; a quote right after a key's
    colon starts a JSON string (which may hold commas); any other quote is ordinary text."""
    fields: dict[str, str] = {}
    pos, end, rounds = 0, len(line), 0
    while pos < end and rounds < MAX_FIELDS and len(fields) < MAX_FIELDS:
        rounds += 1
        quote = line.find('"', pos)
        room = MAX_FIELDS - len(fields)
        pieces = line[pos:end if quote < 0 else quote].split(",", room)
        tail = pieces.pop()  # the text after the last comma: the last field, or a key before its quote
        for piece in pieces:
            _add(fields, piece)
        if quote < 0 or len(pieces) >= room:
            if len(pieces) < room:  # else tail is the unsplit rest of an over-long line
                _add(fields, tail)
            break
        key, colon, before = tail.partition(":")
        if colon and not before.strip():
            value, after = _quoted(line, quote)
            _add(fields, key + ":" + value, raw=True)
            comma = line.find(",", after)
        else:
            comma = line.find(",", quote)
            _add(fields, tail + line[quote:end if comma < 0 else comma])
        pos = end if comma < 0 else comma + 1
    return fields


def _add(fields: dict[str, str], piece: str, raw: bool = False) -> None:
    key, colon, value = piece.partition(":")
    key = key.strip()
    if colon and key and len(key) <= MAX_KEY_CHARS and key not in fields:
        fields[key] = value if raw else value.strip()


def _quoted(line: str, opening: int) -> tuple[str, int]:
    """The JSON string starting at ``opening`` and the index after it (json's scanner is linear).
    A string it refuses (unterminated, a bad escape) runs to the next '",' or the line's last quote."""
    try:
        value, after = _JSON.raw_decode(line, opening)
        if isinstance(value, str):
            return value, after
    except ValueError:
        pass
    close = line.find('",', opening + 1)
    if close < 0:
        close = line.rfind('"', opening + 1)
    if close < 0:
        return line[opening + 1:], len(line)
    return line[opening + 1:close], close + 1


_JSON = json.JSONDecoder(strict=False)  # tabs and other control characters as they are


def parse_a1111(text: str) -> RecallValues | None:
    """Prompt, seed, steps, size, sampler and schedule from A1111's text; None when no prompt."""
    lines = text.strip().replace("\r\n", "\n").split("\n")
    fields = parse_fields(lines[-1]) if "Steps:" in lines[-1] else {}
    if len(fields) >= MIN_FIELDS:
        lines = lines[:-1]
    else:
        fields = {}
    found = RecallValues("a1111")
    prompt_lines: list[str] = []
    negative_lines: list[str] | None = None
    for line in lines:
        if negative_lines is None and line.startswith(NEGATIVE):
            negative_lines = [line[len(NEGATIVE):]]
        elif negative_lines is not None:
            negative_lines.append(line)
        else:
            prompt_lines.append(line)
    found.prompt = "\n".join(prompt_lines).strip()
    if negative_lines is not None:
        found.negative_prompt = "\n".join(negative_lines).strip()
    if not found.prompt:
        return None
    _take_loras(found, fields.get("Lora hashes", ""))
    if not fields:
        found.notes.append(msg("a1111.text_parameters_line_only", "The text has no parameters line; only the prompt was "
                               "taken."))
    elif len(fields) >= MAX_FIELDS:
        found.notes.append(msg("a1111.parameters_line_more_than", "The parameters line has more than {MAX_FIELDS} fields; "
                               "the rest were ignored.", MAX_FIELDS=MAX_FIELDS))
    found.seed = fields.get("Seed")
    found.steps = fields.get("Steps")
    size = fields.get("Size", "")
    width, sep, height = size.lower().partition("x")
    if sep:
        found.width, found.height = width.strip(), height.strip()
    elif size:
        found.notes.append(msg("a1111.size_could_read", "The size {size!r} could not be read.", size=size))
    found.sampler = fields.get("Sampler")
    found.scheduler = fields.get("Schedule type")
    found.model = fields.get("Model")
    found.cfg = fields.get("CFG scale")
    if "Denoising strength" in fields:
        found.strength = fields["Denoising strength"]
        found.edit_mode = "inpaint" if "Mask blur" in fields else "img2img"
        found.notes.append(msg("a1111.image_was_made_from", "The image was made from another image (denoising strength "
                               "{fields}); it is re-made from noise here.",
                               fields=fields['Denoising strength']))
    return found


def _take_loras(found: RecallValues, hashes_field: str) -> None:
    """``<lora:name:0.8>`` tags leave the prompt for the request's LoRA list, each with its hash
    from ``Lora hashes: "name: 0123456789, …"``."""
    from ..engine.loras import prompt_tags

    assert found.prompt is not None
    clean, refs, _ = prompt_tags(found.prompt)
    if not refs:
        return
    hashes: dict[str, str] = {}
    for part in hashes_field.split(","):
        name, colon, value = part.partition(":")
        if colon and name.strip():
            hashes[name.strip()] = value.strip()
    found.prompt = clean or found.prompt
    found.loras = [(ref.name, ref.strength, hashes.get(ref.name)) for ref in refs]


def parse_fooocus(text: str) -> RecallValues | None:
    """Fooocus writes ``parameters`` as JSON: prompt, seed (often as text), steps, resolution."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("prompt"), str):
        return None
    found = RecallValues("fooocus", prompt=data["prompt"], seed=data.get("seed"), steps=data.get("steps"))
    if isinstance(data.get("negative_prompt"), str):
        found.negative_prompt = data["negative_prompt"]
    if data.get("styles") not in (None, "", "[]", []):
        found.notes.append(msg("a1111.fooocus_styles_were_applied", "Fooocus styles {styles} were not applied; the prompt is "
                               "the one typed.", styles=data['styles']))
    resolution = data.get("resolution")
    if isinstance(resolution, str):  # "(1024, 1024)": width, height
        parts = resolution.strip("()[] ").split(",")
        if len(parts) == 2:
            found.width, found.height = parts[0].strip(), parts[1].strip()
    elif isinstance(resolution, list) and len(resolution) == 2:
        found.width, found.height = resolution
    found.sampler = data.get("sampler") if isinstance(data.get("sampler"), str) else None
    found.scheduler = data.get("scheduler") if isinstance(data.get("scheduler"), str) else None
    found.model = data.get("base_model") if isinstance(data.get("base_model"), str) else None
    found.cfg = data.get("guidance_scale")  # Fooocus counts it as A1111 does
    return found

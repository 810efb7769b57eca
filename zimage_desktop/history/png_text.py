"""The text chunks of a PNG (tEXt, zTXt, iTXt), wherever they are in the file, read with bounds.

Writers put parameters before the image data, but some (and re-saving tools) put them after IDAT,
where Pillow's ``info`` does not look. This walks the chunk list and seeks past every other chunk,
so the pixels are never read or decoded, and it bounds what a hostile file can make us hold:
each text at most ``max_chars`` characters, compressed text inflated to at most that many bytes
(times four for UTF-8), a limited number of text chunks.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from ..errors import BadInputError
from ..messages import msg

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TEXT_TYPES = (b"tEXt", b"zTXt", b"iTXt")
MAX_TEXT_CHUNKS = 64
# A text chunk longer than this on disk is skipped without being read (1 M characters of UTF-8
# take at most 4 MB; compressed they are smaller).
MAX_CHUNK_BYTES = 4_000_000


@dataclass
class PngText:
    texts: dict[str, str] = field(default_factory=dict)
    size: tuple[int, int] | None = None  # (width, height) from IHDR
    oversized: list[str] = field(default_factory=list)  # keywords whose text exceeded the bounds


def read_png_text(path: Path, max_chars: int) -> PngText:
    try:
        with open(path, "rb") as fh:
            return _read(fh, max_chars)
    except OSError as exc:
        raise BadInputError(msg("png_text.cannot_read", "{name} cannot be read ({reason}).",
                                name=Path(path).name, reason=exc.strerror or exc)) from None
    except _NotPng as exc:
        raise BadInputError(msg("png_text.readable_png_image", "{name} is not a readable PNG image ({exc}).",
                                name=Path(path).name, exc=exc.args[0])) from None


class _NotPng(Exception):
    pass


def _read(fh: BinaryIO, max_chars: int) -> PngText:
    if fh.read(8) != PNG_SIGNATURE:
        raise _NotPng(msg("png_text.no_signature", "no PNG signature"))
    found = PngText()
    text_chunks = 0
    while True:
        header = fh.read(8)
        if len(header) < 8:
            break  # truncated after the last complete chunk: keep what was read
        length, kind = struct.unpack(">I4s", header)
        if kind == b"IHDR":
            data = fh.read(length) if length == 13 else b""
            if len(data) != 13:
                raise _NotPng(msg("png_text.damaged_header", "damaged image header"))
            found.size = struct.unpack(">II", data[:8])
            fh.seek(4, 1)
            continue
        if kind == b"IEND":
            break
        if kind not in TEXT_TYPES:
            fh.seek(length + 4, 1)  # data and CRC, unread
            continue
        text_chunks += 1
        if text_chunks > MAX_TEXT_CHUNKS:
            break
        if length > MAX_CHUNK_BYTES:
            keyword = fh.read(80).split(b"\0", 1)[0].decode("latin-1", "replace")
            found.oversized.append(keyword)
            fh.seek(length - min(length, 80) + 4, 1)
            continue
        data = fh.read(length)
        fh.seek(4, 1)
        if len(data) < length:
            break
        parsed = _parse_text(kind, data, max_chars)
        if parsed is None:
            continue
        keyword, text = parsed
        if text is None:
            found.oversized.append(keyword)
        elif keyword not in found.texts:  # the first chunk of a keyword wins, as in Pillow
            found.texts[keyword] = text
    if found.size is None:
        raise _NotPng(msg("png_text.no_header", "no image header"))
    return found


def _inflate(data: bytes, limit: int) -> bytes | None:
    """Decompressed bytes, or None when they would exceed ``limit`` (a decompression bomb)."""
    out = zlib.decompressobj().decompress(data, limit + 1)  # zlib.error for corrupt data
    return None if len(out) > limit else out


def _parse_text(kind: bytes, data: bytes, max_chars: int) -> tuple[str, str | None] | None:
    """(keyword, text); text None when over the bounds; None for a malformed chunk."""
    keyword_bytes, sep, rest = data.partition(b"\0")
    if not sep or not keyword_bytes:
        return None
    keyword = keyword_bytes.decode("latin-1")
    if kind == b"tEXt":
        raw: bytes | None = rest
        encoding = "latin-1"
    elif kind == b"zTXt":
        if not rest or rest[0] != 0:
            return None
        try:
            raw = _inflate(rest[1:], max_chars)
        except zlib.error:
            return None
        encoding = "latin-1"
    else:  # iTXt: compression flag, method, language\0, translated keyword\0, UTF-8 text
        if len(rest) < 2:
            return None
        compressed, method = rest[0], rest[1]
        fields = rest[2:].split(b"\0", 2)
        if len(fields) < 3:
            return None
        raw = fields[2]
        if compressed:
            if method != 0:
                return None
            try:
                raw = _inflate(raw, 4 * max_chars)
            except zlib.error:
                return None
        encoding = "utf-8"
    if raw is None:
        return keyword, None
    if encoding == "latin-1":
        # The PNG standard says Latin-1, but many tools write UTF-8 into tEXt/zTXt: text that is
        # valid UTF-8 is read as UTF-8 (Latin-1 prose is almost never valid UTF-8), else Latin-1.
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("latin-1")
    else:
        text = raw.decode(encoding, "replace")
    return (keyword, None) if len(text) > max_chars else (keyword, text)

"""Text from outside (an imported PNG's prompt, a file name) made safe to print on a terminal.

A prompt is data: printed raw, ``\\x1b[2J`` clears the screen, an OSC sequence retitles the window
or writes to the clipboard, a right-to-left override reverses what follows, NUL truncates. Such
characters are shown as visible escapes (``\\x1b``, ``\\u202e``); tabs, new lines and every
printable character of any script are left as they are.
"""

from __future__ import annotations

import re

# C0 controls but tab and new line, DEL and the C1 controls (0x9b is a one-byte CSI), the bidi
# embeddings, overrides, isolates and marks, and the line/paragraph separators.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str) -> str:
    """``text`` with every terminal-control or direction-changing character shown as an escape."""
    return _UNSAFE.sub(_escape, text)


def json_safe(line: str) -> str:
    """A JSON text whose strings may hold such characters (``json.dumps`` keeps DEL, C1 and bidi
    marks raw with ``ensure_ascii=False``) with each written as a ``\\uXXXX`` escape: the same JSON."""
    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", line)

"""A quick estimate of Qwen3 token counts, for warnings before the exact count is known."""

from __future__ import annotations

import re

TOKEN_LIMIT = 512
_CJK = re.compile(r"[\u3000-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]")


def estimate_tokens(text: str) -> int:
    """About one token per CJK character and per ~4 bytes of other text, plus ~10 for the chat
    template."""
    cjk = len(_CJK.findall(text))
    rest = len(_CJK.sub("", text).encode("utf-8"))
    return cjk + (rest + 3) // 4 + 10 if text.strip() else 0

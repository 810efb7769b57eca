"""Exact token counts of a prompt as the engine encodes it, from the tokenizer in the models folder.

Only the ``tokenizers`` library is needed (no torch, no transformers): it reads Qwen's
``tokenizer.json`` in a fraction of a second and counts a long prompt in well under a millisecond,
so a view can count on every keystroke once it has loaded one.
"""

from __future__ import annotations

from pathlib import Path

from .model_files import CONFIG_NAME
from ..model_folders import tokenizer_dir

# What Qwen3's chat template makes of one user message with a generation prompt and thinking
# enabled: what ``PromptEncoder.chat_text`` feeds the tokenizer (tests compare the two counts).
CHAT_PREFIX = "<|im_start|>user\n"
CHAT_SUFFIX = "<|im_end|>\n<|im_start|>assistant\n"


def find_tokenizer_file(models_dir: Path) -> Path | None:
    """``tokenizer.json`` of a ComfyUI-style folder's configs or of a diffusers pipeline folder."""
    models_dir = Path(models_dir)
    for folder in (tokenizer_dir(models_dir, CONFIG_NAME), models_dir / "tokenizer"):
        if (folder / "tokenizer.json").is_file():
            return folder / "tokenizer.json"
    return None


class TokenCounter:
    def __init__(self, tokenizer) -> None:
        self.tokenizer = tokenizer  # a tokenizers.Tokenizer

    @classmethod
    def from_file(cls, path: Path) -> "TokenCounter | None":
        """None when the file cannot be read as a tokenizer: callers fall back to an estimate."""
        from tokenizers import Tokenizer

        try:
            return cls(Tokenizer.from_file(str(path)))
        except Exception:  # a damaged or foreign file only costs the exact count
            return None

    def count(self, prompt: str) -> int:
        return len(self.tokenizer.encode(CHAT_PREFIX + prompt + CHAT_SUFFIX).ids)

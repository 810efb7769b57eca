"""Train the test kit's small byte-level BPE (the Qwen2 tokenizer class) on a bilingual corpus.

Without merges every Chinese character costs three tokens and every English letter one, so a
built-in poster template runs past Z-Image's 512 tokens on the tiny models while it fits easily
with the real Qwen tokenizer. A few thousand merges learnt from the app's own Chinese and English
text (the translations, the docs, the enhancer's instructions, the poster vocabulary) plus the
3,500 common characters bring the tiny kit to about one token per character and per short English
word, like the real one. The poster templates themselves are left out of the corpus, so that
``tests/test_poster.py`` checks the tokenizer generalises rather than remembers.

The trained files ship in ``resources/tiny_tokenizer``; re-run after changing the corpus:

    python -m zimage_desktop.devkit.train_tokenizer
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Iterator

from ..resource_root import resource

VOCAB_SIZE = 8192
# Qwen2's pre-tokenizer split (transformers' tokenization_qwen2.PRETOKENIZE_REGEX).
PRETOKENIZE_REGEX = (r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|"""
                     r"""\s*[\r\n]+|\s+(?!\S)|\s+""")


def tokenizer_folder() -> Path:
    return resource("tiny_tokenizer")


def corpus() -> Iterator[str]:
    """Lines of the app's own bilingual text; each common character also alone on a line so it
    becomes one token even where the other texts never use it."""
    package = Path(__file__).resolve().parents[1]
    repo = package.parent
    ts = resource("translations", "zimage_desktop_zh_CN.ts").read_text(encoding="utf-8")
    for match in re.finditer(r"<(source|translation)[^>]*>(.*?)</\1>", ts, re.S):
        yield match.group(2)
    for doc in sorted((repo / "docs").glob("*.md")) + [repo / "README.md"]:
        if doc.is_file():
            yield from doc.read_text(encoding="utf-8").splitlines()
    from ..engine.enhance_prompts import SYSTEM_PROMPTS
    from ..poster.compose import FONTS, LAYOUTS, ROLES, STYLES

    yield from SYSTEM_PROMPTS.values()
    for phrases in (*STYLES.values(), *FONTS.values(), *ROLES.values()):
        yield from phrases
    for zh, en, positions in LAYOUTS.values():
        yield zh
        yield en
        for pair in positions.values():
            yield from pair
    hanzi = resource("poster", "common_hanzi.txt").read_text(encoding="utf-8").strip()
    yield from hanzi


def train(out: Path, vocab_size: int = VOCAB_SIZE) -> None:
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.normalizer = normalizers.NFC()
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(PRETOKENIZE_REGEX), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=1, show_progress=False,
                                  special_tokens=["<|endoftext|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tokenizer.train_from_iterator(corpus(), trainer)
    model = json.loads(tokenizer.to_str())["model"]
    out.mkdir(parents=True, exist_ok=True)
    (out / "vocab.json").write_text(json.dumps(model["vocab"], ensure_ascii=False, indent=0), encoding="utf-8")
    merges = [" ".join(pair) if isinstance(pair, list) else pair for pair in model["merges"]]
    (out / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n", encoding="utf-8")


if __name__ == "__main__":
    train(tokenizer_folder())
    print("wrote", tokenizer_folder())

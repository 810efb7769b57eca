"""What the prompt enhancer asks Qwen3, and how its answer is checked (no torch, no Qt).

Z-Image renders best from a paragraph that says what is where, what it is made of, how it is lit
and in which style, with any words on the image given exactly, in double quotes, with their font,
colour and position. The system prompts ask for that shape in the user's language. Quoted text is
the one thing a rewrite must never touch: it is listed again in the user message, and after the
model answers ``restore_quotes`` puts back any quoted text the rewrite lost or altered.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

SYSTEM_PROMPTS: dict[str, str] = {
    "en": (
        "You expand a short image idea into one detailed prompt for the Z-Image text-to-image model. "
        "Write one paragraph of 60 to 180 words, in English, that describes in this order: the main subject "
        "and what it is doing; the composition, camera angle and where each element sits in the frame (left, "
        "right, centre, foreground, background); materials, textures and colours; the lighting and time of "
        "day; the style or medium (photograph, oil painting, 3D render, flat illustration and so on). "
        "Keep every detail the user gave and never contradict it. "
        "Text on the image: only when the user asked for it, write each text exactly as the user wrote it, "
        "inside double quotes, followed by its font, colour and position. Never translate, correct, shorten "
        "or extend quoted text, and never add any text, caption, logo, signature or watermark that the user "
        "did not ask for. "
        "Reply with the prompt only: no title, no explanation, no list, no quotes around the whole answer."
    ),
    "zh": (
        "你负责把用户简短的画面想法扩写成一段给 Z-Image 文生图模型的详细提示词。"
        "用中文写一段 80 到 250 字的文字，按以下顺序描述：主体是什么、在做什么；构图、镜头角度，以及每个元素在画面中的位置"
        "（左、右、中央、前景、背景）；材质、纹理和颜色；光线和时间；风格或媒介（摄影、油画、三维渲染、扁平插画等）。"
        "保留用户给出的每个细节，不要与之矛盾。"
        "画面中的文字：只有用户要求时才写，每段文字都必须与用户写的一字不差，放在双引号“”内，并说明字体、颜色和位置。"
        "不得翻译、改正、删减或扩充引号中的文字，也不得添加用户没有要求的任何文字、标题、标志、签名或水印。"
        "只输出提示词本身：不要标题，不要解释，不要列表，不要给整段回答加引号。"
    ),
}

# Lines added to the user message when the idea quotes text, and the sentence that puts a lost
# quoted text back after the rewrite ({} is the text).
KEEP_TEXT_NOTE = {
    "en": "Text that must appear on the image exactly as written, in double quotes: {}",
    "zh": "画面中必须一字不差出现的文字（放在双引号内）：{}",
}
RESTORE_SENTENCE = {
    "en": ' The text "{}" appears on the image.',
    "zh": "画面中有文字“{}”。",
}

# Opening and closing marks of quoted text: straight and curly double quotes, CJK corner brackets,
# guillemets. Straight single quotes are left out: they are apostrophes more often than quotes.
_QUOTES = (('"', '"'), ("\u201c", "\u201d"), ("\u300c", "\u300d"), ("\u300e", "\u300f"), ("\u00ab", "\u00bb"))
_QUOTE_RE = re.compile("|".join(f"{re.escape(a)}([^{re.escape(a)}{re.escape(b)}]+){re.escape(b)}"
                                for a, b in _QUOTES))
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_THINK = re.compile(r"<think>.*?(</think>|$)", re.S)
_LABEL = re.compile(r"^\s*(?:\*\*)?(?:enhanced prompt|rewritten prompt|prompt|提示词|扩写后的提示词)(?:\*\*)?\s*[:：]\s*",
                    re.I)


def language_of(text: str) -> str:
    """ "zh" when the idea is written mostly in Chinese (quoted text does not count), else "en"."""
    outside = _QUOTE_RE.sub(" ", text)
    sample = outside if outside.strip() else text
    cjk = len(_CJK.findall(sample))
    latin = len(re.findall(r"[A-Za-z]+", sample))
    return "zh" if cjk and cjk >= latin else "en"


def quoted_spans(text: str) -> list[str]:
    """The quoted texts of ``text`` in order, without their quote marks, each once."""
    found: list[str] = []
    for match in _QUOTE_RE.finditer(text):
        span = next(g for g in match.groups() if g is not None)
        if span.strip() and span not in found:
            found.append(span)
    return found


def build_messages(idea: str, language: str | None = None) -> list[dict[str, str]]:
    """The chat for one enhancement: our system prompt, then the idea (and its quoted texts)."""
    idea = idea.strip()
    lang = language or language_of(idea)
    user = idea
    spans = quoted_spans(idea)
    if spans:
        open_q, close_q = ("“", "”") if lang == "zh" else ('"', '"')
        listed = ("；" if lang == "zh" else "; ").join(f"{open_q}{s}{close_q}" for s in spans)
        user = f"{idea}\n\n{KEEP_TEXT_NOTE[lang].format(listed)}"
    return [{"role": "system", "content": SYSTEM_PROMPTS[lang]}, {"role": "user", "content": user}]


MAX_IDEA_CHARS = 2000  # an idea, not a finished prompt: the answer must still fit Z-Image's 512 tokens
_SLOT = "\ue000zimage-idea\ue001"  # private-use characters: no idea and no template holds them


def chat_parts(tokenizer, idea: str, language: str | None = None) -> tuple[str, str, str]:
    """The chat prompt as (template before the user's words, the user's words, template after):
    the caller tokenizes the middle with special tokens split, so an ``<|im_start|>`` typed into an
    idea stays text and cannot open a turn of its own."""
    messages = build_messages(idea, language)
    user = messages[-1]["content"]
    messages[-1] = {"role": "user", "content": _SLOT}
    text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True,
                                         enable_thinking=False)
    before, _, after = text.partition(_SLOT)
    return before, user, after


def check_idea(idea: str, limit: int) -> str:
    """The idea stripped, or one sentence on why the enhancer cannot take it (before any load)."""
    from ..errors import BadInputError
    from ..messages import msg

    idea = idea.strip()
    if not idea or not any(c.isprintable() and not c.isspace() for c in idea):
        raise BadInputError(msg("enhance.prompt_empty_write_short", "The prompt is empty: write a short idea to enhance."))
    if len(idea) > limit:
        raise BadInputError(msg("enhance.idea_characters_long_enhancer", "The idea is {length} characters long; the "
                                "enhancer takes at most {limit}.", length=len(idea), limit=limit))
    return idea


def chat_prompt(tokenizer, idea: str, language: str | None = None) -> str:
    """The exact text the model continues: the chat template with thinking switched off (Qwen3's
    template then opens the answer with an empty think block, so the model writes the answer)."""
    return tokenizer.apply_chat_template(build_messages(idea, language), tokenize=False,
                                         add_generation_prompt=True, enable_thinking=False)


def clean_answer(text: str) -> str:
    """The answer without think blocks, a leading "Prompt:" label, quotes around all of it, control
    characters or broken UTF-8 (a cut-off answer can end in half a character)."""
    text = "".join(c for c in text if c in "\n\t" or (c != "\ufffd" and unicodedata.category(c) != "Cc"))
    text = _THINK.sub("", text).strip()
    text = _LABEL.sub("", text).strip()
    for a, b in _QUOTES:
        inner = text[len(a):-len(b)] if len(text) > 2 and text.startswith(a) and text.endswith(b) else None
        if inner is not None and a not in inner and b not in inner:
            text = inner.strip()
    return text


@dataclass(frozen=True)
class CheckedAnswer:
    text: str
    restored: tuple[str, ...]  # quoted texts of the idea that the rewrite lost and that were put back


def restore_quotes(idea: str, answer: str, language: str | None = None) -> CheckedAnswer:
    """``answer`` with every quoted text of ``idea`` present verbatim, in quotes: a text the rewrite
    dropped, changed or unquoted is added back in one sentence, so the image shows the words the
    user asked for."""
    lang = language or language_of(idea)
    text = clean_answer(answer)
    # Compared as whole quoted spans: "Fresh Breads" contains "Fresh Bread" but is not it.
    kept = set(quoted_spans(text))
    lost = tuple(span for span in quoted_spans(idea) if span not in kept)
    for span in lost:
        text += RESTORE_SENTENCE[lang].format(span)
    return CheckedAnswer(text.strip(), lost)

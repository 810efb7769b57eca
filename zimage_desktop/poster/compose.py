"""Compose a poster prompt from structured fields, following the Z-Image prompt guidance: every
on-image text copied verbatim inside double quotes with its role, position, size, colour and font
described; an objective description of scene, composition, lighting and materials; no meta tags.
"""

from __future__ import annotations

from ..messages import msg

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from functools import lru_cache
from typing import Any

from ..engine.tokens import TOKEN_LIMIT, estimate_tokens
from ..resource_root import resource

STYLES = {
    "flat": ("扁平插画风格", "a flat vector illustration", "干净的色块与简洁的图形", "clean colour fields and simple shapes"),
    "photo": ("写实摄影风格", "a realistic photograph", "真实的材质与景深", "real materials and depth of field"),
    "3d": ("三维渲染风格", "a 3D render", "光滑的塑料与玻璃质感", "smooth plastic and glass materials"),
    "ink": ("中国水墨风格", "a Chinese ink-wash painting", "宣纸纹理与晕染的墨色", "rice-paper texture and diffused ink"),
    "papercut": ("中国剪纸风格", "Chinese paper-cut art", "层叠的红色剪纸与纸张阴影",
                 "layered red paper cut-outs with paper shadows"),
    "festive": ("喜庆节日风格", "a festive holiday design", "金色装饰、灯笼与烟花", "gold ornaments, lanterns and fireworks"),
    "minimal": ("极简主义风格", "a minimalist design", "大面积留白与细线条", "generous white space and thin lines"),
    "neon": ("赛博霓虹风格", "a cyberpunk neon design", "发光的霓虹灯管与夜色", "glowing neon tubes against the night"),
    "vintage": ("复古印刷风格", "a vintage print", "做旧的纸张与网点印刷质感", "aged paper and halftone printing"),
    "watercolour": ("水彩风格", "a watercolour painting", "通透的水彩笔触", "transparent watercolour strokes"),
}
# per layout: (composition zh, composition en, {role: (position zh, position en)})
LAYOUTS: dict[str, tuple[str, str, dict[str, tuple[str, str]]]] = {
    "headline_top": ("上文下图的版式，文字集中在上方", "text at the top, the image below", {
        "headline": ("顶部居中", "at the top centre"), "subtitle": ("标题下方居中", "centred below the headline"),
        "body": ("画面中部偏下", "in the lower middle"), "cta": ("底部居中", "at the bottom centre"),
        "small_print": ("底部边缘", "along the bottom edge")}),
    "headline_centre": ("文字居中压在画面中央", "text centred over the middle of the image", {
        "headline": ("画面正中央", "in the exact centre"), "subtitle": ("标题正下方", "right below the headline"),
        "body": ("标题下方", "below the headline"), "cta": ("下方居中", "lower centre"),
        "small_print": ("底部边缘", "along the bottom edge")}),
    "headline_bottom": ("上图下文的版式，文字集中在下方", "the image above, text at the bottom", {
        "headline": ("下部三分之一处居中", "centred in the lower third"), "subtitle": ("标题下方", "below the headline"),
        "body": ("底部", "at the bottom"), "cta": ("右下角", "bottom right"),
        "small_print": ("底部边缘", "along the bottom edge")}),
    "left_editorial": ("杂志式左对齐排版，文字在左侧一栏", "an editorial layout with a left-aligned text column", {
        "headline": ("左上方左对齐", "top left, left-aligned"),
        "subtitle": ("标题下方左对齐", "below the headline, left-aligned"),
        "body": ("左侧一栏", "in the left column"), "cta": ("左下方", "bottom left"),
        "small_print": ("左下角", "bottom left corner")}),
    "centred_symmetric": ("左右对称的居中构图", "a centred, symmetric composition", {
        "headline": ("上方居中", "top centre"), "subtitle": ("标题下方居中", "centred below the headline"),
        "body": ("中部居中", "centred in the middle"), "cta": ("下方居中", "lower centre"),
        "small_print": ("底部居中", "bottom centre")}),
    "split_image_text": ("左图右文的分栏构图", "a split layout: image on the left, text on the right", {
        "headline": ("右侧上方", "upper right"), "subtitle": ("右侧标题下方", "right, below the headline"),
        "body": ("右侧中部", "middle right"), "cta": ("右下方", "lower right"),
        "small_print": ("右下角", "bottom right corner")}),
}
FONTS = {
    "heiti": ("粗黑体", "a heavy bold sans-serif (Heiti)"), "songti": ("宋体", "an elegant Song-style serif"),
    "calligraphy": ("毛笔书法字体", "brush calligraphy"), "handwritten": ("手写体", "a handwritten script"),
    "rounded": ("圆体", "a friendly rounded sans-serif"), "serif": ("衬线体", "a classic serif"),
    "sans": ("现代无衬线体", "a modern sans-serif"),
}
ROLES = {  # role: (name zh, name en, size zh, size en)
    "headline": ("主标题", "headline", "超大号", "very large"), "subtitle": ("副标题", "subtitle", "较大号", "large"),
    "body": ("正文", "body text", "中号", "medium-sized"),
    "cta": ("行动号召按钮", "call-to-action button text", "醒目的", "prominent"),
    "small_print": ("底部说明", "small print", "小号", "small"),
}
META_TAGS = re.compile(
    r"\b(8k|4k|hdr|uhd|masterpiece|best quality|high quality|ultra[- ]?detailed|highly detailed|trending on \w+|"
    r"award[- ]winning|octane render)\b|杰作|最佳质量|超高清|高清|超精细", re.IGNORECASE)


@dataclass(frozen=True)
class PosterSpec:
    headline: str = ""
    subtitle: str = ""
    body: tuple[str, ...] = ()
    cta: str = ""
    small_print: str = ""
    scene: str = ""
    style: str = "flat"
    layout: str = "headline_top"
    colours: str = ""
    font: str = "heiti"
    language: str = "zh"  # language of the descriptions; on-image texts stay as typed
    format: str = "poster_3_4"

    def texts(self) -> list[tuple[str, str]]:
        out = [("headline", self.headline), ("subtitle", self.subtitle)]
        out += [("body", line) for line in self.body]
        out += [("cta", self.cta), ("small_print", self.small_print)]
        return [(role, text.strip()) for role, text in out if text and text.strip()]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["body"] = list(self.body)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "PosterSpec":
        known = {f.name for f in fields(cls)} - {"body"}
        values: dict[str, Any] = {k: str(v) for k, v in data.items() if k in known}
        body = data.get("body", ())
        values["body"] = tuple(body.splitlines() if isinstance(body, str) else (str(x) for x in body))
        return cls(**values)


@dataclass(frozen=True)
class ComposedPrompt:
    text: str
    warnings: tuple[str, ...] = field(default_factory=tuple)
    rare_characters: tuple[str, ...] = ()


def quote(text: str) -> str:
    """The text verbatim inside ASCII double quotes; quotes the user typed become “ ” so they
    cannot close ours; line breaks become spaces."""
    text = " ".join(text.split())
    out, opening = [], True
    for ch in text:
        if ch == '"':
            out.append("“" if opening else "”")
            opening = not opening
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


@lru_cache(maxsize=1)
def common_hanzi() -> frozenset[str]:
    text = resource("poster", "common_hanzi.txt").read_text(encoding="utf-8")
    return frozenset(text.strip())


def rare_characters(text: str) -> list[str]:
    common = common_hanzi()
    seen: list[str] = []
    for ch in text:
        if "\u4e00" <= ch <= "\u9fff" and ch not in common and ch not in seen:
            seen.append(ch)
    return seen


def _clean(text: str) -> tuple[str, bool]:
    cleaned = META_TAGS.sub("", text)
    cleaned = re.sub(r"\s*[,，]\s*(?=[,，]|$)", "", cleaned).strip(" ,，")
    return cleaned, cleaned != text.strip()


def compose(spec: PosterSpec, count_tokens: Callable[[str], int] | None = estimate_tokens) -> ComposedPrompt:
    """``count_tokens`` None leaves the token check to the caller (the panel counts exactly, live)."""
    zh = spec.language.startswith("zh")
    style = STYLES.get(spec.style, STYLES["flat"])
    comp_zh, comp_en, positions = LAYOUTS.get(spec.layout, LAYOUTS["headline_top"])
    font = FONTS.get(spec.font, FONTS["heiti"])
    scene, had_meta = _clean(spec.scene)
    colours = spec.colours.strip()
    warnings: list[str] = []
    parts: list[str] = []
    if zh:
        parts.append(f"一张{style[0]}的设计作品。" + (f"画面内容：{scene.rstrip('。')}。" if scene else ""))
        for role, text in spec.texts():
            name, _, size, _ = ROLES[role]
            colour = f"{colours}配色，" if colours and role == "headline" else ""
            parts.append(f"{positions[role][0]}是{size}{name}文字{quote(text)}，{colour}{font[0]}。")
        parts.append(f"{comp_zh}，文字与图像层次分明，留白充足，{style[2]}，光线柔和均匀。"
                     + (f"整体配色以{colours}为主。" if colours else ""))
    else:
        parts.append(f"{style[1].capitalize()}." + (f" The scene: {scene.rstrip('.')}." if scene else ""))
        for role, text in spec.texts():
            _, name, _, size = ROLES[role]
            colour = f" in {colours}" if colours and role == "headline" else ""
            parts.append(f"The {name} {quote(text)} appears {positions[role][1]}, {size}, set in {font[1]}{colour}.")
        parts.append(f"The composition uses {comp_en}, with a clear hierarchy between text and image and generous "
                     f"margins; {style[3]}; soft, even lighting." + (f" The palette is {colours}." if colours else ""))
    text = "".join(parts) if zh else " ".join(parts)

    if had_meta:
        warnings.append(msg("compose.quality_tags_removed", "Removed quality tags such as “8K” or “masterpiece”: the model "
                            "does better without them."))
    headline = spec.headline.strip()
    if headline and (sum(1 for c in headline if "\u4e00" <= c <= "\u9fff") > 12 or len(headline.split()) > 8):
        warnings.append(msg("compose.headline_long", "The headline is long: short headlines render more reliably."))
    for role, line in spec.texts():
        if len(line) > 30:
            warnings.append(msg("compose.line_long", "The line “{start}…” is long: split it into shorter lines.",
                                start=line[:12]))
    rare = rare_characters("".join(t for _, t in spec.texts()))
    if rare:
        warnings.append(msg("compose.rare_characters", "Rare characters may render wrongly: {names}", names=''.join(rare)))
    tokens = count_tokens(text) if count_tokens is not None else 0
    if tokens > TOKEN_LIMIT:
        warnings.append(msg("compose.prompt_too_long", "The prompt is about {tokens} tokens; the model reads at most {limit}: "
                            "shorten it.", tokens=tokens, limit=TOKEN_LIMIT))
    return ComposedPrompt(text, tuple(warnings), tuple(rare))

"""The enhancer's chat: our system prompts, the user's quoted text kept verbatim, answers checked."""

from __future__ import annotations

from zimage_desktop.devkit.tiny import make_tokenizer
from zimage_desktop.engine.enhance_prompts import (
    SYSTEM_PROMPTS, build_messages, chat_prompt, clean_answer, language_of, quoted_spans, restore_quotes,
)


def test_language_follows_the_idea_not_its_quoted_text():
    assert language_of("一只猫在窗台上") == "zh"
    assert language_of("a cat on a windowsill") == "en"
    assert language_of('a poster that says “新春特惠”') == "en"
    assert language_of("海报，标题“SALE”") == "zh"


def test_quoted_spans_in_every_quote_style():
    text = 'sign "OPEN 24h", banner “新春特惠”, label 「限定」, tag «Été» and "OPEN 24h" again; don\'t split'
    assert quoted_spans(text) == ["OPEN 24h", "新春特惠", "限定", "Été"]


def test_messages_use_our_system_prompt_in_the_users_language():
    en = build_messages("a red fox in the snow")
    zh = build_messages("雪地里的红狐狸")
    assert en[0] == {"role": "system", "content": SYSTEM_PROMPTS["en"]}
    assert zh[0] == {"role": "system", "content": SYSTEM_PROMPTS["zh"]}
    assert en[1] == {"role": "user", "content": "a red fox in the snow"}
    for prompt in SYSTEM_PROMPTS.values():  # the shape Z-Image renders best, asked for in both
        assert "Z-Image" in prompt
    assert all(word in SYSTEM_PROMPTS["en"] for word in ("composition", "lighting", "style", "double quotes",
                                                         "Never translate", "did not ask for"))
    assert all(word in SYSTEM_PROMPTS["zh"] for word in ("构图", "光线", "风格", "双引号", "一字不差", "没有要求"))


def test_quoted_text_is_repeated_verbatim_in_the_user_message():
    idea = '咖啡店海报，标题“新春特惠”，副标题"Buy 1 Get 1"'
    user = build_messages(idea)[1]["content"]
    assert user.startswith(idea)  # the idea itself is passed on unchanged
    assert "“新春特惠”" in user.split("\n\n")[1] and "“Buy 1 Get 1”" in user.split("\n\n")[1]
    english = build_messages('a mug printed with "Don\'t Panic!"')[1]["content"]
    assert english.endswith('"Don\'t Panic!"')


def test_chat_prompt_through_the_tokenizer_template():
    tokenizer = make_tokenizer()
    idea = 'a shop sign that says "OPEN 24h"'
    text = chat_prompt(tokenizer, idea)
    assert text.startswith("<|im_start|>system\n" + SYSTEM_PROMPTS["en"] + "<|im_end|>\n<|im_start|>user\n" + idea)
    # thinking off: the answer starts after an empty think block
    assert text.endswith("<|im_start|>assistant\n<think>\n\n</think>\n\n")
    assert text.count('"OPEN 24h"') == 2


def test_clean_answer():
    assert clean_answer("<think>\nhmm\n</think>\n\nA red fox.") == "A red fox."
    assert clean_answer("Prompt: A red fox.") == "A red fox."
    assert clean_answer("提示词：一只狐狸。") == "一只狐狸。"
    assert clean_answer('"A red fox in the snow."') == "A red fox in the snow."
    assert clean_answer('"OPEN" sign and "CLOSED" sign') == '"OPEN" sign and "CLOSED" sign'
    assert clean_answer("<think>never closed") == ""


def test_restore_quotes_keeps_correct_rewrites_and_repairs_others():
    idea = 'a bakery window with the words "Fresh Bread"'
    good = 'A bakery window at dawn, with the words "Fresh Bread" in gold serif letters across the glass.'
    assert restore_quotes(idea, good).text == good
    assert restore_quotes(idea, good).restored == ()
    changed = 'A bakery window, with "Fresh Breads" painted on it.'
    fixed = restore_quotes(idea, changed)
    assert fixed.restored == ("Fresh Bread",)
    assert fixed.text.endswith('The text "Fresh Bread" appears on the image.')
    zh = restore_quotes("海报，标题“新春特惠”", "一张红色的海报，标题为“春节特惠”。")
    assert zh.text.endswith("画面中有文字“新春特惠”。") and zh.restored == ("新春特惠",)


def test_no_quotes_no_text_added():
    assert restore_quotes("a cat", "A cat on a sofa.").text == "A cat on a sofa."


def test_clean_answer_drops_control_characters_and_broken_bytes():
    assert clean_answer("A fox\x00 in\tthe\nsnow\ufffd") == "A fox in\tthe\nsnow"

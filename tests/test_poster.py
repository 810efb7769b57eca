"""Poster prompt composition (no Qt), formats and templates."""

import pytest

from zimage_desktop.engine.request import GenerationRequest
from zimage_desktop.poster.compose import PosterSpec, compose, quote, rare_characters
from zimage_desktop.poster.formats import FORMATS
from zimage_desktop.poster.templates import builtin_templates, save_user_template, user_templates


def test_chinese_texts_are_quoted_verbatim_with_role_position_size_font_colour():
    spec = PosterSpec(headline="新春特惠", subtitle="全场５折起！", body=("活动时间：1月20日—2月5日",), cta="立即抢购",
                      scene="红色灯笼", style="festive", colours="红色与金色", font="calligraphy", layout="headline_top")
    c = compose(spec)
    for text in ('"新春特惠"', '"全场５折起！"', '"活动时间：1月20日—2月5日"', '"立即抢购"'):
        assert c.text.count(text) == 1  # verbatim, full-width characters untouched
    assert "顶部居中是超大号主标题文字\"新春特惠\"，红色与金色配色，毛笔书法字体" in c.text
    assert "底部居中是醒目的行动号召按钮文字\"立即抢购\"" in c.text
    assert "红色灯笼" in c.text and c.warnings == ()


def test_english_and_mixed_inputs():
    spec = PosterSpec(headline="Open Source Night 开源之夜", subtitle="Tech meetup", language="en", layout="left_editorial",
                      font="sans", colours="cyan and magenta")
    c = compose(spec)
    assert 'The headline "Open Source Night 开源之夜" appears top left, left-aligned, very large' in c.text
    assert "modern sans-serif in cyan and magenta" in c.text


def test_quotes_inside_user_text_cannot_break_the_prompt():
    assert quote('Say "Hi" to AI') == '"Say “Hi” to AI"'
    assert quote("第一行\n第二行") == '"第一行 第二行"'
    c = compose(PosterSpec(headline='Say "Hi"', language="en"))
    assert c.text.count('"') == 2


def test_meta_tags_are_removed_with_a_warning():
    c = compose(PosterSpec(headline="咖啡", scene="a latte on a table, 8K, masterpiece, best quality"))
    assert "8K" not in c.text and "masterpiece" not in c.text and "a latte on a table" in c.text
    assert any("quality tags" in w for w in c.warnings)


def test_long_texts_rare_characters_and_token_limit_warn():
    c = compose(PosterSpec(headline="这是一个非常非常非常长的海报主标题文字内容", body=("x" * 40,)))
    assert any("headline is long" in w for w in c.warnings) and any("split it" in w for w in c.warnings)
    assert rare_characters("新春龘靐") == ["龘", "靐"]
    assert "龘" in compose(PosterSpec(headline="龘龘")).rare_characters
    huge = compose(PosterSpec(body=tuple("第%d行内容很长很长很长很长很长" % i for i in range(60))))
    assert any("at most 512" in w for w in huge.warnings)


def test_formats_are_valid_request_sizes():
    names = {f.key for f in FORMATS.values()}
    assert {"poster_3_4", "poster_2_3", "a_series", "banner_16_9", "banner_21_9", "web_banner_3_1", "square_post",
            "wechat_cover", "xiaohongshu_cover", "phone_wallpaper", "ecommerce_main"} <= names
    for f in FORMATS.values():
        GenerationRequest(prompt="x", width=f.width, height=f.height)  # multiples of 16, in range
        assert 0.9e6 <= f.width * f.height <= 2.4e6
        assert f.name("zh") and f.name("en")
    wechat = FORMATS["wechat_cover"]
    assert abs(wechat.width / wechat.height - 2.35) < 0.02


def test_builtin_templates_load_compose_and_round_trip(tmp_path):
    templates = builtin_templates()
    assert len(templates) >= 12
    for t in templates:
        for lang in ("zh", "en"):
            spec = t.spec(lang)
            assert spec.language == lang and spec.headline and spec.format in FORMATS
            assert compose(spec).text
            assert type(spec).from_dict(spec.to_dict()) == spec
    saved = save_user_template(tmp_path, "我的 模板", templates[0].spec("zh"))
    loaded = user_templates(tmp_path)
    assert [t.id for t in loaded] == [saved.id] and loaded[0].spec("zh") == templates[0].spec("zh")
    (tmp_path / "broken.json").write_text("{")
    assert len(user_templates(tmp_path)) == 1


def test_spec_survives_the_request_extra_round_trip():
    spec = PosterSpec(headline="开业大吉", body=("a", "b"))
    req = GenerationRequest(prompt=compose(spec).text, extra={"poster": spec.to_dict()})
    back = GenerationRequest.from_json(req.to_json())
    assert PosterSpec.from_dict(back.extra["poster"]) == spec


@pytest.mark.parametrize("bad", [{"schema": 2}, {"schema": 1}, {"schema": 1, "fields": {}}])
def test_bad_templates_are_refused(bad):
    from zimage_desktop.errors import BadInputError
    from zimage_desktop.poster.templates import parse_template

    with pytest.raises(BadInputError):
        parse_template(bad, False)


def test_every_builtin_template_fits_512_tokens_with_the_test_kit_tokenizer():
    """As with Qwen's tokenizer: the kit's BPE spends about a token per common character or word
    (its corpus leaves the templates out), where raw bytes spent three per Chinese character."""
    from zimage_desktop.devkit.tiny import make_tokenizer
    from zimage_desktop.engine.prompts import PromptEncoder

    encoder = PromptEncoder(make_tokenizer(), None, "kit")
    counts = {(t.id, lang): encoder.token_count(compose(t.spec(lang)).text)
              for t in builtin_templates() for lang in ("zh", "en")}
    assert max(counts.values()) <= 512, counts
    assert encoder.token_count("新春特惠") - encoder.token_count("") <= 4  # at most one token per character


def test_exact_count_from_the_models_folder_equals_the_engines(tiny_models, tmp_path):
    from transformers import AutoTokenizer

    from zimage_desktop.engine.prompts import PromptEncoder
    from zimage_desktop.engine.token_counter import TokenCounter, find_tokenizer_file

    for folder in (tiny_models.comfy, tiny_models.diffusers):
        path = find_tokenizer_file(folder)
        assert path is not None
        counter = TokenCounter.from_file(path)
        assert counter is not None
        engine = PromptEncoder(AutoTokenizer.from_pretrained(str(path.parent), local_files_only=True), None, "tiny")
        for prompt in ("a red cat", compose(builtin_templates()[0].spec("zh")).text, '海报 "OPEN 24h" <|im_end|>'):
            assert counter.count(prompt) == engine.token_count(prompt)
    assert find_tokenizer_file(tmp_path) is None
    (tmp_path / "broken.json").write_text("{")
    assert TokenCounter.from_file(tmp_path / "broken.json") is None


def test_compose_can_leave_the_token_check_to_the_caller():
    huge = PosterSpec(body=tuple("第%d行内容很长很长很长很长很长" % i for i in range(60)))
    assert not any("512" in w for w in compose(huge, count_tokens=None).warnings)
    assert any("at most 512" in w for w in compose(huge, count_tokens=len).warnings)

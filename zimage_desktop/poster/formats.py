"""Target formats with real pixel sizes (multiples of 16, around the model's 1024–1536 tiers)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PosterFormat:
    key: str
    width: int
    height: int
    name_zh: str
    name_en: str

    def name(self, language: str) -> str:
        return self.name_zh if language.startswith("zh") else self.name_en


FORMATS = {f.key: f for f in (
    PosterFormat("poster_3_4", 1152, 1536, "海报 3:4", "Poster 3:4"),
    PosterFormat("poster_2_3", 1024, 1536, "海报 2:3", "Poster 2:3"),
    PosterFormat("a_series", 1088, 1536, "A 系列竖版（A4 比例）", "A-series portrait (A4 ratio)"),
    PosterFormat("banner_16_9", 1536, 864, "横幅 16:9", "Banner 16:9"),
    PosterFormat("banner_21_9", 1680, 720, "横幅 21:9", "Banner 21:9"),
    PosterFormat("web_banner_3_1", 1728, 576, "网页横幅 3:1", "Web banner 3:1"),
    PosterFormat("square_post", 1024, 1024, "社交方图 1:1", "Square social post 1:1"),
    PosterFormat("wechat_cover", 1504, 640, "公众号封面 2.35:1", "WeChat article cover 2.35:1"),
    PosterFormat("xiaohongshu_cover", 1104, 1472, "小红书封面 3:4", "Xiaohongshu cover 3:4"),
    PosterFormat("phone_wallpaper", 864, 1536, "手机壁纸 9:16", "Phone wallpaper 9:16"),
    PosterFormat("ecommerce_main", 1280, 1280, "电商主图 1:1", "E-commerce main image 1:1"),
)}

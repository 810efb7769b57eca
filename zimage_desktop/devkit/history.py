"""Synthetic history rows for scale tests and benchmarks (one transaction, real schema)."""

from __future__ import annotations

import json
import random
from pathlib import Path

from ..engine.request import GenerationRequest
from ..history.store import HistoryStore

WORDS_EN = "poster cat lighthouse spring sale gold neon city forest river portrait banner coffee tea robot".split()
WORDS_ZH = "海报 新春特惠 橘猫 灯塔 金色 霓虹 城市 森林 河流 人像 横幅 咖啡 茶 机器人 开业大吉 音乐节".split()


def fill_history(store: HistoryStore, count: int, image_path: Path, thumb_path: Path, seed: int = 0) -> None:
    rng = random.Random(seed)
    rows = []
    for i in range(count):
        words = rng.sample(WORDS_EN, 4) + rng.sample(WORDS_ZH, 3)
        rng.shuffle(words)
        prompt = " ".join(words) + f" #{i}"
        request = GenerationRequest(prompt=prompt, seed=i, width=1024, height=1024)
        rows.append((1_700_000_000.0 + i, prompt, request.to_json(), i, 1024, 1024, json.dumps({"name": "synthetic"}),
                     "{}", str(image_path), str(thumb_path)))
    with store.transaction() as conn:
        conn.executemany("INSERT INTO images (created, prompt, request_json, seed, width, height, model_json, "
                         "timings_json, path, thumb_path) VALUES (?,?,?,?,?,?,?,?,?,?)", rows)

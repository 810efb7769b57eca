"""History at 10,000 images: gallery model ready, search (Chinese and English), scrolling memory,
and the cost of saving one image + row (PNG encoding excluded).

Imports: PySide6, PIL, the project. Usage: python bench/history_scale.py [--rows 10000]
Targets: model ready ≤ 0.3 s; search ≤ 50 ms median; RSS growth while scrolling ≤ 150 MB;
save ≤ 50 ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000)
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PIL import Image
    from PySide6.QtWidgets import QApplication

    from zimage_desktop.devkit.history import fill_history
    from zimage_desktop.engine.request import GeneratedImage, GenerationRequest
    from zimage_desktop.history.saving import write_thumbnail
    from zimage_desktop.history.store import HistoryStore
    from zimage_desktop.ui.gallery import GalleryView

    app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        image = Image.effect_noise((1024, 1024), 64).convert("RGB")
        image.save(tmp_path / "img.png")
        write_thumbnail(image, tmp_path / "thumb.jpg")
        db = tmp_path / "history.sqlite3"
        store = HistoryStore(db)
        t = time.perf_counter()
        fill_history(store, args.rows, tmp_path / "img.png", tmp_path / "thumb.jpg")
        fill_s = time.perf_counter() - t
        store.close()

        rss0 = rss_mb()
        t = time.perf_counter()
        store = HistoryStore(db)
        view = GalleryView(store, tmp_path / "trash")
        view.resize(1200, 400)
        view.show()
        app.processEvents()
        ready_s = time.perf_counter() - t

        times: dict[str, list[float]] = {"新春特惠": [], "海报": [], "lighthouse": [], "gold 城市": []}
        for _ in range(7):
            for term in times:
                t = time.perf_counter()
                view.model.reload(term)
                times[term].append((time.perf_counter() - t) * 1000)
        hits = {term: store.count(term) for term in times}
        view.model.reload("")

        bar = view.view.verticalScrollBar()
        rss_before_scroll = rss_mb()
        t = time.perf_counter()
        while view.model.rowCount() < args.rows or bar.value() < bar.maximum():
            bar.setValue(bar.maximum())
            app.processEvents()
            if view.model.canFetchMore():
                view.model.fetchMore()
        view.shutdown()
        app.processEvents()
        scroll_s = time.perf_counter() - t
        rss_growth = rss_mb() - rss_before_scroll

        saves = []
        for i in range(20):
            path = tmp_path / "saves" / f"{i}.png"
            path.parent.mkdir(exist_ok=True)
            image.save(path)  # the PNG itself (excluded from the figure)
            generated = GeneratedImage(GenerationRequest(prompt=f"save {i}", seed=i), image, {}, {})
            t = time.perf_counter()
            thumb = write_thumbnail(generated.image, tmp_path / "thumbs" / f"{i}.jpg")
            store.add(generated.request, path, {}, {}, thumb)
            saves.append((time.perf_counter() - t) * 1000)

    print(f"{args.rows} synthetic rows (inserted in {fill_s:.1f} s); RSS at open {rss0:.0f} MB")
    print(f"gallery model ready (open DB + first page + view shown): {ready_s * 1000:.0f} ms (target <= 300)")
    for term, ms in times.items():
        print(f"search {term!r:14} median {statistics.median(ms):5.1f} ms, {hits[term]} hits (target <= 50)")
    print(f"scrolled through all rows in {scroll_s:.1f} s; thumbnails cached: {len(view.model.cache)}; "
          f"RSS growth {rss_growth:.0f} MB (target <= 150)")
    print(f"save one image (thumbnail + row, PNG encoding excluded): median {statistics.median(saves):.1f} ms (target <= 50)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

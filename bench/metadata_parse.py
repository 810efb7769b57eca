"""Reading A1111 ``parameters`` text: time for 1 MB inputs, including ones that made the old
backtracking regex quadratic, against that regex on a much smaller input.

Imports: the project only. Usage: python bench/metadata_parse.py [--kb 1000] [--old-kb 20]
Target: every 1 MB input parses in under 0.1 s (the bound on a text chunk is 1,000,000 characters).
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# The field regex this app used before (kept here only as the baseline).
OLD_FIELD = re.compile(r'\s*([\w ]+):\s*("(?:\\.|[^\\"])*"|[^,]*)(?:,|$)')


def inputs(chars: int) -> dict[str, str]:
    fields = "Steps: 28, Sampler: Euler, CFG scale: 1, Seed: 123456789012345, Size: 1024x1024"
    words = ("word " * (chars // 5))[:chars]
    return {
        "long prompt, normal fields": ("a panda, " * (chars // 9))[: chars - len(fields) - 1] + "\n" + fields,
        "long fields line": (fields + ", " + ", ".join(f"Key {i}: value {i}" for i in range(chars // 18)))[:chars],
        "words, no colon (old worst case)": words[: chars - 10] + ", Steps: 8",
        "quoted value with escapes": fields + ', Notes: "' + ('\\"a, ' * (chars // 5))[: chars - len(fields) - 12] + '"',
        "unterminated quote with escapes": fields + ', Notes: "' + ('a\\"' * (chars // 3))[: chars - len(fields) - 10],
        "many quoted fields": (fields + ", " + ", ".join(f'Key {i}: "v, {i}"' for i in range(chars // 16)))[:chars],
        "colons without commas": fields + ", " + ("k:" * (chars // 2))[: chars - len(fields) - 2],
    }


def timed(fn, *args) -> float:
    started = time.perf_counter()
    fn(*args)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kb", type=int, default=1000, help="size of each input, in thousands of characters")
    parser.add_argument("--old-kb", type=int, default=20, help="input size for the old regex (it is quadratic)")
    args = parser.parse_args()
    from zimage_desktop.history.a1111 import parse_a1111

    worst = 0.0
    for name, text in inputs(args.kb * 1000).items():
        seconds = min(timed(parse_a1111, text) for _ in range(3))
        worst = max(worst, seconds)
        print(f"{name:36s} {len(text):>9,d} chars  {seconds * 1000:8.1f} ms")
    old_text = inputs(args.old_kb * 1000)["words, no colon (old worst case)"]
    old = timed(lambda: list(OLD_FIELD.finditer(old_text.split("\n")[-1])))
    new = timed(parse_a1111, old_text)
    print(f"old regex on {len(old_text):,d} chars of the worst case: {old * 1000:.0f} ms "
          f"(new parser: {new * 1000:.2f} ms, {old / max(new, 1e-9):,.0f}× faster)")
    print(f"worst {args.kb * 1000:,d}-char parse: {worst * 1000:.1f} ms (target < 100 ms): "
          f"{'ok' if worst < 0.1 else 'SLOW'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

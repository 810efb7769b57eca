"""``zimage-desktop history list|search TEXT|show ID|rerun ID``."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from ..config import Paths, Settings
from ..errors import BadInputError
from ..messages import msg, render
from ..textsafe import json_safe, visible
from .common import open_store


LABEL_WIDTH = 10  # "key" column of ``history show``


def add_parser(sub, common) -> None:
    history = sub.add_parser("history", parents=[common], help="list, search, show or re-run past images")
    hsub = history.add_subparsers(dest="history_command", required=True, parser_class=type(history))
    out = argparse.ArgumentParser(add_help=False)
    out.add_argument("--json", action="store_true", help="one JSON object per line")
    lst = hsub.add_parser("list", parents=[common, out], help="newest first")
    lst.add_argument("--limit", type=int, default=50)
    lst.add_argument("--favourites", action="store_true")
    search = hsub.add_parser("search", parents=[common, out], help="prompts containing all the words (Chinese too)")
    search.add_argument("text")
    search.add_argument("--limit", type=int, default=50)
    show = hsub.add_parser("show", parents=[common, out], help="every parameter of one image")
    show.add_argument("id", type=int)
    imp = hsub.add_parser("import", parents=[common], help="add a folder of PNGs (this app, A1111/Forge, ComfyUI)")
    imp.add_argument("folder")
    hsub.add_parser("check", parents=[common], help="report rows whose image is gone, images with no row, files "
                    "shared by rows and leftover temporary files")
    hsub.add_parser("repair", parents=[common], help="rebuild the history from the images' metadata (the old "
                    "database is kept aside)")
    rerun = hsub.add_parser("rerun", parents=[common], help="make an image again with the same parameters and seed")
    rerun.add_argument("id", type=int)
    rerun.add_argument("--models")
    from .common import device_arg

    rerun.add_argument("--device", type=device_arg, default=None, help="auto, cuda, cuda:N (GPU N), mps or cpu")
    rerun.add_argument("--out")
    rerun.add_argument("--seed", type=int, default=None, help="vary: a different seed (keeps lineage)")


def _repair(paths: Paths) -> int:
    from ..history.repair import quick_check, repair_history

    problem = quick_check(paths.history_db)
    report = repair_history(paths, problem) if problem else repair_history(paths)
    language = Settings.load(paths).shown_language
    for name, why in report.skipped.items():
        print(f"skipped {visible(name)}: {render(why, language)}", file=sys.stderr)
    print(render(report.message(), language))
    return 0


def _warn_skipped(store) -> None:
    for image_id in store.last_skipped:
        print(f"skipped image {image_id}: its stored parameters are damaged", file=sys.stderr)


def _line(record) -> str:
    r = record.request
    created = time.strftime("%Y-%m-%d %H:%M", time.localtime(record.created))
    prompt = visible(r.prompt.replace("\n", " ")[:80])
    return f"{record.id:6d}  {created}  {r.width}x{r.height}  {r.seed:10d}  {prompt}"


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, dict):  # inside a list: one line for the item
        return ", ".join(f"{k} {_value(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        lines = [_value(v) for v in value]
        return "\n".join(lines) if any(isinstance(v, dict) for v in value) else ", ".join(lines)
    return "" if value is None else visible(str(value))


def _field(key: str, value: Any, indent: str = "", width: int = LABEL_WIDTH) -> list[str]:
    """``key  value`` aligned on one column, a multi-line value continued under itself, and a
    nested mapping (the poster's fields, say) as an indented block of its own aligned fields."""
    key = visible(key.replace("_", " "))
    if isinstance(value, dict):
        inner = max((len(k) for k in value), default=0)
        return [f"{indent}{key}"] + [line for k, v in value.items() for line in _field(k, v, indent + "  ", inner)]
    first, *more = _value(value).splitlines() or [""]
    return [f"{indent}{key:{width}} {first}".rstrip()] + [" " * (len(indent) + width + 1) + line for line in more]


def _seconds(timings: dict[str, Any]) -> str:
    """``{"encode_s": 0.12, …}`` as ``encode 0.12 s · …``."""
    return " · ".join(f"{key.removesuffix('_s')} {value:.2f} s" if isinstance(value, (int, float)) else f"{key} {value}"
                      for key, value in timings.items())


def show_lines(record, lineage: list[int]) -> list[str]:
    """``history show``: what a person reads — local time, one parameter a line, no JSON."""
    r = record.request
    lines = _field("image", record.id)
    lines += _field("created", time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(record.created)))
    lines += _field("prompt", r.prompt)
    if r.original_prompt:  # the user's words behind an enhanced prompt
        lines += _field("original", r.original_prompt)
    if r.negative_prompt:
        lines += _field("negative", r.negative_prompt)
    for key, value in (("size", f"{r.width}x{r.height}"), ("seed", r.seed), ("steps", r.steps), ("cfg", r.cfg),
                       ("sampler", r.sampler),
                       ("scheduler", r.scheduler), ("profile", r.profile), ("weights", r.transformer)):
        if value not in (None, ""):
            lines += _field(key, value)
    for key, value in r.extra.items():
        lines += _field(key, value)
    if record.model:
        lines += _field("model", record.model)
    if record.timings:
        lines += _field("timings", _seconds(record.timings))
    lines += _field("favourite", record.favourite)
    if record.tags:
        lines += _field("tags", record.tags)
    lines += _field("lineage", " → ".join(str(i) for i in lineage))
    lines += _field("file", record.path)
    return lines


def run(args) -> int:
    paths = Paths.resolve(args.data_dir)
    if args.history_command == "repair":
        return _repair(paths)
    store = open_store(paths)
    try:
        if args.history_command in ("list", "search"):
            records = (store.page(0, args.limit, favourites=args.favourites) if args.history_command == "list"
                       else store.search(args.text, args.limit))
            for record in records:
                print(json_safe(json.dumps(record.to_dict(), ensure_ascii=False)) if args.json else _line(record))
            _warn_skipped(store)
            return 0
        if args.history_command == "import":
            from ..history.saving import import_images

            added, skipped = import_images(Path(args.folder).expanduser(), paths, store)
            for name, why in skipped.items():
                print(f"skipped {visible(name)}: {render(why, args.language)}", file=sys.stderr)
            print(f"imported {len(added)} images, skipped {len(skipped)}")
            return 0
        if args.history_command == "check":
            from ..history.check import check_history

            report = check_history(store, paths.images, paths.thumbnails)
            for line in report.lines():
                print(line)
            print(report.summary())
            return 0
        record = store.get(args.id)
        if record is None:
            raise BadInputError(msg("cli_history.there_image_history", "There is no image {id} in the history.",
                                    id=args.id))
        if args.history_command == "show":
            if args.json:
                print(json_safe(json.dumps(record.to_dict(), ensure_ascii=False)))
            else:
                print("\n".join(show_lines(record, [r.id for r in store.lineage(record.id)])))
            return 0
        return _rerun(args, paths, store, record)
    finally:
        store.close()


def _rerun(args, paths: Paths, store, record) -> int:
    from .common import output_paths
    from .generate import generate_to_files

    settings = Settings.load(paths)
    from ..history.control_inputs import restore_control_inputs

    request = record.request if args.seed is None else record.request.for_seed(args.seed)
    request = restore_control_inputs(request, paths)  # the stored copy when the user's file is gone
    models_dir = Path(args.models).expanduser() if args.models else settings.models_path(paths)
    targets = output_paths(args.out, request.seeds)
    print(f"re-running image {record.id} (seed {request.seed})", file=sys.stderr)
    return generate_to_files(request, models_dir, targets, paths, args.device or settings.device, None,
                             record_history=True, parent_id=record.id)

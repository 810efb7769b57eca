"""``zimage-desktop models list|plan|download|verify|import``."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from ..config import Paths, Settings
from ..messages import render

GB = 1e9


def add_parser(sub, common) -> None:
    models = sub.add_parser("models", parents=[common], help="list, plan, download, verify or import model files")
    # `models` alone lists, as `models list` does (a newcomer's first try should not be an error)
    msub = models.add_subparsers(dest="models_command", required=False, parser_class=type(models))
    models.add_argument("--models", help="models folder (default: <data dir>/models)")
    models.add_argument("--catalog", help="a catalog file of the same schema as the built-in one")
    shared = argparse.ArgumentParser(add_help=False)
    shared.add_argument("--models", help="models folder (default: <data dir>/models)")
    shared.add_argument("--catalog", help="a catalog file of the same schema as the built-in one")
    msub.add_parser("list", parents=[common, shared], help="model sets and components, and what is installed")
    plan = msub.add_parser("plan", parents=[common, shared], help="what this machine needs and how much to download")
    plan.add_argument("--profile", default=None)
    dl = msub.add_parser("download", parents=[common, shared], help="download model sets or components")
    dl.add_argument("names", nargs="*", help="set (e.g. 6gb) or component ids; default: what `models plan` says")
    dl.add_argument("--profile", default=None, help="plan for this profile when no names are given")
    dl.add_argument("--source", choices=("auto", "hf", "modelscope"), default=None,
                    help="try this source first (auto: the one that answers fastest; default: the settings, auto)")
    dl.add_argument("--endpoint", help="Hugging Face-compatible mirror, e.g. https://hf-mirror.com")
    dl.add_argument("--modelscope-endpoint", help=argparse.SUPPRESS)
    dl.add_argument("--concurrency", type=int, default=2)
    dl.add_argument("--limit-rate", type=float, default=0, help="total MB/s (0: unlimited)")
    dl.add_argument("--stall-timeout", type=float, default=30.0, help=argparse.SUPPRESS)
    msub.add_parser("verify", parents=[common, shared], help="check sizes and sha256 of installed files")
    imp = msub.add_parser("import", parents=[common, shared], help="adopt Z-Image files from a ComfyUI folder")
    imp.add_argument("folder")
    imp.add_argument("--mode", choices=("hardlink", "symlink", "reference"), default="hardlink")
    imp.add_argument("--comfyui-config", metavar="COMFYUI_DIR",
                     help="also add our models folder to COMFYUI_DIR/extra_model_paths.yaml")


def _context(args):
    from ..models.catalog import load_catalog
    from ..models.hashing import HashCache

    paths = Paths.resolve(args.data_dir)
    settings = Settings.load(paths)
    models_dir = Path(args.models).expanduser() if args.models else settings.models_path(paths)
    catalog = load_catalog(Path(args.catalog) if args.catalog else None)
    return paths, settings, models_dir, catalog, HashCache(paths.hash_cache)


def run(args) -> int:
    return {"list": _list, "plan": _plan, "download": _download, "verify": _verify, "import": _import}[
        args.models_command or "list"](args)


def _list(args) -> int:
    from ..models.store import scan

    _, _, models_dir, catalog, cache = _context(args)
    status = {s.component.id: s for s in scan(models_dir, catalog, cache)}
    print(f"Models folder: {models_dir}")
    for cid, st in status.items():
        print(f"  {cid:26} {_size(st.component)}  {st.state:10} {st.component.title}")
    print("Sets:")
    for name, ids in catalog.sets.items():
        need = sum(status[c].missing_bytes for c in ids)
        print(f"  {name:6} {' + '.join(ids)}" + (f"   ({need / GB:.1f} GB to download)" if need else "   (installed)"))
    _list_loras(models_dir, args.language)
    return 0


def _list_loras(models_dir: Path, language: str) -> None:
    """The LoRAs in loras/: name, size, trigger words (or why one cannot be used)."""
    from ..engine.loras import scan_loras
    from ..model_folders import folder

    loras = scan_loras(models_dir)
    print(f"LoRAs ({len(loras)} in {folder(models_dir, 'lora')}):")
    for lora in loras:
        words = ", ".join(lora.trigger_words)
        detail = f"unusable: {render(lora.problem, language)}" if lora.problem else (
            f"trigger words: {words}" if words else "no trigger words")
        print(f"  {lora.name:30} {lora.size / 1024**2:7.1f} MB  {detail}")


def _size(component) -> str:
    """Its size in GB, marked "≈" when the catalog leaves the exact size to the server."""
    approx = "≈" if any(f.size is None for f in component.files) else " "
    return f"{approx}{component.size / GB:6.2f} GB"


def _machine_plan(args, models_dir: Path, settings: Settings):
    from ..engine.devices import probe
    from ..engine.planner import plan_for_folder

    return plan_for_folder(probe(), models_dir, args.profile or settings.profile)


def _plan(args) -> int:
    from ..models.store import scan

    _, settings, models_dir, catalog, cache = _context(args)
    plan = _machine_plan(args, models_dir, settings)
    status = {s.component.id: s for s in scan(models_dir, catalog, cache)}
    print(f"Profile {plan.profile}: {plan.explanation}")
    total = 0
    for cid in plan.needs:
        st = status.get(cid)
        if st is None:
            print(f"  {cid}: not in the catalog")
            continue
        total += st.missing_bytes
        print(f"  {cid:26} {_size(st.component)}  {st.state}")
    print(f"To download: {total / GB:.1f} GB" if total else "Everything this profile needs is installed.")
    print(f"Predicted peak: {plan.predicted_ram_gib:.1f} GiB RAM" +
          (f", {plan.predicted_vram_gib:.1f} GiB VRAM" if plan.device != "cpu" else ""))
    return 0


class _ProgressPrinter:
    """Prints each failure once, when it happens; the summary repeats none of them."""

    def __init__(self, language: str) -> None:
        self.language = language
        self.tty = sys.stderr.isatty()
        self.last_pct = -10
        self.told: set[str] = set()  # files whose failure was printed

    def __call__(self, event) -> None:
        if event.kind == "file_failed":
            self.told.add(event.file)
        if event.kind in ("source_failed", "file_failed", "notice"):
            self._clear()
            print(render(event.message, self.language), file=sys.stderr)
        elif event.kind == "file_done":
            self._clear()
            print(f"done  {event.file}", file=sys.stderr)
        elif event.kind == "progress" and event.set_total:
            pct = int(event.set_done * 100 / event.set_total)
            eta = time.strftime("%H:%M:%S", time.gmtime(event.set_eta_s)) if event.set_eta_s else "--:--:--"
            line = (f"{pct:3d}% {event.set_done / GB:6.2f}/{event.set_total / GB:.2f} GB "
                    f"{event.set_speed / 1e6:6.1f} MB/s ETA {eta}  {Path(event.file).name}")
            if self.tty:
                bar = "#" * (pct // 5) + "." * (20 - pct // 5)
                print(f"\r[{bar}] {line}"[:160].ljust(100), end="", file=sys.stderr, flush=True)
            elif pct >= self.last_pct + 10:
                self.last_pct = pct
                print(line, file=sys.stderr, flush=True)

    def _clear(self) -> None:
        if self.tty:
            print("\r" + " " * 120 + "\r", end="", file=sys.stderr)


def _download(args) -> int:
    from ..models.download import Downloader
    from ..models.sources import source_config

    paths, settings, models_dir, catalog, cache = _context(args)
    # checked before planning or touching the disk: a typo in the address is bad input (exit 2)
    sources = source_config(settings, paths, endpoint=args.endpoint,
                            source=args.source,
                            modelscope_endpoint=args.modelscope_endpoint)
    names = args.names
    if not names:
        plan = _machine_plan(args, models_dir, settings)
        names = list(plan.needs)
        print(f"Profile {plan.profile}: {plan.explanation}", file=sys.stderr)
    components = catalog.resolve(names)
    downloader = Downloader(models_dir, sources, concurrency=args.concurrency, hash_cache=cache,
                            rate_limit=args.limit_rate * 1e6 if args.limit_rate else None,
                            stall_timeout=args.stall_timeout)
    files = [f for c in components for f in c.files]
    printer = _ProgressPrinter(args.language)
    try:
        report = downloader.download(files, printer)
    except KeyboardInterrupt:
        downloader.cancel()
        print("\nCancelled; run the same command again to resume.", file=sys.stderr)
        return 1
    for dest, why in report.failed.items():
        if dest not in printer.told:  # a failure no event announced (a bug caught per file)
            print(f"failed {dest}: {why}", file=sys.stderr)
    print(f"{len(report.downloaded)} downloaded, {len(report.skipped)} already present, {len(report.failed)} failed "
          f"— in {models_dir}")
    return 1 if report.failed else 0


def _verify(args) -> int:
    from ..models.store import scan

    _, _, models_dir, catalog, cache = _context(args)
    bad = 0
    for st in scan(models_dir, catalog, cache, verify=True):
        if st.state in ("verified", "installed"):
            print(f"ok       {st.component.id}")
        elif any(f.state in ("corrupt", "wrong size") for f in st.files):
            bad += 1
            for f in st.files:
                if f.state in ("corrupt", "wrong size"):
                    print(f"{f.state.upper():8} {f.dest} — download it again", file=sys.stderr)
    return 1 if bad else 0


def _import(args) -> int:
    from ..models.store import import_folder, write_comfyui_config

    _, _, models_dir, _, _ = _context(args)
    report = import_folder(Path(args.folder), models_dir, args.mode)
    for src, what in report.imported.items():
        print(f"imported {src}: {what}")
    for src, why in report.skipped.items():
        print(f"skipped  {src}: {render(why, args.language)}")
    for note in report.notes:
        print(f"note: {render(note, args.language)}")
    if args.comfyui_config:
        print(f"ComfyUI will also see {models_dir}: updated {write_comfyui_config(Path(args.comfyui_config), models_dir)}")
    return 0 if report.imported else 1

"""`generate --init-image …` (image-to-image, inpaint, outpaint) and `upscale FILE`: the same
requests as the edit panel (engine.request_builder), the same history and metadata."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..config import Paths, Settings
from ..engine.request import DEFAULT_STEPS
from ..errors import BadInputError
from ..messages import msg
from ..model_folders import UPSCALERS


def float_arg(value: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None


def sides_arg(value: str) -> tuple[int, int, int, int]:
    parts = value.split(",")
    try:
        numbers = tuple(int(p) for p in parts)
    except ValueError:
        numbers = ()
    if len(numbers) != 4:
        raise argparse.ArgumentTypeError(f"{value!r} is not LEFT,TOP,RIGHT,BOTTOM in pixels")
    return numbers  # type: ignore[return-value]


def add_edit_options(gen: argparse.ArgumentParser) -> None:
    gen.add_argument("--init-image", help="edit this picture (PNG/JPEG/WebP) instead of starting from noise")
    gen.add_argument("--strength", type=float_arg, default=None,
                     help="how much may change, above 0 up to 1 (image-to-image 0.6, inpaint/outpaint 1)")
    gen.add_argument("--mask", help="with --init-image: inpaint where this image is white")
    gen.add_argument("--outpaint", type=sides_arg, metavar="LEFT,TOP,RIGHT,BOTTOM",
                     help="with --init-image: extend the picture by these pixels and fill them")
    gen.add_argument("--mask-blur", type=int, default=8, help="feather of the mask edge in pixels (0-64)")
    gen.add_argument("--only-masked", action="store_true",
                     help="inpaint only a crop around the mask, at the model's resolution")
    gen.add_argument("--padding", type=int, default=32, help="pixels around the mask with --only-masked")


def add_upscale_parser(sub, common: argparse.ArgumentParser) -> None:
    up = sub.add_parser("upscale", parents=[common], help="enlarge a picture, then refine it at low strength")
    up.add_argument("file", help="the picture to enlarge")
    up.add_argument("--scale", type=float_arg, default=2.0, help="pixel scale, 1 to 4 (default 2)")
    up.add_argument("--strength", type=float_arg, default=0.3, help="refinement strength (default 0.3)")
    up.add_argument("--prompt", help="what the picture shows (default: the prompt in its metadata)")
    up.add_argument("--seed", type=int, default=None)
    up.add_argument("--steps", type=int, default=DEFAULT_STEPS)
    up.add_argument("--models", help="models folder (upscale models in its upscale_models/)")
    up.add_argument("--upscale-model", metavar="FILE", help="the upscale model's file name in upscale_models/ "
                    "(default: the first there), or 'none' for Lanczos")
    up.add_argument("--device", choices=("auto", "cuda", "mps", "cpu"), default=None)
    up.add_argument("--profile", default=None)
    up.add_argument("--out", required=True, help="the .png to write")
    up.add_argument("--no-history", action="store_true")


def edit_request(args: argparse.Namespace, builder, common: dict):
    """The request `generate` makes when --init-image is given."""
    flags = [name for name in ("mask", "outpaint") if getattr(args, name)]
    if not args.init_image:
        if flags or args.strength is not None:
            raise BadInputError(msg("cli_edit.needs_init_image", "--{flag} needs --init-image.",
                                    flag=(flags or ["strength"])[0]))
        return None
    if len(flags) > 1:
        raise BadInputError(msg("cli_edit.mask_or_outpaint", "Give --mask or --outpaint, not both."))
    source = Path(args.init_image).expanduser()
    common = dict(common, source_entry=history_id_of(source, Paths.resolve(args.data_dir)))
    if args.mask:
        return builder.inpaint(args.prompt, source, Path(args.mask).expanduser(), strength=_or(args.strength, 1.0),
                               mask_blur=args.mask_blur, only_masked=args.only_masked, padding=args.padding, **common)
    if args.outpaint:
        return builder.outpaint(args.prompt, source, sides=args.outpaint, strength=_or(args.strength, 1.0),
                                mask_blur=args.mask_blur, **common)
    size = (args.width, args.height) if args.width and args.height else None
    return builder.img2img(args.prompt, source, strength=_or(args.strength, 0.6), size=size, **common)


def history_id_of(path: Path, paths: Paths) -> int | None:
    """The history entry whose image ``path`` is (an edit of it links to it), if any."""
    if not paths.history_db.exists() or not path.exists():
        return None
    from ..history.store import HistoryStore

    store = HistoryStore(paths.history_db)
    try:
        wanted = path.resolve()
        return next((i for i, p in store.image_paths().items() if p.resolve() == wanted), None)
    finally:
        store.close()


def _or(value, default):
    return default if value is None else value


def cmd_upscale(args: argparse.Namespace) -> int:
    from .common import output_paths
    from .generate import generate_to_files
    from ..engine.request_builder import RequestBuilder

    paths = Paths.resolve(args.data_dir)
    settings = Settings.load(paths)
    prompt = args.prompt or _prompt_of(Path(args.file).expanduser())
    builder = RequestBuilder(args.profile or settings.profile)
    source = Path(args.file).expanduser()
    models_dir = Path(args.models).expanduser() if args.models else settings.models_path(paths)
    request = builder.upscale(prompt, source, scale=args.scale, strength=args.strength, seed=args.seed,
                              steps=args.steps, source_entry=history_id_of(source, paths),
                              upscale_model=_upscale_model(args.upscale_model, models_dir))
    if not str(args.out).lower().endswith(".png"):
        raise BadInputError(msg("cli_edit.out_png", "--out must name a .png file."))
    return generate_to_files(request, models_dir, output_paths(args.out, request.seeds), paths,
                             args.device or settings.device, None, record_history=not args.no_history)


def _upscale_model(name: str | None, models_dir: Path) -> str:
    """The model file the request records (so the PNG and "re-run" name it): "" for Lanczos."""
    from ..engine.upscalers import LANCZOS, upscale_model_file

    if name is not None and name.lower() == "none":
        return LANCZOS
    found = upscale_model_file(models_dir / UPSCALERS, name)  # a name not there: one sentence
    return found.name if found is not None else LANCZOS


def _prompt_of(path: Path) -> str:
    """The prompt the picture's own metadata names, else a neutral one (upscaling needs some words)."""
    from ..errors import UserFacingError
    from ..history.metadata import read_png_metadata

    try:
        found = read_png_metadata(path) if path.suffix.lower() == ".png" else None
    except UserFacingError:
        found = None
    if found is not None and found.request is not None:
        return found.request.prompt
    return "a detailed, sharp, high-resolution picture"

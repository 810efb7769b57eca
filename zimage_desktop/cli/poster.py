"""``zimage-desktop poster``: the poster panel's fields from the command line, so posters can be
drafted in batches from a script; ``--glyphs [FONT]`` adds glyph control (poster/glyphs.py)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..config import Paths, Settings
from ..engine.request import DEFAULT_STEPS
from ..poster.compose import LAYOUTS, STYLES, PosterSpec, compose
from ..poster.formats import FORMATS

GLYPH_STRENGTH = 0.75  # diffusers' and ComfyUI users' usual Union strength


def add_parser(sub, common) -> None:
    from .common import int_arg

    p = sub.add_parser("poster", parents=[common], help="compose a poster prompt from fields and generate it")
    p.add_argument("--title", default="", help="the headline, drawn verbatim")
    p.add_argument("--subtitle", default="")
    p.add_argument("--body", action="append", default=[], help="a line of body text (repeatable)")
    p.add_argument("--format", choices=sorted(FORMATS), default=None)
    p.add_argument("--template", default=None, help="a built-in template id to start from (its fields fill the gaps)")
    p.add_argument("--style", choices=sorted(STYLES), default=None)
    p.add_argument("--layout", choices=sorted(LAYOUTS), default=None)
    p.add_argument("--scene", default=None, help="what the picture shows")
    p.add_argument("--language", choices=("zh", "en"), default="zh", help="language of the descriptions")
    p.add_argument("--glyphs", nargs="?", const="", default=None, metavar="FONT",
                   help="draw the texts with a real font as a control image (a font file or family; "
                        "default: the system's Chinese font)")
    p.add_argument("--glyph-strength", type=float, default=GLYPH_STRENGTH)
    p.add_argument("--glyph-image", help="also write the glyph control image here (PNG)")
    p.add_argument("--models")
    p.add_argument("--seed", type=int_arg, default=None)
    p.add_argument("--count", type=int_arg, default=1)
    p.add_argument("--steps", type=int_arg, default=DEFAULT_STEPS)
    p.add_argument("--device", choices=("auto", "cuda", "mps", "cpu"), default=None)
    p.add_argument("--out", help="a .png path or a folder")
    p.add_argument("--no-history", action="store_true")
    p.add_argument("--size", help="WxH instead of the format's size (multiples of 16)")


def poster_spec(args: argparse.Namespace) -> PosterSpec:
    base = PosterSpec(language=args.language)
    if args.template:
        from ..errors import BadInputError
        from ..messages import msg
        from ..poster.templates import builtin_templates

        templates = {t.id: t for t in builtin_templates()}
        if args.template not in templates:
            raise BadInputError(msg("cli_poster.no_template", "There is no poster template {name}; choose one of "
                                    "{names}.", name=args.template, names=", ".join(sorted(templates))))
        base = templates[args.template].spec(args.language)
    changes = {"headline": args.title or base.headline, "subtitle": args.subtitle or base.subtitle,
               "body": tuple(args.body) or base.body, "format": args.format or base.format,
               "style": args.style or base.style, "layout": args.layout or base.layout,
               "scene": base.scene if args.scene is None else args.scene}
    return PosterSpec(**{**base.to_dict(), **changes, "body": changes["body"]})


def cmd_poster(args: argparse.Namespace) -> int:
    from .common import output_paths
    from .generate import generate_to_files
    from ..engine.request import ControlRef, GenerationRequest
    from ..errors import BadInputError
    from ..messages import msg

    paths = Paths.resolve(args.data_dir)
    settings = Settings.load(paths)
    spec = poster_spec(args)
    if not spec.texts():
        raise BadInputError(msg("cli_poster.no_text", "The poster has no text: give --title (or a --template)."))
    fmt = FORMATS[spec.format]
    width, height = fmt.width, fmt.height
    if args.size:
        try:
            width, height = (int(v) for v in args.size.lower().split("x"))
        except ValueError:
            raise BadInputError(msg("cli_poster.size", "--size takes WxH, e.g. 768x1024.")) from None
    controls: tuple[ControlRef, ...] = ()
    if args.glyphs is not None:
        from ..history.control_inputs import store_image
        from ..poster.glyphs import load_font, render_glyphs, resolve_font

        font_path, index = resolve_font(args.glyphs or None)
        rendered = render_glyphs(spec, width, height, load_font(font_path, index=index), font_path.name)
        sha, stored = store_image(rendered.control, paths)
        if args.glyph_image:
            rendered.control.save(Path(args.glyph_image).expanduser())
        controls = (ControlRef("glyph", str(stored), sha, args.glyph_strength),)
    request = GenerationRequest.create(
        compose(spec).text, seed=args.seed, width=width, height=height, steps=args.steps, count=args.count,
        profile=settings.profile, controls=controls,
        extra={"poster": spec.to_dict(), "poster_prompt_edited": False,
               **({"glyph_font": args.glyphs or "default"} if controls else {})},
    )
    models_dir = Path(args.models).expanduser() if args.models else settings.models_path(paths)
    return generate_to_files(request, models_dir, output_paths(args.out, request.seeds), paths,
                             args.device or settings.device, None, record_history=not args.no_history)

"""``generate --control KIND:FILE[:STRENGTH]`` (+ ``--control-start/--control-end``): the one
parser of a control argument, shared by ``generate`` and ``poster``. No torch at import."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from ..engine.request import CONTROL_KINDS, ControlRef
from ..errors import BadInputError
from ..messages import msg

USER_KINDS = tuple(k for k in CONTROL_KINDS if k != "glyph")  # glyph images are made by `poster --glyphs`


def add_control_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--control", metavar="KIND:FILE[:STRENGTH]",
                        help=f"guide the picture with a ControlNet Union control image; KIND is one of "
                             f"{', '.join(USER_KINDS)}; STRENGTH 0…2 (default 1)")
    parser.add_argument("--control-start", type=float, default=0.0, help="fraction of the steps where control starts")
    parser.add_argument("--control-end", type=float, default=1.0, help="fraction of the steps where control ends")


def parse_control(text: str, start: float = 0.0, end: float = 1.0) -> ControlRef:
    """KIND:FILE[:STRENGTH]; FILE may itself hold colons (C:\\pictures\\a.png)."""
    kind, sep, rest = text.partition(":")
    kind = kind.strip().lower()
    if not sep or not rest or kind not in USER_KINDS:
        raise BadInputError(msg("cli_control.syntax", "--control takes KIND:FILE[:STRENGTH] with KIND one of {kinds}; "
                                "got {text!r}.", kinds=", ".join(USER_KINDS), text=text))
    strength = 1.0
    head, colon, tail = rest.rpartition(":")
    if colon and head and not Path(rest).exists():
        try:
            strength = float(tail)
        except ValueError:
            strength = math.nan
        if math.isnan(strength):
            raise BadInputError(msg("cli_control.strength", "The control strength {text!r} is not a number.", text=tail))
        rest = head
    path = Path(rest).expanduser()
    if not path.is_file():
        raise BadInputError(msg("cli_control.no_file", "The control image {path} does not exist.", path=path))
    return ControlRef(kind=kind, image=str(path.resolve()), strength=strength, start=start, end=end)


def controls_from_args(args: argparse.Namespace) -> tuple[ControlRef, ...]:
    if not getattr(args, "control", None):
        return ()
    return (parse_control(args.control, args.control_start, args.control_end),)

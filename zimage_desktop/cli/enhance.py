"""``zimage-desktop enhance IDEA`` and ``generate --enhance``: the offline prompt enhancer."""

from __future__ import annotations

from ..messages import msg

import argparse
import json
import sys
from pathlib import Path

from ..config import Paths, Settings


def add_parser(sub, common) -> None:
    from .common import int_arg as _int_arg

    enhance = sub.add_parser("enhance", parents=[common],
                             help="rewrite a short idea into a detailed prompt with the installed text encoder (offline)")
    enhance.add_argument("idea", help="a short description of the image, e.g. \"a red fox in the snow\"")
    enhance.add_argument("--models", help="models folder (ComfyUI layout or a diffusers pipeline folder)")
    enhance.add_argument("--seed", type=_int_arg, default=None, help="sampling seed (random when left out)")
    enhance.add_argument("--max-tokens", type=_int_arg, default=300, help="longest answer in tokens (default 300)")
    enhance.add_argument("--temperature", type=float, default=0.7, help="0 = greedy; default 0.7")
    enhance.add_argument("--device", choices=("auto", "cuda", "mps", "cpu"), default=None)
    enhance.add_argument("--json", action="store_true", help="one JSON object with the prompt, seed and timings")


def run(args: argparse.Namespace) -> int:
    from .common import CancelFlag as _CancelFlag
    from ..engine.enhance import Sampling
    from ..engine.enhance_session import load_standalone
    from ..engine.request import random_seed

    paths = Paths.resolve(args.data_dir)
    settings = Settings.load(paths)
    seed = random_seed() if args.seed is None else args.seed
    sampling = Sampling(max_new_tokens=args.max_tokens, temperature=args.temperature, seed=seed)
    if not args.idea.strip():
        from ..errors import BadInputError

        raise BadInputError(msg("cli_enhance.idea_empty_describe_image", "The idea is empty: describe the image in a few "
                                "words."))
    check_enhance_idea(args.idea)  # before the text encoder loads: a refusal must not cost a load
    models_dir = Path(args.models).expanduser() if args.models else settings.models_path(paths)
    enhancer, placement = load_standalone(models_dir, args.device or settings.device)
    live = sys.stderr.isatty() and not args.json
    if live:
        print(f"Enhancing {placement.explanation}, seed {seed}…", file=sys.stderr, flush=True)
    with _CancelFlag() as cancel:
        result = enhancer.enhance(args.idea, sampling, is_cancelled=cancel,
                                  on_text=(lambda piece: print(piece, end="", file=sys.stderr, flush=True)) if live else None)
    if live:
        print(file=sys.stderr)
    if result.stop == "cancelled":
        print("Cancelled.", file=sys.stderr)
        return 1
    if not result.text:
        print("error: the enhancer wrote nothing; try another --seed.", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps({"prompt": result.text, "original_prompt": result.original, "seed": seed,
                          "language": result.language, "stop": result.stop, "tokens": result.tokens,
                          "restored_quotes": list(result.restored_quotes), "device": placement.device,
                          "first_token_s": round(result.first_token_s, 3),
                          "tokens_per_s": round(result.tokens_per_s, 2)}, ensure_ascii=False))
    else:
        print(result.text)
    return 0


def check_enhance_idea(idea: str) -> None:
    from ..engine.enhance_prompts import MAX_IDEA_CHARS, check_idea

    check_idea(idea, MAX_IDEA_CHARS)


def enhance_for_generate(generator, request):
    """``generate --enhance``: the request with its prompt rewritten by the loaded text encoder."""
    from ..engine.enhance_session import enhance_request

    show = sys.stderr.isatty()
    if show:
        print("Enhancing the prompt…", file=sys.stderr, flush=True)
    enhanced, result = enhance_request(generator, request)
    print(f"Enhanced prompt: {enhanced.prompt}", file=sys.stderr, flush=True)
    return enhanced

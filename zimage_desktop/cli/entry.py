"""Command line: ``zimage-desktop [generate|info|self-test] …``.

No sub-command opens the desktop window. Heavy modules (torch, diffusers) are imported inside the
commands that need them. Exit codes: 0 ok, 2 bad input (one line on stderr), 1 other failure.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sqlite3
import sys
from pathlib import Path
from typing import Any, Sequence

from .. import __version__
from ..config import Paths, Settings
from ..engine.request import DEFAULT_SAMPLER, DEFAULT_SCHEDULER, DEFAULT_STEPS, SAMPLERS, SCHEDULERS
from ..errors import BadInputError, UserFacingError
from ..errors_os import describe_failure
from ..messages import msg, render, resolve_language
from .common import cfg_arg, device_arg, int_arg, lora_arg, model_default_steps, output_paths
from .generate import generate_to_files


class ArgumentParser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise BadInputError(msg("cli.see_help", "{prog}: {message} (see --help)", prog=self.prog, message=message))


def build_parser() -> ArgumentParser:
    # SUPPRESS: an option given before the sub-command must not be reset by the sub-parser's default.
    common = ArgumentParser(add_help=False)
    common.add_argument("--data-dir", default=argparse.SUPPRESS,
                        help="folder for settings, history, images and the default models folder")
    common.add_argument("--verbose", action="store_true", default=argparse.SUPPRESS,
                        help="log details, and tracebacks on errors")

    parser = ArgumentParser(prog="zimage-desktop", parents=[common],
                            description="Z-Image-Turbo on ordinary graphics cards.")
    parser.add_argument("--version", action="version", version=f"zimage-desktop {__version__}")
    sub = parser.add_subparsers(dest="command", parser_class=ArgumentParser)

    gen = sub.add_parser("generate", parents=[common], help="make images from a prompt")
    gen.add_argument("--prompt", required=True)
    gen.add_argument("--models", help="models folder (ComfyUI layout or a diffusers pipeline folder)")
    gen.add_argument("--transformer", help="transformer file to use (in diffusion_models/ or a path)")
    gen.add_argument("--width", type=int_arg, default=None, help="default 1024 (an edit: the source's)")
    gen.add_argument("--height", type=int_arg, default=None, help="default 1024 (an edit: the source's)")
    gen.add_argument("--steps", type=int_arg, default=None,
                     help=f"default: the model's own ({DEFAULT_STEPS} for Z-Image-Turbo, 50 for Z-Image)")
    gen.add_argument("--negative", default="", metavar="TEXT",
                     help="negative prompt (models with CFG, such as Z-Image; Z-Image-Turbo ignores it)")
    gen.add_argument("--cfg", type=cfg_arg, default=None, metavar="X",
                     help="CFG scale as ComfyUI counts it, 1 = none (default: the model's own; Turbo ignores it)")
    gen.add_argument("--seed", type=int_arg, default=None, help="first seed (random when left out)")
    gen.add_argument("--count", type=int_arg, default=1, help="images, with seeds seed, seed+1, …")
    gen.add_argument("--sampler", choices=SAMPLERS, default=DEFAULT_SAMPLER, help="as ComfyUI names it")
    gen.add_argument("--scheduler", choices=SCHEDULERS, default=DEFAULT_SCHEDULER,
                     help="simple: ComfyUI's (same seed, same picture); diffusers: the pipeline's own")
    gen.add_argument("--device", type=device_arg, default=None, help="auto, cuda, cuda:N (GPU N), mps or cpu")
    gen.add_argument("--profile", default=None, help="memory profile name (default: auto)")
    gen.add_argument("--out", help="a .png path (name-1.png, name-2.png … for several) or a folder")
    gen.add_argument("--preview-dir", help="write each step's preview here as PNG")
    gen.add_argument("--no-history", action="store_true", help="do not record the images in the history")
    gen.add_argument("--lora", action="append", type=lora_arg, default=[], metavar="NAME[:STRENGTH]",
                     help="apply the LoRA loras/NAME.safetensors (strength -2…2, default 1); repeatable")
    gen.add_argument("--engine", help="run on a ComfyUI server: its name in the Engines settings, or its URL")
    gen.add_argument("--enhance", action="store_true",
                     help="rewrite the prompt with the offline prompt enhancer first (seeded by --seed)")
    gen.add_argument("--cpu-int8", action="store_true",
                     help="on the CPU, convert a Q8_0/Q6_K/Q4_K GGUF transformer to int8 layers at load: "
                          "2-3x faster steps, a slightly different picture, more RAM")
    from .control import add_control_arguments

    add_control_arguments(gen)

    from . import edit as cli_edit, enhance as cli_enhance

    cli_edit.add_edit_options(gen)
    cli_edit.add_upscale_parser(sub, common)
    cli_enhance.add_parser(sub, common)
    from . import poster as cli_poster

    cli_poster.add_parser(sub, common)

    info = sub.add_parser("info", parents=[common], help="devices, memory, installed models and the memory plan")
    info.add_argument("--models", help="models folder to inspect")
    info.add_argument("--profile", default=None, help="show the plan of this profile instead of the recommended one")
    info.add_argument("--json", action="store_true", help="one JSON object")
    info.add_argument("--width", type=int_arg, default=1024, help="image width the memory prediction is for")
    info.add_argument("--height", type=int_arg, default=1024, help="image height the memory prediction is for")
    info.add_argument("--device", type=device_arg, default=None, help="plan for this device (cuda:N: GPU N)")
    info.add_argument("--engines", action="store_true",
                      help="test the configured ComfyUI servers (version, device, queue, model files)")

    from . import history as cli_history, models as cli_models

    cli_models.add_parser(sub, common)
    cli_history.add_parser(sub, common)

    selftest = sub.add_parser("self-test", parents=[common],
                              help="build a tiny random model and generate with it (no download)")
    selftest.add_argument("--keep", help="keep the tiny models and images in this folder")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = None
    try:
        args = parser.parse_args(argv)
        args.data_dir = getattr(args, "data_dir", None)
        args.verbose = getattr(args, "verbose", False)
        args.language = Settings.load(Paths.resolve(args.data_dir)).shown_language  # messages: settings, else LANG
        logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                            format="%(levelname)s %(name)s: %(message)s")
        _quiet_libraries(args.verbose)
        if args.command is None:
            return run_gui(args)
        handler = {"generate": cmd_generate, "info": cmd_info, "self-test": cmd_self_test,
                   "models": cmd_models, "history": cmd_history, "enhance": cmd_enhance,
                   "upscale": cmd_upscale, "poster": _cmd_poster}[args.command]
        return handler(args)
    except UserFacingError as exc:
        print(f"error: {exc.render(_language(args))}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("Cancelled.", file=sys.stderr)
        return 1
    except (OSError, sqlite3.Error) as exc:  # the environment, not a bug: still one plain sentence
        if args is not None and args.verbose:
            raise
        print(f"error: {render(describe_failure(exc), _language(args))}", file=sys.stderr)
        return 1
    except Exception as exc:  # a bug or an unexpected environment problem: still one line
        if args is not None and args.verbose:
            raise
        print(f"error: unexpected {type(exc).__name__}: {exc} (run with --verbose for details)", file=sys.stderr)
        return 1


def _language(args) -> str:
    return getattr(args, "language", None) or resolve_language("system")


def _quiet_libraries(verbose: bool) -> None:
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    if not verbose:
        for name in ("diffusers", "transformers", "accelerate", "huggingface_hub"):
            logging.getLogger(name).setLevel(logging.ERROR)
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        os.environ.setdefault("DIFFUSERS_VERBOSITY", "error")


def run_gui(args: argparse.Namespace) -> int:
    from ..app import run_app

    return run_app(data_dir=args.data_dir)


# -- generate -----------------------------------------------------------------------------------


def cmd_upscale(args: argparse.Namespace) -> int:
    from .edit import cmd_upscale as upscale

    return upscale(args)


def cmd_generate(args: argparse.Namespace) -> int:
    from .edit import edit_request
    from .control import controls_from_args
    from ..engine.request import GenerationRequest
    from ..engine.request_builder import RequestBuilder

    paths = Paths.resolve(args.data_dir)
    settings = Settings.load(paths)
    models_dir = Path(args.models).expanduser() if args.models else settings.models_path(paths)
    steps = args.steps if args.steps is not None else model_default_steps(models_dir, args.transformer)
    common = dict(seed=args.seed, steps=steps, count=args.count, transformer=_typed_transformer(args.transformer),
                  sampler=args.sampler, scheduler=args.scheduler, loras=tuple(args.lora),
                  controls=controls_from_args(args), negative_prompt=args.negative, cfg=args.cfg)
    request = edit_request(args, RequestBuilder(args.profile or settings.profile), common)
    if request is None:
        request = GenerationRequest.create(
            args.prompt, seed=args.seed, width=args.width or 1024, height=args.height or 1024, steps=steps,
            count=args.count, transformer=_typed_transformer(args.transformer), profile=args.profile or settings.profile,
            sampler=args.sampler, scheduler=args.scheduler, loras=tuple(args.lora), controls=controls_from_args(args),
            negative_prompt=args.negative, cfg=args.cfg,
        )
    targets = output_paths(args.out, request.seeds)
    preview_dir = Path(args.preview_dir).expanduser() if args.preview_dir else None
    remote = None
    if args.engine:
        from ..remote.engine import RemoteEngine

        if args.enhance:
            raise BadInputError(msg("remote.enhance_is_local", "--enhance runs on this computer; leave out --engine "
                                    "or --enhance."))
        from ..remote.engines import resolve

        remote = RemoteEngine(resolve(paths, args.engine), previews=preview_dir is not None, models_dir=models_dir)
    if args.cpu_int8:
        check_cpu_int8(remote is not None)
    return generate_to_files(request, models_dir, targets, paths, args.device or settings.device, preview_dir,
                             record_history=not args.no_history, enhance=args.enhance, engine=remote,
                             cpu_int8=args.cpu_int8)


def _typed_transformer(name: str | None) -> str | None:
    """--transformer as typed: a file the user names relative to where they are is made absolute here,
    so the engine looks relative names (from saved requests too) up in the models folder only."""
    if name and not Path(name).expanduser().is_absolute() and Path(name).is_file():
        return str(Path(name).resolve())
    return name


def _cmd_poster(args: argparse.Namespace) -> int:
    from .poster import cmd_poster

    return cmd_poster(args)


# -- info ---------------------------------------------------------------------------------------


def cmd_info(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from ..engine.devices import probe
    from ..engine.model_files import resolve_model_set
    from ..engine.planner import make_plan

    paths = Paths.resolve(args.data_dir)
    if args.engines:
        from .engines import print_engines

        return print_engines(paths, args.json, args.language)
    settings = Settings.load(paths)
    models_dir = Path(args.models).expanduser() if args.models else settings.models_path(paths)
    machine = probe()
    models: dict[str, Any] = {"folder": str(models_dir)}
    forms: frozenset[str] = frozenset()
    te_forms: frozenset[str] | None = None
    sizes: dict[str, float] = {}
    try:
        model_set = resolve_model_set(models_dir)
        forms, te_forms, sizes = model_set.available_forms, model_set.text_encoder_forms, dict(model_set.form_gib)
        models.update(installed=True, form=model_set.form, files=[str(p) for p in model_set.files()],
                      transformer_forms=sorted(forms), text_encoder_forms=sorted(te_forms))
    except UserFacingError as exc:
        models.update(installed=False, problem=exc.message)
    from ..engine.planner import gpu_index_of
    from ..model_folders import has_configs
    from ..engine.request import GenerationRequest, validate

    problems = validate(GenerationRequest(prompt="the size of an image", width=args.width, height=args.height))
    if problems:
        raise BadInputError(problems[0])
    device = args.device or settings.device
    profile = args.profile or settings.profile
    if device in ("cpu", "mps") and profile == "auto":
        profile = device
    plan = make_plan(machine, forms, profile,
                     have_text_encoder=models["installed"], have_vae=models["installed"], present_te_forms=te_forms,
                     installed_gib=sizes, gpu_index=gpu_index_of(device),
                     have_configs=has_configs(models_dir) or (models_dir / "model_index.json").is_file())
    from ..engine.edit_plan import edit_peaks
    from ..engine.lora_plan import describe_room, lora_room
    from ..engine.request_table import display_table

    vram, ram = plan.table().peaks(args.width, args.height)  # a text-to-image, as each image's JSON line
    edit_vram, edit_ram = edit_peaks(plan, args.width, args.height)
    table = display_table(plan, models_dir)  # every phase the plan can run, a ControlNet when installed
    lora_text = describe_room(lora_room(plan, machine))
    report = {"version": __version__, "data_dir": str(paths.data), "machine": machine.to_dict(), "models": models,
              "plan": {**asdict(plan), "explanation": plan.explanation},  # a property: derived from the figures
              "residency": {"device": table.device, "components": table.rows(),
                            "phases": {k: {"vram_gib": v, "ram_gib": r}
                                       for k, (v, r) in table.phase_memory(args.width, args.height).items()},
                            "cuda_context_gib": table.context},
              "prediction": {"width": args.width, "height": args.height, "vram_gib": vram, "ram_gib": ram,
                             "edit_vram_gib": edit_vram, "edit_ram_gib": edit_ram},
              "loras": render(lora_text, args.language)}
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
        return 0
    gib = 1024**3
    print(f"zimage-desktop {__version__}   data: {paths.data}")
    print(f"torch {machine.torch_version}  CUDA {machine.cuda_version or '-'}")
    for gpu in machine.gpus:
        print(f"GPU {gpu.index}: {gpu.name}  {gpu.total_vram / gib:.1f} GiB ({gpu.free_vram / gib:.1f} free)  "
              f"sm_{gpu.capability[0]}{gpu.capability[1]}  bf16 {'yes' if gpu.bf16 else 'no'}")
    if not machine.gpus:
        print("GPU: none found" + ("; Apple MPS available" if machine.mps else ""))
    print(f"CPU: {machine.cpu_name} × {machine.cpu_count}   RAM {machine.total_ram / gib:.1f} GiB "
          f"({machine.free_ram / gib:.1f} free)")
    if models["installed"]:
        print(f"Models ({models['form']}) in {models_dir}:")
        for file in models["files"]:
            print(f"  {file}")
    else:
        print(f"Models: not ready in {models_dir}: {render(models['problem'], args.language)}")
    print(f"Profile {plan.profile}: {plan.explanation}")
    print(f"Residency on {table.device} (GiB; {args.width}×{args.height}):")
    print("  " + table.format(args.width, args.height).replace("\n", "\n  "))
    print(f"  predicted peak: {vram:.2f} GiB VRAM, {ram:.2f} GiB RAM")
    print(f"  {render(lora_text, args.language)}")
    for warning in plan.warnings:
        print(f"  note: {render(warning, args.language)}")
    if plan.missing:
        print(f"  to download: {', '.join(plan.missing)}")
    return 0


def cmd_history(args: argparse.Namespace) -> int:
    from . import history as cli_history

    return cli_history.run(args)


def cmd_enhance(args: argparse.Namespace) -> int:
    from . import enhance as cli_enhance

    return cli_enhance.run(args)


def cmd_models(args: argparse.Namespace) -> int:
    from . import models as cli_models

    return cli_models.run(args)


# -- self-test ----------------------------------------------------------------------------------


def cmd_self_test(args: argparse.Namespace) -> int:
    from ..selftest import run_self_test

    return run_self_test(Path(args.keep) if args.keep else None)


def check_cpu_int8(remote: bool) -> None:
    """``--cpu-int8`` needs this computer's CPU and a torch with oneDNN's int8 linear (x86)."""
    if remote:
        raise BadInputError(msg("preflight.int8_is_local", "--cpu-int8 changes how this computer runs the model; "
                                "leave out --engine or --cpu-int8."))
    from ..engine.gguf_int8 import available

    if not available():
        raise BadInputError(msg("preflight.int8_unavailable", "--cpu-int8 needs an x86 CPU and a PyTorch built with "
                                "oneDNN; this one has no int8 linear kernel. Leave out --cpu-int8."))

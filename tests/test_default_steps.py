"""The default step count is written in one place (issue 29, restructuring): the model's own fact in
engine/architectures.py. Everything that offers a default (the CLI's generate, poster and upscale,
the window's Steps field, the request builder, a request) takes it from there."""

import inspect
import re
from pathlib import Path

import zimage_desktop
from zimage_desktop.cli import build_parser
from zimage_desktop.engine.architectures import DEFAULT
from zimage_desktop.engine.request import DEFAULT_STEPS, GenerationRequest
from zimage_desktop.engine.request_builder import RequestBuilder

PACKAGE = Path(zimage_desktop.__file__).parent
# a step count written as a number: steps=8, "--steps", type=int, default=8, steps_spin.setValue(8)
LITERAL = re.compile(r"steps\w*[^#\n]{0,40}?(?:default=|=\s*|setValue\()[1-9]\d*\b")


def test_no_step_count_is_written_outside_the_architecture():
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] == "devkit" or relative == Path("engine/architectures.py"):
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            if LITERAL.search(code) and "MAX_STEPS" not in code and "steps=1" not in code.replace(" ", ""):
                offenders.append(f"{relative}:{number}: {line.strip()}")
    assert not offenders, "\n".join(offenders)


def test_every_default_is_the_models(qtbot):
    from zimage_desktop.ui.parameters_form import ParametersForm

    assert DEFAULT_STEPS == DEFAULT.default_steps
    parser = build_parser()
    for argv in (["poster", "--title", "x"], ["upscale", "in.png", "--out", "o.png"]):
        args = parser.parse_args(argv)
        assert args.steps == DEFAULT.default_steps, argv
    # generate takes the default of the model its files are (Z-Image base: 50), Turbo's without files.
    from zimage_desktop.cli.common import model_default_steps

    assert parser.parse_args(["generate", "--prompt", "x"]).steps is None
    assert model_default_steps(PACKAGE / "no-models-here", None) == DEFAULT.default_steps
    form = ParametersForm()
    qtbot.addWidget(form)
    assert form.steps_spin.value() == DEFAULT.default_steps
    assert inspect.signature(RequestBuilder.new).parameters["steps"].default == DEFAULT.default_steps
    assert GenerationRequest(prompt="x").steps == DEFAULT.default_steps

"""The command line: ``zimage-desktop`` (console script) and ``python -m zimage_desktop``.

entry.py builds the parser and runs a sub-command; one module per command family (generate, edit,
enhance, history, models, poster, control, engines) and common.py with what they share. The commands import
common, never each other's helpers (tests/test_import_cycles.py keeps it so).
"""

from .entry import build_parser, main

__all__ = ["build_parser", "main"]

"""Where the runtime data lies: catalog.json, model configs, translations, poster templates, fonts' glyph list.

The project keeps it in the top-level ``resources/`` folder beside the package (DESIGN.md's layout). The
wheel maps that folder into the package as ``zimage_desktop/resources`` (setup.py's package_dir), and the
PyInstaller bundle puts it at the same place (packaging/zimage-desktop.spec). So one function finds it in
the source tree and an editable install (beside the package), the installed wheel and the frozen bundle
(inside it). A folder counts only when it holds ``catalog.json``: a stale ``zimage_desktop/resources`` of an
older checkout (git leaves its ``__pycache__`` behind) must not hide the real one.
"""

from __future__ import annotations

import sys
from functools import lru_cache
from pathlib import Path

MARKER = "catalog.json"


def candidates() -> list[Path]:
    """The places looked at, in order."""
    package = Path(__file__).resolve().parent
    found = [package / "resources", package.parent / "resources"]
    frozen = getattr(sys, "_MEIPASS", None)  # PyInstaller's unpacked bundle
    if frozen:
        found.insert(0, Path(frozen) / "zimage_desktop" / "resources")
    return found


@lru_cache(maxsize=1)
def resource_root() -> Path:
    """The folder of the runtime data (see the module's docstring)."""
    for folder in candidates():
        if (folder / MARKER).is_file():
            return folder
    # An install without its data files is broken beyond what a user can fix; this names where it looked
    # (English only: the translations are among the files that are missing).
    raise FileNotFoundError("Z-Image Desktop's data files are missing (looked in "
                            + ", ".join(str(c) for c in candidates()) + "); reinstall the app.")


def resource(*parts: str) -> Path:
    """A file or folder under the runtime data, e.g. ``resource("poster", "common_hanzi.txt")``."""
    return resource_root().joinpath(*parts)

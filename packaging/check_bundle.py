"""Check a frozen one-folder bundle against the environment it was built from.

    python packaging/check_bundle.py dist/zimage-desktop

For every distribution the app depends on (the closure of zimage-desktop's requirements, markers
evaluated for this machine), every package data file it installed into site-packages — anything
that is not code, a compiled library or packaging metadata — must be in the bundle at the same
relative path, unless DELIBERATELY_LEFT_OUT says why it is not needed. A library that reads its
own data at import (transformers 5.25's `kernels` reads `_internals/python_depends.json`) fails in
the frozen app, not in a test of the source tree: this finds such files when they appear, for any
package, before a user does.

Exit 0 when nothing is missing; 1 with the list otherwise.
"""

from __future__ import annotations

import argparse
import fnmatch
import re
import sys
from importlib import metadata
from pathlib import Path, PurePosixPath

from packaging.requirements import Requirement

# Code and compiled libraries: PyInstaller collects those through the module graph and its hooks
# (modules go into the PYZ archive, libraries are checked by the self-test that loads them).
CODE_SUFFIXES = {".py", ".pyc", ".pyo", ".pyi", ".pyx", ".pxd", ".so", ".pyd", ".dll", ".dylib", ".lib", ".a",
                 ".exe", ".h", ".hpp", ".cuh", ".c", ".cpp", ".cc", ".cu"}
# Files nobody reads at run time.
NEVER_NEEDED = ["*/py.typed", "*/LICENSE*", "*/COPYING*", "*/NOTICE*", "*/README*", "*.md", "*.rst",
                "*/tests/*", "*/test/*", "*/testing/*", "*/benchmarks/*", "*/examples/*", "*.typed"]
# Data that is deliberately not in the bundle, per distribution, with the reason. Everything else that a
# distribution installs as package data is collected by the spec (bundle_datas below) and checked here.
DELIBERATELY_LEFT_OUT: dict[str, tuple[list[str], str]] = {
    "torch": (["torch/share/*", "torchgen/packaged/*"],
              "CMake files and code-generation templates: used to build extensions, never at run time"),
    "pyside6-essentials": (["PySide6/Qt/*", "PySide6/typesystems/*", "PySide6/lib/*", "PySide6/scripts/*",
                            "PySide6/glue/*", "PySide6/include/*", "PySide6/PySide6_Essentials.json",
                            "PySide6/assistant", "PySide6/designer", "PySide6/linguist", "PySide6/lrelease",
                            "PySide6/lupdate", "PySide6/qmlformat", "PySide6/qmllint", "PySide6/qmlls", "PySide6/svgtoqml",
                            "PySide6/libpyside6qml*"],
                           "Qt's libraries, plugins and translations for the Qt modules the app imports are "
                           "collected by PyInstaller's PySide6 hook; the rest are other modules, design-time tools "
                           "and build files"),
    "shiboken6": (["shiboken6/lib/*"], "CMake files for building bindings"),
    "numpy": (["numpy/_core/include/*", "numpy/_core/lib/*", "numpy/f2py/*", "numpy/random/lib/*",
               "numpy/ma/API_CHANGES.txt", "numpy/random/_examples/*"],
              "headers, static libraries, f2py and Cython examples: for building extensions"),
    "setuptools": (["setuptools/*"], "torch declares it for building C++ extensions; the app never imports it"),
    "sympy": (["sympy/parsing/*", "sympy/utilities/mathml/*"],
              "LaTeX-grammar and MathML files of sympy's parsers, which torch (symbolic shapes) never uses"),
    "networkx": (["networkx/generators/atlas.dat.gz"], "a graph atlas for networkx's generators; torch does not use it"),
}


def _requirements_closure(root: str) -> dict[str, metadata.Distribution]:
    """Every installed distribution ``root`` needs at run time (no extras), by normalised name."""
    found: dict[str, metadata.Distribution] = {}
    todo = [root]
    while todo:
        name = todo.pop()
        key = re.sub(r"[-_.]+", "-", name).lower()
        if key in found:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        found[key] = dist
        for text in dist.requires or []:
            req = Requirement(text)
            if req.marker is not None and not req.marker.evaluate({"extra": ""}):
                continue
            todo.append(req.name)
    return found


def _data_files(dist: metadata.Distribution) -> list[PurePosixPath]:
    out = []
    for file in dist.files or []:
        path = PurePosixPath(str(file))
        parts = path.parts
        if not parts or parts[0].endswith((".dist-info", ".egg-info", ".data")) or parts[0] in ("..", "bin", "Scripts"):
            continue
        if "__pycache__" in parts or path.suffix.lower() in CODE_SUFFIXES or len(parts) == 1:
            continue
        if any(fnmatch.fnmatch(str(path), pattern) for pattern in NEVER_NEEDED):
            continue
        out.append(path)
    return out


def _left_out(key: str, path: PurePosixPath) -> bool:
    return any(fnmatch.fnmatch(str(path), pattern) for pattern in DELIBERATELY_LEFT_OUT.get(key, ([], ""))[0])


def expected_files(root: str = "zimage-desktop") -> dict[str, tuple[Path, list[PurePosixPath]]]:
    """Per distribution: its site-packages folder and the data files the bundle must carry."""
    out = {}
    for key, dist in sorted(_requirements_closure(root).items()):
        files = [p for p in _data_files(dist) if not _left_out(key, p)]
        if files:
            out[key] = (Path(str(dist.locate_file(""))), files)
    return out


def distributions(root: str = "zimage-desktop") -> list[str]:
    """The names of every distribution ``root`` needs at run time (for the spec's copy_metadata)."""
    return [dist.metadata["Name"] for dist in _requirements_closure(root).values()]


def bundle_datas(root: str = "zimage-desktop") -> list[tuple[str, str]]:
    """PyInstaller ``datas`` entries (source file, destination folder) for every expected data file."""
    return [(str(base / path), str(path.parent)) for base, files in expected_files(root).values() for path in files]


def missing_files(bundle: Path, root: str = "zimage-desktop") -> dict[str, list[str]]:
    # A one-folder bundle keeps its files in _internal/; a macOS .app splits them between
    # Contents/Frameworks and Contents/Resources.
    places = [p for p in (bundle / "_internal", bundle / "Contents" / "Resources", bundle / "Contents" / "Frameworks")
              if p.is_dir()] or [bundle]
    report: dict[str, list[str]] = {}
    for key, (_, files) in expected_files(root).items():
        missing = [str(p) for p in files if not any((place / p).exists() for place in places)]
        if missing:
            report[key] = missing
    # Libraries check each other's versions through importlib.metadata at import (transformers does):
    # every distribution's metadata folder must be there too.
    for key, dist in _requirements_closure(root).items():
        info = Path(str(getattr(dist, "_path", ""))).name  # the folder name as installed, which copy_metadata keeps
        # An editable install of this project is found as the source tree's .egg-info by the spec.
        norm = re.sub(r"[-_.]+", "_", dist.metadata["Name"])
        names = {info, f"{norm}.egg-info", f"{norm}-{dist.version}.dist-info"}
        if info.endswith(".dist-info") and not any((place / name).is_dir() for place in places for name in names):
            report.setdefault(key, []).append(info)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundle", type=Path, help="the one-folder bundle, e.g. dist/zimage-desktop")
    args = parser.parse_args(argv)
    if not args.bundle.is_dir():
        print(f"{args.bundle} is not a folder", file=sys.stderr)
        return 2
    report = missing_files(args.bundle)
    checked = len(_requirements_closure("zimage-desktop"))
    if not report:
        print(f"bundle data check: the package data of {checked} distributions is in {args.bundle}")
        return 0
    print(f"bundle data check: package data missing from {args.bundle} "
          "(collect it in packaging/zimage-desktop.spec, or add it to DELIBERATELY_LEFT_OUT with the reason):")
    for key, files in report.items():
        shown = ", ".join(files[:8]) + (f" … ({len(files)} files)" if len(files) > 8 else "")
        print(f"  {key}: {shown}")
    return 1


if __name__ == "__main__":
    sys.exit(main())

"""The one build setting pyproject.toml cannot say: the top-level ``resources/`` folder ships inside the package.

DESIGN.md keeps the runtime data beside the package; installed (wheel, and the PyInstaller bundle by its spec)
it lies at ``zimage_desktop/resources``, where ``zimage_desktop.resource_root`` finds it. pyproject.toml's
``packages.find`` cannot add a package mapped from another folder, so the package list is made here: still
discovered, not listed, so that a package added to the tree can never be missing from the wheel again
(tests/test_wheel.py builds the wheel and compares it with the tree). Everything else is in pyproject.toml.
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["zimage_desktop", "zimage_desktop.*"]), "zimage_desktop.resources"],
    package_dir={"zimage_desktop.resources": "resources"},
)

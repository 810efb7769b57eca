#!/usr/bin/env bash
# Build "Z-Image Desktop.app" on macOS (Apple silicon uses MPS; torch from PyPI includes it):
#   bash packaging/build-macos.sh   ->  dist/Z-Image Desktop.app and dist/zimage-desktop-macos.zip
# Check it: "dist/Z-Image Desktop.app/Contents/MacOS/zimage-desktop-cli" self-test
# Not signed or notarised: first start with right-click -> Open.
set -euo pipefail
cd "$(dirname "$0")/.."
# Built from the lock: a new upstream release cannot change a release build unnoticed.
python -m pip install "$(grep -m1 '^torch==' packaging/requirements-lock.txt | cut -d' ' -f1)"
python -m pip install ".[packaging]" --constraint packaging/requirements-lock.txt
python -m PyInstaller --noconfirm --clean --distpath dist --workpath build/pyinstaller packaging/zimage-desktop.spec
python packaging/check_bundle.py "dist/Z-Image Desktop.app/Contents/Frameworks"
"dist/Z-Image Desktop.app/Contents/MacOS/zimage-desktop-cli" self-test
ditto -c -k --keepParent "dist/Z-Image Desktop.app" dist/zimage-desktop-macos.zip

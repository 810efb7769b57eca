#!/usr/bin/env bash
# Build "Z-Image Desktop.app" on macOS (Apple silicon uses MPS; torch from PyPI includes it):
#   bash packaging/build-macos.sh   ->  dist/Z-Image Desktop.app and dist/zimage-desktop-macos.zip
# Check it: "dist/Z-Image Desktop.app/Contents/MacOS/zimage-desktop-cli" self-test
# Not signed or notarised: first start with right-click -> Open.
set -euo pipefail
cd "$(dirname "$0")/.."
python -m pip install pyinstaller
python -m PyInstaller --noconfirm --clean --distpath dist --workpath build/pyinstaller packaging/zimage-desktop.spec
"dist/Z-Image Desktop.app/Contents/MacOS/zimage-desktop-cli" self-test
ditto -c -k --keepParent "dist/Z-Image Desktop.app" dist/zimage-desktop-macos.zip

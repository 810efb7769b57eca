#!/usr/bin/env bash
# Build the Linux one-folder bundle and a tarball with the desktop integration files.
#   bash packaging/build-linux.sh            -> dist/zimage-desktop/ and dist/zimage-desktop-linux-x86_64.tar.gz
# Needs: the project installed in the current Python from the lock and pyinstaller, as release builds do:
#   pip install "$(grep -m1 '^torch==' packaging/requirements-lock.txt)" --index-url <the torch build's index>
#   pip install -e ".[packaging]" --constraint packaging/requirements-lock.txt
set -euo pipefail
cd "$(dirname "$0")/.."
python -m PyInstaller --noconfirm --clean --log-level WARN --distpath dist --workpath build/pyinstaller \
    packaging/zimage-desktop.spec
bundle=dist/zimage-desktop
# Every package data file of the environment it was built from is in it (or deliberately left out).
python packaging/check_bundle.py "$bundle"
mkdir -p "$bundle/share/applications" "$bundle/share/metainfo"
cp packaging/linux/io.github.zimage_desktop.desktop "$bundle/share/applications/"
cp packaging/linux/io.github.zimage_desktop.metainfo.xml "$bundle/share/metainfo/"
for size in 16 24 32 48 64 128 256 512; do
    mkdir -p "$bundle/share/icons/hicolor/${size}x${size}/apps"
    cp "packaging/icons/zimage-desktop-$size.png" "$bundle/share/icons/hicolor/${size}x${size}/apps/io.github.zimage_desktop.png"
done
cp packaging/linux/install-bundle.sh "$bundle/install.sh"
if [ "${SKIP_TARBALL:-}" != "1" ]; then
    tar -C dist -czf "dist/zimage-desktop-linux-$(uname -m).tar.gz" zimage-desktop
fi
echo "built $bundle"

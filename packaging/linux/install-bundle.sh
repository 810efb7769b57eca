#!/usr/bin/env bash
# Install the unpacked bundle for the current user: a launcher, the menu entry and the icons.
# Uninstall: rm -r ~/.local/opt/zimage-desktop ~/.local/bin/zimage-desktop and the .desktop file;
# models and images stay where they are (~/.local/share/zimage-desktop, or your models folder).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
prefix="${PREFIX:-$HOME/.local}"
mkdir -p "$prefix/opt" "$prefix/bin"
if [ "$here" != "$prefix/opt/zimage-desktop" ]; then
    rm -rf "$prefix/opt/zimage-desktop"
    cp -r "$here" "$prefix/opt/zimage-desktop"
fi
ln -sf "$prefix/opt/zimage-desktop/zimage-desktop" "$prefix/bin/zimage-desktop"
mkdir -p "$prefix/share"
cp -r "$here/share/." "$prefix/share/"
sed -i "s|^Exec=zimage-desktop|Exec=$prefix/bin/zimage-desktop|" "$prefix/share/applications/io.github.zimage_desktop.desktop"
command -v update-desktop-database >/dev/null && update-desktop-database "$prefix/share/applications" || true
echo "Installed. Start it from the menu or run: $prefix/bin/zimage-desktop"

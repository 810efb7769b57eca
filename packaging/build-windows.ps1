# Build the Windows one-folder app (run in PowerShell on Windows, in the project's virtual environment
# with a CUDA build of torch installed, see packaging/install.ps1):
#   powershell -ExecutionPolicy Bypass -File packaging\build-windows.ps1
# Result: dist\zimage-desktop\zimage-desktop.exe (no console) and zimage-desktop-cli.exe (console).
# Check it: dist\zimage-desktop\zimage-desktop-cli.exe self-test
$ErrorActionPreference = "Stop"
Set-Location (Split-Path -Parent $PSScriptRoot)
python -m pip install pyinstaller
python -m PyInstaller --noconfirm --clean --distpath dist --workpath build\pyinstaller packaging\zimage-desktop.spec
& dist\zimage-desktop\zimage-desktop-cli.exe self-test
Compress-Archive -Force -Path dist\zimage-desktop -DestinationPath dist\zimage-desktop-windows-x64.zip

# Build the Windows one-folder app (run in PowerShell on Windows, in the project's virtual environment
# with a CUDA build of torch installed, see packaging/install.ps1):
#   powershell -ExecutionPolicy Bypass -File packaging\build-windows.ps1
# Result: dist\zimage-desktop\zimage-desktop.exe (no console) and zimage-desktop-cli.exe (console).
# Check it: dist\zimage-desktop\zimage-desktop-cli.exe self-test
$ErrorActionPreference = "Stop"
Set-Location (Split-Path -Parent $PSScriptRoot)
# Built from the lock (torch's CUDA build is the one install.ps1 put in this environment, at the locked version).
python -m pip install ".[packaging]" --constraint packaging\requirements-lock.txt
if ($LASTEXITCODE) { exit $LASTEXITCODE }
python -m PyInstaller --noconfirm --clean --distpath dist --workpath build\pyinstaller packaging\zimage-desktop.spec
python packaging\check_bundle.py dist\zimage-desktop
if ($LASTEXITCODE) { exit $LASTEXITCODE }
& dist\zimage-desktop\zimage-desktop-cli.exe self-test
Compress-Archive -Force -Path dist\zimage-desktop -DestinationPath dist\zimage-desktop-windows-x64.zip

# Install Z-Image Desktop from source on Windows with the right PyTorch, in one step:
#   powershell -ExecutionPolicy Bypass -File packaging\install.ps1        (add -DryRun to only print)
param([switch]$DryRun)
$ErrorActionPreference = "Stop"
Set-Location (Split-Path -Parent $PSScriptRoot)
$base = "https://download.pytorch.org/whl"
$index = "$base/cpu"
$why = "no NVIDIA GPU found: CPU build (slow, but it works)"
$smi = Get-Command nvidia-smi -ErrorAction SilentlyContinue
if ($smi) {
    $driver = (& nvidia-smi --query-gpu=driver_version --format=csv,noheader | Select-Object -First 1).Trim()
    $cap = ""
    try { $cap = (& nvidia-smi --query-gpu=compute_cap --format=csv,noheader | Select-Object -First 1).Trim() } catch {}
    $major = [int]($driver.Split(".")[0])
    $capMajor = if ($cap) { [int]($cap.Split(".")[0]) } else { 9 }
    if ($major -ge 570 -and $capMajor -ge 7) { $cuda = "cu128" }
    elseif ($major -ge 560) { $cuda = "cu126" }
    elseif ($major -ge 525) { $cuda = "cu118" }
    else { $cuda = "cpu"; Write-Warning "The NVIDIA driver $driver is too old for current PyTorch; update it." }
    $index = "$base/$cuda"
    $why = "NVIDIA driver $driver, compute capability $cap`: $cuda"
}
Write-Host "PyTorch: $why"
# Exact versions from the lock (refreshed on purpose with packaging/lock.sh), as constraints: only what the
# app needs is installed, at the locked version; torch's build still comes from the index chosen above.
$lock = "packaging\requirements-lock.txt"
$torchPin = (Select-String -Path $lock -Pattern '^torch==' | Select-Object -First 1).Line.Split(" ")[0]
# Outside a virtual environment, make one: installs into a shared Python break other programs.
$python = "python"
$commands = @()
$inVenv = (& python -c "import sys; print(sys.prefix != sys.base_prefix)") -eq "True"
if (-not $inVenv) {
    $venv = if ($env:ZIMAGE_VENV) { $env:ZIMAGE_VENV } else { Join-Path $env:LOCALAPPDATA "zimage-desktop\venv" }
    Write-Host "Not in a virtual environment: installing into $venv"
    if (-not (Test-Path (Join-Path $venv "Scripts\python.exe"))) { $commands += "python -m venv `"$venv`"" }
    $python = "`"$(Join-Path $venv 'Scripts\python.exe')`""
}
# One retry and a 20 s timeout: an index that does not answer costs seconds, not minutes.
$commands += @("& $python -m pip install $torchPin --index-url $index --retries 1 --timeout 20",
               "& $python -m pip install . --constraint $lock --retries 1 --timeout 20")
foreach ($c in $commands) {
    if ($DryRun) { Write-Host $c } else { Invoke-Expression $c; if ($LASTEXITCODE) { exit $LASTEXITCODE } }
}
$exe = if ($inVenv) { "zimage-desktop" } else { Join-Path $venv "Scripts\zimage-desktop.exe" }
Write-Host "Done: start the app with  $exe"
Write-Host "To try the window before the 8.5 GB download: $exe self-test --keep tiny, then point Settings > Models folder at tiny\models\comfy."

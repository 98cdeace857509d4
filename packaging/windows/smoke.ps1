# Spare on a real Windows 10/11 PC with an NVIDIA GPU: the checks that
# cannot run on Linux. Run in PowerShell as the user who will use Spare
# (not elevated), from the folder holding spare-setup.exe:
#
#   powershell -ExecutionPolicy Bypass -File smoke.ps1 [-Setup .\spare-setup.exe] [-KeepInstalled]
#
# Each step prints PASS, FAIL or SKIP with what it saw; the script goes on
# after a failure where later steps still mean something, and exits with
# the number of failures.
param(
  [string]$Setup = ".\spare-setup.exe",
  [switch]$KeepInstalled
)
$ErrorActionPreference = "Continue"
$fails = 0
function Step($name, [scriptblock]$check) {
  try {
    $r = & $check
    if ($r -is [string] -and $r.StartsWith("SKIP")) { Write-Host "SKIP  $name - $r"; return }
    if ($r) { Write-Host "PASS  $name - $r" } else { Write-Host "FAIL  $name"; $script:fails++ }
  } catch {
    Write-Host "FAIL  $name - $($_.Exception.Message)"; $script:fails++
  }
}
$wsl = Join-Path $env:SystemRoot "System32\wsl.exe"
$inst = Join-Path $env:LOCALAPPDATA "Programs\Spare"
$spare = Join-Path $inst "spare.exe"
$env:WSL_UTF8 = "1"

Step "host: WSL2 installed (wsl --status)" {
  & $wsl --status | Out-Null; if ($LASTEXITCODE -ne 0) { throw "wsl --status exit $LASTEXITCODE: run 'wsl --install --no-distribution' as administrator and restart" }; "ok"
}
Step "host: NVIDIA driver with WSL2 CUDA (System32\lxss\lib\libcuda.so)" {
  $p = Join-Path $env:SystemRoot "System32\lxss\lib\libcuda.so"; if (-not (Test-Path $p)) { throw "missing $p: install the current NVIDIA driver" }; $p
}
Step "install: $Setup /S" {
  $p = Start-Process -FilePath $Setup -ArgumentList "/S" -Wait -PassThru
  if ($p.ExitCode -ne 0) { throw "exit $($p.ExitCode)" }; "exit 0"
}
Step "install: files in $inst" { (Test-Path $spare) -and (Test-Path (Join-Path $inst "distro\spare-wsl.tar")) -and (Test-Path (Join-Path $inst "LICENSE.txt")) -and (Test-Path (Join-Path $inst "NOTICES.txt")) }
Step "install: start at login (HKCU Run value Spare)" {
  (Get-ItemProperty "HKCU:\Software\Microsoft\Windows\CurrentVersion\Run").Spare
}
Step "first run: the app opens and imports the distribution 'Spare'" {
  Start-Process -FilePath $spare | Out-Null
  $deadline = (Get-Date).AddMinutes(5)
  while ((Get-Date) -lt $deadline) {
    $d = (& $wsl --list --quiet) -join " "
    if ($d -match "\bSpare\b") { return "distribution listed after $([int]((Get-Date) - $deadline.AddMinutes(-5)).TotalSeconds) s" }
    Start-Sleep -Seconds 2
  }
  throw "no distribution 'Spare' within 5 minutes (wsl --list: $d)"
}
Step "bridge: the daemon answers through 'wsl -d Spare -- spare bridge'" {
  $req = "GET /v1/status HTTP/1.1`r`nHost: spare`r`nConnection: close`r`n`r`n"
  $out = $req | & $wsl -d Spare -- spare bridge --data /var/lib/spare
  if (-not ($out -join "`n").Contains("SPARE-BRIDGE/1 ok")) { throw "bridge said: $out" }
  ($out | Select-String '"state"').Line
}
Step "GPU: the distribution sees the GPU (nvidia-smi in WSL)" {
  $o = & $wsl -d Spare -- /usr/lib/wsl/lib/nvidia-smi -L; if ($LASTEXITCODE -ne 0) { throw "nvidia-smi: $o" }; $o -join "; "
}
Step "GPU: the daemon wrote the WSL CDI spec (/var/run/cdi/spare-wsl-nvidia.yaml names the GPU)" {
  $o = & $wsl -d Spare -- cat /var/run/cdi/spare-wsl-nvidia.yaml; if (-not (($o -join "`n") -match "name: GPU-")) { throw "spec: $o" }; ($o | Select-String "name: GPU-").Line.Trim()
}
Step "isolation: no Windows interop inside the distribution (cmd.exe does not run there)" {
  $o = & $wsl -d Spare -- sh -c '/mnt/c/Windows/System32/cmd.exe /c ver >/dev/null 2>&1 && echo ran || echo refused'
  if (($o -join "") -ne "refused") { throw "cmd.exe $o inside the distribution" }; "interop off"
}
Step "job: a reference job runs on the GPU (spare run probe)" {
  $o = & $wsl -d Spare -- spare run --json probe; if ($LASTEXITCODE -ne 0) { throw "spare run: $o" }; ($o -join " ").Substring(0, [Math]::Min(200, ($o -join " ").Length))
}
Step "give-back: moving the mouse freezes work (Frozen or Waiting within 2 s)" {
  Add-Type -AssemblyName System.Windows.Forms
  $pos = [System.Windows.Forms.Cursor]::Position
  [System.Windows.Forms.Cursor]::Position = New-Object System.Drawing.Point(($pos.X + 40), ($pos.Y + 40))
  Start-Sleep -Seconds 2
  $s = & $wsl -d Spare -- spare --data /var/lib/spare status --json | ConvertFrom-Json
  if ($s.state -notin @("Frozen", "Waiting", "Paused")) { throw "state $($s.state) after input" }; "state $($s.state): $($s.sentence)"
}
# The tray split: the first run is one process (its window shows the
# import); every start after is a small tray process that starts the
# window process (spare.exe --window) and the daemon. Wine cannot show a
# notification-area icon; these steps, and the manual ones below, can.
function SpareProcs { Get-CimInstance Win32_Process -Filter "Name='spare.exe'" }
Step "tray: a new start is a tray process and a window process (--window), with their working sets" {
  SpareProcs | ForEach-Object { Stop-Process -Id $_.ProcessId -Force }
  Start-Process -FilePath $spare | Out-Null
  $deadline = (Get-Date).AddSeconds(30)
  do { Start-Sleep -Seconds 1; $p = @(SpareProcs) } while ($p.Count -lt 2 -and (Get-Date) -lt $deadline)
  $tray = @($p | Where-Object { $_.CommandLine -notmatch "--window" }); $win = @($p | Where-Object { $_.CommandLine -match "--window" })
  if ($tray.Count -ne 1 -or $win.Count -ne 1) { throw "spare.exe processes: $(($p | ForEach-Object { $_.CommandLine }) -join ' | ')" }
  "tray $([int]($tray[0].WorkingSetSize / 1MB)) MB, window $([int]($win[0].WorkingSetSize / 1MB)) MB"
}
Step "tray: closing the window ends the window process only" {
  $win = SpareProcs | Where-Object { $_.CommandLine -match "--window" }
  if (-not (Get-Process -Id $win.ProcessId).CloseMainWindow()) { throw "the window process has no main window" }
  Start-Sleep -Seconds 5
  if (Get-Process -Id $win.ProcessId -ErrorAction SilentlyContinue) { throw "the window process runs 5 s after its window closed" }
  $tray = @(SpareProcs); if ($tray.Count -ne 1) { throw "$($tray.Count) spare.exe processes left, want the tray's" }; "tray $($tray[0].ProcessId) runs"
}
Step "tray: the daemon runs on with the window closed (spare status in the distribution)" {
  $s = & $wsl -d Spare -- spare --data /var/lib/spare status --json | ConvertFrom-Json; "state $($s.state)"
}
Step "tray: a killed tray process takes its window process with it (job object)" {
  SpareProcs | ForEach-Object { Stop-Process -Id $_.ProcessId -Force }
  Start-Process -FilePath $spare | Out-Null
  $deadline = (Get-Date).AddSeconds(30)
  do { Start-Sleep -Seconds 1; $p = @(SpareProcs) } while ($p.Count -lt 2 -and (Get-Date) -lt $deadline)
  $tray = $p | Where-Object { $_.CommandLine -notmatch "--window" }
  if (@($tray).Count -ne 1) { throw "spare.exe processes: $(($p | ForEach-Object { $_.CommandLine }) -join ' | ')" }
  Stop-Process -Id $tray.ProcessId -Force
  Start-Sleep -Seconds 3
  $left = @(SpareProcs); if ($left.Count -ne 0) { throw "left running: $(($left | ForEach-Object { $_.CommandLine }) -join ' | ')" }; "none left"
}
Step "tray: End task stops the daemon through the bridge, then Spare's distribution (wsl --terminate)" {
  Start-Process -FilePath $spare | Out-Null
  $deadline = (Get-Date).AddSeconds(60)
  do { Start-Sleep -Seconds 1; $up = & $wsl -d Spare -- spare --data /var/lib/spare status --json 2>$null } while (-not $up -and (Get-Date) -lt $deadline)
  if (-not $up) { throw "no daemon answered within a minute of the tray's start" }
  & taskkill.exe /IM spare.exe | Out-Null
  $deadline = (Get-Date).AddSeconds(60)
  do { Start-Sleep -Seconds 1 } while (@(SpareProcs).Count -gt 0 -and (Get-Date) -lt $deadline)
  if (@(SpareProcs).Count -gt 0) { throw "spare.exe still runs a minute after End task" }
  $running = ((& $wsl --list --running --quiet) -join " ") -replace "`0", ""
  if ($running -match "\bSpare\b") { throw "Spare's distribution still runs: $running" }
  "the tray ended, and Spare's distribution with it"
}
Write-Host "MANUAL  tray: the Spare icon shows in the notification area and changes with the state (Waiting, Earning, Paused)"
Write-Host "MANUAL  tray: its menu's Pause for 1 hour, Resume and Open Spare work; clicking the icon opens or raises the window"
Write-Host "MANUAL  tray: a notification (e.g. Pause from the menu while the window is closed) shows as a toast"
Write-Host "MANUAL  tray: Quit ends both processes, and 'wsl --list --running' then no longer lists Spare"
if ($KeepInstalled) { Write-Host "SKIP  uninstall - -KeepInstalled" } else {
  Step "uninstall: uninstall.exe /S" {
    Get-Process spare -ErrorAction SilentlyContinue | Stop-Process -Force
    $p = Start-Process -FilePath (Join-Path $inst "uninstall.exe") -ArgumentList "/S", "_?=$inst" -Wait -PassThru
    if ($p.ExitCode -ne 0) { throw "exit $($p.ExitCode)" }; "exit 0"
  }
  Step "uninstall: the distribution is gone" { -not ((& $wsl --list --quiet) -join " " -match "\bSpare\b") }
  Step "uninstall: the wallet is kept in %LOCALAPPDATA%\Spare\wallet" {
    $k = Join-Path $env:LOCALAPPDATA "Spare\wallet\keystore"; if (-not (Test-Path $k)) { throw "no $k" }; $k
  }
  Step "uninstall: no Run value" { -not (Get-ItemProperty "HKCU:\Software\Microsoft\Windows\CurrentVersion\Run").Spare }
}
Write-Host "$fails failed"
exit $fails

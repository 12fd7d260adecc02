<#
.SYNOPSIS
  Silent install of the SCM printer-fleet agent as a Windows service.

.EXAMPLE
  powershell -ExecutionPolicy Bypass -File install.ps1 -Server https://ingest.example -Token scm-enroll-XXXX

.DESCRIPTION
  Copies scm-agent.exe to "%ProgramFiles%\SCM Agent", creates "%ProgramData%\SCM Agent" readable
  only by SYSTEM and Administrators (it holds the agent key, the spool and SNMP credentials),
  writes the default agent.toml there, enrolls the agent (skipped when already enrolled),
  registers the "SCMAgent" service (automatic start, LocalSystem, restart on failure) and starts
  it.  Re-running upgrades the binary in place.  Exit code 0 on success, non-zero otherwise.
#>
[CmdletBinding()]
param(
  [Parameter(Mandatory = $true)][string]$Server,
  [Parameter(Mandatory = $true)][string]$Token,
  [string]$Binary = (Join-Path $PSScriptRoot "scm-agent.exe"),
  [string]$InstallDir = (Join-Path $env:ProgramFiles "SCM Agent")
)
$ErrorActionPreference = "Stop"
$DataDir = Join-Path $env:ProgramData "SCM Agent"
$Exe = Join-Path $InstallDir "scm-agent.exe"
$ServiceName = "SCMAgent"

if (-not ([Security.Principal.WindowsPrincipal][Security.Principal.WindowsIdentity]::GetCurrent()).IsInRole(
    [Security.Principal.WindowsBuiltInRole]::Administrator)) {
  Write-Error "install.ps1 must run as Administrator"; exit 1
}

$existing = Get-Service -Name $ServiceName -ErrorAction SilentlyContinue
if ($existing -and $existing.Status -ne "Stopped") { Stop-Service -Name $ServiceName -Force }

New-Item -ItemType Directory -Force -Path $InstallDir, $DataDir | Out-Null
Copy-Item -Force $Binary $Exe

# The state folder: SYSTEM and Administrators only, inheritance cut (key, spool, credentials).
icacls $DataDir /inheritance:r /grant:r "*S-1-5-18:(OI)(CI)F" "*S-1-5-32-544:(OI)(CI)F" | Out-Null

$Toml = Join-Path $DataDir "agent.toml"
$TomlSource = Join-Path $PSScriptRoot "agent.toml"
if (-not (Test-Path $Toml) -and (Test-Path $TomlSource)) { Copy-Item $TomlSource $Toml }

$env:SCM_AGENT_HOME = $DataDir
if (-not (Test-Path (Join-Path $DataDir "identity.json"))) {
  & $Exe enroll --server $Server --token $Token
  if ($LASTEXITCODE -ne 0) { Write-Error "enrollment failed ($LASTEXITCODE)"; exit $LASTEXITCODE }
}

if (-not $existing) {
  & $Exe service install
  if ($LASTEXITCODE -ne 0) { Write-Error "service registration failed"; exit $LASTEXITCODE }
}
# Restart after 1 minute on each of the first three failures; reset the count after a day.
sc.exe failure $ServiceName reset= 86400 actions= restart/60000/restart/60000/restart/60000 | Out-Null
Start-Service -Name $ServiceName
Write-Output "SCM Agent installed and running (service $ServiceName, data in $DataDir)"
exit 0

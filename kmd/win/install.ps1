# SPDX-License-Identifier: MIT
#
# install.ps1: install or remove the virgo kernel driver package (virgo.sys,
# virgo.inf, virgo.cat) on a Windows 10+ x64 VM. Run as Administrator from
# the package folder. NOT YET RUN ON WINDOWS: written from Microsoft's
# documentation of pnputil, bcdedit and the PKI module.
#
#   .\install.ps1              trust the test certificate, install the driver
#   .\install.ps1 -Uninstall   remove the driver package and the certificate
#
# Test signing must be on first (the driver is signed by a test certificate
# that the build made; Windows loads such drivers only in test mode):
#   bcdedit /set testsigning on      then reboot (Secure Boot must be off)
#
# The OpenGL part (ICD registration under OpenGLDrivers\MSOGL) joins this
# script when the user-mode DLLs exist (issue 6, item 4).
param([switch]$Uninstall)
$ErrorActionPreference = 'Stop'
$here = Split-Path -Parent $MyInvocation.MyCommand.Path
$cer = Join-Path $here 'virgo-test.cer'
$inf = Join-Path $here 'virgo.inf'

function Test-Admin {
    $p = New-Object Security.Principal.WindowsPrincipal([Security.Principal.WindowsIdentity]::GetCurrent())
    return $p.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)
}
if (-not (Test-Admin)) { throw 'Run this script as Administrator.' }

$thumb = (New-Object Security.Cryptography.X509Certificates.X509Certificate2($cer)).Thumbprint

if ($Uninstall) {
    # Every oemNN.inf that is a copy of virgo.inf goes, with its devices.
    $drivers = pnputil /enum-drivers | Out-String
    foreach ($block in ($drivers -split "(\r?\n){2,}")) {
        if ($block -match 'Original Name:\s+virgo\.inf' -and $block -match 'Published Name:\s+(oem\d+\.inf)') {
            Write-Host "removing $($Matches[1])"
            pnputil /delete-driver $Matches[1] /uninstall /force | Out-Host
        }
    }
    foreach ($store in 'Root', 'TrustedPublisher') {
        Get-ChildItem "Cert:\LocalMachine\$store" | Where-Object Thumbprint -eq $thumb | Remove-Item
    }
    Write-Host 'virgo removed.'
    exit 0
}

$ts = bcdedit /enum '{current}' | Select-String -Pattern 'testsigning\s+Yes'
if (-not $ts) {
    Write-Warning 'Test signing is off: Windows will refuse to load virgo.sys (Code 52).'
    Write-Warning 'Run "bcdedit /set testsigning on", reboot, and run this script again.'
}

# Root: the signature chains to a trusted root. TrustedPublisher: Windows
# installs the package without asking whether to trust its publisher.
foreach ($store in 'Root', 'TrustedPublisher') {
    Import-Certificate -FilePath $cer -CertStoreLocation "Cert:\LocalMachine\$store" | Out-Null
}
pnputil /add-driver $inf /install | Out-Host
if ($LASTEXITCODE -ne 0 -and $LASTEXITCODE -ne 3010) { throw "pnputil failed ($LASTEXITCODE)" }
Write-Host 'virgo installed. Device Manager lists it under "System devices".'

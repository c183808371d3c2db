# SPDX-License-Identifier: MIT
#
# install.ps1: install or remove virgo on a Windows 10+ x64 VM: the kernel
# driver package (virgo.sys, virgo.inf, virgo.cat), its test certificate, and
# the OpenGL ICD (virgo_icd64.dll, registered system-wide). Run as
# Administrator from the package folder, in 64-bit PowerShell (install.cmd
# does both). NOT YET RUN ON WINDOWS: written from Microsoft's documentation
# of pnputil, bcdedit, the PKI module and the registry provider, and from how
# Mesa documents a system-wide ICD.
#
#   .\install.ps1                      certificate, driver, ICD
#   .\install.ps1 -Uninstall           remove all three again
#   .\install.ps1 -Force               also when another OpenGL driver holds
#                                      the MSOGL registration (it is saved to
#                                      MSOGL-before-virgo.reg here, and put
#                                      back by -Uninstall)
#
# Test signing must be on first (the driver is signed by a test certificate
# that the build made; Windows loads such drivers only in test mode):
#   bcdedit /set testsigning on      then reboot (Secure Boot must be off)
#
# The ICD registration. Windows' opengl32.dll asks the display adapter's
# driver which ICD to load; a VM's desktop adapter (std VGA: Microsoft Basic
# Display Adapter) names none, and opengl32 then falls back to the key
#   HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion\OpenGLDrivers\MSOGL
# with the values DLL (REG_SZ, the ICD's file name, loaded from System32),
# DriverVersion, Flags and Version (REG_DWORD). Mesa's documentation
# (docs/drivers/llvmpipe.rst, "Windows") gives DriverVersion=1, Flags=1,
# Version=2 for its own ICD, as mesa-dist-win's system-wide deployment and
# VirtualBox's old guest ICD (key VBoxOGL) write them; Microsoft's ICD
# documentation says bit 0 of the flags "is set for compatibility". virgo
# writes the same. Only a 64-bit ICD exists, so nothing goes to SysWOW64 or
# WOW6432Node: 32-bit programs keep Windows' own OpenGL.
#
# Every step says what it does; the first error stops the script. Each step
# can run again: after a failure, fix the cause and run the script again.
param([switch]$Uninstall, [switch]$Force)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 2

$here = Split-Path -Parent $MyInvocation.MyCommand.Path
$cer = Join-Path $here 'virgo-test.cer'
$inf = Join-Path $here 'virgo.inf'
$icdName = 'virgo_icd64.dll'
$icdSrc = Join-Path $here $icdName
$icdDst = Join-Path $env:SystemRoot "System32\$icdName"
$msogl = 'HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion\OpenGLDrivers\MSOGL'
$msoglReg = 'HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion\OpenGLDrivers\MSOGL'
$backup = Join-Path $here 'MSOGL-before-virgo.reg'

function Step([string]$what) { Write-Host "virgo: $what" }

# ---- checks before anything changes ------------------------------------------------
$p = New-Object Security.Principal.WindowsPrincipal([Security.Principal.WindowsIdentity]::GetCurrent())
if (-not $p.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)) {
    throw 'Run this script as Administrator.'
}
# A 32-bit PowerShell would see SysWOW64 as System32 and WOW6432Node as
# SOFTWARE: the 64-bit ICD would land where no 64-bit program looks.
if (-not [Environment]::Is64BitOperatingSystem) { throw 'virgo is for 64-bit Windows only.' }
if (-not [Environment]::Is64BitProcess) {
    throw 'Run this script in 64-bit PowerShell (install.cmd picks it).'
}
foreach ($f in @($cer, $inf)) {
    if (-not (Test-Path -LiteralPath $f)) { throw "$f is missing: run this script from the virgo package folder." }
}
$thumb = (New-Object Security.Cryptography.X509Certificates.X509Certificate2($cer)).Thumbprint

# The DLL value of MSOGL, or $null when the key or the value is absent.
function Get-MsoglDll {
    $k = Get-ItemProperty -LiteralPath $msogl -ErrorAction SilentlyContinue
    if ($k -and ($k.PSObject.Properties.Name -contains 'DLL')) { return [string]$k.DLL }
    return $null
}
# Ours: the bare file name, or a path ending in it.
function Test-OurDll([string]$dll) {
    return $dll -and ([IO.Path]::GetFileName($dll) -ieq $icdName)
}

# ---- uninstall -------------------------------------------------------------------------
if ($Uninstall) {
    # 1. The registration first, so that no new program loads the DLL.
    $dll = Get-MsoglDll
    if (Test-OurDll $dll) {
        Step "removing the ICD registration $msoglReg (DLL=$dll)"
        Remove-Item -LiteralPath $msogl -Recurse
    } elseif ($dll) {
        Step "$msoglReg names $dll, not virgo: left alone"
    } else {
        Step 'no virgo ICD registration'
    }
    if ((Test-Path -LiteralPath $backup) -and -not (Get-MsoglDll)) {
        Step "restoring the previous OpenGL driver registration from $backup"
        reg.exe import $backup | Out-Host
        if ($LASTEXITCODE -ne 0) { throw "reg import $backup failed ($LASTEXITCODE)" }
        Rename-Item -LiteralPath $backup -NewName 'MSOGL-before-virgo.reg.restored' -Force
    }

    # 2. The DLL. A running OpenGL program keeps it loaded and the delete
    #    fails: close such programs and run -Uninstall again.
    if (Test-Path -LiteralPath $icdDst) {
        Step "deleting $icdDst"
        try {
            Remove-Item -LiteralPath $icdDst -Force
        } catch {
            throw "cannot delete $icdDst (is an OpenGL program still running? close it and run again): $_"
        }
    }

    # 3. The driver: every oemNN.inf that is a copy of virgo.inf, with its
    #    devices. (pnputil's output is parsed: English Windows assumed.)
    $drivers = pnputil /enum-drivers | Out-String
    if ($LASTEXITCODE -ne 0) { throw "pnputil /enum-drivers failed ($LASTEXITCODE)" }
    foreach ($block in ($drivers -split "(?:\r?\n){2,}")) {
        if ($block -match 'Original Name:\s+virgo\.inf' -and $block -match 'Published Name:\s+(oem\d+\.inf)') {
            $oem = $Matches[1]
            Step "removing the driver package $oem"
            pnputil /delete-driver $oem /uninstall /force | Out-Host
            if ($LASTEXITCODE -ne 0 -and $LASTEXITCODE -ne 3010) { throw "pnputil /delete-driver $oem failed ($LASTEXITCODE)" }
        }
    }

    # 4. The certificate, last: nothing signed by it is left.
    foreach ($store in 'Root', 'TrustedPublisher') {
        $certs = @(Get-ChildItem "Cert:\LocalMachine\$store" | Where-Object Thumbprint -eq $thumb)
        foreach ($c in $certs) {
            Step "removing the test certificate $thumb from LocalMachine\$store"
            $c | Remove-Item
        }
    }
    Step 'removed. Turn test signing off with "bcdedit /set testsigning off" if nothing else needs it.'
    exit 0
}

# ---- install ---------------------------------------------------------------------------
foreach ($f in @((Join-Path $here 'virgo.sys'), (Join-Path $here 'virgo.cat'), $icdSrc)) {
    if (-not (Test-Path -LiteralPath $f)) { throw "$f is missing: the package is incomplete." }
}
# Someone else's OpenGL driver (e.g. Mesa installed system-wide) holds the
# fallback registration: replacing it silently would break what it serves.
$dll = Get-MsoglDll
if ($dll -and -not (Test-OurDll $dll) -and -not $Force) {
    throw "$msoglReg already names $dll (another OpenGL driver). Remove that first, or run with -Force to replace it (it is saved and put back by -Uninstall)."
}

$ts = bcdedit /enum '{current}' | Select-String -Pattern 'testsigning\s+Yes'
if (-not $ts) {
    Write-Warning 'Test signing is off: Windows will refuse to load virgo.sys (Code 52).'
    Write-Warning 'Run "bcdedit /set testsigning on", reboot, and run this script again.'
}

# 1. Root: the signature chains to a trusted root. TrustedPublisher: Windows
#    installs the package without asking whether to trust its publisher.
foreach ($store in 'Root', 'TrustedPublisher') {
    Step "importing the test certificate $thumb into LocalMachine\$store"
    Import-Certificate -FilePath $cer -CertStoreLocation "Cert:\LocalMachine\$store" | Out-Null
}

# 2. The driver package, installed on the matching device if present.
Step "installing the driver package: pnputil /add-driver $inf /install"
pnputil /add-driver $inf /install | Out-Host
if ($LASTEXITCODE -ne 0 -and $LASTEXITCODE -ne 3010) { throw "pnputil failed ($LASTEXITCODE)" }
if ($LASTEXITCODE -eq 3010) { Write-Warning 'Windows asks for a reboot to finish the driver installation.' }

# 3. The ICD: the DLL into System32, then the registration that points at
#    it (in this order: a registration must never name a missing file).
Step "copying $icdName to $icdDst"
try {
    Copy-Item -LiteralPath $icdSrc -Destination $icdDst -Force
} catch {
    throw "cannot write $icdDst (is an OpenGL program using the old one? close it and run again): $_"
}
if ($dll -and -not (Test-OurDll $dll)) {
    Step "saving the current registration ($dll) to $backup"
    reg.exe export $msoglReg $backup /y | Out-Host
    if ($LASTEXITCODE -ne 0) { throw "reg export $msoglReg failed ($LASTEXITCODE)" }
}
Step "registering the ICD: $msoglReg DLL=$icdName DriverVersion=1 Flags=1 Version=2"
# A fresh key, removed and made explicitly rather than by New-Item -Force
# (which silently replaces an existing key): what was there is ours, or
# was saved above.
if (Test-Path -LiteralPath $msogl) { Remove-Item -LiteralPath $msogl -Recurse }
$parent = Split-Path -Parent $msogl
if (-not (Test-Path -LiteralPath $parent)) { New-Item -Path $parent | Out-Null }
New-Item -Path $msogl | Out-Null
New-ItemProperty -LiteralPath $msogl -Name 'DLL' -PropertyType String -Value $icdName -Force | Out-Null
New-ItemProperty -LiteralPath $msogl -Name 'DriverVersion' -PropertyType DWord -Value 1 -Force | Out-Null
New-ItemProperty -LiteralPath $msogl -Name 'Flags' -PropertyType DWord -Value 1 -Force | Out-Null
New-ItemProperty -LiteralPath $msogl -Name 'Version' -PropertyType DWord -Value 2 -Force | Out-Null

Step 'installed. Device Manager lists it under "System devices"; run virgo-info.exe to check.'

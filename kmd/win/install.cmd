@echo off
rem SPDX-License-Identifier: MIT
rem install.cmd: runs install.ps1 (same arguments: none, -Uninstall, -Force)
rem as Administrator without changing the machine's PowerShell policy.
rem NOT YET RUN ON WINDOWS.
setlocal
net session >nul 2>&1
if errorlevel 1 (
    echo Run this from an Administrator command prompt.
    exit /b 1
)
rem The 64-bit PowerShell even from a 32-bit command prompt: a 32-bit one
rem would see SysWOW64 as System32 and put the 64-bit ICD where no 64-bit
rem program looks (Sysnative exists only as seen from 32-bit programs).
set "PS=%SystemRoot%\System32\WindowsPowerShell\v1.0\powershell.exe"
if exist "%SystemRoot%\Sysnative\WindowsPowerShell\v1.0\powershell.exe" (
    set "PS=%SystemRoot%\Sysnative\WindowsPowerShell\v1.0\powershell.exe"
)
"%PS%" -NoProfile -ExecutionPolicy Bypass -File "%~dp0install.ps1" %*
exit /b %errorlevel%

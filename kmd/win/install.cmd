@echo off
rem SPDX-License-Identifier: MIT
rem install.cmd: runs install.ps1 (same arguments: none, or -Uninstall) as
rem Administrator without changing the machine's PowerShell policy.
rem NOT YET RUN ON WINDOWS.
net session >nul 2>&1
if errorlevel 1 (
    echo Run this from an Administrator command prompt.
    exit /b 1
)
powershell -NoProfile -ExecutionPolicy Bypass -File "%~dp0install.ps1" %*
exit /b %errorlevel%

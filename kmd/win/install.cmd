@echo off
rem SPDX-License-Identifier: MIT
rem install.cmd: installs virgo from this folder (virgo-install.exe, which
rem says what it checks and does; same arguments: none, -ReplaceDriver,
rem -Force, -Uninstall, -Help). Run it from an Administrator command prompt.
rem NOT YET RUN ON WINDOWS.
setlocal
net session >nul 2>&1
if errorlevel 1 (
    echo Run this from an Administrator command prompt.
    exit /b 1
)
"%~dp0virgo-install.exe" %*
exit /b %errorlevel%

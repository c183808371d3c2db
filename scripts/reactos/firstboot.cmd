@echo off
rem SPDX-License-Identifier: MIT
rem scripts/reactos/firstboot.cmd: the base image's last step, at its first
rem logon (GuiRunOnce). virgo's driver logs its informational lines at
rem DPFLTR_INFO_LEVEL, which the kernel drops unless the IHVDRIVER debug print
rem filter lets them through (as on Windows); the kernel reads the filter at
rem boot. Every later logon runs C:\virgo\boot.cmd when a test run put one
rem there (run.sh).
reg add "HKLM\SYSTEM\CurrentControlSet\Control\Session Manager\Debug Print Filter" /v IHVDRIVER /t REG_DWORD /d 15 /f
reg add "HKLM\Software\Microsoft\Windows\CurrentVersion\Run" /v virgo /t REG_SZ /d "%SystemRoot%\system32\cmd.exe /c C:\virgo\boot.cmd" /f
echo VIRGO-BASE-READY > COM2
shutdown -s -t 0

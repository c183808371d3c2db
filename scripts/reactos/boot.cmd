@echo off
rem SPDX-License-Identifier: MIT
rem scripts/reactos/boot.cmd: a test run inside ReactOS (run.sh puts it at
rem C:\virgo\boot.cmd with the x86 package in C:\virgo\pkg and the test
rem programs in C:\virgo\tests). The driver is installed the way a user
rem installs it, by the package's own installer from its INF; then
rem rostest.exe checks everything and writes its lines to COM2. The last
rem step powers the machine off, which ends the run.
if exist C:\virgo\done.txt goto :eof
echo done > C:\virgo\done.txt
echo BEGIN install > COM2
cd /d C:\virgo\pkg
virgo-install.exe > C:\virgo\install.log 2>&1
echo INSTALL exit %errorlevel% >> C:\virgo\install.log
type C:\virgo\install.log > COM2
C:\virgo\tests\rostest.exe all C:\virgo\tests
shutdown -s -t 0

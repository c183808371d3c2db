#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# tests/wine/demo.sh [--out PNG]: a Windows GL program (gl_demo.exe: a
# colour-blended triangle on a dark gradient) under Wine on Xvfb; its window
# is grabbed from the screen, cropped to the client area and written to
# build/demo.png (or PNG). VIRGO_WIN_DLLS=DIR draws it with our DLLs through
# virgo-host instead of Wine's builtin opengl32: see run-gl.sh.
exec bash "$(dirname "$0")/run-gl.sh" --demo "$@"

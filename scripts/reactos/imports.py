#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""imports.py SRC VERSION FILE...: every function each PE FILE imports
from a system DLL, looked up in the ReactOS source tree SRC's export specs
(dll/**/NAME.spec, win32ss/**/NAME.spec, ntoskrnl/ntoskrnl.spec,
hal/hal.spec) for x86 and the
DLL_EXPORT_VERSION the tree was built with (0x600 here). A missing one
means Windows' loader on ReactOS refuses the image, which on a test run
shows only as a program that never starts: this says which before the
hour-long boot. Prints one line per missing import; exit 1 if any.

Spec lines look like "@ stdcall -version=0x600+ -arch=i386 Name(args)";
an entry without -version is in every build, "-version=A-B" is a range,
"-version=A+" from A on.
"""
import glob
import os
import re
import struct
import subprocess
import sys


def spec_exports(path, version):
    names = set()
    for line in open(path, encoding="latin-1"):
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith(";"):
            continue
        parts = line.split()
        if parts[0] not in ("@",) and not parts[0].isdigit():
            continue
        ok = True
        name = None
        for p in parts[2:]:
            if p.startswith("-version="):
                v = p[len("-version="):]
                if v.endswith("+"):
                    ok &= version >= int(v[:-1], 16)
                elif "-" in v:
                    lo, hi = v.split("-", 1)
                    ok &= int(lo, 16) <= version <= int(hi, 16)
                else:
                    ok &= version == int(v, 16)
            elif p.startswith("-arch="):
                archs = p[len("-arch="):].split(",")
                ok &= any(a in ("i386", "x86", "win32") or a.startswith("!") and a[1:] not in ("i386",)
                          for a in archs) and "!i386" not in archs
            elif p.startswith("-"):
                continue
            else:
                name = re.split(r"[(\s]", p, 1)[0]
                break
        if ok and name:
            names.add(name)
            if "@" in name:  # stdcall decoration in a few specs
                names.add(name.split("@", 1)[0])
    return names


def find_spec(src, dll):
    base = dll.lower()
    if base.endswith(".dll") or base.endswith(".exe"):
        base = base[:-4]
    special = {"ntoskrnl": "ntoskrnl/ntoskrnl.spec", "hal": "hal/hal.spec"}
    if base in special:
        return os.path.join(src, special[base])
    hits = []
    for top in ("dll", "win32ss"):
        hits += glob.glob(os.path.join(src, top, "**", base + ".spec"), recursive=True)
    hits = [h for h in hits if "/wine/" not in h] or hits
    return hits[0] if hits else None


def pe_imports(path):
    out = subprocess.run(["i686-w64-mingw32-objdump", "-p", path], capture_output=True, text=True).stdout
    imps, dll = {}, None
    for line in out.splitlines():
        m = re.match(r"\s*DLL Name: (\S+)", line)
        if m:
            dll = m.group(1)
            imps.setdefault(dll, [])
            continue
        m = re.match(r"\s*[0-9a-f]+\s+\d+\s+(\S+)$", line)
        if dll and m:
            imps[dll].append(m.group(1))
    return imps


def main():
    src, version, files = sys.argv[1], int(sys.argv[2], 16), sys.argv[3:]
    missing = 0
    for f in files:
        for dll, names in sorted(pe_imports(f).items()):
            spec = find_spec(src, dll)
            if not spec:
                if not dll.lower().startswith(("virgo_", "opengl32")):
                    print("%s: %s: no such DLL in ReactOS" % (os.path.basename(f), dll))
                    missing += 1
                continue
            have = spec_exports(spec, version)
            for n in names:
                if n not in have:
                    print("%s: %s!%s is not exported by ReactOS (%s)" % (os.path.basename(f), dll, n,
                                                                        os.path.relpath(spec, src)))
                    missing += 1
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())

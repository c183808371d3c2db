#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""pecheck.py: checks a Windows kernel driver image (virgo.sys) the way the
loader and code integrity would look at it, from the PE headers alone.

usage: pecheck.py [--signed] [--dlls ntoskrnl.exe,hal.dll] [--arch x64|x86]
                  [--kernel-exports FILE] FILE

x64 images are PE32+ at 0x140000000 with unwind data; x86 images are PE32
with frame-based SEH. --kernel-exports names the only functions the image
may import (one per line, # comments): the exports an older kernel is known
to have, so that the image still loads there.

One line per check, PASS or FAIL; the last line is "N passed, N failed".
"""
import argparse
import struct
import sys

IMAGE_FILE_MACHINE_AMD64 = 0x8664
IMAGE_FILE_MACHINE_I386 = 0x014C
IMAGE_SUBSYSTEM_NATIVE = 1
IMAGE_SCN_MEM_EXECUTE = 0x20000000
IMAGE_SCN_MEM_WRITE = 0x80000000
IMAGE_SCN_MEM_DISCARDABLE = 0x02000000
DYNAMIC_BASE = 0x0040
NX_COMPAT = 0x0100
IMAGE_FILE_DLL = 0x2000


class PE:
    def __init__(self, data):
        self.data = data
        if data[:2] != b"MZ":
            raise ValueError("no MZ header")
        self.pe = struct.unpack_from("<I", data, 0x3C)[0]
        if data[self.pe:self.pe + 4] != b"PE\0\0":
            raise ValueError("no PE signature")
        c = self.pe + 4
        (self.machine, nsect, _, _, _, opt_size, self.characteristics) = struct.unpack_from("<HHIIIHH", data, c)
        self.opt = c + 20
        self.magic = struct.unpack_from("<H", data, self.opt)[0]
        if self.magic not in (0x20B, 0x10B):
            raise ValueError("neither PE32+ nor PE32 (magic %#x)" % self.magic)
        self.pe32plus = self.magic == 0x20B
        o = self.opt
        self.entry = struct.unpack_from("<I", data, o + 16)[0]
        if self.pe32plus:
            self.image_base = struct.unpack_from("<Q", data, o + 24)[0]
        else:
            self.image_base = struct.unpack_from("<I", data, o + 28)[0]
        self.checksum_off = o + 64
        self.checksum = struct.unpack_from("<I", data, o + 64)[0]
        self.subsystem, self.dll_chars = struct.unpack_from("<HH", data, o + 68)
        self.os_ver = struct.unpack_from("<HH", data, o + 40)
        self.subsys_ver = struct.unpack_from("<HH", data, o + 48)
        d = o + (108 if self.pe32plus else 92)
        ndirs = struct.unpack_from("<I", data, d)[0]
        self.dirs = [struct.unpack_from("<II", data, d + 4 + 8 * i) for i in range(min(ndirs, 16))]
        s = self.opt + opt_size
        self.sections = []
        for i in range(nsect):
            name, vsize, va, rsize, rptr = struct.unpack_from("<8sIIII", data, s + 40 * i)
            flags = struct.unpack_from("<I", data, s + 40 * i + 36)[0]
            self.sections.append((name.rstrip(b"\0").decode("latin-1"), va, vsize, rptr, rsize, flags))

    def rva_to_off(self, rva):
        for _, va, vsize, rptr, rsize, _ in self.sections:
            if va <= rva < va + max(vsize, rsize):
                return rptr + (rva - va)
        raise ValueError("rva %#x outside the sections" % rva)

    def cstr(self, rva):
        off = self.rva_to_off(rva)
        end = self.data.index(b"\0", off)
        return self.data[off:end].decode("latin-1")

    def imports(self):
        """{dll name (lower case): [function names]}"""
        rva, size = self.dirs[1]
        out = {}
        if not rva:
            return out
        off = self.rva_to_off(rva)
        while True:
            ilt, _, _, name_rva, iat = struct.unpack_from("<IIIII", self.data, off)
            if not (ilt or name_rva or iat):
                break
            dll = self.cstr(name_rva).lower()
            names = out.setdefault(dll, [])
            t = self.rva_to_off(ilt or iat)
            width, fmt, ordinal = (8, "<Q", 1 << 63) if self.pe32plus else (4, "<I", 1 << 31)
            while True:
                e = struct.unpack_from(fmt, self.data, t)[0]
                if e == 0:
                    break
                if e & ordinal:
                    names.append("#%d" % (e & 0xFFFF))
                else:
                    names.append(self.cstr((e & 0x7FFFFFFF) + 2))
                t += width
            off += 20
        return out

    def computed_checksum(self):
        """The PE checksum (imagehlp's CheckSumMappedFile algorithm)."""
        d = self.data
        total = 0
        n = len(d) // 2
        for i in range(n):
            if 2 * i == self.checksum_off or 2 * i == self.checksum_off + 2:
                continue
            total += d[2 * i] | (d[2 * i + 1] << 8)
            total = (total & 0xFFFF) + (total >> 16)
        if len(d) & 1:
            total += d[-1]
            total = (total & 0xFFFF) + (total >> 16)
        total = (total & 0xFFFF) + (total >> 16)
        return (total + len(d)) & 0xFFFFFFFF


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("--signed", action="store_true", help="require an Authenticode signature")
    ap.add_argument("--dlls", default="ntoskrnl.exe,hal.dll", help="the only DLLs it may import from")
    ap.add_argument("--entry-symbol", help="a symbol file (nm output) to check the entry point against")
    ap.add_argument("--arch", choices=("x64", "x86"), default="x64")
    ap.add_argument("--kernel-exports", help="the only functions the image may import")
    a = ap.parse_args()
    results = []

    def check(ok, what):
        results.append(bool(ok))
        print("%s: %s" % ("PASS" if ok else "FAIL", what))

    try:
        pe = PE(open(a.file, "rb").read())
    except (OSError, ValueError) as e:
        check(False, "%s is a PE image (%s)" % (a.file, e))
        print("%d passed, %d failed" % (results.count(True), results.count(False)))
        return 1
    x64 = a.arch == "x64"
    check(pe.pe32plus == x64, "%s is a %s image" % (a.file, "PE32+" if x64 else "PE32"))
    if x64:
        check(pe.machine == IMAGE_FILE_MACHINE_AMD64, "machine x86_64 (0x%04x)" % pe.machine)
    else:
        check(pe.machine == IMAGE_FILE_MACHINE_I386, "machine i386 (0x%04x)" % pe.machine)
    check(pe.subsystem == IMAGE_SUBSYSTEM_NATIVE, "subsystem native (%d)" % pe.subsystem)
    check(not pe.characteristics & IMAGE_FILE_DLL, "an image, not a DLL (characteristics 0x%04x)" % pe.characteristics)
    text = [s for s in pe.sections if s[5] & IMAGE_SCN_MEM_EXECUTE]
    in_text = any(va <= pe.entry < va + vsize for _, va, vsize, _, _, _ in text)
    check(pe.entry != 0 and in_text, "entry point in executable code (rva %#x)" % pe.entry)
    want_base = 0x140000000 if x64 else 0x10000
    check(pe.image_base == want_base, "image base %#x (%#x)" % (want_base, pe.image_base))
    check(pe.dll_chars & DYNAMIC_BASE and pe.dll_chars & NX_COMPAT,
          "DYNAMIC_BASE and NX_COMPAT (dll characteristics 0x%04x)" % pe.dll_chars)
    check(pe.dirs[5][0] != 0 and pe.dirs[5][1] != 0, "base relocations present (relocatable)")
    check(pe.os_ver[0] >= 6 and pe.subsys_ver[0] >= 6,
          "OS/subsystem version 6.0+ (%d.%d / %d.%d)" % (pe.os_ver + pe.subsys_ver))
    wx = [s[0] for s in pe.sections if s[5] & IMAGE_SCN_MEM_EXECUTE and s[5] & IMAGE_SCN_MEM_WRITE]
    check(not wx, "no writable and executable section%s" % (" (" + ", ".join(wx) + ")" if wx else ""))
    if x64:
        check(pe.dirs[3][0] != 0, "exception directory (.pdata) present: x64 unwinding and SEH work")
    check(pe.dirs[9][0] == 0, "no TLS directory")
    check(pe.dirs[0][0] == 0, "no export directory")
    imps = pe.imports()
    allowed = set(x.strip().lower() for x in a.dlls.split(","))
    check(imps and set(imps) <= allowed, "imports only %s (%s)" % ("/".join(sorted(allowed)), ", ".join(sorted(imps))))
    names = [n for v in imps.values() for n in v]
    probes = [n for n in names if "chkstk" in n.lower() or "stack_chk" in n.lower()]
    check(not probes, "no stack-probe or stack-protector imports%s" % (" (" + ", ".join(probes) + ")" if probes else ""))
    check("DriverEntry" not in names and len(names) > 0, "%d functions imported" % len(names))
    if a.kernel_exports:
        known = set()
        for line in open(a.kernel_exports):
            line = line.split("#", 1)[0].strip()
            if line:
                known.add(line)
        extra = sorted(set(names) - known)
        check(not extra, "every import is in %s%s" % (a.kernel_exports, " (not: " + ", ".join(extra) + ")" if extra else ""))
    check(pe.checksum == pe.computed_checksum(),
          "PE checksum valid (header %#x, computed %#x)" % (pe.checksum, pe.computed_checksum()))
    if a.signed:
        rva, size = pe.dirs[4]  # a file offset for the certificate table
        ok = rva != 0 and size > 8 and rva + size == len(pe.data)
        if ok:
            length, rev, typ = struct.unpack_from("<IHH", pe.data, rva)
            ok = rev == 0x0200 and typ == 0x0002 and length <= size
        check(ok, "Authenticode certificate table at the end (WIN_CERT_TYPE_PKCS_SIGNED_DATA)")
    print("%d passed, %d failed" % (results.count(True), results.count(False)))
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""infcheck.py: structural checks of virgo.inf, as far as they can be made
without Windows' InfVerif: every section that is referenced exists, the
hardware IDs, the service, MSI, security, strings.

usage: infcheck.py FILE [--sys virgo.sys] [--cat virgo.cat]
One line per check, PASS or FAIL; the last line is "N passed, N failed".
"""
import argparse
import re
import sys

# The render-only virtio-gpu function by its class (03/80): QEMU's
# virtio-gpu-gl-pci. A VGA-class function (03/00: virtio-vga-gl, often the
# VM's only display) must match no model line, and every form without a
# class (the bare VEN&DEV, SUBSYS, REV) matches both.
HWID_RENDER = r"PCI\VEN_1AF4&DEV_1050&CC_0380"
# The IDs Windows' PCI bus driver reports for each QEMU function
# ("Identifiers for PCI Devices": hardware IDs, then compatible IDs).
def pci_ids(cc):
    v = r"PCI\VEN_1AF4&DEV_1050"
    return [v + "&SUBSYS_11001AF4&REV_01", v + "&SUBSYS_11001AF4", v + "&REV_01", v,
            v + "&CC_" + cc + "00", v + "&CC_" + cc,
            r"PCI\VEN_1AF4&CC_" + cc + "00", r"PCI\VEN_1AF4&CC_" + cc, r"PCI\VEN_1AF4",
            r"PCI\CC_" + cc + "00", r"PCI\CC_" + cc]
# Who may open the device: SYSTEM and Administrators all access, the
# interactive user read/write; nobody else (no Everyone, no network logons).
SDDL_WANT = {("A", "SY"): {"GA"}, ("A", "BA"): {"GA"}, ("A", "IU"): {"GR", "GW"}}
CLASS_SYSTEM = "{4d36e97d-e325-11ce-bfc1-08002be10318}"


def strip_comment(line):
    # ';' starts a comment outside double quotes.
    out, quoted = [], False
    for ch in line:
        if ch == '"':
            quoted = not quoted
        if ch == ";" and not quoted:
            break
        out.append(ch)
    return "".join(out).strip()


def parse(text):
    """{section (lower case): [(key or None, [values])]} and the list of
    duplicate section headers."""
    sections, dups, cur = {}, [], None
    for raw in text.splitlines():
        line = strip_comment(raw)
        if not line:
            continue
        m = re.fullmatch(r"\[([^\]]+)\]", line)
        if m:
            cur = m.group(1).strip().lower()
            if cur in sections:
                dups.append(cur)
            sections.setdefault(cur, [])
            continue
        if cur is None:
            continue
        key, _, rest = line.partition("=") if "=" in line else (None, "", line)
        vals = [v.strip().strip('"') for v in rest.split(",")]
        sections[cur].append((key.strip() if key is not None else None, vals))
    return sections, dups


def values(sec, key):
    return [v for k, v in sec if k is not None and k.lower() == key.lower()]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("inf")
    a = ap.parse_args()
    results = []

    def check(ok, what):
        results.append(bool(ok))
        print("%s: %s" % ("PASS" if ok else "FAIL", what))

    text = open(a.inf, encoding="utf-8").read()
    check(text.isascii(), "%s is plain ASCII (no BOM, no UTF-8 outside comments)" % a.inf)
    s, dups = parse(text)
    check(not dups, "no section defined twice%s" % (" (" + ", ".join(dups) + ")" if dups else ""))
    ver = s.get("version", [])
    check(values(ver, "Signature") == [["$WINDOWS NT$"]], "[Version] Signature = $WINDOWS NT$")
    check(values(ver, "Class") == [["System"]] and [v[0].lower() for v in values(ver, "ClassGuid")] == [CLASS_SYSTEM],
          "[Version] Class = System with its ClassGuid")
    check(values(ver, "CatalogFile") == [["virgo.cat"]], "[Version] CatalogFile = virgo.cat")
    dv = values(ver, "DriverVer")
    check(len(dv) == 1 and len(dv[0]) == 2 and re.fullmatch(r"\d\d/\d\d/\d{4}", dv[0][0])
          and re.fullmatch(r"\d+\.\d+\.\d+\.\d+", dv[0][1]) and all(int(x) < 65536 for x in dv[0][1].split(".")),
          "[Version] DriverVer = mm/dd/yyyy,w.x.y.z (%s)" % ",".join(dv[0]) if dv else "[Version] DriverVer")
    check(values(ver, "PnpLockdown") == [["1"]], "[Version] PnpLockdown = 1")
    check(values(ver, "Provider") and values(ver, "Provider")[0][0].startswith("%"), "[Version] Provider from [Strings]")

    # Manufacturer -> models (decorated for amd64 / Windows 10) -> install sections
    manu = s.get("manufacturer", [])
    check(len(manu) == 1, "[Manufacturer] has one entry")
    models = []
    for _, v in manu:
        base, decos = v[0], v[1:]
        check(any(d.lower().startswith("ntamd64") for d in decos), "manufacturer %s is decorated for NTamd64" % base)
        for d in decos:
            name = ("%s.%s" % (base, d)).lower()
            check(name in s, "models section [%s] exists" % name)
            models += s.get(name, [])
    ids = [v[1].upper() for _, v in models if len(v) > 1]
    check(HWID_RENDER in ids, "models match %s (virtio-gpu-gl-pci, class 0380)" % HWID_RENDER)
    check(all(i.startswith(r"PCI\VEN_1AF4&DEV_1050") for i in ids), "models match nothing but virtio-gpu 1AF4:1050")
    vga = sorted(set(ids) & set(pci_ids("0300")))
    check(ids and not vga, "no model matches a VGA-class virtio-gpu (virtio-vga-gl, class 0300: the VM's "
          "desktop adapter)%s" % (": " + ", ".join(vga) if vga else ""))
    check(set(ids) & set(pci_ids("0380")), "a model matches an ID that virtio-gpu-gl-pci (class 0380) reports")
    installs = sorted(set(v[0].lower() for _, v in models))
    for inst in installs:
        nt = inst + ".nt"
        check(nt in s, "install section [%s] exists" % nt)
        copy = [x for v in values(s.get(nt, []), "CopyFiles") for x in v]
        files = []
        for c in copy:
            check(c.lower() in s, "CopyFiles section [%s] exists" % c)
            files += [v[0] for k, v in s.get(c.lower(), []) if k is None]
        check("virgo.sys" in [f.lower() for f in files], "virgo.sys is copied")
        disk_files = {k.lower(): v for k, v in s.get("sourcedisksfiles", []) if k}
        disks = {k.strip() for k, _ in s.get("sourcedisksnames", []) if k}
        for f in files:
            check(f.lower() in disk_files and disk_files[f.lower()][0] in disks,
                  "%s is in [SourceDisksFiles] on a disk of [SourceDisksNames]" % f)
        check(values(s.get("destinationdirs", []), "DefaultDestDir"), "[DestinationDirs] DefaultDestDir")

        hw = nt + ".hw"
        check(hw in s, "hardware section [%s] exists" % hw)
        regs = []
        for r in [x for v in values(s.get(hw, []), "AddReg") for x in v]:
            check(r.lower() in s, "AddReg section [%s] exists" % r)
            regs += [v for k, v in s.get(r.lower(), []) if k is None]
        msi = r"Interrupt Management\MessageSignaledInterruptProperties".lower()

        def reg(sub, name):
            for v in regs:
                if len(v) >= 5 and v[0] == "HKR" and v[1].lower() == sub and v[2].lower() == name.lower():
                    return v
            return None
        m = reg(msi, "MSISupported")
        check(m and int(m[3], 0) == 0x00010001 and int(m[4], 0) == 1, "MSISupported = 1 (REG_DWORD)")
        m = reg(msi, "MessageNumberLimit")
        check(m and int(m[3], 0) == 0x00010001 and int(m[4], 0) == 3, "MessageNumberLimit = 3 (REG_DWORD)")
        m = reg("", "Security")
        check(m and m[4].startswith("D:P(") and "SY)" in m[4], "device security descriptor (SDDL, protected DACL)")
        aces = re.findall(r"\(([^)]*)\)", m[4]) if m else []
        got = {}
        for ace in aces:
            f = ace.split(";")
            if len(f) == 6:
                got[(f[0], f[5])] = set(re.findall("..", f[2]))
        check(m and re.fullmatch(r"D:P(\([^)]*\))+", m[4]) and got == SDDL_WANT,
              "SDDL: SYSTEM and Administrators GA, interactive users GRGW, nobody else (%s)" % (m[4] if m else "none"))
        m = reg("dma management", "RemappingSupported")
        check(m and int(m[3], 0) == 0x00010001 and int(m[4], 0) == 0,
              "DMA Management\\RemappingSupported = 0 (REG_DWORD): not DMA-remapping compatible, per device")
        m = reg("", "DeviceCharacteristics")
        check(m and int(m[4], 0) & 0x100, "DeviceCharacteristics has FILE_DEVICE_SECURE_OPEN")

        svc = nt + ".services"
        check(svc in s, "services section [%s] exists" % svc)
        adds = values(s.get(svc, []), "AddService")
        check(len(adds) == 1 and adds[0][0] == "virgo" and int(adds[0][1], 0) & 0x2,
              "AddService = virgo with SPSVCINST_ASSOCSERVICE")
        if adds and len(adds[0]) > 2:
            ss = s.get(adds[0][2].lower())
            check(ss is not None, "service section [%s] exists" % adds[0][2])
            ss = ss or []
            check(values(ss, "ServiceType") == [["1"]], "ServiceType = 1 (SERVICE_KERNEL_DRIVER)")
            check(values(ss, "StartType") == [["3"]], "StartType = 3 (SERVICE_DEMAND_START)")
            check(values(ss, "ErrorControl") == [["1"]], "ErrorControl = 1 (SERVICE_ERROR_NORMAL)")
            sb = values(ss, "ServiceBinary")
            check(sb and sb[0][0].lower().endswith(r"\virgo.sys"), "ServiceBinary is virgo.sys")
            sregs = []
            for r in [x for v in values(ss, "AddReg") for x in v]:
                check(r.lower() in s, "AddReg section [%s] exists" % r)
                sregs += [v for k, v in s.get(r.lower(), []) if k is None]
            dm = [v for v in sregs if len(v) >= 5 and v[0] == "HKR" and v[1].lower() == "parameters"
                  and v[2].lower() == "dmaremappingcompatible"]
            check(len(dm) == 1 and int(dm[0][3], 0) == 0x00010001 and int(dm[0][4], 0) == 0,
                  "service key Parameters\\DmaRemappingCompatible = 0 (REG_DWORD): not DMA-remapping compatible")

    strings = {k.lower() for k, _ in s.get("strings", []) if k}
    used = set(m.lower() for m in re.findall(r"%([A-Za-z_][A-Za-z0-9_.]*)%", "\n".join(
        strip_comment(l) for l in text.splitlines())))
    missing = sorted(u for u in used if u not in strings)
    check(not missing, "every %%string%% is in [Strings]%s" % (" (missing " + ", ".join(missing) + ")" if missing else ""))
    print("%d passed, %d failed" % (results.count(True), results.count(False)))
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())

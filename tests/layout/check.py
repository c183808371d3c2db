#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""tests/layout/check.py BUILD_DIR: the layout ARCHITECTURE.md promises.

  core_no_call_circles   no two files of kmd/core call each other, directly
                         or around a circle: read from the objects the build
                         made (nm), so a call through a header's macro or an
                         inline counts as what the compiler emitted
  core_no_os_headers     kmd/core includes only its own headers, <virgo/...>
                         and the freestanding C headers
  meson_no_borrowed_files  no meson.build names a file outside its folder
  mesa_overlay_not_from_kmd  umd/mesa/fetch.sh copies nothing from kmd/

Prints PASS/FAIL lines and "N passed, N failed"; exits 1 on a failure.
"""
import glob
import os
import re
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
# The freestanding C headers, and MSVC's intrinsics (the compiler's, not the OS's).
FREESTANDING = {"stdint.h", "stdbool.h", "stddef.h", "stdarg.h", "limits.h", "intrin.h"}

passed = failed = 0


def result(name, ok, why=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"PASS {name}")
    else:
        failed += 1
        print(f"FAIL {name}" + (f": {why}" if why else ""))


def symbols(obj, which):
    out = subprocess.run(["nm", "-g", which, obj], capture_output=True, text=True, check=True).stdout
    return {line.split()[-1] for line in out.splitlines() if line.strip()}


def sccs(nodes, edges):
    """Tarjan's strongly connected components."""
    index, low, stack, on, out, n = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = n[0]
        n[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            out.append(sorted(comp))

    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return out


def core_calls(build):
    objs = sorted(glob.glob(os.path.join(build, "kmd/core/libvirgo_core.a.p/*.o")))
    if not objs:
        result("core_no_call_circles", False, f"no objects under {build}/kmd/core (make native)")
        return
    name = {o: os.path.basename(o).replace(".c.o", ".c") for o in objs}
    defined = {name[o]: symbols(o, "--defined-only") for o in objs}
    undef = {name[o]: symbols(o, "-u") for o in objs}
    edges = {f: set() for f in defined}
    why = {}
    for a in defined:
        for b in defined:
            if a != b:
                common = undef[a] & defined[b]
                if common:
                    edges[a].add(b)
                    why[(a, b)] = sorted(common)
    circles = [c for c in sccs(defined, edges) if len(c) > 1]
    detail = "; ".join(
        " <-> ".join(c) + " (" + ", ".join(f"{a}->{b}: {' '.join(why[(a, b)][:3])}"
                                           for a in c for b in c if (a, b) in why) + ")"
        for c in circles)
    result("core_no_call_circles", not circles, detail)
    if not circles:
        # the order a reader can follow: each file calls only files above it
        order, done = [], set()
        while len(order) < len(edges):
            ready = sorted(f for f in edges if f not in done and edges[f] <= done)
            order += ready
            done |= set(ready)
        print("  kmd/core, callees first: " + " ".join(order))


def core_includes():
    bad = []
    for f in sorted(glob.glob(os.path.join(ROOT, "kmd/core/*.[ch]"))):
        for n, line in enumerate(open(f), 1):
            m = re.match(r'\s*#\s*include\s*([<"])([^>"]+)[>"]', line)
            if not m:
                continue
            kind, inc = m.groups()
            ok = (kind == '"' and os.path.exists(os.path.join(ROOT, "kmd/core", inc))) or \
                 (kind == "<" and (inc.startswith("virgo/") or inc in FREESTANDING))
            if not ok:
                bad.append(f"{os.path.relpath(f, ROOT)}:{n} {inc}")
    result("core_no_os_headers", not bad, ", ".join(bad))


def tracked(pattern):
    out = subprocess.run(["git", "-C", ROOT, "ls-files", "--cached", "--others", "--exclude-standard", pattern],
                         capture_output=True, text=True, check=True).stdout
    return [os.path.join(ROOT, p) for p in out.split()]


def meson_borrowed():
    bad = []
    for f in tracked("*meson.build"):
        if "/umd/mesa/overlay/" in f:
            continue  # Mesa's own build inside Mesa's tree
        for n, line in enumerate(open(f), 1):
            code = line.split("#", 1)[0]
            if re.search(r"""['"]\.\./""", code):
                bad.append(f"{os.path.relpath(f, ROOT)}:{n}")
    result("meson_no_borrowed_files", not bad, ", ".join(bad))


def fetch_from_kmd():
    f = os.path.join(ROOT, "umd/mesa/fetch.sh")
    bad = [str(n) for n, line in enumerate(open(f), 1)
           if not line.lstrip().startswith("#") and re.search(r"(ROOT|\.\.)/kmd/|\bkmd/win/", line)]
    result("mesa_overlay_not_from_kmd", not bad, "umd/mesa/fetch.sh lines " + ", ".join(bad))


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build/native")
    core_calls(build)
    core_includes()
    meson_borrowed()
    fetch_from_kmd()
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

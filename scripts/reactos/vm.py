#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""vm.py: one QEMU run of a ReactOS guest for scripts/reactos, watched.

usage: vm.py --timeout S --com1 FILE --com2 FILE [--monitor SOCK]
             [--shot-cue WORD --shot FILE] [--until REGEX] -- QEMU ARGS...

Starts QEMU (its argument list after --; it must name the two serial files
and, for screenshots, the monitor socket as given here), then follows COM2
line by line: each line is echoed as "com2: ..."; a line equal to the shot
cue makes QEMU write its screen to --shot (the monitor's screendump), and a
line matching --until ends the wait early (the guest is then given 120 s to
power off by itself). Ends when QEMU exits or at the timeout, when it is
killed. Exit status: 0 when QEMU exited by itself (or --until matched),
124 on timeout.
"""
import argparse
import os
import re
import socket
import subprocess
import sys
import time


def screendump(sock, path):
    """The human monitor over a UNIX socket: one command, then its echo."""
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(10)
        s.connect(sock)
        time.sleep(0.3)
        s.recv(65536)  # the banner and prompt
        s.sendall(("screendump %s\n" % path).encode())
        time.sleep(2)
        s.close()
    except OSError as e:
        print("vm: screendump failed: %s" % e, flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--timeout", type=int, required=True)
    ap.add_argument("--com1", required=True)
    ap.add_argument("--com2", required=True)
    ap.add_argument("--monitor")
    ap.add_argument("--shot-cue")
    ap.add_argument("--shot")
    ap.add_argument("--until")
    ap.add_argument("qemu", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.qemu[1:] if a.qemu and a.qemu[0] == "--" else a.qemu
    for f in (a.com1, a.com2):
        open(f, "wb").close()
    until = re.compile(a.until) if a.until else None
    t0 = time.time()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL)
    pos, buf, matched, deadline = 0, b"", False, t0 + a.timeout
    while True:
        try:
            with open(a.com2, "rb") as f:
                f.seek(pos)
                data = f.read()
        except OSError:
            data = b""
        pos += len(data)
        buf += data
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            text = line.decode("latin-1").rstrip("\r")
            print("com2: %s" % text, flush=True)
            if a.shot_cue and text.strip() == a.shot_cue and a.monitor and a.shot:
                screendump(a.monitor, os.path.abspath(a.shot))
                print("vm: screenshot %s" % a.shot, flush=True)
            if until and until.search(text) and not matched:
                matched = True
                deadline = min(deadline, time.time() + 120)
        if p.poll() is not None:
            if data:
                continue  # drain what the guest wrote last
            break
        if time.time() > deadline:
            p.kill()
            p.wait()
            if matched:
                print("vm: the guest did not power off after its last line: stopped", flush=True)
                return 0
            print("vm: no end after %d s: QEMU killed" % a.timeout, flush=True)
            return 124
        time.sleep(0.5)
    print("vm: QEMU exited (%d) after %.0f s" % (p.returncode, time.time() - t0), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

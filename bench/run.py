#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""bench/run.py: virgo against its anchors, in one run.

Three paths run the same client (build/native/bench/virgo-bench):
  virgo    our Mesa (build/mesa-linux) -> virgo winsys -> virgo-host
  virpipe  Debian's Mesa, GALLIUM_DRIVER=virpipe -> virgl_test_server (the peer:
           the same virglrenderer behind another transport)
  native   Debian's Mesa on llvmpipe, no virtualisation (the limit)

After one warm-up run of every workload on every path, the counted runs go
round-robin (virgo, virpipe, native, virgo, ...), so that a machine that
gets busier or quieter moves all three alike. Then the uAPI micro-benchmark
on both transports, and the scale test: 1, 4, 16, 64 draw-heavy clients at
once on one virgo-host and on one virgl_test_server.

  bench/run.py            everything: build/bench/results.json, results.md, ratios.png
  bench/run.py --smoke    a few frames of each and a tiny scale run, nothing judged;
                          ends with "N passed, N failed" counting the harness steps
  bench/run.py --report build/bench/results.json    tables and chart again from a run
  bench/run.py --host-ab OTHER_HOST [state,draw] [12] this tree's virgo-host against
                          another build of it, alternating, medians side by side

Mesa 22.3's virpipe always connects to /tmp/.virgl_test, so the server runs in
a mount namespace of its own with a private /tmp, and virpipe clients join that
namespace (nsenter): root, or unprivileged user namespaces, is needed for it.
Environment: BENCH_RUNS (counted runs per path, default 7), BENCH_OUT (default
build/bench, or build/bench/smoke).
"""
import json
import os
import platform
import select
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH_BIN = os.path.join(ROOT, "build/native/bench/virgo-bench")  # bench/meson.build
HOST_BIN = os.path.join(ROOT, "build/native/host/virgo-host")
MESA_ENV = os.path.join(ROOT, "build/mesa-linux/env.sh")

PATHS = ["virgo", "virpipe", "native"]
# workload -> (counted frames per run, what it measures). About a second a
# run on the 2-core development machine.
WORKLOADS = {
    "draw": (90, "10,000 draws/frame, a uniform change before each (512x512)"),
    "state": (40, "2,000 draws/frame, program + texture + blend change before each (512x512)"),
    "upload": (500, "1024x1024 RGBA glTexSubImage2D + 16 x 64 KiB glBufferSubData per frame"),
    "fill": (20, "2 full-screen passes of a 10-step fragment shader at 1920x1080"),
    "present": (500, "1920x1080 RGBA glReadPixels into client memory every frame"),
}
SCALE_CLIENTS = [1, 4, 16, 64]
SCALE_FRAMES = 20
RENDERER_PREFIX = {"virgo": "virgo (virgl on", "virpipe": "virgl (", "native": "llvmpipe"}

TARGETS_TEXT = [
    ("virgo >= 1.0x virpipe on every workload", "ratio"),
    ("virgo >= 1.5x virpipe on draw-heavy", "ratio-draw"),
    ("present 1920x1080 >= 120 frames/s (virgo)", "present"),
    ("EXECBUFFER+fence round trip median <= 50 us", "rt"),
    ("host memory per idle client <= 8 MiB (virgo-host)", "idle"),
    ("64 clients all finish (virgo-host)", "finish"),
]


def log(msg):
    print("bench: " + msg, flush=True)


class Steps:
    """Harness steps that worked or not: the smoke's verdict."""

    def __init__(self):
        self.passed = 0
        self.failed = 0

    def ok(self, name):
        self.passed += 1
        print("PASS " + name, flush=True)

    def bad(self, name, why=""):
        self.failed += 1
        print("FAIL " + name + (": " + why if why else ""), flush=True)

    def check(self, cond, name, why=""):
        if cond:
            self.ok(name)
        else:
            self.bad(name, why)
        return cond


def clean_env():
    """The caller's environment less anything that picks a GL driver."""
    env = dict(os.environ)
    for k in list(env):
        if k.startswith(("VIRGO_", "GALLIUM_", "LIBGL_", "__EGL_", "__GLX_", "MESA_", "LP_")) or k in (
            "LD_LIBRARY_PATH", "EGL_PLATFORM", "VTEST_SOCKET_NAME"):
            del env[k]
    return env


def mesa_env():
    """What build/mesa-linux/env.sh exports, read by sourcing it in bash."""
    out = subprocess.run(["bash", "-c", '. "$1" && env -0', "_", MESA_ENV], env=clean_env(),
                         check=True, capture_output=True).stdout
    env = {}
    for item in out.split(b"\0"):
        if b"=" in item:
            k, v = item.split(b"=", 1)
            env[k.decode()] = v.decode()
    return env


def proc_tree(pid):
    """pid and its live children (virgl_test_server forks one per client)."""
    pids = [pid]
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                s = f.read()
            if int(s[s.rindex(")") + 2:].split()[1]) == pid:
                pids.append(int(d))
        except (OSError, ValueError, IndexError):
            pass
    return pids


def mem_kib(pid):
    """Memory of pid and its children (KiB), from smaps_rollup. "own" is the
    proportional anonymous memory (Pss_Anon): heaps, GL contexts, JIT code,
    host copies of textures; pages a forked child still shares with its
    parent count once. Left out are file pages (libraries: their share
    moves with whatever else on the machine maps the same files) and shared
    memory, which on both servers is the guest-visible backing (virgo-host's
    guest RAM, virgl_test_server's resource memfds). rss is for reference."""
    m = {"rss": 0, "own": 0, "shmem": 0}
    keys = {"Rss": "rss", "Pss_Anon": "own", "Pss_Shmem": "shmem"}
    for p in proc_tree(pid):
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                for line in f:
                    k = keys.get(line.split(":", 1)[0])
                    if k:
                        m[k] += int(line.split()[1])
        except (OSError, ValueError):
            pass
    return m


def parse_bench(out):
    for line in out.splitlines():
        if line.startswith("BENCH "):
            return json.loads(line[6:])
    return None


def stats(values):
    v = [x for x in values if x is not None]
    if not v:
        return None
    return {"min": min(v), "median": statistics.median(v), "max": max(v), "runs": v}


def private_tmp_shell():
    """Shell that puts a tmpfs on /tmp but keeps this checkout visible when it
    lives under /tmp: the namespace's clients run the bench from here. The
    shell's working directory still names the /tmp below the tmpfs, so the
    checkout's top directory is bound back through it (--no-canonicalize:
    mount would otherwise resolve the relative name in the new /tmp)."""
    root = os.path.realpath(ROOT)
    tmp = os.path.realpath("/tmp")
    rel = os.path.relpath(root, tmp)
    mount = "mount -t tmpfs tmpfs /tmp"
    if rel == os.curdir or rel.startswith(os.pardir):
        return mount
    top = shlex.quote(rel.split(os.sep)[0])
    return ("cd /tmp && %s && mkdir /tmp/%s && mount --no-canonicalize --rbind %s /tmp/%s && cd /"
            % (mount, top, top, top))


class Servers:
    """virgo-host and virgl_test_server: one of each serves all the runs;
    the scale test starts each afresh for every client count."""

    def __init__(self, out):
        self.out = out
        self.tmp = tempfile.mkdtemp(prefix="virgo-bench-")
        self.sock = os.path.join(self.tmp, "virgo.sock")
        self.host = None
        self.host_status = []
        self.vtest = None
        self.vtest_join = None   # the command prefix that enters its namespace
        self.menv = None
        for name in ("virgo-host.log", "virgl_test_server.log"):
            if os.path.exists(os.path.join(out, name)):
                os.unlink(os.path.join(out, name))

    def start_host(self, binary=None):
        logf = os.path.join(self.out, "virgo-host.log")
        self.host_log = open(logf, "a")
        start = self.host_log.tell()
        # 2 GiB of guest RAM: 64 clients' render targets and staging buffers.
        self.host = subprocess.Popen([binary or HOST_BIN, "--socket", self.sock, "--ram", "2048"],
                                     stdout=self.host_log, stderr=subprocess.STDOUT,
                                     env=clean_env())
        for _ in range(300):
            if self.host.poll() is not None:
                return False
            with open(logf) as f:
                f.seek(start)
                if "ready on" in f.read():
                    return True
            time.sleep(0.1)
        return False

    def start_vtest(self):
        """virgl_test_server on /tmp/.virgl_test in a private /tmp. As root
        a mount namespace will do; otherwise a user namespace carries it."""
        self.vtest_logf = os.path.join(self.out, "virgl_test_server.log")
        inner = (private_tmp_shell() + " && exec virgl_test_server --use-egl-surfaceless "
                 "--socket-path=/tmp/.virgl_test")
        # --root: the namespace's processes see the server's root directory
        # too (setns alone would give them the namespace's, which differs
        # when all this runs in a chroot).
        tries = [(["unshare", "-m", "--propagation", "private"], ["-m", "--root"])] if os.geteuid() == 0 else []
        tries.append((["unshare", "-Urm", "--propagation", "private"],
                      ["-U", "-m", "--root", "--preserve-credentials"]))
        env = clean_env()
        for pre, join in tries:
            logfile = open(self.vtest_logf, "a")
            p = subprocess.Popen(pre + ["sh", "-c", inner], stdout=logfile, stderr=subprocess.STDOUT, env=env)
            # The server says nothing when it listens: wait for its socket.
            for _ in range(100):
                if p.poll() is not None:
                    break
                r = subprocess.run(["nsenter", "-t", str(p.pid)] + join + ["test", "-S", "/tmp/.virgl_test"],
                                   capture_output=True)
                if r.returncode == 0:
                    self.vtest = p
                    self.vtest_join = ["nsenter", "-t", str(p.pid)] + join + ["--wd=" + ROOT]
                    return True
                time.sleep(0.1)
            if p.poll() is None:
                p.kill()
                p.wait()
        return False

    def stop_host(self):
        """SIGTERM; virgo-host exits non-zero if anything leaked."""
        if not self.host or self.host.poll() is not None:
            return
        self.host.send_signal(signal.SIGTERM)
        try:
            self.host_status.append(self.host.wait(30))
        except subprocess.TimeoutExpired:
            self.host.kill()
            self.host.wait()
            self.host_status.append("hung")

    def stop_vtest(self):
        if self.vtest and self.vtest.poll() is None:
            self.vtest.terminate()
            try:
                self.vtest.wait(10)
            except subprocess.TimeoutExpired:
                self.vtest.kill()
                self.vtest.wait()

    def restart(self, path):
        if path == "virgo":
            self.stop_host()
            return self.start_host()
        self.stop_vtest()
        return self.start_vtest()

    def command(self, path, argv):
        """(argv, env, host pid) that runs virgo-bench on one path."""
        env = clean_env()
        pid = None
        if path == "virgo":
            env.update(self.menv)
            env.update(GALLIUM_DRIVER="virgo", LIBGL_ALWAYS_SOFTWARE="1", VIRGO_SOCKET=self.sock)
            pid = self.host.pid
        elif path == "virpipe":
            env.update(GALLIUM_DRIVER="virpipe", LIBGL_ALWAYS_SOFTWARE="1")
            argv = self.vtest_join + argv
            pid = self.vtest.pid
        else:
            env.update(GALLIUM_DRIVER="llvmpipe", LIBGL_ALWAYS_SOFTWARE="1")
        if pid:
            env["VIRGO_BENCH_HOST_PID"] = str(pid)
        return argv, env, pid

    def stop(self):
        """Stops both; the exit statuses of every virgo-host started."""
        self.stop_vtest()
        self.stop_host()
        shutil.rmtree(self.tmp, ignore_errors=True)
        return self.host_status


def run_gl(srv, path, workload, frames, warmup, timeout, logdir, tag):
    argv, env, _ = srv.command(path, [BENCH_BIN, "gl", workload, "--frames", str(frames),
                                      "--warmup", str(warmup)])
    try:
        r = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, "timed out after %d s" % timeout
    res = parse_bench(r.stdout)
    if r.returncode != 0 or not res:
        with open(os.path.join(logdir, f"{tag}.log"), "w") as f:
            f.write(r.stdout + r.stderr)
        return None, "exit %d (log: %s/%s.log)" % (r.returncode, os.path.relpath(logdir, ROOT), tag)
    if not res["renderer"].startswith(RENDERER_PREFIX[path]):
        return None, "renderer is '%s', not %s's" % (res["renderer"], path)
    return res, ""


def run_uapi(srv, path, n, timeout):
    if path == "virgo":
        argv, env, _ = srv.command("virgo", [BENCH_BIN, "uapi", "--socket", srv.sock, "--n", str(n)])
    else:
        argv, env, _ = srv.command("virpipe", [BENCH_BIN, "vtest", "--n", str(n)])
    try:
        r = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, "timed out"
    res = parse_bench(r.stdout)
    return (res, "") if r.returncode == 0 and res else (None, r.stderr.strip()[-300:])


def run_scale(srv, path, n, frames, timeout, logdir, client="draw"):
    """n draw-heavy clients at once on a freshly started server. Each warms
    up, says READY and waits; host memory is read with all of them idle,
    then all are let go at once and memory is sampled until the last one
    ends. Aggregate frames/s: all counted frames over the span from the
    first client's start to the last one's end."""
    if not srv.restart(path):
        return None
    host_pid = srv.host.pid if path == "virgo" else srv.vtest.pid
    base = mem_kib(host_pid)
    clients = []
    for i in range(n):
        if client == "draw":
            cmd = [BENCH_BIN, "gl", "draw", "--frames", str(frames), "--warmup", "2", "--wait-go"]
        elif path == "virgo":
            # A bare uAPI handle: with a device context ("handle") or
            # without ("conn": what virgo's own code keeps per client).
            rts = "0" if client == "conn" else "10"
            cmd = [BENCH_BIN, "uapi", "--socket", srv.sock, "--n", rts, "--wait-go"]
        else:
            cmd = [BENCH_BIN, "vtest", "--n", "10", "--wait-go"]
        argv, env, _ = srv.command(path, cmd)
        env.pop("VIRGO_BENCH_HOST_PID", None)
        errf = open(os.path.join(logdir, f"scale-{client}-{path}-{n}-{i}.err"), "w")
        clients.append((subprocess.Popen(argv, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=errf, text=True), errf))
    deadline = time.monotonic() + timeout
    ready = 0
    for p, _ in clients:
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([p.stdout], [], [], left)[0]:
                break
            line = p.stdout.readline()
            if not line or line.strip() == "READY":
                ready += line.strip() == "READY"
                break
    idle = mem_kib(host_pid)
    peak = idle
    for p, _ in clients:
        try:
            p.stdin.write("GO\n")
            p.stdin.close()
        except (BrokenPipeError, OSError):
            pass
    while any(p.poll() is None for p, _ in clients) and time.monotonic() < deadline:
        cur = mem_kib(host_pid)
        if cur["own"] > peak["own"]:
            peak = cur
        time.sleep(0.5)
    results = []
    for p, errf in clients:
        if p.poll() is None:
            p.kill()
        out = p.stdout.read()
        p.wait()
        errf.close()
        res = parse_bench(out)
        if p.returncode == 0 and res:
            results.append(res)
    mib = 1024.0
    entry = {
        "server": path, "client": client, "clients": n, "ready": ready, "finished": len(results),
        "frames_per_client": frames,
        "host_mib": {"base": {k: v / mib for k, v in base.items()},
                     "idle": {k: v / mib for k, v in idle.items()},
                     "peak": {k: v / mib for k, v in peak.items()}},
        "idle_mib_per_client": (idle["own"] - base["own"]) / mib / n,
        "idle_rss_mib_per_client": (idle["rss"] - base["rss"]) / mib / n,
        "peak_mib_per_client": (peak["own"] - base["own"]) / mib / n,
        "aggregate_fps": None,
    }
    if results and client == "draw":
        t0 = min(r["t_start_ns"] for r in results)
        t1 = max(r["t_end_ns"] for r in results)
        entry["aggregate_fps"] = sum(r["frames"] for r in results) / ((t1 - t0) / 1e9)
        entry["client_fps_min"] = min(r["fps"] for r in results)
    return entry


def machine_info():
    info = {"kernel": platform.release(), "cores": os.cpu_count()}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
        with open("/proc/meminfo") as f:
            info["memory_gib"] = round(int(f.readline().split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    for pkg in ("libvirglrenderer1", "libgl1-mesa-dri", "virgl-server"):
        r = subprocess.run(["dpkg-query", "-W", "-f=${Version}", pkg], capture_output=True, text=True)
        info[pkg] = r.stdout.strip() if r.returncode == 0 else None
    info["os"] = ""
    try:
        with open("/etc/os-release") as f:
            for line in f:
                if line.startswith("PRETTY_NAME="):
                    info["os"] = line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return info


def med(d, *keys):
    for k in keys:
        if d is None:
            return None
        d = d.get(k)
    return d


def fmt(v, nd=1):
    return "-" if v is None else f"{v:.{nd}f}"


def evaluate(res):
    """The issue's targets against the medians (never asserted: reported)."""
    wl = res["workloads"]
    out = []
    ratios = {k: v.get("ratio_virgo_virpipe") for k, v in wl.items()}
    have = [r for r in ratios.values() if r is not None]
    worst = min(have) if have else None
    worst_name = min(ratios, key=lambda k: ratios[k] or 9e9) if have else None
    out.append((TARGETS_TEXT[0][0], "worst %s (%s)" % (fmt(worst, 2), worst_name) if have else "-",
                worst is not None and worst >= 1.0))
    r = ratios.get("draw")
    out.append((TARGETS_TEXT[1][0], fmt(r, 2) + "x", r is not None and r >= 1.5))
    p = med(wl.get("present"), "paths", "virgo", "fps", "median")
    out.append((TARGETS_TEXT[2][0], fmt(p, 0) + " fps", p is not None and p >= 120))
    rt = med(res.get("uapi"), "virgo", "rt_median_us", "median")
    out.append((TARGETS_TEXT[3][0], fmt(rt, 1) + " us", rt is not None and rt <= 50))
    virgo_scale = [s for s in res.get("scale", []) if s["server"] == "virgo"]
    big = max(virgo_scale, key=lambda s: s["clients"]) if virgo_scale else None
    idle = big["idle_mib_per_client"] if big else None
    out.append((TARGETS_TEXT[4][0], "%s MiB (%d clients)" % (fmt(idle, 2), big["clients"]) if big else "-",
                idle is not None and idle <= 8))
    s64 = [s for s in virgo_scale if s["clients"] == 64]
    out.append((TARGETS_TEXT[5][0], "%d/64" % s64[0]["finished"] if s64 else "not run",
                bool(s64) and s64[0]["finished"] == 64))
    return [{"target": t, "value": v, "met": m} for t, v, m in out]


def markdown(res):
    L = []
    m = res["machine"]
    L.append(f"Machine: {m.get('cpu', '?')}, {m.get('cores')} cores, {m.get('memory_gib')} GiB, "
             f"{m.get('os')}, kernel {m.get('kernel')}; virglrenderer {m.get('libvirglrenderer1')}, "
             f"Debian Mesa {m.get('libgl1-mesa-dri')}.")
    rounds = res.get("load_rounds") or [0]
    L.append(f"Load average (1 min) at start {res['load_start'][0]:.2f}, after each round of runs "
             f"{min(rounds):.2f} to {max(rounds):.2f}, at end {res['load_end'][0]:.2f}; "
             f"{res['config']['runs']} counted runs per path, alternating {' / '.join(PATHS)}"
             + (" (smoke: a few frames, no warm-up round, nothing judged)" if res["smoke"]
                else " after a warm-up round") + f"; {res['date']}.")
    L.append("")
    L.append("| workload | virgo fps (min / median / max) | virpipe fps | native fps | virgo ÷ virpipe ¹ "
             "| virgo ÷ native ¹ | guest CPU ms/frame (virgo / virpipe / native) | host CPU ms/frame "
             "(virgo / virpipe) |")
    L.append("|---|---|---|---|---|---|---|---|")
    for name, w in res["workloads"].items():
        cells = [name]
        for p in PATHS:
            f = med(w, "paths", p, "fps")
            cells.append("%s / **%s** / %s" % (fmt(f["min"]), fmt(f["median"]), fmt(f["max"])) if f else "-")
        cells.append(fmt(w.get("ratio_virgo_virpipe"), 2))
        cells.append(fmt(w.get("ratio_virgo_native"), 2))
        cells.append(" / ".join(fmt(med(w, "paths", p, "guest_cpu_ms_per_frame", "median"), 2) for p in PATHS))
        cells.append(" / ".join(fmt(med(w, "paths", p, "host_cpu_ms_per_frame", "median"), 2)
                                for p in PATHS[:2]))
        L.append("| " + " | ".join(cells) + " |")
    L.append("")
    L.append("¹ Ratios are medians of each round's ratio (the three paths of a round ran seconds apart), "
             "frames/s are medians over the runs. CPU times are medians too; host CPU counts the server and "
             "its children.")
    L.append("")
    u = res.get("uapi", {})
    if u:
        L.append("| transport | round trip median µs (min / median / max of runs) | p99 µs (median) "
                 "| command stream MB/s (median) |")
        L.append("|---|---|---|---|")
        for p, name in (("virgo", "virgo: EXECBUFFER + FENCE_WAIT"),
                        ("virpipe", "vtest: SUBMIT_CMD + BUSY_WAIT")):
            if p in u:
                r = u[p]["rt_median_us"]
                L.append(f"| {name} | {fmt(r['min'])} / **{fmt(r['median'])}** / {fmt(r['max'])} | "
                         f"{fmt(u[p]['rt_p99_us']['median'])} | {fmt(u[p]['stream_mb_per_s']['median'], 0)} |")
        L.append("")
    if res.get("scale"):
        L.append("| server | clients | finished | aggregate fps | slowest client fps | host memory MiB: "
                 "start → idle → peak | idle MiB/client (RSS) | peak MiB/client |")
        L.append("|---|---|---|---|---|---|---|---|")
        for s in res["scale"]:
            h = s["host_mib"]
            L.append(f"| {s['server']} | {s['clients']} | {s['finished']} | {fmt(s['aggregate_fps'])} | "
                     f"{fmt(s.get('client_fps_min'))} | {fmt(h['base']['own'], 0)} → "
                     f"{fmt(h['idle']['own'], 0)} → {fmt(h['peak']['own'], 0)} | {fmt(s['idle_mib_per_client'], 2)} "
                     f"({fmt(s['idle_rss_mib_per_client'], 2)}) | {fmt(s['peak_mib_per_client'], 2)} |")
        L.append("")
    if res.get("idle_handles"):
        L.append("| server | idle clients without GL objects | host memory MiB: start → idle "
                 "| MiB/client (RSS) |")
        L.append("|---|---|---|---|")
        what = {"conn": "open handles, no device context", "handle": "handles with a context, no GL objects"}
        for s in res["idle_handles"]:
            h = s["host_mib"]
            L.append(f"| {s['server']} | {s['clients']} {what[s['client']]} | {fmt(h['base']['own'], 0)} → "
                     f"{fmt(h['idle']['own'], 0)} | "
                     f"{fmt(s['idle_mib_per_client'], 2)} ({fmt(s['idle_rss_mib_per_client'], 2)}) |")
        L.append("")
    L.append("| target | measured | met |")
    L.append("|---|---|---|")
    for t in res.get("targets", []):
        L.append(f"| {t['target']} | {t['value']} | {'yes' if t['met'] else '**no**'} |")
    return "\n".join(L) + "\n"


def chart(res, out):
    """A PNG of the two ratios per workload (gnuplot): bars at the median of
    the rounds' ratios, error bars from the lowest to the highest round."""
    dat = os.path.join(out, "ratios.dat")
    with open(dat, "w") as f:
        f.write("workload virgo/virpipe lo hi virgo/native lo hi\n")
        for name, w in res["workloads"].items():
            cols = [name]
            for other in ("virpipe", "native"):
                runs = w.get(f"ratio_virgo_{other}_runs") or [0]
                cols += ["%.4f" % (w.get(f"ratio_virgo_{other}") or 0), "%.4f" % min(runs),
                         "%.4f" % max(runs)]
            f.write(" ".join(cols) + "\n")
    png = os.path.join(out, "ratios.png")
    rounds = res.get("load_rounds") or [0]
    script = f"""
set terminal pngcairo size 900,500 font ",11"
set output '{png}'
set title "virgo frames/s relative to virpipe and to native llvmpipe\\n" . \
    "median of {res['config']['runs']} alternating rounds, bars from the lowest to the highest round; " . \
    "load {min(rounds):.1f}-{max(rounds):.1f}"
set style data histograms
set style histogram errorbars gap 1 lw 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set yrange [0:*]
set ylabel "ratio (higher is better for virgo)"
set grid ytics
set key top left reverse Left
set arrow from graph 0, first 1 to graph 1, first 1 nohead dt 2 lw 2 lc rgb "black"
plot '{dat}' using 2:3:4:xtic(1) title columnhead(2) lc rgb "#3060c0", \\
     '' using 5:6:7 title columnhead(5) lc rgb "#e08020"
"""
    if not shutil.which("gnuplot"):
        return None, "gnuplot is not installed (Debian: gnuplot-nox)"
    r = subprocess.run(["gnuplot"], input=script, capture_output=True, text=True)
    if r.returncode != 0 or not os.path.exists(png):
        return None, r.stderr.strip()[-300:]
    return png, ""


def host_ab(other, workloads, rounds):
    """Two virgo-host builds side by side: this tree's and OTHER, each
    started afresh for every run, alternating, the same virgo-bench and
    Mesa. For changes inside the host, whose cost a full bench run (which
    compares paths, not host builds) would bury in the machine's noise."""
    out = os.environ.get("BENCH_OUT") or os.path.join(ROOT, "build/bench/ab")
    os.makedirs(out, exist_ok=True)
    srv = Servers(out)
    srv.menv = mesa_env()
    hosts = {"this": HOST_BIN, "other": os.path.abspath(other)}
    samples = {w: {h: [] for h in hosts} for w in workloads}
    try:
        for i in range(rounds):
            for w in workloads:
                order = list(hosts) if i % 2 == 0 else list(reversed(list(hosts)))
                for h in order:
                    srv.stop_host()
                    if not srv.start_host(hosts[h]):
                        print(f"bench-ab: {h} host ({hosts[h]}) did not start")
                        return 1
                    r, why = run_gl(srv, "virgo", w, WORKLOADS[w][0], 2, 300, out, f"ab-{w}-{h}-{i}")
                    if r is None:
                        print(f"bench-ab: {w} on the {h} host: {why}")
                        return 1
                    samples[w][h].append(r)
            print(f"bench-ab: round {i + 1} of {rounds} done (load {os.getloadavg()[0]:.2f})", flush=True)
    finally:
        srv.stop()
    print("| workload (rounds) | frames/s median, other -> this | host CPU ms/frame median, other -> this |")
    print("|---|---|---|")
    for w in workloads:
        f = {h: statistics.median(x["fps"] for x in samples[w][h]) for h in hosts}
        c = {h: statistics.median(x["host_cpu_ms_per_frame"] for x in samples[w][h]) for h in hosts}
        print(f"| {w} ({rounds}) | {f['other']:.1f} -> {f['this']:.1f} | {c['other']:.2f} -> {c['this']:.2f} |")
    with open(os.path.join(out, "ab.json"), "w") as fp:
        json.dump({"hosts": hosts, "samples": samples, "load": os.getloadavg()}, fp, indent=1)
    return 0


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "--host-ab":
        # bench/run.py --host-ab OTHER_VIRGO_HOST [WORKLOAD,...] [ROUNDS]
        wl = sys.argv[3].split(",") if len(sys.argv) > 3 else ["state"]
        return host_ab(sys.argv[2], wl, int(sys.argv[4]) if len(sys.argv) > 4 else 12)
    if len(sys.argv) == 3 and sys.argv[1] == "--report":
        # Tables and chart again from a results.json (e.g. after changing them).
        with open(sys.argv[2]) as f:
            res = json.load(f)
        write_outputs(res, os.path.dirname(os.path.abspath(sys.argv[2])), Steps())
        return 0
    smoke = "--smoke" in sys.argv[1:]
    runs = 1 if smoke else int(os.environ.get("BENCH_RUNS", "7"))
    out = os.environ.get("BENCH_OUT") or os.path.join(ROOT, "build/bench" + ("/smoke" if smoke else ""))
    os.makedirs(out, exist_ok=True)
    logdir = os.path.join(out, "logs")
    shutil.rmtree(logdir, ignore_errors=True)
    os.makedirs(logdir)
    steps = Steps()
    t_start = time.monotonic()
    res = {"smoke": smoke, "date": time.strftime("%Y-%m-%d %H:%M %Z"), "load_start": os.getloadavg(),
           "machine": machine_info(), "config": {"runs": runs, "order": PATHS}, "workloads": {}}

    for need, how in ((BENCH_BIN, "make build"), (HOST_BIN, "make build"), (MESA_ENV, "make mesa-linux")):
        if not os.path.exists(need):
            steps.bad("prerequisites", f"{os.path.relpath(need, ROOT)} is missing: run {how}")
            print(f"{steps.passed} passed, {steps.failed} failed")
            return 1

    srv = Servers(out)
    srv.menv = mesa_env()
    up = {"native": True}
    up["virgo"] = steps.check(srv.start_host(), "virgo-host starts", "see virgo-host.log")
    up["virpipe"] = steps.check(srv.start_vtest(), "virgl_test_server starts in a private /tmp",
                                "needs root or user namespaces, and the virgl-server package")
    paths = [p for p in PATHS if up[p]]
    try:
        frames = {w: (3 if smoke else f) for w, (f, _) in WORKLOADS.items()}
        warmup = 1 if smoke else 2
        timeout = 120 if smoke else 600
        samples = {w: {p: [] for p in paths} for w in WORKLOADS}
        failed = set()
        # Warm-up round (skipped by the smoke: its one run is the check).
        rounds = [("warm-up", False)] if not smoke else []
        rounds += [("run %d" % (i + 1), True) for i in range(runs)]
        for label, counted in rounds:
            for w in WORKLOADS:
                for p in paths:
                    if (w, p) in failed:
                        continue
                    tag = f"{w}-{p}-{label.replace(' ', '')}"
                    r, why = run_gl(srv, p, w, frames[w], warmup, timeout, logdir, tag)
                    if r is None:
                        failed.add((w, p))
                        steps.bad(f"{w} on {p} ({label})", why)
                        continue
                    if smoke:
                        steps.ok(f"{w} on {p}: {r['fps']:.1f} fps")
                    if counted:
                        samples[w][p].append(r)
            res.setdefault("load_rounds", []).append(os.getloadavg()[0])
            if not smoke:
                log(f"{label} done ({time.monotonic() - t_start:.0f} s, load {os.getloadavg()[0]:.2f})")
        if not smoke:
            for w in WORKLOADS:
                for p in paths:
                    if (w, p) in failed:
                        steps.bad(f"{w} on {p}")
                    else:
                        steps.ok(f"{w} on {p}: {runs} runs")
        for w, (f, what) in WORKLOADS.items():
            entry = {"description": what, "frames": frames[w], "paths": {}}
            for p in paths:
                s = samples[w][p]
                if not s:
                    continue
                entry["paths"][p] = {
                    "fps": stats([x["fps"] for x in s]),
                    "guest_cpu_ms_per_frame": stats([x["guest_cpu_ms_per_frame"] for x in s]),
                    "host_cpu_ms_per_frame": stats([x["host_cpu_ms_per_frame"] for x in s]),
                    "renderer": s[0]["renderer"],
                    "pixels": sorted(set(x["pixels"] for x in s)),
                }
            # The ratio is the median of each round's ratio: the runs of one
            # round ran seconds apart, so a load that changes between rounds
            # cancels out. The ratio of the medians is kept beside it.
            ours = samples[w].get("virgo", [])
            for other in ("virpipe", "native"):
                theirs = samples[w].get(other, [])
                if not ours or not theirs:
                    continue
                of_medians = (entry["paths"]["virgo"]["fps"]["median"] /
                              entry["paths"][other]["fps"]["median"])
                # A path that failed in some round leaves nothing to pair.
                paired = ([x["fps"] / y["fps"] for x, y in zip(ours, theirs)] if len(ours) == len(theirs)
                          else [of_medians])
                entry[f"ratio_virgo_{other}"] = statistics.median(paired)
                entry[f"ratio_virgo_{other}_runs"] = paired
                entry[f"ratio_virgo_{other}_of_medians"] = of_medians
            px = {p: entry["paths"][p]["pixels"] for p in PATHS if p in entry["paths"]}
            if "virgo" in px and "virpipe" in px:
                # Not a timing: virgo must draw what virpipe draws, with the
                # same virglrenderer behind it. Native llvmpipe draws the
                # same on these machines too, but need not (information).
                entry["pixels_virgo_equal_virpipe"] = px["virgo"] == px["virpipe"]
                steps.check(px["virgo"] == px["virpipe"], f"{w}: virgo draws the same pixels as virpipe",
                            f"virgo {px['virgo']}, virpipe {px['virpipe']}")
            if "virgo" in px and "native" in px:
                entry["pixels_virgo_equal_native"] = px["virgo"] == px["native"]
            res["workloads"][w] = entry

        # uAPI micro-benchmark, alternating the two transports.
        res["uapi"] = {}
        if not smoke:
            log("uAPI round trips")
        n_rt = 200 if smoke else 5000
        usamples = {"virgo": [], "virpipe": []}
        for i in range(runs):
            for p in ("virgo", "virpipe"):
                if not up[p]:
                    continue
                r, why = run_uapi(srv, p, n_rt, 60 if smoke else 300)
                if r:
                    usamples[p].append(r)
                else:
                    steps.bad(f"uapi round trips on {p}", why)
        for p, s in usamples.items():
            if s:
                steps.ok(f"uapi round trips on {p}: median {s[0]['rt_median_us']:.1f} us")
                res["uapi"][p] = {k: stats([x[k] for x in s])
                                  for k in ("rt_min_us", "rt_median_us", "rt_p99_us", "rt_max_us",
                                            "stream_mb_per_s")}

        # Scale.
        res["scale"] = []
        for n in ([1, 4] if smoke else SCALE_CLIENTS):
            for p in ("virgo", "virpipe"):
                if not up[p]:
                    continue
                if not smoke:
                    log(f"scale: {n} clients on {p}")
                e = run_scale(srv, p, n, 2 if smoke else SCALE_FRAMES, 120 if smoke else 900, logdir)
                if e is None:
                    steps.bad(f"scale: {n} clients on {p}", "the server did not restart")
                    up[p] = False
                    continue
                res["scale"].append(e)
                steps.check(e["finished"] == n, f"scale: {n} clients on {p}, {e['finished']} finished",
                            f"{e['ready']} got ready (logs: {os.path.relpath(logdir, ROOT)}/scale-*)")
        # What a bare handle costs the host, without any GL state: virgo's
        # share of the per-client memory, apart from virglrenderer's GL context.
        res["idle_handles"] = []
        n = 4 if smoke else 16
        for p, kind in (("virgo", "conn"), ("virgo", "handle"), ("virpipe", "handle")):
            if not up[p]:
                continue
            e = run_scale(srv, p, n, 0, 60 if smoke else 300, logdir, client=kind)
            if e is None:
                steps.bad(f"{n} idle {kind}s on {p}", "the server did not restart")
                continue
            res["idle_handles"].append(e)
            steps.check(e["finished"] == n, f"{n} idle {kind}s on {p}, {e['finished']} finished")
    finally:
        status = srv.stop()
    steps.check(status and all(x == 0 for x in status), "virgo-host shuts down clean every time",
                f"exit statuses {status} (see virgo-host.log)")

    res["load_end"] = os.getloadavg()
    res["seconds"] = time.monotonic() - t_start
    res["targets"] = evaluate(res)
    write_outputs(res, out, steps)
    print(f"{steps.passed} passed, {steps.failed} failed")
    return 0 if steps.failed == 0 else 1


def write_outputs(res, out, steps):
    """results.json, results.md and the chart; prints the tables."""
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump(res, f, indent=1)
    steps.ok("results.json written")
    md = markdown(res)
    with open(os.path.join(out, "results.md"), "w") as f:
        f.write(md)
    png, why = chart(res, out)
    steps.check(png is not None, "chart of the ratios", why)
    print()
    print(md)
    print(f"bench: {os.path.relpath(out, ROOT)}/results.json, results.md"
          + (", ratios.png" if png else "") + f" in {res['seconds']:.0f} s")


if __name__ == "__main__":
    sys.exit(main())

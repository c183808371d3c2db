#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# callgrind.sh: instructions per frame, counted by valgrind's callgrind, for
# one GL workload on virgo and on virpipe: the host process (virgo-host or
# virgl_test_server) and the guest process (virgo-bench), each split by
# the object the instructions ran in. Unlike frames/s these counts do not
# move with the machine's load, so they compare the two paths' costs on a
# busy 2-core machine. `perf stat -e instructions` would be quicker, but
# these virtual machines expose no hardware counters.
#
#   bench/callgrind.sh [WORKLOAD [FRAMES]]     default: draw 5
#   CALLGRIND_HOST=PATH runs another virgo-host build (an A/B of host code)
#
# Needs valgrind, the same namespace rights as bench/run.py for the
# virpipe side, build/native/bench/virgo-bench and virgo-host (make build)
# and build/mesa-linux.
# Writes build/bench/callgrind/{summary.txt,*.out}. Takes a few minutes:
# everything runs 20 to 100 times slower under valgrind.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
WL=${1:-draw}
FRAMES=${2:-5}
OUT=$ROOT/build/bench/callgrind
BENCH=$ROOT/build/native/bench/virgo-bench
HOST=${CALLGRIND_HOST:-$ROOT/build/native/host/virgo-host}
mkdir -p "$OUT"
rm -f "$OUT"/*.out "$OUT"/*.log
make --no-print-directory build >/dev/null
TMP=$(mktemp -d)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	rm -rf "$TMP"
}
trap cleanup EXIT

# Instrumentation starts off: start-up (EGL, LLVM) is not counted and runs
# faster. The host's is switched on from the client's READY to its end;
# the client counts only inside bench_counted_frames.
VG=(valgrind --tool=callgrind --instr-atstart=no --dump-instr=no --separate-threads=no)
CLIENT_VG=(valgrind --tool=callgrind --collect-atstart=no --toggle-collect=bench_counted_frames
	--dump-instr=no --separate-threads=no)

# run_client PREFIX... : the client under callgrind with --wait-go; the host
# is instrumented while the counted frames run.
run_client() {
	local tag=$1 host_ctl=$2 hostpid=$3
	shift 3
	local fifo=$TMP/go-$tag
	mkfifo "$fifo"
	"$@" "${CLIENT_VG[@]}" --callgrind-out-file="$OUT/guest-$tag.out" \
		"$BENCH" gl "$WL" --frames "$FRAMES" --warmup 2 --wait-go <"$fifo" >"$OUT/client-$tag.log" 2>&1 &
	local cpid=$!
	exec 9>"$fifo"
	for _ in $(seq 1 6000); do
		grep -q READY "$OUT/client-$tag.log" 2>/dev/null && break
		kill -0 $cpid 2>/dev/null || break
		sleep 0.1
	done
	$host_ctl -i on "$hostpid" >/dev/null
	echo GO >&9
	exec 9>&-
	wait $cpid || { echo "callgrind: the $tag client failed (see $OUT/client-$tag.log)" >&2; return 1; }
	$host_ctl -i off "$hostpid" >/dev/null
	grep '^BENCH' "$OUT/client-$tag.log" >/dev/null
}

# --- virgo ---
echo "callgrind: virgo ($WL, $FRAMES frames)"
# Under valgrind the host is slow enough that its first frames outlast the
# guest kernel's 5 s fence-stall timeout: a longer one.
"${VG[@]}" --callgrind-out-file="$OUT/host-virgo.out" "$HOST" --socket "$TMP/virgo.sock" --ram 512 --cmd-timeout 600000 \
	>"$OUT/host-virgo.log" 2>&1 &
HPID=$!
PIDS+=("$HPID")
for _ in $(seq 1 1200); do grep -q "ready on" "$OUT/host-virgo.log" && break; sleep 0.1; done
(
	# shellcheck disable=SC1091
	. build/mesa-linux/env.sh
	export GALLIUM_DRIVER=virgo LIBGL_ALWAYS_SOFTWARE=1 VIRGO_SOCKET=$TMP/virgo.sock
	run_client virgo callgrind_control $HPID env
)
kill -TERM $HPID
wait $HPID || true

# --- virpipe: the server alone in a private /tmp (Mesa's fixed socket) ---
echo "callgrind: virpipe ($WL, $FRAMES frames)"
if [ "$(id -u)" = 0 ]; then UNSHARE=(unshare -m --propagation private); JOIN=(-m); else
	UNSHARE=(unshare -Urm --propagation private); JOIN=(-U -m --preserve-credentials); fi
# A checkout under /tmp must stay visible to the clients that join: the
# shell's working directory still names the /tmp below the tmpfs, and -c
# keeps mount from resolving the relative name through the new /tmp.
KEEP=
case $(realpath "$ROOT") in /tmp/?*) KEEP=$(realpath "$ROOT"); KEEP=${KEEP#/tmp/}; KEEP=${KEEP%%/*} ;; esac
# shellcheck disable=SC2016 # expanded by the inner shell
"${UNSHARE[@]}" sh -c 'cd /tmp && mount -t tmpfs tmpfs /tmp &&
	{ [ -z "$1" ] || { mkdir "/tmp/$1" && mount -c --rbind "$1" "/tmp/$1"; }; } &&
	cd "$2" && shift 2 && exec "$@"' _ "$KEEP" "$ROOT" "${VG[@]}" \
	--callgrind-out-file="$OUT/host-virpipe.out" virgl_test_server --no-fork --use-egl-surfaceless \
	--socket-path=/tmp/.virgl_test >"$OUT/host-virpipe.log" 2>&1 &
VPID=$!
PIDS+=("$VPID")
for _ in $(seq 1 1200); do
	nsenter -t $VPID "${JOIN[@]}" test -S /tmp/.virgl_test 2>/dev/null && break
	sleep 0.1
done
# callgrind_control finds valgrind through files in its /tmp: inside.
NS=(nsenter -t "$VPID" "${JOIN[@]}" --wd="$ROOT")
GALLIUM_DRIVER=virpipe LIBGL_ALWAYS_SOFTWARE=1 run_client virpipe "${NS[*]} callgrind_control" $VPID "${NS[@]}"
kill -TERM $VPID 2>/dev/null || true
wait $VPID || true

# --- summary: instructions per frame by object ---
/usr/bin/python3 - "$OUT" "$FRAMES" "$WL" <<'EOF' | tee "$OUT/summary.txt"
import collections, glob, os, re, sys
out, frames, wl = sys.argv[1], int(sys.argv[2]), sys.argv[3]

def by_object(path):
    """Self instructions per ELF object from a callgrind profile (the
    ob= lines name the object of the fn= lines and their cost lines)."""
    names, cost = {}, collections.Counter()
    ob = None
    in_call = False
    for line in open(path, errors="replace"):
        m = re.match(r"(c?ob)=\((\d+)\)(?: (.*))?", line)
        if m:
            kind, num, name = m.groups()
            if name:
                names[num] = os.path.basename(name.strip())
            if kind == "ob":
                ob = names.get(num, num)
            continue
        if line.startswith("calls="):
            in_call = True   # the next cost line is inclusive cost of a call
            continue
        if line[:1].isdigit() or line[:1] in "+-*":
            parts = line.split()
            if in_call:
                in_call = False
            elif len(parts) >= 2 and ob is not None:
                cost[ob] += int(parts[1])
    return cost

print(f"instructions per frame, {wl}, {frames} counted frames (callgrind, self cost by object)")
for side in ("host", "guest"):
    for path in ("virgo", "virpipe"):
        f = os.path.join(out, f"{side}-{path}.out")
        if not os.path.exists(f):
            print(f"{side} {path}: no profile")
            continue
        c = by_object(f)
        total = sum(c.values())
        print(f"{side:5} {path:8} {total / frames / 1e6:9.2f} M/frame")
        for obj, n in c.most_common(8):
            print(f"      {obj:40} {n / frames / 1e6:9.2f} M  {100.0 * n / max(total, 1):5.1f}%")
EOF

#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# run-qemu.sh [--host qemu72|qemu10] [FILTER]: the scenario suite on QEMU's
# real virtio-gpu-gl, of either host generation:
#   qemu72  Debian 12's QEMU 7.2 + virglrenderer 0.10.4 (this machine's),
#           -device virtio-gpu-gl-pci (no blob, no host-visible memory)
#   qemu10  Debian 13's QEMU 10.0 + virglrenderer 1.1.0, run inside the root
#           scripts/debian13/root.sh makes (made here when missing),
#           -device virtio-gpu-gl-pci,blob=true,hostmem=256M
#
# Builds the guest (build-guest.sh), starts a private Xvfb (QEMU's virgl needs
# a GL display: SDL with gl=on; egl-headless would need a render node), boots
# the guest with TCG and -device virtio-gpu-gl-pci, shows the guest's serial
# console as it comes, and ends with the suite's own "N passed, N failed"
# line and a matching exit status. A guest that hangs is killed after
# VIRGO_QEMU_TIMEOUT seconds and counts as a failure.
#
# Environment:
#   VIRGO_GUEST_BIN        the runner (default build/native/tests/scenarios/scenarios-guest)
#   VIRGO_QEMU_DIR         work directory (default build/qemu)
#   VIRGO_QEMU_TIMEOUT     seconds for the whole guest run (default 300)
#   VIRGO_SCEN_ROUNDTRIPS  round trips the perf scenario measures (default 500)
#   VIRGO_FIRST_FENCE      the core's first fence number (default 2^31 - 1 - 3000,
#                          so that QEMU's 31-bit fence-id wrap happens in the run;
#                          0 for the core's own default)
#   VIRGO_UIO_LAYOUT       scatter (default) or natural
#   VIRGO_UIO_LOG          the core's log level in the guest (default info)
#   VIRGO_QEMU_HUGEPAGES   2 MiB pages the guest reserves (default 256)
#   VIRGO_QEMU_ARGS        more QEMU arguments (e.g. -trace virtio_gpu_fence_*,file=F)
set -uo pipefail

cd "$(dirname "$0")/../.."
T0=$(date +%s.%N)
HOSTGEN=qemu72
if [[ "${1:-}" == --host ]]; then
	HOSTGEN=${2:?--host needs qemu72 or qemu10}
	shift 2
fi
BIN=${VIRGO_GUEST_BIN:-build/native/tests/scenarios/scenarios-guest}
OUT=${VIRGO_QEMU_DIR:-build/qemu}
TIMEOUT=${VIRGO_QEMU_TIMEOUT:-300}
FILTER=${1:-}
FIRST_FENCE=${VIRGO_FIRST_FENCE:-$((0x7fffffff - 3000))}
LOG="$OUT/serial-$HOSTGEN.log"
QLOG="$OUT/qemu-$HOSTGEN.log"
case $HOSTGEN in
qemu72)
	QEMU=(qemu-system-x86_64)
	DEVICE=virtio-gpu-gl-pci
	;;
qemu10)
	QEMU=(bash scripts/debian13/run.sh qemu-system-x86_64)
	DEVICE=virtio-gpu-gl-pci,blob=true,hostmem=256M
	;;
*)
	echo "run-qemu: unknown host generation '$HOSTGEN' (qemu72 or qemu10)"
	echo "0 passed, 1 failed"
	exit 1
	;;
esac

say() { echo "run-qemu: $*"; }
elapsed() { echo "$(date +%s.%N) $1" | awk '{ printf "%.1f", $1 - $2 }'; }
fail() {
	say "$*"
	say "total wall time $(elapsed "$T0") s"
	echo "0 passed, 1 failed"
	exit 1
}

for tool in qemu-system-x86_64 Xvfb timeout; do
	command -v "$tool" >/dev/null 2>&1 || fail "$tool is not installed (scripts/setup.sh installs it)"
done
mkdir -p "$OUT"
if [[ $HOSTGEN == qemu10 ]]; then
	bash scripts/debian13/root.sh >/dev/null || fail "no Debian 13 root for QEMU 10.0 (scripts/debian13/root.sh)"
fi
bash scripts/qemu/build-guest.sh "$OUT" "$BIN" || fail "the guest image could not be built"

# A private X server on a free display (Xvfb picks it and writes it to fd 3).
XTMP=$(mktemp -d)
XVFB_PID=
cleanup() {
	[[ -n "$XVFB_PID" ]] && kill "$XVFB_PID" 2>/dev/null && wait "$XVFB_PID" 2>/dev/null
	rm -rf "$XTMP"
}
trap cleanup EXIT
Xvfb -displayfd 3 -nolisten tcp -screen 0 1024x768x24 3>"$XTMP/display" >"$XTMP/xvfb.log" 2>&1 &
XVFB_PID=$!
for _ in $(seq 100); do
	[[ -s "$XTMP/display" ]] && break
	kill -0 "$XVFB_PID" 2>/dev/null || break
	sleep 0.1
done
[[ -s "$XTMP/display" ]] || { cat "$XTMP/xvfb.log" >&2; fail "Xvfb did not start"; }
export DISPLAY=":$(head -n 1 "$XTMP/display")"
export SDL_AUDIODRIVER=dummy
say "Xvfb on $DISPLAY; QEMU $("${QEMU[@]}" --version | head -n 1 | awk '{ print $4 }'), TCG, $DEVICE, timeout ${TIMEOUT}s"

APPEND="console=ttyS0 quiet loglevel=3 panic=-1 virgo.roundtrips=${VIRGO_SCEN_ROUNDTRIPS:-500}"
APPEND+=" virgo.hugepages=${VIRGO_QEMU_HUGEPAGES:-256} virgo.layout=${VIRGO_UIO_LAYOUT:-scatter}"
APPEND+=" virgo.log=${VIRGO_UIO_LOG:-info} virgo.name=$HOSTGEN-guest"
[[ "$FIRST_FENCE" != 0 ]] && APPEND+=" virgo.first_fence=$FIRST_FENCE"
[[ -n "$FILTER" ]] && APPEND+=" virgo.filter=$FILTER"

# The serial console goes to stdout as it comes (and to the log); QEMU's own
# messages to qemu.log. stdin is closed so the console cannot take a TTY.
T1=$(date +%s.%N)
timeout -k 5 "$TIMEOUT" "${QEMU[@]}" \
	-accel tcg -machine q35 -cpu max -smp 1 -m 1024 \
	-nodefaults -vga none -no-user-config \
	-device "$DEVICE" -display sdl,gl=on \
	-kernel "$OUT/vmlinuz" -initrd "$OUT/initramfs.cpio.gz" -append "$APPEND" \
	-serial stdio -monitor none -no-reboot ${VIRGO_QEMU_ARGS:-} \
	</dev/null 2>"$QLOG" | tr -d '\r' | tee "$LOG"
STATUS=${PIPESTATUS[0]}
GUEST_S=$(elapsed "$T1")

if ((STATUS == 124 || STATUS == 137)); then
	say "the guest did not finish in ${TIMEOUT}s: killed"
elif ((STATUS != 0)); then
	say "QEMU exited with status $STATUS"
fi
if [[ -s "$QLOG" ]]; then
	say "QEMU said:"
	sed 's/^/  /' "$QLOG" | head -n 40
fi

summary_re='^([0-9]+) passed, ([0-9]+) failed(, ([0-9]+) skipped)?$'
line=$(grep -E "$summary_re" "$LOG" | tail -n 1 || true)
guest_status=$(sed -n 's/^virgo-guest: scenarios-guest exit status \([0-9]*\)$/\1/p' "$LOG" | tail -n 1)
start=$(sed -n 's/^virgo-guest: scenarios start at \([0-9.]*\) s.*/\1/p' "$LOG")
end=$(sed -n 's/^virgo-guest: scenarios end at \([0-9.]*\) s/\1/p' "$LOG")

say "guest: boot to first scenario ${start:-?} s, suite $([[ -n "$start" && -n "$end" ]] &&
	echo "$end $start" | awk '{ printf "%.1f", $1 - $2 }' || echo '?') s (guest clock); QEMU ran ${GUEST_S} s"
grep -E 'EXECBUFFER\+FENCE_WAIT|FENCE_WAIT x|fnv1a|hash|fenced batches' "$LOG" | sed 's/^ */run-qemu: /' || true
say "total wall time $(elapsed "$T0") s (serial log: $LOG)"

# The triangle read back from QEMU's device must be the very image the
# embedded host renders: one more test, counted with the guest's.
match_fail=0
guest_hash=$(sed -n 's/.*triangle on [a-z0-9]*-guest:.*image fnv1a \([0-9a-f]*\).*/\1/p' "$LOG" | head -n 1)
host_hash=$(build/native/tests/scenarios/run-host build/native/host/virgo-host triangle_pixels_exact 2>/dev/null |
	sed -n 's/.*triangle on virgo-host:.*image fnv1a \([0-9a-f]*\).*/\1/p' | head -n 1)
if [[ -n "$guest_hash" && "$guest_hash" == "$host_hash" ]]; then
	echo "PASS triangle_matches_virgo_host (fnv1a $guest_hash on $HOSTGEN and virgo-host)"
else
	echo "FAIL triangle_matches_virgo_host ($HOSTGEN ${guest_hash:-none}, virgo-host ${host_hash:-none})"
	match_fail=1
fi

if [[ -n "$line" && -n "$guest_status" ]]; then
	[[ "$line" =~ $summary_re ]]
	p=$((BASH_REMATCH[1] + 1 - match_fail))
	f=$((BASH_REMATCH[2] + match_fail))
	if [[ -n "${BASH_REMATCH[4]}" ]]; then
		echo "$p passed, $f failed, ${BASH_REMATCH[4]} skipped"
	else
		echo "$p passed, $f failed"
	fi
	((guest_status == 0 && f == 0)) && exit 0
	exit 1
fi
# No closing line from the guest: it crashed, hung or never ran. What it
# did finish still counts, plus one failure for the run.
passed=$(grep -c '^PASS ' "$LOG" || true)
failed=$(grep -c '^FAIL ' "$LOG" || true)
say "the guest did not finish the suite"
echo "$passed passed, $((failed + 1)) failed"
exit 1

#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# check.sh: `make check-qemu`. The scenario suite on both real devices, one
# after the other: QEMU 7.2 (this machine's) and QEMU 10.0 with blob and
# host-visible memory (from the Debian 13 root, made when missing). Each
# run's triangle must match virgo-host's byte for byte, so the three
# devices agree. Ends with "N passed, N failed" summed over both.
set -uo pipefail
cd "$(dirname "$0")/../.."

pass=0 fail=0 skip=0
for gen in qemu72 qemu10; do
	log=build/qemu/check-$gen.log
	mkdir -p build/qemu
	echo "=== check-qemu: $gen"
	bash scripts/qemu/run-qemu.sh --host "$gen" 2>&1 | tee "$log"
	status=${PIPESTATUS[0]}
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
	if [[ $line =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed(,\ ([0-9]+)\ skipped)? ]]; then
		pass=$((pass + BASH_REMATCH[1]))
		fail=$((fail + BASH_REMATCH[2]))
		skip=$((skip + ${BASH_REMATCH[4]:-0}))
		((status != 0 && BASH_REMATCH[2] == 0)) && fail=$((fail + 1))
	else
		fail=$((fail + 1))
	fi
done
echo "check-qemu: both devices: $pass passed, $fail failed, $skip skipped"
echo "$pass passed, $fail failed, $skip skipped"
((fail == 0))

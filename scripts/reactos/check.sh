#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# scripts/reactos/check.sh (make check-reactos): the ReactOS run on each
# host generation there is (QEMU 7.2; QEMU 10.0 when the Debian 13 root is
# there), when a ReactOS disk exists (build/reactos/base.img, made by
# build.sh and image.sh from a ReactOS source tree). With no disk but
# VIRGO_REACTOS_SRC naming a ReactOS source tree, it builds the CD and the
# disk first (hours, once). With neither it says it skipped: a skip, never
# a pass. docs/reactos.md has the last full run.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

if [[ ! -f $BASE ]]; then
	if [[ -n ${VIRGO_REACTOS_SRC:-} ]]; then
		bash "$REPO/scripts/reactos/build.sh" "$VIRGO_REACTOS_SRC" && bash "$REPO/scripts/reactos/image.sh" ||
			{ echo "FAIL: the ReactOS CD and disk from $VIRGO_REACTOS_SRC"; echo "0 passed, 1 failed"; exit 1; }
	else
		echo "SKIP: ReactOS: no ReactOS disk (build/reactos/base.img) and no VIRGO_REACTOS_SRC; scripts/reactos/build.sh SRC && scripts/reactos/image.sh make it (docs/reactos.md)"
		echo "0 passed, 0 failed"
		exit 0
	fi
fi
pass=0 fail=0
for h in qemu72 qemu10; do
	if [[ $h == qemu10 && ! -f $REPO/build/debian13/root/.virgo-root ]]; then
		echo "SKIP: ReactOS on QEMU 10.0: no Debian 13 root (scripts/debian13/root.sh)"
		continue
	fi
	echo "=== ReactOS on $h"
	out=$(bash "$REPO/scripts/reactos/run.sh" --host "$h" 2>&1 | tee /dev/stderr | tail -1)
	if [[ $out =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
		pass=$((pass + BASH_REMATCH[1])) fail=$((fail + BASH_REMATCH[2]))
	else
		fail=$((fail + 1))
	fi
done
echo "$pass passed, $fail failed"
((fail == 0))

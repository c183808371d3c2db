#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# scripts/reactos/build.sh SRC: builds ReactOS's x86 boot CD from the
# ReactOS source tree at SRC (a checkout of its public repository; proven on
# commit 7432f4e9d959aef63f10a7f4aa9ebd56b1403f6a) into build/reactos/out,
# with ccache in build/reactos/ccache. The tree is only read.
#
#   - ROS_ARCH i386: ReactOS's usable architecture (its x64 is experimental)
#   - DLL_EXPORT_VERSION 0x600: the NT 6 set of user-mode exports. Mesa's
#     ICD needs Vista's kernel32 (SRW locks, condition variables, InitOnce),
#     which the default NT 5.2 set lacks; with it ntoskrnl also exports
#     IoConnectInterruptEx, whose line and message paths connect nothing on
#     ReactOS: the driver's fallback to IoConnectInterrupt is what runs.
#   - Debian's MinGW-w64 (gcc 12) and cmake instead of RosBE: it builds
#     (ReactOS's CMake warns that it is not RosBE's), with one change:
#     CMAKE_AR is scripts/reactos/ar-flat.sh, because Debian's ld crashes
#     on the nested thin archives ReactOS makes its import libraries as.
#
# Cold, on 2 cores: hours (about 11,000 steps); with ccache far less. Ends
# with build/reactos/out/bootcd.iso and out/virgo-source.txt (the commit).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

SRC=${1:-}
[[ -n $SRC && -f $SRC/toolchain-gcc.cmake && -f $SRC/CMakeLists.txt ]] ||
	die "usage: scripts/reactos/build.sh REACTOS_SOURCE_TREE (a checkout of ReactOS's repository)"
SRC=$(cd "$SRC" && pwd)
for t in cmake ninja i686-w64-mingw32-gcc bison flex ccache; do
	command -v $t >/dev/null || die "$t is missing (scripts/setup.sh installs the build tools)"
done
commit=unknown
if [[ $(git -C "$SRC" rev-parse --show-toplevel 2>/dev/null) == "$SRC" ]]; then
	commit=$(git -C "$SRC" rev-parse HEAD)
elif [[ -f $SRC/.virgo-commit ]]; then
	commit=$(cat "$SRC/.virgo-commit")
fi
[[ $commit == "$PROVEN_COMMIT" ]] || say "note: proven on $PROVEN_COMMIT; this tree is $commit"

mkdir -p "$ROUT" "$RDIR/ccache"
export CCACHE_DIR=$RDIR/ccache
OPTS=(-DARCH:STRING=i386 -DCMAKE_BUILD_TYPE=Release -DENABLE_CCACHE:BOOL=1 -DDLL_EXPORT_VERSION:STRING=0x600
	-DCMAKE_AR:FILEPATH="$REPO/scripts/reactos/ar-flat.sh")
if [[ ! -f $ROUT/build.ninja || $(grep -c "^CMAKE_HOME_DIRECTORY:INTERNAL=$SRC\$" "$ROUT/CMakeCache.txt" 2>/dev/null) != 1 ]]; then
	say "configuring $ROUT from $SRC"
	rm -rf "$ROUT"
	mkdir -p "$ROUT"
	(cd "$ROUT" && cmake -G Ninja -DCMAKE_TOOLCHAIN_FILE:FILEPATH="$SRC/toolchain-gcc.cmake" "${OPTS[@]}" "$SRC") \
		>"$RDIR/configure.log" 2>&1 || { tail -30 "$RDIR/configure.log"; die "cmake failed ($RDIR/configure.log)"; }
elif ! grep -q "^CMAKE_AR:FILEPATH=$REPO/scripts/reactos/ar-flat.sh\$" "$ROUT/CMakeCache.txt" ||
	! grep -q "^DLL_EXPORT_VERSION:STRING=0x600\$" "$ROUT/CMakeCache.txt"; then
	say "reconfiguring $ROUT with this script's options"
	# The recorded toolchain (CMakeFiles/<cmake version>/) would keep the old
	# archiver: CMake detects it again from the cache.
	rm -rf "$ROUT"/CMakeFiles/[0-9]*
	(cd "$ROUT" && cmake "${OPTS[@]}" .) >"$RDIR/configure.log" 2>&1 ||
		{ tail -30 "$RDIR/configure.log"; die "cmake failed ($RDIR/configure.log)"; }
fi
say "building bootcd ($(nproc) cores, ccache in $CCACHE_DIR); log $RDIR/build.log"
t0=$SECONDS
(cd "$ROUT" && ninja -j"$(nproc)" bootcd) >"$RDIR/build.log" 2>&1 ||
	{ grep -E "error|FAILED" "$RDIR/build.log" | head -20; die "the build failed ($RDIR/build.log)"; }
echo "$commit" >"$ROUT/virgo-source.txt"
say "done in $((SECONDS - t0)) s: $ROUT/bootcd.iso (ReactOS $commit)"

#!/bin/sh
# SPDX-License-Identifier: MIT
# scripts/reactos/ar-flat.sh: the archiver build.sh gives ReactOS's CMake
# (CMAKE_AR). ReactOS makes each import library a thin archive ("crT") of
# the archive dlltool wrote; Debian's ld (binutils 2.40, and 2.44) crashes
# reading a thin archive that holds another archive's members (SIGSEGV on
# the first DLL linking kernel32). When an input is an archive this copies
# its members into a regular archive instead (ar's MRI ADDLIB); anything
# else goes to the real ar unchanged.
AR=${VIRGO_REAL_AR:-/usr/bin/i686-w64-mingw32-ar}
case "$1" in
*T*) ;;
*) exec "$AR" "$@" ;;
esac
op=$1 target=$2
shift 2
nested=0
for f in "$@"; do
	case $f in
	@*) for g in $(cat "${f#@}"); do case $g in *.a) nested=1 ;; esac; done ;;
	*.a) nested=1 ;;
	esac
done
[ $nested = 1 ] || exec "$AR" "$op" "$target" "$@"
mri=$(mktemp)
trap 'rm -f "$mri"' EXIT
echo "create $target" >"$mri"
add() {
	case $1 in
	-*) ;;
	*.a) echo "addlib $1" >>"$mri" ;;
	*) echo "addmod $1" >>"$mri" ;;
	esac
}
for f in "$@"; do
	case $f in
	@*) for g in $(cat "${f#@}"); do add "$g"; done ;;
	*) add "$f" ;;
	esac
done
printf 'save\nend\n' >>"$mri"
rm -f "$target"
"$AR" -M <"$mri"

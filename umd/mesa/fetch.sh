#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# fetch.sh: Mesa 22.3.6 from Debian's source package, with our files on top.
#
#   umd/mesa/fetch.sh            prepare build/mesa-src (idempotent)
#
# 1. a deb-src entry mirroring the machine's deb entry (a new file, never an
#    edit of the machine's own), and `apt-get update` only when apt knows no
#    mesa 22.3.6 source;
# 2. `apt-get source --download-only` into a cache outside the work tree
#    ($XDG_CACHE_HOME/virgo/mesa, else ~/.cache/virgo/mesa; build/mesa-dl
#    when neither is writable), so `make clean` does not download it again;
# 3. the orig tarball checked against umd/mesa/mesa.sha256 (in the repo);
# 4. unpacked into build/mesa-src with Debian's own patches (the tree Debian
#    builds its libgl1-mesa-dri from), then umd/mesa/virgo.patch;
# 5. our files overlaid (see overlay() below).
#
# A second run only re-syncs the overlay: files are copied when their
# contents differ, so ninja rebuilds only what changed. A changed
# virgo.patch is swapped in place (reverse the old, apply the new).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
HERE="$ROOT/umd/mesa"
SRC="$ROOT/build/mesa-src"
UPSTREAM=22.3.6
ORIG="mesa_${UPSTREAM}.orig.tar.gz"
STAMP="$SRC/.virgo-source"       # which source the tree was made from
APPLIED="$SRC/.virgo-patch"      # the virgo.patch the tree carries

say() { echo "mesa-fetch: $*"; }
die() { echo "mesa-fetch: error: $*" >&2; exit 1; }

# Root, or sudo, for the apt steps; otherwise say what to run.
as_root() {
	if ((EUID == 0)); then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo "$@"
	else
		die "need root for: $*"
	fi
}

EXPECTED_SHA="$(awk -v f="$ORIG" '$2 == f { print $1 }' "$HERE/mesa.sha256")"
[[ -n "$EXPECTED_SHA" ]] || die "no sha256 for $ORIG in umd/mesa/mesa.sha256"

# ---- cache directory --------------------------------------------------------
pick_cache() {
	local c
	for c in "${XDG_CACHE_HOME:-}" "${HOME:+$HOME/.cache}"; do
		[[ -n "$c" ]] || continue
		if mkdir -p "$c/virgo/mesa" 2>/dev/null && [[ -w "$c/virgo/mesa" ]]; then
			echo "$c/virgo/mesa"
			return
		fi
	done
	mkdir -p "$ROOT/build/mesa-dl"
	echo "$ROOT/build/mesa-dl"
}

sha_ok() { [[ -f "$1" ]] && [[ "$(sha256sum "$1" | cut -d' ' -f1)" == "$EXPECTED_SHA" ]]; }

# The diff.gz must match the checksum its .dsc lists (apt checked the .dsc
# against the signed archive index when it downloaded it).
dsc_ok() {
	local dsc="$1" dir want file
	dir="$(dirname "$dsc")"
	while read -r want _ file; do
		[[ -f "$dir/$file" ]] || return 1
		[[ "$(sha256sum "$dir/$file" | cut -d' ' -f1)" == "$want" ]] || return 1
	done < <(awk '/^Checksums-Sha256:/ { on = 1; next } /^[^ ]/ { on = 0 } on && NF == 3' "$dsc")
}

# The newest cached Debian revision of 22.3.6, if its files are all there.
cached_dsc() {
	local dsc best=""
	for dsc in "$CACHE"/mesa_"$UPSTREAM"-*.dsc; do
		[[ -f "$dsc" ]] || continue
		if [[ -z "$best" ]] || dpkg --compare-versions "$(dsc_version "$dsc")" gt "$(dsc_version "$best")"; then
			best="$dsc"
		fi
	done
	if [[ -n "$best" ]] && sha_ok "$CACHE/$ORIG" && dsc_ok "$best"; then
		echo "$best"
	fi
}

dsc_version() { awk '/^Version:/ { print $2; exit }' "$1"; }

# ---- deb-src ----------------------------------------------------------------
has_deb_src() {
	grep -qsE '^[[:space:]]*Types:.*\bdeb-src\b' /etc/apt/sources.list.d/*.sources 2>/dev/null ||
		grep -qsE '^[[:space:]]*deb-src[[:space:]]' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null
}

add_deb_src() {
	local tmp
	tmp="$(mktemp)"
	if [[ -f /etc/apt/sources.list.d/debian.sources ]]; then
		# deb822 (Debian 12's default): every enabled deb stanza, as deb-src.
		awk 'BEGIN { RS = "" }
		     {
			n = split($0, l, "\n"); deb = 0; off = 0; out = ""
			for (i = 1; i <= n; i++) {
				if (l[i] ~ /^#/) continue
				if (l[i] ~ /^Types:/) {
					m = split(l[i], t, /[ \t]+/)
					for (j = 2; j <= m; j++) if (t[j] == "deb") deb = 1
					l[i] = "Types: deb-src"
				}
				if (l[i] ~ /^Enabled:[ \t]*[Nn]o/) off = 1
				out = out l[i] "\n"
			}
			if (deb && !off) printf "%s%s", (k++ ? "\n" : ""), out
		     }' /etc/apt/sources.list.d/debian.sources >"$tmp"
		[[ -s "$tmp" ]] || die "no deb entry in /etc/apt/sources.list.d/debian.sources"
		say "adding /etc/apt/sources.list.d/debian-src.sources (deb-src mirroring debian.sources)"
		as_root install -m 0644 "$tmp" /etc/apt/sources.list.d/debian-src.sources
	elif grep -qsE '^[[:space:]]*deb[[:space:]]' /etc/apt/sources.list; then
		sed -nE 's/^[[:space:]]*deb([[:space:]])/deb-src\1/p' /etc/apt/sources.list >"$tmp"
		say "adding /etc/apt/sources.list.d/debian-src.list (deb-src mirroring sources.list)"
		as_root install -m 0644 "$tmp" /etc/apt/sources.list.d/debian-src.list
	else
		rm -f "$tmp"
		die "no deb entry found to mirror as deb-src"
	fi
	rm -f "$tmp"
}

# The newest 22.3.6 revision apt knows as a source package.
apt_version() {
	apt-cache showsrc mesa 2>/dev/null | awk -v u="$UPSTREAM" '/^Version:/ && index($2, u "-") == 1 { print $2 }' |
		sort -V | tail -1
}

download() {
	local ver
	if ! has_deb_src; then
		add_deb_src
		say "apt-get update (new deb-src entry)"
		as_root apt-get update -q >/dev/null
	fi
	ver="$(apt_version)"
	if [[ -z "$ver" ]]; then
		say "apt-get update (apt knows no mesa $UPSTREAM source yet)"
		as_root apt-get update -q >/dev/null
		ver="$(apt_version)"
	fi
	[[ -n "$ver" ]] || die "Debian serves no mesa $UPSTREAM source package here"
	say "downloading mesa=$ver into $CACHE"
	rm -f "$CACHE/$ORIG"
	# Downloading a source package needs no root (as root, apt would warn
	# that its sandbox user cannot read the cache directory).
	local sandbox=()
	((EUID == 0)) && sandbox=(-o APT::Sandbox::User=root)
	(cd "$CACHE" && apt-get source -q --download-only "${sandbox[@]}" "mesa=$ver" >/dev/null)
}

# ---- unpack ----------------------------------------------------------------
unpack() {
	local dsc="$1" ver="$2" tmp="$ROOT/build/mesa-src.tmp" diff p
	diff="$CACHE/mesa_${ver#*:}.diff.gz"
	[[ -f "$diff" ]] || die "missing $(basename "$diff") (Debian changed the source format?)"
	say "unpacking mesa $ver into build/mesa-src"
	rm -rf "$tmp" "$SRC"
	mkdir -p "$tmp"
	tar -xzf "$CACHE/$ORIG" -C "$tmp" --strip-components=1
	zcat "$diff" | patch -d "$tmp" -p1 -s
	if [[ -f "$tmp/debian/patches/series" ]]; then
		while read -r p _; do
			[[ -z "$p" || "$p" == \#* ]] && continue
			patch -d "$tmp" -p1 -s -N <"$tmp/debian/patches/$p" || die "Debian patch $p does not apply"
		done <"$tmp/debian/patches/series"
		say "applied Debian's $(grep -cvE '^(#|$)' "$tmp/debian/patches/series") patches"
	fi
	patch -d "$tmp" -p1 -s <"$HERE/virgo.patch" || die "umd/mesa/virgo.patch does not apply"
	cp "$HERE/virgo.patch" "$tmp/.virgo-patch"
	echo "$EXPECTED_SHA $ver" >"$tmp/.virgo-source"
	mv "$tmp" "$SRC"
}

# virgo.patch changed since the tree was made: reverse the old one, apply
# the new one; only the files they touch change.
repatch() {
	cmp -s "$HERE/virgo.patch" "$APPLIED" && return 0
	say "umd/mesa/virgo.patch changed: re-applying it"
	if patch -d "$SRC" -p1 -s -R --dry-run <"$APPLIED" >/dev/null &&
		patch -d "$SRC" -p1 -s -R <"$APPLIED" && patch -d "$SRC" -p1 -s <"$HERE/virgo.patch"; then
		cp "$HERE/virgo.patch" "$APPLIED"
		return 0
	fi
	return 1
}

# ---- overlay -----------------------------------------------------------------
# Our files inside Mesa's tree:
#   umd/mesa/overlay/**           -> the same path in the tree (meson wiring,
#                                    the draw module's draw_exec_sampler)
#   umd/winsys/*.[ch]             -> src/gallium/winsys/virgl/virgo/
#   umd/transport/vtp*            -> src/gallium/winsys/virgl/virgo/transport/
#   uapi/*.[ch]                   -> src/gallium/winsys/virgl/virgo/uapi/
#   umd/wgl/*.[ch]                -> src/gallium/winsys/virgl/virgo/wgl/
#   include/virgo/uapi.h          -> src/gallium/winsys/virgl/virgo/include/virgo/
# src/gallium/winsys/virgl/virgo is ours alone: files no longer in the repo
# are removed from it.
declare -A WANT=()

put() { # put SRC DEST-relative-to-tree
	local dst="$SRC/$2"
	WANT["$2"]=1
	if ! cmp -s "$1" "$dst"; then
		mkdir -p "$(dirname "$dst")"
		cp "$1" "$dst"
		CHANGED=$((CHANGED + 1))
	fi
}

overlay() {
	local f rel ws=src/gallium/winsys/virgl/virgo
	CHANGED=0
	while IFS= read -r -d '' f; do
		rel="${f#"$HERE/overlay/"}"
		put "$f" "$rel"
	done < <(find "$HERE/overlay" -type f -print0)
	for f in "$ROOT"/umd/winsys/*.[ch]; do
		if [[ -f "$f" ]]; then put "$f" "$ws/$(basename "$f")"; fi
	done
	for f in "$ROOT"/umd/transport/vtp*.[ch]; do
		if [[ -f "$f" ]]; then put "$f" "$ws/transport/$(basename "$f")"; fi
	done
	# the uAPI's encodings (socket wire, IOCTL codes, status names)
	for f in "$ROOT"/uapi/*.[ch]; do
		put "$f" "$ws/uapi/$(basename "$f")"
	done
	for f in "$ROOT"/umd/wgl/*.[ch]; do
		if [[ -f "$f" ]]; then put "$f" "$ws/wgl/$(basename "$f")"; fi
	done
	put "$ROOT/include/virgo/uapi.h" "$ws/include/virgo/uapi.h"
	while IFS= read -r -d '' f; do
		rel="${f#"$SRC/"}"
		if [[ -z "${WANT[$rel]:-}" ]]; then
			rm -f "$f"
			CHANGED=$((CHANGED + 1))
		fi
	done < <(find "$SRC/$ws" -type f -print0)
	if ((CHANGED)); then
		say "overlay: $CHANGED file(s) updated"
	else
		say "overlay: up to date"
	fi
}

# ---- main --------------------------------------------------------------------
CACHE="$(pick_cache)"
if [[ -f "$STAMP" ]] && [[ "$(cut -d' ' -f1 "$STAMP")" == "$EXPECTED_SHA" ]]; then
	# The tree exists: the fast path touches neither apt nor the cache.
	if ! repatch; then
		say "the old patch does not reverse cleanly: unpacking again"
		rm -f "$STAMP"
	fi
fi
if [[ ! -f "$STAMP" ]]; then
	DSC="$(cached_dsc)"
	if [[ -z "$DSC" ]]; then
		download
		DSC="$(cached_dsc)"
		if [[ -z "$DSC" ]]; then
			if [[ -f "$CACHE/$ORIG" ]] && ! sha_ok "$CACHE/$ORIG"; then
				rm -f "$CACHE/$ORIG"
				die "$ORIG does not match umd/mesa/mesa.sha256 (expected $EXPECTED_SHA)"
			fi
			die "download incomplete in $CACHE"
		fi
	else
		say "using the cached source in $CACHE"
	fi
	say "$ORIG sha256 ok ($EXPECTED_SHA)"
	unpack "$DSC" "$(dsc_version "$DSC")"
fi
overlay
say "ready: build/mesa-src (Mesa $(cut -d' ' -f2 "$STAMP"))"

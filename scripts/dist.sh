#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# dist.sh [--build DIR] [--mesa DIR] [--out DIR] [--strict]: assemble the
# Windows package build/dist/virgo-win64/ and build/dist/virgo-win64.zip:
#
#   - from the MinGW-w64 cross build (--build, default build/win64): the
#     test-signed kernel driver package, virgo-info.exe and the installer
#     virgo-install.exe;
#   - from Mesa's Windows build (--mesa, default build/mesa-win64/install/bin,
#     made by `umd/mesa/build.sh windows`): the ICD virgo_icd64.dll and
#     Mesa's app-local opengl32.dll;
#   - from the tree: install.cmd and README.txt.
#
# A part that is not built is listed in MISSING.txt inside the package and
# on stdout, so a partial package is never mistaken for a whole one; --strict
# makes any missing part an error.
#
# Never packs a private key: the test certificate goes in as virgo-test.cer
# (public part only), and the script checks the result for key material.
set -euo pipefail
cd "$(dirname "$0")/.."

build=build/win64
mesa=build/mesa-win64/install/bin
out=build/dist
strict=0
while (($#)); do
	case "$1" in
	--build) build=$2; shift 2 ;;
	--mesa) mesa=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	--strict) strict=1; shift ;;
	*) echo "dist.sh: unknown argument $1" >&2; exit 2 ;;
	esac
done

pkg=$out/virgo-win64
rm -rf "$pkg" "$out/virgo-win64.zip"
mkdir -p "$pkg"

missing=()
# name in the package | where the build puts it | what it is
PARTS=(
	"virgo.sys|$build/kmd/win/virgo.sys|kernel driver, test-signed"
	"virgo.inf|$build/kmd/win/virgo.inf|driver install information"
	"virgo.cat|$build/kmd/win/virgo.cat|driver catalog, test-signed"
	"virgo-test.cer|$build/kmd/win/virgo-test.cer|the test certificate (public part)"
	"virgo-install.exe|$build/tools/virgo-install/virgo-install.exe|installer: checks, certificate, driver, ICD registration"
	"install.cmd|kmd/win/install.cmd|runs virgo-install.exe"
	"virgo_icd64.dll|$mesa/virgo_icd64.dll|OpenGL ICD: Mesa 22.3.6 with the virgl driver and the virgo winsys"
	"opengl32.dll|$mesa/opengl32.dll|Mesa's opengl32.dll, for app-local use beside a program"
	"virgo-info.exe|$build/tools/virgo-info/virgo-info.exe|device features, capsets and GL strings through the real stack"
	"README.txt|kmd/win/README-windows.txt|README for Windows users (QEMU command line, test signing, status)"
)

for entry in "${PARTS[@]}"; do
	IFS='|' read -r name src what <<<"$entry"
	if [[ -f "$src" ]]; then
		case "$name" in
		# CR LF for Windows; not virgo.inf: the catalog covers its bytes
		*.cmd | *.txt) sed 's/\r*$/\r/' "$src" >"$pkg/$name" ;;
		*) cp "$src" "$pkg/$name" ;;
		esac
		printf '  %-16s %s\n' "$name" "$what"
	else
		missing+=("$name: $what (expected at $src)")
	fi
done

if ((${#missing[@]})); then
	printf '%s\r\n' "This package is incomplete; missing:" "${missing[@]/#/  }" >"$pkg/MISSING.txt"
	echo "dist: missing:"
	printf '  %s\n' "${missing[@]}"
fi

# The INF and the catalog must describe the virgo.sys beside them: a stale
# copy would install with a hash mismatch.
if [[ -f "$pkg/virgo.sys" && -f "$pkg/virgo.cat" && -f "$build/kmd/win/testcert/virgo-test.crt" ]] &&
	command -v osslsigncode >/dev/null; then
	osslsigncode verify -CAfile "$build/kmd/win/testcert/virgo-test.crt" -catalog "$pkg/virgo.cat" \
		-in "$pkg/virgo.sys" 2>&1 | grep -q '^Succeeded' ||
		{ echo "dist: virgo.cat does not cover virgo.sys" >&2; exit 1; }
fi
if grep -r -l -E 'PRIVATE KEY' "$pkg" >/dev/null 2>&1 || compgen -G "$pkg/*.key" >/dev/null; then
	echo "dist: private key material in the package" >&2
	exit 1
fi

(cd "$pkg" && sha256sum -- * >SHA256SUMS)
/usr/bin/python3 - "$out" <<'EOF'
import os, sys, zipfile
out = sys.argv[1]
with zipfile.ZipFile(os.path.join(out, "virgo-win64.zip"), "w", zipfile.ZIP_DEFLATED) as z:
    for name in sorted(os.listdir(os.path.join(out, "virgo-win64"))):
        z.write(os.path.join(out, "virgo-win64", name), "virgo-win64/" + name)
EOF
echo "dist: $pkg and $out/virgo-win64.zip"
if ((${#missing[@]})); then
	echo "dist: INCOMPLETE (${#missing[@]} parts missing)"
	((strict == 0)) || exit 1
fi

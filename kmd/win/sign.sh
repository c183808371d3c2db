#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# sign.sh: test-sign the virgo driver package on Linux.
#
#   sign.sh --sys virgo-unsigned.sys --inf virgo.inf --outdir DIR [--certdir DIR]
#
# Writes DIR/virgo.sys (Authenticode, SHA-256, page hashes), DIR/virgo.inf
# (DriverVer stamped), DIR/virgo.cat (catalog of both, signed) and
# DIR/virgo-test.cer (the certificate, DER, for the Windows side).
#
# The test certificate is made once per certificate directory (default: a
# "testcert" folder beside the output) with openssl: a self-signed RSA-3072
# code-signing certificate. Its private key never leaves the build tree and
# is never committed (build/ is ignored). Set VIRGO_TEST_CERT_DIR to keep
# one certificate across build trees, so that Windows trusts it once.
# No timestamp: test signing needs none, and the build has no network.
set -euo pipefail

sys= inf= outdir= certdir="${VIRGO_TEST_CERT_DIR:-}"
version="${VIRGO_VERSION:-0.1.0}"
here=$(cd "$(dirname "$0")" && pwd)
while (($#)); do
	case "$1" in
	--sys) sys=$2; shift 2 ;;
	--inf) inf=$2; shift 2 ;;
	--outdir) outdir=$2; shift 2 ;;
	--certdir) [[ -n "${VIRGO_TEST_CERT_DIR:-}" ]] || certdir=$2; shift 2 ;;
	--version) version=$2; shift 2 ;;
	*) echo "sign.sh: unknown argument $1" >&2; exit 2 ;;
	esac
done
[[ -n "$sys" && -n "$inf" && -n "$outdir" ]] || { echo "usage: sign.sh --sys F --inf F --outdir D [--certdir D]" >&2; exit 2; }
certdir=${certdir:-$outdir/testcert}
for tool in openssl osslsigncode python3; do
	command -v "$tool" >/dev/null || { echo "sign.sh: $tool is missing (apt-get install $tool)" >&2; exit 1; }
done
mkdir -p "$outdir" "$certdir"
key=$certdir/virgo-test.key
crt=$certdir/virgo-test.crt

# ---- the test certificate --------------------------------------------------
if [[ ! -s "$key" || ! -s "$crt" ]]; then
	umask 077
	openssl req -x509 -newkey rsa:3072 -sha256 -days 1825 -nodes \
		-subj "/CN=virgo test signing (untrusted, made by the build)/O=virgo" \
		-addext "basicConstraints=critical,CA:FALSE" \
		-addext "keyUsage=critical,digitalSignature" \
		-addext "extendedKeyUsage=codeSigning" \
		-keyout "$key" -out "$crt" 2>/dev/null
	umask 022
	echo "sign.sh: new test certificate in $certdir"
fi
openssl x509 -in "$crt" -outform DER -out "$outdir/virgo-test.cer"

# ---- virgo.sys ----------------------------------------------------------------
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
osslsigncode sign -certs "$crt" -key "$key" -h sha256 -ph \
	-n "virgo virtio-gpu 3D driver" -in "$sys" -out "$tmp/virgo.sys" >/dev/null
mv "$tmp/virgo.sys" "$outdir/virgo.sys"

# ---- virgo.inf: DriverVer = the build's date, version.hours ------------------
# The fourth part grows with every hour, so that Windows takes a rebuilt
# package as newer than the one it has. SOURCE_DATE_EPOCH makes it
# reproducible.
now=${SOURCE_DATE_EPOCH:-$(date +%s)}
date=$(date -u -d "@$now" +%m/%d/%Y)
build=$(( (now / 3600) % 65535 ))
# CR LF line ends, as Windows tools write INF files (the catalog hashes
# these exact bytes: the package must carry this file unchanged).
sed -E -e "s|^DriverVer[[:space:]]*=.*|DriverVer   = $date,$version.$build|" -e 's/\r*$/\r/' "$inf" >"$outdir/virgo.inf"

# ---- virgo.cat ------------------------------------------------------------------
python3 "$here/makecat.py" -o "$tmp/virgo.cat" \
	--hwid 'PCI\VEN_1AF4&DEV_1050&SUBSYS_11001AF4&REV_01' --hwid 'PCI\VEN_1AF4&DEV_1050' \
	"$outdir/virgo.inf" "$outdir/virgo.sys" >/dev/null
osslsigncode sign -certs "$crt" -key "$key" -h sha256 \
	-n "virgo driver package" -in "$tmp/virgo.cat" -out "$tmp/virgo-signed.cat" >/dev/null
mv "$tmp/virgo-signed.cat" "$outdir/virgo.cat"

# ---- check what was made ---------------------------------------------------------
osslsigncode verify -CAfile "$crt" -in "$outdir/virgo.sys" >"$tmp/verify.log" 2>&1 ||
	{ cat "$tmp/verify.log" >&2; echo "sign.sh: virgo.sys does not verify" >&2; exit 1; }
osslsigncode verify -CAfile "$crt" -catalog "$outdir/virgo.cat" -in "$outdir/virgo.sys" >"$tmp/verify.log" 2>&1 ||
	{ cat "$tmp/verify.log" >&2; echo "sign.sh: virgo.cat does not cover virgo.sys" >&2; exit 1; }
echo "sign.sh: $outdir/virgo.sys, virgo.inf, virgo.cat signed by $(openssl x509 -in "$crt" -noout -fingerprint -sha1 | cut -d= -f2)"

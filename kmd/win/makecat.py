#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""makecat.py: an unsigned Windows security catalog (.cat) for a driver
package, on Linux, from the format's public description (no makecat.exe).

A catalog is PKCS #7 SignedData whose content is a certificate trust list
(CTL, szOID_CTL 1.3.6.1.4.1.311.10.1) of the szOID_CATALOG_LIST usage. Each
member is a CTL entry: the subject identifier is the member's reference tag
(the hash in upper-case hex, UTF-16LE, NUL-terminated, as makecat's <HASH>
tags give), with three attributes:
  CAT_NAMEVALUE_OBJID   "File" = file name (and "OSAttr")
  CAT_MEMBERINFO_OBJID  the SIP GUID (PE image or flat file), cert version 0x200
  SPC_INDIRECT_DATA_OBJID  SpcIndirectDataContent: the file's digest; for a
                        PE file the Authenticode hash (checksum, certificate
                        directory entry and certificate table excluded), for
                        any other file the hash of the whole file.
Catalog attributes (OS, HWIDn) are CTL extensions with CAT_NAMEVALUE_OBJID.
Hashes are SHA-1 (catalog version 1, what Windows 7..11 accept; the
signature over the catalog is SHA-256, made by osslsigncode afterwards).

The output has no signer: `osslsigncode sign` adds one (it keeps the CTL).

usage: makecat.py -o virgo.cat [--hwid ID]... [--os 10_X64] FILE...
"""
import argparse
import datetime
import hashlib
import os
import struct
import sys
import uuid

# ---- DER ----------------------------------------------------------------------


def der_len(n):
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b


def tlv(tag, content):
    return bytes([tag]) + der_len(len(content)) + content


def seq(*items):
    return tlv(0x30, b"".join(items))


def set_of(*items):
    # DER: the elements of a SET OF in ascending order of their encodings.
    return tlv(0x31, b"".join(sorted(items)))


def oid(dotted):
    parts = [int(p) for p in dotted.split(".")]
    out = bytearray([40 * parts[0] + parts[1]])
    for p in parts[2:]:
        chunk = [p & 0x7F]
        p >>= 7
        while p:
            chunk.append(0x80 | (p & 0x7F))
            p >>= 7
        out += bytes(reversed(chunk))
    return tlv(0x06, bytes(out))


def integer(n):
    b = n.to_bytes(max(1, (n.bit_length() + 8) // 8), "big", signed=True)
    return tlv(0x02, b)


def octets(b):
    return tlv(0x04, b)


def null():
    return b"\x05\x00"


def bmp(s):
    return tlv(0x1E, s.encode("utf-16-be"))


def utctime(t):
    return tlv(0x17, t.strftime("%y%m%d%H%M%SZ").encode())


def explicit(n, content):
    return tlv(0xA0 | n, content)


def implicit_prim(n, content):
    return tlv(0x80 | n, content)


def wide(s):
    return (s + "\0").encode("utf-16-le")


# ---- object identifiers ----------------------------------------------------------
OID_SIGNED_DATA = "1.2.840.113549.1.7.2"
OID_CTL = "1.3.6.1.4.1.311.10.1"
OID_CATALOG_LIST = "1.3.6.1.4.1.311.12.1.1"
OID_CATALOG_LIST_MEMBER = "1.3.6.1.4.1.311.12.1.2"
OID_CAT_NAMEVALUE = "1.3.6.1.4.1.311.12.2.1"
OID_CAT_MEMBERINFO = "1.3.6.1.4.1.311.12.2.2"
OID_SPC_INDIRECT_DATA = "1.3.6.1.4.1.311.2.1.4"
OID_SPC_PE_IMAGE_DATA = "1.3.6.1.4.1.311.2.1.15"
OID_SPC_CAB_DATA = "1.3.6.1.4.1.311.2.1.25"
OID_SHA1 = "1.3.14.3.2.26"

SIP_PE = "{C689AAB8-8E78-11D0-8C47-00C04FC295EE}"
SIP_FLAT = "{DE351A42-8E59-11D0-8C47-00C04FC295EE}"
# CRYPTCAT_ATTR_AUTHENTICATED | CRYPTCAT_ATTR_NAMEASCII | CRYPTCAT_ATTR_DATAASCII
NAMEVALUE_FLAGS = 0x10010001

# ---- hashes ----------------------------------------------------------------------


def pe_layout(data):
    """(checksum offset, certificate directory entry offset, cert table
    offset, cert table size) of a PE image, or None if not a PE image."""
    if len(data) < 0x40 or data[:2] != b"MZ":
        return None
    pe = struct.unpack_from("<I", data, 0x3C)[0]
    if pe + 24 > len(data) or data[pe:pe + 4] != b"PE\0\0":
        return None
    opt = pe + 24
    magic = struct.unpack_from("<H", data, opt)[0]
    if magic == 0x20B:      # PE32+
        dirs = opt + 112
    elif magic == 0x10B:    # PE32
        dirs = opt + 96
    else:
        return None
    checksum = opt + 64
    secdir = dirs + 4 * 8
    cert_off, cert_len = struct.unpack_from("<II", data, secdir)
    return checksum, secdir, cert_off, cert_len


def authenticode_digest(data, algo="sha1"):
    """The Authenticode digest of a PE image: everything but the checksum,
    the certificate directory entry and the certificate table."""
    lay = pe_layout(data)
    checksum, secdir, cert_off, cert_len = lay
    end = cert_off if cert_off and cert_off + cert_len == len(data) else len(data)
    h = hashlib.new(algo)
    h.update(data[:checksum])
    h.update(data[checksum + 4:secdir])
    h.update(data[secdir + 8:end])
    # Unsigned images whose length is not a multiple of 8 are hashed as if
    # padded (signing pads them the same way before the table).
    if cert_off == 0 and len(data) % 8:
        h.update(b"\0" * (8 - len(data) % 8))
    return h.digest()


# ---- catalog ----------------------------------------------------------------------


def namevalue(name, value):
    return seq(bmp(name), integer(NAMEVALUE_FLAGS), octets(wide(value)))


def attribute(oid_str, value):
    return seq(oid(oid_str), set_of(value))


def member(path, os_attr):
    data = open(path, "rb").read()
    name = os.path.basename(path)
    if pe_layout(data):
        digest = authenticode_digest(data)
        sip = SIP_PE
        # SpcPeImageData { flags BIT STRING {}, file [0] SpcLink { file [2] SpcString { unicode [0] "<<<Obsolete>>>" } } }
        obsolete = explicit(2, implicit_prim(0, "<<<Obsolete>>>".encode("utf-16-be")))
        spc_data = seq(oid(OID_SPC_PE_IMAGE_DATA), seq(tlv(0x03, b"\x00"), explicit(0, obsolete)))
    else:
        digest = hashlib.sha1(data).digest()
        sip = SIP_FLAT
        obsolete = explicit(2, implicit_prim(0, "<<<Obsolete>>>".encode("utf-16-be")))
        spc_data = seq(oid(OID_SPC_CAB_DATA), obsolete)
    indirect = seq(spc_data, seq(seq(oid(OID_SHA1), null()), octets(digest)))
    attrs = [
        attribute(OID_CAT_NAMEVALUE, namevalue("File", name)),
        attribute(OID_CAT_NAMEVALUE, namevalue("OSAttr", os_attr)),
        attribute(OID_CAT_MEMBERINFO, seq(bmp(sip), integer(0x200))),
        attribute(OID_SPC_INDIRECT_DATA, indirect),
    ]
    tag = digest.hex().upper()
    return seq(octets(wide(tag)), set_of(*attrs)), name, tag


def catalog(files, hwids, os_list, os_attr, when):
    entries = [member(f, os_attr) for f in files]
    exts = [seq(oid(OID_CAT_NAMEVALUE), octets(namevalue("OS", os_list)))]
    for i, h in enumerate(hwids, 1):
        exts.append(seq(oid(OID_CAT_NAMEVALUE), octets(namevalue("HWID%d" % i, h.lower()))))
    # The list identifier: any 16 bytes; derived from the contents so that
    # the same inputs give the same catalog.
    ident = uuid.uuid5(uuid.NAMESPACE_OID, "".join(t for _, _, t in entries)).bytes
    ctl = seq(
        seq(oid(OID_CATALOG_LIST)),                       # subjectUsage
        octets(ident),                                    # listIdentifier
        utctime(when),                                    # thisUpdate
        seq(oid(OID_CATALOG_LIST_MEMBER), null()),        # subjectAlgorithm
        seq(*[e for e, _, _ in entries]),                 # trustedSubjects
        explicit(0, seq(*exts)),                          # extensions
    )
    signed = seq(
        integer(1),                                       # version
        set_of(),                                         # digestAlgorithms: none yet
        seq(oid(OID_CTL), explicit(0, ctl)),              # contentInfo
        set_of(),                                         # signerInfos: none yet
    )
    return seq(oid(OID_SIGNED_DATA), explicit(0, signed)), entries


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("--hwid", action="append", default=[])
    ap.add_argument("--os", default="10_X64", help="catalog OS attribute (inf2cat's /os names)")
    ap.add_argument("--os-attr", default="2:10.0", help="member OSAttr (platform:version)")
    ap.add_argument("files", nargs="+")
    a = ap.parse_args()
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    when = (datetime.datetime.fromtimestamp(int(epoch), datetime.timezone.utc) if epoch
            else datetime.datetime.now(datetime.timezone.utc))
    der, entries = catalog(a.files, a.hwid, a.os, a.os_attr, when)
    with open(a.output, "wb") as f:
        f.write(der)
    for _, name, tag in entries:
        print("makecat: %s sha1 %s" % (name, tag))
    return 0


if __name__ == "__main__":
    sys.exit(main())

/* SPDX-License-Identifier: MIT */
/*
 * test_cat.c: reads the catalog that kmd/win/makecat.py made (and
 * osslsigncode signed) with wintrust's catalog API, as a Windows program
 * under Wine: an independent DER/CTL decoder (Wine's crypt32) must find
 * each member with its SIP GUID and digest.
 *
 *   test_cat.exe virgo.cat TAG...   (TAG: the expected SHA-1 in hex)
 */
#include <stdio.h>
#include <string.h>
#include <windows.h>
#include <wincrypt.h>
#include <mscat.h>

static int passed, failed;

static void result(int ok, const char *what, const char *arg)
{
	ok ? passed++ : failed++;
	printf("%s: %s%s%s\n", ok ? "PASS" : "FAIL", what, arg ? " " : "", arg ? arg : "");
}

int main(int argc, char **argv)
{
	static const GUID pe_sip = { 0xC689AAB8, 0x8E78, 0x11D0, { 0x8C, 0x47, 0x00, 0xC0, 0x4F, 0xC2, 0x95, 0xEE } };
	static const GUID flat_sip = { 0xDE351A42, 0x8E59, 0x11D0, { 0x8C, 0x47, 0x00, 0xC0, 0x4F, 0xC2, 0x95, 0xEE } };
	WCHAR path[MAX_PATH];
	CRYPTCATMEMBER *m = NULL;
	int found[16] = { 0 }, members = 0, sips_ok = 1;
	HANDLE cat;

	if (argc < 2 || argc > 18) {
		fprintf(stderr, "usage: test_cat FILE.cat TAG...\n");
		return 2;
	}
	MultiByteToWideChar(CP_ACP, 0, argv[1], -1, path, MAX_PATH);
	cat = CryptCATOpen(path, CRYPTCAT_OPEN_EXISTING, 0, 0, 0);
	result(cat != INVALID_HANDLE_VALUE && cat != NULL, "wintrust opens the catalog", argv[1]);
	if (cat == INVALID_HANDLE_VALUE || cat == NULL)
		goto out;
	while ((m = CryptCATEnumerateMember(cat, m))) {
		char tag[128] = "";

		members++;
		WideCharToMultiByte(CP_ACP, 0, m->pwszReferenceTag, -1, tag, sizeof(tag), NULL, NULL);
		if (!IsEqualGUID(&m->gSubjectType, &pe_sip) && !IsEqualGUID(&m->gSubjectType, &flat_sip))
			sips_ok = 0;
		if (!m->pIndirectData || m->pIndirectData->Digest.cbData != 20 || m->dwCertVersion != 0x200)
			sips_ok = 0;
		for (int i = 2; i < argc; i++)
			if (!_stricmp(tag, argv[i]))
				found[i - 2] = 1;
	}
	result(members == argc - 2, "the catalog has one member per file", NULL);
	result(sips_ok, "each member names the PE or flat-file SIP, a SHA-1 digest and cert version 0x200", NULL);
	for (int i = 2; i < argc; i++)
		result(found[i - 2], "member found:", argv[i]);
	CryptCATClose(cat);
out:
	printf("%d passed, %d failed\n", passed, failed);
	return failed != 0;
}

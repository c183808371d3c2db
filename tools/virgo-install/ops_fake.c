/* SPDX-License-Identifier: MIT */
/*
 * ops_fake.c: the test double of install.h, for virgo-install-fake.exe
 * under Wine (tests/win/install-check.sh). It answers what only a real
 * Windows can (the kernel's test-signing state, bcdedit, pnputil, the PCI
 * device and its driver, UpdateDriverForPlugAndPlayDevices) from
 * environment variables, and prints each call as "fake: ..." so a test can
 * see what the installer asked for. Everything else the installer does runs
 * for real in the Wine prefix. Not part of the package.
 *
 *   VIRGO_FAKE_TESTSIGN        1 on (default), 0 off
 *   VIRGO_FAKE_TESTSIGN_BCD    1: bcdedit says testsigning Yes; 0 (default)
 *   VIRGO_FAKE_DEVICES         "CLASS:SERVICE:STARTED:PROBLEM;..." (hex
 *                              class, e.g. "0380:viogpudo:1:0"); unset: none
 *   VIRGO_FAKE_PNPUTIL         exit status of pnputil /add-driver (default 0)
 *   VIRGO_FAKE_AFTER_ADD       "SERVICE:STARTED:PROBLEM": the first render
 *                              device after a pnputil that exited 0 or 3010
 *   VIRGO_FAKE_UPDATE          Win32 error of UpdateDriverForPlugAndPlayDevices
 *                              (default 0: it then runs virgo, started)
 *   VIRGO_FAKE_AFTER_UPDATE    "SERVICE:STARTED:PROBLEM" after it succeeded
 *   VIRGO_FAKE_OEM_INFS        "oem3.inf,oem9.inf": published copies of virgo.inf
 *   VIRGO_FAKE_PNPUTIL_DELETE  exit status of pnputil /delete-driver (default 0)
 */
#define WIN32_LEAN_AND_MEAN
#include <windows.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "install.h"

static struct vtp_devnode devices[VTP_DEVNODES_MAX];
static int ndevices = -2; /* not read yet */

static int env_int(const char *name, int dflt)
{
	const char *v = getenv(name);

	return v && *v ? atoi(v) : dflt;
}

/* "SERVICE:STARTED:PROBLEM" onto a device (SERVICE may be empty). */
static void apply_state(struct vtp_devnode *d, const char *s)
{
	const char *c = strchr(s, ':');
	size_t n = c ? (size_t)(c - s) : strlen(s);
	int started = 0;
	unsigned problem = 0;

	if (n >= sizeof(d->service))
		n = sizeof(d->service) - 1;
	memcpy(d->service, s, n);
	d->service[n] = 0;
	if (c)
		sscanf(c + 1, "%d:%u", &started, &problem);
	d->started = started != 0;
	d->problem = problem;
}

/* The next item of a list separated by sep, copied into item; NULL at the end. */
static const char *next_item(const char *s, char sep, char *item, size_t size)
{
	const char *e;
	size_t n;

	if (!s || !*s)
		return NULL;
	e = strchr(s, sep);
	n = e ? (size_t)(e - s) : strlen(s);
	if (n >= size)
		n = size - 1;
	memcpy(item, s, n);
	item[n] = 0;
	return e ? e + 1 : s + strlen(s);
}

static void read_devices(void)
{
	const char *v = getenv("VIRGO_FAKE_DEVICES");
	char item[256];

	if (ndevices != -2)
		return;
	ndevices = 0;
	while ((v = next_item(v, ';', item, sizeof(item))) && ndevices < VTP_DEVNODES_MAX) {
		struct vtp_devnode *d = &devices[ndevices];
		char *rest = strchr(item, ':');

		memset(d, 0, sizeof(*d));
		d->cls = (unsigned)strtoul(item, NULL, 16);
		snprintf(d->id, sizeof(d->id), "PCI\\VEN_1AF4&DEV_1050&SUBSYS_11001AF4&REV_01\\3&267A616A&0&%02X",
			 0x20 + 8 * ndevices);
		if (rest)
			apply_state(d, rest + 1);
		ndevices++;
	}
}

static struct vtp_devnode *render(void)
{
	read_devices();
	for (int i = 0; i < ndevices; i++)
		if (devices[i].cls == VTP_CLASS_RENDER)
			return &devices[i];
	return NULL;
}

static int testsign_active(void)
{
	int v = env_int("VIRGO_FAKE_TESTSIGN", 1);

	printf("fake: code integrity test signing %s\n", v ? "on" : "off");
	return v;
}

static int testsign_configured(void)
{
	int v = env_int("VIRGO_FAKE_TESTSIGN_BCD", 0);

	printf("fake: bcdedit /enum {current}: testsigning %s\n", v ? "Yes" : "No");
	return v;
}

static int pnputil(const wchar_t *args)
{
	bool add = wcsstr(args, L"/add-driver") != NULL;
	int rc = env_int(add ? "VIRGO_FAKE_PNPUTIL" : "VIRGO_FAKE_PNPUTIL_DELETE", 0);
	const char *after = getenv("VIRGO_FAKE_AFTER_ADD");

	printf("fake: pnputil %ls -> %d\n", args, rc);
	if (add && (rc == 0 || rc == 3010) && after && render())
		apply_state(render(), after);
	return rc;
}

static int list_devices(struct vtp_devnode *out, int max)
{
	int n;

	read_devices();
	n = ndevices < max ? ndevices : max;
	memcpy(out, devices, sizeof(*out) * (size_t)n);
	printf("fake: %d virtio-gpu device(s)", n);
	for (int i = 0; i < n; i++)
		printf("%s class %04x '%s' %s problem %u", i ? ";" : ":", out[i].cls, out[i].service,
		       out[i].started ? "started" : "stopped", out[i].problem);
	printf("\n");
	return n;
}

static unsigned long update_driver(const char *hwid, const wchar_t *inf, bool force, bool *reboot)
{
	unsigned long err = (unsigned long)env_int("VIRGO_FAKE_UPDATE", 0);
	const char *after = getenv("VIRGO_FAKE_AFTER_UPDATE");

	(void)reboot;
	printf("fake: UpdateDriverForPlugAndPlayDevices %s %ls%s -> %lu\n", hwid, wcsrchr(inf, L'\\') ? wcsrchr(inf, L'\\') + 1 : inf,
	       force ? " INSTALLFLAG_FORCE" : "", err);
	if (!err && render())
		apply_state(render(), after ? after : "virgo:1:0");
	return err;
}

static int find_oem_infs(wchar_t names[][64], int max)
{
	const char *v = getenv("VIRGO_FAKE_OEM_INFS");
	char item[64];
	int n = 0;

	while ((v = next_item(v, ',', item, sizeof(item))) && n < max)
		MultiByteToWideChar(CP_ACP, 0, item, -1, names[n++], 64);
	printf("fake: %d published copies of virgo.inf\n", n);
	return n;
}

const struct install_ops install_ops = {
	.testsign_active = testsign_active,
	.testsign_configured = testsign_configured,
	.pnputil = pnputil,
	.list_devices = list_devices,
	.update_driver = update_driver,
	.find_oem_infs = find_oem_infs,
};

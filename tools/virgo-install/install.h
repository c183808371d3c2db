/* SPDX-License-Identifier: MIT */
/*
 * install.h: what virgo-install asks of Windows that only a real Windows
 * can answer, as a table of functions: ops_win.c asks Windows, ops_fake.c
 * (the test double, tests/win/install-check.sh) answers from a script. The
 * rest of the installer (install.c: the decisions, the certificate stores,
 * the registry, the file copy) is the same code in both, and runs for real
 * under Wine.
 */
#ifndef VIRGO_INSTALL_H
#define VIRGO_INSTALL_H

#include <stdbool.h>
#include <wchar.h>

#include "vtp_devnode.h"

#define MAX_OEM_INFS 16

struct install_ops {
	/* Whether the running kernel has test signing on: 1, 0, -1 unknown
	 * (NtQuerySystemInformation, SystemCodeIntegrityInformation). */
	int (*testsign_active)(void);
	/* Whether the boot entry says testsigning Yes (bcdedit /enum
	 * {current}), i.e. it is on after the next restart: 1, 0, -1. */
	int (*testsign_configured)(void);
	/* pnputil.exe with these arguments, its output to ours; its exit
	 * status, -1 if it could not run. */
	int (*pnputil)(const wchar_t *args);
	/* The present virtio-gpu functions (vtp_list_devnodes). */
	int (*list_devices)(struct vtp_devnode *out, int max);
	/* UpdateDriverForPlugAndPlayDevices(hwid, inf, INSTALLFLAG_FORCE if
	 * force): 0, or the Win32 error; *reboot as it says. */
	unsigned long (*update_driver)(const char *hwid, const wchar_t *inf, bool force, bool *reboot);
	/* The published names (oemNN.inf) of driver packages whose original
	 * name is virgo.inf; how many. */
	int (*find_oem_infs)(wchar_t names[][64], int max);
};

extern const struct install_ops install_ops;

#endif

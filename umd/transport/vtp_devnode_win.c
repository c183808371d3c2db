/* SPDX-License-Identifier: MIT */
/*
 * vtp_devnode_win.c: vtp_list_devnodes on Windows. Every present device of
 * the PCI enumerator whose hardware IDs name VEN_1AF4&DEV_1050: its class
 * from the &CC_ccss form of its IDs, the service bound to it (SPDRP_SERVICE)
 * and Device Manager's state (CM_Get_DevNode_Status). Never run on Windows;
 * under Wine there is no PCI device, and the list is empty.
 */
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#include <setupapi.h>
#include <cfgmgr32.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vtp_devnode.h"

static bool starts_with_ci(const char *s, const char *prefix)
{
	for (; *prefix; s++, prefix++) {
		char a = *s >= 'a' && *s <= 'z' ? (char)(*s - 'a' + 'A') : *s;

		if (a != *prefix)
			return false;
	}
	return true;
}

/* The class of the first ID with &CC_ccss; 0 if none says. */
static unsigned class_of(const char *multi)
{
	for (const char *id = multi; *id; id += strlen(id) + 1) {
		const char *cc = strstr(id, "&CC_");
		unsigned v;

		if (!cc)
			cc = strstr(id, "&cc_");
		if (cc && sscanf(cc + 4, "%4x", &v) == 1)
			return v;
	}
	return 0;
}

static bool is_virtio_gpu(const char *multi)
{
	for (const char *id = multi; *id; id += strlen(id) + 1)
		if (starts_with_ci(id, "PCI\\VEN_1AF4&DEV_1050"))
			return true;
	return false;
}

/* A REG_MULTI_SZ property into buf (ANSI), empty when absent. */
static void multi_prop(HDEVINFO set, SP_DEVINFO_DATA *d, DWORD prop, char *buf, DWORD size)
{
	memset(buf, 0, size);
	if (!SetupDiGetDeviceRegistryPropertyA(set, d, prop, NULL, (BYTE *)buf, size - 2, NULL))
		memset(buf, 0, size);
}

int vtp_list_devnodes(struct vtp_devnode *out, int max)
{
	HDEVINFO set = SetupDiGetClassDevsA(NULL, "PCI", NULL, DIGCF_ALLCLASSES | DIGCF_PRESENT);
	char ids[2048], compat[2048];
	int n = 0;

	if (set == INVALID_HANDLE_VALUE)
		return -1;
	for (DWORD i = 0; n < max; i++) {
		SP_DEVINFO_DATA d = { .cbSize = sizeof(d) };
		struct vtp_devnode *o = &out[n];
		ULONG status = 0, problem = 0;

		if (!SetupDiEnumDeviceInfo(set, i, &d))
			break; /* ERROR_NO_MORE_ITEMS */
		multi_prop(set, &d, SPDRP_HARDWAREID, ids, sizeof(ids));
		if (!is_virtio_gpu(ids))
			continue;
		memset(o, 0, sizeof(*o));
		multi_prop(set, &d, SPDRP_COMPATIBLEIDS, compat, sizeof(compat));
		/* Windows 10 moved some forms to the compatible IDs. */
		o->cls = class_of(ids);
		if (!o->cls)
			o->cls = class_of(compat);
		if (!SetupDiGetDeviceInstanceIdA(set, &d, o->id, sizeof(o->id), NULL))
			strcpy(o->id, "PCI\\VEN_1AF4&DEV_1050");
		if (!SetupDiGetDeviceRegistryPropertyA(set, &d, SPDRP_SERVICE, NULL, (BYTE *)o->service,
						       sizeof(o->service) - 1, NULL))
			o->service[0] = 0;
		if (CM_Get_DevNode_Status(&status, &problem, d.DevInst, 0) == CR_SUCCESS) {
			o->started = (status & DN_STARTED) != 0;
			o->problem = (status & DN_HAS_PROBLEM) ? problem : 0;
		}
		n++;
	}
	SetupDiDestroyDeviceInfoList(set);
	return n;
}

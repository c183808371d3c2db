/* SPDX-License-Identifier: MIT */
/*
 * vtp_devnode.c: the sentences of vtp_devnode.h. Plain C: the same text on
 * Windows (the ICD, virgo-info, the installer) and in the Linux unit test.
 * The problem codes are Device Manager's (cfg.h CM_PROB_*; Microsoft's
 * "Device Manager error messages" gives their meaning).
 */
#include <stdio.h>

#include "vtp_devnode.h"

bool vtp_same_name(const char *a, const char *b)
{
	for (; *a && *b; a++, b++) {
		char x = *a >= 'A' && *a <= 'Z' ? (char)(*a - 'A' + 'a') : *a;
		char y = *b >= 'A' && *b <= 'Z' ? (char)(*b - 'A' + 'a') : *b;

		if (x != y)
			return false;
	}
	return !*a && !*b;
}

const char *vtp_problem_text(unsigned problem)
{
	switch (problem) {
	case 0:
		return "no problem code";
	case 1:
		return "code 1: the device is not configured";
	case 3:
		return "code 3: the driver may be corrupted, or Windows is out of memory";
	case 10:
		return "code 10: the device cannot start (virgo.sys refused it: the driver's log, e.g. in "
		       "DebugView with kernel capture, says why)";
	case 12:
		return "code 12: the device cannot find enough free resources";
	case 14:
		return "code 14: Windows must be restarted first";
	case 18:
		return "code 18: the driver must be reinstalled";
	case 19:
		return "code 19: its registry entries are incomplete or damaged; reinstall the driver";
	case 21:
		return "code 21: Windows is removing the device";
	case 22:
		return "code 22: the device is disabled (enable it in Device Manager)";
	case 24:
		return "code 24: the device is not present or not working";
	case 28:
		return "code 28: no driver is installed for it";
	case 31:
		return "code 31: Windows could not load the driver for it";
	case 32:
		return "code 32: the driver's service is disabled";
	case 37:
		return "code 37: the driver's DriverEntry failed";
	case 39:
		return "code 39: Windows cannot load the driver (missing or damaged)";
	case 43:
		return "code 43: the driver reported a failure and Windows stopped the device";
	case 48:
		return "code 48: the driver is blocked from starting";
	case 52:
		return "code 52: Windows refused the driver's signature (test signing is off, or Secure Boot "
		       "is on: turn Secure Boot off in the VM's firmware, run \"bcdedit /set testsigning on\" "
		       "and restart)";
	default:
		return "a problem code that virgo does not know (Device Manager, the device's Properties, "
		       "says what it means)";
	}
}

const struct vtp_devnode *vtp_render_devnode(const struct vtp_devnode *n, int count)
{
	for (int i = 0; i < count; i++)
		if (n[i].cls == VTP_CLASS_RENDER)
			return &n[i];
	return NULL;
}

void vtp_explain_devnodes(const struct vtp_devnode *n, int count, char *buf, size_t len)
{
	const struct vtp_devnode *r;

	if (count < 0) {
		snprintf(buf, len, "Windows' list of devices could not be read");
		return;
	}
	if (count == 0) {
		snprintf(buf, len,
			 "this VM has no virtio-gpu device (PCI 1AF4:1050): start it with QEMU's "
			 "-device virtio-gpu-gl-pci and a GL display (README.txt, \"What the host needs\")");
		return;
	}
	r = vtp_render_devnode(n, count);
	if (!r) {
		snprintf(buf, len,
			 "this VM's virtio-gpu is a VGA adapter (class %04x: virtio-vga-gl or virtio-vga), which virgo "
			 "does not take because it would take the desktop with it: add a render-only "
			 "-device virtio-gpu-gl-pci (and keep -vga std for the desktop)",
			 n[0].cls);
		return;
	}
	if (!r->service[0]) {
		snprintf(buf, len,
			 "the virgo driver is not installed: the virtio-gpu-gl-pci device %s has no driver (%s); "
			 "run install.cmd as Administrator",
			 r->id, vtp_problem_text(r->problem));
		return;
	}
	if (!vtp_same_name(r->service, "virgo")) {
		snprintf(buf, len,
			 "the virtio-gpu-gl-pci device is driven by '%s', not by virgo%s: run \"install.cmd "
			 "-ReplaceDriver\" as Administrator to put virgo on it",
			 r->service, vtp_same_name(r->service, "viogpudo") ? " (virtio-win's display driver)" : "");
		return;
	}
	if (r->problem) {
		snprintf(buf, len, "the virgo driver is installed but not started: Device Manager reports %s",
			 vtp_problem_text(r->problem));
		return;
	}
	if (!r->started) {
		snprintf(buf, len, "the virgo driver is installed but the device is not started yet (restart Windows)");
		return;
	}
	snprintf(buf, len,
		 "the virgo driver runs the device but it offers no virgo interface (a virgo.sys of another "
		 "version? reinstall this package)");
}

/* SPDX-License-Identifier: MIT */
/*
 * vtp_devnode.h: what Windows knows about the machine's virtio-gpu
 * functions (PCI 1AF4:1050), for telling a person why no virgo device can
 * be opened, and for the installer's check of which driver a device runs.
 *
 * vtp_list_devnodes asks Windows (SetupAPI, CM_Get_DevNode_Status:
 * vtp_devnode_win.c); vtp_explain_devnodes and vtp_problem_text are plain C
 * (vtp_devnode.c), unit-tested on Linux.
 */
#ifndef VIRGO_VTP_DEVNODE_H
#define VIRGO_VTP_DEVNODE_H

#include <stdbool.h>
#include <stddef.h>

#define VTP_DEVNODES_MAX 8

/* PCI class and subclass, as Windows reports them in &CC_ccss. */
#define VTP_CLASS_RENDER 0x0380u /* virtio-gpu-gl-pci: "other display controller" */
#define VTP_CLASS_VGA    0x0300u /* virtio-vga-gl: a VGA adapter */

/* The hardware ID that virgo.inf matches and the installer forces. */
#define VTP_RENDER_HWID "PCI\\VEN_1AF4&DEV_1050&CC_0380"

struct vtp_devnode {
	char id[200];        /* device instance ID */
	unsigned cls;        /* VTP_CLASS_*, or whatever &CC_ said; 0: unknown */
	char service[64];    /* the bound function driver's service; "" none */
	bool started;        /* DN_STARTED */
	unsigned problem;    /* Device Manager's problem code (CM_PROB_*); 0 none */
};

/* The present virtio-gpu functions, at most max; -1 if Windows' device
 * list cannot be read. Windows only. */
int vtp_list_devnodes(struct vtp_devnode *out, int max);

/* The first render-class (0380) function of n, or NULL. */
const struct vtp_devnode *vtp_render_devnode(const struct vtp_devnode *n, int count);

/* Why no virgo device is there, for a person, in one sentence that ends
 * with what to do: no virtio-gpu at all, only a VGA-class one, a render one
 * without a driver, with another driver, or with virgo's but not started
 * (with the problem code and what it means). count -1: the list could not
 * be read. */
void vtp_explain_devnodes(const struct vtp_devnode *n, int count, char *buf, size_t len);

/* Service (driver) names compare without case, as on Windows. */
bool vtp_same_name(const char *a, const char *b);

/* "code 52 (Windows refused the driver's signature: ...)"-style text for
 * a Device Manager problem code. */
const char *vtp_problem_text(unsigned problem);

#endif

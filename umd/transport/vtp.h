/* SPDX-License-Identifier: MIT */
/* vtp.h: the user-mode side of the virgo uAPI: one connection is one open
 * handle of the kernel driver. The same calls work over DeviceIoControl on
 * Windows and over the socket encoding (virgo-host, Wine). */
#ifndef VIRGO_VTP_H
#define VIRGO_VTP_H

#include <stdint.h>

#include <virgo/uapi.h>

#include "status.h" /* virgo_strerror() for the errors below */

struct vtp;

/* spec: "unix:PATH", "tcp:HOST:PORT", or NULL for $VIRGO_TRANSPORT, then
 * $VIRGO_SOCKET, then the host's default socket. On Windows (vtp_win.c):
 * "device" (the kernel driver, found by its interface GUID; also what NULL
 * means when $VIRGO_TRANSPORT is unset), "device:PATH" or "tcp:HOST:PORT";
 * no "unix:". 0 or -VIRGO_E*. */
int vtp_open(const char *spec, struct vtp **out);
/* Pointers inside arg are this process's pointers. MAP returns a pointer in
 * this process in virgo_map.addr, valid until UNMAP, RESOURCE_CLOSE or
 * vtp_close. */
int vtp_ioctl(struct vtp *t, uint32_t op, void *arg);
void vtp_close(struct vtp *t);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * virgo_winsys.h: Mesa's virgl gallium driver over the virgo uAPI.
 *
 * This is the only header Mesa's own files include (the software target
 * helpers pick it for GALLIUM_DRIVER=virgo), so it names no Mesa or virgo
 * type beyond forward declarations.
 */
#ifndef VIRGO_WINSYS_H
#define VIRGO_WINSYS_H

#include <stdint.h>

struct pipe_screen;
struct sw_winsys;
struct virgl_winsys;

/*
 * The one thing the winsys needs from the kernel driver: a uAPI request
 * (include/virgo/uapi.h: op and its struct, pointers are this process's)
 * answered with 0 or -VIRGO_E*. MAP answers with an address in this
 * process. The socket transport (umd/transport, Linux and Wine) and the
 * Windows DeviceIoControl path both fit behind it.
 */
struct virgo_ws_device {
	void *priv;
	int (*ioctl)(void *priv, uint32_t op, void *arg);
	void (*close)(void *priv); /* optional */
	const char *(*strerror)(int err); /* optional, for messages */
};

/*
 * Presenting without a software winsys (the WGL target draws with GDI):
 * flush_frontbuffer reads the frame back and hands it over, B8G8R8A8 rows
 * top row first, valid only during the call. drawable is the one the
 * gallium frontend passed (an HDC on Windows).
 */
typedef void (*virgo_present_fn)(void *drawable, const void *pixels, uint32_t width, uint32_t height,
				 uint32_t stride);

/*
 * A virgl winsys on the device the transport finds ($VIRGO_TRANSPORT,
 * $VIRGO_SOCKET, ...). sws, if not NULL, is the software winsys of the
 * target: display targets get one of its buffers and flush_frontbuffer
 * reads the frame back into it. NULL (with a message) when no device is
 * reachable or it has no 3D.
 */
struct virgl_winsys *virgo_winsys_create(struct sw_winsys *sws);

/* The virgl screen on that winsys (GALLIUM_DRIVER=virgo), or NULL. */
struct pipe_screen *virgo_screen_create(struct sw_winsys *sws);

/* The same, presenting through present instead of a software winsys. */
struct pipe_screen *virgo_screen_create_presenting(virgo_present_fn present);

/* The winsys on a given device; on failure the device is closed. */
struct virgl_winsys *virgo_winsys_create_device(const struct virgo_ws_device *dev, struct sw_winsys *sws);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * virgo_wgl.h: what Mesa's WGL target (src/gallium/targets/wgl/wgl.c,
 * patched by umd/mesa/virgo.patch) calls for GALLIUM_DRIVER=virgo, the
 * default of virgo's ICD.
 */
#ifndef VIRGO_WGL_H
#define VIRGO_WGL_H

#include <windows.h>

struct pipe_context;
struct pipe_resource;
struct pipe_screen;

/* The virgl screen on the virgo device (the kernel driver's interface, or
 * $VIRGO_TRANSPORT), presenting with GDI; NULL with a message when no
 * device is reachable. */
struct pipe_screen *virgo_wgl_create_screen(void);

/* SwapBuffers: the back buffer res is read back from the host and drawn
 * into hdc, right side up, at its own size (the frontend resizes it with
 * the window). */
void virgo_wgl_present(struct pipe_screen *screen, struct pipe_context *ctx, struct pipe_resource *res, HDC hdc);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * virgo_wgl.c: presenting virgo frames on Windows.
 *
 * The host renders; a frame reaches the screen by being read back into the
 * back buffer's guest storage (TRANSFER_FROM_HOST, then the mapping) and
 * drawn with StretchDIBits, as GDI-presenting ICDs do. The read-back is the
 * winsys's flush_frontbuffer; this file owns only the GDI side. Gallium
 * stores window framebuffers top row first, so the DIB is top-down
 * (negative height) and the picture comes out right side up.
 *
 * A minimised window shows nothing: its frames are not read back or drawn,
 * only waited for, so that a program that keeps rendering while minimised
 * does not queue frame after frame on the host.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipe/p_context.h"
#include "pipe/p_defines.h"
#include "pipe/p_screen.h"

#include "virgo_winsys.h"
#include "virgo_wgl.h"
#include "vtp_log.h"

/* Logged once per process: a failing blit fails on every frame. */
static volatile LONG blit_failure_logged;

static void gdi_present(void *drawable, const void *pixels, uint32_t width, uint32_t height, uint32_t stride)
{
	HDC hdc = drawable;
	BITMAPINFO bmi;
	int lines;

	if (!hdc || !pixels || !width || !height || stride % 4 || stride / 4 < width || width > INT32_MAX ||
	    height > INT32_MAX)
		return;
	ZeroMemory(&bmi, sizeof(bmi));
	bmi.bmiHeader.biSize = sizeof(bmi.bmiHeader);
	/* The DIB's width is the row pitch in pixels; only width columns are
	 * drawn. */
	bmi.bmiHeader.biWidth = (LONG)(stride / 4);
	bmi.bmiHeader.biHeight = -(LONG)height;
	bmi.bmiHeader.biPlanes = 1;
	bmi.bmiHeader.biBitCount = 32;
	bmi.bmiHeader.biCompression = BI_RGB;

	lines = StretchDIBits(hdc, 0, 0, (int)width, (int)height, 0, 0, (int)width, (int)height, pixels, &bmi,
			      DIB_RGB_COLORS, SRCCOPY);
	if (lines == 0 && InterlockedExchange(&blit_failure_logged, 1) == 0)
		vtp_log(VTP_LOG_ERROR, "virgo: StretchDIBits failed (error %lu); frames are not shown", GetLastError());
}

struct pipe_screen *virgo_wgl_create_screen(void)
{
	const char *named = getenv("GALLIUM_DRIVER");

	/* The WGL target skips a name it was not built with (virgo.patch);
	 * say so, since a user set it for some other Mesa. */
	if (named && *named && strcmp(named, "virgo") != 0)
		vtp_log(VTP_LOG_WARN,
			"virgo: GALLIUM_DRIVER=%s names a driver that virgo's OpenGL driver does not have: ignored "
			"(it is meant for another Mesa; remove it from the environment if nothing needs it)",
			named);
	return virgo_screen_create_presenting(gdi_present);
}

/* Minimised, or inside a minimised window. */
static bool iconic(HDC hdc)
{
	HWND wnd = WindowFromDC(hdc);

	return wnd && IsIconic(GetAncestor(wnd, GA_ROOT));
}

void virgo_wgl_present(struct pipe_screen *screen, struct pipe_context *ctx, struct pipe_resource *res, HDC hdc)
{
	if (!screen || !res || !screen->flush_frontbuffer)
		return;
	if (hdc && iconic(hdc)) {
		struct pipe_fence_handle *fence = NULL;

		/* The frame's work is submitted already; waiting for it keeps
		 * one frame in flight, as the read-back does. */
		if (ctx) {
			ctx->flush(ctx, &fence, 0);
			if (fence) {
				screen->fence_finish(screen, NULL, fence, PIPE_TIMEOUT_INFINITE);
				screen->fence_reference(screen, &fence, NULL);
			}
		}
		return;
	}
	screen->flush_frontbuffer(screen, ctx, res, 0, 0, hdc, NULL);
}

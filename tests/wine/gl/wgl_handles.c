/* SPDX-License-Identifier: MIT */
/*
 * wgl_handles.exe: handles that are not contexts: NULL, garbage, a DC
 * passed as a context, a deleted context, and a deleted context's handle
 * after a new context was created (a stale handle must not name the new
 * one). Every WGL function taking an HGLRC fails on them with
 * ERROR_INVALID_HANDLE, as Windows' opengl32 does, and leaves the calling
 * thread's current context as it was. So does wglMakeCurrent on a handle
 * that is not a DC. wglCreateContextAttribsARB refuses a share context
 * that is not one with ERROR_INVALID_OPERATION (WGL_ARB_create_context).
 *
 * wglMakeCurrent(NULL, NULL) releases the current context; with none
 * current it fails with ERROR_INVALID_HANDLE on Windows (Wine's
 * conformance tests check it there), while wglMakeCurrent(hdc, NULL)
 * succeeds.
 */
#include "wglcheck.h"

#include <stdio.h>
#include <string.h>

static HWND wnd;
static HDC dc;

/* The calls that take a context, on a handle that names none. */
static void refuse(struct wc_check *c, HGLRC bad, HGLRC good, HGLRC cur, HDC cur_dc)
{
	char when[128];

	snprintf(when, sizeof(when), "after the calls on handle %p", (void *)bad);
	/* wglMakeCurrent(dc, NULL) is no mistake: it releases (release()). */
	if (bad)
		WC_FAILS(c, wglMakeCurrent(dc, bad), ERROR_INVALID_HANDLE);
	wc_current(c, when, cur, cur_dc);
	WC_FAILS(c, wglDeleteContext(bad), ERROR_INVALID_HANDLE);
	WC_FAILS(c, wglShareLists(bad, good), ERROR_INVALID_HANDLE);
	WC_FAILS(c, wglShareLists(good, bad), ERROR_INVALID_HANDLE);
	WC_FAILS(c, wglCopyContext(bad, good, GL_ALL_ATTRIB_BITS), ERROR_INVALID_HANDLE);
	WC_FAILS(c, wglCopyContext(good, bad, GL_ALL_ATTRIB_BITS), ERROR_INVALID_HANDLE);
	wc_current(c, when, cur, cur_dc);
}

static void invalid(void)
{
	struct wc_check c;
	HGLRC rc = NULL, other = NULL;
	HGLRC bad[] = { NULL, (HGLRC)(UINT_PTR)0xdeadbeef, (HGLRC)(UINT_PTR)1, (HGLRC)dc };

	wc_begin(&c, "invalid");
	WC_OK(&c, rc = wglCreateContext(dc));
	WC_OK(&c, other = wglCreateContext(dc));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (bad[i] == rc || bad[i] == other)
			continue; /* a small handle value might be a real one */
		/* With no context current, and with one: neither changes. */
		refuse(&c, bad[i], rc, NULL, NULL);
		WC_OK(&c, wglMakeCurrent(dc, rc));
		refuse(&c, bad[i], other, rc, dc);
		wc_clear_and_read(&c, "the current context after the refused calls", 0, 128, 255);
		WC_OK(&c, wglMakeCurrent(NULL, NULL));
	}
	WC_OK(&c, wglDeleteContext(other));
	WC_OK(&c, wglDeleteContext(rc));
	wc_end(&c);
}

static void deleted(void)
{
	struct wc_check c;
	HGLRC a = NULL, b = NULL, live = NULL;

	wc_begin(&c, "deleted");
	WC_OK(&c, live = wglCreateContext(dc));
	WC_OK(&c, a = wglCreateContext(dc));
	WC_OK(&c, wglDeleteContext(a));
	refuse(&c, a, live, NULL, NULL);
	WC_OK(&c, wglMakeCurrent(dc, live));
	refuse(&c, a, live, live, dc);
	WC_OK(&c, wglMakeCurrent(NULL, NULL));

	/* Stale: the next context may reuse a's slot, never its handle. */
	WC_OK(&c, b = wglCreateContext(dc));
	if (b == a)
		wc_bad(&c, "the new context got the deleted one's handle %p", (void *)a);
	else
		refuse(&c, a, live, NULL, NULL);
	/* b was not hurt by what was done to a. */
	WC_OK(&c, wglMakeCurrent(dc, b));
	wc_current(&c, "the new context", b, dc);
	wc_clear_and_read(&c, "the new context", 64, 32, 16);
	WC_OK(&c, wglDeleteContext(b));
	WC_FAILS(&c, wglDeleteContext(b), ERROR_INVALID_HANDLE);
	WC_OK(&c, wglDeleteContext(live));
	wc_current(&c, "the end", NULL, NULL);
	wc_end(&c);
}

static void not_a_dc(void)
{
	struct wc_check c;
	HGLRC rc = NULL;
	HDC bad[] = { NULL, (HDC)(UINT_PTR)0xdeadbeef };

	wc_begin(&c, "not_a_dc");
	WC_OK(&c, rc = wglCreateContext(dc));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		WC_FAILS(&c, wglMakeCurrent(bad[i], rc), ERROR_INVALID_HANDLE);
		wc_current(&c, "after wglMakeCurrent on a handle that is not a DC", NULL, NULL);
		WC_OK(&c, wglMakeCurrent(dc, rc));
		WC_FAILS(&c, wglMakeCurrent(bad[i], rc), ERROR_INVALID_HANDLE);
		wc_current(&c, "the current context after wglMakeCurrent on a non-DC", rc, dc);
		WC_OK(&c, wglMakeCurrent(NULL, NULL));
	}
	WC_FAILS(&c, wglCreateContext((HDC)(UINT_PTR)0xdeadbeef), ERROR_INVALID_HANDLE);
	WC_OK(&c, wglDeleteContext(rc));
	wc_end(&c);
}

static void release_none(void)
{
	struct wc_check c;
	HGLRC rc = NULL;

	wc_begin(&c, "release");
	wc_current(&c, "start", NULL, NULL);
	WC_FAILS(&c, wglMakeCurrent(NULL, NULL), ERROR_INVALID_HANDLE);
	WC_OK(&c, wglMakeCurrent(dc, NULL));
	WC_OK(&c, rc = wglCreateContext(dc));
	WC_OK(&c, wglMakeCurrent(dc, rc));
	WC_OK(&c, wglMakeCurrent(dc, rc)); /* again: already current */
	wc_current(&c, "current twice", rc, dc);
	WC_OK(&c, wglMakeCurrent(NULL, NULL));
	wc_current(&c, "released", NULL, NULL);
	WC_FAILS(&c, wglMakeCurrent(NULL, NULL), ERROR_INVALID_HANDLE);
	WC_OK(&c, wglMakeCurrent(dc, rc));
	WC_OK(&c, wglMakeCurrent(dc, NULL));
	wc_current(&c, "released with a DC", NULL, NULL);
	WC_OK(&c, wglDeleteContext(rc));
	wc_end(&c);
}

static void share_context(void)
{
	struct wc_check c;
	HGLRC legacy = NULL, rc = NULL, gone = NULL;
	PFNWGLCREATECONTEXTATTRIBSARBPROC create = NULL;
	const int attrs[] = { WGL_CONTEXT_MAJOR_VERSION_ARB, 3, WGL_CONTEXT_MINOR_VERSION_ARB, 2, 0 };

	wc_begin(&c, "create_attribs_share");
	WC_OK(&c, legacy = wglCreateContext(dc));
	WC_OK(&c, gone = wglCreateContext(dc));
	WC_OK(&c, wglDeleteContext(gone));
	WC_OK(&c, wglMakeCurrent(dc, legacy));
	create = (PFNWGLCREATECONTEXTATTRIBSARBPROC)(void (*)(void))wglGetProcAddress("wglCreateContextAttribsARB");
	if (!create) {
		wc_bad(&c, "no wglCreateContextAttribsARB");
	} else {
		WC_FAILS(&c, create(dc, (HGLRC)(UINT_PTR)0xdeadbeef, attrs), ERROR_INVALID_OPERATION);
		WC_FAILS(&c, create(dc, gone, attrs), ERROR_INVALID_OPERATION);
		wc_current(&c, "after the refused creations", legacy, dc);
		WC_OK(&c, rc = create(dc, legacy, attrs));
		if (rc)
			WC_OK(&c, wglDeleteContext(rc));
	}
	WC_OK(&c, wglMakeCurrent(NULL, NULL));
	WC_OK(&c, wglDeleteContext(legacy));
	wc_end(&c);
}

int main(void)
{
	struct wc_check c;

	wa_start();
	wnd = wc_window("wgl_handles", 40, 40);
	if (!wnd)
		return 1;
	dc = GetDC(wnd);
	wc_begin(&c, "setup");
	wc_pixel_format(&c, dc, 24);
	wa_module_info();
	if (!wc_end(&c))
		return 1;
	wa_info("opengl32.dll is %s", wc_wine_builtin() ? "Wine's builtin" : "application-local");

	invalid();
	deleted();
	not_a_dc();
	release_none();
	share_context();

	ReleaseDC(wnd, dc);
	DestroyWindow(wnd);
	return wa_failed() ? 1 : 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * wgl_pixel_format.exe: contexts and pixel formats.
 *
 * - wglCreateContext on a DC whose window has no pixel format set fails
 *   with ERROR_INVALID_PIXEL_FORMAT (Microsoft's SetPixelFormat page: set
 *   it before creating a context; Windows' opengl32 refuses otherwise), and
 *   so does wglCreateContextAttribsARB, which creates through it.
 * - wglMakeCurrent with a DC of another pixel format than the context's
 *   fails with ERROR_INVALID_PIXEL_FORMAT ("it must be on the same device
 *   and have the same pixel format"); the current context stays.
 * - wglShareLists between contexts of different pixel formats: Microsoft
 *   leaves the result to the implementation ("All rendering contexts of a
 *   shared display list must use an identical pixel format. Otherwise the
 *   results depend on the implementation of OpenGL used."). Wine's builtin
 *   and virgo share them; what the check asks is that a TRUE really shares
 *   (a texture of one is a texture of the other, both ways), and that a
 *   context that already shares cannot take another's lists (Microsoft:
 *   hglrc2 "should not contain any existing display lists"; Windows and
 *   Wine return FALSE, and the lists it had stay its own).
 */
#include "wglcheck.h"

#include <stdio.h>
#include <string.h>

static void no_pixel_format(void)
{
	struct wc_check c;
	HWND w = wc_window("no pixel format", 40, 200), other = wc_window("with one", 220, 200);
	HDC dc = w ? GetDC(w) : NULL, odc = other ? GetDC(other) : NULL;
	HGLRC rc = NULL;
	PFNWGLCREATECONTEXTATTRIBSARBPROC create = NULL;
	const int attrs[] = { WGL_CONTEXT_MAJOR_VERSION_ARB, 3, WGL_CONTEXT_MINOR_VERSION_ARB, 2, 0 };

	wc_begin(&c, "no_pixel_format");
	if (!dc || !odc) {
		wc_bad(&c, "no windows");
		wc_end(&c);
		return;
	}
	if (GetPixelFormat(dc) != 0)
		wc_bad(&c, "a new window already has pixel format %d", GetPixelFormat(dc));
	WC_FAILS(&c, wglCreateContext(dc), ERROR_INVALID_PIXEL_FORMAT);
	WC_FAILS(&c, wglCreateLayerContext(dc, 0), ERROR_INVALID_PIXEL_FORMAT);
	wc_current(&c, "after the refused creations", NULL, NULL);
	if (GetPixelFormat(dc) != 0)
		wc_bad(&c, "the refused creation gave the window pixel format %d", GetPixelFormat(dc));

	/* The same with a context current on another window. */
	if (wc_pixel_format(&c, odc, 24)) {
		WC_OK(&c, rc = wglCreateContext(odc));
		WC_OK(&c, wglMakeCurrent(odc, rc));
		WC_FAILS(&c, wglCreateContext(dc), ERROR_INVALID_PIXEL_FORMAT);
		create = (PFNWGLCREATECONTEXTATTRIBSARBPROC)(void (*)(void))wglGetProcAddress(
			"wglCreateContextAttribsARB");
		if (!create)
			wc_bad(&c, "no wglCreateContextAttribsARB");
		else
			WC_FAILS(&c, create(dc, NULL, attrs), ERROR_INVALID_PIXEL_FORMAT);
		wc_current(&c, "a context current elsewhere, after the refused creations", rc, odc);
		wc_clear_and_read(&c, "the current context after the refused creations", 50, 60, 70);
		WC_OK(&c, wglMakeCurrent(NULL, NULL));
		WC_OK(&c, wglDeleteContext(rc));
	}
	ReleaseDC(w, dc);
	ReleaseDC(other, odc);
	DestroyWindow(w);
	DestroyWindow(other);
	wc_end(&c);
}

/* Two windows of different pixel formats (depth buffer or not). */
struct two {
	HWND w[2];
	HDC dc[2];
	int fmt[2];
};

static bool two_formats(struct wc_check *c, struct two *t)
{
	memset(t, 0, sizeof(*t));
	for (int i = 0; i < 2; i++) {
		t->w[i] = wc_window(i ? "no depth" : "depth", 40 + 180 * i, 360);
		t->dc[i] = t->w[i] ? GetDC(t->w[i]) : NULL;
		if (!t->dc[i] || !(t->fmt[i] = wc_pixel_format(c, t->dc[i], i ? 0 : 24)))
			return false;
	}
	if (t->fmt[0] == t->fmt[1]) {
		wc_bad(c, "ChoosePixelFormat gave format %d both with and without a depth buffer", t->fmt[0]);
		return false;
	}
	wa_info("pixel formats %d (depth) and %d (no depth)", t->fmt[0], t->fmt[1]);
	return true;
}

static void two_free(struct two *t)
{
	for (int i = 0; i < 2; i++) {
		if (t->dc[i])
			ReleaseDC(t->w[i], t->dc[i]);
		if (t->w[i])
			DestroyWindow(t->w[i]);
	}
}

static void mismatch(void)
{
	struct wc_check c;
	struct two t;
	HGLRC rc[2] = { NULL, NULL };

	wc_begin(&c, "format_mismatch");
	if (two_formats(&c, &t)) {
		WC_OK(&c, rc[0] = wglCreateContext(t.dc[0]));
		WC_OK(&c, rc[1] = wglCreateContext(t.dc[1]));
		WC_FAILS(&c, wglMakeCurrent(t.dc[1], rc[0]), ERROR_INVALID_PIXEL_FORMAT);
		wc_current(&c, "none current, after a mismatched wglMakeCurrent", NULL, NULL);
		WC_OK(&c, wglMakeCurrent(t.dc[1], rc[1]));
		WC_FAILS(&c, wglMakeCurrent(t.dc[1], rc[0]), ERROR_INVALID_PIXEL_FORMAT);
		WC_FAILS(&c, wglMakeCurrent(t.dc[0], rc[1]), ERROR_INVALID_PIXEL_FORMAT);
		wc_current(&c, "after mismatched wglMakeCurrent calls", rc[1], t.dc[1]);
		wc_clear_and_read(&c, "the current context after them", 90, 80, 70);
		WC_OK(&c, wglMakeCurrent(NULL, NULL));
		for (int i = 0; i < 2; i++)
			if (rc[i])
				WC_OK(&c, wglDeleteContext(rc[i]));
	}
	two_free(&t);
	wc_end(&c);
}

/* Whether name is a texture in rc (made current on dc for the question). */
static bool is_texture(struct wc_check *c, HDC dc, HGLRC rc, GLuint name)
{
	GLboolean r = GL_FALSE;

	WC_OK(c, wglMakeCurrent(dc, rc));
	r = glIsTexture(name);
	return r == GL_TRUE;
}

static GLuint new_texture(struct wc_check *c, HDC dc, HGLRC rc)
{
	GLuint name = 0;
	GLubyte texel[4] = { 1, 2, 3, 4 };

	WC_OK(c, wglMakeCurrent(dc, rc));
	glGenTextures(1, &name);
	glBindTexture(GL_TEXTURE_2D, name);
	glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA, 1, 1, 0, GL_RGBA, GL_UNSIGNED_BYTE, texel);
	glBindTexture(GL_TEXTURE_2D, 0);
	if (glGetError() != GL_NO_ERROR || !name)
		wc_bad(c, "could not make a texture");
	return name;
}

static void share(void)
{
	struct wc_check c;
	struct two t;
	HGLRC src = NULL, dst = NULL, third = NULL;
	GLuint tex = 0, back = 0, own = 0;

	wc_begin(&c, "share_formats");
	if (two_formats(&c, &t)) {
		WC_OK(&c, src = wglCreateContext(t.dc[0]));
		WC_OK(&c, dst = wglCreateContext(t.dc[1]));
		WC_OK(&c, third = wglCreateContext(t.dc[1]));
		WC_OK(&c, wglShareLists(src, dst));
		wc_current(&c, "after wglShareLists", NULL, NULL);
		tex = new_texture(&c, t.dc[0], src);
		if (!is_texture(&c, t.dc[1], dst, tex))
			wc_bad(&c, "texture %u of the source is no texture in the context that shares it", tex);
		back = new_texture(&c, t.dc[1], dst);
		if (!is_texture(&c, t.dc[0], src, back))
			wc_bad(&c, "texture %u of the sharing context is no texture in the source", back);
		wc_current(&c, "the source context", src, t.dc[0]);

		/* third has a texture of its own; dst shares already. */
		own = new_texture(&c, t.dc[1], third);
		WC_OK(&c, wglMakeCurrent(NULL, NULL));
		WC_FAILS(&c, wglShareLists(third, dst), 0);
		wc_current(&c, "after the refused wglShareLists", NULL, NULL);
		if (!is_texture(&c, t.dc[1], dst, tex) || !is_texture(&c, t.dc[1], dst, back))
			wc_bad(&c, "the refused wglShareLists took its lists from the context that shared them");
		if (own != tex && own != back && is_texture(&c, t.dc[1], dst, own))
			wc_bad(&c, "the refused wglShareLists gave the context the other's texture %u", own);
		WC_OK(&c, wglMakeCurrent(NULL, NULL));

		/* Deleting the source leaves the lists to the one that shares. */
		WC_OK(&c, wglDeleteContext(src));
		src = NULL;
		if (!is_texture(&c, t.dc[1], dst, tex))
			wc_bad(&c, "texture %u went with the source context", tex);
		WC_OK(&c, wglMakeCurrent(NULL, NULL));
		WC_OK(&c, wglDeleteContext(dst));
		WC_OK(&c, wglDeleteContext(third));
		if (src)
			WC_OK(&c, wglDeleteContext(src));
	}
	wc_current(&c, "the end", NULL, NULL);
	two_free(&t);
	wc_end(&c);
}

int main(void)
{
	wa_start();
	{
		struct wc_check c;
		HWND w = wc_window("wgl_pixel_format", 40, 40);
		HDC dc = w ? GetDC(w) : NULL;
		HGLRC rc = NULL;

		/* Any context, to name the DLL in use. */
		wc_begin(&c, "setup");
		if (dc && wc_pixel_format(&c, dc, 24) && (rc = wglCreateContext(dc)) && wglMakeCurrent(dc, rc))
			wa_module_info();
		else
			wc_bad(&c, "no context to start with (error %lu)", GetLastError());
		wglMakeCurrent(NULL, NULL);
		if (rc)
			wglDeleteContext(rc);
		if (dc)
			ReleaseDC(w, dc);
		if (w)
			DestroyWindow(w);
		if (!wc_end(&c))
			return 1;
	}
	wa_info("opengl32.dll is %s", wc_wine_builtin() ? "Wine's builtin" : "application-local");

	no_pixel_format();
	mismatch();
	share();
	return wa_failed() ? 1 : 0;
}

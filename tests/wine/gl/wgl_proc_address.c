/* SPDX-License-Identifier: MIT */
/*
 * wgl_proc_address.exe: what wglGetProcAddress answers.
 *
 * Microsoft's wglGetProcAddress returns "the address of an OpenGL extension
 * function for use with the current OpenGL rendering context"; with no
 * current context, or for a name it does not have, NULL. OpenGL 1.1
 * functions (and the WGL functions) are opengl32.dll's exports, not
 * extension functions: wglGetProcAddress gives NULL for them, with a
 * context or without (Wine's conformance tests check glEnable on Windows).
 * Programs that probe for features by the pointer (GLEW's experimental
 * mode, engines' loaders) depend on every one of these answers.
 */
#include "wglcheck.h"

#include <stdio.h>
#include <string.h>

/* OpenGL 1.0 and 1.1 functions, from every corner of the 1.1 API. */
static const char *const gl11[] = {
	"glEnable",       "glDisable",     "glGetString",   "glClear",      "glBegin",
	"glEnd",          "glVertex3f",    "glBindTexture", "glGenTextures", "glTexImage2D",
	"glDrawArrays",   "glReadPixels",  "glGetIntegerv", "glFinish",     "glPolygonOffset",
	"glCopyTexSubImage2D", "glPushClientAttrib",
};
/* The WGL functions opengl32.dll exports. */
static const char *const wgl10[] = {
	"wglCreateContext", "wglMakeCurrent", "wglDeleteContext", "wglGetProcAddress",
	"wglGetCurrentContext", "wglShareLists",
};
/* Extension functions every GL 3.2+ driver has: past 1.1, and WGL's own. */
static const char *const ext[] = {
	"glActiveTexture", "glGenBuffers", "glCreateShader", "glGetStringi",
	"wglGetExtensionsStringARB", "wglCreateContextAttribsARB",
};
/* Names no OpenGL has. */
static const char *const none[] = { "glVirgoNoSuchFunction", "wglVirgoNoSuchFunction", "glEnableX", "" };

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void expect_null(struct wc_check *c, const char *const *names, size_t n, const char *when)
{
	for (size_t i = 0; i < n; i++) {
		PROC p = wglGetProcAddress(names[i]);

		if (p)
			wc_bad(c, "%s: wglGetProcAddress(\"%s\") is %p, expected NULL", when, names[i],
			       (void *)(UINT_PTR)p);
	}
}

static void expect_some(struct wc_check *c, const char *const *names, size_t n, const char *when)
{
	for (size_t i = 0; i < n; i++)
		if (!wglGetProcAddress(names[i]))
			wc_bad(c, "%s: wglGetProcAddress(\"%s\") is NULL", when, names[i]);
}

int main(void)
{
	struct wc_check c;
	HWND w;
	HDC dc = NULL;
	HGLRC legacy = NULL, core = NULL;
	PFNWGLCREATECONTEXTATTRIBSARBPROC create = NULL;
	PFNGLACTIVETEXTUREPROC active = NULL;
	const int attrs[] = {
		WGL_CONTEXT_MAJOR_VERSION_ARB, 3, WGL_CONTEXT_MINOR_VERSION_ARB, 2,
		WGL_CONTEXT_PROFILE_MASK_ARB, WGL_CONTEXT_CORE_PROFILE_BIT_ARB, 0,
	};

	wa_start();
	w = wc_window("wgl_proc_address", 40, 40);
	if (w)
		dc = GetDC(w);
	wc_begin(&c, "setup");
	if (!dc || !wc_pixel_format(&c, dc, 24))
		wc_bad(&c, "no window with a pixel format");
	if (!wc_end(&c))
		return 1;

	wc_begin(&c, "no_context");
	/* Before any context was ever current, and after one was. */
	expect_null(&c, ext, N(ext), "no context yet");
	expect_null(&c, gl11, N(gl11), "no context yet");
	WC_OK(&c, legacy = wglCreateContext(dc));
	expect_null(&c, ext, N(ext), "a context, not current");
	WC_OK(&c, wglMakeCurrent(dc, legacy));
	wa_module_info();
	WC_OK(&c, wglMakeCurrent(NULL, NULL));
	expect_null(&c, ext, N(ext), "no context any more");
	expect_null(&c, gl11, N(gl11), "no context any more");
	wc_end(&c);
	wa_info("opengl32.dll is %s", wc_wine_builtin() ? "Wine's builtin" : "application-local");

	wc_begin(&c, "gl11");
	WC_OK(&c, wglMakeCurrent(dc, legacy));
	expect_null(&c, gl11, N(gl11), "legacy context");
	expect_null(&c, wgl10, N(wgl10), "legacy context");
	/* The exports are there all the same, and work. */
	if (!GetProcAddress(GetModuleHandleA("opengl32.dll"), "glEnable"))
		wc_bad(&c, "opengl32.dll does not export glEnable");
	wc_end(&c);

	wc_begin(&c, "extensions");
	expect_some(&c, ext, N(ext), "legacy context");
	active = (PFNGLACTIVETEXTUREPROC)(void (*)(void))wglGetProcAddress("glActiveTexture");
	if (active) {
		GLint unit = 0;

		active(GL_TEXTURE1);
		glGetIntegerv(GL_ACTIVE_TEXTURE, &unit);
		if (unit != GL_TEXTURE1)
			wc_bad(&c, "glActiveTexture(GL_TEXTURE1) from wglGetProcAddress left unit 0x%x", unit);
		active(GL_TEXTURE0);
	}
	create = (PFNWGLCREATECONTEXTATTRIBSARBPROC)(void (*)(void))wglGetProcAddress("wglCreateContextAttribsARB");
	if (create)
		WC_OK(&c, core = create(dc, NULL, attrs));
	if (core) {
		WC_OK(&c, wglMakeCurrent(dc, core));
		expect_some(&c, ext, N(ext), "core context");
		expect_null(&c, gl11, N(gl11), "core context");
		WC_OK(&c, wglMakeCurrent(dc, legacy));
		WC_OK(&c, wglDeleteContext(core));
	}
	wc_end(&c);

	wc_begin(&c, "unknown");
	expect_null(&c, none, N(none), "legacy context");
	wc_end(&c);

	wc_begin(&c, "teardown");
	WC_OK(&c, wglMakeCurrent(NULL, NULL));
	expect_null(&c, ext, N(ext), "after the last context");
	WC_OK(&c, wglDeleteContext(legacy));
	ReleaseDC(w, dc);
	DestroyWindow(w);
	wc_end(&c);
	return wa_failed() ? 1 : 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * wglapp.c: window, pixel format, WGL contexts, the GL loader and readback
 * helpers shared by the Windows GL test programs (see wglapp.h).
 */
#include "wglapp.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WGLAPP_DEFINE(type, name) type name;
WGLAPP_GL_FUNCS(WGLAPP_DEFINE)
#undef WGLAPP_DEFINE

static int failed;

/* ---- results ---- */

void wa_pass(const char *name)
{
	printf("PASS %s\n", name);
}

void wa_fail(const char *name, const char *fmt, ...)
{
	va_list ap;

	failed++;
	printf("FAIL %s: ", name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

void wa_result(const char *name, const char *why)
{
	if (why[0])
		wa_fail(name, "%s", why);
	else
		wa_pass(name);
}

void wa_info(const char *fmt, ...)
{
	va_list ap;

	printf("INFO ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

int wa_failed(void)
{
	return failed;
}

void wa_why(char *why, size_t n, const char *fmt, ...)
{
	size_t len = strlen(why);
	va_list ap;

	if (len + 3 >= n)
		return;
	if (len) {
		memcpy(why + len, "; ", 3);
		len += 2;
	}
	va_start(ap, fmt);
	vsnprintf(why + len, n - len, fmt, ap);
	va_end(ap);
}

/* ---- options ---- */

bool wa_parse_opts(int argc, char **argv, struct wa_opts *o)
{
	o->hold_ms = 0;
	o->hold_file = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--hold-ms") && i + 1 < argc) {
			o->hold_ms = atoi(argv[++i]);
		} else if (!strcmp(argv[i], "--hold-file") && i + 1 < argc) {
			o->hold_file = argv[++i];
		} else {
			fprintf(stderr, "usage: %s [--hold-ms N] [--hold-file PATH]\n", argv[0]);
			return false;
		}
	}
	return true;
}

/* ---- window ---- */

void wa_start(void)
{
	/* Unbuffered: the harness waits for the HOLD line while the program
	 * runs, and a crash must not swallow the lines before it. */
	setvbuf(stdout, NULL, _IONBF, 0);
}

static LRESULT CALLBACK wndproc(HWND wnd, UINT msg, WPARAM wp, LPARAM lp)
{
	switch (msg) {
	case WM_ERASEBKGND:
		/* GL owns every pixel of the client area: a background erase
		 * would paint over the presented frame the harness grabs. */
		return 1;
	case WM_PAINT:
		/* Nothing to repaint: the frame on screen is the one the last
		 * SwapBuffers presented, which is what the screenshot checks. */
		ValidateRect(wnd, NULL);
		return 0;
	default:
		return DefWindowProcA(wnd, msg, wp, lp);
	}
}

void wa_pump(int ms)
{
	DWORD start = GetTickCount();
	MSG msg;

	do {
		while (PeekMessageA(&msg, NULL, 0, 0, PM_REMOVE)) {
			TranslateMessage(&msg);
			DispatchMessageA(&msg);
		}
		if (ms > 0)
			Sleep(5);
	} while ((int)(GetTickCount() - start) < ms);
}

/* Window styles as a typical application has them; the clip styles are
 * the ones Microsoft's SetPixelFormat documentation asks for. */
#define WA_STYLE (WS_OVERLAPPEDWINDOW | WS_CLIPCHILDREN | WS_CLIPSIBLINGS)

bool wa_window(struct wa_app *a, const char *title, int x, int y, int w, int h)
{
	WNDCLASSEXA wc;
	RECT r = { 0, 0, w, h };
	char why[256] = "";

	memset(a, 0, sizeof(*a));
	a->inst = GetModuleHandleA(NULL);
	memset(&wc, 0, sizeof(wc));
	wc.cbSize = sizeof(wc);
	/* CS_OWNDC: one DC for the window's life, as GL applications use. */
	wc.style = CS_OWNDC | CS_HREDRAW | CS_VREDRAW;
	wc.lpfnWndProc = wndproc;
	wc.hInstance = a->inst;
	wc.hCursor = LoadCursor(NULL, IDC_ARROW);
	wc.lpszClassName = "virgo-wgl-test";
	a->cls = RegisterClassExA(&wc);
	if (!a->cls) {
		wa_fail("window", "RegisterClassEx failed (error %lu)", GetLastError());
		return false;
	}
	AdjustWindowRectEx(&r, WA_STYLE, FALSE, 0);
	a->wnd = CreateWindowExA(0, "virgo-wgl-test", title, WA_STYLE, x, y, r.right - r.left,
				 r.bottom - r.top, NULL, NULL, a->inst, NULL);
	if (!a->wnd) {
		wa_fail("window", "CreateWindowEx failed (error %lu)", GetLastError());
		return false;
	}
	ShowWindow(a->wnd, SW_SHOWNORMAL);
	UpdateWindow(a->wnd);
	wa_pump(50);
	a->dc = GetDC(a->wnd);
	if (!a->dc)
		wa_why(why, sizeof(why), "GetDC failed (error %lu)", GetLastError());
	GetClientRect(a->wnd, &r);
	a->w = r.right;
	a->h = r.bottom;
	if (a->w != w || a->h != h)
		wa_why(why, sizeof(why), "client area %dx%d, asked %dx%d", a->w, a->h, w, h);
	wa_result("window", why);
	return !why[0];
}

bool wa_pixel_format(struct wa_app *a)
{
	PIXELFORMATDESCRIPTOR want, got;
	char why[512] = "";
	int fmt, count;

	memset(&want, 0, sizeof(want));
	want.nSize = sizeof(want);
	want.nVersion = 1;
	want.dwFlags = PFD_DRAW_TO_WINDOW | PFD_SUPPORT_OPENGL | PFD_DOUBLEBUFFER;
	want.iPixelType = PFD_TYPE_RGBA;
	want.cColorBits = 32;
	want.cAlphaBits = 8;
	want.cDepthBits = 24;
	want.cStencilBits = 8;
	want.iLayerType = PFD_MAIN_PLANE;
	fmt = ChoosePixelFormat(a->dc, &want);
	if (!fmt) {
		wa_fail("pixel_format", "ChoosePixelFormat found none (error %lu)", GetLastError());
		return false;
	}
	memset(&got, 0, sizeof(got));
	count = DescribePixelFormat(a->dc, fmt, sizeof(got), &got);
	if (!count) {
		wa_fail("pixel_format", "DescribePixelFormat(%d) failed (error %lu)", fmt, GetLastError());
		return false;
	}
	wa_info("pixel format %d of %d: flags 0x%lx, type %d, colour %d (r%d g%d b%d a%d), depth %d, stencil %d",
		fmt, count, (unsigned long)got.dwFlags, got.iPixelType, got.cColorBits, got.cRedBits,
		got.cGreenBits, got.cBlueBits, got.cAlphaBits, got.cDepthBits, got.cStencilBits);
	/* What the programs rely on: a window format GL can draw to, with a
	 * back buffer to swap, 8-bit RGB (exact pixel checks), and depth. */
	if ((got.dwFlags & want.dwFlags) != want.dwFlags)
		wa_why(why, sizeof(why), "flags 0x%lx lack 0x%lx", (unsigned long)got.dwFlags,
		       (unsigned long)(want.dwFlags & ~got.dwFlags));
	if (got.iPixelType != PFD_TYPE_RGBA)
		wa_why(why, sizeof(why), "pixel type %d is not RGBA", got.iPixelType);
	if (got.cRedBits != 8 || got.cGreenBits != 8 || got.cBlueBits != 8)
		wa_why(why, sizeof(why), "colour r%d g%d b%d, not 8 bits each", got.cRedBits, got.cGreenBits,
		       got.cBlueBits);
	if (got.cDepthBits < 16)
		wa_why(why, sizeof(why), "depth %d bits", got.cDepthBits);
	if (!why[0] && !SetPixelFormat(a->dc, fmt, &got))
		wa_why(why, sizeof(why), "SetPixelFormat(%d) failed (error %lu)", fmt, GetLastError());
	if (!why[0] && GetPixelFormat(a->dc) != fmt)
		wa_why(why, sizeof(why), "GetPixelFormat says %d after SetPixelFormat(%d)", GetPixelFormat(a->dc),
		       fmt);
	wa_result("pixel_format", why);
	return !why[0];
}

void wa_module_info(void)
{
	HMODULE gl = GetModuleHandleA("opengl32.dll");
	char path[MAX_PATH] = "";

	/* Which opengl32.dll the loader chose: Wine's builtin one lives in
	 * C:\windows\system32, an application-local one next to the .exe. */
	if (!gl || !GetModuleFileNameA(gl, path, sizeof(path)))
		snprintf(path, sizeof(path), "(unknown, error %lu)", GetLastError());
	wa_info("opengl32.dll: %s", path);
}

/* wglGetProcAddress answers NULL for what it lacks; some drivers answer
 * 1, 2, 3 or -1 instead, which an application must treat as NULL too. */
static PROC wa_proc(const char *name)
{
	PROC p = wglGetProcAddress(name);
	intptr_t v = (intptr_t)p;

	return v == 0 || v == 1 || v == 2 || v == 3 || v == -1 ? NULL : p;
}

static bool wa_load(void)
{
	char why[1024] = "";
	int n = 0, missing = 0;

	/* Through void (*)(void), the generic function pointer type, so the
	 * conversion from PROC says what it is to the compiler too. */
#define WGLAPP_LOAD(type, name)                                                \
	name = (type)(void (*)(void))wa_proc(#name);                          \
	n++;                                                                   \
	if (!name) {                                                           \
		missing++;                                                     \
		wa_why(why, sizeof(why), "%s", #name);                         \
	}
	WGLAPP_GL_FUNCS(WGLAPP_LOAD)
#undef WGLAPP_LOAD
	if (missing)
		wa_fail("loader", "wglGetProcAddress has no %d of %d functions: %s", missing, n, why);
	else
		wa_pass("loader");
	return !missing;
}

bool wa_core_context(struct wa_app *a, int major, int minor)
{
	PFNWGLCREATECONTEXTATTRIBSARBPROC create_attribs;
	PFNWGLGETEXTENSIONSSTRINGARBPROC ext_string;
	HGLRC legacy;
	char why[512] = "";
	GLint got_major = 0, got_minor = 0, mask = 0;
	const int attrs[] = {
		WGL_CONTEXT_MAJOR_VERSION_ARB, major,
		WGL_CONTEXT_MINOR_VERSION_ARB, minor,
		WGL_CONTEXT_PROFILE_MASK_ARB, WGL_CONTEXT_CORE_PROFILE_BIT_ARB,
		0,
	};

	legacy = wglCreateContext(a->dc);
	if (!legacy) {
		wa_fail("legacy_context", "wglCreateContext failed (error %lu)", GetLastError());
		return false;
	}
	if (!wglMakeCurrent(a->dc, legacy)) {
		wa_fail("legacy_context", "wglMakeCurrent failed (error %lu)", GetLastError());
		wglDeleteContext(legacy);
		return false;
	}
	wa_info("legacy context: GL_VERSION %s", (const char *)glGetString(GL_VERSION));
	wa_module_info();
	ext_string = (PFNWGLGETEXTENSIONSSTRINGARBPROC)(void (*)(void))wa_proc("wglGetExtensionsStringARB");
	if (ext_string) {
		const char *ext = ext_string(a->dc);

		if (!ext || !strstr(ext, "WGL_ARB_create_context_profile"))
			wa_why(why, sizeof(why), "WGL extensions lack WGL_ARB_create_context_profile");
	} else {
		wa_why(why, sizeof(why), "no wglGetExtensionsStringARB");
	}
	create_attribs =
		(PFNWGLCREATECONTEXTATTRIBSARBPROC)(void (*)(void))wa_proc("wglCreateContextAttribsARB");
	if (!create_attribs)
		wa_why(why, sizeof(why), "no wglCreateContextAttribsARB");
	wa_result("legacy_context", why);
	if (!create_attribs) {
		wglMakeCurrent(NULL, NULL);
		wglDeleteContext(legacy);
		return false;
	}

	why[0] = 0;
	a->rc = create_attribs(a->dc, NULL, attrs);
	if (!a->rc) {
		wa_fail("core_context", "wglCreateContextAttribsARB(%d.%d core) failed (error 0x%lx)", major, minor,
			GetLastError());
		wglMakeCurrent(NULL, NULL);
		wglDeleteContext(legacy);
		return false;
	}
	if (!wglMakeCurrent(a->dc, a->rc))
		wa_why(why, sizeof(why), "wglMakeCurrent(core) failed (error %lu)", GetLastError());
	/* The legacy context was only the way to wglGetProcAddress. */
	if (!wglDeleteContext(legacy))
		wa_why(why, sizeof(why), "wglDeleteContext(legacy) failed (error %lu)", GetLastError());
	if (!why[0]) {
		/* A context created for major.minor core must be at least that
		 * version, and core (WGL_ARB_create_context_profile). */
		glGetIntegerv(GL_MAJOR_VERSION, &got_major);
		glGetIntegerv(GL_MINOR_VERSION, &got_minor);
		glGetIntegerv(GL_CONTEXT_PROFILE_MASK, &mask);
		if (got_major * 10 + got_minor < major * 10 + minor)
			wa_why(why, sizeof(why), "version %d.%d, asked %d.%d", got_major, got_minor, major, minor);
		if (!(mask & GL_CONTEXT_CORE_PROFILE_BIT))
			wa_why(why, sizeof(why), "profile mask 0x%x is not core", mask);
		wa_info("core context: GL %d.%d, profile mask 0x%x", got_major, got_minor, mask);
	}
	wa_result("core_context", why);
	if (why[0])
		return false;
	/* Entry points are looked up with the context they will be used with
	 * current: on Windows they may differ per context's pixel format. */
	return wa_load();
}

bool wa_resize(struct wa_app *a, int w, int h)
{
	RECT r = { 0, 0, w, h };

	AdjustWindowRectEx(&r, WA_STYLE, FALSE, 0);
	if (!SetWindowPos(a->wnd, NULL, 0, 0, r.right - r.left, r.bottom - r.top,
			  SWP_NOMOVE | SWP_NOZORDER | SWP_NOACTIVATE))
		return false;
	/* WM_SIZE and the rest arrive now: an application draws its next
	 * frame after it has seen them. */
	wa_pump(100);
	GetClientRect(a->wnd, &r);
	a->w = r.right;
	a->h = r.bottom;
	return a->w == w && a->h == h;
}

void wa_hold(struct wa_app *a, const struct wa_opts *o)
{
	POINT p = { 0, 0 };
	DWORD start;

	if (o->hold_ms <= 0)
		return;
	/* Let the presentation reach the display before saying it is there. */
	wa_pump(200);
	ClientToScreen(a->wnd, &p);
	printf("HOLD x=%ld y=%ld w=%d h=%d\n", (long)p.x, (long)p.y, a->w, a->h);
	start = GetTickCount();
	while ((int)(GetTickCount() - start) < o->hold_ms) {
		if (o->hold_file && GetFileAttributesA(o->hold_file) != INVALID_FILE_ATTRIBUTES)
			break;
		wa_pump(20);
	}
}

void wa_teardown(struct wa_app *a)
{
	char why[512] = "";

	if (!wglMakeCurrent(NULL, NULL))
		wa_why(why, sizeof(why), "wglMakeCurrent(NULL) failed (error %lu)", GetLastError());
	if (a->rc && !wglDeleteContext(a->rc))
		wa_why(why, sizeof(why), "wglDeleteContext failed (error %lu)", GetLastError());
	if (a->dc && ReleaseDC(a->wnd, a->dc) != 1)
		wa_why(why, sizeof(why), "ReleaseDC failed");
	if (a->wnd && !DestroyWindow(a->wnd))
		wa_why(why, sizeof(why), "DestroyWindow failed (error %lu)", GetLastError());
	wa_pump(0);
	if (a->cls && !UnregisterClassA("virgo-wgl-test", a->inst))
		wa_why(why, sizeof(why), "UnregisterClass failed (error %lu)", GetLastError());
	memset(a, 0, sizeof(*a));
	wa_result("teardown", why);
}

/* ---- GL helpers ---- */

static GLuint wa_shader(GLenum type, const char *src, char *why, size_t n)
{
	GLuint s = glCreateShader(type);
	GLint ok = 0;
	char log[1024] = "";

	glShaderSource(s, 1, &src, NULL);
	glCompileShader(s);
	glGetShaderiv(s, GL_COMPILE_STATUS, &ok);
	if (!ok) {
		glGetShaderInfoLog(s, sizeof(log), NULL, log);
		wa_why(why, n, "%s shader did not compile: %s",
		       type == GL_VERTEX_SHADER ? "vertex" : "fragment", log);
		glDeleteShader(s);
		return 0;
	}
	return s;
}

GLuint wa_program(const char *vs, const char *fs, char *why, size_t n)
{
	GLuint v = wa_shader(GL_VERTEX_SHADER, vs, why, n);
	GLuint f = wa_shader(GL_FRAGMENT_SHADER, fs, why, n);
	GLuint p;
	GLint ok = 0;
	char log[1024] = "";

	if (!v || !f) {
		if (v)
			glDeleteShader(v);
		if (f)
			glDeleteShader(f);
		return 0;
	}
	p = glCreateProgram();
	glAttachShader(p, v);
	glAttachShader(p, f);
	glBindAttribLocation(p, 0, "pos");
	glBindAttribLocation(p, 1, "attr");
	glLinkProgram(p);
	/* The program keeps the shaders it needs; these names can go. */
	glDeleteShader(v);
	glDeleteShader(f);
	glGetProgramiv(p, GL_LINK_STATUS, &ok);
	if (!ok) {
		glGetProgramInfoLog(p, sizeof(log), NULL, log);
		wa_why(why, n, "program did not link: %s", log);
		glDeleteProgram(p);
		return 0;
	}
	return p;
}

GLenum wa_gl_error(void)
{
	GLenum first = GL_NO_ERROR, e;
	int guard = 0;

	/* Bounded: a broken driver could report errors forever. */
	while ((e = glGetError()) != GL_NO_ERROR && guard++ < 32)
		if (first == GL_NO_ERROR)
			first = e;
	return first;
}

uint8_t *wa_read(int w, int h)
{
	uint8_t *img = malloc((size_t)w * h * 4);

	if (!img)
		return NULL;
	memset(img, 0x5a, (size_t)w * h * 4);
	glPixelStorei(GL_PACK_ALIGNMENT, 4);
	glReadPixels(0, 0, w, h, GL_RGBA, GL_UNSIGNED_BYTE, img);
	return img;
}

bool wa_expect(const uint8_t *img, int w, int x, int y, const uint8_t rgba[4], const char *what,
	       char *why, size_t n)
{
	const uint8_t *p;

	if (!img) {
		wa_why(why, n, "no image for %s", what);
		return false;
	}
	p = img + ((size_t)y * w + x) * 4;
	/* Alpha is compared too: every format used has 8 alpha bits. */
	if (memcmp(p, rgba, 4)) {
		wa_why(why, n, "%s at (%d,%d) is %u,%u,%u,%u, expected %u,%u,%u,%u", what, x, y, p[0], p[1], p[2],
		       p[3], rgba[0], rgba[1], rgba[2], rgba[3]);
		return false;
	}
	return true;
}

void wa_mesh(struct wa_mesh *m, const float *v, GLsizei count, int pos_n, int attr_n)
{
	GLsizei stride = (GLsizei)((pos_n + attr_n) * sizeof(float));

	glGenVertexArrays(1, &m->vao);
	glBindVertexArray(m->vao);
	glGenBuffers(1, &m->vbo);
	glBindBuffer(GL_ARRAY_BUFFER, m->vbo);
	glBufferData(GL_ARRAY_BUFFER, (GLsizeiptr)count * stride, v, GL_STATIC_DRAW);
	glVertexAttribPointer(0, pos_n, GL_FLOAT, GL_FALSE, stride, (const void *)0);
	glEnableVertexAttribArray(0);
	if (attr_n > 0) {
		glVertexAttribPointer(1, attr_n, GL_FLOAT, GL_FALSE, stride,
				      (const void *)(uintptr_t)(pos_n * sizeof(float)));
		glEnableVertexAttribArray(1);
	}
	glBindVertexArray(0);
	m->count = count;
}

void wa_mesh_free(struct wa_mesh *m)
{
	glDeleteBuffers(1, &m->vbo);
	glDeleteVertexArrays(1, &m->vao);
	memset(m, 0, sizeof(*m));
}

/* SPDX-License-Identifier: MIT */
/*
 * wglcheck.c: checks, expectations, windows and threads for the WGL
 * behaviour programs (see wglcheck.h).
 */
#define PSAPI_VERSION 2 /* GetProcessMemoryInfo from kernel32, not psapi.dll */
#include "wglcheck.h"

#include <psapi.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Workers of one check may record what broke at the same time. */
static SRWLOCK why_lock = SRWLOCK_INIT;

void wc_begin(struct wc_check *c, const char *name)
{
	c->name = name;
	c->why[0] = 0;
}

bool wc_end(struct wc_check *c)
{
	wa_result(c->name, c->why);
	return !c->why[0];
}

void wc_bad(struct wc_check *c, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	AcquireSRWLockExclusive(&why_lock);
	wa_why(c->why, sizeof(c->why), "%s", line);
	ReleaseSRWLockExclusive(&why_lock);
}

bool wc_wine_builtin(void)
{
	HMODULE gl = GetModuleHandleA("opengl32.dll");
	HMODULE ntdll = GetModuleHandleA("ntdll.dll");
	char path[MAX_PATH] = "", sys[MAX_PATH] = "";
	UINT n = GetSystemDirectoryA(sys, sizeof(sys));

	/* Wine's ntdll says what it is; a Windows one has no such export. */
	if (!gl || !ntdll || !GetProcAddress(ntdll, "wine_get_version"))
		return false;
	if (!GetModuleFileNameA(gl, path, sizeof(path)) || !n || n >= sizeof(sys))
		return false;
	return !_strnicmp(path, sys, n) && path[n] == '\\';
}

static const char *err_name(DWORD e)
{
	switch (e) {
	case ERROR_SUCCESS:
		return "ERROR_SUCCESS";
	case ERROR_INVALID_HANDLE:
		return "ERROR_INVALID_HANDLE";
	case ERROR_INVALID_PARAMETER:
		return "ERROR_INVALID_PARAMETER";
	case ERROR_BUSY:
		return "ERROR_BUSY";
	case ERROR_INVALID_PIXEL_FORMAT:
		return "ERROR_INVALID_PIXEL_FORMAT";
	case ERROR_INVALID_OPERATION:
		return "ERROR_INVALID_OPERATION";
	case ERROR_DC_NOT_FOUND:
		return "ERROR_DC_NOT_FOUND";
	case WC_UNSET:
		return "no error set";
	default:
		return "?";
	}
}

void wc_outcome(struct wc_check *c, const char *call, bool ok, DWORD err, bool want_ok, DWORD want_err)
{
	if (want_ok && !ok)
		wc_bad(c, "%s failed (error %lu %s)", call, err, err_name(err));
	else if (!want_ok && ok)
		wc_bad(c, "%s succeeded, expected it to fail with %lu %s", call, want_err, err_name(want_err));
	else if (!want_ok && want_err && err != want_err)
		wc_bad(c, "%s failed with error %lu (%s), expected %lu (%s)", call, err, err_name(err), want_err,
		       err_name(want_err));
}

void wc_current(struct wc_check *c, const char *when, HGLRC rc, HDC dc)
{
	HGLRC got_rc = wglGetCurrentContext();
	HDC got_dc = wglGetCurrentDC();

	if (got_rc != rc || got_dc != dc)
		wc_bad(c, "%s: wglGetCurrentContext/DC %p/%p, expected %p/%p", when, (void *)got_rc,
		       (void *)got_dc, (void *)rc, (void *)dc);
}

static LRESULT CALLBACK wndproc(HWND wnd, UINT msg, WPARAM wp, LPARAM lp)
{
	if (msg == WM_ERASEBKGND)
		return 1; /* GL owns the client area */
	return DefWindowProcA(wnd, msg, wp, lp);
}

HWND wc_window(const char *title, int x, int y)
{
	static ATOM cls;
	WNDCLASSEXA wc;
	HWND wnd;

	if (!cls) {
		memset(&wc, 0, sizeof(wc));
		wc.cbSize = sizeof(wc);
		wc.style = CS_HREDRAW | CS_VREDRAW;
		wc.lpfnWndProc = wndproc;
		wc.hInstance = GetModuleHandleA(NULL);
		wc.hCursor = LoadCursor(NULL, IDC_ARROW);
		wc.lpszClassName = "virgo-wgl-check";
		cls = RegisterClassExA(&wc);
		if (!cls) {
			wa_fail("window", "RegisterClassEx failed (error %lu)", GetLastError());
			return NULL;
		}
	}
	wnd = CreateWindowExA(0, "virgo-wgl-check", title, WS_OVERLAPPEDWINDOW | WS_CLIPCHILDREN | WS_CLIPSIBLINGS,
			      x, y, 160, 120, NULL, NULL, GetModuleHandleA(NULL), NULL);
	if (!wnd) {
		wa_fail("window", "CreateWindowEx failed (error %lu)", GetLastError());
		return NULL;
	}
	ShowWindow(wnd, SW_SHOWNOACTIVATE);
	wa_pump(20);
	return wnd;
}

int wc_pixel_format(struct wc_check *c, HDC dc, int depth_bits)
{
	PIXELFORMATDESCRIPTOR want, got;
	int fmt;

	memset(&want, 0, sizeof(want));
	want.nSize = sizeof(want);
	want.nVersion = 1;
	want.dwFlags = PFD_DRAW_TO_WINDOW | PFD_SUPPORT_OPENGL | PFD_DOUBLEBUFFER;
	want.iPixelType = PFD_TYPE_RGBA;
	want.cColorBits = 24;
	want.cDepthBits = (BYTE)depth_bits;
	want.iLayerType = PFD_MAIN_PLANE;
	fmt = ChoosePixelFormat(dc, &want);
	if (!fmt) {
		wc_bad(c, "ChoosePixelFormat(depth %d) found none (error %lu)", depth_bits, GetLastError());
		return 0;
	}
	memset(&got, 0, sizeof(got));
	if (!DescribePixelFormat(dc, fmt, sizeof(got), &got) || !SetPixelFormat(dc, fmt, &got)) {
		wc_bad(c, "pixel format %d: DescribePixelFormat/SetPixelFormat failed (error %lu)", fmt,
		       GetLastError());
		return 0;
	}
	return fmt;
}

bool wc_clear_and_read(struct wc_check *c, const char *when, int r, int g, int b)
{
	GLubyte px[4] = { 1, 2, 3, 4 };
	GLenum err;

	glClearColor(r / 255.0f, g / 255.0f, b / 255.0f, 1.0f);
	glClear(GL_COLOR_BUFFER_BIT);
	glReadPixels(1, 1, 1, 1, GL_RGBA, GL_UNSIGNED_BYTE, px);
	err = glGetError();
	if (err != GL_NO_ERROR || px[0] != r || px[1] != g || px[2] != b) {
		wc_bad(c, "%s: cleared to %d,%d,%d, read %d,%d,%d back (GL error 0x%x)", when, r, g, b, px[0], px[1],
		       px[2], err);
		return false;
	}
	return true;
}

bool wc_thread(struct wc_check *c, LPTHREAD_START_ROUTINE fn, void *arg)
{
	HANDLE t = CreateThread(NULL, 0, fn, arg, 0, NULL);
	DWORD w;

	if (!t) {
		wc_bad(c, "CreateThread failed (error %lu)", GetLastError());
		return false;
	}
	w = WaitForSingleObject(t, 30000);
	CloseHandle(t);
	if (w != WAIT_OBJECT_0) {
		wc_bad(c, "a worker thread did not end within 30 s");
		return false;
	}
	return true;
}

bool wc_wait(struct wc_check *c, HANDLE ev, const char *what)
{
	if (WaitForSingleObject(ev, 30000) != WAIT_OBJECT_0) {
		wc_bad(c, "%s: not within 30 s", what);
		return false;
	}
	return true;
}

size_t wc_private_bytes(void)
{
	PROCESS_MEMORY_COUNTERS pmc;

	memset(&pmc, 0, sizeof(pmc));
	pmc.cb = sizeof(pmc);
	if (!GetProcessMemoryInfo(GetCurrentProcess(), &pmc, sizeof(pmc)))
		return 0;
	return pmc.PagefileUsage;
}

void wc_mark(const char *name)
{
	char path[MAX_PATH];
	DWORD n = GetEnvironmentVariableA("VIRGO_WGL_MARK_FILE", path, sizeof(path));

	if (!n || n >= sizeof(path))
		return;
	printf("MARK %s\n", name);
	for (int i = 0; i < 3000 && GetFileAttributesA(path) == INVALID_FILE_ATTRIBUTES; i++)
		Sleep(10);
	DeleteFileA(path);
}

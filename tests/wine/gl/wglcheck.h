/* SPDX-License-Identifier: MIT */
/*
 * wglcheck.h: what the WGL behaviour programs (wgl_*.c) share. Each checks
 * one behaviour of opengl32.dll's WGL functions against what Windows
 * documents, and must pass both on virgo's app-local opengl32.dll and on
 * Wine's builtin one: that keeps the expectations honest. Where Wine's
 * builtin does something else, the program says so in an INFO line and
 * expects Wine's behaviour only from Wine's builtin DLL (wc_wine_builtin).
 *
 * A check gathers many expectations and prints one "PASS name" or
 * "FAIL name: what broke; what broke" line (wglapp.h's format).
 */
#ifndef VIRGO_TESTS_WINE_GL_WGLCHECK_H
#define VIRGO_TESTS_WINE_GL_WGLCHECK_H

#include "wglapp.h"

struct wc_check {
	const char *name;
	char why[4096];
};

void wc_begin(struct wc_check *c, const char *name);
/* Prints the check's PASS or FAIL line; true if it passed. */
bool wc_end(struct wc_check *c);
/* Records a broken expectation. Safe from another thread while the
 * check's own thread waits for it. */
void wc_bad(struct wc_check *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Whether this process runs on Wine's builtin opengl32.dll (the one in
 * C:\windows\system32, under Wine) rather than an application-local one. */
bool wc_wine_builtin(void);

/* The last error is set to this before each call checked, so a call that
 * fails without setting any error shows as "no error set". */
#define WC_UNSET 0xdeadbeefu

void wc_outcome(struct wc_check *c, const char *call, bool ok, DWORD err, bool want_ok, DWORD want_err);

/* A WGL call's outcome: success (a non-zero result), or failure with the
 * given GetLastError code (0: any). The call is an expression and may
 * assign its result: WC_OK(c, rc = wglCreateContext(dc)). */
#define WC_EXPECT(c, call, want_ok, want_err)                                  \
	do {                                                                   \
		SetLastError(WC_UNSET);                                        \
		bool ok_ = (call) != 0;                                        \
		DWORD err_ = GetLastError();                                   \
		wc_outcome((c), #call, ok_, err_, (want_ok), (want_err));      \
	} while (0)
#define WC_OK(c, call) WC_EXPECT(c, call, true, 0)
#define WC_FAILS(c, call, err) WC_EXPECT(c, call, false, err)

/* wglGetCurrentContext and wglGetCurrentDC must be rc and dc now. */
void wc_current(struct wc_check *c, const char *when, HGLRC rc, HDC dc);

/* A visible window of the programs' class (no CS_OWNDC: every GetDC is a
 * DC of its own, as most toolkits' windows give); NULL after a FAIL. */
HWND wc_window(const char *title, int x, int y);
/* Sets a double-buffered RGBA window pixel format with the given depth
 * bits on dc; the format, or 0 (after recording why in c). */
int wc_pixel_format(struct wc_check *c, HDC dc, int depth_bits);

/* Clears the current context's draw buffer to r,g,b (n/255 each) and
 * reads the pixel at (1, 1) back: true if it is that colour. A legacy
 * context's GL 1.1 calls only, so any context will do. */
bool wc_clear_and_read(struct wc_check *c, const char *when, int r, int g, int b);

/* Runs fn(arg) on a new thread and waits for it to end, at most 30 s
 * (a hang is recorded, not waited out). */
bool wc_thread(struct wc_check *c, LPTHREAD_START_ROUTINE fn, void *arg);
/* Waits at most 30 s for ev; records a hang otherwise. */
bool wc_wait(struct wc_check *c, HANDLE ev, const char *what);

/* The process's private bytes (GetProcessMemoryInfo). */
size_t wc_private_bytes(void);

/* A point where run-gl.sh takes stock of virgo-host (its live resources
 * and guest pages, which a leaking driver leaves behind where the
 * process's own memory shows nothing): prints "MARK name" and waits until
 * the harness has, i.e. until the file VIRGO_WGL_MARK_FILE names exists
 * (at most 30 s). Without that variable (Wine's builtin), nothing. */
void wc_mark(const char *name);

#endif

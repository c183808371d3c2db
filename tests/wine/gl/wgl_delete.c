/* SPDX-License-Identifier: MIT */
/*
 * wgl_delete.exe: deleting contexts, the current one included, and the
 * contexts of threads that have ended.
 *
 * Microsoft's wglDeleteContext: "if a rendering context is the calling
 * thread's current context, the wglDeleteContext function changes the
 * rendering context to being not current before deleting it"; a handle
 * once deleted names nothing (ERROR_INVALID_HANDLE).
 *
 * A thread's current context is the thread's: when the thread ends, the
 * context is current nowhere and another thread may make it current or
 * delete it (Windows' opengl32 releases a thread's context when the thread
 * detaches, as ReactOS's does). Wine's builtin opengl32 does not: it keeps
 * the ended thread as the context's owner, so the context is busy for good
 * (ERROR_BUSY) and can never be deleted. On Wine's builtin this program
 * expects that, says so, and skips the part that would leak.
 *
 * None of this may crash or leak: the sequences run again in a loop and
 * the process's private bytes must stay put, and so must what virgo-host
 * holds for the process (run-gl.sh compares its live resources and guest
 * pages at the marks before and after the loop).
 */
#include "wglcheck.h"

#include <stdio.h>
#include <string.h>

static HWND wnd;
static HDC main_dc;
static bool wine;

static void delete_current(void)
{
	struct wc_check c;
	HGLRC rc = NULL, other = NULL;

	wc_begin(&c, "delete_current");
	WC_OK(&c, rc = wglCreateContext(main_dc));
	WC_OK(&c, wglMakeCurrent(main_dc, rc));
	wc_clear_and_read(&c, "before", 255, 0, 0);
	WC_OK(&c, wglDeleteContext(rc));
	wc_current(&c, "after wglDeleteContext of the current context", NULL, NULL);
	WC_FAILS(&c, wglDeleteContext(rc), ERROR_INVALID_HANDLE);
	WC_FAILS(&c, wglMakeCurrent(main_dc, rc), ERROR_INVALID_HANDLE);
	wc_current(&c, "after the deleted handle was used again", NULL, NULL);

	/* Deleting a context that is not current leaves the current one be. */
	WC_OK(&c, rc = wglCreateContext(main_dc));
	WC_OK(&c, other = wglCreateContext(main_dc));
	WC_OK(&c, wglMakeCurrent(main_dc, rc));
	WC_OK(&c, wglDeleteContext(other));
	wc_current(&c, "after wglDeleteContext of a context not current", rc, main_dc);
	wc_clear_and_read(&c, "the current context after another was deleted", 0, 255, 0);
	WC_OK(&c, wglDeleteContext(rc));
	wc_current(&c, "the end", NULL, NULL);
	wc_end(&c);
}

struct job {
	struct wc_check *c;
	HGLRC rc;
	bool release; /* make rc not current before the thread ends */
	bool create;  /* create rc in the thread */
	HDC dc;       /* the DC the thread used, released once it ended */
	bool clear_only; /* draw without reading back (no_leak) */
};

static DWORD WINAPI use_and_exit(void *p)
{
	struct job *j = p;
	struct wc_check *c = j->c;
	HDC dc = j->dc = GetDC(wnd);

	if (j->create)
		WC_OK(c, j->rc = wglCreateContext(dc));
	WC_OK(c, wglMakeCurrent(dc, j->rc));
	if (j->clear_only)
		glClear(GL_COLOR_BUFFER_BIT);
	else
		wc_clear_and_read(c, "the thread's frame", 0, 0, 255);
	if (j->release)
		WC_OK(c, wglMakeCurrent(NULL, NULL));
	/* The DC stays in use until the thread has ended. */
	return 0;
}

/* Runs a thread that makes a context current and ends; the DC it used is
 * released afterwards. */
static void run_and_end(struct job *j)
{
	HANDLE t;

	j->dc = NULL;
	t = CreateThread(NULL, 0, use_and_exit, j, 0, NULL);
	if (!t) {
		wc_bad(j->c, "CreateThread failed (error %lu)", GetLastError());
		return;
	}
	if (WaitForSingleObject(t, 30000) != WAIT_OBJECT_0)
		wc_bad(j->c, "the thread did not end within 30 s");
	else if (j->dc)
		ReleaseDC(wnd, j->dc);
	CloseHandle(t);
}

/* What the main thread can do with a context whose thread ended with it
 * current: make it current and delete it, or (Wine's builtin) nothing. */
static void after_owner_ended(struct wc_check *c, HGLRC rc)
{
	wc_current(c, "main thread after the owner ended", NULL, NULL);
	if (wine) {
		WC_FAILS(c, wglMakeCurrent(main_dc, rc), ERROR_BUSY);
		WC_FAILS(c, wglDeleteContext(rc), ERROR_BUSY);
		wc_current(c, "main thread after Wine refused", NULL, NULL);
		return;
	}
	WC_OK(c, wglMakeCurrent(main_dc, rc));
	wc_current(c, "main thread with the ended thread's context", rc, main_dc);
	wc_clear_and_read(c, "main thread with the ended thread's context", 255, 255, 0);
	WC_OK(c, wglDeleteContext(rc));
	wc_current(c, "main thread after deleting it", NULL, NULL);
}

static void thread_exit_current(void)
{
	struct wc_check c;
	struct job j = { &c, NULL, false, false, NULL, false };

	wc_begin(&c, "thread_exit_current");
	if (wine)
		wa_info("Wine's builtin opengl32 keeps a context current in a thread that has ended: "
			"ERROR_BUSY for it ever after (Windows releases it when the thread ends)");
	/* The main thread's context, current in a thread that ends. */
	WC_OK(&c, j.rc = wglCreateContext(main_dc));
	run_and_end(&j);
	after_owner_ended(&c, j.rc);
	wc_end(&c);
}

static void delete_after_owner_ended(void)
{
	struct wc_check c;
	struct job j = { &c, NULL, true, true, NULL, false };

	wc_begin(&c, "delete_after_owner_ended");
	/* Created, made current and released in a thread that has ended. */
	run_and_end(&j);
	wc_current(&c, "main thread after the thread ended", NULL, NULL);
	WC_OK(&c, wglDeleteContext(j.rc));
	WC_FAILS(&c, wglDeleteContext(j.rc), ERROR_INVALID_HANDLE);
	/* Created in a thread that ended with it current. */
	j.release = false;
	run_and_end(&j);
	after_owner_ended(&c, j.rc);
	wc_current(&c, "the end", NULL, NULL);
	wc_end(&c);
}

/* Each sequence again and again, in a window of its own each time (a
 * context that kept its window's framebuffer would keep its buffers):
 * the private bytes must not grow with the count. The rounds draw but
 * read nothing back: a virgl context that read pixels leaks in the
 * driver's readback path when it is destroyed, which is another matter
 * (README.md). */
static void one_round(struct wc_check *c)
{
	HWND w = wc_window("wgl_delete round", 220, 40);
	HDC dc = w ? GetDC(w) : NULL;
	HGLRC rc = NULL;
	struct job j = { c, NULL, wine, true, NULL, true };
	HWND keep = wnd;

	if (!dc || !wc_pixel_format(c, dc, 24))
		return;
	WC_OK(c, rc = wglCreateContext(dc));
	WC_OK(c, wglMakeCurrent(dc, rc));
	glClear(GL_COLOR_BUFFER_BIT);
	WC_OK(c, wglDeleteContext(rc));
	wnd = w;
	run_and_end(&j);
	wnd = keep;
	if (j.rc)
		WC_OK(c, wglDeleteContext(j.rc));
	ReleaseDC(w, dc);
	DestroyWindow(w);
	wa_pump(0);
}

static void no_leak(void)
{
	struct wc_check c;
	size_t before, after;
	const int rounds = 12;

	wc_begin(&c, "no_leak");
	for (int i = 0; i < 2 && !c.why[0]; i++)
		one_round(&c);
	before = wc_private_bytes();
	wc_mark("before");
	for (int i = 0; i < rounds && !c.why[0]; i++)
		one_round(&c);
	wc_mark("after");
	after = wc_private_bytes();
	wa_info("no_leak: private bytes %lu KiB before %d rounds, %lu KiB after", (unsigned long)(before / 1024),
		rounds, (unsigned long)(after / 1024));
	/* A leaked context or window framebuffer is hundreds of KiB a round. */
	if (!before || after > before + 4 * 1024 * 1024)
		wc_bad(&c, "private bytes grew by %lu KiB over %d rounds", (unsigned long)((after - before) / 1024),
		       rounds);
	wc_end(&c);
}

int main(void)
{
	struct wc_check c;

	wa_start();
	wnd = wc_window("wgl_delete", 40, 40);
	if (!wnd)
		return 1;
	main_dc = GetDC(wnd);
	wc_begin(&c, "setup");
	wc_pixel_format(&c, main_dc, 24);
	wa_module_info();
	if (!wc_end(&c))
		return 1;
	wine = wc_wine_builtin();
	wa_info("opengl32.dll is %s", wine ? "Wine's builtin" : "application-local");

	delete_current();
	thread_exit_current();
	delete_after_owner_ended();
	no_leak();

	ReleaseDC(wnd, main_dc);
	DestroyWindow(wnd);
	return wa_failed() ? 1 : 0;
}

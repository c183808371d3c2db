/* SPDX-License-Identifier: MIT */
/*
 * wgl_threads.exe: a context current in another thread, and a DC of
 * another thread's window.
 *
 * Microsoft's wglMakeCurrent: "A rendering context can be current to only
 * one thread at a time. You cannot make a rendering context current to
 * multiple threads." wglDeleteContext: "It is an error to delete an OpenGL
 * rendering context that is the current context of another thread."
 * Windows' opengl32 (and Wine's) fail both with ERROR_BUSY. The thread
 * that tried keeps the context it had: a refused wglMakeCurrent changes
 * nothing (see README.md, "The WGL behaviour programs", for why that and
 * not the last remark of Microsoft's page).
 *
 * A thread may draw into a window another thread created, with a DC it
 * got itself: the hdc need only be on the same device with the same pixel
 * format as the context.
 *
 * wgl_threads.exe [CHECK] runs that check alone (after setup).
 */
#include "wglcheck.h"

#include <stdio.h>
#include <string.h>

static HWND wnd;
static HDC main_dc;
static HGLRC shared_rc; /* the context the threads contend for */
static HGLRC worker_rc; /* the worker's own */

struct job {
	struct wc_check *c;
	HANDLE ready, go; /* handshakes for workers that keep a context current */
};

/* While the main thread has shared_rc current. */
static DWORD WINAPI try_busy(void *p)
{
	struct job *j = p;
	struct wc_check *c = j->c;
	HDC dc = GetDC(wnd);

	WC_FAILS(c, wglMakeCurrent(dc, shared_rc), ERROR_BUSY);
	wc_current(c, "worker, after wglMakeCurrent of a busy context", NULL, NULL);
	WC_FAILS(c, wglDeleteContext(shared_rc), ERROR_BUSY);
	wc_current(c, "worker, after wglDeleteContext of a busy context", NULL, NULL);
	/* Nor may it swap the busy context's lists for its own (virgo says
	 * ERROR_BUSY; Wine refuses a context once current, setting none). */
	WC_FAILS(c, wglShareLists(worker_rc, shared_rc), 0);

	/* With a context of its own current, the refusal leaves it current. */
	WC_OK(c, wglMakeCurrent(dc, worker_rc));
	WC_FAILS(c, wglMakeCurrent(dc, shared_rc), ERROR_BUSY);
	wc_current(c, "worker with its own context, after wglMakeCurrent of a busy one", worker_rc, dc);
	WC_FAILS(c, wglDeleteContext(shared_rc), ERROR_BUSY);
	wc_current(c, "worker with its own context, after wglDeleteContext of a busy one", worker_rc, dc);
	wc_clear_and_read(c, "worker's own context after the refusals", 0, 0, 255);
	WC_OK(c, wglMakeCurrent(NULL, NULL));
	wc_current(c, "worker, released", NULL, NULL);
	ReleaseDC(wnd, dc);
	return 0;
}

static void busy(void)
{
	struct wc_check c;
	struct job j = { &c, NULL, NULL };

	wc_begin(&c, "busy");
	WC_OK(&c, wglMakeCurrent(main_dc, shared_rc));
	wc_clear_and_read(&c, "main thread before", 255, 0, 0);
	wc_thread(&c, try_busy, &j);
	wc_current(&c, "main thread after the worker's refused calls", shared_rc, main_dc);
	/* The context survived the worker's wglDeleteContext and still draws. */
	wc_clear_and_read(&c, "main thread after", 0, 255, 0);
	WC_OK(&c, wglMakeCurrent(NULL, NULL));
	wc_end(&c);
}

/* Takes shared_rc with a DC of the main thread's window, draws, keeps it
 * current while the main thread tries, then lets it go. */
static DWORD WINAPI hold_other_window(void *p)
{
	struct job *j = p;
	struct wc_check *c = j->c;
	HDC dc = GetDC(wnd);

	if (dc == main_dc)
		wc_bad(c, "GetDC in the worker gave the main thread's DC; the check needs a DC of its own");
	WC_OK(c, wglMakeCurrent(dc, shared_rc));
	wc_current(c, "worker on the main thread's window", shared_rc, dc);
	wc_clear_and_read(c, "worker drawing on the main thread's window", 255, 255, 0);
	WC_OK(c, SwapBuffers(dc));
	SetEvent(j->ready);
	wc_wait(c, j->go, "the main thread's turn");
	wc_current(c, "worker after the main thread's refused calls", shared_rc, dc);
	wc_clear_and_read(c, "worker after the main thread's refused calls", 0, 255, 255);
	WC_OK(c, wglMakeCurrent(NULL, NULL));
	wc_current(c, "worker, released", NULL, NULL);
	ReleaseDC(wnd, dc);
	return 0;
}

static void other_window(void)
{
	struct wc_check c;
	struct job j = { &c, CreateEventA(NULL, FALSE, FALSE, NULL), CreateEventA(NULL, FALSE, FALSE, NULL) };
	HANDLE t;

	wc_begin(&c, "other_thread_window");
	t = CreateThread(NULL, 0, hold_other_window, &j, 0, NULL);
	if (!t) {
		wc_bad(&c, "CreateThread failed (error %lu)", GetLastError());
	} else {
		if (wc_wait(&c, j.ready, "the worker's frame")) {
			/* Now the main thread is the other thread. */
			WC_FAILS(&c, wglMakeCurrent(main_dc, shared_rc), ERROR_BUSY);
			wc_current(&c, "main thread, after wglMakeCurrent of the worker's context", NULL, NULL);
			WC_FAILS(&c, wglDeleteContext(shared_rc), ERROR_BUSY);
			WC_OK(&c, wglMakeCurrent(main_dc, worker_rc));
			WC_FAILS(&c, wglMakeCurrent(main_dc, shared_rc), ERROR_BUSY);
			wc_current(&c, "main thread with a context, after wglMakeCurrent of the worker's",
				   worker_rc, main_dc);
			WC_OK(&c, wglMakeCurrent(NULL, NULL));
		}
		SetEvent(j.go);
		if (WaitForSingleObject(t, 30000) != WAIT_OBJECT_0)
			wc_bad(&c, "the worker did not end within 30 s");
		CloseHandle(t);
	}
	/* Released by the worker: the main thread may have it again. */
	WC_OK(&c, wglMakeCurrent(main_dc, shared_rc));
	wc_current(&c, "main thread, once the worker released it", shared_rc, main_dc);
	wc_clear_and_read(&c, "main thread, once the worker released it", 255, 0, 255);
	WC_OK(&c, wglMakeCurrent(NULL, NULL));
	CloseHandle(j.ready);
	CloseHandle(j.go);
	wc_end(&c);
}

/* The context goes back and forth between two threads; each has it in
 * turn, with the state the other left (the clear colour). */
static DWORD WINAPI pass_back(void *p)
{
	struct job *j = p;
	struct wc_check *c = j->c;
	HDC dc = GetDC(wnd);
	GLfloat cc[4] = { 0 };

	for (int i = 0; i < 10; i++) {
		if (!wc_wait(c, j->go, "the handoff"))
			break;
		WC_OK(c, wglMakeCurrent(dc, shared_rc));
		glGetFloatv(GL_COLOR_CLEAR_VALUE, cc);
		if ((int)(cc[0] * 255.0f + 0.5f) != i * 20)
			wc_bad(c, "handoff %d: the worker found clear red %.3f, the main thread set %d/255", i,
			       cc[0], i * 20);
		wc_clear_and_read(c, "worker's turn", 10, 20, 30);
		WC_OK(c, wglMakeCurrent(NULL, NULL));
		SetEvent(j->ready);
	}
	ReleaseDC(wnd, dc);
	return 0;
}

static void handoff(void)
{
	struct wc_check c;
	struct job j = { &c, CreateEventA(NULL, FALSE, FALSE, NULL), CreateEventA(NULL, FALSE, FALSE, NULL) };
	HANDLE t;

	wc_begin(&c, "handoff");
	t = CreateThread(NULL, 0, pass_back, &j, 0, NULL);
	for (int i = 0; t && i < 10; i++) {
		WC_OK(&c, wglMakeCurrent(main_dc, shared_rc));
		wc_clear_and_read(&c, "main thread's turn", 200, 100, 50);
		glClearColor(i * 20 / 255.0f, 0, 0, 1);
		WC_OK(&c, wglMakeCurrent(NULL, NULL));
		SetEvent(j.go);
		if (!wc_wait(&c, j.ready, "the worker's turn"))
			break;
	}
	if (t) {
		if (WaitForSingleObject(t, 30000) != WAIT_OBJECT_0)
			wc_bad(&c, "the worker did not end within 30 s");
		CloseHandle(t);
	}
	wc_current(&c, "main thread after the handoffs", NULL, NULL);
	CloseHandle(j.ready);
	CloseHandle(j.go);
	wc_end(&c);
}

/* Two threads grab the same context as fast as they can: never both at
 * once, and every refusal is ERROR_BUSY. */
static volatile LONG holders, overlaps, grabs, refusals, wrong_refusals;

static DWORD WINAPI grab(void *p)
{
	struct job *j = p;
	HDC dc = GetDC(wnd);

	for (int i = 0; i < 300; i++) {
		SetLastError(WC_UNSET);
		if (wglMakeCurrent(dc, shared_rc)) {
			if (InterlockedIncrement(&holders) > 1)
				InterlockedIncrement(&overlaps);
			InterlockedIncrement(&grabs);
			/* Hold it a while (a round trip to the GPU): a second
			 * holder would be caught here. */
			glClear(GL_COLOR_BUFFER_BIT);
			glFinish();
			InterlockedDecrement(&holders);
			if (!wglMakeCurrent(NULL, NULL))
				wc_bad(j->c, "wglMakeCurrent(NULL, NULL) after a grab failed (error %lu)",
				       GetLastError());
		} else {
			DWORD e = GetLastError();

			InterlockedIncrement(&refusals);
			if (e != ERROR_BUSY && InterlockedIncrement(&wrong_refusals) == 1)
				wc_bad(j->c, "a refused grab set error %lu, not ERROR_BUSY", e);
		}
	}
	ReleaseDC(wnd, dc);
	return 0;
}

static void race(void)
{
	struct wc_check c;
	struct job j = { &c, NULL, NULL };
	HANDLE t[2];

	wc_begin(&c, "race");
	t[0] = CreateThread(NULL, 0, grab, &j, 0, NULL);
	t[1] = CreateThread(NULL, 0, grab, &j, 0, NULL);
	if (!t[0] || !t[1] || WaitForMultipleObjects(2, t, TRUE, 60000) != WAIT_OBJECT_0)
		wc_bad(&c, "the two grabbing threads did not both end within 60 s");
	for (int i = 0; i < 2; i++)
		if (t[i])
			CloseHandle(t[i]);
	if (overlaps)
		wc_bad(&c, "the context was current in both threads at once %ld times", overlaps);
	if (grabs + refusals != 600)
		wc_bad(&c, "%ld grabs and %ld refusals of 600 tries", grabs, refusals);
	wa_info("race: %ld grabs, %ld refusals (ERROR_BUSY)", grabs, refusals);
	wc_current(&c, "main thread after the race", NULL, NULL);
	wc_end(&c);
}

int main(int argc, char **argv)
{
	struct wc_check c;
	/* One check alone, by name: on a DLL that crashes in the first, the
	 * others can still be seen to fail. */
	const char *only = argc > 1 ? argv[1] : NULL;
#define WANT(name) (!only || !strcmp(only, #name))

	wa_start();
	wnd = wc_window("wgl_threads", 40, 40);
	if (!wnd)
		return 1;
	main_dc = GetDC(wnd);
	wc_begin(&c, "setup");
	if (wc_pixel_format(&c, main_dc, 24)) {
		WC_OK(&c, shared_rc = wglCreateContext(main_dc));
		WC_OK(&c, worker_rc = wglCreateContext(main_dc));
	}
	wa_module_info();
	if (!wc_end(&c))
		return 1;
	wa_info("opengl32.dll is %s", wc_wine_builtin() ? "Wine's builtin" : "application-local");

	if (WANT(busy))
		busy();
	if (WANT(other_thread_window))
		other_window();
	if (WANT(handoff))
		handoff();
	if (WANT(race))
		race();

	wc_begin(&c, "teardown");
	WC_OK(&c, wglDeleteContext(shared_rc));
	WC_OK(&c, wglDeleteContext(worker_rc));
	wc_current(&c, "the end", NULL, NULL);
	ReleaseDC(wnd, main_dc);
	DestroyWindow(wnd);
	wc_end(&c);
	return wa_failed() ? 1 : 0;
}

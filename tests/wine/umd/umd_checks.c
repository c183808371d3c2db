/* SPDX-License-Identifier: MIT */
/*
 * umd_checks.exe MODE: what a Windows program meets in virgo's OpenGL DLLs
 * beyond drawing (tests/wine/umd/run.sh runs it under Wine). opengl32.dll
 * is loaded at run time from the program's folder (the app-local copy), as
 * SDL and GLFW do, so it can also be freed.
 *
 *   unload        load opengl32.dll and free it without choosing a pixel
 *                 format: the ICD unloads with no screen (Mesa 22.3.6's
 *                 stw_cleanup destroyed a screen it never had)
 *   unload-used   choose a pixel format through opengl32's wgl* exports
 *                 (no device: that fails, and no screen is made; with one:
 *                 make a context, draw, delete it), then free opengl32.dll
 *                 and load it again once more
 *   renderer      a context, and GL_RENDERER printed
 *   iconic        frames of a visible window and of the same window
 *                 minimised: how often the ICD called StretchDIBits and
 *                 asked the host for a read-back (TRANSFER_FROM_HOST) while
 *                 swapping (its imports of gdi32!StretchDIBits and
 *                 ws2_32!send are counted through its import table)
 *
 * One "PASS name" or "FAIL name: why" line per check, "INFO ..." lines;
 * exit status 0 when all passed. A fault while the DLLs unload is seen by
 * a vectored exception handler: the loader (Wine's, and Windows' in some
 * versions) swallows a fault in DllMain's PROCESS_DETACH, so the program
 * would carry on as if nothing happened.
 */
#define WIN32_LEAN_AND_MEAN
#include <winsock2.h>
#include <windows.h>
#include <GL/gl.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <virgo/uapi.h>

static int failures;

static void result(const char *name, bool ok, const char *why)
{
	if (ok) {
		printf("PASS %s\n", name);
	} else {
		printf("FAIL %s: %s\n", name, why);
		failures++;
	}
	fflush(stdout);
}

/* ---- opengl32.dll, at run time ---- */

static struct {
	HMODULE m;
	HGLRC(WINAPI *CreateContext)(HDC);
	BOOL(WINAPI *MakeCurrent)(HDC, HGLRC);
	BOOL(WINAPI *DeleteContext)(HGLRC);
	const GLubyte *(WINAPI *GetString)(GLenum);
	void(WINAPI *ClearColor)(GLclampf, GLclampf, GLclampf, GLclampf);
	void(WINAPI *Clear)(GLbitfield);
	void(WINAPI *Finish)(void);
	int(WINAPI *ChoosePixelFormat)(HDC, const PIXELFORMATDESCRIPTOR *);
	BOOL(WINAPI *SetPixelFormat)(HDC, int, const PIXELFORMATDESCRIPTOR *);
} gl;

static bool load_gl(void)
{
	gl.m = LoadLibraryA("opengl32.dll");
	if (!gl.m)
		return false;
#define F(field, name) (gl.field = (void *)GetProcAddress(gl.m, name))
	return F(CreateContext, "wglCreateContext") && F(MakeCurrent, "wglMakeCurrent") &&
	       F(DeleteContext, "wglDeleteContext") && F(GetString, "glGetString") && F(ClearColor, "glClearColor") &&
	       F(Clear, "glClear") && F(Finish, "glFinish") && F(ChoosePixelFormat, "wglChoosePixelFormat") &&
	       F(SetPixelFormat, "wglSetPixelFormat");
#undef F
}

static LRESULT CALLBACK wndproc(HWND w, UINT msg, WPARAM wp, LPARAM lp)
{
	return DefWindowProcA(w, msg, wp, lp);
}

static void pump(void)
{
	MSG msg;

	for (int i = 0; i < 20; i++) {
		while (PeekMessageA(&msg, NULL, 0, 0, PM_REMOVE)) {
			TranslateMessage(&msg);
			DispatchMessageA(&msg);
		}
		Sleep(10);
	}
}

static HWND make_window(bool visible)
{
	static bool registered;
	WNDCLASSA wc = { .style = CS_OWNDC, .lpfnWndProc = wndproc, .hInstance = GetModuleHandleA(NULL),
			 .lpszClassName = "umd_checks" };
	HWND w;

	if (!registered)
		registered = RegisterClassA(&wc) != 0;
	w = CreateWindowExA(0, "umd_checks", "umd_checks", WS_OVERLAPPEDWINDOW, 40, 40, 200, 150, NULL, NULL,
			    wc.hInstance, NULL);
	if (w && visible) {
		ShowWindow(w, SW_SHOWNORMAL);
		pump();
	}
	return w;
}

/* The pixel format through gdi32, as most programs do (Wine's and
 * Windows' gdi32 pass it to the opengl32.dll the process has loaded, and
 * keep that loaded for good), or through opengl32's own wgl* exports,
 * which leave it free to unload. */
static bool set_format(HDC dc, bool direct)
{
	PIXELFORMATDESCRIPTOR pfd = { .nSize = sizeof(pfd), .nVersion = 1,
				      .dwFlags = PFD_DRAW_TO_WINDOW | PFD_SUPPORT_OPENGL | PFD_DOUBLEBUFFER,
				      .iPixelType = PFD_TYPE_RGBA, .cColorBits = 32, .cDepthBits = 24 };
	int f = direct ? gl.ChoosePixelFormat(dc, &pfd) : ChoosePixelFormat(dc, &pfd);

	return f && (direct ? gl.SetPixelFormat(dc, f, &pfd) : SetPixelFormat(dc, f, &pfd));
}

/* ---- faults ---- */

static volatile LONG faults;
static void *volatile fault_at;
static volatile DWORD fault_code;

/* Error-class exceptions only (access violations and the like), not the
 * informational ones Windows raises for debug output or thread names. */
static LONG CALLBACK on_exception(EXCEPTION_POINTERS *e)
{
	if (e->ExceptionRecord->ExceptionCode >= 0xC0000000u) {
		fault_code = e->ExceptionRecord->ExceptionCode;
		fault_at = e->ExceptionRecord->ExceptionAddress;
		InterlockedIncrement(&faults);
	}
	return EXCEPTION_CONTINUE_SEARCH;
}

/* FreeLibrary, and whether anything faulted meanwhile. */
static void free_checked(const char *name)
{
	char why[160];
	LONG before = faults;
	BOOL ok = FreeLibrary(gl.m);

	snprintf(why, sizeof(why), "%s%ld fault(s) while the DLLs unloaded (last: %#lx at %p)",
		 ok ? "" : "FreeLibrary failed; ", faults - before, (unsigned long)fault_code, fault_at);
	result(name, ok && faults == before, why);
}

/* ---- modes ---- */

static int mode_unload(void)
{
	char path[MAX_PATH] = "";

	result("load_opengl32", load_gl(), "cannot load opengl32.dll");
	if (!gl.m)
		return 1;
	GetModuleFileNameA(gl.m, path, sizeof(path));
	printf("INFO opengl32.dll: %s\n", path);
	free_checked("unload_without_pixel_format");
	/* Still here: the ICD's DllMain returned. */
	result("alive_after_unload", GetModuleHandleA("virgo_icd64.dll") == NULL, "virgo_icd64.dll is still loaded");
	return failures != 0;
}

static int mode_unload_used(void)
{
	for (int round = 0; round < 2; round++) {
		HWND w;
		HDC dc;
		bool have;
		char name[64];

		if (!load_gl()) {
			result("load_opengl32", false, "cannot load opengl32.dll");
			return 1;
		}
		w = make_window(false);
		dc = w ? GetDC(w) : NULL;
		have = dc && set_format(dc, true);
		printf("INFO round %d: pixel format %s\n", round, have ? "set" : "refused (no device?)");
		if (have) {
			HGLRC rc = gl.CreateContext(dc);

			if (rc && gl.MakeCurrent(dc, rc)) {
				gl.ClearColor(0, 1, 0, 1);
				gl.Clear(GL_COLOR_BUFFER_BIT);
				gl.Finish();
				gl.MakeCurrent(NULL, NULL);
			}
			if (rc)
				gl.DeleteContext(rc);
		}
		if (dc)
			ReleaseDC(w, dc);
		if (w)
			DestroyWindow(w);
		snprintf(name, sizeof(name), "unload_after_pixel_format_%d", round);
		free_checked(name);
		/* Without a device nothing pins the DLLs, so they really went
		 * (and stw_cleanup ran without a screen). With one, Mesa's
		 * DrvSetPixelFormat calls gdi32's SetPixelFormat, which keeps
		 * opengl32.dll loaded: then nothing unloads. */
		snprintf(name, sizeof(name), "icd_unloaded_%d", round);
		if (!have)
			result(name, GetModuleHandleA("virgo_icd64.dll") == NULL, "virgo_icd64.dll is still loaded");
		else
			printf("INFO round %d: virgo_icd64.dll %s\n", round,
			       GetModuleHandleA("virgo_icd64.dll") ? "stays loaded (gdi32 holds opengl32.dll)" : "unloaded");
	}
	return failures != 0;
}

static int mode_renderer(void)
{
	HWND w;
	HDC dc;
	HGLRC rc = NULL;
	const char *r = NULL;

	if (!load_gl()) {
		result("load_opengl32", false, "cannot load opengl32.dll");
		return 1;
	}
	w = make_window(false);
	dc = w ? GetDC(w) : NULL;
	if (dc && set_format(dc, false))
		rc = gl.CreateContext(dc);
	if (rc && gl.MakeCurrent(dc, rc))
		r = (const char *)gl.GetString(GL_RENDERER);
	printf("INFO GL_RENDERER: %s\n", r ? r : "(no context)");
	result("context", r != NULL, "no pixel format or context");
	if (rc) {
		gl.MakeCurrent(NULL, NULL);
		gl.DeleteContext(rc);
	}
	return failures != 0;
}

/* ---- counting the ICD's calls through its import table ---- */

static volatile LONG blits, transfers_from_host;
static int(WINAPI *real_stretch)(HDC, int, int, int, int, int, int, int, int, const void *, const BITMAPINFO *, UINT,
				 DWORD);
static int(WINAPI *real_send)(SOCKET, const char *, int, int);

static int WINAPI count_stretch(HDC dc, int x, int y, int w, int h, int sx, int sy, int sw, int sh, const void *bits,
				const BITMAPINFO *bmi, UINT usage, DWORD rop)
{
	InterlockedIncrement(&blits);
	return real_stretch(dc, x, y, w, h, sx, sy, sw, sh, bits, bmi, usage, rop);
}

/* Over TCP each request starts with its struct virgo_wire_req, sent on its
 * own (uapi/roundtrip.c): the op of each is counted. */
static int WINAPI count_send(SOCKET s, const char *buf, int len, int flags)
{
	struct virgo_wire_req req;

	if (len == (int)sizeof(req)) {
		memcpy(&req, buf, sizeof(req));
		if (req.magic == VIRGO_WIRE_MAGIC && req.op == VIRGO_OP_TRANSFER_FROM_HOST)
			InterlockedIncrement(&transfers_from_host);
	}
	return real_send(s, buf, len, flags);
}

/* Points module's import of dll!name at fn; the old target in *old. */
static bool hook(HMODULE module, const char *dll, const char *name, void *fn, void **old)
{
	BYTE *base = (BYTE *)module;
	IMAGE_NT_HEADERS *nt = (IMAGE_NT_HEADERS *)(base + ((IMAGE_DOS_HEADER *)base)->e_lfanew);
	IMAGE_DATA_DIRECTORY dir = nt->OptionalHeader.DataDirectory[IMAGE_DIRECTORY_ENTRY_IMPORT];
	IMAGE_IMPORT_DESCRIPTOR *d = (IMAGE_IMPORT_DESCRIPTOR *)(base + dir.VirtualAddress);

	for (; dir.VirtualAddress && d->Name; d++) {
		IMAGE_THUNK_DATA *names, *slots;

		if (_stricmp((const char *)base + d->Name, dll))
			continue;
		names = (IMAGE_THUNK_DATA *)(base + (d->OriginalFirstThunk ? d->OriginalFirstThunk : d->FirstThunk));
		slots = (IMAGE_THUNK_DATA *)(base + d->FirstThunk);
		for (; names->u1.AddressOfData; names++, slots++) {
			DWORD prot;

			if (IMAGE_SNAP_BY_ORDINAL(names->u1.Ordinal) ||
			    strcmp((const char *)((IMAGE_IMPORT_BY_NAME *)(base + names->u1.AddressOfData))->Name, name))
				continue;
			if (!VirtualProtect(&slots->u1.Function, sizeof(void *), PAGE_READWRITE, &prot))
				return false;
			*old = (void *)slots->u1.Function;
			slots->u1.Function = (ULONG_PTR)fn;
			VirtualProtect(&slots->u1.Function, sizeof(void *), prot, &prot);
			return true;
		}
	}
	return false;
}

static void frames(HDC dc, int n, LONG *b, LONG *s)
{
	LONG b0 = blits, s0 = transfers_from_host;

	for (int i = 0; i < n; i++) {
		gl.ClearColor(i & 1 ? 1.0f : 0.0f, 0, 1, 1);
		gl.Clear(GL_COLOR_BUFFER_BIT);
		SwapBuffers(dc);
	}
	*b = blits - b0;
	*s = transfers_from_host - s0;
}

static int mode_iconic(void)
{
	const int n = 8;
	HWND w;
	HDC dc;
	HGLRC rc = NULL;
	HMODULE icd;
	LONG vb, vs, ib, is, rb, rs;
	char why[256];

	if (!load_gl()) {
		result("load_opengl32", false, "cannot load opengl32.dll");
		return 1;
	}
	w = make_window(true);
	dc = w ? GetDC(w) : NULL;
	if (dc && set_format(dc, false))
		rc = gl.CreateContext(dc);
	if (!rc || !gl.MakeCurrent(dc, rc)) {
		result("context", false, "no pixel format or context");
		return 1;
	}
	icd = GetModuleHandleA("virgo_icd64.dll");
	result("hook_icd_imports",
	       icd && hook(icd, "gdi32.dll", "StretchDIBits", (void *)count_stretch, (void **)&real_stretch) &&
		       hook(icd, "ws2_32.dll", "send", (void *)count_send, (void **)&real_send),
	       "virgo_icd64.dll imports no gdi32!StretchDIBits or ws2_32!send");
	if (!real_stretch || !real_send)
		return 1;
	frames(dc, n, &vb, &vs);
	ShowWindow(w, SW_MINIMIZE);
	pump();
	result("minimised", IsIconic(w) != 0, "IsIconic is false after ShowWindow(SW_MINIMIZE)");
	frames(dc, n, &ib, &is);
	ShowWindow(w, SW_RESTORE);
	pump();
	frames(dc, n, &rb, &rs);
	printf("INFO %d frames each: visible %ld blits %ld read-backs; minimised %ld blits %ld read-backs; restored "
	       "%ld blits %ld read-backs\n",
	       n, vb, vs, ib, is, rb, rs);
	snprintf(why, sizeof(why), "visible frames made %ld blits (want %d)", vb, n);
	result("visible_frames_blitted", vb == n, why);
	snprintf(why, sizeof(why), "minimised frames made %ld blits (want 0)", ib);
	result("minimised_frames_not_blitted", ib == 0, why);
	snprintf(why, sizeof(why), "visible frames made %ld TRANSFER_FROM_HOST requests (want at least %d)", vs, n);
	result("visible_frames_read_back", vs >= n, why);
	snprintf(why, sizeof(why), "minimised frames made %ld TRANSFER_FROM_HOST requests (want 0)", is);
	result("minimised_frames_not_read_back", is == 0, why);
	snprintf(why, sizeof(why), "restored frames made %ld blits (want %d)", rb, n);
	result("restored_frames_blitted", rb == n, why);
	gl.MakeCurrent(NULL, NULL);
	gl.DeleteContext(rc);
	ReleaseDC(w, dc);
	DestroyWindow(w);
	return failures != 0;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";

	AddVectoredExceptionHandler(1, on_exception);
	if (!strcmp(mode, "unload"))
		return mode_unload();
	if (!strcmp(mode, "unload-used"))
		return mode_unload_used();
	if (!strcmp(mode, "renderer"))
		return mode_renderer();
	if (!strcmp(mode, "iconic"))
		return mode_iconic();
	fprintf(stderr, "usage: umd_checks unload|unload-used|renderer|iconic\n");
	return 2;
}

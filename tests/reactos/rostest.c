/* SPDX-License-Identifier: MIT */
/*
 * rostest.exe: what a Windows user's first hour with virgo does, run inside
 * a ReactOS guest on QEMU's virtio-gpu-gl by scripts/reactos/run.sh, after
 * virgo-install.exe installed the driver and registered the ICD.
 *
 *   rostest all DIR     every step below in order; DIR holds the programs
 *   rostest hog         a GL program that draws until it is killed (for "kill")
 *
 * Steps (each prints PASS/FAIL lines; INFO lines are for people):
 *   device      the driver's device interface opens; uAPI version, features,
 *               capsets (the device as the driver sees it)
 *   badptr      requests with bad user pointers (NULL page, kernel space)
 *               fail with EFAULT and the device keeps working: the driver's
 *               probes and exception frame on a real NT kernel
 *   info        virgo-info.exe --system: through ReactOS's opengl32
 *   gl          gl_checks.exe: a 4.3 core context through ReactOS's
 *               opengl32 and our ICD, exact pixels, SwapBuffers, a resize;
 *               it holds its last frame while the harness takes a
 *               screenshot of the VGA screen ("SHOT" line)
 *   concurrent  two gl_checks.exe at once, both pass
 *   kill        a process killed while drawing; the device's live resource
 *               and handle counts return to what they were before it
 *   pnp         the device disabled and enabled again (PnP stop/start
 *               through SetupAPI, as Device Manager does); it comes back
 *               started and a new gl_checks.exe passes
 *
 * Every line goes to stdout and to COM2, which QEMU writes to a file of the
 * harness's (COM1 carries the kernel's debug output). The last line is
 * "N passed, N failed".
 */
#include <windows.h>
#include <setupapi.h>
#include <cfgmgr32.h>
#include <GL/gl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <virgo/uapi.h>

#include "status.h"
#include "vtp.h"

static HANDLE com2 = INVALID_HANDLE_VALUE;
static int passed, failed;

static void out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void out(const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;
	DWORD w;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 2, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n > (int)sizeof(line) - 3)
		n = (int)sizeof(line) - 3;
	line[n++] = '\r';
	line[n++] = '\n';
	fwrite(line, 1, (size_t)n, stdout);
	fflush(stdout);
	if (com2 != INVALID_HANDLE_VALUE)
		WriteFile(com2, line, (DWORD)n, &w, NULL);
}

static void result(const char *name, bool ok, const char *why)
{
	if (ok) {
		passed++;
		out("PASS %s", name);
	} else {
		failed++;
		out("FAIL %s: %s", name, why);
	}
}

static void open_com2(void)
{
	DCB dcb = { .DCBlength = sizeof(dcb) };

	com2 = CreateFileA("\\\\.\\COM2", GENERIC_WRITE, 0, NULL, OPEN_EXISTING, 0, NULL);
	if (com2 == INVALID_HANDLE_VALUE)
		return;
	if (GetCommState(com2, &dcb)) {
		dcb.BaudRate = CBR_115200;
		dcb.ByteSize = 8;
		dcb.Parity = NOPARITY;
		dcb.StopBits = ONESTOPBIT;
		SetCommState(com2, &dcb);
	}
}

/* ---- the device through the uAPI ---- */

static int param(struct vtp *t, uint64_t p, uint64_t *v)
{
	struct virgo_get_param g = { .param = p };
	int ret = vtp_ioctl(t, VIRGO_OP_GET_PARAM, &g);

	*v = g.value;
	return ret;
}

static void step_device(void)
{
	static const struct {
		uint64_t p;
		const char *name;
	} params[] = {
		{ VIRGO_PARAM_UAPI_VERSION, "uapi_version" },
		{ VIRGO_PARAM_3D_FEATURES, "3d_features" },
		{ VIRGO_PARAM_RESOURCE_BLOB, "resource_blob" },
		{ VIRGO_PARAM_HOST_VISIBLE, "host_visible" },
		{ VIRGO_PARAM_HOST_VISIBLE_SIZE, "host_visible_size" },
		{ VIRGO_PARAM_CONTEXT_INIT, "context_init" },
		{ VIRGO_PARAM_SUPPORTED_CAPSET_IDS, "capset_ids" },
		{ VIRGO_PARAM_NUM_SCANOUTS, "num_scanouts" },
	};
	struct vtp *t = NULL;
	uint64_t v = 0, ids = 0;
	char why[256] = "";
	int ret = vtp_open(NULL, &t);

	if (ret) {
		snprintf(why, sizeof(why), "vtp_open = %d (%s)", ret, virgo_strerror(ret));
		result("device", false, why);
		return;
	}
	for (size_t i = 0; i < sizeof(params) / sizeof(params[0]); i++) {
		ret = param(t, params[i].p, &v);
		if (ret)
			out("INFO %s: error %d", params[i].name, ret);
		else
			out("INFO %s: %llu (%#llx)", params[i].name, (unsigned long long)v, (unsigned long long)v);
		if (params[i].p == VIRGO_PARAM_SUPPORTED_CAPSET_IDS && !ret)
			ids = v;
		if (params[i].p == VIRGO_PARAM_UAPI_VERSION && (ret || v != VIRGO_UAPI_VERSION))
			snprintf(why, sizeof(why), "uAPI version %llu, want %u", (unsigned long long)v, VIRGO_UAPI_VERSION);
	}
	for (uint32_t id = 1; id < 64; id++) {
		uint8_t caps[4096];
		struct virgo_get_caps c = { .cap_set_id = id, .cap_set_ver = 0, .addr = (uintptr_t)caps,
					    .size = sizeof(caps) };

		if (!(ids & (1ull << id)))
			continue;
		ret = vtp_ioctl(t, VIRGO_OP_GET_CAPS, &c);
		out("INFO capset %u: %s, %u bytes", id, ret ? virgo_strerror(ret) : "read", c.copied);
		if (ret && !why[0])
			snprintf(why, sizeof(why), "capset %u: %s", id, virgo_strerror(ret));
	}
	if (!ids && !why[0])
		snprintf(why, sizeof(why), "the device offers no capset (no VIRGL?)");
	vtp_close(t);
	result("device", !why[0], why);
}

/* A bad address must come back as EFAULT from the driver's probe or its
 * exception frame, and nothing may change: the next good request works. */
static void step_badptr(void)
{
	static const uint64_t bad[] = { 0x10, 0x80000000u, 0xfffff000u };
	struct vtp *t = NULL;
	char why[256] = "";
	uint64_t v;
	uint32_t words[16] = { 0 };

	if (vtp_open(NULL, &t)) {
		result("badptr", false, "the device did not open");
		return;
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct virgo_get_caps c = { .cap_set_id = 1, .addr = bad[i], .size = 64 };
		struct virgo_execbuffer e = { .size = sizeof(words), .command = bad[i] };
		int r1 = vtp_ioctl(t, VIRGO_OP_GET_CAPS, &c);
		int r2 = vtp_ioctl(t, VIRGO_OP_EXECBUFFER, &e);

		out("INFO address %#llx: GET_CAPS %d, EXECBUFFER %d", (unsigned long long)bad[i], r1, r2);
		if (r1 != -VIRGO_EFAULT || r2 != -VIRGO_EFAULT)
			snprintf(why, sizeof(why), "address %#llx: GET_CAPS %d, EXECBUFFER %d (want %d)",
				 (unsigned long long)bad[i], r1, r2, -VIRGO_EFAULT);
	}
	if (param(t, VIRGO_PARAM_UAPI_VERSION, &v) || v != VIRGO_UAPI_VERSION)
		snprintf(why, sizeof(why), "GET_PARAM after the bad requests failed");
	(void)words;
	vtp_close(t);
	result("badptr", !why[0], why);
}

static bool counters(uint64_t *res, uint64_t *handles)
{
	struct vtp *t = NULL;
	bool ok;

	if (vtp_open(NULL, &t))
		return false;
	ok = !param(t, VIRGO_PARAM_LIVE_RESOURCES, res) && !param(t, VIRGO_PARAM_LIVE_HANDLES, handles);
	vtp_close(t);
	return ok;
}

/* ---- child processes ---- */

struct child {
	PROCESS_INFORMATION pi;
	HANDLE out;       /* read end of its stdout */
	char tag[32];
};

static bool spawn(struct child *c, const char *tag, const char *cmdline)
{
	SECURITY_ATTRIBUTES sa = { sizeof(sa), NULL, TRUE };
	STARTUPINFOA si = { .cb = sizeof(si) };
	HANDLE wr;
	char *cl = _strdup(cmdline);
	bool ok;

	memset(c, 0, sizeof(*c));
	snprintf(c->tag, sizeof(c->tag), "%s", tag);
	if (!cl || !CreatePipe(&c->out, &wr, &sa, 0)) {
		free(cl);
		return false;
	}
	SetHandleInformation(c->out, HANDLE_FLAG_INHERIT, 0);
	si.dwFlags = STARTF_USESTDHANDLES;
	si.hStdOutput = wr;
	si.hStdError = wr;
	si.hStdInput = GetStdHandle(STD_INPUT_HANDLE);
	ok = CreateProcessA(NULL, cl, NULL, NULL, TRUE, 0, NULL, NULL, &si, &c->pi);
	CloseHandle(wr);
	free(cl);
	if (!ok) {
		out("INFO %s: CreateProcess(%s) failed: %lu", tag, cmdline, GetLastError());
		CloseHandle(c->out);
	}
	return ok;
}

/* Forwards the child's complete lines, prefixed by its tag; returns
 * whether a line containing `want` went by (want NULL: none). */
static bool pump_lines(struct child *c, char *buf, size_t *len, size_t cap, const char *want)
{
	DWORD avail = 0, got = 0;
	bool seen = false;

	while (PeekNamedPipe(c->out, NULL, 0, NULL, &avail, NULL) && avail > 0) {
		DWORD room = (DWORD)(cap - 1 - *len);

		if (room == 0) {
			*len = 0;
			room = (DWORD)(cap - 1);
		}
		if (!ReadFile(c->out, buf + *len, avail < room ? avail : room, &got, NULL) || got == 0)
			break;
		*len += got;
		buf[*len] = 0;
		for (char *nl; (nl = strchr(buf, '\n'));) {
			*nl = 0;
			if (nl > buf && nl[-1] == '\r')
				nl[-1] = 0;
			out("%s: %s", c->tag, buf);
			if (want && strstr(buf, want))
				seen = true;
			memmove(buf, nl + 1, *len - (size_t)(nl + 1 - buf) + 1);
			*len -= (size_t)(nl + 1 - buf);
		}
	}
	return seen;
}

/* Waits up to ms for the child, forwarding its output; its exit code, or
 * -1 on timeout (it is then killed). `on_line` is printed once when a line
 * containing `want` appears (the harness's cue). */
static long wait_child(struct child *c, DWORD ms, const char *want, const char *cue)
{
	char buf[4096];
	size_t len = 0;
	DWORD t0 = GetTickCount(), code = 0;
	bool cued = false;

	for (;;) {
		DWORD w = WaitForSingleObject(c->pi.hProcess, 50);

		if (pump_lines(c, buf, &len, sizeof(buf), want) && cue && !cued) {
			out("%s", cue);
			cued = true;
		}
		if (w == WAIT_OBJECT_0)
			break;
		if (GetTickCount() - t0 > ms) {
			out("INFO %s: still running after %lu ms: killed", c->tag, (unsigned long)ms);
			TerminateProcess(c->pi.hProcess, 99);
			WaitForSingleObject(c->pi.hProcess, 5000);
			code = (DWORD)-1;
			break;
		}
	}
	pump_lines(c, buf, &len, sizeof(buf), NULL);
	if (len)
		out("%s: %s", c->tag, buf);
	if (code != (DWORD)-1)
		GetExitCodeProcess(c->pi.hProcess, &code);
	CloseHandle(c->pi.hProcess);
	CloseHandle(c->pi.hThread);
	CloseHandle(c->out);
	return code == (DWORD)-1 ? -1 : (long)code;
}

static void step_program(const char *name, const char *dir, const char *args, DWORD ms, const char *want,
			 const char *cue)
{
	char cmd[MAX_PATH * 2], why[128];
	struct child c;
	long code;

	snprintf(cmd, sizeof(cmd), "\"%s\\%s\" %s", dir, name, args);
	if (!spawn(&c, name, cmd)) {
		result(name, false, "could not start");
		return;
	}
	code = wait_child(&c, ms, want, cue);
	snprintf(why, sizeof(why), "exit code %ld", code);
	result(name, code == 0, why);
}

static void step_concurrent(const char *dir)
{
	char cmd[MAX_PATH * 2], why[128] = "";
	struct child c[2];
	long code[2];

	for (int i = 0; i < 2; i++) {
		snprintf(cmd, sizeof(cmd), "\"%s\\gl_checks.exe\"", dir);
		if (!spawn(&c[i], i ? "gl_checks#2" : "gl_checks#1", cmd)) {
			result("concurrent", false, "could not start two programs");
			if (i)
				TerminateProcess(c[0].pi.hProcess, 99);
			return;
		}
	}
	/* Both run together: their outputs interleave; each is drained in
	 * turn while both live. */
	code[0] = wait_child(&c[0], 600000, NULL, NULL);
	code[1] = wait_child(&c[1], 600000, NULL, NULL);
	if (code[0] != 0 || code[1] != 0)
		snprintf(why, sizeof(why), "exit codes %ld and %ld", code[0], code[1]);
	result("concurrent", !why[0], why);
}

static void step_kill(const char *self)
{
	uint64_t r0 = 0, h0 = 0, r1 = 0, h1 = 0, r2 = 0, h2 = 0;
	char cmd[MAX_PATH + 16], why[256] = "", buf[4096];
	size_t len = 0;
	struct child c;
	bool drawing = false;
	DWORD t0;

	if (!counters(&r0, &h0)) {
		result("kill", false, "the device did not answer GET_PARAM");
		return;
	}
	out("INFO before: %llu live resources, %llu handles (this one included)", (unsigned long long)r0,
	    (unsigned long long)h0);
	snprintf(cmd, sizeof(cmd), "\"%s\" hog", self);
	if (!spawn(&c, "hog", cmd)) {
		result("kill", false, "could not start the drawing process");
		return;
	}
	for (t0 = GetTickCount(); GetTickCount() - t0 < 300000 && !drawing;) {
		drawing = pump_lines(&c, buf, &len, sizeof(buf), "HOG drawing");
		if (WaitForSingleObject(c.pi.hProcess, 50) == WAIT_OBJECT_0)
			break;
	}
	if (drawing) {
		counters(&r1, &h1);
		out("INFO while drawing: %llu live resources, %llu handles", (unsigned long long)r1,
		    (unsigned long long)h1);
		Sleep(500); /* frames in flight */
		TerminateProcess(c.pi.hProcess, 9);
		WaitForSingleObject(c.pi.hProcess, 30000);
	} else {
		snprintf(why, sizeof(why), "the drawing process never drew");
		TerminateProcess(c.pi.hProcess, 9);
	}
	CloseHandle(c.pi.hProcess);
	CloseHandle(c.pi.hThread);
	CloseHandle(c.out);
	/* The handle's cleanup runs as the process object goes: give it a
	 * moment, bounded. */
	for (t0 = GetTickCount(); GetTickCount() - t0 < 20000; Sleep(250))
		if (counters(&r2, &h2) && r2 == r0 && h2 == h0)
			break;
	out("INFO after the kill: %llu live resources, %llu handles", (unsigned long long)r2, (unsigned long long)h2);
	if (!why[0] && r1 <= r0)
		snprintf(why, sizeof(why), "the drawing process held no resources (%llu, before %llu)",
			 (unsigned long long)r1, (unsigned long long)r0);
	if (!why[0] && (r2 != r0 || h2 != h0))
		snprintf(why, sizeof(why), "after: %llu resources / %llu handles, before %llu / %llu",
			 (unsigned long long)r2, (unsigned long long)h2, (unsigned long long)r0, (unsigned long long)h0);
	result("kill", !why[0], why);
}

/* ---- PnP stop/start ---- */

static bool find_device(HDEVINFO *set, SP_DEVINFO_DATA *dev)
{
	*set = SetupDiGetClassDevsA(NULL, "PCI", NULL, DIGCF_ALLCLASSES | DIGCF_PRESENT);
	if (*set == INVALID_HANDLE_VALUE)
		return false;
	for (DWORD i = 0;; i++) {
		char ids[2048];

		dev->cbSize = sizeof(*dev);
		if (!SetupDiEnumDeviceInfo(*set, i, dev))
			break;
		memset(ids, 0, sizeof(ids));
		if (!SetupDiGetDeviceRegistryPropertyA(*set, dev, SPDRP_HARDWAREID, NULL, (BYTE *)ids, sizeof(ids) - 2,
						       NULL))
			continue;
		for (const char *p = ids; *p; p += strlen(p) + 1)
			if (!_strnicmp(p, "PCI\\VEN_1AF4&DEV_1050", 21))
				return true;
	}
	SetupDiDestroyDeviceInfoList(*set);
	return false;
}

static bool set_state(HDEVINFO set, SP_DEVINFO_DATA *dev, DWORD state)
{
	SP_PROPCHANGE_PARAMS p = { 0 };

	p.ClassInstallHeader.cbSize = sizeof(p.ClassInstallHeader);
	p.ClassInstallHeader.InstallFunction = DIF_PROPERTYCHANGE;
	p.StateChange = state;
	p.Scope = DICS_FLAG_GLOBAL;
	return SetupDiSetClassInstallParamsA(set, dev, &p.ClassInstallHeader, sizeof(p)) &&
	       SetupDiCallClassInstaller(DIF_PROPERTYCHANGE, set, dev);
}

static void devnode_status(SP_DEVINFO_DATA *dev, ULONG *status, ULONG *problem)
{
	*status = *problem = 0;
	CM_Get_DevNode_Status(status, problem, dev->DevInst, 0);
}

static void step_pnp(const char *dir)
{
	HDEVINFO set;
	SP_DEVINFO_DATA dev;
	ULONG st, pr;
	char why[256] = "";
	uint64_t v;
	struct vtp *t = NULL;

	if (!find_device(&set, &dev)) {
		result("pnp", false, "no PCI\\VEN_1AF4&DEV_1050 device found through SetupAPI");
		return;
	}
	devnode_status(&dev, &st, &pr);
	out("INFO before: status %#lx problem %lu", st, pr);
	if (!set_state(set, &dev, DICS_DISABLE))
		snprintf(why, sizeof(why), "DICS_DISABLE failed: %lu", GetLastError());
	devnode_status(&dev, &st, &pr);
	out("INFO disabled: status %#lx problem %lu", st, pr);
	if (!why[0] && !vtp_open(NULL, &t)) {
		vtp_close(t);
		snprintf(why, sizeof(why), "the device still opens while disabled");
	}
	if (!set_state(set, &dev, DICS_ENABLE) && !why[0])
		snprintf(why, sizeof(why), "DICS_ENABLE failed: %lu", GetLastError());
	Sleep(2000);
	devnode_status(&dev, &st, &pr);
	out("INFO enabled again: status %#lx problem %lu", st, pr);
	SetupDiDestroyDeviceInfoList(set);
	if (!why[0] && (pr != 0 || !(st & DN_STARTED)))
		snprintf(why, sizeof(why), "not started again (status %#lx, problem %lu)", st, pr);
	if (!why[0]) {
		if (vtp_open(NULL, &t) || param(t, VIRGO_PARAM_UAPI_VERSION, &v))
			snprintf(why, sizeof(why), "the device does not answer after the restart");
		if (t)
			vtp_close(t);
	}
	result("pnp", !why[0], why);
	if (!why[0])
		step_program("gl_checks.exe", dir, "", 600000, NULL, NULL);
}

/* ---- hog: a GL program that draws until it is killed ---- */

static int hog(void)
{
	HDC dc;
	HWND wnd;
	HGLRC rc;
	PIXELFORMATDESCRIPTOR pfd = { .nSize = sizeof(pfd), .nVersion = 1,
				      .dwFlags = PFD_DRAW_TO_WINDOW | PFD_SUPPORT_OPENGL | PFD_DOUBLEBUFFER,
				      .iPixelType = PFD_TYPE_RGBA, .cColorBits = 32, .cDepthBits = 24 };
	int pf;

	wnd = CreateWindowA("STATIC", "virgo hog", WS_OVERLAPPEDWINDOW | WS_VISIBLE, 400, 300, 256, 256, NULL, NULL,
			    GetModuleHandleA(NULL), NULL);
	dc = wnd ? GetDC(wnd) : NULL;
	pf = dc ? ChoosePixelFormat(dc, &pfd) : 0;
	if (!pf || !SetPixelFormat(dc, pf, &pfd) || !(rc = wglCreateContext(dc)) || !wglMakeCurrent(dc, rc)) {
		printf("HOG no context (%lu)\n", GetLastError());
		return 1;
	}
	printf("HOG renderer %s\n", (const char *)glGetString(GL_RENDERER));
	for (unsigned frame = 0;; frame++) {
		MSG m;

		while (PeekMessageA(&m, NULL, 0, 0, PM_REMOVE))
			DispatchMessageA(&m);
		glClearColor((frame & 255) / 255.0f, 0.5f, 0.25f, 1.0f);
		glClear(GL_COLOR_BUFFER_BIT);
		glBegin(GL_TRIANGLES);
		for (int i = 0; i < 300; i++) {
			glVertex2f(-1.0f, -1.0f + i / 150.0f);
			glVertex2f(1.0f, -1.0f);
			glVertex2f(0.0f, 1.0f);
		}
		glEnd();
		SwapBuffers(dc);
		if (frame == 20)
			printf("HOG drawing\n");
		fflush(stdout);
	}
}

int main(int argc, char **argv)
{
	char self[MAX_PATH];

	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc >= 2 && !strcmp(argv[1], "hog"))
		return hog();
	if (argc < 3 || strcmp(argv[1], "all")) {
		fprintf(stderr, "usage: rostest all DIR | rostest hog\n");
		return 2;
	}
	GetModuleFileNameA(NULL, self, sizeof(self));
	SetEnvironmentVariableA("VIRGO_EXPECT_RENDERER", "virgo (");
	open_com2();
	out("BEGIN rostest");
	step_device();
	step_badptr();
	step_program("virgo-info.exe", argv[2], "--system", 300000, NULL, NULL);
	/* gl_checks holds its last frame for the screenshot: the harness
	 * takes it when it sees SHOT. */
	step_program("gl_checks.exe", argv[2], "--hold-ms 20000", 900000, "HOLD", "SHOT");
	step_concurrent(argv[2]);
	step_kill(self);
	step_pnp(argv[2]);
	out("%d passed, %d failed", passed, failed);
	if (com2 != INVALID_HANDLE_VALUE)
		CloseHandle(com2);
	return failed != 0;
}

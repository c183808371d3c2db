/* SPDX-License-Identifier: MIT */
/*
 * virgo-install.exe: installs or removes virgo on a Windows 10+ x64 VM: the
 * test certificate, the kernel driver package (virgo.sys, virgo.inf,
 * virgo.cat) and the OpenGL ICD (virgo_icd64.dll, registered system-wide).
 * install.cmd runs it from the package folder, as Administrator.
 *
 *   virgo-install                  check, then certificate, driver, ICD
 *   virgo-install -ReplaceDriver   also when another driver (virtio-win's
 *                                  viogpudo) runs the device: virgo is put
 *                                  on it by force
 *   virgo-install -Force           also when another OpenGL driver holds the
 *                                  MSOGL registration (saved, and put back
 *                                  by -Uninstall)
 *   virgo-install -Uninstall       remove all three again
 *
 * It says "installed" only when the device runs virgo.sys. Before changing
 * anything it checks what would make the install useless, and stops with
 * what to do: test signing off or pending a restart, Secure Boot on, no
 * render-only virtio-gpu (virtio-gpu-gl-pci) in the VM, the device run by
 * another driver without -ReplaceDriver, someone else's MSOGL registration
 * without -Force. After pnputil it checks which driver the device runs and
 * whether it started, and forces virgo on it where -ReplaceDriver asked.
 * A GALLIUM_DRIVER variable (mesa-dist-win's guides set it system-wide) is
 * reported: virgo's ICD ignores names it does not have, other Mesa builds
 * do not.
 *
 * NEVER RUN ON WINDOWS. Written from Microsoft's documentation (PnPUtil's
 * exit codes, UpdateDriverForPlugAndPlayDevices, the OpenGL ICD registry).
 * Under Wine (tests/win/install-check.sh) all of it runs except what only
 * Windows can answer (install.h): those answers come from a test double.
 *
 * The ICD registration. Windows' opengl32.dll asks the display adapter's
 * driver which ICD to load; a VM's desktop adapter (Microsoft Basic Display
 * Adapter) names none, and opengl32 then falls back to
 *   HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion\OpenGLDrivers\MSOGL
 * with DLL (REG_SZ, loaded from System32), DriverVersion, Flags and Version
 * (REG_DWORD), the way Mesa documents a system-wide install
 * (docs/drivers/llvmpipe.rst, "Windows": DriverVersion 1, Flags 1, Version
 * 2). Flags: Microsoft documents the bits for the display driver's
 * OpenGLFlags ("Loading an OpenGL Installable Client Driver", Windows
 * Driver Kit): bit 0 "is set for compatibility"; with bit 1 "the OpenGL
 * runtime does not call the ICD's finish function before the runtime calls
 * the ICD's swap-buffers function". Nothing Microsoft publishes says which
 * bits the MSOGL fallback honours (ReactOS's opengl32 reads Flags and uses
 * none). virgo writes 3: if bit 1 is honoured, each SwapBuffers saves a
 * glFinish, i.e. a round trip to the host and a wait for the GPU, which
 * DrvSwapBuffers does not need (it flushes and reads the frame back
 * itself); if it is not, nothing changes. Only a 64-bit ICD exists: nothing
 * goes to SysWOW64 or WOW6432Node, and 32-bit programs keep Windows' own
 * OpenGL.
 */
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#include <wincrypt.h>

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "install.h"

#define MSOGL_KEY  L"SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\OpenGLDrivers\\MSOGL"
#define MSOGL_TEXT "HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\OpenGLDrivers\\MSOGL"
#define BACKUP_KEY L"SOFTWARE\\virgo\\MSOGL-before-virgo"
#define VIRGO_KEY  L"SOFTWARE\\virgo"
#define ICD_NAME   L"virgo_icd64.dll"
#define ICD_FLAGS  3u /* bit 0: compatibility; bit 1: no finish before swap (above) */

#define EXIT_FAILED 1
#define EXIT_USAGE  2

static struct {
	bool uninstall, force, replace_driver;
} opt;

static wchar_t here[MAX_PATH];     /* the package folder */
static wchar_t inf_path[MAX_PATH];

/* ---- output ------------------------------------------------------------------ */

static void step(const char *fmt, ...)
{
	va_list ap;

	printf("virgo: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static void warn(const char *fmt, ...)
{
	va_list ap;

	printf("virgo: WARNING: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

/* The one error that ends the run, on stderr, after what was done so far. */
static int fail(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "virgo: ERROR: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	fflush(stderr);
	return EXIT_FAILED;
}

/* ---- files ------------------------------------------------------------------- */

static void in_here(wchar_t *out, const wchar_t *name)
{
	_snwprintf(out, MAX_PATH, L"%ls\\%ls", here, name);
	out[MAX_PATH - 1] = 0;
}

static bool exists(const wchar_t *path)
{
	return GetFileAttributesW(path) != INVALID_FILE_ATTRIBUTES;
}

static void icd_target(wchar_t *out)
{
	wchar_t sys[MAX_PATH];

	/* A 64-bit process: this is System32, not SysWOW64. */
	if (!GetSystemDirectoryW(sys, MAX_PATH))
		wcscpy(sys, L"C:\\Windows\\System32");
	_snwprintf(out, MAX_PATH, L"%ls\\%ls", sys, ICD_NAME);
	out[MAX_PATH - 1] = 0;
}

/* ---- the certificate --------------------------------------------------------- */

static PCCERT_CONTEXT load_cert(void)
{
	wchar_t path[MAX_PATH];
	BYTE *der = NULL;
	DWORD size, got = 0;
	PCCERT_CONTEXT c = NULL;
	HANDLE f;

	in_here(path, L"virgo-test.cer");
	f = CreateFileW(path, GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING, 0, NULL);
	if (f == INVALID_HANDLE_VALUE)
		return NULL;
	size = GetFileSize(f, NULL);
	if (size != INVALID_FILE_SIZE && size < (1u << 20))
		der = malloc(size ? size : 1);
	if (der && ReadFile(f, der, size, &got, NULL) && got == size)
		c = CertCreateCertificateContext(X509_ASN_ENCODING | PKCS_7_ASN_ENCODING, der, size);
	free(der);
	CloseHandle(f);
	return c;
}

static void thumbprint(PCCERT_CONTEXT c, BYTE sha1[20], char hex[41])
{
	DWORD n = 20;

	memset(sha1, 0, 20);
	CertGetCertificateContextProperty(c, CERT_SHA1_HASH_PROP_ID, sha1, &n);
	for (int i = 0; i < 20; i++)
		sprintf(hex + 2 * i, "%02X", sha1[i]);
}

static HCERTSTORE machine_store(const wchar_t *name)
{
	/* The machine's registry store itself (HKLM\SOFTWARE\Microsoft\
	 * SystemCertificates\NAME), not the system store's collection: a delete
	 * through a collection may not reach the registry (it did not under Wine). */
	return CertOpenStore(CERT_STORE_PROV_SYSTEM_REGISTRY_W, 0, 0, CERT_SYSTEM_STORE_LOCAL_MACHINE, name);
}

/* ---- the registry ------------------------------------------------------------ */

/* The DLL value of MSOGL into dll (empty when the key or value is absent). */
static void msogl_dll(wchar_t *dll, DWORD chars)
{
	DWORD size = chars * sizeof(wchar_t), type = 0;

	dll[0] = 0;
	if (RegGetValueW(HKEY_LOCAL_MACHINE, MSOGL_KEY, L"DLL", RRF_RT_REG_SZ | RRF_SUBKEY_WOW6464KEY, &type, dll,
			 &size) != ERROR_SUCCESS)
		dll[0] = 0;
}

/* Ours: the bare file name, or a path ending in it. */
static bool is_our_dll(const wchar_t *dll)
{
	const wchar_t *base = wcsrchr(dll, L'\\');

	base = base ? base + 1 : dll;
	return *dll && !_wcsicmp(base, ICD_NAME);
}

static bool key_exists(const wchar_t *key)
{
	HKEY k;

	if (RegOpenKeyExW(HKEY_LOCAL_MACHINE, key, 0, KEY_READ | KEY_WOW64_64KEY, &k) != ERROR_SUCCESS)
		return false;
	RegCloseKey(k);
	return true;
}

static LONG set_dword(HKEY k, const wchar_t *name, DWORD v)
{
	return RegSetValueExW(k, name, 0, REG_DWORD, (const BYTE *)&v, sizeof(v));
}

/* A copy of key src as dst (made fresh). */
static LONG copy_key(const wchar_t *src, const wchar_t *dst)
{
	HKEY s, d;
	LONG e;

	e = RegOpenKeyExW(HKEY_LOCAL_MACHINE, src, 0, KEY_READ | KEY_WOW64_64KEY, &s);
	if (e)
		return e;
	RegDeleteTreeW(HKEY_LOCAL_MACHINE, dst);
	e = RegCreateKeyExW(HKEY_LOCAL_MACHINE, dst, 0, NULL, 0, KEY_ALL_ACCESS | KEY_WOW64_64KEY, NULL, &d, NULL);
	if (!e) {
		e = RegCopyTreeW(s, NULL, d);
		RegCloseKey(d);
	}
	RegCloseKey(s);
	return e;
}

/* GALLIUM_DRIVER where Windows keeps environment variables: the machine's
 * (what mesa-dist-win's system-wide guide sets), the user's, and this
 * process's (which is what programs started like this one get). */
static void report_gallium_driver(void)
{
	static const struct {
		HKEY root;
		const wchar_t *key;
		const char *where, *how;
	} places[] = {
		{ HKEY_LOCAL_MACHINE, L"SYSTEM\\CurrentControlSet\\Control\\Session Manager\\Environment", "system-wide",
		  "reg delete \"HKLM\\SYSTEM\\CurrentControlSet\\Control\\Session Manager\\Environment\" /v "
		  "GALLIUM_DRIVER /f" },
		{ HKEY_CURRENT_USER, L"Environment", "for this user", "reg delete HKCU\\Environment /v GALLIUM_DRIVER /f" },
	};
	wchar_t v[256];
	bool reported = false;

	for (size_t i = 0; i < sizeof(places) / sizeof(places[0]); i++) {
		DWORD size = sizeof(v);

		if (RegGetValueW(places[i].root, places[i].key, L"GALLIUM_DRIVER",
				 RRF_RT_REG_SZ | RRF_RT_REG_EXPAND_SZ | RRF_NOEXPAND,
				 NULL, v, &size) == ERROR_SUCCESS && v[0]) {
			warn("GALLIUM_DRIVER=%ls is set %s. virgo's OpenGL driver ignores a name it does not have, "
			     "but another Mesa you install would take it: remove it unless something needs it (%s)",
			     v, places[i].where, places[i].how);
			reported = true;
		}
	}
	if (!reported && GetEnvironmentVariableW(L"GALLIUM_DRIVER", v, 256) && v[0])
		warn("GALLIUM_DRIVER=%ls is set in this command prompt's environment. virgo's OpenGL driver ignores "
		     "a name it does not have; remove it unless something needs it",
		     v);
}

/* ---- checks ------------------------------------------------------------------ */

static bool is_admin(void)
{
	SID_IDENTIFIER_AUTHORITY nt = SECURITY_NT_AUTHORITY;
	PSID admins = NULL;
	BOOL member = FALSE;

	if (!AllocateAndInitializeSid(&nt, 2, SECURITY_BUILTIN_DOMAIN_RID, DOMAIN_ALIAS_RID_ADMINS, 0, 0, 0, 0, 0, 0,
				      &admins))
		return false;
	if (!CheckTokenMembership(NULL, admins, &member))
		member = FALSE;
	FreeSid(admins);
	return member;
}

static bool secure_boot_on(void)
{
	DWORD v = 0, size = sizeof(v);

	return RegGetValueW(HKEY_LOCAL_MACHINE, L"SYSTEM\\CurrentControlSet\\Control\\SecureBoot\\State",
			    L"UEFISecureBootEnabled", RRF_RT_REG_DWORD, NULL, &v, &size) == ERROR_SUCCESS &&
	       v != 0;
}

/* Windows loads a test-signed driver only while test signing is on, which
 * Secure Boot forbids: each way to be off gets its own way out. */
static int check_test_signing(void)
{
	if (install_ops.testsign_active() == 1) {
		step("test signing is on: Windows will load the test-signed virgo.sys");
		return 0;
	}
	if (secure_boot_on())
		return fail("Secure Boot is on in this VM's firmware, and with it Windows loads no test-signed "
			    "driver (virgo.sys would get Code 52 and programs would get Windows' OpenGL 1.1). Turn "
			    "Secure Boot off in the VM's firmware settings (OVMF: Device Manager > Secure Boot "
			    "Configuration), start Windows, run \"bcdedit /set testsigning on\", restart, and run "
			    "install.cmd again. Nothing was changed.");
	if (install_ops.testsign_configured() == 1)
		return fail("test signing is switched on for the next start but not yet active: restart Windows "
			    "and run install.cmd again. Nothing was changed.");
	return fail("test signing is off, so Windows would refuse the test-signed virgo.sys (Code 52) and programs "
		    "would get Windows' OpenGL 1.1. From an Administrator prompt run \"bcdedit /set testsigning on\", "
		    "restart, and run install.cmd again (Secure Boot must be off in the VM's firmware). Nothing "
		    "was changed.");
}

/* ---- install ----------------------------------------------------------------- */

static int list_render(struct vtp_devnode *nodes, int *count, const struct vtp_devnode **r)
{
	*count = install_ops.list_devices(nodes, VTP_DEVNODES_MAX);
	*r = *count > 0 ? vtp_render_devnode(nodes, *count) : NULL;
	return *count;
}

static bool runs_virgo(const struct vtp_devnode *r)
{
	return r && vtp_same_name(r->service, "virgo");
}

static int do_install(void)
{
	wchar_t path[MAX_PATH], dll[MAX_PATH], dst[MAX_PATH];
	struct vtp_devnode nodes[VTP_DEVNODES_MAX];
	const struct vtp_devnode *r;
	char why[512], hex[41];
	BYTE sha1[20];
	PCCERT_CONTEXT cert;
	bool reboot = false;
	int count, rc;
	HKEY k;
	LONG e;

	static const wchar_t *const parts[] = { L"virgo.sys", L"virgo.cat", L"virgo.inf", L"virgo-test.cer", ICD_NAME };
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		in_here(path, parts[i]);
		if (!exists(path))
			return fail("%ls is missing: the package is incomplete (run install.cmd from the virgo package "
				    "folder)",
				    path);
	}

	/* ---- what would make the install useless, before anything changes ---- */
	msogl_dll(dll, MAX_PATH);
	if (dll[0] && !is_our_dll(dll) && !opt.force)
		return fail(MSOGL_TEXT " already names %ls (another OpenGL driver). Remove that first, or run "
			    "\"install.cmd -Force\" to replace it (it is saved and put back by -Uninstall). Nothing was "
			    "changed.",
			    dll);
	rc = check_test_signing();
	if (rc)
		return rc;
	if (list_render(nodes, &count, &r) < 0) {
		warn("Windows' device list could not be read: which driver runs the device is not checked");
	} else if (!r) {
		vtp_explain_devnodes(nodes, count, why, sizeof(why));
		return fail("%s. Nothing was changed.", why);
	} else if (r->service[0] && !runs_virgo(r) && !opt.replace_driver) {
		return fail("the virtio-gpu-gl-pci device %s runs the driver '%s'%s, which ranks above virgo's "
			    "test-signed package, so installing virgo would leave it there. Run \"install.cmd "
			    "-ReplaceDriver\" to put virgo on the device instead (-Uninstall gives it back to Windows' "
			    "choice). Nothing was changed.",
			    r->id, r->service,
			    vtp_same_name(r->service, "viogpudo") ? " (virtio-win's display driver)" : "");
	} else {
		step("device: %s, %s", r->id,
		     runs_virgo(r) ? "already runs virgo" : r->service[0] ? "runs another driver" : "has no driver yet");
	}

	/* 1. Root: the signature chains to a trusted root. TrustedPublisher:
	 *    Windows installs the package without asking whether to trust its
	 *    publisher. */
	cert = load_cert();
	if (!cert)
		return fail("cannot read the certificate virgo-test.cer (Win32 error %lu)", GetLastError());
	thumbprint(cert, sha1, hex);
	static const wchar_t *const stores[] = { L"Root", L"TrustedPublisher" };
	for (int i = 0; i < 2; i++) {
		HCERTSTORE s = machine_store(stores[i]);

		step("importing the test certificate %s into LocalMachine\\%ls", hex, stores[i]);
		if (!s || !CertAddCertificateContextToStore(s, cert, CERT_STORE_ADD_REPLACE_EXISTING, NULL)) {
			DWORD err = GetLastError();

			if (s)
				CertCloseStore(s, 0);
			CertFreeCertificateContext(cert);
			return fail("cannot add the certificate to LocalMachine\\%ls (Win32 error %lu)", stores[i], err);
		}
		CertCloseStore(s, 0);
	}
	CertFreeCertificateContext(cert);

	/* 2. The driver package into the driver store, and onto the device
	 *    where Windows ranks it best. PnPUtil's documented exit codes: 0;
	 *    3010 done, restart needed; 259 (ERROR_NO_MORE_ITEMS) "no devices
	 *    match ... or the target device is already using a better or
	 *    newer driver": the package is in the store all the same, and
	 *    what the device runs is checked next, not assumed. */
	step("installing the driver package: pnputil /add-driver virgo.inf /install");
	{
		wchar_t args[MAX_PATH + 32];

		_snwprintf(args, MAX_PATH + 32, L"/add-driver \"%ls\" /install", inf_path);
		args[MAX_PATH + 31] = 0;
		rc = install_ops.pnputil(args);
	}
	if (rc == 3010) {
		reboot = true;
	} else if (rc == 259) {
		step("pnputil put the package on no device (the device runs it already, or Windows ranks another "
		     "driver higher): checking which driver the device runs");
	} else if (rc != 0) {
		return fail("pnputil /add-driver failed (exit status %d; %%windir%%\\inf\\setupapi.dev.log says why)",
			    rc);
	}

	/* 3. Which driver runs the device now. */
	if (count >= 0) {
		list_render(nodes, &count, &r);
		if (r && !runs_virgo(r)) {
			unsigned long err;

			step("the device runs %s: %s virgo onto it (UpdateDriverForPlugAndPlayDevices %s%s)",
			     r->service[0] ? r->service : "no driver", opt.replace_driver ? "forcing" : "installing",
			     VTP_RENDER_HWID, opt.replace_driver ? ", INSTALLFLAG_FORCE" : "");
			err = install_ops.update_driver(VTP_RENDER_HWID, inf_path, opt.replace_driver, &reboot);
			if (err == ERROR_NO_MORE_ITEMS && r->service[0])
				return fail("Windows keeps '%s' on the device, which it ranks above virgo's test-signed "
					    "package: run \"install.cmd -ReplaceDriver\"",
					    r->service);
			if (err == ERROR_NO_MORE_ITEMS)
				return fail("Windows put virgo on no device (UpdateDriverForPlugAndPlayDevices found no "
					    "device it ranks virgo best for): run \"install.cmd -ReplaceDriver\"");
			if (err)
				return fail("UpdateDriverForPlugAndPlayDevices failed (Win32 error %lu; "
					    "%%windir%%\\inf\\setupapi.dev.log says why)",
					    err);
			list_render(nodes, &count, &r);
		}
		if (!r)
			return fail("the virtio-gpu-gl-pci device is gone from Windows' device list");
		if (!runs_virgo(r))
			return fail("the device %s still runs '%s', not virgo: programs would not reach virgo. The "
				    "driver package is in the driver store; choose \"virgo virtio-gpu 3D\" for the device "
				    "in Device Manager (Update driver > Browse > Let me pick), or run install.cmd "
				    "-ReplaceDriver",
				    r->id, r->service[0] ? r->service : "no driver");
		if (r->problem == 14 || (!r->started && !r->problem))
			reboot = true;
		else if (r->problem)
			return fail("virgo.sys is installed on the device but Windows does not start it: Device Manager "
				    "reports %s. The ICD was not registered",
				    vtp_problem_text(r->problem));
		step("the device runs virgo%s", reboot ? " (after the restart Windows asks for)" : " and has started");
	}

	/* 4. The ICD: the DLL into System32, then the registration that names
	 *    it (in this order: a registration must never name a missing
	 *    file). */
	in_here(path, ICD_NAME);
	icd_target(dst);
	step("copying %ls to %ls", ICD_NAME, dst);
	if (!CopyFileW(path, dst, FALSE))
		return fail("cannot write %ls (is an OpenGL program using the old one? close it and run again): "
			    "Win32 error %lu",
			    dst, GetLastError());
	if (dll[0] && !is_our_dll(dll)) {
		step("saving the current registration (%ls) to HKLM\\SOFTWARE\\virgo\\MSOGL-before-virgo", dll);
		e = copy_key(MSOGL_KEY, BACKUP_KEY);
		if (e)
			return fail("cannot save " MSOGL_TEXT " (Win32 error %ld)", e);
	}
	step("registering the ICD: " MSOGL_TEXT " DLL=%ls DriverVersion=1 Flags=%u Version=2", ICD_NAME, ICD_FLAGS);
	/* A fresh key: what was there is ours, or was saved above. */
	RegDeleteTreeW(HKEY_LOCAL_MACHINE, MSOGL_KEY);
	e = RegCreateKeyExW(HKEY_LOCAL_MACHINE, MSOGL_KEY, 0, NULL, 0, KEY_ALL_ACCESS | KEY_WOW64_64KEY, NULL, &k, NULL);
	if (e)
		return fail("cannot create " MSOGL_TEXT " (Win32 error %ld)", e);
	e = RegSetValueExW(k, L"DLL", 0, REG_SZ, (const BYTE *)ICD_NAME, sizeof(ICD_NAME));
	if (!e)
		e = set_dword(k, L"DriverVersion", 1);
	if (!e)
		e = set_dword(k, L"Flags", ICD_FLAGS);
	if (!e)
		e = set_dword(k, L"Version", 2);
	RegCloseKey(k);
	if (e)
		return fail("cannot write " MSOGL_TEXT " (Win32 error %ld)", e);

	report_gallium_driver();
	if (count < 0)
		step("installed, but which driver runs the device could not be checked. Run \"virgo-info.exe "
		     "--system\": GL_RENDERER should begin \"virgo (\"");
	else if (reboot)
		step("installed; restart Windows to finish. Then run \"virgo-info.exe --system\": GL_RENDERER "
		     "should begin \"virgo (\"");
	else
		step("installed: the device runs virgo and the ICD is registered. Run \"virgo-info.exe --system\": "
		     "GL_RENDERER should begin \"virgo (\"");
	return 0;
}

/* ---- uninstall --------------------------------------------------------------- */

static int do_uninstall(void)
{
	wchar_t dll[MAX_PATH], dst[MAX_PATH], oem[MAX_OEM_INFS][64];
	PCCERT_CONTEXT cert;
	char hex[41];
	BYTE sha1[20];
	int n;

	/* 1. The registration first, so that no new program loads the DLL. */
	msogl_dll(dll, MAX_PATH);
	if (is_our_dll(dll)) {
		step("removing the ICD registration " MSOGL_TEXT " (DLL=%ls)", dll);
		RegDeleteTreeW(HKEY_LOCAL_MACHINE, MSOGL_KEY);
	} else if (dll[0]) {
		step(MSOGL_TEXT " names %ls, not virgo: left alone", dll);
	} else {
		step("no virgo ICD registration");
	}
	if (key_exists(BACKUP_KEY) && !key_exists(MSOGL_KEY)) {
		step("restoring the previous OpenGL driver registration from HKLM\\SOFTWARE\\virgo\\MSOGL-before-virgo");
		if (copy_key(BACKUP_KEY, MSOGL_KEY))
			return fail("cannot restore " MSOGL_TEXT);
		RegDeleteTreeW(HKEY_LOCAL_MACHINE, BACKUP_KEY);
		RegDeleteKeyExW(HKEY_LOCAL_MACHINE, VIRGO_KEY, KEY_WOW64_64KEY, 0);
	}

	/* 2. The DLL. A running OpenGL program keeps it loaded and the delete
	 *    fails: close such programs and run -Uninstall again. */
	icd_target(dst);
	if (exists(dst)) {
		step("deleting %ls", dst);
		if (!DeleteFileW(dst))
			return fail("cannot delete %ls (is an OpenGL program still running? close it and run again): "
				    "Win32 error %lu",
				    dst, GetLastError());
	}

	/* 3. The driver: every published copy of virgo.inf, with its devices. */
	n = install_ops.find_oem_infs(oem, MAX_OEM_INFS);
	for (int i = 0; i < n; i++) {
		wchar_t args[128];
		int rc;

		step("removing the driver package %ls", oem[i]);
		_snwprintf(args, 128, L"/delete-driver %ls /uninstall /force", oem[i]);
		args[127] = 0;
		rc = install_ops.pnputil(args);
		if (rc != 0 && rc != 3010)
			return fail("pnputil /delete-driver %ls failed (exit status %d)", oem[i], rc);
	}
	if (!n)
		step("no virgo driver package in the driver store");

	/* 4. The certificate, last: nothing signed by it is left. */
	cert = load_cert();
	if (cert) {
		CRYPT_HASH_BLOB blob = { .cbData = 20, .pbData = sha1 };
		static const wchar_t *const stores[] = { L"Root", L"TrustedPublisher" };

		thumbprint(cert, sha1, hex);
		for (int i = 0; i < 2; i++) {
			HCERTSTORE s = machine_store(stores[i]);
			PCCERT_CONTEXT c;

			while (s && (c = CertFindCertificateInStore(s, X509_ASN_ENCODING, 0, CERT_FIND_SHA1_HASH, &blob,
								    NULL))) {
				step("removing the test certificate %s from LocalMachine\\%ls", hex, stores[i]);
				if (!CertDeleteCertificateFromStore(c))
					break;
			}
			if (s)
				CertCloseStore(s, 0);
		}
		CertFreeCertificateContext(cert);
	} else {
		warn("virgo-test.cer is missing here: the test certificate stays in the machine's stores");
	}
	step("removed. Turn test signing off with \"bcdedit /set testsigning off\" if nothing else needs it.");
	return 0;
}

/* ---- main -------------------------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f, "usage: install.cmd [-ReplaceDriver] [-Force] | -Uninstall\n"
		   "\n"
		   "Installs virgo (kernel driver, test certificate, OpenGL ICD) from this folder;\n"
		   "run as Administrator. It checks first that Windows will load the driver (test\n"
		   "signing on, Secure Boot off) and that the VM has a virtio-gpu-gl-pci device.\n"
		   "\n"
		   "  -ReplaceDriver  put virgo on the device even where another driver (virtio-win's\n"
		   "                  viogpudo) runs it\n"
		   "  -Force          replace another OpenGL driver's MSOGL registration (saved, and\n"
		   "                  put back by -Uninstall)\n"
		   "  -Uninstall      remove the ICD, the driver package and the certificate\n");
}

static bool arg_is(const wchar_t *a, const wchar_t *name)
{
	while (*a == L'-' || *a == L'/')
		a++;
	return !_wcsicmp(a, name);
}

int wmain(int argc, wchar_t **argv)
{
	wchar_t *slash;

	for (int i = 1; i < argc; i++) {
		if (arg_is(argv[i], L"Uninstall")) {
			opt.uninstall = true;
		} else if (arg_is(argv[i], L"Force")) {
			opt.force = true;
		} else if (arg_is(argv[i], L"ReplaceDriver")) {
			opt.replace_driver = true;
		} else if (arg_is(argv[i], L"Help") || arg_is(argv[i], L"h") || arg_is(argv[i], L"?")) {
			usage(stdout);
			return 0;
		} else {
			fprintf(stderr, "virgo: unknown argument '%ls'\n", argv[i]);
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (!GetModuleFileNameW(NULL, here, MAX_PATH))
		return fail("cannot find this program's folder");
	slash = wcsrchr(here, L'\\');
	if (slash)
		*slash = 0;
	in_here(inf_path, L"virgo.inf");
	if (!is_admin())
		return fail("run this as Administrator (an Administrator command prompt: install.cmd)");
	if (!exists(inf_path))
		return fail("%ls is missing: run install.cmd from the virgo package folder", inf_path);
	return opt.uninstall ? do_uninstall() : do_install();
}

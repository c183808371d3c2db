/* SPDX-License-Identifier: MIT */
/* test_devnode.c: what a Windows user is told when no virgo device can be
 * opened (umd/transport/vtp_devnode.c), for each state Windows can report
 * the virtio-gpu function in. The states are made up here; the Windows
 * query that produces them (vtp_devnode_win.c) has never run on Windows. */
#include <string.h>

#include "t.h"
#include "vtp_devnode.h"

static const char *explain(const struct vtp_devnode *n, int count)
{
	static char buf[512];

	vtp_explain_devnodes(n, count, buf, sizeof(buf));
	return buf;
}

static struct vtp_devnode node(unsigned cls, const char *service, bool started, unsigned problem)
{
	struct vtp_devnode n = { .cls = cls, .started = started, .problem = problem };

	strcpy(n.id, "PCI\\VEN_1AF4&DEV_1050&SUBSYS_11001AF4&REV_01\\3&267A616A&0&20");
	strcpy(n.service, service);
	return n;
}

/* Every sentence says what to do, and none sends a Windows user to the
 * test host or its variable. */
static void check_advice(const char *s)
{
	CHECK(!strstr(s, "virgo-host"));
	CHECK(!strstr(s, "VIRGO_TRANSPORT"));
}

TEST(devnode_no_virtio_gpu_names_the_qemu_device)
{
	const char *s = explain(NULL, 0);

	CHECK(strstr(s, "no virtio-gpu device") != NULL);
	CHECK(strstr(s, "-device virtio-gpu-gl-pci") != NULL);
	check_advice(s);
}

TEST(devnode_vga_class_only_is_not_virgos)
{
	struct vtp_devnode n = node(VTP_CLASS_VGA, "", false, 28);
	const char *s = explain(&n, 1);

	CHECK(strstr(s, "VGA adapter") != NULL);
	CHECK(strstr(s, "virtio-gpu-gl-pci") != NULL);
	check_advice(s);
}

TEST(devnode_no_driver_says_not_installed)
{
	struct vtp_devnode n[2] = { node(VTP_CLASS_VGA, "", false, 28), node(VTP_CLASS_RENDER, "", false, 28) };
	const char *s = explain(n, 2);

	CHECK(strstr(s, "not installed") != NULL);
	CHECK(strstr(s, "install.cmd") != NULL);
	CHECK(strstr(s, "code 28") != NULL);
	check_advice(s);
}

TEST(devnode_other_driver_is_named_with_the_way_out)
{
	struct vtp_devnode n = node(VTP_CLASS_RENDER, "viogpudo", true, 0);
	const char *s = explain(&n, 1);

	CHECK(strstr(s, "'viogpudo'") != NULL);
	CHECK(strstr(s, "virtio-win") != NULL);
	CHECK(strstr(s, "-ReplaceDriver") != NULL);
	check_advice(s);
}

TEST(devnode_installed_not_started_gives_the_problem_code)
{
	struct vtp_devnode n = node(VTP_CLASS_RENDER, "VIRGO", false, 52);
	const char *s = explain(&n, 1);

	CHECK(strstr(s, "installed but not started") != NULL);
	CHECK(strstr(s, "code 52") != NULL);
	CHECK(strstr(s, "testsigning") != NULL);
	CHECK(strstr(s, "Secure Boot") != NULL);
	check_advice(s);
	n = node(VTP_CLASS_RENDER, "virgo", false, 10);
	s = explain(&n, 1);
	CHECK(strstr(s, "installed but not started") != NULL);
	CHECK(strstr(s, "code 10") != NULL);
}

TEST(devnode_unreadable_list_and_unknown_codes_still_say_something)
{
	CHECK(strstr(explain(NULL, -1), "could not be read") != NULL);
	CHECK(strstr(vtp_problem_text(9999), "Device Manager") != NULL);
	CHECK(vtp_same_name("VirGo", "virgo"));
	CHECK(!vtp_same_name("virgo2", "virgo"));
}

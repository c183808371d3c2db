/* SPDX-License-Identifier: MIT */
/*
 * The embedded host's device against a broken or hostile guest: this test
 * is the guest, writing descriptors and commands straight into guest RAM and
 * the registers, without the driver core. Every bad request must get an
 * ERR_* answer (or, with nowhere to write one, come back empty), and the
 * device must go on serving; rings outside RAM make it ask for a reset.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <virgo/virtio_gpu.h>
#include <virgo/virtio_pci.h>
#include <virgo/virtio_ring.h>

#include "ram.h"
#include "t.h"
#include "vgpu.h"
#include "vpci.h"

#define QSIZE 16u
#define RAM_SIZE (16u << 20)

struct guest {
	struct ram ram;
	struct vgpu *g;
	struct vpci *pci;
	uint64_t desc, avail, used, data;   /* bus addresses */
	uint16_t avail_idx, used_seen;
	uint32_t free_data;                 /* next free byte in the data area */
	uint64_t extra_features;            /* accepted besides VERSION_1 and VIRGL */
};

static void irq(void *arg, int vector)
{
	(void)arg;
	(void)vector;
}

static void *at(struct guest *gu, uint64_t bus)
{
	return ram_ptr(&gu->ram, bus, 1);
}

static void wr(struct guest *gu, uint32_t off, unsigned w, uint32_t v)
{
	vpci_write(gu->pci, VPCI_COMMON_OFF + off, w, v);
}

static uint8_t status(struct guest *gu)
{
	return (uint8_t)vpci_read(gu->pci, VPCI_COMMON_OFF + VIRTIO_PCI_COMMON_DEVICE_STATUS, 1);
}

/* Brings the device up with the control queue at the given addresses. */
static void guest_up(struct guest *gu, uint64_t desc, uint64_t avail, uint64_t used)
{
	uint64_t f = VIRTIO_FEATURE_BIT(VIRTIO_F_VERSION_1) | VIRTIO_FEATURE_BIT(VIRTIO_GPU_F_VIRGL) |
		     gu->extra_features;

	wr(gu, VIRTIO_PCI_COMMON_DEVICE_STATUS, 1, 0);
	/* A driver starts from empty rings after a reset. */
	if (ram_ptr(&gu->ram, desc, 3 * 4096))
		memset(ram_ptr(&gu->ram, desc, 3 * 4096), 0, 3 * 4096);
	wr(gu, VIRTIO_PCI_COMMON_DEVICE_STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr(gu, VIRTIO_PCI_COMMON_DRIVER_FEATURE_SELECT, 4, 0);
	wr(gu, VIRTIO_PCI_COMMON_DRIVER_FEATURE, 4, (uint32_t)f);
	wr(gu, VIRTIO_PCI_COMMON_DRIVER_FEATURE_SELECT, 4, 1);
	wr(gu, VIRTIO_PCI_COMMON_DRIVER_FEATURE, 4, (uint32_t)(f >> 32));
	wr(gu, VIRTIO_PCI_COMMON_DEVICE_STATUS, 1,
	   VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	REQUIRE(status(gu) & VIRTIO_STATUS_FEATURES_OK);
	wr(gu, VIRTIO_PCI_COMMON_QUEUE_SELECT, 2, 0);
	wr(gu, VIRTIO_PCI_COMMON_QUEUE_SIZE, 2, QSIZE);
	wr(gu, VIRTIO_PCI_COMMON_QUEUE_DESC_LO, 4, (uint32_t)desc);
	wr(gu, VIRTIO_PCI_COMMON_QUEUE_DESC_HI, 4, (uint32_t)(desc >> 32));
	wr(gu, VIRTIO_PCI_COMMON_QUEUE_DRIVER_LO, 4, (uint32_t)avail);
	wr(gu, VIRTIO_PCI_COMMON_QUEUE_DRIVER_HI, 4, (uint32_t)(avail >> 32));
	wr(gu, VIRTIO_PCI_COMMON_QUEUE_DEVICE_LO, 4, (uint32_t)used);
	wr(gu, VIRTIO_PCI_COMMON_QUEUE_DEVICE_HI, 4, (uint32_t)(used >> 32));
	wr(gu, VIRTIO_PCI_COMMON_QUEUE_ENABLE, 2, 1);
	wr(gu, VIRTIO_PCI_COMMON_DEVICE_STATUS, 1,
	   VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
	gu->avail_idx = gu->used_seen = 0;
}

/* The device of the running test, torn down after it even when a REQUIRE
 * ended it: virglrenderer lives once per process. */
static struct guest *live;

static void guest_free(struct guest *gu)
{
	if (gu->g)
		vgpu_destroy(gu->g);
	ram_destroy(&gu->ram);
	gu->g = NULL;
	live = NULL;
}

static void after_each(bool failed)
{
	(void)failed;
	if (live)
		guest_free(live);
}

/* A device offering features (0: VIRGL and EDID) with a host-memory
 * budget of max_hostmem bytes (0: the default). */
static void guest_new_cfg(struct guest *gu, uint64_t features, uint64_t max_hostmem)
{
	struct vgpu_config cfg = { .queue_size = QSIZE, .msix = 0, .irq = irq,
				   .features = features ? features
						       : VIRTIO_FEATURE_BIT(VIRTIO_GPU_F_VIRGL) |
								 VIRTIO_FEATURE_BIT(VIRTIO_GPU_F_EDID),
				   .max_hostmem = max_hostmem };
	struct ram_run *run;
	uint32_t n;

	memset(gu, 0, sizeof(*gu));
	t_after_each(after_each);
	REQUIRE_EQ(ram_create(&gu->ram, RAM_SIZE), 0);
	live = gu;
	REQUIRE_EQ(ram_alloc(&gu->ram, 64, true, &run, &n), 0);
	gu->desc = run[0].bus;
	gu->avail = gu->desc + 4096;
	gu->used = gu->desc + 8192;
	gu->data = gu->desc + 4 * 4096;
	free(run);
	REQUIRE_EQ(vgpu_create(&gu->ram, &cfg, &gu->g), 0);
	gu->pci = vgpu_pci(gu->g);
	gu->extra_features = features & VIRTIO_FEATURE_BIT(VIRTIO_GPU_F_RESOURCE_BLOB);
	guest_up(gu, gu->desc, gu->avail, gu->used);
}

static void guest_new(struct guest *gu)
{
	guest_new_cfg(gu, 0, 0);
}

/* Copies bytes into the data area; returns their bus address. */
static uint64_t put(struct guest *gu, const void *p, uint32_t len)
{
	uint64_t bus = gu->data + gu->free_data;

	memcpy(at(gu, bus), p, len);
	gu->free_data += (len + 63) & ~63u;
	if (gu->free_data > 40 * 4096)
		gu->free_data = 0;
	return bus;
}

/* Posts a chain of raw descriptors (the test sets every field), notifies,
 * and waits up to 5 s for the device to use it. Returns the used length. */
static int post(struct guest *gu, const struct vring_desc *d, unsigned n, uint16_t head, uint32_t *used_len)
{
	volatile struct vring_desc *dt = at(gu, gu->desc);
	volatile struct vring_avail *av = at(gu, gu->avail);
	volatile struct vring_used *us = at(gu, gu->used);
	struct timespec ts = { 0, 1000 * 1000 };

	for (unsigned i = 0; i < n; i++)
		dt[i] = d[i];
	av->ring[gu->avail_idx % QSIZE] = head;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	av->idx = ++gu->avail_idx;
	vpci_write(gu->pci, VPCI_NOTIFY_OFF, 2, 0);
	for (int i = 0; i < 5000; i++) {
		if (us->idx != gu->used_seen) {
			*used_len = us->ring[gu->used_seen % QSIZE].len;
			gu->used_seen++;
			return 0;
		}
		nanosleep(&ts, NULL);
	}
	return -1;
}

/* A well-formed request: req readable, a response buffer writable. */
static uint32_t call(struct guest *gu, const void *req, uint32_t len, void *resp, uint32_t resp_len)
{
	uint64_t rb = put(gu, req, len), wb = put(gu, resp, resp_len);
	struct vring_desc d[2] = { { rb, len, VRING_DESC_F_NEXT, 1 }, { wb, resp_len, VRING_DESC_F_WRITE, 0 } };
	uint32_t used = 0;

	memset(at(gu, wb), 0xee, resp_len);
	REQUIRE_EQ(post(gu, d, 2, 0, &used), 0);
	memcpy(resp, at(gu, wb), resp_len);
	return ((struct virtio_gpu_ctrl_hdr *)resp)->type;
}

static uint32_t call_hdr(struct guest *gu, const void *req, uint32_t len)
{
	struct virtio_gpu_ctrl_hdr r;

	return call(gu, req, len, &r, sizeof(r));
}

static void still_alive(struct guest *gu)
{
	struct virtio_gpu_ctrl_hdr h = { .type = VIRTIO_GPU_CMD_GET_DISPLAY_INFO };
	struct virtio_gpu_resp_display_info r;

	CHECK_EQ(call(gu, &h, sizeof(h), &r, sizeof(r)), VIRTIO_GPU_RESP_OK_DISPLAY_INFO);
	CHECK_EQ(r.pmodes[0].enabled, 1);
}

TEST(unknown_and_short_commands_get_err)
{
	struct guest gu;
	struct virtio_gpu_ctrl_hdr h = { .type = 0x9999 };
	struct virtio_gpu_resource_create_2d c2 = { .hdr.type = VIRTIO_GPU_CMD_RESOURCE_CREATE_2D };
	struct vgpu_stats st;

	guest_new(&gu);
	CHECK_EQ(call_hdr(&gu, &h, sizeof(h)), VIRTIO_GPU_RESP_ERR_UNSPEC);
	CHECK_EQ(call_hdr(&gu, &h, 8), VIRTIO_GPU_RESP_ERR_UNSPEC);           /* shorter than a header */
	CHECK_EQ(call_hdr(&gu, &c2, sizeof(h)), VIRTIO_GPU_RESP_ERR_UNSPEC);  /* header only */
	c2.resource_id = 0;
	c2.format = 1;
	c2.width = c2.height = 16;
	CHECK_EQ(call_hdr(&gu, &c2, sizeof(c2)), VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
	vgpu_get_stats(gu.g, &st);
	CHECK(st.errors + st.bad_chains >= 4);
	still_alive(&gu);
	guest_free(&gu);
}

TEST(bad_descriptors_get_err_and_the_device_goes_on)
{
	struct guest gu;
	struct virtio_gpu_ctrl_hdr h = { .type = VIRTIO_GPU_CMD_GET_DISPLAY_INFO };
	uint64_t rb, wb;
	uint32_t used;
	struct vgpu_stats st;

	guest_new(&gu);
	rb = put(&gu, &h, sizeof(h));
	wb = put(&gu, &h, sizeof(h));
	{	/* a readable buffer outside guest RAM */
		struct vring_desc d[2] = { { 0x1000, 24, VRING_DESC_F_NEXT, 1 }, { wb, 24, VRING_DESC_F_WRITE, 0 } };

		REQUIRE_EQ(post(&gu, d, 2, 0, &used), 0);
		CHECK_EQ(((struct virtio_gpu_ctrl_hdr *)at(&gu, wb))->type, VIRTIO_GPU_RESP_ERR_UNSPEC);
	}
	{	/* a length running past the end of RAM */
		struct vring_desc d[2] = { { rb, 0xfffffff0u, VRING_DESC_F_NEXT, 1 }, { wb, 24, VRING_DESC_F_WRITE, 0 } };

		REQUIRE_EQ(post(&gu, d, 2, 0, &used), 0);
		CHECK_EQ(((struct virtio_gpu_ctrl_hdr *)at(&gu, wb))->type, VIRTIO_GPU_RESP_ERR_UNSPEC);
	}
	{	/* a chain that loops on itself */
		struct vring_desc d[1] = { { rb, 24, VRING_DESC_F_NEXT, 0 } };

		REQUIRE_EQ(post(&gu, d, 1, 0, &used), 0);
		CHECK_EQ(used, 0); /* no writable buffer: returned empty */
	}
	{	/* a loop through a descriptor outside RAM (found by fuzz_device: the
		 * walk once counted only the descriptors that added a segment) */
		struct vring_desc d[1] = { { 0x1000, 1, VRING_DESC_F_NEXT, 0 } };

		REQUIRE_EQ(post(&gu, d, 1, 0, &used), 0);
		CHECK_EQ(used, 0);
	}
	{	/* readable after writable */
		struct vring_desc d[3] = { { rb, 24, VRING_DESC_F_NEXT, 1 }, { wb, 24, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 2 },
					   { rb, 24, 0, 0 } };

		REQUIRE_EQ(post(&gu, d, 3, 0, &used), 0);
		CHECK_EQ(((struct virtio_gpu_ctrl_hdr *)at(&gu, wb))->type, VIRTIO_GPU_RESP_ERR_UNSPEC);
	}
	{	/* indirect descriptors were not negotiated */
		struct vring_desc d[2] = { { rb, 24, VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT, 1 }, { wb, 24, VRING_DESC_F_WRITE, 0 } };

		REQUIRE_EQ(post(&gu, d, 2, 0, &used), 0);
		CHECK_EQ(((struct virtio_gpu_ctrl_hdr *)at(&gu, wb))->type, VIRTIO_GPU_RESP_ERR_UNSPEC);
	}
	{	/* next index outside the queue, and a head outside the queue */
		struct vring_desc d[1] = { { rb, 24, VRING_DESC_F_NEXT, 999 } };

		REQUIRE_EQ(post(&gu, d, 1, 0, &used), 0);
		CHECK_EQ(used, 0);
	}
	{	/* a response buffer too small for any answer */
		struct vring_desc d[2] = { { rb, 24, VRING_DESC_F_NEXT, 1 }, { wb, 4, VRING_DESC_F_WRITE, 0 } };

		REQUIRE_EQ(post(&gu, d, 2, 0, &used), 0);
		CHECK_EQ(used, 0);
	}
	vgpu_get_stats(gu.g, &st);
	CHECK(st.bad_chains >= 5);
	still_alive(&gu);
	guest_free(&gu);
}

TEST(bad_backing_and_streams_get_err)
{
	struct guest gu;
	struct virtio_gpu_ctx_create cc = { .hdr = { .type = VIRTIO_GPU_CMD_CTX_CREATE, .ctx_id = 5 }, .nlen = 4 };
	struct virtio_gpu_resource_create_3d c3 = { .hdr.type = VIRTIO_GPU_CMD_RESOURCE_CREATE_3D, .resource_id = 7,
						    .target = 2, .format = 1, .bind = 2, .width = 16, .height = 16,
						    .depth = 1, .array_size = 1 };
	struct {
		struct virtio_gpu_resource_attach_backing a;
		struct virtio_gpu_mem_entry e[1];
	} ab = { { { .type = VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING }, 7, 1 }, { { 0x10, 4096, 0 } } };
	struct {
		struct virtio_gpu_cmd_submit s;
		uint32_t cmd[2];
	} sub = { { { .type = VIRTIO_GPU_CMD_SUBMIT_3D, .ctx_id = 5 }, 4096, 0 }, { 0, 0 } };
	struct virtio_gpu_transfer_host_3d t = { .hdr = { .type = VIRTIO_GPU_CMD_TRANSFER_FROM_HOST_3D, .ctx_id = 5 },
						 .box = { 0, 0, 0, 16, 16, 1 }, .resource_id = 99 };
	struct virtio_gpu_get_capset gc = { .hdr.type = VIRTIO_GPU_CMD_GET_CAPSET, .capset_id = 2, .capset_version = 2 };
	struct virtio_gpu_resource_unref un = { .hdr.type = VIRTIO_GPU_CMD_RESOURCE_UNREF, .resource_id = 7 };
	struct virtio_gpu_ctx_destroy cd = { .hdr = { .type = VIRTIO_GPU_CMD_CTX_DESTROY, .ctx_id = 5 } };
	struct vgpu_stats st;

	guest_new(&gu);
	memcpy(cc.debug_name, "evil", 4);
	CHECK_EQ(call_hdr(&gu, &cc, sizeof(cc)), VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(call_hdr(&gu, &cc, sizeof(cc)), VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID); /* twice */
	cc.hdr.ctx_id = 6;
	cc.nlen = 1000;
	CHECK_EQ(call_hdr(&gu, &cc, sizeof(cc)), VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	CHECK_EQ(call_hdr(&gu, &c3, sizeof(c3)), VIRTIO_GPU_RESP_OK_NODATA);
	/* backing outside guest RAM, and an absurd entry count */
	CHECK_EQ(call_hdr(&gu, &ab, sizeof(ab)), VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	ab.a.nr_entries = 1u << 30;
	CHECK_EQ(call_hdr(&gu, &ab, sizeof(ab)), VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	/* a stream longer than the request, an odd size, no context */
	CHECK_EQ(call_hdr(&gu, &sub, sizeof(sub)), VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	sub.s.size = 6;
	CHECK_EQ(call_hdr(&gu, &sub, sizeof(sub)), VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	sub.s.size = 8;
	sub.s.hdr.ctx_id = 0;
	CHECK_EQ(call_hdr(&gu, &sub, sizeof(sub)), VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID);
	/* a transfer on an unknown resource, and on one without backing */
	CHECK_EQ(call_hdr(&gu, &t, sizeof(t)), VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
	t.resource_id = 7;
	CHECK_EQ(call_hdr(&gu, &t, sizeof(t)), VIRTIO_GPU_RESP_ERR_UNSPEC);
	/* a capset answer that does not fit the response buffer */
	CHECK_EQ(call_hdr(&gu, &gc, sizeof(gc)), VIRTIO_GPU_RESP_ERR_UNSPEC);
	gc.capset_version = 9;
	CHECK_EQ(call_hdr(&gu, &gc, sizeof(gc)), VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	/* MAP_BLOB: no host-visible region on this device */
	{
		struct virtio_gpu_resource_map_blob mb = { .hdr.type = VIRTIO_GPU_CMD_RESOURCE_MAP_BLOB, .resource_id = 7 };

		CHECK_EQ(call_hdr(&gu, &mb, sizeof(mb)), VIRTIO_GPU_RESP_ERR_UNSPEC);
	}
	CHECK_EQ(call_hdr(&gu, &un, sizeof(un)), VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(call_hdr(&gu, &un, sizeof(un)), VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
	CHECK_EQ(call_hdr(&gu, &cd, sizeof(cd)), VIRTIO_GPU_RESP_OK_NODATA);
	vgpu_get_stats(gu.g, &st);
	CHECK_EQ(st.contexts, 0);
	CHECK_EQ(st.resources, 0);
	still_alive(&gu);
	guest_free(&gu);
}

/* A transfer naming a mip level the resource has not got: level 2^31
 * reached virglrenderer 0.10.4 as a negative int and its write landed
 * outside its arrays (found by fuzz_device, tests/fuzz/regress/fuzz_device/
 * transfer-level-2g.bin). The device refuses it; the resource still works. */
TEST(transfer_to_a_level_the_resource_has_not_got_gets_err)
{
	static const uint32_t levels[] = { 0x80000000u, 0xffffffffu, 5, 16 };
	struct guest gu;
	struct virtio_gpu_ctx_create cc = { .hdr = { .type = VIRTIO_GPU_CMD_CTX_CREATE, .ctx_id = 5 }, .nlen = 0 };
	struct virtio_gpu_resource_create_3d c3 = { .hdr.type = VIRTIO_GPU_CMD_RESOURCE_CREATE_3D, .resource_id = 7,
						    .target = 2, .format = 1, .bind = 2, .width = 16, .height = 16,
						    .depth = 1, .array_size = 1 };
	struct {
		struct virtio_gpu_resource_attach_backing a;
		struct virtio_gpu_mem_entry e[1];
	} ab = { { { .type = VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING }, 7, 1 }, { { 0, 2 * 4096, 0 } } };
	struct virtio_gpu_transfer_host_3d t = { .hdr = { .type = VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D, .ctx_id = 5 },
						 .box = { 0, 0, 0, 16, 16, 1 }, .resource_id = 7 };
	struct virtio_gpu_resource_unref un = { .hdr.type = VIRTIO_GPU_CMD_RESOURCE_UNREF, .resource_id = 7 };
	struct virtio_gpu_ctx_destroy cd = { .hdr = { .type = VIRTIO_GPU_CMD_CTX_DESTROY, .ctx_id = 5 } };

	guest_new(&gu);
	ab.e[0].addr = gu.desc + 50 * 4096; /* beyond the data area put() uses */
	CHECK_EQ(call_hdr(&gu, &cc, sizeof(cc)), VIRTIO_GPU_RESP_OK_NODATA);
	/* 16x16 with levels 0..4: 1 KiB + 256 + 64 + 16 + 4 bytes. */
	c3.last_level = 4;
	CHECK_EQ(call_hdr(&gu, &c3, sizeof(c3)), VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(call_hdr(&gu, &ab, sizeof(ab)), VIRTIO_GPU_RESP_OK_NODATA);
	{
		struct virtio_gpu_ctx_resource ca = { .hdr = { .type = VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE, .ctx_id = 5 },
						      .resource_id = 7 };

		CHECK_EQ(call_hdr(&gu, &ca, sizeof(ca)), VIRTIO_GPU_RESP_OK_NODATA);
	}
	for (int dir = 0; dir < 2; dir++) {
		t.hdr.type = dir ? VIRTIO_GPU_CMD_TRANSFER_FROM_HOST_3D : VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D;
		for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
			t.level = levels[i];
			t.box = (struct virtio_gpu_box){ 0, 0, 0, 1, 1, 1 };
			CHECK_EQ(call_hdr(&gu, &t, sizeof(t)), VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
		}
		/* The levels it has still work. */
		t.level = 0;
		t.box = (struct virtio_gpu_box){ 0, 0, 0, 16, 16, 1 };
		CHECK_EQ(call_hdr(&gu, &t, sizeof(t)), VIRTIO_GPU_RESP_OK_NODATA);
		t.level = 4;
		t.box = (struct virtio_gpu_box){ 0, 0, 0, 1, 1, 1 };
		CHECK_EQ(call_hdr(&gu, &t, sizeof(t)), VIRTIO_GPU_RESP_OK_NODATA);
	}
	still_alive(&gu);
	CHECK_EQ(call_hdr(&gu, &un, sizeof(un)), VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(call_hdr(&gu, &cd, sizeof(cd)), VIRTIO_GPU_RESP_OK_NODATA);
	guest_free(&gu);
}

TEST(rings_outside_ram_ask_for_a_reset)
{
	struct guest gu;

	guest_new(&gu);
	guest_up(&gu, 0x1000, 0x2000, 0x3000);
	vpci_write(gu.pci, VPCI_NOTIFY_OFF, 2, 0);
	for (int i = 0; i < 500 && !(status(&gu) & VIRTIO_STATUS_DEVICE_NEEDS_RESET); i++) {
		struct timespec ts = { 0, 1000 * 1000 };

		nanosleep(&ts, NULL);
	}
	CHECK(status(&gu) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	/* A reset with good rings brings it back. */
	guest_up(&gu, gu.desc, gu.avail, gu.used);
	CHECK(!(status(&gu) & VIRTIO_STATUS_DEVICE_NEEDS_RESET));
	still_alive(&gu);
	guest_free(&gu);
}

TEST(a_reset_forgets_contexts_and_resources)
{
	struct guest gu;
	struct virtio_gpu_ctx_create cc = { .hdr = { .type = VIRTIO_GPU_CMD_CTX_CREATE, .ctx_id = 3 } };
	struct virtio_gpu_resource_create_2d c2 = { .hdr.type = VIRTIO_GPU_CMD_RESOURCE_CREATE_2D, .resource_id = 4,
						    .format = 1, .width = 8, .height = 8 };
	struct vgpu_stats st;

	guest_new(&gu);
	CHECK_EQ(call_hdr(&gu, &cc, sizeof(cc)), VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(call_hdr(&gu, &c2, sizeof(c2)), VIRTIO_GPU_RESP_OK_NODATA);
	guest_up(&gu, gu.desc, gu.avail, gu.used);
	vgpu_get_stats(gu.g, &st);
	CHECK_EQ(st.contexts, 0);
	CHECK_EQ(st.resources, 0);
	still_alive(&gu);
	guest_free(&gu);
}

/* Bad rings, a kick, and a reset at once, many times: whatever the device
 * thread flagged about the old rings must not outlive the reset (found by
 * fuzz_device: a stale DEVICE_NEEDS_RESET wedged the device). */
TEST(reset_right_after_bad_rings_recovers)
{
	struct guest gu;

	guest_new(&gu);
	for (int i = 0; i < 40; i++) {
		guest_up(&gu, 0x1000, 0x2000, 0x3000);
		vpci_write(gu.pci, VPCI_NOTIFY_OFF, 2, 0);
		guest_up(&gu, gu.desc, gu.avail, gu.used);
		CHECK(!(status(&gu) & VIRTIO_STATUS_DEVICE_NEEDS_RESET));
		still_alive(&gu);
		if (t_failed())
			break;
	}
	guest_free(&gu);
}

/* ---- the host-memory budget (host/vgpu_mem.c) ---- */

#define OVH 4096u /* VGPU_RES_OVERHEAD: charged per resource besides its storage */

static uint64_t hostmem(struct guest *gu)
{
	struct vgpu_stats st;

	vgpu_get_stats(gu->g, &st);
	return st.hostmem;
}

static uint32_t create_buffer(struct guest *gu, uint32_t id, uint32_t bytes)
{
	struct virtio_gpu_resource_create_3d c3 = { .hdr.type = VIRTIO_GPU_CMD_RESOURCE_CREATE_3D, .resource_id = id,
						    .target = 0, .format = 64, .bind = 16, .width = bytes, .height = 1,
						    .depth = 1, .array_size = 1 };

	return call_hdr(gu, &c3, sizeof(c3));
}

static uint32_t unref(struct guest *gu, uint32_t id)
{
	struct virtio_gpu_resource_unref un = { .hdr.type = VIRTIO_GPU_CMD_RESOURCE_UNREF, .resource_id = id };

	return call_hdr(gu, &un, sizeof(un));
}

/* fuzz_device's finding (regress/fuzz_device/buffer-4g-oom): one command
 * had llvmpipe allocate 4 GiB. The default budget refuses it. */
TEST(host_memory_budget_refuses_a_4g_buffer)
{
	struct guest gu;
	struct virtio_gpu_resource_create_3d c3 = { .hdr.type = VIRTIO_GPU_CMD_RESOURCE_CREATE_3D,
						    .resource_id = 0x05000001, .target = 0, .format = 0,
						    .bind = 0xfeffffffu, .width = 0xff000010u, .height = 405798526,
						    .depth = 63495, .array_size = 1 };
	struct vgpu_stats st;

	guest_new(&gu);
	CHECK_EQ(call_hdr(&gu, &c3, sizeof(c3)), VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY);
	vgpu_get_stats(gu.g, &st);
	CHECK_EQ(st.resources, 0);
	CHECK_EQ(st.hostmem, 0);
	CHECK(st.hostmem_refused >= 1);
	still_alive(&gu);
	CHECK_EQ(create_buffer(&gu, 3, 65536), VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(hostmem(&gu), 65536 + OVH);
	CHECK_EQ(unref(&gu, 3), VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(hostmem(&gu), 0);
	guest_free(&gu);
}

/* Charges come back with unref and reset, and a full budget refuses
 * only what would pass it: room for four 256x256 BGRA8 textures. */
TEST(host_memory_budget_is_given_back)
{
	struct guest gu;
	struct virtio_gpu_resource_create_2d c2 = { .hdr.type = VIRTIO_GPU_CMD_RESOURCE_CREATE_2D, .format = 1,
						    .width = 256, .height = 256 };
	struct virtio_gpu_resource_create_3d c3 = { .hdr.type = VIRTIO_GPU_CMD_RESOURCE_CREATE_3D, .resource_id = 20,
						    .target = 2, .format = 1, .bind = 2, .width = 128, .height = 128,
						    .depth = 1, .array_size = 1, .last_level = 7 };
	struct vgpu_stats st;

	const uint64_t tex = 256u * 1024u + OVH, budget = 4 * tex;

	guest_new_cfg(&gu, 0, budget);
	for (uint32_t id = 1; id <= 4; id++) {
		c2.resource_id = id;
		CHECK_EQ(call_hdr(&gu, &c2, sizeof(c2)), VIRTIO_GPU_RESP_OK_NODATA);
		CHECK_EQ(hostmem(&gu), id * tex);
	}
	c2.resource_id = 5;
	CHECK_EQ(call_hdr(&gu, &c2, sizeof(c2)), VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY);
	CHECK_EQ(create_buffer(&gu, 6, 1), VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY);
	CHECK_EQ(unref(&gu, 2), VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(hostmem(&gu), 3 * tex);
	/* 128x128x4 with a mip chain: charged twice its base level. */
	CHECK_EQ(call_hdr(&gu, &c3, sizeof(c3)), VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(hostmem(&gu), 3 * tex + 128u * 1024u + OVH);
	/* A buffer that fills the budget to the byte. */
	CHECK_EQ(create_buffer(&gu, 6, (uint32_t)(tex - 128u * 1024u - 2 * OVH)), VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(hostmem(&gu), budget);
	CHECK_EQ(create_buffer(&gu, 7, 1), VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY);
	vgpu_get_stats(gu.g, &st);
	CHECK_EQ(st.resources, 5);
	CHECK_EQ(st.hostmem_refused, 3);
	/* A reset gives everything back. */
	guest_up(&gu, gu.desc, gu.avail, gu.used);
	CHECK_EQ(hostmem(&gu), 0);
	c2.resource_id = 5;
	CHECK_EQ(call_hdr(&gu, &c2, sizeof(c2)), VIRTIO_GPU_RESP_OK_NODATA);
	still_alive(&gu);
	guest_free(&gu);
}

/* A buffer made by a stream's PIPE_RESOURCE_CREATE (virgl_protocol.h:
 * command 48, 11 dwords, the blob id last), as the UMD makes HOST3D
 * blobs. */
static uint32_t submit_pipe_buffers(struct guest *gu, uint32_t ctx, const uint32_t *bytes, const uint32_t *blob_ids,
				    unsigned n)
{
	struct {
		struct virtio_gpu_cmd_submit s;
		uint32_t dw[4 * 12];
	} req = { { .hdr = { .type = VIRTIO_GPU_CMD_SUBMIT_3D, .ctx_id = ctx }, .size = n * 12 * 4 }, { 0 } };

	for (unsigned i = 0; i < n; i++) {
		uint32_t *p = req.dw + i * 12;

		p[0] = 48u | (11u << 16);
		p[1] = 0;        /* PIPE_BUFFER */
		p[2] = 64;       /* R8_UNORM */
		p[3] = 16;       /* VIRGL_BIND_VERTEX_BUFFER */
		p[4] = bytes[i];
		p[5] = p[6] = p[7] = 1;
		p[11] = blob_ids[i];
	}
	return call_hdr(gu, &req, (uint32_t)(sizeof(req.s) + req.s.size));
}

TEST(host_memory_budget_covers_submitted_pipe_resources)
{
	struct guest gu;
	struct virtio_gpu_ctx_create cc = { .hdr = { .type = VIRTIO_GPU_CMD_CTX_CREATE, .ctx_id = 3 } };
	struct virtio_gpu_ctx_destroy cd = { .hdr = { .type = VIRTIO_GPU_CMD_CTX_DESTROY, .ctx_id = 3 } };
	struct virtio_gpu_resource_create_blob cb = { .hdr = { .type = VIRTIO_GPU_CMD_RESOURCE_CREATE_BLOB, .ctx_id = 3 },
						      .resource_id = 11, .blob_mem = VIRTIO_GPU_BLOB_MEM_HOST3D,
						      .blob_flags = VIRTIO_GPU_BLOB_FLAG_USE_MAPPABLE, .blob_id = 9,
						      .size = 512u * 1024u };
	const uint32_t too_much[2] = { 768u * 1024u, 256u * 1024u }, ids[2] = { 7, 8 };
	const uint32_t half[1] = { 512u * 1024u }, id9[1] = { 9 }, quarter[1] = { 256u * 1024u }, id10[1] = { 10 };

	guest_new_cfg(&gu,
		      VIRTIO_FEATURE_BIT(VIRTIO_GPU_F_VIRGL) | VIRTIO_FEATURE_BIT(VIRTIO_GPU_F_EDID) |
			      VIRTIO_FEATURE_BIT(VIRTIO_GPU_F_RESOURCE_BLOB),
		      1u << 20);
	CHECK_EQ(call_hdr(&gu, &cc, sizeof(cc)), VIRTIO_GPU_RESP_OK_NODATA);
	/* Together past the budget: the stream is refused and none is made. */
	CHECK_EQ(submit_pipe_buffers(&gu, 3, too_much, ids, 2), VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY);
	CHECK_EQ(hostmem(&gu), 0);
	cb.blob_id = 7;
	CHECK_EQ(call_hdr(&gu, &cb, sizeof(cb)), VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	/* One that fits is charged to the context, then to the blob. */
	CHECK_EQ(submit_pipe_buffers(&gu, 3, half, id9, 1), VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(hostmem(&gu), 512u * 1024u + OVH);
	cb.blob_id = 9;
	CHECK_EQ(call_hdr(&gu, &cb, sizeof(cb)), VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(hostmem(&gu), 512u * 1024u + OVH);
	CHECK_EQ(create_buffer(&gu, 12, 768u * 1024u), VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY);
	CHECK_EQ(unref(&gu, 11), VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(hostmem(&gu), 0);
	/* One no blob takes goes back with its context. */
	CHECK_EQ(submit_pipe_buffers(&gu, 3, quarter, id10, 1), VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(hostmem(&gu), 256u * 1024u + OVH);
	CHECK_EQ(call_hdr(&gu, &cd, sizeof(cd)), VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(hostmem(&gu), 0);
	still_alive(&gu);
	guest_free(&gu);
}

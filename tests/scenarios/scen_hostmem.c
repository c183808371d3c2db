/* SPDX-License-Identifier: MIT */
/*
 * Host-visible memory, proven real: a HOST3D blob with mappable host
 * storage (buffer storage, persistent and coherent, as Mesa's virgl makes
 * them for ARB_buffer_storage) is mapped through the device's host-visible
 * region, and bytes go both ways between the mapping and what the host's
 * GL does with the buffer. Devices without the region (QEMU 7.2, virgo-host
 * without one) skip, saying so.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "scen.h"
#include "virgl_enc.h"

#define BLOB_SIZE   (64u << 10)
#define FMT_R8      64u           /* VIRGL_FORMAT_R8_UNORM */
#define BIND_VB     (1u << 4)     /* VIRGL_BIND_VERTEX_BUFFER */
#define TGT_BUFFER  0u

static bool hostmem_or_skip(struct scen_dev *d)
{
	if (scen_param(d, VIRGO_PARAM_HOST_VISIBLE))
		return true;
	CHECK_EQ(scen_param(d, VIRGO_PARAM_HOST_VISIBLE_SIZE), 0);
	scen_close(d);
	t_skip("%s offers no host-visible memory", scen->name);
	return false;
}

/* A buffer whose host storage the guest can map, made as Mesa's virgl
 * makes a persistent coherent one: the host object by PIPE_RESOURCE_CREATE
 * in the blob's own command, the blob naming it. */
static uint32_t host_buffer(struct scen_dev *d, uint32_t size, uint32_t blob_id, uint32_t *res)
{
	uint32_t cmd[16];
	struct venc e;
	struct venc_pipe_resource pr = { .target = TGT_BUFFER, .format = FMT_R8, .bind = BIND_VB, .width = size,
					 .height = 1, .depth = 1, .array_size = 1,
					 .flags = VENC_RESOURCE_FLAG_MAP_PERSISTENT | VENC_RESOURCE_FLAG_MAP_COHERENT,
					 .blob_id = blob_id };
	struct virgo_resource_create_blob b = { .blob_mem = VIRGO_BLOB_MEM_HOST3D,
						.blob_flags = VIRGO_BLOB_FLAG_USE_MAPPABLE, .size = size,
						.blob_id = blob_id };

	venc_init(&e, cmd, 16);
	REQUIRE_EQ(venc_pipe_resource_create(&e, &pr), 0);
	b.cmd = (uint64_t)(uintptr_t)cmd;
	b.cmd_size = venc_bytes(&e);
	REQUIRE_EQ(scen_ioctl(d, VIRGO_OP_RESOURCE_CREATE_BLOB, &b), 0);
	*res = b.res_handle;
	return b.bo_handle;
}

/* dst[0, len) = src[0, len) on the host, and wait for it. */
static void host_copy(struct scen_dev *d, uint32_t dst_bo, uint32_t dst_res, uint32_t src_bo, uint32_t src_res,
		      uint32_t len)
{
	uint32_t cmd[32], bos[2] = { dst_bo, src_bo };
	struct venc e;
	struct venc_box box = { 0, 0, 0, len, 1, 1 };

	venc_init(&e, cmd, 32);
	REQUIRE_EQ(venc_resource_copy_region(&e, dst_res, 0, 0, 0, 0, src_res, 0, &box), 0);
	REQUIRE_EQ(scen_fence_wait(d, scen_exec(d, cmd, venc_bytes(&e), bos, 2), 0), 0);
}

static uint8_t pattern(uint32_t i, uint32_t seed)
{
	return (uint8_t)((i * 31u + seed) ^ (i >> 8));
}

TEST(hostmem_blob_mapped_guest_writes_host_reads)
{
	struct scen_dev *d = scen_open();
	uint32_t blob, blob_res, plain, plain_res;
	struct virgo_map m;
	uint64_t free0, size = 0;
	uint8_t *p, *q;
	uint32_t bad = 0;

	if (!hostmem_or_skip(d))
		return;
	free0 = scen_param(d, VIRGO_PARAM_HOST_VISIBLE_FREE);
	blob = host_buffer(d, BLOB_SIZE, 1, &blob_res);
	m = (struct virgo_map){ .bo_handle = blob };
	REQUIRE_EQ(scen_ioctl(d, VIRGO_OP_MAP, &m), 0);
	CHECK_EQ(m.size, BLOB_SIZE);
	/* llvmpipe's and any Mesa renderer's storage is cached host memory */
	printf("  %s: host-visible %llu MiB, blob mapped with map_info %u\n", scen->name,
	       (unsigned long long)(scen_param(d, VIRGO_PARAM_HOST_VISIBLE_SIZE) >> 20), m.map_info);
	CHECK(m.map_info == VIRGO_MAP_CACHED || m.map_info == VIRGO_MAP_WC || m.map_info == VIRGO_MAP_UNCACHED);
	CHECK_EQ(scen_param(d, VIRGO_PARAM_HOST_VISIBLE_FREE), free0 - BLOB_SIZE);
	p = (uint8_t *)(uintptr_t)m.addr;
	REQUIRE(p);
	for (uint32_t i = 0; i < BLOB_SIZE; i++)
		p[i] = pattern(i, 5);
	/* the host copies the blob into a classic buffer; the guest reads that */
	plain = scen_create(d, TGT_BUFFER, FMT_R8, BIND_VB, BLOB_SIZE, 1, BLOB_SIZE, &plain_res);
	host_copy(d, plain, plain_res, blob, blob_res, BLOB_SIZE);
	REQUIRE_EQ(scen_fence_wait(d, scen_transfer(d, VIRGO_OP_TRANSFER_FROM_HOST, plain, 0, 0, BLOB_SIZE, 1, 0), 0),
		   0);
	q = scen_map(d, plain, &size);
	for (uint32_t i = 0; i < BLOB_SIZE; i++)
		bad += q[i] != pattern(i, 5);
	CHECK_EQ(bad, 0);
	scen_close_bo(d, plain);
	scen_close_bo(d, blob);
	CHECK_EQ(scen_param(d, VIRGO_PARAM_HOST_VISIBLE_FREE), free0);
	scen_close(d);
}

TEST(hostmem_blob_mapped_host_writes_guest_reads)
{
	struct scen_dev *d = scen_open();
	uint32_t blob, blob_res, plain, plain_res, bad = 0;
	uint64_t size = 0;
	uint8_t *p, *q;

	if (!hostmem_or_skip(d))
		return;
	blob = host_buffer(d, BLOB_SIZE, 2, &blob_res);
	p = scen_map(d, blob, &size);
	memset(p, 0, BLOB_SIZE);
	/* a classic buffer with the pattern, copied into the blob by the host */
	plain = scen_create(d, TGT_BUFFER, FMT_R8, BIND_VB, BLOB_SIZE, 1, BLOB_SIZE, &plain_res);
	q = scen_map(d, plain, &size);
	for (uint32_t i = 0; i < BLOB_SIZE; i++)
		q[i] = pattern(i, 9);
	REQUIRE_EQ(scen_fence_wait(d, scen_transfer(d, VIRGO_OP_TRANSFER_TO_HOST, plain, 0, 0, BLOB_SIZE, 1, 0), 0), 0);
	host_copy(d, blob, blob_res, plain, plain_res, BLOB_SIZE);
	/* coherent: after the fence the mapping shows what the host wrote */
	for (uint32_t i = 0; i < BLOB_SIZE; i++)
		bad += p[i] != pattern(i, 9);
	CHECK_EQ(bad, 0);
	scen_close_bo(d, plain);
	scen_close_bo(d, blob);
	scen_close(d);
}

TEST(hostmem_64_map_unmap_cycles_leave_the_region_as_it_was)
{
	struct scen_dev *d = scen_open();
	uint32_t blob[2], res;
	uint64_t free0;

	if (!hostmem_or_skip(d))
		return;
	free0 = scen_param(d, VIRGO_PARAM_HOST_VISIBLE_FREE);
	blob[0] = host_buffer(d, BLOB_SIZE, 3, &res);
	blob[1] = host_buffer(d, 3 * 4096, 4, &res);
	for (int i = 0; i < 64; i++) {
		struct virgo_map m = { .bo_handle = blob[i % 2] };
		struct virgo_unmap u = { .bo_handle = blob[i % 2] };

		REQUIRE_EQ(scen_ioctl(d, VIRGO_OP_MAP, &m), 0);
		((volatile uint8_t *)(uintptr_t)m.addr)[i] = (uint8_t)i;
		REQUIRE_EQ(scen_ioctl(d, VIRGO_OP_UNMAP, &u), 0);
	}
	CHECK_EQ(scen_param(d, VIRGO_PARAM_HOST_VISIBLE_FREE), free0);
	scen_close_bo(d, blob[0]);
	scen_close_bo(d, blob[1]);
	scen_close(d);
}

/* A client that dies holding a mapping: its handle's close takes the
 * mapping, the blob and the range back. In a child process that is killed
 * where the runner can fork; else a handle closed with the mapping live,
 * which is what the OS does for a process that dies. */
TEST(hostmem_client_killed_with_a_mapping_leaks_nothing)
{
	struct scen_dev *watch = scen_open();
	uint64_t free0, res0;

	if (!hostmem_or_skip(watch))
		return;
	REQUIRE(scen_wait_param(watch, VIRGO_PARAM_LIVE_HANDLES, 1, 10000) || !(scen->caps & SCEN_CAN_FORK));
	free0 = scen_param(watch, VIRGO_PARAM_HOST_VISIBLE_FREE);
	res0 = scen_param(watch, VIRGO_PARAM_LIVE_RESOURCES);
	if (scen->caps & SCEN_CAN_FORK) {
		pid_t pid = fork();

		if (pid == 0) {
			struct scen_dev *k;
			uint32_t res;
			uint64_t size;
			uint8_t *p;

			if (scen->open(scen, &k))
				_exit(1);
			p = scen_map(k, host_buffer(k, BLOB_SIZE, 5, &res), &size);
			memset(p, 0x5a, BLOB_SIZE);
			raise(SIGKILL);
		}
		REQUIRE(pid > 0);
		waitpid(pid, NULL, 0);
	} else {
		struct scen_dev *k = scen_open();
		uint32_t res;
		uint64_t size;

		memset(scen_map(k, host_buffer(k, BLOB_SIZE, 5, &res), &size), 0x5a, BLOB_SIZE);
		scen_close(k);
	}
	CHECK(scen_wait_param(watch, VIRGO_PARAM_HOST_VISIBLE_FREE, free0, 10000));
	CHECK(scen_wait_param(watch, VIRGO_PARAM_LIVE_RESOURCES, res0, 10000));
	scen_close(watch);
}

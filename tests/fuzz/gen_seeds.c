/* SPDX-License-Identifier: MIT */
/*
 * gen_seeds: writes the seed corpora of the three fuzzers, recorded from the
 * kinds of requests the scenario suite makes (parameters and capsets, a
 * context, resources, a submitted stream, fences and waits, transfers, maps,
 * blobs, two handles, malformed requests):
 *   gen_seeds OUTDIR   ->  OUTDIR/fuzz_uapi/, OUTDIR/fuzz_device/, OUTDIR/fuzz_transport/
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <virgo/uapi.h>
#include <virgo/virtio_gpu.h>

#include "fuzz_device_prog.h"
#include "fuzz_uapi_prog.h"

struct buf {
	uint8_t b[1 << 20];
	size_t n;
};

static struct buf B;
static const char *outdir;

static void put(const void *p, size_t n)
{
	if (B.n + n > sizeof(B.b))
		abort();
	memcpy(B.b + B.n, p, n);
	B.n += n;
}
static void u8(uint8_t v) { put(&v, 1); }
static void u16(uint16_t v) { put(&v, 2); }
static void u32(uint32_t v) { put(&v, 4); }
static void u64(uint64_t v) { put(&v, 8); }

static void save(const char *fuzzer, const char *name)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", outdir, fuzzer);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%s/%s", outdir, fuzzer, name);
	f = fopen(path, "wb");
	if (!f || fwrite(B.b, 1, B.n, f) != B.n || fclose(f)) {
		perror(path);
		exit(1);
	}
	B.n = 0;
}

/* ---- fuzz_uapi ----------------------------------------------------------- */

static void rq(uint32_t op, unsigned h, const void *arg)
{
	u8((uint8_t)op);
	u8((uint8_t)h);
	u8(0);
	put(arg, virgo_op_arg_size(op));
}

static void poke(uint16_t off, const void *p, uint16_t len)
{
	u8(FU_POKE);
	u8(0);
	u16(off);
	u16(len);
	put(p, len);
}

static void meta(uint8_t kind, unsigned h)
{
	u8(kind);
	u8((uint8_t)h);
}

static void u_tex(unsigned h, uint32_t w, uint32_t hgt)
{
	struct virgo_resource_create a = { .target = 2, .format = 1, .bind = 2, .width = w, .height = hgt,
					   .depth = 1, .array_size = 1, .size = w * hgt * 4 };
	rq(VIRGO_OP_RESOURCE_CREATE, h, &a);
}

static void u_buffer(unsigned h, uint32_t size)
{
	struct virgo_resource_create a = { .target = 0, .format = 64, .bind = 1u << 4, .width = size, .height = 1,
					   .depth = 1, .array_size = 1, .size = size };
	rq(VIRGO_OP_RESOURCE_CREATE, h, &a);
}

static void u_exec(unsigned h, uint32_t nwords, uint32_t nbo)
{
	uint32_t words[64], bos[4] = { 1, 2, 3, 4 };
	struct virgo_execbuffer e = { .size = nwords * 4, .command = 0, .bo_handles = 4096, .num_bo_handles = nbo };

	for (uint32_t i = 0; i < nwords && i < 64; i++)
		words[i] = 0x1000 + i;
	poke(0, words, (uint16_t)(nwords * 4));
	poke(4096, bos, sizeof(bos));
	rq(VIRGO_OP_EXECBUFFER, h, &e);
}

static void u_fence_wait(unsigned h, uint64_t fence, uint32_t flags, uint64_t timeout)
{
	struct virgo_fence_wait a = { .fence = fence, .flags = flags, .timeout_ns = timeout };
	rq(VIRGO_OP_FENCE_WAIT, h, &a);
}

static void u_bo(uint32_t op, unsigned h, uint32_t bo)
{
	uint8_t a[64] = { 0 };

	memcpy(a, &bo, 4);
	rq(op, h, a);
}

static void seeds_uapi(void)
{
	static const uint64_t params[] = { 1, 2, 3, 4, 5, 6, 7, 0x100, 0x101, 0x102, 0x103, 0x104, 99 };
	const char *F = "fuzz_uapi";

	/* parameters and capsets */
	u8(FU_CFG_BLOB | FU_CFG_CTX_INIT);
	for (unsigned i = 0; i < sizeof(params) / sizeof(params[0]); i++) {
		struct virgo_get_param p = { .param = params[i] };
		rq(VIRGO_OP_GET_PARAM, i % 3, &p);
	}
	for (uint32_t id = 0; id <= 3; id++) {
		struct virgo_get_caps c = { .cap_set_id = id, .cap_set_ver = id, .addr = 8192, .size = 2048 };
		rq(VIRGO_OP_GET_CAPS, 0, &c);
	}
	save(F, "params-caps");

	/* context init with every parameter */
	u8(FU_CFG_BLOB | FU_CFG_CTX_INIT);
	{
		struct virgo_ctx_set_param sp[4] = { { 1, 2 }, { 2, 2 }, { 3, 0 }, { 4, 512 } };
		struct virgo_context_init ci = { .num_params = 4, .ctx_set_params = 256 };

		poke(256, sp, sizeof(sp));
		poke(512, "scenario\0", 9);
		rq(VIRGO_OP_CONTEXT_INIT, 0, &ci);
		rq(VIRGO_OP_CONTEXT_INIT, 0, &ci);
		ci.num_params = 9;
		rq(VIRGO_OP_CONTEXT_INIT, 1, &ci);
	}
	save(F, "context-init");

	/* the triangle: texture, stream, fence, read back, map */
	u8(0);
	u_tex(0, 64, 64);
	u_buffer(0, 4096);
	u_exec(0, 16, 2);
	u_fence_wait(0, 1, 0, 0);
	{
		struct virgo_transfer t = { .bo_handle = 1, .box = { 0, 0, 0, 64, 64, 1 } };
		rq(VIRGO_OP_TRANSFER_TO_HOST, 0, &t);
		rq(VIRGO_OP_TRANSFER_FROM_HOST, 0, &t);
		t.box.w = 65;
		rq(VIRGO_OP_TRANSFER_FROM_HOST, 0, &t);
	}
	u_bo(VIRGO_OP_WAIT, 0, 1);
	u_bo(VIRGO_OP_MAP, 0, 1);
	u_bo(VIRGO_OP_MAP, 0, 1);
	u_bo(VIRGO_OP_RESOURCE_INFO, 0, 1);
	u_bo(VIRGO_OP_UNMAP, 0, 1);
	u_bo(VIRGO_OP_MAP, 0, 2);
	u_bo(VIRGO_OP_RESOURCE_CLOSE, 0, 1);
	save(F, "triangle");

	/* blobs */
	u8(FU_CFG_BLOB | FU_CFG_CTX_INIT | FU_CFG_HOSTMEM);
	{
		struct virgo_resource_create_blob b = { .blob_mem = VIRGO_BLOB_MEM_GUEST,
							.blob_flags = VIRGO_BLOB_FLAG_USE_MAPPABLE, .size = 8192 };
		rq(VIRGO_OP_RESOURCE_CREATE_BLOB, 0, &b);
		b.blob_mem = VIRGO_BLOB_MEM_HOST3D;
		b.blob_id = 7;
		b.cmd_size = 16;
		b.cmd = 0;
		rq(VIRGO_OP_RESOURCE_CREATE_BLOB, 0, &b);
		b.blob_mem = VIRGO_BLOB_MEM_HOST3D_GUEST;
		rq(VIRGO_OP_RESOURCE_CREATE_BLOB, 1, &b);
	}
	u_bo(VIRGO_OP_MAP, 0, 1);
	u_bo(VIRGO_OP_MAP, 0, 2);
	u_bo(VIRGO_OP_RESOURCE_INFO, 0, 2);
	save(F, "blobs");

	/* host-visible memory: mappable HOST3D blobs placed in the region,
	 * unmapped, mapped again; MAP_BLOB refused and never answered; a
	 * handle closed with a mapping live */
	u8(FU_CFG_BLOB | FU_CFG_CTX_INIT | FU_CFG_HOSTMEM);
	{
		struct virgo_resource_create_blob b = { .blob_mem = VIRGO_BLOB_MEM_HOST3D,
							.blob_flags = VIRGO_BLOB_FLAG_USE_MAPPABLE, .size = 65536,
							.blob_id = 3 };

		rq(VIRGO_OP_RESOURCE_CREATE_BLOB, 0, &b);
		b.size = 12288;
		b.blob_id = 4;
		rq(VIRGO_OP_RESOURCE_CREATE_BLOB, 0, &b);
		b.blob_flags = 0;
		rq(VIRGO_OP_RESOURCE_CREATE_BLOB, 1, &b);
	}
	u_bo(VIRGO_OP_MAP, 0, 1);
	u_bo(VIRGO_OP_MAP, 0, 2);
	u_bo(VIRGO_OP_UNMAP, 0, 1);
	u_bo(VIRGO_OP_UNMAP, 0, 1);
	u_bo(VIRGO_OP_MAP, 0, 1);
	u_bo(VIRGO_OP_MAP, 1, 1);
	meta(FU_ERR, 0);
	u8(20); u8(0); u8(1);
	u_bo(VIRGO_OP_MAP, 0, 2);
	meta(FU_SCRIPT, 0);
	u8(20); u8(2); u8(1);
	u_bo(VIRGO_OP_UNMAP, 0, 2);
	u_bo(VIRGO_OP_MAP, 0, 2);
	meta(FU_CLOSE, 0);
	meta(FU_GPU_RESET, 0);
	meta(FU_REOPEN, 0);
	save(F, "hostmem");

	/* held fences, waits timing out, completion, device ERR answers */
	u8(FU_CFG_HOLD | FU_CFG_FENCE_WRAP | FU_CFG_FENCE32);
	u_buffer(0, 4096);
	u_exec(0, 8, 1);
	u_fence_wait(0, 0xfffffff0ull, VIRGO_WAIT_NOWAIT, 0);
	u_bo(VIRGO_OP_WAIT, 0, 1);
	meta(FU_ADVANCE, 0);
	u32(1000000);
	meta(FU_COMPLETE, 0);
	u64(0xfffffff0ull);
	u_exec(0, 8, 1);
	u_exec(0, 8, 1);
	u_fence_wait(0, 0xfffffff2ull, 0, 1000000);
	meta(FU_ERR, 0);
	u8(16); u8(5); u8(1);
	u_exec(0, 8, 1);
	meta(FU_SCRIPT, 0);
	u8(0); u8(2); u8(1);
	u_exec(0, 4, 0);
	meta(FU_ADVANCE, 0);
	u32(6000000);
	meta(FU_GPU_RESET, 0);
	meta(FU_REOPEN, 0);
	u_buffer(0, 4096);
	save(F, "fences-faults");

	/* two handles, a closed one, handles of another handle, bad requests */
	u8(FU_CFG_INTX);
	u_buffer(0, 4096);
	u_buffer(1, 8192);
	u_bo(VIRGO_OP_RESOURCE_INFO, 1, 1);
	u_bo(VIRGO_OP_MAP, 1, 1);
	meta(FU_CLOSE, 1);
	u_bo(VIRGO_OP_RESOURCE_INFO, 1, 1);
	meta(FU_REOPEN, 1);
	u_exec(1, 4, 4);
	{	/* invalid pointers, wrong sizes, unknown ops */
		struct virgo_execbuffer e = { .size = 16, .command = 0xf000000000000010ull, .num_bo_handles = 0 };
		uint8_t z[64] = { 0 };

		rq(VIRGO_OP_EXECBUFFER, 0, &e);
		e.size = 6;
		e.command = 0;
		rq(VIRGO_OP_EXECBUFFER, 0, &e);
		u8(VIRGO_OP_GET_PARAM); u8(0); u8(8); put(z, 8);
		u8(0); u8(0); u8(16); put(z, 16);
		u8(15); u8(0); u8(16); put(z, 16);
	}
	meta(FU_FAIL_ALLOC, 0);
	u8(3);
	u_tex(0, 16, 16);
	meta(FU_FAIL_COPY, 0);
	u8(1);
	u_exec(0, 4, 1);
	meta(FU_NEEDS_RESET, 0);
	u_exec(0, 4, 1);
	meta(FU_GPU_RESET, 0);
	save(F, "handles-abuse");
}

/* ---- fuzz_device ------------------------------------------------------------ */

#define D_DATA (0x40000000ull + 6u * 4096u) /* RAM_BUS_BASE + the rings */

static void d_cmd(uint8_t q, const void *req, uint16_t len, uint16_t rlen)
{
	u8(FD_CMD);
	u8(q);
	u16(len);
	put(req, len);
	u16(rlen);
}

static void seeds_device(void)
{
	const char *F = "fuzz_device";
	struct virtio_gpu_ctrl_hdr di = { .type = VIRTIO_GPU_CMD_GET_DISPLAY_INFO };
	struct virtio_gpu_get_capset_info ci = { .hdr.type = VIRTIO_GPU_CMD_GET_CAPSET_INFO, .capset_index = 1 };
	struct virtio_gpu_get_capset gc = { .hdr.type = VIRTIO_GPU_CMD_GET_CAPSET, .capset_id = 2, .capset_version = 2 };
	struct virtio_gpu_get_edid ge = { .hdr.type = VIRTIO_GPU_CMD_GET_EDID };
	struct virtio_gpu_ctx_create cc = { .hdr = { .type = VIRTIO_GPU_CMD_CTX_CREATE, .ctx_id = 1 }, .nlen = 4,
					    .context_init = 2 };
	struct virtio_gpu_resource_create_3d c3 = { .hdr.type = VIRTIO_GPU_CMD_RESOURCE_CREATE_3D, .resource_id = 1,
						    .target = 2, .format = 1, .bind = 2, .width = 16, .height = 16,
						    .depth = 1, .array_size = 1 };
	struct {
		struct virtio_gpu_resource_attach_backing a;
		struct virtio_gpu_mem_entry e[1];
	} ab = { { { .type = VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING }, 1, 1 }, { { D_DATA + 65536, 1024, 0 } } };
	struct virtio_gpu_ctx_resource car = { .hdr = { .type = VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE, .ctx_id = 1 },
					       .resource_id = 1 };
	struct {
		struct virtio_gpu_cmd_submit s;
		uint32_t cmd[4];
	} sub = { { { .type = VIRTIO_GPU_CMD_SUBMIT_3D, .flags = VIRTIO_GPU_FLAG_FENCE, .fence_id = 1, .ctx_id = 1 },
		    16, 0 }, { 0, 0, 0, 0 } };
	struct virtio_gpu_transfer_host_3d th = { .hdr = { .type = VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D, .ctx_id = 1 },
						  .box = { 0, 0, 0, 16, 16, 1 }, .resource_id = 1 };
	struct virtio_gpu_resource_create_blob cb = { .hdr = { .type = VIRTIO_GPU_CMD_RESOURCE_CREATE_BLOB, .ctx_id = 1 },
						      .resource_id = 2, .blob_mem = 1, .blob_flags = 1, .nr_entries = 1,
						      .size = 4096 };
	struct virtio_gpu_mem_entry me = { D_DATA + 131072, 4096, 0 };
	struct virtio_gpu_update_cursor uc = { .hdr.type = VIRTIO_GPU_CMD_UPDATE_CURSOR, .resource_id = 1 };
	struct virtio_gpu_resource_unref un = { .hdr.type = VIRTIO_GPU_CMD_RESOURCE_UNREF, .resource_id = 1 };
	struct virtio_gpu_ctx_destroy cd = { .hdr = { .type = VIRTIO_GPU_CMD_CTX_DESTROY, .ctx_id = 1 } };

	memcpy(cc.debug_name, "fuzz", 4);
	d_cmd(0, &di, sizeof(di), 408);
	d_cmd(0, &ci, sizeof(ci), 40);
	d_cmd(0, &gc, sizeof(gc), 24 + 1376);
	d_cmd(0, &ge, sizeof(ge), 24 + 8 + 1024);
	save(F, "queries");

	d_cmd(0, &cc, sizeof(cc), 24);
	d_cmd(0, &c3, sizeof(c3), 24);
	d_cmd(0, &ab, sizeof(ab), 24);
	d_cmd(0, &car, sizeof(car), 24);
	d_cmd(0, &sub, sizeof(sub), 24);
	d_cmd(0, &th, sizeof(th), 24);
	th.hdr.type = VIRTIO_GPU_CMD_TRANSFER_FROM_HOST_3D;
	th.hdr.flags = VIRTIO_GPU_FLAG_FENCE;
	th.hdr.fence_id = 2;
	d_cmd(0, &th, sizeof(th), 24);
	{
		uint8_t blob[sizeof(cb) + sizeof(me)];

		memcpy(blob, &cb, sizeof(cb));
		memcpy(blob + sizeof(cb), &me, sizeof(me));
		d_cmd(0, blob, sizeof(blob), 24);
	}
	d_cmd(1, &uc, sizeof(uc), 0);
	d_cmd(0, &un, sizeof(un), 24);
	d_cmd(0, &cd, sizeof(cd), 24);
	save(F, "scene");

	/* raw chains: a good one, then the hostile shapes of tests/host */
	u8(FD_POKE); u16(0); u16(sizeof(di)); put(&di, sizeof(di));
	u8(FD_CHAIN); u8(0); u8(1);
	u8(0); u64(0); u32(24); u16(1); u16(1);
	u8(0); u64(1024); u32(408); u16(2); u16(0);
	u16(0);
	u8(FD_CHAIN); u8(0); u8(2);
	u8(0); u64(0); u32(24); u16(1); u16(1);
	u8(0); u64(1024); u32(24); u16(3); u16(2);
	u8(0); u64(0); u32(24); u16(0); u16(0);
	u16(0);
	u8(FD_CHAIN); u8(0); u8(0);
	u8(0); u64(0); u32(24); u16(1); u16(999);
	u16(0);
	u8(FD_CHAIN); u8(0); u8(0);
	u8(0); u64(0); u32(24); u16(0); u16(0);
	u16(20);
	u8(FD_AVAIL); u8(0); u16(100);
	u8(FD_RESET);
	u8(FD_NOTIFY); u8(3);
	u8(FD_CFG); u8(4); u32(1);
	u8(FD_REG); u16(0x16); u8(1); u16(0); u16(0);
	u8(FD_BAD_RINGS);
	d_cmd(0, &di, sizeof(di), 408);
	save(F, "chains");
}

/* ---- fuzz_transport -------------------------------------------------------- */

static uint32_t seq;

static void w_req(uint32_t op, const void *arg, const void *in, uint32_t in_size, uint32_t out_size)
{
	struct virgo_wire_req r = { .magic = VIRGO_WIRE_MAGIC, .version = VIRGO_UAPI_VERSION, .op = (uint16_t)op,
				    .arg_size = virgo_op_arg_size(op), .in_size = in_size, .out_size = out_size,
				    .seq = ++seq };
	put(&r, sizeof(r));
	put(arg, r.arg_size);
	put(in, in_size);
}

static void w_bo(uint32_t op, uint32_t bo, uint32_t out_size)
{
	uint8_t a[64] = { 0 };

	memcpy(a, &bo, 4);
	w_req(op, a, NULL, 0, out_size);
}

static void seeds_transport(void)
{
	const char *F = "fuzz_transport";
	struct virgo_get_param gp = { .param = VIRGO_PARAM_UAPI_VERSION };
	struct virgo_get_caps gc = { .cap_set_id = 2, .cap_set_ver = 2, .addr = 0, .size = 1376 };
	struct virgo_ctx_set_param sp[3] = { { 1, 2 }, { 2, 1 }, { 4, 48 } };
	uint8_t ci_in[64] = { 0 };
	struct virgo_context_init ci = { .num_params = 3, .ctx_set_params = 0 };
	struct virgo_resource_create rc = { .target = 2, .format = 1, .bind = 2, .width = 64, .height = 64, .depth = 1,
					    .array_size = 1, .size = 64 * 64 * 4 };
	uint8_t ex_in[32 + 4] = { 0 };
	uint32_t one = 1;
	struct virgo_execbuffer ex = { .size = 32, .command = 0, .bo_handles = 32, .num_bo_handles = 1 };
	struct virgo_fence_wait fw = { .fence = 1, .timeout_ns = 1000000000ull };
	struct virgo_transfer tr = { .bo_handle = 1, .box = { 0, 0, 0, 64, 64, 1 } };

	memcpy(ci_in, sp, sizeof(sp));
	memcpy(ci_in + 48, "fuzz", 5);
	memcpy(ex_in + 32, &one, 4);

	for (uint64_t p = 1; p <= 7; p++) {
		gp.param = p;
		w_req(VIRGO_OP_GET_PARAM, &gp, NULL, 0, 0);
	}
	w_req(VIRGO_OP_GET_CAPS, &gc, NULL, 0, 1376);
	save(F, "params-caps");

	w_req(VIRGO_OP_CONTEXT_INIT, &ci, ci_in, sizeof(ci_in), 0);
	w_req(VIRGO_OP_RESOURCE_CREATE, &rc, NULL, 0, 0);
	w_req(VIRGO_OP_EXECBUFFER, &ex, ex_in, sizeof(ex_in), 0);
	w_req(VIRGO_OP_FENCE_WAIT, &fw, NULL, 0, 0);
	w_req(VIRGO_OP_TRANSFER_TO_HOST, &tr, NULL, 0, 0);
	w_req(VIRGO_OP_TRANSFER_FROM_HOST, &tr, NULL, 0, 0);
	w_bo(VIRGO_OP_WAIT, 1, 0);
	w_bo(VIRGO_OP_MAP, 1, VIRGO_WIRE_MAP_OUT);
	w_bo(VIRGO_OP_RESOURCE_INFO, 1, 0);
	w_bo(VIRGO_OP_UNMAP, 1, 0);
	w_bo(VIRGO_OP_MAP, 1, 16);
	w_bo(VIRGO_OP_RESOURCE_CLOSE, 1, 0);
	save(F, "triangle");

	{	/* blobs, then malformed: short in-data, bad pointers, bad header */
		struct virgo_resource_create_blob b = { .blob_mem = VIRGO_BLOB_MEM_GUEST,
							.blob_flags = VIRGO_BLOB_FLAG_USE_MAPPABLE, .size = 4096 };
		struct virgo_wire_req bad = { .magic = VIRGO_WIRE_MAGIC, .version = 9, .op = 1, .arg_size = 16 };

		w_req(VIRGO_OP_RESOURCE_CREATE_BLOB, &b, NULL, 0, 0);
		w_bo(VIRGO_OP_MAP, 1, VIRGO_WIRE_MAP_OUT);
		ex.command = 100;
		w_req(VIRGO_OP_EXECBUFFER, &ex, ex_in, sizeof(ex_in), 0);
		gc.addr = 1000;
		w_req(VIRGO_OP_GET_CAPS, &gc, NULL, 0, 1376);
		w_req(0, &gp, NULL, 0, 0);
		put(&bad, sizeof(bad));
	}
	save(F, "blob-malformed");
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: gen_seeds OUTDIR\n");
		return 2;
	}
	outdir = argv[1];
	mkdir(outdir, 0755);
	seeds_uapi();
	seeds_device();
	seeds_transport();
	return 0;
}

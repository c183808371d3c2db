/* SPDX-License-Identifier: MIT */
/*
 * fuzz_uapi: a hostile process against the KMD core's uAPI dispatcher
 * (core_ioctl), on the unit tests' fake machine (tests/unit/fake.h). Each
 * input is a program (fuzz_uapi_prog.h): requests over FU_HANDLES open
 * handles, interleaved with device scripting (ERR answers, held or dropped
 * requests, held fences), virtual time, resets and fault injection. After
 * it every handle is closed, the core finished and the machine freed; a
 * leak, a live device object or any rule violation of the fake aborts.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <virgo/uapi.h>
#include <virgo/virtio_gpu.h>
#include <virgo/virtio_pci.h>
#include <virgo/virtio_ring.h>

#include "core.h"
#include "fake.h"
#include "fuzz_input.h"
#include "fuzz_uapi_prog.h"
#include "t.h"

/* ---- t.h for the fake: every failure is a finding ------------------------ */

void t_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "fuzz_uapi: FAIL %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

_Noreturn void t_abort_test(void)
{
	abort();
}

bool t_failed(void)
{
	return false;
}

const char *t_current(void)
{
	return "fuzz_uapi";
}

void t_after_each(void (*fn)(bool failed))
{
	(void)fn;
}

void t_register(struct t_test *t)
{
	(void)t;
}

bool t_check_eq(const char *file, int line, const char *ea, const char *eb, long long a, long long b, bool eq)
{
	if ((a == b) != eq)
		t_fail(file, line, "%s (%lld) %s %s (%lld)", ea, a, eq ? "!=" : "==", eb, b);
	return true;
}

#define DIE(...) t_fail(__FILE__, __LINE__, __VA_ARGS__)

/* ---- the harness ----------------------------------------------------------- */

/* The in-data: pointers land in its first FU_WIN bytes; what follows leaves
 * room for the longest legal read (an exec stream) and ends in ASan's
 * redzone, so a read past a documented limit is caught. */
#define INDATA_SIZE (FU_WIN + VIRGO_MAX_EXEC_SIZE)
static uint8_t *indata;

static const uint32_t cmd_table[] = {
	FAKE_CMD_ANY,
	VIRTIO_GPU_CMD_GET_DISPLAY_INFO,
	VIRTIO_GPU_CMD_RESOURCE_UNREF,
	VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING,
	VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING,
	VIRTIO_GPU_CMD_GET_CAPSET_INFO,
	VIRTIO_GPU_CMD_GET_CAPSET,
	VIRTIO_GPU_CMD_GET_EDID,
	VIRTIO_GPU_CMD_RESOURCE_CREATE_BLOB,
	VIRTIO_GPU_CMD_CTX_CREATE,
	VIRTIO_GPU_CMD_CTX_DESTROY,
	VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE,
	VIRTIO_GPU_CMD_CTX_DETACH_RESOURCE,
	VIRTIO_GPU_CMD_RESOURCE_CREATE_3D,
	VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D,
	VIRTIO_GPU_CMD_TRANSFER_FROM_HOST_3D,
	VIRTIO_GPU_CMD_SUBMIT_3D,
	VIRTIO_GPU_CMD_RESOURCE_MAP_BLOB,
	VIRTIO_GPU_CMD_RESOURCE_UNMAP_BLOB,
};
#define NCMD (sizeof(cmd_table) / sizeof(cmd_table[0]))

static const uint32_t resp_table[] = {
	VIRTIO_GPU_RESP_ERR_UNSPEC,
	VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY,
	VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID,
	VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID,
	VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID,
	VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER,
	VIRTIO_GPU_RESP_OK_NODATA,      /* right type for some, wrong for others */
	VIRTIO_GPU_RESP_OK_DISPLAY_INFO,
};
#define NRESP (sizeof(resp_table) / sizeof(resp_table[0]))

struct fz {
	struct os_dev *os;
	struct fake_dev *d;
	struct gpu_dev *gpu;
	struct os_caller *c[FU_HANDLES];
	struct core_file *f[FU_HANDLES];
};

static uint64_t map_ptr(uint64_t v)
{
	if ((v >> 60) == 0xf)
		return v & 0xffff; /* below 64 KiB: the fake's copies fault */
	return (uint64_t)(uintptr_t)(indata + (v % FU_WIN));
}

static void fix_ptr(uint8_t *args, uint32_t size, uint32_t off)
{
	uint64_t v;

	if (off + 8 > size)
		return;
	memcpy(&v, args + off, 8);
	v = map_ptr(v);
	memcpy(args + off, &v, 8);
}

static void fix_handle(uint8_t *args, uint32_t size, uint32_t off)
{
	uint32_t v;

	if (off + 4 > size)
		return;
	memcpy(&v, args + off, 4);
	if (v < 0x80000000u)
		v &= 0xf;
	memcpy(args + off, &v, 4);
}

static void fixup(uint32_t op, uint8_t *args, uint32_t size)
{
	switch (op) {
	case VIRGO_OP_GET_CAPS:
		fix_ptr(args, size, 8);
		break;
	case VIRGO_OP_CONTEXT_INIT:
		fix_ptr(args, size, 8);
		if (size >= 16) {
			uint32_t n;
			uint64_t p;

			memcpy(&n, args, 4);
			memcpy(&p, args + 8, 8);
			if (p >= (uint64_t)(uintptr_t)indata) {
				/* DEBUG_NAME values are pointers too. */
				uint8_t *a = (uint8_t *)(uintptr_t)p;

				for (uint32_t i = 0; i < n && i < 16; i++) {
					struct virgo_ctx_set_param sp;

					memcpy(&sp, a + 16 * i, sizeof(sp));
					if (sp.param == VIRGO_CTX_PARAM_DEBUG_NAME) {
						sp.value = map_ptr(sp.value);
						memcpy(a + 16 * i, &sp, sizeof(sp));
					}
				}
			}
		}
		break;
	case VIRGO_OP_RESOURCE_CREATE_BLOB:
		fix_ptr(args, size, 32);
		break;
	case VIRGO_OP_EXECBUFFER:
		fix_ptr(args, size, 8);
		fix_ptr(args, size, 16);
		break;
	case VIRGO_OP_RESOURCE_INFO:
	case VIRGO_OP_RESOURCE_CLOSE:
	case VIRGO_OP_MAP:
	case VIRGO_OP_UNMAP:
	case VIRGO_OP_TRANSFER_TO_HOST:
	case VIRGO_OP_TRANSFER_FROM_HOST:
	case VIRGO_OP_WAIT:
		fix_handle(args, size, 0);
		break;
	default:
		break;
	}
}

/* Commands of type the device answered with anything but OK_NODATA: a
 * teardown the device refused. */
static unsigned refused(struct fake_dev *d, uint32_t type)
{
	unsigned n = 0;

	for (size_t i = 0; i < fake_dev_log_count(d); i++) {
		const struct fake_cmd *c = fake_dev_log(d, i);

		n += c->type == type && c->resp_type && c->resp_type != VIRTIO_GPU_RESP_OK_NODATA;
	}
	return n;
}

static void close_handle(struct fz *z, unsigned h)
{
	if (!z->f[h])
		return;
	core_cleanup(z->f[h], z->c[h]);
	core_close(z->f[h]);
	z->f[h] = NULL;
	fake_run(z->os);
}

static void do_request(struct fz *z, struct fin *in, uint8_t kind, unsigned h)
{
	_Alignas(8) uint8_t args[64];
	uint32_t op = kind & 0x0f;
	uint8_t szmode = fin_u8(in);
	uint32_t size = szmode ? szmode % 65u : virgo_op_arg_size(op);

	fin_bytes(in, args, size);
	if (!z->f[h])
		return; /* a closed handle takes no requests */
	fixup(op, args, size);
	(void)core_ioctl(z->f[h], z->c[h], op, args, size);
}

static void run_program(struct fz *z, struct fin *in)
{
	while (fin_more(in)) {
		uint8_t kind = fin_u8(in);
		unsigned h = fin_u8(in) % FU_HANDLES;

		if (kind < 0x40) {
			do_request(z, in, kind, h);
			continue;
		}
		switch (kind) {
		case FU_POKE: {
			uint16_t off = fin_u16(in), len = fin_u16(in) % 4097u;

			fin_bytes(in, indata + off, len);
			break;
		}
		case FU_ADVANCE:
			fake_advance(z->os, (uint64_t)fin_u32(in) * 1000u);
			break;
		case FU_ERR: {
			uint32_t cmd = cmd_table[fin_u8(in) % NCMD], resp = resp_table[fin_u8(in) % NRESP];

			fake_dev_script_err(z->d, cmd, resp, fin_u8(in) % 8u + 1u);
			break;
		}
		case FU_SCRIPT: {
			uint32_t cmd = cmd_table[fin_u8(in) % NCMD];
			enum fake_action a = (enum fake_action)(fin_u8(in) % 4u);

			fake_dev_script(z->d, cmd, a, fin_u8(in) % 8u + 1u);
			break;
		}
		case FU_SCRIPT_CLEAR:
			fake_dev_script_clear(z->d);
			break;
		case FU_RELEASE:
			fake_dev_release(z->d);
			fake_run(z->os);
			break;
		case FU_HOLD_FENCES: {
			bool hold = fin_u8(in) & 1;

			fake_dev_hold_fences(z->d, hold, (uint64_t)fin_u32(in) * 1000u);
			fake_run(z->os);
			break;
		}
		case FU_COMPLETE:
			fake_dev_complete_fences(z->d, fin_u64(in));
			fake_run(z->os);
			break;
		case FU_REOPEN:
			close_handle(z, h);
			(void)core_open(z->gpu, &z->f[h]);
			break;
		case FU_CLOSE:
			close_handle(z, h);
			break;
		case FU_NEEDS_RESET:
			fake_dev_set_needs_reset(z->d);
			fake_run(z->os);
			break;
		case FU_GPU_RESET:
			(void)gpu_reset(z->gpu);
			break;
		case FU_DISPLAY_EVENT:
			fake_dev_display_event(z->d);
			fake_run(z->os);
			break;
		case FU_RUN:
			fake_run(z->os);
			break;
		case FU_FAIL_ALLOC:
			fake_fail_alloc(z->os, fin_u8(in) % 32u);
			break;
		case FU_FAIL_COPY:
			fake_fail_copy(z->os, fin_u8(in) % 16u);
			break;
		default:
			break;
		}
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	indata = malloc(INDATA_SIZE);
	if (!indata)
		abort();
	memset(indata, 0, INDATA_SIZE);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fin in = { data, size, 0 };
	struct fake_config cfg;
	struct gpu_params p = { 0 };
	struct gpu_stats gs;
	const struct fake_dev_stats *ds;
	struct fz z = { 0 };
	uint8_t c = fin_u8(&in);
	unsigned problems;

	memset(indata, 0, FU_WIN + 4096);
	fake_config_init(&cfg);
	cfg.ram_size = 16ull << 20;
	if (c & FU_CFG_BLOB)
		cfg.features |= VIRTIO_FEATURE_BIT(VIRTIO_GPU_F_RESOURCE_BLOB);
	if (c & FU_CFG_CTX_INIT)
		cfg.features |= VIRTIO_FEATURE_BIT(VIRTIO_GPU_F_CONTEXT_INIT);
	if (c & FU_CFG_INTX)
		cfg.msix_count = 0;
	cfg.fence32 = (c & FU_CFG_FENCE32) != 0;
	if (c & FU_CFG_HOSTMEM)
		cfg.hostmem_size = 4ull << 20;
	if (c & FU_CFG_ONE_CAPSET)
		cfg.num_capsets = 1;
	if (c & FU_CFG_FENCE_WRAP)
		p.first_fence = 0xfffffff0ull;
	z.os = fake_machine_new(&cfg);
	if (!z.os)
		DIE("fake_machine_new");
	z.d = fake_dev_of(z.os);
	/* A scripted OK to UNREF that leaves the backing attached is a lie
	 * only a malicious host tells, and it can write guest memory anyway
	 * (tests/fuzz/regress/fuzz_uapi/ok-answer-to-unref-that-did-nothing.*):
	 * those commands always run. */
	fake_dev_honest_give_back(z.d, true);
	if (fake_gpu_init(z.os, &p, &z.gpu) || !z.gpu)
		DIE("gpu_init failed on a healthy fake");
	if (c & FU_CFG_HOLD)
		fake_dev_hold_fences(z.d, true, 0);
	for (unsigned h = 0; h < FU_HANDLES; h++) {
		z.c[h] = fake_caller_new(z.os);
		if (!z.c[h] || core_open(z.gpu, &z.f[h]))
			DIE("open");
	}

	run_program(&z, &in);

	/* Tear down as the OS does, then everything must be gone. */
	fake_fail_alloc(z.os, 0);
	fake_fail_copy(z.os, 0);
	fake_dev_script_clear(z.d);
	for (unsigned h = 0; h < FU_HANDLES; h++)
		close_handle(&z, h);
	for (unsigned h = 0; h < FU_HANDLES; h++)
		fake_caller_free(z.c[h]);
	fake_run(z.os);
	gpu_get_stats(z.gpu, &gs);
	if (gs.files || gs.resources)
		DIE("after closing every handle: %u files, %u resources live in the core", gs.files, gs.resources);
	ds = fake_dev_stats(z.d);
	/* What the device refused to destroy (an ERR answer to RESOURCE_UNREF
	 * or CTX_DESTROY) stays there by design: the core keeps its pages
	 * until the reset (test_core_faults.c, unref_err_*). Anything else left
	 * on a healthy device is a leak; fake_gpu_fini's reset then takes the
	 * rest, and the machine must come out clean. */
	if (!gpu_is_lost(z.gpu) && fake_dev_held(z.d) == 0 &&
	    (ds->ctxs > refused(z.d, VIRTIO_GPU_CMD_CTX_DESTROY) ||
	     ds->resources > refused(z.d, VIRTIO_GPU_CMD_RESOURCE_UNREF) || ds->backings > ds->resources))
		DIE("after closing every handle the device still has %u contexts, %u resources, %u backings "
		    "(%u destroys and %u unrefs refused)", ds->ctxs, ds->resources, ds->backings,
		    refused(z.d, VIRTIO_GPU_CMD_CTX_DESTROY), refused(z.d, VIRTIO_GPU_CMD_RESOURCE_UNREF));
	fake_gpu_fini(z.os, z.gpu);
	if (fake_dev_held(z.d))
		DIE("device holds %u requests after gpu_fini", fake_dev_held(z.d));
	if (fake_stats(z.os)->violations)
		DIE("%llu violations", (unsigned long long)fake_stats(z.os)->violations);
	problems = fake_machine_free(z.os);
	if (problems)
		DIE("fake_machine_free: %u problems", problems);
	return 0;
}

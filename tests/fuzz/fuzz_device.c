/* SPDX-License-Identifier: MIT */
/*
 * fuzz_device: a hostile guest against virgo-host's device model
 * (host/vgpu + vqdev + ram, on real virglrenderer). The harness is the
 * guest: it writes rings, descriptor chains and command bytes straight into
 * guest RAM from the input (fuzz_device_prog.h), as tests/host does. The
 * device and virglrenderer start once per process (LLVMFuzzerInitialize);
 * every input starts from a device reset through the status register, and
 * after it the device, reset again, must answer GET_DISPLAY_INFO and hold
 * no context or resource.
 *
 * The device runs in its manual mode (vgpu_config.manual): no device
 * thread; after each guest action the harness runs the device's loop once
 * (vgpu_run), so an answer that does not come is known at once instead of
 * after a 20 ms wait, and an input replays the same way every time. Every
 * parser the guest reaches is the same code as with the thread; only the
 * thread hand-off is not exercised here (tests/host does that).
 * VIRGO_FUZZ_THREADED=1 runs the device thread as virgo-host does.
 */
#include <stdarg.h>
#include <stdio.h>
#include <virgl/virglrenderer.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <virgo/virtio_gpu.h>
#include <virgo/virtio_pci.h>
#include <virgo/virtio_ring.h>

#include "fuzz_device_prog.h"
#include "fuzz_input.h"
#include "log.h"
#include "ram.h"
#include "vgpu.h"
#include "vpci.h"

#define QSIZE 16u
#define NQ 2u
#define RAM_SIZE (16u << 20)
#define NPAGES (NQ * 3u + FD_DATA_SIZE / RAM_PAGE)

#define DIE(...)                                                          \
	do {                                                              \
		fprintf(stderr, "fuzz_device: FAIL %s:%d: ", __FILE__, __LINE__); \
		fprintf(stderr, __VA_ARGS__);                             \
		fputc('\n', stderr);                                      \
		abort();                                                  \
	} while (0)

struct q {
	uint64_t desc, avail, used;
	uint16_t avail_idx, used_seen;
};

static struct {
	struct ram ram;
	struct vgpu *g;
	struct vpci *pci;
	struct q q[NQ];
	uint64_t data;          /* bus address of the data area */
	uint32_t next_data;     /* FD_CMD's allocator in the data area */
	bool threaded;          /* VIRGO_FUZZ_THREADED: the device thread, as in virgo-host */
} G;

static void irq(void *arg, int vector)
{
	(void)arg;
	(void)vector;
}

static void *at(uint64_t bus, uint64_t len)
{
	void *p = ram_ptr(&G.ram, bus, len);

	if (!p)
		DIE("harness address %#llx outside RAM", (unsigned long long)bus);
	return p;
}

static void wr(uint32_t off, unsigned w, uint32_t v)
{
	vpci_write(G.pci, VPCI_COMMON_OFF + off, w, v);
}

static uint8_t status(void)
{
	return (uint8_t)vpci_read(G.pci, VPCI_COMMON_OFF + VIRTIO_PCI_COMMON_DEVICE_STATUS, 1);
}

static void set_queue(uint16_t i, uint64_t desc, uint64_t avail, uint64_t used)
{
	wr(VIRTIO_PCI_COMMON_QUEUE_SELECT, 2, i);
	wr(VIRTIO_PCI_COMMON_QUEUE_SIZE, 2, QSIZE);
	wr(VIRTIO_PCI_COMMON_QUEUE_DESC_LO, 4, (uint32_t)desc);
	wr(VIRTIO_PCI_COMMON_QUEUE_DESC_HI, 4, (uint32_t)(desc >> 32));
	wr(VIRTIO_PCI_COMMON_QUEUE_DRIVER_LO, 4, (uint32_t)avail);
	wr(VIRTIO_PCI_COMMON_QUEUE_DRIVER_HI, 4, (uint32_t)(avail >> 32));
	wr(VIRTIO_PCI_COMMON_QUEUE_DEVICE_LO, 4, (uint32_t)used);
	wr(VIRTIO_PCI_COMMON_QUEUE_DEVICE_HI, 4, (uint32_t)(used >> 32));
	wr(VIRTIO_PCI_COMMON_QUEUE_ENABLE, 2, 1);
}

/* Reset and a driver start; bad: the rings outside guest RAM. */
static void guest_up(bool bad)
{
	uint64_t f = VIRTIO_FEATURE_BIT(VIRTIO_F_VERSION_1) | VIRTIO_FEATURE_BIT(VIRTIO_GPU_F_VIRGL) |
		     VIRTIO_FEATURE_BIT(VIRTIO_GPU_F_EDID) | VIRTIO_FEATURE_BIT(VIRTIO_GPU_F_RESOURCE_BLOB) |
		     VIRTIO_FEATURE_BIT(VIRTIO_GPU_F_CONTEXT_INIT);

	wr(VIRTIO_PCI_COMMON_DEVICE_STATUS, 1, 0);
	memset(at(G.q[0].desc, NQ * 3 * RAM_PAGE), 0, NQ * 3 * RAM_PAGE);
	wr(VIRTIO_PCI_COMMON_DEVICE_STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr(VIRTIO_PCI_COMMON_DRIVER_FEATURE_SELECT, 4, 0);
	wr(VIRTIO_PCI_COMMON_DRIVER_FEATURE, 4, (uint32_t)f);
	wr(VIRTIO_PCI_COMMON_DRIVER_FEATURE_SELECT, 4, 1);
	wr(VIRTIO_PCI_COMMON_DRIVER_FEATURE, 4, (uint32_t)(f >> 32));
	wr(VIRTIO_PCI_COMMON_DEVICE_STATUS, 1,
	   VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	if (!(status() & VIRTIO_STATUS_FEATURES_OK))
		DIE("FEATURES_OK refused");
	for (uint16_t i = 0; i < NQ; i++) {
		if (bad)
			set_queue(i, 0x1000 + i * 0x3000, 0x2000 + i * 0x3000, 0x3000 + i * 0x3000);
		else
			set_queue(i, G.q[i].desc, G.q[i].avail, G.q[i].used);
		G.q[i].avail_idx = G.q[i].used_seen = 0;
	}
	wr(VIRTIO_PCI_COMMON_DEVICE_STATUS, 1,
	   VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
	G.next_data = 0;
}

static void notify(uint16_t qi)
{
	vpci_write(G.pci, VPCI_NOTIFY_OFF + qi * VPCI_NOTIFY_MULT, 2, qi);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Manual mode: lets the device act on what the guest just did. */
static unsigned run_device(void)
{
	return G.threaded ? 0 : vgpu_run(G.g);
}

/* Waits until the device used something on queue qi (true) or asks for a
 * reset, or ms pass (false). In manual mode the wait ends as soon as a pass
 * of the device leaves nothing pending (no answer held for a fence). */
static bool wait_used(uint16_t qi, unsigned ms, uint32_t *len)
{
	volatile struct vring_used *us = at(G.q[qi].used, RAM_PAGE);
	uint64_t end = now_ns() + (uint64_t)ms * 1000000u;

	for (unsigned spin = 0;; spin++) {
		uint16_t idx = __atomic_load_n(&us->idx, __ATOMIC_ACQUIRE);
		unsigned pending;

		if (idx != G.q[qi].used_seen) {
			if (len)
				*len = us->ring[G.q[qi].used_seen % QSIZE].len;
			G.q[qi].used_seen = idx;
			return true;
		}
		if (status() & VIRTIO_STATUS_DEVICE_NEEDS_RESET)
			return false;
		if (now_ns() > end)
			return false;
		if (!G.threaded) {
			pending = vgpu_run(G.g);
			idx = __atomic_load_n(&us->idx, __ATOMIC_ACQUIRE);
			if (idx == G.q[qi].used_seen && !pending)
				return false;
			continue;
		}
		if (spin > 200) {
			struct timespec ts = { 0, 20000 };

			nanosleep(&ts, NULL);
		}
	}
}

static void post(uint16_t qi, const struct vring_desc *d, unsigned n, uint16_t head)
{
	volatile struct vring_desc *dt = at(G.q[qi].desc, RAM_PAGE);
	volatile struct vring_avail *av = at(G.q[qi].avail, RAM_PAGE);

	for (unsigned i = 0; i < n && i < QSIZE; i++)
		dt[i] = d[i];
	av->ring[G.q[qi].avail_idx % QSIZE] = head;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	av->idx = ++G.q[qi].avail_idx;
	notify(qi);
	(void)wait_used(qi, 20, NULL);
}

static uint64_t put(const void *p, uint32_t len)
{
	uint64_t bus;

	if (G.next_data + len > FD_DATA_SIZE)
		G.next_data = 0;
	bus = G.data + G.next_data;
	memcpy(at(bus, len ? len : 1), p, len);
	G.next_data += (len + 63) & ~63u;
	return bus;
}

/* A well-formed request on the control queue; the answer's type, or 0 when
 * none came within ms. */
static uint32_t call(const void *req, uint32_t len, void *resp, uint32_t resp_len, unsigned ms)
{
	uint64_t rb = put(req, len), wb = put(resp, resp_len);
	struct vring_desc d[2] = { { rb, len, VRING_DESC_F_NEXT, 1 }, { wb, resp_len, VRING_DESC_F_WRITE, 0 } };
	volatile struct vring_desc *dt = at(G.q[0].desc, RAM_PAGE);
	volatile struct vring_avail *av = at(G.q[0].avail, RAM_PAGE);

	memset(at(wb, resp_len), 0xee, resp_len);
	dt[0] = d[0];
	dt[1] = d[1];
	av->ring[G.q[0].avail_idx % QSIZE] = 0;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	av->idx = ++G.q[0].avail_idx;
	notify(0);
	if (!wait_used(0, ms, NULL))
		return 0;
	memcpy(resp, at(wb, resp_len), resp_len);
	return ((struct virtio_gpu_ctrl_hdr *)resp)->type;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* virglrenderer reports every refused command on stderr: millions of
 * lines over a long run. */
static void quiet(const char *fmt, va_list ap)
{
	(void)fmt;
	(void)ap;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct vgpu_config cfg = { .queue_size = QSIZE, .msix = 0, .irq = irq,
				   .features = VIRTIO_FEATURE_BIT(VIRTIO_GPU_F_VIRGL) |
					       VIRTIO_FEATURE_BIT(VIRTIO_GPU_F_EDID) |
					       VIRTIO_FEATURE_BIT(VIRTIO_GPU_F_RESOURCE_BLOB) |
					       VIRTIO_FEATURE_BIT(VIRTIO_GPU_F_CONTEXT_INIT),
				   /* Far inside libFuzzer's RSS limit: the default
				    * budget is a host's to spend, not a fuzzer's. */
				   .max_hostmem = 256ull << 20 };
	struct ram_run *run;
	uint32_t n;

	(void)argc;
	(void)argv;
	hlog_level = getenv("VIRGO_FUZZ_VERBOSE") ? HLOG_DEBUG : -1;
	if (!getenv("VIRGO_FUZZ_VERBOSE"))
		virgl_set_debug_callback(quiet);
	G.threaded = getenv("VIRGO_FUZZ_THREADED") != NULL;
	cfg.manual = !G.threaded;
	/* llvmpipe rasterizes on the calling thread: a fence is done by the
	 * time the device polls for it, and a run does not depend on how its
	 * rasterizer threads were scheduled. */
	if (cfg.manual)
		setenv("LP_NUM_THREADS", "0", 0);
	if (ram_create(&G.ram, RAM_SIZE))
		DIE("ram_create");
	if (ram_alloc(&G.ram, NPAGES, true, &run, &n) || n != 1)
		DIE("ram_alloc");
	for (unsigned i = 0; i < NQ; i++) {
		G.q[i].desc = run[0].bus + (3 * i) * RAM_PAGE;
		G.q[i].avail = G.q[i].desc + RAM_PAGE;
		G.q[i].used = G.q[i].desc + 2 * RAM_PAGE;
	}
	G.data = run[0].bus + NQ * 3 * RAM_PAGE;
	free(run);
	if (vgpu_create(&G.ram, &cfg, &G.g))
		DIE("vgpu_create: no EGL/virglrenderer?");
	G.pci = vgpu_pci(G.g);
	return 0;
}

static void do_chain(struct fin *in)
{
	uint16_t qi = fin_u8(in) % NQ;
	unsigned n = fin_u8(in) % 8u + 1u;
	struct vring_desc d[8];

	for (unsigned i = 0; i < n; i++) {
		uint8_t mode = fin_u8(in) % 3u;
		uint64_t a = fin_u64(in);

		if (mode == 0)
			a = G.data + a % FD_DATA_SIZE;
		else if (mode == 1)
			a = RAM_BUS_BASE + a % ((uint64_t)RAM_SIZE + 8192u);
		d[i].addr = a;
		d[i].len = fin_u32(in);
		d[i].flags = fin_u16(in);
		d[i].next = fin_u16(in);
	}
	post(qi, d, n, fin_u16(in));
}

static void do_cmd(struct fin *in)
{
	static uint8_t req[4096], resp[4096];
	uint16_t qi = fin_u8(in) % NQ;
	uint16_t len = fin_u16(in) % 4097u, rlen;
	uint64_t rb, wb;

	fin_bytes(in, req, len);
	rlen = fin_u16(in) % 4097u;
	memset(resp, 0, rlen);
	rb = put(req, len);
	wb = put(resp, rlen);
	{
		struct vring_desc d[2] = { { rb, len, VRING_DESC_F_NEXT, 1 }, { wb, rlen, VRING_DESC_F_WRITE, 0 } };

		post(qi, d, rlen ? 2 : 1, 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fin in = { data, size, 0 };
	struct virtio_gpu_ctrl_hdr h = { .type = VIRTIO_GPU_CMD_GET_DISPLAY_INFO };
	struct virtio_gpu_resp_display_info r;
	struct vgpu_stats st;
	uint32_t t;

	guest_up(false);
	while (fin_more(&in)) {
		/* The device looks at what the last op left (a notify, a
		 * register write) before the next one, as its thread would. */
		(void)run_device();
		switch (fin_u8(&in)) {
		case FD_POKE: {
			uint32_t off = fin_u16(&in), len = fin_u16(&in) % 4097u;
			uint8_t buf[4096];

			fin_bytes(&in, buf, len);
			if (off + len > FD_DATA_SIZE)
				break;
			memcpy(at(G.data + off, len ? len : 1), buf, len);
			break;
		}
		case FD_CMD:
			do_cmd(&in);
			break;
		case FD_CHAIN:
			do_chain(&in);
			break;
		case FD_AVAIL: {
			uint16_t qi = fin_u8(&in) % NQ;
			volatile struct vring_avail *av = at(G.q[qi].avail, RAM_PAGE);

			G.q[qi].avail_idx = fin_u16(&in);
			av->idx = G.q[qi].avail_idx;
			notify(qi);
			(void)wait_used(qi, 20, NULL);
			break;
		}
		case FD_NOTIFY: {
			uint8_t qi = fin_u8(&in);

			vpci_write(G.pci, VPCI_NOTIFY_OFF + (qi % 8u) * VPCI_NOTIFY_MULT, 2, qi);
			break;
		}
		case FD_RESET:
			guest_up(false);
			break;
		case FD_BAD_RINGS:
			guest_up(true);
			notify(0);
			(void)run_device();
			for (int i = 0; i < 200 && !(status() & VIRTIO_STATUS_DEVICE_NEEDS_RESET); i++) {
				struct timespec ts = { 0, 100000 };

				nanosleep(&ts, NULL);
			}
			if (!(status() & VIRTIO_STATUS_DEVICE_NEEDS_RESET))
				DIE("rings outside RAM and no DEVICE_NEEDS_RESET");
			guest_up(false);
			break;
		case FD_CFG: {
			uint8_t off = fin_u8(&in);

			vpci_write(G.pci, VPCI_DEVICE_OFF + off, 4, fin_u32(&in));
			break;
		}
		case FD_REG: {
			uint16_t off = fin_u16(&in) % 0x40u;
			unsigned w = 1u << (fin_u8(&in) % 3u);

			vpci_write(G.pci, VPCI_COMMON_OFF + off, w, fin_u32(&in));
			break;
		}
		default:
			break;
		}
	}

	/* A reset forgets everything, and the device answers again. */
	guest_up(false);
	vgpu_get_stats(G.g, &st);
	if (st.contexts || st.resources || st.held || st.hostmem)
		DIE("after a reset: %u contexts, %u resources, %u held answers, %llu bytes charged", st.contexts,
		    st.resources, st.held, (unsigned long long)st.hostmem);
	t = call(&h, sizeof(h), &r, sizeof(r), 5000);
	if (t != VIRTIO_GPU_RESP_OK_DISPLAY_INFO || r.pmodes[0].enabled != 1)
		DIE("device not answering after a reset: GET_DISPLAY_INFO gave %#x", t);
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * test_fake_dev.c: self-tests of the fake device, without the core. A
 * miniature driver ("md") talks to it through os.h alone: it walks the PCI
 * capabilities, negotiates, sets up the controlq in DMA memory and sends
 * commands, so the device model is checked the way the core will use it.
 */
#include <stdlib.h>
#include <string.h>

#include <virgo/uapi.h>
#include <virgo/virtio_gpu.h>
#include <virgo/virtio_pci.h>
#include <virgo/virtio_ring.h>

#include "fake.h"
#include "t.h"

#define SLOT_SIZE 8192u   /* per in-flight request: request at 0, response at 4096 */
#define SLOTS     8u
#define RESP_OFF  4096u

#define DEFAULT_FEATURES (VIRTIO_FEATURE_BIT(VIRTIO_F_VERSION_1) | \
			  VIRTIO_FEATURE_BIT(VIRTIO_GPU_F_VIRGL) | \
			  VIRTIO_FEATURE_BIT(VIRTIO_GPU_F_EDID))

/* ---- a miniature driver ---------------------------------------------------- */

struct md {
	struct os_dev *os;
	struct fake_dev *d;
	struct os_mmio *common, *notify, *isr, *device;
	uint32_t notify_mult;
	struct os_dma ring;
	struct os_dma buf;
	uint16_t qsize;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint16_t avail_idx;
	uint16_t last_used;
};

static uint8_t cfg8(struct os_dev *os, uint32_t off)
{
	uint8_t v = 0;

	CHECK_EQ(os_pci_cfg_read(os, off, &v, 1), 0);
	return v;
}

/* Walks the capability list; maps the four virtio structures. */
static void md_probe(struct md *m)
{
	uint8_t pos = cfg8(m->os, PCI_CFG_CAP_PTR);
	unsigned guard = 0;

	while (pos && guard++ < 48) {
		struct virtio_pci_cap cap;
		struct os_mmio **slot = NULL;

		REQUIRE_EQ(os_pci_cfg_read(m->os, pos, &cap, sizeof(cap)), 0);
		if (cap.cap_vndr == PCI_CAP_ID_VNDR && cap.bar <= 5) {
			switch (cap.cfg_type) {
			case VIRTIO_PCI_CAP_COMMON_CFG: slot = &m->common; break;
			case VIRTIO_PCI_CAP_NOTIFY_CFG:
				slot = &m->notify;
				CHECK_EQ(os_pci_cfg_read(m->os, pos + 16, &m->notify_mult, 4), 0);
				break;
			case VIRTIO_PCI_CAP_ISR_CFG: slot = &m->isr; break;
			case VIRTIO_PCI_CAP_DEVICE_CFG: slot = &m->device; break;
			default: break;
			}
		}
		if (slot && !*slot)
			REQUIRE_EQ(os_mmio_map(m->os, cap.bar, cap.offset, cap.length, slot), 0);
		pos = cap.cap_next;
	}
	REQUIRE(m->common && m->notify && m->isr && m->device);
}

static void md_status(struct md *m, uint8_t bits)
{
	uint8_t s = os_mmio_read8(m->common, VIRTIO_PCI_COMMON_DEVICE_STATUS);

	os_mmio_write8(m->common, VIRTIO_PCI_COMMON_DEVICE_STATUS, (uint8_t)(s | bits));
}

static void w64(struct os_mmio *mm, uint32_t off, uint64_t v)
{
	os_mmio_write32(mm, off, (uint32_t)v);
	os_mmio_write32(mm, off + 4, (uint32_t)(v >> 32));
}

/* Brings the device up with the controlq only (qsize entries). */
static void md_start(struct md *m, struct os_dev *os, uint64_t features, uint16_t qsize)
{
	uint64_t offered;
	size_t dsz, asz;

	memset(m, 0, sizeof(*m));
	m->os = os;
	m->d = fake_dev_of(os);
	m->qsize = qsize;
	md_probe(m);
	os_mmio_write8(m->common, VIRTIO_PCI_COMMON_DEVICE_STATUS, 0);
	REQUIRE_EQ(os_mmio_read8(m->common, VIRTIO_PCI_COMMON_DEVICE_STATUS), 0);
	md_status(m, VIRTIO_STATUS_ACKNOWLEDGE);
	md_status(m, VIRTIO_STATUS_DRIVER);
	os_mmio_write32(m->common, VIRTIO_PCI_COMMON_DEVICE_FEATURE_SELECT, 0);
	offered = os_mmio_read32(m->common, VIRTIO_PCI_COMMON_DEVICE_FEATURE);
	os_mmio_write32(m->common, VIRTIO_PCI_COMMON_DEVICE_FEATURE_SELECT, 1);
	offered |= (uint64_t)os_mmio_read32(m->common, VIRTIO_PCI_COMMON_DEVICE_FEATURE) << 32;
	features &= offered;
	os_mmio_write32(m->common, VIRTIO_PCI_COMMON_DRIVER_FEATURE_SELECT, 0);
	os_mmio_write32(m->common, VIRTIO_PCI_COMMON_DRIVER_FEATURE, (uint32_t)features);
	os_mmio_write32(m->common, VIRTIO_PCI_COMMON_DRIVER_FEATURE_SELECT, 1);
	os_mmio_write32(m->common, VIRTIO_PCI_COMMON_DRIVER_FEATURE, (uint32_t)(features >> 32));
	md_status(m, VIRTIO_STATUS_FEATURES_OK);
	REQUIRE(os_mmio_read8(m->common, VIRTIO_PCI_COMMON_DEVICE_STATUS) & VIRTIO_STATUS_FEATURES_OK);

	dsz = vring_desc_size(qsize);
	asz = vring_avail_size(qsize);
	REQUIRE_EQ(os_dma_alloc(os, 3 * 4096, &m->ring), 0);
	REQUIRE_EQ(os_dma_alloc(os, SLOTS * SLOT_SIZE, &m->buf), 0);
	m->desc = m->ring.va;
	m->avail = (struct vring_avail *)((uint8_t *)m->ring.va + dsz);
	m->used = (struct vring_used *)((uint8_t *)m->ring.va + ((dsz + asz + 3) & ~(size_t)3));

	os_mmio_write16(m->common, VIRTIO_PCI_COMMON_QUEUE_SELECT, 0);
	REQUIRE(os_mmio_read16(m->common, VIRTIO_PCI_COMMON_QUEUE_SIZE) >= qsize);
	os_mmio_write16(m->common, VIRTIO_PCI_COMMON_QUEUE_SIZE, qsize);
	os_mmio_write16(m->common, VIRTIO_PCI_COMMON_QUEUE_MSIX_VECTOR, 1);
	w64(m->common, VIRTIO_PCI_COMMON_QUEUE_DESC_LO, m->ring.bus);
	w64(m->common, VIRTIO_PCI_COMMON_QUEUE_DRIVER_LO, m->ring.bus + dsz);
	w64(m->common, VIRTIO_PCI_COMMON_QUEUE_DEVICE_LO, m->ring.bus + ((dsz + asz + 3) & ~(size_t)3));
	os_mmio_write16(m->common, VIRTIO_PCI_COMMON_QUEUE_ENABLE, 1);
	CHECK_EQ(os_mmio_read16(m->common, VIRTIO_PCI_COMMON_QUEUE_ENABLE), 1);
	os_mmio_write16(m->common, VIRTIO_PCI_COMMON_CONFIG_MSIX_VECTOR, 0);
	md_status(m, VIRTIO_STATUS_DRIVER_OK);
}

static void md_stop(struct md *m)
{
	os_mmio_write8(m->common, VIRTIO_PCI_COMMON_DEVICE_STATUS, 0);
	os_dma_free(m->os, &m->buf);
	os_dma_free(m->os, &m->ring);
	os_mmio_unmap(m->os, m->common);
	os_mmio_unmap(m->os, m->notify);
	os_mmio_unmap(m->os, m->isr);
	os_mmio_unmap(m->os, m->device);
}

static uint8_t *md_req(struct md *m, unsigned slot)
{
	return (uint8_t *)m->buf.va + slot * SLOT_SIZE;
}

static uint8_t *md_resp(struct md *m, unsigned slot)
{
	return md_req(m, slot) + RESP_OFF;
}

static void md_kick(struct md *m, uint16_t head)
{
	m->avail->ring[m->avail_idx % m->qsize] = head;
	m->avail_idx++;
	__atomic_store_n(&m->avail->idx, m->avail_idx, __ATOMIC_RELEASE);
	os_mmio_write16(m->notify, 0 * m->notify_mult, 0);
}

/* Posts the request already in slot (req_len bytes) with resp_cap bytes to answer in. */
static void md_post(struct md *m, unsigned slot, uint32_t req_len, uint32_t resp_cap)
{
	uint16_t h = (uint16_t)(2 * slot);
	uint64_t bus = m->buf.bus + slot * SLOT_SIZE;

	m->desc[h] = (struct vring_desc){ bus, req_len, VRING_DESC_F_NEXT, (uint16_t)(h + 1) };
	m->desc[h + 1] = (struct vring_desc){ bus + RESP_OFF, resp_cap, VRING_DESC_F_WRITE, 0 };
	md_kick(m, h);
}

/* Pops one used entry: true with its head and length. */
static bool md_used(struct md *m, uint32_t *head, uint32_t *len)
{
	struct vring_used_elem e;

	if (__atomic_load_n(&m->used->idx, __ATOMIC_ACQUIRE) == m->last_used)
		return false;
	e = m->used->ring[m->last_used % m->qsize];
	m->last_used++;
	*head = e.id;
	*len = e.len;
	return true;
}

/* Sends a request through slot 0 and returns the answer's type (0: none). */
static uint32_t md_call(struct md *m, const void *req, uint32_t req_len, uint32_t resp_cap,
			uint32_t *used_len)
{
	uint32_t head = ~0u, len = 0, type = 0;

	if (req != md_req(m, 0))
		memcpy(md_req(m, 0), req, req_len);
	memset(md_resp(m, 0), 0xcc, resp_cap);
	md_post(m, 0, req_len, resp_cap);
	if (!md_used(m, &head, &len))
		return 0;
	CHECK_EQ(head, 0);
	if (used_len)
		*used_len = len;
	if (len >= 4)
		memcpy(&type, md_resp(m, 0), 4);
	return type;
}

static struct virtio_gpu_ctrl_hdr hdr(uint32_t type, uint32_t ctx)
{
	return (struct virtio_gpu_ctrl_hdr){ .type = type, .ctx_id = ctx };
}

/* ---- PCI ------------------------------------------------------------------- */

TEST(fake_pci_config_space_and_caps)
{
	struct os_dev *os = fake_machine_new(NULL);
	uint16_t vendor, device, status;
	uint8_t pos, found[16] = { 0 };
	bool msix = false;
	unsigned n = 0;
	uint8_t big[8];

	REQUIRE(os);
	CHECK_EQ(os_pci_cfg_read(os, PCI_CFG_VENDOR_ID, &vendor, 2), 0);
	CHECK_EQ(os_pci_cfg_read(os, PCI_CFG_DEVICE_ID, &device, 2), 0);
	CHECK_EQ(os_pci_cfg_read(os, PCI_CFG_STATUS, &status, 2), 0);
	CHECK_EQ(vendor, 0x1af4);
	CHECK_EQ(device, 0x1050);
	CHECK(status & PCI_STATUS_CAP_LIST);
	CHECK_EQ(cfg8(os, PCI_CFG_REVISION), 1);
	CHECK_EQ(os_pci_cfg_read(os, 252, big, 8), -VIRGO_EINVAL);
	CHECK_EQ(os_irq_msix_count(os), 3);
	for (pos = cfg8(os, PCI_CFG_CAP_PTR); pos && n < 32; n++) {
		struct virtio_pci_cap cap;

		REQUIRE_EQ(os_pci_cfg_read(os, pos, &cap, sizeof(cap)), 0);
		CHECK(pos >= 0x40 && !(pos & 3));
		if (cap.cap_vndr == PCI_CAP_ID_MSIX) {
			uint16_t ctrl;

			CHECK_EQ(os_pci_cfg_read(os, pos + PCI_MSIX_MSG_CTRL, &ctrl, 2), 0);
			CHECK_EQ((ctrl & PCI_MSIX_MSG_CTRL_TABLE_SIZE) + 1, 3);
			msix = true;
		} else if (cap.cap_vndr == PCI_CAP_ID_VNDR && cap.cfg_type < 16) {
			found[cap.cfg_type]++;
			if (cap.cfg_type != VIRTIO_PCI_CAP_PCI_CFG)
				CHECK_EQ(cap.bar, 4);
			switch (cap.cfg_type) {
			case VIRTIO_PCI_CAP_COMMON_CFG: CHECK_EQ(cap.offset, 0x0); break;
			case VIRTIO_PCI_CAP_ISR_CFG: CHECK_EQ(cap.offset, 0x1000); break;
			case VIRTIO_PCI_CAP_DEVICE_CFG: CHECK_EQ(cap.offset, 0x2000); break;
			case VIRTIO_PCI_CAP_NOTIFY_CFG: {
				uint32_t mult;

				CHECK_EQ(cap.offset, 0x3000);
				CHECK_EQ(cap.cap_len, 20);
				CHECK_EQ(os_pci_cfg_read(os, pos + 16, &mult, 4), 0);
				CHECK_EQ(mult, 4);
				break;
			}
			default: break;
			}
		}
		pos = cap.cap_next;
	}
	CHECK(msix);
	CHECK_EQ(found[VIRTIO_PCI_CAP_COMMON_CFG], 1);
	CHECK_EQ(found[VIRTIO_PCI_CAP_NOTIFY_CFG], 1);
	CHECK_EQ(found[VIRTIO_PCI_CAP_ISR_CFG], 1);
	CHECK_EQ(found[VIRTIO_PCI_CAP_DEVICE_CFG], 1);
	CHECK_EQ(fake_machine_free(os), 0);
}

TEST(fake_pci_intx_has_no_msix_cap_and_decoys_come_first)
{
	struct fake_config c;
	struct os_dev *os;
	uint8_t pos;
	bool msix = false, saw_real = false, decoy_before_real = false;

	fake_config_init(&c);
	c.msix_count = 0;
	c.pci_decoy_caps = true;
	os = fake_machine_new(&c);
	REQUIRE(os);
	CHECK_EQ(os_irq_msix_count(os), 0);
	for (pos = cfg8(os, PCI_CFG_CAP_PTR); pos;) {
		struct virtio_pci_cap cap;

		REQUIRE_EQ(os_pci_cfg_read(os, pos, &cap, sizeof(cap)), 0);
		msix |= cap.cap_vndr == PCI_CAP_ID_MSIX;
		if (cap.cap_vndr == PCI_CAP_ID_VNDR && cap.cfg_type == VIRTIO_PCI_CAP_COMMON_CFG) {
			if (cap.bar > 5 && !saw_real)
				decoy_before_real = true;
			if (cap.bar <= 5)
				saw_real = true;
		}
		pos = cap.cap_next;
	}
	CHECK(!msix);
	CHECK(saw_real);
	CHECK(decoy_before_real);
	CHECK_EQ(fake_machine_free(os), 0);
}

TEST(fake_mmio_map_checks_the_window)
{
	struct os_dev *os = fake_machine_new(NULL);
	struct os_mmio *m = NULL;

	REQUIRE(os);
	CHECK_EQ(os_mmio_map(os, 0, 0, 16, &m), -VIRGO_EINVAL);
	CHECK_EQ(os_mmio_map(os, 4, 0x3000, 0x1001, &m), -VIRGO_EINVAL);
	CHECK_EQ(os_mmio_map(os, 4, 0x4000, 4, &m), -VIRGO_EINVAL);
	CHECK_EQ(os_mmio_map(os, 4, 0, 0, &m), -VIRGO_EINVAL);
	CHECK(!m);
	REQUIRE_EQ(os_mmio_map(os, 4, 0x2000, 0x1000, &m), 0);
	CHECK_EQ(os_mmio_read32(m, 8), 1);   /* num_scanouts */
	CHECK_EQ(os_mmio_read32(m, 12), 2);  /* num_capsets */
	CHECK_EQ(fake_stats(os)->mmio.live, 1);
	/* Outside the window, and a u16 read of a u32 field: both caught. */
	fake_set_strict(os, false);
	CHECK_EQ(os_mmio_read32(m, 0x1000), 0xffffffffu);
	CHECK_EQ(os_mmio_read16(m, 8), 0xffff);
	CHECK_EQ(fake_stats(os)->violations, 2);
	os_mmio_unmap(os, m);
	CHECK_EQ(fake_stats(os)->mmio.live, 0);
	CHECK_EQ(fake_machine_free(os), 0);
}

/* ---- the device through a miniature driver --------------------------------- */

TEST(fake_dev_negotiates_and_answers_display_info)
{
	struct os_dev *os = fake_machine_new(NULL);
	struct virtio_gpu_ctrl_hdr h = hdr(VIRTIO_GPU_CMD_GET_DISPLAY_INFO, 0);
	struct virtio_gpu_resp_display_info di;
	struct md m;
	uint32_t len = 0;

	REQUIRE(os);
	md_start(&m, os, DEFAULT_FEATURES, 8);
	CHECK_EQ(fake_dev_stats(m.d)->driver_features, DEFAULT_FEATURES);
	CHECK_EQ(fake_dev_stats(m.d)->status, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
						   VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
	CHECK_EQ(md_call(&m, &h, sizeof(h), sizeof(di), &len), VIRTIO_GPU_RESP_OK_DISPLAY_INFO);
	CHECK_EQ(len, sizeof(di));
	memcpy(&di, md_resp(&m, 0), sizeof(di));
	CHECK_EQ(di.pmodes[0].r.width, 1024);
	CHECK_EQ(di.pmodes[0].r.height, 768);
	CHECK_EQ(di.pmodes[0].enabled, 1);
	CHECK_EQ(di.pmodes[1].enabled, 0);
	CHECK_EQ(di.hdr.flags, 0);
	/* The controlq's vector (1) is pending; nobody is attached to take it. */
	CHECK_EQ(fake_dev_irq_pending(m.d), 1u << 1);
	CHECK_EQ(fake_stats(os)->irq_undelivered, 1);
	CHECK_EQ(fake_dev_log_count(m.d), 1);
	CHECK_EQ(fake_dev_log(m.d, 0)->type, VIRTIO_GPU_CMD_GET_DISPLAY_INFO);
	CHECK_EQ(fake_dev_log(m.d, 0)->resp_type, VIRTIO_GPU_RESP_OK_DISPLAY_INFO);
	md_stop(&m);
	CHECK_EQ(fake_dev_stats(m.d)->status, 0);
	CHECK_EQ(fake_dev_irq_pending(m.d), 0);
	CHECK_EQ(fake_machine_free(os), 0);
}

TEST(fake_dev_contexts_and_bad_ctx_ids)
{
	struct os_dev *os = fake_machine_new(NULL);
	struct virtio_gpu_ctx_create cc = { .hdr = hdr(VIRTIO_GPU_CMD_CTX_CREATE, 5), .nlen = 4 };
	struct virtio_gpu_cmd_submit sub = { .hdr = hdr(VIRTIO_GPU_CMD_SUBMIT_3D, 6), .size = 0 };
	struct virtio_gpu_ctrl_hdr destroy = hdr(VIRTIO_GPU_CMD_CTX_DESTROY, 5);
	struct md m;

	REQUIRE(os);
	md_start(&m, os, DEFAULT_FEATURES, 8);
	memcpy(cc.debug_name, "test", 4);
	CHECK_EQ(md_call(&m, &cc, sizeof(cc), 24, NULL), VIRTIO_GPU_RESP_OK_NODATA);
	CHECK(fake_dev_has_ctx(m.d, 5));
	CHECK_EQ(fake_dev_stats(m.d)->ctxs, 1);
	/* Same id again, id 0, and a command naming an unknown context. */
	CHECK_EQ(md_call(&m, &cc, sizeof(cc), 24, NULL), VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID);
	cc.hdr.ctx_id = 0;
	CHECK_EQ(md_call(&m, &cc, sizeof(cc), 24, NULL), VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID);
	CHECK_EQ(md_call(&m, &sub, sizeof(sub), 24, NULL), VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID);
	CHECK_EQ(fake_dev_stats(m.d)->errs, 3);
	CHECK_EQ(md_call(&m, &destroy, sizeof(destroy), 24, NULL), VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(md_call(&m, &destroy, sizeof(destroy), 24, NULL), VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID);
	CHECK_EQ(fake_dev_stats(m.d)->ctxs, 0);
	CHECK_EQ(fake_dev_count(m.d, VIRTIO_GPU_CMD_CTX_CREATE), 3);
	CHECK_EQ(fake_dev_log_last(m.d, VIRTIO_GPU_CMD_SUBMIT_3D)->ctx_id, 6);
	CHECK_EQ(fake_dev_stats(m.d)->bad_chain, 0);
	md_stop(&m);
	CHECK_EQ(fake_machine_free(os), 0);
}

TEST(fake_dev_capsets_and_edid)
{
	struct os_dev *os = fake_machine_new(NULL);
	struct virtio_gpu_get_capset_info ci = { .hdr = hdr(VIRTIO_GPU_CMD_GET_CAPSET_INFO, 0) };
	struct virtio_gpu_get_capset gc = { .hdr = hdr(VIRTIO_GPU_CMD_GET_CAPSET, 0) };
	struct virtio_gpu_get_edid ge = { .hdr = hdr(VIRTIO_GPU_CMD_GET_EDID, 0) };
	struct virtio_gpu_resp_capset_info info;
	uint8_t want[1376];
	const uint8_t *edid;
	size_t edid_len;
	uint32_t len = 0, w0;
	struct md m;
	unsigned sum = 0;

	REQUIRE(os);
	md_start(&m, os, DEFAULT_FEATURES, 8);
	ci.capset_index = 1;
	CHECK_EQ(md_call(&m, &ci, sizeof(ci), sizeof(info), NULL), VIRTIO_GPU_RESP_OK_CAPSET_INFO);
	memcpy(&info, md_resp(&m, 0), sizeof(info));
	CHECK_EQ(info.capset_id, 2);
	CHECK_EQ(info.capset_max_version, 2);
	CHECK_EQ(info.capset_max_size, 1376);
	ci.capset_index = 2;
	CHECK_EQ(md_call(&m, &ci, sizeof(ci), sizeof(info), NULL), VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);

	gc.capset_id = 1;
	gc.capset_version = 1;
	CHECK_EQ(md_call(&m, &gc, sizeof(gc), 24 + 308, &len), VIRTIO_GPU_RESP_OK_CAPSET);
	CHECK_EQ(len, 24 + 308);
	fake_capset_fill(1, want, 308);
	CHECK_EQ(memcmp(md_resp(&m, 0) + 24, want, 308), 0);
	memcpy(&w0, md_resp(&m, 0) + 24, 4);
	CHECK_EQ(w0, 1);
	gc.capset_id = 2;
	gc.capset_version = 2;
	CHECK_EQ(md_call(&m, &gc, sizeof(gc), 24 + 1376, &len), VIRTIO_GPU_RESP_OK_CAPSET);
	fake_capset_fill(2, want, 1376);
	CHECK_EQ(memcmp(md_resp(&m, 0) + 24, want, 1376), 0);
	gc.capset_version = 3;
	CHECK_EQ(md_call(&m, &gc, sizeof(gc), 24 + 1376, &len), VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);

	CHECK_EQ(md_call(&m, &ge, sizeof(ge), sizeof(struct virtio_gpu_resp_edid), &len),
		 VIRTIO_GPU_RESP_OK_EDID);
	edid = fake_edid(&edid_len);
	CHECK_EQ(edid_len, 128);
	CHECK_EQ(memcmp(md_resp(&m, 0) + 32, edid, 128), 0);
	for (size_t i = 0; i < edid_len; i++)
		sum += edid[i];
	CHECK_EQ(sum % 256, 0);
	CHECK_EQ(edid[0], 0);
	CHECK_EQ(edid[1], 0xff);
	ge.scanout = 1;
	CHECK_EQ(md_call(&m, &ge, sizeof(ge), sizeof(struct virtio_gpu_resp_edid), &len),
		 VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	md_stop(&m);
	CHECK_EQ(fake_machine_free(os), 0);
}

TEST(fake_dev_rejects_malformed_chains)
{
	struct os_dev *os = fake_machine_new(NULL);
	struct virtio_gpu_ctrl_hdr h = hdr(VIRTIO_GPU_CMD_GET_DISPLAY_INFO, 0);
	const struct fake_dev_stats *st;
	uint32_t head, len, type;
	struct md m;

	REQUIRE(os);
	fake_set_strict(os, false);
	md_start(&m, os, DEFAULT_FEATURES, 8);
	st = fake_dev_stats(m.d);

	/* A short request: ERR_UNSPEC, counted. */
	CHECK_EQ(md_call(&m, &h, 8, 408, &len), VIRTIO_GPU_RESP_ERR_UNSPEC);
	CHECK_EQ(len, 24);
	CHECK_EQ(st->bad_chain, 1);

	/* A readable descriptor after a writable one. */
	memcpy(md_req(&m, 0), &h, sizeof(h));
	m.desc[0] = (struct vring_desc){ m.buf.bus + RESP_OFF, 408, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1 };
	m.desc[1] = (struct vring_desc){ m.buf.bus, 24, 0, 0 };
	md_kick(&m, 0);
	REQUIRE(md_used(&m, &head, &len));
	memcpy(&type, md_resp(&m, 0), 4);
	CHECK_EQ(type, VIRTIO_GPU_RESP_ERR_UNSPEC);
	CHECK_EQ(st->bad_chain, 2);

	/* A descriptor outside guest RAM, with nowhere to answer. */
	m.desc[0] = (struct vring_desc){ 0x1000, 24, 0, 0 };
	md_kick(&m, 0);
	REQUIRE(md_used(&m, &head, &len));
	CHECK_EQ(len, 0);
	CHECK_EQ(st->bad_addr, 1);
	CHECK_EQ(st->bad_chain, 3);

	/* A loop. */
	m.desc[0] = (struct vring_desc){ m.buf.bus, 24, VRING_DESC_F_NEXT, 1 };
	m.desc[1] = (struct vring_desc){ m.buf.bus, 24, VRING_DESC_F_NEXT, 0 };
	md_kick(&m, 0);
	REQUIRE(md_used(&m, &head, &len));
	CHECK_EQ(st->bad_chain, 4);

	/* A response buffer too small for the answer. */
	CHECK_EQ(md_call(&m, &h, sizeof(h), 100, &len), VIRTIO_GPU_RESP_ERR_UNSPEC);
	CHECK_EQ(st->short_resp, 1);

	/* An unknown command type is only an error answer. */
	h.type = 0x777;
	CHECK_EQ(md_call(&m, &h, sizeof(h), 24, &len), VIRTIO_GPU_RESP_ERR_UNSPEC);
	CHECK_EQ(st->bad_chain, 4);
	CHECK(fake_stats(os)->violations >= 5);
	md_stop(&m);
	CHECK_EQ(fake_machine_free(os), 0);
}

TEST(fake_dev_fences_hold_and_complete_in_order)
{
	struct fake_config c;
	struct os_dev *os;
	struct virtio_gpu_ctx_create cc = { .hdr = hdr(VIRTIO_GPU_CMD_CTX_CREATE, 1) };
	struct virtio_gpu_cmd_submit sub = { .hdr = hdr(VIRTIO_GPU_CMD_SUBMIT_3D, 1), .size = 4 };
	uint32_t dw = 0x12345678, head, len;
	struct virtio_gpu_ctrl_hdr resp;
	struct md m;

	fake_config_init(&c);
	c.hold_fences = true;
	os = fake_machine_new(&c);
	REQUIRE(os);
	md_start(&m, os, DEFAULT_FEATURES, 16);
	CHECK_EQ(md_call(&m, &cc, sizeof(cc), 24, NULL), VIRTIO_GPU_RESP_OK_NODATA);
	sub.hdr.flags = VIRTIO_GPU_FLAG_FENCE;
	for (unsigned i = 1; i <= 3; i++) {
		sub.hdr.fence_id = 10 + i;
		memcpy(md_req(&m, i), &sub, sizeof(sub));
		memcpy(md_req(&m, i) + sizeof(sub), &dw, 4);
		md_post(&m, i, sizeof(sub) + 4, 24);
	}
	CHECK(!md_used(&m, &head, &len));
	CHECK_EQ(fake_dev_held(m.d), 3);
	/* Completing 12 answers 11 and 12, with their fences. */
	CHECK_EQ(fake_dev_complete_fences(m.d, 12), 2);
	REQUIRE(md_used(&m, &head, &len));
	CHECK_EQ(head, 2);
	memcpy(&resp, md_resp(&m, 1), sizeof(resp));
	CHECK_EQ(resp.type, VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(resp.flags & VIRTIO_GPU_FLAG_FENCE, VIRTIO_GPU_FLAG_FENCE);
	CHECK_EQ(resp.fence_id, 11);
	REQUIRE(md_used(&m, &head, &len));
	CHECK_EQ(head, 4);
	CHECK(!md_used(&m, &head, &len));
	/* An unfenced command is answered even while a fence is held. */
	CHECK_EQ(md_call(&m, &cc, sizeof(cc), 24, NULL), VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID);
	CHECK_EQ(fake_dev_held(m.d), 1);
	/* A virtual delay instead: due after 10 ms of virtual time. */
	fake_dev_hold_fences(m.d, true, 10000000);
	sub.hdr.fence_id = 20;
	memcpy(md_req(&m, 4), &sub, sizeof(sub));
	md_post(&m, 4, sizeof(sub) + 4, 24);
	fake_advance(os, 9999999);
	CHECK_EQ(fake_dev_held(m.d), 2);
	fake_advance(os, 1);
	/* Fence 20 completed: 13 (held, lower) goes with it. */
	CHECK_EQ(fake_dev_held(m.d), 0);
	REQUIRE(md_used(&m, &head, &len));
	CHECK_EQ(head, 6);
	REQUIRE(md_used(&m, &head, &len));
	CHECK_EQ(head, 8);
	CHECK_EQ(fake_dev_stats(m.d)->fences_completed, 4);
	md_stop(&m);
	CHECK_EQ(fake_machine_free(os), 0);
}

TEST(fake_dev_fence32_never_completes_high_ids)
{
	struct fake_config c;
	struct os_dev *os;
	struct virtio_gpu_ctx_create cc = { .hdr = hdr(VIRTIO_GPU_CMD_CTX_CREATE, 1) };
	struct virtio_gpu_cmd_submit sub = { .hdr = hdr(VIRTIO_GPU_CMD_SUBMIT_3D, 1) };
	uint32_t head, len;
	struct md m;

	fake_config_init(&c);
	c.fence32 = true;
	os = fake_machine_new(&c);
	REQUIRE(os);
	md_start(&m, os, DEFAULT_FEATURES, 16);
	CHECK_EQ(md_call(&m, &cc, sizeof(cc), 24, NULL), VIRTIO_GPU_RESP_OK_NODATA);
	sub.hdr.flags = VIRTIO_GPU_FLAG_FENCE;
	sub.hdr.fence_id = 0x7fffffffull;  /* fine */
	CHECK_EQ(md_call(&m, &sub, sizeof(sub), 24, NULL), VIRTIO_GPU_RESP_OK_NODATA);
	sub.hdr.fence_id = 0x100000005ull; /* passes a 32-bit path: stuck */
	memcpy(md_req(&m, 1), &sub, sizeof(sub));
	md_post(&m, 1, sizeof(sub), 24);
	CHECK(!md_used(&m, &head, &len));
	CHECK_EQ(fake_dev_complete_fences(m.d, UINT64_MAX), 0);
	CHECK_EQ(fake_dev_held(m.d), 1);
	md_stop(&m);  /* the reset gives the buffer back */
	CHECK_EQ(fake_dev_held(m.d), 0);
	CHECK_EQ(fake_machine_free(os), 0);
}

TEST(fake_dev_scripts_err_drop_hold)
{
	struct os_dev *os = fake_machine_new(NULL);
	struct virtio_gpu_ctrl_hdr h = hdr(VIRTIO_GPU_CMD_GET_DISPLAY_INFO, 0);
	uint32_t head, len;
	struct md m;

	REQUIRE(os);
	md_start(&m, os, DEFAULT_FEATURES, 16);
	fake_dev_script_err(m.d, VIRTIO_GPU_CMD_GET_DISPLAY_INFO, VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY, 1);
	CHECK_EQ(md_call(&m, &h, sizeof(h), 408, NULL), VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY);
	CHECK_EQ(md_call(&m, &h, sizeof(h), 408, NULL), VIRTIO_GPU_RESP_OK_DISPLAY_INFO);

	fake_dev_script(m.d, FAKE_CMD_ANY, FAKE_DROP, 1);
	memcpy(md_req(&m, 3), &h, sizeof(h));
	md_post(&m, 3, sizeof(h), 408);
	CHECK(!md_used(&m, &head, &len));
	CHECK_EQ(fake_dev_held(m.d), 1);
	CHECK_EQ(fake_dev_release(m.d), 0);  /* a drop is never answered */

	fake_dev_script(m.d, VIRTIO_GPU_CMD_GET_DISPLAY_INFO, FAKE_HOLD, FAKE_FOREVER);
	memcpy(md_req(&m, 1), &h, sizeof(h));
	md_post(&m, 1, sizeof(h), 408);
	CHECK(!md_used(&m, &head, &len));
	CHECK_EQ(fake_dev_release(m.d), 1);
	REQUIRE(md_used(&m, &head, &len));
	CHECK_EQ(head, 2);
	CHECK_EQ(len, 408);
	fake_dev_set_hold_delay(m.d, 1000);
	md_post(&m, 1, sizeof(h), 408);
	CHECK(!md_used(&m, &head, &len));
	fake_advance(os, 1000);
	REQUIRE(md_used(&m, &head, &len));
	fake_dev_script_clear(m.d);
	CHECK_EQ(md_call(&m, &h, sizeof(h), 408, NULL), VIRTIO_GPU_RESP_OK_DISPLAY_INFO);
	CHECK_EQ(fake_dev_held(m.d), 1);  /* still the dropped one */
	md_stop(&m);
	CHECK_EQ(fake_dev_held(m.d), 0);
	CHECK_EQ(fake_machine_free(os), 0);
}

TEST(fake_dev_backing_transfers_and_leak_counts)
{
	struct os_dev *os = fake_machine_new(NULL);
	struct virtio_gpu_ctx_create cc = { .hdr = hdr(VIRTIO_GPU_CMD_CTX_CREATE, 3) };
	struct virtio_gpu_resource_create_3d rc = { .hdr = hdr(VIRTIO_GPU_CMD_RESOURCE_CREATE_3D, 0),
						     .resource_id = 9, .target = 0, .width = 16384,
						     .height = 1, .depth = 1, .array_size = 1 };
	struct virtio_gpu_ctx_resource at = { .hdr = hdr(VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE, 3),
					       .resource_id = 9 };
	struct virtio_gpu_transfer_host_3d tr = { .hdr = hdr(VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D, 3),
						   .resource_id = 9 };
	struct virtio_gpu_resource_detach_backing db = { .hdr = hdr(VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING, 0),
							  .resource_id = 9 };
	struct virtio_gpu_resource_unref un = { .hdr = hdr(VIRTIO_GPU_CMD_RESOURCE_UNREF, 0), .resource_id = 9 };
	struct virtio_gpu_resource_attach_backing ab = { .hdr = hdr(VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING, 0),
							  .resource_id = 9 };
	struct os_pages pages;
	uint8_t pattern[16384], back[16384], *storage;
	size_t slen;
	struct md m;

	REQUIRE(os);
	md_start(&m, os, DEFAULT_FEATURES, 8);
	CHECK_EQ(md_call(&m, &cc, sizeof(cc), 24, NULL), VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(md_call(&m, &rc, sizeof(rc), 24, NULL), VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(md_call(&m, &rc, sizeof(rc), 24, NULL), VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);

	REQUIRE_EQ(os_pages_alloc(os, sizeof(pattern), &pages), 0);
	CHECK(pages.nsg > 1);
	for (size_t i = 0; i < sizeof(pattern); i++)
		pattern[i] = (uint8_t)(i * 7 + 1);
	CHECK_EQ(fake_pages_write(os, &pages, 0, pattern, sizeof(pattern)), 0);
	ab.nr_entries = pages.nsg;
	memcpy(md_req(&m, 0), &ab, sizeof(ab));
	for (uint32_t i = 0; i < pages.nsg; i++) {
		struct virtio_gpu_mem_entry e = { pages.sg[i].bus, (uint32_t)pages.sg[i].len, 0 };

		memcpy(md_req(&m, 0) + sizeof(ab) + i * sizeof(e), &e, sizeof(e));
	}
	CHECK_EQ(md_call(&m, md_req(&m, 0), (uint32_t)(sizeof(ab) + pages.nsg * 16u), 24, NULL),
		 VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(fake_dev_res_backing(m.d, 9), sizeof(pattern));

	/* Not attached to context 3 yet. */
	tr.box.w = 4096;
	tr.box.h = tr.box.d = 1;
	tr.offset = 4096;
	CHECK_EQ(md_call(&m, &tr, sizeof(tr), 24, NULL), VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
	CHECK_EQ(md_call(&m, &at, sizeof(at), 24, NULL), VIRTIO_GPU_RESP_OK_NODATA);
	CHECK(fake_dev_res_attached(m.d, 9, 3));
	CHECK_EQ(md_call(&m, &tr, sizeof(tr), 24, NULL), VIRTIO_GPU_RESP_OK_NODATA);
	storage = fake_dev_res_storage(m.d, 9, &slen);
	REQUIRE(storage);
	CHECK_EQ(slen, sizeof(pattern));
	CHECK_EQ(memcmp(storage + 4096, pattern + 4096, 4096), 0);
	CHECK_EQ(storage[0], 0);  /* outside the box: untouched */

	/* Host to guest: change the storage, read it back into the pages. */
	memset(storage, 0xab, slen);
	tr.hdr.type = VIRTIO_GPU_CMD_TRANSFER_FROM_HOST_3D;
	tr.offset = 0;
	tr.box.w = 16384;
	CHECK_EQ(md_call(&m, &tr, sizeof(tr), 24, NULL), VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(fake_pages_read(os, &pages, 0, back, sizeof(back)), 0);
	CHECK_EQ(back[0], 0xab);
	CHECK_EQ(back[16383], 0xab);
	tr.offset = 1;
	CHECK_EQ(md_call(&m, &tr, sizeof(tr), 24, NULL), VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);

	/* The pages are the device's while attached. */
	CHECK_EQ(fake_dev_stats(m.d)->backings, 1);
	CHECK_EQ(fake_dev_stats(m.d)->ctx_attachments, 1);
	CHECK_EQ(md_call(&m, &db, sizeof(db), 24, NULL), VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(md_call(&m, &db, sizeof(db), 24, NULL), VIRTIO_GPU_RESP_ERR_UNSPEC);
	CHECK_EQ(fake_dev_stats(m.d)->backings, 0);
	os_pages_free(os, &pages);
	CHECK_EQ(md_call(&m, &un, sizeof(un), 24, NULL), VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(fake_dev_stats(m.d)->resources, 0);
	CHECK_EQ(fake_dev_stats(m.d)->ctx_attachments, 0);
	CHECK_EQ(fake_dev_stats(m.d)->ctxs, 1);
	md_stop(&m);
	CHECK_EQ(fake_dev_stats(m.d)->reset_ctxs, 1);
	CHECK_EQ(fake_dev_stats(m.d)->ctxs, 0);
	CHECK_EQ(fake_stats(os)->violations, 0);
	CHECK_EQ(fake_machine_free(os), 0);
}

TEST(fake_dev_submit_records_stream_and_refuses_deadbeef)
{
	struct os_dev *os = fake_machine_new(NULL);
	struct virtio_gpu_ctx_create cc = { .hdr = hdr(VIRTIO_GPU_CMD_CTX_CREATE, 2) };
	struct virtio_gpu_cmd_submit sub = { .hdr = hdr(VIRTIO_GPU_CMD_SUBMIT_3D, 2), .size = 8 };
	uint32_t words[2] = { 0x11, 0x22 };
	const uint8_t *data;
	size_t len;
	struct md m;

	REQUIRE(os);
	md_start(&m, os, DEFAULT_FEATURES, 8);
	CHECK_EQ(md_call(&m, &cc, sizeof(cc), 24, NULL), VIRTIO_GPU_RESP_OK_NODATA);
	memcpy(md_req(&m, 1), &sub, sizeof(sub));
	memcpy(md_req(&m, 1) + sizeof(sub), words, 8);
	CHECK_EQ(md_call(&m, md_req(&m, 1), sizeof(sub) + 8, 24, NULL), VIRTIO_GPU_RESP_OK_NODATA);
	words[0] = 0xdeadbeef;
	memcpy(md_req(&m, 1) + sizeof(sub), words, 8);
	CHECK_EQ(md_call(&m, md_req(&m, 1), sizeof(sub) + 8, 24, NULL),
		 VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	data = fake_dev_submit_data(m.d, &len);
	CHECK_EQ(len, 8);
	REQUIRE(data);
	CHECK_EQ(data[0], 0x11);
	CHECK_EQ(data[4], 0x22);
	CHECK_EQ(fake_dev_log_last(m.d, VIRTIO_GPU_CMD_SUBMIT_3D)->resp_type,
		 VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	CHECK_EQ(fake_dev_log(m.d, 1)->data_len, 8);
	md_stop(&m);
	CHECK_EQ(fake_machine_free(os), 0);
}

TEST(fake_dev_blob_needs_the_feature)
{
	struct os_dev *os = fake_machine_new(NULL);
	struct virtio_gpu_resource_create_blob cb = { .hdr = hdr(VIRTIO_GPU_CMD_RESOURCE_CREATE_BLOB, 0),
						       .resource_id = 4, .blob_mem = VIRTIO_GPU_BLOB_MEM_HOST3D,
						       .size = 4096 };
	struct md m;

	REQUIRE(os);
	fake_set_strict(os, false);
	md_start(&m, os, DEFAULT_FEATURES | VIRTIO_FEATURE_BIT(VIRTIO_GPU_F_RESOURCE_BLOB), 8);
	CHECK_EQ(fake_dev_stats(m.d)->driver_features, DEFAULT_FEATURES);  /* not offered */
	CHECK_EQ(md_call(&m, &cb, sizeof(cb), 24, NULL), VIRTIO_GPU_RESP_ERR_UNSPEC);
	CHECK_EQ(fake_dev_stats(m.d)->driver_errors, 1);
	md_stop(&m);
	CHECK_EQ(fake_machine_free(os), 0);
}

TEST(fake_dev_blob_create_map_unmap)
{
	struct fake_config c;
	struct os_dev *os;
	struct virtio_gpu_ctx_create cc = { .hdr = hdr(VIRTIO_GPU_CMD_CTX_CREATE, 1) };
	struct virtio_gpu_resource_create_blob cb = { .hdr = hdr(VIRTIO_GPU_CMD_RESOURCE_CREATE_BLOB, 1),
						       .resource_id = 4, .blob_mem = VIRTIO_GPU_BLOB_MEM_HOST3D,
						       .blob_flags = VIRTIO_GPU_BLOB_FLAG_USE_MAPPABLE,
						       .blob_id = 77, .size = 8192 };
	struct virtio_gpu_resource_map_blob mb = { .hdr = hdr(VIRTIO_GPU_CMD_RESOURCE_MAP_BLOB, 1),
						    .resource_id = 4, .offset = 0 };
	struct virtio_gpu_resource_unmap_blob ub = { .hdr = hdr(VIRTIO_GPU_CMD_RESOURCE_UNMAP_BLOB, 1),
						      .resource_id = 4 };
	struct virtio_gpu_resp_map_info mi;
	struct md m;

	fake_config_init(&c);
	c.features |= VIRTIO_FEATURE_BIT(VIRTIO_GPU_F_RESOURCE_BLOB);
	c.hostmem_size = 1 << 20;
	os = fake_machine_new(&c);
	REQUIRE(os);
	md_start(&m, os, c.features, 8);
	CHECK_EQ(md_call(&m, &cc, sizeof(cc), 24, NULL), VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(md_call(&m, &cb, sizeof(cb), 24, NULL), VIRTIO_GPU_RESP_OK_NODATA);
	CHECK(fake_dev_res_attached(m.d, 4, 1));
	CHECK_EQ(md_call(&m, &mb, sizeof(mb), sizeof(mi), NULL), VIRTIO_GPU_RESP_OK_MAP_INFO);
	memcpy(&mi, md_resp(&m, 0), sizeof(mi));
	CHECK_EQ(mi.map_info, VIRTIO_GPU_MAP_CACHE_CACHED);
	CHECK_EQ(fake_dev_stats(m.d)->blob_maps, 1);
	CHECK_EQ(md_call(&m, &mb, sizeof(mb), sizeof(mi), NULL), VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	CHECK_EQ(md_call(&m, &ub, sizeof(ub), 24, NULL), VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(md_call(&m, &ub, sizeof(ub), 24, NULL), VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	md_stop(&m);
	CHECK_EQ(fake_machine_free(os), 0);
}

TEST(fake_dev_needs_reset_raises_config_irq_and_goes_silent)
{
	struct os_dev *os = fake_machine_new(NULL);
	struct virtio_gpu_ctrl_hdr h = hdr(VIRTIO_GPU_CMD_GET_DISPLAY_INFO, 0);
	struct md m;

	REQUIRE(os);
	md_start(&m, os, DEFAULT_FEATURES, 8);
	fake_dev_set_needs_reset(m.d);
	CHECK_EQ(fake_dev_irq_pending(m.d), 1u << 0);  /* the config vector */
	CHECK(os_mmio_read8(m.common, VIRTIO_PCI_COMMON_DEVICE_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	CHECK_EQ(md_call(&m, &h, sizeof(h), 408, NULL), 0);
	md_stop(&m);
	CHECK_EQ(fake_machine_free(os), 0);
}

TEST(fake_dev_indirect_descriptors_when_negotiated)
{
	struct fake_config c;
	struct os_dev *os;
	struct virtio_gpu_ctrl_hdr h = hdr(VIRTIO_GPU_CMD_GET_DISPLAY_INFO, 0);
	struct vring_desc *table;
	uint32_t head, len, type;
	struct md m;

	fake_config_init(&c);
	c.features |= VIRTIO_FEATURE_BIT(VIRTIO_F_INDIRECT_DESC);
	os = fake_machine_new(&c);
	REQUIRE(os);
	md_start(&m, os, c.features, 8);
	/* The table lives in slot 2, the request and response in slot 3. */
	table = (struct vring_desc *)md_req(&m, 2);
	memcpy(md_req(&m, 3), &h, sizeof(h));
	table[0] = (struct vring_desc){ m.buf.bus + 3 * SLOT_SIZE, sizeof(h), VRING_DESC_F_NEXT, 1 };
	table[1] = (struct vring_desc){ m.buf.bus + 3 * SLOT_SIZE + RESP_OFF, 408, VRING_DESC_F_WRITE, 0 };
	m.desc[0] = (struct vring_desc){ m.buf.bus + 2 * SLOT_SIZE, 2 * sizeof(*table),
					 VRING_DESC_F_INDIRECT, 0 };
	md_kick(&m, 0);
	REQUIRE(md_used(&m, &head, &len));
	CHECK_EQ(head, 0);
	CHECK_EQ(len, 408);
	memcpy(&type, md_resp(&m, 3), 4);
	CHECK_EQ(type, VIRTIO_GPU_RESP_OK_DISPLAY_INFO);
	md_stop(&m);
	CHECK_EQ(fake_machine_free(os), 0);
}

TEST(fake_dev_indirect_without_the_feature_is_a_driver_error)
{
	struct os_dev *os = fake_machine_new(NULL);
	uint32_t head, len;
	struct md m;

	REQUIRE(os);
	fake_set_strict(os, false);
	md_start(&m, os, DEFAULT_FEATURES, 8);
	m.desc[0] = (struct vring_desc){ m.buf.bus, 32, VRING_DESC_F_INDIRECT, 0 };
	md_kick(&m, 0);
	REQUIRE(md_used(&m, &head, &len));
	CHECK_EQ(len, 0);
	CHECK_EQ(fake_dev_stats(m.d)->bad_chain, 1);
	CHECK_EQ(fake_dev_stats(m.d)->driver_errors, 1);
	md_stop(&m);
	CHECK_EQ(fake_machine_free(os), 0);
}

TEST(fake_dev_event_idx_suppresses_and_requests_interrupts)
{
	struct fake_config c;
	struct os_dev *os;
	struct virtio_gpu_ctrl_hdr h = hdr(VIRTIO_GPU_CMD_GET_DISPLAY_INFO, 0);
	uint16_t *used_event, avail_event;
	struct md m;

	fake_config_init(&c);
	c.features |= VIRTIO_FEATURE_BIT(VIRTIO_F_EVENT_IDX);
	os = fake_machine_new(&c);
	REQUIRE(os);
	md_start(&m, os, c.features, 8);
	used_event = (uint16_t *)&m.avail->ring[m.qsize];
	*used_event = 5;  /* wake me when the 6th answer is used */
	CHECK_EQ(md_call(&m, &h, sizeof(h), 408, NULL), VIRTIO_GPU_RESP_OK_DISPLAY_INFO);
	CHECK_EQ(fake_dev_irq_pending(m.d), 0);
	memcpy(&avail_event, (uint8_t *)m.used + 4 + 8 * m.qsize, 2);
	CHECK_EQ(avail_event, 1);  /* the device asks to be kicked for the next one */
	*used_event = 1;           /* the 2nd answer */
	CHECK_EQ(md_call(&m, &h, sizeof(h), 408, NULL), VIRTIO_GPU_RESP_OK_DISPLAY_INFO);
	CHECK_EQ(fake_dev_irq_pending(m.d), 1u << 1);
	md_stop(&m);
	CHECK_EQ(fake_machine_free(os), 0);
}

TEST(fake_dev_catches_descriptors_reused_while_held)
{
	struct os_dev *os = fake_machine_new(NULL);
	struct virtio_gpu_ctrl_hdr h = hdr(VIRTIO_GPU_CMD_GET_DISPLAY_INFO, 0);
	uint32_t head, len;
	struct md m;

	REQUIRE(os);
	fake_set_strict(os, false);
	md_start(&m, os, DEFAULT_FEATURES, 8);
	fake_dev_script(m.d, VIRTIO_GPU_CMD_GET_DISPLAY_INFO, FAKE_HOLD, 1);
	memcpy(md_req(&m, 1), &h, sizeof(h));
	md_post(&m, 1, sizeof(h), 408);
	CHECK_EQ(fake_dev_held(m.d), 1);
	md_post(&m, 1, sizeof(h), 408);  /* the same descriptors, still the device's */
	REQUIRE(md_used(&m, &head, &len));
	CHECK_EQ(fake_dev_stats(m.d)->bad_chain, 1);
	CHECK_EQ(fake_dev_stats(m.d)->driver_errors, 1);
	CHECK_EQ(fake_dev_release(m.d), 1);
	md_stop(&m);
	CHECK_EQ(fake_machine_free(os), 0);
}

TEST(fake_dev_display_event_and_events_clear)
{
	struct os_dev *os = fake_machine_new(NULL);
	struct md m;
	uint8_t gen;

	REQUIRE(os);
	md_start(&m, os, DEFAULT_FEATURES, 8);
	gen = os_mmio_read8(m.common, VIRTIO_PCI_COMMON_CONFIG_GENERATION);
	fake_dev_display_event(m.d);
	CHECK_EQ(os_mmio_read32(m.device, 0), VIRTIO_GPU_EVENT_DISPLAY);
	CHECK_NE(os_mmio_read8(m.common, VIRTIO_PCI_COMMON_CONFIG_GENERATION), gen);
	CHECK_EQ(fake_dev_irq_pending(m.d), 1u << 0);
	os_mmio_write32(m.device, 4, VIRTIO_GPU_EVENT_DISPLAY);
	CHECK_EQ(os_mmio_read32(m.device, 0), 0);
	CHECK_EQ(fake_dev_stats(m.d)->events_read, 0);
	md_stop(&m);
	CHECK_EQ(fake_machine_free(os), 0);
}

TEST(fake_dev_refuses_features_it_did_not_offer)
{
	struct os_dev *os = fake_machine_new(NULL);
	struct os_mmio *common;
	uint8_t st;

	REQUIRE(os);
	fake_set_strict(os, false);
	REQUIRE_EQ(os_mmio_map(os, 4, 0, 0x1000, &common), 0);
	os_mmio_write8(common, VIRTIO_PCI_COMMON_DEVICE_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	os_mmio_write8(common, VIRTIO_PCI_COMMON_DEVICE_STATUS,
		       VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	os_mmio_write32(common, VIRTIO_PCI_COMMON_DRIVER_FEATURE_SELECT, 0);
	os_mmio_write32(common, VIRTIO_PCI_COMMON_DRIVER_FEATURE,
			1u << VIRTIO_GPU_F_RESOURCE_BLOB);  /* not offered, no VERSION_1 */
	os_mmio_write8(common, VIRTIO_PCI_COMMON_DEVICE_STATUS,
		       VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	st = os_mmio_read8(common, VIRTIO_PCI_COMMON_DEVICE_STATUS);
	CHECK_EQ(st & VIRTIO_STATUS_FEATURES_OK, 0);
	CHECK_EQ(fake_dev_stats(fake_dev_of(os))->driver_errors, 2);
	/* Writing read-only registers and using wrong widths is caught too. */
	os_mmio_write16(common, VIRTIO_PCI_COMMON_NUM_QUEUES, 7);
	CHECK_EQ(os_mmio_read32(common, VIRTIO_PCI_COMMON_QUEUE_SIZE), 0xffffffffu);
	CHECK_EQ(fake_dev_stats(fake_dev_of(os))->driver_errors, 4);
	os_mmio_write8(common, VIRTIO_PCI_COMMON_DEVICE_STATUS, 0);
	os_mmio_unmap(os, common);
	CHECK_EQ(fake_machine_free(os), 0);
}

/* ---- interrupts ------------------------------------------------------------ */

struct irq_probe {
	struct os_dev *os;
	struct md *m;
	struct os_waitq *wq;
	struct os_spin *lock;
	unsigned isrs, dpcs;
	int last_msg;
	enum fake_ctx isr_ctx, dpc_ctx;
	bool read_isr;
};

static bool probe_isr(void *arg, int msg)
{
	struct irq_probe *p = arg;

	p->isrs++;
	p->last_msg = msg;
	p->isr_ctx = fake_context(p->os);
	if (p->read_isr)
		return os_mmio_read8(p->m->isr, 0) != 0;
	return true;
}

static void probe_dpc(void *arg)
{
	struct irq_probe *p = arg;

	p->dpcs++;
	p->dpc_ctx = fake_context(p->os);
	os_spin_lock(p->lock);
	os_spin_unlock(p->lock);
	os_waitq_wake(p->wq);
}

static void irq_roundtrip(unsigned msix)
{
	struct fake_config c;
	struct os_dev *os;
	struct virtio_gpu_ctrl_hdr h = hdr(VIRTIO_GPU_CMD_GET_DISPLAY_INFO, 0);
	struct irq_probe p = { 0 };
	struct fake_irq_handler handler = { probe_isr, probe_dpc, &p };
	struct md m;
	uint64_t seq, t0;

	fake_config_init(&c);
	c.msix_count = msix;
	os = fake_machine_new(&c);
	REQUIRE(os);
	md_start(&m, os, DEFAULT_FEATURES, 8);
	p.os = os;
	p.m = &m;
	p.read_isr = msix == 0;
	p.wq = os_waitq_create(os);
	p.lock = os_spin_create(os);
	REQUIRE(p.wq && p.lock);
	fake_set_irq_handler(os, &handler);
	seq = os_waitq_seq(p.wq);
	CHECK_EQ(md_call(&m, &h, sizeof(h), 408, NULL), VIRTIO_GPU_RESP_OK_DISPLAY_INFO);
	CHECK_EQ(p.isrs, 0);  /* interrupts arrive at waits, not inline */
	t0 = os_time_ns(os);
	CHECK_EQ(os_waitq_wait(p.wq, seq, t0 + 1000000000ull), 0);
	CHECK_EQ(os_time_ns(os), t0);  /* no time passed */
	CHECK_EQ(p.isrs, 1);
	CHECK_EQ(p.dpcs, 1);
	CHECK_EQ(p.last_msg, msix ? 1 : -1);
	CHECK_EQ(p.isr_ctx, FAKE_CTX_ISR);
	CHECK_EQ(p.dpc_ctx, FAKE_CTX_DPC);
	CHECK_EQ(fake_context(os), FAKE_CTX_REQUEST);
	CHECK_EQ(fake_stats(os)->dpc_calls, 1);
	CHECK_EQ(fake_run(os), 0);
	fake_set_irq_handler(os, NULL);
	os_spin_destroy(p.lock);
	os_waitq_destroy(p.wq);
	md_stop(&m);
	CHECK_EQ(fake_stats(os)->violations, 0);
	CHECK_EQ(fake_machine_free(os), 0);
}

TEST(fake_irq_msix_delivers_isr_then_dpc_at_wait)
{
	irq_roundtrip(3);
}

TEST(fake_irq_intx_needs_the_isr_status_read)
{
	irq_roundtrip(0);
}

/* ---- the device and guest memory ------------------------------------------- */

TEST(fake_catches_freeing_memory_the_device_uses)
{
	struct os_dev *os = fake_machine_new(NULL);
	struct os_pages p;
	struct os_caller *c;
	uint64_t uaddr;
	void *cookie;
	struct md m;

	REQUIRE(os);
	fake_set_strict(os, false);
	md_start(&m, os, DEFAULT_FEATURES, 8);
	/* The ring is live: freeing it before the reset is a bug. */
	os_dma_free(os, &m.ring);
	CHECK_EQ(fake_stats(os)->violations, 1);
	REQUIRE_EQ(os_pages_alloc(os, 8192, &p), 0);
	c = fake_caller_new(os);
	REQUIRE(c);
	REQUIRE_EQ(os_map_user(c, &p, &uaddr, &cookie), 0);
	os_pages_free(os, &p);
	CHECK_EQ(fake_stats(os)->violations, 2);
	fake_caller_free(c);  /* with a live mapping: reported */
	CHECK_EQ(fake_stats(os)->violations, 3);
	os_mmio_write8(m.common, VIRTIO_PCI_COMMON_DEVICE_STATUS, 0);
	os_dma_free(os, &m.buf);
	os_mmio_unmap(os, m.common);
	os_mmio_unmap(os, m.notify);
	os_mmio_unmap(os, m.isr);
	os_mmio_unmap(os, m.device);
	CHECK_EQ(fake_machine_free(os), 0);
}

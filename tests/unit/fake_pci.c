/* SPDX-License-Identifier: MIT */
/*
 * fake_pci.c: the PCI face of the fake virtio-gpu. A type-0 config space
 * with a capability chain (walked backwards through memory like QEMU's,
 * MSI-X first) and the register model of BAR 4: common configuration at
 * 0x0000, ISR status at 0x1000, device configuration at 0x2000 and the
 * notify area at 0x3000 (multiplier 4), 4 KiB windows in a 16 KiB BAR.
 *
 * Register accesses must use each field's own width, naturally aligned; 64-bit
 * fields go as two 32-bit halves. Anything else is a driver error.
 */
#include <stdio.h>
#include <string.h>

#include "fake_priv.h"

#define MMIO_MAGIC 0x4d4d494fu

struct os_mmio {
	struct fake_obj o;
	uint8_t bar;
	uint32_t off;
	uint32_t len;
};

/* ---- config space ---------------------------------------------------------- */

static void put16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

struct cap_slot {
	uint8_t len;
	void (*fill)(struct fake_dev *d, uint8_t *p, const void *arg);
	const void *arg;
};

struct vcap_arg {
	uint8_t type, bar, id;
	uint32_t offset, length;
};

static void fill_vcap(struct fake_dev *d, uint8_t *p, const void *arg)
{
	const struct vcap_arg *a = arg;

	(void)d;
	p[0] = PCI_CAP_ID_VNDR;
	p[3] = a->type;
	p[4] = a->bar;
	p[5] = a->id;
	put32(p + 8, a->offset);
	put32(p + 12, a->length);
	if (a->type == VIRTIO_PCI_CAP_NOTIFY_CFG)
		put32(p + 16, FAKE_NOTIFY_MULT);
}

static void fill_shm(struct fake_dev *d, uint8_t *p, const void *arg)
{
	(void)arg;
	p[0] = PCI_CAP_ID_VNDR;
	p[3] = VIRTIO_PCI_CAP_SHARED_MEMORY_CFG;
	p[4] = FAKE_SHM_BAR;
	p[5] = VIRTIO_GPU_SHM_ID_HOST_VISIBLE;
	put32(p + 8, 0);
	put32(p + 12, (uint32_t)d->cfg.hostmem_size);
	put32(p + 16, 0);
	put32(p + 20, (uint32_t)(d->cfg.hostmem_size >> 32));
}

static void fill_msix(struct fake_dev *d, uint8_t *p, const void *arg)
{
	(void)arg;
	p[0] = PCI_CAP_ID_MSIX;
	put16(p + PCI_MSIX_MSG_CTRL,
	      (uint16_t)((d->cfg.msix_count - 1) | PCI_MSIX_MSG_CTRL_ENABLE));
	put32(p + PCI_MSIX_TABLE, FAKE_MSIX_BAR);
	put32(p + PCI_MSIX_PBA, 0x800 | FAKE_MSIX_BAR);
}

void fpci_build_config(struct fake_dev *d)
{
	static const struct vcap_arg common = { VIRTIO_PCI_CAP_COMMON_CFG, FAKE_BAR, 0,
						 FAKE_COMMON_OFF, FAKE_WINDOW };
	static const struct vcap_arg isr = { VIRTIO_PCI_CAP_ISR_CFG, FAKE_BAR, 0,
					      FAKE_ISR_OFF, FAKE_WINDOW };
	static const struct vcap_arg device = { VIRTIO_PCI_CAP_DEVICE_CFG, FAKE_BAR, 0,
						 FAKE_DEVICE_OFF, FAKE_WINDOW };
	static const struct vcap_arg notify = { VIRTIO_PCI_CAP_NOTIFY_CFG, FAKE_BAR, 0,
						 FAKE_NOTIFY_OFF, FAKE_WINDOW };
	static const struct vcap_arg pcicfg = { VIRTIO_PCI_CAP_PCI_CFG, 0, 0, 0, 0 };
	/* Unusable: a reserved BAR number, and a type nobody knows. */
	static const struct vcap_arg decoy_bar = { VIRTIO_PCI_CAP_COMMON_CFG, 7, 0,
						    FAKE_COMMON_OFF, FAKE_WINDOW };
	static const struct vcap_arg decoy_type = { 0x42, FAKE_BAR, 0, 0, FAKE_WINDOW };
	struct cap_slot chain[10];
	unsigned n = 0;
	uint8_t *c = d->pcicfg;
	uint8_t pos, prev = 0;

	memset(c, 0, sizeof(d->pcicfg));
	put16(c + PCI_CFG_VENDOR_ID, VIRTIO_PCI_VENDOR_ID);
	put16(c + PCI_CFG_DEVICE_ID, VIRTIO_PCI_DEVICE_ID_GPU);
	put16(c + PCI_CFG_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_BUS_MASTER);
	put16(c + PCI_CFG_STATUS, PCI_STATUS_CAP_LIST);
	c[PCI_CFG_REVISION] = VIRTIO_PCI_MIN_MODERN_REVISION;
	c[0x0a] = 0x80;  /* display controller, other */
	c[0x0b] = 0x03;
	if (d->cfg.msix_count)
		put32(c + PCI_CFG_BAR(FAKE_MSIX_BAR), 0xfebf1000u);
	if (d->cfg.hostmem_size) {
		put32(c + PCI_CFG_BAR(2), PCI_BAR_MEM_TYPE_64 | PCI_BAR_PREFETCH);
		put32(c + PCI_CFG_BAR(3), 0x8);
	}
	put32(c + PCI_CFG_BAR(FAKE_BAR), 0xfe000000u | PCI_BAR_MEM_TYPE_64 | PCI_BAR_PREFETCH);
	put32(c + PCI_CFG_BAR(FAKE_BAR + 1), 0);
	put16(c + 0x2c, VIRTIO_PCI_VENDOR_ID);  /* subsystem */
	put16(c + 0x2e, 0x1100);
	c[PCI_CFG_INTERRUPT_LINE] = 11;
	c[0x3d] = 1;  /* INTA# */

	/* Chain order. */
	if (d->cfg.msix_count)
		chain[n++] = (struct cap_slot){ 12, fill_msix, NULL };
	if (d->cfg.pci_decoy_caps) {
		chain[n++] = (struct cap_slot){ 16, fill_vcap, &decoy_bar };
		chain[n++] = (struct cap_slot){ 16, fill_vcap, &decoy_type };
	}
	chain[n++] = (struct cap_slot){ 16, fill_vcap, &common };
	chain[n++] = (struct cap_slot){ 20, fill_vcap, &notify };
	chain[n++] = (struct cap_slot){ 16, fill_vcap, &isr };
	chain[n++] = (struct cap_slot){ 16, fill_vcap, &device };
	chain[n++] = (struct cap_slot){ 20, fill_vcap, &pcicfg };
	if (d->cfg.hostmem_size)
		chain[n++] = (struct cap_slot){ 24, fill_shm, NULL };
	/* Memory order is the reverse: the last cap sits at 0x40. */
	pos = 0x40;
	for (unsigned i = n; i-- > 0;) {
		uint8_t *p = c + pos;

		chain[i].fill(d, p, chain[i].arg);
		p[1] = prev;
		if (p[0] == PCI_CAP_ID_VNDR)
			p[2] = chain[i].len;
		prev = pos;
		pos = (uint8_t)(pos + ((chain[i].len + 3u) & ~3u));
	}
	c[PCI_CFG_CAP_PTR] = prev;
}

int os_pci_cfg_read(struct os_dev *os, uint32_t offset, void *buf, uint32_t len)
{
	fake_storm(os);
	if (offset > sizeof(os->dev->pcicfg) || len > sizeof(os->dev->pcicfg) - offset)
		return -VIRGO_EINVAL;
	memcpy(buf, os->dev->pcicfg + offset, len);
	return 0;
}

/* ---- common configuration -------------------------------------------------- */

static unsigned common_width(uint32_t off)
{
	switch (off) {
	case VIRTIO_PCI_COMMON_DEVICE_FEATURE_SELECT:
	case VIRTIO_PCI_COMMON_DEVICE_FEATURE:
	case VIRTIO_PCI_COMMON_DRIVER_FEATURE_SELECT:
	case VIRTIO_PCI_COMMON_DRIVER_FEATURE:
	case VIRTIO_PCI_COMMON_QUEUE_DESC_LO:
	case VIRTIO_PCI_COMMON_QUEUE_DESC_HI:
	case VIRTIO_PCI_COMMON_QUEUE_DRIVER_LO:
	case VIRTIO_PCI_COMMON_QUEUE_DRIVER_HI:
	case VIRTIO_PCI_COMMON_QUEUE_DEVICE_LO:
	case VIRTIO_PCI_COMMON_QUEUE_DEVICE_HI:
		return 4;
	case VIRTIO_PCI_COMMON_DEVICE_STATUS:
	case VIRTIO_PCI_COMMON_CONFIG_GENERATION:
		return 1;
	default:
		return off < sizeof(struct virtio_pci_common_cfg) ? 2 : 0;
	}
}

static struct fake_queue *cur_queue(struct fake_dev *d)
{
	return d->queue_sel < VIRTIO_GPU_QUEUE_COUNT ? &d->q[d->queue_sel] : NULL;
}

static uint16_t valid_vector(struct fake_dev *d, uint32_t v)
{
	return v < d->cfg.msix_count ? (uint16_t)v : VIRTIO_MSI_NO_VECTOR;
}

static uint32_t common_read(struct fake_dev *d, uint32_t off)
{
	struct fake_queue *q = cur_queue(d);

	switch (off) {
	case VIRTIO_PCI_COMMON_DEVICE_FEATURE_SELECT: return d->dfeat_sel;
	case VIRTIO_PCI_COMMON_DEVICE_FEATURE:
		return d->dfeat_sel < 2 ? (uint32_t)(d->cfg.features >> (32 * d->dfeat_sel)) : 0;
	case VIRTIO_PCI_COMMON_DRIVER_FEATURE_SELECT: return d->gfeat_sel;
	case VIRTIO_PCI_COMMON_DRIVER_FEATURE:
		return d->gfeat_sel < 2 ? (uint32_t)(d->driver_features >> (32 * d->gfeat_sel)) : 0;
	case VIRTIO_PCI_COMMON_CONFIG_MSIX_VECTOR: return d->config_vector;
	case VIRTIO_PCI_COMMON_NUM_QUEUES: return VIRTIO_GPU_QUEUE_COUNT;
	case VIRTIO_PCI_COMMON_DEVICE_STATUS: return d->status;
	case VIRTIO_PCI_COMMON_CONFIG_GENERATION: return d->config_gen;
	case VIRTIO_PCI_COMMON_QUEUE_SELECT: return d->queue_sel;
	case VIRTIO_PCI_COMMON_QUEUE_SIZE: return q ? q->size : 0;
	case VIRTIO_PCI_COMMON_QUEUE_MSIX_VECTOR: return q ? q->vector : VIRTIO_MSI_NO_VECTOR;
	case VIRTIO_PCI_COMMON_QUEUE_ENABLE: return q ? q->enabled : 0;
	case VIRTIO_PCI_COMMON_QUEUE_NOTIFY_OFF: return q ? d->queue_sel : 0;
	case VIRTIO_PCI_COMMON_QUEUE_DESC_LO: return q ? (uint32_t)q->desc : 0;
	case VIRTIO_PCI_COMMON_QUEUE_DESC_HI: return q ? (uint32_t)(q->desc >> 32) : 0;
	case VIRTIO_PCI_COMMON_QUEUE_DRIVER_LO: return q ? (uint32_t)q->driver : 0;
	case VIRTIO_PCI_COMMON_QUEUE_DRIVER_HI: return q ? (uint32_t)(q->driver >> 32) : 0;
	case VIRTIO_PCI_COMMON_QUEUE_DEVICE_LO: return q ? (uint32_t)q->device : 0;
	case VIRTIO_PCI_COMMON_QUEUE_DEVICE_HI: return q ? (uint32_t)(q->device >> 32) : 0;
	default: return 0;
	}
}

static bool is_pow2(uint32_t v)
{
	return v && !(v & (v - 1));
}

static void queue_enable(struct fake_dev *d, struct fake_queue *q)
{
	struct os_dev *os = d->os;
	uint64_t dlen = vring_desc_size(q->size);
	uint64_t alen = vring_avail_size(q->size);
	uint64_t ulen = vring_used_size(q->size);

	if (!(d->status & VIRTIO_STATUS_FEATURES_OK)) {
		fake_driver_error(os, "queue %u enabled before FEATURES_OK", d->queue_sel);
		return;
	}
	if (q->enabled) {
		fake_driver_error(os, "queue %u enabled twice", d->queue_sel);
		return;
	}
	if (q->desc % VRING_DESC_ALIGN || q->driver % VRING_AVAIL_ALIGN ||
	    q->device % VRING_USED_ALIGN) {
		fake_driver_error(os, "queue %u: misaligned ring areas", d->queue_sel);
		return;
	}
	if (!fram_resolve(&os->ram, q->desc, dlen) || !fram_resolve(&os->ram, q->driver, alen) ||
	    !fram_resolve(&os->ram, q->device, ulen)) {
		d->st.bad_addr++;
		fake_driver_error(os, "queue %u: ring areas outside allocated guest RAM "
				  "(desc %#llx avail %#llx used %#llx)", d->queue_sel,
				  (unsigned long long)q->desc, (unsigned long long)q->driver,
				  (unsigned long long)q->device);
		return;
	}
	fram_ref(&os->ram, q->desc, dlen, 1);
	fram_ref(&os->ram, q->driver, alen, 1);
	fram_ref(&os->ram, q->device, ulen, 1);
	q->enabled = true;
	q->last_avail = 0;
	q->used_idx = 0;
}

static void set_addr_half(struct fake_dev *d, uint64_t *field, bool hi, uint32_t v)
{
	struct fake_queue *q = cur_queue(d);

	if (!q)
		return;
	if (q->enabled) {
		fake_driver_error(d->os, "queue %u: ring address written while enabled", d->queue_sel);
		return;
	}
	if (hi)
		*field = (*field & 0xffffffffull) | (uint64_t)v << 32;
	else
		*field = (*field & ~0xffffffffull) | v;
}

static void status_write(struct fake_dev *d, uint8_t v)
{
	struct os_dev *os = d->os;
	uint8_t old = d->status, now, added;

	if (!v) {
		fdev_reset(d);
		return;
	}
	if (old & ~v & ~VIRTIO_STATUS_DEVICE_NEEDS_RESET)
		fake_driver_error(os, "device status bits cleared (%#x -> %#x) without a reset", old, v);
	now = (uint8_t)((old | v) & ~VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	now |= old & VIRTIO_STATUS_DEVICE_NEEDS_RESET;
	added = (uint8_t)(now & ~old);
	if ((added & VIRTIO_STATUS_DRIVER) && !(now & VIRTIO_STATUS_ACKNOWLEDGE))
		fake_driver_error(os, "DRIVER set without ACKNOWLEDGE");
	if (added & VIRTIO_STATUS_FEATURES_OK) {
		uint64_t f = d->driver_features;
		bool ok = true;

		if (!(now & VIRTIO_STATUS_DRIVER))
			fake_driver_error(os, "FEATURES_OK set without DRIVER");
		if (f & ~d->cfg.features) {
			fake_driver_error(os, "driver took features %#llx the device did not offer",
					  (unsigned long long)(f & ~d->cfg.features));
			ok = false;
		}
		if (!(f & VIRTIO_FEATURE_BIT(VIRTIO_F_VERSION_1))) {
			fake_driver_error(os, "driver did not take VIRTIO_F_VERSION_1");
			ok = false;
		}
		if ((f & VIRTIO_FEATURE_BIT(VIRTIO_GPU_F_CONTEXT_INIT)) &&
		    !(f & VIRTIO_FEATURE_BIT(VIRTIO_GPU_F_VIRGL)))
			ok = false;  /* the device may refuse a combination */
		if (ok)
			d->features = f;
		else
			now &= (uint8_t)~VIRTIO_STATUS_FEATURES_OK;
	}
	if ((added & VIRTIO_STATUS_DRIVER_OK) && !(now & VIRTIO_STATUS_FEATURES_OK))
		fake_driver_error(os, "DRIVER_OK set without FEATURES_OK");
	d->status = now;
	d->st.status = now;
	d->st.driver_features = d->features;
}

static void common_write(struct fake_dev *d, uint32_t off, uint32_t v)
{
	struct os_dev *os = d->os;
	struct fake_queue *q = cur_queue(d);

	switch (off) {
	case VIRTIO_PCI_COMMON_DEVICE_FEATURE_SELECT:
		d->dfeat_sel = v;
		break;
	case VIRTIO_PCI_COMMON_DRIVER_FEATURE_SELECT:
		d->gfeat_sel = v;
		break;
	case VIRTIO_PCI_COMMON_DRIVER_FEATURE:
		if (d->status & VIRTIO_STATUS_FEATURES_OK)
			fake_driver_error(os, "driver features written after FEATURES_OK");
		else if (d->gfeat_sel < 2)
			d->driver_features = (d->driver_features &
					      ~(0xffffffffull << (32 * d->gfeat_sel))) |
					     (uint64_t)v << (32 * d->gfeat_sel);
		break;
	case VIRTIO_PCI_COMMON_CONFIG_MSIX_VECTOR:
		d->config_vector = valid_vector(d, v);
		break;
	case VIRTIO_PCI_COMMON_DEVICE_STATUS:
		status_write(d, (uint8_t)v);
		break;
	case VIRTIO_PCI_COMMON_QUEUE_SELECT:
		d->queue_sel = (uint16_t)v;
		break;
	case VIRTIO_PCI_COMMON_QUEUE_SIZE:
		if (!q)
			break;
		if (q->enabled)
			fake_driver_error(os, "queue %u: size written while enabled", d->queue_sel);
		else if (!is_pow2(v) || v > q->max)
			fake_driver_error(os, "queue %u: size %u (max %u, power of two)",
					  d->queue_sel, v, q->max);
		else
			q->size = (uint16_t)v;
		break;
	case VIRTIO_PCI_COMMON_QUEUE_MSIX_VECTOR:
		if (q)
			q->vector = valid_vector(d, v);
		break;
	case VIRTIO_PCI_COMMON_QUEUE_ENABLE:
		if (!q)
			break;
		if (v != 1)
			fake_driver_error(os, "queue %u: queue_enable written with %u", d->queue_sel, v);
		else
			queue_enable(d, q);
		break;
	case VIRTIO_PCI_COMMON_QUEUE_DESC_LO:
	case VIRTIO_PCI_COMMON_QUEUE_DESC_HI:
		if (q)
			set_addr_half(d, &q->desc, off == VIRTIO_PCI_COMMON_QUEUE_DESC_HI, v);
		break;
	case VIRTIO_PCI_COMMON_QUEUE_DRIVER_LO:
	case VIRTIO_PCI_COMMON_QUEUE_DRIVER_HI:
		if (q)
			set_addr_half(d, &q->driver, off == VIRTIO_PCI_COMMON_QUEUE_DRIVER_HI, v);
		break;
	case VIRTIO_PCI_COMMON_QUEUE_DEVICE_LO:
	case VIRTIO_PCI_COMMON_QUEUE_DEVICE_HI:
		if (q)
			set_addr_half(d, &q->device, off == VIRTIO_PCI_COMMON_QUEUE_DEVICE_HI, v);
		break;
	default:
		fake_driver_error(os, "write of %#x to read-only common config offset %u", v, off);
		break;
	}
}

/* ---- the BAR --------------------------------------------------------------- */

uint32_t fpci_read(struct fake_dev *d, uint32_t off, unsigned width)
{
	uint32_t region = off & ~(FAKE_WINDOW - 1), r = off & (FAKE_WINDOW - 1);
	uint32_t ones = width == 4 ? 0xffffffffu : (1u << (8 * width)) - 1;

	if (d->removed)
		return ones; /* nothing decodes the address any more */
	switch (region) {
	case FAKE_COMMON_OFF: {
		unsigned w = common_width(r);

		if (!w)
			return 0;  /* beyond the structure: reads as zero */
		if (w != width) {
			fake_driver_error(d->os, "common config offset %u read with width %u (field is %u)",
					  r, width, w);
			return ones;
		}
		return common_read(d, r);
	}
	case FAKE_ISR_OFF:
		if (r == 0 && width == 1) {
			uint8_t v = d->isr;

			d->isr = 0;
			return v;
		}
		fake_driver_error(d->os, "ISR status read at offset %u width %u", r, width);
		return ones;
	case FAKE_DEVICE_OFF:
		if (width != 4 || r % 4) {
			fake_driver_error(d->os, "device config offset %u read with width %u", r, width);
			return ones;
		}
		switch (r) {
		case 0: return d->events_read;
		case 4: return 0;
		case 8: return d->cfg.num_scanouts;
		case 12: return d->cfg.num_capsets;
		default: return 0;
		}
	default:
		fake_driver_error(d->os, "read of the notify area (offset %#x)", off);
		return ones;
	}
}

void fpci_write(struct fake_dev *d, uint32_t off, unsigned width, uint32_t v)
{
	uint32_t region = off & ~(FAKE_WINDOW - 1), r = off & (FAKE_WINDOW - 1);

	if (d->removed)
		return;
	switch (region) {
	case FAKE_COMMON_OFF: {
		unsigned w = common_width(r);

		if (!w) {
			fake_driver_error(d->os, "write beyond the common config (offset %u)", r);
			return;
		}
		if (w != width) {
			fake_driver_error(d->os, "common config offset %u written with width %u (field is %u)",
					  r, width, w);
			return;
		}
		common_write(d, r, v);
		return;
	}
	case FAKE_ISR_OFF:
		fake_driver_error(d->os, "write to the ISR status");
		return;
	case FAKE_DEVICE_OFF:
		if (width == 4 && r == 4) {
			if (d->events_read & v)
				d->config_gen++;
			d->events_read &= ~v;
			d->st.events_read = d->events_read;
			return;
		}
		fake_driver_error(d->os, "device config offset %u written (width %u)", r, width);
		return;
	default: {
		uint32_t qi = r / FAKE_NOTIFY_MULT;

		if (width != 2 || r % FAKE_NOTIFY_MULT || qi >= VIRTIO_GPU_QUEUE_COUNT || v != qi) {
			fake_driver_error(d->os, "bad notify: offset %u width %u value %u", r, width, v);
			return;
		}
		d->st.notifies++;
		fdev_process(d, (uint16_t)qi);
		return;
	}
	}
}

/* ---- os.h MMIO --------------------------------------------------------------- */

int os_mmio_map(struct os_dev *os, uint8_t bar, uint64_t offset, uint64_t len,
		struct os_mmio **out)
{
	struct os_mmio *m;

	*out = NULL;
	if (bar != FAKE_BAR || !len || offset >= FAKE_BAR_SIZE || len > FAKE_BAR_SIZE - offset) {
		fake_check_passive(os, "os_mmio_map");
		os_log(os, OS_LOG_DEBUG, "fake: os_mmio_map(bar %u, %#llx, %#llx) refused", bar,
		       (unsigned long long)offset, (unsigned long long)len);
		return -VIRGO_EINVAL;
	}
	m = fake_obj_new(os, sizeof(*m), MMIO_MAGIC, &os->st.mmio, "os_mmio_map");
	if (!m)
		return -VIRGO_ENOMEM;
	m->bar = bar;
	m->off = (uint32_t)offset;
	m->len = (uint32_t)len;
	*out = m;
	return 0;
}

void os_mmio_unmap(struct os_dev *os, struct os_mmio *m)
{
	if (!m)
		return;
	fake_check_passive(os, "os_mmio_unmap");
	if (m->o.magic != MMIO_MAGIC || m->o.os != os) {
		fake_violation(os, "os_mmio_unmap of a dead or foreign window");
		return;
	}
	fake_obj_free(&m->o, &os->st.mmio);
}

/* The device, or NULL for an access that must not happen. */
static struct fake_dev *mmio_check(struct os_mmio *m, uint32_t off, unsigned width, bool write)
{
	struct os_dev *os;

	if (!m || m->o.magic != MMIO_MAGIC) {
		fake_orphan_violation("MMIO access", m);
		return NULL;
	}
	os = m->o.os;
	if (write && os->ctx == FAKE_CTX_ISR)
		fake_violation(os, "MMIO write in ISR context (only reads are allowed there)");
	if (off % width || off > m->len || width > m->len - off) {
		fake_violation(os, "MMIO access at %#x width %u outside or misaligned in a %#x window",
			       off, width, m->len);
		return NULL;
	}
	return os->dev;
}

static uint32_t mmio_read(struct os_mmio *m, uint32_t off, unsigned width)
{
	struct fake_dev *d;

	if (m && m->o.magic == MMIO_MAGIC)
		fake_storm(m->o.os);
	d = mmio_check(m, off, width, false);

	return d ? fpci_read(d, m->off + off, width) : 0xffffffffu;
}

static void mmio_write(struct os_mmio *m, uint32_t off, unsigned width, uint32_t v)
{
	struct fake_dev *d;

	if (m && m->o.magic == MMIO_MAGIC)
		fake_storm(m->o.os);
	d = mmio_check(m, off, width, true);

	if (d)
		fpci_write(d, m->off + off, width, v);
}

uint8_t os_mmio_read8(struct os_mmio *m, uint32_t off)
{
	return (uint8_t)mmio_read(m, off, 1);
}

uint16_t os_mmio_read16(struct os_mmio *m, uint32_t off)
{
	return (uint16_t)mmio_read(m, off, 2);
}

uint32_t os_mmio_read32(struct os_mmio *m, uint32_t off)
{
	return mmio_read(m, off, 4);
}

void os_mmio_write8(struct os_mmio *m, uint32_t off, uint8_t v)
{
	mmio_write(m, off, 1, v);
}

void os_mmio_write16(struct os_mmio *m, uint32_t off, uint16_t v)
{
	mmio_write(m, off, 2, v);
}

void os_mmio_write32(struct os_mmio *m, uint32_t off, uint32_t v)
{
	mmio_write(m, off, 4, v);
}

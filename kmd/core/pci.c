/* SPDX-License-Identifier: MIT */
/* The virtio-pci modern transport, written from the virtio 1.2 spec §4.1. */
#include "pci.h"

#include <virgo/uapi.h>
#include <virgo/virtio_gpu.h>
#include <virgo/virtio_pci.h>
#include <virgo/virtio_ring.h>

/* A status change must be seen within this time or the device is broken. */
#define PCI_RESET_TIMEOUT_NS (1000ull * 1000000ull)

static int cfg8(struct pci_transport *t, uint32_t off, uint8_t *v)
{
	return os_pci_cfg_read(t->os, off, v, 1);
}

static int map_cap(struct pci_transport *t, uint8_t pos, struct os_mmio **out, uint32_t *len_out)
{
	struct virtio_pci_cap cap;
	int ret = os_pci_cfg_read(t->os, pos, &cap, sizeof(cap));

	if (ret)
		return ret;
	/* BARs 0-5 only; a zero-length window would make every access an
	 * out-of-bounds access. */
	if (cap.bar > 5 || cap.length == 0) {
		os_log(t->os, OS_LOG_ERR, "virtio cap type %u: bad bar %u or length %u",
		       cap.cfg_type, cap.bar, cap.length);
		return -VIRGO_EPROTO;
	}
	if (len_out)
		*len_out = cap.length;
	return os_mmio_map(t->os, cap.bar, cap.offset, cap.length, out);
}

/* A shared-memory capability: the region is not mapped here (its users
 * map their parts of it), only remembered. The first one per shmid wins. */
static int read_shm_cap(struct pci_transport *t, uint8_t pos, uint8_t cap_len)
{
	struct virtio_pci_cap64 c;
	uint64_t off, len;
	int ret;

	if (cap_len < sizeof(c))
		return -VIRGO_EPROTO;
	ret = os_pci_cfg_read(t->os, pos, &c, sizeof(c));
	if (ret)
		return ret;
	if (c.cap.id != VIRTIO_GPU_SHM_ID_HOST_VISIBLE || t->shm_len)
		return 0;
	off = (uint64_t)c.offset_hi << 32 | c.cap.offset;
	len = (uint64_t)c.length_hi << 32 | c.cap.length;
	if (c.cap.bar > 5 || !len || off + len < off) {
		os_log(t->os, OS_LOG_WARN, "host-visible region: bad bar %u or range %#llx+%#llx, ignored", c.cap.bar,
		       (unsigned long long)off, (unsigned long long)len);
		return -VIRGO_EPROTO;
	}
	t->shm_bar = c.cap.bar;
	t->shm_off = off;
	t->shm_len = len;
	return 0;
}

int pci_probe(struct pci_transport *t, struct os_dev *os)
{
	uint16_t vendor = 0, device = 0, status = 0;
	uint8_t pos = 0, guard = 0;
	int ret;

	*t = (struct pci_transport){ .os = os };
	ret = os_pci_cfg_read(os, PCI_CFG_VENDOR_ID, &vendor, 2);
	ret = ret ? ret : os_pci_cfg_read(os, PCI_CFG_DEVICE_ID, &device, 2);
	ret = ret ? ret : os_pci_cfg_read(os, PCI_CFG_STATUS, &status, 2);
	if (ret)
		return ret;
	if (vendor != VIRTIO_PCI_VENDOR_ID || device != VIRTIO_PCI_DEVICE_ID_GPU) {
		os_log(os, OS_LOG_ERR, "not a virtio-gpu: %04x:%04x", vendor, device);
		return -VIRGO_ENODEV;
	}
	if (!(status & PCI_STATUS_CAP_LIST))
		return -VIRGO_ENODEV;
	ret = cfg8(t, PCI_CFG_CAP_PTR, &pos);
	/* 48 hops is more than 256 bytes of config space can hold: a loop in
	 * the list is a broken device, not a reason to hang. */
	while (!ret && pos >= 0x40 && guard++ < 48) {
		struct virtio_pci_cap cap;

		pos &= 0xfc;
		ret = os_pci_cfg_read(os, pos, &cap, sizeof(cap));
		if (ret)
			break;
		if (cap.cap_vndr == PCI_CAP_ID_VNDR && cap.cap_len >= sizeof(cap)) {
			switch (cap.cfg_type) {
			case VIRTIO_PCI_CAP_COMMON_CFG:
				if (!t->common && cap.length >= sizeof(struct virtio_pci_common_cfg))
					ret = map_cap(t, pos, &t->common, NULL);
				break;
			case VIRTIO_PCI_CAP_NOTIFY_CFG:
				if (!t->notify && cap.cap_len >= sizeof(struct virtio_pci_notify_cap)) {
					ret = os_pci_cfg_read(os, pos + offsetof(struct virtio_pci_notify_cap, notify_off_multiplier),
							      &t->notify_mult, 4);
					if (!ret)
						ret = map_cap(t, pos, &t->notify, &t->notify_len);
				}
				break;
			case VIRTIO_PCI_CAP_ISR_CFG:
				if (!t->isr)
					ret = map_cap(t, pos, &t->isr, NULL);
				break;
			case VIRTIO_PCI_CAP_DEVICE_CFG:
				if (!t->device)
					ret = map_cap(t, pos, &t->device, &t->device_len);
				break;
			case VIRTIO_PCI_CAP_SHARED_MEMORY_CFG:
				ret = read_shm_cap(t, pos, cap.cap_len);
				break;
			default:
				break;
			}
		}
		/* A capability we cannot use is skipped: the spec lets a device
		 * offer several of a type, the driver takes the first good one. */
		if (ret == -VIRGO_EPROTO || ret == -VIRGO_EINVAL)
			ret = 0;
		pos = cap.cap_next;
	}
	if (!ret && (!t->common || !t->notify || !t->isr || !t->device)) {
		os_log(os, OS_LOG_ERR, "virtio-pci capabilities incomplete (common %d notify %d isr %d device %d)",
		       !!t->common, !!t->notify, !!t->isr, !!t->device);
		ret = -VIRGO_ENODEV;
	}
	if (ret) {
		pci_release(t);
		return ret;
	}
	t->num_queues = os_mmio_read16(t->common, VIRTIO_PCI_COMMON_NUM_QUEUES);
	t->msix = os_irq_msix_count(os);
	return 0;
}

void pci_release(struct pci_transport *t)
{
	struct os_mmio **maps[] = { &t->common, &t->notify, &t->isr, &t->device };

	for (unsigned i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
		if (*maps[i])
			os_mmio_unmap(t->os, *maps[i]);
		*maps[i] = NULL;
	}
}

int pci_reset(struct pci_transport *t)
{
	uint64_t deadline = os_time_ns(t->os) + PCI_RESET_TIMEOUT_NS;

	os_mmio_write8(t->common, VIRTIO_PCI_COMMON_DEVICE_STATUS, 0);
	/* The spec lets the device take its time; the driver must read 0
	 * back before it touches anything else. */
	for (uint8_t st; (st = os_mmio_read8(t->common, VIRTIO_PCI_COMMON_DEVICE_STATUS)) != 0;) {
		/* All ones is no status a device can have (FAILED with every
		 * other bit): the bus answers so when nothing is there. */
		if (st == 0xff) {
			os_log(t->os, OS_LOG_WARN, "device gone: its status reads all ones");
			return -VIRGO_ENODEV;
		}
		if (os_time_ns(t->os) > deadline) {
			os_log(t->os, OS_LOG_ERR, "device did not finish reset");
			return -VIRGO_ETIMEDOUT;
		}
	}
	return 0;
}

uint8_t pci_get_status(struct pci_transport *t)
{
	return os_mmio_read8(t->common, VIRTIO_PCI_COMMON_DEVICE_STATUS);
}

void pci_add_status(struct pci_transport *t, uint8_t bits)
{
	os_mmio_write8(t->common, VIRTIO_PCI_COMMON_DEVICE_STATUS, pci_get_status(t) | bits);
}

uint64_t pci_device_features(struct pci_transport *t)
{
	uint64_t lo, hi;

	os_mmio_write32(t->common, VIRTIO_PCI_COMMON_DEVICE_FEATURE_SELECT, 0);
	lo = os_mmio_read32(t->common, VIRTIO_PCI_COMMON_DEVICE_FEATURE);
	os_mmio_write32(t->common, VIRTIO_PCI_COMMON_DEVICE_FEATURE_SELECT, 1);
	hi = os_mmio_read32(t->common, VIRTIO_PCI_COMMON_DEVICE_FEATURE);
	return lo | (hi << 32);
}

int pci_set_features(struct pci_transport *t, uint64_t features)
{
	os_mmio_write32(t->common, VIRTIO_PCI_COMMON_DRIVER_FEATURE_SELECT, 0);
	os_mmio_write32(t->common, VIRTIO_PCI_COMMON_DRIVER_FEATURE, (uint32_t)features);
	os_mmio_write32(t->common, VIRTIO_PCI_COMMON_DRIVER_FEATURE_SELECT, 1);
	os_mmio_write32(t->common, VIRTIO_PCI_COMMON_DRIVER_FEATURE, (uint32_t)(features >> 32));
	pci_add_status(t, VIRTIO_STATUS_FEATURES_OK);
	/* The device clears FEATURES_OK when it rejects the subset. */
	if (!(pci_get_status(t) & VIRTIO_STATUS_FEATURES_OK)) {
		os_log(t->os, OS_LOG_ERR, "device rejected features %#llx", (unsigned long long)features);
		return -VIRGO_ENODEV;
	}
	return 0;
}

int pci_queue_max(struct pci_transport *t, uint16_t index, uint16_t *max)
{
	if (index >= t->num_queues)
		return -VIRGO_ENODEV;
	os_mmio_write16(t->common, VIRTIO_PCI_COMMON_QUEUE_SELECT, index);
	*max = os_mmio_read16(t->common, VIRTIO_PCI_COMMON_QUEUE_SIZE);
	return *max ? 0 : -VIRGO_ENODEV;
}

static void write64(struct os_mmio *m, uint32_t off, uint64_t v)
{
	/* Two 32-bit halves: the spec allows it and not every bus does 64-bit. */
	os_mmio_write32(m, off, (uint32_t)v);
	os_mmio_write32(m, off + 4, (uint32_t)(v >> 32));
}

int pci_queue_enable(struct pci_transport *t, uint16_t index, struct pci_queue_layout *l)
{
	os_mmio_write16(t->common, VIRTIO_PCI_COMMON_QUEUE_SELECT, index);
	os_mmio_write16(t->common, VIRTIO_PCI_COMMON_QUEUE_SIZE, l->size);
	write64(t->common, VIRTIO_PCI_COMMON_QUEUE_DESC_LO, l->desc);
	write64(t->common, VIRTIO_PCI_COMMON_QUEUE_DRIVER_LO, l->driver);
	write64(t->common, VIRTIO_PCI_COMMON_QUEUE_DEVICE_LO, l->device);
	if (t->msix) {
		os_mmio_write16(t->common, VIRTIO_PCI_COMMON_QUEUE_MSIX_VECTOR, l->vector);
		/* The device answers NO_VECTOR when it could not take ours. */
		if (os_mmio_read16(t->common, VIRTIO_PCI_COMMON_QUEUE_MSIX_VECTOR) != l->vector) {
			os_log(t->os, OS_LOG_ERR, "queue %u: MSI-X vector %u refused", index, l->vector);
			return -VIRGO_ENODEV;
		}
	}
	l->notify_off = os_mmio_read16(t->common, VIRTIO_PCI_COMMON_QUEUE_NOTIFY_OFF);
	if ((uint64_t)l->notify_off * t->notify_mult + 2 > t->notify_len) {
		os_log(t->os, OS_LOG_ERR, "queue %u: notify offset %u outside the window", index, l->notify_off);
		return -VIRGO_EPROTO;
	}
	os_mmio_write16(t->common, VIRTIO_PCI_COMMON_QUEUE_ENABLE, 1);
	return 0;
}

void pci_queue_notify(struct pci_transport *t, uint16_t index, uint16_t notify_off)
{
	os_mmio_write16(t->notify, (uint32_t)notify_off * t->notify_mult, index);
}

int pci_config_vector(struct pci_transport *t, uint16_t vector)
{
	if (!t->msix)
		return 0;
	os_mmio_write16(t->common, VIRTIO_PCI_COMMON_CONFIG_MSIX_VECTOR, vector);
	if (os_mmio_read16(t->common, VIRTIO_PCI_COMMON_CONFIG_MSIX_VECTOR) != vector)
		return -VIRGO_ENODEV;
	return 0;
}

uint8_t pci_isr_read(struct pci_transport *t)
{
	/* The ISR only runs once the windows exist (gpu_init publishes the
	 * device after probing); this guard is for the transport alone. */
	return t->isr ? os_mmio_read8(t->isr, 0) : 0;
}

int pci_config_read(struct pci_transport *t, uint32_t off, void *buf, uint32_t len)
{
	uint8_t *dst = buf;

	if (off > t->device_len || len > t->device_len - off || (off | len) & 3)
		return -VIRGO_EINVAL;
	/* Retry while the generation moves: a multi-word read must not mix
	 * two versions of the config. Bounded, as everything here. */
	for (int tries = 0; tries < 16; tries++) {
		uint8_t gen = os_mmio_read8(t->common, VIRTIO_PCI_COMMON_CONFIG_GENERATION);

		for (uint32_t i = 0; i < len; i += 4) {
			uint32_t v = os_mmio_read32(t->device, off + i);

			for (int b = 0; b < 4; b++)
				dst[i + b] = (uint8_t)(v >> (8 * b));
		}
		if (gen == os_mmio_read8(t->common, VIRTIO_PCI_COMMON_CONFIG_GENERATION))
			return 0;
	}
	return -VIRGO_EPROTO;
}

void pci_config_write32(struct pci_transport *t, uint32_t off, uint32_t v)
{
	if (off + 4 <= t->device_len)
		os_mmio_write32(t->device, off, v);
}

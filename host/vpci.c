/* SPDX-License-Identifier: MIT */
/* A virtio-pci modern register model, from the virtio 1.2 spec §4.1. */
#include "vpci.h"

#include <string.h>

#include <virgo/virtio_pci.h>
#include <virgo/virtio_ring.h>

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)v); put16(p + 2, (uint16_t)(v >> 16)); }

static uint8_t add_cap(struct vpci *v, uint8_t pos, uint8_t prev, uint8_t type, uint32_t off, uint32_t len,
		       uint8_t caplen)
{
	struct virtio_pci_cap cap = {
		.cap_vndr = PCI_CAP_ID_VNDR, .cap_len = caplen, .cfg_type = type,
		.bar = VPCI_BAR, .offset = off, .length = len,
	};

	memcpy(&v->cfg[pos], &cap, sizeof(cap));
	if (prev)
		v->cfg[prev + 1] = pos;
	return pos;
}

void vpci_init(struct vpci *v, uint16_t device_id, uint64_t features, uint16_t nqueues, const uint16_t *qmax,
	       unsigned msix, const struct vpci_ops *ops, void *opaque)
{
	uint8_t p;

	memset(v, 0, sizeof(*v));
	pthread_mutex_init(&v->lock, NULL);
	v->device_features = features | VIRTIO_FEATURE_BIT(VIRTIO_F_VERSION_1);
	v->nqueues = nqueues > VPCI_MAX_QUEUES ? VPCI_MAX_QUEUES : nqueues;
	for (uint16_t i = 0; i < v->nqueues; i++)
		v->q[i] = (struct vpci_queue){ .max = qmax[i], .size = qmax[i], .vector = VPCI_NO_VECTOR };
	v->config_vector = VPCI_NO_VECTOR;
	v->msix = msix;
	v->ops = ops;
	v->opaque = opaque;
	put16(&v->cfg[PCI_CFG_VENDOR_ID], VIRTIO_PCI_VENDOR_ID);
	put16(&v->cfg[PCI_CFG_DEVICE_ID], device_id);
	put16(&v->cfg[PCI_CFG_COMMAND], PCI_COMMAND_MEMORY | PCI_COMMAND_BUS_MASTER);
	put16(&v->cfg[PCI_CFG_STATUS], PCI_STATUS_CAP_LIST);
	v->cfg[PCI_CFG_REVISION] = VIRTIO_PCI_MIN_MODERN_REVISION;
	put32(&v->cfg[PCI_CFG_BAR(VPCI_BAR)], PCI_BAR_MEM_TYPE_64 | PCI_BAR_PREFETCH);
	v->cfg[PCI_CFG_CAP_PTR] = 0x40;
	p = add_cap(v, 0x40, 0, VIRTIO_PCI_CAP_COMMON_CFG, VPCI_COMMON_OFF, VPCI_REGION_SIZE, 16);
	p = add_cap(v, 0x50, p, VIRTIO_PCI_CAP_ISR_CFG, VPCI_ISR_OFF, VPCI_REGION_SIZE, 16);
	p = add_cap(v, 0x60, p, VIRTIO_PCI_CAP_DEVICE_CFG, VPCI_DEVICE_OFF, VPCI_REGION_SIZE, 16);
	p = add_cap(v, 0x70, p, VIRTIO_PCI_CAP_NOTIFY_CFG, VPCI_NOTIFY_OFF, VPCI_REGION_SIZE,
		    sizeof(struct virtio_pci_notify_cap));
	put32(&v->cfg[0x70 + offsetof(struct virtio_pci_notify_cap, notify_off_multiplier)], VPCI_NOTIFY_MULT);
	if (msix) {
		v->cfg[p + 1] = 0x90;
		v->cfg[0x90] = PCI_CAP_ID_MSIX;
		put16(&v->cfg[0x90 + PCI_MSIX_MSG_CTRL], (uint16_t)(PCI_MSIX_MSG_CTRL_ENABLE | (msix - 1)));
	}
}

void vpci_destroy(struct vpci *v)
{
	pthread_mutex_destroy(&v->lock);
}

int vpci_cfg_read(struct vpci *v, uint32_t off, void *buf, uint32_t len)
{
	if (off > sizeof(v->cfg) || len > sizeof(v->cfg) - off)
		return -1;
	memcpy(buf, &v->cfg[off], len);
	return 0;
}

/* Each register has a fixed width; the spec says drivers use it. */
static uint32_t common_read(struct vpci *v, uint32_t off)
{
	struct vpci_queue *q = v->qselect < v->nqueues ? &v->q[v->qselect] : NULL;

	switch (off) {
	case VIRTIO_PCI_COMMON_DEVICE_FEATURE_SELECT: return v->dfselect;
	case VIRTIO_PCI_COMMON_DEVICE_FEATURE:
		return v->dfselect < 2 ? (uint32_t)(v->device_features >> (32 * v->dfselect)) : 0;
	case VIRTIO_PCI_COMMON_DRIVER_FEATURE_SELECT: return v->gfselect;
	case VIRTIO_PCI_COMMON_DRIVER_FEATURE:
		return v->gfselect < 2 ? (uint32_t)(v->driver_features >> (32 * v->gfselect)) : 0;
	case VIRTIO_PCI_COMMON_CONFIG_MSIX_VECTOR: return v->config_vector;
	case VIRTIO_PCI_COMMON_NUM_QUEUES: return v->nqueues;
	case VIRTIO_PCI_COMMON_DEVICE_STATUS: return v->status;
	case VIRTIO_PCI_COMMON_CONFIG_GENERATION: return v->generation;
	case VIRTIO_PCI_COMMON_QUEUE_SELECT: return v->qselect;
	case VIRTIO_PCI_COMMON_QUEUE_SIZE: return q ? q->size : 0;
	case VIRTIO_PCI_COMMON_QUEUE_MSIX_VECTOR: return q ? q->vector : VPCI_NO_VECTOR;
	case VIRTIO_PCI_COMMON_QUEUE_ENABLE: return q ? q->enabled : 0;
	case VIRTIO_PCI_COMMON_QUEUE_NOTIFY_OFF: return v->qselect;
	case VIRTIO_PCI_COMMON_QUEUE_DESC_LO: return q ? (uint32_t)q->desc : 0;
	case VIRTIO_PCI_COMMON_QUEUE_DESC_HI: return q ? (uint32_t)(q->desc >> 32) : 0;
	case VIRTIO_PCI_COMMON_QUEUE_DRIVER_LO: return q ? (uint32_t)q->driver : 0;
	case VIRTIO_PCI_COMMON_QUEUE_DRIVER_HI: return q ? (uint32_t)(q->driver >> 32) : 0;
	case VIRTIO_PCI_COMMON_QUEUE_DEVICE_LO: return q ? (uint32_t)q->device : 0;
	case VIRTIO_PCI_COMMON_QUEUE_DEVICE_HI: return q ? (uint32_t)(q->device >> 32) : 0;
	default: return 0;
	}
}

static void set_lo(uint64_t *r, uint32_t v) { *r = (*r & ~0xffffffffull) | v; }
static void set_hi(uint64_t *r, uint32_t v) { *r = (*r & 0xffffffffull) | ((uint64_t)v << 32); }

static void do_reset(struct vpci *v)
{
	v->status = 0;
	v->driver_features = 0;
	v->isr = 0;
	v->config_vector = VPCI_NO_VECTOR;
	for (uint16_t i = 0; i < v->nqueues; i++)
		v->q[i] = (struct vpci_queue){ .max = v->q[i].max, .size = v->q[i].max, .vector = VPCI_NO_VECTOR };
}

/* Called with the lock held; returns the action to take after unlocking. */
enum after { NOTHING, RESET, DRIVER_OK };

static enum after common_write(struct vpci *v, uint32_t off, uint32_t val)
{
	struct vpci_queue *q = v->qselect < v->nqueues ? &v->q[v->qselect] : NULL;
	/* Queue registers are frozen once the queue is enabled. */
	struct vpci_queue *wq = q && !q->enabled ? q : NULL;

	switch (off) {
	case VIRTIO_PCI_COMMON_DEVICE_FEATURE_SELECT: v->dfselect = val; break;
	case VIRTIO_PCI_COMMON_DRIVER_FEATURE_SELECT: v->gfselect = val; break;
	case VIRTIO_PCI_COMMON_DRIVER_FEATURE:
		if (v->gfselect < 2 && !(v->status & VIRTIO_STATUS_FEATURES_OK)) {
			if (v->gfselect)
				set_hi(&v->driver_features, val);
			else
				set_lo(&v->driver_features, val);
		}
		break;
	case VIRTIO_PCI_COMMON_CONFIG_MSIX_VECTOR:
		v->config_vector = (uint16_t)(val < v->msix ? val : VPCI_NO_VECTOR);
		break;
	case VIRTIO_PCI_COMMON_DEVICE_STATUS: {
		uint8_t s = (uint8_t)val;

		if (s == 0) {
			do_reset(v);
			return RESET;
		}
		/* Features the device did not offer, or a driver without
		 * VERSION_1, make FEATURES_OK fail. */
		if ((s & VIRTIO_STATUS_FEATURES_OK) && !(v->status & VIRTIO_STATUS_FEATURES_OK) &&
		    ((v->driver_features & ~v->device_features) ||
		     !(v->driver_features & VIRTIO_FEATURE_BIT(VIRTIO_F_VERSION_1))))
			s &= (uint8_t)~VIRTIO_STATUS_FEATURES_OK;
		if ((s & VIRTIO_STATUS_DRIVER_OK) && !(v->status & VIRTIO_STATUS_DRIVER_OK)) {
			v->status = s | (v->status & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
			return DRIVER_OK;
		}
		v->status = s | (v->status & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
		break;
	}
	case VIRTIO_PCI_COMMON_QUEUE_SELECT: v->qselect = (uint16_t)val; break;
	case VIRTIO_PCI_COMMON_QUEUE_SIZE:
		/* Power of two, no larger than the maximum: else keep the old. */
		if (wq && val && val <= wq->max && !(val & (val - 1)))
			wq->size = (uint16_t)val;
		break;
	case VIRTIO_PCI_COMMON_QUEUE_MSIX_VECTOR:
		if (q)
			q->vector = (uint16_t)(val < v->msix ? val : VPCI_NO_VECTOR);
		break;
	case VIRTIO_PCI_COMMON_QUEUE_ENABLE:
		if (q && val == 1)
			q->enabled = 1;
		break;
	case VIRTIO_PCI_COMMON_QUEUE_DESC_LO: if (wq) set_lo(&wq->desc, val); break;
	case VIRTIO_PCI_COMMON_QUEUE_DESC_HI: if (wq) set_hi(&wq->desc, val); break;
	case VIRTIO_PCI_COMMON_QUEUE_DRIVER_LO: if (wq) set_lo(&wq->driver, val); break;
	case VIRTIO_PCI_COMMON_QUEUE_DRIVER_HI: if (wq) set_hi(&wq->driver, val); break;
	case VIRTIO_PCI_COMMON_QUEUE_DEVICE_LO: if (wq) set_lo(&wq->device, val); break;
	case VIRTIO_PCI_COMMON_QUEUE_DEVICE_HI: if (wq) set_hi(&wq->device, val); break;
	default: break;
	}
	return NOTHING;
}

uint32_t vpci_read(struct vpci *v, uint32_t off, unsigned width)
{
	uint32_t val = 0;

	if (off >= VPCI_DEVICE_OFF && off < VPCI_DEVICE_OFF + VPCI_REGION_SIZE) {
		uint32_t o = off - VPCI_DEVICE_OFF, w = v->ops->cfg_read(v->opaque, o & ~3u);

		return (w >> (8 * (o & 3))) & (width == 4 ? 0xffffffffu : (1u << (8 * width)) - 1);
	}
	pthread_mutex_lock(&v->lock);
	if (off < VPCI_COMMON_OFF + VPCI_REGION_SIZE) {
		val = common_read(v, off);
	} else if (off >= VPCI_ISR_OFF && off < VPCI_ISR_OFF + VPCI_REGION_SIZE) {
		val = v->isr; /* reading acknowledges */
		v->isr = 0;
	}
	pthread_mutex_unlock(&v->lock);
	return width == 4 ? val : val & ((1u << (8 * width)) - 1);
}

void vpci_write(struct vpci *v, uint32_t off, unsigned width, uint32_t val)
{
	enum after a = NOTHING;

	(void)width;
	if (off >= VPCI_DEVICE_OFF && off < VPCI_DEVICE_OFF + VPCI_REGION_SIZE) {
		v->ops->cfg_write(v->opaque, off - VPCI_DEVICE_OFF, val);
		return;
	}
	if (off >= VPCI_NOTIFY_OFF && off < VPCI_NOTIFY_OFF + VPCI_REGION_SIZE) {
		uint16_t qi = (uint16_t)((off - VPCI_NOTIFY_OFF) / VPCI_NOTIFY_MULT);
		bool ok;

		pthread_mutex_lock(&v->lock);
		ok = qi < v->nqueues && v->q[qi].enabled && (v->status & VIRTIO_STATUS_DRIVER_OK);
		pthread_mutex_unlock(&v->lock);
		if (ok)
			v->ops->notify(v->opaque, qi);
		return;
	}
	pthread_mutex_lock(&v->lock);
	if (off < VPCI_COMMON_OFF + VPCI_REGION_SIZE)
		a = common_write(v, off, val);
	pthread_mutex_unlock(&v->lock);
	if (a == RESET)
		v->ops->reset(v->opaque);
	else if (a == DRIVER_OK)
		v->ops->driver_ok(v->opaque);
}

bool vpci_queue_get(struct vpci *v, uint16_t index, struct vpci_queue *out)
{
	bool ok;

	pthread_mutex_lock(&v->lock);
	ok = index < v->nqueues && v->q[index].enabled;
	if (ok)
		*out = v->q[index];
	pthread_mutex_unlock(&v->lock);
	return ok;
}

bool vpci_driver_ok(struct vpci *v)
{
	bool ok;

	pthread_mutex_lock(&v->lock);
	ok = (v->status & VIRTIO_STATUS_DRIVER_OK) && !(v->status & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	pthread_mutex_unlock(&v->lock);
	return ok;
}

uint64_t vpci_features(struct vpci *v)
{
	uint64_t f;

	pthread_mutex_lock(&v->lock);
	f = v->driver_features;
	pthread_mutex_unlock(&v->lock);
	return f;
}

void vpci_interrupt(struct vpci *v, int queue)
{
	int vector;

	pthread_mutex_lock(&v->lock);
	if (queue < 0) {
		v->isr |= VIRTIO_PCI_ISR_CONFIG;
		vector = v->config_vector;
	} else {
		v->isr |= VIRTIO_PCI_ISR_QUEUE;
		vector = queue < v->nqueues ? v->q[queue].vector : VPCI_NO_VECTOR;
	}
	pthread_mutex_unlock(&v->lock);
	if (v->msix && vector == VPCI_NO_VECTOR)
		return; /* masked: the driver asked for no interrupt */
	v->ops->irq(v->opaque, v->msix ? vector : -1);
}

void vpci_needs_reset(struct vpci *v)
{
	pthread_mutex_lock(&v->lock);
	v->status |= VIRTIO_STATUS_DEVICE_NEEDS_RESET;
	pthread_mutex_unlock(&v->lock);
	vpci_interrupt(v, -1);
}

void vpci_reset_done(struct vpci *v)
{
	pthread_mutex_lock(&v->lock);
	v->status &= (uint8_t)~VIRTIO_STATUS_DEVICE_NEEDS_RESET;
	pthread_mutex_unlock(&v->lock);
}

void vpci_config_changed(struct vpci *v)
{
	pthread_mutex_lock(&v->lock);
	v->generation++;
	pthread_mutex_unlock(&v->lock);
	vpci_interrupt(v, -1);
}

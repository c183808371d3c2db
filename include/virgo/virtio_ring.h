/* SPDX-License-Identifier: MIT */
/*
 * Split virtqueue memory layout and the transport-independent virtio
 * constants (feature bits, device status bits).
 *
 * Shared by the guest driver core and the host device model, so both sides
 * agree on every byte. All multi-byte fields are little-endian on the wire;
 * since every target virgo builds for is little-endian, fields are plain
 * integers and no byte swapping happens anywhere.
 */
#ifndef VIRGO_VIRTIO_RING_H
#define VIRGO_VIRTIO_RING_H

#include <stddef.h>
#include <stdint.h>

#if defined(__BYTE_ORDER__) && defined(__ORDER_LITTLE_ENDIAN__) && \
	__BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "virgo assumes a little-endian CPU: virtio 1.x rings are little-endian"
#endif

/* ------------------------------------------------------------------------ */
/* Descriptor table                                                         */
/* ------------------------------------------------------------------------ */

/* This buffer continues in the descriptor named by next. */
#define VRING_DESC_F_NEXT     1
/* Device writes into this buffer (a response); otherwise it only reads. */
#define VRING_DESC_F_WRITE    2
/*
 * addr/len describe a table of further descriptors. Only legal once
 * VIRTIO_F_INDIRECT_DESC is negotiated, and never combined with F_NEXT.
 */
#define VRING_DESC_F_INDIRECT 4

struct vring_desc {
	uint64_t addr;  /* guest-physical address */
	uint32_t len;   /* bytes */
	uint16_t flags; /* VRING_DESC_F_* */
	uint16_t next;  /* index into the same table, valid with F_NEXT */
};
_Static_assert(sizeof(struct vring_desc) == 16, "vring_desc must be 16 bytes");
_Static_assert(offsetof(struct vring_desc, next) == 14, "vring_desc.next");

/* ------------------------------------------------------------------------ */
/* Available ring (driver -> device)                                        */
/* ------------------------------------------------------------------------ */

/*
 * Driver hint: do not interrupt me when buffers are used. Ignored by the
 * device once VIRTIO_F_EVENT_IDX is negotiated (used_event replaces it).
 */
#define VRING_AVAIL_F_NO_INTERRUPT 1

/*
 * idx is free-running: it counts every head ever published and wraps at
 * 2^16, so ring slot = idx % queue_size. The device reads ring[] only up
 * to idx, which is why the driver must make ring[] visible before idx.
 * After ring[queue_size] lives one more u16, used_event (see below).
 */
struct vring_avail {
	uint16_t flags; /* VRING_AVAIL_F_* */
	uint16_t idx;
	uint16_t ring[];
};
_Static_assert(sizeof(struct vring_avail) == 4, "vring_avail header is 4 bytes");

/* ------------------------------------------------------------------------ */
/* Used ring (device -> driver)                                             */
/* ------------------------------------------------------------------------ */

/*
 * Device hint: no need to kick me for new buffers. Ignored by the driver
 * once VIRTIO_F_EVENT_IDX is negotiated (avail_event replaces it).
 */
#define VRING_USED_F_NO_NOTIFY 1

struct vring_used_elem {
	uint32_t id;  /* head descriptor index of the finished chain */
	/*
	 * Bytes the device wrote into the writable part of the chain. Drivers
	 * should treat it as a hint; a response header still has to be checked.
	 */
	uint32_t len;
};
_Static_assert(sizeof(struct vring_used_elem) == 8, "vring_used_elem must be 8 bytes");

/* Same wrap rules as vring_avail.idx; avail_event follows ring[queue_size]. */
struct vring_used {
	uint16_t flags; /* VRING_USED_F_* */
	uint16_t idx;
	struct vring_used_elem ring[];
};
_Static_assert(sizeof(struct vring_used) == 4, "vring_used header is 4 bytes");
_Static_assert(offsetof(struct vring_used, ring) == 4, "vring_used.ring offset");

/* ------------------------------------------------------------------------ */
/* Sizes and alignment of the three areas                                   */
/* ------------------------------------------------------------------------ */

/*
 * Minimum alignment of each area's guest-physical address (virtio 1.x lets
 * the three areas live anywhere, so these are the only placement rules).
 */
#define VRING_DESC_ALIGN  16
#define VRING_AVAIL_ALIGN 2
#define VRING_USED_ALIGN  4

/* Split queue sizes are powers of two, at most 32768. */
#define VRING_MAX_SIZE 32768

static inline size_t vring_desc_size(uint16_t qsz)
{
	return sizeof(struct vring_desc) * (size_t)qsz;
}

/* flags + idx + ring[qsz] + used_event: the event word is always reserved. */
static inline size_t vring_avail_size(uint16_t qsz)
{
	return sizeof(uint16_t) * (3u + (size_t)qsz);
}

/* flags + idx + ring[qsz] + avail_event: the event word is always reserved. */
static inline size_t vring_used_size(uint16_t qsz)
{
	return sizeof(struct vring_used) + sizeof(struct vring_used_elem) * (size_t)qsz +
	       sizeof(uint16_t);
}

/* ------------------------------------------------------------------------ */
/* Event index (VIRTIO_F_EVENT_IDX)                                         */
/* ------------------------------------------------------------------------ */

/*
 * With EVENT_IDX each side publishes "wake me once your idx passes N" in
 * the spare u16 after the other side's ring: used_event trails the avail
 * ring (written by the driver), avail_event trails the used ring (written
 * by the device).
 */
static inline volatile uint16_t *vring_used_event(volatile struct vring_avail *avail,
						  uint16_t qsz)
{
	return &avail->ring[qsz];
}

static inline volatile uint16_t *vring_avail_event(volatile struct vring_used *used,
						   uint16_t qsz)
{
	return (volatile uint16_t *)(volatile void *)&used->ring[qsz];
}

/*
 * True if moving an index from old_idx to new_idx stepped over event_idx,
 * i.e. the peer asked to be notified somewhere in (old_idx, new_idx].
 * All arithmetic is modulo 2^16 so it survives index wrap.
 */
static inline int vring_need_event(uint16_t event_idx, uint16_t new_idx, uint16_t old_idx)
{
	return (uint16_t)(new_idx - event_idx - 1u) < (uint16_t)(new_idx - old_idx);
}

/* ------------------------------------------------------------------------ */
/* Transport-independent feature bits (bit numbers, not masks)              */
/* ------------------------------------------------------------------------ */

#define VIRTIO_FEATURE_BIT(n) ((uint64_t)1 << (n))

#define VIRTIO_F_INDIRECT_DESC     28
#define VIRTIO_F_EVENT_IDX         29
/* Must be negotiated for a modern (non-legacy) device such as virtio-gpu. */
#define VIRTIO_F_VERSION_1         32
/*
 * Device sits behind an IOMMU / uses platform DMA translation: ring and
 * buffer addresses are then bus addresses, not guest-physical ones.
 */
#define VIRTIO_F_ACCESS_PLATFORM   33
#define VIRTIO_F_RING_PACKED       34
#define VIRTIO_F_IN_ORDER          35
/* Driver must use real memory barriers, not just compiler/SMP ones. */
#define VIRTIO_F_ORDER_PLATFORM    36
#define VIRTIO_F_SR_IOV            37
#define VIRTIO_F_NOTIFICATION_DATA 38
/* common_cfg.queue_notify_data supplies the doorbell value (virtio 1.2). */
#define VIRTIO_F_NOTIF_CONFIG_DATA 39
/* Per-queue reset via common_cfg.queue_reset (virtio 1.2). */
#define VIRTIO_F_RING_RESET        40

/* ------------------------------------------------------------------------ */
/* Device status register bits                                              */
/* ------------------------------------------------------------------------ */

/*
 * Driver sets them in this order: ACKNOWLEDGE, DRIVER, (negotiate)
 * FEATURES_OK, re-read to confirm the device kept FEATURES_OK, set up
 * queues, DRIVER_OK. Writing 0 resets the device; the reset is complete
 * only when a read returns 0 again.
 */
#define VIRTIO_STATUS_ACKNOWLEDGE        0x01
#define VIRTIO_STATUS_DRIVER             0x02
#define VIRTIO_STATUS_DRIVER_OK          0x04
#define VIRTIO_STATUS_FEATURES_OK        0x08
/* Set by the device when it hit an unrecoverable error; driver must reset. */
#define VIRTIO_STATUS_DEVICE_NEEDS_RESET 0x40
/* Set by the driver when it gave up on the device. */
#define VIRTIO_STATUS_FAILED             0x80

#endif /* VIRGO_VIRTIO_RING_H */

/* SPDX-License-Identifier: MIT */
/*
 * virtio over PCI, modern (virtio 1.x) transport only: PCI identifiers,
 * the handful of PCI config-space registers the driver touches, the
 * vendor capabilities that locate each virtio structure inside a BAR,
 * and the common configuration block.
 *
 * virtio-gpu has no legacy (0.9.5) interface at all, so nothing here
 * describes the legacy I/O-port layout.
 */
#ifndef VIRGO_VIRTIO_PCI_H
#define VIRGO_VIRTIO_PCI_H

#include <stddef.h>
#include <stdint.h>

#if defined(__BYTE_ORDER__) && defined(__ORDER_LITTLE_ENDIAN__) && \
	__BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "virgo assumes a little-endian CPU: virtio-pci registers are little-endian"
#endif

/* ------------------------------------------------------------------------ */
/* PCI identity                                                             */
/* ------------------------------------------------------------------------ */

#define VIRTIO_PCI_VENDOR_ID 0x1af4

/*
 * Modern devices use 0x1040 + virtio device type. GPU (type 16) never had a
 * transitional id in the 0x1000 range, so 0x1050 is the only id to match.
 * A non-transitional device also reports PCI revision >= 1.
 */
#define VIRTIO_PCI_DEVICE_ID_MODERN_BASE 0x1040
#define VIRTIO_PCI_DEVICE_ID_GPU         0x1050
#define VIRTIO_PCI_MIN_MODERN_REVISION   1

/* ------------------------------------------------------------------------ */
/* PCI configuration space (type 0 header)                                  */
/* ------------------------------------------------------------------------ */

#define PCI_CFG_VENDOR_ID      0x00 /* u16 */
#define PCI_CFG_DEVICE_ID      0x02 /* u16 */
#define PCI_CFG_COMMAND        0x04 /* u16 */
#define PCI_CFG_STATUS         0x06 /* u16 */
#define PCI_CFG_REVISION       0x08 /* u8 */
#define PCI_CFG_BAR0           0x10 /* six u32 BARs follow */
#define PCI_CFG_BAR(n)         (PCI_CFG_BAR0 + 4 * (n))
#define PCI_CFG_BAR_COUNT      6
#define PCI_CFG_CAP_PTR        0x34 /* u8; low two bits are reserved */
#define PCI_CFG_INTERRUPT_LINE 0x3c /* u8 */

/* Command register bits. */
#define PCI_COMMAND_MEMORY       0x0002 /* decode memory BARs */
#define PCI_COMMAND_BUS_MASTER   0x0004 /* device may DMA; rings live in RAM */
#define PCI_COMMAND_INTX_DISABLE 0x0400

/* Status register: the capability list at PCI_CFG_CAP_PTR is valid. */
#define PCI_STATUS_CAP_LIST 0x0010

/*
 * Memory BAR low bits. A 64-bit BAR occupies two slots (low, then high
 * dword), and virtio_pci_cap.bar names the low slot; QEMU puts its modern
 * virtio BAR in such a pair.
 */
#define PCI_BAR_IO            0x1
#define PCI_BAR_MEM_TYPE_MASK 0x6
#define PCI_BAR_MEM_TYPE_64   0x4
#define PCI_BAR_PREFETCH      0x8
#define PCI_BAR_MEM_ADDR_MASK 0xfffffff0u

/* Capability list: every entry starts with {u8 id, u8 next}. */
#define PCI_CAP_ID_VNDR 0x09 /* vendor-specific: carries every virtio cap */
#define PCI_CAP_ID_MSIX 0x11

/* MSI-X capability, offsets from the start of the capability. */
#define PCI_MSIX_MSG_CTRL            0x02 /* u16 */
#define PCI_MSIX_MSG_CTRL_TABLE_SIZE 0x07ff /* encodes (vector count - 1) */
#define PCI_MSIX_MSG_CTRL_FUNC_MASK  0x4000
#define PCI_MSIX_MSG_CTRL_ENABLE     0x8000
#define PCI_MSIX_TABLE               0x04 /* u32: BAR index | offset */
#define PCI_MSIX_PBA                 0x08 /* u32: BAR index | offset */
#define PCI_MSIX_BIR_MASK            0x7
#define PCI_MSIX_ENTRY_SIZE          16

/* ------------------------------------------------------------------------ */
/* virtio vendor capabilities                                               */
/* ------------------------------------------------------------------------ */

/* Values of virtio_pci_cap.cfg_type. */
#define VIRTIO_PCI_CAP_COMMON_CFG        1
#define VIRTIO_PCI_CAP_NOTIFY_CFG        2
#define VIRTIO_PCI_CAP_ISR_CFG           3
#define VIRTIO_PCI_CAP_DEVICE_CFG        4
/* A window into any BAR through config space; for firmware, not for us. */
#define VIRTIO_PCI_CAP_PCI_CFG           5
#define VIRTIO_PCI_CAP_SHARED_MEMORY_CFG 8
#define VIRTIO_PCI_CAP_VENDOR_CFG        9

/*
 * The structure at the BAR offset a cap points to. A device may list
 * several caps of one type (e.g. alternatives in different BARs); the
 * driver takes the first one it understands and skips caps whose bar is
 * not 0..5. Never hard-code QEMU's placement: walk the list.
 */
struct virtio_pci_cap {
	uint8_t cap_vndr;  /* PCI_CAP_ID_VNDR */
	uint8_t cap_next;  /* config-space offset of the next cap, 0 = end */
	uint8_t cap_len;   /* bytes of this cap, including type-specific tail */
	uint8_t cfg_type;  /* VIRTIO_PCI_CAP_* */
	uint8_t bar;       /* BAR index 0..5 */
	/* Tells apart several caps of the same type; for shared memory, the shmid. */
	uint8_t id;
	uint8_t padding[2];
	uint32_t offset;   /* within the BAR */
	uint32_t length;   /* bytes; the driver must not touch beyond it */
};
_Static_assert(sizeof(struct virtio_pci_cap) == 16, "virtio_pci_cap must be 16 bytes");
_Static_assert(offsetof(struct virtio_pci_cap, offset) == 8, "virtio_pci_cap.offset");

/* Shared memory regions can exceed 4 GiB, hence the upper halves. */
struct virtio_pci_cap64 {
	struct virtio_pci_cap cap;
	uint32_t offset_hi;
	uint32_t length_hi;
};
_Static_assert(sizeof(struct virtio_pci_cap64) == 24, "virtio_pci_cap64 must be 24 bytes");

/*
 * Queue q is kicked by writing its 16-bit queue index to
 *   BAR[cap.bar] + cap.offset + queue_notify_off(q) * notify_off_multiplier.
 * A multiplier of 0 means every queue shares one doorbell.
 */
struct virtio_pci_notify_cap {
	struct virtio_pci_cap cap;
	uint32_t notify_off_multiplier;
};
_Static_assert(sizeof(struct virtio_pci_notify_cap) == 20,
	       "virtio_pci_notify_cap must be 20 bytes");

struct virtio_pci_cfg_cap {
	struct virtio_pci_cap cap;
	uint8_t pci_cfg_data[4];
};
_Static_assert(sizeof(struct virtio_pci_cfg_cap) == 20, "virtio_pci_cfg_cap must be 20 bytes");

/* ------------------------------------------------------------------------ */
/* Common configuration (VIRTIO_PCI_CAP_COMMON_CFG)                         */
/* ------------------------------------------------------------------------ */

/*
 * Access rules: every field is accessed with its own width, except the u64
 * fields, which the spec says to access as two 32-bit halves (devices need
 * not accept 64-bit accesses); hence the _LO/_HI offsets below.
 *
 * The per-queue fields (queue_size .. queue_device) show the queue chosen
 * by queue_select, so select and access must not be interleaved between
 * threads.
 */
struct virtio_pci_common_cfg {
	/* Device-wide. */
	uint32_t device_feature_select; /* picks 32-bit window: bits 32*sel .. */
	uint32_t device_feature;        /* RO */
	uint32_t driver_feature_select;
	uint32_t driver_feature;
	uint16_t config_msix_vector;    /* read back: NO_VECTOR = not assigned */
	uint16_t num_queues;            /* RO */
	uint8_t device_status;          /* VIRTIO_STATUS_*; write 0 = reset */
	/*
	 * RO. Changes whenever device config changes; read it before and
	 * after a multi-field config read and retry if it moved.
	 */
	uint8_t config_generation;

	/* Per queue, for the queue in queue_select. */
	uint16_t queue_select;
	/* Reads the device maximum (0 = no such queue); may be lowered. */
	uint16_t queue_size;
	uint16_t queue_msix_vector;     /* read back: NO_VECTOR = not assigned */
	/* Write 1 only after size and addresses are set; cannot write 0. */
	uint16_t queue_enable;
	uint16_t queue_notify_off;      /* RO; see virtio_pci_notify_cap */
	uint64_t queue_desc;            /* descriptor table address */
	uint64_t queue_driver;          /* available ring address */
	uint64_t queue_device;          /* used ring address */
};
_Static_assert(sizeof(struct virtio_pci_common_cfg) == 56,
	       "virtio_pci_common_cfg must be 56 bytes");

#define VIRTIO_PCI_COMMON_DEVICE_FEATURE_SELECT 0
#define VIRTIO_PCI_COMMON_DEVICE_FEATURE        4
#define VIRTIO_PCI_COMMON_DRIVER_FEATURE_SELECT 8
#define VIRTIO_PCI_COMMON_DRIVER_FEATURE        12
#define VIRTIO_PCI_COMMON_CONFIG_MSIX_VECTOR    16
#define VIRTIO_PCI_COMMON_NUM_QUEUES            18
#define VIRTIO_PCI_COMMON_DEVICE_STATUS         20
#define VIRTIO_PCI_COMMON_CONFIG_GENERATION     21
#define VIRTIO_PCI_COMMON_QUEUE_SELECT          22
#define VIRTIO_PCI_COMMON_QUEUE_SIZE            24
#define VIRTIO_PCI_COMMON_QUEUE_MSIX_VECTOR     26
#define VIRTIO_PCI_COMMON_QUEUE_ENABLE          28
#define VIRTIO_PCI_COMMON_QUEUE_NOTIFY_OFF      30
#define VIRTIO_PCI_COMMON_QUEUE_DESC_LO         32
#define VIRTIO_PCI_COMMON_QUEUE_DESC_HI         36
#define VIRTIO_PCI_COMMON_QUEUE_DRIVER_LO       40
#define VIRTIO_PCI_COMMON_QUEUE_DRIVER_HI       44
#define VIRTIO_PCI_COMMON_QUEUE_DEVICE_LO       48
#define VIRTIO_PCI_COMMON_QUEUE_DEVICE_HI       52
/*
 * virtio 1.2 appends two u16 after the 56-byte block. They exist only if
 * the common cap's length covers them, and mean something only with
 * VIRTIO_F_NOTIF_CONFIG_DATA (39) / VIRTIO_F_RING_RESET (40) negotiated.
 * Drivers that map only sizeof(struct virtio_pci_common_cfg) never see them.
 */
#define VIRTIO_PCI_COMMON_QUEUE_NOTIFY_DATA     56
#define VIRTIO_PCI_COMMON_QUEUE_RESET           58

#define VIRTIO_PCI_COMMON_CHECK(field, off) \
	_Static_assert(offsetof(struct virtio_pci_common_cfg, field) == (off), \
		       "virtio_pci_common_cfg." #field " offset")
VIRTIO_PCI_COMMON_CHECK(device_feature_select, VIRTIO_PCI_COMMON_DEVICE_FEATURE_SELECT);
VIRTIO_PCI_COMMON_CHECK(device_feature, VIRTIO_PCI_COMMON_DEVICE_FEATURE);
VIRTIO_PCI_COMMON_CHECK(driver_feature_select, VIRTIO_PCI_COMMON_DRIVER_FEATURE_SELECT);
VIRTIO_PCI_COMMON_CHECK(driver_feature, VIRTIO_PCI_COMMON_DRIVER_FEATURE);
VIRTIO_PCI_COMMON_CHECK(config_msix_vector, VIRTIO_PCI_COMMON_CONFIG_MSIX_VECTOR);
VIRTIO_PCI_COMMON_CHECK(num_queues, VIRTIO_PCI_COMMON_NUM_QUEUES);
VIRTIO_PCI_COMMON_CHECK(device_status, VIRTIO_PCI_COMMON_DEVICE_STATUS);
VIRTIO_PCI_COMMON_CHECK(config_generation, VIRTIO_PCI_COMMON_CONFIG_GENERATION);
VIRTIO_PCI_COMMON_CHECK(queue_select, VIRTIO_PCI_COMMON_QUEUE_SELECT);
VIRTIO_PCI_COMMON_CHECK(queue_size, VIRTIO_PCI_COMMON_QUEUE_SIZE);
VIRTIO_PCI_COMMON_CHECK(queue_msix_vector, VIRTIO_PCI_COMMON_QUEUE_MSIX_VECTOR);
VIRTIO_PCI_COMMON_CHECK(queue_enable, VIRTIO_PCI_COMMON_QUEUE_ENABLE);
VIRTIO_PCI_COMMON_CHECK(queue_notify_off, VIRTIO_PCI_COMMON_QUEUE_NOTIFY_OFF);
VIRTIO_PCI_COMMON_CHECK(queue_desc, VIRTIO_PCI_COMMON_QUEUE_DESC_LO);
VIRTIO_PCI_COMMON_CHECK(queue_driver, VIRTIO_PCI_COMMON_QUEUE_DRIVER_LO);
VIRTIO_PCI_COMMON_CHECK(queue_device, VIRTIO_PCI_COMMON_QUEUE_DEVICE_LO);
#undef VIRTIO_PCI_COMMON_CHECK
_Static_assert(VIRTIO_PCI_COMMON_QUEUE_NOTIFY_DATA == sizeof(struct virtio_pci_common_cfg),
	       "queue_notify_data directly follows the 56-byte block");

/* Written to a vector field to mean "no MSI-X vector"; also the failure readback. */
#define VIRTIO_MSI_NO_VECTOR 0xffff

/* ------------------------------------------------------------------------ */
/* ISR status (VIRTIO_PCI_CAP_ISR_CFG), one byte                            */
/* ------------------------------------------------------------------------ */

/*
 * Reading the byte returns and clears it, and deasserts INTx. Only the
 * INTx path uses it: with MSI-X enabled the vector already says which
 * source fired, and the driver must not rely on the ISR byte.
 */
#define VIRTIO_PCI_ISR_QUEUE  0x1
#define VIRTIO_PCI_ISR_CONFIG 0x2

#endif /* VIRGO_VIRTIO_PCI_H */

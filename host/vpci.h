/* SPDX-License-Identifier: MIT */
/* vpci.h: a virtio-pci modern function as the guest sees it: PCI config
 * space with the virtio capabilities and one 16 KiB memory BAR holding the
 * common, ISR, device and notify regions. Thread-safe: the guest kernel
 * touches registers while the device thread reads queue state. */
#ifndef VIRGO_HOST_VPCI_H
#define VIRGO_HOST_VPCI_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define VPCI_BAR          4
#define VPCI_BAR_SIZE     0x4000u
#define VPCI_COMMON_OFF   0x0000u
#define VPCI_ISR_OFF      0x1000u
#define VPCI_DEVICE_OFF   0x2000u
#define VPCI_NOTIFY_OFF   0x3000u
#define VPCI_NOTIFY_MULT  4u
#define VPCI_REGION_SIZE  0x1000u
#define VPCI_MAX_QUEUES   4
#define VPCI_NO_VECTOR    0xffffu

struct vpci_queue {
	uint16_t max;
	uint16_t size;
	uint16_t vector;
	uint16_t enabled;
	uint64_t desc, driver, device;
};

struct vpci_ops {
	void (*notify)(void *opaque, uint16_t queue);
	/* The driver wrote 0 to the status: forget everything. */
	void (*reset)(void *opaque);
	void (*driver_ok)(void *opaque);
	uint32_t (*cfg_read)(void *opaque, uint32_t off);
	void (*cfg_write)(void *opaque, uint32_t off, uint32_t v);
	/* Deliver an interrupt: an MSI-X vector, or -1 for the INTx line. */
	void (*irq)(void *opaque, int vector);
};

struct vpci {
	pthread_mutex_t lock;
	uint8_t cfg[256];
	uint64_t device_features;
	uint64_t driver_features;
	uint32_t dfselect, gfselect;
	uint8_t status;
	uint8_t generation;
	uint8_t isr;
	uint16_t config_vector;
	uint16_t qselect;
	uint16_t nqueues;
	unsigned msix;
	struct vpci_queue q[VPCI_MAX_QUEUES];
	const struct vpci_ops *ops;
	void *opaque;
};

void vpci_init(struct vpci *v, uint16_t device_id, uint64_t features, uint16_t nqueues, const uint16_t *qmax,
	       unsigned msix, const struct vpci_ops *ops, void *opaque);
void vpci_destroy(struct vpci *v);
int vpci_cfg_read(struct vpci *v, uint32_t off, void *buf, uint32_t len);
uint32_t vpci_read(struct vpci *v, uint32_t off, unsigned width);
void vpci_write(struct vpci *v, uint32_t off, unsigned width, uint32_t val);
/* Device side. */
bool vpci_queue_get(struct vpci *v, uint16_t index, struct vpci_queue *out); /* false: not enabled */
bool vpci_driver_ok(struct vpci *v);
uint64_t vpci_features(struct vpci *v);
void vpci_interrupt(struct vpci *v, int queue); /* queue -1: config change */
void vpci_needs_reset(struct vpci *v);
/* After the device finished a reset: a NEEDS_RESET it raised on the way,
 * about the rings before the reset, must not outlive it. */
void vpci_reset_done(struct vpci *v);
void vpci_config_changed(struct vpci *v);

#endif

/* SPDX-License-Identifier: MIT */
/* pci.h: the virtio-pci modern transport (capabilities, status, features,
 * queue registers, notification, ISR). */
#ifndef VIRGO_PCI_H
#define VIRGO_PCI_H

#include <stdint.h>

#include "os.h"

struct pci_transport {
	struct os_dev *os;
	struct os_mmio *common;
	struct os_mmio *notify;
	struct os_mmio *isr;
	struct os_mmio *device;
	uint32_t notify_mult;
	uint32_t notify_len;
	uint32_t device_len;
	uint16_t num_queues;
	unsigned msix;           /* MSI-X messages in use; 0 = INTx */
	/* The host-visible region (shared memory, shmid 1), not mapped by the
	 * core: shm_len 0 when the device has none. */
	uint8_t shm_bar;
	uint64_t shm_off;
	uint64_t shm_len;
};

int pci_probe(struct pci_transport *t, struct os_dev *os);
void pci_release(struct pci_transport *t);

int pci_reset(struct pci_transport *t);
uint8_t pci_get_status(struct pci_transport *t);
void pci_add_status(struct pci_transport *t, uint8_t bits);
uint64_t pci_device_features(struct pci_transport *t);
int pci_set_features(struct pci_transport *t, uint64_t features);

struct pci_queue_layout {
	uint16_t size;        /* in: wanted (0: device maximum); out: used */
	uint64_t desc, driver, device;
	uint16_t vector;
	uint16_t notify_off;  /* out */
};
int pci_queue_max(struct pci_transport *t, uint16_t index, uint16_t *max);
int pci_queue_enable(struct pci_transport *t, uint16_t index, struct pci_queue_layout *l);
void pci_queue_notify(struct pci_transport *t, uint16_t index, uint16_t notify_off);
int pci_config_vector(struct pci_transport *t, uint16_t vector);

uint8_t pci_isr_read(struct pci_transport *t);
/* Device-specific config, read consistently with config_generation. */
int pci_config_read(struct pci_transport *t, uint32_t off, void *buf, uint32_t len);
void pci_config_write32(struct pci_transport *t, uint32_t off, uint32_t v);

#endif

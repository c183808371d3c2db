/* SPDX-License-Identifier: MIT */
/* The device's lost state: set once by whoever sees the device fail (a
 * command or fence not answered in time, an invalid used buffer,
 * NEEDS_RESET, removal), read by every wait and every request, cleared
 * only by a reset (gpu.c). Nearly a leaf: it looks at the queues' used
 * rings (vq.c) and calls nothing else of the core. */
#include "gpu.h"

void gpu_set_lost(struct gpu_dev *dev, const char *why)
{
	if (!os_atomic_xchg32(&dev->lost, 1))
		os_log(dev->os, OS_LOG_ERR, "device lost: %s", why);
	os_waitq_wake(dev->wq);
}

bool gpu_is_lost(struct gpu_dev *dev)
{
	return dev->lost != 0;
}

void gpu_set_gone(struct gpu_dev *dev)
{
	os_atomic_xchg32(&dev->gone, 1);
	gpu_set_lost(dev, "the device was removed");
}

/* A wait ran out. Where the answer is sitting in a used ring that no
 * interrupt drained, the device works and the interrupt does not arrive
 * (not connected, or routed elsewhere): said so, since that is a driver's
 * or a platform's fault, not the host's. Called without qlock. */
void gpu_set_unanswered(struct gpu_dev *dev, const char *what)
{
	bool waiting;
	uint64_t irqs;

	os_spin_lock(dev->qlock);
	waiting = vq_has_used(&dev->ctrlq) || vq_has_used(&dev->cursorq);
	irqs = dev->interrupts;
	os_spin_unlock(dev->qlock);
	if (waiting) {
		os_log(dev->os, OS_LOG_ERR,
		       "%s: the device answered, but no interrupt came (%llu interrupts so far, %s): "
		       "the interrupt is not connected or not delivered",
		       what, (unsigned long long)irqs, dev->pci.msix ? "MSI-X" : "INTx");
		gpu_set_lost(dev, "interrupts are not delivered");
	} else {
		gpu_set_lost(dev, what);
	}
}

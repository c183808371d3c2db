/* SPDX-License-Identifier: MIT */
/* The device's lost state: set once by whoever sees the device fail (a
 * command or fence not answered in time, an invalid used buffer,
 * NEEDS_RESET, removal), read by every wait and every request, cleared
 * only by a reset (gpu.c). A leaf: it calls nothing else of the core. */
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

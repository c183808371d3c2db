/* SPDX-License-Identifier: MIT */
/* capset.h: the device's capsets. Internal to kmd/core. */
#ifndef VIRGO_CAPSET_H
#define VIRGO_CAPSET_H

#include <stdint.h>

#include "gpu.h"

/* Reads every capset the device offers into dev->capsets (request
 * context; a capset the core cannot use is skipped with a warning). */
int capset_query_all(struct gpu_dev *dev);
void capset_free_all(struct gpu_dev *dev);
/* The capset with this id, or NULL. */
const struct gpu_capset *gpu_find_capset(struct gpu_dev *dev, uint32_t id);

#endif

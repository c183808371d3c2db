/* SPDX-License-Identifier: MIT */
/* map.h: user mappings of a handle's resource. Internal to kmd/core. */
#ifndef VIRGO_MAP_H
#define VIRGO_MAP_H

#include "obj.h"

/* Maps h's resource into the caller (f->lock held): its guest pages, or,
 * for a mappable HOST3D blob, its place in the host-visible region, which
 * MAP_BLOB sets up first. Mapping again returns the same mapping. */
int map_handle(struct core_file *f, struct os_caller *c, struct file_handle *h);
/* Undoes h's mapping, if any. Without a caller (a close in another
 * process) the user side cannot be undone: the OS layer keeps what it
 * mapped alive, and a region range stays out of use for good. */
void map_undo(struct core_file *f, struct os_caller *c, struct file_handle *h);

#endif

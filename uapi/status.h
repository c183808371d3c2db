/* SPDX-License-Identifier: MIT */
/* status.h: what a virgo_status means, in words, for every side's logs. */
#ifndef VIRGO_STATUS_H
#define VIRGO_STATUS_H

/* 0, a virgo_status or its negation -> a short phrase (never NULL). The
 * phrase names the condition only: where to look (a driver not installed,
 * a host not running) is for the caller who knows which way it connected. */
const char *virgo_strerror(int err);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * The coarse device class of a visitor (desktop, tablet, phone, other) from the User-Agent of
 * the request that starts a diagnosis (issue 10 §3: "mostly SIM tablets and USB modems" as a
 * measured figure). Only the class is kept; the User-Agent itself is never stored or logged.
 * Coarse on purpose: an iPad in desktop mode (the default since iPadOS 13) sends a Macintosh
 * User-Agent and counts as desktop, a known under-count that docs/report.md states.
 * Pure: no I/O, no locks.
 */
#ifndef EXPOSURE_WEB_DEVCLASS_H
#define EXPOSURE_WEB_DEVCLASS_H

#include "store/store.h"

#include <stddef.h>

/* At most this many bytes of a User-Agent are looked at; the markers sit near the start. */
#define DEVCLASS_UA_MAX 512

/* The class of ua (NULL or empty: STORE_DEVICE_OTHER). Never returns STORE_DEVICE_NONE. */
enum store_device devclass_from_ua(const char *ua);

#endif

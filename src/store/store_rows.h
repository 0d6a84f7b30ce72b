/* SPDX-License-Identifier: MIT */
/* A finished diagnosis as the store's rows: the one translation, for the web runner and the sweep.
 */
#ifndef EXPOSURE_STORE_STORE_ROWS_H
#define EXPOSURE_STORE_STORE_ROWS_H

#include "diagnosis/diagnosis.h"
#include "store/store.h"

/*
 * One row per probed port of finished check i, as the document lists them (a single port is
 * the check object itself: its state, reason, rtt and service). rows must hold
 * diagnosis_check_ports(d, i) entries; strings point into d or static tables. Returns the count.
 */
size_t store_port_rows(const struct diagnosis *d, size_t i, struct store_check_row *rows);

#endif

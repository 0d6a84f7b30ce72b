/* SPDX-License-Identifier: MIT */
/* Internal: the tables gen_advice.py generates from en.json / ja.json (advice_data.c). */
#ifndef EXPOSURE_CATALOGUE_ADVICE_TABLES_H
#define EXPOSURE_CATALOGUE_ADVICE_TABLES_H

#include "catalogue/advice/advice.h"

struct advice_table {
	const struct advice *items;
	size_t count;
};

/* Indexed by enum lang; every entry is filled (the generator fails otherwise). */
extern const struct advice_table advice_tables[LANG_X_MAX];

#endif

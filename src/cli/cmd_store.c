/* SPDX-License-Identifier: MIT */
/*
 * `exposure store copy FROM TO`: every diagnosis and sweep of one store into another, whatever
 * their backends (SQLite to PostgreSQL and back), then both counted. docs/internals/STORE.md. Exit
 * status: 0 copied and verified, 1 store failure or counts that differ, 2 usage error.
 */
#include "cli/cli.h"
#include "core/err.h"
#include "store/store.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#define STORE_ERRLEN 512

static const char usage_text[] =
    "usage: exposure store copy FROM TO\n"
    "\n"
    "Copy every diagnosis (its status, result document, per-port rows, findings and\n"
    "summaries, as stored) and every sweep from the store FROM into the store TO, which must\n"
    "hold no diagnosis yet, then count both. A store is a SQLite file (sqlite:PATH too) or "
    "postgresql://... (a libpq\n"
    "URI; postgresql: alone for the PG* environment variables). FROM is opened read-only;\n"
    "stop the services writing to it first, or the copy misses what they write meanwhile.\n"
    "Exit: 0 copied and the counts agree, 1 store failure or counts differ, 2 usage error.\n";

struct copy_state {
	struct store *to;
	uint64_t rows, done;
	int err;
};

static int copy_cb(void *ud, const struct store_full *row)
{
	struct copy_state *c = ud;
	int r = store_import(c->to, row);

	if (r < 0) {
		c->err = r;
		return 1;
	}
	c->rows++;
	c->done += row->status == STORE_DONE && !row->sweep;
	return 0;
}

/* A sweep's row as the source has it: begun, then ended if it ended (else left running). */
static int copy_sweep_cb(void *ud, const struct store_sweep *sw)
{
	struct copy_state *c = ud;
	int r = store_sweep_begin(c->to, sw);

	if (r == 0 && (sw->finished_ms || sw->sent >= 0 || sw->open_ports >= 0 || sw->hosts >= 0))
		r = store_sweep_end(c->to, sw);
	if (r < 0) {
		c->err = r;
		return 1;
	}
	c->rows++;
	return 0;
}

static int count_sweep_cb(void *ud, const struct store_sweep *sw)
{
	(void)sw;
	((struct copy_state *)ud)->rows++;
	return 0;
}

/* Counts every diagnosis (any status) and the service's done ones, as store_count_results
 * counts them (a sweep's hosts are not among them). */
static int count_cb(void *ud, const struct store_full *row)
{
	struct copy_state *c = ud;

	c->rows++;
	c->done += row->status == STORE_DONE && !row->sweep;
	return 0;
}

static int open_store(const char *path, unsigned flags, struct store **out, char *err,
                      size_t errlen)
{
	char serr[256] = "", shown[256];
	struct store_opts o = {.flags = flags, .errbuf = serr, .errlen = sizeof(serr)};
	int r = store_open(path, &o, out);

	if (r < 0)
		snprintf(err, errlen, "cannot open store %s: %s",
		         store_display(path, shown, sizeof(shown)), serr[0] ? serr : err_str(r));
	return r;
}

static int copy(const char *from, const char *to, char *err, size_t errlen)
{
	struct copy_state c = {0}, target = {0}, sweeps = {0}, target_sweeps = {0};
	struct store *src = NULL, *dst = NULL;
	uint64_t src_done = 0, dst_done = 0;
	int r;

	if ((r = open_store(from, STORE_READONLY, &src, err, errlen)) < 0 ||
	    (r = open_store(to, STORE_QUEUE_BLOCK | STORE_FAST_CREATE | STORE_NO_LEASE, &dst, err,
	                    errlen)) < 0)
		goto out;
	if ((r = store_dump(dst, count_cb, &target)) < 0 || target.rows > 0) {
		snprintf(err, errlen, "%s",
		         r < 0 ? "cannot read the target store" : "the target store is not empty");
		r = r < 0 ? r : -EEXIST;
		goto out;
	}
	/* The sweeps' own rows first (their hosts name them): `report --sweep ID` on the copy. */
	sweeps.to = dst;
	r = store_sweep_list(src, copy_sweep_cb, &sweeps);
	if (r < 0 || sweeps.err < 0) {
		snprintf(err, errlen, "copy failed after %llu sweeps: %s",
		         (unsigned long long)sweeps.rows, err_str(sweeps.err < 0 ? sweeps.err : r));
		r = sweeps.err < 0 ? sweeps.err : r;
		goto out;
	}
	c.to = dst;
	r = store_dump(src, copy_cb, &c);
	if (r >= 0 && c.err == 0)
		r = store_flush(dst); /* the first failed import, if any */
	if (r < 0 || c.err < 0) {
		snprintf(err, errlen, "copy failed after %llu diagnoses: %s",
		         (unsigned long long)c.rows, err_str(c.err < 0 ? c.err : r));
		r = c.err < 0 ? c.err : r;
		goto out;
	}
	/* Verified by counting both again: every diagnosis, and the done ones the report reads. */
	if ((r = store_dump(dst, count_cb, &target)) < 0 ||
	    (r = store_count_results(src, NULL, &src_done)) < 0 ||
	    (r = store_count_results(dst, NULL, &dst_done)) < 0 ||
	    (r = store_sweep_list(dst, count_sweep_cb, &target_sweeps)) < 0) {
		snprintf(err, errlen, "cannot count the stores: %s", err_str(r));
		goto out;
	}
	if (target.rows != c.rows || src_done != c.done || dst_done != c.done ||
	    target_sweeps.rows != sweeps.rows) {
		snprintf(err, errlen,
		         "counts differ: copied %llu (%llu done), target holds %llu (%llu done)",
		         (unsigned long long)c.rows, (unsigned long long)c.done,
		         (unsigned long long)target.rows, (unsigned long long)dst_done);
		r = -ERR_INTERNAL;
		goto out;
	}
	printf("copied %llu diagnoses (%llu done); the target holds %llu (%llu done)\n",
	       (unsigned long long)c.rows, (unsigned long long)c.done,
	       (unsigned long long)target.rows, (unsigned long long)dst_done);
	if (sweeps.rows > 0)
		printf("copied %llu sweeps\n", (unsigned long long)sweeps.rows);
	r = 0;
out:
	store_close(dst);
	store_close(src);
	return r;
}

int cmd_store(int argc, char **argv)
{
	char err[STORE_ERRLEN] = "";

	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(usage_text, stdout);
		return 0;
	}
	if (argc >= 3 && strcmp(argv[1], "copy") == 0 &&
	    (strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0)) {
		fputs(usage_text, stdout);
		return 0;
	}
	if (argc != 4 || strcmp(argv[1], "copy") != 0) {
		fprintf(stderr, "exposure store: %s\n",
		        argc < 2 ? "no subcommand (try 'exposure store --help')"
		        : strcmp(argv[1], "copy") != 0
		            ? "unknown subcommand (try 'exposure store --help')"
		            : "copy wants FROM and TO");
		return 2;
	}
	if (copy(argv[2], argv[3], err, sizeof(err)) < 0) {
		fprintf(stderr, "exposure store: %s\n", err);
		return 1;
	}
	return 0;
}

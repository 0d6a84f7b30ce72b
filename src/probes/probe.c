/* SPDX-License-Identifier: MIT */
/* Helpers shared by the probe state machines, and the registry of probes (probe.h). */
#include "probes/probe.h"
#include "core/err.h"
#include "probes/parse/parse.h"

#include <stdio.h>
#include <string.h>

int probe_tx_put(struct probe_tx *tx, const void *data, size_t n)
{
	if (n > tx->cap - tx->len)
		return -ERR_TOOBIG;
	memcpy(tx->buf + tx->len, data, n);
	tx->len += n;
	return 0;
}

void probe_add_finding(struct probe_result *out, const char *id, enum severity sev,
                       enum confidence conf, const char *reason)
{
	struct finding *f = NULL;

	for (size_t i = 0; i < out->n_findings; i++)
		if (strcmp(out->findings[i].id, id) == 0)
			f = &out->findings[i];
	if (f == NULL) {
		if (out->n_findings >= PROBE_MAX_FINDINGS)
			return;
		f = &out->findings[out->n_findings++];
	}
	memset(f, 0, sizeof(*f));
	snprintf(f->id, sizeof(f->id), "%s", id);
	f->severity = sev;
	f->confidence = conf;
	if (reason)
		snprintf(f->reason, sizeof(f->reason), "%s", reason);
}

static size_t answer_index(const struct probe_result *out, const char *id)
{
	size_t i = 0;

	while (i < out->n_answers && i < PROBE_MAX_ANSWERS && strcmp(out->answers[i].id, id) != 0)
		i++;
	return i;
}

void probe_answer(struct probe_result *out, const char *id, enum probe_answer a)
{
	size_t i = answer_index(out, id);

	if (a == PROBE_ANSWER_NONE || (unsigned)a >= PROBE_ANSWER_X_MAX) {
		if (i < out->n_answers) {
			memmove(&out->answers[i], &out->answers[i + 1],
			        (out->n_answers - i - 1) * sizeof(out->answers[0]));
			out->n_answers--;
		}
		return;
	}
	if (i == out->n_answers) {
		if (out->n_answers >= PROBE_MAX_ANSWERS)
			return;
		out->n_answers++;
	}
	memset(&out->answers[i], 0, sizeof(out->answers[i]));
	snprintf(out->answers[i].id, sizeof(out->answers[i].id), "%s", id);
	out->answers[i].answer = a;
}

void probe_undecided(struct probe_result *out, const char *id, const char *reason)
{
	size_t i;

	probe_answer(out, id, reason ? PROBE_ANSWER_UNDECIDED : PROBE_ANSWER_NONE);
	if (reason && (i = answer_index(out, id)) < out->n_answers)
		snprintf(out->answers[i].reason, sizeof(out->answers[i].reason), "%s", reason);
}

enum probe_answer probe_answer_of(const struct probe_result *res, const char *id,
                                  const struct probe_answer_rec **rec)
{
	size_t i = answer_index(res, id);
	bool found = i < res->n_answers && i < PROBE_MAX_ANSWERS;

	if (rec)
		*rec = found ? &res->answers[i] : NULL;
	return found ? res->answers[i].answer : PROBE_ANSWER_NONE;
}

void probe_detail_set(struct probe_result *out, const char *key, json_t *value)
{
	if (value == NULL)
		return;
	if (out->details == NULL)
		out->details = json_object();
	if (out->details == NULL || json_object_set_new(out->details, key, value) != 0)
		json_decref(value);
}

int probe_other(struct probe_result *out, const uint8_t *buf, size_t len)
{
	const char *name = probe_other_service(buf, len);

	out->state = SERVICE_OTHER;
	if (name != NULL) {
		snprintf(out->service, sizeof(out->service), "%s", name);
		return PROBE_DONE;
	}
	return probe_other_partial(buf, len) ? PROBE_MORE : PROBE_DONE;
}

static const char *const end_names[PROBE_END_X_MAX] = {
    [PROBE_END_CLOSED] = "closed by the server",          [PROBE_END_RESET] = "connection reset",
    [PROBE_END_IDLE] = "no data before the idle timeout", [PROBE_END_DEADLINE] = "deadline reached",
    [PROBE_END_TOOBIG] = "the server sent too much",      [PROBE_END_CONNECT] = "connection failed",
};

const char *probe_end_name(enum probe_end why)
{
	return (unsigned)why < PROBE_END_X_MAX && end_names[why] ? end_names[why] : "ended";
}

enum service_state probe_no_bytes_state(enum probe_end why)
{
	return why == PROBE_END_CLOSED || why == PROBE_END_RESET ? SERVICE_TCPWRAPPED
	                                                         : SERVICE_SILENT;
}

int probe_no_bytes(struct probe_result *out, enum probe_end why)
{
	out->state = probe_no_bytes_state(why);
	probe_detail_set(out, "reason", json_string(probe_end_name(why)));
	return PROBE_DONE;
}

void probe_first_line(char *dst, size_t size, const uint8_t *buf, size_t len)
{
	const uint8_t *lf = memchr(buf, '\n', len);
	size_t n = lf ? (size_t)(lf - buf) : len;

	if (n > 0 && buf[n - 1] == '\r')
		n--;
	parse_copy_text(dst, size, buf, n);
}

void probe_other_line(struct probe_result *out, const char *name, const char *first)
{
	out->state = SERVICE_OTHER;
	snprintf(out->service, sizeof(out->service), "%s", name ? name : "");
	probe_detail_set(out, "first_line", json_string(first));
}

int probe_feed_each(void *state, const uint8_t *buf, size_t len, size_t *consumed,
                    struct probe_tx *tx, struct probe_result *out,
                    int (*one)(void *state, const uint8_t *buf, size_t len, size_t *used,
                               struct probe_tx *tx, struct probe_result *out))
{
	int r = PROBE_MORE;

	*consumed = 0;
	while (r == PROBE_MORE && *consumed < len) {
		size_t used = 0;

		r = one(state, buf + *consumed, len - *consumed, &used, tx, out);
		if (used == 0)
			break;
		*consumed += used;
	}
	return r;
}

/* What other services send first: the one table of probe_other, probe_other_service and
 * probe_other_partial. Telnet's IAC (0xff) is not in it: one byte says too little in front of
 * a binary protocol (an RPC record mark starts with it). */
static const struct {
	const char *mark;
	size_t len;
	const char *service;
} other_marks[] = {
    {"SSH-", 4, "ssh"},
    {"HTTP/", 5, "http"},
    {"RFB ", 4, "vnc"},
    {"@RSYNCD:", 8, "rsync"},
    /* a TLS record: change-cipher-spec, alert, handshake, data (version 3.x) */
    {"\x14\x03", 2, "tls"},
    {"\x15\x03", 2, "tls"},
    {"\x16\x03", 2, "tls"},
    {"\x17\x03", 2, "tls"},
    {"\x03\x00", 2, "rdp"}, /* a TPKT header */
};

const char *probe_other_service(const uint8_t *buf, size_t len)
{
	for (size_t i = 0; i < sizeof(other_marks) / sizeof(other_marks[0]); i++)
		if (len >= other_marks[i].len &&
		    memcmp(buf, other_marks[i].mark, other_marks[i].len) == 0)
			return other_marks[i].service;
	return NULL;
}

bool probe_other_partial(const uint8_t *buf, size_t len)
{
	for (size_t i = 0; i < sizeof(other_marks) / sizeof(other_marks[0]); i++)
		if (len < other_marks[i].len && memcmp(buf, other_marks[i].mark, len) == 0)
			return true;
	return false;
}

void probe_result_done(struct probe_result *out)
{
	json_decref(out->details);
	memset(out, 0, sizeof(*out));
}

extern const struct probe_ops probe_skysea;
extern const struct probe_ops probe_ssh;
extern const struct probe_ops probe_telnet;
extern const struct probe_ops probe_rdp;
extern const struct probe_ops probe_vnc;
extern const struct probe_ops probe_netbios;
extern const struct probe_ops probe_smb;
extern const struct probe_ops probe_rsync;
extern const struct probe_ops probe_redis;
extern const struct probe_ops probe_mongodb;
extern const struct probe_ops probe_elasticsearch;
extern const struct probe_ops probe_mysql;
extern const struct probe_ops probe_postgresql;
extern const struct probe_ops probe_iscsi;
extern const struct probe_ops probe_iscsi_discovery;
extern const struct probe_ops probe_nfs;
extern const struct probe_ops probe_ssdp;
extern const struct probe_ops probe_memcached;
extern const struct probe_ops probe_memcached_udp;
extern const struct probe_ops probe_nas_admin;

/* Explicit list, like zmap's probe_modules[]; each protocol adds itself here. */
static const struct probe_ops *const probes[] = {
    &probe_skysea,        &probe_ssh,           &probe_telnet,
    &probe_rdp,           &probe_vnc,           &probe_netbios,
    &probe_smb,           &probe_rsync,         &probe_redis,
    &probe_mongodb,       &probe_elasticsearch, &probe_mysql,
    &probe_postgresql,    &probe_iscsi,         &probe_iscsi_discovery,
    &probe_nfs,           &probe_ssdp,          &probe_memcached,
    &probe_memcached_udp, &probe_nas_admin,
};

const struct probe_ops *probe_by_name(const char *name)
{
	for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++)
		if (strcmp(probes[i]->name, name) == 0)
			return probes[i];
	return NULL;
}

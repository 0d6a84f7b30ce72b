/* SPDX-License-Identifier: MIT */
/*
 * The catalogue of checks: which doors exposure looks at, on which ports, which findings each can
 * raise, how they are named and shown, and which count towards the 2017 headline. Pure data
 * that depends on core only; the one list of checks (docs/internals/PROBES.md, "Adding a check").
 */
#ifndef EXPOSURE_CATALOGUE_CATALOGUE_H
#define EXPOSURE_CATALOGUE_CATALOGUE_H

#include "core/finding.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Checks in the catalogue at most (the size of per-check tables such as port_overrides): room for
 * the wider catalogue, so that adding a check never means resizing a table. */
#define CATALOGUE_MAX_CHECKS 32
/* Ports one check probes at most (its range, default or overridden). */
#define CHECK_MAX_PORTS 16
/* Findings a check's protocol check can add to its exposed finding, at most. */
#define CHECK_MAX_FINDINGS 8
/* Questions a check declares, at most (each one of its findings). */
#define CHECK_MAX_QUESTIONS 4

/*
 * The advice id for a check that could not decide (docs/advice.md): advice exists for it, but it
 * is never a finding id.
 */
#define CATALOGUE_UNDECIDED_ADVICE "check-unknown"

/* A range of ports, first..last inclusive (one port: first == last; none: 0..0). */
struct port_range {
	uint16_t first, last;
};

/* Ranges one check's ports are made of, at most. */
#define CHECK_MAX_RANGES 4

/*
 * A check's ports: a short list of ranges, probed in this order ("111,2049", "52300-52315",
 * "5000-5001,8080,443"); the list ends at a range whose first is 0. At most CHECK_MAX_PORTS
 * ports in all, no port twice. Read it through check_ports_count() and check_ports_nth().
 */
struct check_ports {
	struct port_range r[CHECK_MAX_RANGES];
};

/* A catalogue entry's ports: PORTS({22, 22}), PORTS({111, 111}, {2049, 2049}). */
#define PORTS(...)                                                                                 \
	{                                                                                          \
		{                                                                                  \
			__VA_ARGS__                                                                \
		}                                                                                  \
	}

/* The transport a check's probe speaks on its ports. */
enum transport { TRANSPORT_TCP = 0, TRANSPORT_UDP, TRANSPORT_X_MAX };

/* "tcp", "udp". */
const char *transport_name(enum transport t);

/* A finding a check can raise, with the severity it is raised with (docs/json.md). */
struct finding_def {
	const char *id;
	enum severity severity; /* the usual one: a probe may raise it higher with a reason */
};

struct check_def {
	const char *name;  /* stable id: "ssh", "smb", ... (JSON "check", --port CHECK=) */
	const char *probe; /* probe_by_name() key; the protocol check behind an open port */
	/*
	 * NULL, or the probe run instead of probe when the operator enables the check's further
	 * step (diag_options.opt_in; `--iscsi-discovery`): a conversation that goes beyond what
	 * the public default may do (iscsi: a discovery session that lists the target names).
	 */
	const char *probe_opt_in;
	enum transport transport; /* TCP unless said */
	/*
	 * Its probe (or probe_opt_in) may ask the engine for TLS (probe_tx.tls): a prober starts
	 * OpenSSL only when a check it may be given has this (catalogue_tls(), PRIVSEP.md). A
	 * probe that asks for TLS without it gets a failed handshake in a prober.
	 */
	bool tls;
	struct check_ports ports; /* the default ports, PORTS(...) */
	const char *exposed_id;   /* finding for an open port: "ssh-exposed" */
	enum severity exposed_severity;
	enum confidence exposed_confidence; /* before the protocol check confirms anything */
	/* The findings the protocol check may add, worst first; the list ends at a NULL id. */
	struct finding_def findings[CHECK_MAX_FINDINGS];
	/*
	 * The questions the check exists to decide: ids of its findings (own or of the check it
	 * runs) that every protocol check of an open port must answer, yes (the finding, any
	 * confidence) or no (probe_answer()); the list ends at a NULL id. A question left open
	 * becomes the finding with confidence unknown and a reason, added by the diagnosis, so it
	 * is never silently missing (docs/internals/PROBES.md, "Questions").
	 */
	const char *questions[CHECK_MAX_QUESTIONS];
	/* NULL, or a check whose conversation this one also runs and whose findings it may raise
	 * (the NetBIOS check speaks SMB over the session). */
	const char *runs;
	/* Other ports of the same service that the advice may tell to close (NetBIOS 137-138). */
	struct port_range advice_ports;
	bool headline; /* one of the doors of the 2017 headline statistic (139 or 445 open) */
	/* One of the seven doors of the 2017 service: run by the profile "2017", the default of
	 * `exposure check` and `exposure serve` (the profile "extended" runs every check). */
	bool profile_2017;
	const char *title;    /* short name for charts and tables: "SMB", shown "SMB (445)" */
	const char *label_en; /* "Remote login (SSH)" */
	const char *label_ja;
	const char *open_en; /* one plain sentence: what an open port means */
	const char *open_ja;
};

/* The default catalogue, in display order. */
const struct check_def *catalogue_checks(size_t *count);

/* A check by name, or NULL. */
const struct check_def *catalogue_find(const char *name);

/* The display rank of a check: its index in catalogue_checks(), or the count if unknown. */
size_t catalogue_rank(const char *name);

/*
 * The k-th finding check c can raise, into *out: k == 0 is exposed_id, then findings[], then the
 * findings[] of the check it runs. Returns false (nothing written) past the last one.
 */
bool check_finding(const struct check_def *c, size_t k, struct finding_def *out);

/*
 * The k-th question of check c, into *out (its id and the severity of that finding): its own
 * questions[], then those of the check it runs (the NetBIOS check asks SMB's over its session).
 * Returns false (nothing written) past the last one.
 */
bool check_question(const struct check_def *c, size_t k, struct finding_def *out);

/*
 * Findings about a visitor's addresses taken together (src/diagnosis/visit.c), raised by no
 * check: a door open on the IPv6 address but closed or filtered on IPv4, and the reverse. Their
 * severity follows the door (the worst finding of that check on the open side); the one listed
 * here is the usual one. They have advice like every finding.
 */
#define FINDING_IPV6_ONLY "ipv6-only-exposure"
#define FINDING_IPV4_ONLY "ipv4-only-exposure"
const struct finding_def *catalogue_visit_findings(size_t *count);

/*
 * The check that lists finding id as its exposed id or in its findings[] (not through runs), or
 * NULL (a visitor's finding, an unknown id).
 */
const struct check_def *catalogue_owner(const char *id);

/* Whether any check can raise finding id (exposed or protocol finding). */
bool catalogue_raises(const char *id);

/*
 * The 2017 headline: a result counts when any check marked headline is open. True if the check
 * called name is one of them (unknown names: false).
 */
bool catalogue_headline(const char *name);

/*
 * The headline's default ports joined by sep into buf ("139" " or " "445"), always
 * NUL-terminated. Returns the length it needed (as snprintf).
 */
size_t catalogue_headline_ports(char *buf, size_t n, const char *sep);

/*
 * The check names joined by sep into buf ("ssh telnet ... skysea"), always NUL-terminated.
 * Returns the length it needed (as snprintf).
 */
size_t catalogue_names(char *buf, size_t n, const char *sep);

/*
 * "SMB (445)" or "SKYSEA (52300-52315)": a check's title with its default ports, into buf
 * (always NUL-terminated). An unknown name is copied as it is.
 */
void catalogue_title(const char *name, char *buf, size_t n);

/*
 * Per-run overrides of a check's ports (--port CHECK=PORTS), indexed like catalogue_checks(). An
 * override replaces the check's whole list.
 */
struct port_overrides {
	bool set[CATALOGUE_MAX_CHECKS];
	struct check_ports ports[CATALOGUE_MAX_CHECKS];
};

/*
 * Parse "CHECK=PORTS" into o, PORTS being "PORT", "FIRST-LAST" or a comma-separated list of
 * them ("nfs=111,2049"). Returns 0; -ERR_SYNTAX (malformed, names the problem in err),
 * -ERR_RANGE (port 0 or > 65535, a range going down, more than CHECK_MAX_RANGES ranges or
 * CHECK_MAX_PORTS ports, a port twice) or -ERR_UNSUPPORTED (unknown check). err gets a one-line
 * message on failure.
 */
int port_override_parse(struct port_overrides *o, const char *text, char *err, size_t errlen);

/*
 * "445", "52300-52315" or "111,2049": ports p as text into buf (always NUL-terminated). Returns
 * the length it needed (as snprintf). The one way the catalogue's ports are written for people.
 */
size_t check_ports_text(struct check_ports p, char *buf, size_t n);

/* Longest check_ports_text() and its NUL: four ranges "65535-65535" joined by commas. */
#define CHECK_PORTS_TEXT_MAX (CHECK_MAX_RANGES * 12)

/* How many ports p holds (every port of every range), and how many ranges. */
size_t check_ports_count(struct check_ports p);
size_t check_ports_ranges(struct check_ports p);

/* The k-th port of p in probing order (k < check_ports_count(p)), 0 past the end. */
uint16_t check_ports_nth(struct check_ports p, size_t k);

/* The index k of port in p (check_ports_nth(p, k) == port), or check_ports_count(p). */
size_t check_ports_index(struct check_ports p, uint16_t port);

/* The effective ports of catalogue entry i. */
struct check_ports catalogue_ports(const struct port_overrides *o, size_t i);

/*
 * Profiles: which checks a diagnosis runs, as a set of catalogue indices (bit i: entry i of
 * catalogue_checks(); CATALOGUE_MAX_CHECKS fits). "2017" holds the entries marked
 * profile_2017 (the default everywhere), "extended" every check.
 */
#define PROFILE_DEFAULT "2017"
uint32_t catalogue_profile_2017(void);
uint32_t catalogue_all(void);

/*
 * The set a profile name or a check list names, into *out: profile "2017" or "extended"
 * (checks NULL), or checks "a,b,c" (profile NULL; known names, each once, at least one).
 * Returns 0, or -ERR_UNSUPPORTED / -ERR_SYNTAX with one line in err.
 */
int catalogue_select(const char *profile, const char *checks, uint32_t *out, char *err,
                     size_t errlen);

/* Whether a check of set s (0: the profile "2017") may speak TLS (check_def.tls). */
bool catalogue_tls(uint32_t s);

/* Whether set s holds entry i; the number of checks in s. */
bool checks_has(uint32_t s, size_t i);
size_t checks_count(uint32_t s);

#endif

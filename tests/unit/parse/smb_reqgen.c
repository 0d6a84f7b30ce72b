/* SPDX-License-Identifier: MIT */
/*
 * Writes one request built by the pure builders (nbss_parse.h, smb1_parse.h, smb2_parse.h) to
 * stdout, so capture_samba.sh sends the probes' exact bytes to real servers:
 *   smb_reqgen nbss CALLED CALLED_SUFFIX CALLING CALLING_SUFFIX   (suffixes as numbers)
 *   smb_reqgen neg1 MID | neg2 | neg2-311 | neg2-one DIALECT | ssetup MID | tcon UID MID HOST
 *   smb_reqgen peek TID UID MID | dp TID UID
 * GUID and salt of neg2 are fixed (10..1f, 20..3f) so captures are reproducible.
 */
#include "core/decimal.h"
#include "probes/parse/nbss_parse.h"
#include "probes/parse/smb1_parse.h"
#include "probes/parse/smb2_parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A decimal number from 0 to 0xffff (grab_smb.py passes Python ints as decimal text). */
static unsigned num(const char *s)
{
	uint32_t v;

	if (decimal_u32_in(s, 0, 0xffff, &v) < 0) {
		fprintf(stderr, "bad number %s\n", s);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	static const uint16_t dialects[] = {0x0202, 0x0210, 0x0300, 0x0302, 0x0311};
	uint8_t buf[512], guid[16], salt[32];
	const char *c = argc > 1 ? argv[1] : "";
	int r = -ERR_RANGE;

	for (int i = 0; i < 16; i++)
		guid[i] = (uint8_t)(0x10 + i);
	for (int i = 0; i < 32; i++)
		salt[i] = (uint8_t)(0x20 + i);
	if (!strcmp(c, "nbss") && argc == 6)
		r = nbss_build_session_request(buf, sizeof(buf), argv[2], (uint8_t)num(argv[3]),
		                               argv[4], (uint8_t)num(argv[5]));
	else if (!strcmp(c, "neg1") && argc == 3)
		r = smb1_build_negotiate(buf, sizeof(buf), (uint16_t)num(argv[2]));
	else if (!strcmp(c, "neg2") && argc == 2)
		r = smb2_build_negotiate(buf, sizeof(buf), dialects, 4, guid, salt);
	else if (!strcmp(c, "neg2-311") && argc == 2)
		r = smb2_build_negotiate(buf, sizeof(buf), dialects, 5, guid, salt);
	else if (!strcmp(c, "neg2-one") && argc == 3) /* the probe's one-dialect connections */
		r = smb2_build_negotiate(buf, sizeof(buf), &(uint16_t){(uint16_t)num(argv[2])}, 1,
		                         guid, salt);
	else if (!strcmp(c, "ssetup") && argc == 3)
		r = smb1_build_session_setup_anon(buf, sizeof(buf), (uint16_t)num(argv[2]));
	else if (!strcmp(c, "tcon") && argc == 5)
		r = smb1_build_tree_connect_ipc(buf, sizeof(buf), (uint16_t)num(argv[2]),
		                                (uint16_t)num(argv[3]), argv[4]);
	else if (!strcmp(c, "peek") && argc == 5)
		r = smb1_build_trans_peek(buf, sizeof(buf), (uint16_t)num(argv[2]),
		                          (uint16_t)num(argv[3]), (uint16_t)num(argv[4]));
	else if (!strcmp(c, "dp") && argc == 4)
		r = smb1_build_trans2_dp_ping(buf, sizeof(buf), (uint16_t)num(argv[2]),
		                              (uint16_t)num(argv[3]));
	else
		fprintf(stderr, "usage: see the comment at the top of smb_reqgen.c\n");
	if (r < 0) {
		fprintf(stderr, "%s: %s\n", c, err_name(r));
		return 1;
	}
	return fwrite(buf, 1, (size_t)r, stdout) == (size_t)r ? 0 : 1;
}

/* SPDX-License-Identifier: MIT */
/*
 * Corpus replay driver shared by every fuzz target when libFuzzer is not used: feeds each regular
 * file of the directory given as argument to LLVMFuzzerTestOneInput (fuzz/meson.build). Fails when
 * the directory cannot be read or holds no file, so a lost corpus cannot pass silently.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Largest input replayed; corpus files are small, this only bounds a stray big file. */
#define REPLAY_MAX (1u << 20)

/* Read path into an exactly-sized heap buffer (so ASan sees reads past the end). */
static int replay_file(const char *path)
{
	struct stat st;
	uint8_t *buf;
	size_t n;
	FILE *f;

	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
		return 0;
	if ((size_t)st.st_size > REPLAY_MAX) {
		fprintf(stderr, "%s: larger than %u bytes\n", path, REPLAY_MAX);
		return -1;
	}
	f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	n = (size_t)st.st_size;
	buf = malloc(n ? n : 1);
	if (!buf || fread(buf, 1, n, f) != n) {
		fprintf(stderr, "%s: read failed\n", path);
		free(buf);
		fclose(f);
		return -1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, n);
	free(buf);
	return 1;
}

int main(int argc, char **argv)
{
	char path[4096];
	struct dirent *de;
	int files = 0, r = 0;
	DIR *d;

	if (argc != 2) {
		fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
		return 2;
	}
	d = opendir(argv[1]);
	if (!d) {
		fprintf(stderr, "%s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	while ((de = readdir(d))) {
		int n;

		if (de->d_name[0] == '.')
			continue;
		n = snprintf(path, sizeof(path), "%s/%s", argv[1], de->d_name);
		if (n < 0 || (size_t)n >= sizeof(path))
			continue;
		n = replay_file(path);
		if (n < 0)
			r = 1;
		files += n > 0;
	}
	closedir(d);
	if (files == 0) {
		fprintf(stderr, "%s: no corpus file\n", argv[1]);
		return 1;
	}
	printf("replayed %d files from %s\n", files, argv[1]);
	return r;
}

/*
 * eas-server deliver USER FILE.eml --data-dir DIR [--folder NAME] [--read]
 *
 * Parses one RFC 5322 / MIME message (classes/mime.h) and stores it in
 * USER's Inbox (or the folder NAME, made when missing), unread unless
 * --read.  "-" reads the message from standard input.  Works while `serve`
 * runs on the same data directory: after the commit one notice goes to it
 * (notify.h), and the Pings of USER that watch the folder answer at once.
 * Prints the new item's ServerId and the parser's notes; exit status 1 when
 * the message is refused (not a message, over 32 MiB) or the store fails.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "intake.h"

int eas_server_deliver_main(int argc, char **argv);

static int usage(void)
{
	fprintf(stderr, "usage: eas-server deliver USER FILE.eml --data-dir DIR [--folder NAME] [--read]\n");
	return 2;
}

/* Standard input up to the cap. */
static int read_stdin(uint8_t **out, size_t *len)
{
	size_t cap = 8192, n = 0;
	uint8_t *buf = malloc(cap);
	if (!buf)
		return -1;
	size_t got;
	while ((got = fread(buf + n, 1, cap - n, stdin)) > 0) {
		n += got;
		if (n > INTAKE_MAX_MESSAGE) {
			free(buf);
			return 1;
		}
		if (n == cap) {
			uint8_t *nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				return -1;
			}
			buf = nb;
			cap *= 2;
		}
	}
	*out = buf;
	*len = n;
	return 0;
}

int eas_server_deliver_main(int argc, char **argv)
{
	const char *user = NULL, *file = NULL, *dir = NULL, *folder = NULL;
	int read = 0;
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--data-dir") == 0 && i + 1 < argc)
			dir = argv[++i];
		else if (strcmp(argv[i], "--folder") == 0 && i + 1 < argc)
			folder = argv[++i];
		else if (strcmp(argv[i], "--read") == 0)
			read = 1;
		else if ((argv[i][0] != '-' || strcmp(argv[i], "-") == 0) && !user)
			user = argv[i];
		else if ((argv[i][0] != '-' || strcmp(argv[i], "-") == 0) && !file)
			file = argv[i];
		else
			return usage();
	}
	if (!user || !file || !dir)
		return usage();
	uint8_t *msg = NULL;
	size_t len = 0;
	int rc = strcmp(file, "-") == 0 ? read_stdin(&msg, &len) : intake_read_file(file, INTAKE_MAX_MESSAGE, &msg, &len);
	if (rc == 1) {
		fprintf(stderr, "eas-server deliver: %s is larger than %u bytes\n", file, (unsigned)INTAKE_MAX_MESSAGE);
		return 1;
	}
	if (rc) {
		fprintf(stderr, "eas-server deliver: cannot read %s: %s\n", file, strerror(errno));
		return 1;
	}
	intake in;
	if (intake_open(&in, "eas-server deliver", dir, user, folder) != 0) {
		free(msg);
		return 1;
	}
	char id[EAS_MSTORE_ID_SIZE], err[300], notes[600];
	rc = intake_store(&in, msg, len, read, id, err, sizeof err, notes, sizeof notes);
	free(msg);
	if (rc) {
		fprintf(stderr, "eas-server deliver: %s: %s\n", file, err);
		intake_close(&in);
		return 1;
	}
	int told = intake_notify(&in);
	printf("delivered to %s/%s as %s%s%s\n", user, in.folder_name, id, in.created_folder ? " (folder created)" : "",
	       told == 1 ? " (server notified)" : "");
	if (notes[0])
		printf("notes: %s\n", notes);
	intake_close(&in);
	return 0;
}

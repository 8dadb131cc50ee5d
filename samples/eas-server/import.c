/*
 * eas-server import USER (--maildir DIR | --mbox FILE) --data-dir DIR [--folder NAME]
 *
 * Stores every message of a Maildir or an mbox file in USER's Inbox (or the
 * folder NAME, made when missing), each parsed by the MIME parser
 * (classes/mime.h) the way `deliver` does.
 *
 *   Maildir  DIR/cur and DIR/new (at least one must exist), files in name
 *            order, dot files skipped; a message is read when its name has
 *            the "S" (seen) flag after ":2," (files in new/ are unread)
 *   mbox     messages start at "From " lines at the start of the file or
 *            after a blank line; ">From " lines (any number of '>') lose one
 *            '>' (mboxrd unescaping); the blank line before a separator is
 *            the separator's; "Status:" with R marks a message read
 *
 * A message that cannot be parsed or is over 32 MiB is reported on standard
 * error and skipped; the import goes on.  Messages are committed in batches
 * of 200, and a running `serve` is told once at the end (notify.h).
 * Prints the counts; exit status 0 when the source could be read (even
 * with skipped messages), 1 otherwise.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "intake.h"

int eas_server_import_main(int argc, char **argv);

#define BATCH 200

typedef struct counts {
	size_t imported, skipped, read;
	size_t in_batch;
	size_t batch_ok, batch_read;  /* of the open batch: undone when its commit fails */
} counts;

static void batch_failed(intake *in, counts *c)
{
	fprintf(stderr, "eas-server import: commit failed, %zu message(s) not imported: %s\n", c->batch_ok,
		in->store->error(in->store));
	c->imported -= c->batch_ok;
	c->read -= c->batch_read;
	c->skipped += c->batch_ok;
}

static int usage(void)
{
	fprintf(stderr, "usage: eas-server import USER (--maildir DIR | --mbox FILE) --data-dir DIR [--folder NAME]\n");
	return 2;
}

/* Stores one message, batching commits; a failure is reported and counted, never fatal. */
static void take(intake *in, counts *c, const uint8_t *msg, size_t len, int read, const char *where)
{
	if (c->in_batch == 0 && in->store->begin(in->store) != 0) {
		fprintf(stderr, "eas-server import: skipped %s: store: %s\n", where, in->store->error(in->store));
		c->skipped++;
		return;
	}
	char err[300];
	if (intake_store(in, msg, len, read, NULL, err, sizeof err, NULL, 0) != 0) {
		fprintf(stderr, "eas-server import: skipped %s: %s\n", where, err);
		c->skipped++;
	} else {
		c->imported++;
		c->read += read != 0;
		c->batch_ok++;
		c->batch_read += read != 0;
	}
	if (++c->in_batch >= BATCH) {
		if (in->store->commit(in->store) != 0)
			batch_failed(in, c);
		c->in_batch = c->batch_ok = c->batch_read = 0;
	}
}

static int finish_batch(intake *in, counts *c)
{
	if (c->in_batch == 0)
		return 0;
	c->in_batch = 0;
	int rc = 0;
	if (in->store->commit(in->store) != 0) {
		batch_failed(in, c);
		rc = -1;
	}
	c->batch_ok = c->batch_read = 0;
	return rc;
}

/* ---- Maildir ------------------------------------------------------------------------ */

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The "S" flag in the info part ":2,FLAGS" (or "!2," on file systems without ':'). */
static int seen_flag(const char *name)
{
	const char *info = strstr(name, ":2,");
	if (!info)
		info = strstr(name, "!2,");
	return info && strchr(info + 3, 'S') != NULL;
}

static int import_maildir_sub(intake *in, counts *c, const char *dir, const char *sub, int is_new, int *found)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", dir, sub);
	DIR *d = opendir(path);
	if (!d)
		return errno == ENOENT ? 0 : -1;
	*found = 1;
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			char **nn = realloc(names, cap * sizeof *nn);
			if (!nn)
				break;
			names = nn;
		}
		names[n] = strdup(e->d_name);
		if (names[n])
			n++;
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof *names, by_name);
	for (size_t i = 0; i < n; i++) {
		char file[8192];
		int fl = snprintf(file, sizeof file, "%s/%s", path, names[i]);
		struct stat st;
		if (fl < 0 || (size_t)fl >= sizeof file || stat(file, &st) != 0 || !S_ISREG(st.st_mode)) {
			free(names[i]);
			continue;
		}
		uint8_t *msg = NULL;
		size_t len = 0;
		int rc = intake_read_file(file, INTAKE_MAX_MESSAGE, &msg, &len);
		if (rc == 1) {
			fprintf(stderr, "eas-server import: skipped %s: larger than %u bytes\n", file,
				(unsigned)INTAKE_MAX_MESSAGE);
			c->skipped++;
		} else if (rc) {
			fprintf(stderr, "eas-server import: skipped %s: %s\n", file, strerror(errno));
			c->skipped++;
		} else {
			take(in, c, msg, len, !is_new && seen_flag(names[i]), file);
		}
		free(msg);
		free(names[i]);
	}
	free(names);
	return 0;
}

static int import_maildir(intake *in, counts *c, const char *dir)
{
	int found = 0;
	if (import_maildir_sub(in, c, dir, "cur", 0, &found) != 0 || import_maildir_sub(in, c, dir, "new", 1, &found) != 0) {
		fprintf(stderr, "eas-server import: cannot read %s: %s\n", dir, strerror(errno));
		return -1;
	}
	if (!found) {
		fprintf(stderr, "eas-server import: %s is not a Maildir (no cur/ or new/)\n", dir);
		return -1;
	}
	return 0;
}

/* ---- mbox ----------------------------------------------------------------------------- */

typedef struct mbox_msg {
	uint8_t *data;
	size_t len, cap;
	int oversize;
	int in_headers;
	int read;
	size_t number;       /* 1-based, for the report */
	int pending_blank;   /* a blank line held back: it may be the separator's */
} mbox_msg;

static int msg_add(mbox_msg *m, const char *s, size_t n)
{
	if (m->oversize)
		return 0;
	if (m->len + n > INTAKE_MAX_MESSAGE) {
		m->oversize = 1;
		return 0;
	}
	if (m->len + n > m->cap) {
		size_t cap = m->cap ? m->cap : 8192;
		while (cap < m->len + n)
			cap *= 2;
		uint8_t *nd = realloc(m->data, cap);
		if (!nd)
			return -1;
		m->data = nd;
		m->cap = cap;
	}
	memcpy(m->data + m->len, s, n);
	m->len += n;
	return 0;
}

static void msg_flush(intake *in, counts *c, mbox_msg *m, const char *file)
{
	if (m->number == 0)
		return; /* text before the first separator: not a message */
	char where[4200];
	snprintf(where, sizeof where, "%s message %zu", file, m->number);
	if (m->oversize) {
		fprintf(stderr, "eas-server import: skipped %s: larger than %u bytes\n", where, (unsigned)INTAKE_MAX_MESSAGE);
		c->skipped++;
	} else {
		take(in, c, m->data, m->len, m->read, where);
	}
	m->len = 0;
	m->oversize = 0;
	m->read = 0;
	m->pending_blank = 0;
}

static int is_blank_line(const char *s, size_t n)
{
	return n == 0 || (n == 1 && s[0] == '\r');
}

static int import_mbox(intake *in, counts *c, const char *file)
{
	FILE *fp = fopen(file, "rb");
	if (!fp) {
		fprintf(stderr, "eas-server import: cannot open %s: %s\n", file, strerror(errno));
		return -1;
	}
	mbox_msg m;
	memset(&m, 0, sizeof m);
	char *line = NULL;
	size_t line_cap = 0;
	ssize_t got;
	int prev_blank = 1, rc = 0;
	while ((got = getline(&line, &line_cap, fp)) >= 0) {
		size_t n = (size_t)got;
		size_t body = n && line[n - 1] == '\n' ? n - 1 : n; /* without the '\n' */
		if (prev_blank && n >= 5 && memcmp(line, "From ", 5) == 0) {
			msg_flush(in, c, &m, file);
			m.number++;
			m.in_headers = 1;
			prev_blank = 0;
			continue;
		}
		int blank = is_blank_line(line, body);
		if (m.pending_blank && msg_add(&m, "\n", 1) != 0)
			rc = -1;
		m.pending_blank = 0;
		if (blank) {
			m.pending_blank = 1; /* written when the next line is not a separator */
			m.in_headers = 0;
			prev_blank = 1;
			continue;
		}
		prev_blank = 0;
		const char *s = line;
		if (s[0] == '>') {
			size_t k = 0;
			while (k < n && s[k] == '>')
				k++;
			if (n - k >= 5 && memcmp(s + k, "From ", 5) == 0) {
				s++; /* mboxrd: one '>' was added when the line was stored */
				n--;
			}
		}
		if (m.in_headers && n > 7 && strncmp(s, "Status:", 7) == 0 && memchr(s + 7, 'R', n - 7 - (body < n)))
			m.read = 1;
		if (msg_add(&m, s, n) != 0)
			rc = -1;
	}
	if (ferror(fp)) {
		fprintf(stderr, "eas-server import: cannot read %s\n", file);
		rc = -1;
	}
	msg_flush(in, c, &m, file);
	if (m.number == 0 && rc == 0) {
		fprintf(stderr, "eas-server import: %s has no \"From \" line: not an mbox\n", file);
		rc = -1;
	}
	free(line);
	free(m.data);
	fclose(fp);
	return rc;
}

int eas_server_import_main(int argc, char **argv)
{
	const char *user = NULL, *maildir = NULL, *mbox = NULL, *dir = NULL, *folder = NULL;
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--maildir") == 0 && i + 1 < argc)
			maildir = argv[++i];
		else if (strcmp(argv[i], "--mbox") == 0 && i + 1 < argc)
			mbox = argv[++i];
		else if (strcmp(argv[i], "--data-dir") == 0 && i + 1 < argc)
			dir = argv[++i];
		else if (strcmp(argv[i], "--folder") == 0 && i + 1 < argc)
			folder = argv[++i];
		else if (argv[i][0] != '-' && !user)
			user = argv[i];
		else
			return usage();
	}
	if (!user || !dir || !maildir == !mbox)
		return usage();
	intake in;
	if (intake_open(&in, "eas-server import", dir, user, folder) != 0)
		return 1;
	counts c;
	memset(&c, 0, sizeof c);
	int rc = maildir ? import_maildir(&in, &c, maildir) : import_mbox(&in, &c, mbox);
	if (finish_batch(&in, &c) != 0)
		rc = -1;
	if (c.imported)
		(void)intake_notify(&in);
	printf("imported %zu message(s) into %s/%s (%zu read, %zu unread), %zu skipped%s\n", c.imported, user,
	       in.folder_name, c.read, c.imported - c.read, c.skipped, in.created_folder ? " (folder created)" : "");
	intake_close(&in);
	return rc ? 1 : 0;
}

/* Mail intake shared by deliver and import (see intake.h). */
#include "intake.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "classes/mime.h"
#include "common/ascii.h"
#include "notify.h"
#include "server/mail_store.h"
#include "server/store_sqlite.h"

typedef struct find {
	const char *name;
	char id[EAS_MSTORE_ID_SIZE];
	char name_found[EAS_MSTORE_NAME_SIZE];
	int top;
} find;

static int find_named(const eas_mstore_folder *f, void *ud)
{
	find *x = ud;
	if (!eas__ascii_ieq(f->display_name, x->name))
		return 0;
	int top = strcmp(f->parent_id, "0") == 0;
	if (!x->id[0] || (top && !x->top)) {
		snprintf(x->id, sizeof x->id, "%s", f->server_id);
		snprintf(x->name_found, sizeof x->name_found, "%s", f->display_name);
		x->top = top;
	}
	return 0;
}

int intake_open(intake *in, const char *who, const char *data_dir, const char *user, const char *folder)
{
	memset(in, 0, sizeof *in);
	in->data_dir = data_dir;
	struct stat st;
	if (stat(data_dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "%s: no data directory %s\n", who, data_dir);
		return -1;
	}
	char path[4096];
	snprintf(path, sizeof path, "%s/mailbox.db", data_dir);
	eas_mstore_sqlite_options so = EAS_MSTORE_SQLITE_OPTIONS_INIT;
	so.path = path;
	int rc = eas_mstore_sqlite_open(&in->store, &so);
	if (rc) {
		fprintf(stderr, "%s: cannot open the store %s: %s\n", who, path, eas_strerror(rc));
		return -1;
	}
	rc = in->store->user_lookup(&in->user_id, in->store, user);
	if (rc) {
		fprintf(stderr, "%s: %s\n", who, rc == EAS_E_NOTFOUND || rc == EAS_E_INVALID ? "no such user" : eas_strerror(rc));
		intake_close(in);
		return -1;
	}
	if (!folder) {
		eas_mstore_folder f;
		rc = in->store->folder_find_default(&f, in->store, in->user_id, EAS_MSTORE_FOLDER_INBOX);
		if (rc == 0) {
			snprintf(in->folder_id, sizeof in->folder_id, "%s", f.server_id);
			snprintf(in->folder_name, sizeof in->folder_name, "%s", f.display_name);
		}
	} else {
		find x;
		memset(&x, 0, sizeof x);
		x.name = folder;
		rc = in->store->folder_list(in->store, in->user_id, find_named, &x);
		if (rc == 0 && x.id[0]) {
			snprintf(in->folder_id, sizeof in->folder_id, "%s", x.id);
			snprintf(in->folder_name, sizeof in->folder_name, "%s", x.name_found);
		} else if (rc == 0) {
			eas_mstore_result res;
			eas_mstore_folder f;
			rc = in->store->folder_create(&res, &f, in->store, in->user_id, "0", folder,
						      EAS_MSTORE_FOLDER_USER_MAIL, NULL);
			if (rc == 0 && res != EAS_MSTORE_OK)
				rc = EAS_E_STATE;
			if (rc == 0) {
				snprintf(in->folder_id, sizeof in->folder_id, "%s", f.server_id);
				snprintf(in->folder_name, sizeof in->folder_name, "%s", f.display_name);
				in->created_folder = 1;
				/* the hierarchy changed too */
				eas_mstore_event ev = { EAS_MSTORE_EVENT_HIERARCHY, in->user_id, NULL, NULL };
				(void)notify_send(data_dir, &ev);
			}
		}
	}
	if (rc) {
		fprintf(stderr, "%s: folder %s: %s\n", who, folder ? folder : "Inbox",
			rc == EAS_E_INVALID ? "bad folder name" : eas_strerror(rc));
		intake_close(in);
		return -1;
	}
	return 0;
}

void intake_close(intake *in)
{
	if (in->store)
		in->store->destroy(in->store);
	in->store = NULL;
}

int intake_store(intake *in, const uint8_t *msg, size_t len, int read, char *out_id, char *err, size_t err_size,
		 char *notes, size_t notes_size)
{
	eas_mime_message m;
	char perr[200] = "";
	int rc = eas_mime_parse(&m, msg, len, NULL, NULL, perr, sizeof perr);
	if (rc) {
		snprintf(err, err_size, "%s", rc == EAS_E_NOMEM ? "out of memory" : perr);
		eas_mime_message_clear(&m);
		return -1;
	}
	if (notes && notes_size)
		snprintf(notes, notes_size, "%s", m.notes);
	eas_srv_mail_options o;
	memset(&o, 0, sizeof o);
	o.read = read;
	o.received = (int64_t)time(NULL);
	rc = eas__srv_mail_store(out_id, in->store, in->user_id, in->folder_id, &m, &o, NULL);
	eas_mime_message_clear(&m);
	if (rc) {
		const char *detail = in->store->error(in->store);
		snprintf(err, err_size, "store: %s%s%s", eas_strerror(rc), detail[0] ? ": " : "", detail);
		return -1;
	}
	return 0;
}

int intake_read_file(const char *path, size_t max, uint8_t **out, size_t *len)
{
	*out = NULL;
	*len = 0;
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return -1;
	size_t cap = 8192, n = 0;
	uint8_t *buf = malloc(cap);
	if (!buf) {
		fclose(fp);
		errno = ENOMEM;
		return -1;
	}
	for (;;) {
		if (n == cap) {
			if (cap > max) {
				free(buf);
				fclose(fp);
				return 1;
			}
			uint8_t *nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				fclose(fp);
				errno = ENOMEM;
				return -1;
			}
			buf = nb;
			cap *= 2;
		}
		size_t got = fread(buf + n, 1, cap - n, fp);
		n += got;
		if (got == 0)
			break;
	}
	int bad = ferror(fp);
	fclose(fp);
	if (bad) {
		free(buf);
		errno = EIO;
		return -1;
	}
	if (n > max) {
		free(buf);
		return 1;
	}
	*out = buf;
	*len = n;
	return 0;
}

int intake_notify(const intake *in)
{
	eas_mstore_event ev = { EAS_MSTORE_EVENT_FOLDER, in->user_id, in->folder_id, NULL };
	return notify_send(in->data_dir, &ev);
}

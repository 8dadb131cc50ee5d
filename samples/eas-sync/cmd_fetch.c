/*
 * eas-sync fetch-attachment ITEM: downloads one attachment of a stored email
 * (ItemOperations Fetch of its FileReference) into a file, streamed piece
 * by piece.  The file is made only for this download: an existing one is
 * kept unless --force, and a failed download leaves nothing behind.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <eas/email.h>

#include "app.h"

typedef struct fetch_run {
	int fd;
	uint64_t bytes;
	int write_error;
} fetch_run;

static int sink(const uint8_t *bytes, size_t len, void *ud)
{
	fetch_run *r = ud;
	while (len) {
		ssize_t n = write(r->fd, bytes, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r->write_error = errno;
			return EAS_E_IO;
		}
		bytes += n;
		len -= (size_t)n;
		r->bytes += (uint64_t)n;
	}
	return 0;
}

static int on_event(app *a, const eas_session_event *ev, void *ctx)
{
	(void)a;
	(void)ctx;
	return ev->type == EAS_EVENT_FETCHED ? EV_DONE : EV_DEFAULT;
}

/* A file name from the attachment's display name: its last component, no leading dot. */
static void safe_name(const char *display, char *out, size_t size)
{
	const char *base = display ? strrchr(display, '/') : NULL;
	base = base ? base + 1 : display ? display : "";
	while (*base == '.')
		base++;
	snprintf(out, size, "%s", base[0] ? base : "attachment");
	for (char *p = out; *p; p++)
		if (*p == '\\' || (unsigned char)*p < 0x20)
			*p = '_';
}

int cmd_fetch_attachment(app *a)
{
	int rc = account_open_local(a);
	if (rc)
		return rc;
	const char *sid = a->o.positional[0];
	char fid[EAS_STORE_ID_MAX + 1];
	rc = item_find(a, a->o.folder, sid, fid, sizeof fid);
	if (rc)
		return fail(a, rc == EAS_E_INVALID ? EXIT_USAGE : EXIT_NOTFOUND, 0, 0, "no item '%s' in the local store", sid);
	eas_store_item item;
	if ((rc = a->store->item_get(a->store, fid, sid, &item)) != 0)
		return fail(a, EXIT_LOCAL, 0, 0, "cannot read item %s: %s", sid, eas_strerror(rc));
	eas_email e;
	memset(&e, 0, sizeof e);
	if (!item.class_name || strcmp(item.class_name, "Email") != 0 ||
	    eas_email_decode(&e, item.data, item.data_len, NULL, NULL, 0) != 0)
		return fail(a, EXIT_NOTFOUND, 0, 0, "item %s is not an email: it has no attachments", sid);
	long index = a->o.index ? a->o.index : 1;
	if (e.attachment_count == 0 || index < 1 || (size_t)index > e.attachment_count) {
		size_t n = e.attachment_count;
		eas_email_clear(&e);
		return fail(a, EXIT_NOTFOUND, 0, 0, "item %s has %zu attachment(s): no attachment %ld", sid, n, index);
	}
	const eas_email_attachment *at = &e.attachments[index - 1];
	char ref[1024], name[512], ctype[128];
	snprintf(ref, sizeof ref, "%s", at->file_reference ? at->file_reference : "");
	safe_name(at->display_name, name, sizeof name);
	snprintf(ctype, sizeof ctype, "%s", at->content_type ? at->content_type : "");
	eas_email_clear(&e);
	if (!ref[0])
		return fail(a, EXIT_NOTFOUND, 0, 0, "attachment %ld of %s has no file reference", index, sid);

	const char *path = a->o.output ? a->o.output : name;
	int to_stdout = strcmp(path, "-") == 0;
	if (to_stdout && a->o.json)
		return fail(a, EXIT_USAGE, 0, 0, "--output - and --json both want standard output");
	fetch_run r = { 1, 0, 0 };
	if (!to_stdout) {
		r.fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | (a->o.force ? 0 : O_EXCL), 0644);
		if (r.fd < 0)
			return fail(a, EXIT_LOCAL, 0, 0, "cannot create %s: %s%s", path, strerror(errno),
				    errno == EEXIST ? " (--force to overwrite)" : "");
	}
	if ((rc = account_connect(a)) == 0) {
		rc = eas_session_fetch_attachment(a->session, ref, sink, &r);
		if (rc)
			rc = fail(a, EXIT_FAILED, 0, 0, "cannot fetch: %s", eas_strerror(rc));
		else
			rc = drive(a, on_event, NULL, NULL, now_ms() + (uint64_t)a->o.timeout_s * 1000u);
		if (rc == -1)
			rc = fail(a, EXIT_NETWORK, 0, 0, "the download did not finish within %ld s", a->o.timeout_s);
		else if (rc == -2)
			rc = fail(a, EXIT_FAILED, 0, 0, "interrupted");
		if (r.write_error && rc)
			rc = fail(a, EXIT_LOCAL, 0, 0, "writing %s: %s", path, strerror(r.write_error));
	}
	if (!to_stdout) {
		if (close(r.fd) != 0 && rc == 0)
			rc = fail(a, EXIT_LOCAL, 0, 0, "writing %s: %s", path, strerror(errno));
		if (rc)
			unlink(path);
	}
	if (rc)
		return rc;
	if (a->o.json) {
		json_begin_object();
		json_kv_string("command", "fetch-attachment");
		json_kv_bool("ok", 1);
		json_kv_string("server_id", sid);
		json_kv_string("folder", fid);
		json_kv_int("index", index);
		json_kv_string("name", name);
		json_kv_string("content_type", ctype);
		json_kv_uint("bytes", r.bytes);
		json_kv_string("path", path);
		json_end_object();
		json_newline();
	} else if (!a->o.quiet && !to_stdout) {
		printf("saved %s (%llu bytes)\n", path, (unsigned long long)r.bytes);
	}
	return 0;
}

/*
 * eas-sync reply ITEM / forward ITEM: composes an RFC 5322 message with the
 * options of send (mime.c) and hands it to SmartReply / SmartForward with
 * the original named by folder and ServerId; the server adds the original
 * (a forward: its attachments too).  A copy goes to Sent Items unless
 * --no-save.
 */
#include <stdio.h>
#include <string.h>

#include "app.h"

static int on_event(app *a, const eas_session_event *ev, void *ctx)
{
	(void)a;
	(void)ctx;
	return ev->type == EAS_EVENT_MAIL_SENT ? EV_DONE : EV_DEFAULT;
}

int cmd_reply(app *a)
{
	int forward = strcmp(a->o.command, "forward") == 0;
	int rc = account_open_local(a);
	if (rc)
		return rc;
	const char *sid = a->o.positional[0];
	char fid[EAS_STORE_ID_MAX + 1];
	rc = item_find(a, a->o.folder, sid, fid, sizeof fid);
	if (rc)
		return fail(a, rc == EAS_E_INVALID ? EXIT_USAGE : EXIT_NOTFOUND, 0, 0, "no item '%s' in the local store", sid);
	mime_buf msg;
	if ((rc = mime_compose(a, &msg)) != 0)
		return rc;
	if ((rc = account_connect(a)) != 0) {
		mime_buf_free(&msg);
		return rc;
	}
	unsigned flags = a->o.no_save ? 0 : EAS_COMPOSE_SAVE_IN_SENT;
	rc = forward ? eas_session_smart_forward(a->session, fid, sid, (const uint8_t *)msg.data, msg.len, flags)
		     : eas_session_smart_reply(a->session, fid, sid, (const uint8_t *)msg.data, msg.len, flags);
	if (rc) {
		mime_buf_free(&msg);
		return fail(a, exit_code_for(rc) == EXIT_USAGE ? EXIT_FAILED : exit_code_for(rc), 0, 0, "cannot %s: %s",
			    a->o.command, eas_strerror(rc));
	}
	rc = drive(a, on_event, NULL, NULL, now_ms() + (uint64_t)a->o.timeout_s * 1000u);
	if (rc == -1)
		rc = fail(a, EXIT_NETWORK, 0, 0, "%s did not finish within %ld s", forward ? "SmartForward" : "SmartReply",
			  a->o.timeout_s);
	else if (rc == -2)
		rc = fail(a, EXIT_FAILED, 0, 0, "interrupted: the message may or may not have been sent");
	if (rc == 0) {
		if (a->o.json) {
			json_begin_object();
			json_kv_string("command", a->o.command);
			json_kv_bool("ok", 1);
			json_kv_string("original", sid);
			json_kv_string("folder", fid);
			json_kv_string("subject", a->o.subject);
			json_kv_uint("bytes", msg.len);
			json_kv_bool("saved_in_sent", !a->o.no_save);
			json_end_object();
			json_newline();
		} else if (!a->o.quiet) {
			printf("%s \"%s\" (to %s)\n", forward ? "forwarded" : "replied", a->o.subject, sid);
		}
	}
	mime_buf_free(&msg);
	return rc;
}

/*
 * eas-sync send: composes an RFC 5322 message (mime.c) and hands it to
 * SendMail; a copy goes to Sent Items unless --no-save.
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

int cmd_send(app *a)
{
	mime_buf msg;
	int rc = account_open_local(a);
	if (rc)
		return rc;
	/* compose before connecting: a missing attachment needs no round trip */
	if ((rc = mime_compose(a, &msg)) != 0)
		return rc;
	if ((rc = account_connect(a)) != 0) {
		mime_buf_free(&msg);
		return rc;
	}
	rc = eas_session_send_mail(a->session, (const uint8_t *)msg.data, msg.len, !a->o.no_save);
	if (rc) {
		mime_buf_free(&msg);
		return fail(a, exit_code_for(rc) == EXIT_USAGE ? EXIT_FAILED : exit_code_for(rc), 0, 0,
			    "cannot send: %s", eas_strerror(rc));
	}
	rc = drive(a, on_event, NULL, NULL, now_ms() + (uint64_t)a->o.timeout_s * 1000u);
	if (rc == -1)
		rc = fail(a, EXIT_NETWORK, 0, 0, "SendMail did not finish within %ld s", a->o.timeout_s);
	else if (rc == -2)
		rc = fail(a, EXIT_FAILED, 0, 0, "interrupted: the message may or may not have been sent");
	if (rc == 0) {
		if (a->o.json) {
			json_begin_object();
			json_kv_string("command", "send");
			json_kv_bool("ok", 1);
			json_kv_string("subject", a->o.subject);
			json_key("to");
			json_begin_array();
			for (int i = 0; i < a->o.nto; i++)
				json_string(a->o.to[i]);
			json_end_array();
			json_key("cc");
			json_begin_array();
			for (int i = 0; i < a->o.ncc; i++)
				json_string(a->o.cc[i]);
			json_end_array();
			json_kv_uint("attachments", (uint64_t)a->o.nattach);
			json_kv_uint("bytes", msg.len);
			json_kv_bool("saved_in_sent", !a->o.no_save);
			json_end_object();
			json_newline();
		} else if (!a->o.quiet) {
			char size[32];
			format_bytes(size, sizeof size, msg.len);
			printf("sent \"%s\" to %d recipient(s) (%s)\n", a->o.subject, a->o.nto + a->o.ncc, size);
		}
	}
	mime_buf_free(&msg);
	return rc;
}

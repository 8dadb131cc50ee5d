/*
 * eas-sync --email ADDR: finds the ActiveSync URL with the sans-I/O
 * Autodiscover machine (eas/autodiscover.h), its requests carried by the
 * same transport and tracing as the session's.  The URL found is saved in
 * the data directory, so later runs go straight to the server.
 *
 * DNS SRV lookups are not done (the machine is told there are none), and a
 * target learnt over plain HTTP is only used after the user confirms it on
 * the terminal; without a terminal it is skipped.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <eas/autodiscover.h>

#include "app.h"

static int ask_user(const char *url)
{
	if (!isatty(0) || !isatty(2))
		return 0;
	fprintf(stderr, "eas-sync: Autodiscover was redirected over an unauthenticated channel to\n  %s\n"
			"Send your credentials there? [y/N] ", url);
	char line[16];
	if (!fgets(line, sizeof line, stdin))
		return 0;
	return line[0] == 'y' || line[0] == 'Y';
}

int discover_url(app *a)
{
	eas_autodiscover_options o = EAS_AUTODISCOVER_OPTIONS_INIT;
	o.email = a->email;
	o.url = a->o.autodiscover_url;
	o.allow_plain_http = a->o.insecure_http;
	o.username = a->user;
	if (a->o.token_cmd) {
		/* the same command the session uses later */
		if (account_token(a) != 0)
			return fail(a, EXIT_AUTH, 0, 0, "--token-cmd gave no token");
		o.auth = EAS_AUTODISCOVER_AUTH_BEARER;
		o.bearer_token = a->token;
	} else {
		o.auth = EAS_AUTODISCOVER_AUTH_BASIC;
		o.password = a->password;
	}
	eas_autodiscover *ad = NULL;
	int rc = eas_autodiscover_new(&ad, &o);
	if (rc)
		return fail(a, EXIT_USAGE, 0, 0, "cannot start Autodiscover for %s: %s", a->email, eas_strerror(rc));
	if (!a->o.quiet)
		fprintf(stderr, "eas-sync: looking up the server of %s (Autodiscover)\n", a->email);
	uint64_t deadline = now_ms() + (uint64_t)a->o.timeout_s * 1000u;
	int result = -1;
	while (result < 0) {
		eas_autodiscover_action act;
		rc = eas_autodiscover_next(ad, &act);
		if (rc == EAS_E_STATE) {
			/* waiting for the response in flight */
			if (now_ms() > deadline) {
				result = fail(a, EXIT_NETWORK, 0, 0, "Autodiscover timed out after %ld s", a->o.timeout_s);
				break;
			}
			driver_pump(a, 100);
			continue;
		}
		if (rc) {
			result = fail(a, EXIT_FAILED, 0, 0, "Autodiscover: %s", eas_strerror(rc));
			break;
		}
		switch (act.type) {
		case EAS_AUTODISCOVER_SEND_REQUEST: {
			eas_http_response_handler h;
			eas_autodiscover_response_handler(&h, ad);
			rc = driver_submit(a, &act.request, &h);
			if (rc)
				eas_autodiscover_response_end(ad, rc);
			break;
		}
		case EAS_AUTODISCOVER_NEED_SRV:
			eas_autodiscover_srv_result(ad, NULL, 0);
			break;
		case EAS_AUTODISCOVER_CONFIRM:
			eas_autodiscover_confirm(ad, ask_user(act.url));
			break;
		case EAS_AUTODISCOVER_DONE:
			snprintf(a->url, sizeof a->url, "%s", act.result->url);
			if (!a->o.quiet)
				fprintf(stderr, "eas-sync: %s is served by %s\n", a->email, a->url);
			result = 0;
			break;
		case EAS_AUTODISCOVER_FAILED:
			result = fail(a, act.error == EAS_E_AUTH ? EXIT_AUTH : act.error == EAS_E_TLS ? EXIT_TLS
								 : act.error == EAS_E_IO ? EXIT_NETWORK
											 : EXIT_FAILED,
				      act.server_error, act.http_status, "Autodiscover for %s failed: %s", a->email,
				      act.message ? act.message : eas_strerror(act.error));
			break;
		}
	}
	eas_autodiscover_free(ad);
	return result;
}

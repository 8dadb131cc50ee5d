/*
 * The embedding example of docs/client.md: connect an account (OPTIONS,
 * Provision) over the libcurl transport and report what happened.
 *
 *   EAS_PASSWORD=... connect_example URL USER DEVICE_ID [CA_FILE]
 *
 * Exit status: 0 connected, 1 the server refused or failed, 2 usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <eas/eas.h>
#include <eas/policy.h>
#include <eas/session.h>
#include <eas/transport_curl.h>

/*
 * eas_session_run pumps the transport through this.  With nothing in flight
 * (the session waits out a backoff) it must still wait, not spin.
 */
static int pump(void *curl, uint32_t timeout_ms)
{
	if (eas_curl_transport_pending(curl) == 0) {
		struct timespec ts = { (time_t)(timeout_ms / 1000), (long)(timeout_ms % 1000) * 1000000L };
		nanosleep(&ts, NULL);
		return 0;
	}
	return eas_curl_transport_run(curl, (long)timeout_ms) < 0 ? -1 : 0;
}

int main(int argc, char **argv)
{
	const char *password = getenv("EAS_PASSWORD");
	if (argc < 4 || !password) {
		fprintf(stderr, "usage: EAS_PASSWORD=... %s URL USER DEVICE_ID [CA_FILE]\n", argv[0]);
		return 2;
	}

	/* 1. The transport: TLS verification is always on; a private CA may be given. */
	eas_curl_transport *curl = NULL;
	eas_curl_transport_options topt = EAS_CURL_TRANSPORT_OPTIONS_INIT;
	topt.ca_file = argc > 4 ? argv[4] : NULL;
	topt.allow_plain_http = strncmp(argv[1], "http://", 7) == 0; /* loopback tests only */
	if (eas_curl_transport_new(&curl, &topt) != 0) {
		fprintf(stderr, "cannot create the transport\n");
		return 1;
	}

	/* 2. The account and its session. */
	eas_account account = EAS_ACCOUNT_INIT;
	account.url = argv[1];
	account.user = argv[2];
	account.password = password; /* copied by the session, wiped on free */
	account.device_id = argv[3];
	account.device_type = "SampleApp";
	account.device.model = "Example";
	account.allow_plain_http = topt.allow_plain_http;
	eas_session *s = NULL;
	int rc = eas_session_new(&s, &account, NULL);
	if (rc != 0) {
		fprintf(stderr, "bad account: %s\n", eas_strerror(rc));
		eas_curl_transport_free(curl);
		return 2;
	}

	/* 3. Connect, answering the questions the session asks through events. */
	eas_session_connect(s);
	int result = -1;
	while (result < 0) {
		if (eas_session_run(s, eas_curl_transport_base(curl), pump, curl, 60000) != 0) {
			fprintf(stderr, "timed out\n");
			result = 1;
			break;
		}
		eas_session_event ev;
		int answered = 0;
		while (eas_session_next_event(s, &ev) == 1) {
			switch (ev.type) {
			case EAS_EVENT_VERSION_NEGOTIATED:
				printf("protocol version %s\n", eas_protocol_version_name(ev.version));
				break;
			case EAS_EVENT_POLICY: {
				char text[512];
				if (eas_policy_describe(ev.policy, text, sizeof text) == 0 || !text[0])
					snprintf(text, sizeof text, "(no settings)");
				printf("policy: %s\n", text);
				eas_session_accept_policy(s, 1); /* a real app enforces it first */
				answered = 1;
				break;
			}
			case EAS_EVENT_WIPE:
				printf("remote wipe requested: erasing local data\n");
				eas_session_ack_wipe(s);
				answered = 1;
				break;
			case EAS_EVENT_PROVISIONED:
				printf("policy key %s\n", ev.policy_key);
				break;
			case EAS_EVENT_READY:
				printf("ready\n");
				result = 0;
				break;
			case EAS_EVENT_REDIRECT:
				printf("moved to %s\n", ev.url);
				break;
			default:
				fprintf(stderr, "error: %s\n", ev.message);
				result = 1;
				break;
			}
		}
		if (result < 0 && !answered && !eas_session_busy(s))
			result = 1; /* idle without READY: nothing more will happen */
	}
	eas_session_free(s);
	eas_curl_transport_free(curl);
	return result;
}

/*
 * folder_sync_probe — an interop probe built on the public API only: connect
 * an account (OPTIONS + Provision), FolderSync the hierarchy and print it;
 * with --sync, also Sync the first Inbox, Contacts and Calendar folders to
 * the end and print how many items each gave.  Requests are WBXML made with
 * eas_wbxml_encoder, responses are read with eas_wbxml_decoder: no private
 * header is used, so this is what an application can do.
 *
 *   EAS_PASSWORD=... folder_sync_probe URL USER DEVICE_ID [--sync] [--save DIR] [--ca FILE]
 *
 * Output (one fact per line, for tests/interop/run.sh to check):
 *   protocol 14.1
 *   foldersync status 1 key K count N
 *   folder type 2 id ID parent PID name NAME
 *   sync Inbox type 2 id ID status S items N rounds R key K first SUBJECT
 * --save DIR writes every response body as DIR/NN-command.wbxml.
 *
 * Exit status: 0 success, 1 the server refused or answered something
 * unexpected, 2 usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <eas/eas.h>
#include <eas/session.h>
#include <eas/transport_curl.h>
#include <eas/wbxml.h>

#define MAX_FOLDERS 256
#define TEXT_MAX 256

/* ---- WBXML request bodies ---------------------------------------------------- */

typedef struct buf {
	uint8_t *data;
	size_t len, cap;
} buf;

static int buf_sink(const uint8_t *bytes, size_t len, void *user_data)
{
	buf *b = user_data;
	if (b->len + len > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 256;
		while (cap < b->len + len)
			cap *= 2;
		uint8_t *p = realloc(b->data, cap);
		if (!p)
			return -1;
		b->data = p;
		b->cap = cap;
	}
	memcpy(b->data + b->len, bytes, len);
	b->len += len;
	return 0;
}

/* Any encoder failure is remembered and checked once at the end. */
typedef struct enc {
	eas_wbxml_encoder *e;
	int rc;
} enc;

static void start(enc *x, eas_tag t)
{
	if (x->rc == 0)
		x->rc = eas_wbxml_encoder_start(x->e, t);
}
static void end(enc *x)
{
	if (x->rc == 0)
		x->rc = eas_wbxml_encoder_end(x->e);
}
static void element(enc *x, eas_tag t, const char *text)
{
	if (x->rc == 0)
		x->rc = eas_wbxml_encoder_element(x->e, t, text);
}
static void empty(enc *x, eas_tag t)
{
	if (x->rc == 0)
		x->rc = eas_wbxml_encoder_empty(x->e, t);
}

/* <FolderSync xmlns="FolderHierarchy:"><SyncKey>key</SyncKey></FolderSync> */
static int folder_sync_body(buf *out, unsigned version, const char *key)
{
	enc x = { NULL, 0 };
	x.rc = eas_wbxml_encoder_new(&x.e, buf_sink, out, version, NULL);
	start(&x, EAS_TAG_FOLDERHIERARCHY_FOLDER_SYNC);
	element(&x, EAS_TAG_FOLDERHIERARCHY_SYNC_KEY, key);
	end(&x);
	if (x.rc == 0)
		x.rc = eas_wbxml_encoder_finish(x.e);
	eas_wbxml_encoder_free(x.e);
	return x.rc;
}

/*
 * One collection: SyncKey 0 primes it (no GetChanges allowed); later rounds
 * ask for changes, 50 at a time, plain-text bodies cut at 200 bytes for mail.
 */
static int sync_body(buf *out, unsigned version, const char *key, const char *collection,
		     int folder_type)
{
	int initial = strcmp(key, "0") == 0;
	enc x = { NULL, 0 };
	x.rc = eas_wbxml_encoder_new(&x.e, buf_sink, out, version, NULL);
	start(&x, EAS_TAG_AIRSYNC_SYNC);
	start(&x, EAS_TAG_AIRSYNC_COLLECTIONS);
	start(&x, EAS_TAG_AIRSYNC_COLLECTION);
	element(&x, EAS_TAG_AIRSYNC_SYNC_KEY, key);
	element(&x, EAS_TAG_AIRSYNC_COLLECTION_ID, collection);
	if (!initial) {
		element(&x, EAS_TAG_AIRSYNC_DELETES_AS_MOVES, "1");
		empty(&x, EAS_TAG_AIRSYNC_GET_CHANGES);
		element(&x, EAS_TAG_AIRSYNC_WINDOW_SIZE, "50");
		start(&x, EAS_TAG_AIRSYNC_OPTIONS);
		if (folder_type == 2 || folder_type == 8) /* mail, calendar: everything */
			element(&x, EAS_TAG_AIRSYNC_FILTER_TYPE, "0");
		if (version != EAS_PROTO_2_5) {
			start(&x, EAS_TAG_AIRSYNCBASE_BODY_PREFERENCE);
			element(&x, EAS_TAG_AIRSYNCBASE_TYPE, "1");
			element(&x, EAS_TAG_AIRSYNCBASE_TRUNCATION_SIZE, "200");
			end(&x);
		}
		end(&x);
	}
	end(&x);
	end(&x);
	end(&x);
	if (x.rc == 0)
		x.rc = eas_wbxml_encoder_finish(x.e);
	eas_wbxml_encoder_free(x.e);
	return x.rc;
}

/* ---- reading responses ------------------------------------------------------- */

typedef struct folder {
	char id[TEXT_MAX], parent[TEXT_MAX], name[TEXT_MAX];
	int type;
} folder;

/* What the probe wants from a FolderSync or Sync response. */
typedef struct reader {
	eas_tag stack[64];
	unsigned depth;
	char text[TEXT_MAX];
	size_t text_len;
	int text_cut;
	/* FolderSync */
	folder cur;
	folder folders[MAX_FOLDERS];
	unsigned nfolders;
	/* both: the top-level Status and SyncKey */
	int status;
	char key[TEXT_MAX];
	/* Sync */
	int collection_status;
	unsigned adds;
	int more;
	char first[TEXT_MAX]; /* subject / FileAs of the first item added */
} reader;

static int r_start(eas_tag tag, int has_content, void *user_data)
{
	reader *r = user_data;
	if (tag == EAS_TAG_AIRSYNC_MORE_AVAILABLE)
		r->more = 1;
	if (tag == EAS_TAG_AIRSYNC_ADD && r->depth > 0 && r->stack[r->depth - 1] == EAS_TAG_AIRSYNC_COMMANDS)
		r->adds++;
	if (tag == EAS_TAG_FOLDERHIERARCHY_ADD)
		memset(&r->cur, 0, sizeof r->cur);
	if (has_content) {
		if (r->depth == sizeof r->stack / sizeof r->stack[0])
			return -1;
		r->stack[r->depth++] = tag;
	}
	r->text_len = 0;
	r->text_cut = 0;
	return 0;
}

static int r_data(eas_wbxml_data_kind kind, const uint8_t *bytes, size_t len, int final,
		  uint64_t total, void *user_data)
{
	reader *r = user_data;
	(void)kind;
	(void)final;
	(void)total;
	size_t room = sizeof r->text - 1 - r->text_len;
	if (len > room) {
		len = room;
		r->text_cut = 1;
	}
	memcpy(r->text + r->text_len, bytes, len);
	r->text_len += len;
	return 0;
}

static void copy_text(char *dst, const reader *r)
{
	memcpy(dst, r->text, r->text_len);
	dst[r->text_len] = '\0';
}

static int r_end(eas_tag tag, void *user_data)
{
	reader *r = user_data;
	eas_tag parent = r->depth >= 2 ? r->stack[r->depth - 2] : EAS_TAG_NONE;
	r->text[r->text_len] = '\0';
	switch (tag) {
	case EAS_TAG_FOLDERHIERARCHY_STATUS:
		r->status = atoi(r->text);
		break;
	case EAS_TAG_FOLDERHIERARCHY_SYNC_KEY:
		copy_text(r->key, r);
		break;
	case EAS_TAG_FOLDERHIERARCHY_SERVER_ID:
		copy_text(r->cur.id, r);
		break;
	case EAS_TAG_FOLDERHIERARCHY_PARENT_ID:
		copy_text(r->cur.parent, r);
		break;
	case EAS_TAG_FOLDERHIERARCHY_DISPLAY_NAME:
		copy_text(r->cur.name, r);
		break;
	case EAS_TAG_FOLDERHIERARCHY_TYPE:
		r->cur.type = atoi(r->text);
		break;
	case EAS_TAG_FOLDERHIERARCHY_ADD:
		if (r->nfolders < MAX_FOLDERS)
			r->folders[r->nfolders++] = r->cur;
		break;
	case EAS_TAG_AIRSYNC_STATUS:
		if (parent == EAS_TAG_AIRSYNC_SYNC)
			r->status = atoi(r->text);
		else if (parent == EAS_TAG_AIRSYNC_COLLECTION)
			r->collection_status = atoi(r->text);
		break;
	case EAS_TAG_AIRSYNC_SYNC_KEY:
		if (parent == EAS_TAG_AIRSYNC_COLLECTION)
			copy_text(r->key, r);
		break;
	case EAS_TAG_EMAIL_SUBJECT:
	case EAS_TAG_CALENDAR_SUBJECT:
	case EAS_TAG_CONTACTS_FILE_AS:
		if (r->first[0] == '\0')
			copy_text(r->first, r);
		break;
	default:
		break;
	}
	if (r->depth > 0)
		r->depth--;
	r->text_len = 0;
	return 0;
}

/* Decodes a whole response body into *r.  An empty body is a valid answer. */
static int read_response(reader *r, const uint8_t *data, size_t len)
{
	memset(r, 0, sizeof *r);
	if (len == 0)
		return 0;
	eas_wbxml_callbacks cb = EAS_WBXML_CALLBACKS_INIT;
	cb.start_tag = r_start;
	cb.end_tag = r_end;
	cb.data = r_data;
	eas_wbxml_decoder *dec = NULL;
	int rc = eas_wbxml_decoder_new(&dec, &cb, NULL, NULL, r);
	if (rc == 0)
		rc = eas_wbxml_decoder_feed(dec, data, len, NULL);
	if (rc == 0)
		rc = eas_wbxml_decoder_finish(dec);
	if (rc != 0) {
		uint64_t at = 0;
		const char *why = dec ? eas_wbxml_decoder_error(dec, &at) : NULL;
		fprintf(stderr, "cannot decode the response (%zu bytes): %s at byte %llu\n", len,
			why ? why : eas_strerror(rc), (unsigned long long)at);
	}
	eas_wbxml_decoder_free(dec);
	return rc;
}

/* ---- driving the session ----------------------------------------------------- */

static int pump(void *curl, uint32_t timeout_ms)
{
	if (eas_curl_transport_pending(curl) == 0) {
		struct timespec ts = { (time_t)(timeout_ms / 1000), (long)(timeout_ms % 1000) * 1000000L };
		nanosleep(&ts, NULL);
		return 0;
	}
	return eas_curl_transport_run(curl, (long)timeout_ms) < 0 ? -1 : 0;
}

typedef struct probe {
	eas_session *s;
	eas_curl_transport *curl;
	const char *save_dir;
	unsigned saved;
} probe;

/*
 * Runs the session until the operation in progress ends: 0 with want
 * (EAS_EVENT_READY or EAS_EVENT_RESPONSE) seen, 1 on an error event, a
 * timeout or an idle session without it.
 */
static int wait_for(probe *p, eas_event_type want, int *status)
{
	for (;;) {
		if (eas_session_run(p->s, eas_curl_transport_base(p->curl), pump, p->curl, 120000) != 0) {
			fprintf(stderr, "error: timed out\n");
			return 1;
		}
		int done = 0, answered = 0;
		eas_session_event ev;
		while (eas_session_next_event(p->s, &ev) == 1) {
			switch (ev.type) {
			case EAS_EVENT_VERSION_NEGOTIATED:
				printf("protocol %s\n", eas_protocol_version_name(ev.version));
				break;
			case EAS_EVENT_POLICY:
				printf("policy offered\n");
				eas_session_accept_policy(p->s, 1);
				answered = 1;
				break;
			case EAS_EVENT_PROVISIONED:
				printf("policy key %s\n", ev.policy_key);
				break;
			case EAS_EVENT_WIPE:
				fprintf(stderr, "error: the server asks for a remote wipe\n");
				return 1;
			case EAS_EVENT_REDIRECT:
				printf("redirected to %s\n", ev.url);
				break;
			case EAS_EVENT_READY:
			case EAS_EVENT_RESPONSE:
				if (ev.type == want) {
					if (status)
						*status = ev.status;
					done = 1;
				}
				break;
			default:
				fprintf(stderr, "error: %s (HTTP %d, status %d)\n",
					ev.message ? ev.message : eas_strerror(ev.error), ev.http_status, ev.status);
				return 1;
			}
		}
		if (done)
			return 0;
		if (!answered && !eas_session_busy(p->s)) {
			fprintf(stderr, "error: the session went idle without an answer\n");
			return 1;
		}
	}
}

/* Sends one command and decodes its answer into *r. */
static int command(probe *p, eas_command cmd, const char *name, const buf *body, reader *r)
{
	int rc = eas_session_send(p->s, cmd, body->data, body->len);
	if (rc != 0) {
		fprintf(stderr, "error: %s not sent: %s\n", name, eas_strerror(rc));
		return 1;
	}
	int status = 0;
	if (wait_for(p, EAS_EVENT_RESPONSE, &status) != 0)
		return 1;
	size_t len = 0;
	const uint8_t *data = eas_session_response_data(p->s, &len);
	if (p->save_dir && len > 0) {
		char path[4096];
		snprintf(path, sizeof path, "%s/%02u-%s.wbxml", p->save_dir, ++p->saved, name);
		FILE *f = fopen(path, "wb");
		if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
			fprintf(stderr, "error: cannot write %s\n", path);
			return 1;
		}
	}
	return read_response(r, data, len) == 0 ? 0 : 1;
}

static const folder *find_folder(const reader *fs, int type)
{
	for (unsigned i = 0; i < fs->nfolders; i++)
		if (fs->folders[i].type == type)
			return &fs->folders[i];
	return NULL;
}

/* Syncs one folder to the end; prints one "sync" line. */
static int sync_folder(probe *p, const char *label, const folder *f)
{
	unsigned version = eas_session_protocol_version(p->s);
	char key[TEXT_MAX] = "0", first[TEXT_MAX] = "";
	unsigned items = 0, rounds = 0;
	int status = 0;
	reader *r = calloc(1, sizeof *r);
	if (!r)
		return 1;
	for (;;) {
		buf body = { NULL, 0, 0 };
		if (sync_body(&body, version, key, f->id, f->type) != 0) {
			fprintf(stderr, "error: cannot encode the Sync request\n");
			free(body.data);
			free(r);
			return 1;
		}
		int rc = command(p, EAS_CMD_SYNC, "sync", &body, r);
		free(body.data);
		if (rc != 0) {
			free(r);
			return 1;
		}
		rounds++;
		/* An empty 200 answer: nothing changed since the key we hold. */
		if (r->key[0] == '\0' && r->status == 0 && r->collection_status == 0)
			break;
		status = r->collection_status ? r->collection_status : r->status;
		if (status != 1) {
			fprintf(stderr, "error: Sync of %s answered status %d\n", label, status);
			break;
		}
		if (r->key[0] == '\0') {
			fprintf(stderr, "error: Sync of %s answered no SyncKey\n", label);
			status = -1;
			break;
		}
		int initial = strcmp(key, "0") == 0;
		strcpy(key, r->key);
		items += r->adds;
		if (first[0] == '\0')
			strcpy(first, r->first);
		if (!initial && !r->more)
			break;
		if (rounds >= 100) {
			fprintf(stderr, "error: Sync of %s still has more after 100 rounds\n", label);
			status = -1;
			break;
		}
	}
	printf("sync %s type %d id %s status %d items %u rounds %u key %s first %s\n", label, f->type,
	       f->id, status, items, rounds, key, first[0] ? first : "-");
	free(r);
	return status == 1 ? 0 : 1;
}

int main(int argc, char **argv)
{
	const char *password = getenv("EAS_PASSWORD");
	const char *ca_file = NULL, *save_dir = NULL;
	int do_sync = 0;
	for (int i = 4; i < argc; i++) {
		if (strcmp(argv[i], "--sync") == 0)
			do_sync = 1;
		else if (strcmp(argv[i], "--save") == 0 && i + 1 < argc)
			save_dir = argv[++i];
		else if (strcmp(argv[i], "--ca") == 0 && i + 1 < argc)
			ca_file = argv[++i];
		else
			argc = 0; /* usage */
	}
	if (argc < 4 || !password) {
		fprintf(stderr, "usage: EAS_PASSWORD=... folder_sync_probe URL USER DEVICE_ID "
				"[--sync] [--save DIR] [--ca FILE]\n");
		return 2;
	}

	probe p = { NULL, NULL, save_dir, 0 };
	eas_curl_transport_options topt = EAS_CURL_TRANSPORT_OPTIONS_INIT;
	topt.ca_file = ca_file;
	topt.allow_plain_http = strncmp(argv[1], "http://", 7) == 0; /* loopback tests only */
	if (eas_curl_transport_new(&p.curl, &topt) != 0) {
		fprintf(stderr, "error: cannot create the transport\n");
		return 1;
	}
	eas_account account = EAS_ACCOUNT_INIT;
	account.url = argv[1];
	account.user = argv[2];
	account.password = password;
	account.device_id = argv[3];
	account.device_type = "LibeasProbe";
	account.device.model = "folder_sync_probe";
	account.allow_plain_http = topt.allow_plain_http;
	int rc = eas_session_new(&p.s, &account, NULL);
	if (rc != 0) {
		fprintf(stderr, "error: bad account: %s\n", eas_strerror(rc));
		eas_curl_transport_free(p.curl);
		return 2;
	}

	int result = 1;
	reader *fs = calloc(1, sizeof *fs);
	buf body = { NULL, 0, 0 };
	if (!fs)
		goto out;
	eas_session_connect(p.s);
	if (wait_for(&p, EAS_EVENT_READY, NULL) != 0)
		goto out;
	if (folder_sync_body(&body, eas_session_protocol_version(p.s), "0") != 0) {
		fprintf(stderr, "error: cannot encode the FolderSync request\n");
		goto out;
	}
	if (command(&p, EAS_CMD_FOLDER_SYNC, "foldersync", &body, fs) != 0)
		goto out;
	printf("foldersync status %d key %s count %u\n", fs->status, fs->key[0] ? fs->key : "-",
	       fs->nfolders);
	for (unsigned i = 0; i < fs->nfolders; i++)
		printf("folder type %d id %s parent %s name %s\n", fs->folders[i].type, fs->folders[i].id,
		       fs->folders[i].parent, fs->folders[i].name);
	if (fs->status != 1 || fs->nfolders == 0) {
		fprintf(stderr, "error: FolderSync answered status %d with %u folders\n", fs->status,
			fs->nfolders);
		goto out;
	}
	result = 0;
	if (do_sync) {
		static const struct {
			const char *label;
			int type;
		} wanted[] = { { "Inbox", 2 }, { "Contacts", 9 }, { "Calendar", 8 } };
		for (size_t i = 0; i < sizeof wanted / sizeof wanted[0]; i++) {
			const folder *f = find_folder(fs, wanted[i].type);
			if (!f) {
				fprintf(stderr, "error: no %s folder (type %d)\n", wanted[i].label, wanted[i].type);
				result = 1;
				continue;
			}
			if (sync_folder(&p, wanted[i].label, f) != 0)
				result = 1;
		}
	}
out:
	free(body.data);
	free(fs);
	eas_session_free(p.s);
	eas_curl_transport_free(p.curl);
	return result;
}

/*
 * eas-server seed-demo USER --emails N --data-dir DIR [--password-file F]
 *
 * Creates USER if missing (password from --password-file, else "demo":
 * DEMO ONLY, never on a reachable server) and fills a deterministic demo
 * mailbox through the store: N emails spread over the Inbox and three user
 * folders (Projects, Newsletters, Receipts), with From/To/Subject/
 * DateReceived/Importance/Read, plain-text bodies of a few hundred bytes to
 * a few KB, and an attachment on every seventh mail.  The same N gives the
 * same mailbox (fixed PRNG seed, fixed clock base).  Each item's
 * ApplicationData is written by eas_email_encode into a standalone WBXML
 * document rooted at AirSync:ApplicationData (what handle_sync.c sends).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "common/buf.h"
#include "eas/email.h"
#include "eas/common.h"
#include "eas/wbxml.h"
#include "server/store_sqlite.h"

int eas_server_seed_demo_main(int argc, char **argv);

static void fail(const char *what, int rc)
{
	fprintf(stderr, "eas-server seed-demo: %s: %s\n", what, rc ? eas_strerror(rc) : "failed");
	exit(1);
}

static uint64_t rng_state = 0x5EEDDE3011ull;
static uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 16);
}

static const char *const people[] = { "Alice Martin <alice.martin@example.test>", "Bob Chen <bob.chen@example.test>",
				      "Carla Diaz <carla.diaz@example.test>", "Deepak Rao <deepak.rao@example.test>",
				      "Emma Schulz <emma.schulz@example.test>", "Farid Haddad <farid.haddad@example.test>" };
static const char *const topics[] = { "Quarterly report", "Lunch on Friday?", "Build is red again", "Invoice",
				      "Team offsite agenda", "Re: design review", "Weekly newsletter", "Travel plans",
				      "Your order has shipped", "Meeting notes" };
static const char *const words[] = { "the", "project", "schedule", "please", "review", "attached", "numbers",
				      "tomorrow", "we", "should", "discuss", "budget", "and", "deadline", "thanks",
				      "update", "customer", "release", "notes", "team" };

static int write_email(eas_wbxml_encoder *enc, const eas_email *e)
{
	int rc = eas_wbxml_encoder_start(enc, EAS_TAG_AIRSYNC_APPLICATION_DATA);
	if (rc == 0)
		rc = eas_email_encode(enc, e, EAS_PROTO_14_1);
	if (rc == 0)
		rc = eas_wbxml_encoder_end(enc);
	return rc ? rc : eas_wbxml_encoder_finish(enc);
}

/* The standalone ApplicationData document of e into out. */
static int appdata(eas_buf *out, const eas_email *e)
{
	eas_buf_init(out, NULL, 64u << 20);
	eas_wbxml_encoder *enc;
	int rc = eas_wbxml_encoder_new(&enc, eas_buf_sink, out, EAS_PROTO_14_1, NULL);
	if (rc)
		return rc;
	rc = write_email(enc, e);
	eas_wbxml_encoder_free(enc);
	if (rc == 0 && out->result)
		rc = out->result;
	if (rc)
		eas_buf_free(out);
	return rc;
}

typedef struct find_ctx {
	const char *name;
	char *out;
} find_ctx;

static int find_named(const eas_mstore_folder *f, void *ud)
{
	find_ctx *x = ud;
	if (strcmp(f->parent_id, "0") == 0 && strcmp(f->display_name, x->name) == 0)
		snprintf(x->out, EAS_MSTORE_ID_SIZE, "%s", f->server_id);
	return 0;
}

static int64_t ensure_folder(eas_mstore *store, int64_t user, const char *name)
{
	eas_mstore_result res;
	eas_mstore_folder f;
	int rc = store->folder_create(&res, &f, store, user, "0", name, EAS_MSTORE_FOLDER_USER_MAIL, NULL);
	if (rc)
		fail("folder_create", rc);
	if (res == EAS_MSTORE_EXISTS)
		return 0;
	return strtoll(f.server_id, NULL, 10);
}

int eas_server_seed_demo_main(int argc, char **argv)
{
	const char *user = NULL, *dir = NULL, *pwfile = NULL;
	unsigned long n = 50;
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--emails") == 0 && i + 1 < argc)
			n = strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--data-dir") == 0 && i + 1 < argc)
			dir = argv[++i];
		else if (strcmp(argv[i], "--password-file") == 0 && i + 1 < argc)
			pwfile = argv[++i];
		else if (argv[i][0] != '-' && !user)
			user = argv[i];
		else {
			fprintf(stderr, "usage: eas-server seed-demo USER --emails N --data-dir DIR [--password-file F]\n");
			return 2;
		}
	}
	if (!user || !dir || n > 1000000) {
		fprintf(stderr, "usage: eas-server seed-demo USER --emails N --data-dir DIR [--password-file F]\n");
		return 2;
	}
	char password[1025] = "demo"; /* demo only */
	if (pwfile) {
		FILE *fp = fopen(pwfile, "rb");
		if (!fp || !fgets(password, sizeof password, fp)) {
			fprintf(stderr, "eas-server seed-demo: cannot read %s\n", pwfile);
			return 1;
		}
		fclose(fp);
		password[strcspn(password, "\r\n")] = '\0';
	}
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		fprintf(stderr, "eas-server seed-demo: cannot create %s: %s\n", dir, strerror(errno));
		return 1;
	}
	char path[4096];
	snprintf(path, sizeof path, "%s/mailbox.db", dir);
	eas_mstore_sqlite_options so = EAS_MSTORE_SQLITE_OPTIONS_INIT;
	so.path = path;
	eas_mstore *store = NULL;
	int rc = eas_mstore_sqlite_open(&store, &so);
	if (rc)
		fail("open the store", rc);
	int64_t uid = 0;
	rc = store->user_lookup(&uid, store, user);
	if (rc == EAS_E_NOTFOUND)
		rc = store->user_add(&uid, store, user, password);
	if (rc)
		fail("user", rc);

	char folders[4][EAS_MSTORE_ID_SIZE];
	eas_mstore_folder inbox;
	rc = store->folder_find_default(&inbox, store, uid, EAS_MSTORE_FOLDER_INBOX);
	if (rc)
		fail("Inbox", rc);
	snprintf(folders[0], sizeof folders[0], "%s", inbox.server_id);
	static const char *const names[] = { "Projects", "Newsletters", "Receipts" };
	for (int i = 0; i < 3; i++) {
		int64_t id = ensure_folder(store, uid, names[i]);
		if (id == 0) { /* exists: find it */
			folders[i + 1][0] = '\0';
			find_ctx fd = { names[i], folders[i + 1] };
			rc = store->folder_list(store, uid, find_named, &fd);
			if (rc)
				fail("folder_list", rc);
		} else {
			snprintf(folders[i + 1], sizeof folders[i + 1], "%lld", (long long)id);
		}
	}

	char to[300];
	snprintf(to, sizeof to, "%s <%s%s>", user, user, strchr(user, '@') ? "" : "@example.test");
	const int64_t base = 1735689600; /* 2025-01-01T00:00:00Z */
	rc = store->begin(store);
	if (rc)
		fail("begin", rc);
	for (unsigned long i = 0; i < n; i++) {
		unsigned f = (i % 10) < 6 ? 0 : 1 + (unsigned)(i % 3);
		if (!folders[f][0])
			f = 0;
		char subject[160], date[40], *body;
		snprintf(subject, sizeof subject, "%s #%lu", topics[rnd() % 10], i + 1);
		int64_t when = base + (int64_t)i * 3600 + (int64_t)(rnd() % 3000);
		time_t tt = (time_t)when;
		struct tm tm;
		gmtime_r(&tt, &tm);
		strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S.000Z", &tm);
		size_t want = 300 + rnd() % 3700, len = 0;
		body = malloc(want + 32);
		if (!body)
			fail("memory", EAS_E_NOMEM);
		len = (size_t)snprintf(body, want + 32, "Hello,\n\n");
		while (len < want) {
			const char *w = words[rnd() % 20];
			len += (size_t)snprintf(body + len, want + 32 - len, "%s%s", w, rnd() % 12 == 0 ? ".\n" : " ");
		}
		eas_email e;
		memset(&e, 0, sizeof e);
		e.from = people[rnd() % 6];
		e.to = to;
		e.subject = subject;
		e.date_received = date;
		e.has_importance = 1;
		e.importance = rnd() % 10 == 0 ? 2 : 1;
		e.has_read = 1;
		e.read = i + 20 < n ? (rnd() % 4 != 0) : 0;
		e.message_class = "IPM.Note";
		e.internet_cpid = "65001";
		e.body.present = 1;
		e.body.type = 1;
		e.body.has_estimated_data_size = 1;
		e.body.estimated_data_size = (uint32_t)len;
		e.body.has_data = 1;
		e.body.data = body;
		e.body.data_len = len;

		eas_mstore_item_data d;
		memset(&d, 0, sizeof d);
		d.class_name = "Email";
		d.summary.subject = subject;
		d.summary.from = e.from;
		d.summary.date = when;
		d.summary.read = e.read;
		d.summary.size = len;
		d.body_type = 1;
		d.body = (const uint8_t *)body;
		d.body_len = len;
		char att_text[200];
		eas_mstore_attachment_data att;
		int has_att = i % 7 == 3;
		if (has_att) {
			int alen = snprintf(att_text, sizeof att_text, "demo attachment of mail %lu\n", i + 1);
			memset(&att, 0, sizeof att);
			att.name = "notes.txt";
			att.content_type = "text/plain";
			att.method = 1;
			att.data = (const uint8_t *)att_text;
			att.len = (size_t)alen;
			d.attachments = &att;
			d.attachment_count = 1;
		}
		eas_buf doc;
		rc = appdata(&doc, &e);
		if (rc)
			fail("eas_email_encode", rc);
		d.application_data = doc.data;
		d.application_data_len = doc.len;
		char id[EAS_MSTORE_ID_SIZE];
		rc = store->item_add(id, store, uid, folders[f], &d, NULL);
		eas_buf_free(&doc);
		if (rc == 0 && has_att) {
			/* the FileReference exists now: list the attachment in ApplicationData too */
			eas_mstore_item *it = NULL;
			rc = store->item_get(&it, store, uid, id, EAS_MSTORE_GET_ATTACHMENTS);
			if (rc == 0 && it->attachment_count) {
				eas_email_attachment ea;
				memset(&ea, 0, sizeof ea);
				ea.display_name = it->attachments[0].name;
				ea.file_reference = it->attachments[0].file_reference;
				ea.method = 1;
				ea.has_estimated_data_size = 1;
				ea.estimated_data_size = (uint32_t)it->attachments[0].size;
				ea.content_type = "text/plain";
				e.attachments = &ea;
				e.attachment_count = 1;
				rc = appdata(&doc, &e);
				if (rc == 0) {
					eas_mstore_item_data d2;
					memset(&d2, 0, sizeof d2);
					d2.application_data = doc.data;
					d2.application_data_len = doc.len;
					rc = store->item_change(store, uid, id, &d2, EAS_MSTORE_SET_APPDATA, NULL);
					eas_buf_free(&doc);
				}
			}
			store->release(store, it);
		}
		free(body);
		if (rc)
			fail("item_add", rc);
	}
	rc = store->commit(store);
	if (rc)
		fail("commit", rc);
	store->destroy(store);
	printf("seeded %lu emails for %s\n", n, user);
	return 0;
}

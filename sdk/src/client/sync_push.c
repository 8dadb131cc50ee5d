/*
 * Push: Ping the watched folders, Sync the ones that changed, Ping again.
 *
 * The push job starts with a FolderSync when the hierarchy was never
 * fetched and a Sync of every wanted folder (catching up), then Pings the
 * folders with sync_wanted whose class a Ping can watch, at most
 * max_ping_folders of them (the server's MaxFolders lowers it).  Before
 * every Ping, folders with queued local changes are synced first.
 *
 * The Ping's HeartbeatInterval comes from the adaptive heartbeat
 * (heartbeat.c), learnt per network and kept in the store as
 * "heartbeat:<network>".  The request's transport timeout is the heartbeat
 * plus a margin.  A Ping that ends in a network failure after at least half
 * its heartbeat was lost to a middlebox (the heartbeat backs off); one that
 * fails sooner is an ordinary network failure, retried by the session with
 * its backoff.  A Ping whose parameters equal the last full one goes with an
 * empty body (MS-ASCMD: the server reuses them); status 3 asks for them.
 *
 * A Ping the transport cancels (eas_session_run returning at its timeout)
 * is sent again when the app runs the session next; eas_session_cancel()
 * is what stops push.
 *
 * Statuses: 1 heartbeat expired (it survived: the heartbeat climbs) → Ping;
 * 2 → EAS_EVENT_PUSH, Sync the listed folders, Ping; 3 → full Ping; 4 →
 * EAS_EVENT_ERROR; 5 → adopt the server's bound, Ping; 6 → watch at most
 * MaxFolders, Ping; 7 → FolderSync, Ping; 8 → Ping after a backoff.
 */
#include <stdio.h>
#include <string.h>

#include "client/sync_internal.h"
#include "commands/ping.h"
#include "common/mem.h"
#include "eas/status.h"

#define MAX_WATCH 1024u

typedef struct watch {
	char id[EAS__SYNC_ID_SIZE];
	char class_name[EAS__SYNC_CLASS_SIZE];
} watch;

typedef struct watch_list {
	eas__sync *y;
	watch *w;
	size_t n, max;
	int rc;
} watch_list;

static uint64_t now_ms(eas__sync *y)
{
	return y->s->platform->monotonic_ms(y->s->platform->user_data);
}

static void save_heartbeat(eas__sync *y)
{
	char key[80], val[64];
	snprintf(key, sizeof key, "heartbeat:%s", y->ps.net);
	if (eas__heartbeat_format(&y->ps.hb, val, sizeof val) == 0 && !y->in_txn)
		y->store->value_set(y->store, key, val);
}

int eas__sync_push_begin(eas__sync *y, const char *network)
{
	if (!y->ps.hb_loaded || strcmp(y->ps.net, network) != 0) {
		snprintf(y->ps.net, sizeof y->ps.net, "%s", network);
		eas__heartbeat_init(&y->ps.hb, y->set.heartbeat_min_s, y->set.heartbeat_max_s);
		char key[80], val[64];
		snprintf(key, sizeof key, "heartbeat:%s", network);
		if (y->store->value_get(y->store, key, val, sizeof val) == 0)
			eas__heartbeat_parse(&y->ps.hb, val);
		y->ps.hb_loaded = 1;
	}
	if (!y->ps.max_folders || y->ps.max_folders > y->set.max_ping_folders)
		y->ps.max_folders = y->set.max_ping_folders;
	y->ps.full_needed = 1;
	y->ps.sig_valid = 0;
	y->ps.interrupted = 0;
	y->ps.quick_failures = 0;
	y->need_folder_sync = !eas__sync_have_hierarchy(y);
	return eas__sync_collections_set(y, NULL, 0); /* catch up first */
}

static int add_watch(const eas_store_folder *f, void *ud)
{
	watch_list *l = ud;
	if (!f->sync_wanted || !f->class_name || !eas_ping_class_valid(f->class_name) ||
	    strlen(f->server_id) > EAS_PING_ID_MAX)
		return 0;
	if (l->n >= l->max)
		return 1;
	snprintf(l->w[l->n].id, sizeof l->w[l->n].id, "%s", f->server_id);
	snprintf(l->w[l->n].class_name, sizeof l->w[l->n].class_name, "%s", f->class_name);
	l->n++;
	return 0;
}

typedef struct ping_body {
	eas_ping_request req;
} ping_body;

static int write_ping(eas_wbxml_encoder *enc, void *arg)
{
	return eas_ping_request_encode(enc, &((ping_body *)arg)->req);
}

static uint64_t signature(uint32_t interval, const watch *w, size_t n)
{
	uint64_t h = 1469598103934665603ull;
	for (int i = 0; i < 4; i++) {
		h ^= (interval >> (8 * i)) & 0xFF;
		h *= 1099511628211ull;
	}
	for (size_t i = 0; i < n; i++)
		for (const char *p = w[i].id; ; p++) {
			h ^= (unsigned char)*p;
			h *= 1099511628211ull;
			if (!*p)
				break;
		}
	return h;
}

void eas__sync_push_start(eas__sync *y, uint64_t delay_ms)
{
	size_t max = y->ps.max_folders < MAX_WATCH ? y->ps.max_folders : MAX_WATCH;
	watch_list l = { y, NULL, 0, max ? max : 1, 0 };
	l.w = eas__calloc(&y->mem, l.max, sizeof *l.w);
	if (!l.w) {
		eas__sync_fail(y, EAS_E_NOMEM, 0, "push: out of memory");
		return;
	}
	int rc = y->store->folder_list(y->store, add_watch, &l);
	if (rc && rc != EAS_E_CALLBACK) {
		eas__free(&y->mem, l.w);
		eas__sync_fail(y, rc, 0, "push: could not list the folders: %s", eas_strerror(rc));
		return;
	}
	if (l.n == 0) {
		eas__free(&y->mem, l.w);
		eas__sync_fail(y, EAS_E_STATE, 0, "push: no folder to watch (none has sync_wanted and a class)");
		return;
	}

	/* Local changes go up before the Ping (they are why a Ping was interrupted). */
	const char *dirty[MAX_WATCH];
	size_t ndirty = 0;
	for (size_t i = 0; i < l.n; i++)
		if (eas__sync_has_changes(y, l.w[i].id))
			dirty[ndirty++] = l.w[i].id;
	if (ndirty) {
		rc = eas__sync_collections_set(y, dirty, ndirty);
		eas__free(&y->mem, l.w);
		if (rc) {
			eas__sync_fail(y, rc, 0, "push: %s", eas_strerror(rc));
			return;
		}
		eas__sync_advance(y);
		return;
	}

	y->ps.interval = eas__heartbeat_interval(&y->ps.hb);
	uint64_t sig = signature(y->ps.interval, l.w, l.n);
	int empty = y->ps.sig_valid && y->ps.sig == sig && !y->ps.full_needed;
	y->ps.started_ms = now_ms(y) + delay_ms;
	y->ps.interrupted = 0;
	if (empty) {
		rc = eas__sync_send_raw(y, EAS_CMD_PING, NULL, 0, delay_ms);
	} else {
		eas_ping_folder *f = eas__calloc(&y->mem, l.n, sizeof *f);
		if (!f) {
			rc = EAS_E_NOMEM;
		} else {
			for (size_t i = 0; i < l.n; i++) {
				f[i].id = l.w[i].id;
				f[i].class_name = l.w[i].class_name;
			}
			ping_body b;
			memset(&b, 0, sizeof b);
			b.req.has_heartbeat = 1;
			b.req.heartbeat_interval = y->ps.interval;
			b.req.has_folders = 1;
			b.req.folder_list = f;
			b.req.folder_count = l.n;
			rc = eas__sync_send(y, EAS_CMD_PING, write_ping, &b, delay_ms);
			eas__free(&y->mem, f);
		}
		if (rc == 0) {
			y->ps.sig = sig;
			y->ps.sig_valid = 1;
			y->ps.full_needed = 0;
		}
	}
	eas__free(&y->mem, l.w);
	if (rc)
		eas__sync_fail(y, rc, 0, "could not send Ping: %s", eas_strerror(rc));
}

/* Again, full, at once, within the status retries. */
static void ping_again_full(eas__sync *y, int status)
{
	if (eas__sync_retry_delay(y) == UINT64_MAX) {
		eas__sync_fail_status(y, EAS_CMD_PING, status);
		return;
	}
	y->ps.full_needed = 1;
	eas__sync_push_start(y, 0);
}

void eas__sync_push_response(eas__sync *y)
{
	eas_session *s = y->s;
	y->ps.interrupted = 0;
	eas_tree *tree = NULL;
	char err[200] = "";
	eas_ping_response r;
	memset(&r, 0, sizeof r);
	int rc = s->response.len ? eas_tree_parse(&tree, s->response.data, s->response.len, s->opt.max_response,
						  &y->mem, err, sizeof err)
				 : EAS_E_MALFORMED;
	if (rc == 0)
		rc = eas_ping_response_decode(&r, eas_tree_root(tree), err, sizeof err);
	if (rc) {
		eas_tree_free(tree);
		eas__sync_fail(y, rc == EAS_E_NOMEM ? rc : EAS_E_PROTOCOL, 0, "bad Ping response: %s",
			       err[0] ? err : "empty body");
		return;
	}
	y->ps.quick_failures = 0;
	switch (r.status) {
	case EAS_PING_EXPIRED:
		eas__heartbeat_survived(&y->ps.hb);
		save_heartbeat(y);
		eas__sync_progress(y);
		eas_tree_free(tree);
		eas__sync_push_start(y, 0);
		return;
	case EAS_PING_CHANGES: {
		const char *ids[MAX_WATCH];
		size_t n = 0;
		const eas_node *cursor = NULL;
		const char *id;
		while (n < MAX_WATCH && eas_ping_next_changed(&r, &cursor, &id) == 1)
			if (id && id[0] && strlen(id) <= EAS_STORE_ID_MAX)
				ids[n++] = id;
		eas__sync_progress(y);
		eas_session_event *ev = eas__session_event(s, EAS_EVENT_PUSH, n ? ids[0] : NULL, 0,
							   "push: %zu folder(s) changed", n);
		ev->count = n;
		rc = eas__sync_collections_set(y, n ? ids : NULL, n);
		eas_tree_free(tree);
		if (rc) {
			eas__sync_fail(y, rc, 0, "push: %s", eas_strerror(rc));
			return;
		}
		eas__sync_advance(y);
		return;
	}
	case EAS_PING_MISSING_PARAMS:
		eas_tree_free(tree);
		ping_again_full(y, (int)r.status);
		return;
	case EAS_PING_BAD_INTERVAL:
		if (r.has_heartbeat && r.heartbeat_interval) {
			uint32_t lo = y->ps.hb.min_s, hi = y->ps.hb.max_s;
			if (r.heartbeat_interval > y->ps.interval)
				lo = r.heartbeat_interval; /* ours was too short */
			else
				hi = r.heartbeat_interval;  /* too long */
			eas__heartbeat_bounds(&y->ps.hb, lo, hi);
			save_heartbeat(y);
		}
		eas_tree_free(tree);
		ping_again_full(y, (int)r.status);
		return;
	case EAS_PING_TOO_MANY_FOLDERS:
		if (r.has_max_folders && r.max_folders && r.max_folders < y->ps.max_folders)
			y->ps.max_folders = r.max_folders;
		eas_tree_free(tree);
		ping_again_full(y, (int)r.status);
		return;
	case EAS_PING_FOLDER_SYNC_NEEDED:
		eas_tree_free(tree);
		if (++y->folder_syncs > EAS__SYNC_FOLDER_SYNCS) {
			eas__sync_fail_status(y, EAS_CMD_PING, (int)r.status);
			return;
		}
		y->need_folder_sync = 1;
		y->ps.full_needed = 1;
		eas__sync_advance(y);
		return;
	case EAS_PING_SERVER_ERROR: {
		eas_tree_free(tree);
		uint64_t delay = eas__sync_retry_delay(y);
		if (delay == UINT64_MAX) {
			eas__sync_fail_status(y, EAS_CMD_PING, (int)r.status);
			return;
		}
		eas__sync_push_start(y, delay);
		return;
	}
	default:
		eas_tree_free(tree);
		eas__sync_fail_status(y, EAS_CMD_PING, (int)r.status);
		return;
	}
}

int eas__sync_push_broken(eas__sync *y, int error)
{
	if (y->ps.interrupted) {
		/* Cancelled on purpose: the local changes go up, then a new Ping. */
		y->ps.interrupted = 0;
		eas__sync_advance(y);
		return 1;
	}
	if (error == EAS_E_CANCELLED) {
		/*
		 * The transport dropped the Ping without us asking (eas_session_run
		 * returning at its timeout cancels what is in flight): push goes on,
		 * with a new Ping on the next run.  eas_session_cancel() stops push.
		 */
		eas__sync_push_start(y, 0);
		return 1;
	}
	if (error != EAS_E_IO)
		return 0;
	uint64_t now = now_ms(y);
	uint64_t elapsed = now > y->ps.started_ms ? now - y->ps.started_ms : 0;
	if (elapsed * 2 < (uint64_t)y->ps.interval * 1000u)
		return 0; /* a network failure, not a lost heartbeat: the session's backoff */
	eas__heartbeat_lost(&y->ps.hb);
	save_heartbeat(y);
	eas__sync_log(y, EAS_LOG_INFO, "Ping lost after %llu s: heartbeat now %u s",
		      (unsigned long long)(elapsed / 1000), (unsigned)eas__heartbeat_interval(&y->ps.hb));
	if (++y->ps.quick_failures > 8) {
		y->ps.quick_failures = 0;
		return 0; /* the network keeps failing: the session's backoff, then an error */
	}
	eas__sync_push_start(y, 0);
	return 1;
}

void eas__sync_push_wake(eas__sync *y)
{
	eas_session *s = y->s;
	if (y->phase != EAS__PH_PING || s->step != EAS__STEP_COMMAND)
		return; /* a Sync is running: the Ping that follows checks the queue first */
	if (s->in_flight) {
		y->ps.interrupted = 1;
		s->op_interrupt = 1;
		return;
	}
	if (s->request_ready)
		eas__sync_push_start(y, 0); /* the Ping waited for its backoff: the changes go now */
}

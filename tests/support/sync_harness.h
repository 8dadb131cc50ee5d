/*
 * Test harness for the synchronization engine (eas/sync.h) driven through
 * the session's sans-I/O calls: a session with a known protocol version (no
 * OPTIONS, no Provision), an in-memory state store, a fake clock, and
 * helpers that take the next request (as compact XML) and feed answers made
 * from XML, whole, in chunks, or cut off in the middle of the body.
 * Everything fails the current cmocka test on error.
 */
#ifndef EAS_TESTS_SYNC_HARNESS_H
#define EAS_TESTS_SYNC_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#include "eas/session.h"
#include "eas/sync.h"
#include "eas/sys/store.h"

#define H_MAX_LOG 64

typedef struct harness {
	eas_session *s;
	eas_store *store;
	uint64_t now;
	uint32_t rng;
	eas_platform plat;
	char log[8192];
	/* What the sync callbacks saw. */
	unsigned adds, changes, deletes, soft_deletes, folder_changes, folder_deletes, client_adds, rollbacks;
	char last_client_server_id[64];
	int fail_item_callback; /* item_changed returns -1 once this many items were seen (0 = never) */
} harness;

/* A session at `version` (one EAS_PROTO_* bit) over a new memory store, callbacks installed. */
harness *h_new(unsigned version);
void h_free(harness *h);
/* The app is killed and started again: a new session over the same store (nothing in flight is answered). */
void h_restart(harness *h);

/* The next request (asserted present, or absent); the clock is h->now. */
const eas_http_request *h_take(harness *h);
void h_none(harness *h);
/* Compact XML of a request's WBXML body (free it); NULL for an empty body. */
char *h_xml(const eas_http_request *r);
/* Takes the next request and asserts its command (Cmd=...) and that its body contains each NULL-ended needle. */
char *h_expect(harness *h, const char *cmd, ...);

/* Answers with HTTP 200 and the WBXML of xml (NULL: empty body), in chunks of `chunk` bytes (0 = 7). */
void h_answer(harness *h, const char *xml);
void h_answer_chunked(harness *h, const char *xml, size_t chunk);
/* HTTP status without a body. */
void h_answer_http(harness *h, int status);
/* 200 and the first `keep` bytes of xml's WBXML, then the connection breaks (EAS_E_IO). */
void h_answer_cut(harness *h, const char *xml, size_t keep);
/* The transport failed before any answer. */
void h_answer_error(harness *h, int error);
/* Bytes of xml's WBXML. */
size_t h_wbxml_len(const char *xml);

/* Moves the clock past any backoff the session waits for. */
void h_wait_backoff(harness *h);

/* Events. */
eas_session_event h_event(harness *h);
/* Pops events until one of `type` (failing on EAS_EVENT_ERROR unless type is ERROR). */
eas_session_event h_until(harness *h, eas_event_type type);
void h_no_event(harness *h);
/* Drops every queued event. */
void h_drain(harness *h);

/* Store helpers. */
void h_folder(harness *h, const char *id, const char *parent, const char *name, uint32_t type, const char *key);
/* The stored SyncKey of a folder ("" when absent). */
const char *h_key(harness *h, const char *id, char *buf, size_t size);
uint64_t h_count(harness *h, const char *folder);
int h_has_item(harness *h, const char *folder, const char *server_id);
size_t h_changes(harness *h, const char *folder);
/* Stored item's document as compact XML (free it), NULL when absent; read/flag out (may be NULL). */
char *h_item_xml(harness *h, const char *folder, const char *server_id, int *read, int *flag);
/* An ApplicationData document from XML children (e.g. "<email:Subject>x</email:Subject>"); free with free(). */
uint8_t *h_doc(const char *children, size_t *len);

/* Counts non-overlapping occurrences. */
size_t h_count_of(const char *hay, const char *needle);

#endif

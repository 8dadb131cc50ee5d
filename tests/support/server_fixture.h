/*
 * Test fixture for the companion server: the engine over an in-memory SQLite
 * store with users alice (pw-alice) and bob (pw-bob), a fake clock, random
 * and log, and helpers that build one HTTP request as data and run it.
 */
#ifndef EAS_TESTS_SERVER_FIXTURE_H
#define EAS_TESTS_SERVER_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "eas/policy.h"
#include "server/engine.h"
#include "server/store_sqlite.h"
#include "wbxml/tree.h"

#define MAX_WOKEN 16

typedef struct fx {
	uint64_t now_ms;
	uint64_t rng;
	eas_platform plat;
	eas_mstore *store;
	eas_server *srv;
	int64_t alice, bob;
	eas_server_hold *woken[MAX_WOKEN];
	size_t nwoken;
	char log[1 << 16];
	size_t loglen;
} fx;

typedef struct call {
	const char *method;      /* default POST */
	const char *path;        /* default the EAS path */
	const char *cmd;         /* plain query Cmd */
	const char *user;        /* default alice */
	const char *password;    /* default pw-<user> */
	int no_auth;
	const char *bearer;
	const char *query_user;  /* User= in the query; default user */
	const char *device;      /* default DEV1 */
	const char *version;     /* MS-ASProtocolVersion; default 14.1; "" = none */
	const char *policy_key;  /* X-MS-PolicyKey */
	const char *raw_query;   /* instead of the plain query */
	const char *xml;         /* body from XML */
	const char *raw_body;    /* body as it is */
	const uint8_t *body_bytes; /* body as bytes (may hold NULs), body_len of them */
	size_t body_len;
	const char *content_type; /* Content-Type header */
	int too_large;
	const char *host;
} call;

typedef struct reply {
	eas_server_response r;
	eas_tree *tree;
	const eas_node *root;
	char *xml;
} reply;

/* cmocka group/test setup and teardown: *state is the fx. */
int fx_setup(void **state);
int fx_teardown(void **state);

/* A server over f's store; policy and mem may be NULL. Holds woken go to f->woken. */
eas_server *make_server(fx *f, const eas_policy *policy, const eas_mem *mem);
void on_wake(eas_server_hold *hold, void *ud);

/* Runs one request; call_wbxml also decodes a 200 WBXML body into tree/root/xml. */
void do_call(fx *f, const call *c, reply *out);
void parse_body(reply *out);
void call_wbxml(fx *f, const call *c, reply *out);
void reply_free(reply *r);

/* The text of the first <tag> of the reply's XML ("" when absent), copied into out. */
const char *xml_text(const reply *r, const char *tag, char *out, size_t size);
/* The number in the first <tag>; fails the test when there is none. */
unsigned xml_uint(const reply *r, const char *tag);
/* How many times needle occurs in hay (NULL hay: 0). */
size_t count_of(const char *hay, const char *needle);
/* FolderSync with key: the Status; the new key into new_key, the Add count into *adds (both optional). */
unsigned fx_folder_sync(fx *f, const char *user, const char *device, const char *key, char *new_key, size_t size,
			size_t *adds);
/* The ServerId of a default folder (EAS_MSTORE_FOLDER_*) of a user. */
void default_folder(fx *f, int64_t user, uint32_t type, char *out);

#endif

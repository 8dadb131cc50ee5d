/*
 * Misbehaviour on demand (server/inject.c and the store's fault_* calls):
 * HTTP 449/451/500/503 with their headers and EAS statuses, per user, per
 * device and per command, used up after N requests, cleared by the admin.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "server/engine.h"
#include "server/store_sqlite.h"
#include "server_fixture.h"

#define FS0 "<FolderSync xmlns=\"FolderHierarchy:\"><SyncKey>0</SyncKey></FolderSync>"

static const char *hdr(const reply *r, const char *name)
{
	for (size_t i = 0; i < r->r.header_count; i++)
		if (strcmp(r->r.headers[i].name, name) == 0)
			return r->r.headers[i].value;
	return NULL;
}

static void add(fx *f, int64_t user, const char *device, const char *command, uint32_t http, uint32_t eas,
		uint32_t count, uint32_t retry_after, const char *location)
{
	eas_mstore_fault fault;
	memset(&fault, 0, sizeof fault);
	if (device)
		strcpy(fault.device_id, device);
	if (command)
		strcpy(fault.command, command);
	if (location)
		strcpy(fault.location, location);
	fault.http_status = http;
	fault.eas_status = eas;
	fault.remaining = count;
	fault.retry_after = retry_after;
	assert_int_equal(f->store->fault_add(f->store, user, &fault), 0);
}

/* FolderSync 0 of user/device: the HTTP status (and the reply, kept in *out when given). */
static int folder_sync(fx *f, const char *user, const char *device, reply *out)
{
	/* the reply is made in place: its headers point into itself */
	reply r, *into = out ? out : &r;
	call_wbxml(f, &(call){ .cmd = "FolderSync", .user = user, .device = device, .xml = FS0 }, into);
	int status = into->r.status;
	if (!out)
		reply_free(&r);
	return status;
}

static void test_http_faults(void **state)
{
	fx *f = *state;
	reply r;
	/* two 503s with Retry-After for every device of alice, then service again */
	add(f, f->alice, NULL, NULL, 503, 0, 2, 30, NULL);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(folder_sync(f, "alice", "DEV1", &r), 503);
		assert_string_equal(hdr(&r, "Retry-After"), "30");
		assert_int_equal(r.r.body_len, 0);
		reply_free(&r);
	}
	assert_int_equal(folder_sync(f, "alice", "DEV1", NULL), 200);
	/* bob never saw alice's faults */
	add(f, f->alice, NULL, NULL, 500, 0, 1, 0, NULL);
	assert_int_equal(folder_sync(f, "bob", "DEV1", NULL), 200);
	assert_int_equal(folder_sync(f, "alice", "DEV9", NULL), 500);
	assert_int_equal(folder_sync(f, "alice", "DEV9", NULL), 200);

	/* one device only: 451 with X-MS-Location; the other device is served */
	add(f, f->alice, "DEV2", NULL, 451, 0, 1, 0, "https://other.example.test/Microsoft-Server-ActiveSync");
	assert_int_equal(folder_sync(f, "alice", "DEV1", NULL), 200);
	assert_int_equal(folder_sync(f, "alice", "DEV2", &r), 451);
	assert_string_equal(hdr(&r, "X-MS-Location"), "https://other.example.test/Microsoft-Server-ActiveSync");
	reply_free(&r);
	assert_int_equal(folder_sync(f, "alice", "DEV2", NULL), 200);

	/* 449 for one command only: Ping and FolderSync are not touched, Settings is */
	add(f, f->alice, NULL, "Settings", 449, 0, 1, 0, NULL);
	assert_int_equal(folder_sync(f, "alice", "DEV1", NULL), 200);
	do_call(f, &(call){ .cmd = "Settings", .xml = "<Settings xmlns=\"Settings:\"><UserInformation><Get/></UserInformation></Settings>" }, &r);
	assert_int_equal(r.r.status, 449);
	reply_free(&r);
	do_call(f, &(call){ .cmd = "Settings", .xml = "<Settings xmlns=\"Settings:\"><UserInformation><Get/></UserInformation></Settings>" }, &r);
	assert_int_equal(r.r.status, 200);
	reply_free(&r);

	/* a device's own fault comes before the user-wide one */
	add(f, f->alice, NULL, NULL, 500, 0, 1, 0, NULL);
	add(f, f->alice, "DEV1", NULL, 503, 0, 1, 0, NULL);
	assert_int_equal(folder_sync(f, "alice", "DEV1", NULL), 503);
	assert_int_equal(folder_sync(f, "alice", "DEV1", NULL), 500);
	assert_int_equal(folder_sync(f, "alice", "DEV1", NULL), 200);

	/* the admin clears them: per device, then all */
	add(f, f->alice, "DEV1", NULL, 500, 0, 5, 0, NULL);
	add(f, f->alice, "DEV2", NULL, 500, 0, 5, 0, NULL);
	assert_int_equal(f->store->fault_clear(f->store, f->alice, "DEV1"), 0);
	assert_int_equal(folder_sync(f, "alice", "DEV1", NULL), 200);
	assert_int_equal(folder_sync(f, "alice", "DEV2", NULL), 500);
	assert_int_equal(f->store->fault_clear(f->store, f->alice, NULL), 0);
	assert_int_equal(folder_sync(f, "alice", "DEV2", NULL), 200);

	/* the log says why */
	assert_non_null(strstr(f->log, "injected HTTP 503"));
}

static void test_eas_status_faults(void **state)
{
	fx *f = *state;
	reply r;
	/* Sync 3 for the next Sync only */
	add(f, f->alice, NULL, "Sync", 0, 3, 1, 0, NULL);
	assert_int_equal(folder_sync(f, "alice", "DEV1", NULL), 200);
	call_wbxml(f, &(call){ .cmd = "Sync", .xml = "<Sync xmlns=\"AirSync:\"><Collections><Collection><SyncKey>0</SyncKey>"
						   "<CollectionId>1</CollectionId></Collection></Collections></Sync>" }, &r);
	assert_int_equal(r.r.status, 200);
	assert_non_null(r.xml);
	assert_non_null(strstr(r.xml, "<Sync xmlns=\"AirSync:\"><Status>3</Status></Sync>"));
	reply_free(&r);
	/* a common status (110) for any command: each in its own root */
	add(f, f->alice, NULL, NULL, 0, 110, 2, 0, NULL);
	assert_int_equal(folder_sync(f, "alice", "DEV1", &r), 200);
	assert_non_null(strstr(r.xml, "<FolderSync xmlns=\"FolderHierarchy:\"><Status>110</Status></FolderSync>"));
	reply_free(&r);
	call_wbxml(f, &(call){ .cmd = "Ping", .xml = "<Ping xmlns=\"Ping:\"><HeartbeatInterval>60</HeartbeatInterval></Ping>" },
		   &r);
	assert_int_equal(r.r.status, 200);
	assert_non_null(strstr(r.xml, "<Ping xmlns=\"Ping:\"><Status>110</Status></Ping>"));
	assert_null(r.r.hold);
	reply_free(&r);
	assert_int_equal(folder_sync(f, "alice", "DEV1", &r), 200);
	assert_null(strstr(r.xml, "110"));
	reply_free(&r);
	/* any number goes: the client sees exactly what it was told to */
	add(f, f->alice, NULL, "FolderSync", 0, 111, 1, 0, NULL);
	assert_int_equal(folder_sync(f, "alice", "DEV1", &r), 200);
	assert_non_null(strstr(r.xml, "<Status>111</Status>"));
	reply_free(&r);
	assert_non_null(strstr(f->log, "injected Status 110"));
}

typedef struct listing {
	size_t n;
	uint32_t remaining[4];
} listing;

static int on_fault(const eas_mstore_fault *fault, void *ud)
{
	listing *l = ud;
	if (l->n < 4)
		l->remaining[l->n] = fault->remaining;
	l->n++;
	return 0;
}

static void test_store_faults(void **state)
{
	fx *f = *state;
	eas_mstore *s = f->store;
	eas_mstore_fault fault;
	memset(&fault, 0, sizeof fault);
	/* refused: nothing to inject, a count of 0, a status outside 400-599, an unknown user */
	fault.remaining = 1;
	assert_int_equal(s->fault_add(s, f->alice, &fault), EAS_E_INVALID);
	fault.http_status = 302;
	assert_int_equal(s->fault_add(s, f->alice, &fault), EAS_E_INVALID);
	fault.http_status = 503;
	fault.remaining = 0;
	assert_int_equal(s->fault_add(s, f->alice, &fault), EAS_E_INVALID);
	fault.remaining = 3;
	assert_int_equal(s->fault_add(s, 9999, &fault), EAS_E_NOTFOUND);
	assert_int_equal(s->fault_add(s, f->alice, &fault), 0);
	strcpy(fault.command, "Sync");
	fault.remaining = 1;
	assert_int_equal(s->fault_add(s, f->alice, &fault), 0);
	listing l = { 0, { 0 } };
	assert_int_equal(s->fault_list(s, f->alice, on_fault, &l), 0);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.remaining[0], 3);
	/* take counts down and drops a used-up fault; the command matches ignoring case */
	eas_mstore_fault got;
	assert_int_equal(s->fault_take(&got, s, f->alice, "D", "sync"), 0);
	assert_int_equal(got.http_status, 503);
	assert_int_equal(got.remaining, 3);
	assert_int_equal(s->fault_take(&got, s, f->alice, "D", "Ping"), 0);
	assert_int_equal(got.remaining, 2);
	assert_int_equal(s->fault_take(&got, s, f->alice, "D", "Ping"), 0);
	assert_int_equal(got.remaining, 1);
	assert_int_equal(s->fault_take(&got, s, f->alice, "D", "Ping"), EAS_E_NOTFOUND);
	assert_int_equal(s->fault_take(&got, s, f->alice, "D", "Sync"), 0);
	assert_string_equal(got.command, "Sync");
	assert_int_equal(s->fault_take(&got, s, f->alice, "D", "Sync"), EAS_E_NOTFOUND);
	l.n = 0;
	assert_int_equal(s->fault_list(s, f->alice, on_fault, &l), 0);
	assert_int_equal(l.n, 0);
	/* deleting the user drops the faults */
	assert_int_equal(s->fault_add(s, f->bob, &fault), 0);
	assert_int_equal(s->user_delete(s, f->bob), 0);
	assert_int_equal(s->fault_take(&got, s, f->bob, "D", "Sync"), EAS_E_NOTFOUND);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_http_faults, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_eas_status_faults, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_store_faults, fx_setup, fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

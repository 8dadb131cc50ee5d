/*
 * eas-server inject: misbehaviour on demand, for testing clients.
 *
 *   eas-server inject USER [--device ID] [--command NAME]
 *                     (--http CODE [--retry-after S] [--location URL] | --eas-status N)
 *                     [--count N] --data-dir DIR
 *   eas-server inject USER --clear [--device ID] --data-dir DIR
 *   eas-server inject USER --list --data-dir DIR
 *
 * The fault is kept in the mailbox store, so it works while `serve` runs in
 * another process: the next N requests of USER (of device ID only, with
 * --device; naming command NAME only, with --command) are answered with
 * HTTP CODE (451 with X-MS-Location: URL, Retry-After: S when given) or with
 * the command's Status N instead of being served.  The server counts each
 * use atomically; a fault is gone after its last use.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eas/common.h"
#include "eas/http.h"
#include "server/store_sqlite.h"

int eas_server_inject_main(int argc, char **argv);

static int usage(void)
{
	fputs("usage: eas-server inject USER [--device ID] [--command NAME]\n"
	      "                         (--http CODE [--retry-after S] [--location URL] | --eas-status N)\n"
	      "                         [--count N] --data-dir DIR\n"
	      "       eas-server inject USER --clear [--device ID] --data-dir DIR\n"
	      "       eas-server inject USER --list --data-dir DIR\n",
	      stderr);
	return 2;
}

/* A decimal number in [lo, hi], or -1. */
static long number(const char *s, long lo, long hi)
{
	char *end = NULL;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || !end || *end || !*s || v < lo || v > hi)
		return -1;
	return v;
}

static int print_fault(const eas_mstore_fault *f, void *ud)
{
	(void)ud;
	printf("%s device=%s command=%s", f->http_status ? "http" : "eas-status", f->device_id[0] ? f->device_id : "*",
	       f->command[0] ? f->command : "*");
	if (f->http_status)
		printf(" code=%lu", (unsigned long)f->http_status);
	else
		printf(" status=%lu", (unsigned long)f->eas_status);
	if (f->retry_after)
		printf(" retry-after=%lu", (unsigned long)f->retry_after);
	if (f->location[0])
		printf(" location=%s", f->location);
	printf(" remaining=%lu\n", (unsigned long)f->remaining);
	return 0;
}

int eas_server_inject_main(int argc, char **argv)
{
	const char *user = NULL, *dir = NULL, *device = NULL, *command = NULL, *location = NULL;
	long http = 0, eas_status = 0, retry_after = 0, count = 1;
	int clear = 0, list = 0;
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--clear") == 0) {
			clear = 1;
		} else if (strcmp(a, "--list") == 0) {
			list = 1;
		} else if (a[0] != '-' && !user) {
			user = a;
		} else if (!v) {
			return usage();
		} else {
			i++;
			if (strcmp(a, "--data-dir") == 0)
				dir = v;
			else if (strcmp(a, "--device") == 0)
				device = v;
			else if (strcmp(a, "--command") == 0)
				command = v;
			else if (strcmp(a, "--location") == 0)
				location = v;
			else if (strcmp(a, "--http") == 0 && (http = number(v, 400, 599)) < 0)
				return fprintf(stderr, "eas-server inject: --http takes a status 400-599\n"), 2;
			else if (strcmp(a, "--eas-status") == 0 && (eas_status = number(v, 1, 65535)) < 0)
				return fprintf(stderr, "eas-server inject: --eas-status takes 1-65535\n"), 2;
			else if (strcmp(a, "--retry-after") == 0 && (retry_after = number(v, 0, 86400)) < 0)
				return fprintf(stderr, "eas-server inject: --retry-after takes 0-86400 seconds\n"), 2;
			else if (strcmp(a, "--count") == 0 && (count = number(v, 1, 1000000)) < 0)
				return fprintf(stderr, "eas-server inject: --count takes 1-1000000\n"), 2;
			else if (strcmp(a, "--data-dir") != 0 && strcmp(a, "--device") != 0 &&
				 strcmp(a, "--command") != 0 && strcmp(a, "--location") != 0 && strcmp(a, "--http") != 0 &&
				 strcmp(a, "--eas-status") != 0 && strcmp(a, "--retry-after") != 0 &&
				 strcmp(a, "--count") != 0)
				return usage();
		}
	}
	if (!user || !dir || clear + list > 1 || ((clear || list) && (http || eas_status)) ||
	    (!clear && !list && !http == !eas_status))
		return usage();
	if ((retry_after || location) && !http) {
		fprintf(stderr, "eas-server inject: --retry-after and --location go with --http\n");
		return 2;
	}
	if (location && http != 451) {
		fprintf(stderr, "eas-server inject: --location goes with --http 451\n");
		return 2;
	}
	eas_mstore_fault f;
	memset(&f, 0, sizeof f);
	if (command) {
		int cmd = eas_command_lookup(command);
		const char *canonical = cmd >= 0 ? eas_command_name((eas_command)cmd) : NULL;
		if (!canonical || strlen(canonical) >= sizeof f.command) {
			fprintf(stderr, "eas-server inject: unknown command %s\n", command);
			return 2;
		}
		snprintf(f.command, sizeof f.command, "%s", canonical);
	}
	if (device && strlen(device) >= sizeof f.device_id) {
		fprintf(stderr, "eas-server inject: device id too long\n");
		return 2;
	}
	if (location && strlen(location) >= sizeof f.location) {
		fprintf(stderr, "eas-server inject: location too long\n");
		return 2;
	}
	char path[4096];
	snprintf(path, sizeof path, "%s/mailbox.db", dir);
	FILE *probe = fopen(path, "rb");
	if (!probe) {
		fprintf(stderr, "eas-server inject: no mailbox store in %s\n", dir);
		return 1;
	}
	fclose(probe);
	eas_mstore_sqlite_options so = EAS_MSTORE_SQLITE_OPTIONS_INIT;
	so.path = path;
	eas_mstore *store = NULL;
	int rc = eas_mstore_sqlite_open(&store, &so);
	if (rc) {
		fprintf(stderr, "eas-server inject: cannot open the store: %s\n", eas_strerror(rc));
		return 1;
	}
	int64_t uid = 0;
	rc = store->user_lookup(&uid, store, user);
	if (rc == 0) {
		if (clear) {
			rc = store->fault_clear(store, uid, device);
		} else if (list) {
			rc = store->fault_list(store, uid, print_fault, NULL);
		} else {
			if (device)
				snprintf(f.device_id, sizeof f.device_id, "%s", device);
			if (location)
				snprintf(f.location, sizeof f.location, "%s", location);
			f.http_status = (uint32_t)http;
			f.eas_status = (uint32_t)eas_status;
			f.retry_after = (uint32_t)retry_after;
			f.remaining = (uint32_t)count;
			rc = store->fault_add(store, uid, &f);
		}
	}
	if (rc)
		fprintf(stderr, "eas-server inject: %s: %s\n", rc == EAS_E_NOTFOUND ? user : "store",
			rc == EAS_E_NOTFOUND ? "no such user" : eas_strerror(rc));
	store->destroy(store);
	return rc ? 1 : 0;
}

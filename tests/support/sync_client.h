/*
 * A minimal synchronizing client over the PUBLIC API only (eas/session.h,
 * eas/sync.h, eas/transport_curl.h and a caller-given store), as an app
 * would write it: connect (accepting the policy), then Sync every folder
 * (FolderSync first when needed, queued local changes uploaded) until
 * EAS_EVENT_SYNC_DONE.  For the end-to-end crash tests and the benchmark.
 */
#ifndef EAS_TESTS_SYNC_CLIENT_H
#define EAS_TESTS_SYNC_CLIENT_H

#include <stdint.h>

#include "eas/sys/store.h"

typedef struct sync_client_result {
	uint64_t added, changed, deleted, bytes; /* EAS_EVENT_SYNC_DONE totals */
	uint64_t progress_events;
	int error;                                /* EAS_E_* of a failure, else 0 */
	char message[256];                        /* what failed */
} sync_client_result;

/* Sync WindowSize the client asks for; 0 = the engine's default. */
extern uint32_t sync_client_window_size;

/*
 * Connects to url as SERVER_PROC_USER (server_proc.h) with device_id and
 * syncs into store.  on_progress (may be NULL) is called after each
 * EAS_EVENT_SYNC_PROGRESS.  0 when the sync finished, -1 otherwise (out says
 * why).  Gives up after timeout_ms.
 */
int sync_client_run(const char *url, const char *device_id, eas_store *store, uint32_t timeout_ms,
		    void (*on_progress)(const sync_client_result *so_far, void *ud), void *ud,
		    sync_client_result *out);

#endif

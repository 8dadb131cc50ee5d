/*
 * An eas_transport (eas/sys/transport.h) that hands every request to the
 * companion server's engine in the same process (tests/support/
 * server_fixture: in-memory server store, fake clock), so the client SDK
 * can be tested end to end without a socket.
 *
 * submit() serves the request at once (eas_server_handle) and keeps the
 * answer; nothing is delivered inside submit(), as the transport contract
 * demands.  engine_transport_pump() delivers what is ready (head, the body
 * in chunks, the completion).  A Ping the server holds stays pending until
 * the server wakes it (a store change) or its heartbeat ends: when nothing
 * else is ready, the pump moves the fixture's clock toward the server's
 * next heartbeat end (eas_server_tick) or, with nothing pending at all,
 * lets the time the client waits (a backoff) pass.  Its signature is the
 * pump of eas_session_run().
 *
 * Test support code: allocation failure aborts the test program.
 */
#ifndef EAS_TESTS_ENGINE_TRANSPORT_H
#define EAS_TESTS_ENGINE_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "eas/sys/transport.h"
#include "server_fixture.h"

typedef struct engine_transport engine_transport;

engine_transport *engine_transport_new(fx *f);
eas_transport *engine_transport_base(engine_transport *et);
/* Cancels what is pending and frees (the vtable's destroy() does the same). */
void engine_transport_free(engine_transport *et);

/* eas_session_run's pump: ctx is the engine_transport. */
int engine_transport_pump(void *ctx, uint32_t max_ms);

/* Body chunk size of the answers (default 1000). */
void engine_transport_set_chunk(engine_transport *et, size_t size);
/* The next answer with a body breaks after `keep` bytes (EAS_E_IO). */
void engine_transport_cut_next(engine_transport *et, size_t keep);
/* Requests served so far whose query named command (e.g. "Sync"); NULL: all. */
size_t engine_transport_count(const engine_transport *et, const char *command);
/* Requests the server holds (Pings) right now. */
size_t engine_transport_held(const engine_transport *et);

#endif

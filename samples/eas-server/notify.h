/*
 * Change notices between eas-server processes: `deliver`, `import` and the
 * admin `wipe` change the mailbox through their own SQLite handle, which
 * the running `serve` does not see; they send it one datagram after their
 * commit, and `serve` hands it to the engine (eas_server_store_changed),
 * which wakes the Pings it concerns at once.  No polling on either side.
 *
 * The channel: a UNIX datagram socket DATA-DIR/notify.sock, mode 0600 (the
 * data directory itself is 0700), bound by `serve` for its lifetime (a
 * stale one is replaced).  One datagram is one ASCII line:
 *     "EASN1 F <user-id> <folder-id>"    items of a folder changed
 *     "EASN1 H <user-id>"                the folder hierarchy changed
 *     "EASN1 D <user-id> <device-id>"    a device's wipe / policy state changed
 * anything else is ignored.  When no server listens, a notice is dropped
 * (the change is in the store; the next request sees it).
 */
#ifndef EAS_SAMPLES_SERVER_NOTIFY_H
#define EAS_SAMPLES_SERVER_NOTIFY_H

#include <stdint.h>

#include "server/store.h"

#define EAS_NOTIFY_SOCKET_NAME "notify.sock"

typedef struct notify_listener notify_listener;

/* Called on the listener's thread for every valid notice (event strings valid during the call). */
typedef void (*notify_fn)(const eas_mstore_event *event, void *user_data);

/*
 * Binds DATA-DIR/notify.sock and starts the thread that reads it.  NULL
 * (with the reason in err) when the socket cannot be made, e.g. a data
 * directory path too long for a socket address: serve then runs without it.
 */
notify_listener *notify_listen(const char *data_dir, notify_fn fn, void *user_data, char *err, size_t err_size);
/* Stops the thread, closes and removes the socket.  NULL is fine. */
void notify_stop(notify_listener *l);

/*
 * Sends one notice to the serve of DATA-DIR.  Returns 1 when a server took
 * it, 0 when none listens, -1 on another error (errno set).
 */
int notify_send(const char *data_dir, const eas_mstore_event *event);

#endif

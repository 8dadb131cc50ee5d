/*
 * libeas — the client's state store in one SQLite database file (POSIX
 * platform layer): an eas_store (eas/sys/store.h) that survives crashes and
 * restarts.
 *
 *     eas_store *store;
 *     int rc = eas_store_sqlite_open(&store, "/data/app/account1.db", NULL);
 *     if (rc) ... eas_strerror(rc) ...
 *     eas_session_set_store(session, store);
 *     ...
 *     store->close(store);   (after the session let go of it)
 *
 * Durability.  The database runs in WAL mode with synchronous=FULL: commit()
 * (and every mutating call made outside a transaction) returns only once the
 * write-ahead log is flushed to stable storage, so a transaction that
 * returned survives a process crash AND a power loss; one that did not
 * return leaves no trace.  (synchronous=NORMAL would keep the database
 * consistent, but could lose the last commits on power loss: a change the
 * app was told is queued, or a SyncKey the server already moved past, which
 * costs a full resync.  One fsync per Sync response is cheap next to the
 * network round trip.)  Transactions start with BEGIN IMMEDIATE, so a
 * second process on the same file waits for the write lock up front.
 *
 * Sharing.  Another handle or process on the same file waits up to 5 s for
 * the lock (busy timeout), then the call fails with EAS_E_IO ("database is
 * locked").  Use one handle per account file.
 *
 * Files.  A new database file is created with mode 0600 (owner only: it
 * holds mail); its -wal and -shm companions take the same mode.  An existing
 * file keeps its mode.  Pass ":memory:" for a private volatile database.
 *
 * Schema.  The file carries its schema version (PRAGMA user_version) and an
 * application id naming it a libeas client store.  A new (empty) file gets
 * the current schema; an older one is migrated in one transaction at open.
 *
 * Memory.  The store's own allocations use mem (NULL = libc); SQLite
 * allocates through its own, process-wide allocator.
 *
 * Exists only when libeas was built with the `sqlite` feature (meson option
 * `sqlite`); the header compiles anywhere and includes no SQLite header.
 */
#ifndef EAS_STORE_SQLITE_H
#define EAS_STORE_SQLITE_H

#include "eas/common.h"
#include "eas/sys/store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The schema version this library writes (PRAGMA user_version). */
#define EAS_STORE_SQLITE_SCHEMA_VERSION 1

/*
 * Opens the store in the database file at path, creating the file (mode
 * 0600) and its schema when missing.  *out gets the handle (NULL on
 * failure); close it with (*out)->close(*out), which rolls back an open
 * transaction.  The handle's error() gives a one-line detail of the last
 * EAS_E_IO.
 *
 * Returns 0, or:
 *   EAS_E_INVALID      out or path NULL, path empty; or the file is an SQLite
 *                      database of something else (tables of another
 *                      program, another application id)
 *   EAS_E_UNSUPPORTED  the file has a schema version newer than
 *                      EAS_STORE_SQLITE_SCHEMA_VERSION (written by a newer
 *                      libeas: upgrade the app, do not downgrade the data)
 *   EAS_E_IO           the file cannot be created or opened, is not a
 *                      database, or is locked by another writer past the
 *                      busy timeout
 *   EAS_E_NOMEM        an allocation failed
 */
EAS_EXTERN int eas_store_sqlite_open(eas_store **out, const char *path, const eas_mem *mem);

#ifdef __cplusplus
}
#endif

#endif /* EAS_STORE_SQLITE_H */

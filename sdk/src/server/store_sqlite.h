/*
 * The SQLite mailbox store (platform/posix/server_store_sqlite.c): an
 * eas_mstore over one SQLite database file.
 *
 * WAL journal, synchronous=FULL, foreign keys on, a busy timeout, prepared
 * statements cached for the handle's life.  Every user-scoped statement
 * filters by user id.  The schema carries its version in the
 * schema_version table; open() applies the missing migration steps in one
 * transaction and refuses a database newer than this code.
 *
 * SQLite allocates through its own allocator (sqlite3_config is process-wide
 * and not per handle); everything the store itself allocates uses the mem
 * hooks given here.
 *
 * Exists only when libeas is built with both the `sqlite` and `server`
 * features.
 */
#ifndef EAS_SRC_SERVER_STORE_SQLITE_H
#define EAS_SRC_SERVER_STORE_SQLITE_H

#include "eas/common.h"
#include "eas/sys/platform.h"
#include "server/store.h"

/* Schema version this code writes. */
#define EAS_MSTORE_SQLITE_SCHEMA_VERSION 3

#define EAS_MSTORE_SQLITE_OPTIONS_VERSION 1

typedef struct eas_mstore_sqlite_options {
	unsigned int version;          /* EAS_MSTORE_SQLITE_OPTIONS_VERSION */
	const char *path;              /* database file, created when missing (":memory:" works) */
	const eas_mem *mem;            /* NULL = libc */
	const eas_platform *platform;  /* clock and random bytes; NULL = eas_platform_posix() */
	/*
	 * PBKDF2 iterations for new password hashes; 0 = the default (100000).
	 * Below EAS_MSTORE_PBKDF2_DEFAULT_ITERATIONS only with allow_weak_kdf
	 * (tests), else open() fails with EAS_E_INVALID.  Existing hashes keep
	 * the count they were made with.
	 */
	uint32_t pbkdf2_iterations;
	int allow_weak_kdf;
	int busy_timeout_ms;           /* wait for another writer; 0 = 5000, < 0 = do not wait */
	/*
	 * Migration hook: called inside the migration transaction after each
	 * step from version `from` to `to` (a new database runs 0 -> 1).
	 * Non-zero aborts: nothing is migrated and open() fails with
	 * EAS_E_CALLBACK.  Optional.
	 */
	int (*on_migrate)(int from, int to, void *user_data);
	void *user_data;
} eas_mstore_sqlite_options;

#define EAS_MSTORE_SQLITE_OPTIONS_INIT { EAS_MSTORE_SQLITE_OPTIONS_VERSION, NULL, NULL, NULL, 0, 0, 0, NULL, NULL }

/*
 * Opens (creating and migrating when needed) the store.  *out is the
 * handle; destroy it with (*out)->destroy(*out).  EAS_E_INVALID for bad
 * options, EAS_E_IO when the file cannot be opened or is not a database,
 * EAS_E_UNSUPPORTED for a schema newer than EAS_MSTORE_SQLITE_SCHEMA_VERSION,
 * EAS_E_CALLBACK when on_migrate refused.
 */
int eas_mstore_sqlite_open(eas_mstore **out, const eas_mstore_sqlite_options *options);

#endif

/*
 * What `eas-server deliver` and `eas-server import` share: the store of a
 * data directory, the target user and folder, one message file read with a
 * cap, and one message parsed and stored (server/mail_store.h), with the
 * serve process told afterwards (notify.h).
 */
#ifndef EAS_SAMPLES_SERVER_INTAKE_H
#define EAS_SAMPLES_SERVER_INTAKE_H

#include <stddef.h>
#include <stdint.h>

#include "server/store.h"

/* Largest message accepted (the MIME parser's default cap). */
#define INTAKE_MAX_MESSAGE (32u << 20)

typedef struct intake {
	const char *data_dir;
	eas_mstore *store;
	int64_t user_id;
	char folder_id[EAS_MSTORE_ID_SIZE];
	char folder_name[EAS_MSTORE_NAME_SIZE];
	int created_folder;   /* --folder named a folder that did not exist: made at the top level */
} intake;

/*
 * Opens DATA-DIR's store and resolves USER and the folder: the Inbox, or
 * the folder named `folder` (a top-level one first, else any; created at the
 * top level as a mail folder when none has that name).  On failure prints
 * the reason (prefix: who) and returns -1.
 */
int intake_open(intake *in, const char *who, const char *data_dir, const char *user, const char *folder);
void intake_close(intake *in);

/*
 * Parses msg[0..len) and stores it; *out_id (EAS_MSTORE_ID_SIZE, may be
 * NULL) gets its ServerId.  0, or -1 with the reason in err (a parse error,
 * a cap, a store failure).  notes (may be NULL) gets the parser's notes.
 */
int intake_store(intake *in, const uint8_t *msg, size_t len, int read, char *out_id, char *err, size_t err_size,
		 char *notes, size_t notes_size);

/* Reads a whole file up to `max` bytes into *out (free()).  0, 1 when larger than max, -1 (errno) otherwise. */
int intake_read_file(const char *path, size_t max, uint8_t **out, size_t *len);

/* Tells a running serve that the folder changed.  1 told, 0 none listens, -1 error. */
int intake_notify(const intake *in);

#endif

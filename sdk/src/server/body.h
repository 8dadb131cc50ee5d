/*
 * Item bodies as a client asked for them (MS-ASAIRS BodyPreference), shared
 * by Sync (Commands and Fetch responses) and ItemOperations Fetch.
 * Internal to sdk/src/server.
 *
 * An item's stored ApplicationData carries its airsyncbase:Body in full
 * (what the item was added with); the body is often also kept as a
 * separate blob (item_body_read), which is where a truncated body is read
 * from without loading the rest.  eas__srv_write_item_data() copies the
 * ApplicationData children and replaces the Body by one shaped by the
 * preferences:
 *
 *   Type               the stored type, or 1 (plain text) when only text
 *                      is asked for and the body is HTML (tags stripped);
 *                      otherwise the stored type (RTF and MIME are not
 *                      converted)
 *   EstimatedDataSize  the size of the whole body in that type, in bytes
 *   Truncated          1 when Data is shorter than the body
 *   Data               at most TruncationSize bytes, cut on a UTF-8
 *                      character boundary for text and HTML; none when
 *                      AllOrNone is 1 and the body does not fit
 *   Part               instead of Data in a multipart ItemOperations
 *                      response (the bytes go to the part callback)
 *   Preview            (14.0+) up to Preview characters of plain text, when
 *                      asked for and the body is not already plain text
 */
#ifndef EAS_SRC_SERVER_BODY_H
#define EAS_SRC_SERVER_BODY_H

#include <stddef.h>
#include <stdint.h>

#include "commands/sync.h"
#include "server/handler.h"

/* Bodies converted (HTML -> text) or sent whole into a part are capped at this size. */
#define EAS_SRV_BODY_WHOLE_MAX (16u << 20)

/* One airsyncbase:BodyPreference (the Sync and ItemOperations decoders' structs, unified). */
typedef struct eas_srv_body_pref {
	uint32_t type;
	int has_truncation_size;
	uint32_t truncation_size;
	int all_or_none;
	int has_preview;
	uint32_t preview;
} eas_srv_body_pref;

#define EAS_SRV_MAX_BODY_PREFS 8

typedef struct eas_srv_body_opts {
	eas_srv_body_pref prefs[EAS_SRV_MAX_BODY_PREFS];
	size_t count; /* 0: the stored ApplicationData is sent as it is */
	/*
	 * Multipart ItemOperations: when set, body bytes are handed to part()
	 * (which copies them) and Body carries ItemOperations:Part = *index.
	 */
	int (*part)(const uint8_t *data, size_t len, uint32_t *index, void *user_data);
	void *part_user_data;
} eas_srv_body_opts;

/*
 * Writes the children of an ApplicationData element for item (its stored
 * ApplicationData, the Body shaped by o; an item with a body blob and no
 * Body element gets one appended).  item must come from item_get or a
 * sync change (application_data loaded; the body blob is read through the
 * store).  With o->count 0 the stored children are copied unchanged.
 */
int eas__srv_write_item_data(eas_srv_ctx *c, eas_wbxml_encoder *enc, const eas_mstore_item *item,
			     const eas_srv_body_opts *o);

/*
 * The body preferences of a Sync collection, per class (its Options
 * blocks).  A request with Options replaces what the device's state keeps
 * for the collection (the device cache, "bodyprefs:<id>"), one without
 * gets the kept ones: the server remembers them across requests
 * (MS-ASAIRS 2.2.2.11).  Writes the cache inside the caller's transaction.
 */
typedef struct eas_srv_class_body {
	char class_name[EAS_MSTORE_CLASS_MAX + 1]; /* "" = the folder's own class */
	eas_srv_body_opts opts;
} eas_srv_class_body;

typedef struct eas_srv_sync_bodies {
	eas_srv_class_body per[EAS_SYNC_MAX_OPTIONS];
	size_t count;
} eas_srv_sync_bodies;

int eas__srv_sync_bodies(eas_srv_ctx *c, const char *collection_id, const eas_sync_options *opts, size_t n,
			 eas_srv_sync_bodies *out);
/* The options for items of class_name (an Options block of that class, else the class-less one), or NULL. */
const eas_srv_body_opts *eas__srv_sync_bodies_for(const eas_srv_sync_bodies *b, const char *class_name);

/* Keeps at most len bytes of s that end on a UTF-8 character boundary: the new length. */
size_t eas__srv_utf8_cut(const char *s, size_t len);

/*
 * Plain text of an HTML fragment into out (at most size - 1 bytes, NUL
 * terminated): tags dropped, <br>, </p>, </div> and </tr> as line breaks,
 * script and style contents dropped, the common entities decoded.
 * Returns the length written.
 */
size_t eas__srv_html_to_text(char *out, size_t size, const char *html, size_t len);

#endif

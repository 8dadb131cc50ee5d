/*
 * libeas — streaming WBXML codec for ActiveSync (MS-ASWBXML).
 *
 * Decoder: fed arbitrary chunks (down to one byte), resumable, emits events
 * through callbacks, allocates only at creation.  Encoder: writes to a sink
 * callback through a small fixed buffer.  Tags are identified by eas_tag
 * values ((page << 8) | token) generated from eas/wbxml_tags.def.
 */
#ifndef EAS_WBXML_H
#define EAS_WBXML_H

#include <stddef.h>
#include <stdint.h>

#include "eas/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- tags ----------------------------------------------------------------- */

/* A tag: (code page << 8) | token.  EAS_TAG_AIRSYNC_SYNC == 0x0005. */
typedef enum eas_tag {
#define EAS_TAG(page, token, id, name, versions) EAS_TAG_##id = ((page) << 8) | (token),
#include "eas/wbxml_tags.def"
#undef EAS_TAG
	EAS_TAG_NONE = 0xFFFF /* not a tag */
} eas_tag;

/* Code pages. */
typedef enum eas_codepage {
#define EAS_PAGE(number, id, name) EAS_PAGE_##id = (number),
#define EAS_TAG(page, token, id, name, versions)
#include "eas/wbxml_tags.def"
#undef EAS_TAG
	EAS_PAGE_COUNT
} eas_codepage;

#define EAS_TAG_PAGE(tag) ((unsigned)(tag) >> 8)
#define EAS_TAG_TOKEN(tag) ((unsigned)(tag) & 0x3Fu)

/* Element name of a tag ("Sync"), or NULL if (page, token) is not defined. */
EAS_EXTERN const char *eas_tag_name(unsigned page, unsigned token);
/* Namespace name of a code page ("AirSync"), or NULL if unknown. */
EAS_EXTERN const char *eas_codepage_name(unsigned page);
/* Code page number of a namespace name, or -1. */
EAS_EXTERN int eas_codepage_lookup(const char *name);
/* Versions (EAS_PROTO_* bits) that allow the tag; 0 if undefined. */
EAS_EXTERN unsigned eas_tag_versions(unsigned page, unsigned token);
/* Tag by page and element name; EAS_TAG_NONE if there is none. */
EAS_EXTERN eas_tag eas_tag_lookup(unsigned page, const char *name);

/* ---- decoder -------------------------------------------------------------- */

typedef struct eas_wbxml_decoder eas_wbxml_decoder;

/* Kinds of character data. */
typedef enum eas_wbxml_data_kind {
	EAS_WBXML_STRING = 0, /* STR_I: UTF-8 text */
	EAS_WBXML_OPAQUE = 1  /* OPAQUE: raw bytes */
} eas_wbxml_data_kind;

/*
 * Callbacks.  Each returns 0 to go on, EAS_E_PAUSED to stop the decoder
 * after this event (feed returns EAS_E_PAUSED; feed again to resume), or
 * another negative value to abort (feed returns EAS_E_CALLBACK).
 * Pointers passed to callbacks are valid only during the call.
 */
#define EAS_WBXML_CALLBACKS_VERSION 1
typedef struct eas_wbxml_callbacks {
	int version; /* EAS_WBXML_CALLBACKS_VERSION */
	/* An element starts; has_content = 0 for an empty element (no END follows). */
	int (*start_tag)(eas_tag tag, int has_content, void *user_data);
	/* The innermost element with content ends. */
	int (*end_tag)(eas_tag tag, void *user_data);
	/*
	 * A piece of a string or opaque value.  Values up to
	 * limits.piece_size come in one call with final = 1; larger ones in
	 * several pieces, the last with final = 1.  total is the opaque length
	 * (known up front) or 0 for strings.
	 */
	int (*data)(eas_wbxml_data_kind kind, const uint8_t *bytes, size_t len,
		    int final, uint64_t total, void *user_data);
} eas_wbxml_callbacks;
#define EAS_WBXML_CALLBACKS_INIT { EAS_WBXML_CALLBACKS_VERSION, NULL, NULL, NULL }

#define EAS_WBXML_OPTIONS_VERSION 1
typedef struct eas_wbxml_decoder_options {
	int version;             /* EAS_WBXML_OPTIONS_VERSION */
	unsigned max_depth;      /* nesting limit (default 32) */
	uint64_t max_string;     /* longest STR_I, bytes (default 1 MiB) */
	uint64_t max_opaque;     /* longest OPAQUE, bytes (default 64 MiB) */
	uint64_t max_total;      /* document size, bytes (0 = no limit; default 0) */
	size_t piece_size;       /* data delivered in pieces of at most this (default 4096) */
	/*
	 * 0: an unknown code page or token is an error.  1: the element and
	 * everything inside it is skipped silently (for servers facing odd
	 * clients); the decoder still checks the structure.
	 */
	int tolerant;
} eas_wbxml_decoder_options;
#define EAS_WBXML_DECODER_OPTIONS_INIT { EAS_WBXML_OPTIONS_VERSION, 32, 1u << 20, 64u << 20, 0, 4096, 0 }

/*
 * Creates a decoder.  options and mem may be NULL (defaults, libc);
 * callbacks are copied; user_data is passed to every callback.
 * Returns 0, EAS_E_NOMEM or EAS_E_INVALID.
 */
EAS_EXTERN int eas_wbxml_decoder_new(eas_wbxml_decoder **out,
				     const eas_wbxml_callbacks *callbacks,
				     const eas_wbxml_decoder_options *options,
				     const eas_mem *mem, void *user_data);
EAS_EXTERN void eas_wbxml_decoder_free(eas_wbxml_decoder *dec);

/* Forgets the document: ready for a new one, same options. */
EAS_EXTERN void eas_wbxml_decoder_reset(eas_wbxml_decoder *dec);

/*
 * Feeds the next len bytes.  Returns 0 when all were consumed, EAS_E_PAUSED
 * when a callback paused (*consumed tells how many bytes were used; pass the
 * rest again), or an error: EAS_E_MALFORMED, EAS_E_UNSUPPORTED (unknown
 * page/token, string table, attributes...), EAS_E_LIMIT, EAS_E_CALLBACK.
 * After an error every call returns the same error.  consumed may be NULL.
 */
EAS_EXTERN int eas_wbxml_decoder_feed(eas_wbxml_decoder *dec, const uint8_t *data,
				      size_t len, size_t *consumed);

/*
 * Declares the end of input: 0 if the document is complete (header read,
 * root element closed), EAS_E_TRUNCATED otherwise, or the earlier error.
 */
EAS_EXTERN int eas_wbxml_decoder_finish(eas_wbxml_decoder *dec);

/*
 * The first error's description (e.g. "unknown token 0x3A on code page 0
 * (AirSync)"), or NULL if none.  *offset, if not NULL, gets the byte offset
 * in the document where it was found.  Valid until reset or free.
 */
EAS_EXTERN const char *eas_wbxml_decoder_error(const eas_wbxml_decoder *dec, uint64_t *offset);

/* Bytes consumed since the start of the document. */
EAS_EXTERN uint64_t eas_wbxml_decoder_offset(const eas_wbxml_decoder *dec);

/* ---- encoder -------------------------------------------------------------- */

typedef struct eas_wbxml_encoder eas_wbxml_encoder;

/* Receives encoded bytes; returns 0 or a negative value to abort. */
typedef int (*eas_wbxml_sink)(const uint8_t *bytes, size_t len, void *user_data);

/*
 * Creates an encoder that writes the WBXML header at once.  protocol_version
 * is one EAS_PROTO_* bit: tags not allowed in it are refused
 * (EAS_E_UNSUPPORTED); pass EAS_PROTO_ALL to skip the check.
 */
EAS_EXTERN int eas_wbxml_encoder_new(eas_wbxml_encoder **out, eas_wbxml_sink sink,
				     void *user_data, unsigned protocol_version,
				     const eas_mem *mem);
EAS_EXTERN void eas_wbxml_encoder_free(eas_wbxml_encoder *enc);

/* Opens an element with content (closed by eas_wbxml_encoder_end). */
EAS_EXTERN int eas_wbxml_encoder_start(eas_wbxml_encoder *enc, eas_tag tag);
/* Writes an empty element, e.g. <MoreAvailable/>. */
EAS_EXTERN int eas_wbxml_encoder_empty(eas_wbxml_encoder *enc, eas_tag tag);
/* Closes the innermost open element. */
EAS_EXTERN int eas_wbxml_encoder_end(eas_wbxml_encoder *enc);
/* STR_I; text must not contain NUL bytes (EAS_E_INVALID). */
EAS_EXTERN int eas_wbxml_encoder_string(eas_wbxml_encoder *enc, const char *text, size_t len);
/* Convenience: <tag>text</tag>. */
EAS_EXTERN int eas_wbxml_encoder_element(eas_wbxml_encoder *enc, eas_tag tag, const char *text);
/* OPAQUE with all bytes at hand. */
EAS_EXTERN int eas_wbxml_encoder_opaque(eas_wbxml_encoder *enc, const uint8_t *bytes, size_t len);
/*
 * Streaming OPAQUE: declare the total length, then write exactly that many
 * bytes in any number of calls (an attachment never sits in memory).
 */
EAS_EXTERN int eas_wbxml_encoder_opaque_begin(eas_wbxml_encoder *enc, uint64_t total);
EAS_EXTERN int eas_wbxml_encoder_opaque_write(eas_wbxml_encoder *enc, const uint8_t *bytes, size_t len);
/* Checks every element is closed and flushes; 0 or EAS_E_STATE. */
EAS_EXTERN int eas_wbxml_encoder_finish(eas_wbxml_encoder *enc);
/* Bytes handed to the sink so far (after finish: the document size). */
EAS_EXTERN uint64_t eas_wbxml_encoder_bytes(const eas_wbxml_encoder *enc);

#ifdef __cplusplus
}
#endif

#endif /* EAS_WBXML_H */

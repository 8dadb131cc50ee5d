/*
 * A small read-only tree of a bounded WBXML document, for the commands whose
 * requests and responses are small (Provision, FolderSync, Ping, Settings...).
 * Built from the streaming decoder fed in chunks; nodes and text live in an
 * arena of a few large blocks freed together, under a byte limit.  Large
 * documents (Sync, ItemOperations) are decoded by streaming instead.
 */
#ifndef EAS_SRC_WBXML_TREE_H
#define EAS_SRC_WBXML_TREE_H

#include <stddef.h>
#include <stdint.h>

#include "eas/wbxml.h"

typedef struct eas_node eas_node;
struct eas_node {
	eas_tag tag;
	int has_content;
	int opaque;          /* the value came as OPAQUE */
	const char *text;    /* value, NUL-terminated ("" when none); opaque may hold NULs */
	size_t text_len;
	eas_node *parent;
	eas_node *first;     /* first child */
	eas_node *last;      /* last child (for appending) */
	eas_node *next;      /* next sibling */
};

typedef struct eas_tree eas_tree;

/*
 * A builder fed like the decoder.  max_bytes bounds the arena (nodes + text);
 * 0 means 4 MiB.  options may be NULL (decoder defaults).
 */
int eas_tree_new(eas_tree **out, size_t max_bytes, const eas_wbxml_decoder_options *options,
		 const eas_mem *mem);
int eas_tree_feed(eas_tree *t, const uint8_t *data, size_t len);
/* 0 when the document is complete; then eas_tree_root() is valid. */
int eas_tree_finish(eas_tree *t);
/* The root, or NULL before a successful finish. Valid until eas_tree_free. */
const eas_node *eas_tree_root(const eas_tree *t);
/* First error message and its byte offset, or NULL. */
const char *eas_tree_error(const eas_tree *t, uint64_t *offset);
void eas_tree_free(eas_tree *t);

/* One call: parse a whole buffer. On failure *out is NULL and err (if given) holds the message. */
int eas_tree_parse(eas_tree **out, const uint8_t *data, size_t len, size_t max_bytes,
		   const eas_mem *mem, char *err, size_t err_size);

/* First child with this tag (EAS_TAG_NONE: any), or NULL; n may be NULL. */
const eas_node *eas_node_child(const eas_node *n, eas_tag tag);
/* Next sibling after n with the same tag, or NULL. */
const eas_node *eas_node_next_same(const eas_node *n);
/* Follows a path of child tags ending in EAS_TAG_NONE; NULL if any step is missing. */
const eas_node *eas_node_path(const eas_node *n, ...);
/* Text of the first child with this tag, or NULL when there is no such child. */
const char *eas_node_child_text(const eas_node *n, eas_tag tag);
/*
 * Decimal value of the first child with this tag into *out: 0, EAS_E_NOTFOUND
 * (no child) or EAS_E_MALFORMED (not a decimal number that fits).
 */
int eas_node_child_uint(const eas_node *n, eas_tag tag, uint32_t *out);
/* Number of children with this tag. */
size_t eas_node_count(const eas_node *n, eas_tag tag);

/* Deepest subtree eas_node_write copies (EAS_E_LIMIT beyond). */
#define EAS_NODE_WRITE_MAX_DEPTH 64
/*
 * Writes n and everything under it to enc, element for element (OPAQUE values
 * stay OPAQUE).  version: one EAS_PROTO_* bit to leave out the elements that
 * version does not have, or 0 to copy every element.  0, EAS_E_LIMIT, or the
 * encoder's error.
 */
int eas_node_write(eas_wbxml_encoder *enc, const eas_node *n, unsigned version);

#endif

/*
 * The volatile state store: eas_store (eas/sys/store.h) in memory, for tests
 * and for apps that keep their own copy of the state.
 *
 * Each record (value, folder, item, change) is ONE allocation holding the
 * struct and its strings, so a record is replaced whole and never edited in
 * place.  That makes transactions an undo journal of record swaps: every
 * mutation removes the old record from its table (without freeing it),
 * inserts the new one, and appends {old, new} to the journal.  Rollback
 * walks the journal backwards (remove new, put old back); commit frees the
 * old records.  Putting a record back never allocates, so rollback cannot
 * fail; every mutation reserves its journal room and allocates its records
 * BEFORE touching a table, so a failing call leaves the store as it was.
 * A call outside begin()/commit() is its own transaction: journaled while it
 * runs (a cascade can undo itself halfway), settled when it ends.
 *
 * Tables: values, folders and changes are short singly linked lists (the
 * change list kept sorted by id: FIFO without sorting); items, the only big
 * table, are hashed by (folder, ServerId).  Listings that need an order
 * (items by insertion, folders parents first) sort a temporary array.
 * Enumeration callbacks may get records but not modify the store or start
 * another listing (EAS_E_STATE): a record they hold must not be freed under
 * them (and the SQLite store cannot nest one listing statement in itself).
 */
#include "eas/sys/store.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "client/store_check.h"
#include "common/mem.h"

#define MAX_FOLDER_DEPTH 64 /* parent chains longer than this (or cycles) sort last */
#define MIN_BUCKETS 64u

enum table { T_VALUE, T_FOLDER, T_ITEM, T_CHANGE };

typedef struct mvalue {
	struct mvalue *next;
	const char *key, *value;
} mvalue;

typedef struct mfolder {
	struct mfolder *next;
	uint64_t seq; /* insertion order, kept when replaced */
	eas_store_folder f;
} mfolder;

typedef struct mitem {
	struct mitem *next; /* hash chain */
	uint32_t hash;
	uint64_t seq;
	eas_store_item it;
} mitem;

typedef struct mchange {
	struct mchange *next;
	eas_store_change c;
} mchange;

typedef struct undo {
	int table;
	void *old_rec; /* NULL: the mutation inserted */
	void *new_rec; /* NULL: the mutation deleted */
} undo;

typedef struct mstore {
	eas_store base; /* first: the engine holds &base */
	eas_mem mem;
	mvalue *values;
	mfolder *folders;
	mchange *changes; /* sorted by id */
	mitem **buckets;
	size_t nbuckets, nitems;
	uint64_t next_seq;
	int64_t next_change_id, tx_next_change_id;
	int in_tx;
	int iterating; /* inside an enumeration callback */
	undo *journal;
	size_t jlen, jcap;
} mstore;

static mstore *ms(eas_store *st)
{
	return (mstore *)st;
}

/* ---- records: one block each ---------------------------------------------------- */

static size_t str_size(const char *s)
{
	return s ? strlen(s) + 1 : 0;
}

static const char *put_str(char **cursor, const char *s)
{
	if (!s)
		return NULL;
	size_t n = strlen(s) + 1;
	char *r = memcpy(*cursor, s, n);
	*cursor += n;
	return r;
}

static const uint8_t *put_bytes(char **cursor, const uint8_t *data, size_t len)
{
	if (!len)
		return NULL;
	uint8_t *r = memcpy(*cursor, data, len);
	*cursor += len;
	return r;
}

static mvalue *value_new(mstore *m, const char *key, const char *value)
{
	mvalue *r = eas__malloc(&m->mem, sizeof *r + str_size(key) + str_size(value));
	if (!r)
		return NULL;
	char *p = (char *)(r + 1);
	r->next = NULL;
	r->key = put_str(&p, key);
	r->value = put_str(&p, value);
	return r;
}

static mfolder *folder_new(mstore *m, const eas_store_folder *f)
{
	const char *parent = eas__store_or(f->parent_id, "0"), *name = eas__store_or(f->display_name, "");
	const char *key = eas__store_or(f->sync_key, "0"), *cls = eas__store_or(f->class_name, "");
	mfolder *r = eas__malloc(&m->mem, sizeof *r + str_size(f->server_id) + str_size(parent) + str_size(name) +
						  str_size(key) + str_size(cls));
	if (!r)
		return NULL;
	char *p = (char *)(r + 1);
	r->next = NULL;
	r->seq = 0;
	r->f = *f;
	r->f.server_id = put_str(&p, f->server_id);
	r->f.parent_id = put_str(&p, parent);
	r->f.display_name = put_str(&p, name);
	r->f.sync_key = put_str(&p, key);
	r->f.class_name = put_str(&p, cls);
	return r;
}

static mitem *item_new(mstore *m, const eas_store_item *it)
{
	const char *cls = eas__store_or(it->class_name, "");
	size_t n = sizeof(mitem) + str_size(it->folder_id) + str_size(it->server_id) + str_size(cls);
	if (it->data_len > SIZE_MAX - n)
		return NULL;
	mitem *r = eas__malloc(&m->mem, n + it->data_len);
	if (!r)
		return NULL;
	char *p = (char *)(r + 1);
	r->next = NULL;
	r->hash = 0;
	r->seq = 0;
	r->it = *it;
	r->it.folder_id = put_str(&p, it->folder_id);
	r->it.server_id = put_str(&p, it->server_id);
	r->it.class_name = put_str(&p, cls);
	r->it.data = put_bytes(&p, it->data, it->data_len);
	return r;
}

static mchange *change_new(mstore *m, const eas_store_change *c)
{
	size_t n = sizeof(mchange) + str_size(c->folder_id) + str_size(c->server_id) + str_size(c->client_id) +
		   str_size(c->class_name) + str_size(c->dest_folder_id);
	if (c->data_len > SIZE_MAX - n)
		return NULL;
	mchange *r = eas__malloc(&m->mem, n + c->data_len);
	if (!r)
		return NULL;
	char *p = (char *)(r + 1);
	r->next = NULL;
	r->c = *c;
	r->c.folder_id = put_str(&p, c->folder_id);
	r->c.server_id = put_str(&p, c->server_id);
	r->c.client_id = put_str(&p, c->client_id);
	r->c.class_name = put_str(&p, c->class_name);
	r->c.dest_folder_id = put_str(&p, c->dest_folder_id);
	r->c.data = put_bytes(&p, c->data, c->data_len);
	return r;
}

/* ---- tables --------------------------------------------------------------------- */

static uint32_t item_hash(const char *folder_id, const char *server_id)
{
	uint32_t h = 2166136261u; /* FNV-1a over "folder\0server" */
	for (const unsigned char *p = (const unsigned char *)folder_id; *p; p++)
		h = (h ^ *p) * 16777619u;
	h = (h ^ 0u) * 16777619u;
	for (const unsigned char *p = (const unsigned char *)server_id; *p; p++)
		h = (h ^ *p) * 16777619u;
	return h;
}

static mvalue *value_find(mstore *m, const char *key)
{
	for (mvalue *v = m->values; v; v = v->next)
		if (!strcmp(v->key, key))
			return v;
	return NULL;
}

static mfolder *folder_find(mstore *m, const char *id)
{
	for (mfolder *f = m->folders; f; f = f->next)
		if (!strcmp(f->f.server_id, id))
			return f;
	return NULL;
}

static mitem *item_find(mstore *m, const char *folder_id, const char *server_id)
{
	if (!m->nbuckets)
		return NULL;
	uint32_t h = item_hash(folder_id, server_id);
	for (mitem *i = m->buckets[h & (m->nbuckets - 1)]; i; i = i->next)
		if (i->hash == h && !strcmp(i->it.server_id, server_id) && !strcmp(i->it.folder_id, folder_id))
			return i;
	return NULL;
}

static mchange *change_find(mstore *m, int64_t id)
{
	for (mchange *c = m->changes; c && c->c.id <= id; c = c->next)
		if (c->c.id == id)
			return c;
	return NULL;
}

/* Doubles the bucket array when the items outnumber it (before any mutation). */
static int items_reserve(mstore *m, size_t count)
{
	if (count <= m->nbuckets)
		return 0;
	size_t n = m->nbuckets ? m->nbuckets : MIN_BUCKETS;
	while (n < count)
		n *= 2;
	mitem **b = eas__calloc(&m->mem, n, sizeof *b);
	if (!b)
		return EAS_E_NOMEM;
	for (size_t i = 0; i < m->nbuckets; i++) {
		mitem *it = m->buckets[i];
		while (it) {
			mitem *next = it->next;
			it->next = b[it->hash & (n - 1)];
			b[it->hash & (n - 1)] = it;
			it = next;
		}
	}
	eas__free(&m->mem, m->buckets);
	m->buckets = b;
	m->nbuckets = n;
	return 0;
}

/* Links a record in; never allocates (rollback relies on it). */
static void table_insert(mstore *m, int table, void *rec)
{
	switch (table) {
	case T_VALUE: {
		mvalue *v = rec;
		v->next = m->values;
		m->values = v;
		break;
	}
	case T_FOLDER: {
		mfolder *f = rec;
		f->next = m->folders;
		m->folders = f;
		break;
	}
	case T_ITEM: {
		mitem *i = rec;
		i->hash = item_hash(i->it.folder_id, i->it.server_id);
		mitem **b = &m->buckets[i->hash & (m->nbuckets - 1)];
		i->next = *b;
		*b = i;
		m->nitems++;
		break;
	}
	default: {
		mchange *c = rec, **pp = &m->changes;
		while (*pp && (*pp)->c.id < c->c.id)
			pp = &(*pp)->next;
		c->next = *pp;
		*pp = c;
		break;
	}
	}
}

static void table_remove(mstore *m, int table, void *rec)
{
	switch (table) {
	case T_VALUE:
		for (mvalue **pp = &m->values; *pp; pp = &(*pp)->next)
			if (*pp == rec) {
				*pp = (*pp)->next;
				break;
			}
		break;
	case T_FOLDER:
		for (mfolder **pp = &m->folders; *pp; pp = &(*pp)->next)
			if (*pp == rec) {
				*pp = (*pp)->next;
				break;
			}
		break;
	case T_ITEM: {
		mitem *i = rec;
		for (mitem **pp = &m->buckets[i->hash & (m->nbuckets - 1)]; *pp; pp = &(*pp)->next)
			if (*pp == i) {
				*pp = i->next;
				m->nitems--;
				break;
			}
		break;
	}
	default:
		for (mchange **pp = &m->changes; *pp; pp = &(*pp)->next)
			if (*pp == rec) {
				*pp = (*pp)->next;
				break;
			}
		break;
	}
}

/* ---- the journal ------------------------------------------------------------------ */

static int jreserve(mstore *m, size_t n)
{
	if (n <= m->jcap - m->jlen)
		return 0;
	size_t cap = m->jcap ? m->jcap : 16;
	while (cap - m->jlen < n) {
		if (cap > SIZE_MAX / 2 / sizeof(undo))
			return EAS_E_NOMEM;
		cap *= 2;
	}
	undo *j = eas__realloc(&m->mem, m->journal, cap * sizeof *j);
	if (!j)
		return EAS_E_NOMEM;
	m->journal = j;
	m->jcap = cap;
	return 0;
}

/* Replaces old_rec by new_rec (either may be NULL); the room was reserved. */
static void swap_rec(mstore *m, int table, void *old_rec, void *new_rec)
{
	if (old_rec)
		table_remove(m, table, old_rec);
	if (new_rec)
		table_insert(m, table, new_rec);
	undo u = { table, old_rec, new_rec };
	m->journal[m->jlen++] = u;
}

static void undo_to(mstore *m, size_t mark)
{
	while (m->jlen > mark) {
		undo *u = &m->journal[--m->jlen];
		if (u->new_rec) {
			table_remove(m, u->table, u->new_rec);
			eas__free(&m->mem, u->new_rec);
		}
		if (u->old_rec)
			table_insert(m, u->table, u->old_rec);
	}
}

static void settle(mstore *m, size_t mark)
{
	for (size_t i = mark; i < m->jlen; i++)
		eas__free(&m->mem, m->journal[i].old_rec);
	m->jlen = mark;
}

/* Ends a mutating call that started with the journal at mark. */
static int op_end(mstore *m, size_t mark, int rc)
{
	if (rc)
		undo_to(m, mark);
	else if (!m->in_tx)
		settle(m, mark);
	return rc;
}

/* ---- transactions ------------------------------------------------------------------ */

static int m_begin(eas_store *st)
{
	mstore *m = ms(st);
	if (!m || m->iterating || m->in_tx)
		return m ? EAS_E_STATE : EAS_E_INVALID;
	m->in_tx = 1;
	m->tx_next_change_id = m->next_change_id;
	return 0;
}

static int m_commit(eas_store *st)
{
	mstore *m = ms(st);
	if (!m || m->iterating || !m->in_tx)
		return m ? EAS_E_STATE : EAS_E_INVALID;
	settle(m, 0);
	m->in_tx = 0;
	return 0;
}

static int m_rollback(eas_store *st)
{
	mstore *m = ms(st);
	if (!m || m->iterating || !m->in_tx)
		return m ? EAS_E_STATE : EAS_E_INVALID;
	undo_to(m, 0);
	m->next_change_id = m->tx_next_change_id;
	m->in_tx = 0;
	return 0;
}

/* ---- values ------------------------------------------------------------------------- */

static int m_value_get(eas_store *st, const char *key, char *buf, size_t size)
{
	mstore *m = ms(st);
	if (!m || !buf || !size || eas__store_check_str(key, EAS_STORE_NAME_MAX))
		return EAS_E_INVALID;
	mvalue *v = value_find(m, key);
	if (!v)
		return EAS_E_NOTFOUND;
	size_t n = strlen(v->value) + 1;
	if (n > size)
		return EAS_E_LIMIT;
	memcpy(buf, v->value, n);
	return 0;
}

static int m_value_set(eas_store *st, const char *key, const char *value)
{
	mstore *m = ms(st);
	if (!m || eas__store_check_value(key, value))
		return EAS_E_INVALID;
	if (m->iterating)
		return EAS_E_STATE;
	mvalue *old = value_find(m, key), *v = NULL;
	if (!old && !value)
		return 0;
	if (jreserve(m, 1) || (value && !(v = value_new(m, key, value))))
		return EAS_E_NOMEM;
	size_t mark = m->jlen;
	swap_rec(m, T_VALUE, old, v);
	return op_end(m, mark, 0);
}

/* ---- folders ------------------------------------------------------------------------ */

static int m_folder_put(eas_store *st, const eas_store_folder *f)
{
	mstore *m = ms(st);
	if (!m || eas__store_check_folder(f))
		return EAS_E_INVALID;
	if (m->iterating)
		return EAS_E_STATE;
	mfolder *nf;
	if (jreserve(m, 1) || !(nf = folder_new(m, f)))
		return EAS_E_NOMEM;
	mfolder *old = folder_find(m, f->server_id);
	nf->seq = old ? old->seq : m->next_seq++;
	size_t mark = m->jlen;
	swap_rec(m, T_FOLDER, old, nf);
	return op_end(m, mark, 0);
}

static size_t count_items(mstore *m, const char *folder_id)
{
	size_t n = 0;
	for (size_t b = 0; b < m->nbuckets; b++)
		for (mitem *i = m->buckets[b]; i; i = i->next)
			n += !strcmp(i->it.folder_id, folder_id);
	return n;
}

/* Removes every item of a folder; the journal room was reserved. */
static void clear_items(mstore *m, const char *folder_id)
{
	for (size_t b = 0; b < m->nbuckets; b++) {
		mitem *i = m->buckets[b];
		while (i) {
			mitem *next = i->next;
			if (!strcmp(i->it.folder_id, folder_id))
				swap_rec(m, T_ITEM, i, NULL);
			i = next;
		}
	}
}

static int m_folder_delete(eas_store *st, const char *server_id)
{
	mstore *m = ms(st);
	if (!m || eas__store_check_str(server_id, EAS_STORE_ID_MAX))
		return EAS_E_INVALID;
	if (m->iterating)
		return EAS_E_STATE;
	mfolder *f = folder_find(m, server_id);
	if (!f)
		return EAS_E_NOTFOUND;
	size_t n = count_items(m, server_id) + 1;
	for (mchange *c = m->changes; c; c = c->next)
		n += !strcmp(c->c.folder_id, server_id);
	if (jreserve(m, n))
		return EAS_E_NOMEM;
	size_t mark = m->jlen;
	/* The id string lives in f: compare against a record that stays until the end. */
	const char *id = f->f.server_id;
	clear_items(m, id);
	mchange *c = m->changes;
	while (c) {
		mchange *next = c->next;
		if (!strcmp(c->c.folder_id, id))
			swap_rec(m, T_CHANGE, c, NULL);
		c = next;
	}
	swap_rec(m, T_FOLDER, f, NULL);
	return op_end(m, mark, 0);
}

static int m_folder_get(eas_store *st, const char *server_id, eas_store_folder *out)
{
	mstore *m = ms(st);
	if (!m || !out || eas__store_check_str(server_id, EAS_STORE_ID_MAX))
		return EAS_E_INVALID;
	mfolder *f = folder_find(m, server_id);
	if (!f)
		return EAS_E_NOTFOUND;
	*out = f->f;
	return 0;
}

typedef struct folder_pos {
	mfolder *f;
	unsigned depth;
} folder_pos;

static int cmp_folder_pos(const void *a, const void *b)
{
	const folder_pos *x = a, *y = b;
	if (x->depth != y->depth)
		return x->depth < y->depth ? -1 : 1;
	return x->f->seq < y->f->seq ? -1 : x->f->seq > y->f->seq;
}

static int m_folder_list(eas_store *st, eas_store_folder_fn fn, void *user_data)
{
	mstore *m = ms(st);
	if (!m || !fn)
		return EAS_E_INVALID;
	if (m->iterating)
		return EAS_E_STATE;
	size_t n = 0;
	for (mfolder *f = m->folders; f; f = f->next)
		n++;
	if (!n)
		return 0;
	folder_pos *pos = eas__calloc(&m->mem, n, sizeof *pos);
	void **recs = eas__calloc(&m->mem, n, sizeof *recs);
	if (!pos || !recs) {
		eas__free(&m->mem, pos);
		eas__free(&m->mem, recs);
		return EAS_E_NOMEM;
	}
	size_t k = 0;
	for (mfolder *f = m->folders; f; f = f->next, k++) {
		/* depth = known ancestors; a cycle or a very deep chain stops at the bound */
		unsigned d = 0;
		for (mfolder *p = folder_find(m, f->f.parent_id); p && d < MAX_FOLDER_DEPTH; p = folder_find(m, p->f.parent_id))
			d++;
		pos[k].f = f;
		pos[k].depth = d;
	}
	qsort(pos, n, sizeof *pos, cmp_folder_pos);
	for (k = 0; k < n; k++)
		recs[k] = pos[k].f;
	eas__free(&m->mem, pos);
	/* the store is locked against mutation while callbacks hold records */
	int rc = 0;
	m->iterating++;
	for (k = 0; k < n && !rc; k++)
		rc = fn(&((mfolder *)recs[k])->f, user_data);
	m->iterating--;
	eas__free(&m->mem, recs);
	return rc ? EAS_E_CALLBACK : 0;
}

/* ---- items ---------------------------------------------------------------------------- */

static int m_item_put(eas_store *st, const eas_store_item *item)
{
	mstore *m = ms(st);
	if (!m || eas__store_check_item(item))
		return EAS_E_INVALID;
	if (m->iterating)
		return EAS_E_STATE;
	if (!folder_find(m, item->folder_id))
		return EAS_E_NOTFOUND;
	mitem *ni;
	if (items_reserve(m, m->nitems + 1) || jreserve(m, 1) || !(ni = item_new(m, item)))
		return EAS_E_NOMEM;
	mitem *old = item_find(m, item->folder_id, item->server_id);
	ni->seq = old ? old->seq : m->next_seq++;
	size_t mark = m->jlen;
	swap_rec(m, T_ITEM, old, ni);
	return op_end(m, mark, 0);
}

static int m_item_delete(eas_store *st, const char *folder_id, const char *server_id)
{
	mstore *m = ms(st);
	if (!m || eas__store_check_str(folder_id, EAS_STORE_ID_MAX) ||
	    eas__store_check_str(server_id, EAS_STORE_ID_MAX))
		return EAS_E_INVALID;
	if (m->iterating)
		return EAS_E_STATE;
	mitem *old = item_find(m, folder_id, server_id);
	if (!old)
		return EAS_E_NOTFOUND;
	if (jreserve(m, 1))
		return EAS_E_NOMEM;
	size_t mark = m->jlen;
	swap_rec(m, T_ITEM, old, NULL);
	return op_end(m, mark, 0);
}

static int m_item_get(eas_store *st, const char *folder_id, const char *server_id, eas_store_item *out)
{
	mstore *m = ms(st);
	if (!m || !out || eas__store_check_str(folder_id, EAS_STORE_ID_MAX) ||
	    eas__store_check_str(server_id, EAS_STORE_ID_MAX))
		return EAS_E_INVALID;
	mitem *i = item_find(m, folder_id, server_id);
	if (!i)
		return EAS_E_NOTFOUND;
	*out = i->it;
	return 0;
}

static int cmp_item_seq(const void *a, const void *b)
{
	const mitem *x = *(mitem *const *)a, *y = *(mitem *const *)b;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int m_item_list(eas_store *st, const char *folder_id, eas_store_item_fn fn, void *user_data)
{
	mstore *m = ms(st);
	if (!m || !fn || eas__store_check_str(folder_id, EAS_STORE_ID_MAX))
		return EAS_E_INVALID;
	if (m->iterating)
		return EAS_E_STATE;
	if (!folder_find(m, folder_id))
		return EAS_E_NOTFOUND;
	size_t n = count_items(m, folder_id), k = 0;
	if (!n)
		return 0;
	void **recs = eas__calloc(&m->mem, n, sizeof *recs);
	if (!recs)
		return EAS_E_NOMEM;
	for (size_t b = 0; b < m->nbuckets; b++)
		for (mitem *i = m->buckets[b]; i; i = i->next)
			if (!strcmp(i->it.folder_id, folder_id))
				recs[k++] = i;
	qsort(recs, n, sizeof *recs, cmp_item_seq);
	int rc = 0;
	m->iterating++;
	for (k = 0; k < n && !rc; k++)
		rc = fn(&((mitem *)recs[k])->it, user_data);
	m->iterating--;
	eas__free(&m->mem, recs);
	return rc ? EAS_E_CALLBACK : 0;
}

static int m_item_clear(eas_store *st, const char *folder_id)
{
	mstore *m = ms(st);
	if (!m || eas__store_check_str(folder_id, EAS_STORE_ID_MAX))
		return EAS_E_INVALID;
	if (m->iterating)
		return EAS_E_STATE;
	mfolder *f = folder_find(m, folder_id);
	if (!f)
		return EAS_E_NOTFOUND;
	if (jreserve(m, count_items(m, folder_id)))
		return EAS_E_NOMEM;
	size_t mark = m->jlen;
	clear_items(m, f->f.server_id);
	return op_end(m, mark, 0);
}

static int m_item_count(eas_store *st, const char *folder_id, uint64_t *out)
{
	mstore *m = ms(st);
	if (!m || !out || eas__store_check_str(folder_id, EAS_STORE_ID_MAX))
		return EAS_E_INVALID;
	if (!folder_find(m, folder_id))
		return EAS_E_NOTFOUND;
	*out = count_items(m, folder_id);
	return 0;
}

/* ---- local changes ----------------------------------------------------------------------- */

static int m_change_add(eas_store *st, const eas_store_change *c, int64_t *id_out)
{
	mstore *m = ms(st);
	if (!m || eas__store_check_change(c))
		return EAS_E_INVALID;
	if (m->iterating)
		return EAS_E_STATE;
	if (!folder_find(m, c->folder_id))
		return EAS_E_NOTFOUND;
	/* READ and FLAG show at once in the stored item (the app's view). */
	mitem *old = NULL, *ni = NULL;
	if (c->kind == EAS_STORE_CHANGE_READ || c->kind == EAS_STORE_CHANGE_FLAG)
		old = item_find(m, c->folder_id, c->server_id);
	if (jreserve(m, 2))
		return EAS_E_NOMEM;
	mchange *nc = change_new(m, c);
	if (!nc || (old && !(ni = item_new(m, &old->it)))) {
		eas__free(&m->mem, nc);
		return EAS_E_NOMEM;
	}
	nc->c.id = m->next_change_id++;
	nc->c.attempts = 0;
	size_t mark = m->jlen;
	swap_rec(m, T_CHANGE, NULL, nc);
	if (ni) {
		ni->seq = old->seq;
		if (c->kind == EAS_STORE_CHANGE_READ)
			ni->it.read = c->value;
		else
			ni->it.flag_status = c->value;
		swap_rec(m, T_ITEM, old, ni);
	}
	if (id_out)
		*id_out = nc->c.id;
	return op_end(m, mark, 0);
}

static int m_change_list(eas_store *st, const char *folder_id, eas_store_change_fn fn, void *user_data)
{
	mstore *m = ms(st);
	if (!m || !fn || (folder_id && eas__store_check_str(folder_id, EAS_STORE_ID_MAX)))
		return EAS_E_INVALID;
	if (m->iterating)
		return EAS_E_STATE;
	if (folder_id && !folder_find(m, folder_id))
		return EAS_E_NOTFOUND;
	int rc = 0;
	m->iterating++;
	for (mchange *c = m->changes; c && !rc; c = c->next)
		if (!folder_id || !strcmp(c->c.folder_id, folder_id))
			rc = fn(&c->c, user_data);
	m->iterating--;
	return rc ? EAS_E_CALLBACK : 0;
}

static int m_change_done(eas_store *st, int64_t id)
{
	mstore *m = ms(st);
	if (!m)
		return EAS_E_INVALID;
	if (m->iterating)
		return EAS_E_STATE;
	mchange *c = change_find(m, id);
	if (!c)
		return EAS_E_NOTFOUND;
	if (jreserve(m, 1))
		return EAS_E_NOMEM;
	size_t mark = m->jlen;
	swap_rec(m, T_CHANGE, c, NULL);
	return op_end(m, mark, 0);
}

static int m_change_retry(eas_store *st, int64_t id)
{
	mstore *m = ms(st);
	if (!m)
		return EAS_E_INVALID;
	if (m->iterating)
		return EAS_E_STATE;
	mchange *c = change_find(m, id), *nc;
	if (!c)
		return EAS_E_NOTFOUND;
	if (jreserve(m, 1) || !(nc = change_new(m, &c->c)))
		return EAS_E_NOMEM;
	if (nc->c.attempts < UINT32_MAX)
		nc->c.attempts++;
	size_t mark = m->jlen;
	swap_rec(m, T_CHANGE, c, nc);
	return op_end(m, mark, 0);
}

/* ---- whole store --------------------------------------------------------------------------- */

static int m_wipe(eas_store *st)
{
	mstore *m = ms(st);
	if (!m)
		return EAS_E_INVALID;
	if (m->iterating)
		return EAS_E_STATE;
	size_t n = m->nitems;
	for (mvalue *v = m->values; v; v = v->next)
		n++;
	for (mfolder *f = m->folders; f; f = f->next)
		n++;
	for (mchange *c = m->changes; c; c = c->next)
		n++;
	if (jreserve(m, n))
		return EAS_E_NOMEM;
	size_t mark = m->jlen;
	for (size_t b = 0; b < m->nbuckets; b++)
		while (m->buckets[b])
			swap_rec(m, T_ITEM, m->buckets[b], NULL);
	while (m->changes)
		swap_rec(m, T_CHANGE, m->changes, NULL);
	while (m->folders)
		swap_rec(m, T_FOLDER, m->folders, NULL);
	while (m->values)
		swap_rec(m, T_VALUE, m->values, NULL);
	return op_end(m, mark, 0);
}

static const char *m_error(eas_store *st)
{
	(void)st;
	return "";
}

static void m_close(eas_store *st)
{
	mstore *m = ms(st);
	if (!m)
		return;
	if (m->in_tx)
		undo_to(m, 0);
	settle(m, 0);
	eas_mem mem = m->mem;
	while (m->values) {
		mvalue *v = m->values;
		m->values = v->next;
		eas__free(&mem, v);
	}
	while (m->folders) {
		mfolder *f = m->folders;
		m->folders = f->next;
		eas__free(&mem, f);
	}
	while (m->changes) {
		mchange *c = m->changes;
		m->changes = c->next;
		eas__free(&mem, c);
	}
	for (size_t b = 0; b < m->nbuckets; b++)
		while (m->buckets[b]) {
			mitem *i = m->buckets[b];
			m->buckets[b] = i->next;
			eas__free(&mem, i);
		}
	eas__free(&mem, m->buckets);
	eas__free(&mem, m->journal);
	eas__free(&mem, m);
}

EAS_EXTERN int eas_store_memory_new(eas_store **out, const eas_mem *mem)
{
	if (!out)
		return EAS_E_INVALID;
	*out = NULL;
	eas_mem hooks;
	eas__mem_init(&hooks, mem);
	mstore *m = eas__calloc(&hooks, 1, sizeof *m);
	if (!m)
		return EAS_E_NOMEM;
	m->mem = hooks;
	m->next_seq = 1;
	m->next_change_id = 1;
	eas_store *s = &m->base;
	s->version = EAS_STORE_VERSION;
	s->begin = m_begin;
	s->commit = m_commit;
	s->rollback = m_rollback;
	s->value_get = m_value_get;
	s->value_set = m_value_set;
	s->folder_put = m_folder_put;
	s->folder_delete = m_folder_delete;
	s->folder_get = m_folder_get;
	s->folder_list = m_folder_list;
	s->item_put = m_item_put;
	s->item_delete = m_item_delete;
	s->item_get = m_item_get;
	s->item_list = m_item_list;
	s->item_clear = m_item_clear;
	s->item_count = m_item_count;
	s->change_add = m_change_add;
	s->change_list = m_change_list;
	s->change_done = m_change_done;
	s->change_retry = m_change_retry;
	s->wipe = m_wipe;
	s->error = m_error;
	s->close = m_close;
	*out = s;
	return 0;
}

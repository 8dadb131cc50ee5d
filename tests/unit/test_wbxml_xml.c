/*
 * XML <-> WBXML converters (eas/wbxml_xml.h) over the corpus in
 * tests/data/wbxml/: round trips, every split, every failing allocation,
 * hostile and malformed XML, invalid UTF-8, options.
 *
 * The corpus directory is found from this file's path, or from the
 * EAS_TEST_DATA_DIR environment variable (the folder holding wbxml/).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <dirent.h>
#include <expat.h>

#include "eas/wbxml_xml.h"
#include "testmem.h"

/* ---- growing buffer ------------------------------------------------------------ */

typedef struct buf {
	char *data;
	size_t len, cap;
	int fail; /* sink: return -1 once this many bytes were taken (0 = never) */
} buf;

static void buf_add(buf *b, const void *p, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n + 1)
			cap *= 2;
		b->data = realloc(b->data, cap);
		assert_non_null(b->data);
		b->cap = cap;
	}
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

static void buf_free(buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

static int xml_sink(const char *text, size_t len, void *ud)
{
	buf *b = ud;
	if (b->fail)
		return -1;
	buf_add(b, text, len);
	return 0;
}

static int wbxml_sink(const uint8_t *bytes, size_t len, void *ud)
{
	buf *b = ud;
	if (b->fail)
		return -1;
	buf_add(b, bytes, len);
	return 0;
}

/* ---- corpus -------------------------------------------------------------------- */

typedef struct vector {
	char name[128];
	buf xml;      /* NAME.xml */
	buf wbxml;    /* NAME.wbxml if hand-written, else encoded from the XML */
	int handmade; /* NAME.wbxml exists */
} vector;

static vector *corpus;
static size_t corpus_len;
static char data_dir[1024];

static int read_file(const char *path, buf *out)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	char tmp[4096];
	size_t n;
	while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
		buf_add(out, tmp, n);
	fclose(f);
	if (!out->data)
		buf_add(out, "", 0);
	return 0;
}

static void find_data_dir(void)
{
	const char *env = getenv("EAS_TEST_DATA_DIR");
	if (env && *env) {
		snprintf(data_dir, sizeof data_dir, "%s/wbxml", env);
		return;
	}
	/* __FILE__ is .../tests/unit/test_wbxml_xml.c */
	const char *file = __FILE__;
	const char *cut = strstr(file, "unit/test_wbxml_xml.c");
	assert_non_null(cut);
	snprintf(data_dir, sizeof data_dir, "%.*sdata/wbxml", (int)(cut - file), file);
}

static int encode_all(const char *xml, size_t len, size_t chunk, buf *out,
		      const eas_xml_to_wbxml_options *opt, const eas_mem *mem,
		      char *msg, size_t msg_size);

static int cmp_names(const void *a, const void *b)
{
	return strcmp(((const vector *)a)->name, ((const vector *)b)->name);
}

static int load_corpus(void **state)
{
	(void)state;
	find_data_dir();
	DIR *d = opendir(data_dir);
	if (!d) {
		fprintf(stderr, "cannot open corpus %s\n", data_dir);
		return -1;
	}
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		size_t n = strlen(e->d_name);
		if (n < 5 || strcmp(e->d_name + n - 4, ".xml") != 0 || n - 4 >= sizeof corpus[0].name)
			continue;
		corpus = realloc(corpus, (corpus_len + 1) * sizeof(*corpus));
		vector *v = &corpus[corpus_len++];
		memset(v, 0, sizeof(*v));
		memcpy(v->name, e->d_name, n - 4);
	}
	closedir(d);
	qsort(corpus, corpus_len, sizeof(*corpus), cmp_names);
	char path[1400];
	for (size_t i = 0; i < corpus_len; i++) {
		vector *v = &corpus[i];
		snprintf(path, sizeof path, "%s/%s.xml", data_dir, v->name);
		if (read_file(path, &v->xml) != 0)
			return -1;
		snprintf(path, sizeof path, "%s/%s.wbxml", data_dir, v->name);
		if (read_file(path, &v->wbxml) == 0) {
			v->handmade = 1;
			continue;
		}
		char msg[256];
		if (encode_all(v->xml.data, v->xml.len, 0, &v->wbxml, NULL, NULL, msg, sizeof msg) != 0) {
			fprintf(stderr, "%s.xml does not encode: %s\n", v->name, msg);
			return -1;
		}
	}
	return corpus_len >= 30 ? 0 : -1;
}

static int free_corpus(void **state)
{
	(void)state;
	for (size_t i = 0; i < corpus_len; i++) {
		buf_free(&corpus[i].xml);
		buf_free(&corpus[i].wbxml);
	}
	free(corpus);
	corpus = NULL;
	corpus_len = 0;
	return 0;
}

/* ---- conversions --------------------------------------------------------------- */

static int encode_all(const char *xml, size_t len, size_t chunk, buf *out,
		      const eas_xml_to_wbxml_options *opt, const eas_mem *mem,
		      char *msg, size_t msg_size)
{
	eas_xml_to_wbxml *c = NULL;
	int rc = eas_xml_to_wbxml_new(&c, wbxml_sink, opt, mem, out);
	if (rc) {
		snprintf(msg, msg_size, "new: %s", eas_strerror(rc));
		return rc;
	}
	if (!chunk)
		chunk = len ? len : 1;
	for (size_t off = 0; rc == 0 && off < len; off += chunk)
		rc = eas_xml_to_wbxml_feed(c, xml + off, len - off < chunk ? len - off : chunk);
	if (rc == 0)
		rc = eas_xml_to_wbxml_finish(c);
	if (rc) {
		unsigned long line = 0, col = 0;
		const char *m = eas_xml_to_wbxml_error(c, &line, &col);
		snprintf(msg, msg_size, "%lu:%lu: %s", line, col, m ? m : "(no message)");
	}
	eas_xml_to_wbxml_free(c);
	return rc;
}

/* Decodes data fed as [0,split) and [split,len), or in chunks of `chunk` if split == 0. */
static int decode_all(const uint8_t *data, size_t len, size_t split, size_t chunk, buf *out,
		      const eas_wbxml_to_xml_options *opt, const eas_mem *mem)
{
	eas_wbxml_to_xml *c = NULL;
	int rc = eas_wbxml_to_xml_new(&c, xml_sink, opt, mem, out);
	if (rc)
		return rc;
	if (split) {
		rc = eas_wbxml_to_xml_feed(c, data, split);
		if (rc == 0)
			rc = eas_wbxml_to_xml_feed(c, data + split, len - split);
	} else {
		if (!chunk)
			chunk = len ? len : 1;
		for (size_t off = 0; rc == 0 && off < len; off += chunk)
			rc = eas_wbxml_to_xml_feed(c, data + off, len - off < chunk ? len - off : chunk);
	}
	if (rc == 0)
		rc = eas_wbxml_to_xml_finish(c);
	eas_wbxml_to_xml_free(c);
	return rc;
}

/* ---- semantic form: (namespace, name, text) tree as a string ---------------------- */

typedef struct canon_state {
	buf out;
	buf text;
	int error;
} canon_state;

static void canon_flush(canon_state *s)
{
	size_t i = 0;
	while (i < s->text.len && strchr(" \t\r\n", s->text.data[i]))
		i++;
	if (i < s->text.len) {
		buf_add(&s->out, "[", 1);
		buf_add(&s->out, s->text.data, s->text.len);
		buf_add(&s->out, "]", 1);
	}
	s->text.len = 0;
}

static void XMLCALL canon_start(void *ud, const XML_Char *name, const XML_Char **attrs)
{
	canon_state *s = ud;
	(void)attrs;
	canon_flush(s);
	/* "ns local" -> "(ns|local"; the trailing colon of the namespace is dropped. */
	const char *sp = strrchr(name, ' ');
	buf_add(&s->out, "(", 1);
	if (sp) {
		size_t n = (size_t)(sp - name);
		if (n && name[n - 1] == ':')
			n--;
		buf_add(&s->out, name, n);
		buf_add(&s->out, "|", 1);
		name = sp + 1;
	}
	buf_add(&s->out, name, strlen(name));
}

static void XMLCALL canon_end(void *ud, const XML_Char *name)
{
	canon_state *s = ud;
	(void)name;
	canon_flush(s);
	buf_add(&s->out, ")", 1);
}

static void XMLCALL canon_text(void *ud, const XML_Char *t, int len)
{
	buf_add(&((canon_state *)ud)->text, t, (size_t)len);
}

/* The canonical tree of an XML document (malloc'd), or NULL if not well-formed. */
static char *canon(const char *xml, size_t len)
{
	canon_state s;
	memset(&s, 0, sizeof s);
	XML_Parser p = XML_ParserCreateNS(NULL, ' ');
	XML_SetUserData(p, &s);
	XML_SetElementHandler(p, canon_start, canon_end);
	XML_SetCharacterDataHandler(p, canon_text);
	int ok = XML_Parse(p, xml, (int)len, 1) == XML_STATUS_OK;
	if (!ok)
		fprintf(stderr, "canon: %s at %lu:%lu\n", XML_ErrorString(XML_GetErrorCode(p)),
			XML_GetCurrentLineNumber(p), XML_GetCurrentColumnNumber(p));
	XML_ParserFree(p);
	buf_free(&s.text);
	if (!ok) {
		buf_free(&s.out);
		return NULL;
	}
	buf_add(&s.out, "", 0);
	return s.out.data;
}

static void assert_same_tree(const char *name, const char *a, size_t alen, const char *b, size_t blen)
{
	char *ca = canon(a, alen), *cb = canon(b, blen);
	assert_non_null(ca);
	assert_non_null(cb);
	if (strcmp(ca, cb) != 0) {
		fprintf(stderr, "%s: trees differ\n  %s\n  %s\n", name, ca, cb);
		fail();
	}
	free(ca);
	free(cb);
}

/* ---- corpus tests -------------------------------------------------------------- */

static void test_corpus_covers_every_page(void **state)
{
	(void)state;
	int seen[EAS_PAGE_COUNT] = { 0 };
	for (size_t i = 0; i < corpus_len; i++) {
		const buf *w = &corpus[i].wbxml;
		/* Pages used by any tag: decode and look at the namespaces in the XML. */
		buf x = { 0 };
		assert_int_equal(decode_all((const uint8_t *)w->data, w->len, 0, 0, &x, NULL, NULL), 0);
		for (int p = 0; p < EAS_PAGE_COUNT; p++) {
			char ns[64];
			snprintf(ns, sizeof ns, "xmlns=\"%s:\"", eas_codepage_name((unsigned)p));
			if (strstr(x.data, ns))
				seen[p] = 1;
		}
		buf_free(&x);
	}
	for (int p = 0; p < EAS_PAGE_COUNT; p++) {
		if (p == EAS_PAGE_AIRNOTIFY)
			continue; /* retired: the page has no tags at all */
		if (!seen[p])
			fprintf(stderr, "no vector uses code page %d (%s)\n", p, eas_codepage_name((unsigned)p));
		assert_true(seen[p]);
	}
}

static void test_corpus_round_trip(void **state)
{
	(void)state;
	for (size_t i = 0; i < corpus_len; i++) {
		vector *v = &corpus[i];
		char msg[256];
		/* WBXML -> XML equals the source tree. */
		buf x = { 0 };
		assert_int_equal(decode_all((const uint8_t *)v->wbxml.data, v->wbxml.len, 0, 0, &x, NULL, NULL), 0);
		assert_same_tree(v->name, v->xml.data, v->xml.len, x.data, x.len);

		/* Compact output: the same tree. */
		eas_wbxml_to_xml_options compact = EAS_WBXML_TO_XML_OPTIONS_INIT;
		compact.compact = 1;
		buf cx = { 0 };
		assert_int_equal(decode_all((const uint8_t *)v->wbxml.data, v->wbxml.len, 0, 0, &cx, &compact, NULL), 0);
		assert_null(strstr(cx.data, ">\n")); /* text keeps its own newlines; tags have none */
		assert_same_tree(v->name, x.data, x.len, cx.data, cx.len);

		/* Our XML encodes back to the same WBXML bytes (hand-made vectors
		 * use legal but non-canonical forms, so only the tree is checked). */
		buf w2 = { 0 };
		if (encode_all(x.data, x.len, 0, &w2, NULL, NULL, msg, sizeof msg) != 0) {
			fprintf(stderr, "%s: re-encode: %s\n", v->name, msg);
			fail();
		}
		if (!v->handmade) {
			assert_int_equal(w2.len, v->wbxml.len);
			assert_memory_equal(w2.data, v->wbxml.data, w2.len);
		}
		buf x2 = { 0 };
		assert_int_equal(decode_all((const uint8_t *)w2.data, w2.len, 0, 0, &x2, NULL, NULL), 0);
		if (v->handmade)
			assert_same_tree(v->name, x.data, x.len, x2.data, x2.len);
		else
			assert_string_equal(x2.data, x.data);

		/* The XML fed one byte at a time gives the same WBXML. */
		buf w1 = { 0 };
		assert_int_equal(encode_all(v->xml.data, v->xml.len, 1, &w1, NULL, NULL, msg, sizeof msg), 0);
		if (!v->handmade) {
			assert_int_equal(w1.len, v->wbxml.len);
			assert_memory_equal(w1.data, v->wbxml.data, w1.len);
		}
		buf_free(&x);
		buf_free(&cx);
		buf_free(&w2);
		buf_free(&x2);
		buf_free(&w1);
	}
}

static void test_corpus_every_split(void **state)
{
	(void)state;
	for (size_t i = 0; i < corpus_len; i++) {
		vector *v = &corpus[i];
		const uint8_t *w = (const uint8_t *)v->wbxml.data;
		size_t n = v->wbxml.len;
		buf ref = { 0 };
		assert_int_equal(decode_all(w, n, 0, 0, &ref, NULL, NULL), 0);
		for (size_t k = 1; k < n; k++) {
			buf x = { 0 };
			assert_int_equal(decode_all(w, n, k, 0, &x, NULL, NULL), 0);
			if (x.len != ref.len || memcmp(x.data, ref.data, x.len) != 0) {
				fprintf(stderr, "%s: split at %zu differs\n", v->name, k);
				fail();
			}
			buf_free(&x);
		}
		buf x1 = { 0 };
		assert_int_equal(decode_all(w, n, 0, 1, &x1, NULL, NULL), 0);
		assert_string_equal(x1.data, ref.data);
		buf_free(&x1);

		/* The XML side split at every 7th byte (expat work grows with n^2). */
		if (!v->handmade) {
			for (size_t k = 1; k < v->xml.len; k += 7) {
				eas_xml_to_wbxml *c = NULL;
				buf o = { 0 };
				assert_int_equal(eas_xml_to_wbxml_new(&c, wbxml_sink, NULL, NULL, &o), 0);
				assert_int_equal(eas_xml_to_wbxml_feed(c, v->xml.data, k), 0);
				assert_int_equal(eas_xml_to_wbxml_feed(c, v->xml.data + k, v->xml.len - k), 0);
				assert_int_equal(eas_xml_to_wbxml_finish(c), 0);
				eas_xml_to_wbxml_free(c);
				assert_int_equal(o.len, n);
				assert_memory_equal(o.data, w, n);
				buf_free(&o);
			}
		}
		buf_free(&ref);
	}
}

static void test_corpus_every_allocation_fails(void **state)
{
	(void)state;
	for (size_t i = 0; i < corpus_len; i++) {
		vector *v = &corpus[i];
		buf ref = { 0 };
		assert_int_equal(decode_all((const uint8_t *)v->wbxml.data, v->wbxml.len, 0, 0, &ref, NULL, NULL), 0);
		/* WBXML -> XML */
		int done = 0;
		for (long nth = 0; nth < 1000 && !done; nth++) {
			testmem tm;
			eas_mem mem = testmem_init(&tm, nth);
			buf x = { 0 };
			int rc = decode_all((const uint8_t *)v->wbxml.data, v->wbxml.len, 0, 0, &x, NULL, &mem);
			if (rc == 0) {
				assert_string_equal(x.data, ref.data);
				done = 1;
			} else {
				assert_int_equal(rc, EAS_E_NOMEM);
			}
			assert_int_equal(tm.live_blocks, 0);
			buf_free(&x);
		}
		assert_true(done);
		/* XML -> WBXML (expat allocates through the same hooks) */
		done = 0;
		for (long nth = 0; nth < 100000 && !done; nth++) {
			testmem tm;
			eas_mem mem = testmem_init(&tm, nth);
			buf w = { 0 };
			char msg[256];
			int rc = encode_all(v->xml.data, v->xml.len, 0, &w, NULL, &mem, msg, sizeof msg);
			if (rc == 0) {
				done = 1;
				assert_true(tm.calls > 1); /* expat really used the hooks */
			} else if (rc != EAS_E_NOMEM) {
				fprintf(stderr, "%s: allocation %ld failing gave %d: %s\n", v->name, nth, rc, msg);
				fail();
			}
			assert_int_equal(tm.live_blocks, 0);
			buf_free(&w);
		}
		assert_true(done);
		buf_free(&ref);
	}
}

/* ---- XML input rules ----------------------------------------------------------- */

#define DOCTYPE "<!DOCTYPE ActiveSync PUBLIC \"-//MICROSOFT//DTD ActiveSync//EN\" \"http://www.microsoft.com/\">"

static int encode_str(const char *xml, buf *out, char *msg, size_t msg_size)
{
	return encode_all(xml, strlen(xml), 0, out, NULL, NULL, msg, msg_size);
}

static void test_namespace_forms(void **state)
{
	(void)state;
	const char *forms[] = {
		"<Ping xmlns=\"Ping:\"><Folders><Folder><Id>5</Id><Class>Email</Class></Folder></Folders></Ping>",
		"<Ping xmlns=\"Ping\"><Folders><Folder><Id>5</Id><Class>Email</Class></Folder></Folders></Ping>",
		("<?xml version=\"1.0\"?>" DOCTYPE "\n<p:Ping xmlns:p=\"Ping:\">\n  <p:Folders>\n    <p:Folder>"
		 "<p:Id>5</p:Id><Class xmlns=\"Ping\">Email</Class></p:Folder></p:Folders></p:Ping>"),
		/* A declared ISO-8859-1 encoding is converted by expat. */
		("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><Ping xmlns=\"Ping:\"><Folders><Folder><Id>5</Id>"
		 "<Class>Email</Class></Folder></Folders></Ping>"),
	};
	buf ref = { 0 };
	char msg[256];
	for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
		buf w = { 0 };
		int rc = encode_str(forms[i], &w, msg, sizeof msg);
		if (rc)
			fprintf(stderr, "form %zu: %s\n", i, msg);
		assert_int_equal(rc, 0);
		if (i == 0)
			ref = w;
		else {
			assert_int_equal(w.len, ref.len);
			assert_memory_equal(w.data, ref.data, w.len);
			buf_free(&w);
		}
	}
	static const uint8_t expected[] = { 0x03, 0x01, 0x6A, 0x00, 0x00, 0x0D, 0x45, 0x49, 0x4A,
		0x4B, 0x03, '5', 0x00, 0x01, 0x4C, 0x03, 'E', 'm', 'a', 'i', 'l', 0x00, 0x01, 0x01, 0x01, 0x01 };
	assert_int_equal(ref.len, sizeof expected);
	assert_memory_equal(ref.data, expected, sizeof expected);
	buf_free(&ref);
}

typedef struct bad_case {
	const char *xml;
	int rc;
	const char *message; /* substring of the error message */
	unsigned long line;  /* 0 = do not check */
} bad_case;

static void check_bad(const bad_case *cases, size_t n, const eas_xml_to_wbxml_options *opt)
{
	for (size_t i = 0; i < n; i++) {
		buf w = { 0 };
		char msg[300];
		int rc = encode_all(cases[i].xml, strlen(cases[i].xml), 0, &w, opt, NULL, msg, sizeof msg);
		if (rc != cases[i].rc || !strstr(msg, cases[i].message)) {
			fprintf(stderr, "case %zu: rc %d (%s), want %d with '%s'\n", i, rc, msg, cases[i].rc,
				cases[i].message);
			fail();
		}
		unsigned long line = strtoul(msg, NULL, 10);
		if (cases[i].line)
			assert_int_equal(line, cases[i].line);
		else
			assert_true(line >= 1);
		/* The same answer when fed one byte at a time. */
		buf w1 = { 0 };
		char msg1[300];
		assert_int_equal(encode_all(cases[i].xml, strlen(cases[i].xml), 1, &w1, opt, NULL, msg1, sizeof msg1),
				 cases[i].rc);
		buf_free(&w);
		buf_free(&w1);
	}
}

static void test_malformed_xml(void **state)
{
	(void)state;
	static const bad_case cases[] = {
		{ "", EAS_E_MALFORMED, "no element found", 0 },
		{ "<Sync xmlns=\"AirSync:\"><Collections></Sync>", EAS_E_MALFORMED, "mismatched tag", 1 },
		{ "<Sync xmlns=\"AirSync:\">\n<Collections>\n", EAS_E_MALFORMED, "XML:", 0 },
		{ "<Sync xmlns=\"AirSync:\"/><Sync xmlns=\"AirSync:\"/>", EAS_E_MALFORMED, "junk after", 1 },
		{ "<Sync xmlns=\"AirSync:\">a &bogus; b</Sync>", EAS_E_MALFORMED, "undefined entity", 1 },
		{ "\n\n<Sync xmlns=\"AirSync:\">\n  <Frobnicate/>\n</Sync>", EAS_E_UNSUPPORTED,
		  "unknown element 'Frobnicate' in namespace AirSync:", 4 },
		{ "<Sync xmlns=\"Nonsense:\"/>", EAS_E_UNSUPPORTED, "unknown namespace 'Nonsense:'", 1 },
		{ "<Sync xmlns=\"http://example.com/AirSync\"/>", EAS_E_UNSUPPORTED, "unknown namespace", 1 },
		{ "<Sync/>", EAS_E_UNSUPPORTED, "has no namespace", 1 },
		{ "<Sync xmlns=\"AirSync:\" Version=\"1\"/>", EAS_E_UNSUPPORTED, "attribute 'Version'", 1 },
		/* An element of one page used in another page's namespace. */
		{ "<Sync xmlns=\"Email:\"/>", EAS_E_UNSUPPORTED, "unknown element 'Sync' in namespace Email:", 1 },
		/* Byte arrays must be base64. */
		{ "<SendMail xmlns=\"ComposeMail:\"><Mime>From: a@b.c</Mime></SendMail>", EAS_E_MALFORMED,
		  "Mime holds binary data and must be base64", 1 },
		{ "<SendMail xmlns=\"ComposeMail:\"><Mime>QUJ=</Mime></SendMail>", EAS_E_MALFORMED, "base64", 1 },
		{ "<Sync xmlns=\"AirSync:\">" DOCTYPE "</Sync>", EAS_E_MALFORMED, "XML:", 1 },
		{ "<!DOCTYPE html><Sync xmlns=\"AirSync:\"/>", EAS_E_MALFORMED, "document type 'html' refused", 1 },
	};
	check_bad(cases, sizeof cases / sizeof cases[0], NULL);
}

static void test_hostile_xml(void **state)
{
	(void)state;
	static const bad_case cases[] = {
		/* Billion laughs. */
		{ "<?xml version=\"1.0\"?>\n<!DOCTYPE ActiveSync [\n"
		  " <!ENTITY a \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\">\n"
		  " <!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">\n"
		  " <!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">\n"
		  " <!ENTITY d \"&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;\">\n"
		  "]>\n<Sync xmlns=\"AirSync:\"><Status>&d;&d;&d;</Status></Sync>",
		  EAS_E_MALFORMED, "internal DTD subset refused", 2 },
		/* External entity (file and network). */
		{ "<?xml version=\"1.0\"?>\n<!DOCTYPE ActiveSync SYSTEM \"http://www.microsoft.com/\" [\n"
		  "<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\n<Sync xmlns=\"AirSync:\"><Status>&x;</Status></Sync>",
		  EAS_E_MALFORMED, "refused", 2 },
		/* A reference to an entity the external DTD might define. */
		{ "<?xml version=\"1.0\"?>\n" DOCTYPE "\n<Sync xmlns=\"AirSync:\"><Status>&ext;</Status></Sync>",
		  EAS_E_MALFORMED, "undefined entity 'ext'", 3 },
		/* Parameter entities. */
		{ "<!DOCTYPE ActiveSync [<!ENTITY % p SYSTEM \"http://evil/\"> %p;]><Sync xmlns=\"AirSync:\"/>",
		  EAS_E_MALFORMED, "refused", 1 },
	};
	check_bad(cases, sizeof cases / sizeof cases[0], NULL);

	/* Very deep nesting: refused past max_depth, whatever the nesting. */
	buf deep = { 0 };
	buf_add(&deep, "<Sync xmlns=\"AirSync:\">", 23);
	for (int i = 0; i < 10000; i++)
		buf_add(&deep, "<Collections>", 13);
	buf w = { 0 };
	char msg[300];
	assert_int_equal(encode_all(deep.data, deep.len, 4096, &w, NULL, NULL, msg, sizeof msg), EAS_E_LIMIT);
	assert_non_null(strstr(msg, "nested deeper than 32"));
	buf_free(&w);
	eas_xml_to_wbxml_options opt = EAS_XML_TO_WBXML_OPTIONS_INIT;
	opt.max_depth = 4;
	assert_int_equal(encode_all(deep.data, deep.len, 0, &w, &opt, NULL, msg, sizeof msg), EAS_E_LIMIT);
	assert_non_null(strstr(msg, "nested deeper than 4"));
	assert_true(strstr(msg, "1:") == msg);
	buf_free(&w);
	buf_free(&deep);

	/* Text and document size limits. */
	buf big = { 0 };
	buf_add(&big, "<Sync xmlns=\"AirSync:\"><SyncKey>", 32);
	for (int i = 0; i < 2000; i++)
		buf_add(&big, "0123456789", 10);
	buf_add(&big, "</SyncKey></Sync>", 17);
	opt = (eas_xml_to_wbxml_options)EAS_XML_TO_WBXML_OPTIONS_INIT;
	opt.max_text = 1000;
	assert_int_equal(encode_all(big.data, big.len, 0, &w, &opt, NULL, msg, sizeof msg), EAS_E_LIMIT);
	assert_non_null(strstr(msg, "longer than 1000 bytes"));
	buf_free(&w);
	opt = (eas_xml_to_wbxml_options)EAS_XML_TO_WBXML_OPTIONS_INIT;
	opt.max_input = 5000;
	assert_int_equal(encode_all(big.data, big.len, 100, &w, &opt, NULL, msg, sizeof msg), EAS_E_LIMIT);
	assert_non_null(strstr(msg, "larger than 5000 bytes"));
	buf_free(&w);
	buf_free(&big);
}

static void test_protocol_gate_and_binary(void **state)
{
	(void)state;
	eas_xml_to_wbxml_options opt = EAS_XML_TO_WBXML_OPTIONS_INIT;
	opt.protocol_version = EAS_PROTO_14_1;
	static const bad_case gated[] = {
		{ "<Find xmlns=\"Find:\"/>", EAS_E_UNSUPPORTED, "Find:Find is not part of protocol version 14.1", 1 },
	};
	check_bad(gated, 1, &opt);
	buf w = { 0 };
	char msg[300];
	opt.protocol_version = EAS_PROTO_16_1;
	assert_int_equal(encode_all("<Find xmlns=\"Find:\"/>", 21, 0, &w, &opt, NULL, msg, sizeof msg), 0);
	buf_free(&w);

	/* binary_as_text: a MIME message written as text becomes OPAQUE as is. */
	opt = (eas_xml_to_wbxml_options)EAS_XML_TO_WBXML_OPTIONS_INIT;
	opt.binary_as_text = 1;
	const char *x = "<SendMail xmlns=\"ComposeMail:\"><Mime>Hi &amp;</Mime></SendMail>";
	assert_int_equal(encode_all(x, strlen(x), 0, &w, &opt, NULL, msg, sizeof msg), 0);
	static const uint8_t want[] = { 0x03, 0x01, 0x6A, 0x00, 0x00, 0x15, 0x45, 0x50, 0xC3, 0x04,
		'H', 'i', ' ', '&', 0x01, 0x01 };
	assert_int_equal(w.len, sizeof want);
	assert_memory_equal(w.data, want, sizeof want);
	buf_free(&w);
	/* base64 with line breaks inside, as MIME tools write it. */
	x = "<SendMail xmlns=\"ComposeMail:\"><Mime>\n  SGkg\n  Jg==\n</Mime></SendMail>";
	assert_int_equal(encode_all(x, strlen(x), 0, &w, NULL, NULL, msg, sizeof msg), 0);
	assert_int_equal(w.len, sizeof want);
	assert_memory_equal(w.data, want, sizeof want);
	buf_free(&w);
	assert_true(eas_wbxml_is_binary_element(EAS_TAG_COMPOSEMAIL_MIME));
	assert_true(eas_wbxml_is_binary_element(EAS_TAG_EMAIL2_CONVERSATION_INDEX));
	assert_false(eas_wbxml_is_binary_element(EAS_TAG_AIRSYNC_SYNC));
	assert_false(eas_wbxml_is_binary_element(EAS_TAG_NONE));
}

/* ---- WBXML -> XML details -------------------------------------------------------- */

static void test_invalid_utf8_replaced(void **state)
{
	(void)state;
	/* <Sync><SyncKey>STRING</SyncKey></Sync> with odd bytes in STRING. */
	static const char *const inputs[] = {
		"a\xC3(b",          /* bad continuation */
		"\xE0\x80\x80",     /* overlong */
		"\xED\xA0\x80",     /* surrogate */
		"\xF4\x90\x80\x80", /* beyond U+10FFFF */
		"\xFF\xFE",         /* never valid */
		"x\x01y\x1F",       /* C0 controls XML cannot hold */
		"\xEF\xBF\xBE",     /* U+FFFE */
		"ok\xE2\x82",       /* cut short at the end of the value */
		"\xE2\x82\xAC \xF0\x9F\x98\x80 \xC3\xA9", /* valid: euro, emoji, e-acute */
		"tab\tlf\ncr\r<&>",
	};
	static const char *const outputs[] = {
		"a\xEF\xBF\xBD(b",
		"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD",
		"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD",
		"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD",
		"\xEF\xBF\xBD\xEF\xBF\xBD",
		"x\xEF\xBF\xBDy\xEF\xBF\xBD",
		"\xEF\xBF\xBD",
		"ok\xEF\xBF\xBD",
		"\xE2\x82\xAC \xF0\x9F\x98\x80 \xC3\xA9",
		"tab\tlf\ncr&#13;&lt;&amp;&gt;",
	};
	for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
		buf doc = { 0 };
		static const uint8_t head[] = { 0x03, 0x01, 0x6A, 0x00, 0x45, 0x4B, 0x03 };
		buf_add(&doc, head, sizeof head);
		buf_add(&doc, inputs[i], strlen(inputs[i]) + 1);
		buf_add(&doc, "\x01\x01", 2);
		eas_wbxml_to_xml_options o = EAS_WBXML_TO_XML_OPTIONS_INIT;
		o.compact = 1;
		o.declaration = o.doctype = 0;
		for (size_t split = 0; split < doc.len; split++) {
			buf x = { 0 };
			assert_int_equal(decode_all((const uint8_t *)doc.data, doc.len, split, 0, &x, &o, NULL), 0);
			char want[200];
			snprintf(want, sizeof want, "<Sync xmlns=\"AirSync:\"><SyncKey>%s</SyncKey></Sync>", outputs[i]);
			if (strcmp(x.data, want) != 0) {
				fprintf(stderr, "input %zu split %zu: got %s\n", i, split, x.data);
				fail();
			}
			char *c = canon(x.data, x.len); /* well-formed */
			assert_non_null(c);
			free(c);
			buf_free(&x);
		}
		buf_free(&doc);
	}
}

static void test_output_options(void **state)
{
	(void)state;
	/* <Sync><Collections><Collection><SyncKey>1</SyncKey><ConversationId
	 * (Email2)>OPAQUE 5 bytes</ConversationId><MoreAvailable/></Collection>... */
	static const uint8_t doc[] = { 0x03, 0x01, 0x6A, 0x00, 0x45, 0x5C, 0x4F, 0x4B, 0x03, '1', 0x00, 0x01,
		0x00, 0x16, 0x49, 0xC3, 0x05, 'h', 'e', 'l', 'l', 'o', 0x01, 0x00, 0x00, 0x14, 0x01, 0x01, 0x01 };
	eas_wbxml_to_xml_options o = EAS_WBXML_TO_XML_OPTIONS_INIT;
	buf x = { 0 };
	assert_int_equal(decode_all(doc, sizeof doc, 0, 0, &x, &o, NULL), 0);
	assert_string_equal(x.data,
		"<?xml version=\"1.0\" encoding=\"utf-8\"?>\n" DOCTYPE "\n"
		"<Sync xmlns=\"AirSync:\">\n"
		"  <Collections>\n"
		"    <Collection>\n"
		"      <SyncKey>1</SyncKey>\n"
		"      <ConversationId xmlns=\"Email2:\">aGVsbG8=</ConversationId>\n"
		"      <MoreAvailable/>\n"
		"    </Collection>\n"
		"  </Collections>\n"
		"</Sync>\n");
	buf_free(&x);

	o.compact = 1;
	o.declaration = 0;
	o.doctype = 0;
	o.opaque = EAS_XML_OPAQUE_LENGTH;
	o.decoder.piece_size = 2; /* opaque arrives in pieces: one placeholder */
	assert_int_equal(decode_all(doc, sizeof doc, 0, 1, &x, &o, NULL), 0);
	assert_string_equal(x.data,
		"<Sync xmlns=\"AirSync:\"><Collections><Collection><SyncKey>1</SyncKey>"
		"<ConversationId xmlns=\"Email2:\">[opaque: 5 bytes]</ConversationId><MoreAvailable/>"
		"</Collection></Collections></Sync>");
	buf_free(&x);

	o = (eas_wbxml_to_xml_options)EAS_WBXML_TO_XML_OPTIONS_INIT;
	o.indent = 1;
	o.declaration = 0;
	o.doctype = 0;
	o.decoder.piece_size = 4; /* base64 carried across pieces */
	assert_int_equal(decode_all(doc, sizeof doc, 0, 0, &x, &o, NULL), 0);
	assert_non_null(strstr(x.data, "\n   <SyncKey>1</SyncKey>\n   <ConversationId xmlns=\"Email2:\">aGVsbG8=<"));
	buf_free(&x);

	/* Errors carry the decoder's offset. */
	static const uint8_t bad[] = { 0x03, 0x01, 0x6A, 0x00, 0x45, 0x7F, 0x01 };
	eas_wbxml_to_xml *c = NULL;
	assert_int_equal(eas_wbxml_to_xml_new(&c, xml_sink, NULL, NULL, &x), 0);
	assert_int_equal(eas_wbxml_to_xml_feed(c, bad, sizeof bad), EAS_E_UNSUPPORTED);
	uint64_t off = 0;
	const char *m = eas_wbxml_to_xml_error(c, &off);
	assert_non_null(m);
	assert_int_equal(off, 5);
	assert_int_equal(eas_wbxml_to_xml_finish(c), EAS_E_UNSUPPORTED);
	eas_wbxml_to_xml_free(c);
	buf_free(&x);
	/* Truncated. */
	assert_int_equal(decode_all(doc, sizeof doc - 1, 0, 0, &x, NULL, NULL), EAS_E_TRUNCATED);
	buf_free(&x);
}

static void test_sink_failure_and_arguments(void **state)
{
	(void)state;
	const vector *v = &corpus[0];
	buf x = { 0 };
	x.fail = 1;
	assert_int_equal(decode_all((const uint8_t *)v->wbxml.data, v->wbxml.len, 0, 0, &x, NULL, NULL), EAS_E_IO);
	buf w = { 0 };
	w.fail = 1;
	char msg[300];
	assert_int_equal(encode_all(v->xml.data, v->xml.len, 0, &w, NULL, NULL, msg, sizeof msg), EAS_E_IO);
	assert_non_null(strstr(msg, "sink"));

	eas_wbxml_to_xml *d = (eas_wbxml_to_xml *)1;
	assert_int_equal(eas_wbxml_to_xml_new(&d, NULL, NULL, NULL, NULL), EAS_E_INVALID);
	assert_null(d);
	assert_int_equal(eas_wbxml_to_xml_new(NULL, xml_sink, NULL, NULL, NULL), EAS_E_INVALID);
	eas_wbxml_to_xml_options o = EAS_WBXML_TO_XML_OPTIONS_INIT;
	o.version = 99;
	assert_int_equal(eas_wbxml_to_xml_new(&d, xml_sink, &o, NULL, NULL), EAS_E_INVALID);
	o = (eas_wbxml_to_xml_options)EAS_WBXML_TO_XML_OPTIONS_INIT;
	o.indent = 17;
	assert_int_equal(eas_wbxml_to_xml_new(&d, xml_sink, &o, NULL, NULL), EAS_E_INVALID);
	o = (eas_wbxml_to_xml_options)EAS_WBXML_TO_XML_OPTIONS_INIT;
	o.decoder.version = 0; /* 0 = decoder defaults */
	assert_int_equal(eas_wbxml_to_xml_new(&d, xml_sink, &o, NULL, NULL), 0);
	assert_null(eas_wbxml_to_xml_error(d, NULL));
	assert_int_equal(eas_wbxml_to_xml_feed(d, NULL, 1), EAS_E_INVALID);
	eas_wbxml_to_xml_free(d);
	eas_wbxml_to_xml_free(NULL);

	eas_xml_to_wbxml *e = (eas_xml_to_wbxml *)1;
	assert_int_equal(eas_xml_to_wbxml_new(&e, NULL, NULL, NULL, NULL), EAS_E_INVALID);
	assert_null(e);
	eas_xml_to_wbxml_options xo = EAS_XML_TO_WBXML_OPTIONS_INIT;
	xo.max_depth = 65;
	assert_int_equal(eas_xml_to_wbxml_new(&e, wbxml_sink, &xo, NULL, NULL), EAS_E_INVALID);
	xo = (eas_xml_to_wbxml_options)EAS_XML_TO_WBXML_OPTIONS_INIT;
	xo.protocol_version = EAS_PROTO_14_0 | EAS_PROTO_14_1;
	assert_int_equal(eas_xml_to_wbxml_new(&e, wbxml_sink, &xo, NULL, NULL), EAS_E_INVALID);
	assert_int_equal(eas_xml_to_wbxml_new(&e, wbxml_sink, NULL, NULL, &w), 0);
	assert_null(eas_xml_to_wbxml_error(e, NULL, NULL));
	assert_int_equal(eas_xml_to_wbxml_feed(e, "<Ping xmlns='Ping:'/>", 21), 0);
	assert_int_equal(eas_xml_to_wbxml_finish(e), EAS_E_IO); /* w.fail is still set */
	assert_int_equal(eas_xml_to_wbxml_feed(e, "x", 1), EAS_E_IO);
	eas_xml_to_wbxml_free(e);
	eas_xml_to_wbxml_free(NULL);
	buf_free(&x);
	buf_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_corpus_covers_every_page),
		cmocka_unit_test(test_corpus_round_trip),
		cmocka_unit_test(test_corpus_every_split),
		cmocka_unit_test(test_corpus_every_allocation_fails),
		cmocka_unit_test(test_namespace_forms),
		cmocka_unit_test(test_malformed_xml),
		cmocka_unit_test(test_hostile_xml),
		cmocka_unit_test(test_protocol_gate_and_binary),
		cmocka_unit_test(test_invalid_utf8_replaced),
		cmocka_unit_test(test_output_options),
		cmocka_unit_test(test_sink_failure_and_arguments),
	};
	return cmocka_run_group_tests(tests, load_corpus, free_corpus);
}

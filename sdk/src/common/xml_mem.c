/* Expat allocator bridge over eas_mem, and parser hardening (see xml_mem.h). */
#include "xml_mem.h"

#include "mem.h"

#if defined(__GNUC__) || defined(__clang__)
#define EAS_THREAD_LOCAL __thread
#elif defined(_MSC_VER)
#define EAS_THREAD_LOCAL __declspec(thread)
#else
#define EAS_THREAD_LOCAL _Thread_local
#endif

static EAS_THREAD_LOCAL eas_xml_mem *current;

typedef union block_header {
	const eas_mem *mem;
	long double align_ld;
	void *align_p;
	long long align_ll;
} block_header;

static void *failed(void)
{
	if (current)
		current->failed = 1;
	return NULL;
}

static void *xm_malloc(size_t size)
{
	if (!current || size > (size_t)-1 - sizeof(block_header))
		return failed();
	const eas_mem *m = current->mem;
	block_header *h = eas__malloc(m, sizeof(*h) + size);
	if (!h)
		return failed();
	h->mem = m;
	return h + 1;
}

static void *xm_realloc(void *ptr, size_t size)
{
	if (!ptr)
		return xm_malloc(size);
	if (size > (size_t)-1 - sizeof(block_header))
		return failed();
	block_header *h = (block_header *)ptr - 1;
	const eas_mem *m = h->mem;
	block_header *n = eas__realloc(m, h, sizeof(*n) + size);
	if (!n)
		return failed();
	n->mem = m;
	return n + 1;
}

static void xm_free(void *ptr)
{
	if (!ptr)
		return;
	block_header *h = (block_header *)ptr - 1;
	eas__free(h->mem, h);
}

static const XML_Memory_Handling_Suite suite = { xm_malloc, xm_realloc, xm_free };

XML_Parser eas__xml_parser_new(eas_xml_mem *ctx, char ns_sep)
{
	const XML_Char sep[2] = { (XML_Char)ns_sep, 0 };
	eas_xml_mem *saved = current;
	current = ctx;
	ctx->failed = 0;
	XML_Parser p = XML_ParserCreate_MM(NULL, &suite, ns_sep ? sep : NULL);
	if (p && ctx->failed) {
		XML_ParserFree(p);
		p = NULL;
	}
	current = saved;
	if (!p)
		return NULL;
	XML_SetParamEntityParsing(p, XML_PARAM_ENTITY_PARSING_NEVER);
	eas__xml_parser_set_amplification(p, EAS_XML_MAX_AMPLIFICATION, EAS_XML_AMPLIFICATION_THRESHOLD);
	return p;
}

void eas__xml_parser_set_amplification(XML_Parser p, float max_amplification, unsigned long long threshold)
{
	XML_SetBillionLaughsAttackProtectionMaximumAmplification(p, max_amplification);
	XML_SetBillionLaughsAttackProtectionActivationThreshold(p, threshold);
}

enum XML_Status eas__xml_parse(eas_xml_mem *ctx, XML_Parser p, const char *data, size_t len,
			       int final)
{
	eas_xml_mem *saved = current;
	current = ctx;
	enum XML_Status st;
	do {
		int n = len > (1u << 30) ? (1 << 30) : (int)len;
		st = XML_Parse(p, data, n, final && (size_t)n == len);
		if (n)
			data += n; /* data may be NULL with len 0 (an empty body): no arithmetic on it */
		len -= (size_t)n;
	} while (st == XML_STATUS_OK && len > 0);
	current = saved;
	return st;
}

void eas__xml_parser_free(eas_xml_mem *ctx, XML_Parser p)
{
	if (!p)
		return;
	eas_xml_mem *saved = current;
	current = ctx;
	XML_ParserFree(p);
	current = saved;
}

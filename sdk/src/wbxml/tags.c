/* Lookups over the one tag table (eas/wbxml_tags.def). */
#include "tags.h"

#include <string.h>

/* versions[page][token]: the EAS_PROTO_* set that allows the tag, 0 = undefined. */
const uint8_t eas__tag_versions[EAS__PAGES][64] = {
#define EAS_TAG(page, token, id, name, versions) [page][token] = (uint8_t)(versions),
#include "eas/wbxml_tags.def"
#undef EAS_TAG
};

static const char *const tag_names[EAS__PAGES][64] = {
#define EAS_TAG(page, token, id, name, versions) [page][token] = name,
#include "eas/wbxml_tags.def"
#undef EAS_TAG
};

static const char *const page_names[EAS__PAGES] = {
#define EAS_PAGE(number, id, name) [number] = name,
#define EAS_TAG(page, token, id, name, versions)
#include "eas/wbxml_tags.def"
#undef EAS_TAG
};

const char *eas_tag_name(unsigned page, unsigned token)
{
	if (page >= EAS__PAGES || token >= 64)
		return NULL;
	return tag_names[page][token];
}

const char *eas_codepage_name(unsigned page)
{
	return page < EAS__PAGES ? page_names[page] : NULL;
}

int eas_codepage_lookup(const char *name)
{
	if (!name)
		return -1;
	for (int p = 0; p < EAS__PAGES; p++)
		if (page_names[p] && strcmp(page_names[p], name) == 0)
			return p;
	return -1;
}

unsigned eas_tag_versions(unsigned page, unsigned token)
{
	if (page >= EAS__PAGES || token >= 64)
		return 0;
	return eas__tag_versions[page][token];
}

eas_tag eas_tag_lookup(unsigned page, const char *name)
{
	if (page >= EAS__PAGES || !name)
		return EAS_TAG_NONE;
	for (unsigned t = 5; t < 64; t++)
		if (tag_names[page][t] && strcmp(tag_names[page][t], name) == 0)
			return (eas_tag)((page << 8) | t);
	return EAS_TAG_NONE;
}

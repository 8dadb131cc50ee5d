/* Internal view of the tag table for the codec's hot paths. */
#ifndef EAS_SRC_WBXML_TAGS_H
#define EAS_SRC_WBXML_TAGS_H

#include <stdint.h>

#include "eas/wbxml.h"

#define EAS__PAGES ((int)EAS_PAGE_COUNT)

/* versions[page][token]: EAS_PROTO_* set allowing the tag, 0 if undefined. */
extern const uint8_t eas__tag_versions[EAS__PAGES][64];

#endif

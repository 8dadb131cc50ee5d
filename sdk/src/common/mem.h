/* Internal allocation helpers over the public eas_mem hooks. */
#ifndef EAS_SRC_MEM_H
#define EAS_SRC_MEM_H

#include "eas/common.h"

/* Fills `out` from `in`, or with the libc allocator when `in` is NULL or partial. */
void eas__mem_init(eas_mem *out, const eas_mem *in);

void *eas__malloc(const eas_mem *mem, size_t size);
void *eas__calloc(const eas_mem *mem, size_t n, size_t size);
void *eas__realloc(const eas_mem *mem, void *ptr, size_t size);
void eas__free(const eas_mem *mem, void *ptr);
char *eas__strdup(const eas_mem *mem, const char *s);

#endif

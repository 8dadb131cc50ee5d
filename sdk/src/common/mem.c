/* Allocation through per-handle hooks (NULL hooks = libc). */
#include "mem.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void *libc_malloc(size_t size, void *ud) { (void)ud; return malloc(size); }
static void *libc_realloc(void *p, size_t size, void *ud) { (void)ud; return realloc(p, size); }
static void libc_free(void *p, void *ud) { (void)ud; free(p); }

void eas__mem_init(eas_mem *out, const eas_mem *in)
{
	if (in && in->malloc_fn && in->realloc_fn && in->free_fn) {
		*out = *in;
		return;
	}
	out->malloc_fn = libc_malloc;
	out->realloc_fn = libc_realloc;
	out->free_fn = libc_free;
	out->user_data = NULL;
}

void *eas__malloc(const eas_mem *mem, size_t size)
{
	return mem->malloc_fn(size ? size : 1, mem->user_data);
}

void *eas__calloc(const eas_mem *mem, size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		return NULL;
	void *p = eas__malloc(mem, n * size);
	if (p)
		memset(p, 0, n * size);
	return p;
}

void *eas__realloc(const eas_mem *mem, void *ptr, size_t size)
{
	return mem->realloc_fn(ptr, size ? size : 1, mem->user_data);
}

void eas__free(const eas_mem *mem, void *ptr)
{
	if (ptr)
		mem->free_fn(ptr, mem->user_data);
}

char *eas__strdup(const eas_mem *mem, const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = eas__malloc(mem, n);
	if (d)
		memcpy(d, s, n);
	return d;
}

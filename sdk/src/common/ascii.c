/* Case-insensitive ASCII comparisons (see ascii.h). */
#include "ascii.h"

unsigned char eas__ascii_lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + ('a' - 'A')) : c;
}

int eas__ascii_ieq(const char *a, const char *b)
{
	for (;; a++, b++) {
		unsigned char x = eas__ascii_lower((unsigned char)*a), y = eas__ascii_lower((unsigned char)*b);
		if (x != y)
			return 0;
		if (!x)
			return 1;
	}
}

int eas__ascii_ieq_n(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (eas__ascii_lower((unsigned char)a[i]) != eas__ascii_lower((unsigned char)b[i]))
			return 0;
	return 1;
}

int eas__ascii_iprefix(const char *s, const char *prefix)
{
	for (; *prefix; s++, prefix++)
		if (eas__ascii_lower((unsigned char)*s) != eas__ascii_lower((unsigned char)*prefix))
			return 0;
	return 1;
}

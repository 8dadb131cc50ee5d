/* eas_strerror and eas_version. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "eas/eas.h"

static void test_every_code_has_a_distinct_text(void **state)
{
	(void)state;
	const char *unknown = eas_strerror(-9999);
	assert_string_equal(unknown, "unknown error");
	for (int e = EAS_OK; e >= EAS_E_CALLBACK; e--) {
		const char *text = eas_strerror(e);
		assert_non_null(text);
		assert_string_not_equal(text, unknown);
		for (int f = e + 1; f <= EAS_OK; f++)
			assert_string_not_equal(text, eas_strerror(f));
	}
	assert_string_equal(eas_strerror(1), unknown);
}

static void test_version_is_semver(void **state)
{
	(void)state;
	unsigned a, b, c;
	char tail;
	assert_int_equal(sscanf(eas_version(), "%u.%u.%u%c", &a, &b, &c, &tail), 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_code_has_a_distinct_text),
		cmocka_unit_test(test_version_is_semver),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

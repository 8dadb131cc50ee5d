/* OPTIONS: versions and commands offered, negotiation, local refusal (sdk/src/http/options.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "eas/http.h"
#include "http/options.h"

#define V25 EAS_PROTO_2_5
#define V120 EAS_PROTO_12_0
#define V121 EAS_PROTO_12_1
#define V140 EAS_PROTO_14_0
#define V141 EAS_PROTO_14_1
#define V160 EAS_PROTO_16_0
#define V161 EAS_PROTO_16_1
#define BIT(c) EAS_COMMAND_BIT(c)

/* What Exchange 2010 SP1 sends. */
static const char exchange_commands[] =
	"Sync,SendMail,SmartForward,SmartReply,GetAttachment,GetHierarchy,CreateCollection,"
	"DeleteCollection,MoveCollection,FolderSync,FolderCreate,FolderDelete,FolderUpdate,"
	"MoveItems,GetItemEstimate,MeetingResponse,Search,Settings,Ping,ItemOperations,"
	"Provision,ResolveRecipients,ValidateCert";

/* ---- MS-ASProtocolVersions ------------------------------------------------------- */

static const struct {
	const char *text;
	size_t len; /* 0 = strlen */
	unsigned want;
	int skipped;
} version_cases[] = {
	{ "2.5,12.0,12.1,14.0,14.1,16.0,16.1", 0, EAS_PROTO_ALL, 0 },
	{ "2.5,12.0,12.1,14.0,14.1", 0, V25 | V120 | V121 | V140 | V141, 0 },
	{ "2.5, 12.0, 12.1, 14.0, 14.1, 16.0", 0, EAS_PROTO_ALL & ~V161, 0 },
	{ " 14.1 ,\t16.0\t, 16.1 ", 0, V141 | V160 | V161, 0 },
	{ "2.5,,12.0,", 0, V25 | V120, 0 },
	{ ",,,", 0, 0, 0 },
	{ " , \t, ", 0, 0, 0 },
	{ "", 0, 0, 0 },
	{ "14.0,14.0,14.1,14.0", 0, V140 | V141, 0 },
	{ "1.0,2.0,2.5,16.2", 0, V25, 3 },
	{ "abc", 0, 0, 1 },
	{ "12.10,14,14.", 0, 0, 3 },
	{ "16.1 beta,16.0", 0, V160, 1 },
	{ "123456789012345678901234567890.0,2.5", 0, V25, 1 },
	{ "14.0;16.0", 0, 0, 1 },
	{ "\"14.0\"", 0, 0, 1 },
	/* len shorter than the string: only the prefix counts */
	{ "14.0,16.1", 4, V140, 0 },
	{ "14.0,16.1", 6, V140, 1 },
	/* an embedded NUL makes its item unknown, the list goes on */
	{ "14.0\0,16.1", 10, V161, 1 },
};

static void test_versions_parse(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(version_cases) / sizeof(version_cases[0]); i++) {
		const char *t = version_cases[i].text;
		size_t len = version_cases[i].len ? version_cases[i].len : strlen(t);
		unsigned got = 0xDEAD;
		int rc = eas_http_versions_parse(&got, t, len);
		if (rc != version_cases[i].skipped || got != version_cases[i].want)
			fail_msg("case %zu \"%s\": rc %d set 0x%x, want %d 0x%x", i, t, rc, got,
				 version_cases[i].skipped, version_cases[i].want);
	}
	unsigned v = 1;
	assert_int_equal(eas_http_versions_parse(&v, NULL, 0), 0);
	assert_int_equal(v, 0);
	assert_int_equal(eas_http_versions_parse(&v, NULL, 3), EAS_E_INVALID);
	assert_int_equal(eas_http_versions_parse(NULL, "14.0", 4), EAS_E_INVALID);
}

/* ---- MS-ASProtocolCommands -------------------------------------------------------- */

static const uint64_t exchange_set =
	BIT(EAS_CMD_SYNC) | BIT(EAS_CMD_SEND_MAIL) | BIT(EAS_CMD_SMART_FORWARD) |
	BIT(EAS_CMD_SMART_REPLY) | BIT(EAS_CMD_GET_ATTACHMENT) | BIT(EAS_CMD_GET_HIERARCHY) |
	BIT(EAS_CMD_CREATE_COLLECTION) | BIT(EAS_CMD_DELETE_COLLECTION) |
	BIT(EAS_CMD_MOVE_COLLECTION) | BIT(EAS_CMD_FOLDER_SYNC) | BIT(EAS_CMD_FOLDER_CREATE) |
	BIT(EAS_CMD_FOLDER_DELETE) | BIT(EAS_CMD_FOLDER_UPDATE) | BIT(EAS_CMD_MOVE_ITEMS) |
	BIT(EAS_CMD_GET_ITEM_ESTIMATE) | BIT(EAS_CMD_MEETING_RESPONSE) | BIT(EAS_CMD_SEARCH) |
	BIT(EAS_CMD_SETTINGS) | BIT(EAS_CMD_PING) | BIT(EAS_CMD_ITEM_OPERATIONS) |
	BIT(EAS_CMD_PROVISION) | BIT(EAS_CMD_RESOLVE_RECIPIENTS) | BIT(EAS_CMD_VALIDATE_CERT);

static const struct {
	const char *text;
	uint64_t want;
	int skipped;
} command_cases[] = {
	{ exchange_commands, exchange_set, 0 },
	{ "Sync,FolderSync,Ping", BIT(EAS_CMD_SYNC) | BIT(EAS_CMD_FOLDER_SYNC) | BIT(EAS_CMD_PING), 0 },
	{ " Sync , SendMail ,\tFind\t", BIT(EAS_CMD_SYNC) | BIT(EAS_CMD_SEND_MAIL) | BIT(EAS_CMD_FIND), 0 },
	{ "sync,FOLDERSYNC,pInG", BIT(EAS_CMD_SYNC) | BIT(EAS_CMD_FOLDER_SYNC) | BIT(EAS_CMD_PING), 0 },
	{ "Sync,,Sync,,", BIT(EAS_CMD_SYNC), 0 },
	{ "Autodiscover,Sync,Foo,Bar", BIT(EAS_CMD_SYNC), 3 },
	{ "Notify,GetHierarchy", BIT(EAS_CMD_NOTIFY) | BIT(EAS_CMD_GET_HIERARCHY), 0 },
	{ "Sync Ping", 0, 1 },
	{ "SyncX,XSync", 0, 2 },
	{ "ThisCommandNameIsFarTooLongToBeAnything,Ping", BIT(EAS_CMD_PING), 1 },
	{ "", 0, 0 },
};

static void test_commands_parse(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(command_cases) / sizeof(command_cases[0]); i++) {
		const char *t = command_cases[i].text;
		uint64_t got = 0xDEAD;
		int rc = eas_http_commands_parse(&got, t, strlen(t));
		if (rc != command_cases[i].skipped || got != command_cases[i].want)
			fail_msg("case %zu \"%s\": rc %d, want %d; set %llx, want %llx", i, t, rc,
				 command_cases[i].skipped, (unsigned long long)got,
				 (unsigned long long)command_cases[i].want);
	}
	uint64_t c;
	assert_int_equal(eas_http_commands_parse(NULL, "Sync", 4), EAS_E_INVALID);
	assert_int_equal(eas_http_commands_parse(&c, NULL, 1), EAS_E_INVALID);
}

static void test_command_bits(void **state)
{
	(void)state;
	assert_true(BIT(EAS_CMD_SYNC) == 1);
	assert_true(BIT(EAS_CMD_FIND) == (UINT64_C(1) << 23));
	assert_true(BIT(EAS_CMD_GET_HIERARCHY) == (UINT64_C(1) << 32));
	assert_true(BIT(EAS_CMD_NOTIFY) == (UINT64_C(1) << 36));
	assert_true(BIT(0x200) == 0);
	assert_true(BIT(40) == 0);
	/* Every command has its own bit. */
	uint64_t seen = 0;
	for (int c = 0; c < 0x110; c++) {
		if (!eas_command_name((eas_command)c))
			continue;
		assert_true(BIT(c) != 0);
		assert_true((seen & BIT(c)) == 0);
		seen |= BIT(c);
	}
}

/* ---- formatting (the companion server's side) --------------------------------------- */

static void test_format(void **state)
{
	(void)state;
	char buf[EAS_HTTP_COMMANDS_TEXT_MAX];
	assert_int_equal(eas_http_versions_format(buf, sizeof(buf), EAS_PROTO_ALL), 33);
	assert_string_equal(buf, "2.5,12.0,12.1,14.0,14.1,16.0,16.1");
	assert_int_equal(eas_http_versions_format(buf, sizeof(buf), V141 | V25 | 0x80), 8);
	assert_string_equal(buf, "2.5,14.1");
	assert_int_equal(eas_http_versions_format(buf, sizeof(buf), 0), 0);
	assert_string_equal(buf, "");
	/* exact fit and one byte short */
	assert_int_equal(eas_http_versions_format(buf, 9, V141 | V25), 8);
	assert_int_equal(eas_http_versions_format(buf, 8, V141 | V25), EAS_E_LIMIT);
	assert_string_equal(buf, "");
	assert_int_equal(eas_http_versions_format(buf, 0, V25), EAS_E_LIMIT);
	assert_int_equal(eas_http_versions_format(NULL, 10, V25), EAS_E_INVALID);
	char vbuf[EAS_HTTP_VERSIONS_TEXT_MAX];
	assert_true(eas_http_versions_format(vbuf, sizeof(vbuf), EAS_PROTO_ALL) > 0);

	/* Exchange's own list comes back in Exchange's order. */
	uint64_t set;
	assert_int_equal(eas_http_commands_parse(&set, exchange_commands, strlen(exchange_commands)), 0);
	int n = eas_http_commands_format(buf, sizeof(buf), set);
	assert_int_equal(n, (int)strlen(exchange_commands));
	assert_string_equal(buf, exchange_commands);

	/* Every bit at once fits the documented size, and parses back. */
	n = eas_http_commands_format(buf, sizeof(buf), ~UINT64_C(0));
	assert_true(n > 0 && (size_t)n < EAS_HTTP_COMMANDS_TEXT_MAX);
	uint64_t all;
	assert_int_equal(eas_http_commands_parse(&all, buf, (size_t)n), 0);
	assert_true(all == (exchange_set | BIT(EAS_CMD_FIND) | BIT(EAS_CMD_NOTIFY)));
	assert_non_null(strstr(buf, ",ValidateCert,Find,Notify"));

	assert_int_equal(eas_http_commands_format(buf, 5, BIT(EAS_CMD_SYNC)), 4);
	assert_string_equal(buf, "Sync");
	assert_int_equal(eas_http_commands_format(buf, 4, BIT(EAS_CMD_SYNC)), EAS_E_LIMIT);
	assert_int_equal(eas_http_commands_format(buf, sizeof(buf), 0), 0);
	assert_int_equal(eas_http_commands_format(NULL, 1, 0), EAS_E_INVALID);
}

/* ---- negotiation --------------------------------------------------------------------- */

static const struct {
	unsigned server, client, max, want;
} picks[] = {
	{ EAS_PROTO_ALL, EAS_PROTO_ALL, 0, V161 },
	{ EAS_PROTO_ALL, 0, 0, V161 },                       /* client 0 = all */
	{ EAS_PROTO_ALL, 0, V141, V141 },                    /* capped */
	{ V25 | V120 | V121 | V140 | V141, 0, 0, V141 },     /* Exchange 2010 SP1 */
	{ V25 | V120 | V121 | V140 | V141, V160 | V161, 0, 0 }, /* nothing shared */
	{ V25 | V120 | V121, V140 | V121 | V25, 0, V121 },
	{ V25 | V161, V25 | V161, V160, V25 },               /* cap skips 16.1, falls to 2.5 */
	{ V161, 0, V160, 0 },                                /* cap below the only version */
	{ 0, 0, 0, 0 },
	{ EAS_PROTO_ALL | 0x80, 0x80, 0, 0 },                /* unknown bits do not count */
	{ V140 | V141, V140 | V141, V25, 0 },
	{ V120, 0, V120, V120 },
};

static void test_pick_version(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(picks) / sizeof(picks[0]); i++) {
		unsigned got = eas_http_pick_version(picks[i].server, picks[i].client, picks[i].max);
		if (got != picks[i].want)
			fail_msg("pick %zu: 0x%x, want 0x%x", i, got, picks[i].want);
	}
}

static const struct {
	eas_command command;
	unsigned versions;
} command_versions[] = {
	{ EAS_CMD_SYNC, EAS_PROTO_ALL },
	{ EAS_CMD_PING, EAS_PROTO_ALL },
	{ EAS_CMD_PROVISION, EAS_PROTO_ALL },
	{ EAS_CMD_FIND, V161 },
	{ EAS_CMD_ITEM_OPERATIONS, EAS_PROTO_FROM(V120) },
	{ EAS_CMD_SETTINGS, EAS_PROTO_FROM(V120) },
	{ EAS_CMD_GET_ATTACHMENT, V25 | V120 | V121 },
	{ EAS_CMD_GET_HIERARCHY, V25 | V120 | V121 },
	{ EAS_CMD_NOTIFY, V25 | V120 | V121 },
	{ (eas_command)5, 0 },
	{ (eas_command)0x105, 0 },
	{ (eas_command)-1, 0 },
};

static void test_command_versions(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(command_versions) / sizeof(command_versions[0]); i++)
		assert_int_equal(eas_command_versions(command_versions[i].command),
				 command_versions[i].versions);
	/* Every named command has versions. */
	for (int c = 0; c < 0x110; c++)
		if (eas_command_name((eas_command)c))
			assert_true(eas_command_versions((eas_command)c) != 0);
}

static const struct {
	uint64_t server;
	unsigned version;
	eas_command command;
	int want;
} supported[] = {
	{ exchange_set, V141, EAS_CMD_SYNC, 1 },
	{ exchange_set, V141, EAS_CMD_FIND, 0 },        /* not offered, not in 14.1 */
	{ exchange_set | BIT(EAS_CMD_FIND), V141, EAS_CMD_FIND, 0 }, /* offered, wrong version */
	{ exchange_set | BIT(EAS_CMD_FIND), V161, EAS_CMD_FIND, 1 },
	{ exchange_set, 0, EAS_CMD_FIND, 0 },           /* version not checked, not offered */
	{ 0, V161, EAS_CMD_FIND, 1 },                   /* no list: not checked */
	{ 0, 0, EAS_CMD_FIND, 1 },
	{ exchange_set, V140, EAS_CMD_GET_ATTACHMENT, 0 },
	{ exchange_set, V121, EAS_CMD_GET_ATTACHMENT, 1 },
	{ exchange_set, V25, EAS_CMD_SETTINGS, 0 },
	{ exchange_set, V120, EAS_CMD_SETTINGS, 1 },
	{ BIT(EAS_CMD_SYNC), V141, EAS_CMD_PING, 0 },
	{ exchange_set, V141 | V140, EAS_CMD_SYNC, 0 }, /* not one version */
	{ exchange_set, 0x80, EAS_CMD_SYNC, 0 },
	{ ~UINT64_C(0), 0, (eas_command)6, 0 },          /* not a command */
};

static void test_command_supported(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(supported) / sizeof(supported[0]); i++) {
		int got = eas_http_command_supported(supported[i].server, supported[i].version,
						     supported[i].command);
		if (got != supported[i].want)
			fail_msg("supported %zu: %d, want %d", i, got, supported[i].want);
	}
}

/* ---- the header list -------------------------------------------------------------------- */

static void test_caps_parse(void **state)
{
	(void)state;
	eas__http_caps caps;
	const eas_http_header exchange[] = {
		{ "Allow", "OPTIONS,POST" },
		{ "MS-Server-ActiveSync", "14.3" },
		{ "MS-ASProtocolVersions", "2.5,12.0,12.1,14.0,14.1" },
		{ "MS-ASProtocolCommands", exchange_commands },
		{ "Public", "OPTIONS,POST" },
	};
	assert_int_equal(eas__http_caps_parse(&caps, exchange, 5), 0);
	assert_int_equal(caps.versions, V25 | V120 | V121 | V140 | V141);
	assert_true(caps.commands == exchange_set);
	assert_int_equal(caps.has_versions, 1);
	assert_int_equal(caps.has_commands, 1);
	assert_int_equal(caps.unknown_versions, 0);
	assert_int_equal(caps.unknown_commands, 0);
	assert_int_equal(eas_http_pick_version(caps.versions, 0, 0), V141);

	/* Lower-case names, the list split over two headers, junk items. */
	const eas_http_header split[] = {
		{ "ms-asprotocolversions", "2.5, 12.0" },
		{ "MS-ASPROTOCOLVERSIONS", "16.1,99.9" },
		{ "ms-asprotocolcommands", "Sync,Frobnicate" },
		{ "Ms-AsProtocolCommands", "Find" },
		{ NULL, "x" },
		{ "X", NULL },
	};
	assert_int_equal(eas__http_caps_parse(&caps, split, 6), 0);
	assert_int_equal(caps.versions, V25 | V120 | V161);
	assert_true(caps.commands == (BIT(EAS_CMD_SYNC) | BIT(EAS_CMD_FIND)));
	assert_int_equal(caps.unknown_versions, 1);
	assert_int_equal(caps.unknown_commands, 1);

	/* No commands header: tolerated. */
	const eas_http_header no_cmds[] = { { "MS-ASProtocolVersions", "14.0" } };
	assert_int_equal(eas__http_caps_parse(&caps, no_cmds, 1), 0);
	assert_int_equal(caps.has_commands, 0);
	assert_true(caps.commands == 0);

	/* No versions header, or nothing known in it: cannot negotiate. */
	const eas_http_header no_versions[] = { { "MS-ASProtocolCommands", "Sync" } };
	assert_int_equal(eas__http_caps_parse(&caps, no_versions, 1), EAS_E_PROTOCOL);
	assert_int_equal(caps.has_versions, 0);
	assert_true(caps.commands == BIT(EAS_CMD_SYNC));
	const eas_http_header bad_versions[] = { { "MS-ASProtocolVersions", "1.0, 2.0, ," } };
	assert_int_equal(eas__http_caps_parse(&caps, bad_versions, 1), EAS_E_PROTOCOL);
	assert_int_equal(caps.has_versions, 1);
	assert_int_equal(caps.unknown_versions, 2);
	assert_int_equal(eas__http_caps_parse(&caps, NULL, 0), EAS_E_PROTOCOL);
	assert_int_equal(eas__http_caps_parse(&caps, NULL, 1), EAS_E_INVALID);
	assert_int_equal(eas__http_caps_parse(NULL, exchange, 5), EAS_E_INVALID);
}

static void test_caps_check(void **state)
{
	(void)state;
	eas__http_caps caps;
	const eas_http_header hs[] = {
		{ "MS-ASProtocolVersions", "2.5,12.0,12.1,14.0,14.1" },
		{ "MS-ASProtocolCommands", exchange_commands },
	};
	assert_int_equal(eas__http_caps_parse(&caps, hs, 2), 0);
	char msg[128];

	assert_int_equal(eas__http_caps_check(&caps, V141, EAS_CMD_SYNC, msg, sizeof(msg)), 0);
	assert_string_equal(msg, "");

	assert_int_equal(eas__http_caps_check(&caps, V141, EAS_CMD_FIND, msg, sizeof(msg)),
			 EAS_E_UNSUPPORTED);
	assert_string_equal(msg, "Find is not available in protocol version 14.1 (only 16.1)");

	assert_int_equal(eas__http_caps_check(&caps, V141, EAS_CMD_GET_ATTACHMENT, msg, sizeof(msg)),
			 EAS_E_UNSUPPORTED);
	assert_string_equal(msg,
			    "GetAttachment is not available in protocol version 14.1 (only 2.5 to 12.1)");

	assert_int_equal(eas__http_caps_check(&caps, V25, EAS_CMD_ITEM_OPERATIONS, msg, sizeof(msg)),
			 EAS_E_UNSUPPORTED);
	assert_string_equal(msg,
			    "ItemOperations is not available in protocol version 2.5 (only 12.0 to 16.1)");

	/* Version not checked: refused because the server does not list it. */
	assert_int_equal(eas__http_caps_check(&caps, 0, EAS_CMD_FIND, msg, sizeof(msg)),
			 EAS_E_UNSUPPORTED);
	assert_string_equal(msg, "the server does not offer the Find command (MS-ASProtocolCommands)");

	/* A server that lists only some commands. */
	const eas_http_header few[] = {
		{ "MS-ASProtocolVersions", "16.1" },
		{ "MS-ASProtocolCommands", "Sync,FolderSync,Provision" },
	};
	assert_int_equal(eas__http_caps_parse(&caps, few, 2), 0);
	assert_int_equal(eas__http_caps_check(&caps, V161, EAS_CMD_PING, msg, sizeof(msg)),
			 EAS_E_UNSUPPORTED);
	assert_string_equal(msg, "the server does not offer the Ping command (MS-ASProtocolCommands)");
	/* Small buffer: truncated, still terminated; NULL buffer fine. */
	char tiny[8];
	assert_int_equal(eas__http_caps_check(&caps, V161, EAS_CMD_PING, tiny, sizeof(tiny)),
			 EAS_E_UNSUPPORTED);
	assert_string_equal(tiny, "the ser");
	assert_int_equal(eas__http_caps_check(&caps, V161, EAS_CMD_PING, NULL, 0), EAS_E_UNSUPPORTED);

	/* No commands header: nothing refused on that ground. */
	const eas_http_header no_cmds[] = { { "MS-ASProtocolVersions", "14.0" } };
	assert_int_equal(eas__http_caps_parse(&caps, no_cmds, 1), 0);
	assert_int_equal(eas__http_caps_check(&caps, V140, EAS_CMD_PING, msg, sizeof(msg)), 0);

	assert_int_equal(eas__http_caps_check(NULL, V140, EAS_CMD_PING, msg, sizeof(msg)), EAS_E_INVALID);
	assert_int_equal(eas__http_caps_check(&caps, V140, (eas_command)7, msg, sizeof(msg)),
			 EAS_E_INVALID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_versions_parse),
		cmocka_unit_test(test_commands_parse),
		cmocka_unit_test(test_command_bits),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_pick_version),
		cmocka_unit_test(test_command_versions),
		cmocka_unit_test(test_command_supported),
		cmocka_unit_test(test_caps_parse),
		cmocka_unit_test(test_caps_check),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

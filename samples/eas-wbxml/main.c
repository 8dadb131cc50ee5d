/*
 * eas-wbxml — ActiveSync WBXML codec tool: decode captured WBXML to XML,
 * encode XML to WBXML, decode and encode MS-ASHTTP request queries.
 * Input is streamed in 64 KiB chunks; nothing is read whole.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eas/eas.h"
#include "eas/http.h"
#include "eas/wbxml_xml.h"

enum { EXIT_OK = 0, EXIT_INPUT = 1, EXIT_USAGE = 2, EXIT_IO = 3 };

#define CHUNK (64u * 1024u)

static const char usage_text[] =
	"usage: eas-wbxml decode [FILE|-] [--opaque=base64|length] [--compact] [--tolerant]\n"
	"       eas-wbxml encode [FILE|-] [--protocol VERSION] [--binary-as-text]\n"
	"       eas-wbxml query decode QUERY\n"
	"       eas-wbxml query encode --cmd NAME --device-id ID --device-type TYPE\n"
	"                 [--user NAME] [--protocol VERSION] [--locale LCID] [--policy-key N]\n"
	"                 [--attachment-name S] [--collection-id S] [--item-id S] [--long-id S]\n"
	"                 [--occurrence S] [--save-in-sent] [--accept-multipart] [--plain]\n"
	"       eas-wbxml --help | --version\n"
	"\n"
	"decode   ActiveSync WBXML (MS-ASWBXML) from FILE or standard input (-, the\n"
	"         default) to indented UTF-8 XML on standard output.\n"
	"           --opaque=base64   OPAQUE data as base64 text (default; round-trips)\n"
	"           --opaque=length   OPAQUE data as \"[opaque: N bytes]\"\n"
	"           --compact         no indentation or line breaks\n"
	"           --tolerant        skip unknown code pages and tokens instead of failing\n"
	"         Invalid UTF-8 in strings is replaced by U+FFFD.\n"
	"encode   XML (namespaces \"AirSync:\" etc., as in the MS-AS* examples) from FILE\n"
	"         or standard input to WBXML on standard output.\n"
	"           --protocol V      refuse elements protocol version V (2.5, 12.0, 12.1,\n"
	"                             14.0, 14.1, 16.0, 16.1) does not have (default: any)\n"
	"           --binary-as-text  take the text of byte-array elements (Mime,\n"
	"                             ConversationId...) as raw bytes, not base64\n"
	"query decode  prints the fields of a request query (the part after '?'),\n"
	"         plain (Cmd=Sync&User=...) or base64 (MS-ASHTTP 2.2.1.1.1).\n"
	"query encode  builds a query: base64 form by default (needs --protocol 12.1 or\n"
	"         later), plain form with --plain (needs --user).\n"
	"\n"
	"exit status: 0 success, 1 bad input (the message gives the byte offset for\n"
	"WBXML, line and column for XML), 2 usage error, 3 I/O error.\n";

static const char *prog = "eas-wbxml";

#if defined(__GNUC__)
__attribute__((format(printf, 1, 2)))
#endif
static int usage_error(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s --help'.\n", prog);
	return EXIT_USAGE;
}

/* ---- input and output --------------------------------------------------------- */

typedef struct input {
	FILE *f;
	const char *name;
	int is_stdin;
} input;

static int open_input(input *in, const char *path)
{
	if (!path || strcmp(path, "-") == 0) {
		in->f = stdin;
		in->name = "<stdin>";
		in->is_stdin = 1;
		return 0;
	}
	in->f = fopen(path, "rb");
	in->name = path;
	in->is_stdin = 0;
	if (!in->f) {
		fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
		return EXIT_IO;
	}
	return 0;
}

static void close_input(input *in)
{
	if (in->f && !in->is_stdin)
		fclose(in->f);
}

static int write_stdout(const void *bytes, size_t len)
{
	return fwrite(bytes, 1, len, stdout) == len ? 0 : -1;
}

static int xml_sink(const char *text, size_t len, void *user_data)
{
	(void)user_data;
	return write_stdout(text, len);
}

static int wbxml_sink(const uint8_t *bytes, size_t len, void *user_data)
{
	(void)user_data;
	return write_stdout(bytes, len);
}

static int finish_stdout(void)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "%s: writing standard output: %s\n", prog, strerror(errno));
		return EXIT_IO;
	}
	return EXIT_OK;
}

/* ---- decode ------------------------------------------------------------------- */

static int report_wbxml_error(const eas_wbxml_to_xml *conv, const input *in, int rc)
{
	uint64_t offset = 0;
	const char *msg = eas_wbxml_to_xml_error(conv, &offset);
	if (rc == EAS_E_IO) {
		fprintf(stderr, "%s: writing standard output failed\n", prog);
		return EXIT_IO;
	}
	if (rc == EAS_E_NOMEM) {
		fprintf(stderr, "%s: out of memory\n", prog);
		return EXIT_IO;
	}
	fprintf(stderr, "%s: %s: byte offset %llu: %s (%s)\n", prog, in->name,
		(unsigned long long)offset, msg ? msg : eas_strerror(rc), eas_strerror(rc));
	return EXIT_INPUT;
}

static int cmd_decode(int argc, char **argv)
{
	eas_wbxml_to_xml_options opt = EAS_WBXML_TO_XML_OPTIONS_INIT;
	const char *path = NULL;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--opaque=base64") == 0)
			opt.opaque = EAS_XML_OPAQUE_BASE64;
		else if (strcmp(a, "--opaque=length") == 0)
			opt.opaque = EAS_XML_OPAQUE_LENGTH;
		else if (strcmp(a, "--compact") == 0)
			opt.compact = 1;
		else if (strcmp(a, "--tolerant") == 0)
			opt.decoder.tolerant = 1;
		else if (strncmp(a, "--opaque", 8) == 0)
			return usage_error("--opaque takes base64 or length, not '%s'", a);
		else if (a[0] == '-' && a[1] != '\0')
			return usage_error("decode: unknown option '%s'", a);
		else if (path)
			return usage_error("decode: one input only ('%s' is extra)", a);
		else
			path = a;
	}
	input in;
	int rc = open_input(&in, path);
	if (rc)
		return rc;
	eas_wbxml_to_xml *conv = NULL;
	rc = eas_wbxml_to_xml_new(&conv, xml_sink, &opt, NULL, NULL);
	if (rc) {
		close_input(&in);
		fprintf(stderr, "%s: %s\n", prog, eas_strerror(rc));
		return EXIT_IO;
	}
	static uint8_t buf[CHUNK];
	int status = EXIT_OK;
	for (;;) {
		size_t n = fread(buf, 1, sizeof buf, in.f);
		if (n > 0 && (rc = eas_wbxml_to_xml_feed(conv, buf, n)) != 0) {
			status = report_wbxml_error(conv, &in, rc);
			break;
		}
		if (n < sizeof buf) {
			if (ferror(in.f)) {
				fprintf(stderr, "%s: %s: read error: %s\n", prog, in.name, strerror(errno));
				status = EXIT_IO;
			} else if ((rc = eas_wbxml_to_xml_finish(conv)) != 0) {
				status = report_wbxml_error(conv, &in, rc);
			}
			break;
		}
	}
	eas_wbxml_to_xml_free(conv);
	close_input(&in);
	int out = finish_stdout();
	return status ? status : out;
}

/* ---- encode ------------------------------------------------------------------- */

static int report_xml_error(const eas_xml_to_wbxml *conv, const input *in, int rc)
{
	unsigned long line = 0, col = 0;
	const char *msg = eas_xml_to_wbxml_error(conv, &line, &col);
	if (rc == EAS_E_IO) {
		fprintf(stderr, "%s: writing standard output failed\n", prog);
		return EXIT_IO;
	}
	if (rc == EAS_E_NOMEM) {
		fprintf(stderr, "%s: out of memory\n", prog);
		return EXIT_IO;
	}
	fprintf(stderr, "%s: %s:%lu:%lu: %s (%s)\n", prog, in->name, line, col,
		msg ? msg : eas_strerror(rc), eas_strerror(rc));
	return EXIT_INPUT;
}

static int cmd_encode(int argc, char **argv)
{
	eas_xml_to_wbxml_options opt = EAS_XML_TO_WBXML_OPTIONS_INIT;
	const char *path = NULL;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		const char *v = NULL;
		if (strcmp(a, "--protocol") == 0) {
			if (++i == argc)
				return usage_error("%s needs a version", a);
			v = argv[i];
		} else if (strncmp(a, "--protocol=", 11) == 0) {
			v = a + 11;
		}
		if (v) {
			if (eas_protocol_version_parse(&opt.protocol_version, v) != 0)
				return usage_error("unknown protocol version '%s'", v);
		} else if (strcmp(a, "--binary-as-text") == 0) {
			opt.binary_as_text = 1;
		} else if (a[0] == '-' && a[1] != '\0') {
			return usage_error("encode: unknown option '%s'", a);
		} else if (path) {
			return usage_error("encode: one input only ('%s' is extra)", a);
		} else {
			path = a;
		}
	}
	input in;
	int rc = open_input(&in, path);
	if (rc)
		return rc;
	eas_xml_to_wbxml *conv = NULL;
	rc = eas_xml_to_wbxml_new(&conv, wbxml_sink, &opt, NULL, NULL);
	if (rc) {
		close_input(&in);
		fprintf(stderr, "%s: %s\n", prog, eas_strerror(rc));
		return EXIT_IO;
	}
	static char buf[CHUNK];
	int status = EXIT_OK;
	for (;;) {
		size_t n = fread(buf, 1, sizeof buf, in.f);
		if (n > 0 && (rc = eas_xml_to_wbxml_feed(conv, buf, n)) != 0) {
			status = report_xml_error(conv, &in, rc);
			break;
		}
		if (n < sizeof buf) {
			if (ferror(in.f)) {
				fprintf(stderr, "%s: %s: read error: %s\n", prog, in.name, strerror(errno));
				status = EXIT_IO;
			} else if ((rc = eas_xml_to_wbxml_finish(conv)) != 0) {
				status = report_xml_error(conv, &in, rc);
			}
			break;
		}
	}
	eas_xml_to_wbxml_free(conv);
	close_input(&in);
	int out = finish_stdout();
	return status ? status : out;
}

/* ---- query -------------------------------------------------------------------- */

static void print_field(const char *name, const char *value)
{
	if (value)
		printf("%s: %s\n", name, value);
}

/* Device ids may be binary in the base64 form: text when printable, else hex. */
static void print_bytes(const char *name, const uint8_t *b, size_t n)
{
	int printable = 1;
	for (size_t i = 0; i < n; i++)
		if (b[i] < 0x21 || b[i] > 0x7E)
			printable = 0;
	printf("%s: ", name);
	if (printable) {
		fwrite(b, 1, n, stdout);
	} else {
		printf("hex:");
		for (size_t i = 0; i < n; i++)
			printf("%02X", b[i]);
	}
	printf("\n");
}

static int cmd_query_decode(int argc, char **argv)
{
	if (argc != 1)
		return usage_error("%s", "query decode takes exactly one QUERY argument");
	eas_http_query q = EAS_HTTP_QUERY_INIT;
	int rc = eas_http_query_decode(&q, argv[0], strlen(argv[0]), NULL);
	if (rc) {
		fprintf(stderr, "%s: query: %s\n", prog, eas_strerror(rc));
		return rc == EAS_E_NOMEM ? EXIT_IO : EXIT_INPUT;
	}
	const char *cmd = eas_command_name(q.command);
	printf("form: %s\n", q.protocol_version ? "base64" : "plain");
	print_field("command", cmd ? cmd : "?");
	if (q.protocol_version) {
		const char *v = eas_protocol_version_name(q.protocol_version);
		print_field("protocol", v ? v : "?");
		printf("locale: 0x%04X\n", (unsigned)q.locale);
	}
	print_bytes("device-id", q.device_id, q.device_id_len);
	print_field("device-type", q.device_type);
	if (q.has_policy_key)
		printf("policy-key: %lu\n", (unsigned long)q.policy_key);
	print_field("user", q.user);
	print_field("attachment-name", q.attachment_name);
	print_field("collection-id", q.collection_id);
	print_field("item-id", q.item_id);
	print_field("long-id", q.long_id);
	print_field("occurrence", q.occurrence);
	if (q.options & EAS_HTTP_OPTION_SAVE_IN_SENT)
		printf("save-in-sent: yes\n");
	if (q.options & EAS_HTTP_OPTION_ACCEPT_MULTIPART)
		printf("accept-multipart: yes\n");
	eas_http_query_clear(&q);
	return finish_stdout();
}

static int parse_ulong(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 0);
	if (errno || end == s || *end || v > max || s[0] == '-')
		return -1;
	*out = v;
	return 0;
}

static int cmd_query_encode(int argc, char **argv)
{
	eas_http_query q = EAS_HTTP_QUERY_INIT;
	const char *cmd = NULL;
	int plain = 0, have_version = 0;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--plain") == 0) {
			plain = 1;
			continue;
		}
		if (strcmp(a, "--save-in-sent") == 0) {
			q.options |= EAS_HTTP_OPTION_SAVE_IN_SENT;
			continue;
		}
		if (strcmp(a, "--accept-multipart") == 0) {
			q.options |= EAS_HTTP_OPTION_ACCEPT_MULTIPART;
			continue;
		}
		if (strncmp(a, "--", 2) != 0)
			return usage_error("query encode: unexpected argument '%s'", a);
		if (i + 1 == argc)
			return usage_error("%s needs a value", a);
		const char *v = argv[++i];
		unsigned long n;
		if (strcmp(a, "--cmd") == 0) {
			cmd = v;
		} else if (strcmp(a, "--device-id") == 0) {
			q.device_id = (const uint8_t *)v;
			q.device_id_len = strlen(v);
		} else if (strcmp(a, "--device-type") == 0) {
			q.device_type = v;
		} else if (strcmp(a, "--user") == 0) {
			q.user = v;
		} else if (strcmp(a, "--protocol") == 0) {
			if (eas_protocol_version_parse(&q.protocol_version, v) != 0)
				return usage_error("unknown protocol version '%s'", v);
			have_version = 1;
		} else if (strcmp(a, "--locale") == 0) {
			if (parse_ulong(v, 0xFFFF, &n))
				return usage_error("bad locale '%s' (a number up to 0xFFFF)", v);
			q.locale = (uint16_t)n;
		} else if (strcmp(a, "--policy-key") == 0) {
			if (parse_ulong(v, 0xFFFFFFFFul, &n))
				return usage_error("bad policy key '%s'", v);
			q.policy_key = (uint32_t)n;
			q.has_policy_key = 1;
		} else if (strcmp(a, "--attachment-name") == 0) {
			q.attachment_name = v;
		} else if (strcmp(a, "--collection-id") == 0) {
			q.collection_id = v;
		} else if (strcmp(a, "--item-id") == 0) {
			q.item_id = v;
		} else if (strcmp(a, "--long-id") == 0) {
			q.long_id = v;
		} else if (strcmp(a, "--occurrence") == 0) {
			q.occurrence = v;
		} else {
			return usage_error("query encode: unknown option '%s'", a);
		}
	}
	if (!cmd)
		return usage_error("%s", "query encode needs --cmd");
	int c = eas_command_lookup(cmd);
	if (c < 0)
		return usage_error("unknown command '%s'", cmd);
	q.command = (eas_command)c;
	if (!q.device_id || !q.device_type)
		return usage_error("%s", "query encode needs --device-id and --device-type");
	if (!plain && !have_version)
		return usage_error("%s", "the base64 form needs --protocol (12.1 or later); use --plain otherwise");
	char *text = NULL;
	int rc = plain ? eas_http_query_encode_plain(&text, &q, NULL)
		       : eas_http_query_encode_base64(&text, &q, NULL);
	if (rc) {
		fprintf(stderr, "%s: cannot encode this query in the %s form: %s\n", prog,
			plain ? "plain" : "base64", eas_strerror(rc));
		return rc == EAS_E_NOMEM ? EXIT_IO : EXIT_INPUT;
	}
	printf("%s\n", text);
	eas_http_string_free(text, NULL);
	return finish_stdout();
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage_error("%s", "missing command (decode, encode or query)");
	const char *cmd = argv[1];
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
		fputs(usage_text, stdout);
		return finish_stdout();
	}
	if (strcmp(cmd, "--version") == 0) {
		printf("eas-wbxml (libeas) %s\n", eas_version());
		return finish_stdout();
	}
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0) {
			fputs(usage_text, stdout);
			return finish_stdout();
		}
	}
	if (strcmp(cmd, "decode") == 0)
		return cmd_decode(argc - 2, argv + 2);
	if (strcmp(cmd, "encode") == 0)
		return cmd_encode(argc - 2, argv + 2);
	if (strcmp(cmd, "query") == 0) {
		if (argc >= 3 && strcmp(argv[2], "decode") == 0)
			return cmd_query_decode(argc - 3, argv + 3);
		if (argc >= 3 && strcmp(argv[2], "encode") == 0)
			return cmd_query_encode(argc - 3, argv + 3);
		return usage_error("%s", "query needs 'decode' or 'encode'");
	}
	return usage_error("unknown command '%s'", cmd);
}

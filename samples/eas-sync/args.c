/*
 * eas-sync: the command line.  Options may come before or after the
 * command; each option names the commands it applies to, so a misplaced one
 * (--to on sync) is refused instead of silently ignored.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"

/* Command bits. */
enum {
	C_SYNC = 1 << 0,
	C_PUSH = 1 << 1,
	C_FOLDERS = 1 << 2,
	C_LIST = 1 << 3,
	C_SHOW = 1 << 4,
	C_STATUS = 1 << 5,
	C_SEND = 1 << 6,
	C_FETCH = 1 << 7,
	C_MARK = 1 << 8,
	C_MOVE = 1 << 9,
	C_REPLY = 1 << 10, /* reply and forward */
	C_ALL = 0x7FF,
	/* the commands that talk to the server */
	C_ONLINE = C_SYNC | C_PUSH | C_FOLDERS | C_SEND | C_FETCH | C_MARK | C_MOVE | C_REPLY
};

static const struct {
	const char *name;
	unsigned bit;
	int min_args, max_args;
} commands[] = {
	{ "sync", C_SYNC, 0, MAX_LIST },
	{ "push", C_PUSH, 0, 0 },
	{ "folders", C_FOLDERS, 0, 0 },
	{ "list", C_LIST, 1, 1 },
	{ "show", C_SHOW, 1, 1 },
	{ "status", C_STATUS, 0, 0 },
	{ "send", C_SEND, 0, 0 },
	{ "fetch-attachment", C_FETCH, 1, 1 },
	{ "mark", C_MARK, 1, 1 },
	{ "move", C_MOVE, 2, 2 },
	{ "reply", C_REPLY, 1, 1 },
	{ "forward", C_REPLY, 1, 1 },
};

typedef enum kind { K_STR, K_FLAG, K_LONG, K_DOUBLE, K_LIST } kind;

typedef struct opt_def {
	const char *name;
	kind k;
	unsigned cmds;
	size_t offset;   /* of the field in options */
	size_t count_at; /* K_LIST: offset of its counter */
	int flag_value;  /* K_FLAG: the value stored */
} opt_def;

#define OFF(f) offsetof(options, f)
static const opt_def defs[] = {
	{ "--server", K_STR, C_ALL, OFF(server), 0, 0 },
	{ "--email", K_STR, C_ALL, OFF(email), 0, 0 },
	{ "--user", K_STR, C_ALL, OFF(user), 0, 0 },
	{ "--password-file", K_STR, C_ALL, OFF(password_file), 0, 0 },
	{ "--password-env", K_STR, C_ALL, OFF(password_env), 0, 0 },
	{ "--token-cmd", K_STR, C_ALL, OFF(token_cmd), 0, 0 },
	{ "--ca-file", K_STR, C_ALL, OFF(ca_file), 0, 0 },
	{ "--insecure-http", K_FLAG, C_ALL, OFF(insecure_http), 0, 1 },
	{ "--device-id", K_STR, C_ALL, OFF(device_id), 0, 0 },
	{ "--protocol-version", K_STR, C_ALL, OFF(protocol_version), 0, 0 },
	{ "--data-dir", K_STR, C_ALL, OFF(data_dir), 0, 0 },
	{ "--autodiscover-url", K_STR, C_ALL, OFF(autodiscover_url), 0, 0 },
	{ "--json", K_FLAG, C_ALL, OFF(json), 0, 1 },
	{ "--verbose", K_FLAG, C_ALL, OFF(verbose), 0, 1 },
	{ "-v", K_FLAG, C_ALL, OFF(verbose), 0, 1 },
	{ "--quiet", K_FLAG, C_ALL, OFF(quiet), 0, 1 },
	{ "-q", K_FLAG, C_ALL, OFF(quiet), 0, 1 },
	{ "--timeout", K_LONG, C_ONLINE, OFF(timeout_s), 0, 0 },
	{ "--progress", K_FLAG, C_SYNC | C_PUSH, OFF(progress), 0, 1 },
	{ "--no-progress", K_FLAG, C_SYNC | C_PUSH, OFF(progress), 0, 0 },
	{ "--window", K_LONG, C_SYNC | C_PUSH | C_MARK | C_MOVE, OFF(window), 0, 0 },
	{ "--for", K_DOUBLE, C_PUSH, OFF(for_seconds), 0, 0 },
	{ "--count", K_LONG, C_PUSH, OFF(count), 0, 0 },
	{ "--heartbeat", K_LONG, C_PUSH, OFF(heartbeat), 0, 0 },
	{ "--limit", K_LONG, C_LIST, OFF(limit), 0, 0 },
	{ "--folder", K_STR, C_SHOW | C_FETCH | C_MARK | C_MOVE | C_REPLY, OFF(folder), 0, 0 },
	{ "--index", K_LONG, C_FETCH, OFF(index), 0, 0 },
	{ "--output", K_STR, C_FETCH, OFF(output), 0, 0 },
	{ "-o", K_STR, C_FETCH, OFF(output), 0, 0 },
	{ "--force", K_FLAG, C_FETCH, OFF(force), 0, 1 },
	{ "--read", K_FLAG, C_MARK, OFF(read_flag), 0, 1 },
	{ "--unread", K_FLAG, C_MARK, OFF(read_flag), 0, 0 },
	{ "--to", K_LIST, C_SEND | C_REPLY, OFF(to), OFF(nto), 0 },
	{ "--cc", K_LIST, C_SEND | C_REPLY, OFF(cc), OFF(ncc), 0 },
	{ "--attach", K_LIST, C_SEND | C_REPLY, OFF(attach), OFF(nattach), 0 },
	{ "--subject", K_STR, C_SEND | C_REPLY, OFF(subject), 0, 0 },
	{ "--body", K_STR, C_SEND | C_REPLY, OFF(body), 0, 0 },
	{ "--body-file", K_STR, C_SEND | C_REPLY, OFF(body_file), 0, 0 },
	{ "--from", K_STR, C_SEND | C_REPLY, OFF(from), 0, 0 },
	{ "--no-save", K_FLAG, C_SEND | C_REPLY, OFF(no_save), 0, 1 },
	{ "--offline", K_FLAG, C_FOLDERS, OFF(offline), 0, 1 },
};

void usage(FILE *fp)
{
	fputs("usage: eas-sync COMMAND [ARGS] [OPTIONS]\n"
	      "\n"
	      "commands:\n"
	      "  sync [FOLDER...]        FolderSync, then Sync every folder (or those named) into the local store\n"
	      "  push                    stay in Ping and print what arrives [--for SECONDS] [--count N] [--heartbeat S]\n"
	      "  folders                 the folder tree (FolderSync first unless --offline)\n"
	      "  list FOLDER             the items of a folder in the local store [--limit N]\n"
	      "  show ITEM               headers and body of an item [--folder F]\n"
	      "  send                    --to ADDR [--to ...] [--cc ADDR] --subject S [--body TEXT | --body-file F]\n"
	      "                          [--attach FILE ...] [--from ADDR] [--no-save]\n"
	      "  fetch-attachment ITEM   [--index N] [--output FILE|-] [--force] [--folder F]\n"
	      "  mark ITEM               --read | --unread (sent to the server at once) [--folder F]\n"
	      "  move ITEM FOLDER        move an item to another folder (MoveItems) [--folder F]\n"
	      "  reply ITEM, forward ITEM  SmartReply / SmartForward with the options of send [--folder F]\n"
	      "  status                  account, protocol version, policy, sync state\n"
	      "\n"
	      "account (saved in the data directory after the first run):\n"
	      "  --server URL            https://host/Microsoft-Server-ActiveSync\n"
	      "  --email ADDR            find the server by Autodiscover (also the default --user)\n"
	      "  --autodiscover-url URL  start Autodiscover at this URL\n"
	      "  --user NAME             logon name\n"
	      "  --password-file F       first line of F ('-' = standard input)\n"
	      "  --password-env VAR      the password is in environment variable VAR\n"
	      "  --token-cmd CMD         OAuth2: CMD prints a bearer token (EAS_TOKEN_REFRESH=1 when refused)\n"
	      "  --ca-file F             trust the CA certificates in F (PEM)\n"
	      "  --insecure-http         allow a plain http:// server (loopback tests only)\n"
	      "  --device-id ID          1-32 letters and digits (default: generated once, saved)\n"
	      "  --protocol-version V    speak only V (2.5, 12.0, 12.1, 14.0, 14.1, 16.0, 16.1)\n"
	      "  --data-dir DIR          local state (default $XDG_DATA_HOME/libeas/eas-sync)\n"
	      "\n"
	      "output:\n"
	      "  --json                  machine output (docs/eas-sync.md)\n"
	      "  --verbose, -v           show the protocol exchange decoded as XML on stderr\n"
	      "  --quiet, -q             only errors\n"
	      "  --progress/--no-progress  force the progress bar on or off (default: on a terminal)\n"
	      "  --timeout SECONDS       give up an operation after this long (default 300)\n"
	      "\n"
	      "exit status: 0 ok, 1 refused by the server, 2 usage, 3 authentication, 4 network,\n"
	      "             5 TLS/certificate, 6 local store or file, 7 not found\n",
	      fp);
}

#if defined(__GNUC__)
__attribute__((format(printf, 1, 2)))
#endif
static int bad(const char *fmt, ...);

static int bad(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("eas-sync: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n(eas-sync --help for usage)\n", stderr);
	return EXIT_USAGE;
}

static int parse_number(const char *text, int is_double, long *l, double *d)
{
	char *end = NULL;
	errno = 0;
	if (is_double)
		*d = strtod(text, &end);
	else
		*l = strtol(text, &end, 10);
	if (errno || !end || *end || end == text)
		return -1;
	if (is_double ? *d < 0 : *l < 0)
		return -1;
	return 0;
}

int args_parse(options *o, int argc, char **argv)
{
	memset(o, 0, sizeof *o);
	o->progress = -1;
	o->read_flag = -1;
	o->index = 0;
	o->timeout_s = 300;
	/* The command first: it decides which options are allowed. */
	unsigned bit = 0;
	int min_args = 0, max_args = 0;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "help") == 0) {
			usage(stdout);
			exit(0);
		}
		if (argv[i][0] == '-')
			continue;
		/* the first word that is not an option's value */
		int is_value = 0;
		if (i > 1 && argv[i - 1][0] == '-') {
			for (size_t k = 0; k < sizeof defs / sizeof defs[0]; k++)
				if (strcmp(defs[k].name, argv[i - 1]) == 0 && defs[k].k != K_FLAG)
					is_value = 1;
		}
		if (is_value)
			continue;
		for (size_t k = 0; k < sizeof commands / sizeof commands[0]; k++) {
			if (strcmp(commands[k].name, argv[i]) == 0) {
				o->command = commands[k].name;
				bit = commands[k].bit;
				min_args = commands[k].min_args;
				max_args = commands[k].max_args;
			}
		}
		if (!o->command)
			return bad("unknown command '%s'", argv[i]);
		break;
	}
	if (!o->command)
		return bad("missing command");
	int seen_command = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (a[0] != '-' || strcmp(a, "-") == 0) {
			if (!seen_command && strcmp(a, o->command) == 0) {
				seen_command = 1;
				continue;
			}
			if (o->npositional >= max_args)
				return bad("%s: unexpected argument '%s'", o->command, a);
			o->positional[o->npositional++] = a;
			continue;
		}
		if (strcmp(a, "--password") == 0)
			return bad("passwords never go on the command line: use --password-file, --password-env "
				   "or --token-cmd");
		const opt_def *d = NULL;
		for (size_t k = 0; k < sizeof defs / sizeof defs[0]; k++)
			if (strcmp(defs[k].name, a) == 0)
				d = &defs[k];
		if (!d)
			return bad("unknown option %s", a);
		if (!(d->cmds & bit))
			return bad("option %s does not apply to %s", a, o->command);
		char *base = (char *)o;
		if (d->k == K_FLAG) {
			*(int *)(void *)(base + d->offset) = d->flag_value;
			continue;
		}
		if (i + 1 >= argc)
			return bad("%s needs a value", a);
		const char *v = argv[++i];
		long l = 0;
		double dbl = 0;
		switch (d->k) {
		case K_STR:
			*(const char **)(void *)(base + d->offset) = v;
			break;
		case K_LONG:
			if (parse_number(v, 0, &l, &dbl))
				return bad("%s: not a non-negative number: %s", a, v);
			*(long *)(void *)(base + d->offset) = l;
			break;
		case K_DOUBLE:
			if (parse_number(v, 1, &l, &dbl))
				return bad("%s: not a non-negative number: %s", a, v);
			*(double *)(void *)(base + d->offset) = dbl;
			break;
		case K_LIST: {
			int *n = (int *)(void *)(base + d->count_at);
			const char **list = (const char **)(void *)(base + d->offset);
			if (*n >= MAX_LIST)
				return bad("%s: at most 32 times", a);
			list[(*n)++] = v;
			break;
		}
		case K_FLAG:
			break;
		}
	}
	if (o->npositional < min_args)
		return bad("%s: missing argument", o->command);
	if (!!o->password_file + !!o->password_env + !!o->token_cmd > 1)
		return bad("give one of --password-file, --password-env and --token-cmd");
	if (bit == C_MARK && o->read_flag < 0)
		return bad("mark: say --read or --unread");
	if ((bit & (C_SEND | C_REPLY)) && (o->nto == 0 || !o->subject))
		return bad("%s: --to and --subject are required", o->command);
	if ((bit & (C_SEND | C_REPLY)) && o->body && o->body_file)
		return bad("%s: --body or --body-file, not both", o->command);
	if (o->window > 512)
		return bad("--window: at most 512");
	if (o->timeout_s == 0)
		o->timeout_s = 300;
	return 0;
}

/*
 * eas-sync — the sample ActiveSync client (see app.h for the map of files
 * and docs/eas-sync.md for the commands, the JSON schema and exit codes).
 */
#include <stdio.h>
#include <string.h>

#include "app.h"

static const struct {
	const char *name;
	int (*run)(app *a);
} table[] = {
	{ "sync", cmd_sync },     { "push", cmd_push },	      { "folders", cmd_folders },
	{ "list", cmd_list },     { "show", cmd_show },	      { "status", cmd_status },
	{ "send", cmd_send },     { "fetch-attachment", cmd_fetch_attachment }, { "mark", cmd_mark },
	{ "move", cmd_move },     { "reply", cmd_reply },     { "forward", cmd_reply },
};

int main(int argc, char **argv)
{
	static app a; /* big: not on the stack */
	int rc = args_parse(&a.o, argc, argv);
	if (rc)
		return rc;
	a.last_command = -1;
	driver_install_signals(&a);
	for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
		if (strcmp(table[i].name, a.o.command) == 0) {
			rc = table[i].run(&a);
			break;
		}
	}
	account_close(&a);
	fflush(stdout);
	if (rc == 0 && ferror(stdout)) {
		fprintf(stderr, "eas-sync: cannot write the output\n");
		rc = EXIT_LOCAL;
	}
	return rc;
}

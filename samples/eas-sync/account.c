/*
 * eas-sync: the account.  One data directory holds one account: its SQLite
 * state store (eas/store_sqlite.h) with everything the synchronizer keeps,
 * plus a few values of this tool under "eas-sync:<name>" (server URL, user,
 * device id, negotiated version, the last policy).  The password is never
 * stored: each online command reads it from a file, the environment, a
 * token command, or the terminal.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <eas/status.h>
#include <eas/store_sqlite.h>

#include "app.h"

#define STORE_FILE "state.db"
#define VALUE_PREFIX "eas-sync:"
#define PASSWORD_MAX 1024

/* ---- account values ------------------------------------------------------------- */

int account_value_get(app *a, const char *name, char *buf, size_t size)
{
	char key[128];
	if (!a->store)
		return EAS_E_STATE;
	snprintf(key, sizeof key, VALUE_PREFIX "%s", name);
	return a->store->value_get(a->store, key, buf, size);
}

int account_value_set(app *a, const char *name, const char *value)
{
	char key[128];
	if (!a->store)
		return EAS_E_STATE;
	snprintf(key, sizeof key, VALUE_PREFIX "%s", name);
	return a->store->value_set(a->store, key, value);
}

/* ---- data directory ------------------------------------------------------------------ */

/* mkdir -p with 0700 for the directories it creates. */
static int make_dirs(char *path)
{
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		int rc = mkdir(path, 0700);
		*p = '/';
		if (rc != 0 && errno != EEXIST)
			return -1;
	}
	return mkdir(path, 0700) != 0 && errno != EEXIST ? -1 : 0;
}

static int default_data_dir(app *a)
{
	const char *xdg = getenv("XDG_DATA_HOME");
	const char *home = getenv("HOME");
	if (xdg && xdg[0] == '/')
		snprintf(a->data_dir, sizeof a->data_dir, "%s/libeas/eas-sync", xdg);
	else if (home && home[0])
		snprintf(a->data_dir, sizeof a->data_dir, "%s/.local/share/libeas/eas-sync", home);
	else
		return fail(a, EXIT_USAGE, 0, 0, "neither XDG_DATA_HOME nor HOME is set: give --data-dir");
	return 0;
}

int account_open_local(app *a)
{
	if (a->store)
		return 0;
	if (a->o.data_dir) {
		if (strlen(a->o.data_dir) >= sizeof a->data_dir - 16)
			return fail(a, EXIT_USAGE, 0, 0, "--data-dir: path too long");
		snprintf(a->data_dir, sizeof a->data_dir, "%s", a->o.data_dir);
	} else if (default_data_dir(a)) {
		return a->exit_code;
	}
	if (make_dirs(a->data_dir) != 0)
		return fail(a, EXIT_LOCAL, 0, 0, "cannot create the data directory %s: %s", a->data_dir,
			    strerror(errno));
	char path[4200];
	snprintf(path, sizeof path, "%s/%s", a->data_dir, STORE_FILE);
	int rc = eas_store_sqlite_open(&a->store, path, NULL);
	if (rc) {
		a->store = NULL;
		return fail(a, EXIT_LOCAL, 0, 0, "cannot open the state store %s: %s%s", path, eas_strerror(rc),
			    rc == EAS_E_UNSUPPORTED ? " (written by a newer libeas)" : "");
	}
	/* What an earlier run saved; the command line may override it below. */
	char saved_user[sizeof a->user] = "", saved_url[sizeof a->url] = "";
	account_value_get(a, "user", saved_user, sizeof saved_user);
	account_value_get(a, "url", saved_url, sizeof saved_url);
	account_value_get(a, "email", a->email, sizeof a->email);
	account_value_get(a, "device_id", a->device_id, sizeof a->device_id);
	const char *want_user = a->o.user ? a->o.user : a->o.email;
	if (saved_user[0] && want_user && strcmp(saved_user, want_user) != 0)
		return fail(a, EXIT_USAGE, 0, 0,
			    "the data directory %s belongs to the account %s, not %s: give another --data-dir",
			    a->data_dir, saved_user, want_user);
	snprintf(a->user, sizeof a->user, "%s", want_user ? want_user : saved_user);
	if (a->o.email)
		snprintf(a->email, sizeof a->email, "%s", a->o.email);
	snprintf(a->url, sizeof a->url, "%s", a->o.server ? a->o.server : saved_url);
	return 0;
}

/* ---- credentials ------------------------------------------------------------------------ */

static void chomp(char *s)
{
	s[strcspn(s, "\r\n")] = '\0';
}

static int read_password_file(app *a, const char *path)
{
	FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	if (!fp)
		return fail(a, EXIT_LOCAL, 0, 0, "cannot open the password file %s: %s", path, strerror(errno));
	char *pw = calloc(1, PASSWORD_MAX + 2);
	if (!pw)
		return fail(a, EXIT_LOCAL, 0, 0, "out of memory");
	if (!fgets(pw, PASSWORD_MAX + 2, fp))
		pw[0] = '\0';
	if (fp != stdin)
		fclose(fp);
	if (strlen(pw) > PASSWORD_MAX) {
		free(pw);
		return fail(a, EXIT_USAGE, 0, 0, "%s: the password is longer than %d bytes", path, PASSWORD_MAX);
	}
	chomp(pw);
	a->password = pw;
	if (!pw[0])
		return fail(a, EXIT_USAGE, 0, 0, "%s: empty password", path);
	return 0;
}

/* Asks on the terminal with echo off. */
static int prompt_password(app *a)
{
	int fd = open("/dev/tty", O_RDWR | O_NOCTTY);
	if (fd < 0)
		return -1;
	struct termios old, quiet;
	int have = tcgetattr(fd, &old) == 0;
	char prompt[700];
	int n = snprintf(prompt, sizeof prompt, "Password for %s: ", a->user);
	if (write(fd, prompt, (size_t)n) < 0) {
		close(fd);
		return -1;
	}
	if (have) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(fd, TCSAFLUSH, &quiet);
	}
	char *pw = calloc(1, PASSWORD_MAX + 2);
	ssize_t got = pw ? read(fd, pw, PASSWORD_MAX + 1) : -1;
	if (have)
		tcsetattr(fd, TCSAFLUSH, &old);
	if (write(fd, "\n", 1) < 0)
		got = -1;
	close(fd);
	if (got <= 0) {
		free(pw);
		return -1;
	}
	pw[got] = '\0';
	chomp(pw);
	a->password = pw;
	return pw[0] ? 0 : -1;
}

/* OAuth2 (eas_token_fn): runs --token-cmd; its first output line is the token. */
static int token_from_command(char *buf, size_t size, int refresh, void *user_data)
{
	app *a = user_data;
	if (setenv("EAS_TOKEN_REFRESH", refresh ? "1" : "0", 1) != 0)
		return EAS_E_NOMEM;
	FILE *fp = popen(a->o.token_cmd, "r");
	if (!fp)
		return EAS_E_IO;
	char line[sizeof a->token];
	int ok = fgets(line, sizeof line, fp) != NULL;
	int status = pclose(fp);
	if (!ok || status != 0)
		return EAS_E_AUTH;
	chomp(line);
	if (!line[0] || strlen(line) >= size)
		return EAS_E_AUTH;
	snprintf(a->token, sizeof a->token, "%s", line);
	snprintf(buf, size, "%s", line);
	return 0;
}

int account_token(app *a)
{
	char buf[sizeof a->token];
	int rc = token_from_command(buf, sizeof buf, 0, a);
	memset(buf, 0, sizeof buf);
	return rc;
}

static int load_credentials(app *a)
{
	if (a->o.token_cmd)
		return 0;
	if (a->o.password_file)
		return read_password_file(a, a->o.password_file);
	if (a->o.password_env) {
		const char *v = getenv(a->o.password_env);
		if (!v || !v[0])
			return fail(a, EXIT_USAGE, 0, 0, "--password-env: the variable %s is not set", a->o.password_env);
		a->password = strdup(v);
		return a->password ? 0 : fail(a, EXIT_LOCAL, 0, 0, "out of memory");
	}
	if (isatty(0) && prompt_password(a) == 0)
		return 0;
	return fail(a, EXIT_USAGE, 0, 0, "no credentials: give --password-file, --password-env or --token-cmd");
}

/* ---- device id ------------------------------------------------------------------------------ */

static int valid_device_id(const char *id)
{
	size_t n = strlen(id);
	if (n == 0 || n > 32)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((id[i] >= 'a' && id[i] <= 'z') || (id[i] >= 'A' && id[i] <= 'Z') || (id[i] >= '0' && id[i] <= '9')))
			return 0;
	return 1;
}

/* "EasSync" and 16 random hex digits, made once and saved. */
static int make_device_id(app *a)
{
	unsigned char r[8] = { 0 };
	int fd = open("/dev/urandom", O_RDONLY);
	if (fd < 0 || read(fd, r, sizeof r) != (ssize_t)sizeof r) {
		if (fd >= 0)
			close(fd);
		return fail(a, EXIT_LOCAL, 0, 0, "cannot read /dev/urandom for a device id");
	}
	close(fd);
	int n = snprintf(a->device_id, sizeof a->device_id, "EasSync");
	for (size_t i = 0; i < sizeof r; i++)
		n += snprintf(a->device_id + n, sizeof a->device_id - (size_t)n, "%02X", r[i]);
	return 0;
}

/* ---- the session ------------------------------------------------------------------------------- */

/*
 * The library's log lines: errors always (unless --quiet or --json), the
 * rest with --verbose (the plain-http warning, retries, heartbeat changes).
 * The engine never logs secrets; they are scrubbed here anyway.
 */
static app *log_app;
static eas_platform platform;

/*
 * "Sync status 3 for folder 1: resync from SyncKey 0" -> "Sync status 3
 * (InvalidSyncKey): invalid synchronization key -- for folder 1: resync
 * from SyncKey 0": a status the engine handled itself, named with its
 * meaning.  0 when the line is not about a status.
 */
static int describe_status_line(const char *msg, char *out, size_t size)
{
	char name[32];
	int status = 0, used = 0;
	if (sscanf(msg, "%31[A-Za-z] status %d%n", name, &status, &used) != 2 || used <= 0)
		return 0;
	int cmd = eas_command_lookup(name);
	if (cmd < 0)
		return 0;
	char what[300];
	if (eas_command_status_describe(what, sizeof what, (eas_command)cmd, status) < 0)
		return 0;
	const char *rest = msg + used;
	while (*rest == ' ' || *rest == ':')
		rest++;
	snprintf(out, size, "%s%s%s", what, rest[0] ? " -- " : "", rest);
	return 1;
}

static void log_line(eas_log_level level, const char *message, void *user_data)
{
	(void)user_data;
	app *a = log_app;
	if (!a)
		return;
	char text[1024];
	copy_text(text, sizeof text, message);
	redact_secrets(a, text);
	char status_text[1400];
	/* statuses the engine handled (a resync, a FolderSync first...): worth a line unless --quiet/--json */
	if (level <= EAS_LOG_INFO && !a->o.quiet && !a->o.json && describe_status_line(text, status_text, sizeof status_text)) {
		fprintf(stderr, "eas-sync: %s\n", status_text);
		return;
	}
	if (level > (a->o.verbose ? EAS_LOG_INFO : EAS_LOG_ERROR) || (a->o.quiet && !a->o.verbose) ||
	    (a->o.json && !a->o.verbose))
		return;
	fprintf(stderr, "eas-sync: libeas %s: %s\n", level == EAS_LOG_ERROR ? "error" : level == EAS_LOG_WARN ? "warning" : "info",
		text);
}

static const eas_platform *app_platform(app *a)
{
	log_app = a;
	platform = *eas_platform_posix();
	platform.log = log_line;
	return &platform;
}

static int on_connect_event(app *a, const eas_session_event *ev, void *ctx)
{
	(void)a;
	(void)ctx;
	return ev->type == EAS_EVENT_READY ? EV_DONE : EV_DEFAULT;
}

int account_connect(app *a)
{
	int rc = account_open_local(a);
	if (rc)
		return rc;
	if (!a->user[0])
		return fail(a, EXIT_USAGE, 0, 0, "no account: give --server URL and --user NAME (or --email ADDR)");
	if (a->o.device_id) {
		if (!valid_device_id(a->o.device_id))
			return fail(a, EXIT_USAGE, 0, 0, "--device-id: 1 to 32 letters and digits");
		snprintf(a->device_id, sizeof a->device_id, "%s", a->o.device_id);
	} else if (!valid_device_id(a->device_id) && make_device_id(a)) {
		return a->exit_code;
	}
	unsigned versions = 0;
	if (a->o.protocol_version && eas_protocol_version_parse(&versions, a->o.protocol_version) != 0)
		return fail(a, EXIT_USAGE, 0, 0, "--protocol-version: %s is not one of 2.5, 12.0, 12.1, 14.0, 14.1, 16.0, 16.1",
			    a->o.protocol_version);
	if ((rc = load_credentials(a)) != 0)
		return rc;

	eas_curl_transport_options topt = EAS_CURL_TRANSPORT_OPTIONS_INIT;
	topt.ca_file = a->o.ca_file;
	topt.allow_plain_http = a->o.insecure_http;
	topt.connect_timeout_ms = 15000;
	topt.platform = app_platform(a);
	rc = eas_curl_transport_new(&a->curl, &topt);
	if (rc)
		return fail(a, rc == EAS_E_INVALID ? EXIT_USAGE : EXIT_LOCAL, 0, 0, "cannot set up HTTPS%s%s: %s",
			    a->o.ca_file ? " with --ca-file " : "", a->o.ca_file ? a->o.ca_file : "", eas_strerror(rc));

	if (!a->url[0] && a->email[0] && (rc = discover_url(a)) != 0)
		return rc;
	if (!a->url[0])
		return fail(a, EXIT_USAGE, 0, 0, "no server: give --server URL or --email ADDR");
	if (strncmp(a->url, "http://", 7) == 0 && !a->o.insecure_http)
		return fail(a, EXIT_USAGE, 0, 0,
			    "%s is plain http: the password would travel in clear text (add --insecure-http for a "
			    "loopback test server)", a->url);

	eas_account acc = EAS_ACCOUNT_INIT;
	acc.url = a->url;
	acc.user = a->user;
	acc.password = a->o.token_cmd ? NULL : a->password;
	acc.token_fn = a->o.token_cmd ? token_from_command : NULL;
	acc.token_user_data = a;
	acc.device_id = a->device_id;
	acc.device_type = "EasSync";
	acc.versions = versions;
	/* the version an earlier run negotiated (the store also keeps it) */
	char saved_version[16] = "";
	unsigned saved = 0;
	if (!versions && account_value_get(a, "version", saved_version, sizeof saved_version) == 0 &&
	    eas_protocol_version_parse(&saved, saved_version) == 0)
		acc.protocol_version = saved;
	acc.device.model = "eas-sync";
	acc.device.friendly_name = "libeas eas-sync";
	acc.device.os = "libeas";
	acc.device.os_language = "en";
	acc.allow_plain_http = a->o.insecure_http;
	eas_session_options so = EAS_SESSION_OPTIONS_INIT;
	so.platform = app_platform(a);
	/* one retry for an interactive command (the user is waiting); push keeps the engine's patience */
	if (strcmp(a->o.command, "push") != 0)
		so.max_retries = 1;
	so.request_timeout_ms = (uint32_t)(a->o.timeout_s > 3600 ? 3600000 : a->o.timeout_s * 1000);
	rc = eas_session_new(&a->session, &acc, &so);
	if (rc)
		return fail(a, EXIT_USAGE, 0, 0, "bad account settings (URL %s, user %s): %s", a->url, a->user,
			    eas_strerror(rc));
	if ((rc = eas_session_set_store(a->session, a->store)) != 0)
		return fail(a, EXIT_LOCAL, 0, 0, "cannot attach the state store: %s", eas_strerror(rc));
	eas_sync_settings ss = EAS_SYNC_SETTINGS_INIT;
	ss.window_size = (uint32_t)a->o.window;
	if (a->o.heartbeat) {
		ss.heartbeat_min_s = (uint32_t)a->o.heartbeat;
		ss.heartbeat_max_s = (uint32_t)a->o.heartbeat;
	}
	eas_session_set_sync_settings(a->session, &ss);

	/* Remember the account (never the password). */
	account_value_set(a, "url", a->url);
	account_value_set(a, "user", a->user);
	account_value_set(a, "device_id", a->device_id);
	if (a->email[0])
		account_value_set(a, "email", a->email);

	/* OPTIONS and Provision, unless an earlier run left a version and a policy key. */
	char version[16] = "", key[64] = "";
	account_value_get(a, "version", version, sizeof version);
	a->store->value_get(a->store, "policy_key", key, sizeof key);
	if (version[0] && key[0] && strcmp(key, "0") != 0 && !a->o.protocol_version)
		return 0;
	if ((rc = eas_session_connect(a->session)) != 0)
		return fail(a, EXIT_FAILED, 0, 0, "cannot connect: %s", eas_strerror(rc));
	rc = drive(a, on_connect_event, NULL, NULL, now_ms() + (uint64_t)a->o.timeout_s * 1000u);
	if (rc == -1)
		return fail(a, EXIT_NETWORK, 0, 0, "%s did not answer within %ld s", a->url, a->o.timeout_s);
	if (rc == -2)
		return fail(a, EXIT_FAILED, 0, 0, "interrupted");
	return rc;
}

void account_close(app *a)
{
	/* the transport first: a request still pending must not complete into a freed session */
	if (a->curl) {
		driver_detach(a);
		eas_curl_transport_free(a->curl);
	}
	a->curl = NULL;
	if (a->session)
		eas_session_free(a->session);
	a->session = NULL;
	if (a->store)
		a->store->close(a->store);
	a->store = NULL;
	if (a->password) {
		volatile char *p = a->password;
		while (*p)
			*p++ = 0;
		free(a->password);
		a->password = NULL;
	}
	volatile char *t = a->token;
	for (size_t i = 0; i < sizeof a->token; i++)
		t[i] = 0;
}

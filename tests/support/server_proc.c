/* The companion server as a child process (see server_proc.h). */
#include "server_proc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

int server_proc_wait(pid_t pid, int *status, unsigned timeout_ms)
{
	for (unsigned waited = 0;; waited += 10) {
		pid_t r = waitpid(pid, status, WNOHANG);
		if (r == pid || (r < 0 && errno != EINTR))
			return 1;
		if (waited >= timeout_ms)
			return 0;
		sleep_ms(10);
	}
}

int server_proc_run(char *const argv[], unsigned timeout_s)
{
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		if (null >= 0)
			dup2(null, STDOUT_FILENO);
		execv(argv[0], argv);
		_exit(127);
	}
	int status = 0;
	if (!server_proc_wait(pid, &status, timeout_s * 1000u)) {
		fprintf(stderr, "%s %s: still running after %u s, killed\n", argv[0], argv[1], timeout_s);
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		return -1;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int server_proc_seed(server_proc *sp, const char *exe, unsigned emails)
{
	memset(sp, 0, sizeof *sp);
	sp->exe = exe;
	snprintf(sp->dir, sizeof sp->dir, "/tmp/eas-e2e-XXXXXX");
	if (!mkdtemp(sp->dir))
		return -1;
	snprintf(sp->data, sizeof sp->data, "%s/server", sp->dir);
	snprintf(sp->db, sizeof sp->db, "%s/mailbox.db", sp->data);
	char pw[96], n[16];
	snprintf(pw, sizeof pw, "%s/pw", sp->dir);
	FILE *f = fopen(pw, "w");
	if (!f)
		return -1;
	fprintf(f, "%s\n", SERVER_PROC_PASSWORD);
	fclose(f);
	snprintf(n, sizeof n, "%u", emails);
	char *add[] = { (char *)exe, "user", "add", SERVER_PROC_USER, "--password-file", pw, "--data-dir", sp->data, NULL };
	char *seed[] = { (char *)exe, "seed-demo", SERVER_PROC_USER, "--emails", n, "--data-dir", sp->data, NULL };
	if (server_proc_run(add, 60) != 0 || server_proc_run(seed, 600) != 0) {
		fprintf(stderr, "eas-server: user add or seed-demo failed\n");
		return -1;
	}
	return 0;
}

int server_proc_start(server_proc *sp)
{
	/* stdout to a file, not a pipe: a write after the reader left would kill the server */
	char out[96], err[96];
	snprintf(out, sizeof out, "%s/server.out", sp->dir);
	snprintf(err, sizeof err, "%s/server.err", sp->dir);
	unlink(out); /* a restart must not read the previous run's "listening on" line */
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int fo = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600), fe = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fo < 0 || fe < 0)
			_exit(127);
		dup2(fo, STDOUT_FILENO);
		dup2(fe, STDERR_FILENO);
		execl(sp->exe, sp->exe, "serve", "--listen", "127.0.0.1:0", "--data-dir", sp->data, "--quiet",
		      (char *)NULL);
		_exit(127);
	}
	sp->pid = pid;
	/* "listening on http://127.0.0.1:PORT" is the first line; 30 s bound */
	const char *prefix = "listening on ";
	char line[256] = "";
	for (int tries = 0; tries < 3000; tries++) {
		FILE *f = fopen(out, "r");
		int got = f && fgets(line, sizeof line, f) && strchr(line, '\n');
		if (f)
			fclose(f);
		if (got)
			break;
		line[0] = 0;
		int status;
		if (waitpid(pid, &status, WNOHANG) == pid) {
			sp->pid = 0;
			break;
		}
		sleep_ms(10);
	}
	char *nl = strchr(line, '\n');
	if (!nl || strncmp(line, prefix, strlen(prefix))) {
		fprintf(stderr, "eas-server serve did not start (see %s)\n", err);
		server_proc_stop(sp);
		return -1;
	}
	*nl = 0;
	snprintf(sp->url, sizeof sp->url, "%s/Microsoft-Server-ActiveSync", line + strlen(prefix));
	return 0;
}

void server_proc_stop(server_proc *sp)
{
	if (!sp->pid)
		return;
	int status;
	kill(sp->pid, SIGTERM);
	if (!server_proc_wait(sp->pid, &status, 5000)) {
		kill(sp->pid, SIGKILL);
		waitpid(sp->pid, &status, 0);
	}
	sp->pid = 0;
}

void server_proc_cleanup(server_proc *sp)
{
	server_proc_stop(sp);
	if (!sp->dir[0])
		return;
	char *rm[] = { "/bin/rm", "-rf", sp->dir, NULL };
	server_proc_run(rm, 60);
	sp->dir[0] = 0;
}

/*
 * The companion server (samples/eas-server) as a child process for client
 * end-to-end tests and benchmarks on loopback: a private data directory, a
 * user with a seeded demo mailbox, `serve --listen 127.0.0.1:0`, and the
 * base URL it printed.  Everything started here stops by itself: the server
 * gets SIGTERM, then SIGKILL after a bound, and the directory is removed.
 */
#ifndef EAS_TESTS_SERVER_PROC_H
#define EAS_TESTS_SERVER_PROC_H

#include <stdint.h>
#include <sys/types.h>

#define SERVER_PROC_USER "crash"
#define SERVER_PROC_PASSWORD "loopback-only-pw"

typedef struct server_proc {
	const char *exe;     /* the eas-server binary */
	pid_t pid;           /* the serving process, 0 when stopped */
	char dir[64];        /* private temporary directory */
	char data[96];       /* the server's --data-dir */
	char db[128];        /* the server's mailbox database, to look at what it holds */
	char url[320];       /* http://127.0.0.1:PORT/Microsoft-Server-ActiveSync */
} server_proc;

/* Creates the directory, the user and a demo mailbox of `emails` emails.  0 or -1 (message on stderr). */
int server_proc_seed(server_proc *sp, const char *exe, unsigned emails);
/* Starts serving on a free loopback port and fills sp->url.  0 or -1. */
int server_proc_start(server_proc *sp);
void server_proc_stop(server_proc *sp);
/* Stops the server if running and removes the directory. */
void server_proc_cleanup(server_proc *sp);

/* Runs argv (argv[0] a path) to the end, at most timeout_s seconds; its exit status, or -1. */
int server_proc_run(char *const argv[], unsigned timeout_s);

/* Waits for pid at most timeout_ms; 1 = it ended (*status filled), 0 = still running. */
int server_proc_wait(pid_t pid, int *status, unsigned timeout_ms);

#endif

/*
 * Initial sync benchmark: a client on the public API (eas_session, SQLite
 * store, libcurl transport) syncs a fresh account of 1,000 and of 10,000
 * emails from the companion server (eas-server) on loopback.  For each size:
 * items per second and the client's peak RSS (VmHWM, measured in a fresh
 * child process per run), then the memory ratio between the two.
 *
 * Goals: >= 5,000 items/s, and flat memory (the 10k peak within 1.5x of the
 * 1k peak: items stream into the store, nothing grows with the mailbox).
 * A missed goal prints MISS but does not fail (machines differ); a sync that
 * fails or leaves items missing fails the benchmark.
 *
 *   bench_sync PATH-TO-eas-server       (meson test --benchmark sync -v)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "eas/store_sqlite.h"
#include "server_proc.h"
#include "sync_client.h"

#define GOAL_ITEMS_PER_S 5000.0
#define GOAL_RSS_RATIO 1.5

typedef struct run_result {
	int ok;
	double seconds;      /* connect + FolderSync + every Sync window */
	uint64_t added;
	uint64_t bytes;
	long peak_kb;        /* VmHWM of the client process */
	double cpu_s;        /* the client's own CPU time (user + system) */
	double server_cpu_s; /* the server's CPU time during the run */
	char message[256];
} run_result;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long vm_hwm_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;
	while (f && fgets(line, sizeof line, f))
		if (!strncmp(line, "VmHWM:", 6))
			kb = strtol(line + 6, NULL, 10);
	if (f)
		fclose(f);
	return kb;
}

/* The client, in a child process of its own so that its peak RSS is its own. */
static void client_child(const char *url, const char *db, int fd)
{
	run_result r;
	memset(&r, 0, sizeof r);
	eas_store *st;
	int rc = eas_store_sqlite_open(&st, db, NULL);
	if (rc) {
		snprintf(r.message, sizeof r.message, "open: %s", eas_strerror(rc));
	} else {
		sync_client_result sr;
		double t0 = now_s();
		rc = sync_client_run(url, "benchdevice", st, 600000u, NULL, NULL, &sr);
		r.seconds = now_s() - t0;
		r.ok = rc == 0;
		r.added = sr.added;
		r.bytes = sr.bytes;
		if (rc)
			snprintf(r.message, sizeof r.message, "%.200s (%s)", sr.message, eas_strerror(sr.error));
		st->close(st);
	}
	r.peak_kb = vm_hwm_kb();
	struct rusage ru;
	if (getrusage(RUSAGE_SELF, &ru) == 0)
		r.cpu_s = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
			  (double)ru.ru_stime.tv_usec / 1e6;
	if (write(fd, &r, sizeof r) != (ssize_t)sizeof r)
		_exit(3);
	_exit(0);
}

/* CPU seconds (user + system) a process has used so far, from /proc/PID/stat; -1 if unknown. */
static double proc_cpu_s(pid_t pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = 0;
	/* fields after the parenthesised command name: state is field 3, utime 14, stime 15 */
	char *p = strrchr(buf, ')');
	unsigned long long ut = 0, st = 0;
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static uint64_t server_count(const server_proc *sp)
{
	sqlite3 *db;
	sqlite3_stmt *q;
	uint64_t n = 0;
	if (sqlite3_open(sp->db, &db) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, "SELECT count(*) FROM items", -1, &q, NULL) == SQLITE_OK) {
		if (sqlite3_step(q) == SQLITE_ROW)
			n = (uint64_t)sqlite3_column_int64(q, 0);
		sqlite3_finalize(q);
	}
	sqlite3_close(db);
	return n;
}

typedef struct counter {
	eas_store *st;
	uint64_t items;
} counter;

static int count_folder(const eas_store_folder *f, void *ud)
{
	counter *c = ud;
	uint64_t n = 0;
	if (c->st->item_count(c->st, f->server_id, &n) == 0)
		c->items += n;
	return 0;
}

static uint64_t client_count(const char *db)
{
	counter c = { NULL, 0 };
	if (eas_store_sqlite_open(&c.st, db, NULL))
		return 0;
	c.st->folder_list(c.st, count_folder, &c);
	c.st->close(c.st);
	return c.items;
}

/* Seeds a server with `emails`, syncs a fresh client from it; 0 or -1. */
static int bench_one(const char *exe, unsigned emails, run_result *r)
{
	server_proc sp;
	memset(r, 0, sizeof *r);
	if (server_proc_seed(&sp, exe, emails) || server_proc_start(&sp)) {
		server_proc_cleanup(&sp);
		fprintf(stderr, "bench: could not start eas-server with %u emails\n", emails);
		return -1;
	}
	char db[160];
	snprintf(db, sizeof db, "%s/client.db", sp.dir);
	int p[2];
	int rc = -1;
	if (pipe(p) == 0) {
		fflush(NULL);
		double server_cpu0 = proc_cpu_s(sp.pid);
		pid_t pid = fork();
		if (pid == 0) {
			close(p[0]);
			client_child(sp.url, db, p[1]);
		}
		close(p[1]);
		ssize_t got = pid > 0 ? read(p[0], r, sizeof *r) : -1;
		close(p[0]);
		int status = 0;
		if (pid > 0)
			waitpid(pid, &status, 0);
		r->server_cpu_s = proc_cpu_s(sp.pid) - server_cpu0;
		if (got == (ssize_t)sizeof *r && r->ok)
			rc = 0;
		else
			fprintf(stderr, "bench: the %u-email sync failed: %s\n", emails,
				got == (ssize_t)sizeof *r ? r->message : "the client died");
	}
	uint64_t want = server_count(&sp), have = rc ? 0 : client_count(db);
	if (!rc && (want < emails || have != want)) {
		fprintf(stderr, "bench: %u emails: the client holds %llu items, the server %llu\n", emails,
			(unsigned long long)have, (unsigned long long)want);
		rc = -1;
	}
	server_proc_cleanup(&sp);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s PATH-TO-eas-server\n", argv[0]);
		return 2;
	}
	/* the engine's default window (100), then the largest the protocol allows (512) */
	static const unsigned sizes[] = { 1000, 10000, 10000 };
	static const uint32_t windows[] = { 0, 0, 512 };
	run_result r[3];
	int failed = 0;
	printf("initial sync from eas-server on loopback (SQLite store, WAL, synchronous=FULL)\n");
	for (int i = 0; i < 3; i++) {
		sync_client_window_size = windows[i];
		if (bench_one(argv[1], sizes[i], &r[i])) {
			failed = 1;
			continue;
		}
		double rate = (double)r[i].added / r[i].seconds;
		printf("  %6u emails, window %3u: %6.2f s (CPU: client %5.2f s, server %5.2f s)  %8.0f items/s"
		       "  %6.1f MB/s  peak RSS %6.1f MB   %s (goal >= %.0f items/s)\n",
		       sizes[i], windows[i] ? windows[i] : 100, r[i].seconds, r[i].cpu_s, r[i].server_cpu_s, rate,
		       (double)r[i].bytes / r[i].seconds / 1e6, (double)r[i].peak_kb / 1024.0,
		       rate >= GOAL_ITEMS_PER_S ? "PASS" : "MISS", GOAL_ITEMS_PER_S);
	}
	if (!failed) {
		double ratio = (double)r[1].peak_kb / (double)r[0].peak_kb;
		printf("  peak RSS 10k / 1k: %.2f   %s (goal <= %.1f: flat memory)\n", ratio,
		       ratio <= GOAL_RSS_RATIO ? "PASS" : "MISS", GOAL_RSS_RATIO);
	}
	return failed;
}

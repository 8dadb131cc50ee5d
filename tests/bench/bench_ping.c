/*
 * Ping benchmark for eas-server: N concurrent Pings held (1,000 by default;
 * 10,000 is the goal the server is built for), the server's memory with 0
 * and N holds, and how fast `eas-server deliver` reaches a held Ping.
 *
 *   1. A private data directory (under $EAS_BENCH_DIR, else $TMPDIR, else
 *      /tmp) with two users made through the store: "bench" holds the N
 *      Pings, "probe" the one whose latency is measured.
 *   2. `eas-server serve --listen 127.0.0.1:0` with --max-connections and
 *      --max-holds above N; RLIMIT_NOFILE is raised first (the child
 *      inherits it).  libmicrohttpd runs one internal epoll thread; a held
 *      Ping is a suspended connection, not a thread.
 *   3. VmRSS / VmHWM of the server (/proc/PID/status) after one request.
 *   4. N Pings of N devices of "bench" (HeartbeatInterval 900 s), sent over
 *      N sockets; the run waits until the server logged N holds, then prints
 *      the time that took and VmRSS / VmHWM again.
 *   5. D deliveries (5 by default) to "probe": each time a new Ping of the
 *      probe is held, then `eas-server deliver probe MSG` is started and the
 *      time until the Ping's answer arrives is taken (process start, MIME
 *      parse, SQLite commit, the notice on notify.sock, the wake, the HTTP
 *      answer).  min / median / max.
 *   6. One delivery to "bench": the time until all N held Pings answered.
 * The server gets SIGTERM (SIGKILL after 10 s) and the directory is removed.
 * Every wait is bounded; an alarm ends a stuck run.
 *
 * Usage: bench_ping EAS-SERVER [N] [DELIVERIES]   (or EAS_BENCH_PINGS=N)
 * Exit status 0 when every Ping was held and answered, else 1.  Figures,
 * not pass/fail targets: the latency goal (under 1 s) is printed as
 * PASS/MISS and does not fail the run.
 */
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "common/base64.h"
#include "common/buf.h"
#include "eas/wbxml.h"
#include "server/store_sqlite.h"

#define PASSWORD "bench-loopback-pw"
#define HEARTBEAT 900

static pid_t server_pid;
static char dir[256];

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* Removes path and, for a directory, what it holds (the bench's own few files). */
static void rm_tree(const char *path, int depth)
{
	struct stat st;
	if (lstat(path, &st) != 0)
		return;
	if (S_ISDIR(st.st_mode) && depth < 4) {
		DIR *d = opendir(path);
		struct dirent *e;
		while (d && (e = readdir(d)) != NULL) {
			if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
				continue;
			char sub[1024];
			snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
			rm_tree(sub, depth + 1);
		}
		if (d)
			closedir(d);
	}
	remove(path);
}

static void cleanup(void)
{
	if (server_pid > 0) {
		kill(server_pid, SIGTERM);
		int status;
		for (int i = 0; i < 100; i++) {
			if (waitpid(server_pid, &status, WNOHANG) == server_pid) {
				server_pid = 0;
				break;
			}
			usleep(100000);
		}
		if (server_pid > 0) {
			kill(server_pid, SIGKILL);
			waitpid(server_pid, &status, 0);
			server_pid = 0;
		}
	}
	if (dir[0])
		rm_tree(dir, 0);
	dir[0] = '\0';
}

static void on_alarm(int sig)
{
	(void)sig;
	static const char msg[] = "bench_ping: time limit reached, stopping\n";
	ssize_t w = write(2, msg, sizeof msg - 1);
	(void)w;
	if (server_pid > 0)
		kill(server_pid, SIGKILL);
	_exit(1);
}

#if defined(__GNUC__)
__attribute__((noreturn, format(printf, 1, 2)))
#endif
static void die(const char *fmt, ...);

static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("bench_ping: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	cleanup();
	exit(1);
}

/* ---- the server ------------------------------------------------------------------- */

static void proc_mem(pid_t pid, long *rss_kb, long *hwm_kb)
{
	char path[64], line[256];
	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	*rss_kb = *hwm_kb = -1;
	FILE *fp = fopen(path, "r");
	if (!fp)
		return;
	while (fgets(line, sizeof line, fp)) {
		if (strncmp(line, "VmRSS:", 6) == 0)
			*rss_kb = strtol(line + 6, NULL, 10);
		else if (strncmp(line, "VmHWM:", 6) == 0)
			*hwm_kb = strtol(line + 6, NULL, 10);
	}
	fclose(fp);
}

static long threads_of(pid_t pid)
{
	char path[64], line[256];
	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	long n = -1;
	FILE *fp = fopen(path, "r");
	if (!fp)
		return n;
	while (fgets(line, sizeof line, fp))
		if (strncmp(line, "Threads:", 8) == 0)
			n = strtol(line + 8, NULL, 10);
	fclose(fp);
	return n;
}

/* Users and their Inbox ServerIds, made through the store before the server runs. */
static void make_users(const char *data, char *bench_inbox, char *probe_inbox)
{
	char db[512];
	snprintf(db, sizeof db, "%s/mailbox.db", data);
	eas_mstore_sqlite_options so = EAS_MSTORE_SQLITE_OPTIONS_INIT;
	so.path = db;
	eas_mstore *st = NULL;
	if (eas_mstore_sqlite_open(&st, &so) != 0)
		die("cannot create the store %s", db);
	const char *names[2] = { "bench", "probe" };
	char *out[2] = { bench_inbox, probe_inbox };
	for (int i = 0; i < 2; i++) {
		int64_t id;
		eas_mstore_folder f;
		if (st->user_add(&id, st, names[i], PASSWORD) != 0 ||
		    st->folder_find_default(&f, st, id, EAS_MSTORE_FOLDER_INBOX) != 0)
			die("cannot add user %s", names[i]);
		snprintf(out[i], EAS_MSTORE_ID_SIZE, "%s", f.server_id);
	}
	st->destroy(st);
}

static unsigned start_server(const char *exe, const char *data, const char *log, unsigned n)
{
	int out[2];
	if (pipe(out) != 0)
		die("pipe: %s", strerror(errno));
	char conns[32], holds[32];
	snprintf(conns, sizeof conns, "%u", n + 64);
	snprintf(holds, sizeof holds, "%u", n + 16);
	server_pid = fork();
	if (server_pid < 0)
		die("fork: %s", strerror(errno));
	if (server_pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd < 0)
			_exit(127);
		dup2(out[1], 1);
		dup2(fd, 2);
		close(out[0]);
		close(out[1]);
		close(fd);
		execl(exe, exe, "serve", "--listen", "127.0.0.1:0", "--data-dir", data, "--max-connections", conns,
		      "--max-holds", holds, "--timeout", "3600", (char *)NULL);
		_exit(127);
	}
	close(out[1]);
	char buf[256];
	size_t len = 0;
	double until = now_ms() + 20000;
	while (now_ms() < until && len + 1 < sizeof buf) {
		struct pollfd p = { out[0], POLLIN, 0 };
		if (poll(&p, 1, 200) <= 0)
			continue;
		ssize_t r = read(out[0], buf + len, sizeof buf - 1 - len);
		if (r <= 0)
			break;
		len += (size_t)r;
		buf[len] = '\0';
		if (strchr(buf, '\n'))
			break;
	}
	close(out[0]);
	buf[len] = '\0';
	const char *colon = strrchr(buf, ':');
	if (!strstr(buf, "listening on http://127.0.0.1:") || !colon)
		die("the server did not start (see its log)");
	return (unsigned)strtoul(colon + 1, NULL, 10);
}

/* Lines of the server's log that contain both needles. */
static size_t log_count(const char *log, const char *a, const char *b)
{
	FILE *fp = fopen(log, "r");
	if (!fp)
		return 0;
	char line[1024];
	size_t n = 0;
	while (fgets(line, sizeof line, fp))
		if (strstr(line, a) && (!b || strstr(line, b)))
			n++;
	fclose(fp);
	return n;
}

static int wait_log(const char *log, const char *a, const char *b, size_t want, double timeout_ms)
{
	double until = now_ms() + timeout_ms;
	while (now_ms() < until) {
		if (log_count(log, a, b) >= want)
			return 0;
		usleep(20000);
	}
	return -1;
}

/* ---- HTTP over plain sockets ---------------------------------------------------------- */

static uint8_t ping_body[256];
static size_t ping_len;

static void make_ping_body(const char *inbox)
{
	eas_buf b;
	eas_buf_init(&b, NULL, sizeof ping_body);
	eas_wbxml_encoder *enc;
	char hb[16];
	snprintf(hb, sizeof hb, "%d", HEARTBEAT);
	int rc = eas_wbxml_encoder_new(&enc, eas_buf_sink, &b, EAS_PROTO_14_1, NULL);
	if (rc == 0)
		rc = eas_wbxml_encoder_start(enc, EAS_TAG_PING_PING);
	if (rc == 0)
		rc = eas_wbxml_encoder_element(enc, EAS_TAG_PING_HEARTBEAT_INTERVAL, hb);
	if (rc == 0)
		rc = eas_wbxml_encoder_start(enc, EAS_TAG_PING_FOLDERS);
	if (rc == 0)
		rc = eas_wbxml_encoder_start(enc, EAS_TAG_PING_FOLDER);
	if (rc == 0)
		rc = eas_wbxml_encoder_element(enc, EAS_TAG_PING_ID, inbox);
	if (rc == 0)
		rc = eas_wbxml_encoder_element(enc, EAS_TAG_PING_CLASS, "Email");
	for (int i = 0; rc == 0 && i < 3; i++)
		rc = eas_wbxml_encoder_end(enc);
	if (rc == 0)
		rc = eas_wbxml_encoder_finish(enc);
	eas_wbxml_encoder_free(enc);
	if (rc || b.result || b.len > sizeof ping_body)
		die("cannot encode the Ping");
	memcpy(ping_body, b.data, b.len);
	ping_len = b.len;
	eas_buf_free(&b);
}

typedef struct conn {
	int fd;
	char buf[512];
	size_t len;
	int done;   /* the whole answer arrived */
	int status; /* its HTTP status */
} conn;

static int open_ping(conn *c, unsigned port, const char *user, const char *device)
{
	memset(c, 0, sizeof *c);
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -1;
	struct sockaddr_in sa;
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		close(c->fd);
		c->fd = -1;
		return -1;
	}
	char plain[128], b64[200], head[1024];
	snprintf(plain, sizeof plain, "%s:%s", user, PASSWORD);
	eas__base64_encode(b64, (const uint8_t *)plain, strlen(plain));
	int n = snprintf(head, sizeof head,
			 "POST /Microsoft-Server-ActiveSync?Cmd=Ping&User=%s&DeviceId=%s&DeviceType=Bench HTTP/1.1\r\n"
			 "Host: 127.0.0.1\r\nAuthorization: Basic %s\r\nMS-ASProtocolVersion: 14.1\r\n"
			 "Content-Type: application/vnd.ms-sync.wbxml\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
			 user, device, b64, ping_len);
	if (write(c->fd, head, (size_t)n) != n || write(c->fd, ping_body, ping_len) != (ssize_t)ping_len) {
		close(c->fd);
		c->fd = -1;
		return -1;
	}
	fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
	return 0;
}

/* Reads what is there; sets done at the end of the answer (Content-Length reached, or EOF). */
static void conn_read(conn *c)
{
	for (;;) {
		if (c->len + 1 >= sizeof c->buf)
			c->len = 0; /* only the status line and headers matter; a long body is skipped */
		ssize_t r = read(c->fd, c->buf + c->len, sizeof c->buf - 1 - c->len);
		if (r > 0) {
			if (!c->status && c->len == 0 && r > 12 && memcmp(c->buf, "HTTP/1.", 7) == 0)
				c->status = atoi(c->buf + 9);
			c->len += (size_t)r;
			c->buf[c->len] = '\0';
			const char *end = strstr(c->buf, "\r\n\r\n");
			const char *cl = strstr(c->buf, "Content-Length: ");
			if (end && cl && c->len >= (size_t)(end + 4 - c->buf) + strtoul(cl + 16, NULL, 10)) {
				c->done = 1;
				return;
			}
			continue;
		}
		if (r == 0) {
			c->done = 1;
			return;
		}
		return; /* EAGAIN */
	}
}

static void conn_close(conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

/* Waits until every connection of cs[0..n) is done; the ms it took, or -1 at the timeout. */
static double wait_all(conn *cs, size_t n, double timeout_ms)
{
	double start = now_ms(), until = start + timeout_ms;
	struct pollfd *p = calloc(n, sizeof *p);
	size_t *idx = calloc(n, sizeof *idx);
	if (!p || !idx)
		die("out of memory");
	for (;;) {
		size_t k = 0;
		for (size_t i = 0; i < n; i++)
			if (!cs[i].done) {
				p[k].fd = cs[i].fd;
				p[k].events = POLLIN;
				p[k].revents = 0;
				idx[k++] = i;
			}
		if (k == 0)
			break;
		double left = until - now_ms();
		if (left <= 0) {
			free(p);
			free(idx);
			return -1;
		}
		int r = poll(p, k, (int)(left < 1000 ? left + 1 : 1000));
		for (size_t j = 0; r > 0 && j < k; j++)
			if (p[j].revents)
				conn_read(&cs[idx[j]]);
	}
	free(p);
	free(idx);
	return now_ms() - start;
}

static int run(char *const argv[], unsigned timeout_s)
{
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		if (null >= 0) {
			dup2(null, 1);
			close(null);
		}
		execv(argv[0], argv);
		_exit(127);
	}
	double until = now_ms() + timeout_s * 1000.0;
	int status;
	while (now_ms() < until) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		usleep(2000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return -1;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: bench_ping EAS-SERVER [N] [DELIVERIES]\n");
		return 2;
	}
	const char *exe = argv[1];
	unsigned n = 1000, deliveries = 5;
	const char *env = getenv("EAS_BENCH_PINGS");
	if (env && *env)
		n = (unsigned)strtoul(env, NULL, 10);
	if (argc > 2)
		n = (unsigned)strtoul(argv[2], NULL, 10);
	if (argc > 3)
		deliveries = (unsigned)strtoul(argv[3], NULL, 10);
	if (n == 0 || n > 100000 || deliveries == 0 || deliveries > 100) {
		fprintf(stderr, "bench_ping: N must be 1..100000 and DELIVERIES 1..100\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	signal(SIGALRM, on_alarm);
	alarm(120 + n / 20);

	/* descriptors for n sockets here, and as many in the server (which inherits the limit) */
	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	rlim_t want = (rlim_t)n * 2 + 256;
	if (rl.rlim_cur < want) {
		rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ? want : rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur < (rlim_t)n + 64)
		die("RLIMIT_NOFILE is %lu, %u Pings need more (raise the hard limit: ulimit -Hn)",
		    (unsigned long)rl.rlim_cur, n);

	const char *base = getenv("EAS_BENCH_DIR");
	if (!base || !*base)
		base = getenv("TMPDIR");
	if (!base || !*base)
		base = "/tmp";
	snprintf(dir, sizeof dir, "%s/bench-ping.XXXXXX", base);
	if (!mkdtemp(dir)) {
		dir[0] = '\0';
		die("mkdtemp under %s: %s", base, strerror(errno));
	}
	char data[320], log[320], msg[320];
	snprintf(data, sizeof data, "%s/data", dir);
	snprintf(log, sizeof log, "%s/server.log", dir);
	snprintf(msg, sizeof msg, "%s/msg.eml", dir);
	if (mkdir(data, 0700) != 0)
		die("mkdir %s: %s", data, strerror(errno));
	FILE *mf = fopen(msg, "w");
	if (!mf)
		die("cannot write %s", msg);
	fputs("From: Bench <bench@example.test>\r\nTo: probe@localhost\r\nSubject: bench delivery\r\n"
	      "Date: Tue, 1 Jul 2003 10:52:37 +0200\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nping!\r\n",
	      mf);
	fclose(mf);

	char bench_inbox[EAS_MSTORE_ID_SIZE], probe_inbox[EAS_MSTORE_ID_SIZE];
	make_users(data, bench_inbox, probe_inbox);
	unsigned port = start_server(exe, data, log, n);
	printf("bench_ping: eas-server pid %d on 127.0.0.1:%u, %u Pings, %u deliveries, data in %s\n", (int)server_pid,
	       port, n, deliveries, base);

	/* 0 holds: after one Ping answered at once (an unknown folder: Status 7), so the login is cached */
	make_ping_body("999999");
	conn warm;
	if (open_ping(&warm, port, "bench", "WARM") != 0 || wait_all(&warm, 1, 20000) < 0 || warm.status != 200)
		die("the first request failed");
	conn_close(&warm);
	make_ping_body(bench_inbox);
	long rss0, hwm0, rss1, hwm1;
	proc_mem(server_pid, &rss0, &hwm0);
	printf("  server memory, 0 holds:     VmRSS %6ld KiB  VmHWM %6ld KiB  threads %ld\n", rss0, hwm0,
	       threads_of(server_pid));

	/* N holds */
	conn *cs = calloc(n, sizeof *cs);
	if (!cs)
		die("out of memory");
	double t0 = now_ms();
	for (unsigned i = 0; i < n; i++) {
		char dev[32];
		snprintf(dev, sizeof dev, "B%06u", i);
		if (open_ping(&cs[i], port, "bench", dev) != 0)
			die("Ping %u: cannot connect or send: %s", i, strerror(errno));
	}
	if (wait_log(log, "Ping user=bench ", "http=held", n, 60000 + n * 20.0) != 0) {
		size_t held = log_count(log, "Ping user=bench ", "http=held");
		die("only %zu of %u Pings were held (server log: %s)", held, n, log);
	}
	double t_hold = now_ms() - t0;
	for (unsigned i = 0; i < n; i++) {
		conn_read(&cs[i]);
		if (cs[i].done)
			die("Ping %u was answered (HTTP %d) instead of held", i, cs[i].status);
	}
	proc_mem(server_pid, &rss1, &hwm1);
	printf("  %u Pings held in %.0f ms (%.0f Pings/s)\n", n, t_hold, n / (t_hold / 1000.0));
	printf("  server memory, %u holds:  VmRSS %6ld KiB  VmHWM %6ld KiB  threads %ld  (%.1f KiB per hold)\n", n, rss1,
	       hwm1, threads_of(server_pid), (double)(rss1 - rss0) / n);

	/* deliver -> Ping latency, on the probe */
	make_ping_body(probe_inbox);
	double *lat = calloc(deliveries, sizeof *lat);
	if (!lat)
		die("out of memory");
	char *deliver_argv[] = { (char *)exe, "deliver", "probe", msg, "--data-dir", data, NULL };
	for (unsigned d = 0; d < deliveries; d++) {
		conn probe;
		if (open_ping(&probe, port, "probe", "P1") != 0)
			die("probe Ping: %s", strerror(errno));
		if (wait_log(log, "Ping user=probe ", "http=held", d + 1, 20000) != 0)
			die("the probe's Ping %u was not held", d + 1);
		double start = now_ms();
		pid_t pid = fork();
		if (pid < 0)
			die("fork: %s", strerror(errno));
		if (pid == 0) {
			int null = open("/dev/null", O_WRONLY);
			if (null >= 0) {
				dup2(null, 1);
				close(null);
			}
			execv(exe, deliver_argv);
			_exit(127);
		}
		double took = wait_all(&probe, 1, 20000);
		int status;
		waitpid(pid, &status, 0);
		double ended = now_ms() - start;
		if (took < 0 || probe.status != 200)
			die("the probe's Ping %u was not answered after deliver (HTTP %d)", d + 1, probe.status);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			die("eas-server deliver failed");
		lat[d] = took;
		printf("  delivery %u: Ping answered %.1f ms after deliver started (deliver exited after %.1f ms)\n", d + 1,
		       took, ended);
		conn_close(&probe);
	}
	qsort(lat, deliveries, sizeof *lat, cmp_double);
	double median = deliveries % 2 ? lat[deliveries / 2] : (lat[deliveries / 2 - 1] + lat[deliveries / 2]) / 2;
	printf("  deliver -> Ping answer: min %.1f ms  median %.1f ms  max %.1f ms  [%s: goal < 1000 ms]\n", lat[0],
	       median, lat[deliveries - 1], lat[deliveries - 1] < 1000 ? "PASS" : "MISS");

	/* one delivery to bench wakes every held Ping */
	char *wake_argv[] = { (char *)exe, "deliver", "bench", msg, "--data-dir", data, NULL };
	double w0 = now_ms();
	if (run(wake_argv, 60) != 0)
		die("eas-server deliver bench failed");
	double all = wait_all(cs, n, 60000 + n * 10.0);
	size_t ok = 0;
	for (unsigned i = 0; i < n; i++)
		ok += cs[i].status == 200;
	if (all < 0 || ok != n)
		die("after a delivery to bench only %zu of %u Pings answered 200", ok, n);
	printf("  one delivery to bench: all %u Pings answered %.0f ms after deliver started\n", n, now_ms() - w0);
	long rss2, hwm2;
	proc_mem(server_pid, &rss2, &hwm2);
	printf("  server memory just after answering them all: VmRSS %6ld KiB  VmHWM %6ld KiB\n", rss2, hwm2);
	for (unsigned i = 0; i < n; i++)
		conn_close(&cs[i]);
	free(cs);
	free(lat);
	cleanup();
	printf("bench_ping: done\n");
	return 0;
}

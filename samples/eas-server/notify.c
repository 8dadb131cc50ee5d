/* Change notices between eas-server processes over a UNIX datagram socket (see notify.h). */
#include "notify.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define PREFIX "EASN1 "
#define MAX_NOTICE 512

struct notify_listener {
	int fd;
	/* notify_stop writes to stop_pipe[1]: the thread wakes on something it
	 * owns, even if the socket path was deleted or re-bound by another server */
	int stop_pipe[2];
	ino_t ino;            /* the socket file we bound, so we only unlink our own */
	pthread_t thread;
	notify_fn fn;
	void *user_data;
	struct sockaddr_un addr;
};

static int make_addr(struct sockaddr_un *sa, const char *data_dir)
{
	memset(sa, 0, sizeof *sa);
	sa->sun_family = AF_UNIX;
	int n = snprintf(sa->sun_path, sizeof sa->sun_path, "%s/%s", data_dir, EAS_NOTIFY_SOCKET_NAME);
	if (n < 0 || (size_t)n >= sizeof sa->sun_path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* A decimal id > 0 at *p, then a blank or the end. */
static int parse_id(const char **p, int64_t *out)
{
	const char *s = *p;
	int64_t v = 0;
	size_t n = 0;
	while (s[n] >= '0' && s[n] <= '9' && n < 18)
		v = v * 10 + (s[n++] - '0');
	if (!n || v <= 0 || (s[n] != ' ' && s[n] != '\0'))
		return -1;
	*out = v;
	*p = s + n + (s[n] == ' ');
	return 0;
}

/* Reads one notice; 1 when it is valid (ev filled, its strings in buf). */
static int parse_notice(char *buf, size_t len, eas_mstore_event *ev)
{
	buf[len] = '\0';
	if (len && buf[len - 1] == '\n')
		buf[--len] = '\0';
	if (strlen(buf) != len || strncmp(buf, PREFIX, strlen(PREFIX)) != 0)
		return 0;
	const char *p = buf + strlen(PREFIX);
	char kind = *p;
	if (!kind || p[1] != ' ')
		return 0;
	p += 2;
	memset(ev, 0, sizeof *ev);
	if (parse_id(&p, &ev->user_id) != 0)
		return 0;
	switch (kind) {
	case 'F':
		if (!eas_mstore_valid_text(p, EAS_MSTORE_ID_MAX) || strchr(p, ' '))
			return 0;
		ev->kind = EAS_MSTORE_EVENT_FOLDER;
		ev->folder_id = p;
		return 1;
	case 'H':
		if (*p)
			return 0;
		ev->kind = EAS_MSTORE_EVENT_HIERARCHY;
		return 1;
	case 'D':
		if (!eas_mstore_valid_text(p, EAS_MSTORE_DEVICE_ID_MAX))
			return 0;
		ev->kind = EAS_MSTORE_EVENT_DEVICE;
		ev->device_id = p;
		return 1;
	default:
		return 0;
	}
}

static void *listen_main(void *arg)
{
	notify_listener *l = arg;
	char buf[MAX_NOTICE + 1];
	for (;;) {
		struct pollfd pf[2] = { { l->fd, POLLIN, 0 }, { l->stop_pipe[0], POLLIN, 0 } };
		if (poll(pf, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pf[1].revents)
			break;
		if (!(pf[0].revents & POLLIN))
			continue;
		ssize_t n = recv(l->fd, buf, MAX_NOTICE, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
				continue;
			break;
		}
		eas_mstore_event ev;
		if (parse_notice(buf, (size_t)n, &ev))
			l->fn(&ev, l->user_data);
	}
	return NULL;
}

notify_listener *notify_listen(const char *data_dir, notify_fn fn, void *user_data, char *err, size_t err_size)
{
	notify_listener *l = calloc(1, sizeof *l);
	if (!l) {
		snprintf(err, err_size, "out of memory");
		return NULL;
	}
	l->fn = fn;
	l->user_data = user_data;
	if (make_addr(&l->addr, data_dir) != 0) {
		snprintf(err, err_size, "%s/%s: path too long for a socket", data_dir, EAS_NOTIFY_SOCKET_NAME);
		free(l);
		return NULL;
	}
	l->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (l->fd < 0) {
		snprintf(err, err_size, "socket: %s", strerror(errno));
		free(l);
		return NULL;
	}
	unlink(l->addr.sun_path); /* a stale socket of a server that did not stop cleanly */
	/* created 0600 from the start: no window in which others could send */
	mode_t old = umask(0177);
	int rc = bind(l->fd, (struct sockaddr *)&l->addr, sizeof l->addr);
	umask(old);
	struct stat st;
	if (rc != 0 || chmod(l->addr.sun_path, 0600) != 0 || stat(l->addr.sun_path, &st) != 0) {
		snprintf(err, err_size, "%s: %s", l->addr.sun_path, strerror(errno));
		close(l->fd);
		free(l);
		return NULL;
	}
	l->ino = st.st_ino;
	if (pipe(l->stop_pipe) != 0) {
		snprintf(err, err_size, "pipe: %s", strerror(errno));
		close(l->fd);
		unlink(l->addr.sun_path);
		free(l);
		return NULL;
	}
	(void)fcntl(l->stop_pipe[0], F_SETFD, FD_CLOEXEC);
	(void)fcntl(l->stop_pipe[1], F_SETFD, FD_CLOEXEC);
	if (pthread_create(&l->thread, NULL, listen_main, l) != 0) {
		snprintf(err, err_size, "cannot start the notice thread");
		close(l->stop_pipe[0]);
		close(l->stop_pipe[1]);
		close(l->fd);
		unlink(l->addr.sun_path);
		free(l);
		return NULL;
	}
	return l;
}

void notify_stop(notify_listener *l)
{
	if (!l)
		return;
	ssize_t w;
	do
		w = write(l->stop_pipe[1], "x", 1);
	while (w < 0 && errno == EINTR);
	pthread_join(l->thread, NULL);
	close(l->stop_pipe[0]);
	close(l->stop_pipe[1]);
	close(l->fd);
	/* another server may have re-bound the path since: leave its socket alone */
	struct stat st;
	if (stat(l->addr.sun_path, &st) == 0 && st.st_ino == l->ino)
		unlink(l->addr.sun_path);
	free(l);
}

int notify_send(const char *data_dir, const eas_mstore_event *event)
{
	struct sockaddr_un sa;
	if (make_addr(&sa, data_dir) != 0)
		return -1;
	char line[MAX_NOTICE];
	int n;
	switch (event->kind) {
	case EAS_MSTORE_EVENT_FOLDER:
		n = snprintf(line, sizeof line, PREFIX "F %lld %s", (long long)event->user_id,
			     event->folder_id ? event->folder_id : "");
		break;
	case EAS_MSTORE_EVENT_HIERARCHY:
		n = snprintf(line, sizeof line, PREFIX "H %lld", (long long)event->user_id);
		break;
	case EAS_MSTORE_EVENT_DEVICE:
		n = snprintf(line, sizeof line, PREFIX "D %lld %s", (long long)event->user_id,
			     event->device_id ? event->device_id : "");
		break;
	default:
		errno = EINVAL;
		return -1;
	}
	if (n < 0 || (size_t)n >= sizeof line) {
		errno = EINVAL;
		return -1;
	}
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	ssize_t sent = sendto(fd, line, (size_t)n, 0, (struct sockaddr *)&sa, sizeof sa);
	int e = errno;
	close(fd);
	if (sent == n)
		return 1;
	if (e == ENOENT || e == ECONNREFUSED)
		return 0; /* no server (or a stale socket file) */
	errno = e;
	return -1;
}

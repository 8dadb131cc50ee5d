/* POSIX default platform hooks: clocks, random bytes, stderr log. */
#include "eas/sys/platform.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static uint64_t posix_monotonic_ms(void *ud)
{
	(void)ud;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int64_t posix_wall_clock_s(void *ud)
{
	(void)ud;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec;
}

static int posix_random_bytes(unsigned char *buf, size_t len, void *ud)
{
	(void)ud;
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return EAS_E_IO;
	size_t got = 0;
	while (got < len) {
		ssize_t n = read(fd, buf + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			close(fd);
			return EAS_E_IO;
		}
		got += (size_t)n;
	}
	close(fd);
	return 0;
}

static eas_log_level threshold(void)
{
	static const char *const names[] = { "error", "warn", "info", "debug", "trace" };
	const char *env = getenv("EAS_LOG");
	if (env)
		for (int i = 0; i < 5; i++)
			if (strcmp(env, names[i]) == 0)
				return (eas_log_level)i;
	return EAS_LOG_WARN;
}

static void posix_log(eas_log_level level, const char *message, void *ud)
{
	(void)ud;
	static const char *const tags[] = { "error", "warn", "info", "debug", "trace" };
	if (level > threshold())
		return;
	fprintf(stderr, "libeas %s: %s\n", tags[level], message);
}

const eas_platform *eas_platform_posix(void)
{
	static const eas_platform posix = {
		EAS_PLATFORM_VERSION,
		posix_monotonic_ms,
		posix_wall_clock_s,
		posix_random_bytes,
		posix_log,
		NULL,
	};
	return &posix;
}

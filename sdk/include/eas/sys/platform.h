/*
 * libeas — platform hooks: the only way the engine learns the time, gets
 * random bytes or writes a log line.  A port fills an eas_platform; the POSIX
 * default is eas_platform_posix().
 */
#ifndef EAS_SYS_PLATFORM_H
#define EAS_SYS_PLATFORM_H

#include <stddef.h>
#include <stdint.h>

#include "eas/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Log levels, most severe first. */
typedef enum eas_log_level {
	EAS_LOG_ERROR = 0,
	EAS_LOG_WARN = 1,
	EAS_LOG_INFO = 2,
	EAS_LOG_DEBUG = 3,
	EAS_LOG_TRACE = 4
} eas_log_level;

#define EAS_PLATFORM_VERSION 1

typedef struct eas_platform {
	int version; /* EAS_PLATFORM_VERSION */
	/* Monotonic milliseconds (arbitrary origin). Required. */
	uint64_t (*monotonic_ms)(void *user_data);
	/* Wall-clock seconds since the Unix epoch, UTC. Required. */
	int64_t (*wall_clock_s)(void *user_data);
	/* Fills buf with len cryptographically secure random bytes; 0 or EAS_E_*. Required. */
	int (*random_bytes)(unsigned char *buf, size_t len, void *user_data);
	/* One log line without trailing newline; the engine never passes secrets. Optional. */
	void (*log)(eas_log_level level, const char *message, void *user_data);
	void *user_data;
} eas_platform;

/*
 * The POSIX default: clock_gettime, getrandom/"/dev/urandom", log to stderr
 * at EAS_LOG_WARN and above (EAS_LOG environment variable: error, warn,
 * info, debug, trace).  Static storage; never NULL.
 */
EAS_EXTERN const eas_platform *eas_platform_posix(void);

#ifdef __cplusplus
}
#endif

#endif /* EAS_SYS_PLATFORM_H */

/*
 * libeas — common definitions: export macro, error codes, allocator hooks.
 *
 * Every libeas function that can fail returns an int: 0 on success or a
 * negative EAS_E_* code.  EAS protocol Status values are data, not errors.
 */
#ifndef EAS_COMMON_H
#define EAS_COMMON_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#  define EAS_EXTERN __declspec(dllexport)
#elif defined(__GNUC__)
#  define EAS_EXTERN __attribute__((visibility("default")))
#else
#  define EAS_EXTERN
#endif

/* Error codes: always negative, 0 is success. */
typedef enum eas_error {
	EAS_OK = 0,
	EAS_E_NOMEM = -1,       /* an allocation failed */
	EAS_E_INVALID = -2,     /* bad argument from the caller */
	EAS_E_LIMIT = -3,       /* a configured size, depth or count limit was exceeded */
	EAS_E_MALFORMED = -4,   /* input does not follow the format (WBXML, XML, HTTP...) */
	EAS_E_UNSUPPORTED = -5, /* valid but not supported (feature, version, code page) */
	EAS_E_TRUNCATED = -6,   /* input ended in the middle of a unit */
	EAS_E_STATE = -7,       /* call not valid in the object's current state */
	EAS_E_PAUSED = -8,      /* a callback asked to pause; call again to resume */
	EAS_E_IO = -9,          /* the platform layer reported an I/O failure */
	EAS_E_NOTFOUND = -10,   /* a looked-up name or id does not exist */
	EAS_E_AUTH = -11,       /* authentication failed or credentials missing */
	EAS_E_TLS = -12,        /* TLS handshake or certificate verification failed */
	EAS_E_PROTOCOL = -13,   /* the peer broke the EAS protocol */
	EAS_E_CANCELLED = -14,  /* the operation was cancelled by the application */
	EAS_E_CALLBACK = -15    /* an application callback returned an error */
} eas_error;

/*
 * Returns a static, human-readable description of an EAS_E_* code (or
 * "unknown error" for values outside the enum).  Never NULL.
 */
EAS_EXTERN const char *eas_strerror(int err);

/* Returns the library version as "MAJOR.MINOR.PATCH". Static storage. */
EAS_EXTERN const char *eas_version(void);

/*
 * Allocator hooks.  Every handle copies them at creation; NULL hooks mean
 * the C library's malloc/realloc/free.  user_data is passed back unchanged.
 */
typedef struct eas_mem {
	void *(*malloc_fn)(size_t size, void *user_data);
	void *(*realloc_fn)(void *ptr, size_t size, void *user_data);
	void (*free_fn)(void *ptr, void *user_data);
	void *user_data;
} eas_mem;

/*
 * ActiveSync protocol versions, as bits so that a set of versions (what a
 * server offers, which versions allow a tag) is one unsigned int.
 */
typedef enum eas_protocol_version {
	EAS_PROTO_2_5 = 1u << 0,
	EAS_PROTO_12_0 = 1u << 1,
	EAS_PROTO_12_1 = 1u << 2,
	EAS_PROTO_14_0 = 1u << 3,
	EAS_PROTO_14_1 = 1u << 4,
	EAS_PROTO_16_0 = 1u << 5,
	EAS_PROTO_16_1 = 1u << 6
} eas_protocol_version;

#define EAS_PROTO_ALL 0x7Fu
/* v and every later version (v is one EAS_PROTO_* bit). */
#define EAS_PROTO_FROM(v) (EAS_PROTO_ALL & ~((unsigned)(v) - 1u))
/* v and every earlier version. */
#define EAS_PROTO_UPTO(v) ((unsigned)(v) | ((unsigned)(v) - 1u))

/* "2.5", "12.0", ... "16.1" for one version bit; NULL for anything else. */
EAS_EXTERN const char *eas_protocol_version_name(unsigned version);

/*
 * Parses a version as written in MS-ASProtocolVersion(s), e.g. "14.1", into
 * *out (one EAS_PROTO_* bit); EAS_E_INVALID if it is not one of the seven.
 */
EAS_EXTERN int eas_protocol_version_parse(unsigned *out, const char *text);

#ifdef __cplusplus
}
#endif

#endif /* EAS_COMMON_H */

/*
 * Self-signed test certificates made at run time with mbedTLS (an ECDSA
 * P-256 key, a CA:TRUE v3 certificate valid 2020-2049 for the names in its
 * subjectAltName), for TLS tests against in-process servers on loopback.
 * Nothing is kept on disk but the certificate file `path`, which the test
 * removes with test_cert_remove().  Test support code: failures abort the
 * current cmocka test.
 */
#ifndef EAS_TESTS_TEST_CERT_H
#define EAS_TESTS_TEST_CERT_H

#include <stddef.h>

typedef struct test_cert {
	char cert_pem[4096];
	char key_pem[4096];
	char pin[128];     /* "sha256//<base64>" of the public key (libcurl's pin form) */
	char path[64];     /* cert_pem written to a temporary file (a CA file for clients) */
} test_cert;

/* subjectAltName DER for the single address 127.0.0.1. */
extern const unsigned char test_cert_san_loopback[8];

/*
 * Makes a certificate for `subject` ("CN=...,O=...") whose subjectAltName
 * extension is the DER sequence san (san_len bytes); seed personalises the
 * random generator so two certificates differ.
 */
void test_cert_make(test_cert *out, const char *subject, const unsigned char *san, size_t san_len,
		    const char *seed);

/* Deletes the certificate file. */
void test_cert_remove(test_cert *c);

#endif

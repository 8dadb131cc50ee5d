/* Self-signed test certificates made with mbedTLS (moved here from test_transport_curl.c). */
#include "test_cert.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <mbedtls/base64.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecp.h>
#include <mbedtls/entropy.h>
#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <mbedtls/sha256.h>
#include <mbedtls/x509_crt.h>

/* SEQUENCE { [7] iPAddress 127.0.0.1 } */
const unsigned char test_cert_san_loopback[8] = { 0x30, 0x06, 0x87, 0x04, 127, 0, 0, 1 };

void test_cert_make(test_cert *out, const char *subject, const unsigned char *san, size_t san_len,
		    const char *seed)
{
	mbedtls_entropy_context ent;
	mbedtls_ctr_drbg_context drbg;
	mbedtls_pk_context key;
	mbedtls_x509write_cert crt;
	mbedtls_mpi serial;
	mbedtls_entropy_init(&ent);
	mbedtls_ctr_drbg_init(&drbg);
	mbedtls_pk_init(&key);
	mbedtls_x509write_crt_init(&crt);
	mbedtls_mpi_init(&serial);

	assert_int_equal(mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &ent,
					       (const unsigned char *)seed, strlen(seed)), 0);
	assert_int_equal(mbedtls_pk_setup(&key, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)), 0);
	assert_int_equal(mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(key),
					     mbedtls_ctr_drbg_random, &drbg), 0);
	mbedtls_x509write_crt_set_version(&crt, MBEDTLS_X509_CRT_VERSION_3);
	mbedtls_x509write_crt_set_md_alg(&crt, MBEDTLS_MD_SHA256);
	mbedtls_x509write_crt_set_subject_key(&crt, &key);
	mbedtls_x509write_crt_set_issuer_key(&crt, &key);
	assert_int_equal(mbedtls_x509write_crt_set_subject_name(&crt, subject), 0);
	assert_int_equal(mbedtls_x509write_crt_set_issuer_name(&crt, subject), 0);
	assert_int_equal(mbedtls_mpi_read_string(&serial, 10, "4242"), 0);
	assert_int_equal(mbedtls_x509write_crt_set_serial(&crt, &serial), 0);
	assert_int_equal(mbedtls_x509write_crt_set_validity(&crt, "20200101000000",
							    "20491231235959"), 0);
	assert_int_equal(mbedtls_x509write_crt_set_basic_constraints(&crt, 1, 0), 0);
	assert_int_equal(mbedtls_x509write_crt_set_subject_key_identifier(&crt), 0);
	assert_int_equal(mbedtls_x509write_crt_set_authority_key_identifier(&crt), 0);
	assert_int_equal(mbedtls_x509write_crt_set_extension(
				 &crt, MBEDTLS_OID_SUBJECT_ALT_NAME,
				 MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME), 0, san, san_len), 0);
	assert_int_equal(mbedtls_x509write_crt_pem(&crt, (unsigned char *)out->cert_pem,
						   sizeof out->cert_pem, mbedtls_ctr_drbg_random,
						   &drbg), 0);
	assert_int_equal(mbedtls_pk_write_key_pem(&key, (unsigned char *)out->key_pem,
						  sizeof out->key_pem), 0);

	/* pin: sha256 of the DER SubjectPublicKeyInfo (written at the END of der) */
	unsigned char der[512], hash[32], b64[64];
	int len = mbedtls_pk_write_pubkey_der(&key, der, sizeof der);
	assert_true(len > 0);
	assert_int_equal(mbedtls_sha256_ret(der + sizeof der - (size_t)len, (size_t)len, hash, 0), 0);
	size_t olen = 0;
	assert_int_equal(mbedtls_base64_encode(b64, sizeof b64, &olen, hash, sizeof hash), 0);
	snprintf(out->pin, sizeof out->pin, "sha256//%.*s", (int)olen, (const char *)b64);

	snprintf(out->path, sizeof out->path, "/tmp/eas-test-ca-XXXXXX");
	int fd = mkstemp(out->path);
	assert_true(fd >= 0);
	size_t n = strlen(out->cert_pem);
	assert_int_equal(write(fd, out->cert_pem, n), (ssize_t)n);
	close(fd);

	mbedtls_mpi_free(&serial);
	mbedtls_x509write_crt_free(&crt);
	mbedtls_pk_free(&key);
	mbedtls_ctr_drbg_free(&drbg);
	mbedtls_entropy_free(&ent);
}

void test_cert_remove(test_cert *c)
{
	if (c->path[0])
		unlink(c->path);
	c->path[0] = '\0';
}

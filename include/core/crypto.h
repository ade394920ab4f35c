/* Small crypto helpers on OpenSSL: random bytes, hex, SHA-256, HMAC-SHA256, constant-time
 * comparison, AES-256-GCM for secrets at rest, scrypt password hashes, and UUID v4 ids. */
#ifndef ASTRA_CORE_CRYPTO_H
#define ASTRA_CORE_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

/* Fills buf with n cryptographically random bytes; 0 or -1. */
int crypto_random(void *buf, size_t n);
/* Lower-case hex of n bytes into out (2n+1 bytes). */
void crypto_hex(const void *in, size_t n, char *out);
/* The value of one hex digit (either case), or -1. */
int crypto_hex_digit(char c);
/* Parses exactly 2n hex digits into n bytes; 0 or -1. */
int crypto_unhex(const char *hex, void *out, size_t n);
void crypto_sha256(const void *in, size_t n, uint8_t out[32]);
void crypto_hmac_sha256(const void *key, size_t keylen, const void *in, size_t n,
                        uint8_t out[32]);
/* 1 when equal. Time depends only on the lengths, never on where the bytes differ. */
int crypto_equal(const void *a, size_t alen, const void *b, size_t blen);
/* A new UUID v4 into out (37 bytes). */
void crypto_uuid(char out[37]);

/* AES-256-GCM. Sealed form: base64("v1" || 12-byte nonce || ciphertext || 16-byte tag).
 * Returns a malloc'd NUL-terminated string or NULL. */
char *crypto_seal(const uint8_t key[32], const void *plain, size_t n);
/* Opens a sealed string; returns malloc'd plaintext (NUL-terminated, length in *n) or NULL
 * when the tag does not verify. */
char *crypto_open(const uint8_t key[32], const char *sealed, size_t *n);

/* Standard base64 (with padding). Returns malloc'd strings / buffers or NULL. */
char *crypto_b64_encode(const void *in, size_t n);
void *crypto_b64_decode(const char *in, size_t *n);

/* Password hashing with scrypt (OpenSSL EVP_PBE_scrypt): N = 2^15, r = 8, p = 1, a 16-byte
 * random salt and a 32-byte key, stored as "scrypt$15$8$1$<salt b64>$<hash b64>" (standard
 * base64), so that the cost can be raised later without breaking stored hashes: verify reads
 * the parameters from the string. Each call costs ~50-100 ms of CPU and 32 MiB of memory:
 * never call these on the loop thread (the portal runs them on the libuv thread pool). They
 * are thread-safe: no shared state besides OpenSSL's own, which is. */
/* A malloc'd hash string, or NULL (out of memory, no randomness). */
char *crypto_password_hash(const char *password);
/* 1 when password matches stored, 0 when it does not, -1 when stored is not a hash this
 * function understands (or its parameters are outside sane bounds). The comparison is in
 * constant time. */
int crypto_password_verify(const char *password, const char *stored);

/* Overwrites n bytes at p with zeros in a way the compiler cannot drop (for keys and
 * secrets about to be freed). p may be NULL when n is 0. */
void crypto_wipe(void *p, size_t n);

#endif

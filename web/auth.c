/* web/auth.c — users, roles, sessions, API tokens, CSRF tokens and login throttling (web/auth.h).
 *
 * Passwords are checked with crypt_rn(3) (libxcrypt) into a struct crypt_data on the heap, never
 * under the mutex. Session ids are kept only as their SHA-256; API tokens are configured as their
 * SHA-256. SHA-256 is written here from FIPS 180-4 so the module needs no crypto library. */
#include "web/auth.h"
#include "web/http_internal.h"

#include <crypt.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#define USER_NAME_MAX 64        /* bytes of a configured user or token name */
#define PASSWORD_MAX 1024       /* longer passwords are wrong (crypt refuses them anyway) */
#define BEARER_MAX 512          /* longer bearer tokens are wrong */
#define SESSION_HOURS_MAX (24.0 * 366 * 10)
#define HASHING_MAX 1           /* password checks at once: a yescrypt check takes ~16 MiB, and the
                                   throttle must see each failure before the next check starts */

/* ---- SHA-256 (FIPS 180-4) -------------------------------------------------------------------- */

typedef struct sha256_ctx {
    uint32_t h[8];
    uint8_t block[64];
    size_t fill;     /* bytes in block */
    uint64_t total;  /* bytes hashed */
} sha256_ctx;

static const uint32_t sha256_k[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static uint32_t rotr32(uint32_t x, unsigned n) { return (x >> n) | (x << (32 - n)); }

static void sha256_init(sha256_ctx *c)
{
    static const uint32_t h0[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                    0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };
    memcpy(c->h, h0, sizeof h0);
    c->fill = 0;
    c->total = 0;
}

static void sha256_block(sha256_ctx *c, const uint8_t *p)
{
    uint32_t w[64];
    for (int t = 0; t < 16; t++)
        w[t] = (uint32_t)p[4 * t] << 24 | (uint32_t)p[4 * t + 1] << 16 | (uint32_t)p[4 * t + 2] << 8 |
               (uint32_t)p[4 * t + 3];
    for (int t = 16; t < 64; t++) {
        uint32_t s0 = rotr32(w[t - 15], 7) ^ rotr32(w[t - 15], 18) ^ (w[t - 15] >> 3);
        uint32_t s1 = rotr32(w[t - 2], 17) ^ rotr32(w[t - 2], 19) ^ (w[t - 2] >> 10);
        w[t] = w[t - 16] + s0 + w[t - 7] + s1;
    }
    uint32_t a = c->h[0], b = c->h[1], cc = c->h[2], d = c->h[3];
    uint32_t e = c->h[4], f = c->h[5], g = c->h[6], h = c->h[7];
    for (int t = 0; t < 64; t++) {
        uint32_t S1 = rotr32(e, 6) ^ rotr32(e, 11) ^ rotr32(e, 25);
        uint32_t ch = (e & f) ^ (~e & g);
        uint32_t t1 = h + S1 + ch + sha256_k[t] + w[t];
        uint32_t S0 = rotr32(a, 2) ^ rotr32(a, 13) ^ rotr32(a, 22);
        uint32_t maj = (a & b) ^ (a & cc) ^ (b & cc);
        uint32_t t2 = S0 + maj;
        h = g;
        g = f;
        f = e;
        e = d + t1;
        d = cc;
        cc = b;
        b = a;
        a = t1 + t2;
    }
    c->h[0] += a;
    c->h[1] += b;
    c->h[2] += cc;
    c->h[3] += d;
    c->h[4] += e;
    c->h[5] += f;
    c->h[6] += g;
    c->h[7] += h;
}

static void sha256_update(sha256_ctx *c, const void *data, size_t len)
{
    const uint8_t *p = data;
    c->total += len;
    while (len > 0) {
        if (c->fill == 0 && len >= 64) {
            sha256_block(c, p);
            p += 64;
            len -= 64;
            continue;
        }
        size_t n = 64 - c->fill < len ? 64 - c->fill : len;
        memcpy(c->block + c->fill, p, n);
        c->fill += n;
        p += n;
        len -= n;
        if (c->fill == 64) {
            sha256_block(c, c->block);
            c->fill = 0;
        }
    }
}

static void sha256_final(sha256_ctx *c, uint8_t out[32])
{
    uint64_t bits = c->total * 8;
    c->block[c->fill++] = 0x80;
    if (c->fill > 56) {
        memset(c->block + c->fill, 0, 64 - c->fill);
        sha256_block(c, c->block);
        c->fill = 0;
    }
    memset(c->block + c->fill, 0, 56 - c->fill);
    for (int i = 0; i < 8; i++)
        c->block[56 + i] = (uint8_t)(bits >> (56 - 8 * i));
    sha256_block(c, c->block);
    for (int i = 0; i < 8; i++) {
        out[4 * i] = (uint8_t)(c->h[i] >> 24);
        out[4 * i + 1] = (uint8_t)(c->h[i] >> 16);
        out[4 * i + 2] = (uint8_t)(c->h[i] >> 8);
        out[4 * i + 3] = (uint8_t)c->h[i];
    }
    explicit_bzero(c, sizeof *c);
}

static void sha256(const void *data, size_t len, uint8_t out[32])
{
    sha256_ctx c;
    sha256_init(&c);
    sha256_update(&c, data, len);
    sha256_final(&c, out);
}

void web_auth_sha256_hex(const void *data, size_t len, char *hex)
{
    static const char digits[] = "0123456789abcdef";
    uint8_t d[32];
    sha256(data, len, d);
    for (int i = 0; i < 32; i++) {
        hex[2 * i] = digits[d[i] >> 4];
        hex[2 * i + 1] = digits[d[i] & 15];
    }
    hex[64] = '\0';
}

/* ---- small helpers ------------------------------------------------------------------------------ */

/* 1 when a and b (n bytes each) are equal; the time does not depend on where they differ. */
static int ct_equal(const void *a, const void *b, size_t n)
{
    const volatile uint8_t *x = a, *y = b;
    uint8_t diff = 0;
    for (size_t i = 0; i < n; i++)
        diff |= (uint8_t)(x[i] ^ y[i]);
    return diff == 0;
}

static int random_bytes(void *buf, size_t len)
{
    uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = getrandom(p, len, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return errno ? -errno : -EIO;
        }
        if (n == 0)
            return -EIO;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* 32 bytes → 43 characters and a NUL. */
static void b64url_32(const uint8_t in[32], char out[WEB_AUTH_TOKEN_CHARS + 1])
{
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (int i = 0; i < 32; i++) {
        acc = (acc << 8) | in[i];
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out[o++] = b64url[(acc >> bits) & 63];
        }
    }
    if (bits > 0)
        out[o++] = b64url[(acc << (6 - bits)) & 63];
    out[o] = '\0';
}

/* A fresh random token: 43 characters and a NUL. 0 or -errno. */
static int random_token(char out[WEB_AUTH_TOKEN_CHARS + 1])
{
    uint8_t r[32];
    int rc = random_bytes(r, sizeof r);
    if (rc < 0) {
        out[0] = '\0';
        return rc;
    }
    b64url_32(r, out);
    explicit_bzero(r, sizeof r);
    return 0;
}

/* 1 when s has the shape of a token: exactly 43 base64url characters. */
static int token_shaped(const char *s)
{
    size_t i = 0;
    for (; s[i] && i <= WEB_AUTH_TOKEN_CHARS; i++) {
        char ch = s[i];
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' ||
              ch == '_'))
            return 0;
    }
    return i == WEB_AUTH_TOKEN_CHARS && s[i] == '\0';
}

/* 64 hex digits → 32 bytes; 0 or -EINVAL. */
static int parse_sha256_hex(const char *hex, uint8_t out[32])
{
    if (!hex || strlen(hex) != 64)
        return -EINVAL;
    for (int i = 0; i < 32; i++) {
        int hi = web_hex_value((unsigned char)hex[2 * i]), lo = web_hex_value((unsigned char)hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -EINVAL;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

/* A configured name: 1..64 bytes, no control characters or spaces. */
static int name_ok(const char *s)
{
    if (!s)
        return 0;
    size_t n = strlen(s);
    if (n == 0 || n > USER_NAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch <= 0x20 || ch == 0x7f)
            return 0;
    }
    return 1;
}

static int role_ok(web_role r) { return r >= WEB_ROLE_NONE && r <= WEB_ROLE_ADMIN; }

static void copy_str(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* ---- roles --------------------------------------------------------------------------------------- */

const char *web_role_name(web_role r)
{
    switch (r) {
    case WEB_ROLE_VIEWER: return "viewer";
    case WEB_ROLE_OPERATOR: return "operator";
    case WEB_ROLE_ADMIN: return "admin";
    case WEB_ROLE_NONE: break;
    }
    return "none";
}

int web_role_parse(const char *name, web_role *out)
{
    static const struct { const char *name; web_role role; } roles[] = {
        { "none", WEB_ROLE_NONE }, { "viewer", WEB_ROLE_VIEWER },
        { "operator", WEB_ROLE_OPERATOR }, { "admin", WEB_ROLE_ADMIN },
    };
    if (!name)
        return -EINVAL;
    for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++)
        if (strcmp(name, roles[i].name) == 0) {
            if (out)
                *out = roles[i].role;
            return 0;
        }
    return -EINVAL;
}

/* ---- crypt(3) --------------------------------------------------------------------------------- */

static int crypt_chars_ok(const char *s)
{
    for (; *s; s++) {
        char ch = *s;
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '.' ||
              ch == '/' || ch == '$' || ch == '='))
            return 0;
    }
    return 1;
}

/* 1 when crypt(password, hash) equals hash, 0 when not, -ENOMEM. The comparison is constant time;
 * the hashing is done whatever the inputs. */
static int crypt_check(const char *hash, const char *password)
{
    struct crypt_data *cd = calloc(1, sizeof *cd);
    if (!cd)
        return -ENOMEM;
    size_t plen = strlen(password);
    const char *r = crypt_rn(plen <= PASSWORD_MAX ? password : "", hash, cd, (int)sizeof *cd);
    size_t n = strlen(hash);
    int ok = 0;
    if (r && strlen(r) == n)
        ok = ct_equal(r, hash, n);
    if (plen > PASSWORD_MAX)
        ok = 0;
    explicit_bzero(cd, sizeof *cd);
    free(cd);
    return ok;
}

int web_auth_hash_ok(const char *hash)
{
    if (!hash)
        return 0;
    size_t n = strlen(hash);
    if (n < 5 || n >= CRYPT_OUTPUT_SIZE)
        return 0;
    if (strncmp(hash, "$y$", 3) != 0 && strncmp(hash, "$6$", 3) != 0)
        return 0;
    if (!crypt_chars_ok(hash))
        return 0;
    const char *last = strrchr(hash, '$');
    if (last - hash < 3 || last[1] == '\0') /* no hash after the setting */
        return 0;
    struct crypt_data *cd = calloc(1, sizeof *cd);
    if (!cd)
        return 0;
    /* crypt with the hash as its setting gives the same setting and a hash of the same length
     * when the text is one it made; "*0"/"*1" or NULL otherwise. */
    const char *r = crypt_rn("", hash, cd, (int)sizeof *cd);
    size_t keep = (size_t)(last - hash) + 1;
    int ok = r && r[0] == '$' && strlen(r) == n && memcmp(r, hash, keep) == 0;
    explicit_bzero(cd, sizeof *cd);
    free(cd);
    return ok;
}

int web_auth_hash_password(const char *password, char *out, size_t outlen, char *err, size_t errlen)
{
    static const char *const prefixes[] = { "$y$", "$6$" };
    if (out && outlen)
        out[0] = '\0';
    if (!password || !out) {
        if (err && errlen)
            snprintf(err, errlen, "no password");
        return -EINVAL;
    }
    if (strlen(password) > PASSWORD_MAX) {
        if (err && errlen)
            snprintf(err, errlen, "the password is longer than %d bytes", PASSWORD_MAX);
        return -EINVAL;
    }
    struct crypt_data *cd = calloc(1, sizeof *cd);
    if (!cd) {
        if (err && errlen)
            snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    int rc = -ENOSYS;
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
        char salt[CRYPT_GENSALT_OUTPUT_SIZE];
        if (!crypt_gensalt_rn(prefixes[i], 0, NULL, 0, salt, (int)sizeof salt))
            continue;
        const char *r = crypt_rn(password, salt, cd, (int)sizeof *cd);
        if (!r || strncmp(r, prefixes[i], 3) != 0)
            continue;
        if (strlen(r) >= outlen) {
            rc = -ENOSPC;
            if (err && errlen)
                snprintf(err, errlen, "the hash does not fit in %zu bytes", outlen);
            break;
        }
        memcpy(out, r, strlen(r) + 1);
        rc = 0;
        break;
    }
    if (rc == -ENOSYS && err && errlen)
        snprintf(err, errlen, "libcrypt makes neither yescrypt nor sha512-crypt hashes");
    explicit_bzero(cd, sizeof *cd);
    free(cd);
    return rc;
}

int web_auth_new_token(char *token, char *sha256_hex)
{
    if (!token || !sha256_hex)
        return -EINVAL;
    int rc = random_token(token);
    if (rc < 0) {
        sha256_hex[0] = '\0';
        return rc;
    }
    web_auth_sha256_hex(token, strlen(token), sha256_hex);
    return 0;
}

/* ---- the state --------------------------------------------------------------------------------- */

typedef struct auth_user {
    char *name;
    char *hash;
    web_role role;
} auth_user;

typedef struct auth_token {
    char *name;
    uint8_t sha[32];
    web_role role;
} auth_token;

typedef struct auth_session {
    int used;
    uint8_t idhash[32];          /* SHA-256 of the session id */
    char csrf[WEB_AUTH_TOKEN_CHARS + 1];
    char user[128];
    web_role role;
    double expires_mono;         /* CLOCK_MONOTONIC (+ test offset) */
    int64_t expires_s;           /* CLOCK_REALTIME */
    uint64_t seq;                /* order of creation: the smallest is the oldest */
} auth_session;

typedef struct auth_throttle {
    int used;
    uint8_t key[32];             /* SHA-256 of kind and address or user name */
    unsigned fails;              /* failures in the current run */
    double last_fail;            /* CLOCK_MONOTONIC of the last failure */
    double locked_until;
} auth_throttle;

struct web_auth {
    pthread_mutex_t mu;
    auth_user *users;
    size_t nusers;
    auth_token *tokens;
    size_t ntokens;
    web_role anonymous;
    double session_s;
    int secure;
    char anon_csrf[WEB_AUTH_TOKEN_CHARS + 1];
    const char *dummy_hash;      /* hashed for an unknown user: the first user's (same kind and cost) */
    double clock_offset;         /* web_auth_test_clock; under mu */
    uint64_t seq;
    pthread_cond_t gate;         /* broadcast when a password check ends (under mu) */
    unsigned hashing;            /* password checks running (under mu), at most HASHING_MAX */
    auth_session sessions[WEB_AUTH_MAX_SESSIONS];
    auth_throttle throttle[WEB_AUTH_MAX_THROTTLE];
};

/* For an unknown user when no user is configured (nothing to hide then, but the same path runs):
 * `openssl passwd -6 -salt vwdummysaltvwdu dummy`. */
static const char no_user_dummy[] =
    "$6$vwdummysaltvwdu$sBZ3dpGxiNyDiLt/xBHlteQ/1rW.dVHV5JN9UefCnlZqyld.6rD0ICTJA/TK8bGZ508H8VXB4v7zKyayCzi2b.";

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Under a->mu. */
static double mono_now(const web_auth *a) { return clock_s(CLOCK_MONOTONIC) + a->clock_offset; }
static double real_now(const web_auth *a) { return clock_s(CLOCK_REALTIME) + a->clock_offset; }

void web_auth_test_clock(web_auth *a, double offset_s);
void web_auth_test_clock(web_auth *a, double offset_s)
{
    pthread_mutex_lock(&a->mu);
    a->clock_offset = offset_s;
    pthread_mutex_unlock(&a->mu);
}

static void free_config(web_auth *a)
{
    for (size_t i = 0; a->users && i < a->nusers; i++) {
        free(a->users[i].name);
        if (a->users[i].hash)
            explicit_bzero(a->users[i].hash, strlen(a->users[i].hash));
        free(a->users[i].hash);
    }
    free(a->users);
    for (size_t i = 0; a->tokens && i < a->ntokens; i++)
        free(a->tokens[i].name);
    free(a->tokens);
}

static web_auth *fail_new(web_auth *a, int locked, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static web_auth *fail_new(web_auth *a, int locked, char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    if (a) {
        free_config(a);
        if (locked) {
            pthread_cond_destroy(&a->gate);
            pthread_mutex_destroy(&a->mu);
        }
        explicit_bzero(a, sizeof *a);
        free(a);
    }
    return NULL;
}

web_auth *web_auth_new(const web_auth_config *c, char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    if (!c)
        return fail_new(NULL, 0, err, errlen, "no configuration");
    if ((c->nusers && !c->users) || (c->ntokens && !c->tokens))
        return fail_new(NULL, 0, err, errlen, "no users or tokens");
    if (!role_ok(c->anonymous))
        return fail_new(NULL, 0, err, errlen, "the anonymous role is not a role");
    web_auth *a = calloc(1, sizeof *a);
    if (!a)
        return fail_new(NULL, 0, err, errlen, "out of memory");
    if (pthread_mutex_init(&a->mu, NULL) != 0)
        return fail_new(a, 0, err, errlen, "cannot make a mutex");
    if (pthread_cond_init(&a->gate, NULL) != 0) {
        pthread_mutex_destroy(&a->mu);
        return fail_new(a, 0, err, errlen, "cannot make a condition variable");
    }
    a->anonymous = c->anonymous;
    double h = c->session_hours;
    if (!(h > 0) || !isfinite(h))
        h = 12;
    if (h > SESSION_HOURS_MAX)
        h = SESSION_HOURS_MAX;
    a->session_s = h * 3600.0;
    a->secure = c->secure_cookie ? 1 : 0;

    if (c->nusers) {
        a->users = calloc(c->nusers, sizeof *a->users);
        if (!a->users)
            return fail_new(a, 1, err, errlen, "out of memory");
    }
    for (size_t i = 0; i < c->nusers; i++) {
        const web_user *u = &c->users[i];
        if (!name_ok(u->name))
            return fail_new(a, 1, err, errlen,
                            "a user name must be 1 to 64 bytes without spaces or control characters");
        for (size_t j = 0; j < i; j++)
            if (strcmp(a->users[j].name, u->name) == 0)
                return fail_new(a, 1, err, errlen, "user \"%s\" is configured twice", u->name);
        if (u->role < WEB_ROLE_VIEWER || u->role > WEB_ROLE_ADMIN)
            return fail_new(a, 1, err, errlen, "user \"%s\" has no role (viewer, operator or admin)", u->name);
        if (!web_auth_hash_ok(u->hash))
            return fail_new(a, 1, err, errlen,
                            "user \"%s\": the password hash is not a yescrypt ($y$) or sha512-crypt ($6$) "
                            "hash this libcrypt takes",
                            u->name);
        a->users[i].name = strdup(u->name);
        a->users[i].hash = strdup(u->hash);
        a->users[i].role = u->role;
        a->nusers = i + 1;
        if (!a->users[i].name || !a->users[i].hash)
            return fail_new(a, 1, err, errlen, "out of memory");
    }
    if (c->ntokens) {
        a->tokens = calloc(c->ntokens, sizeof *a->tokens);
        if (!a->tokens)
            return fail_new(a, 1, err, errlen, "out of memory");
    }
    for (size_t i = 0; i < c->ntokens; i++) {
        const web_token *t = &c->tokens[i];
        if (!name_ok(t->name))
            return fail_new(a, 1, err, errlen,
                            "a token name must be 1 to 64 bytes without spaces or control characters");
        if (t->role < WEB_ROLE_VIEWER || t->role > WEB_ROLE_ADMIN)
            return fail_new(a, 1, err, errlen, "token \"%s\" has no role (viewer, operator or admin)", t->name);
        if (parse_sha256_hex(t->sha256, a->tokens[i].sha) < 0)
            return fail_new(a, 1, err, errlen, "token \"%s\": sha256 must be 64 hex digits", t->name);
        a->tokens[i].name = strdup(t->name);
        a->tokens[i].role = t->role;
        a->ntokens = i + 1;
        if (!a->tokens[i].name)
            return fail_new(a, 1, err, errlen, "out of memory");
    }
    a->dummy_hash = a->nusers ? a->users[0].hash : no_user_dummy;
    int rc = random_token(a->anon_csrf);
    if (rc < 0)
        return fail_new(a, 1, err, errlen, "getrandom: %s", strerror(-rc));
    return a;
}

void web_auth_free(web_auth *a)
{
    if (!a)
        return;
    free_config(a);
    pthread_cond_destroy(&a->gate);
    pthread_mutex_destroy(&a->mu);
    explicit_bzero(a, sizeof *a);
    free(a);
}

/* ---- throttling (under mu) ----------------------------------------------------------------------- */

static void throttle_key(char kind, const char *s, uint8_t key[32])
{
    sha256_ctx c;
    sha256_init(&c);
    sha256_update(&c, &kind, 1);
    sha256_update(&c, s, strlen(s));
    sha256_final(&c, key);
}

static auth_throttle *throttle_find(web_auth *a, const uint8_t key[32])
{
    for (size_t i = 0; i < WEB_AUTH_MAX_THROTTLE; i++)
        if (a->throttle[i].used && memcmp(a->throttle[i].key, key, 32) == 0)
            return &a->throttle[i];
    return NULL;
}

/* Seconds until the record lets attempts through again; 0 when it does now. */
static unsigned throttle_wait(web_auth *a, const uint8_t key[32], double now)
{
    auth_throttle *t = throttle_find(a, key);
    if (!t || t->locked_until <= now)
        return 0;
    double left = ceil(t->locked_until - now);
    return left < 1 ? 1 : (unsigned)left;
}

/* A failure. Failures count within a run that ends after a window without failures (measured
 * from the end of any lock); from the limit on, each failure locks for
 * LOCK_MIN · 2^(failures past the limit), at most the window. */
static void throttle_fail(web_auth *a, const uint8_t key[32], double now)
{
    auth_throttle *t = throttle_find(a, key);
    if (!t) {
        /* a free record; else the unlocked one whose last failure is the oldest; else (every record
         * locked) the one whose lock ends first — so a flood of new names cannot wash a lock away */
        auth_throttle *old = NULL;
        for (size_t i = 0; i < WEB_AUTH_MAX_THROTTLE; i++) {
            auth_throttle *r = &a->throttle[i];
            if (!r->used) {
                old = r;
                break;
            }
            if (!old) {
                old = r;
                continue;
            }
            int r_locked = r->locked_until > now, old_locked = old->locked_until > now;
            if (r_locked != old_locked) {
                if (!r_locked)
                    old = r;
            } else if (r_locked ? r->locked_until < old->locked_until : r->last_fail < old->last_fail) {
                old = r;
            }
        }
        t = old;
        memset(t, 0, sizeof *t);
        t->used = 1;
        memcpy(t->key, key, 32);
    }
    /* a run ends after a quiet window: no failure, and no lock, for WEB_AUTH_FAIL_WINDOW_S */
    if (t->fails > 0 && now - fmax(t->last_fail, t->locked_until) > WEB_AUTH_FAIL_WINDOW_S)
        t->fails = 0;
    if (t->fails < 1000)
        t->fails++;
    t->last_fail = now;
    if (t->fails >= WEB_AUTH_FAIL_LIMIT) {
        unsigned past = t->fails - WEB_AUTH_FAIL_LIMIT;
        double lock = WEB_AUTH_FAIL_WINDOW_S;
        if (past < 16) {
            lock = (double)WEB_AUTH_LOCK_MIN_S * (double)(1u << past);
            if (lock > WEB_AUTH_FAIL_WINDOW_S)
                lock = WEB_AUTH_FAIL_WINDOW_S;
        }
        t->locked_until = now + lock;
    }
}

static void throttle_clear(web_auth *a, const uint8_t key[32])
{
    auth_throttle *t = throttle_find(a, key);
    if (t)
        memset(t, 0, sizeof *t);
}

/* ---- sessions (under mu) ----------------------------------------------------------------------- */

static auth_session *session_find(web_auth *a, const uint8_t idhash[32])
{
    auth_session *found = NULL;
    for (size_t i = 0; i < WEB_AUTH_MAX_SESSIONS; i++) {
        auth_session *s = &a->sessions[i];
        int eq = ct_equal(s->idhash, idhash, 32);
        if (s->used && eq && !found)
            found = s;
    }
    return found;
}

static void session_end(auth_session *s) { explicit_bzero(s, sizeof *s); }

/* The slot for a new session of user: the user's own oldest when they have
 * WEB_AUTH_MAX_SESSIONS_PER_USER already (so one account logging in again and again ends only its
 * own sessions), else a free or expired one, else the oldest of all. */
static auth_session *session_slot(web_auth *a, const char *user, double now)
{
    auth_session *oldest = NULL, *free_slot = NULL, *own_oldest = NULL;
    unsigned own = 0;
    for (size_t i = 0; i < WEB_AUTH_MAX_SESSIONS; i++) {
        auth_session *s = &a->sessions[i];
        if (!s->used || s->expires_mono <= now) {
            if (!free_slot)
                free_slot = s;
            continue;
        }
        if (strcmp(s->user, user) == 0) {
            own++;
            if (!own_oldest || s->seq < own_oldest->seq)
                own_oldest = s;
        }
        if (!oldest || s->seq < oldest->seq)
            oldest = s;
    }
    if (own >= WEB_AUTH_MAX_SESSIONS_PER_USER)
        return own_oldest;
    return free_slot ? free_slot : oldest;
}

static void anonymous_principal(const web_auth *a, web_principal *out)
{
    memset(out, 0, sizeof *out);
    copy_str(out->user, sizeof out->user, "anonymous");
    out->role = a->anonymous;
    memcpy(out->csrf, a->anon_csrf, sizeof out->csrf);
    out->expires_s = 0;
    out->via_token = 0;
}

/* ---- the API ---------------------------------------------------------------------------------- */

static const auth_user *user_find(const web_auth *a, const char *name)
{
    for (size_t i = 0; i < a->nusers; i++)
        if (strcmp(a->users[i].name, name) == 0)
            return &a->users[i];
    return NULL;
}

int web_auth_login(web_auth *a, const char *user, const char *password, const char *remote, char *sid,
                   web_principal *out, unsigned *retry_after_s)
{
    if (retry_after_s)
        *retry_after_s = 0;
    if (sid)
        sid[0] = '\0';
    if (!a || !sid || !out)
        return -EINVAL;
    if (!user)
        user = "";
    if (!password)
        password = "";
    if (!remote)
        remote = "";
    uint8_t kaddr[32], kuser[32];
    throttle_key('a', remote, kaddr);
    throttle_key('u', user, kuser);

    /* The throttle is asked before the password is checked, and again once this attempt's turn
     * to check it has come: checks run one at a time (HASHING_MAX), so concurrent attempts
     * cannot all pass the throttle before any of their failures is counted, nor each hold a
     * hash's memory. */
    pthread_mutex_lock(&a->mu);
    unsigned wa, wu;
    for (;;) {
        double now = mono_now(a);
        wa = throttle_wait(a, kaddr, now);
        wu = throttle_wait(a, kuser, now);
        if (wa || wu || a->hashing < HASHING_MAX)
            break;
        pthread_cond_wait(&a->gate, &a->mu);
    }
    if (!wa && !wu)
        a->hashing++;
    pthread_mutex_unlock(&a->mu);
    if (wa || wu) {
        if (retry_after_s)
            *retry_after_s = wa > wu ? wa : wu;
        return -EAGAIN;
    }

    /* users are fixed after web_auth_new: no lock needed to read them */
    const auth_user *u = strlen(user) <= USER_NAME_MAX ? user_find(a, user) : NULL;
    int ok = crypt_check(u ? u->hash : a->dummy_hash, password);
    if (ok < 0) {
        pthread_mutex_lock(&a->mu);
        a->hashing--;
        pthread_cond_broadcast(&a->gate);
        pthread_mutex_unlock(&a->mu);
        return ok;
    }
    if (!u)
        ok = 0;

    char sid_new[WEB_AUTH_TOKEN_CHARS + 1], csrf[WEB_AUTH_TOKEN_CHARS + 1];
    int trc = 0;
    if (ok) {
        trc = random_token(sid_new);
        if (trc == 0)
            trc = random_token(csrf);
    }

    pthread_mutex_lock(&a->mu);
    a->hashing--; /* a failure is counted below, under mu, before a waiting check can go on */
    pthread_cond_broadcast(&a->gate);
    if (trc < 0) {
        pthread_mutex_unlock(&a->mu);
        return trc;
    }
    double now = mono_now(a);
    if (!ok) {
        throttle_fail(a, kaddr, now);
        throttle_fail(a, kuser, now);
        pthread_mutex_unlock(&a->mu);
        return -EACCES;
    }
    throttle_clear(a, kuser);
    auth_session *s = session_slot(a, u->name, now);
    session_end(s);
    s->used = 1;
    sha256(sid_new, WEB_AUTH_TOKEN_CHARS, s->idhash);
    memcpy(s->csrf, csrf, sizeof s->csrf);
    copy_str(s->user, sizeof s->user, u->name);
    s->role = u->role;
    s->expires_mono = now + a->session_s;
    s->expires_s = (int64_t)floor(real_now(a) + a->session_s);
    s->seq = ++a->seq;
    memset(out, 0, sizeof *out);
    copy_str(out->user, sizeof out->user, s->user);
    out->role = s->role;
    memcpy(out->csrf, s->csrf, sizeof out->csrf);
    out->expires_s = s->expires_s;
    out->via_token = 0;
    pthread_mutex_unlock(&a->mu);

    memcpy(sid, sid_new, sizeof sid_new);
    explicit_bzero(sid_new, sizeof sid_new);
    explicit_bzero(csrf, sizeof csrf);
    return 0;
}

/* "Bearer TOKEN" → the token text (not NUL-terminated at the end: *len); NULL for another scheme. */
static const char *bearer_token(const char *h, size_t *len)
{
    while (*h == ' ' || *h == '\t')
        h++;
    if (strncasecmp(h, "Bearer", 6) != 0 || (h[6] != ' ' && h[6] != '\t'))
        return NULL;
    h += 6;
    while (*h == ' ' || *h == '\t')
        h++;
    size_t n = strlen(h);
    while (n > 0 && (h[n - 1] == ' ' || h[n - 1] == '\t'))
        n--;
    *len = n;
    return h;
}

void web_auth_resolve(web_auth *a, const char *sid, const char *authorization, web_principal *out, int *stale)
{
    if (stale)
        *stale = 0;
    if (!out)
        return;
    if (!a) {
        memset(out, 0, sizeof *out);
        copy_str(out->user, sizeof out->user, "anonymous");
        return;
    }
    anonymous_principal(a, out);

    if (sid && sid[0]) {
        int found = 0;
        if (token_shaped(sid)) {
            uint8_t idhash[32];
            sha256(sid, WEB_AUTH_TOKEN_CHARS, idhash);
            pthread_mutex_lock(&a->mu);
            auth_session *s = session_find(a, idhash);
            if (s && s->expires_mono <= mono_now(a)) {
                session_end(s);
                s = NULL;
            }
            if (s) {
                found = 1;
                copy_str(out->user, sizeof out->user, s->user);
                out->role = s->role;
                memcpy(out->csrf, s->csrf, sizeof out->csrf);
                out->expires_s = s->expires_s;
            }
            pthread_mutex_unlock(&a->mu);
        }
        if (!found && stale)
            *stale = 1;
    }

    size_t tlen = 0;
    const char *tok = authorization ? bearer_token(authorization, &tlen) : NULL;
    if (tok) {
        const auth_token *match = NULL;
        if (tlen > 0 && tlen <= BEARER_MAX) {
            uint8_t h[32];
            sha256(tok, tlen, h);
            for (size_t i = 0; i < a->ntokens; i++) { /* every one, constant time */
                int eq = ct_equal(a->tokens[i].sha, h, 32);
                if (eq && !match)
                    match = &a->tokens[i];
            }
        }
        if (match) {
            memset(out, 0, sizeof *out);
            copy_str(out->user, sizeof out->user, match->name);
            out->role = match->role;
            out->csrf[0] = '\0';
            out->expires_s = 0;
            out->via_token = 1;
        } else {
            anonymous_principal(a, out);
        }
    }
}

void web_auth_logout(web_auth *a, const char *sid)
{
    if (!a || !sid || !token_shaped(sid))
        return;
    uint8_t idhash[32];
    sha256(sid, WEB_AUTH_TOKEN_CHARS, idhash);
    pthread_mutex_lock(&a->mu);
    auth_session *s = session_find(a, idhash);
    if (s)
        session_end(s);
    pthread_mutex_unlock(&a->mu);
}

int web_auth_csrf_ok(const web_principal *p, const char *given)
{
    if (!p || !given)
        return 0;
    size_t n = strnlen(p->csrf, sizeof p->csrf);
    if (n != WEB_AUTH_TOKEN_CHARS || strlen(given) != n)
        return 0;
    return ct_equal(p->csrf, given, n);
}

const char *web_auth_anonymous_csrf(const web_auth *a) { return a ? a->anon_csrf : ""; }

int web_auth_has_users(const web_auth *a) { return a && a->nusers > 0; }

void web_auth_cookie(const web_auth *a, const char *sid, char *out, size_t outlen)
{
    if (!out || outlen == 0)
        return;
    long long max_age = a ? llround(a->session_s) : 12 * 3600;
    snprintf(out, outlen, "vw_session=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%lld%s", sid ? sid : "",
             max_age, a && a->secure ? "; Secure" : "");
}

void web_auth_cookie_clear(const web_auth *a, char *out, size_t outlen)
{
    if (!out || outlen == 0)
        return;
    snprintf(out, outlen, "vw_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0%s",
             a && a->secure ? "; Secure" : "");
}

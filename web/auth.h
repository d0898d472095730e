/* web/auth.h — who may do what on the box's HTTP server: users with crypt(3) password hashes
 * (yescrypt "$y$…" or sha512-crypt "$6$…"), roles, sessions carried by random tokens, API tokens
 * for scripts (kept as SHA-256 only), CSRF tokens, and throttling of failed logins.
 *
 * Memory is bounded: at most WEB_AUTH_MAX_SESSIONS sessions (a user's own oldest is ended past
 * WEB_AUTH_MAX_SESSIONS_PER_USER, else the oldest of all to make room) and
 * WEB_AUTH_MAX_THROTTLE throttling records (the oldest forgotten). Thread-safe: one mutex, never
 * held while a password is hashed. Tokens come from getrandom(2): 32 bytes, base64url. */
#ifndef VW_WEB_AUTH_H
#define VW_WEB_AUTH_H

#include <stddef.h>
#include <stdint.h>

typedef enum web_role {
    WEB_ROLE_NONE = 0, /* not logged in (or anonymous access off) */
    WEB_ROLE_VIEWER = 1,
    WEB_ROLE_OPERATOR = 2,
    WEB_ROLE_ADMIN = 3,
} web_role;

const char *web_role_name(web_role r);                 /* "none", "viewer", "operator", "admin" */
int web_role_parse(const char *name, web_role *out);   /* 0 or -EINVAL */

#define WEB_AUTH_MAX_SESSIONS 256
#define WEB_AUTH_MAX_SESSIONS_PER_USER 16 /* a user's 17th login ends their own oldest session */
#define WEB_AUTH_MAX_THROTTLE 1024
#define WEB_AUTH_TOKEN_CHARS 43      /* 32 random bytes in base64url, no padding */
#define WEB_AUTH_FAIL_LIMIT 5        /* failures within WEB_AUTH_FAIL_WINDOW_S before throttling */
#define WEB_AUTH_FAIL_WINDOW_S 900
#define WEB_AUTH_LOCK_MIN_S 30       /* first lock; doubles per further failure, up to the window */

typedef struct web_user {
    const char *name;
    const char *hash;    /* crypt(3) text: "$y$…" or "$6$…" (others are refused by the config) */
    web_role role;
} web_user;

typedef struct web_token {
    const char *name;    /* shown as the "user" of its requests */
    const char *sha256;  /* 64 lower-case hex digits: SHA-256 of the token text */
    web_role role;
} web_token;

typedef struct web_auth_config {
    const web_user *users;
    size_t nusers;
    const web_token *tokens;
    size_t ntokens;
    web_role anonymous;  /* the role of a request without a session or token */
    double session_hours; /* a session ends this long after login (default 12) */
    int secure_cookie;   /* 1 under HTTPS: the cookie gets "; Secure" */
} web_auth_config;

typedef struct web_auth web_auth;

/* Copies the configuration (every string). NULL with err on a hash crypt(3) does not take. */
web_auth *web_auth_new(const web_auth_config *c, char *err, size_t errlen);
void web_auth_free(web_auth *a); /* accepts NULL */

typedef struct web_principal {
    char user[128];      /* user or token name; "anonymous" */
    web_role role;
    char csrf[WEB_AUTH_TOKEN_CHARS + 1]; /* the session's CSRF token ("" for bearer tokens) */
    int64_t expires_s;   /* session expiry, seconds since 1970 (0: none) */
    int via_token;       /* 1: Authorization: Bearer */
} web_principal;

/* A login attempt from address `remote`. 0: *out and sid (the session cookie's value,
 * WEB_AUTH_TOKEN_CHARS + 1 bytes) are set. -EACCES: wrong user or password (the same work is done
 * for an unknown user). -EAGAIN: throttled, *retry_after_s set; the password is not checked. */
int web_auth_login(web_auth *a, const char *user, const char *password, const char *remote,
                   char *sid, web_principal *out, unsigned *retry_after_s);
/* The principal of a request: the session cookie's value (sid, may be NULL), the Authorization
 * header (may be NULL). A bearer token that is wrong, or a session that is unknown or expired,
 * gives the anonymous role (and *stale = 1 for a session, so the cookie can be cleared). */
void web_auth_resolve(web_auth *a, const char *sid, const char *authorization, web_principal *out,
                      int *stale);
/* Ends a session (unknown: nothing). */
void web_auth_logout(web_auth *a, const char *sid);
/* 1 when given equals the principal's CSRF token (constant time); anonymous principals share a
 * token made at web_auth_new. */
int web_auth_csrf_ok(const web_principal *p, const char *given);
/* The anonymous CSRF token (for GET /api/v1/session without a session). */
const char *web_auth_anonymous_csrf(const web_auth *a);
/* 1 when any user is configured. */
int web_auth_has_users(const web_auth *a);
/* The Set-Cookie value for a new session / for clearing it. */
void web_auth_cookie(const web_auth *a, const char *sid, char *out, size_t outlen);
void web_auth_cookie_clear(const web_auth *a, char *out, size_t outlen);

/* ---- helpers for the command line (vibewatch passwd / token) ----------------------------------- */

/* A crypt(3) hash of password with a fresh salt: yescrypt when libcrypt has it, else sha512-crypt.
 * 0, or -errno with err. */
int web_auth_hash_password(const char *password, char *out, size_t outlen, char *err, size_t errlen);
/* 1 when hash is a crypt text this module accepts (yescrypt or sha512-crypt, well-formed). */
int web_auth_hash_ok(const char *hash);
/* A new random token (WEB_AUTH_TOKEN_CHARS + 1 bytes) and its SHA-256 in hex (65 bytes). 0 or -errno. */
int web_auth_new_token(char *token, char *sha256_hex);
/* SHA-256 of data in lower-case hex (65 bytes). */
void web_auth_sha256_hex(const void *data, size_t len, char *hex);

#endif

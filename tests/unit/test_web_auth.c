/* Tests of web/auth.h: SHA-256 against the FIPS 180-4 / NIST vectors, passwords against hashes
 * made by other tools, sessions, CSRF tokens, bearer tokens, cookies, throttling (on a test clock)
 * and four threads at once. Cheap sha512-crypt hashes (rounds=1000) are used where many logins
 * are needed, so the whole program stays within a few seconds. */
#include "web/auth.h"
#include "testlib.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* web/auth.c's test hook: shifts its monotonic and real-time clocks by offset_s. */
extern void web_auth_test_clock(web_auth *a, double offset_s);

/* `openssl passwd -6 -salt Qe7xRt2LmZ9bNc4W 'correct horse'` (OpenSSL 3.0, sha512-crypt) */
static const char HASH_SHA512[] =
    "$6$Qe7xRt2LmZ9bNc4W$ogcVWoWeZVkZsvF5ekBtnpq0XaccrtD9KS8Y3/4/5URgQAoLsXtYgFaDw3CnpTcs6pyRqLUxZl.HPz3wf3kQV0";
/* /usr/bin/python3 -c 'import crypt; print(crypt.crypt("correct horse", "$y$j9T$Vw3ZbT0dQk1mN2pR4sXa1/"))'
 * (yescrypt, Python 3.11's crypt module) */
static const char HASH_YESCRYPT[] = "$y$j9T$Vw3ZbT0dQk1mN2pR4sXa1/$PxQTs3Q2J0UfxhDDMWb227QDd4Hk6v8tDN.uoD9XUp4";
/* `openssl passwd -6 -salt 'rounds=1000$fastsalt12345678' 'fast pw'` (cheap: for many logins) */
static const char HASH_FAST[] =
    "$6$rounds=1000$fastsalt12345678$azIHTe2XWftDO5ZHNd2LuodK4K4OzJ5cd.PVhxBHu7bK8gPKIIu31Wc/2Egk9MWXbUXianEwHq6hW304mkxXg.";
#define PW "correct horse"
#define PW_FAST "fast pw"

static int is_b64url(const char *s, size_t n)
{
    if (strlen(s) != n)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' ||
              ch == '_'))
            return 0;
    }
    return 1;
}

/* Users: ana (sha512-crypt, operator), bo (yescrypt, admin), fast (cheap, viewer). */
static web_auth *make_auth(web_role anonymous, double hours, int secure, const web_token *tokens, size_t ntokens)
{
    static const web_user users[] = {
        { "fast", HASH_FAST, WEB_ROLE_VIEWER },
        { "ana", HASH_SHA512, WEB_ROLE_OPERATOR },
        { "bo", HASH_YESCRYPT, WEB_ROLE_ADMIN },
    };
    web_auth_config c = { users, 3, tokens, ntokens, anonymous, hours, secure };
    char err[256] = "";
    web_auth *a = web_auth_new(&c, err, sizeof err);
    T_CHECK(a != NULL, "web_auth_new: %s", err);
    return a;
}

/* ---- SHA-256 ---------------------------------------------------------------------------------- */

static void check_sha(const void *data, size_t len, const char *want, const char *what)
{
    char hex[65];
    memset(hex, 'x', sizeof hex);
    web_auth_sha256_hex(data, len, hex);
    T_CHECK(strcmp(hex, want) == 0, "SHA-256 of %s: got %.65s, want %s", what, hex, want);
}

static void test_sha256(void)
{
    /* FIPS 180-4 examples / NIST CAVS vectors */
    check_sha("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "\"abc\"");
    check_sha("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "\"\"");
    const char *m448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    T_CHECK(strlen(m448) * 8 == 448, "the two-block message is 448 bits");
    check_sha(m448, strlen(m448), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
              "the 448-bit message");
    char *million = malloc(1000000);
    T_CHECK(million != NULL, "malloc");
    if (million) {
        memset(million, 'a', 1000000);
        check_sha(million, 1000000, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
                  "a million 'a'");
        /* padding edges (expected values from coreutils sha256sum) */
        static const struct { size_t n; const char *hex; } edges[] = {
            { 55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318" },
            { 56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a" },
            { 63, "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34" },
            { 64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb" },
            { 65, "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0" },
            { 119, "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb" },
            { 120, "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c" },
        };
        for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++) {
            char what[32];
            snprintf(what, sizeof what, "%zu 'a'", edges[i].n);
            check_sha(million, edges[i].n, edges[i].hex, what);
        }
        free(million);
    }
}

/* ---- roles, hashes ----------------------------------------------------------------------------- */

static void test_roles(void)
{
    T_CHECK(strcmp(web_role_name(WEB_ROLE_NONE), "none") == 0, "none");
    T_CHECK(strcmp(web_role_name(WEB_ROLE_VIEWER), "viewer") == 0, "viewer");
    T_CHECK(strcmp(web_role_name(WEB_ROLE_OPERATOR), "operator") == 0, "operator");
    T_CHECK(strcmp(web_role_name(WEB_ROLE_ADMIN), "admin") == 0, "admin");
    T_CHECK(strcmp(web_role_name((web_role)42), "none") == 0, "an unknown role is named none");
    static const char *names[] = { "none", "viewer", "operator", "admin" };
    for (int r = 0; r <= 3; r++) {
        web_role got = (web_role)-1;
        T_CHECK(web_role_parse(names[r], &got) == 0 && got == (web_role)r, "parse %s", names[r]);
    }
    web_role got = WEB_ROLE_ADMIN;
    T_CHECK(web_role_parse("Admin", &got) == -EINVAL, "case matters");
    T_CHECK(web_role_parse("", &got) == -EINVAL, "empty");
    T_CHECK(web_role_parse(NULL, &got) == -EINVAL, "NULL");
    T_CHECK(web_role_parse("root", &got) == -EINVAL && got == WEB_ROLE_ADMIN, "unknown: out untouched");
}

static void test_hash_ok(void)
{
    T_CHECK(web_auth_hash_ok(HASH_SHA512), "openssl's sha512-crypt hash accepted");
    T_CHECK(web_auth_hash_ok(HASH_YESCRYPT), "the yescrypt hash accepted");
    T_CHECK(web_auth_hash_ok(HASH_FAST), "sha512-crypt with rounds= accepted");
    /* `openssl passwd -1 -salt abcdefgh pw` (md5-crypt) */
    T_CHECK(!web_auth_hash_ok("$1$abcdefgh$IQtUouv7y7Q9dRWkQEPCc."), "md5-crypt refused");
    /* `openssl passwd -5 -salt abcdefgh pw` (sha256-crypt) */
    T_CHECK(!web_auth_hash_ok("$5$abcdefgh$ijtOJ//yvc/9bq1g0llFn9dB688BwBDRD90DlKKSKE1"), "sha256-crypt refused");
    T_CHECK(!web_auth_hash_ok("plain"), "plain text refused");
    T_CHECK(!web_auth_hash_ok(""), "empty refused");
    T_CHECK(!web_auth_hash_ok(NULL), "NULL refused");
    T_CHECK(!web_auth_hash_ok("$6$"), "$6$ alone refused");
    T_CHECK(!web_auth_hash_ok("$y$"), "$y$ alone refused");
    T_CHECK(!web_auth_hash_ok("$6$Qe7xRt2LmZ9bNc4W"), "a setting without a hash refused");
    T_CHECK(!web_auth_hash_ok("$6$Qe7xRt2LmZ9bNc4W$"), "an empty hash part refused");
    char cut[sizeof HASH_SHA512];
    memcpy(cut, HASH_SHA512, sizeof HASH_SHA512);
    cut[strlen(cut) - 10] = '\0';
    T_CHECK(!web_auth_hash_ok(cut), "a truncated $6$ hash refused");
    memcpy(cut, HASH_YESCRYPT, sizeof HASH_YESCRYPT);
    cut[strlen(cut) - 3] = '\0';
    T_CHECK(!web_auth_hash_ok(cut), "a truncated $y$ hash refused");
    T_CHECK(!web_auth_hash_ok("$y$j9T$Vw3ZbT0dQk1mN2pR4sXa1/$PxQTs3Q2J0Ufx:hDDMWb227QDd4Hk6v8tDN.uoD9XUp"),
            "a ':' refused");
    T_CHECK(!web_auth_hash_ok("*0"), "a failure token refused");
}

static void test_hash_password(void)
{
    char h1[256], h2[256], err[128] = "";
    T_CHECK(web_auth_hash_password("s3cret pw", h1, sizeof h1, err, sizeof err) == 0, "hash: %s", err);
    T_CHECK(t_starts_with(h1, "$y$"), "yescrypt: %s", h1);
    T_CHECK(web_auth_hash_ok(h1), "its own hash is accepted: %s", h1);
    T_CHECK(web_auth_hash_password("s3cret pw", h2, sizeof h2, err, sizeof err) == 0, "hash again: %s", err);
    T_CHECK(strcmp(h1, h2) != 0, "a fresh salt each time");
    char small[20];
    T_CHECK(web_auth_hash_password("s3cret pw", small, sizeof small, err, sizeof err) == -ENOSPC,
            "too small a buffer: -ENOSPC");

    web_user u = { "cy", h1, WEB_ROLE_VIEWER };
    web_auth_config c = { &u, 1, NULL, 0, WEB_ROLE_NONE, 0, 0 };
    web_auth *a = web_auth_new(&c, err, sizeof err);
    T_CHECK(a != NULL, "web_auth_new with the new hash: %s", err);
    if (!a)
        return;
    char sid[WEB_AUTH_TOKEN_CHARS + 1];
    web_principal p;
    unsigned retry = 99;
    T_CHECK(web_auth_login(a, "cy", "s3cret pw", "127.0.0.1", sid, &p, &retry) == 0, "the hash verifies");
    T_CHECK(web_auth_login(a, "cy", "s3cret pX", "127.0.0.1", sid, &p, &retry) == -EACCES, "a wrong one does not");
    web_auth_free(a);
}

/* ---- configuration ------------------------------------------------------------------------------ */

static void test_new_refuses(void)
{
    char err[256];
    web_user bad[] = { { "ana", HASH_SHA512, WEB_ROLE_VIEWER }, { "mallory", "$1$abcdefgh$IQtUouv7y7Q9dRWkQEPCc.", WEB_ROLE_VIEWER } };
    web_auth_config c = { bad, 2, NULL, 0, WEB_ROLE_NONE, 12, 0 };
    err[0] = '\0';
    T_CHECK(web_auth_new(&c, err, sizeof err) == NULL, "md5 hash refused");
    T_CHECK(strstr(err, "mallory") != NULL, "the error names the user: %s", err);

    web_user dup[] = { { "ana", HASH_SHA512, WEB_ROLE_VIEWER }, { "ana", HASH_FAST, WEB_ROLE_ADMIN } };
    c = (web_auth_config){ dup, 2, NULL, 0, WEB_ROLE_NONE, 12, 0 };
    err[0] = '\0';
    T_CHECK(web_auth_new(&c, err, sizeof err) == NULL && strstr(err, "ana"), "a duplicate user refused: %s", err);

    char longname[80];
    memset(longname, 'n', 65);
    longname[65] = '\0';
    web_user lng = { longname, HASH_FAST, WEB_ROLE_VIEWER };
    c = (web_auth_config){ &lng, 1, NULL, 0, WEB_ROLE_NONE, 12, 0 };
    T_CHECK(web_auth_new(&c, err, sizeof err) == NULL, "a 65-byte name refused");
    longname[64] = '\0';
    web_auth *ok = web_auth_new(&c, err, sizeof err);
    T_CHECK(ok != NULL, "a 64-byte name accepted: %s", err);
    web_auth_free(ok);
    web_user ctl[] = { { "an a", HASH_FAST, WEB_ROLE_VIEWER }, { "a\nb", HASH_FAST, WEB_ROLE_VIEWER },
                       { "", HASH_FAST, WEB_ROLE_VIEWER }, { NULL, HASH_FAST, WEB_ROLE_VIEWER } };
    for (size_t i = 0; i < 4; i++) {
        c = (web_auth_config){ &ctl[i], 1, NULL, 0, WEB_ROLE_NONE, 12, 0 };
        T_CHECK(web_auth_new(&c, err, sizeof err) == NULL, "bad user name %zu refused", i);
    }
    web_user norole = { "ana", HASH_FAST, WEB_ROLE_NONE };
    c = (web_auth_config){ &norole, 1, NULL, 0, WEB_ROLE_NONE, 12, 0 };
    T_CHECK(web_auth_new(&c, err, sizeof err) == NULL, "a user without a role refused");

    web_token tk[] = { { "ci", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeg", WEB_ROLE_VIEWER },
                       { "ci", "0123456789abcdef", WEB_ROLE_VIEWER },
                       { "ci", NULL, WEB_ROLE_VIEWER },
                       { "ci", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0", WEB_ROLE_VIEWER } };
    for (size_t i = 0; i < 4; i++) {
        c = (web_auth_config){ NULL, 0, &tk[i], 1, WEB_ROLE_NONE, 12, 0 };
        err[0] = '\0';
        T_CHECK(web_auth_new(&c, err, sizeof err) == NULL && strstr(err, "ci"), "bad token sha256 %zu refused: %s",
                i, err);
    }
    T_CHECK(web_auth_new(NULL, err, sizeof err) == NULL, "no configuration");
    web_auth_free(NULL);

    /* every string is copied */
    char name[16] = "dora", hash[sizeof HASH_FAST], tname[16] = "ci", tsha[65];
    memcpy(hash, HASH_FAST, sizeof hash);
    char tok[WEB_AUTH_TOKEN_CHARS + 1];
    T_CHECK(web_auth_new_token(tok, tsha) == 0, "new token");
    web_user u = { name, hash, WEB_ROLE_OPERATOR };
    web_token t = { tname, tsha, WEB_ROLE_VIEWER };
    c = (web_auth_config){ &u, 1, &t, 1, WEB_ROLE_NONE, 12, 0 };
    web_auth *a = web_auth_new(&c, err, sizeof err);
    T_CHECK(a != NULL, "web_auth_new: %s", err);
    if (!a)
        return;
    memset(name, 'z', sizeof name - 1);
    memset(hash, 'z', sizeof hash - 1);
    memset(tname, 'z', sizeof tname - 1);
    memset(tsha, '0', 64);
    char sid[WEB_AUTH_TOKEN_CHARS + 1], authz[80];
    web_principal p;
    unsigned retry;
    T_CHECK(web_auth_login(a, "dora", PW_FAST, "127.0.0.1", sid, &p, &retry) == 0, "the user was copied");
    snprintf(authz, sizeof authz, "Bearer %s", tok);
    web_auth_resolve(a, NULL, authz, &p, NULL);
    T_CHECK(p.via_token && strcmp(p.user, "ci") == 0, "the token was copied: %s", p.user);
    T_CHECK(web_auth_has_users(a), "has users");
    web_auth_free(a);
    c = (web_auth_config){ NULL, 0, NULL, 0, WEB_ROLE_VIEWER, 12, 0 };
    a = web_auth_new(&c, err, sizeof err);
    T_CHECK(a && !web_auth_has_users(a), "no users");
    web_auth_free(a);
}

/* ---- passwords ---------------------------------------------------------------------------------- */

static void test_verify(void)
{
    web_auth *a = make_auth(WEB_ROLE_NONE, 12, 0, NULL, 0);
    if (!a)
        return;
    char sid[WEB_AUTH_TOKEN_CHARS + 1];
    web_principal p;
    unsigned retry = 7;
    T_CHECK(web_auth_login(a, "ana", PW, "10.0.0.1", sid, &p, &retry) == 0, "ana (sha512-crypt), right password");
    T_CHECK(strcmp(p.user, "ana") == 0 && p.role == WEB_ROLE_OPERATOR && !p.via_token, "ana's principal: %s %d",
            p.user, p.role);
    T_CHECK(retry == 0, "no retry-after on success");
    T_CHECK(web_auth_login(a, "ana", "correct horsE", "10.0.0.1", sid, &p, &retry) == -EACCES, "ana, wrong");
    T_CHECK(sid[0] == '\0', "no sid on failure");
    T_CHECK(web_auth_login(a, "ana", "", "10.0.0.1", sid, &p, &retry) == -EACCES, "ana, empty");
    T_CHECK(web_auth_login(a, "bo", PW, "10.0.0.2", sid, &p, &retry) == 0, "bo (yescrypt), right password");
    T_CHECK(strcmp(p.user, "bo") == 0 && p.role == WEB_ROLE_ADMIN, "bo's principal");
    T_CHECK(web_auth_login(a, "bo", "correct hors", "10.0.0.2", sid, &p, &retry) == -EACCES, "bo, wrong");
    T_CHECK(web_auth_login(a, "nobody", PW, "10.0.0.3", sid, &p, &retry) == -EACCES, "unknown user");
    T_CHECK(web_auth_login(a, "Ana", PW, "10.0.0.3", sid, &p, &retry) == -EACCES, "user names are exact");
    /* the dummy hash for unknown users is the first user's: its password must not let one in */
    T_CHECK(web_auth_login(a, "nobody", PW_FAST, "10.0.0.5", sid, &p, &retry) == -EACCES,
            "unknown user with the first user's password");
    T_CHECK(web_auth_login(a, "fast", PW_FAST, "10.0.0.3", sid, &p, &retry) == 0, "fast, right");
    T_CHECK(web_auth_login(a, "fast", PW_FAST, NULL, sid, &p, &retry) == 0, "NULL remote");
    T_CHECK(web_auth_login(a, NULL, NULL, NULL, sid, &p, &retry) == -EACCES, "NULL user and password");
    char huge[3000];
    memset(huge, 'p', sizeof huge - 1);
    huge[sizeof huge - 1] = '\0';
    T_CHECK(web_auth_login(a, huge, huge, "10.0.0.4", sid, &p, &retry) == -EACCES, "huge user and password");
    web_auth_free(a);
}

/* ---- sessions ----------------------------------------------------------------------------------- */

static void test_sessions(void)
{
    web_auth *a = make_auth(WEB_ROLE_VIEWER, 0 /* default 12 h */, 0, NULL, 0);
    if (!a)
        return;
    char sid1[WEB_AUTH_TOKEN_CHARS + 1], sid2[WEB_AUTH_TOKEN_CHARS + 1];
    web_principal p1, p2, r;
    unsigned retry;
    int stale = -1;
    time_t before = time(NULL);
    T_CHECK(web_auth_login(a, "ana", PW, "10.0.0.1", sid1, &p1, &retry) == 0, "login 1");
    T_CHECK(is_b64url(sid1, 43), "sid is 43 base64url characters: %s", sid1);
    T_CHECK(is_b64url(p1.csrf, 43), "csrf is 43 base64url characters: %s", p1.csrf);
    T_CHECK(p1.expires_s >= before + 12 * 3600 - 1 && p1.expires_s <= time(NULL) + 12 * 3600 + 1,
            "expires in 12 h: %lld", (long long)p1.expires_s);
    T_CHECK(web_auth_login(a, "ana", PW, "10.0.0.1", sid2, &p2, &retry) == 0, "login 2");
    T_CHECK(strcmp(sid1, sid2) != 0, "two logins, two sids");
    T_CHECK(strcmp(p1.csrf, p2.csrf) != 0, "two logins, two csrf tokens");
    T_CHECK(strcmp(p1.csrf, web_auth_anonymous_csrf(a)) != 0, "not the anonymous csrf");

    web_auth_resolve(a, sid1, NULL, &r, &stale);
    T_CHECK(stale == 0 && strcmp(r.user, "ana") == 0 && r.role == WEB_ROLE_OPERATOR, "resolve 1: %s %d %d", r.user,
            r.role, stale);
    T_CHECK(strcmp(r.csrf, p1.csrf) == 0 && r.expires_s == p1.expires_s && !r.via_token, "resolve 1: csrf, expiry");
    web_auth_resolve(a, sid2, NULL, &r, &stale);
    T_CHECK(stale == 0 && strcmp(r.csrf, p2.csrf) == 0, "resolve 2");

    web_auth_resolve(a, NULL, NULL, &r, &stale);
    T_CHECK(stale == 0 && strcmp(r.user, "anonymous") == 0 && r.role == WEB_ROLE_VIEWER && r.expires_s == 0,
            "no sid: anonymous viewer, not stale: %s %d %d", r.user, r.role, stale);
    T_CHECK(strcmp(r.csrf, web_auth_anonymous_csrf(a)) == 0 && is_b64url(r.csrf, 43), "anonymous csrf");
    web_auth_resolve(a, "", NULL, &r, &stale);
    T_CHECK(stale == 0 && strcmp(r.user, "anonymous") == 0, "empty sid: anonymous, not stale");
    static const char *bad[] = { "short", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                                 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA+" };
    for (size_t i = 0; i < 4; i++) {
        stale = 0;
        web_auth_resolve(a, bad[i], NULL, &r, &stale);
        T_CHECK(stale == 1 && strcmp(r.user, "anonymous") == 0 && r.role == WEB_ROLE_VIEWER,
                "bad sid %zu: anonymous and stale", i);
    }
    char almost[WEB_AUTH_TOKEN_CHARS + 2];
    memcpy(almost, sid1, sizeof sid1);
    almost[42] = almost[42] == 'A' ? 'B' : 'A';
    web_auth_resolve(a, almost, NULL, &r, &stale);
    T_CHECK(stale == 1 && strcmp(r.user, "anonymous") == 0, "one character changed: stale");
    memcpy(almost, sid1, sizeof sid1);
    almost[43] = 'A';
    almost[44] = '\0';
    web_auth_resolve(a, almost, NULL, &r, &stale);
    T_CHECK(stale == 1, "one character more: stale");

    web_auth_logout(a, sid1);
    web_auth_resolve(a, sid1, NULL, &r, &stale);
    T_CHECK(stale == 1 && strcmp(r.user, "anonymous") == 0, "after logout: anonymous and stale");
    web_auth_resolve(a, sid2, NULL, &r, &stale);
    T_CHECK(stale == 0 && strcmp(r.user, "ana") == 0, "the other session lives on");
    web_auth_logout(a, sid1);
    web_auth_logout(a, "nonsense");
    web_auth_logout(a, NULL);

    /* expiry: 12 h absolute */
    web_auth_test_clock(a, 12 * 3600 - 60);
    web_auth_resolve(a, sid2, NULL, &r, &stale);
    T_CHECK(stale == 0 && strcmp(r.user, "ana") == 0, "a minute before expiry: alive");
    web_auth_test_clock(a, 12 * 3600 + 1);
    web_auth_resolve(a, sid2, NULL, &r, &stale);
    T_CHECK(stale == 1 && strcmp(r.user, "anonymous") == 0, "after 12 h: expired");
    web_auth_test_clock(a, 0);
    web_auth_resolve(a, sid2, NULL, &r, &stale);
    T_CHECK(stale == 1, "an expired session stays ended");
    web_auth_free(a);

    /* session_hours = 1 */
    a = make_auth(WEB_ROLE_NONE, 1, 0, NULL, 0);
    if (!a)
        return;
    T_CHECK(web_auth_login(a, "fast", PW_FAST, "10.0.0.1", sid1, &p1, &retry) == 0, "login");
    web_auth_test_clock(a, 59 * 60);
    web_auth_resolve(a, sid1, NULL, &r, &stale);
    T_CHECK(stale == 0 && r.role == WEB_ROLE_VIEWER, "59 min: alive");
    web_auth_test_clock(a, 61 * 60);
    web_auth_resolve(a, sid1, NULL, &r, &stale);
    T_CHECK(stale == 1 && r.role == WEB_ROLE_NONE && strcmp(r.user, "anonymous") == 0,
            "61 min: expired, anonymous none");
    web_auth_free(a);
}

/* 20 users u00…u19 with the cheap hash: enough sessions to fill the table. */
static web_auth *make_many(void)
{
    static char names[20][8];
    static web_user users[20];
    for (int i = 0; i < 20; i++) {
        snprintf(names[i], sizeof names[i], "u%02d", i);
        users[i] = (web_user){names[i], HASH_FAST, WEB_ROLE_VIEWER};
    }
    web_auth_config c = {users, 20, NULL, 0, WEB_ROLE_NONE, 12, 0};
    char err[256] = "";
    web_auth *a = web_auth_new(&c, err, sizeof err);
    T_CHECK(a != NULL, "web_auth_new: %s", err);
    return a;
}

static int alive(web_auth *a, const char *sid)
{
    web_principal p;
    int stale = 1;
    web_auth_resolve(a, sid, NULL, &p, &stale);
    return !stale;
}

static void test_sessions_full(void)
{
    web_auth *a = make_many();
    if (!a)
        return;
    enum { N = 300 };
    static char sids[N][WEB_AUTH_TOKEN_CHARS + 1];
    web_principal p;
    unsigned retry;
    int fails = 0;
    /* 300 logins spread over 20 users (15 each, under the per-user cap): the table keeps 256 */
    for (int i = 0; i < N; i++) {
        char user[8];
        snprintf(user, sizeof user, "u%02d", i % 20);
        if (web_auth_login(a, user, PW_FAST, "10.0.0.1", sids[i], &p, &retry) != 0)
            fails++;
    }
    T_CHECK(fails == 0, "%d of %d logins failed", fails, N);
    int n_alive = 0, first_alive = -1, hole = 0;
    for (int i = 0; i < N; i++) {
        if (alive(a, sids[i])) {
            n_alive++;
            if (first_alive < 0)
                first_alive = i;
        } else if (first_alive >= 0) {
            hole = 1;
        }
    }
    T_CHECK(n_alive == WEB_AUTH_MAX_SESSIONS, "%d sessions alive, want %d", n_alive, WEB_AUTH_MAX_SESSIONS);
    T_CHECK(first_alive == N - WEB_AUTH_MAX_SESSIONS && !hole, "the oldest ended: first alive %d", first_alive);
    web_auth_resolve(a, sids[N - 1], NULL, &p, NULL);
    T_CHECK(strcmp(p.user, "u19") == 0, "the newest works: %s", p.user);
    /* an ended session makes room without ending another */
    web_auth_logout(a, sids[N - 1]);
    char sid[WEB_AUTH_TOKEN_CHARS + 1];
    T_CHECK(web_auth_login(a, "u00", PW_FAST, "10.0.0.1", sid, &p, &retry) == 0, "login");
    T_CHECK(alive(a, sids[N - WEB_AUTH_MAX_SESSIONS]), "a free slot is used before the oldest is ended");
    web_auth_free(a);
}

/* One account logging in again and again ends only its own sessions: others stay logged in. */
static void test_sessions_per_user(void)
{
    web_auth *a = make_many();
    if (!a)
        return;
    char other[WEB_AUTH_TOKEN_CHARS + 1], first[WEB_AUTH_TOKEN_CHARS + 1], last[WEB_AUTH_TOKEN_CHARS + 1];
    web_principal p;
    unsigned retry;
    T_CHECK(web_auth_login(a, "u01", PW_FAST, "10.0.0.2", other, &p, &retry) == 0, "u01 logs in");
    T_CHECK(web_auth_login(a, "u00", PW_FAST, "10.0.0.1", first, &p, &retry) == 0, "u00 logs in");
    for (int i = 0; i < 300; i++)
        T_CHECK(web_auth_login(a, "u00", PW_FAST, "10.0.0.1", last, &p, &retry) == 0, "u00 login %d", i);
    T_CHECK(alive(a, other), "another user's session survives 300 logins of u00");
    T_CHECK(!alive(a, first), "u00's oldest session ended");
    T_CHECK(alive(a, last), "u00's newest works");
    web_auth_free(a);
}

/* ---- CSRF, bearer tokens, cookies ----------------------------------------------------------------- */

static void test_csrf(void)
{
    web_auth *a = make_auth(WEB_ROLE_VIEWER, 12, 0, NULL, 0);
    if (!a)
        return;
    char sid[WEB_AUTH_TOKEN_CHARS + 1];
    web_principal p, anon;
    unsigned retry;
    T_CHECK(web_auth_login(a, "fast", PW_FAST, "10.0.0.1", sid, &p, &retry) == 0, "login");
    char tok[64];
    snprintf(tok, sizeof tok, "%s", p.csrf);
    T_CHECK(web_auth_csrf_ok(&p, tok), "its own token");
    tok[5] ^= 1;
    T_CHECK(!web_auth_csrf_ok(&p, tok), "a changed token");
    T_CHECK(!web_auth_csrf_ok(&p, ""), "empty");
    T_CHECK(!web_auth_csrf_ok(&p, NULL), "NULL");
    snprintf(tok, sizeof tok, "%.42s", p.csrf);
    T_CHECK(!web_auth_csrf_ok(&p, tok), "a prefix");
    snprintf(tok, sizeof tok, "%sx", p.csrf);
    T_CHECK(!web_auth_csrf_ok(&p, tok), "one character more");
    web_auth_resolve(a, NULL, NULL, &anon, NULL);
    T_CHECK(web_auth_csrf_ok(&anon, web_auth_anonymous_csrf(a)), "anonymous: the shared token");
    T_CHECK(!web_auth_csrf_ok(&anon, p.csrf), "anonymous: not a session's token");
    T_CHECK(!web_auth_csrf_ok(&p, web_auth_anonymous_csrf(a)), "a session: not the anonymous token");
    web_principal bearer = { .user = "ci", .role = WEB_ROLE_VIEWER, .csrf = "", .via_token = 1 };
    T_CHECK(!web_auth_csrf_ok(&bearer, ""), "a principal without a token accepts nothing");
    T_CHECK(!web_auth_csrf_ok(NULL, p.csrf), "NULL principal");
    web_auth_free(a);
}

static void test_bearer(void)
{
    char tok[WEB_AUTH_TOKEN_CHARS + 1], hex[65], hex2[65], tok2[WEB_AUTH_TOKEN_CHARS + 1];
    T_CHECK(web_auth_new_token(tok, hex) == 0, "new token");
    T_CHECK(is_b64url(tok, 43), "token is 43 base64url characters: %s", tok);
    web_auth_sha256_hex(tok, strlen(tok), hex2);
    T_CHECK(strcmp(hex, hex2) == 0 && strlen(hex) == 64, "its sha256");
    T_CHECK(web_auth_new_token(tok2, hex2) == 0 && strcmp(tok, tok2) != 0, "another token differs");
    web_token tokens[] = { { "grafana", hex2, WEB_ROLE_VIEWER }, { "ci", hex, WEB_ROLE_OPERATOR } };
    web_auth *a = make_auth(WEB_ROLE_NONE, 12, 0, tokens, 2);
    if (!a)
        return;
    char h[128];
    web_principal p;
    int stale = -1;
    static const struct { const char *before, *after; } forms[] = {
        { "Bearer ", "" }, { "bearer ", "" }, { "BEARER   ", "" }, { "Bearer\t", " " }, { "  Bearer ", "" },
    };
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        snprintf(h, sizeof h, "%s%s%s", forms[i].before, tok, forms[i].after);
        memset(&p, 0x55, sizeof p);
        web_auth_resolve(a, NULL, h, &p, &stale);
        T_CHECK(strcmp(p.user, "ci") == 0 && p.role == WEB_ROLE_OPERATOR && p.via_token == 1 && p.csrf[0] == '\0' &&
                    p.expires_s == 0 && stale == 0,
                "form %zu (\"%s\"): %.20s %d %d", i, h, p.user, p.role, p.via_token);
    }
    snprintf(h, sizeof h, "Bearer %s", tok2);
    web_auth_resolve(a, NULL, h, &p, &stale);
    T_CHECK(strcmp(p.user, "grafana") == 0 && p.role == WEB_ROLE_VIEWER && p.via_token, "the second token");

    char wrong[WEB_AUTH_TOKEN_CHARS + 1];
    memcpy(wrong, tok, sizeof tok);
    wrong[0] = wrong[0] == 'A' ? 'B' : 'A';
    snprintf(h, sizeof h, "Bearer %s", wrong);
    web_auth_resolve(a, NULL, h, &p, &stale);
    T_CHECK(strcmp(p.user, "anonymous") == 0 && p.role == WEB_ROLE_NONE && !p.via_token &&
                strcmp(p.csrf, web_auth_anonymous_csrf(a)) == 0,
            "a wrong token: anonymous");
    const char *others[] = { "Basic YWRtaW46YWRtaW4=", "Bearer", "Bearer ", "Bearerx", hex, "" };
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
        web_auth_resolve(a, NULL, others[i], &p, &stale);
        T_CHECK(strcmp(p.user, "anonymous") == 0 && !p.via_token, "\"%s\": anonymous", others[i]);
    }
    snprintf(h, sizeof h, "Basic %s", tok);
    web_auth_resolve(a, NULL, h, &p, &stale);
    T_CHECK(strcmp(p.user, "anonymous") == 0 && !p.via_token, "the right token as Basic: anonymous");
    snprintf(h, sizeof h, "Bearer%s", tok);
    web_auth_resolve(a, NULL, h, &p, &stale);
    T_CHECK(strcmp(p.user, "anonymous") == 0, "no space after Bearer: anonymous");

    /* a session and a wrong bearer token: the token decides */
    char sid[WEB_AUTH_TOKEN_CHARS + 1];
    unsigned retry;
    T_CHECK(web_auth_login(a, "ana", PW, "10.0.0.1", sid, &p, &retry) == 0, "login");
    snprintf(h, sizeof h, "Bearer %s", wrong);
    web_auth_resolve(a, sid, h, &p, &stale);
    T_CHECK(strcmp(p.user, "anonymous") == 0 && stale == 0, "session + wrong token: anonymous");
    web_auth_resolve(a, sid, "Basic eDp5", &p, &stale);
    T_CHECK(strcmp(p.user, "ana") == 0, "session + Basic: the session");
    web_auth_free(a);
}

static void test_cookie(void)
{
    char buf[256];
    web_auth *a = make_auth(WEB_ROLE_NONE, 0, 0, NULL, 0);
    web_auth *s = make_auth(WEB_ROLE_NONE, 2, 1, NULL, 0);
    if (!a || !s) {
        web_auth_free(a);
        web_auth_free(s);
        return;
    }
    const char *sid = "abcdefghijklmnopqrstuvwxyz0123456789-_ABCDE";
    web_auth_cookie(a, sid, buf, sizeof buf);
    T_CHECK(strcmp(buf, "vw_session=abcdefghijklmnopqrstuvwxyz0123456789-_ABCDE; Path=/; HttpOnly; SameSite=Strict; "
                        "Max-Age=43200") == 0,
            "cookie: %s", buf);
    web_auth_cookie(s, sid, buf, sizeof buf);
    T_CHECK(strcmp(buf, "vw_session=abcdefghijklmnopqrstuvwxyz0123456789-_ABCDE; Path=/; HttpOnly; SameSite=Strict; "
                        "Max-Age=7200; Secure") == 0,
            "secure cookie: %s", buf);
    web_auth_cookie_clear(a, buf, sizeof buf);
    T_CHECK(strcmp(buf, "vw_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0") == 0, "clear: %s", buf);
    web_auth_cookie_clear(s, buf, sizeof buf);
    T_CHECK(strcmp(buf, "vw_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0; Secure") == 0,
            "secure clear: %s", buf);
    char small[12];
    web_auth_cookie(a, sid, small, sizeof small);
    T_CHECK(strlen(small) == sizeof small - 1, "truncated, terminated");
    web_auth_free(a);
    web_auth_free(s);
}

/* ---- throttling ---------------------------------------------------------------------------------- */

static int login(web_auth *a, const char *user, const char *pw, const char *remote, unsigned *retry)
{
    char sid[WEB_AUTH_TOKEN_CHARS + 1];
    web_principal p;
    *retry = 12345;
    return web_auth_login(a, user, pw, remote, sid, &p, retry);
}

static void test_throttle(void)
{
    web_auth *a = make_auth(WEB_ROLE_NONE, 12, 0, NULL, 0);
    if (!a)
        return;
    unsigned retry;
    for (int i = 0; i < WEB_AUTH_FAIL_LIMIT; i++) {
        int rc = login(a, "fast", "nope", "10.1.1.1", &retry);
        T_CHECK(rc == -EACCES && retry == 0, "failure %d: %d, retry %u", i + 1, rc, retry);
    }
    int rc = login(a, "fast", PW_FAST, "10.1.1.1", &retry);
    T_CHECK(rc == -EAGAIN && retry == 30, "after 5 failures the right password: %d, retry %u (want -EAGAIN, 30)", rc,
            retry);
    web_auth_test_clock(a, 10);
    rc = login(a, "fast", PW_FAST, "10.1.1.1", &retry);
    T_CHECK(rc == -EAGAIN && retry == 20, "10 s later: %d, retry %u (want 20)", rc, retry);
    web_auth_test_clock(a, 31);
    rc = login(a, "fast", PW_FAST, "10.1.1.1", &retry);
    T_CHECK(rc == 0, "31 s later the right password works: %d", rc);
    web_auth_free(a);

    /* doubling, capped at the window */
    a = make_auth(WEB_ROLE_NONE, 12, 0, NULL, 0);
    if (!a)
        return;
    for (int i = 0; i < WEB_AUTH_FAIL_LIMIT; i++)
        login(a, "fast", "nope", "10.1.1.2", &retry);
    double t = 0;
    unsigned want = 30;
    for (int step = 0; step < 8; step++) { /* 30 60 120 240 480 900 900 900 */
        rc = login(a, "fast", PW_FAST, "10.1.1.2", &retry);
        T_CHECK(rc == -EAGAIN && retry == want, "step %d: %d, retry %u, want %u", step, rc, retry, want);
        t += want + 1;
        web_auth_test_clock(a, t);
        rc = login(a, "fast", "nope", "10.1.1.2", &retry);
        T_CHECK(rc == -EACCES, "step %d: the lock ended, a wrong password: %d", step, rc);
        want = want * 2 > WEB_AUTH_FAIL_WINDOW_S ? WEB_AUTH_FAIL_WINDOW_S : want * 2;
    }
    rc = login(a, "fast", PW_FAST, "10.1.1.2", &retry);
    T_CHECK(rc == -EAGAIN && retry == 900, "capped at 900: %d, retry %u", rc, retry);
    /* a quiet window after the lock, the record starts over */
    t += 900 + WEB_AUTH_FAIL_WINDOW_S - 5;
    web_auth_test_clock(a, t);
    rc = login(a, "fast", "nope", "10.1.1.2", &retry);
    T_CHECK(rc == -EACCES, "not quite a window after the lock: %d", rc);
    rc = login(a, "fast", PW_FAST, "10.1.1.2", &retry);
    T_CHECK(rc == -EAGAIN && retry == 900, "still locked for 900 s: %d %u", rc, retry);
    t += 900 + WEB_AUTH_FAIL_WINDOW_S + 1;
    web_auth_test_clock(a, t);
    rc = login(a, "fast", "nope", "10.1.1.2", &retry);
    T_CHECK(rc == -EACCES, "a window later: a wrong password is just wrong: %d", rc);
    rc = login(a, "fast", PW_FAST, "10.1.1.2", &retry);
    T_CHECK(rc == 0, "and the right one works: %d", rc);
    web_auth_free(a);
}

static void test_throttle_keys(void)
{
    web_auth *a = make_auth(WEB_ROLE_NONE, 12, 0, NULL, 0);
    if (!a)
        return;
    unsigned retry;
    int rc;
    /* user record: five failures for fast, from five addresses */
    char addr[32];
    for (int i = 0; i < WEB_AUTH_FAIL_LIMIT; i++) {
        snprintf(addr, sizeof addr, "10.2.0.%d", i);
        login(a, "fast", "nope", addr, &retry);
    }
    rc = login(a, "fast", PW_FAST, "10.2.9.9", &retry);
    T_CHECK(rc == -EAGAIN && retry == 30, "the same user from another address: %d %u", rc, retry);
    rc = login(a, "ana", PW, "10.2.0.1", &retry);
    T_CHECK(rc == 0, "another user from one of those addresses: %d", rc);

    /* address record: five users from one address */
    for (int i = 0; i < WEB_AUTH_FAIL_LIMIT; i++) {
        snprintf(addr, sizeof addr, "ghost%d", i);
        login(a, addr, "nope", "10.3.0.1", &retry);
    }
    rc = login(a, "ana", PW, "10.3.0.1", &retry);
    T_CHECK(rc == -EAGAIN && retry == 30, "another user from the same address: %d %u", rc, retry);

    /* a user that does not exist is throttled too */
    for (int i = 0; i < WEB_AUTH_FAIL_LIMIT; i++) {
        snprintf(addr, sizeof addr, "10.4.0.%d", i);
        login(a, "nobody", "nope", addr, &retry);
    }
    rc = login(a, "nobody", "nope", "10.4.9.9", &retry);
    T_CHECK(rc == -EAGAIN && retry == 30, "an unknown user: %d %u", rc, retry);

    /* success clears the user's record, not the address's */
    for (int i = 0; i < WEB_AUTH_FAIL_LIMIT - 1; i++)
        login(a, "ana", "nope", "10.5.0.1", &retry);
    T_CHECK(login(a, "ana", PW, "10.5.0.1", &retry) == 0, "4 failures, then the right password");
    for (int i = 0; i < WEB_AUTH_FAIL_LIMIT - 1; i++)
        login(a, "ana", "nope", "10.5.0.2", &retry);
    rc = login(a, "ana", PW, "10.5.0.2", &retry);
    T_CHECK(rc == 0, "the user's record was cleared: %d %u", rc, retry);
    login(a, "cy", "nope", "10.5.0.1", &retry);
    rc = login(a, "fast", PW_FAST, "10.5.0.1", &retry);
    T_CHECK(rc == -EAGAIN, "the address's record was kept (5th failure from it): %d", rc);
    web_auth_free(a);
}

/* Keeps web/auth.c's clock at `at` seconds after `since` (CLOCK_MONOTONIC), however long the test
 * itself takes: the flood below takes seconds natively but half a minute under qemu-user's 32-bit
 * ARM (and maybe on a slow board), as long as the lock it is to see. */
static void hold_clock(web_auth *a, const struct timespec *since, double at)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    double spent = (double)(now.tv_sec - since->tv_sec) + (double)(now.tv_nsec - since->tv_nsec) / 1e9;
    web_auth_test_clock(a, at - spent);
}

static void test_throttle_bounded(void)
{
    web_auth *a = make_auth(WEB_ROLE_NONE, 12, 0, NULL, 0);
    if (!a)
        return;
    unsigned retry;
    char addr[40], user[40];
    /* 192.0.2.1: five failures (five user names), its lock over by the flood */
    for (int i = 0; i < WEB_AUTH_FAIL_LIMIT; i++) {
        snprintf(user, sizeof user, "f%d", i);
        login(a, user, "nope", "192.0.2.1", &retry);
    }
    int rc = login(a, "fast", PW_FAST, "192.0.2.1", &retry);
    T_CHECK(rc == -EAGAIN, "the first address is locked: %d", rc);
    /* from here on the clock stands at 31 s (the first address's lock over) during the flood, and
     * at 32 s after it */
    struct timespec t31;
    clock_gettime(CLOCK_MONOTONIC, &t31);
    web_auth_test_clock(a, 31);
    /* 192.0.2.3: locked for 30 s during the flood */
    for (int i = 0; i < WEB_AUTH_FAIL_LIMIT; i++) {
        snprintf(user, sizeof user, "l%d", i);
        hold_clock(a, &t31, 31);
        login(a, user, "nope", "192.0.2.3", &retry);
    }
    int refused = 0;
    for (int i = 0; i < 5000; i++) {
        snprintf(addr, sizeof addr, "10.%d.%d.%d", i >> 16, (i >> 8) & 255, i & 255);
        snprintf(user, sizeof user, "u%d", i);
        hold_clock(a, &t31, 31);
        if (login(a, user, "nope", addr, &retry) != -EACCES)
            refused++;
    }
    hold_clock(a, &t31, 32);
    T_CHECK(refused == 0, "%d of 5000 single failures were not -EACCES", refused);
    /* remembered, one more failure would lock 192.0.2.1 for 60 s */
    rc = login(a, "g", "nope", "192.0.2.1", &retry);
    T_CHECK(rc == -EACCES, "a wrong password: %d", rc);
    rc = login(a, "fast", PW_FAST, "192.0.2.1", &retry);
    T_CHECK(rc == 0, "the first address's record was forgotten (bounded table): %d", rc);
    hold_clock(a, &t31, 32);
    rc = login(a, "fast", PW_FAST, "192.0.2.3", &retry);
    T_CHECK(rc == -EAGAIN && retry >= 28 && retry <= 30, "a locked record outlives the flood: %d %u", rc, retry);
    for (int i = 0; i < WEB_AUTH_FAIL_LIMIT; i++)
        login(a, "last", "nope", "192.0.2.2", &retry);
    rc = login(a, "fast", PW_FAST, "192.0.2.2", &retry);
    T_CHECK(rc == -EAGAIN, "a new record still locks: %d", rc);
    web_auth_free(a);
}

/* Concurrent wrong passwords for one user from one address: every attempt used to pass the
 * throttle before any failure was counted (64 parallel guesses instead of 5, each holding a
 * yescrypt's 16 MiB). Checks now run one at a time and re-ask the throttle. */
typedef struct guesser {
    web_auth *a;
    int rc;
} guesser;

static void *guess(void *arg)
{
    guesser *g = arg;
    unsigned retry;
    g->rc = login(g->a, "bo", "wrong", "10.7.7.7", &retry);
    return NULL;
}

static void test_throttle_concurrent(void)
{
    web_auth *a = make_auth(WEB_ROLE_NONE, 12, 0, NULL, 0);
    if (!a)
        return;
    enum { N = 12 };
    guesser g[N];
    pthread_t th[N];
    int started = 0;
    for (int i = 0; i < N; i++) {
        g[i] = (guesser){ a, 0 };
        if (pthread_create(&th[i], NULL, guess, &g[i]) != 0)
            break;
        started++;
    }
    int refused = 0, checked = 0;
    for (int i = 0; i < started; i++) {
        pthread_join(th[i], NULL);
        refused += g[i].rc == -EAGAIN;
        checked += g[i].rc == -EACCES;
    }
    T_CHECK(started == N, "started %d threads", started);
    T_CHECK(checked == WEB_AUTH_FAIL_LIMIT && refused == N - WEB_AUTH_FAIL_LIMIT,
            "%d concurrent guesses: %d checked, %d throttled (want %d checked)", N, checked, refused,
            WEB_AUTH_FAIL_LIMIT);
    web_auth_free(a);
}

/* ---- threads ------------------------------------------------------------------------------------ */

typedef struct worker {
    web_auth *a;
    int id;
    int errors;
} worker;

static void *work(void *arg)
{
    worker *w = arg;
    char addr[32];
    snprintf(addr, sizeof addr, "10.9.0.%d", w->id);
    for (int round = 0; round < 25; round++) {
        char sid[WEB_AUTH_TOKEN_CHARS + 1];
        web_principal p, r;
        unsigned retry;
        int rc = web_auth_login(w->a, "fast", PW_FAST, addr, sid, &p, &retry);
        if (rc != 0) {
            w->errors++;
            continue;
        }
        for (int i = 0; i < 200; i++) {
            int stale;
            web_auth_resolve(w->a, sid, NULL, &r, &stale);
            if (stale || strcmp(r.csrf, p.csrf) != 0 || strcmp(r.user, "fast") != 0)
                w->errors++;
            web_auth_resolve(w->a, NULL, "Bearer nope", &r, &stale);
        }
        if (round % 5 == 0)
            login(w->a, "nobody", "nope", "10.9.9.9", &retry);
        web_auth_logout(w->a, sid);
        int stale;
        web_auth_resolve(w->a, sid, NULL, &r, &stale);
        if (!stale)
            w->errors++;
    }
    return NULL;
}

static void test_threads(void)
{
    web_auth *a = make_auth(WEB_ROLE_NONE, 12, 0, NULL, 0);
    if (!a)
        return;
    worker w[4];
    pthread_t th[4];
    int started = 0;
    for (int i = 0; i < 4; i++) {
        w[i] = (worker){ a, i, 0 };
        if (pthread_create(&th[i], NULL, work, &w[i]) == 0)
            started++;
        else
            break;
    }
    T_CHECK(started == 4, "started %d threads", started);
    int errors = 0;
    for (int i = 0; i < started; i++) {
        pthread_join(th[i], NULL);
        errors += w[i].errors;
    }
    T_CHECK(errors == 0, "%d wrong answers under 4 threads", errors);
    web_auth_free(a);
}

int main(void)
{
    T_RUN(test_sha256);
    T_RUN(test_roles);
    T_RUN(test_hash_ok);
    T_RUN(test_hash_password);
    T_RUN(test_new_refuses);
    T_RUN(test_verify);
    T_RUN(test_sessions);
    T_RUN(test_sessions_full);
    T_RUN(test_sessions_per_user);
    T_RUN(test_csrf);
    T_RUN(test_bearer);
    T_RUN(test_cookie);
    T_RUN(test_throttle);
    T_RUN(test_throttle_keys);
    T_RUN(test_throttle_bounded);
    T_RUN(test_throttle_concurrent);
    T_RUN(test_threads);
    return t_done();
}

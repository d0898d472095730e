/* Tests of the web server's configuration (daemon/config_web.c): users with crypt(3) hashes, API
 * tokens, the anonymous role and the listening rule (beyond loopback: users or explicit read-only
 * access), TLS and session settings, errors by JSON path that never show a secret; the
 * configuration as the API shows it with every secret masked; and the API's parsers of times and
 * counts (daemon/web_api.h). */
#include "daemon/config.h"
#include "daemon/web_api.h"
#include "testlib.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* `openssl passwd -6 -salt saltsalt secret` (OpenSSL 3.0, independent of libcrypt) */
#define HASH6 "$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5hVO1"
/* `printf %s s3cr3t-token | sha256sum` */
#define TOKEN_SHA "fb07916a0e7daf7f3f4823b7773f85a839a8dd46fbf3858b8f53d3fa463c8ef3"

#define BOX "\"box\":{\"id\":\"b1\"}"
#define ASSETS "\"assets\":[{\"id\":\"p1\",\"type\":\"pump\",\"sensors\":[{\"id\":\"s1\",\"source\":\"sim:pump\"}]}]"

static vw_config *parse(const char *json, char *err, size_t errlen)
{
    err[0] = 0;
    return vw_config_parse(json, strlen(json), err, errlen);
}

static void test_defaults(void)
{
    char err[512];
    vw_config *c = parse("{" BOX "," ASSETS "}", err, sizeof err);
    T_CHECK(c != NULL, "minimal config: %s", err);
    if (!c)
        return;
    T_CHECK(c->web.nusers == 0 && c->web.ntokens == 0, "no users, no tokens");
    T_CHECK(c->web.anonymous == WEB_ROLE_OPERATOR, "loopback without users: anonymous operator, got %d", c->web.anonymous);
    T_CHECK(c->web.session_hours == 12, "session_hours default 12, got %g", c->web.session_hours);
    T_CHECK(!c->web.tls_cert && !c->web.dashboard_dir, "no TLS, the built-in dashboard folder");
    vw_config_free(c);
}

static void test_users_tokens(void)
{
    char err[512];
    const char *json = "{" BOX ",\"web\":{\"listen\":\"0.0.0.0:8080\",\"session_hours\":2,\"hosts\":[\"pumphouse-3.plant\"],"
                       "\"tls\":{\"cert\":\"/etc/vw/c.pem\",\"key\":\"/etc/vw/k.pem\"},"
                       "\"tokens\":{\"grafana\":{\"sha256\":\"" TOKEN_SHA "\"},\"ops\":{\"sha256\":\"" TOKEN_SHA
                       "\",\"role\":\"operator\"}}},"
                       "\"users\":{\"//\":\"comment\",\"ana\":{\"password_hash\":\"" HASH6 "\",\"role\":\"operator\"},"
                       "\"vic\":{\"password_hash\":\"" HASH6 "\"}}," ASSETS "}";
    vw_config *c = parse(json, err, sizeof err);
    T_CHECK(c != NULL, "users and tokens: %s", err);
    if (!c)
        return;
    T_CHECK(c->web.nusers == 2, "2 users, got %u", c->web.nusers);
    T_CHECK(c->web.nusers == 2 && !strcmp(c->web.users[0].name, "ana") && c->web.users[0].role == WEB_ROLE_OPERATOR &&
                !strcmp(c->web.users[0].hash, HASH6),
            "ana: operator with her hash");
    T_CHECK(c->web.nusers == 2 && c->web.users[1].role == WEB_ROLE_VIEWER, "a user's role defaults to viewer");
    T_CHECK(c->web.ntokens == 2 && c->web.tokens[0].role == WEB_ROLE_VIEWER && c->web.tokens[1].role == WEB_ROLE_OPERATOR,
            "tokens with their roles");
    T_CHECK(c->web.anonymous == WEB_ROLE_NONE, "with users, no anonymous access by default");
    T_CHECK(c->web.session_hours == 2, "session_hours read");
    T_CHECK(c->web.nhosts == 1 && !strcmp(c->web.hosts[0], "pumphouse-3.plant"), "hosts read");
    T_CHECK(c->web.tls_cert && !strcmp(c->web.tls_cert, "/etc/vw/c.pem") && !strcmp(c->web.tls_key, "/etc/vw/k.pem"),
            "tls paths read");

    /* the configuration as the API shows it: no secret survives */
    char *m = vw_config_masked_json(c);
    T_CHECK(m != NULL, "masked json");
    if (m) {
        T_CHECK(!strstr(m, "TVLlQcbp") && !strstr(m, TOKEN_SHA), "a hash or a token digest leaked: %s", m);
        T_CHECK(strstr(m, "\"password_hash\":\"********\"") && strstr(m, "\"sha256\":\"********\""), "masked: %s", m);
        T_CHECK(strstr(m, "\"ana\"") && strstr(m, "\"listen\":\"0.0.0.0:8080\""), "the rest is kept: %s", m);
    }
    free(m);
    vw_config_free(c);
}

static void test_masked_alert_secrets(void)
{
    char err[512];
    const char *json =
        "{" BOX ",\"alerts\":{\"destinations\":[{\"name\":\"mail\",\"type\":\"email\",\"url\":\"smtp://ops:hunter2@mail.plant:587\","
        "\"from\":\"vw@plant\",\"to\":[\"a@plant\"],\"user\":\"ops\",\"password\":\"pa55word\"},"
        "{\"name\":\"sms\",\"type\":\"webhook\",\"url\":\"https://sms.example/send?key=K3YK3Y\",\"token\":\"tok-777\","
        "\"headers\":{\"X-Api-Key\":\"APIKEY-9\"}}]}," ASSETS "}";
    vw_config *c = parse(json, err, sizeof err);
    T_CHECK(c != NULL, "alerts config: %s", err);
    if (!c)
        return;
    char *m = vw_config_masked_json(c);
    T_CHECK(m != NULL, "masked");
    if (m) {
        static const char *const secrets[] = {"hunter2", "pa55word", "K3YK3Y", "tok-777", "APIKEY-9"};
        for (size_t i = 0; i < sizeof secrets / sizeof secrets[0]; i++)
            T_CHECK(!strstr(m, secrets[i]), "secret %s leaked: %s", secrets[i], m);
        T_CHECK(strstr(m, "\"smtp://mail.plant:587\"") && strstr(m, "\"https://sms.example/send?...\""), "URLs without user:password@ and query: %s", m);
        T_CHECK(strstr(m, "\"vw@plant\"") != NULL, "non-secret values are kept: %s", m);
    }
    free(m);
    vw_config_free(c);
}

static const struct bad {
    const char *json, *want, *secret;
} bads[] = {
    {"{" BOX ",\"users\":{\"ana\":{\"password_hash\":\"plain-text-pw\"}}," ASSETS "}",
     "users.ana.password_hash: must be a yescrypt", "plain-text-pw"},
    {"{" BOX ",\"users\":{\"ana\":{\"password_hash\":\"$1$abc$def\"}}," ASSETS "}", "users.ana.password_hash", "$1$abc"},
    {"{" BOX ",\"users\":{\"ana\":{\"password_hash\":\"" HASH6 "\",\"role\":\"root\"}}," ASSETS "}", "users.ana.role",
     NULL},
    {"{" BOX ",\"users\":{\"a b\":{\"password_hash\":\"" HASH6 "\"}}," ASSETS "}", "users[\"a b\"]: a user name", NULL},
    {"{" BOX ",\"users\":{\"ana\":{\"password_hash\":\"" HASH6 "\",\"pw\":1}}," ASSETS "}", "users.ana.pw", NULL},
    {"{" BOX ",\"users\":[]," ASSETS "}", "users", NULL},
    {"{" BOX ",\"web\":{\"tokens\":{\"t\":{\"sha256\":\"ABCDEF\"}}}," ASSETS "}", "web.tokens.t.sha256: must be 64",
     "ABCDEF"},
    {"{" BOX ",\"web\":{\"listen\":\"0.0.0.0:8080\"}," ASSETS "}",
     "web.listen: 0.0.0.0:8080 is reachable from the network, and there are no users", NULL},
    {"{" BOX ",\"web\":{\"listen\":\"192.168.1.5:80\",\"anonymous\":\"operator\"}," ASSETS "}",
     "web.anonymous: anonymous operators are allowed only on a loopback address", NULL},
    {"{" BOX ",\"web\":{\"anonymous\":\"admin\"}," ASSETS "}", "web.anonymous", NULL},
    {"{" BOX ",\"web\":{\"session_hours\":0}," ASSETS "}", "web.session_hours", NULL},
    {"{" BOX ",\"web\":{\"tls\":{\"cert\":\"/c.pem\"}}," ASSETS "}", "web.tls.key", NULL},
    {"{" BOX ",\"web\":{\"colour\":\"red\"}," ASSETS "}", "web.colour", NULL},
    {"{" BOX ",\"web\":{\"hosts\":[\"ok.plant\",\"bad host\"]}," ASSETS "}", "web.hosts[1]: must be a host name", NULL},
    {"{" BOX ",\"web\":{\"hosts\":\"ok.plant\"}," ASSETS "}", "web.hosts", NULL},
};

static void test_bad(void)
{
    for (size_t i = 0; i < sizeof bads / sizeof bads[0]; i++) {
        char err[512];
        vw_config *c = parse(bads[i].json, err, sizeof err);
        T_CHECK(c == NULL, "row %zu accepted", i);
        vw_config_free(c);
        T_CHECK(strstr(err, bads[i].want) != NULL, "row %zu: got '%s', want '%s'", i, err, bads[i].want);
        T_CHECK(!bads[i].secret || !strstr(err, bads[i].secret), "row %zu: the secret is shown: %s", i, err);
    }
}

static void test_listening_rule_allows(void)
{
    char err[512];
    /* read-only anonymous access beyond loopback, asked for explicitly */
    vw_config *c = parse("{" BOX ",\"web\":{\"listen\":\"0.0.0.0:8080\",\"anonymous\":\"viewer\"}," ASSETS "}", err, sizeof err);
    T_CHECK(c && c->web.anonymous == WEB_ROLE_VIEWER, "0.0.0.0 with anonymous viewer: %s", err);
    vw_config_free(c);
    /* loopback with users: anonymous none, unless asked */
    c = parse("{" BOX ",\"web\":{\"listen\":\"127.0.0.1:9\",\"anonymous\":\"operator\"},\"users\":{\"ana\":{\"password_hash\":\"" HASH6
              "\"}}," ASSETS "}",
              err, sizeof err);
    T_CHECK(c && c->web.anonymous == WEB_ROLE_OPERATOR, "loopback, users and anonymous operator: %s", err);
    vw_config_free(c);
    c = parse("{" BOX ",\"web\":{\"listen\":\"[::1]:8080\"}," ASSETS "}", err, sizeof err);
    T_CHECK(c && c->web.anonymous == WEB_ROLE_OPERATOR, "[::1] is loopback: %s", err);
    vw_config_free(c);
    c = parse("{" BOX ",\"web\":{\"listen\":\"127.8.9.1:8080\"}," ASSETS "}", err, sizeof err);
    T_CHECK(c && c->web.anonymous == WEB_ROLE_OPERATOR, "127.0.0.0/8 is loopback: %s", err);
    vw_config_free(c);
    char why[300];
    T_CHECK(vw_config_check_id("ana", why, sizeof why) == 0 && vw_config_check_id(".", why, sizeof why) < 0 &&
                vw_config_check_id("a b", why, sizeof why) < 0 && strstr(why, "\"a b\""),
            "the ids `vibewatch passwd` and `token` take are the config's: %s", why);
    T_CHECK(!vw_config_listen_is_loopback("0.0.0.0:80") && !vw_config_listen_is_loopback("[::]:80") &&
                !vw_config_listen_is_loopback("10.0.0.1:80") && !vw_config_listen_is_loopback("128.0.0.1:80"),
            "0.0.0.0, ::, 10/8 and 128.0.0.1 are not loopback");
}

static void test_parse_time(void)
{
    int64_t t = 0;
    T_CHECK(vw_webapi_parse_time("0", &t) == 0 && t == 0, "0");
    T_CHECK(vw_webapi_parse_time("1795926000.5", &t) == 0 && t == 1795926000500000000LL, "seconds with a fraction: %lld",
            (long long)t);
    /* 2026-11-29T04:20:00Z = 1795926000 s (date -u -d 2026-11-29T04:20:00Z +%s) */
    T_CHECK(vw_webapi_parse_time("2026-11-29T04:20:00Z", &t) == 0 && t == 1795926000LL * 1000000000LL, "ISO: %lld",
            (long long)t);
    T_CHECK(vw_webapi_parse_time("2026-11-29T04:20:00.250Z", &t) == 0 && t == 1795926000250000000LL, "ISO with ms");
    static const char *const bad[] = {"", "abc", "-5", "1e400", "2026-11-29", "2026-11-29T04:20:00", "2026-13-01T00:00:00Z",
                                      "2026-11-29T04:20:0Z", "2026-11-29T04:20:00Zjunk", "12abc", "nan", "inf",
                                      "1970-1-1T1:1:1Z", "2026-11-29T04:20:00.Z", "2026-11-29 04:20:00Z", "+2026-11-29T04:20:00Z"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        T_CHECK(vw_webapi_parse_time(bad[i], &t) == -EINVAL, "\"%s\" accepted", bad[i]);
}

static void test_parse_count(void)
{
    long v = 0;
    T_CHECK(vw_webapi_parse_count("1000", 1, 5000, &v) == 0 && v == 1000, "1000");
    T_CHECK(vw_webapi_parse_count("0", 1, 5000, &v) == -ERANGE, "0 below 1");
    T_CHECK(vw_webapi_parse_count("999999", 1, 5000, &v) == -ERANGE, "above");
    T_CHECK(vw_webapi_parse_count("abc", 1, 5000, &v) == -EINVAL && vw_webapi_parse_count("-1", 1, 5, &v) == -EINVAL &&
                vw_webapi_parse_count("1.5", 1, 5, &v) == -EINVAL && vw_webapi_parse_count("", 1, 5, &v) == -EINVAL &&
                vw_webapi_parse_count("99999999999999999999", 1, 5, &v) == -EINVAL,
            "non-numbers refused");
}

int main(void)
{
    T_RUN(test_defaults);
    T_RUN(test_users_tokens);
    T_RUN(test_masked_alert_secrets);
    T_RUN(test_bad);
    T_RUN(test_listening_rule_allows);
    T_RUN(test_parse_time);
    T_RUN(test_parse_count);
    return t_done();
}

/* daemon/config_web.c — who may use the box's web server: the "users" section (names, crypt(3)
 * password hashes, roles), and web.anonymous, web.session_hours, web.tls, web.dashboard_dir and
 * web.tokens. Also the configuration as the API shows it, with every secret masked.
 *
 * The listening rule is checked here so that `vibewatch check-config` already refuses what the
 * server would: beyond loopback, users or an explicit read-only anonymous access are required, and
 * anonymous operators are never allowed there. */
#include "config_priv.h"

#include "alerts/send.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const user_keys[] = {"password_hash", "role", NULL};
static const char *const token_keys[] = {"sha256", "role", NULL};
static const char *const tls_keys[] = {"cert", "key", NULL};
static const char *const role_names[] = {"viewer", "operator", "admin", NULL};

int vw_config_listen_is_loopback(const char *listen)
{
    if (!listen || !*listen)
        return 1;
    if (listen[0] == '[')
        return strncmp(listen, "[::1]:", 6) == 0;
    if (strncmp(listen, "localhost:", 10) == 0)
        return 1;
    const char *colon = strrchr(listen, ':');
    char addr[64];
    size_t n = colon ? (size_t)(colon - listen) : 0;
    if (!colon || n >= sizeof addr)
        return 0;
    memcpy(addr, listen, n);
    addr[n] = 0;
    struct in_addr a;
    return inet_pton(AF_INET, addr, &a) == 1 && (ntohl(a.s_addr) >> 24) == 127;
}

static int read_role(vw_cfg_ctx *x, const cJSON *o, web_role *role)
{
    int choice = 0, rc = vw_cfg_get_choice(x, o, "role", false, role_names, &choice);
    if (rc < 0)
        return rc;
    *role = vw_cfg_member(o, "role") ? (web_role)(choice + 1) : WEB_ROLE_VIEWER;
    return 0;
}

static int read_users(vw_cfg_ctx *x, const cJSON *root, vw_cfg_web *w)
{
    const cJSON *users;
    int rc = vw_cfg_get_object(x, root, "users", false, &users);
    if (rc < 0 || !users)
        return rc;
    size_t mark = vw_cfg_path_key(x, "users");
    for (const cJSON *e = users->child; e; e = e->next) {
        if (vw_cfg_is_comment(e->string))
            continue;
        char why[300];
        if (vw_cfg_check_text(e->string, VW_CFG_ID, why, sizeof why) < 0)
            return vw_cfg_fail(x, e->string, "a user name %s", why);
        if (w->nusers >= VW_CFG_MAX_USERS)
            return vw_cfg_fail(x, e->string, "at most %d users", VW_CFG_MAX_USERS);
        if (!cJSON_IsObject(e))
            return vw_cfg_fail_value(x, e->string, "an object {\"password_hash\": …, \"role\": …}", e);
        size_t mu = vw_cfg_path_key(x, e->string);
        web_user *u = &w->users[w->nusers];
        char *hash = NULL;
        if ((rc = vw_cfg_check_keys(x, e, user_keys)) < 0 ||
            (rc = vw_cfg_get_text(x, e, "password_hash", true, VW_CFG_SECRET, &hash)) < 0)
            return rc;
        u->hash = hash;
        u->name = vw_cfg_strdup(e->string);
        w->nusers++;
        if (!u->name)
            return vw_cfg_fail(x, NULL, "out of memory");
        if (!web_auth_hash_ok(hash))
            return vw_cfg_fail(x, "password_hash",
                               "must be a yescrypt (\"$y$…\") or sha512-crypt (\"$6$…\") hash as "
                               "`vibewatch passwd %s` prints (the value is a secret: not shown)",
                               e->string);
        if ((rc = read_role(x, e, &u->role)) < 0)
            return rc;
        vw_cfg_path_pop(x, mu);
    }
    vw_cfg_path_pop(x, mark);
    return 0;
}

static int read_tokens(vw_cfg_ctx *x, const cJSON *web, vw_cfg_web *w)
{
    const cJSON *tokens;
    int rc = vw_cfg_get_object(x, web, "tokens", false, &tokens);
    if (rc < 0 || !tokens)
        return rc;
    size_t mark = vw_cfg_path_key(x, "tokens");
    for (const cJSON *e = tokens->child; e; e = e->next) {
        if (vw_cfg_is_comment(e->string))
            continue;
        char why[300];
        if (vw_cfg_check_text(e->string, VW_CFG_ID, why, sizeof why) < 0)
            return vw_cfg_fail(x, e->string, "a token's name %s", why);
        if (w->ntokens >= VW_CFG_MAX_TOKENS)
            return vw_cfg_fail(x, e->string, "at most %d tokens", VW_CFG_MAX_TOKENS);
        if (!cJSON_IsObject(e))
            return vw_cfg_fail_value(x, e->string, "an object {\"sha256\": …, \"role\": …}", e);
        size_t mt = vw_cfg_path_key(x, e->string);
        web_token *t = &w->tokens[w->ntokens];
        char *digest = NULL;
        if ((rc = vw_cfg_check_keys(x, e, token_keys)) < 0 ||
            (rc = vw_cfg_get_text(x, e, "sha256", true, VW_CFG_SECRET, &digest)) < 0)
            return rc;
        t->sha256 = digest;
        t->name = vw_cfg_strdup(e->string);
        w->ntokens++;
        if (!t->name)
            return vw_cfg_fail(x, NULL, "out of memory");
        size_t n = strlen(digest);
        if (n != 64 || strspn(digest, "0123456789abcdef") != 64)
            return vw_cfg_fail(x, "sha256",
                               "must be 64 lower-case hex digits as `vibewatch token %s` prints "
                               "(the value is a secret: not shown)",
                               e->string);
        if ((rc = read_role(x, e, &t->role)) < 0)
            return rc;
        vw_cfg_path_pop(x, mt);
    }
    vw_cfg_path_pop(x, mark);
    return 0;
}

/* web.hosts: host names ("pumphouse-3.plant"), letters, digits, '.' and '-'. */
static int read_hosts(vw_cfg_ctx *x, const cJSON *web, vw_cfg_web *w)
{
    const cJSON *arr;
    int rc = vw_cfg_get_array(x, web, "hosts", false, VW_CFG_MAX_HOSTS, "host names", &arr);
    if (rc < 0 || !arr)
        return rc;
    size_t mark = vw_cfg_path_key(x, "hosts");
    const cJSON *e;
    cJSON_ArrayForEach(e, arr)
    {
        size_t mi = vw_cfg_path_index(x, w->nhosts);
        size_t n = cJSON_IsString(e) ? strlen(e->valuestring) : 0;
        if (n == 0 || n > 63 ||
            strspn(e->valuestring, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-") != n)
            return vw_cfg_fail_value(x, NULL, "a host name (letters, digits, '.' and '-'; 1–63 bytes)", e);
        if (!(w->hosts[w->nhosts++] = vw_cfg_strdup(e->valuestring)))
            return vw_cfg_fail(x, NULL, "out of memory");
        vw_cfg_path_pop(x, mi);
    }
    vw_cfg_path_pop(x, mark);
    return 0;
}

int vw_cfg_read_web(vw_cfg_ctx *x, const cJSON *web, const cJSON *root, vw_config *c)
{
    vw_cfg_web *w = &c->web;
    w->session_hours = 12;
    int rc;
    if ((rc = read_users(x, root, w)) < 0)
        return rc;
    if (web) {
        size_t mark = vw_cfg_path_key(x, "web");
        static const char *const anon[] = {"none", "viewer", "operator", NULL};
        int a = 0;
        const cJSON *tls;
        if ((rc = vw_cfg_get_choice(x, web, "anonymous", false, anon, &a)) < 0 ||
            (rc = vw_cfg_get_number(x, web, "session_hours", false, 0.05, 24 * 90, &w->session_hours)) < 0 ||
            (rc = vw_cfg_get_text(x, web, "dashboard_dir", false, VW_CFG_PATH, &w->dashboard_dir)) < 0 ||
            (rc = vw_cfg_get_object(x, web, "tls", false, &tls)) < 0 || (rc = read_tokens(x, web, w)) < 0 ||
            (rc = read_hosts(x, web, w)) < 0)
            return rc;
        w->anonymous_set = vw_cfg_member(web, "anonymous") != NULL;
        w->anonymous = (web_role)a;
        if (tls) {
            size_t mt = vw_cfg_path_key(x, "tls");
            if ((rc = vw_cfg_check_keys(x, tls, tls_keys)) < 0 ||
                (rc = vw_cfg_get_text(x, tls, "cert", true, VW_CFG_PATH, &w->tls_cert)) < 0 ||
                (rc = vw_cfg_get_text(x, tls, "key", true, VW_CFG_PATH, &w->tls_key)) < 0)
                return rc;
            vw_cfg_path_pop(x, mt);
        }
        vw_cfg_path_pop(x, mark);
    }
    int loopback = vw_config_listen_is_loopback(c->listen);
    if (!w->anonymous_set)
        w->anonymous = w->nusers == 0 && loopback ? WEB_ROLE_OPERATOR : WEB_ROLE_NONE;
    if (!loopback) {
        size_t mark = vw_cfg_path_key(x, "web");
        if (w->anonymous > WEB_ROLE_VIEWER)
            return vw_cfg_fail(x, "anonymous",
                               "anonymous operators are allowed only on a loopback address; %s is reachable "
                               "from the network (add users, or set \"anonymous\": \"viewer\")",
                               c->listen);
        if (w->nusers == 0 && w->anonymous == WEB_ROLE_NONE)
            return vw_cfg_fail(x, "listen",
                               "%s is reachable from the network, and there are no users: add a \"users\" "
                               "section (`vibewatch passwd NAME`), or set web.anonymous to \"viewer\" for "
                               "read-only access without login",
                               c->listen);
        vw_cfg_path_pop(x, mark);
    }
    return 0;
}

void vw_cfg_free_web(vw_config *c)
{
    vw_cfg_web *w = &c->web;
    for (unsigned i = 0; i < w->nusers; i++) {
        free((char *)w->users[i].name);
        free((char *)w->users[i].hash);
    }
    for (unsigned i = 0; i < w->ntokens; i++) {
        free((char *)w->tokens[i].name);
        free((char *)w->tokens[i].sha256);
    }
    for (unsigned i = 0; i < w->nhosts; i++)
        free(w->hosts[i]);
    free(w->tls_cert);
    free(w->tls_key);
    free(w->dashboard_dir);
}

/* ---- the configuration with its secrets masked --------------------------------------------- */

static const char mask[] = "********";

static int secret_key(const char *k)
{
    static const char *const keys[] = {"password", "token", "password_hash", "sha256", "secret", "api_key", NULL};
    for (size_t i = 0; keys[i]; i++)
        if (strcmp(k, keys[i]) == 0)
            return 1;
    return 0;
}

static void mask_tree(cJSON *o, const char *parent)
{
    for (cJSON *e = o ? o->child : NULL; e; e = e->next) {
        const char *k = e->string ? e->string : "";
        if (cJSON_IsString(e)) {
            /* every value of a webhook's headers is a secret (API keys live there) */
            if (secret_key(k) || (parent && strcmp(parent, "headers") == 0)) {
                cJSON_SetValuestring(e, mask);
            } else if (strcmp(k, "url") == 0) { /* as the alerts show URLs: no user:password@, no query */
                char shown[300];
                alerts_url_shown(e->valuestring, shown, sizeof shown);
                cJSON_SetValuestring(e, shown);
            }
        } else if (cJSON_IsObject(e) || cJSON_IsArray(e)) {
            mask_tree(e, cJSON_IsArray(e) ? parent : k);
        }
    }
}

char *vw_config_masked_json(const vw_config *c)
{
    const char *text = c->source_text ? c->source_text : vw_config_default_json();
    cJSON *root = cJSON_Parse(text);
    if (!root)
        return NULL;
    mask_tree(root, NULL);
    char *s = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return s;
}

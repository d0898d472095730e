/* daemon/config_outputs.c — the "outputs" section: time-series stores the box streams to
 * (`outputs.influx[]`, store/influx.h). Secrets (password, token) are kept for the writer and
 * masked wherever the config is shown. */
#include "config_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const outputs_keys[] = {"influx", NULL};
static const char *const influx_keys[] = {"name",     "url",         "api",        "db",           "rp",
                                          "user",     "password",    "org",        "bucket",       "token",
                                          "ca_file",  "client_cert", "client_key", "tls_insecure", "gzip",
                                          "batch_kb", "batch_s",     "timeout_s",  "spool_mb",
                                          "spool_fsync", "drain_kb_s", "dead_letter_mb", "strings", NULL};

static int read_influx(vw_cfg_ctx *x, const cJSON *o, vw_cfg_influx *f, const vw_config *c, unsigned index)
{
    int rc;
    double api = 1;
    f->gzip = true;
    f->spool_fsync = true;
    f->strings = true;
    f->batch_kb = 256;
    f->batch_s = 5;
    f->timeout_s = 10;
    f->spool_mb = 256;
    f->drain_kb_s = 1024;
    f->dead_letter_mb = 64;
    if (!cJSON_IsObject(o))
        return vw_cfg_fail_value(x, NULL, "an object { \"name\": …, \"url\": … }", o);
    if ((rc = vw_cfg_check_keys(x, o, influx_keys)) < 0 ||
        (rc = vw_cfg_get_text(x, o, "name", true, VW_CFG_ID, &f->name)) < 0 ||
        (rc = vw_cfg_get_text(x, o, "url", true, VW_CFG_NAME, &f->url)) < 0 ||
        (rc = vw_cfg_get_whole(x, o, "api", false, 1, 2, &api)) < 0)
        return rc;
    for (unsigned k = 0; k < index; k++)
        if (strcmp(c->influx[k].name, f->name) == 0)
            return vw_cfg_fail(x, "name", "\"%s\" is already the name of outputs.influx[%u]", f->name, k);
    if (strncmp(f->url, "http://", 7) != 0 && strncmp(f->url, "https://", 8) != 0)
        return vw_cfg_fail(x, "url", "must start with http:// or https://, not \"%.200s\"", f->url);
    f->api = (int)api;
    static const char *const texts[] = {"db", "rp", "user", "password", "org", "bucket", "token"};
    char **dst[] = {&f->db, &f->rp, &f->user, &f->password, &f->org, &f->bucket, &f->token};
    for (size_t k = 0; k < sizeof texts / sizeof texts[0]; k++)
        if ((rc = vw_cfg_get_text(x, o, texts[k], false,
                                  dst[k] == &f->password || dst[k] == &f->token ? VW_CFG_SECRET : VW_CFG_NAME, dst[k])) < 0)
            return rc;
    static const char *const paths[] = {"ca_file", "client_cert", "client_key"};
    char **pdst[] = {&f->ca_file, &f->client_cert, &f->client_key};
    for (size_t k = 0; k < 3; k++)
        if ((rc = vw_cfg_get_text(x, o, paths[k], false, VW_CFG_PATH, pdst[k])) < 0)
            return rc;
    if ((rc = vw_cfg_get_bool(x, o, "tls_insecure", &f->tls_insecure)) < 0 ||
        (rc = vw_cfg_get_bool(x, o, "gzip", &f->gzip)) < 0 ||
        (rc = vw_cfg_get_bool(x, o, "spool_fsync", &f->spool_fsync)) < 0 ||
        (rc = vw_cfg_get_bool(x, o, "strings", &f->strings)) < 0 ||
        (rc = vw_cfg_get_number(x, o, "batch_kb", false, 1, 65536, &f->batch_kb)) < 0 ||
        (rc = vw_cfg_get_number(x, o, "batch_s", false, 0.01, 3600, &f->batch_s)) < 0 ||
        (rc = vw_cfg_get_number(x, o, "timeout_s", false, 0.1, 600, &f->timeout_s)) < 0 ||
        (rc = vw_cfg_get_number(x, o, "spool_mb", false, 0.0625, 1048576, &f->spool_mb)) < 0 ||
        (rc = vw_cfg_get_number(x, o, "drain_kb_s", false, 1, 1048576, &f->drain_kb_s)) < 0 ||
        (rc = vw_cfg_get_number(x, o, "dead_letter_mb", false, 0, 1048576, &f->dead_letter_mb)) < 0)
        return rc;
    if (f->api == 1 && !f->db)
        return vw_cfg_fail(x, "db", "missing: the 1.x API (\"api\": 1) writes to a database");
    if (f->api == 2 && (!f->org || !f->bucket))
        return vw_cfg_fail(x, f->org ? "bucket" : "org", "missing: the 2.x API (\"api\": 2) needs org and bucket");
    if (f->api == 2 && (f->user || f->password))
        return vw_cfg_fail(x, "user", "the 2.x API authenticates with \"token\", not user and password");
    if (f->api == 1 && (f->org || f->bucket || f->token))
        return vw_cfg_fail(x, f->token ? "token" : "org", "belongs to the 2.x API (\"api\": 2)");
    if (f->api == 2 && (f->db || f->rp))
        return vw_cfg_fail(x, f->db ? "db" : "rp", "belongs to the 1.x API (\"api\": 1); the 2.x API writes to a bucket");
    if (f->spool_mb * 1024 < 4 * f->batch_kb)
        return vw_cfg_fail(x, "spool_mb", "must hold at least 4 batches of batch_kb (%g kB)", f->batch_kb);
    if ((f->client_cert != NULL) != (f->client_key != NULL))
        return vw_cfg_fail(x, f->client_cert ? "client_key" : "client_cert", "client_cert and client_key go together");
    return 0;
}

int vw_cfg_read_outputs(vw_cfg_ctx *x, const cJSON *root, vw_config *c)
{
    const cJSON *o, *arr;
    int rc = vw_cfg_get_object(x, root, "outputs", false, &o);
    if (rc < 0 || !o)
        return rc;
    size_t mark = vw_cfg_path_key(x, "outputs");
    if ((rc = vw_cfg_check_keys(x, o, outputs_keys)) < 0 ||
        (rc = vw_cfg_get_array(x, o, "influx", false, VW_CFG_MAX_OUTPUTS, "outputs", &arr)) < 0)
        return rc;
    if (arr) {
        size_t m2 = vw_cfg_path_key(x, "influx");
        unsigned i = 0;
        for (const cJSON *e = arr->child; e; e = e->next, i++) {
            size_t m3 = vw_cfg_path_index(x, i);
            c->ninflux = i + 1;
            if ((rc = read_influx(x, e, &c->influx[i], c, i)) < 0)
                return rc;
            vw_cfg_path_pop(x, m3);
        }
        vw_cfg_path_pop(x, m2);
    }
    vw_cfg_path_pop(x, mark);
    return 0;
}

void vw_cfg_free_outputs(vw_config *c)
{
    for (unsigned i = 0; i < c->ninflux; i++) {
        vw_cfg_influx *f = &c->influx[i];
        char **s[] = {&f->name, &f->url, &f->db, &f->rp, &f->user, &f->password, &f->org, &f->bucket, &f->token,
                      &f->ca_file, &f->client_cert, &f->client_key};
        for (size_t k = 0; k < sizeof s / sizeof s[0]; k++) {
            if (*s[k] && (s[k] == &f->password || s[k] == &f->token))
                memset(*s[k], 0, strlen(*s[k])); /* a secret does not linger in freed memory */
            free(*s[k]);
        }
    }
}

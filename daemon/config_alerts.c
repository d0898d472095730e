/* daemon/config_alerts.c — the "alerts" section: the rules (defaults and per-asset overrides),
 * maintenance windows, delivery settings and destinations (e-mail and webhooks). Webhook templates
 * are checked here, so a misspelt placeholder is a configuration error, not a silent gap in an SMS.
 * Secrets (password, token) are wiped when the tree is freed. */
#include "alerts/mail.h"
#include "alerts/template.h"
#include "alerting.h"
#include "cli.h"
#include "config_priv.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const alerts_keys[] = {"dashboard_url", "rules", "assets", "maintenance_windows", "delivery",
                                          "destinations", NULL};
static const char *const rules_keys[] = {"debounce_k",     "debounce_n",      "clear_n",        "min_interval",
                                         "repeat_watch",   "repeat_warning",  "repeat_alarm",   "sensor_fault",
                                         "acquisition_stopped", "iso_zone_c", "iso_zone_d",     "temp_warning_c",
                                         "temp_alarm_c",   "temp_hysteresis_c", NULL};
static const char *const delivery_keys[] = {"give_up", "retry_min", "retry_max", "keep", "stopped_after", NULL};
static const char *const window_keys[] = {"asset", "from", "to", "note", NULL};
static const char *const dest_keys[] = {"name",    "type",         "url",          "user",      "password",
                                        "token",   "ca_file",      "tls_insecure", "timeout_s", "min_level",
                                        "max_per_hour", "assets",  "tls",          "from",      "to",
                                        "method",  "format",       "content_type", "body",      "headers",
                                        NULL};
static const char *const level_choices[] = {"ok", "watch", "warning", "alarm", NULL};
static const char *const input_choices[] = {"off", "watch", "warning", "alarm", NULL};

/* A duration with its unit ("24h", "30m", "45s", "2d"), or "never" / "0" for none. */
static int get_hours(vw_cfg_ctx *x, const cJSON *o, const char *key, double max_h, double *hours)
{
    const cJSON *v = vw_cfg_member(o, key);
    if (!v)
        return 0;
    if (cJSON_IsString(v) && (!strcmp(v->valuestring, "never") || !strcmp(v->valuestring, "0"))) {
        *hours = 0;
        return 0;
    }
    double h;
    if (!cJSON_IsString(v) || cli_parse_duration_h(v->valuestring, &h) < 0 || h > max_h) {
        char desc[160];
        snprintf(desc, sizeof desc, "a duration with its unit, such as \"4h\", \"30m\" or \"2d\" (at most %g days), "
                                    "or \"never\"", max_h / 24);
        return vw_cfg_fail_value(x, key, desc, v);
    }
    *hours = h;
    return 0;
}

/* An input's level: "off" (ignored), "watch", "warning", "alarm". */
static int get_input_level(vw_cfg_ctx *x, const cJSON *o, const char *key, enum alerts_level *out)
{
    int i = -1;
    int rc = vw_cfg_get_choice(x, o, key, false, input_choices, &i);
    if (rc == 0 && i >= 0)
        *out = (enum alerts_level)i;
    return rc;
}

static int read_rules(vw_cfg_ctx *x, const cJSON *o, alerts_rules_cfg *r)
{
    int rc;
    double k = r->debounce_k, n = r->debounce_n, cn = r->clear_n, tw = r->temp_warning_c, ta = r->temp_alarm_c;
    if ((rc = vw_cfg_check_keys(x, o, rules_keys)) < 0 ||
        (rc = vw_cfg_get_whole(x, o, "debounce_k", false, 1, ALERTS_MAX_DEBOUNCE, &k)) < 0 ||
        (rc = vw_cfg_get_whole(x, o, "debounce_n", false, 1, ALERTS_MAX_DEBOUNCE, &n)) < 0 ||
        (rc = vw_cfg_get_whole(x, o, "clear_n", false, 1, ALERTS_MAX_DEBOUNCE, &cn)) < 0 ||
        (rc = get_hours(x, o, "min_interval", 24 * 30, &r->min_interval_h)) < 0 ||
        (rc = get_hours(x, o, "repeat_watch", 24 * 365, &r->repeat_h[ALERTS_WATCH])) < 0 ||
        (rc = get_hours(x, o, "repeat_warning", 24 * 365, &r->repeat_h[ALERTS_WARNING])) < 0 ||
        (rc = get_hours(x, o, "repeat_alarm", 24 * 365, &r->repeat_h[ALERTS_ALARM])) < 0 ||
        (rc = get_input_level(x, o, "sensor_fault", &r->sensor_fault)) < 0 ||
        (rc = get_input_level(x, o, "acquisition_stopped", &r->stopped)) < 0 ||
        (rc = get_input_level(x, o, "iso_zone_c", &r->iso_zone_c)) < 0 ||
        (rc = get_input_level(x, o, "iso_zone_d", &r->iso_zone_d)) < 0 ||
        (rc = vw_cfg_get_number(x, o, "temp_warning_c", false, -100, 1000, &tw)) < 0 ||
        (rc = vw_cfg_get_number(x, o, "temp_alarm_c", false, -100, 1000, &ta)) < 0 ||
        (rc = vw_cfg_get_number(x, o, "temp_hysteresis_c", false, 0, 100, &r->temp_hysteresis_c)) < 0)
        return rc;
    r->debounce_k = (unsigned)k;
    r->debounce_n = (unsigned)n;
    r->clear_n = (unsigned)cn;
    r->temp_warning_c = tw;
    r->temp_alarm_c = ta;
    if (r->debounce_k > r->debounce_n)
        return vw_cfg_fail(x, "debounce_k", "%u is more than debounce_n (%u): k of the last n snapshots", r->debounce_k,
                           r->debounce_n);
    if (isfinite(tw) && isfinite(ta) && ta < tw)
        return vw_cfg_fail(x, "temp_alarm_c", "%g °C is below temp_warning_c (%g °C)", ta, tw);
    char why[160];
    if (alerts_rules_cfg_check(r, why, sizeof why) < 0)
        return vw_cfg_fail(x, NULL, "%s", why);
    return 0;
}

/* "YYYY-MM-DDTHH:MM:SSZ" or "YYYY-MM-DD" (midnight UTC) as hours since 1970. */
static int get_time(vw_cfg_ctx *x, const cJSON *o, const char *key, double *hours)
{
    const cJSON *v = vw_cfg_member(o, key);
    const char *desc = "a UTC time \"YYYY-MM-DDTHH:MM:SSZ\" or a date \"YYYY-MM-DD\"";
    if (!v)
        return vw_cfg_fail(x, key, "missing: %s", desc);
    if (!cJSON_IsString(v) || vw_cfg_parse_utc_h(v->valuestring, hours) < 0)
        return vw_cfg_fail_value(x, key, desc, v);
    return 0;
}

static int asset_index(const vw_config *c, const char *id)
{
    for (unsigned a = 0; a < c->nassets; a++)
        if (!strcmp(c->assets[a].id, id))
            return (int)a;
    return -1;
}

static int read_windows(vw_cfg_ctx *x, const cJSON *al, vw_config *c)
{
    const cJSON *arr;
    int rc = vw_cfg_get_array(x, al, "maintenance_windows", false, VW_CFG_MAX_WINDOWS, "maintenance windows", &arr);
    if (rc < 0 || !arr)
        return rc;
    size_t m = vw_cfg_path_key(x, "maintenance_windows");
    unsigned i = 0;
    for (const cJSON *e = arr->child; e; e = e->next, i++) {
        size_t m2 = vw_cfg_path_index(x, i);
        vw_cfg_window *w = &c->alerts.windows[i];
        c->alerts.nwindows = i + 1;
        if (!cJSON_IsObject(e))
            return vw_cfg_fail_value(x, NULL, "an object {\"asset\": …, \"from\": …, \"to\": …}", e);
        if ((rc = vw_cfg_check_keys(x, e, window_keys)) < 0 ||
            (rc = vw_cfg_get_text(x, e, "asset", false, VW_CFG_ID, &w->asset)) < 0 ||
            (rc = vw_cfg_get_text(x, e, "note", false, VW_CFG_NAME, &w->note)) < 0 ||
            (rc = get_time(x, e, "from", &w->from_h)) < 0 || (rc = get_time(x, e, "to", &w->to_h)) < 0)
            return rc;
        if (w->asset && asset_index(c, w->asset) < 0)
            return vw_cfg_fail(x, "asset", "no asset has the id \"%s\"", w->asset);
        if (!(w->to_h > w->from_h))
            return vw_cfg_fail(x, "to", "must be after \"from\"");
        vw_cfg_path_pop(x, m2);
    }
    vw_cfg_path_pop(x, m);
    return 0;
}

static const char *default_body(enum vw_cfg_body_format f)
{
    switch (f) {
    case VW_BODY_FORM:
        return "text={{text}}&asset={{asset}}&level={{level}}&alert={{key}}";
    case VW_BODY_TEXT:
        return "{{text}}";
    default:
        return "{\"text\":\"{{text}}\",\"box\":\"{{box}}\",\"asset\":\"{{asset}}\",\"level\":\"{{level}}\","
               "\"kind\":\"{{kind}}\",\"alert\":\"{{key}}\",\"link\":\"{{link}}\"}";
    }
}

static int check_template(vw_cfg_ctx *x, const char *key, const char *t)
{
    size_t n = 0;
    while (vw_alert_var_names[n])
        n++;
    char why[256];
    if (alerts_template_check(t, strlen(t), vw_alert_var_names, n, why, sizeof why) < 0)
        return vw_cfg_fail(x, key, "%s (the placeholders are listed in the README, Alerts)", why);
    return 0;
}

static int read_webhook(vw_cfg_ctx *x, const cJSON *o, vw_cfg_destination *d)
{
    static const char *const methods[] = {"POST", "PUT", NULL};
    static const char *const formats[] = {"json", "form", "text", NULL};
    static const char *const ctypes[] = {"application/json", "application/x-www-form-urlencoded",
                                         "text/plain; charset=utf-8"};
    int m = 0, f = 0, rc;
    if ((rc = vw_cfg_get_choice(x, o, "method", false, methods, &m)) < 0 ||
        (rc = vw_cfg_get_choice(x, o, "format", false, formats, &f)) < 0 ||
        (rc = vw_cfg_get_text(x, o, "content_type", false, VW_CFG_NAME, &d->content_type)) < 0)
        return rc;
    d->method = vw_cfg_strdup(methods[m]);
    d->format = (enum vw_cfg_body_format)f;
    if (!d->content_type)
        d->content_type = vw_cfg_strdup(ctypes[f]);
    const cJSON *body = vw_cfg_member(o, "body");
    if (body) {
        if (!cJSON_IsString(body) || !*body->valuestring || strlen(body->valuestring) > VW_CFG_MAX_TEMPLATE ||
            vw_cfg_utf8_check((const unsigned char *)body->valuestring, strlen(body->valuestring)) !=
                strlen(body->valuestring))
            return vw_cfg_fail_value(x, "body", "a template text (UTF-8, at most 8192 bytes)", body);
        d->body = vw_cfg_strdup(body->valuestring);
    } else {
        d->body = vw_cfg_strdup(default_body(d->format));
    }
    if (!d->method || !d->content_type || !d->body)
        return vw_cfg_fail(x, NULL, "out of memory");
    if ((rc = check_template(x, "body", d->body)) < 0)
        return rc;
    const cJSON *h;
    if ((rc = vw_cfg_get_object(x, o, "headers", false, &h)) < 0)
        return rc;
    if (h) {
        size_t mk = vw_cfg_path_key(x, "headers");
        for (const cJSON *e = h->child; e; e = e->next) {
            if (vw_cfg_is_comment(e->string))
                continue;
            if (d->nheaders >= VW_CFG_MAX_HEADERS)
                return vw_cfg_fail(x, NULL, "at most %d headers", VW_CFG_MAX_HEADERS);
            for (const char *p = e->string; *p; p++)
                if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
                    return vw_cfg_fail(x, e->string, "a header name is letters, digits and '-'");
            if (!*e->string || strlen(e->string) > 64)
                return vw_cfg_fail(x, e->string, "a header name is 1–64 characters");
            if (!strcasecmp(e->string, "Content-Type") || !strcasecmp(e->string, "Content-Length") ||
                !strcasecmp(e->string, "Host") || !strcasecmp(e->string, "Authorization"))
                return vw_cfg_fail(x, e->string, "is set by vibewatch (use content_type, user/password or token)");
            char *v = NULL;
            if ((rc = vw_cfg_get_text(x, h, e->string, true, VW_CFG_SECRET, &v)) < 0) /* often an API key */
                return rc;
            d->header_names[d->nheaders] = vw_cfg_strdup(e->string);
            d->header_values[d->nheaders++] = v;
            if (!d->header_names[d->nheaders - 1])
                return vw_cfg_fail(x, NULL, "out of memory");
            if ((rc = check_template(x, e->string, v)) < 0)
                return rc;
        }
        vw_cfg_path_pop(x, mk);
    }
    if (strncmp(d->url, "http://", 7) != 0 && strncmp(d->url, "https://", 8) != 0)
        return vw_cfg_fail(x, "url", "a webhook's url starts with http:// or https://, not \"%.200s\"", d->url);
    static const char *const email_only[] = {"tls", "from", "to", NULL};
    for (size_t k = 0; email_only[k]; k++)
        if (vw_cfg_member(o, email_only[k]))
            return vw_cfg_fail(x, email_only[k], "belongs to an e-mail destination (\"type\": \"email\")");
    return 0;
}

static int read_email(vw_cfg_ctx *x, const cJSON *o, vw_cfg_destination *d)
{
    static const char *const tls[] = {"required", "try", "none", NULL};
    int t = 0, rc;
    const cJSON *to;
    if ((rc = vw_cfg_get_choice(x, o, "tls", false, tls, &t)) < 0 ||
        (rc = vw_cfg_get_text(x, o, "from", true, VW_CFG_NAME, &d->from)) < 0 ||
        (rc = vw_cfg_get_array(x, o, "to", true, VW_CFG_MAX_RECIPIENTS, "recipients", &to)) < 0)
        return rc;
    d->tls = (enum alerts_tls)t;
    bool smtps = !strncmp(d->url, "smtps://", 8);
    if (!smtps && strncmp(d->url, "smtp://", 7) != 0)
        return vw_cfg_fail(x, "url", "an e-mail destination's url is smtp://HOST[:PORT] or smtps://HOST[:PORT], not "
                                     "\"%.200s\"", d->url);
    if (smtps && vw_cfg_member(o, "tls") && d->tls != ALERTS_TLS_REQUIRED)
        return vw_cfg_fail(x, "tls", "smtps:// is TLS from the first byte; leave \"tls\" out or use smtp://");
    if (d->user && d->tls == ALERTS_TLS_TRY && !smtps)
        return vw_cfg_fail(x, "tls", "\"try\" could send the password in the clear; use \"required\" with a user");
    char addr[320];
    if (alerts_mail_address(d->from, addr, sizeof addr) < 0)
        return vw_cfg_fail(x, "from", "\"%.200s\" is not a mail address (\"name@host\" or \"Name <name@host>\")",
                           d->from);
    if (!to->child)
        return vw_cfg_fail(x, "to", "needs at least one recipient");
    size_t mk = vw_cfg_path_key(x, "to");
    unsigned i = 0;
    for (const cJSON *e = to->child; e; e = e->next, i++) {
        char q[300];
        if (!cJSON_IsString(e) || alerts_mail_address(e->valuestring, addr, sizeof addr) < 0) {
            vw_cfg_quote(q, sizeof q, cJSON_IsString(e) ? e->valuestring : "?");
            vw_cfg_path_index(x, i);
            return vw_cfg_fail(x, NULL, "%s is not a mail address (\"name@host\" or \"Name <name@host>\")", q);
        }
        if (!(d->to[d->nto++] = vw_cfg_strdup(e->valuestring)))
            return vw_cfg_fail(x, NULL, "out of memory");
    }
    vw_cfg_path_pop(x, mk);
    static const char *const hook_only[] = {"token", "method", "format", "content_type", "body", "headers", NULL};
    for (size_t k = 0; hook_only[k]; k++)
        if (vw_cfg_member(o, hook_only[k]))
            return vw_cfg_fail(x, hook_only[k], "belongs to a webhook destination (\"type\": \"webhook\")");
    return 0;
}

static int read_destination(vw_cfg_ctx *x, const cJSON *o, vw_config *c, unsigned index)
{
    static const char *const types[] = {"email", "webhook", NULL};
    vw_cfg_destination *d = &c->alerts.dest[index];
    int type = -1, lvl = ALERTS_WARNING, rc;
    d->max_per_hour = 10;
    if (!cJSON_IsObject(o))
        return vw_cfg_fail_value(x, NULL, "an object {\"name\": …, \"type\": \"email\" or \"webhook\", …}", o);
    if ((rc = vw_cfg_check_keys(x, o, dest_keys)) < 0 ||
        (rc = vw_cfg_get_text(x, o, "name", true, VW_CFG_ID, &d->name)) < 0 ||
        (rc = vw_cfg_get_choice(x, o, "type", true, types, &type)) < 0 ||
        (rc = vw_cfg_get_text(x, o, "url", true, VW_CFG_URI, &d->url)) < 0 ||
        (rc = vw_cfg_get_text(x, o, "user", false, VW_CFG_NAME, &d->user)) < 0 ||
        (rc = vw_cfg_get_text(x, o, "password", false, VW_CFG_SECRET, &d->password)) < 0 ||
        (rc = vw_cfg_get_text(x, o, "token", false, VW_CFG_SECRET, &d->token)) < 0 ||
        (rc = vw_cfg_get_text(x, o, "ca_file", false, VW_CFG_PATH, &d->ca_file)) < 0 ||
        (rc = vw_cfg_get_bool(x, o, "tls_insecure", &d->tls_insecure)) < 0 ||
        (rc = vw_cfg_get_choice(x, o, "min_level", false, level_choices, &lvl)) < 0 ||
        (rc = vw_cfg_get_number(x, o, "max_per_hour", false, 0, 3600, &d->max_per_hour)) < 0)
        return rc;
    for (unsigned k = 0; k < index; k++)
        if (!strcmp(c->alerts.dest[k].name, d->name))
            return vw_cfg_fail(x, "name", "\"%s\" is already the name of alerts.destinations[%u]", d->name, k);
    if (lvl == ALERTS_OK)
        return vw_cfg_fail(x, "min_level", "must be \"watch\", \"warning\" or \"alarm\"");
    d->type = (enum vw_cfg_dest_type)type;
    d->min_level = (enum alerts_level)lvl;
    d->timeout_s = d->type == VW_DEST_EMAIL ? 30 : 15;
    if ((rc = vw_cfg_get_number(x, o, "timeout_s", false, 1, 600, &d->timeout_s)) < 0)
        return rc;
    if ((d->user != NULL) != (d->password != NULL))
        return vw_cfg_fail(x, d->user ? "password" : "user", "user and password go together");
    const cJSON *as;
    if ((rc = vw_cfg_get_array(x, o, "assets", false, VW_CFG_MAX_ASSETS, "assets", &as)) < 0)
        return rc;
    if (as) {
        size_t mk = vw_cfg_path_key(x, "assets");
        unsigned i = 0;
        for (const cJSON *e = as->child; e; e = e->next, i++) {
            size_t m2 = vw_cfg_path_index(x, i);
            if (!cJSON_IsString(e) || asset_index(c, e->valuestring) < 0)
                return vw_cfg_fail_value(x, NULL, "the id of an asset of this configuration", e);
            if (!(d->assets[d->nassets++] = vw_cfg_strdup(e->valuestring)))
                return vw_cfg_fail(x, NULL, "out of memory");
            vw_cfg_path_pop(x, m2);
        }
        vw_cfg_path_pop(x, mk);
    }
    if (d->type == VW_DEST_EMAIL) {
        if (d->token)
            return vw_cfg_fail(x, "token", "belongs to a webhook destination");
        return read_email(x, o, d);
    }
    if (d->token && d->user)
        return vw_cfg_fail(x, "token", "use either a bearer token or user and password, not both");
    return read_webhook(x, o, d);
}

void vw_cfg_alerts_default(vw_cfg_alerts *a)
{
    memset(a, 0, sizeof *a);
    alerts_rules_cfg_default(&a->rules);
    a->give_up_h = 24;
    a->retry_min_s = 30;
    a->retry_max_s = 1800;
    a->keep_days = 365;
    a->stopped_after_s = NAN;
}

int vw_cfg_read_alerts(vw_cfg_ctx *x, const cJSON *root, vw_config *c)
{
    vw_cfg_alerts *a = &c->alerts;
    const cJSON *al, *o;
    int rc = vw_cfg_get_object(x, root, "alerts", false, &al);
    if (rc < 0 || !al)
        return rc;
    size_t mark = vw_cfg_path_key(x, "alerts");
    if ((rc = vw_cfg_check_keys(x, al, alerts_keys)) < 0 ||
        (rc = vw_cfg_get_text(x, al, "dashboard_url", false, VW_CFG_URI, &a->dashboard_url)) < 0)
        return rc;
    if (a->dashboard_url && strncmp(a->dashboard_url, "http://", 7) && strncmp(a->dashboard_url, "https://", 8))
        return vw_cfg_fail(x, "dashboard_url", "must start with http:// or https://");
    if ((rc = vw_cfg_get_object(x, al, "rules", false, &o)) < 0)
        return rc;
    if (o) {
        size_t m = vw_cfg_path_key(x, "rules");
        if ((rc = read_rules(x, o, &a->rules)) < 0)
            return rc;
        vw_cfg_path_pop(x, m);
    }
    if ((rc = vw_cfg_get_object(x, al, "assets", false, &o)) < 0)
        return rc;
    if (o) {
        size_t m = vw_cfg_path_key(x, "assets");
        for (const cJSON *e = o->child; e; e = e->next) {
            if (vw_cfg_is_comment(e->string))
                continue;
            int ai = asset_index(c, e->string);
            if (ai < 0)
                return vw_cfg_fail(x, e->string, "no asset has this id");
            if (a->asset_rules[ai])
                return vw_cfg_fail(x, e->string, "given twice");
            if (!cJSON_IsObject(e))
                return vw_cfg_fail_value(x, e->string, "an object of rules (the keys of alerts.rules)", e);
            if (!(a->asset_rules[ai] = malloc(sizeof *a->asset_rules[ai])))
                return vw_cfg_fail(x, NULL, "out of memory");
            *a->asset_rules[ai] = a->rules; /* the box's rules, overridden key by key */
            size_t m2 = vw_cfg_path_key(x, e->string);
            if ((rc = read_rules(x, e, a->asset_rules[ai])) < 0)
                return rc;
            vw_cfg_path_pop(x, m2);
        }
        vw_cfg_path_pop(x, m);
    }
    if ((rc = read_windows(x, al, c)) < 0)
        return rc;
    if ((rc = vw_cfg_get_object(x, al, "delivery", false, &o)) < 0)
        return rc;
    if (o) {
        size_t m = vw_cfg_path_key(x, "delivery");
        double gu = a->give_up_h, rmin = a->retry_min_s / 3600, rmax = a->retry_max_s / 3600, keep = a->keep_days * 24,
               st = NAN;
        if ((rc = vw_cfg_check_keys(x, o, delivery_keys)) < 0 || (rc = get_hours(x, o, "give_up", 24 * 30, &gu)) < 0 ||
            (rc = get_hours(x, o, "retry_min", 24, &rmin)) < 0 || (rc = get_hours(x, o, "retry_max", 24, &rmax)) < 0 ||
            (rc = get_hours(x, o, "keep", 24 * 3650, &keep)) < 0 ||
            (rc = get_hours(x, o, "stopped_after", 24 * 7, &st)) < 0)
            return rc;
        if (gu <= 0 || rmin <= 0 || rmax <= 0 || keep <= 0)
            return vw_cfg_fail(x, NULL, "give_up, retry_min, retry_max and keep cannot be \"never\"");
        if (rmax < rmin)
            return vw_cfg_fail(x, "retry_max", "is shorter than retry_min");
        a->give_up_h = gu;
        a->retry_min_s = rmin * 3600;
        a->retry_max_s = rmax * 3600;
        a->keep_days = keep / 24;
        a->stopped_after_s = st * 3600; /* "never" gives 0: no watchdog */
        vw_cfg_path_pop(x, m);
    }
    const cJSON *arr;
    if ((rc = vw_cfg_get_array(x, al, "destinations", false, VW_CFG_MAX_DESTINATIONS, "destinations", &arr)) < 0)
        return rc;
    if (arr) {
        size_t m = vw_cfg_path_key(x, "destinations");
        unsigned i = 0;
        for (const cJSON *e = arr->child; e; e = e->next, i++) {
            size_t m2 = vw_cfg_path_index(x, i);
            a->ndest = i + 1;
            if ((rc = read_destination(x, e, c, i)) < 0)
                return rc;
            vw_cfg_path_pop(x, m2);
        }
        vw_cfg_path_pop(x, m);
    }
    vw_cfg_path_pop(x, mark);
    return 0;
}

static void wipe_free(char *s)
{
    if (s)
        memset(s, 0, strlen(s));
    free(s);
}

void vw_cfg_free_alerts(vw_config *c)
{
    vw_cfg_alerts *a = &c->alerts;
    free(a->dashboard_url);
    for (unsigned i = 0; i < VW_CFG_MAX_ASSETS; i++)
        free(a->asset_rules[i]);
    for (unsigned i = 0; i < a->nwindows; i++) {
        free(a->windows[i].asset);
        free(a->windows[i].note);
    }
    for (unsigned i = 0; i < a->ndest; i++) {
        vw_cfg_destination *d = &a->dest[i];
        free(d->name);
        free(d->url);
        free(d->user);
        wipe_free(d->password);
        wipe_free(d->token);
        free(d->ca_file);
        for (unsigned k = 0; k < d->nassets; k++)
            free(d->assets[k]);
        free(d->from);
        for (unsigned k = 0; k < d->nto; k++)
            free(d->to[k]);
        free(d->method);
        free(d->content_type);
        free(d->body);
        for (unsigned k = 0; k < d->nheaders; k++) {
            free(d->header_names[k]);
            wipe_free(d->header_values[k]); /* an API key often travels in a header */
        }
    }
}

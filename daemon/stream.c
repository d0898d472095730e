/* daemon/stream.c — see stream.h. */
#include "stream.h"

#include "log.h"
#include "models/monitor.h"
#include "snapshot_features.h"
#include "store/influx.h"
#include "store/lineproto.h"

#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define LINE_BUF (64u << 10)

struct vw_stream {
    const char *box;
    int n;
    store_influx *out[VW_CFG_MAX_OUTPUTS];
    bool strings[VW_CFG_MAX_OUTPUTS];
    bool any_plain;           /* some output takes no string fields */
    char buf[LINE_BUF], plain[LINE_BUF]; /* the lines, and the same without string fields */
    size_t len, plain_len;
    uint64_t format_errors;
};

static void influx_log(int level, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    vw_log(level == 3 ? VW_LOG_ERR : level == 4 ? VW_LOG_WARNING : VW_LOG_NOTICE, "output", "%s", msg);
}

vw_stream *vw_stream_start(const vw_config *cfg, char *err, size_t errlen)
{
    vw_stream *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->box = cfg->box_id;
    for (unsigned i = 0; i < cfg->ninflux; i++) {
        const vw_cfg_influx *f = &cfg->influx[i];
        store_influx_cfg c;
        store_influx_cfg_default(&c);
        char spool[VW_CFG_MAX_PATH + 96];
        snprintf(spool, sizeof spool, "%s/spool/%s", cfg->data_dir, f->name);
        c.name = f->name;
        c.url = f->url;
        c.api = f->api;
        c.db = f->db;
        c.rp = f->rp;
        c.user = f->user;
        c.password = f->password;
        c.org = f->org;
        c.bucket = f->bucket;
        c.token = f->token;
        c.ca_file = f->ca_file;
        c.client_cert = f->client_cert;
        c.client_key = f->client_key;
        c.tls_insecure = f->tls_insecure;
        c.gzip = f->gzip;
        c.batch_bytes = (size_t)(f->batch_kb * 1024);
        c.batch_s = f->batch_s;
        c.timeout_s = f->timeout_s;
        c.spool_dir = spool;
        c.spool_bytes = (uint64_t)(f->spool_mb * 1048576);
        c.spool_fsync = f->spool_fsync;
        c.drain_kb_s = f->drain_kb_s;
        c.dead_letter_bytes = (uint64_t)(f->dead_letter_mb * 1048576);
        c.log = influx_log;
        /* the spools' folder; each output's spool makes its own below it */
        char parent[VW_CFG_MAX_PATH + 16];
        snprintf(parent, sizeof parent, "%s/spool", cfg->data_dir);
        if (mkdir(parent, 0750) != 0 && errno != EEXIST) {
            snprintf(err, errlen, "outputs.influx[%u]: %s: %s", i, parent, strerror(errno));
            vw_stream_stop(s);
            return NULL;
        }
        char e[512];
        s->out[s->n] = store_influx_start(&c, e, sizeof e);
        if (!s->out[s->n]) {
            snprintf(err, errlen, "outputs.influx[%u]: %s", i, e);
            vw_stream_stop(s);
            return NULL;
        }
        s->strings[s->n] = f->strings;
        s->any_plain |= !f->strings;
        s->n++;
    }
    return s;
}

/* ---- lines ----------------------------------------------------------------------------------- */

/* Hands the lines gathered in s->buf to every output. */
static void ship(vw_stream *s)
{
    for (int i = 0; i < s->n; i++) { /* a failure is logged and counted there */
        if (s->strings[i] && s->len)
            store_influx_put(s->out[i], s->buf, s->len);
        else if (!s->strings[i] && s->plain_len)
            store_influx_put(s->out[i], s->plain, s->plain_len);
    }
    s->len = s->plain_len = 0;
}

static void line(vw_stream *s, const char *measurement, const store_lp_tag *tags, size_t ntags,
                 const store_lp_field *fields, size_t nfields, int64_t t_ns)
{
    char err[256] = "";
    if (s->len + 8192 > sizeof s->buf || s->plain_len + 8192 > sizeof s->plain)
        ship(s);
    int rc = store_lp_line(s->buf, sizeof s->buf, &s->len, measurement, tags, ntags, fields, nfields, t_ns, err,
                           sizeof err);
    if (rc == -ENOSPC) {
        ship(s);
        rc = store_lp_line(s->buf, sizeof s->buf, &s->len, measurement, tags, ntags, fields, nfields, t_ns, err,
                           sizeof err);
    }
    if (rc == 0 && s->any_plain) {
        store_lp_field plain[64];
        size_t np = 0;
        for (size_t k = 0; k < nfields && np < 64; k++)
            if (fields[k].type != STORE_LP_STRING)
                plain[np++] = fields[k];
        store_lp_line(s->plain, sizeof s->plain, &s->plain_len, measurement, tags, ntags, plain, np, t_ns, NULL, 0);
    }
    if (rc < 0 && rc != -ENODATA && s->format_errors++ < 10)
        vw_log(VW_LOG_WARNING, "output", "%s: a point cannot be written as line protocol: %s", measurement,
               err[0] ? err : strerror(-rc));
}

static size_t tags_of(const vw_stream *s, store_lp_tag *t, const char *asset, const char *sensor, const char *axis,
                      const char *bearing)
{
    size_t n = 0;
    t[n++] = (store_lp_tag){"box", s->box};
    if (asset)
        t[n++] = (store_lp_tag){"asset", asset};
    if (sensor)
        t[n++] = (store_lp_tag){"sensor", sensor};
    if (axis)
        t[n++] = (store_lp_tag){"axis", axis};
    if (bearing)
        t[n++] = (store_lp_tag){"bearing", bearing};
    return n;
}

static store_lp_field fnum(const char *k, double v) { return (store_lp_field){.key = k, .type = STORE_LP_FLOAT, .v.f = v}; }
static store_lp_field fint(const char *k, int64_t v) { return (store_lp_field){.key = k, .type = STORE_LP_INT, .v.i = v}; }
static store_lp_field fstr(const char *k, const char *v) { return (store_lp_field){.key = k, .type = STORE_LP_STRING, .v.s = v}; }
static store_lp_field fbool(const char *k, bool v) { return (store_lp_field){.key = k, .type = STORE_LP_BOOL, .v.b = v}; }

static int state_code(const char *state)
{
    static const char *const names[] = {"learning", "ok", "watch", "warning", "alarm", "sensor_fault"};
    for (int i = 0; i < 6; i++)
        if (strcmp(state, names[i]) == 0)
            return i;
    return -1;
}

void vw_stream_snapshot(vw_stream *s, const vw_stream_point *p)
{
    if (!s || !s->n)
        return;
    store_lp_tag tags[8];
    size_t nt = tags_of(s, tags, p->asset, p->sensor, p->axis, p->bearing);
    store_lp_field f[NFEAT + 4];
    size_t nf = 0;
    for (int k = 0; k < NFEAT; k++)
        if (isfinite(p->features[k]))
            f[nf++] = fnum(vw_snapshot_feature_names[k], p->features[k]);
    int code = state_code(p->state);
    f[nf++] = fstr("state", p->state);
    if (code >= 0)
        f[nf++] = fint("state_code", code);
    if (p->diagnosis && p->diagnosis[0])
        f[nf++] = fstr("diagnosis", p->diagnosis);
    line(s, "vw_features", tags, nt, f, nf, p->t_ns);
    const models_monitor_output *m = p->monitor;
    if (m) {
        store_lp_field h[20];
        size_t nh = 0;
        const struct { const char *k; double v; } nums[] = {
            {"anomaly", m->anomaly}, {"threshold", m->threshold}, {"health", m->health}, {"hi", m->hi},
            {"hi_limit", m->hi_limit}, {"rul_h", m->rul_h}, {"rul_lo_h", m->rul_lo_h}, {"rul_hi_h", m->rul_hi_h},
            {"p_fail_7d", m->p_fail_7d}, {"p_fail_14d", m->p_fail_14d}};
        for (size_t k = 0; k < sizeof nums / sizeof nums[0]; k++)
            if (isfinite(nums[k].v))
                h[nh++] = fnum(nums[k].k, nums[k].v);
        h[nh++] = fstr("rul_basis", models_rul_basis_name(m->basis));
        h[nh++] = fstr("state", p->state);
        if (code >= 0)
            h[nh++] = fint("state_code", code);
        h[nh++] = fbool("onset", m->onset);
        if (m->state == MODELS_ST_LEARNING)
            h[nh++] = fnum("progress", m->progress);
        line(s, "vw_health", tags, nt, h, nh, p->t_ns);
    }
    ship(s);
}

void vw_stream_event(vw_stream *s, int64_t t_ns, const char *asset, const char *sensor, const char *axis,
                     const char *kind, const char *from, const char *to, const char *detail)
{
    if (!s || !s->n)
        return;
    store_lp_tag tags[8];
    size_t nt = tags_of(s, tags, asset, sensor, axis, NULL);
    tags[nt++] = (store_lp_tag){"kind", kind};
    store_lp_field f[4];
    size_t nf = 0;
    f[nf++] = fint("count", 1);
    if (from)
        f[nf++] = fstr("from", from);
    if (to)
        f[nf++] = fstr("to", to);
    if (detail)
        f[nf++] = fstr("detail", detail);
    line(s, "vw_events", tags, nt, f, nf, t_ns);
    ship(s);
}

void vw_stream_metrics(vw_stream *s, int64_t t_ns, const cJSON *metrics)
{
    if (!s || !s->n)
        return;
    store_lp_tag tags[1] = {{"box", s->box}};
    store_lp_field f[48];
    size_t nf = 0;
    f[nf++] = fint("schema_version", VW_STREAM_SCHEMA_VERSION);
    const cJSON *v;
    cJSON_ArrayForEach(v, metrics) {
        if (nf < sizeof f / sizeof f[0] && cJSON_IsNumber(v) && v->string)
            f[nf++] = fnum(v->string, v->valuedouble);
    }
    line(s, "vw_box", tags, 1, f, nf, t_ns);
    ship(s);
}

uint64_t vw_stream_flush(vw_stream *s, double timeout_s)
{
    uint64_t unsent = 0;
    if (!s)
        return 0;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < s->n; i++) { /* each gets the time that is left */
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double spent = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
        unsent += store_influx_flush(s->out[i], fmax(0, timeout_s - spent));
    }
    return unsent;
}

void vw_stream_stop(vw_stream *s)
{
    if (!s)
        return;
    for (int i = 0; i < s->n; i++)
        store_influx_stop(s->out[i]);
    free(s);
}

cJSON *vw_stream_status(vw_stream *s)
{
    if (!s || !s->n)
        return NULL;
    cJSON *arr = cJSON_CreateArray();
    for (int i = 0; i < s->n; i++) {
        store_influx_stats st;
        store_influx_get_stats(s->out[i], &st);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", store_influx_name(s->out[i]));
        cJSON_AddBoolToObject(o, "connected", st.connected);
        cJSON_AddNumberToObject(o, "last_http_status", st.last_http_status);
        if (st.last_error[0])
            cJSON_AddStringToObject(o, "last_error", st.last_error);
        cJSON_AddNumberToObject(o, "lines_in", (double)st.lines_in);
        cJSON_AddNumberToObject(o, "batches_sent", (double)st.batches_sent);
        cJSON_AddNumberToObject(o, "bytes_sent", (double)st.bytes_sent);
        cJSON_AddNumberToObject(o, "retries", (double)st.retries);
        cJSON_AddNumberToObject(o, "put_failed_bytes", (double)st.put_failed_bytes);
        cJSON_AddNumberToObject(o, "spool_pending_bytes", (double)st.spool_pending_bytes);
        cJSON_AddNumberToObject(o, "spool_disk_bytes", (double)st.spool_disk_bytes);
        cJSON_AddNumberToObject(o, "spool_dropped_bytes", (double)st.spool_dropped_bytes);
        cJSON_AddNumberToObject(o, "dead_batches", (double)st.dead_batches);
        cJSON_AddItemToArray(arr, o);
    }
    return arr;
}

uint64_t vw_stream_undelivered(vw_stream *s)
{
    uint64_t n = 0;
    for (int i = 0; s && i < s->n; i++) {
        store_influx_stats st;
        store_influx_get_stats(s->out[i], &st);
        n += st.dead_bytes + st.put_failed_bytes + st.spool_dropped_bytes;
    }
    return n;
}

void vw_stream_totals(vw_stream *s, uint64_t *spool_bytes, uint64_t *dropped_bytes, uint64_t *dead_batches)
{
    *spool_bytes = *dropped_bytes = *dead_batches = 0;
    for (int i = 0; s && i < s->n; i++) {
        store_influx_stats st;
        store_influx_get_stats(s->out[i], &st);
        *spool_bytes += st.spool_disk_bytes;
        *dropped_bytes += st.spool_dropped_bytes + st.put_failed_bytes;
        *dead_batches += st.dead_batches;
    }
}

/* daemon/web_api.c — the handlers of the box's HTTP API (web/API.md) and the web server's start.
 * See web_api.h. Every document is built with cJSON; numbers are rounded to 6 significant digits
 * (the sensors' own precision is far below that), NAN and infinities are null. */
#include "web_api.h"

#include "alerts/outbox.h"
#include "alerts/rules.h"
#include "log.h"
#include "models/iso10816.h"
#include "snapshot_features.h"
#include "store/history_read.h"
#include "version.h"
#include "web/http_internal.h"

#include "dsp/fft.h"

#include <cJSON.h>
#include <ctype.h>
#include <curl/curl.h>
#include <microhttpd.h>
#include <sqlite3.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define POOL 4                          /* history connections for concurrent requests */
#define DAY_NS (86400LL * 1000000000LL)
#define MAX_NOTE 1000                   /* bytes of a note */
#define MAX_TREND_FEATURES 8
#define STATUS_EVERY_NS (10LL * 1000000000LL)
#define HEAVY_MAX 2                     /* trends, spectra, waterfalls, waveforms built at once */
#define MAX_CELLS 100000                /* a waterfall's rows × points */

typedef struct slot {
    store_reader *reader;
    alerts_outbox *outbox;
    int busy;
} slot;

struct vw_webapi {
    const vw_config *cfg;
    vw_pipeline *pipe;
    web_server *srv;
    char dir[VW_CFG_MAX_PATH + 1];
    char db[VW_CFG_MAX_PATH + 32];
    char url[128];
    pthread_mutex_t lock;
    pthread_cond_t freed;
    slot slots[POOL];
    unsigned heavy;                    /* heavy documents being built (under lock; freed signals) */
    int64_t next_status_ns;
    int64_t last_alert_id;             /* the highest alert id seen (tick thread only) */
    bool alerts_seen;                  /* the alerts were listed once: newer ones are published */
};

/* ---- small helpers ------------------------------------------------------------------------------ */

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static web_reply reply_error(unsigned status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static web_reply reply_error(unsigned status, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return (web_reply){.status = status, .body = web_error_json(status, msg)};
}

static web_reply reply_json(unsigned status, cJSON *o)
{
    char *s = o ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    if (!s)
        return reply_error(503, "out of memory");
    return (web_reply){.status = status, .body = s};
}

static web_reply reply_text(char *doc, const char *what)
{
    if (!doc)
        return reply_error(500, "could not build %s", what);
    return (web_reply){.status = 200, .body = doc};
}

/* Publishes a live update (web_publish) made of a tree, which it deletes. */
static void publish_tree(vw_webapi *w, const char *event, cJSON *o)
{
    char *s = o ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    if (s)
        web_publish(w->srv, event, s);
    free(s);
}

/* A number with 7 significant digits (beyond any sensor's precision), or null. */
static cJSON *num(double v)
{
    if (!isfinite(v))
        return cJSON_CreateNull();
    char buf[32];
    snprintf(buf, sizeof buf, "%.7g", v);
    return cJSON_CreateNumber(strtod(buf, NULL));
}

static void add_num(cJSON *o, const char *key, double v) { cJSON_AddItemToObject(o, key, num(v)); }

static void add_time(cJSON *o, const char *key, int64_t t_ns)
{
    char t[40];
    vw_iso8601(t_ns, t, sizeof t);
    cJSON_AddStringToObject(o, key, t);
}

int vw_webapi_parse_time(const char *s, int64_t *t_ns)
{
    if (!s || !*s || strlen(s) > 40)
        return -EINVAL;
    if (isdigit((unsigned char)s[0]) && strchr(s, '-') == NULL) {
        char *end;
        errno = 0;
        double v = strtod(s, &end);
        if (*end || errno || !isfinite(v) || v < 0 || v > 9.2e9)
            return -EINVAL;
        *t_ns = (int64_t)llround(v * 1e9);
        return 0;
    }
    /* exactly YYYY-MM-DDTHH:MM:SS, then Z or .fff…Z */
    size_t len = strlen(s);
    if (len < 20 || (len == 20 && s[19] != 'Z') || (len > 20 && (s[19] != '.' || !isdigit((unsigned char)s[20]))))
        return -EINVAL;
    for (size_t i = 0; i < 19; i++)
        if (i == 4 || i == 7 ? s[i] != '-' : i == 10 ? s[i] != 'T' : i == 13 || i == 16 ? s[i] != ':' : !isdigit((unsigned char)s[i]))
            return -EINVAL;
    int y, mo, d, h, mi, n = 0;
    double sec;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%lf%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 || s[n] != 'Z' || s[n + 1] ||
        y < 1970 || y > 2200 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || !(sec >= 0 && sec < 61))
        return -EINVAL;
    struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi};
    time_t base = timegm(&tm);
    if (base == (time_t)-1)
        return -EINVAL;
    *t_ns = (int64_t)base * 1000000000 + (int64_t)llround(sec * 1e9);
    return 0;
}

int vw_webapi_parse_count(const char *s, long lo, long hi, long *out)
{
    if (!s || !*s || strlen(s) > 12 || strspn(s, "0123456789") != strlen(s))
        return -EINVAL;
    long v = strtol(s, NULL, 10);
    if (v < lo || v > hi)
        return -ERANGE;
    *out = v;
    return 0;
}

/* ---- the pool of database connections ------------------------------------------------------------ */

static slot *borrow(vw_webapi *w)
{
    pthread_mutex_lock(&w->lock);
    slot *s = NULL;
    while (!s) {
        for (int i = 0; i < POOL && !s; i++)
            if (!w->slots[i].busy)
                s = &w->slots[i];
        if (!s)
            pthread_cond_wait(&w->freed, &w->lock);
    }
    s->busy = 1;
    pthread_mutex_unlock(&w->lock);
    return s;
}

/* A free slot now, or NULL (for the main loop, which must not wait behind slow requests). */
static slot *try_borrow(vw_webapi *w)
{
    slot *s = NULL;
    pthread_mutex_lock(&w->lock);
    for (int i = 0; i < POOL && !s; i++)
        if (!w->slots[i].busy)
            s = &w->slots[i];
    if (s)
        s->busy = 1;
    pthread_mutex_unlock(&w->lock);
    return s;
}

static void give_back(vw_webapi *w, slot *s)
{
    pthread_mutex_lock(&w->lock);
    s->busy = 0;
    pthread_cond_broadcast(&w->freed); /* waiters for a slot and for a heavy turn */
    pthread_mutex_unlock(&w->lock);
}

/* The slot's history reader, opened on first use; NULL (and *reply set) when there is no history. */
static store_reader *reader_of(vw_webapi *w, slot *s, web_reply *reply)
{
    if (!s->reader) {
        char err[512];
        s->reader = store_reader_open(w->dir, err, sizeof err);
        if (!s->reader)
            *reply = reply_error(404, "no history yet (%s)", err);
    }
    return s->reader;
}

/* The slot's read-only outbox; NULL with *none when there are no alerts yet. */
static alerts_outbox *outbox_of(vw_webapi *w, slot *s, bool *none, web_reply *reply)
{
    *none = false;
    if (!s->outbox) {
        char err[512];
        s->outbox = alerts_outbox_open_readonly(w->db, none, err, sizeof err);
        if (!s->outbox && !*none)
            *reply = reply_error(500, "cannot read the alerts: %s", err);
    }
    return s->outbox;
}

/* ---- request parameters ------------------------------------------------------------------------- */

typedef struct chan {
    const vw_cfg_asset *as;
    const vw_cfg_sensor *sc;
    const char *axis;
    char buf[16];
} chan;

static const vw_cfg_asset *asset_of(vw_webapi *w, const web_call *c, web_reply *reply)
{
    const vw_cfg_asset *as = c->id ? vw_config_asset(w->cfg, c->id) : NULL;
    if (!as) {
        char q[160];
        web_text_sanitize(q, sizeof q, c->id ? c->id : "", c->id ? strlen(c->id) : 0);
        *reply = reply_error(404, "no such asset: \"%s\"", q);
    }
    return as;
}

/* The channel of ?sensor=&channel= (left out: the asset's first sensor, its first channel). */
static int channel_of(vw_webapi *w, const web_call *c, chan *ch, web_reply *reply)
{
    if (!(ch->as = asset_of(w, c, reply)))
        return -1;
    const char *sensor = web_query_get(c->query, "sensor"), *axis = web_query_get(c->query, "channel");
    ch->sc = NULL;
    for (unsigned s = 0; s < ch->as->nsensors && !ch->sc; s++)
        if (!sensor || strcmp(ch->as->sensors[s].id, sensor) == 0)
            ch->sc = &ch->as->sensors[s];
    if (!ch->sc) {
        char q[160];
        web_text_sanitize(q, sizeof q, sensor, strlen(sensor));
        *reply = reply_error(404, "asset %s has no sensor \"%s\"", ch->as->id, q);
        return -1;
    }
    unsigned n = ch->sc->nchannels ? ch->sc->nchannels : 1;
    ch->axis = NULL;
    for (unsigned k = 0; k < n && !ch->axis; k++) {
        const char *name = ch->sc->channel_names[k];
        if (!name) {
            snprintf(ch->buf, sizeof ch->buf, "%u", ch->sc->nchannels ? ch->sc->channels[k] : 0);
            name = ch->buf;
        }
        if (!axis || strcmp(name, axis) == 0)
            ch->axis = name;
    }
    if (!ch->axis && axis && ch->sc->nchannels == 0 && strlen(axis) < sizeof ch->buf &&
        strspn(axis, "0123456789") == strlen(axis)) { /* "channels": "all": any index the source has */
        snprintf(ch->buf, sizeof ch->buf, "%s", axis);
        ch->axis = ch->buf;
    }
    if (!ch->axis) {
        char q[160];
        web_text_sanitize(q, sizeof q, axis, strlen(axis));
        *reply = reply_error(404, "sensor %s has no channel \"%s\"", ch->sc->id, q);
        return -1;
    }
    return 0;
}

static int only(const web_call *c, const char *const *allowed, web_reply *reply)
{
    char err[300];
    if (web_query_only(c->query, allowed, err, sizeof err) < 0) {
        *reply = reply_error(400, "%s", err);
        return -1;
    }
    return 0;
}

static int count_param(const web_call *c, const char *name, long lo, long hi, long dflt, long *out, web_reply *reply)
{
    const char *v = web_query_get(c->query, name);
    *out = dflt;
    if (!v)
        return 0;
    int rc = vw_webapi_parse_count(v, lo, hi, out);
    if (rc < 0) {
        *reply = reply_error(400, "%s must be a whole number from %ld to %ld", name, lo, hi);
        return -1;
    }
    return 0;
}

static int time_param(const web_call *c, const char *name, int64_t *out, bool *given, web_reply *reply)
{
    const char *v = web_query_get(c->query, name);
    *given = v != NULL;
    if (v && vw_webapi_parse_time(v, out) < 0) {
        *reply = reply_error(400, "%s must be seconds since 1970 or YYYY-MM-DDTHH:MM:SS[.fff]Z", name);
        return -1;
    }
    return 0;
}

static int number_param(const web_call *c, const char *name, double lo, double hi, double *out, web_reply *reply)
{
    const char *v = web_query_get(c->query, name);
    if (!v)
        return 0;
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (!*v || *end || errno || !(x >= lo && x <= hi)) {
        *reply = reply_error(400, "%s must be a number from %g to %g", name, lo, hi);
        return -1;
    }
    *out = x;
    return 0;
}

/* from and to: given, or to = the channel's newest data and from = 7 days before it. */
static int range_params(store_reader *r, const web_call *c, const chan *ch, int64_t *from, int64_t *to,
                        web_reply *reply)
{
    bool has_from, has_to;
    if (time_param(c, "from", from, &has_from, reply) < 0 || time_param(c, "to", to, &has_to, reply) < 0)
        return -1;
    if (!has_to || !has_from) {
        int64_t first, last;
        int rc = store_reader_span(r, ch->sc->id, ch->axis, &first, &last);
        if (rc < 0) {
            *reply = reply_error(404, "no data yet for %s/%s", ch->sc->id, ch->axis);
            return -1;
        }
        if (!has_to)
            *to = has_from && *from > last ? *from + DAY_NS : last + 1;
        if (!has_from)
            *from = *to - 7 * DAY_NS;
    }
    if (*from >= *to) {
        *reply = reply_error(400, "from must be before to");
        return -1;
    }
    return 0;
}

static int kind_param(const web_call *c, int *envelope, web_reply *reply)
{
    const char *k = web_query_get(c->query, "kind");
    *envelope = 0;
    if (!k || strcmp(k, "amplitude") == 0)
        return 0;
    if (strcmp(k, "envelope") == 0) {
        *envelope = 1;
        return 0;
    }
    *reply = reply_error(400, "kind must be amplitude or envelope");
    return -1;
}

/* A note from a JSON body: absent or a string of at most MAX_NOTE bytes. */
static int note_of(const web_call *c, const char **note, web_reply *reply, cJSON **body)
{
    *body = cJSON_ParseWithLength(c->body ? c->body : "{}", c->body ? c->body_len : 2);
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(*body, "note");
    *note = "";
    if (!n || cJSON_IsNull(n))
        return 0;
    if (!cJSON_IsString(n) || strlen(n->valuestring) > MAX_NOTE) {
        *reply = reply_error(400, "note must be a text of at most %d bytes", MAX_NOTE);
        return -1;
    }
    for (const unsigned char *p = (const unsigned char *)n->valuestring; *p; p++)
        if (*p < 0x20 && *p != '\n' && *p != '\t') {
            *reply = reply_error(400, "note must not hold control characters");
            return -1;
        }
    *note = n->valuestring;
    return 0;
}

/* ---- status, assets, config ----------------------------------------------------------------------- */

static web_reply h_status(void *ctx, const web_call *c)
{
    vw_webapi *w = ctx;
    web_reply r = {0};
    if (only(c, (const char *const[]){NULL}, &r) < 0)
        return r;
    cJSON *o = vw_pipeline_status(w->pipe);
    if (!o)
        return reply_error(500, "could not build the status");
    web_stats st;
    web_get_stats(w->srv, &st);
    cJSON *x = cJSON_AddObjectToObject(o, "web");
    cJSON_AddStringToObject(x, "url", w->url);
    cJSON_AddNumberToObject(x, "requests", (double)st.requests);
    cJSON_AddNumberToObject(x, "errors_4xx", (double)st.status_4xx);
    cJSON_AddNumberToObject(x, "errors_5xx", (double)st.status_5xx);
    cJSON_AddNumberToObject(x, "streams_open", st.streams_open);
    cJSON_AddNumberToObject(x, "logins_failed", (double)st.logins_failed);
    cJSON_AddNumberToObject(x, "logins_throttled", (double)st.logins_throttled);
    cJSON *v = cJSON_AddObjectToObject(o, "versions");
    cJSON_AddStringToObject(v, "vibewatch", VW_VERSION_STRING);
    cJSON_AddStringToObject(v, "fft", dsp_fft_backend());
    cJSON_AddStringToObject(v, "sqlite", sqlite3_libversion());
    cJSON_AddStringToObject(v, "libmicrohttpd", MHD_get_version());
    cJSON_AddStringToObject(v, "libcurl", curl_version_info(CURLVERSION_NOW)->version);
    cJSON_AddStringToObject(v, "cjson", cJSON_Version());
    return reply_json(200, o);
}

/* An alert waits for someone while it is its asset's newest notification (the caller knows), at
 * watch or worse, and not acknowledged; a test message never waits. */
static bool alert_waits(const alerts_listed *a)
{
    return alerts_level_parse(a->level) > ALERTS_OK && !a->acked_by && strcmp(a->kind, "test") != 0;
}

static void on_newest(void *ctx, const alerts_listed *a)
{
    cJSON *o = ctx;
    if (!alert_waits(a)) /* recovered, or acknowledged: nothing waits */
        return;
    cJSON *x = cJSON_CreateObject();
    cJSON_AddNumberToObject(x, "id", (double)a->id);
    cJSON_AddStringToObject(x, "level", a->level);
    cJSON_AddStringToObject(x, "kind", a->kind);
    add_time(x, "t", a->t_ns);
    cJSON_ReplaceItemInObjectCaseSensitive(o, "alert", x);
}

/* An asset object's "alert": its newest notification while it is open (not acknowledged, at
 * watch or worse), else null. */
static void add_open_alert(alerts_outbox *ob, cJSON *a)
{
    cJSON_AddNullToObject(a, "alert");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(a, "id");
    if (ob && cJSON_IsString(id))
        alerts_outbox_list_where(ob, id->valuestring, 0, 1, on_newest, a);
}

/* add_open_alert for one asset object (one) or each of an array of them (many). */
static void add_open_alerts(vw_webapi *w, cJSON *one, cJSON *many)
{
    slot *s = borrow(w);
    bool none;
    web_reply r = {0};
    alerts_outbox *ob = outbox_of(w, s, &none, &r);
    free(r.body);
    if (one)
        add_open_alert(ob, one);
    cJSON *a;
    cJSON_ArrayForEach(a, many)
    {
        add_open_alert(ob, a);
    }
    give_back(w, s);
}

static web_reply h_assets(void *ctx, const web_call *c)
{
    vw_webapi *w = ctx;
    web_reply r = {0};
    if (only(c, (const char *const[]){NULL}, &r) < 0)
        return r;
    cJSON *o = vw_pipeline_assets(w->pipe);
    if (!o)
        return reply_error(500, "could not build the assets");
    add_open_alerts(w, NULL, cJSON_GetObjectItemCaseSensitive(o, "assets"));
    return reply_json(200, o);
}

static const char *const family_names[] = {"bpfo", "bpfi", "bsf", "ftf"};
static const char *const marker_names[] = {"BPFO", "BPFI", "BSF", "FTF"};

static double order_of(const dsp_bearing_orders *o, int k)
{
    return k == 0 ? o->bpfo : k == 1 ? o->bpfi : k == 2 ? o->bsf : o->ftf;
}

static web_reply h_asset(void *ctx, const web_call *c)
{
    vw_webapi *w = ctx;
    web_reply r = {0};
    const vw_cfg_asset *as;
    if (only(c, (const char *const[]){NULL}, &r) < 0 || !(as = asset_of(w, c, &r)))
        return r;
    cJSON *o = vw_pipeline_asset(w->pipe, as->id);
    if (!o)
        return reply_error(500, "could not build asset %s", as->id);
    cJSON *bs = cJSON_AddArrayToObject(o, "bearings");
    for (unsigned b = 0; b < as->nbearings; b++) {
        cJSON *bo = cJSON_CreateObject();
        cJSON_AddStringToObject(bo, "id", as->bearings[b].id);
        cJSON_AddStringToObject(bo, "name", as->bearings[b].name);
        cJSON *sensors = cJSON_AddArrayToObject(bo, "sensors");
        for (unsigned k = 0; k < as->nsensors; k++)
            if (as->sensors[k].bearing == (int)b)
                cJSON_AddItemToArray(sensors, cJSON_CreateString(as->sensors[k].id));
        cJSON *ord = cJSON_AddObjectToObject(bo, "orders");
        for (int k = 0; k < 4; k++)
            add_num(ord, family_names[k], order_of(&as->bearings[b].orders, k));
        cJSON_AddItemToArray(bs, bo);
    }
    double lim[3];
    if (models_iso10816_limits(as->iso_group, as->foundation, lim) == 0) {
        cJSON *iso = cJSON_AddObjectToObject(o, "iso");
        cJSON_AddNumberToObject(iso, "group", as->iso_group);
        cJSON_AddStringToObject(iso, "foundation", models_foundation_name(as->foundation));
        cJSON *bands = cJSON_AddArrayToObject(iso, "bands_mm_s");
        for (int k = 0; k < 3; k++)
            cJSON_AddItemToArray(bands, num(lim[k]));
    }
    if (as->rpm > 0)
        add_num(o, "rpm", as->rpm);
    /* each channel's span of data in the history: the dashboard's "all" range */
    slot *sl = borrow(w);
    store_reader *rd = reader_of(w, sl, &r);
    const cJSON *sensor;
    cJSON_ArrayForEach(sensor, cJSON_GetObjectItemCaseSensitive(o, "sensors"))
    {
        const cJSON *sid = cJSON_GetObjectItemCaseSensitive(sensor, "id");
        cJSON *chn;
        cJSON_ArrayForEach(chn, cJSON_GetObjectItemCaseSensitive(sensor, "channels"))
        {
            const cJSON *name = cJSON_GetObjectItemCaseSensitive(chn, "channel");
            int64_t first, last;
            if (rd && cJSON_IsString(sid) && cJSON_IsString(name) &&
                store_reader_span(rd, sid->valuestring, name->valuestring, &first, &last) == 0) {
                cJSON_AddNumberToObject(chn, "t_first", round((double)first / 1e6) / 1e3);
                cJSON_AddNumberToObject(chn, "t_last", round((double)last / 1e6) / 1e3);
            } else {
                cJSON_AddNullToObject(chn, "t_first");
                cJSON_AddNullToObject(chn, "t_last");
            }
        }
    }
    give_back(w, sl);
    free(r.body);
    add_open_alerts(w, o, NULL);
    return reply_json(200, o);
}

static web_reply h_config(void *ctx, const web_call *c)
{
    vw_webapi *w = ctx;
    web_reply r = {0};
    if (only(c, (const char *const[]){NULL}, &r) < 0)
        return r;
    return reply_text(vw_config_masked_json(w->cfg), "the configuration");
}

/* ---- trends, spectra, waterfall, waveform ---------------------------------------------------------- */

/* These documents hold up to a few MB while they are built: at most HEAVY_MAX at once, so that
 * many clients asking for big ones queue instead of taking the box's memory. */
static web_reply bounded(vw_webapi *w, web_reply (*fn)(vw_webapi *, const web_call *), const web_call *c)
{
    pthread_mutex_lock(&w->lock);
    while (w->heavy >= HEAVY_MAX)
        pthread_cond_wait(&w->freed, &w->lock);
    w->heavy++;
    pthread_mutex_unlock(&w->lock);
    web_reply r = fn(w, c);
    pthread_mutex_lock(&w->lock);
    w->heavy--;
    pthread_cond_broadcast(&w->freed);
    pthread_mutex_unlock(&w->lock);
    return r;
}

static int feature_known(const char *name)
{
    static const char *const monitor[] = {"anomaly", "threshold", "health", "hi", "rul_h", "rul_lo_h", "rul_hi_h",
                                          "p_fail_7d", "p_fail_14d", NULL};
    for (int k = 0; k < NFEAT; k++)
        if (strcmp(vw_snapshot_feature_names[k], name) == 0)
            return 1;
    for (int k = 0; monitor[k]; k++)
        if (strcmp(monitor[k], name) == 0)
            return 1;
    return 0;
}

static web_reply trend_doc(vw_webapi *w, const web_call *c)
{
    static const char *const allowed[] = {"sensor", "channel", "features", "from", "to", "points", NULL};
    web_reply r = {0};
    chan ch;
    long points;
    if (only(c, allowed, &r) < 0 || channel_of(w, c, &ch, &r) < 0 ||
        count_param(c, "points", 1, 5000, 1000, &points, &r) < 0)
        return r;
    /* the features: a comma list of known names */
    char list[600];
    const char *fv = web_query_get(c->query, "features");
    snprintf(list, sizeof list, "%s", fv ? fv : "velocity_rms_mm_s");
    const char *names[MAX_TREND_FEATURES];
    size_t nf = 0;
    char *save = NULL;
    for (char *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (nf == MAX_TREND_FEATURES)
            return reply_error(400, "features: at most %d at once", MAX_TREND_FEATURES);
        char q[100];
        web_text_sanitize(q, sizeof q, tok, strlen(tok));
        if (!feature_known(tok))
            return reply_error(400, "features: unknown feature \"%s\"", q);
        for (size_t k = 0; k < nf; k++)
            if (strcmp(names[k], tok) == 0)
                return reply_error(400, "features: \"%s\" is named twice", q);
        names[nf++] = tok;
    }
    if (nf == 0)
        return reply_error(400, "features: name at least one feature");
    slot *s = borrow(w);
    store_reader *rd = reader_of(w, s, &r);
    int64_t from, to;
    if (!rd || range_params(rd, c, &ch, &from, &to, &r) < 0) {
        give_back(w, s);
        return r;
    }
    size_t np = (size_t)points;
    double *buf = malloc(3 * nf * np * sizeof *buf);
    unsigned *count = malloc(nf * np * sizeof *count);
    store_trend_out out = {.mean = buf, .min = buf ? buf + nf * np : NULL, .max = buf ? buf + 2 * nf * np : NULL,
                           .count = count};
    char err[300] = "";
    int rc = buf && count ? store_reader_trend(rd, ch.sc->id, ch.axis, from, to, nf, names, np, &out, err, sizeof err)
                          : -ENOMEM;
    give_back(w, s);
    if (rc < 0) {
        free(buf);
        free(count);
        return rc == -ENOENT  ? reply_error(404, "no data for %s/%s", ch.sc->id, ch.axis)
               : rc == -ENOMEM ? reply_error(503, "out of memory")
                               : reply_error(500, "reading the trend: %s", err);
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "asset", ch.as->id);
    cJSON_AddStringToObject(o, "sensor", ch.sc->id);
    cJSON_AddStringToObject(o, "channel", ch.axis);
    cJSON_AddNumberToObject(o, "from", round((double)from / 1e6) / 1e3); /* ms: times keep every digit */
    cJSON_AddNumberToObject(o, "to", round((double)to / 1e6) / 1e3);
    cJSON_AddStringToObject(o, "resolution", out.resolution ? out.resolution : "raw");
    double bucket_ns = (double)(to - from) / (double)np;
    cJSON_AddNumberToObject(o, "bucket_s", round(bucket_ns / 1e6) / 1e3);
    cJSON *t = cJSON_AddArrayToObject(o, "t");
    for (size_t i = 0; i < np; i++)
        cJSON_AddItemToArray(t, cJSON_CreateNumber(round((double)from / 1e6 + (double)i * bucket_ns / 1e6) / 1e3));
    cJSON *series = cJSON_AddObjectToObject(o, "series");
    for (size_t f = 0; f < nf; f++) {
        cJSON *so = cJSON_AddObjectToObject(series, names[f]);
        const char *const parts[] = {"mean", "min", "max"};
        const double *arr[] = {out.mean, out.min, out.max};
        for (int k = 0; k < 3; k++) {
            cJSON *a = cJSON_AddArrayToObject(so, parts[k]);
            for (size_t i = 0; i < np; i++)
                cJSON_AddItemToArray(a, num(arr[k][f * np + i]));
        }
    }
    free(buf);
    free(count);
    double lim[3];
    for (size_t f = 0; f < nf; f++)
        if (strcmp(names[f], "velocity_rms_mm_s") == 0 && models_iso10816_limits(ch.as->iso_group, ch.as->foundation, lim) == 0) {
            cJSON *b = cJSON_AddArrayToObject(o, "iso_bands_mm_s");
            for (int k = 0; k < 3; k++)
                cJSON_AddItemToArray(b, num(lim[k]));
        }
    return reply_json(200, o);
}

static web_reply h_trend(void *ctx, const web_call *c) { return bounded(ctx, trend_doc, c); }

/* The shaft speed stored with the snapshot at t (NAN when unknown). */
static double shaft_at(store_reader *rd, const chan *ch, int64_t t_ns)
{
    const char *name = "shaft_hz";
    double mean = NAN, mn, mx;
    unsigned cnt;
    store_trend_out out = {.mean = &mean, .min = &mn, .max = &mx, .count = &cnt};
    char err[200];
    if (store_reader_trend(rd, ch->sc->id, ch->axis, t_ns, t_ns + 1, 1, &name, 1, &out, err, sizeof err) < 0)
        return NAN;
    return mean;
}

static void add_markers(cJSON *o, const chan *ch, double shaft_hz, double fmax_hz)
{
    cJSON *ms = cJSON_AddArrayToObject(o, "markers");
    if (ch->sc->bearing < 0 || !isfinite(shaft_hz) || shaft_hz <= 0)
        return;
    const dsp_bearing_orders *ord = &ch->as->bearings[ch->sc->bearing].orders;
    for (int k = 0; k < 4; k++) {
        double hz = order_of(ord, k) * shaft_hz;
        if (!(hz > 0))
            continue;
        cJSON *m = cJSON_CreateObject();
        cJSON_AddStringToObject(m, "name", marker_names[k]);
        add_num(m, "hz", hz);
        cJSON *h = cJSON_AddArrayToObject(m, "harmonics");
        for (int n = 1; n <= 10 && n * hz <= fmax_hz; n++)
            cJSON_AddItemToArray(h, num(n * hz));
        cJSON_AddItemToArray(ms, m);
    }
}

static web_reply spectrum_doc(vw_webapi *w, const web_call *c)
{
    static const char *const allowed[] = {"sensor", "channel", "kind", "t", "fmax", "points", NULL};
    web_reply r = {0};
    chan ch;
    long points;
    int envelope;
    double fmax = 0;
    int64_t t = INT64_MAX;
    bool has_t;
    if (only(c, allowed, &r) < 0 || channel_of(w, c, &ch, &r) < 0 || kind_param(c, &envelope, &r) < 0 ||
        count_param(c, "points", 1, 5000, 1000, &points, &r) < 0 || number_param(c, "fmax", 1, 1e6, &fmax, &r) < 0 ||
        time_param(c, "t", &t, &has_t, &r) < 0)
        return r;
    if (!has_t)
        t = INT64_MAX;
    slot *s = borrow(w);
    store_reader *rd = reader_of(w, s, &r);
    if (!rd) {
        give_back(w, s);
        return r;
    }
    float *v = NULL;
    size_t n = 0;
    double df = 0;
    unsigned max_of = 1;
    int rc = store_reader_spectrum(rd, ch.sc->id, ch.axis, envelope, &t, fmax, (size_t)points, &v, &n, &df, &max_of);
    double shaft = rc == 0 ? shaft_at(rd, &ch, t) : NAN;
    give_back(w, s);
    if (rc < 0)
        return rc == -ENOENT ? reply_error(404, "no %s spectrum stored for %s/%s%s", envelope ? "envelope" : "amplitude",
                                           ch.sc->id, ch.axis, has_t ? " at or before t" : "")
                             : reply_error(500, "reading the spectrum failed (%s)", strerror(-rc));
    cJSON *o = cJSON_CreateObject();
    add_time(o, "t", t);
    cJSON_AddStringToObject(o, "kind", envelope ? "envelope" : "amplitude");
    add_num(o, "df_hz", df);
    cJSON_AddNumberToObject(o, "f0_hz", 0);
    cJSON_AddNumberToObject(o, "max_of", max_of);
    cJSON_AddStringToObject(o, "unit", envelope ? "g²" : "g");
    cJSON *a = cJSON_AddArrayToObject(o, "values");
    for (size_t i = 0; i < n; i++)
        cJSON_AddItemToArray(a, num(v[i]));
    free(v);
    add_num(o, "shaft_hz", shaft);
    add_markers(o, &ch, shaft, fmax > 0 && fmax < df * (double)n ? fmax : df * (double)n);
    return reply_json(200, o);
}

static web_reply h_spectrum(void *ctx, const web_call *c) { return bounded(ctx, spectrum_doc, c); }

static web_reply waterfall_doc(vw_webapi *w, const web_call *c)
{
    static const char *const allowed[] = {"sensor", "channel", "kind", "from", "to", "rows", "points", "fmax", NULL};
    web_reply r = {0};
    chan ch;
    long rows, points;
    int envelope;
    double fmax = 0;
    if (only(c, allowed, &r) < 0 || channel_of(w, c, &ch, &r) < 0 || kind_param(c, &envelope, &r) < 0 ||
        count_param(c, "rows", 1, 200, 60, &rows, &r) < 0 || count_param(c, "points", 1, 5000, 500, &points, &r) < 0 ||
        number_param(c, "fmax", 1, 1e6, &fmax, &r) < 0)
        return r;
    if (rows * points > MAX_CELLS)
        return reply_error(400, "rows × points must be at most %d (asked: %ld × %ld)", MAX_CELLS, rows, points);
    slot *s = borrow(w);
    store_reader *rd = reader_of(w, s, &r);
    int64_t from, to;
    if (!rd || range_params(rd, c, &ch, &from, &to, &r) < 0) {
        give_back(w, s);
        return r;
    }
    int64_t *ts = NULL;
    float *v = NULL;
    size_t nrows = 0, ncols = 0;
    double df = 0;
    int rc = store_reader_waterfall(rd, ch.sc->id, ch.axis, envelope, from, to, fmax, (size_t)rows, (size_t)points, &ts,
                                    &v, &nrows, &ncols, &df);
    give_back(w, s);
    if (rc < 0 && rc != -ENOENT)
        return reply_error(500, "reading the spectra failed (%s)", strerror(-rc));
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "kind", envelope ? "envelope" : "amplitude");
    cJSON_AddNumberToObject(o, "f0_hz", 0);
    add_num(o, "df_hz", df);
    cJSON *ta = cJSON_AddArrayToObject(o, "t"), *db = cJSON_AddArrayToObject(o, "db");
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; rc == 0 && i < nrows; i++) {
        cJSON_AddItemToArray(ta, cJSON_CreateNumber(round((double)ts[i] / 1e6) / 1e3));
        cJSON *row = cJSON_CreateArray();
        for (size_t k = 0; k < ncols; k++) {
            double x = v[i * ncols + k];
            /* amplitude in g: 20·log10; the squared envelope is a power (g²): 10·log10 */
            double d = x > 0 ? (envelope ? 10 : 20) * log10(x) : -300;
            if (d < -300)
                d = -300;
            if (x > 0) {
                lo = d < lo ? d : lo;
                hi = d > hi ? d : hi;
            }
            cJSON_AddItemToArray(row, cJSON_CreateNumber(round(d * 10) / 10));
        }
        cJSON_AddItemToArray(db, row);
    }
    free(ts);
    free(v);
    add_num(o, "db_min", lo);
    add_num(o, "db_max", hi);
    return reply_json(200, o);
}

static web_reply h_waterfall(void *ctx, const web_call *c) { return bounded(ctx, waterfall_doc, c); }

static web_reply waveform_doc(vw_webapi *w, const web_call *c)
{
    static const char *const allowed[] = {"sensor", "channel", "t", "points", NULL};
    web_reply r = {0};
    chan ch;
    long points;
    int64_t t = INT64_MAX;
    bool has_t;
    if (only(c, allowed, &r) < 0 || channel_of(w, c, &ch, &r) < 0 ||
        count_param(c, "points", 1, 5000, 2000, &points, &r) < 0 || time_param(c, "t", &t, &has_t, &r) < 0)
        return r;
    if (!has_t)
        t = INT64_MAX;
    slot *s = borrow(w);
    store_reader *rd = reader_of(w, s, &r);
    if (!rd) {
        give_back(w, s);
        return r;
    }
    float *mn = NULL, *mx = NULL;
    size_t npairs = 0, n = 0;
    unsigned step = 1;
    double rate = 0;
    int rc = store_reader_waveform(rd, ch.sc->id, ch.axis, &t, (size_t)points, &mn, &mx, &npairs, &n, &step, &rate);
    give_back(w, s);
    if (rc < 0)
        return rc == -ENOENT ? reply_error(404, "no waveform stored for %s/%s%s", ch.sc->id, ch.axis,
                                           has_t ? " at or before t" : "")
                             : reply_error(500, "reading the waveform failed (%s)", strerror(-rc));
    cJSON *o = cJSON_CreateObject();
    add_time(o, "t", t);
    add_num(o, "rate_hz", rate);
    cJSON_AddStringToObject(o, "unit", "g");
    cJSON_AddNumberToObject(o, "n", (double)n);
    cJSON_AddNumberToObject(o, "step", step);
    cJSON *a = cJSON_AddArrayToObject(o, "min"), *b = cJSON_AddArrayToObject(o, "max");
    for (size_t i = 0; i < npairs; i++) {
        cJSON_AddItemToArray(a, num(mn[i]));
        cJSON_AddItemToArray(b, num(mx[i]));
    }
    free(mn);
    free(mx);
    return reply_json(200, o);
}

static web_reply h_waveform(void *ctx, const web_call *c) { return bounded(ctx, waveform_doc, c); }

/* ---- events and state changes ------------------------------------------------------------------------ */

typedef struct ev_ctx {
    cJSON *arr;
    int changes; /* 1: state changes as {t, sensor, channel, from, to} */
} ev_ctx;

static int on_event(void *ctx, int64_t id, int64_t t_ns, const char *asset, const char *kind, const char *detail)
{
    ev_ctx *e = ctx;
    cJSON *o = cJSON_CreateObject();
    cJSON *d = detail ? cJSON_Parse(detail) : NULL;
    if (e->changes) {
        add_time(o, "t", t_ns);
        const char *keys[] = {"sensor", "channel", "from", "to"};
        for (int k = 0; k < 4; k++) {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(d, keys[k]);
            cJSON_AddItemToObject(o, keys[k], cJSON_IsString(v) ? cJSON_CreateString(v->valuestring) : cJSON_CreateNull());
        }
        cJSON_Delete(d);
    } else {
        cJSON_AddNumberToObject(o, "id", (double)id);
        add_time(o, "t", t_ns);
        cJSON_AddItemToObject(o, "asset", asset ? cJSON_CreateString(asset) : cJSON_CreateNull());
        cJSON_AddStringToObject(o, "kind", kind);
        cJSON_AddItemToObject(o, "detail", d ? d : detail ? cJSON_CreateString(detail) : cJSON_CreateNull());
    }
    cJSON_AddItemToArray(e->arr, o);
    return 0;
}

static web_reply events_reply(vw_webapi *w, const web_call *c, const char *asset, const char *kind, int changes)
{
    web_reply r = {0};
    long limit;
    int64_t from = 0, to = INT64_MAX;
    bool has;
    if (count_param(c, "limit", 1, 1000, 100, &limit, &r) < 0 || time_param(c, "from", &from, &has, &r) < 0 ||
        time_param(c, "to", &to, &has, &r) < 0)
        return r;
    if (from >= to)
        return reply_error(400, "from must be before to");
    slot *s = borrow(w);
    store_reader *rd = reader_of(w, s, &r);
    cJSON *o = cJSON_CreateObject();
    ev_ctx e = {.arr = cJSON_AddArrayToObject(o, changes ? "changes" : "events"), .changes = changes};
    long rc = rd ? store_reader_events(rd, asset, kind, from, to, (size_t)limit, on_event, &e) : 0;
    give_back(w, s);
    if (!rd && r.status != 404) {
        cJSON_Delete(o);
        return r;
    }
    free(r.body); /* no history yet: no events */
    if (rc < 0) {
        cJSON_Delete(o);
        return reply_error(500, "reading the events failed (%s)", strerror((int)-rc));
    }
    return reply_json(200, o);
}

static web_reply h_events(void *ctx, const web_call *c)
{
    static const char *const allowed[] = {"asset", "kind", "from", "to", "limit", NULL};
    vw_webapi *w = ctx;
    web_reply r = {0};
    if (only(c, allowed, &r) < 0)
        return r;
    const char *asset = web_query_get(c->query, "asset"), *kind = web_query_get(c->query, "kind");
    if (kind && (!*kind || strlen(kind) > 32 || strspn(kind, "abcdefghijklmnopqrstuvwxyz_") != strlen(kind)))
        return reply_error(400, "kind must be an event kind (state_change, maintenance)");
    if (asset && !vw_config_asset(w->cfg, asset)) {
        char q[160];
        web_text_sanitize(q, sizeof q, asset, strlen(asset));
        return reply_error(404, "no such asset: \"%s\"", q);
    }
    return events_reply(w, c, asset, kind, 0);
}

static web_reply h_states(void *ctx, const web_call *c)
{
    static const char *const allowed[] = {"from", "to", "limit", NULL};
    vw_webapi *w = ctx;
    web_reply r = {0};
    const vw_cfg_asset *as;
    if (only(c, allowed, &r) < 0 || !(as = asset_of(w, c, &r)))
        return r;
    return events_reply(w, c, as->id, "state_change", 1);
}

static web_reply h_maintenance(void *ctx, const web_call *c)
{
    vw_webapi *w = ctx;
    web_reply r = {0};
    const vw_cfg_asset *as;
    const char *note;
    cJSON *body = NULL;
    if (only(c, (const char *const[]){NULL}, &r) < 0 || !(as = asset_of(w, c, &r)))
        return r;
    if (note_of(c, &note, &r, &body) < 0) {
        cJSON_Delete(body);
        return r;
    }
    int rc = vw_pipeline_maintenance_by(w->pipe, as->id, c->user, note);
    if (rc < 0) {
        cJSON_Delete(body);
        return reply_error(500, "maintenance on %s: %s", as->id, strerror(-rc));
    }
    char shown[300]; /* one log line: the note's line breaks and controls are not written as such */
    web_text_sanitize(shown, sizeof shown, note, strlen(note));
    vw_log(VW_LOG_NOTICE, "web", "asset %s: maintenance done, recorded by %s%s%s", as->id, c->user, *note ? ": " : "",
           shown);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "asset", as->id);
    cJSON_AddStringToObject(o, "by", c->user);
    cJSON_AddStringToObject(o, "note", note);
    cJSON_AddStringToObject(o, "message", "every channel learns a new baseline from its next snapshot");
    cJSON_Delete(body);
    publish_tree(w, "maintenance", cJSON_Duplicate(o, 1));
    return reply_json(202, o);
}

/* ---- alerts ------------------------------------------------------------------------------------------ */

typedef struct alert_list {
    cJSON *arr;
    const char *asset;
    int open_only;
    long limit, n;
    char seen[VW_CFG_MAX_ASSETS][VW_CFG_MAX_ID + 1]; /* assets whose newest alert was passed */
    unsigned nseen;
} alert_list;

static void on_alert(void *ctx, const alerts_listed *a)
{
    alert_list *L = ctx;
    if (L->n >= L->limit)
        return;
    int newest = 1;
    for (unsigned i = 0; i < L->nseen; i++)
        if (strcmp(L->seen[i], a->asset) == 0)
            newest = 0;
    if (newest && L->nseen < VW_CFG_MAX_ASSETS)
        snprintf(L->seen[L->nseen++], sizeof L->seen[0], "%s", a->asset);
    int open = newest && alert_waits(a);
    if (L->open_only && !open)
        return;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", (double)a->id);
    add_time(o, "t", a->t_ns);
    cJSON_AddStringToObject(o, "asset", a->asset);
    cJSON_AddStringToObject(o, "level", a->level);
    cJSON_AddStringToObject(o, "previous", a->previous ? a->previous : "");
    cJSON_AddStringToObject(o, "kind", a->kind);
    cJSON_AddStringToObject(o, "summary", a->summary ? a->summary : "");
    cJSON_AddBoolToObject(o, "open", open);
    if (a->acked_by) {
        cJSON *k = cJSON_AddObjectToObject(o, "acked");
        cJSON_AddStringToObject(k, "user", a->acked_by);
        cJSON_AddStringToObject(k, "note", a->ack_note ? a->ack_note : "");
        if (a->acked_wall_ns)
            add_time(k, "t", a->acked_wall_ns);
    } else {
        cJSON_AddNullToObject(o, "acked");
    }
    if (a->label) {
        cJSON *k = cJSON_AddObjectToObject(o, "label");
        cJSON_AddStringToObject(k, "label", a->label);
        cJSON_AddStringToObject(k, "user", a->label_by ? a->label_by : "");
        cJSON_AddStringToObject(k, "note", a->label_note ? a->label_note : "");
        if (a->label_wall_ns)
            add_time(k, "t", a->label_wall_ns);
    } else {
        cJSON_AddNullToObject(o, "label");
    }
    cJSON *ev = a->evidence ? cJSON_Parse(a->evidence) : NULL;
    if (ev)
        cJSON_AddItemToObject(o, "evidence", ev);
    cJSON *dl = cJSON_AddArrayToObject(o, "deliveries");
    for (size_t i = 0; i < a->ndl; i++) {
        cJSON *d = cJSON_CreateObject();
        cJSON_AddStringToObject(d, "dest", a->dl[i].dest);
        cJSON_AddStringToObject(d, "state", a->dl[i].state);
        cJSON_AddNumberToObject(d, "tries", (double)a->dl[i].attempts);
        cJSON_AddItemToObject(d, "last_error", a->dl[i].last_error ? cJSON_CreateString(a->dl[i].last_error) : cJSON_CreateNull());
        cJSON_AddItemToArray(dl, d);
    }
    cJSON_AddItemToArray(L->arr, o);
    L->n++;
}

static web_reply h_alerts(void *ctx, const web_call *c)
{
    static const char *const allowed[] = {"state", "asset", "limit", NULL};
    vw_webapi *w = ctx;
    web_reply r = {0};
    long limit;
    if (only(c, allowed, &r) < 0 || count_param(c, "limit", 1, 1000, 100, &limit, &r) < 0)
        return r;
    const char *state = web_query_get(c->query, "state"), *asset = web_query_get(c->query, "asset");
    if (state && strcmp(state, "open") != 0 && strcmp(state, "all") != 0)
        return reply_error(400, "state must be open or all");
    if (asset && !vw_config_asset(w->cfg, asset)) {
        char q[160];
        web_text_sanitize(q, sizeof q, asset, strlen(asset));
        return reply_error(404, "no such asset: \"%s\"", q);
    }
    alert_list *L = calloc(1, sizeof *L);
    if (!L)
        return reply_error(503, "out of memory");
    cJSON *o = cJSON_CreateObject();
    L->arr = cJSON_AddArrayToObject(o, "alerts");
    L->asset = asset;
    L->open_only = state && !strcmp(state, "open");
    L->limit = limit;
    slot *s = borrow(w);
    bool none;
    alerts_outbox *ob = outbox_of(w, s, &none, &r);
    long rc = 0;
    /* open alerts are the newest of each asset: scan enough to see every asset's newest */
    if (ob)
        rc = alerts_outbox_list_where(ob, asset, 0, L->open_only ? 1000 : limit, on_alert, L);
    give_back(w, s);
    free(L);
    if (!ob && !none) {
        cJSON_Delete(o);
        return r;
    }
    if (rc < 0) {
        cJSON_Delete(o);
        return reply_error(500, "reading the alerts failed");
    }
    return reply_json(200, o);
}

static int alert_id_of(const web_call *c, int64_t *id, web_reply *r)
{
    long v;
    if (!c->id || vw_webapi_parse_count(c->id, 1, 2000000000L, &v) < 0) {
        char q[64];
        web_text_sanitize(q, sizeof q, c->id ? c->id : "", c->id ? strlen(c->id) : 0);
        *r = reply_error(404, "no such alert: \"%s\"", q);
        return -1;
    }
    *id = v;
    return 0;
}

/* The start of POST /alerts/{id}/…: no query, a numeric id, the JSON body and its note. -1 with *r
 * (and *body freed) on a bad request. */
static int alert_post(const web_call *c, int64_t *id, const char **note, cJSON **body, web_reply *r)
{
    *body = NULL;
    if (only(c, (const char *const[]){NULL}, r) < 0 || alert_id_of(c, id, r) < 0)
        return -1;
    if (note_of(c, note, r, body) < 0) {
        cJSON_Delete(*body);
        *body = NULL;
        return -1;
    }
    return 0;
}

static void publish_alert(vw_webapi *w, int64_t id, const char *asset, const char *kind, const char *user)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", (double)id);
    cJSON_AddStringToObject(o, "asset", asset);
    cJSON_AddStringToObject(o, "kind", kind);
    if (user)
        cJSON_AddStringToObject(o, "by", user);
    publish_tree(w, "alert", o);
}

static web_reply h_ack(void *ctx, const web_call *c)
{
    vw_webapi *w = ctx;
    web_reply r = {0};
    int64_t id;
    const char *note;
    cJSON *body;
    if (alert_post(c, &id, &note, &body, &r) < 0)
        return r;
    char asset[VW_CFG_MAX_ID + 1] = "";
    slot *s = borrow(w);
    bool none;
    alerts_outbox *ob = outbox_of(w, s, &none, &r);
    int rc = ob ? alerts_outbox_alert_asset(ob, id, asset, sizeof asset) : -ENOENT;
    give_back(w, s);
    if (rc < 0) {
        cJSON_Delete(body);
        free(r.body);
        return rc == -ENOENT ? reply_error(404, "no such alert: %lld", (long long)id)
                             : reply_error(500, "reading alert %lld failed", (long long)id);
    }
    rc = vw_pipeline_ack(w->pipe, asset, c->user, note);
    cJSON_Delete(body);
    if (rc == -ENOENT)
        return reply_error(409, "alert %lld belongs to asset %s, which this configuration no longer has", (long long)id,
                           asset);
    if (rc == -EAGAIN)
        return reply_error(503, "the alerts are busy; try again in a second");
    if (rc < 0)
        return reply_error(409, "alerts are not configured on this box (no alerts section)");
    publish_alert(w, id, asset, "acked", c->user);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", (double)id);
    cJSON_AddStringToObject(o, "asset", asset);
    cJSON_AddStringToObject(o, "acked_by", c->user);
    cJSON_AddStringToObject(o, "message", "acknowledged: reminders stop until the asset gets worse");
    return reply_json(202, o);
}

static web_reply h_label(void *ctx, const web_call *c)
{
    vw_webapi *w = ctx;
    web_reply r = {0};
    int64_t id;
    const char *note;
    cJSON *body;
    if (alert_post(c, &id, &note, &body, &r) < 0)
        return r;
    const cJSON *l = cJSON_GetObjectItemCaseSensitive(body, "label");
    const char *label = NULL;
    if (!l || (!cJSON_IsNull(l) && !(cJSON_IsString(l) && (!strcmp(l->valuestring, "true_alarm") ||
                                                            !strcmp(l->valuestring, "false_alarm"))))) {
        cJSON_Delete(body);
        return reply_error(400, "label must be \"true_alarm\", \"false_alarm\" or null");
    }
    if (cJSON_IsString(l))
        label = l->valuestring;
    char err[512];
    alerts_outbox *ob = alerts_outbox_open(w->db, err, sizeof err);
    if (!ob) {
        cJSON_Delete(body);
        return reply_error(500, "cannot open the alerts: %s", err);
    }
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int64_t wall = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
    char asset[VW_CFG_MAX_ID + 1] = "";
    int rc = alerts_outbox_alert_asset(ob, id, asset, sizeof asset);
    if (rc == 0)
        rc = alerts_outbox_label(ob, id, label, c->user, note, wall);
    alerts_outbox_close(ob);
    if (rc < 0) {
        cJSON_Delete(body);
        return rc == -ENOENT ? reply_error(404, "no such alert: %lld", (long long)id)
                             : reply_error(500, "labelling alert %lld failed", (long long)id);
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", (double)id);
    cJSON_AddStringToObject(o, "asset", asset);
    cJSON_AddItemToObject(o, "label", label ? cJSON_CreateString(label) : cJSON_CreateNull());
    cJSON_AddStringToObject(o, "by", c->user);
    cJSON_AddStringToObject(o, "note", note);
    add_time(o, "t", wall);
    cJSON_Delete(body);
    publish_alert(w, id, asset, "labelled", c->user);
    return reply_json(200, o);
}

/* ---- Prometheus metrics -------------------------------------------------------------------------- */

typedef struct text {
    char *s;
    size_t n, cap;
    int oom;
} text;

static void put(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(text *t, const char *fmt, ...)
{
    if (t->oom)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(t->s ? t->s + t->n : NULL, t->s ? t->cap - t->n : 0, fmt, ap);
        va_end(ap);
        if (k < 0) {
            t->oom = 1;
            return;
        }
        if (t->s && t->n + (size_t)k < t->cap) {
            t->n += (size_t)k;
            return;
        }
        size_t cap = (t->cap ? t->cap * 2 : 4096) + (size_t)k;
        char *p = realloc(t->s, cap);
        if (!p) {
            t->oom = 1;
            return;
        }
        t->s = p;
        t->cap = cap;
    }
}

/* A label value escaped for the text format (backslash, quote, newline). */
static void label_value(char *out, size_t len, const char *v)
{
    size_t o = 0;
    for (; v && *v && o + 3 < len; v++) {
        if (*v == '\\' || *v == '"') {
            out[o++] = '\\';
            out[o++] = *v;
        } else if (*v == '\n') {
            out[o++] = '\\';
            out[o++] = 'n';
        } else {
            out[o++] = *v;
        }
    }
    out[o] = 0;
}

/* asset="…",sensor="…" of a source in the status. */
static void source_labels(const cJSON *x, char *out, size_t len)
{
    char sensor[200], asset[200];
    const cJSON *sv = cJSON_GetObjectItemCaseSensitive(x, "sensor"), *av = cJSON_GetObjectItemCaseSensitive(x, "asset");
    label_value(sensor, sizeof sensor, cJSON_IsString(sv) ? sv->valuestring : "");
    label_value(asset, sizeof asset, cJSON_IsString(av) ? av->valuestring : "");
    snprintf(out, len, "asset=\"%s\",sensor=\"%s\"", asset, sensor);
}

static double jnum(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static void metric_head(text *t, const char *name, const char *type, const char *help)
{
    put(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static web_reply h_metrics(void *ctx, const web_call *c)
{
    vw_webapi *w = ctx;
    web_reply r = {0};
    if (only(c, (const char *const[]){NULL}, &r) < 0)
        return r;
    cJSON *st = vw_pipeline_status(w->pipe);
    if (!st)
        return reply_error(500, "could not build the metrics");
    text t = {0};
    char box[200], ver[64];
    label_value(box, sizeof box, w->cfg->box_id);
    label_value(ver, sizeof ver, VW_VERSION_STRING);
    metric_head(&t, "vibewatch_build_info", "gauge", "The running vibewatch: version and box id.");
    put(&t, "vibewatch_build_info{version=\"%s\",box=\"%s\"} 1\n", ver, box);
    metric_head(&t, "vibewatch_uptime_seconds", "gauge", "Seconds since the pipeline started.");
    put(&t, "vibewatch_uptime_seconds %.2f\n", jnum(st, "uptime_s"));
    static const struct {
        const char *key, *name, *type, *help;
    } src[] = {
        {"rate_hz", "vibewatch_source_rate_hz", "gauge", "Sample rate of the sensor's source."},
        {"frames", "vibewatch_source_frames_total", "counter", "Frames (samples per channel) acquired."},
        {"gaps", "vibewatch_source_gaps_total", "counter", "Gaps in the samples (lost data)."},
        {"gap_samples", "vibewatch_source_gap_samples_total", "counter", "Samples lost in gaps."},
        {"overruns", "vibewatch_source_overruns_total", "counter", "Buffer overruns of the source."},
        {"disconnects", "vibewatch_source_disconnects_total", "counter", "Times the source was lost."},
        {"snapshots", "vibewatch_snapshots_total", "counter", "Snapshots taken."},
        {"snapshots_dropped", "vibewatch_snapshots_dropped_total", "counter", "Snapshots dropped at a full queue."},
    };
    const cJSON *sources = cJSON_GetObjectItemCaseSensitive(st, "sources");
    for (size_t k = 0; k < sizeof src / sizeof src[0]; k++) {
        metric_head(&t, src[k].name, src[k].type, src[k].help);
        const cJSON *x;
        cJSON_ArrayForEach(x, sources)
        {
            char labels[420];
            source_labels(x, labels, sizeof labels);
            put(&t, "%s{%s} %.17g\n", src[k].name, labels, jnum(x, src[k].key));
        }
    }
    metric_head(&t, "vibewatch_source_running", "gauge", "1 while the sensor's source delivers samples.");
    const cJSON *x;
    cJSON_ArrayForEach(x, sources)
    {
        char labels[420];
        const cJSON *state = cJSON_GetObjectItemCaseSensitive(x, "state");
        source_labels(x, labels, sizeof labels);
        put(&t, "vibewatch_source_running{%s} %d\n", labels, cJSON_IsString(state) && strcmp(state->valuestring, "running") == 0);
    }
    static const struct {
        const char *key, *name, *type, *help;
    } q[] = {
        {"depth", "vibewatch_queue_depth", "gauge", "Items waiting in an internal queue."},
        {"capacity", "vibewatch_queue_capacity", "gauge", "The queue's bound."},
        {"dropped", "vibewatch_queue_dropped_total", "counter", "Items dropped at the full queue."},
    };
    const cJSON *queues = cJSON_GetObjectItemCaseSensitive(st, "queues");
    for (size_t k = 0; k < sizeof q / sizeof q[0]; k++) {
        metric_head(&t, q[k].name, q[k].type, q[k].help);
        cJSON_ArrayForEach(x, queues)
        {
            char name[100];
            const cJSON *nv = cJSON_GetObjectItemCaseSensitive(x, "name");
            label_value(name, sizeof name, cJSON_IsString(nv) ? nv->valuestring : "");
            put(&t, "%s{queue=\"%s\"} %.17g\n", q[k].name, name, jnum(x, q[k].key));
        }
    }
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(st, "history"), *d = cJSON_GetObjectItemCaseSensitive(st, "disk");
    metric_head(&t, "vibewatch_history_stored_total", "counter", "Snapshots stored in the local history.");
    put(&t, "vibewatch_history_stored_total %.17g\n", jnum(h, "stored"));
    metric_head(&t, "vibewatch_history_errors_total", "counter", "Snapshots the local history could not store.");
    put(&t, "vibewatch_history_errors_total %.17g\n", jnum(h, "errors"));
    if (isfinite(jnum(d, "free_bytes"))) {
        metric_head(&t, "vibewatch_disk_free_bytes", "gauge", "Free bytes on the data folder's file system.");
        put(&t, "vibewatch_disk_free_bytes %.17g\n", jnum(d, "free_bytes"));
        metric_head(&t, "vibewatch_disk_size_bytes", "gauge", "Size of the data folder's file system.");
        put(&t, "vibewatch_disk_size_bytes %.17g\n", jnum(d, "total_bytes"));
    }
    web_stats ws;
    web_get_stats(w->srv, &ws);
    metric_head(&t, "vibewatch_http_requests_total", "counter", "HTTP requests answered, by status class.");
    put(&t, "vibewatch_http_requests_total{code=\"2xx\"} %llu\nvibewatch_http_requests_total{code=\"3xx\"} %llu\n"
            "vibewatch_http_requests_total{code=\"4xx\"} %llu\nvibewatch_http_requests_total{code=\"5xx\"} %llu\n",
        (unsigned long long)ws.status_2xx, (unsigned long long)ws.status_3xx, (unsigned long long)ws.status_4xx,
        (unsigned long long)ws.status_5xx);
    metric_head(&t, "vibewatch_http_logins_total", "counter", "Login attempts, by result.");
    put(&t, "vibewatch_http_logins_total{result=\"ok\"} %llu\nvibewatch_http_logins_total{result=\"failed\"} %llu\n"
            "vibewatch_http_logins_total{result=\"throttled\"} %llu\n",
        (unsigned long long)ws.logins_ok, (unsigned long long)ws.logins_failed, (unsigned long long)ws.logins_throttled);
    metric_head(&t, "vibewatch_http_streams", "gauge", "Live-update streams open.");
    put(&t, "vibewatch_http_streams %u\n", ws.streams_open);
    cJSON_Delete(st);
    if (t.oom) {
        free(t.s);
        return reply_error(503, "out of memory");
    }
    return (web_reply){.status = 200, .body = t.s, .content_type = "text/plain; version=0.0.4; charset=utf-8"};
}

/* ---- the routes ---------------------------------------------------------------------------------- */

static const web_route routes[] = {
    {"GET", "/api/v1/status", WEB_ROLE_VIEWER, 0, h_status},
    {"GET", "/api/v1/assets", WEB_ROLE_VIEWER, 0, h_assets},
    {"GET", "/api/v1/assets/{id}", WEB_ROLE_VIEWER, 0, h_asset},
    {"GET", "/api/v1/assets/{id}/trend", WEB_ROLE_VIEWER, 0, h_trend},
    {"GET", "/api/v1/assets/{id}/spectrum", WEB_ROLE_VIEWER, 0, h_spectrum},
    {"GET", "/api/v1/assets/{id}/waterfall", WEB_ROLE_VIEWER, 0, h_waterfall},
    {"GET", "/api/v1/assets/{id}/waveform", WEB_ROLE_VIEWER, 0, h_waveform},
    {"GET", "/api/v1/assets/{id}/states", WEB_ROLE_VIEWER, 0, h_states},
    {"POST", "/api/v1/assets/{id}/maintenance", WEB_ROLE_OPERATOR, 1, h_maintenance},
    {"GET", "/api/v1/alerts", WEB_ROLE_VIEWER, 0, h_alerts},
    {"POST", "/api/v1/alerts/{id}/ack", WEB_ROLE_OPERATOR, 1, h_ack},
    {"POST", "/api/v1/alerts/{id}/label", WEB_ROLE_OPERATOR, 1, h_label},
    {"GET", "/api/v1/events", WEB_ROLE_VIEWER, 0, h_events},
    {"GET", "/api/v1/config", WEB_ROLE_ADMIN, 0, h_config},
    {"GET", "/metrics", WEB_ROLE_VIEWER, 0, h_metrics},
};

static void on_web_log(void *ctx, const char *line)
{
    (void)ctx;
    vw_log(VW_LOG_WARNING, "web", "%s", line);
}

static void on_publish(void *ctx, const char *event, const char *json)
{
    vw_webapi *w = ctx;
    web_publish(w->srv, event, json);
}

/* A PEM file's text (at most 1 MiB), malloc'd; NULL with err. */
static char *read_pem(const char *path, const char *what, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "web.tls.%s: %s: %s", what, path, strerror(errno));
        return NULL;
    }
    char *buf = malloc(1 << 20);
    size_t n = buf ? fread(buf, 1, (1 << 20) - 1, f) : 0;
    int bad = ferror(f) || !feof(f);
    fclose(f);
    if (!buf || bad || n == 0) {
        snprintf(err, errlen, "web.tls.%s: %s: %s", what, path, !buf ? "out of memory" : n == 0 ? "empty" : "unreadable or over 1 MiB");
        free(buf);
        return NULL;
    }
    buf[n] = 0;
    return buf;
}

/* The dashboard of an installed vibewatch: PREFIX/share/vibewatch/dashboard beside PREFIX/bin/vibewatch
 * (so `make install PREFIX=…` needs no rebuild). 1 when that folder has an index.html. */
static int installed_dashboard(char *out, size_t len)
{
    char exe[VW_CFG_MAX_PATH];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return 0;
    exe[n] = 0;
    char *slash = strrchr(exe, '/');
    if (!slash)
        return 0;
    *slash = 0; /* PREFIX/bin */
    if (snprintf(out, len, "%s/../share/vibewatch/dashboard", exe) >= (int)len)
        return 0;
    char index[VW_CFG_MAX_PATH + 80];
    snprintf(index, sizeof index, "%s/index.html", out);
    return access(index, R_OK) == 0;
}

#ifndef VW_DASHBOARD_DIR
#define VW_DASHBOARD_DIR "build/dashboard"
#endif

vw_webapi *vw_webapi_start(const vw_config *cfg, vw_pipeline *pipe, char *err, size_t errlen)
{
    vw_webapi *w = calloc(1, sizeof *w);
    if (!w) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    w->cfg = cfg;
    w->pipe = pipe;
    snprintf(w->dir, sizeof w->dir, "%s", cfg->data_dir);
    snprintf(w->db, sizeof w->db, "%s/history.sqlite3", cfg->data_dir);
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->freed, NULL);
    char *cert = NULL, *key = NULL;
    if (cfg->web.tls_cert && (!(cert = read_pem(cfg->web.tls_cert, "cert", err, errlen)) ||
                              !(key = read_pem(cfg->web.tls_key, "key", err, errlen)))) {
        free(cert);
        vw_webapi_stop(w);
        return NULL;
    }
    web_auth_config auth = {.users = cfg->web.users, .nusers = cfg->web.nusers, .tokens = cfg->web.tokens,
                            .ntokens = cfg->web.ntokens, .anonymous = cfg->web.anonymous,
                            .session_hours = cfg->web.session_hours, .secure_cookie = cert != NULL};
    char here[VW_CFG_MAX_PATH + 64];
    const char *dash = cfg->web.dashboard_dir ? cfg->web.dashboard_dir : getenv("VW_DASHBOARD_DIR");
    if (!dash && installed_dashboard(here, sizeof here))
        dash = here;
    web_options o = {.listen = cfg->listen, .tls_cert_pem = cert, .tls_key_pem = key,
                     .static_dir = dash ? dash : VW_DASHBOARD_DIR, .auth = &auth,
                     .hosts = (const char *const *)cfg->web.hosts, .nhosts = cfg->web.nhosts};
    web_api api = {.ctx = w, .routes = routes, .nroutes = sizeof routes / sizeof routes[0], .log = on_web_log};
    w->srv = web_start(&o, &api, err, errlen);
    if (key)
        memset(key, 0, strlen(key));
    free(cert);
    free(key);
    if (!w->srv) {
        vw_webapi_stop(w);
        return NULL;
    }
    const char *host = cfg->listen;
    const char *colon = strrchr(host, ':');
    snprintf(w->url, sizeof w->url, "%s://%.*s:%u", cert ? "https" : "http", (int)(colon - host), host,
             web_port(w->srv));
    vw_pipeline_set_publish(pipe, on_publish, w);
    return w;
}

const char *vw_webapi_url(const vw_webapi *w) { return w->url; }

/* The newest alerts of a tick: those after the last one published are published (not at the first
 * tick: only what comes after the start), and the highest id is kept. */
typedef struct new_alerts {
    vw_webapi *w;
    int64_t max;
} new_alerts;

static void on_listed(void *ctx, const alerts_listed *a)
{
    new_alerts *n = ctx;
    if (a->id > n->max)
        n->max = a->id;
    if (!n->w->alerts_seen || a->id <= n->w->last_alert_id)
        return;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", (double)a->id);
    cJSON_AddStringToObject(o, "asset", a->asset);
    cJSON_AddStringToObject(o, "level", a->level);
    cJSON_AddStringToObject(o, "kind", a->kind);
    publish_tree(n->w, "alert", o);
}

void vw_webapi_tick(vw_webapi *w)
{
    if (!w)
        return;
    int64_t now = mono_ns();
    if (now >= w->next_status_ns) {
        w->next_status_ns = now + STATUS_EVERY_NS;
        char line[256];
        vw_pipeline_summary(w->pipe, line, sizeof line);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "summary", line);
        publish_tree(w, "status", o);
    }
    /* alerts decided since the last tick, oldest of them last in the list; the next tick when every
     * connection is busy */
    slot *s = try_borrow(w);
    if (!s)
        return;
    bool none;
    web_reply r = {0};
    alerts_outbox *ob = outbox_of(w, s, &none, &r);
    free(r.body);
    if (ob) {
        new_alerts n = {w, w->last_alert_id};
        if (alerts_outbox_list_where(ob, NULL, 0, 16, on_listed, &n) >= 0) {
            w->last_alert_id = n.max;
            w->alerts_seen = true;
        }
    }
    give_back(w, s);
}

void vw_webapi_stop(vw_webapi *w)
{
    if (!w)
        return;
    if (w->pipe)
        vw_pipeline_set_publish(w->pipe, NULL, NULL);
    web_stop(w->srv);
    for (int i = 0; i < POOL; i++) {
        store_reader_close(w->slots[i].reader);
        alerts_outbox_close(w->slots[i].outbox);
    }
    pthread_cond_destroy(&w->freed);
    pthread_mutex_destroy(&w->lock);
    free(w);
}

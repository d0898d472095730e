/* daemon/alerting.c — the alerts sink (alerting.h): a rules thread and a delivery thread per
 * destination, each with its own connection to the history database.
 *
 * The rules thread owns every asset's alerts_rules and what the evidence needs (each channel's
 * latest snapshot, its baseline reference and its last days); it is the only writer of alert rows,
 * outbox rows and the rules' saved state, and writes a notification, its messages and the state
 * that decided it in one transaction. Delivery threads only move their own destination's rows from
 * pending to sent or failed. Messages are rendered when queued (alerts/evidence.h, mail.h,
 * template.h) and sent as stored. */
#include "alerting.h"

#include "alerts/evidence.h"
#include "alerts/mail.h"
#include "alerts/outbox.h"
#include "alerts/rules.h"
#include "alerts/send.h"
#include "alerts/template.h"
#include "dsp/dsp.h"
#include "log.h"
#include "models/monitor.h"
#include "queue.h"
#include "snapshot_features.h"

#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define QUEUE_CAP 1024
#define CH_PER_SENSOR VW_CFG_MAX_CHANNELS
#define REF_SNAPSHOTS 20     /* the baseline reference of "what crossed": the first ok snapshots */
#define SAVE_EVERY 50        /* the rules' state is saved at least every this many snapshots */
#define DIGEST_MAX 100       /* held messages listed in one digest at most (the rest: the next one) */
#define DIGEST_SUMMARY 120   /* characters of each alert's summary in a digest (so that 100 fit) */
#define PRUNE_EVERY 500      /* snapshots between two prunes of finished alerts */
#define KEEP_ALERTS 10000    /* finished alerts kept at most (and alerts.delivery.keep of data time): ~5 kB each */

const char *const vw_alert_var_names[] = {
    "box",       "box_name",   "asset",      "asset_name", "level",      "previous", "kind",   "summary",
    "text",      "subject",    "time",       "rul_h",      "rul_lo_h",   "rul_hi_h", "p_fail_7d", "p_fail_14d",
    "diagnosis", "sensor",     "channel",    "link",       "alert_id",   "key",      "evidence", NULL};
enum { V_BOX, V_BOX_NAME, V_ASSET, V_ASSET_NAME, V_LEVEL, V_PREVIOUS, V_KIND, V_SUMMARY, V_TEXT, V_SUBJECT, V_TIME,
       V_RUL, V_RUL_LO, V_RUL_HI, V_P7, V_P14, V_DIAG, V_SENSOR, V_CHANNEL, V_LINK, V_ALERT_ID, V_KEY, V_EVIDENCE,
       NVARS };

/* The features whose change from the baseline an alert shows, and how far counts as crossed. */
static const struct {
    int f;
    double ratio, plus; /* crossed when now ≥ ratio × ref (ratio > 0) or now ≥ ref + plus */
} crossing[] = {
    {F_VEL_RMS, 2, 0},   {F_ACCEL_RMS, 2, 0},  {F_ACCEL_PEAK, 2, 0}, {F_KURTOSIS, 1.5, 0}, {F_CREST, 1.5, 0},
    {F_V1X, 2, 0},       {F_V2X, 2, 0},        {F_V3X, 2, 0},        {F_BPFO_DB, 0, 6},    {F_BPFI_DB, 0, 6},
    {F_BSF_DB, 0, 6},    {F_FTF_DB, 0, 6},     {F_BAND_SK, 1.5, 0},  {F_TEMP_C, 0, 10},
};
#define NCROSS (sizeof crossing / sizeof crossing[0])

enum msg_type { M_SNAPSHOT, M_STOPPED, M_ACK, M_FLUSH };

typedef struct msg {
    enum msg_type type;
    int64_t t_ns;
    int asset, sensor;
    unsigned channel;
    bool stopped;
    char axis[VW_CFG_MAX_AXIS + 1];
    double feat[NFEAT];
    char state[32], diagnosis[32];
    bool have_mo;
    models_monitor_output mo;
    char user[128], note[512];
} msg;

typedef struct chan_mem {
    bool have;
    msg last;                       /* the latest snapshot (type M_SNAPSHOT) */
    bool have_trusted;
    msg trusted;                    /* the latest snapshot not in sensor fault: the machine's evidence */
    unsigned ref_n;
    double ref_sum[NCROSS];
    alerts_day days[ALERTS_EV_MAX_DAYS];
    unsigned ndays;
} chan_mem;

typedef struct asset_rt {
    alerts_rules *rules;
    const alerts_rules_cfg *cfg;
    unsigned nch;
    chan_mem *mem;                  /* [sensor * CH_PER_SENSOR + channel] */
    unsigned since_save;
    int64_t episode;                /* the alert id that opened the current episode (for threading), 0 */
    int64_t last_t_ns;              /* data time of the newest snapshot */
    int64_t last_wall_ns;           /* the wall time it came in */
    const char *sensor_ids[VW_CFG_MAX_SENSORS]; /* the config's, in channel order */
} asset_rt;

typedef struct dest_rt {
    vw_alerting *a;
    const vw_cfg_destination *d;
    pthread_t thread;
    bool started;
    alerts_outbox *ob;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool poke;
    _Atomic long sent, failed, attempts;
} dest_rt;

struct vw_alerting {
    const vw_config *cfg;
    bool replay;
    char db_path[VW_CFG_MAX_PATH + 64];
    char link_base[VW_CFG_MAX_URI + 64];
    vw_queue *q;
    pthread_t rules_thread;
    bool rules_started;
    alerts_outbox *ob;              /* the rules thread's */
    asset_rt assets[VW_CFG_MAX_ASSETS];
    unsigned ndest;
    dest_rt dest[VW_CFG_MAX_DESTINATIONS];
    _Atomic int stop;
    pthread_mutex_t lock;           /* guards queued/done */
    pthread_cond_t done_cv;
    uint64_t queued, done;
    uint64_t salt;                  /* this database's, in every key: ids never repeat across a reset */
    unsigned since_prune;
    bool held[VW_CFG_MAX_DESTINATIONS]; /* the destination holds messages for a digest (the rules thread's) */
    _Atomic long alerts_made, dropped, db_errors;
    vw_log_limiter db_rl;
};

static int64_t wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static const alerts_rules_cfg *rules_cfg_of(const vw_config *c, int asset)
{
    return c->alerts.asset_rules[asset] ? c->alerts.asset_rules[asset] : &c->alerts.rules;
}

/* ---- rendering ------------------------------------------------------------------------------ */

static void fmt_num(char *out, size_t n, double v)
{
    if (isfinite(v))
        snprintf(out, n, "%.4g", v);
    else
        out[0] = 0;
}

static void iso_time(int64_t t_ns, char *out, size_t n)
{
    time_t s = (time_t)(t_ns / 1000000000);
    struct tm tm;
    gmtime_r(&s, &tm);
    strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The defect family of a diagnosis (dsp's names: outer_race is DSP_DIAG_OUTER, whose family is
 * DSP_BPFO, and so on), or -1 for none. */
static int family_of(const char *diag)
{
    for (int d = DSP_DIAG_OUTER; diag && d <= DSP_DIAG_CAGE; d++)
        if (!strcmp(diag, dsp_diagnosis_name((enum dsp_diagnosis)d)))
            return d - DSP_DIAG_OUTER;
    return -1;
}

/* A channel's evidence from its latest snapshot and memory. */
static void channel_evidence(const vw_alerting *a, int asset, unsigned idx, const chan_mem *m, enum alerts_level lvl,
                             unsigned causes, alerts_channel_ev *e)
{
    const vw_cfg_asset *as = &a->cfg->assets[asset];
    const vw_cfg_sensor *sc = &as->sensors[idx / CH_PER_SENSOR];
    const msg *s = &m->last;
    memset(e, 0, sizeof *e);
    /* a sensor in fault: its latest signal is not a measurement of the machine (a clipped signal's
       velocity is no ISO zone); the machine's numbers are those of its last trusted snapshot, said so */
    bool fault = m->have && !strcmp(m->last.state, "sensor_fault");
    e->sensor_id = sc->id;
    e->sensor_name = sc->name;
    e->axis = m->have ? s->axis : "?";
    e->mounting = sc->mounting;
    e->level = lvl;
    e->causes = causes;
    e->state = m->have ? s->state : NULL;
    double nan = NAN;
    e->rul_h = e->rul_lo_h = e->rul_hi_h = e->p_fail_7d = e->p_fail_14d = nan;
    e->anomaly = e->threshold = e->hi = e->hi_limit = e->defect_hz = e->defect_db = e->velocity_rms_mm_s = e->temp_c = nan;
    if (!m->have)
        return;
    if (fault) {
        if (!m->have_trusted)
            return;
        s = &m->trusted;
        e->values_t_ns = s->t_ns;
    }
    if (s->have_mo) {
        const models_monitor_output *mo = &s->mo;
        e->model_cause = mo->cause;
        e->rul_basis = models_rul_basis_name(mo->basis);
        e->rul_h = mo->rul_h;
        e->rul_lo_h = mo->rul_lo_h;
        e->rul_hi_h = mo->rul_hi_h;
        e->p_fail_7d = mo->p_fail_7d;
        e->p_fail_14d = mo->p_fail_14d;
        e->anomaly = mo->anomaly;
        e->threshold = mo->threshold;
        e->hi = mo->hi;
        e->hi_limit = mo->hi_limit;
    }
    int fam = family_of(s->diagnosis);
    if (fam >= 0) {
        e->diagnosis = s->diagnosis;
        e->defect = dsp_family_name((enum dsp_family)fam);
        e->defect_db = s->feat[F_BPFO_DB + fam];
        if (sc->bearing >= 0 && isfinite(s->feat[F_SHAFT_HZ])) {
            const dsp_bearing_orders *o = &as->bearings[sc->bearing].orders;
            const double ord[] = {o->bpfo, o->bpfi, o->bsf, o->ftf};
            e->defect_hz = ord[fam] * s->feat[F_SHAFT_HZ];
        }
    }
    double z = s->feat[F_ISO_ZONE];
    e->iso_zone = isfinite(z) && z >= 1 && z <= 4 ? (int)z : 0;
    e->velocity_rms_mm_s = s->feat[F_VEL_RMS];
    e->temp_c = s->feat[F_TEMP_C];
    if (m->ref_n >= REF_SNAPSHOTS / 2)
        for (size_t k = 0; k < NCROSS && e->ncrossed < ALERTS_EV_MAX_CROSSED; k++) {
            double ref = m->ref_sum[k] / m->ref_n, now = s->feat[crossing[k].f];
            if (!isfinite(ref) || !isfinite(now))
                continue;
            bool crossed = crossing[k].ratio > 0 ? ref > 0 && now >= crossing[k].ratio * ref : now >= ref + crossing[k].plus;
            if (crossed)
                e->crossed[e->ncrossed++] = (alerts_crossed){vw_snapshot_feature_names[crossing[k].f], now, ref};
        }
    e->ndays = m->ndays;
    memcpy(e->days, m->days, sizeof e->days);
}

typedef struct rendered {
    alerts_channel_ev ch[ALERTS_MAX_CHANNELS];
    alerts_evidence ev;
    char link[VW_CFG_MAX_URI + 160];
    char subject[1024], summary[1024], sms[1024];
    char *text, *html, *json;
} rendered;

static void rendered_free(rendered *r)
{
    if (!r)
        return;
    free(r->text);
    free(r->html);
    free(r->json);
    free(r);
}

static rendered *render(vw_alerting *a, int asset, const alerts_decision *d, int64_t t_ns)
{
    rendered *r = calloc(1, sizeof *r);
    if (!r || !(r->text = malloc(ALERTS_EV_TEXT_MAX)) || !(r->html = malloc(ALERTS_EV_HTML_MAX))) {
        rendered_free(r);
        return NULL;
    }
    const vw_cfg_asset *as = &a->cfg->assets[asset];
    asset_rt *rt = &a->assets[asset];
    for (unsigned i = 0; i < d->nchannels; i++) {
        unsigned idx = d->channels[i];
        channel_evidence(a, asset, idx, &rt->mem[idx],
                         d->kind == ALERTS_LOWERED || d->kind == ALERTS_RECOVERED ? alerts_rules_channel_level(rt->rules, idx)
                                                                                 : d->level,
                         d->causes[i], &r->ch[i]);
    }
    snprintf(r->link, sizeof r->link, "%s/#/assets/%s", a->link_base, as->id);
    r->ev = (alerts_evidence){.box_id = a->cfg->box_id, .box_name = a->cfg->box_name, .asset_id = as->id,
                              .asset_name = as->name, .kind = d->kind, .level = d->level, .previous = d->previous,
                              .t_ns = t_ns, .link = r->link, .nch = d->nchannels, .ch = r->ch};
    if (alerts_ev_subject(&r->ev, r->subject, sizeof r->subject) < 0)
        snprintf(r->subject, sizeof r->subject, "[vibewatch] %s %s", alerts_level_name(d->level), as->id);
    if (alerts_ev_summary(&r->ev, r->summary, sizeof r->summary) < 0)
        snprintf(r->summary, sizeof r->summary, "%s %s", alerts_level_name(d->level), as->id);
    if (alerts_ev_sms(&r->ev, r->sms, sizeof r->sms) < 0)
        snprintf(r->sms, sizeof r->sms, "%s %s", alerts_level_name(d->level), as->id);
    if (alerts_ev_text(&r->ev, r->text, ALERTS_EV_TEXT_MAX) < 0)
        snprintf(r->text, ALERTS_EV_TEXT_MAX, "%s\n", r->summary);
    if (alerts_ev_html(&r->ev, r->html, ALERTS_EV_HTML_MAX) < 0) {
        free(r->html);
        r->html = NULL;
    }
    r->json = alerts_ev_json(&r->ev);
    return r;
}

/* A box id as a dot-atom piece: ids may hold dots, which an atom may not repeat or end with. */
static void box_atom(const char *id, char *out, size_t n)
{
    size_t i = 0;
    for (; id[i] && i + 1 < n; i++)
        out[i] = id[i] == '.' ? '-' : id[i];
    out[i] = 0;
}

/* The stable key of a message: its Message-ID's left side and its Idempotency-Key. The database's
 * salt keeps keys unique across a reset database; the destination goes in by its index, since a
 * name may hold characters an atom may not. */
static void make_key(const vw_alerting *a, int64_t alert_id, unsigned dest, char *out, size_t n)
{
    char box[VW_CFG_MAX_ID + 1];
    box_atom(a->cfg->box_id, box, sizeof box);
    snprintf(out, n, "vw.%s.%llx.%lld.%u", box, (unsigned long long)a->salt, (long long)alert_id, dest);
}

/* The whole e-mail of one message (malloc'd; *len). */
static char *email_payload(const vw_alerting *a, const vw_cfg_destination *d, const char *key, const char *reply_key,
                           const char *subject, const char *text, const char *html, int64_t alert_id, size_t *len,
                           char *err, size_t errlen)
{
    char mid[256], rid[256], aid[32], box[VW_CFG_MAX_ID + 1];
    box_atom(a->cfg->box_id, box, sizeof box);
    snprintf(mid, sizeof mid, "%s@%s.vibewatch", key, box);
    if (reply_key)
        snprintf(rid, sizeof rid, "%s@%s.vibewatch", reply_key, box);
    snprintf(aid, sizeof aid, "%lld", (long long)alert_id);
    alerts_mail m = {.from = d->from, .to = (const char *const *)d->to, .nto = d->nto, .subject = subject,
                     .message_id = mid, .in_reply_to = reply_key ? rid : NULL, .date_s = wall_ns() / 1000000000,
                     .alert_id = aid, .text = text, .html = html};
    size_t cap = alerts_mail_bound(&m);
    char *buf = malloc(cap);
    if (!buf) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    long n = alerts_mail_format(&m, buf, cap, err, errlen);
    if (n < 0) {
        free(buf);
        return NULL;
    }
    *len = (size_t)n;
    return buf;
}

/* A webhook's stored payload: the template variables as one line of JSON (all but the evidence),
 * then the rendered body. The headers are rendered when sent, from the configuration of the day:
 * an API key in a header is never stored, and a rotated one applies to what is still waiting. */
static char *webhook_payload(const vw_cfg_destination *d, const alerts_var *vars, size_t *len, char *err, size_t errlen)
{
    cJSON *o = cJSON_CreateObject();
    for (int i = 0; o && i < NVARS; i++)
        if (i != V_EVIDENCE)
            cJSON_AddStringToObject(o, vars[i].name, vars[i].value ? vars[i].value : "");
    char *head = o ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    size_t hl = head ? strlen(head) : 0, cap = hl + 1 + 65536 + VW_CFG_MAX_TEMPLATE * 8;
    char *buf = head ? malloc(cap) : NULL;
    if (!buf) {
        free(head);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    memcpy(buf, head, hl); /* cJSON escapes control characters: the line has no newline in it */
    buf[hl] = '\n';
    free(head);
    enum alerts_escape esc = d->format == VW_BODY_JSON ? ALERTS_ESC_JSON : d->format == VW_BODY_FORM ? ALERTS_ESC_FORM
                                                                                                  : ALERTS_ESC_NONE;
    long r = alerts_template_render(d->body, strlen(d->body), vars, NVARS, esc, buf + hl + 1, cap - hl - 1, err, errlen);
    if (r < 0) {
        free(buf);
        return NULL;
    }
    *len = hl + 1 + (size_t)r;
    return buf;
}

static void fill_vars(alerts_var *v, char (*num)[32], const vw_alerting *a, const vw_cfg_asset *as, const rendered *r,
                      const char *kind, const char *key, int64_t alert_id, int64_t t_ns)
{
    for (int i = 0; i < NVARS; i++)
        v[i] = (alerts_var){vw_alert_var_names[i], ""};
    const alerts_channel_ev *c = r && r->ev.nch ? &r->ch[0] : NULL;
    v[V_BOX].value = a->cfg->box_id;
    v[V_BOX_NAME].value = a->cfg->box_name;
    v[V_ASSET].value = as ? as->id : "";
    v[V_ASSET_NAME].value = as ? as->name : "";
    v[V_LEVEL].value = r ? alerts_level_name(r->ev.level) : "test";
    v[V_PREVIOUS].value = r ? alerts_level_name(r->ev.previous) : "";
    v[V_KIND].value = kind;
    v[V_SUMMARY].value = r ? r->summary : "";
    v[V_TEXT].value = r ? r->sms : "";
    v[V_SUBJECT].value = r ? r->subject : "";
    iso_time(t_ns, num[V_TIME], sizeof num[0]);
    v[V_TIME].value = num[V_TIME];
    if (c && c->rul_basis && strcmp(c->rul_basis, "null")) {
        fmt_num(num[V_RUL], sizeof num[0], c->rul_h);
        fmt_num(num[V_RUL_LO], sizeof num[0], c->rul_lo_h);
        fmt_num(num[V_RUL_HI], sizeof num[0], c->rul_hi_h);
    }
    if (c) {
        fmt_num(num[V_P7], sizeof num[0], c->p_fail_7d);
        fmt_num(num[V_P14], sizeof num[0], c->p_fail_14d);
        v[V_DIAG].value = c->diagnosis ? c->diagnosis : "";
        v[V_SENSOR].value = c->sensor_id;
        v[V_CHANNEL].value = c->axis;
    }
    const int nums[] = {V_RUL, V_RUL_LO, V_RUL_HI, V_P7, V_P14};
    for (size_t k = 0; k < sizeof nums / sizeof nums[0]; k++)
        v[nums[k]].value = num[nums[k]];
    v[V_LINK].value = r ? r->link : a->link_base;
    snprintf(num[V_ALERT_ID], sizeof num[0], "%lld", (long long)alert_id);
    v[V_ALERT_ID].value = num[V_ALERT_ID];
    v[V_KEY].value = key;
    v[V_EVIDENCE].value = r && r->json ? r->json : "{}";
}

static bool dest_wants(const vw_cfg_destination *d, const char *asset_id, enum alerts_level level,
                       enum alerts_level previous)
{
    enum alerts_level top = level > previous ? level : previous;
    if (top < d->min_level)
        return false;
    if (!d->nassets)
        return true;
    for (unsigned i = 0; i < d->nassets; i++)
        if (!strcmp(d->assets[i], asset_id))
            return true;
    return false;
}

/* ---- the rules thread ------------------------------------------------------------------------ */

static bool in_window(const vw_config *c, const char *asset, double t_h)
{
    for (unsigned i = 0; i < c->alerts.nwindows; i++) {
        const vw_cfg_window *w = &c->alerts.windows[i];
        if ((!w->asset || !strcmp(w->asset, asset)) && t_h >= w->from_h && t_h < w->to_h)
            return true;
    }
    return false;
}

static char *asset_state_json(const asset_rt *rt)
{
    char *rules = alerts_rules_to_json(rt->rules);
    cJSON *o = cJSON_CreateObject(), *rj = rules ? cJSON_Parse(rules) : NULL;
    free(rules);
    if (!o || !rj) {
        cJSON_Delete(o);
        cJSON_Delete(rj);
        return NULL;
    }
    cJSON_AddNumberToObject(o, "version", 1);
    cJSON *ids = cJSON_AddArrayToObject(o, "sensors"); /* the channels are by position: whose they are */
    for (unsigned i = 0; i < rt->nch / CH_PER_SENSOR; i++)
        cJSON_AddItemToArray(ids, cJSON_CreateString(rt->sensor_ids[i]));
    cJSON_AddItemToObject(o, "rules", rj);
    cJSON_AddNumberToObject(o, "episode", (double)rt->episode);
    cJSON *chs = cJSON_AddArrayToObject(o, "mem");
    for (unsigned i = 0; i < rt->nch; i++) {
        const chan_mem *m = &rt->mem[i];
        if (!m->ref_n && !m->ndays)
            continue;
        cJSON *co = cJSON_CreateObject();
        cJSON_AddNumberToObject(co, "i", i);
        cJSON_AddNumberToObject(co, "ref_n", m->ref_n);
        cJSON *ref = cJSON_AddArrayToObject(co, "ref");
        for (size_t k = 0; k < NCROSS; k++)
            cJSON_AddItemToArray(ref, isfinite(m->ref_sum[k]) ? cJSON_CreateNumber(m->ref_sum[k]) : cJSON_CreateNull());
        cJSON *days = cJSON_AddArrayToObject(co, "days");
        for (unsigned k = 0; k < m->ndays; k++) {
            cJSON *dd = cJSON_CreateArray();
            const alerts_day *day = &m->days[k];
            cJSON_AddItemToArray(dd, cJSON_CreateNumber((double)day->t_ns));
            const double vals[] = {day->velocity_rms_mm_s, day->health, day->hi};
            for (int q = 0; q < 3; q++)
                cJSON_AddItemToArray(dd, isfinite(vals[q]) ? cJSON_CreateNumber(vals[q]) : cJSON_CreateNull());
            cJSON_AddItemToArray(days, dd);
        }
        cJSON_AddItemToArray(chs, co);
    }
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

static double jnum_or_nan(const cJSON *v) { return cJSON_IsNumber(v) ? v->valuedouble : NAN; }

static void asset_state_restore(vw_alerting *a, int asset, const char *text)
{
    asset_rt *rt = &a->assets[asset];
    const char *id = a->cfg->assets[asset].id;
    cJSON *o = cJSON_Parse(text);
    const cJSON *ids = cJSON_GetObjectItemCaseSensitive(o, "sensors");
    bool same = cJSON_GetArraySize(ids) == (int)(rt->nch / CH_PER_SENSOR);
    for (unsigned i = 0; same && i < rt->nch / CH_PER_SENSOR; i++) {
        const cJSON *v = cJSON_GetArrayItem(ids, (int)i);
        same = cJSON_IsString(v) && !strcmp(v->valuestring, rt->sensor_ids[i]);
    }
    if (!same) {
        vw_log(VW_LOG_NOTICE, "alerts", "%s: its sensors changed since the alert state was saved; its rules start afresh",
               id);
        cJSON_Delete(o);
        return;
    }
    const cJSON *rj = cJSON_GetObjectItemCaseSensitive(o, "rules");
    char *rules = rj ? cJSON_PrintUnformatted(rj) : NULL, err[256] = "not JSON";
    if (!rules || alerts_rules_restore(rt->rules, rules, err, sizeof err) < 0) {
        vw_log(VW_LOG_WARNING, "alerts", "%s: the saved alert state is not usable (%s); starting afresh", id, err);
        free(rules);
        cJSON_Delete(o);
        return;
    }
    free(rules);
    double ep = jnum_or_nan(cJSON_GetObjectItemCaseSensitive(o, "episode"));
    rt->episode = ep >= 0 && ep < 9e18 ? (int64_t)ep : 0; /* a number out of range is not converted */
    const cJSON *co;
    cJSON_ArrayForEach(co, cJSON_GetObjectItemCaseSensitive(o, "mem"))
    {
        double i = jnum_or_nan(cJSON_GetObjectItemCaseSensitive(co, "i"));
        double n = jnum_or_nan(cJSON_GetObjectItemCaseSensitive(co, "ref_n"));
        const cJSON *ref = cJSON_GetObjectItemCaseSensitive(co, "ref"), *days = cJSON_GetObjectItemCaseSensitive(co, "days");
        if (!(i >= 0 && i < rt->nch) || !(n >= 0 && n <= REF_SNAPSHOTS) || cJSON_GetArraySize(ref) != (int)NCROSS ||
            cJSON_GetArraySize(days) > ALERTS_EV_MAX_DAYS)
            continue;
        chan_mem *m = &rt->mem[(unsigned)i];
        m->ref_n = (unsigned)n;
        for (size_t k = 0; k < NCROSS; k++)
            m->ref_sum[k] = jnum_or_nan(cJSON_GetArrayItem(ref, (int)k));
        m->ndays = 0;
        const cJSON *dd;
        cJSON_ArrayForEach(dd, days)
        {
            alerts_day *day = &m->days[m->ndays++];
            double t = jnum_or_nan(cJSON_GetArrayItem(dd, 0));
            day->t_ns = fabs(t) < 9e18 ? (int64_t)t : 0;
            day->velocity_rms_mm_s = jnum_or_nan(cJSON_GetArrayItem(dd, 1));
            day->health = jnum_or_nan(cJSON_GetArrayItem(dd, 2));
            day->hi = jnum_or_nan(cJSON_GetArrayItem(dd, 3));
        }
    }
    cJSON_Delete(o);
}

static int save_state(vw_alerting *a, int asset)
{
    char *s = asset_state_json(&a->assets[asset]);
    int rc = s ? alerts_outbox_state_put(a->ob, a->cfg->assets[asset].id, s) : -ENOMEM;
    free(s);
    a->assets[asset].since_save = 0;
    return rc;
}

static void remember(asset_rt *rt, unsigned idx, const msg *s)
{
    chan_mem *m = &rt->mem[idx];
    m->have = true;
    m->last = *s;
    if (!strcmp(s->state, "sensor_fault"))
        return; /* not a measurement of the machine: neither its baseline reference nor its days */
    m->have_trusted = true;
    m->trusted = *s;
    if (s->have_mo && s->mo.state == MODELS_ST_LEARNING) {
        m->ref_n = 0; /* a new baseline: the reference starts again */
        memset(m->ref_sum, 0, sizeof m->ref_sum);
    } else if (m->ref_n < REF_SNAPSHOTS && !strcmp(s->state, "ok")) {
        for (size_t k = 0; k < NCROSS; k++)
            m->ref_sum[k] += s->feat[crossing[k].f];
        m->ref_n++;
    }
    int64_t day = s->t_ns / 86400000000000LL;
    alerts_day *last = m->ndays ? &m->days[m->ndays - 1] : NULL;
    if (!last || last->t_ns / 86400000000000LL != day) {
        if (m->ndays == ALERTS_EV_MAX_DAYS) {
            memmove(m->days, m->days + 1, (ALERTS_EV_MAX_DAYS - 1) * sizeof m->days[0]);
            m->ndays--;
        }
        last = &m->days[m->ndays++];
        *last = (alerts_day){s->t_ns, NAN, NAN, NAN};
    }
    double vel = s->feat[F_VEL_RMS], h = s->have_mo ? s->mo.health : NAN, hi = s->have_mo ? s->mo.hi : NAN;
    if (isfinite(vel) && !(last->velocity_rms_mm_s >= vel))
        last->velocity_rms_mm_s = vel;
    if (isfinite(h) && !(last->health >= h))
        last->health = h;
    if (isfinite(hi) && !(last->hi >= hi))
        last->hi = hi;
}

/* Queues a notification: the alert row, a message per destination that wants it, and the rules'
 * state, in one transaction. */
static void notify(vw_alerting *a, int asset, const alerts_decision *d, int64_t t_ns)
{
    const vw_cfg_asset *as = &a->cfg->assets[asset];
    asset_rt *rt = &a->assets[asset];
    rendered *r = render(a, asset, d, t_ns);
    if (!r) {
        alerts_rules_undo(rt->rules); /* decided again with the next snapshot */
        vw_log(VW_LOG_ERR, "alerts", "%s: out of memory rendering an alert", as->id);
        return;
    }
    int64_t wall = wall_ns();
    bool ok = alerts_outbox_begin(a->ob) == 0;
    alerts_row row = {.t_ns = t_ns, .asset = as->id, .kind = alerts_kind_name(d->kind),
                      .level = alerts_level_name(d->level), .previous = alerts_level_name(d->previous),
                      .summary = r->summary, .evidence = r->json};
    int64_t id = ok ? alerts_outbox_alert_add(a->ob, &row) : -EIO;
    ok = id > 0;
    int64_t reply = rt->episode, episode_before = rt->episode;
    if (ok && d->kind == ALERTS_RAISED && d->previous == ALERTS_OK)
        rt->episode = id; /* a new episode: later mails about it thread under this one */
    for (unsigned k = 0; ok && k < a->ndest; k++) {
        const vw_cfg_destination *dc = a->dest[k].d;
        if (!dest_wants(dc, as->id, d->level, d->previous))
            continue;
        char key[160], rkey[160], err[256] = "";
        make_key(a, id, k, key, sizeof key);
        if (reply && reply != id)
            make_key(a, reply, k, rkey, sizeof rkey);
        size_t len = 0;
        char *payload;
        if (dc->type == VW_DEST_EMAIL) {
            payload = email_payload(a, dc, key, reply && reply != id ? rkey : NULL, r->subject, r->text, r->html, id, &len,
                                    err, sizeof err);
        } else {
            alerts_var vars[NVARS];
            char num[NVARS][32];
            fill_vars(vars, num, a, as, r, alerts_kind_name(d->kind), key, id, t_ns);
            payload = webhook_payload(dc, vars, &len, err, sizeof err);
        }
        if (!payload) {
            vw_log(VW_LOG_ERR, "alerts", "%s: cannot build the message for %s: %s", as->id, dc->name, err);
            continue;
        }
        long recent = dc->max_per_hour > 0 ? alerts_outbox_recent(a->ob, dc->name, t_ns - 3600000000000LL) : 0;
        alerts_msg m = {.alert_id = id, .dest = dc->name, .key = key, .t_ns = t_ns, .wall_ns = wall,
                        .held = dc->max_per_hour > 0 && recent >= (long)dc->max_per_hour, .payload = payload, .len = len};
        if (recent < 0 || alerts_outbox_enqueue(a->ob, &m) < 0)
            ok = false;
        else if (m.held)
            a->held[k] = true;
        free(payload);
    }
    char *state = ok ? asset_state_json(rt) : NULL;
    if (ok && (!state || alerts_outbox_state_put(a->ob, as->id, state) < 0))
        ok = false;
    free(state);
    if (ok && alerts_outbox_commit(a->ob) == 0) {
        a->alerts_made++;
        rt->since_save = 0;
        vw_log(VW_LOG_NOTICE, "alerts", "%s: %s (alert %lld)", as->id, r->summary, (long long)id);
        vw_log_recovered(&a->db_rl, "alerts", "writing alerts");
        for (unsigned k = 0; k < a->ndest; k++) {
            pthread_mutex_lock(&a->dest[k].lock);
            a->dest[k].poke = true;
            pthread_cond_signal(&a->dest[k].wake);
            pthread_mutex_unlock(&a->dest[k].lock);
        }
    } else {
        alerts_outbox_rollback(a->ob);
        alerts_rules_undo(rt->rules); /* not queued: the next snapshot decides it again, nothing is lost */
        rt->episode = episode_before;
        a->db_errors++;
        vw_log_failure(&a->db_rl, VW_LOG_ERR, "alerts", "%s: cannot record the alert \"%s\" in %s (%s); trying again "
                       "with the next snapshot", as->id, r->summary, a->db_path, alerts_outbox_error(a->ob));
    }
    rendered_free(r);
}

typedef struct digest_ctx {
    alerts_digest_item it[DIGEST_MAX];
    int64_t ids[DIGEST_MAX];
    char *store[DIGEST_MAX][4];
    size_t n;
    int64_t last_t;
} digest_ctx;

static char *dupz(const char *s) { return strdup(s ? s : ""); }

static void digest_cb(void *ctx, int64_t alert_id, int64_t t_ns, const char *asset, const char *level,
                      const char *kind, const char *summary)
{
    digest_ctx *c = ctx;
    if (c->n >= DIGEST_MAX)
        return;
    char **s = c->store[c->n];
    s[0] = dupz(asset);
    s[1] = dupz(level);
    s[2] = dupz(kind);
    s[3] = dupz(summary);
    if (s[3])
        alerts_utf8_truncate(s[3], DIGEST_SUMMARY);
    c->ids[c->n] = alert_id;
    c->it[c->n] = (alerts_digest_item){t_ns, s[0], s[1], s[2], s[3]};
    c->last_t = t_ns;
    c->n++;
}

/* Folds a destination's held messages into one digest when its rate limit allows (or always, when
 * forced: the box is stopping). */
static void release_digests(vw_alerting *a, int64_t t_ns, bool force)
{
    for (unsigned k = 0; k < a->ndest; k++) {
        if (!a->held[k]) /* nothing held: no query, no allocation (this runs after every snapshot) */
            continue;
        const vw_cfg_destination *dc = a->dest[k].d;
        digest_ctx *c = calloc(1, sizeof *c);
        if (!c)
            return;
        long held = alerts_outbox_held(a->ob, dc->name, DIGEST_MAX, digest_cb, c);
        if (held == 0)
            a->held[k] = false;
        long recent = held > 0 ? alerts_outbox_recent(a->ob, dc->name, t_ns - 3600000000000LL) : 0;
        /* a destination whose limit was lifted (0) releases what it still holds at once */
        if (held > 0 && recent >= 0 && (force || dc->max_per_hour <= 0 || recent < (long)dc->max_per_hour)) {
            char subject[256], *text = malloc(ALERTS_EV_TEXT_MAX), *html = malloc(ALERTS_EV_HTML_MAX);
            char summary[300];
            alerts_ev_digest_subject(a->cfg->box_name, c->n, subject, sizeof subject);
            snprintf(summary, sizeof summary, "digest of %zu alerts for %s", c->n, dc->name);
            bool ok = text && html &&
                      alerts_ev_digest_text(a->cfg->box_name, c->it, c->n, a->link_base, text, ALERTS_EV_TEXT_MAX) >= 0 &&
                      alerts_ev_digest_html(a->cfg->box_name, c->it, c->n, a->link_base, html, ALERTS_EV_HTML_MAX) >= 0 &&
                      alerts_outbox_begin(a->ob) == 0;
            if (ok) {
                alerts_row row = {.t_ns = t_ns, .asset = "*", .kind = "digest", .level = "digest", .previous = "",
                                  .summary = summary, .evidence = "{}"};
                int64_t id = alerts_outbox_alert_add(a->ob, &row);
                char key[160], err[256] = "";
                size_t len = 0;
                char *payload = NULL;
                if (id > 0) {
                    make_key(a, id, k, key, sizeof key);
                    if (dc->type == VW_DEST_EMAIL) {
                        payload = email_payload(a, dc, key, NULL, subject, text, html, id, &len, err, sizeof err);
                    } else {
                        alerts_var vars[NVARS];
                        char num[NVARS][32], sms[ALERTS_SMS_CHARS * 4 + 8];
                        snprintf(sms, sizeof sms, "%zu more vibewatch alerts from %s: see the dashboard. %s", c->n,
                                 a->cfg->box_name, a->link_base);
                        alerts_utf8_truncate(sms, ALERTS_SMS_CHARS);
                        fill_vars(vars, num, a, NULL, NULL, "digest", key, id, t_ns);
                        vars[V_TEXT].value = sms;
                        vars[V_SUBJECT].value = subject;
                        vars[V_SUMMARY].value = summary;
                        vars[V_LEVEL].value = "digest";
                        payload = webhook_payload(dc, vars, &len, err, sizeof err);
                    }
                }
                alerts_msg m = {.alert_id = id, .dest = dc->name, .key = key, .t_ns = t_ns, .wall_ns = wall_ns(),
                                .payload = payload, .len = len};
                ok = id > 0 && payload && alerts_outbox_enqueue(a->ob, &m) == 0 &&
                     alerts_outbox_fold_alerts(a->ob, dc->name, c->ids, c->n, id) >= 0 && alerts_outbox_commit(a->ob) == 0;
                if (!ok) {
                    alerts_outbox_rollback(a->ob);
                    vw_log_failure(&a->db_rl, VW_LOG_ERR, "alerts", "cannot queue the digest for %s: %s", dc->name,
                                   err[0] ? err : alerts_outbox_error(a->ob));
                } else {
                    vw_log(VW_LOG_NOTICE, "alerts", "%s: %zu alerts over the rate limit folded into one digest", dc->name,
                           c->n);
                    a->held[k] = held >= DIGEST_MAX; /* a full digest: there may be more */
                    pthread_mutex_lock(&a->dest[k].lock);
                    a->dest[k].poke = true;
                    pthread_cond_signal(&a->dest[k].wake);
                    pthread_mutex_unlock(&a->dest[k].lock);
                }
                free(payload);
            } else {
                vw_log_failure(&a->db_rl, VW_LOG_ERR, "alerts", "cannot build the digest of %zu alerts for %s%s", c->n,
                               dc->name, text && html ? "" : ": out of memory");
            }
            free(text);
            free(html);
        }
        for (size_t i = 0; i < c->n; i++)
            for (int q = 0; q < 4; q++)
                free(c->store[i][q]);
        free(c);
    }
}

static void take_snapshot(vw_alerting *a, const msg *s)
{
    asset_rt *rt = &a->assets[s->asset];
    if (!rt->rules)
        return;
    unsigned idx = (unsigned)s->sensor * CH_PER_SENSOR + s->channel;
    if (idx >= rt->nch)
        return;
    alerts_input in = {.t_h = (double)s->t_ns / 3.6e12, .model = ALERTS_OK, .iso_zone = 0, .temp_c = s->feat[F_TEMP_C]};
    int lv = alerts_level_parse(s->state);
    if (lv > 0)
        in.model = (enum alerts_level)lv;
    in.sensor_fault = !strcmp(s->state, "sensor_fault");
    double z = s->feat[F_ISO_ZONE];
    in.iso_zone = isfinite(z) && z >= 1 && z <= 4 ? (int)z : 0;
    if (alerts_rules_update(rt->rules, idx, &in) != 0)
        return; /* at or before this channel's last snapshot: a recording replayed again */
    remember(rt, idx, s);
    if (s->t_ns > rt->last_t_ns) {
        rt->last_t_ns = s->t_ns;
        rt->last_wall_ns = wall_ns();
    }
    alerts_decision d;
    alerts_rules_eval(rt->rules, in.t_h, in_window(a->cfg, a->cfg->assets[s->asset].id, in.t_h), &d);
    if (d.kind != ALERTS_NONE)
        notify(a, s->asset, &d, s->t_ns);
    else if (d.changed || ++rt->since_save >= SAVE_EVERY)
        save_state(a, s->asset);
    release_digests(a, s->t_ns, false);
    if (++a->since_prune >= PRUNE_EVERY) { /* bounded: finished alerts older than keep, or too many */
        a->since_prune = 0;
        long n = alerts_outbox_prune(a->ob, s->t_ns, (int64_t)(a->cfg->alerts.keep_days * 86400e9), KEEP_ALERTS);
        if (n < 0)
            vw_log_failure(&a->db_rl, VW_LOG_WARNING, "alerts", "cannot prune old alerts in %s", a->db_path);
        else if (n > 0)
            vw_log(VW_LOG_INFO, "alerts", "%ld finished alerts older than %g days pruned", n, a->cfg->alerts.keep_days);
    }
}

static void take_stopped(vw_alerting *a, const msg *s)
{
    asset_rt *rt = &a->assets[s->asset];
    if (!rt->rules)
        return;
    const vw_cfg_sensor *sc = &a->cfg->assets[s->asset].sensors[s->sensor];
    for (unsigned c = 0; c < CH_PER_SENSOR; c++) {
        unsigned idx = (unsigned)s->sensor * CH_PER_SENSOR + c;
        if (s->stopped && !rt->mem[idx].have && c > 0)
            continue; /* the channels it delivered, or its first when it never delivered one */
        alerts_rules_stopped(rt->rules, idx, s->stopped);
        if (s->stopped && !rt->mem[idx].have) { /* evidence for a channel never seen */
            rt->mem[idx].last.type = M_SNAPSHOT;
            snprintf(rt->mem[idx].last.axis, sizeof rt->mem[idx].last.axis, "%s",
                     sc->channel_names[c] ? sc->channel_names[c] : "0");
            snprintf(rt->mem[idx].last.state, sizeof rt->mem[idx].last.state, "stopped");
            for (int f = 0; f < NFEAT; f++)
                rt->mem[idx].last.feat[f] = NAN;
        }
    }
    alerts_decision d;
    /* data time goes on from the asset's last snapshot at the wall clock's pace (the same as the
     * wall clock on a real box; a simulator's clock may run ahead of it) */
    int64_t t_ns = rt->last_t_ns ? rt->last_t_ns + (wall_ns() - rt->last_wall_ns) : s->t_ns;
    double t_h = (double)t_ns / 3.6e12;
    alerts_rules_eval(rt->rules, t_h, in_window(a->cfg, a->cfg->assets[s->asset].id, t_h), &d);
    vw_log(s->stopped ? VW_LOG_WARNING : VW_LOG_NOTICE, "alerts", "%s: acquisition of sensor %s %s",
           a->cfg->assets[s->asset].id, sc->id, s->stopped ? "stopped" : "runs again");
    if (d.kind != ALERTS_NONE)
        notify(a, s->asset, &d, t_ns);
    else
        save_state(a, s->asset);
}

static void take_ack(vw_alerting *a, const msg *s)
{
    asset_rt *rt = &a->assets[s->asset];
    const char *id = a->cfg->assets[s->asset].id;
    enum alerts_level l = rt->rules ? alerts_rules_ack(rt->rules) : ALERTS_OK;
    long n = alerts_outbox_ack(a->ob, id, s->user, s->note, wall_ns());
    if (rt->rules)
        save_state(a, s->asset);
    vw_log(VW_LOG_NOTICE, "alerts", "%s: acknowledged by %s at %s (%ld alert%s)%s%s", id, s->user, alerts_level_name(l),
           n, n == 1 ? "" : "s", s->note[0] ? ": " : "", s->note);
}

static void *rules_main(void *arg)
{
    vw_alerting *a = arg;
    msg *s;
    while ((s = vw_queue_pop(a->q))) {
        switch (s->type) {
        case M_SNAPSHOT: take_snapshot(a, s); break;
        case M_STOPPED: take_stopped(a, s); break;
        case M_ACK: take_ack(a, s); break;
        case M_FLUSH: {
            int64_t t = 0;
            for (unsigned i = 0; i < a->cfg->nassets; i++)
                if (a->assets[i].last_t_ns > t)
                    t = a->assets[i].last_t_ns;
            release_digests(a, t ? t : wall_ns(), true);
            for (unsigned i = 0; i < a->cfg->nassets; i++)
                if (a->assets[i].rules)
                    save_state(a, (int)i);
            break;
        }
        }
        free(s);
        pthread_mutex_lock(&a->lock);
        a->done++;
        pthread_cond_broadcast(&a->done_cv);
        pthread_mutex_unlock(&a->lock);
    }
    for (unsigned i = 0; i < a->cfg->nassets; i++) /* stopping: the state since the last save */
        if (a->assets[i].rules && a->assets[i].since_save)
            save_state(a, (int)i);
    return NULL;
}

static int enqueue(vw_alerting *a, msg *m, bool must)
{
    pthread_mutex_lock(&a->lock);
    a->queued++;
    pthread_mutex_unlock(&a->lock);
    bool snapshot = m->type == M_SNAPSHOT;
    int rc = (a->replay || must) ? vw_queue_push(a->q, m) : vw_queue_try_push(a->q, m);
    if (rc < 0) {
        free(m);
        if (snapshot)
            a->dropped++; /* the others are asked again by their callers */
        pthread_mutex_lock(&a->lock);
        a->done++;
        pthread_cond_broadcast(&a->done_cv);
        pthread_mutex_unlock(&a->lock);
    }
    return rc;
}

void vw_alerting_snapshot(vw_alerting *a, const vw_alert_snapshot *s)
{
    if (!a || s->asset < 0 || (unsigned)s->asset >= a->cfg->nassets)
        return;
    msg *m = calloc(1, sizeof *m);
    if (!m) {
        a->dropped++;
        return;
    }
    m->type = M_SNAPSHOT;
    m->t_ns = s->t_ns;
    m->asset = s->asset;
    m->sensor = s->sensor;
    m->channel = s->channel;
    snprintf(m->axis, sizeof m->axis, "%s", s->axis ? s->axis : "");
    memcpy(m->feat, s->features, sizeof m->feat);
    snprintf(m->state, sizeof m->state, "%s", s->state ? s->state : "");
    snprintf(m->diagnosis, sizeof m->diagnosis, "%s", s->diagnosis ? s->diagnosis : "");
    if (s->monitor) {
        m->have_mo = true;
        m->mo = *s->monitor;
    }
    enqueue(a, m, false);
}

int vw_alerting_stopped(vw_alerting *a, int asset, int sensor, bool stopped)
{
    if (!a || asset < 0 || (unsigned)asset >= a->cfg->nassets)
        return -EINVAL;
    msg *m = calloc(1, sizeof *m);
    if (!m)
        return -ENOMEM;
    m->type = M_STOPPED;
    m->t_ns = wall_ns();
    m->asset = asset;
    m->sensor = sensor;
    m->stopped = stopped;
    return enqueue(a, m, false) == 0 ? 0 : -EAGAIN; /* never blocks the caller (the main loop) */
}

int vw_alerting_ack(vw_alerting *a, const char *asset, const char *user, const char *note)
{
    int idx = -1;
    for (unsigned i = 0; a && i < a->cfg->nassets; i++)
        if (!strcmp(a->cfg->assets[i].id, asset))
            idx = (int)i;
    if (idx < 0)
        return -ENOENT;
    msg *m = calloc(1, sizeof *m);
    if (!m)
        return -ENOMEM;
    m->type = M_ACK;
    m->asset = idx;
    snprintf(m->user, sizeof m->user, "%s", user && *user ? user : "unknown");
    snprintf(m->note, sizeof m->note, "%s", note ? note : "");
    return enqueue(a, m, false) == 0 ? 0 : -EAGAIN; /* a full queue: the caller asks again later */
}

/* ---- delivery -------------------------------------------------------------------------------- */

static int64_t backoff_ns(const vw_alerting *a, int attempts)
{
    double s = a->cfg->alerts.retry_min_s;
    for (int i = 0; i < attempts && s < a->cfg->alerts.retry_max_s; i++)
        s *= 2;
    if (s > a->cfg->alerts.retry_max_s)
        s = a->cfg->alerts.retry_max_s;
    return (int64_t)(s * 1e9);
}

/* Sends one stored message. 0 delivered, or -EIO with r filled. */
static int deliver(const vw_cfg_destination *d, const char *key, const char *payload, size_t len, alerts_send_result *r)
{
    memset(r, 0, sizeof *r);
    if (d->type == VW_DEST_EMAIL) {
        char from[320], rcpt[VW_CFG_MAX_RECIPIENTS][320];
        const char *rp[VW_CFG_MAX_RECIPIENTS];
        if (alerts_mail_address(d->from, from, sizeof from) < 0) {
            snprintf(r->error, sizeof r->error, "%s: the sender is not an address", d->name);
            return -EIO;
        }
        for (unsigned i = 0; i < d->nto; i++) {
            if (alerts_mail_address(d->to[i], rcpt[i], sizeof rcpt[i]) < 0)
                snprintf(rcpt[i], sizeof rcpt[i], "invalid");
            rp[i] = rcpt[i];
        }
        alerts_smtp_cfg c = {.url = d->url, .tls = d->tls, .user = d->user, .password = d->password,
                             .ca_file = d->ca_file, .tls_insecure = d->tls_insecure, .from_addr = from, .rcpt = rp,
                             .nrcpt = d->nto, .timeout_s = d->timeout_s};
        return alerts_smtp_send(&c, payload, len, r);
    }
    /* the stored webhook: its variables (one JSON line), then the body; the headers are rendered now */
    const char *nl = memchr(payload, '\n', len);
    cJSON *vo = nl ? cJSON_ParseWithLength(payload, (size_t)(nl - payload)) : NULL;
    if (!cJSON_IsObject(vo)) {
        cJSON_Delete(vo);
        snprintf(r->error, sizeof r->error, "%s: a stored message without its variables", d->name);
        return -EIO;
    }
    alerts_var vars[NVARS];
    for (int i = 0; i < NVARS; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(vo, vw_alert_var_names[i]);
        vars[i] = (alerts_var){vw_alert_var_names[i], cJSON_IsString(v) ? v->valuestring : (i == V_EVIDENCE ? "{}" : "")};
    }
    char *lines[VW_CFG_MAX_HEADERS] = {0};
    int rc = 0;
    for (unsigned h = 0; h < d->nheaders && rc == 0; h++) {
        size_t cap = strlen(d->header_names[h]) + 2 + 8192;
        char err[256] = "";
        if (!(lines[h] = malloc(cap))) {
            rc = -ENOMEM;
            break;
        }
        int w = snprintf(lines[h], cap, "%s: ", d->header_names[h]);
        if (alerts_template_render(d->header_values[h], strlen(d->header_values[h]), vars, NVARS, ALERTS_ESC_HEADER,
                                   lines[h] + w, cap - (size_t)w, err, sizeof err) < 0) {
            snprintf(r->error, sizeof r->error, "%s: header %s: %s", d->name, d->header_names[h], err);
            rc = -EIO;
        }
    }
    if (rc == 0) {
        alerts_http_cfg c = {.url = d->url, .method = d->method, .content_type = d->content_type,
                             .headers = (const char *const *)lines, .nheaders = d->nheaders, .user = d->user,
                             .password = d->password, .token = d->token, .ca_file = d->ca_file,
                             .tls_insecure = d->tls_insecure, .idempotency_key = key, .timeout_s = d->timeout_s};
        rc = alerts_http_send(&c, nl + 1, len - (size_t)(nl + 1 - payload), r);
    } else if (rc == -ENOMEM) {
        snprintf(r->error, sizeof r->error, "%s: out of memory", d->name);
        r->retry = true;
        rc = -EIO;
    }
    for (unsigned h = 0; h < d->nheaders; h++) {
        if (lines[h])
            memset(lines[h], 0, strlen(lines[h])); /* an API key does not linger in freed memory */
        free(lines[h]);
    }
    cJSON_Delete(vo);
    return rc;
}

static void *dest_main(void *arg)
{
    dest_rt *dr = arg;
    vw_alerting *a = dr->a;
    const vw_cfg_destination *d = dr->d;
    vw_log_limiter rl = {0};
    int64_t give_up = (int64_t)(a->cfg->alerts.give_up_h * 3.6e12);
    int64_t unmarked_id = 0; /* delivered, not yet recorded: never sent again by this thread */
    int failures = 0;        /* in a row: the destination's backoff */
    char unmarked_answer[sizeof ((alerts_send_result *)0)->answer] = "";
    while (!a->stop) {
        int64_t now = wall_ns(), due = INT64_MAX;
        long expired = alerts_outbox_expire(dr->ob, d->name, now, give_up);
        if (expired > 0) {
            dr->failed += expired;
            vw_log(VW_LOG_ERR, "alerts", "%s: %ld message%s given up after %g h undelivered (recorded as failed)", d->name,
                   expired, expired == 1 ? "" : "s", a->cfg->alerts.give_up_h);
        }
        if (unmarked_id) { /* a message the server took but the outbox could not record as sent */
            if (alerts_outbox_sent(dr->ob, unmarked_id, wall_ns(), unmarked_answer) == 0) {
                vw_log(VW_LOG_NOTICE, "alerts", "%s: alert message %lld recorded as sent at last", d->name,
                       (long long)unmarked_id);
                unmarked_id = 0;
                continue;
            }
            due = now + 1000000000; /* never sent again from here: try the record again in a second */
            goto nap;
        }
        alerts_item it;
        int rc = alerts_outbox_next(dr->ob, d->name, now, &it, &due);
        if (rc == 0) {
            alerts_send_result r;
            dr->attempts++;
            int sr = deliver(d, it.key, it.payload, it.len, &r);
            now = wall_ns();
            int mr;
            if (sr == 0) {
                dr->sent++;
                vw_log_recovered(&rl, "alerts", d->name);
                vw_log(VW_LOG_INFO, "alerts", "%s: alert %lld delivered (%s)", d->name, (long long)it.alert_id, r.answer);
                if (failures) /* back after a failure: what waited goes now, oldest first */
                    alerts_outbox_wake(dr->ob, d->name, now);
                failures = 0;
                if ((mr = alerts_outbox_sent(dr->ob, it.id, now, r.answer)) < 0) {
                    unmarked_id = it.id;
                    snprintf(unmarked_answer, sizeof unmarked_answer, "%s", r.answer);
                    vw_log(VW_LOG_ERR, "alerts", "%s: alert %lld was delivered but cannot be recorded as sent in %s (%s); "
                           "nothing more is sent until it is", d->name, (long long)it.alert_id, a->db_path,
                           alerts_outbox_error(dr->ob));
                }
            } else if (r.retry) { /* the destination is down, not this message: everything waits */
                int64_t next = now + backoff_ns(a, failures++);
                mr = alerts_outbox_retry(dr->ob, it.id, next, r.error, r.answer);
                if (mr == 0 && alerts_outbox_defer(dr->ob, d->name, next, r.error) < 0)
                    mr = -EIO;
                vw_log_failure(&rl, VW_LOG_WARNING, "alerts", "%s: %s; retrying in %.0f s", d->name, r.error,
                               (double)(next - now) / 1e9);
            } else {
                mr = alerts_outbox_failed(dr->ob, it.id, now, r.error, r.answer);
                dr->failed++;
                vw_log(VW_LOG_ERR, "alerts", "%s: alert %lld refused for good: %s", d->name, (long long)it.alert_id, r.error);
            }
            alerts_item_clear(&it);
            if (mr < 0 && sr != 0) { /* the backoff could not be recorded: wait here instead of hammering */
                vw_log_failure(&rl, VW_LOG_ERR, "alerts", "%s: cannot record an attempt in %s (%s)", d->name, a->db_path,
                               alerts_outbox_error(dr->ob));
                due = now + backoff_ns(a, 0);
                goto nap;
            }
            continue;
        }
        if (rc != -ENOENT) {
            vw_log_failure(&rl, VW_LOG_ERR, "alerts", "%s: cannot read the outbox in %s (%s)", d->name, a->db_path,
                           alerts_outbox_error(dr->ob));
            due = now + 1000000000;
        }
    nap:;
        /* sleep until the next attempt is due, a new message is queued, or a second passes */
        int64_t wait = due == INT64_MAX ? 1000000000 : due - wall_ns();
        if (wait > 1000000000)
            wait = 1000000000;
        if (wait <= 0)
            continue;
        pthread_mutex_lock(&dr->lock);
        if (!dr->poke && !a->stop) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            int64_t until = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec + wait;
            ts.tv_sec = (time_t)(until / 1000000000);
            ts.tv_nsec = (long)(until % 1000000000);
            pthread_cond_timedwait(&dr->wake, &dr->lock, &ts);
        }
        dr->poke = false;
        pthread_mutex_unlock(&dr->lock);
    }
    return NULL;
}

/* ---- lifecycle ------------------------------------------------------------------------------ */

static void link_base(const vw_config *c, char *out, size_t n)
{
    if (c->alerts.dashboard_url) {
        snprintf(out, n, "%s", c->alerts.dashboard_url);
        size_t l = strlen(out);
        while (l && out[l - 1] == '/')
            out[--l] = 0;
    } else {
        snprintf(out, n, "http://%s", c->listen && *c->listen ? c->listen : "127.0.0.1:8080");
    }
}

/* The database's salt: random once, kept in alert_state under "#salt". */
static uint64_t db_salt(alerts_outbox *ob)
{
    char *s = NULL;
    uint64_t v = 0;
    if (alerts_outbox_state_get(ob, "#salt", &s) == 0 && s && sscanf(s, "%llx", (unsigned long long *)&v) == 1 && v) {
        free(s);
        return v;
    }
    free(s);
    FILE *f = fopen("/dev/urandom", "rb");
    if (!f || fread(&v, sizeof v, 1, f) != 1)
        v = (uint64_t)wall_ns() ^ ((uint64_t)mono_ns() << 17);
    if (f)
        fclose(f);
    v &= 0xffffffffULL; /* 8 hex digits are plenty and keep the keys short */
    if (!v)
        v = 1;
    char buf[32];
    snprintf(buf, sizeof buf, "%llx", (unsigned long long)v);
    alerts_outbox_state_put(ob, "#salt", buf);
    return v;
}

vw_alerting *vw_alerting_start(const vw_config *cfg, bool replay, char *err, size_t errlen)
{
    vw_alerting *a = calloc(1, sizeof *a);
    if (!a) {
        snprintf(err, errlen, "alerts: out of memory");
        return NULL;
    }
    a->cfg = cfg;
    a->replay = replay;
    pthread_mutex_init(&a->lock, NULL);
    pthread_cond_init(&a->done_cv, NULL);
    snprintf(a->db_path, sizeof a->db_path, "%s/history.sqlite3", cfg->data_dir);
    link_base(cfg, a->link_base, sizeof a->link_base);
    char e2[512];
    if (!(a->ob = alerts_outbox_open(a->db_path, e2, sizeof e2))) {
        snprintf(err, errlen, "alerts: %s", e2);
        goto fail;
    }
    a->salt = db_salt(a->ob);
    const char *names[VW_CFG_MAX_DESTINATIONS];
    for (unsigned k = 0; k < cfg->alerts.ndest; k++)
        names[k] = cfg->alerts.dest[k].name;
    long orphans = alerts_outbox_orphans(a->ob, names, cfg->alerts.ndest, wall_ns());
    for (unsigned k = 0; k < cfg->alerts.ndest; k++) { /* held before a restart: a digest is due */
        alerts_counts cn;
        a->held[k] = alerts_outbox_counts(a->ob, cfg->alerts.dest[k].name, &cn) != 0 || cn.held > 0;
    }
    if (orphans > 0)
        vw_log(VW_LOG_WARNING, "alerts", "%ld waiting message%s of destinations no longer configured given up", orphans,
               orphans == 1 ? "" : "s");
    for (unsigned i = 0; i < cfg->nassets; i++) {
        asset_rt *rt = &a->assets[i];
        rt->cfg = rules_cfg_of(cfg, (int)i);
        rt->nch = cfg->assets[i].nsensors * CH_PER_SENSOR;
        for (unsigned k = 0; k < cfg->assets[i].nsensors; k++)
            rt->sensor_ids[k] = cfg->assets[i].sensors[k].id;
        if (!rt->nch)
            continue;
        if (!(rt->rules = alerts_rules_create(rt->cfg, rt->nch)) || !(rt->mem = calloc(rt->nch, sizeof *rt->mem))) {
            snprintf(err, errlen, "alerts: out of memory");
            goto fail;
        }
        char *saved = NULL;
        if (alerts_outbox_state_get(a->ob, cfg->assets[i].id, &saved) == 0)
            asset_state_restore(a, (int)i, saved);
        free(saved);
    }
    if (!(a->q = vw_queue_new(QUEUE_CAP))) {
        snprintf(err, errlen, "alerts: out of memory");
        goto fail;
    }
    if (pthread_create(&a->rules_thread, NULL, rules_main, a) != 0) {
        snprintf(err, errlen, "alerts: cannot start a thread");
        goto fail;
    }
    a->rules_started = true;
    for (unsigned k = 0; k < cfg->alerts.ndest; k++) {
        dest_rt *dr = &a->dest[k];
        dr->a = a;
        dr->d = &cfg->alerts.dest[k];
        pthread_mutex_init(&dr->lock, NULL);
        pthread_cond_init(&dr->wake, NULL);
        a->ndest = k + 1;
        if (!(dr->ob = alerts_outbox_open(a->db_path, e2, sizeof e2))) {
            snprintf(err, errlen, "alerts: %s", e2);
            goto fail;
        }
        if (pthread_create(&dr->thread, NULL, dest_main, dr) != 0) {
            snprintf(err, errlen, "alerts: cannot start a thread");
            goto fail;
        }
        dr->started = true;
    }
    return a;
fail:
    vw_alerting_stop(a);
    return NULL;
}

long vw_alerting_flush(vw_alerting *a, double timeout_s)
{
    if (!a)
        return 0;
    msg *m = calloc(1, sizeof *m);
    if (m) {
        m->type = M_FLUSH;
        enqueue(a, m, true);
    }
    pthread_mutex_lock(&a->lock);
    while (a->done < a->queued)
        pthread_cond_wait(&a->done_cv, &a->lock);
    pthread_mutex_unlock(&a->lock);
    int64_t end = mono_ns() + (int64_t)(timeout_s * 1e9);
    long pending;
    for (;;) {
        pending = 0;
        for (unsigned k = 0; k < a->ndest; k++) {
            alerts_counts c;
            if (alerts_outbox_counts(a->ob, a->dest[k].d->name, &c) == 0)
                pending += c.pending;
        }
        if (pending == 0 || mono_ns() >= end)
            break;
        struct timespec ts = {0, 50000000};
        nanosleep(&ts, NULL);
    }
    return pending;
}

void vw_alerting_stop(vw_alerting *a)
{
    if (!a)
        return;
    if (a->q)
        vw_queue_close(a->q);
    if (a->rules_started)
        pthread_join(a->rules_thread, NULL);
    a->stop = 1;
    for (unsigned k = 0; k < a->ndest; k++) {
        dest_rt *dr = &a->dest[k];
        pthread_mutex_lock(&dr->lock);
        dr->poke = true;
        pthread_cond_signal(&dr->wake);
        pthread_mutex_unlock(&dr->lock);
        if (dr->started)
            pthread_join(dr->thread, NULL);
        alerts_outbox_close(dr->ob);
        pthread_mutex_destroy(&dr->lock);
        pthread_cond_destroy(&dr->wake);
    }
    if (a->q) {
        msg *m;
        while ((m = vw_queue_pop(a->q)))
            free(m);
        vw_queue_free(a->q);
    }
    for (unsigned i = 0; i < VW_CFG_MAX_ASSETS; i++) {
        alerts_rules_free(a->assets[i].rules);
        free(a->assets[i].mem);
    }
    alerts_outbox_close(a->ob);
    pthread_mutex_destroy(&a->lock);
    pthread_cond_destroy(&a->done_cv);
    free(a);
}

long vw_alerting_failed(vw_alerting *a)
{
    long n = 0;
    for (unsigned k = 0; a && k < a->ndest; k++)
        n += a->dest[k].failed;
    return n;
}

char *vw_alerting_status_json(vw_alerting *a)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    cJSON_AddNumberToObject(o, "alerts", (double)a->alerts_made);
    cJSON_AddNumberToObject(o, "queue_drops", (double)a->dropped);
    cJSON_AddNumberToObject(o, "db_errors", (double)a->db_errors);
    cJSON *ds = cJSON_AddArrayToObject(o, "destinations");
    bool none;
    char err[64];
    alerts_outbox *ob = alerts_outbox_open_readonly(a->db_path, &none, err, sizeof err); /* the caller's own */
    for (unsigned k = 0; k < a->ndest; k++) {
        cJSON *d = cJSON_CreateObject();
        cJSON_AddStringToObject(d, "name", a->dest[k].d->name);
        cJSON_AddStringToObject(d, "type", a->dest[k].d->type == VW_DEST_EMAIL ? "email" : "webhook");
        alerts_counts c;
        if (ob && alerts_outbox_counts(ob, a->dest[k].d->name, &c) == 0) {
            cJSON_AddNumberToObject(d, "pending", c.pending);
            cJSON_AddNumberToObject(d, "held", c.held);
            cJSON_AddNumberToObject(d, "sent", c.sent);
            cJSON_AddNumberToObject(d, "failed", c.failed);
            cJSON_AddNumberToObject(d, "folded", c.folded);
        }
        cJSON_AddNumberToObject(d, "attempts", (double)a->dest[k].attempts);
        cJSON_AddItemToArray(ds, d);
    }
    alerts_outbox_close(ob);
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

/* ---- alert-test ----------------------------------------------------------------------------- */

int vw_alerting_test(const vw_config *cfg, const vw_cfg_destination *d, FILE *out)
{
    char base[VW_CFG_MAX_URI + 64], key[160], err[256] = "";
    link_base(cfg, base, sizeof base);
    int64_t now = wall_ns();
    char box[VW_CFG_MAX_ID + 1];
    box_atom(cfg->box_id, box, sizeof box);
    snprintf(key, sizeof key, "vw.%s.test.%lld", box, (long long)(now / 1000000));
    char subject[512], text[2048], html[4096];
    snprintf(subject, sizeof subject, "[vibewatch] Test notification from %s", cfg->box_name);
    snprintf(text, sizeof text,
             "This is a test notification from the vibewatch box %s (%s), sent with `vibewatch alert-test` to check "
             "the destination \"%s\".\n\nIf you can read this, alerts from this box reach you here.\n\nDashboard: %s\n",
             cfg->box_name, cfg->box_id, d->name, base);
    snprintf(html, sizeof html,
             "<!DOCTYPE html><html><head><meta charset=\"utf-8\"></head><body style=\"font-family:sans-serif\">"
             "<p>This is a test notification from the vibewatch box <b>%s</b>, sent with <code>vibewatch alert-test</code>"
             " to check the destination <b>%s</b>.</p><p>If you can read this, alerts from this box reach you here.</p>"
             "</body></html>",
             cfg->box_id, d->name); /* ids only: they need no HTML escaping */
    size_t len = 0;
    char *payload;
    vw_alerting tmp = {.cfg = cfg};
    snprintf(tmp.link_base, sizeof tmp.link_base, "%s", base);
    if (d->type == VW_DEST_EMAIL) {
        payload = email_payload(&tmp, d, key, NULL, subject, text, html, 0, &len, err, sizeof err);
    } else {
        alerts_var vars[NVARS];
        char num[NVARS][32], sms[256];
        snprintf(sms, sizeof sms, "vibewatch test from %s: alerts reach you here.", cfg->box_name);
        alerts_utf8_truncate(sms, ALERTS_SMS_CHARS);
        fill_vars(vars, num, &tmp, NULL, NULL, "test", key, 0, now);
        vars[V_TEXT].value = sms;
        vars[V_SUBJECT].value = subject;
        vars[V_SUMMARY].value = "test notification";
        payload = webhook_payload(d, vars, &len, err, sizeof err);
    }
    if (!payload) {
        fprintf(out, "%s: cannot build the test message: %s\n", d->name, err);
        return -EINVAL;
    }
    alerts_send_result r;
    int rc = deliver(d, key, payload, len, &r);
    free(payload);
    char where[320];
    alerts_url_shown(d->url, where, sizeof where); /* never the password or a token in the query */
    if (rc == 0)
        fprintf(out, "%s: delivered to %s; the server answered: %s\n", d->name, where, r.answer[0] ? r.answer : "(nothing)");
    else
        fprintf(out, "%s: NOT delivered: %s\n  the server answered: %s\n  %s\n", d->name, r.error,
                r.answer[0] ? r.answer : "(nothing)", r.retry ? "(a box would retry this)" : "(a box would not retry this)");
    return rc;
}

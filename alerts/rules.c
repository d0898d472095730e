/* alerts/rules.c — the alert rules of one asset (rules.h says what they do). Each channel keeps its
 * last raw levels in a small ring; the asset keeps what it notified last. Nothing here knows of
 * time except the data time the caller passes. */
#include "rules.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A channel has two debounced levels, so that a broken sensor is never reported as a machine fault:
 *   - the machine's condition (the monitor, the ISO zone, the temperature): its ring holds the raw
 *     levels of trusted snapshots only. A snapshot in sensor fault is not a measurement of the
 *     machine, so it is left out as if it had not been taken: it can neither raise this level (a
 *     clipped signal's 400 mm/s is not ISO zone D) nor lower or clear it (a sensor that breaks does
 *     not "recover" a machine in alarm). The level measured before the fault holds until trusted
 *     snapshots decide otherwise;
 *   - the sensor fault itself (cfg.sensor_fault): k of the last n snapshots in fault raise it,
 *     clear_n clean ones in a row clear it.
 * The channel's level is the higher of the two (and stopped, from the watchdog). */
typedef struct chan {
    unsigned char raw[ALERTS_MAX_DEBOUNCE]; /* ring of the last raw levels of trusted snapshots, newest at pos-1 */
    unsigned char rawcause[ALERTS_MAX_DEBOUNCE];
    unsigned pos, count;
    enum alerts_level level;                /* the machine's condition, debounced */
    unsigned cause;                         /* ALERTS_CAUSE_* behind `level` */
    enum alerts_level temp;                 /* the temperature's own level, with hysteresis */
    unsigned fault_bits;                    /* the last snapshots, 1: in sensor fault (newest in bit 0) */
    unsigned fault_count;                   /* snapshots in fault_bits (≤ ALERTS_MAX_DEBOUNCE) */
    enum alerts_level fault;                /* the sensor fault's level, debounced (ok or cfg.sensor_fault) */
    bool stopped;
    double last_t;                          /* NAN before the first snapshot */
} chan;

struct alerts_rules {
    alerts_rules_cfg cfg;
    unsigned n;
    enum alerts_level level;                /* the asset's */
    enum alerts_level notified;             /* last notified level */
    double last_notify_h;                   /* NAN: never */
    enum alerts_level peak;                 /* the last level lowered or recovered from, at peak_h: it */
    double peak_h;                          /* counts as notified for min_interval after (NAN: never) */
    int acked;                              /* the level acknowledged, -1: none */
    unsigned prev_ch[ALERTS_MAX_CHANNELS];  /* the channels at the notified level, for lowered/recovered */
    unsigned prev_cause[ALERTS_MAX_CHANNELS];
    unsigned prev_n;
    struct {                                /* what the last notification changed, for alerts_rules_undo */
        bool valid;
        enum alerts_level notified, peak;
        double last_notify_h, peak_h;
        int acked;
        unsigned prev_n;
        unsigned prev_ch[ALERTS_MAX_CHANNELS], prev_cause[ALERTS_MAX_CHANNELS];
    } undo;
    chan ch[];
};

static const char *const level_names[ALERTS_NLEVELS] = {"ok", "watch", "warning", "alarm"};

const char *alerts_level_name(enum alerts_level l)
{
    return (unsigned)l < ALERTS_NLEVELS ? level_names[l] : "?";
}

int alerts_level_parse(const char *s)
{
    if (!s)
        return -1;
    if (strcmp(s, "off") == 0)
        return ALERTS_OK;
    for (int i = 0; i < ALERTS_NLEVELS; i++)
        if (strcmp(s, level_names[i]) == 0)
            return i;
    return -1;
}

const char *alerts_kind_name(enum alerts_kind k)
{
    static const char *const names[] = {"none", "raised", "lowered", "recovered", "repeat"};
    return (unsigned)k < sizeof names / sizeof names[0] ? names[k] : "?";
}

void alerts_rules_cfg_default(alerts_rules_cfg *c)
{
    memset(c, 0, sizeof *c);
    c->debounce_k = 2;
    c->debounce_n = 3;
    c->clear_n = 3;
    c->min_interval_h = 1;
    c->repeat_h[ALERTS_WARNING] = 24;
    c->repeat_h[ALERTS_ALARM] = 4;
    c->sensor_fault = ALERTS_WARNING;
    c->stopped = ALERTS_WARNING;
    c->iso_zone_c = ALERTS_WATCH;
    c->iso_zone_d = ALERTS_ALARM;
    c->temp_warning_c = NAN;
    c->temp_alarm_c = NAN;
    c->temp_hysteresis_c = 5;
}

int alerts_rules_cfg_check(const alerts_rules_cfg *c, char *err, size_t errlen)
{
#define BAD(...) do { snprintf(err, errlen, __VA_ARGS__); return -EINVAL; } while (0)
    if (c->debounce_n < 1 || c->debounce_n > ALERTS_MAX_DEBOUNCE)
        BAD("debounce_n must be 1…%d", ALERTS_MAX_DEBOUNCE);
    if (c->debounce_k < 1 || c->debounce_k > c->debounce_n)
        BAD("debounce_k must be 1…debounce_n (%u)", c->debounce_n);
    if (c->clear_n < 1 || c->clear_n > ALERTS_MAX_DEBOUNCE)
        BAD("clear_n must be 1…%d", ALERTS_MAX_DEBOUNCE);
    if (!(c->min_interval_h >= 0 && c->min_interval_h <= 24 * 30))
        BAD("min_interval_h must be 0…720");
    for (int l = 0; l < ALERTS_NLEVELS; l++)
        if (!(c->repeat_h[l] >= 0 && c->repeat_h[l] <= 24 * 365))
            BAD("repeat_h[%s] must be 0…8760", level_names[l]);
    const enum alerts_level in[] = {c->sensor_fault, c->stopped, c->iso_zone_c, c->iso_zone_d};
    static const char *const in_name[] = {"sensor_fault", "stopped", "iso_zone_c", "iso_zone_d"};
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++)
        if ((unsigned)in[i] >= ALERTS_NLEVELS)
            BAD("%s must be ok, watch, warning or alarm", in_name[i]);
    if (!isnan(c->temp_warning_c) && !isfinite(c->temp_warning_c))
        BAD("temp_warning_c must be a number");
    if (!isnan(c->temp_alarm_c) && !isfinite(c->temp_alarm_c))
        BAD("temp_alarm_c must be a number");
    if (isfinite(c->temp_warning_c) && isfinite(c->temp_alarm_c) && c->temp_alarm_c < c->temp_warning_c)
        BAD("temp_alarm_c (%g) is below temp_warning_c (%g)", c->temp_alarm_c, c->temp_warning_c);
    if (!(c->temp_hysteresis_c >= 0 && c->temp_hysteresis_c <= 100))
        BAD("temp_hysteresis_c must be 0…100");
    return 0;
#undef BAD
}

alerts_rules *alerts_rules_create(const alerts_rules_cfg *cfg, unsigned nchannels)
{
    char err[128];
    if (!cfg || nchannels < 1 || nchannels > ALERTS_MAX_CHANNELS || alerts_rules_cfg_check(cfg, err, sizeof err))
        return NULL;
    alerts_rules *r = calloc(1, sizeof *r + nchannels * sizeof(chan));
    if (!r)
        return NULL;
    r->cfg = *cfg;
    r->n = nchannels;
    r->last_notify_h = NAN;
    r->peak_h = NAN;
    r->acked = -1;
    for (unsigned i = 0; i < nchannels; i++)
        r->ch[i].last_t = NAN;
    return r;
}

void alerts_rules_free(alerts_rules *r) { free(r); }

static void raise_to(enum alerts_level *lvl, unsigned *cause, enum alerts_level l, unsigned c)
{
    if (l == ALERTS_OK)
        return;
    if (l > *lvl) {
        *lvl = l;
        *cause = c;
    } else if (l == *lvl) {
        *cause |= c;
    }
}

/* The temperature's level with its hysteresis: entered at a limit, left hysteresis below it. */
static enum alerts_level temp_level(const alerts_rules_cfg *c, enum alerts_level prev, double t)
{
    if (isnan(t))
        return prev; /* not measured this time: keep what it was */
    double h = c->temp_hysteresis_c;
    if (isfinite(c->temp_alarm_c) && (t >= c->temp_alarm_c || (prev == ALERTS_ALARM && t > c->temp_alarm_c - h)))
        return ALERTS_ALARM;
    if (isfinite(c->temp_warning_c) &&
        (t >= c->temp_warning_c || (prev >= ALERTS_WARNING && t > c->temp_warning_c - h)))
        return ALERTS_WARNING;
    return ALERTS_OK;
}

static unsigned ring_at(const chan *c, unsigned back) /* back 0: newest */
{
    return (c->pos + ALERTS_MAX_DEBOUNCE - 1 - back) % ALERTS_MAX_DEBOUNCE;
}

/* The channel's debounced level from its ring (rules.h). */
static void debounce(const alerts_rules_cfg *cfg, chan *c)
{
    unsigned n = c->count < cfg->debounce_n ? c->count : cfg->debounce_n;
    for (int l = ALERTS_ALARM; l > (int)c->level; l--) { /* rise: k of the last n at or above */
        unsigned hits = 0, cause = 0;
        for (unsigned b = 0; b < n; b++) {
            unsigned i = ring_at(c, b);
            if (c->raw[i] >= l) {
                hits++;
                if (c->raw[i] == l)
                    cause |= c->rawcause[i];
            }
        }
        if (hits >= cfg->debounce_k) {
            c->level = (enum alerts_level)l;
            c->cause = cause ? cause : c->rawcause[ring_at(c, 0)];
            return;
        }
    }
    if (c->level == ALERTS_OK || c->count < cfg->clear_n)
        return;
    unsigned top = 0, cause = 0;
    for (unsigned b = 0; b < cfg->clear_n; b++) { /* fall: clear_n in a row below */
        unsigned i = ring_at(c, b);
        if (c->raw[i] >= c->level)
            return;
        if (c->raw[i] > top) {
            top = c->raw[i];
            cause = 0;
        }
        if (c->raw[i] == top)
            cause |= c->rawcause[i];
    }
    c->level = (enum alerts_level)top;
    c->cause = top ? cause : 0;
}

/* The sensor fault's debounced level from the last snapshots' fault bits (the same k of n and
 * clear_n as the machine's). */
static void debounce_fault(const alerts_rules_cfg *cfg, chan *c)
{
    unsigned n = c->fault_count < cfg->debounce_n ? c->fault_count : cfg->debounce_n, hits = 0;
    for (unsigned b = 0; b < n; b++)
        hits += (c->fault_bits >> b) & 1u;
    if (cfg->sensor_fault == ALERTS_OK)
        c->fault = ALERTS_OK; /* ignored ("off") */
    else if (hits >= cfg->debounce_k)
        c->fault = cfg->sensor_fault;
    else if (c->fault_count >= cfg->clear_n && !(c->fault_bits & ((1u << cfg->clear_n) - 1)))
        c->fault = ALERTS_OK;
}

int alerts_rules_update(alerts_rules *r, unsigned ch, const alerts_input *in)
{
    if (!r || !in || ch >= r->n || !isfinite(in->t_h))
        return -EINVAL;
    chan *c = &r->ch[ch];
    if (!isnan(c->last_t) && in->t_h <= c->last_t)
        return 1;
    c->last_t = in->t_h;
    c->stopped = false; /* a snapshot: this channel's acquisition runs (whatever a saved state said) */
    const alerts_rules_cfg *cfg = &r->cfg;
    c->fault_bits = ((c->fault_bits << 1) | (in->sensor_fault ? 1u : 0u)) & ((1u << ALERTS_MAX_DEBOUNCE) - 1);
    if (c->fault_count < ALERTS_MAX_DEBOUNCE)
        c->fault_count++;
    debounce_fault(cfg, c);
    if (in->sensor_fault)
        return 0; /* not a measurement of the machine: its condition holds (see struct chan) */
    enum alerts_level raw = ALERTS_OK;
    unsigned cause = 0;
    if ((unsigned)in->model < ALERTS_NLEVELS)
        raise_to(&raw, &cause, in->model, ALERTS_CAUSE_MODEL);
    if (in->iso_zone == 3)
        raise_to(&raw, &cause, cfg->iso_zone_c, ALERTS_CAUSE_ISO);
    else if (in->iso_zone >= 4)
        raise_to(&raw, &cause, cfg->iso_zone_d, ALERTS_CAUSE_ISO);
    c->temp = temp_level(cfg, c->temp, in->temp_c);
    raise_to(&raw, &cause, c->temp, ALERTS_CAUSE_TEMP);
    c->raw[c->pos] = (unsigned char)raw;
    c->rawcause[c->pos] = (unsigned char)cause;
    c->pos = (c->pos + 1) % ALERTS_MAX_DEBOUNCE;
    if (c->count < ALERTS_MAX_DEBOUNCE)
        c->count++;
    debounce(cfg, c);
    return 0;
}

int alerts_rules_stopped(alerts_rules *r, unsigned ch, bool stopped)
{
    if (!r || ch >= r->n)
        return -EINVAL;
    r->ch[ch].stopped = stopped;
    return 0;
}

/* A channel's level: its machine's condition, its sensor fault, and a stopped acquisition counted at once. */
static enum alerts_level chan_level(const alerts_rules *r, const chan *c, unsigned *cause)
{
    enum alerts_level l = c->level;
    unsigned cs = c->cause;
    raise_to(&l, &cs, c->fault, ALERTS_CAUSE_SENSOR_FAULT);
    if (c->stopped)
        raise_to(&l, &cs, r->cfg.stopped, ALERTS_CAUSE_STOPPED);
    if (cause)
        *cause = cs;
    return l;
}

static enum alerts_level asset_level(const alerts_rules *r)
{
    enum alerts_level top = ALERTS_OK;
    for (unsigned i = 0; i < r->n; i++) {
        enum alerts_level l = chan_level(r, &r->ch[i], NULL);
        if (l > top)
            top = l;
    }
    return top;
}

static void collect(const alerts_rules *r, enum alerts_level at, unsigned *n, unsigned *chs, unsigned *causes)
{
    *n = 0;
    for (unsigned i = 0; i < r->n; i++) {
        unsigned cs;
        if (chan_level(r, &r->ch[i], &cs) == at && at != ALERTS_OK) {
            chs[*n] = i;
            causes[*n] = cs;
            (*n)++;
        }
    }
}

/* Elapsed data time is compared with this slack (hours, 3.6 µs), so what falls due exactly at 1 h or
 * 4 h on a grid such as 10 minutes (k/6 h) is not put off a snapshot by the subtraction's rounding. */
#define DUE_EPS 1e-9

void alerts_rules_eval(alerts_rules *r, double t_h, bool in_maintenance, alerts_decision *d)
{
    memset(d, 0, sizeof *d);
    enum alerts_level now = asset_level(r);
    d->changed = now != r->level;
    r->level = now;
    d->level = now;
    d->previous = r->notified;
    if (r->acked >= 0 && now > (enum alerts_level)r->acked)
        r->acked = -1; /* worse than acknowledged: repeats resume (a recovered notice clears it too) */
    if (in_maintenance || !isfinite(t_h))
        return;
    const alerts_rules_cfg *c = &r->cfg;
    bool never = isnan(r->last_notify_h);
    double since = never ? INFINITY : t_h - r->last_notify_h;
    bool interval_passed = since >= c->min_interval_h - DUE_EPS;
    /* "above every level notified within min_interval_h": the level notified now, and the one it was
       lowered from if that happened within min_interval_h (else a flap would recover and raise again
       at once, twice per interval) */
    bool peak_fresh = !isnan(r->peak_h) && t_h - r->peak_h < c->min_interval_h - DUE_EPS;
    enum alerts_kind kind = ALERTS_NONE;
    if (now > r->notified) {
        if (interval_passed || !peak_fresh || now > r->peak)
            kind = ALERTS_RAISED;
    } else if (now < r->notified) {
        if (interval_passed)
            kind = now == ALERTS_OK ? ALERTS_RECOVERED : ALERTS_LOWERED;
    } else if (now != ALERTS_OK && c->repeat_h[now] > 0 && r->acked < (int)now &&
               since >= c->repeat_h[now] - DUE_EPS) {
        kind = ALERTS_REPEAT;
    }
    r->undo.valid = false;
    if (kind == ALERTS_NONE)
        return;
    r->undo.valid = true;
    r->undo.notified = r->notified;
    r->undo.peak = r->peak;
    r->undo.last_notify_h = r->last_notify_h;
    r->undo.peak_h = r->peak_h;
    r->undo.acked = r->acked;
    r->undo.prev_n = r->prev_n;
    memcpy(r->undo.prev_ch, r->prev_ch, r->prev_n * sizeof r->prev_ch[0]);
    memcpy(r->undo.prev_cause, r->prev_cause, r->prev_n * sizeof r->prev_cause[0]);
    d->kind = kind;
    if (kind == ALERTS_LOWERED || kind == ALERTS_RECOVERED) {
        d->nchannels = r->prev_n;
        memcpy(d->channels, r->prev_ch, r->prev_n * sizeof d->channels[0]);
        memcpy(d->causes, r->prev_cause, r->prev_n * sizeof d->causes[0]);
    } else {
        collect(r, now, &d->nchannels, d->channels, d->causes);
    }
    if (now != ALERTS_OK) {
        unsigned n;
        collect(r, now, &n, r->prev_ch, r->prev_cause);
        r->prev_n = n;
    } else {
        r->prev_n = 0;
    }
    if (kind == ALERTS_LOWERED || kind == ALERTS_RECOVERED) {
        r->peak = r->notified; /* notified until now */
        r->peak_h = t_h;
    }
    if (kind == ALERTS_RECOVERED)
        r->acked = -1; /* recovery clears the acknowledgement (a flap to ok that was not sent does not) */
    r->notified = now;
    r->last_notify_h = t_h;
}

int alerts_rules_undo(alerts_rules *r)
{
    if (!r || !r->undo.valid)
        return -ENOENT;
    r->notified = r->undo.notified;
    r->peak = r->undo.peak;
    r->last_notify_h = r->undo.last_notify_h;
    r->peak_h = r->undo.peak_h;
    r->acked = r->undo.acked;
    r->prev_n = r->undo.prev_n;
    memcpy(r->prev_ch, r->undo.prev_ch, r->prev_n * sizeof r->prev_ch[0]);
    memcpy(r->prev_cause, r->undo.prev_cause, r->prev_n * sizeof r->prev_cause[0]);
    r->undo.valid = false;
    return 0;
}

enum alerts_level alerts_rules_ack(alerts_rules *r)
{
    if (!r || r->level == ALERTS_OK)
        return ALERTS_OK;
    r->acked = (int)r->level;
    return r->level;
}

enum alerts_level alerts_rules_level(const alerts_rules *r) { return r->level; }
enum alerts_level alerts_rules_notified(const alerts_rules *r) { return r->notified; }
bool alerts_rules_acked(const alerts_rules *r) { return r->acked >= 0; }

enum alerts_level alerts_rules_channel_level(const alerts_rules *r, unsigned ch)
{
    return ch < r->n ? chan_level(r, &r->ch[ch], NULL) : ALERTS_OK;
}

/* ---- state as JSON ------------------------------------------------------------------------- */

static void add_time(cJSON *o, const char *k, double v)
{
    if (isfinite(v))
        cJSON_AddNumberToObject(o, k, v);
    else
        cJSON_AddNullToObject(o, k);
}

char *alerts_rules_to_json(const alerts_rules *r)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    cJSON_AddNumberToObject(o, "version", 1);
    cJSON_AddNumberToObject(o, "channels", r->n);
    cJSON_AddNumberToObject(o, "level", r->level);
    cJSON_AddNumberToObject(o, "notified", r->notified);
    add_time(o, "last_notify_h", r->last_notify_h);
    cJSON_AddNumberToObject(o, "peak", r->peak);
    add_time(o, "peak_h", r->peak_h);
    cJSON_AddNumberToObject(o, "acked", r->acked);
    cJSON *prev = cJSON_AddArrayToObject(o, "prev");
    for (unsigned i = 0; i < r->prev_n; i++) {
        cJSON *pair = cJSON_CreateArray();
        cJSON_AddItemToArray(pair, cJSON_CreateNumber(r->prev_ch[i]));
        cJSON_AddItemToArray(pair, cJSON_CreateNumber(r->prev_cause[i]));
        cJSON_AddItemToArray(prev, pair);
    }
    cJSON *chs = cJSON_AddArrayToObject(o, "ch");
    for (unsigned i = 0; i < r->n; i++) {
        const chan *c = &r->ch[i];
        cJSON *co = cJSON_CreateObject();
        cJSON *raw = cJSON_AddArrayToObject(co, "raw"); /* oldest first */
        for (unsigned b = c->count; b-- > 0;) {
            unsigned k = ring_at(c, b);
            cJSON_AddItemToArray(raw, cJSON_CreateNumber(c->raw[k] | (c->rawcause[k] << 4)));
        }
        cJSON_AddNumberToObject(co, "level", c->level);
        cJSON_AddNumberToObject(co, "cause", c->cause);
        cJSON_AddNumberToObject(co, "temp", c->temp);
        cJSON_AddBoolToObject(co, "stopped", c->stopped);
        cJSON_AddNumberToObject(co, "fault", c->fault);
        cJSON_AddNumberToObject(co, "fault_bits", c->fault_bits);
        cJSON_AddNumberToObject(co, "fault_n", c->fault_count);
        add_time(co, "last_t", c->last_t);
        cJSON_AddItemToArray(chs, co);
    }
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

/* A whole number in [lo, hi] from o[k], or -1. */
static long json_int(const cJSON *o, const char *k, long lo, long hi)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || v->valuedouble < (double)lo ||
        v->valuedouble > (double)hi)
        return lo - 1;
    return (long)v->valuedouble;
}

static double json_time(const cJSON *o, const char *k, bool *ok)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (cJSON_IsNull(v))
        return NAN;
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
        *ok = false;
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

int alerts_rules_restore(alerts_rules *r, const char *json, char *err, size_t errlen)
{
    cJSON *o = cJSON_Parse(json);
    alerts_rules *t = NULL;
    const char *why = "not a JSON object";
    if (!cJSON_IsObject(o))
        goto bad;
    why = "another version or number of channels";
    if (json_int(o, "version", 1, 1) != 1 || json_int(o, "channels", 1, ALERTS_MAX_CHANNELS) != (long)r->n)
        goto bad;
    t = calloc(1, sizeof *t + r->n * sizeof(chan));
    if (!t) {
        why = "out of memory";
        goto bad;
    }
    t->cfg = r->cfg;
    t->n = r->n;
    why = "a malformed field";
    bool ok = true;
    long lv = json_int(o, "level", 0, ALERTS_NLEVELS - 1), nt = json_int(o, "notified", 0, ALERTS_NLEVELS - 1),
         pk = json_int(o, "peak", 0, ALERTS_NLEVELS - 1), ak = json_int(o, "acked", -1, ALERTS_NLEVELS - 1);
    if (lv < 0 || nt < 0 || pk < 0 || ak < -1)
        goto bad;
    t->level = (enum alerts_level)lv;
    t->notified = (enum alerts_level)nt;
    t->peak = (enum alerts_level)pk;
    t->acked = (int)ak;
    t->last_notify_h = json_time(o, "last_notify_h", &ok);
    t->peak_h = json_time(o, "peak_h", &ok);
    const cJSON *prev = cJSON_GetObjectItemCaseSensitive(o, "prev"), *chs = cJSON_GetObjectItemCaseSensitive(o, "ch");
    if (!ok || !cJSON_IsArray(prev) || !cJSON_IsArray(chs) || cJSON_GetArraySize(chs) != (int)r->n ||
        cJSON_GetArraySize(prev) > (int)r->n)
        goto bad;
    const cJSON *pair;
    cJSON_ArrayForEach(pair, prev)
    {
        const cJSON *a = cJSON_GetArrayItem(pair, 0), *b = cJSON_GetArrayItem(pair, 1);
        if (!cJSON_IsNumber(a) || !cJSON_IsNumber(b) || a->valuedouble < 0 || a->valuedouble >= r->n ||
            b->valuedouble < 0 || b->valuedouble > 31)
            goto bad;
        t->prev_ch[t->prev_n] = (unsigned)a->valuedouble;
        t->prev_cause[t->prev_n++] = (unsigned)b->valuedouble;
    }
    unsigned i = 0;
    const cJSON *co;
    cJSON_ArrayForEach(co, chs)
    {
        chan *c = &t->ch[i++];
        const cJSON *raw = cJSON_GetObjectItemCaseSensitive(co, "raw"), *st = cJSON_GetObjectItemCaseSensitive(co, "stopped");
        long cl = json_int(co, "level", 0, ALERTS_NLEVELS - 1), cc = json_int(co, "cause", 0, 31),
             ct = json_int(co, "temp", 0, ALERTS_NLEVELS - 1);
        /* the sensor fault's track (absent from states saved before it existed: no fault) */
        bool has_fault = cJSON_GetObjectItemCaseSensitive(co, "fault") != NULL;
        long cf = has_fault ? json_int(co, "fault", 0, ALERTS_NLEVELS - 1) : 0,
             fb = has_fault ? json_int(co, "fault_bits", 0, (1L << ALERTS_MAX_DEBOUNCE) - 1) : 0,
             fn = has_fault ? json_int(co, "fault_n", 0, ALERTS_MAX_DEBOUNCE) : 0;
        if (!cJSON_IsArray(raw) || cJSON_GetArraySize(raw) > ALERTS_MAX_DEBOUNCE || !cJSON_IsBool(st) || cl < 0 ||
            cc < 0 || ct < 0 || cf < 0 || fb < 0 || fn < 0)
            goto bad;
        const cJSON *v;
        cJSON_ArrayForEach(v, raw)
        {
            if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 511 ||
                ((int)v->valuedouble & 15) >= ALERTS_NLEVELS)
                goto bad;
            c->raw[c->pos] = (unsigned char)((int)v->valuedouble & 15);
            c->rawcause[c->pos] = (unsigned char)((int)v->valuedouble >> 4);
            c->pos = (c->pos + 1) % ALERTS_MAX_DEBOUNCE;
            c->count++;
        }
        c->level = (enum alerts_level)cl;
        c->cause = (unsigned)cc;
        c->temp = (enum alerts_level)ct;
        c->stopped = cJSON_IsTrue(st);
        c->fault = (enum alerts_level)cf;
        c->fault_bits = (unsigned)fb;
        c->fault_count = (unsigned)fn;
        c->last_t = json_time(co, "last_t", &ok);
        if (!ok)
            goto bad;
    }
    memcpy(r, t, sizeof *t + r->n * sizeof(chan));
    free(t);
    cJSON_Delete(o);
    return 0;
bad:
    snprintf(err, errlen, "alert state: %s", why);
    free(t);
    cJSON_Delete(o);
    return -EINVAL;
}

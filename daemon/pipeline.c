/* daemon/pipeline.c — see pipeline.h. */
#include "pipeline.h"

#include "acquisition/selfcheck.h"
#include "acquisition/source.h"
#include "dsp/dsp.h"
#include "dsp/feature_vector.h"
#include "models/monitor.h"
#include "models/prior.h"
#include "log.h"
#include "queue.h"
#include "snapshot_features.h"
#include "alerting.h"
#include "stream.h"
#include "store/history.h"
#include "version.h"

#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>

#define QUEUE_ANALYSIS 16
#define QUEUE_HISTORY 64
#define WORKERS 2
#define MAX_ANALYZERS 64 /* per worker: one per (sensor, channel, length) in use (snapshot and sub-frame) */
#define MAX_SUBFRAMES 32 /* sub-frames analysed per snapshot for the models */
#define MIN_SNAPSHOT 1024 /* samples: the shortest snapshot the analyzer accepts */

const char *const vw_snapshot_feature_names[NFEAT] = {VW_SNAPSHOT_FEATURE_NAMES};

int vw_snapshot_feature_index(const char *name)
{
    for (int k = 0; name && k < NFEAT; k++)
        if (strcmp(name, vw_snapshot_feature_names[k]) == 0)
            return k;
    return -1;
}

/* A snapshot of one sensor (all its channels), from a sensor thread to a worker. */
typedef struct job {
    int asset, sensor;
    int64_t t0_ns;
    double rate_hz;
    size_t n;            /* samples per channel */
    unsigned nch;
    float *x;            /* channel-major: x[c * n + i] */
    double temp_c;
    double full_scale[VW_CFG_MAX_CHANNELS];
    char fault[VW_CFG_MAX_CHANNELS][224]; /* the streaming self-check's reason, "" when ok */
} job;

/* One channel's analysis, from a worker to the sinks. */
typedef struct result {
    int asset, sensor;
    unsigned ch;
    int64_t t_ns;
    double feat[NFEAT];
    char state[32];         /* the monitor's: learning, ok, watch, warning, alarm, sensor_fault */
    char diagnosis[32];     /* the analyzer's fault type ("none", "outer_race", …), "" when not assessed */
    char reason[224];
    models_monitor_output mo;
    bool have_mo;
    bool rebaselined;       /* "maintenance done" started a new baseline with this snapshot */
    char *model_json;       /* a model learned with this snapshot, to keep in the history */
    float *spectrum, *envelope, *wave;
    size_t sbins, ebins, wlen;
    double sdf, edf, rate;
} result;

typedef struct sensor_rt {
    vw_pipeline *p;
    int asset, sensor;
    pthread_t thread;
    bool started;
    _Atomic int ended;
    acq_source *src;
    acq_stats stats;        /* copied under p->lock by the sensor thread */
    char state[24];         /* "starting", "running", "reconnecting", "ended", "failed" */
    char last_error[256];
    double rate_hz;
    uint64_t snapshots, dropped;
    int64_t last_snapshot_ns; /* monotonic time of the last snapshot taken (the alerts' watchdog) */
    bool stopped_reported;    /* the watchdog told the alerts this sensor stopped */
    unsigned nch;           /* the channels recorded: the config's, or every channel of the source */
    unsigned ch[VW_CFG_MAX_CHANNELS];
} sensor_rt;

typedef struct latest {
    int64_t t_ns;
    double feat[NFEAT];
    char state[32];
    char diagnosis[32];
    char reason[224];
    models_monitor_output mo;
    bool have_mo;
    bool have;
    int64_t seen_mono_ns;   /* when the sink took it (wall clock: "last seen") */
} latest;

/* The condition monitor of one channel; used only by the worker its sensor is routed to. */
typedef struct monitor_slot {
    models_monitor *m;
    unsigned maint_seen;    /* the asset's maintenance generation it has acted on */
} monitor_slot;

typedef struct worker_rt {
    vw_pipeline *p;
    int index;
} worker_rt;

struct vw_pipeline {
    const vw_config *cfg;
    vw_pipeline_opts opts;
    vw_queue *analysis[WORKERS], *history; /* a sensor's snapshots all go to one worker: in order */
    worker_rt wrt[WORKERS];
    pthread_t workers[WORKERS], sink;
    int nworkers;
    bool sink_started;
    _Atomic int stop;
    pthread_mutex_t lock;   /* guards sensors[].stats/state, latest[], stored */
    int nsensors;
    sensor_rt sensors[VW_CFG_MAX_ASSETS * VW_CFG_MAX_SENSORS];
    latest *latest;         /* [sensor index][channel] */
    uint64_t stored, store_errors;
    store_history *store;
    int64_t started_ns;
    monitor_slot *mon;      /* [sensor index][channel] */
    models_prior *prior;    /* the models' prior, NULL without */
    int fail_feat;          /* the failure feature's index, -1: the anomaly-based limit */
    _Atomic unsigned maint_gen[VW_CFG_MAX_ASSETS];
    char *maint_by[VW_CFG_MAX_ASSETS];   /* who recorded the last maintenance and their note (under */
    char *maint_note[VW_CFG_MAX_ASSETS]; /* lock; malloc'd, NULL: from the command line) */
    vw_stream *stream;      /* the time-series outputs; used by the sink thread */
    vw_alerting *alerting;  /* the alerts sink; fed by the sink thread */
    pthread_mutex_t publish_lock; /* guards publish/publish_ctx, held while publishing */
    void (*publish)(void *ctx, const char *event, const char *json);
    void *publish_ctx;
};

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The time between an asset's snapshots: the schedule's interval, or the snapshot length when they
 * run back to back. (The schedule is the box's; the API gives it per asset.) */
static double expected_interval_s(const vw_config *c)
{
    return c->schedule.continuous ? c->schedule.snapshot_s : c->schedule.interval_s;
}

/* When an asset without a new snapshot is stale: the acquisition watchdog's rule
 * (alerts.delivery.stopped_after; by default three intervals and a minute), also when that
 * watchdog is turned off ("never"). */
static double stale_after_s(const vw_config *c)
{
    double s = c->alerts.stopped_after_s;
    return isnan(s) || s <= 0 ? 3 * expected_interval_s(c) + 60 : s;
}

static const vw_cfg_sensor *sensor_cfg(const vw_pipeline *p, const sensor_rt *s)
{
    return &p->cfg->assets[s->asset].sensors[s->sensor];
}

static latest *latest_of(vw_pipeline *p, int sensor_index, unsigned ch)
{
    return &p->latest[sensor_index * VW_CFG_MAX_CHANNELS + ch];
}

static void job_free(job *j)
{
    if (j) {
        free(j->x);
        free(j);
    }
}

static void result_free(result *r)
{
    if (r) {
        free(r->spectrum);
        free(r->envelope);
        free(r->wave);
        free(r->model_json);
        free(r);
    }
}

/* ---- sensor threads ----------------------------------------------------------------------- */

static void set_state(sensor_rt *s, const char *state, const char *error)
{
    pthread_mutex_lock(&s->p->lock);
    snprintf(s->state, sizeof s->state, "%s", state);
    if (error)
        snprintf(s->last_error, sizeof s->last_error, "%s", error);
    if (s->src)
        acq_source_stats(s->src, &s->stats);
    pthread_mutex_unlock(&s->p->lock);
}

/* A snapshot cut short at `have` of the `want` samples it was allocated for: the channels'
 * samples are moved together (they are stored channel-major, `want` apart). */
static void shorten(job *j, size_t have, size_t want)
{
    j->n = have;
    for (unsigned c = 1; c < j->nch; c++)
        memmove(j->x + c * have, j->x + c * want, have * sizeof *j->x);
}

/* The data time from which the next snapshot is due after one that started at t0. */
static int64_t next_due_after(const vw_pipeline *p, int64_t t0_ns)
{
    return p->cfg->schedule.continuous ? INT64_MIN : t0_ns + (int64_t)(p->cfg->schedule.interval_s * 1e9);
}

/* Hands a finished snapshot to the workers: waits in replay, drops (counted) live. */
static void submit(sensor_rt *s, job *j)
{
    vw_pipeline *p = s->p;
    vw_queue *q = p->analysis[(s - p->sensors) % WORKERS];
    int rc = p->opts.replay ? vw_queue_push(q, j) : vw_queue_try_push(q, j);
    pthread_mutex_lock(&p->lock);
    if (rc == 0) {
        s->snapshots++;
        s->last_snapshot_ns = mono_ns();
    } else
        s->dropped++;
    pthread_mutex_unlock(&p->lock);
    if (rc != 0) {
        if (rc == -EAGAIN)
            vw_log(VW_LOG_WARNING, "pipeline", "sensor %s: analysis queue full, snapshot dropped", sensor_cfg(p, s)->id);
        job_free(j);
    }
}

static void *sensor_main(void *arg)
{
    sensor_rt *s = arg;
    vw_pipeline *p = s->p;
    const vw_cfg_sensor *sc = sensor_cfg(p, s);
    const acq_info *info = acq_source_info(s->src);
    char err[512];
    size_t want = (size_t)llround(p->cfg->schedule.snapshot_s * info->rate_hz);
    if (want < MIN_SNAPSHOT)
        want = MIN_SNAPSHOT;
    acq_frame *f = acq_frame_new(info->nchan, 4096);
    acq_selfcheck *check = acq_selfcheck_new(info);
    job *cur = NULL;
    size_t have = 0;
    int64_t next_due = INT64_MIN;
    vw_log_limiter rl = {0};
    s->rate_hz = info->rate_hz;
    set_state(s, "running", NULL);
    /* "units" says what a source delivers when it cannot tell; one that knows delivers g */
    double scale[VW_CFG_MAX_CHANNELS];
    for (unsigned c = 0; c < s->nch; c++)
        scale[c] = sc->units_ms2 && strcmp(info->ch[s->ch[c]].unit, "g") != 0 ? 1.0 / DSP_G0 : 1.0;
    int64_t backoff_ns = 100000000;
    while (f && check && !atomic_load(&p->stop)) {
        int rc = acq_read(s->src, f, err, sizeof err);
        if (rc == ACQ_END)
            break;
        if (rc < 0) {
            if (info->finite) {
                vw_log(VW_LOG_ERR, "acquisition", "sensor %s: %s", sc->id, err);
                set_state(s, "failed", err);
                break;
            }
            vw_log_failure(&rl, VW_LOG_WARNING, "acquisition", "sensor %s: %s", sc->id, err);
            set_state(s, "reconnecting", err);
            /* a source that fails at once (an unplugged interface) must not spin: back off */
            struct timespec ts = {(time_t)(backoff_ns / 1000000000), (long)(backoff_ns % 1000000000)};
            nanosleep(&ts, NULL);
            backoff_ns = backoff_ns * 2 > 5000000000LL ? 5000000000LL : backoff_ns * 2;
            continue;
        }
        backoff_ns = 100000000;
        acq_selfcheck_feed(check, f);
        if (rl.failing) {
            char what[96];
            snprintf(what, sizeof what, "sensor %s", sc->id);
            vw_log_recovered(&rl, "acquisition", what);
            set_state(s, "running", NULL);
        }
        /* a gap or a new recording breaks a snapshot in hand; a short recording's snapshot is
         * taken as it is when it holds enough samples to analyse */
        if (cur && (f->flags & (ACQ_FRAME_GAP | ACQ_FRAME_SNAPSHOT))) {
            if (have >= MIN_SNAPSHOT && (f->flags & ACQ_FRAME_SNAPSHOT) && !(f->flags & ACQ_FRAME_GAP)) {
                shorten(cur, have, want);
                next_due = next_due_after(p, cur->t0_ns);
                submit(s, cur);
            } else {
                job_free(cur);
            }
            cur = NULL;
        }
        size_t off = 0;
        while (off < f->nsamp) {
            if (!cur) {
                int64_t t = f->t0_ns + (int64_t)((double)off * 1e9 / info->rate_hz);
                if (t < next_due) {
                    /* skip to the due time within this frame, or the whole frame */
                    double skip = ceil((double)(next_due - t) * info->rate_hz / 1e9);
                    if (skip >= (double)(f->nsamp - off) || (f->flags & ACQ_FRAME_TIMELAPSE))
                        break;
                    off += (size_t)skip;
                    continue;
                }
                cur = calloc(1, sizeof *cur);
                if (cur)
                    cur->x = malloc(want * s->nch * sizeof *cur->x);
                if (!cur || !cur->x) {
                    job_free(cur);
                    cur = NULL;
                    vw_log(VW_LOG_ERR, "pipeline", "sensor %s: out of memory for a snapshot", sc->id);
                    break;
                }
                cur->asset = s->asset;
                cur->sensor = (int)(s - p->sensors);
                cur->t0_ns = t;
                cur->rate_hz = info->rate_hz;
                cur->n = want;
                cur->nch = s->nch;
                cur->temp_c = f->temp_c;
                for (unsigned c = 0; c < s->nch; c++)
                    cur->full_scale[c] = info->ch[s->ch[c]].full_scale * scale[c];
                have = 0;
            }
            size_t take = f->nsamp - off < want - have ? f->nsamp - off : want - have;
            for (unsigned c = 0; c < s->nch; c++) {
                unsigned src_ch = s->ch[c];
                float *dst = cur->x + c * want + have;
                for (size_t i = 0; i < take; i++)
                    dst[i] = (float)(f->samples[(off + i) * f->nchan + src_ch] * scale[c]);
                /* a channel the self-check holds in fault marks the snapshot it is part of */
                const acq_selfcheck_channel *st = acq_selfcheck_channel_status(check, src_ch);
                if (st && st->state == ACQ_SELFCHECK_SENSOR_FAULT && !cur->fault[c][0])
                    snprintf(cur->fault[c], sizeof cur->fault[c], "%s", st->reason);
            }
            if (!isnan(f->temp_c))
                cur->temp_c = f->temp_c;
            have += take;
            off += take;
            if (have == want) {
                next_due = next_due_after(p, cur->t0_ns);
                submit(s, cur);
                cur = NULL;
                if (f->flags & ACQ_FRAME_TIMELAPSE)
                    break; /* the rest of a time-lapse frame belongs to the snapshot just taken */
            }
        }
    }
    /* a recording that ends in the middle of a snapshot: keep it if it can be analysed */
    if (cur && have >= MIN_SNAPSHOT && info->finite && !atomic_load(&p->stop)) {
        shorten(cur, have, want);
        submit(s, cur);
    } else {
        job_free(cur);
    }
    acq_frame_free(f);
    acq_selfcheck_free(check);
    pthread_mutex_lock(&p->lock);
    acq_source_stats(s->src, &s->stats);
    if (strcmp(s->state, "failed") != 0)
        snprintf(s->state, sizeof s->state, "ended");
    pthread_mutex_unlock(&p->lock);
    atomic_store(&s->ended, 1);
    return NULL;
}

/* ---- analysis workers --------------------------------------------------------------------- */

typedef struct analyzer_slot {
    int sensor;
    unsigned ch;
    size_t n;
    double rate;
    dsp_analyzer *a;
} analyzer_slot;

static dsp_analyzer *analyzer_for(vw_pipeline *p, analyzer_slot *slots, int *nslots, const job *j, unsigned ch,
                                  size_t n)
{
    for (int i = 0; i < *nslots; i++)
        if (slots[i].sensor == j->sensor && slots[i].ch == ch && slots[i].n == n && slots[i].rate == j->rate_hz)
            return slots[i].a;
    const sensor_rt *s = &p->sensors[j->sensor];
    const vw_cfg_asset *as = &p->cfg->assets[s->asset];
    const vw_cfg_sensor *sc = &as->sensors[s->sensor];
    dsp_analyzer_config c = {.fs_hz = j->rate_hz, .nsamples = n, .shaft_hz = as->rpm / 60,
                             .speed_min_hz = as->rpm_min / 60, .speed_max_hz = as->rpm_max / 60};
    if (sc->bearing >= 0) {
        c.has_bearing = true;
        c.orders = as->bearings[sc->bearing].orders;
    }
    char err[256];
    dsp_analyzer *a = dsp_analyzer_new(&c, err, sizeof err);
    if (!a) {
        vw_log(VW_LOG_ERR, "analysis", "sensor %s: %s", sc->id, err);
        return NULL;
    }
    int k;
    if (*nslots < MAX_ANALYZERS) {
        k = (*nslots)++;
    } else { /* full: the last slot is recycled (more than 32 lengths in use is unusual) */
        k = MAX_ANALYZERS - 1;
        dsp_analyzer_free(slots[k].a);
    }
    slots[k] = (analyzer_slot){j->sensor, ch, n, j->rate_hz, a};
    return a;
}

static float *copy_floats(const float *x, size_t n)
{
    float *y = n ? malloc(n * sizeof *y) : NULL;
    if (y)
        memcpy(y, x, n * sizeof *y);
    return y;
}

/* The models' view of one snapshot: the feature vector (vw-features-1) of the whole snapshot and
 * of its sub-frames — pieces of length max(MIN_SNAPSHOT, n/8) with 50 % overlap, analysed alone
 * — so that even a baseline of a few sparse snapshots holds dozens of vectors. */
static size_t subframe_vectors(vw_pipeline *p, analyzer_slot *slots, int *nslots, const job *j, unsigned c,
                               double *out)
{
    size_t len = j->n / 8 > MIN_SNAPSHOT ? j->n / 8 : MIN_SNAPSHOT, hop = len / 2, k = 0;
    if (len > j->n)
        return 0;
    dsp_analyzer *a = analyzer_for(p, slots, nslots, j, c, len);
    if (!a)
        return 0;
    for (size_t off = 0; off + len <= j->n && k < MAX_SUBFRAMES; off += hop) {
        dsp_result dr;
        dsp_spectra sp;
        if (dsp_analyze(a, j->x + (size_t)c * j->n + off, &dr) < 0)
            continue;
        dsp_analyzer_spectra(a, &sp);
        if (dsp_features_compute(&dr, &sp, j->temp_c, out + k * DSP_FEATURES_MAX) == 0)
            k++;
    }
    return k;
}

/* Runs the channel's monitor on one analysed snapshot (its features in r->feat). */
static void monitor_job(vw_pipeline *p, analyzer_slot *slots, int *nslots, const job *j, unsigned c,
                        const double *fvec, result *r)
{
    monitor_slot *ms = &p->mon[j->sensor * VW_CFG_MAX_CHANNELS + (int)c];
    if (!ms->m)
        return;
    double t_h = (double)j->t0_ns / 3.6e12;
    unsigned gen = atomic_load(&p->maint_gen[j->asset]);
    if (gen != ms->maint_seen) { /* "maintenance done": a new baseline from this snapshot on */
        ms->maint_seen = gen;
        models_monitor_rebaseline(ms->m, t_h);
        r->rebaselined = true;
    }
    double sub[MAX_SUBFRAMES * DSP_FEATURES_MAX];
    models_monitor_input in = {
        .t_h = t_h,
        .features = fvec,
        .subframes = sub,
        .nsub = strcmp(r->state, "sensor_fault") == 0 ? 0 : subframe_vectors(p, slots, nslots, j, c, sub),
        .shaft_hz = r->feat[F_SHAFT_HZ],
        .failure_value = p->fail_feat >= 0 ? r->feat[p->fail_feat] : NAN,
        .sensor_fault = strcmp(r->state, "sensor_fault") == 0,
        .iso_zone_d = r->feat[F_ISO_ZONE] == 4,
    };
    if (models_monitor_update(ms->m, &in, &r->mo) < 0) {
        vw_log(VW_LOG_WARNING, "models", "sensor %s: a snapshot at or before the previous one was not assessed",
               sensor_cfg(p, &p->sensors[j->sensor])->id);
        return;
    }
    r->have_mo = true;
    if (r->mo.trained)
        r->model_json = models_monitor_to_json(ms->m);
    if (r->mo.message[0])
        vw_log(VW_LOG_WARNING, "models", "sensor %s: %s", sensor_cfg(p, &p->sensors[j->sensor])->id, r->mo.message);
}

static void analyse_job(vw_pipeline *p, analyzer_slot *slots, int *nslots, job *j)
{
    const sensor_rt *s = &p->sensors[j->sensor];
    const vw_cfg_asset *as = &p->cfg->assets[s->asset];
    for (unsigned c = 0; c < j->nch; c++) {
        dsp_analyzer *a = analyzer_for(p, slots, nslots, j, c, j->n);
        result *r = a ? calloc(1, sizeof *r) : NULL;
        if (!r)
            continue;
        const float *x = j->x + (size_t)c * j->n;
        dsp_result dr;
        int rc = dsp_analyze(a, x, &dr);
        r->asset = j->asset;
        r->sensor = j->sensor;
        r->ch = c;
        r->t_ns = j->t0_ns;
        for (int k = 0; k < NFEAT; k++)
            r->feat[k] = NAN;
        if (j->fault[c][0])
            snprintf(r->reason, sizeof r->reason, "%s", j->fault[c]);
        if (j->fault[c][0] || acq_selfcheck_samples(x, j->n, j->full_scale[c], r->reason, sizeof r->reason) != 0 ||
            rc < 0) {
            snprintf(r->state, sizeof r->state, "sensor_fault");
            if (rc < 0)
                snprintf(r->reason, sizeof r->reason, "non-finite samples");
        } else if (dr.has_faults) {
            snprintf(r->diagnosis, sizeof r->diagnosis, "%s", dsp_diagnosis_name(dr.diagnosis));
        }
        double fvec[DSP_FEATURES_MAX];
        for (int k = 0; k < DSP_FEATURES_MAX; k++)
            fvec[k] = NAN;
        if (rc == 0) {
            r->feat[F_ACCEL_RMS] = dr.stats.rms;
            r->feat[F_ACCEL_PEAK] = dr.stats.peak;
            r->feat[F_CREST] = dr.stats.crest;
            r->feat[F_KURTOSIS] = dr.stats.kurtosis;
            r->feat[F_SKEWNESS] = dr.stats.skewness;
            r->feat[F_VEL_RMS] = dr.velocity_rms_mm_s;
            for (int h = 0; h < 3; h++)
                r->feat[F_V1X + h] = dr.shaft_hz > 0 ? dr.harmonics_mm_s[h] : NAN;
            r->feat[F_SHAFT_HZ] = dr.shaft_hz > 0 ? dr.shaft_hz : NAN;
            for (int fam = 0; fam < DSP_NFAMILIES; fam++)
                r->feat[F_BPFO_DB + fam] = dr.has_faults ? dr.faults[fam].strength_db : NAN;
            r->feat[F_BAND_SK] = dr.band_kurtosis;
            char zone = models_iso10816_zone(dr.velocity_rms_mm_s, as->iso_group, as->foundation);
            r->feat[F_ISO_ZONE] = zone >= 'A' && zone <= 'D' ? zone - 'A' + 1 : NAN;
            dsp_spectra sp;
            dsp_analyzer_spectra(a, &sp);
            dsp_features_compute(&dr, &sp, j->temp_c, fvec);
            r->spectrum = copy_floats(sp.accel_amp_g, sp.accel_bins);
            r->sbins = r->spectrum ? sp.accel_bins : 0;
            r->sdf = sp.accel_df_hz;
            r->envelope = copy_floats(sp.env_power, sp.env_bins);
            r->ebins = r->envelope ? sp.env_bins : 0;
            r->edf = sp.env_df_hz;
        }
        r->feat[F_TEMP_C] = j->temp_c;
        monitor_job(p, slots, nslots, j, c, fvec, r);
        if (r->have_mo)
            snprintf(r->state, sizeof r->state, "%s", models_state_name(r->mo.state));
        else if (!r->state[0])
            snprintf(r->state, sizeof r->state, "not_assessed");
        r->wave = copy_floats(x, j->n);
        r->wlen = r->wave ? j->n : 0;
        r->rate = j->rate_hz;
        int qrc = p->opts.replay ? vw_queue_push(p->history, r) : vw_queue_try_push(p->history, r);
        if (qrc != 0) {
            if (qrc == -EAGAIN)
                vw_log(VW_LOG_WARNING, "pipeline", "history queue full: a result was dropped");
            result_free(r);
        }
    }
}

static void *worker_main(void *arg)
{
    worker_rt *w = arg;
    vw_pipeline *p = w->p;
    analyzer_slot slots[MAX_ANALYZERS];
    int nslots = 0;
    job *j;
    while ((j = vw_queue_pop(p->analysis[w->index]))) {
        analyse_job(p, slots, &nslots, j);
        job_free(j);
    }
    for (int i = 0; i < nslots; i++)
        dsp_analyzer_free(slots[i].a);
    return NULL;
}

/* ---- the history sink --------------------------------------------------------------------- */

static void add_num(cJSON *o, const char *key, double v);

void vw_pipeline_set_publish(vw_pipeline *p, void (*fn)(void *ctx, const char *event, const char *json), void *ctx)
{
    pthread_mutex_lock(&p->publish_lock);
    p->publish = fn;
    p->publish_ctx = ctx;
    pthread_mutex_unlock(&p->publish_lock);
}

/* The live update of one stored snapshot (web/API.md: the "snapshot" event). */
static void publish_snapshot(vw_pipeline *p, const result *r, const char *asset, const char *sensor, const char *axis,
                             bool changed)
{
    pthread_mutex_lock(&p->publish_lock);
    if (p->publish) {
        char t[40];
        vw_iso8601(r->t_ns, t, sizeof t);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "asset", asset);
        cJSON_AddStringToObject(o, "sensor", sensor);
        cJSON_AddStringToObject(o, "channel", axis);
        cJSON_AddStringToObject(o, "t", t);
        cJSON_AddStringToObject(o, "state", r->state);
        cJSON_AddBoolToObject(o, "changed", changed);
        add_num(o, "health", r->have_mo ? r->mo.health : NAN);
        add_num(o, "anomaly", r->have_mo ? r->mo.anomaly : NAN);
        add_num(o, "rul_h", r->have_mo ? r->mo.rul_h : NAN);
        add_num(o, "velocity_rms_mm_s", r->feat[F_VEL_RMS]);
        char *text = cJSON_PrintUnformatted(o);
        cJSON_Delete(o);
        if (text)
            p->publish(p->publish_ctx, "snapshot", text);
        free(text);
    }
    pthread_mutex_unlock(&p->publish_lock);
}

static cJSON *features_json(const double *feat)
{
    cJSON *o = cJSON_CreateObject();
    for (int k = 0; k < NFEAT; k++)
        if (isfinite(feat[k]))
            cJSON_AddNumberToObject(o, vw_snapshot_feature_names[k], round(feat[k] * 1e6) / 1e6);
    return o;
}

/* A number rounded to 7 significant digits; NAN and ±INFINITY (beyond the horizon) as null. */
static void add_num(cJSON *o, const char *key, double v)
{
    if (isfinite(v)) {
        char buf[32];
        snprintf(buf, sizeof buf, "%.7g", v);
        cJSON_AddNumberToObject(o, key, strtod(buf, NULL));
    } else {
        cJSON_AddNullToObject(o, key);
    }
}

/* The monitor's fields of a replay line and of the API. */
static void monitor_json(cJSON *o, const models_monitor_output *mo)
{
    if (mo->state == MODELS_ST_LEARNING)
        add_num(o, "progress", mo->progress);
    if (mo->skipped)
        cJSON_AddStringToObject(o, "skipped", mo->skipped);
    if (mo->cause)
        cJSON_AddStringToObject(o, "cause", mo->cause);
    add_num(o, "anomaly", mo->anomaly);
    add_num(o, "threshold", mo->threshold);
    add_num(o, "health", mo->health);
    add_num(o, "rul_h", mo->rul_h);
    add_num(o, "rul_lo_h", mo->rul_lo_h);
    add_num(o, "rul_hi_h", mo->rul_hi_h);
    cJSON_AddStringToObject(o, "rul_basis", models_rul_basis_name(mo->basis));
    add_num(o, "p_fail_7d", mo->p_fail_7d);
    add_num(o, "p_fail_14d", mo->p_fail_14d);
    if (mo->onset) {
        char t[40];
        vw_iso8601((int64_t)llround(mo->onset_h * 3.6e12), t, sizeof t);
        cJSON_AddStringToObject(o, "onset", t);
    }
    if (isfinite(mo->hi))
        add_num(o, "hi", mo->hi);
    if (isfinite(mo->hi_limit))
        add_num(o, "hi_limit", mo->hi_limit);
}

/* {"event": kind, "t", "asset", "sensor", "channel", …} lines of a replay. */
static void print_event_line(vw_pipeline *p, const result *r, const char *axis, const char *kind, const char *from,
                             const char *to)
{
    const sensor_rt *s = &p->sensors[r->sensor];
    const vw_cfg_asset *as = &p->cfg->assets[s->asset];
    char t[40];
    vw_iso8601(r->t_ns, t, sizeof t);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "event", kind);
    cJSON_AddStringToObject(o, "t", t);
    cJSON_AddStringToObject(o, "asset", as->id);
    cJSON_AddStringToObject(o, "sensor", as->sensors[s->sensor].id);
    cJSON_AddStringToObject(o, "channel", axis);
    if (from)
        cJSON_AddStringToObject(o, "from", from);
    if (to)
        cJSON_AddStringToObject(o, "to", to);
    char *line = cJSON_PrintUnformatted(o);
    if (line)
        fprintf(p->opts.json_out, "%s\n", line);
    free(line);
    cJSON_Delete(o);
}

static void print_json_line(vw_pipeline *p, const result *r, const char *axis)
{
    const sensor_rt *s = &p->sensors[r->sensor];
    const vw_cfg_asset *as = &p->cfg->assets[s->asset];
    char t[40];
    vw_iso8601(r->t_ns, t, sizeof t);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "t", t);
    cJSON_AddStringToObject(o, "asset", as->id);
    cJSON_AddStringToObject(o, "sensor", as->sensors[s->sensor].id);
    cJSON_AddStringToObject(o, "channel", axis);
    cJSON_AddStringToObject(o, "state", r->state);
    if (r->reason[0])
        cJSON_AddStringToObject(o, "reason", r->reason);
    if (r->diagnosis[0])
        cJSON_AddStringToObject(o, "diagnosis", r->diagnosis);
    if (r->have_mo)
        monitor_json(o, &r->mo);
    cJSON_AddItemToObject(o, "features", features_json(r->feat));
    char *line = cJSON_PrintUnformatted(o);
    if (line) {
        fprintf(p->opts.json_out, "%s\n", line);
        fflush(p->opts.json_out);
    }
    free(line);
    cJSON_Delete(o);
}

static const char *axis_of(const vw_pipeline *p, const result *r, char *buf, size_t len)
{
    const sensor_rt *s = &p->sensors[r->sensor];
    const vw_cfg_sensor *sc = &p->cfg->assets[s->asset].sensors[s->sensor];
    if (r->ch < sc->nchannels && sc->channel_names[r->ch])
        return sc->channel_names[r->ch];
    snprintf(buf, len, "%u", s->ch[r->ch]);
    return buf;
}

/* The box's own metrics as a JSON object: drops, queue depths, CPU, memory, disk. */
static char *box_metrics_json(vw_pipeline *p)
{
    cJSON *o = cJSON_CreateObject();
    uint64_t dropped = 0, gaps = 0;
    pthread_mutex_lock(&p->lock);
    for (int i = 0; i < p->nsensors; i++) {
        dropped += p->sensors[i].dropped;
        gaps += p->sensors[i].stats.gaps;
    }
    pthread_mutex_unlock(&p->lock);
    cJSON_AddNumberToObject(o, "snapshots_dropped", (double)dropped);
    cJSON_AddNumberToObject(o, "gaps", (double)gaps);
    size_t depth = 0;
    uint64_t drops = vw_queue_drops(p->history);
    for (int w = 0; w < WORKERS; w++) {
        depth += vw_queue_depth(p->analysis[w]);
        drops += vw_queue_drops(p->analysis[w]);
    }
    cJSON_AddNumberToObject(o, "queue_analysis", (double)depth);
    cJSON_AddNumberToObject(o, "queue_history", (double)vw_queue_depth(p->history));
    cJSON_AddNumberToObject(o, "queue_drops", (double)drops);
    struct timespec cpu;
    if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu) == 0)
        cJSON_AddNumberToObject(o, "cpu_s", (double)cpu.tv_sec + (double)cpu.tv_nsec / 1e9);
    FILE *fp = fopen("/proc/self/statm", "r");
    long pages_total, pages_rss;
    if (fp && fscanf(fp, "%ld %ld", &pages_total, &pages_rss) == 2)
        cJSON_AddNumberToObject(o, "rss_bytes", (double)pages_rss * 4096.0);
    if (fp)
        fclose(fp);
    struct statvfs vfs;
    if (statvfs(p->cfg->data_dir, &vfs) == 0)
        cJSON_AddNumberToObject(o, "disk_free_bytes", (double)vfs.f_bavail * (double)vfs.f_frsize);
    if (p->store)
        cJSON_AddNumberToObject(o, "history_bytes", (double)store_history_size_bytes(p->store));
    if (p->stream) {
        uint64_t spool = 0, out_dropped = 0, dead = 0;
        vw_stream_totals(p->stream, &spool, &out_dropped, &dead);
        cJSON_AddNumberToObject(o, "spool_bytes", (double)spool);
        cJSON_AddNumberToObject(o, "output_dropped_bytes", (double)out_dropped);
        cJSON_AddNumberToObject(o, "output_dead_batches", (double)dead);
    }
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

/* The history keeps the monitor's numbers beside the features, so they trend and aggregate too. */
enum { M_ANOMALY, M_THRESHOLD, M_HEALTH, M_HI, M_RUL, M_RUL_LO, M_RUL_HI, M_P7, M_P14, M_SKIPPED, NMON };
#define NSTORED (NFEAT + NMON)
static const char *const stored_names[NSTORED] = {
    VW_SNAPSHOT_FEATURE_NAMES, "anomaly", "threshold", "health", "hi", "rul_h", "rul_lo_h", "rul_hi_h", "p_fail_7d", "p_fail_14d", "skipped"};

static void stored_monitor_values(const result *r, double *v)
{
    for (int k = 0; k < NMON; k++)
        v[k] = NAN;
    if (!r->have_mo)
        return;
    const models_monitor_output *m = &r->mo;
    v[M_ANOMALY] = m->anomaly;
    v[M_THRESHOLD] = m->threshold;
    v[M_HEALTH] = m->health;
    v[M_HI] = m->hi;
    v[M_RUL] = isfinite(m->rul_h) ? m->rul_h : NAN; /* beyond the horizon is not a number to average */
    v[M_RUL_LO] = isfinite(m->rul_lo_h) ? m->rul_lo_h : NAN;
    v[M_RUL_HI] = isfinite(m->rul_hi_h) ? m->rul_hi_h : NAN;
    v[M_P7] = m->p_fail_7d;
    v[M_P14] = m->p_fail_14d;
    v[M_SKIPPED] = m->skipped ? 1 : NAN; /* a restart's catch-up must tell skipped from not scored */
}

static void *sink_main(void *arg)
{
    vw_pipeline *p = arg;
    result *r;
    uint64_t since_prune = 0;
    int64_t next_metrics = 0;
    vw_log_limiter rl = {0};
    while ((r = vw_queue_pop(p->history))) {
        const sensor_rt *s = &p->sensors[r->sensor];
        const vw_cfg_asset *as = &p->cfg->assets[s->asset];
        const vw_cfg_sensor *sc = &as->sensors[s->sensor];
        char axis_buf[16];
        const char *axis = axis_of(p, r, axis_buf, sizeof axis_buf);
        latest *l = latest_of(p, r->sensor, r->ch);
        pthread_mutex_lock(&p->lock);
        char from[32];
        snprintf(from, sizeof from, "%s", r->have_mo ? models_state_name(r->mo.previous) : l->state);
        bool changed = r->have_mo ? r->mo.changed : l->have && strcmp(l->state, r->state) != 0;
        pthread_mutex_unlock(&p->lock);
        if (p->opts.json_out) {
            if (r->rebaselined)
                print_event_line(p, r, axis, "maintenance", NULL, NULL);
            print_json_line(p, r, axis);
            if (changed)
                print_event_line(p, r, axis, "state", from, r->state);
            fflush(p->opts.json_out);
        }
        if (p->opts.on_record) {
            vw_pipeline_record rec = {.asset = as->id, .sensor = sc->id, .channel = axis, .t_ns = r->t_ns,
                                      .features = r->feat, .monitor = r->have_mo ? &r->mo : NULL};
            p->opts.on_record(p->opts.ctx, &rec);
        }
        if (p->store) {
            /* the stream first: spooled before the history commits (stream.h says why) */
            const char *bearing = sc->bearing >= 0 ? as->bearings[sc->bearing].id : NULL;
            vw_stream_point sp = {.t_ns = r->t_ns, .asset = as->id, .sensor = sc->id, .axis = axis,
                                  .bearing = bearing, .features = r->feat, .state = r->state,
                                  .diagnosis = r->diagnosis, .monitor = r->have_mo ? &r->mo : NULL};
            vw_stream_snapshot(p->stream, &sp);
            if (r->rebaselined)
                vw_stream_event(p->stream, r->t_ns, as->id, sc->id, axis, "maintenance", NULL, NULL, "new baseline");
            if (changed)
                vw_stream_event(p->stream, r->t_ns, as->id, sc->id, axis, "state", from, r->state, NULL);
            double stored_feat[NSTORED];
            memcpy(stored_feat, r->feat, sizeof r->feat);
            stored_monitor_values(r, stored_feat + NFEAT);
            store_snapshot ss = {
                .t_ns = r->t_ns, .asset_id = as->id, .sensor_id = sc->id, .channel = axis, .state = r->state,
                .nfeatures = NSTORED, .feature_names = stored_names, .features = stored_feat,
                .spectrum = r->spectrum, .spectrum_bins = r->sbins, .spectrum_df_hz = r->sdf,
                .envelope = r->envelope, .envelope_bins = r->ebins, .envelope_df_hz = r->edf,
            };
            /* raw waveforms on the schedule and around every state change */
            if (changed || store_history_waveform_due(p->store, sc->id, axis, r->t_ns) > 0) {
                ss.waveform = r->wave;
                ss.waveform_len = r->wlen;
                ss.waveform_rate_hz = r->rate;
            }
            char err[512];
            int arc = store_history_add(p->store, &ss, err, sizeof err);
            if (arc == -EEXIST) {
                vw_log(VW_LOG_INFO, "history", "%s", err); /* the same snapshot replayed again: kept once */
            } else if (arc < 0) {
                vw_log_failure(&rl, VW_LOG_ERR, "history", "%s", err);
                pthread_mutex_lock(&p->lock);
                p->store_errors++;
                pthread_mutex_unlock(&p->lock);
            } else {
                vw_log_recovered(&rl, "history", "writing the history");
                pthread_mutex_lock(&p->lock);
                p->stored++;
                pthread_mutex_unlock(&p->lock);
                if (r->model_json &&
                    store_history_model_add(p->store, r->t_ns, sc->id, axis, r->model_json, err, sizeof err) < 0)
                    vw_log(VW_LOG_ERR, "history", "keeping the model of %s/%s: %s", sc->id, axis, err);
                if (r->rebaselined) {
                    cJSON *d = cJSON_CreateObject();
                    cJSON_AddStringToObject(d, "sensor", sc->id);
                    cJSON_AddStringToObject(d, "channel", axis);
                    cJSON_AddStringToObject(d, "action", "new baseline");
                    pthread_mutex_lock(&p->lock);
                    if (p->maint_by[s->asset])
                        cJSON_AddStringToObject(d, "by", p->maint_by[s->asset]);
                    if (p->maint_note[s->asset])
                        cJSON_AddStringToObject(d, "note", p->maint_note[s->asset]);
                    pthread_mutex_unlock(&p->lock);
                    char *detail = cJSON_PrintUnformatted(d);
                    cJSON_Delete(d);
                    if (detail)
                        store_history_event(p->store, r->t_ns, as->id, "maintenance", detail, err, sizeof err);
                    free(detail);
                }
                if (changed) {
                    cJSON *d = cJSON_CreateObject();
                    cJSON_AddStringToObject(d, "sensor", sc->id);
                    cJSON_AddStringToObject(d, "channel", axis);
                    cJSON_AddStringToObject(d, "from", from);
                    cJSON_AddStringToObject(d, "to", r->state);
                    char *detail = cJSON_PrintUnformatted(d);
                    if (detail)
                        store_history_event(p->store, r->t_ns, as->id, "state_change", detail, err, sizeof err);
                    free(detail);
                    cJSON_Delete(d);
                }
            }
            vw_alert_snapshot as_in = {.t_ns = r->t_ns, .asset = s->asset, .sensor = s->sensor, .channel = r->ch,
                                       .axis = axis, .features = r->feat, .state = r->state,
                                       .diagnosis = r->diagnosis, .monitor = r->have_mo ? &r->mo : NULL};
            vw_alerting_snapshot(p->alerting, &as_in);
            if (mono_ns() >= next_metrics) { /* the box's own health, once a minute of wall time */
                next_metrics = mono_ns() + 60000000000LL;
                char *m = box_metrics_json(p);
                cJSON *mj = m ? cJSON_Parse(m) : NULL;
                vw_stream_metrics(p->stream, r->t_ns, mj); /* the stream first, as for snapshots */
                cJSON_Delete(mj);
                if (m)
                    store_history_metrics(p->store, r->t_ns, m, err, sizeof err);
                free(m);
            }
            if (++since_prune >= 20) { /* cheap when there is nothing to prune; keeps the cap tight */
                since_prune = 0;
                char err2[256];
                if (store_history_prune(p->store, r->t_ns, err2, sizeof err2) < 0)
                    vw_log(VW_LOG_WARNING, "history", "pruning: %s", err2);
            }
        } else {
            pthread_mutex_lock(&p->lock);
            p->stored++;
            pthread_mutex_unlock(&p->lock);
        }
        pthread_mutex_lock(&p->lock);
        l->have = true;
        l->t_ns = r->t_ns;
        memcpy(l->feat, r->feat, sizeof l->feat);
        snprintf(l->state, sizeof l->state, "%s", r->state);
        snprintf(l->diagnosis, sizeof l->diagnosis, "%s", r->diagnosis);
        snprintf(l->reason, sizeof l->reason, "%s", r->reason);
        l->have_mo = r->have_mo;
        l->seen_mono_ns = mono_ns();
        if (r->have_mo)
            l->mo = r->mo;
        pthread_mutex_unlock(&p->lock);
        publish_snapshot(p, r, as->id, sc->id, axis, changed);
        result_free(r);
    }
    return NULL;
}

/* ---- lifecycle ---------------------------------------------------------------------------- */

/* Feeds a restored monitor the snapshots the history kept since its model was learned, so that
 * its health window, onset, degradation trend and state go on across a restart. */
typedef struct catch_up_ctx {
    vw_pipeline *p;
    models_monitor *m;
    long fed;
} catch_up_ctx;

static double json_num(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static int catch_up_row(void *ctx, int64_t t_ns, const char *state, const char *features_json)
{
    catch_up_ctx *c = ctx;
    cJSON *f = cJSON_Parse(features_json);
    models_monitor_past past = {
        .t_h = (double)t_ns / 3.6e12,
        .anomaly = json_num(f, "anomaly"),
        .failure_value = c->p->fail_feat >= 0 ? json_num(f, vw_snapshot_feature_names[c->p->fail_feat]) : NAN,
        .iso_zone_d = json_num(f, "iso_zone") == 4,
        .sensor_fault = strcmp(state, "sensor_fault") == 0,
        .skipped = json_num(f, "skipped") == 1,
    };
    cJSON_Delete(f);
    models_monitor_output o;
    if (models_monitor_replay(c->m, &past, &o) == 0)
        c->fed++;
    return 0;
}

static void catch_up(vw_pipeline *p, models_monitor *m, const char *sensor, const char *axis, int64_t model_t)
{
    catch_up_ctx c = {p, m, 0};
    long rows = store_history_trend_since(p->store, sensor, axis, model_t, catch_up_row, &c);
    vw_log(VW_LOG_INFO, "models", "sensor %s channel %s: the baseline model in the history is in use, caught up with "
           "%ld snapshot%s since it was learned", sensor, axis, c.fed, c.fed == 1 ? "" : "s");
    if (rows < 0)
        vw_log(VW_LOG_WARNING, "models", "sensor %s channel %s: reading the history since the model: %s", sensor, axis,
               strerror((int)-rows));
}

/* The API's latest state of a channel from its newest history row, so that a restarted box shows
 * its machines at once rather than "no data yet" until the next snapshot (up to an interval). */
typedef struct seed_ctx {
    vw_pipeline *p;
    latest *l;
} seed_ctx;

static int seed_row(void *ctx, int64_t t_ns, const char *state, const char *features_json)
{
    seed_ctx *c = ctx;
    latest *l = c->l;
    cJSON *f = cJSON_Parse(features_json);
    if (!f)
        return 1;
    for (int k = 0; k < NFEAT; k++)
        l->feat[k] = json_num(f, vw_snapshot_feature_names[k]);
    models_monitor_output *m = &l->mo;
    memset(m, 0, sizeof *m);
    m->anomaly = json_num(f, "anomaly");
    m->threshold = json_num(f, "threshold");
    m->health = json_num(f, "health");
    m->hi = json_num(f, "hi");
    m->hi_limit = NAN;
    m->rul_h = json_num(f, "rul_h");
    m->rul_lo_h = json_num(f, "rul_lo_h");
    m->rul_hi_h = json_num(f, "rul_hi_h");
    m->p_fail_7d = json_num(f, "p_fail_7d");
    m->p_fail_14d = json_num(f, "p_fail_14d");
    m->progress = NAN;
    l->have_mo = !isnan(m->anomaly) || !isnan(m->health);
    cJSON_Delete(f);
    l->t_ns = t_ns;
    snprintf(l->state, sizeof l->state, "%s", state);
    l->have = true;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int64_t age = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec - t_ns; /* live, data time is wall time */
    l->seen_mono_ns = mono_ns() - (age > 0 ? age : 0);
    return 0;
}

static void seed_latest(vw_pipeline *p, int sensor, unsigned ch, const char *sensor_id, const char *axis)
{
    int64_t t = 0;
    char *json = NULL;
    if (store_history_latest(p->store, sensor_id, axis, &t, &json) == 0) {
        seed_ctx c = {p, latest_of(p, sensor, ch)};
        store_history_trend_since(p->store, sensor_id, axis, t, seed_row, &c);
    }
    free(json);
}

/* A monitor per channel, its settings from the config's "models" section; a model kept in the
 * history is restored (a restart does not relearn), one built for other features is refused and
 * relearned. */
static int start_monitors(vw_pipeline *p, char *err, size_t errlen)
{
    const vw_cfg_models *mc = &p->cfg->models;
    p->fail_feat = mc->failure_feature ? vw_snapshot_feature_index(mc->failure_feature) : -1;
    if (mc->prior) {
        p->prior = malloc(sizeof *p->prior);
        char e[512];
        if (!p->prior || models_prior_load(mc->prior, p->prior, e, sizeof e) < 0) {
            snprintf(err, errlen, "models.prior: %s", p->prior ? e : "out of memory");
            return -EINVAL;
        }
        const char *want = mc->failure_feature ? mc->failure_feature : "";
        double want_limit = mc->failure_feature ? mc->failure_limit : mc->failure_multiple;
        if (strcmp(p->prior->feature, want) != 0 || fabs(p->prior->limit - want_limit) > 1e-9 * want_limit) {
            snprintf(err, errlen, "models.prior: %s was fitted for failure at %s %s %g, this box's failure is %s %s %g",
                     mc->prior, p->prior->feature[0] ? p->prior->feature : "anomaly", p->prior->feature[0] ? "=" : "×",
                     p->prior->limit, want[0] ? want : "anomaly", want[0] ? "=" : "×", want_limit);
            return -EINVAL;
        }
    }
    for (int i = 0; i < p->nsensors; i++) {
        const sensor_rt *rt = &p->sensors[i];
        const vw_cfg_asset *as = &p->cfg->assets[rt->asset];
        const vw_cfg_sensor *sc = &as->sensors[rt->sensor];
        for (unsigned c = 0; c < rt->nch; c++) {
            models_monitor_cfg mcfg;
            models_monitor_cfg_default(&mcfg);
            mcfg.baseline_snapshots = mc->baseline_snapshots;
            mcfg.baseline_hours = mc->baseline_hours;
            mcfg.seed = (uint64_t)mc->seed;
            mcfg.health_window = mc->health_window;
            mcfg.onset_k = mc->onset_k;
            mcfg.onset_n = mc->onset_n;
            mcfg.warn_within_h = mc->warn_within_h;
            mcfg.alarm_within_h = mc->alarm_within_h;
            mcfg.p_warn = mc->p_warn;
            mcfg.p_alarm = mc->p_alarm;
            mcfg.have_failure_feature = p->fail_feat >= 0;
            mcfg.failure_limit = mc->failure_limit;
            mcfg.failure_multiple = mc->failure_multiple;
            mcfg.speed_tolerance = mc->speed_tolerance;
            mcfg.stopped_rms_g = mc->stopped_rms_g;
            mcfg.installed_h = as->installed_h;
            mcfg.rpm = as->rpm > 0 ? as->rpm : NAN;
            mcfg.load_n = as->load_n;
            mcfg.onset_ratio = mc->onset_ratio;
            mcfg.prior = p->prior;
            char e[256];
            monitor_slot *ms = &p->mon[i * VW_CFG_MAX_CHANNELS + (int)c];
            ms->m = models_monitor_create(&mcfg, e, sizeof e);
            if (!ms->m) {
                snprintf(err, errlen, "models: %s", e);
                return -EINVAL;
            }
            if (!p->store)
                continue;
            char axis[16], *text = NULL;
            result probe = {.sensor = i, .ch = c};
            const char *ax = axis_of(p, &probe, axis, sizeof axis);
            int64_t model_t = 0, maint_t = 0;
            if (store_history_model_latest(p->store, sc->id, ax, &model_t, &text) == 0) {
                if (store_history_event_last(p->store, as->id, "maintenance", &maint_t) == 0 && maint_t >= model_t)
                    vw_log(VW_LOG_INFO, "models", "sensor %s channel %s: maintenance was done after its model was learned: "
                           "learning a new baseline", sc->id, ax);
                else if (models_monitor_restore(ms->m, text, strlen(text), e, sizeof e) == 0)
                    catch_up(p, ms->m, sc->id, ax, model_t);
                else
                    vw_log(VW_LOG_WARNING, "models", "sensor %s channel %s: the stored model is not used (%s): learning a new baseline",
                           sc->id, ax, e);
            }
            free(text);
            seed_latest(p, i, c, sc->id, ax);
        }
    }
    return 0;
}

vw_pipeline *vw_pipeline_start(const vw_config *cfg, const vw_pipeline_opts *o, char *err, size_t errlen)
{
    vw_pipeline *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    p->cfg = cfg;
    p->opts = *o;
    p->started_ns = mono_ns();
    pthread_mutex_init(&p->lock, NULL);
    pthread_mutex_init(&p->publish_lock, NULL);
    for (unsigned a = 0; a < cfg->nassets; a++)
        for (unsigned s = 0; s < cfg->assets[a].nsensors; s++) {
            sensor_rt *rt = &p->sensors[p->nsensors++];
            rt->p = p;
            rt->asset = (int)a;
            rt->sensor = (int)s;
            snprintf(rt->state, sizeof rt->state, "starting");
        }
    p->latest = calloc((size_t)(p->nsensors ? p->nsensors : 1) * VW_CFG_MAX_CHANNELS, sizeof *p->latest);
    bool queues = true;
    for (int w = 0; w < WORKERS; w++)
        queues = (p->analysis[w] = vw_queue_new(QUEUE_ANALYSIS)) != NULL && queues;
    p->history = vw_queue_new(QUEUE_HISTORY);
    p->mon = calloc((size_t)(p->nsensors ? p->nsensors : 1) * VW_CFG_MAX_CHANNELS, sizeof *p->mon);
    if (!p->latest || !queues || !p->history || !p->mon) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    if (!o->no_history) {
        store_retention ret = {cfg->retention.trend_days, cfg->retention.aggregate_days,
                               cfg->retention.spectra_per_channel, cfg->retention.waveform_interval_h,
                               cfg->retention.waveforms_per_channel, cfg->retention.max_mb};
        p->store = store_history_open(cfg->data_dir, &ret, err, errlen);
        if (!p->store)
            goto fail;
        p->stream = vw_stream_start(cfg, err, errlen);
        if (!p->stream)
            goto fail;
        p->alerting = vw_alerting_start(cfg, o->replay, err, errlen);
        if (!p->alerting)
            goto fail;
    }
    /* open every source before any thread runs, so a mistake is reported at start */
    for (int i = 0; i < p->nsensors; i++) {
        sensor_rt *rt = &p->sensors[i];
        const vw_cfg_sensor *sc = sensor_cfg(p, rt);
        char e[512];
        rt->src = acq_open(sc->source, e, sizeof e);
        if (!rt->src) {
            snprintf(err, errlen, "sensor %s: %s", sc->id, e);
            goto fail;
        }
        const acq_info *info = acq_source_info(rt->src);
        if (sc->nchannels == 0) { /* every channel of the source */
            rt->nch = info->nchan < VW_CFG_MAX_CHANNELS ? info->nchan : VW_CFG_MAX_CHANNELS;
            for (unsigned c = 0; c < rt->nch; c++)
                rt->ch[c] = c;
        } else {
            rt->nch = sc->nchannels;
            memcpy(rt->ch, sc->channels, sizeof rt->ch);
        }
        for (unsigned c = 0; c < rt->nch; c++)
            if (rt->ch[c] >= info->nchan) {
                snprintf(err, errlen, "sensor %s: channel %u: the source has %u channel%s", sc->id, rt->ch[c],
                         info->nchan, info->nchan == 1 ? "" : "s");
                goto fail;
            }
    }
    if (start_monitors(p, err, errlen) < 0)
        goto fail;
    for (int w = 0; w < WORKERS; w++) {
        p->wrt[w] = (worker_rt){p, w};
        if (pthread_create(&p->workers[p->nworkers], NULL, worker_main, &p->wrt[w]) == 0)
            p->nworkers++;
    }
    p->sink_started = pthread_create(&p->sink, NULL, sink_main, p) == 0;
    for (int i = 0; i < p->nsensors; i++)
        p->sensors[i].started = pthread_create(&p->sensors[i].thread, NULL, sensor_main, &p->sensors[i]) == 0;
    return p;
fail:
    vw_pipeline_finish(p);
    return NULL;
}

void vw_pipeline_stop(vw_pipeline *p) { atomic_store(&p->stop, 1); }

bool vw_pipeline_sources_done(vw_pipeline *p)
{
    for (int i = 0; i < p->nsensors; i++)
        if (!atomic_load(&p->sensors[i].ended))
            return false;
    return true;
}

uint64_t vw_pipeline_finish(vw_pipeline *p)
{
    if (!p)
        return 0;
    atomic_store(&p->stop, 1);
    for (int i = 0; i < p->nsensors; i++)
        if (p->sensors[i].started)
            pthread_join(p->sensors[i].thread, NULL);
    /* the snapshots in hand are analysed and stored before the threads go */
    for (int w = 0; w < WORKERS; w++)
        if (p->analysis[w])
            vw_queue_close(p->analysis[w]);
    for (int w = 0; w < p->nworkers; w++)
        pthread_join(p->workers[w], NULL);
    if (p->history)
        vw_queue_close(p->history);
    if (p->sink_started)
        pthread_join(p->sink, NULL);
    if (p->stream && p->opts.replay) { /* a replay ends when its points are in the store, or says what is not */
        uint64_t unsent = vw_stream_flush(p->stream, p->opts.flush_timeout_s);
        if (p->opts.unsent_out)
            *p->opts.unsent_out = unsent;
        if (p->opts.refused_out)
            *p->opts.refused_out = vw_stream_undelivered(p->stream);
    }
    vw_stream_stop(p->stream);
    if (p->alerting && p->opts.replay) { /* the alerts decided are queued, and sent if the servers allow */
        long pending = vw_alerting_flush(p->alerting, p->opts.flush_timeout_s);
        if (p->opts.alerts_pending_out)
            *p->opts.alerts_pending_out = pending;
        if (p->opts.alerts_failed_out)
            *p->opts.alerts_failed_out = vw_alerting_failed(p->alerting);
    }
    vw_alerting_stop(p->alerting);
    job *j;
    for (int w = 0; w < WORKERS; w++)
        while (p->analysis[w] && (j = vw_queue_pop(p->analysis[w])))
            job_free(j);
    result *r;
    while (p->history && (r = vw_queue_pop(p->history)))
        result_free(r);
    for (int i = 0; i < p->nsensors; i++)
        acq_close(p->sensors[i].src);
    store_history_close(p->store);
    for (int w = 0; w < WORKERS; w++)
        vw_queue_free(p->analysis[w]);
    if (p->mon)
        for (int i = 0; i < p->nsensors * VW_CFG_MAX_CHANNELS; i++)
            models_monitor_free(p->mon[i].m);
    free(p->mon);
    free(p->prior);
    vw_queue_free(p->history);
    uint64_t stored = p->stored;
    free(p->latest);
    for (int a = 0; a < VW_CFG_MAX_ASSETS; a++) {
        free(p->maint_by[a]);
        free(p->maint_note[a]);
    }
    pthread_mutex_destroy(&p->lock);
    pthread_mutex_destroy(&p->publish_lock);
    free(p);
    return stored;
}

/* ---- status for the API ------------------------------------------------------------------- */

static cJSON *queue_json(const char *name, vw_queue *q)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", name);
    cJSON_AddNumberToObject(o, "depth", (double)vw_queue_depth(q));
    cJSON_AddNumberToObject(o, "capacity", (double)vw_queue_capacity(q));
    cJSON_AddNumberToObject(o, "dropped", (double)vw_queue_drops(q));
    return o;
}

cJSON *vw_pipeline_status(vw_pipeline *p)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "version", VW_VERSION_STRING);
    cJSON_AddNumberToObject(o, "uptime_s", round((double)(mono_ns() - p->started_ns) / 1e7) / 100);
    cJSON_AddStringToObject(o, "box", p->cfg->box_id);
    cJSON *srcs = cJSON_AddArrayToObject(o, "sources");
    pthread_mutex_lock(&p->lock);
    for (int i = 0; i < p->nsensors; i++) {
        sensor_rt *s = &p->sensors[i];
        if (s->src && !atomic_load(&s->ended))
            acq_source_stats(s->src, &s->stats);
        const vw_cfg_sensor *sc = sensor_cfg(p, s);
        cJSON *x = cJSON_CreateObject();
        cJSON_AddStringToObject(x, "sensor", sc->id);
        cJSON_AddStringToObject(x, "asset", p->cfg->assets[s->asset].id);
        cJSON_AddStringToObject(x, "source", sc->source);
        cJSON_AddStringToObject(x, "state", s->state);
        if (s->last_error[0])
            cJSON_AddStringToObject(x, "last_error", s->last_error);
        cJSON_AddNumberToObject(x, "rate_hz", s->rate_hz);
        cJSON_AddNumberToObject(x, "frames", (double)s->stats.frames);
        cJSON_AddNumberToObject(x, "gaps", (double)s->stats.gaps);
        cJSON_AddNumberToObject(x, "gap_samples", (double)s->stats.gap_samples);
        cJSON_AddNumberToObject(x, "overruns", (double)s->stats.overruns);
        cJSON_AddNumberToObject(x, "disconnects", (double)s->stats.disconnects);
        cJSON_AddNumberToObject(x, "snapshots", (double)s->snapshots);
        cJSON_AddNumberToObject(x, "snapshots_dropped", (double)s->dropped);
        cJSON_AddItemToArray(srcs, x);
    }
    uint64_t stored = p->stored, store_errors = p->store_errors;
    pthread_mutex_unlock(&p->lock);
    cJSON *qs = cJSON_AddArrayToObject(o, "queues");
    for (int w = 0; w < WORKERS; w++) {
        char name[32];
        snprintf(name, sizeof name, "analysis.%d", w);
        cJSON_AddItemToArray(qs, queue_json(name, p->analysis[w]));
    }
    cJSON_AddItemToArray(qs, queue_json("history", p->history));
    cJSON *outs = vw_stream_status(p->stream);
    if (outs)
        cJSON_AddItemToObject(o, "outputs", outs);
    char *al = p->alerting ? vw_alerting_status_json(p->alerting) : NULL;
    cJSON *alj = al ? cJSON_Parse(al) : NULL;
    free(al);
    if (alj)
        cJSON_AddItemToObject(o, "alerts", alj);
    cJSON *h = cJSON_AddObjectToObject(o, "history");
    cJSON_AddNumberToObject(h, "stored", (double)stored);
    cJSON_AddNumberToObject(h, "errors", (double)store_errors);
    cJSON *d = cJSON_AddObjectToObject(o, "disk");
    cJSON_AddStringToObject(d, "data_dir", p->cfg->data_dir);
    struct statvfs vfs;
    if (statvfs(p->cfg->data_dir, &vfs) == 0) {
        cJSON_AddNumberToObject(d, "free_bytes", (double)vfs.f_bavail * (double)vfs.f_frsize);
        cJSON_AddNumberToObject(d, "total_bytes", (double)vfs.f_blocks * (double)vfs.f_frsize);
    }
    return o;
}

/* How much a channel's state asks for attention: the worst decides an asset's colour. */
static int state_rank(const char *st)
{
    static const char *const order[] = {"no_data_yet", "ok", "learning", "stopped", "sensor_fault", "watch", "warning", "alarm", NULL};
    for (int i = 0; order[i]; i++)
        if (strcmp(st, order[i]) == 0)
            return i;
    return 2; /* not_assessed, or a diagnosis without a monitor: with learning */
}

typedef struct asset_sum {
    int rank;
    char state[32], diagnosis[32];
    int64_t t_ns, seen_ns;
    double health, hi, hi_limit, rul_h, rul_lo_h, rul_hi_h, p7, p14, zone, vel;
} asset_sum;

static void sum_channel(asset_sum *a, const latest *l)
{
    int rank = state_rank(l->state);
    if (rank > a->rank) {
        a->rank = rank;
        snprintf(a->state, sizeof a->state, "%s", l->state);
    }
    if (l->diagnosis[0] && (!a->diagnosis[0] || rank >= a->rank))
        snprintf(a->diagnosis, sizeof a->diagnosis, "%s", l->diagnosis);
    if (l->t_ns > a->t_ns)
        a->t_ns = l->t_ns;
    if (l->seen_mono_ns > a->seen_ns)
        a->seen_ns = l->seen_mono_ns;
    if (isfinite(l->feat[F_ISO_ZONE]) && !(l->feat[F_ISO_ZONE] <= a->zone))
        a->zone = l->feat[F_ISO_ZONE];
    if (isfinite(l->feat[F_VEL_RMS]) && !(l->feat[F_VEL_RMS] <= a->vel))
        a->vel = l->feat[F_VEL_RMS];
    if (!l->have_mo)
        return;
    const models_monitor_output *m = &l->mo;
    if (isfinite(m->health) && !(m->health <= a->health)) /* the smoothed anomaly score: higher is worse */
        a->health = m->health;
    if (isfinite(m->hi) && isfinite(m->hi_limit) && m->hi_limit > 0 &&
        !(m->hi / m->hi_limit <= a->hi / a->hi_limit)) { /* the channel nearest its failure limit */
        a->hi = m->hi;
        a->hi_limit = m->hi_limit;
    }
    if (!isnan(m->rul_h) && !(m->rul_h >= a->rul_h)) { /* the shortest life decides, with its interval */
        a->rul_h = m->rul_h;
        a->rul_lo_h = m->rul_lo_h;
        a->rul_hi_h = m->rul_hi_h;
    }
    if (isfinite(m->p_fail_7d) && !(m->p_fail_7d <= a->p7))
        a->p7 = m->p_fail_7d;
    if (isfinite(m->p_fail_14d) && !(m->p_fail_14d <= a->p14))
        a->p14 = m->p_fail_14d;
}

static void channel_json(vw_pipeline *p, cJSON *co, const latest *l, const char *name)
{
    cJSON_AddStringToObject(co, "channel", name);
    if (!l->have) {
        static const char *const none[] = {"t", "age_s", "reason", "diagnosis", "features"};
        cJSON_AddStringToObject(co, "state", "no_data_yet");
        for (size_t k = 0; k < sizeof none / sizeof none[0]; k++)
            cJSON_AddNullToObject(co, none[k]);
        return;
    }
    char t[40];
    vw_iso8601(l->t_ns, t, sizeof t);
    cJSON_AddStringToObject(co, "t", t);
    add_num(co, "age_s", (double)(mono_ns() - l->seen_mono_ns) / 1e9);
    cJSON_AddStringToObject(co, "state", l->state);
    cJSON_AddItemToObject(co, "reason", l->reason[0] ? cJSON_CreateString(l->reason) : cJSON_CreateNull());
    cJSON_AddItemToObject(co, "diagnosis", l->diagnosis[0] ? cJSON_CreateString(l->diagnosis) : cJSON_CreateNull());
    if (l->have_mo)
        monitor_json(co, &l->mo);
    cJSON_AddItemToObject(co, "features", features_json(l->feat));
    (void)p;
}

static const char *const zone_names[] = {"?", "A", "B", "C", "D"};

static void asset_summary_json(cJSON *ao, const asset_sum *a)
{
    cJSON_AddStringToObject(ao, "state", a->state);
    if (a->t_ns > INT64_MIN) {
        char t[40];
        vw_iso8601(a->t_ns, t, sizeof t);
        cJSON_AddStringToObject(ao, "last_seen", t);
        add_num(ao, "age_s", (double)(mono_ns() - a->seen_ns) / 1e9);
    } else {
        cJSON_AddNullToObject(ao, "last_seen");
        cJSON_AddNullToObject(ao, "age_s");
    }
    add_num(ao, "health", a->health);
    add_num(ao, "hi", a->hi);
    add_num(ao, "hi_limit", a->hi_limit);
    add_num(ao, "rul_h", a->rul_h);
    add_num(ao, "rul_lo_h", a->rul_lo_h);
    add_num(ao, "rul_hi_h", a->rul_hi_h);
    add_num(ao, "p_fail_7d", a->p7);
    add_num(ao, "p_fail_14d", a->p14);
    int z = isfinite(a->zone) ? (int)a->zone : 0;
    if (z >= 1 && z <= 4)
        cJSON_AddStringToObject(ao, "iso_zone", zone_names[z]);
    else
        cJSON_AddNullToObject(ao, "iso_zone");
    add_num(ao, "velocity_rms_mm_s", a->vel);
    if (a->diagnosis[0])
        cJSON_AddStringToObject(ao, "diagnosis", a->diagnosis);
    else
        cJSON_AddNullToObject(ao, "diagnosis");
}

/* Worst first: state, then P(7 d), then the shortest RUL. */
static int attention_cmp(const asset_sum *x, const asset_sum *y)
{
    if (x->rank != y->rank)
        return x->rank > y->rank ? -1 : 1;
    double px = isfinite(x->p7) ? x->p7 : 0, py = isfinite(y->p7) ? y->p7 : 0;
    if (px != py)
        return px > py ? -1 : 1;
    double rx = isnan(x->rul_h) ? INFINITY : x->rul_h, ry = isnan(y->rul_h) ? INFINITY : y->rul_h;
    return rx < ry ? -1 : rx > ry ? 1 : 0;
}

static cJSON *asset_json(vw_pipeline *p, unsigned a, int idx, asset_sum *sum)
{
    const vw_cfg_asset *as = &p->cfg->assets[a];
    cJSON *ao = cJSON_CreateObject();
    cJSON_AddStringToObject(ao, "id", as->id);
    cJSON_AddStringToObject(ao, "name", as->name);
    cJSON_AddStringToObject(ao, "type", as->type);
    /* how often its snapshots come, and when their absence means trouble (the dashboard's "stale") */
    cJSON_AddNumberToObject(ao, "interval_s", expected_interval_s(p->cfg));
    cJSON_AddNumberToObject(ao, "stale_after_s", stale_after_s(p->cfg));
    *sum = (asset_sum){.rank = -1, .t_ns = INT64_MIN, .health = NAN, .hi = NAN, .hi_limit = NAN, .rul_h = NAN, .rul_lo_h = NAN,
                       .rul_hi_h = NAN, .p7 = NAN, .p14 = NAN, .zone = NAN, .vel = NAN};
    cJSON *ss = cJSON_CreateArray();
    for (unsigned s = 0; s < as->nsensors; s++, idx++) {
        const vw_cfg_sensor *sc = &as->sensors[s];
        const sensor_rt *rt = &p->sensors[idx];
        cJSON *so = cJSON_CreateObject();
        cJSON_AddStringToObject(so, "id", sc->id);
        cJSON_AddStringToObject(so, "name", sc->name);
        if (sc->mounting)
            cJSON_AddStringToObject(so, "mounting", sc->mounting);
        cJSON_AddNumberToObject(so, "rate_hz", rt->rate_hz);
        cJSON_AddStringToObject(so, "source_state", rt->state);
        if (sc->bearing >= 0)
            cJSON_AddStringToObject(so, "bearing", as->bearings[sc->bearing].id);
        cJSON *chs = cJSON_AddArrayToObject(so, "channels");
        for (unsigned c = 0; c < rt->nch; c++) {
            const latest *l = latest_of(p, idx, c);
            char buf[16];
            const char *name = c < sc->nchannels && sc->channel_names[c] ? sc->channel_names[c] : buf;
            snprintf(buf, sizeof buf, "%u", rt->ch[c]);
            cJSON *co = cJSON_CreateObject();
            channel_json(p, co, l, name);
            if (l->have)
                sum_channel(sum, l);
            else if (sum->rank < 0) {
                sum->rank = 0;
                snprintf(sum->state, sizeof sum->state, "no_data_yet");
            }
            cJSON_AddItemToArray(chs, co);
        }
        cJSON_AddItemToArray(ss, so);
    }
    if (sum->rank < 0) {
        sum->rank = 0;
        snprintf(sum->state, sizeof sum->state, "no_data_yet");
    }
    asset_summary_json(ao, sum);
    cJSON_AddItemToObject(ao, "sensors", ss);
    return ao;
}

/* The index of the first sensor of asset a in p->sensors. */
static int first_sensor_of(const vw_pipeline *p, unsigned a)
{
    int idx = 0;
    for (unsigned k = 0; k < a; k++)
        idx += (int)p->cfg->assets[k].nsensors;
    return idx;
}

cJSON *vw_pipeline_assets(vw_pipeline *p)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(root, "assets");
    asset_sum sums[VW_CFG_MAX_ASSETS];
    unsigned order[VW_CFG_MAX_ASSETS], n = p->cfg->nassets;
    pthread_mutex_lock(&p->lock);
    for (unsigned a = 0; a < n; a++)
        cJSON_AddItemToArray(arr, asset_json(p, a, first_sensor_of(p, a), &sums[a]));
    pthread_mutex_unlock(&p->lock);
    for (unsigned a = 0; a < n; a++) { /* insertion sort: a few dozen assets at most */
        unsigned k = a;
        while (k > 0 && attention_cmp(&sums[a], &sums[order[k - 1]]) < 0) {
            order[k] = order[k - 1];
            k--;
        }
        order[k] = a;
    }
    cJSON *att = cJSON_AddArrayToObject(root, "attention");
    for (unsigned k = 0; k < n; k++)
        if (state_rank(sums[order[k]].state) >= state_rank("sensor_fault") ||
            (isfinite(sums[order[k]].p7) && sums[order[k]].p7 >= 0.05))
            cJSON_AddItemToArray(att, cJSON_CreateString(p->cfg->assets[order[k]].id));
    return root;
}

cJSON *vw_pipeline_asset(vw_pipeline *p, const char *asset_id)
{
    for (unsigned a = 0; a < p->cfg->nassets; a++) {
        if (strcmp(p->cfg->assets[a].id, asset_id) != 0)
            continue;
        asset_sum sum;
        pthread_mutex_lock(&p->lock);
        cJSON *ao = asset_json(p, a, first_sensor_of(p, a), &sum);
        double shaft = NAN;
        int idx = first_sensor_of(p, a);
        for (unsigned s = 0; s < p->cfg->assets[a].nsensors; s++)
            for (unsigned c = 0; c < p->sensors[idx + (int)s].nch; c++) {
                const latest *l = latest_of(p, idx + (int)s, c);
                if (l->have && isfinite(l->feat[F_SHAFT_HZ]) && isnan(shaft))
                    shaft = l->feat[F_SHAFT_HZ];
            }
        pthread_mutex_unlock(&p->lock);
        add_num(ao, "shaft_hz", shaft);
        return ao;
    }
    return NULL;
}

void vw_pipeline_summary(vw_pipeline *p, char *buf, size_t len)
{
    uint64_t snaps = 0, dropped = 0;
    int running = 0;
    pthread_mutex_lock(&p->lock);
    for (int i = 0; i < p->nsensors; i++) {
        snaps += p->sensors[i].snapshots;
        dropped += p->sensors[i].dropped;
        running += strcmp(p->sensors[i].state, "running") == 0;
    }
    uint64_t stored = p->stored;
    pthread_mutex_unlock(&p->lock);
    snprintf(buf, len, "%d of %d sensors running; %llu snapshots, %llu stored, %llu dropped", running, p->nsensors,
             (unsigned long long)snaps, (unsigned long long)stored, (unsigned long long)dropped);
}

int vw_pipeline_maintenance(vw_pipeline *p, const char *asset_id)
{
    return vw_pipeline_maintenance_by(p, asset_id, NULL, NULL);
}

int vw_pipeline_maintenance_by(vw_pipeline *p, const char *asset_id, const char *user, const char *note)
{
    for (unsigned a = 0; a < p->cfg->nassets; a++)
        if (strcmp(p->cfg->assets[a].id, asset_id) == 0) {
            char *by = user ? strdup(user) : NULL, *text = note && *note ? strdup(note) : NULL;
            pthread_mutex_lock(&p->lock);
            free(p->maint_by[a]);
            free(p->maint_note[a]);
            p->maint_by[a] = by;
            p->maint_note[a] = text;
            pthread_mutex_unlock(&p->lock);
            atomic_fetch_add(&p->maint_gen[a], 1);
            vw_log(VW_LOG_NOTICE, "models", "asset %s: maintenance done: every channel learns a new baseline from its next snapshot",
                   asset_id);
            return 0;
        }
    return -ENOENT;
}

int vw_pipeline_ack(vw_pipeline *p, const char *asset_id, const char *user, const char *note)
{
    if (!vw_config_asset(p->cfg, asset_id))
        return -ENOENT;
    return p->alerting ? vw_alerting_ack(p->alerting, asset_id, user, note) : -ENOTSUP;
}

void vw_pipeline_watchdog(vw_pipeline *p)
{
    if (!p->alerting || p->opts.replay)
        return;
    double after_s = p->cfg->alerts.stopped_after_s;
    if (isnan(after_s)) /* default: three snapshot intervals and a minute */
        after_s = 3 * expected_interval_s(p->cfg) + 60;
    if (after_s <= 0)
        return;
    int64_t now = mono_ns();
    for (int i = 0; i < p->nsensors; i++) {
        sensor_rt *s = &p->sensors[i];
        pthread_mutex_lock(&p->lock);
        int64_t since = s->last_snapshot_ns ? s->last_snapshot_ns : p->started_ns;
        bool stopped = (double)(now - since) / 1e9 > after_s;
        pthread_mutex_unlock(&p->lock);
        /* only this thread reads and writes stopped_reported; a full queue: told at the next call */
        if (stopped != s->stopped_reported && vw_alerting_stopped(p->alerting, s->asset, s->sensor, stopped) == 0)
            s->stopped_reported = stopped;
    }
}

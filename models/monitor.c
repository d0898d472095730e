/* models/monitor.c — see monitor.h.
 *
 * Model file ("vibewatch-monitor", version 1):
 *   { "format": "vibewatch-monitor", "version": 1, "feature_schema": "vw-features-1",
 *     "baseline": { "snapshots": n, "vectors": m, "from_h": …, "to_h": …,
 *                   "failure_ref": median failure feature or null, "shaft_hz_ref": … or null },
 *     "autoencoder": { the models/autoencoder_io.c file, whose feature names are the inputs } } */
#include "models/monitor.h"

#include "dsp/feature_vector.h"
#include "models/autoencoder.h"
#include "models/numeric.h"

#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NF DSP_FEATURES_MAX
#define MAX_BASE_SNAPS 4096 /* baseline references (speed, failure feature) kept at most */

struct models_monitor {
    models_monitor_cfg cfg;
    models_prior prior;
    bool have_prior;
    /* learning */
    bool learning;
    float *vec;                /* max_vectors × NF (NAN kept: selection happens at training) */
    size_t nvec, nsnap;
    double learn_from_h, learn_to_h;
    double *base_fail, *base_shaft; /* per accepted baseline snapshot */
    size_t nbase_fail, nbase_shaft;
    /* the model */
    models_ae *ae;
    size_t d;
    int in_feat[MODELS_AE_MAX_DIM];
    bool in_ln[MODELS_AE_MAX_DIM];
    float x[MODELS_AE_MAX_DIM];
    double failure_ref, shaft_ref, threshold;
    size_t model_snaps, model_vectors;
    double model_from_h, model_to_h;
    /* monitoring */
    double ring_anom[MODELS_MON_MAX_WINDOW], ring_fail[MODELS_MON_MAX_WINDOW];
    size_t n_anom, n_fail;
    bool ring_exceed[MODELS_MON_MAX_WINDOW], ring_zone_d[MODELS_MON_MAX_WINDOW];
    size_t n_exceed, n_zone_d;
    size_t quiet;              /* consecutive snapshots without the k-of-n rule */
    bool onset;
    double onset_h;
    models_deg deg;
    /* time and state */
    double installed_h, last_t_h;
    bool have_t;
    enum models_state state;    /* the last reported */
    enum models_state assessed; /* the last one decided from the vibration (not sensor_fault) */
    bool have_state, have_assessed;
    double progress;            /* of the baseline, 0…1 */
};

const char *models_state_name(enum models_state s)
{
    static const char *const n[] = {"learning", "ok", "watch", "warning", "alarm", "sensor_fault"};
    return (unsigned)s < sizeof n / sizeof n[0] ? n[s] : "unknown";
}

const char *models_rul_basis_name(enum models_rul_basis b)
{
    return b == MODELS_RUL_TREND ? "trend" : b == MODELS_RUL_PRIOR ? "prior" : "null";
}

void models_monitor_cfg_default(models_monitor_cfg *c)
{
    memset(c, 0, sizeof *c);
    c->baseline_snapshots = 30;
    c->seed = 1;
    c->health_window = 5;
    c->onset_k = 3;
    c->onset_n = 5;
    c->warn_within_h = 336;
    c->alarm_within_h = 168;
    c->p_warn = 0.5;
    c->p_alarm = 0.5;
    c->failure_multiple = 10;
    c->speed_tolerance = 0.1;
    c->stopped_rms_g = 0.005;
    c->installed_h = NAN;
    c->max_vectors = 20000;
    c->trend_min_points = 5;
    c->significance_z = 1.645;
    c->onset_ratio = 2;
    c->rpm = NAN;
    c->load_n = NAN;
}

static int check_cfg(const models_monitor_cfg *c, char *err, size_t errlen)
{
#define BAD(...) do { snprintf(err, errlen, __VA_ARGS__); return -EINVAL; } while (0)
    if (c->baseline_snapshots < MODELS_MON_MIN_BASELINE && !(c->baseline_hours > 0))
        BAD("baseline_snapshots must be at least %d", MODELS_MON_MIN_BASELINE);
    if (!(c->baseline_hours >= 0) || !isfinite(c->baseline_hours))
        BAD("baseline_hours must be ≥ 0");
    if (c->health_window < 1 || c->health_window > MODELS_MON_MAX_WINDOW)
        BAD("health_window must be in 1…%d", MODELS_MON_MAX_WINDOW);
    if (c->onset_n < 1 || c->onset_n > MODELS_MON_MAX_WINDOW || c->onset_k < 1 || c->onset_k > c->onset_n)
        BAD("onset needs 1 ≤ k ≤ n ≤ %d (k = %u, n = %u)", MODELS_MON_MAX_WINDOW, c->onset_k, c->onset_n);
    if (!(c->warn_within_h > 0) || !(c->alarm_within_h > 0) || !isfinite(c->warn_within_h) ||
        !isfinite(c->alarm_within_h))
        BAD("the warning and alarm horizons must be positive");
    if (!(c->p_warn > 0 && c->p_warn < 1) || !(c->p_alarm > 0 && c->p_alarm < 1))
        BAD("p_warn and p_alarm must be in (0, 1)");
    if (c->have_failure_feature && !(c->failure_limit > 0 && isfinite(c->failure_limit)))
        BAD("the failure limit must be a positive number");
    if (!(c->failure_multiple > 1) || !isfinite(c->failure_multiple))
        BAD("failure_multiple must be > 1");
    if (!(c->speed_tolerance > 0 && c->speed_tolerance < 1))
        BAD("speed_tolerance must be in (0, 1)");
    if (!(c->stopped_rms_g >= 0) || !isfinite(c->stopped_rms_g))
        BAD("stopped_rms_g must be ≥ 0");
    if (c->max_vectors < 64 || c->max_vectors > MODELS_AE_MAX_VECTORS)
        BAD("max_vectors must be in 64…%d", MODELS_AE_MAX_VECTORS);
    if (c->trend_min_points < 3)
        BAD("trend_min_points must be at least 3");
    if (!(c->significance_z > 0) || !isfinite(c->significance_z))
        BAD("significance_z must be positive");
    if (!(c->onset_ratio >= 1) || !isfinite(c->onset_ratio))
        BAD("onset_ratio must be at least 1");
    return 0;
#undef BAD
}

static void reset_monitoring(models_monitor *m)
{
    m->n_anom = m->n_fail = m->n_exceed = m->n_zone_d = 0;
    m->quiet = 0;
    m->onset = false;
    m->onset_h = NAN;
    models_deg_init(&m->deg, m->have_prior && m->prior.have_deg ? &m->prior.deg : NULL);
}

static void start_learning(models_monitor *m)
{
    models_ae_free(m->ae);
    m->ae = NULL;
    m->learning = true;
    m->nvec = m->nsnap = m->nbase_fail = m->nbase_shaft = 0;
    m->learn_from_h = m->learn_to_h = NAN;
    m->progress = 0;
    reset_monitoring(m);
}

models_monitor *models_monitor_create(const models_monitor_cfg *cfg, char *err, size_t errlen)
{
    models_monitor_cfg def;
    if (!cfg) {
        models_monitor_cfg_default(&def);
        cfg = &def;
    }
    if (check_cfg(cfg, err, errlen) < 0)
        return NULL;
    if (cfg->prior) {
        char why[160];
        if (cfg->prior->have_deg && models_deg_prior_check(&cfg->prior->deg, why, sizeof why) < 0) {
            snprintf(err, errlen, "prior: %s", why);
            return NULL;
        }
    }
    models_monitor *m = calloc(1, sizeof *m);
    if (!m) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    m->cfg = *cfg;
    if (cfg->prior) {
        m->prior = *cfg->prior;
        m->have_prior = true;
    }
    m->cfg.prior = NULL;
    m->base_fail = malloc(MAX_BASE_SNAPS * sizeof *m->base_fail);
    m->base_shaft = malloc(MAX_BASE_SNAPS * sizeof *m->base_shaft);
    if (!m->base_fail || !m->base_shaft) {
        models_monitor_free(m);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    m->installed_h = cfg->installed_h;
    m->failure_ref = m->shaft_ref = m->threshold = NAN;
    start_learning(m);
    return m;
}

void models_monitor_free(models_monitor *m)
{
    if (!m)
        return;
    models_ae_free(m->ae);
    free(m->vec);
    free(m->base_fail);
    free(m->base_shaft);
    free(m);
}

bool models_monitor_learning(const models_monitor *m) { return m->learning; }

void models_monitor_rebaseline(models_monitor *m, double t_h)
{
    start_learning(m);
    m->installed_h = t_h;
}

/* ---- helpers ---- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median of the finite values of v[0..n) (sorted in place); NAN when none. */
static double median_inplace(double *v, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(v[i]))
            v[k++] = v[i];
    if (!k)
        return NAN;
    qsort(v, k, sizeof *v, cmp_double);
    return k % 2 ? v[k / 2] : 0.5 * (v[k / 2 - 1] + v[k / 2]);
}

/* Median of the last `w` entries of a ring of capacity MODELS_MON_MAX_WINDOW holding n values. */
static double ring_median(const double *ring, size_t n, size_t w)
{
    double tmp[MODELS_MON_MAX_WINDOW];
    size_t k = n < w ? n : w;
    for (size_t i = 0; i < k; i++)
        tmp[i] = ring[(n - 1 - i) % MODELS_MON_MAX_WINDOW];
    return median_inplace(tmp, k);
}

static bool is_ln_feature(int f)
{
    return f == DSP_FEAT_KURTOSIS || f == DSP_FEAT_CREST || f == DSP_FEAT_VELOCITY_RMS_MM_S ||
           f == DSP_FEAT_ACCEL_RMS_G;
}

/* The model's input vector from one feature row; false when an input is not finite. */
static bool make_input(models_monitor *m, const double *row)
{
    for (size_t i = 0; i < m->d; i++) {
        double v = row[m->in_feat[i]];
        if (m->in_ln[i])
            v = v > 0 ? log(v) : NAN;
        if (!isfinite(v))
            return false;
        m->x[i] = (float)v;
    }
    return true;
}

/* Maps the autoencoder's input names back to features ("ln_kurtosis" → ln of kurtosis). */
static int map_inputs(models_ae *ae, int *in_feat, bool *in_ln, size_t *dim, char *err, size_t errlen)
{
    size_t d = models_ae_dim(ae);
    for (size_t i = 0; i < d; i++) {
        const char *name = models_ae_feature_name(ae, i);
        bool ln = strncmp(name, "ln_", 3) == 0;
        int f = dsp_features_index(ln ? name + 3 : name);
        if (f < 0 || (ln && !is_ln_feature(f))) {
            snprintf(err, errlen, "model input \"%s\" is not a feature of %s", name, DSP_FEATURES_SCHEMA);
            return -EINVAL;
        }
        in_feat[i] = f;
        in_ln[i] = ln;
    }
    *dim = d;
    return 0;
}

/* ---- training ---- */

static int train(models_monitor *m, char *msg, size_t msglen)
{
    /* inputs: finite in ≥ 95 % of the vectors, not constant, bands not empty */
    int feat[NF];
    bool ln[NF];
    size_t d = 0;
    for (int f = 0; f < NF; f++) {
        size_t finite = 0;
        double lo = INFINITY, hi = -INFINITY;
        bool want_ln = is_ln_feature(f);
        for (size_t i = 0; i < m->nvec; i++) {
            double v = m->vec[i * NF + (size_t)f];
            if (want_ln)
                v = v > 0 ? log(v) : NAN;
            if (isfinite(v)) {
                finite++;
                lo = fmin(lo, v);
                hi = fmax(hi, v);
            }
        }
        if (finite * 100 < m->nvec * 95 || !(hi - lo > 1e-6 * fmax(1, fabs(hi))))
            continue;
        if (f < DSP_FEAT_ENV0 && hi <= -150) /* a band that is empty (-200 dB) in the baseline */
            continue;
        feat[d] = f;
        ln[d] = want_ln;
        d++;
    }
    if (d < 2) {
        snprintf(msg, msglen, "the baseline varies in only %zu feature%s: nothing to learn from", d, d == 1 ? "" : "s");
        return -EINVAL;
    }
    float *x = malloc(m->nvec * d * sizeof *x);
    if (!x) {
        snprintf(msg, msglen, "out of memory");
        return -ENOMEM;
    }
    size_t n = 0;
    for (size_t i = 0; i < m->nvec; i++) {
        bool ok = true;
        for (size_t j = 0; j < d && ok; j++) {
            double v = m->vec[i * NF + (size_t)feat[j]];
            if (ln[j])
                v = v > 0 ? log(v) : NAN;
            ok = isfinite(v);
            x[n * d + j] = (float)v;
        }
        n += ok;
    }
    char names_buf[NF][MODELS_AE_NAME_MAX];
    const char *names[NF];
    for (size_t j = 0; j < d; j++) {
        snprintf(names_buf[j], sizeof names_buf[j], "%s%s", ln[j] ? "ln_" : "", dsp_features_names[feat[j]]);
        names[j] = names_buf[j];
    }
    struct models_ae_params p;
    models_ae_params_default(&p);
    p.seed = m->cfg.seed;
    p.bottleneck = d / 5 > 3 ? d / 5 : 3; /* a handful of independent factors in ~20 features */
    char err[256] = "";
    models_ae *ae = models_ae_train(x, n, d, DSP_FEATURES_SCHEMA, names, &p, err, sizeof err);
    free(x);
    if (!ae) {
        snprintf(msg, msglen, "training on %zu baseline vectors failed: %s", n, err);
        return -EINVAL;
    }
    if (map_inputs(ae, m->in_feat, m->in_ln, &m->d, err, sizeof err) < 0) { /* cannot happen: the names were made above */
        snprintf(msg, msglen, "%s", err);
        models_ae_free(ae);
        return -EINVAL;
    }
    m->ae = ae;
    m->threshold = models_ae_threshold(ae);
    m->failure_ref = median_inplace(m->base_fail, m->nbase_fail);
    m->shaft_ref = median_inplace(m->base_shaft, m->nbase_shaft);
    m->model_snaps = m->nsnap;
    m->model_vectors = n;
    m->model_from_h = m->learn_from_h;
    m->model_to_h = m->learn_to_h;
    m->learning = false;
    free(m->vec); /* the baseline's vectors are not needed until the next baseline */
    m->vec = NULL;
    reset_monitoring(m);
    return 0;
}

/* ---- one snapshot ---- */

static double snapshot_speed_ref(const models_monitor *m)
{
    if (!m->learning)
        return m->shaft_ref;
    if (m->nbase_shaft < MODELS_MON_MIN_BASELINE)
        return NAN;
    double tmp[MAX_BASE_SNAPS];
    memcpy(tmp, m->base_shaft, m->nbase_shaft * sizeof *tmp);
    return median_inplace(tmp, m->nbase_shaft);
}

static void rul_null(models_monitor_output *o)
{
    o->basis = MODELS_RUL_NULL;
    o->rul_h = o->rul_lo_h = o->rul_hi_h = NAN;
    o->p_fail_7d = o->p_fail_14d = o->p_warn_horizon = o->p_alarm_horizon = NAN;
}

/* The box's life distribution from the prior (rating-scaled when the speed and load are known). */
static bool prior_life(const models_monitor *m, models_lognormal *life)
{
    if (!m->have_prior)
        return false;
    double rpm = m->cfg.rpm > 0 ? m->cfg.rpm : m->shaft_ref * 60;
    return models_prior_life(&m->prior, rpm, m->cfg.load_n, life) == 0;
}

/* The trend's crossing and the prior's life as competing ends: F = 1 − (1 − F_trend)(1 − F_life).
 * The trend sees a gradual degradation coming; the life prior carries what past runs showed of
 * failures that come without one (abrupt ends); whichever comes first ends the machine. */
typedef struct combined {
    const models_deg_post *post;
    double limit, phi, now;     /* trend: threshold, offset, hours since onset */
    const models_lognormal *life; /* NULL: trend only */
    double age;
} combined;

static double combined_cdf(const combined *c, double tau)
{
    double ft = models_deg_cdf(c->post, MODELS_DEG_CDF_TREND, c->limit, c->phi, c->now, tau);
    if (!isfinite(ft))
        ft = 0;
    double fl = c->life ? models_lognormal_cond_cdf(c->life, c->age, tau) : 0;
    return 1 - (1 - ft) * (1 - fl);
}

static double combined_cdf_of(const void *c, double tau) { return combined_cdf(c, tau); }

static double combined_quantile(const combined *c, double q, double horizon)
{
    if (combined_cdf(c, horizon) < q)
        return INFINITY;
    return models_bisect(combined_cdf_of, c, q, 0, horizon, 1e-9);
}

static void estimate_rul(models_monitor *m, double t_h, models_monitor_output *o)
{
    rul_null(o);
    if (!(o->hi_limit > 0) || !isfinite(o->hi))
        return;
    if (o->hi >= o->hi_limit) { /* the limit is reached: failed, whatever a model says; the
                                   machine's own measurement is the basis */
        o->basis = MODELS_RUL_TREND;
        o->rul_h = o->rul_lo_h = o->rul_hi_h = 0;
        o->p_fail_7d = o->p_fail_14d = o->p_warn_horizon = o->p_alarm_horizon = 1;
        return;
    }
    models_lognormal life;
    bool have_life = prior_life(m, &life);
    if (m->onset && m->deg.n >= m->cfg.trend_min_points) {
        models_deg_post post;
        models_deg_posterior(&m->deg, &post);
        double sd_beta = sqrt(post.var_beta);
        if (post.mu_beta - m->cfg.significance_z * sd_beta > 0) {
            double now = t_h - m->onset_h;
            if (now < m->deg.t_last_h)
                now = m->deg.t_last_h;
            combined c = {&post, o->hi_limit, m->deg.prior.phi, now, have_life ? &life : NULL, o->age_h};
            const double horizon = 87600;
            o->basis = MODELS_RUL_TREND;
            o->rul_h = combined_quantile(&c, 0.5, horizon);
            o->rul_lo_h = combined_quantile(&c, 0.1, horizon);
            o->rul_hi_h = combined_quantile(&c, 0.9, horizon);
            o->p_fail_7d = combined_cdf(&c, 168);
            o->p_fail_14d = combined_cdf(&c, 336);
            o->p_warn_horizon = combined_cdf(&c, m->cfg.warn_within_h);
            o->p_alarm_horizon = combined_cdf(&c, m->cfg.alarm_within_h);
            return;
        }
    }
    if (!have_life)
        return;
    models_cond_rul cr;
    if (models_lognormal_remaining(&life, o->age_h, m->cfg.warn_within_h, m->cfg.alarm_within_h, &cr) < 0)
        return;
    o->basis = MODELS_RUL_PRIOR;
    o->rul_h = cr.median_h;
    o->rul_lo_h = cr.lo_h;
    o->rul_hi_h = cr.hi_h;
    o->p_warn_horizon = cr.p_h1;
    o->p_alarm_horizon = cr.p_h2;
    o->p_fail_7d = models_lognormal_cond_cdf(&life, o->age_h, 168);
    o->p_fail_14d = models_lognormal_cond_cdf(&life, o->age_h, 336);
}

/* k of the last n entries of a flag ring. */
static bool k_of_n(const bool *ring, size_t count, unsigned k, unsigned n)
{
    unsigned hits = 0;
    for (size_t i = 0; i < n && i < count; i++)
        hits += ring[(count - 1 - i) % MODELS_MON_MAX_WINDOW];
    return hits >= k;
}

static enum models_state decide(const models_monitor *m, models_monitor_output *o)
{
    /* hysteresis on the last assessed state: a sensor-fault snapshot between does not reset it */
    bool was_alarm = m->have_assessed && m->assessed == MODELS_ST_ALARM;
    bool was_warn = m->have_assessed && m->assessed >= MODELS_ST_WARNING && m->assessed <= MODELS_ST_ALARM;
    if (o->rul_h == 0 && o->hi >= o->hi_limit) { /* measured, not predicted */
        o->cause = "limit_reached";
        return MODELS_ST_ALARM;
    }
    /* ISO zone D persisting (k of the last n snapshots, as the onset): one impact is not a zone */
    if (k_of_n(m->ring_zone_d, m->n_zone_d, m->cfg.onset_k, m->cfg.onset_n)) {
        o->cause = "iso_zone_d";
        return MODELS_ST_ALARM;
    }
    if (o->basis == MODELS_RUL_TREND) {
        o->cause = o->rul_h == 0 ? "limit_reached" : "trend";
        if (o->rul_h == 0)
            return MODELS_ST_ALARM;
        if (o->p_alarm_horizon >= m->cfg.p_alarm || (was_alarm && o->p_alarm_horizon >= m->cfg.p_alarm / 2))
            return MODELS_ST_ALARM;
        if (o->p_warn_horizon >= m->cfg.p_warn || (was_warn && o->p_warn_horizon >= m->cfg.p_warn / 2))
            return MODELS_ST_WARNING;
    }
    o->cause = o->anomalous ? "anomaly" : m->onset ? "onset" : NULL;
    return m->onset || o->anomalous ? MODELS_ST_WATCH : MODELS_ST_OK;
}

static void set_state(models_monitor *m, enum models_state s, models_monitor_output *o)
{
    o->previous = m->have_state ? m->state : s;
    o->state = s;
    o->changed = m->have_state && m->state != s;
    m->state = s;
    m->have_state = true;
    if (s != MODELS_ST_SENSOR_FAULT) {
        m->assessed = s;
        m->have_assessed = true;
    }
}

/* The start of every snapshot, live or replayed: time order, a clean output, the age. */
static int begin(models_monitor *m, double t_h, models_monitor_output *o)
{
    if (!isfinite(t_h) || (m->have_t && !(t_h > m->last_t_h)))
        return -EINVAL;
    memset(o, 0, sizeof *o);
    o->anomaly = o->threshold = o->health = o->hi = o->hi_limit = NAN;
    o->onset_h = NAN;
    rul_null(o);
    m->have_t = true;
    m->last_t_h = t_h;
    if (!isfinite(m->installed_h))
        m->installed_h = t_h;
    o->age_h = t_h - m->installed_h;
    return 0;
}

/* Everything after scoring: the health window, k of n, the health indicator, onset, the
 * degradation model, the RUL and the state. Shared by a live snapshot and a replayed past one. */
static void advance(models_monitor *m, double t_h, double anomaly, double failure_value, bool zone_d,
                    models_monitor_output *o)
{
    o->anomaly = anomaly;
    if (isfinite(o->anomaly)) {
        m->ring_anom[m->n_anom++ % MODELS_MON_MAX_WINDOW] = o->anomaly;
        m->ring_exceed[m->n_exceed++ % MODELS_MON_MAX_WINDOW] = o->anomaly > m->threshold;
    }
    if (isfinite(failure_value))
        m->ring_fail[m->n_fail++ % MODELS_MON_MAX_WINDOW] = failure_value;
    o->health = m->n_anom ? ring_median(m->ring_anom, m->n_anom, m->cfg.health_window) : NAN;

    /* k of the last n */
    m->ring_zone_d[m->n_zone_d++ % MODELS_MON_MAX_WINDOW] = zone_d;
    o->anomalous = k_of_n(m->ring_exceed, m->n_exceed, m->cfg.onset_k, m->cfg.onset_n);

    /* the relative health indicator */
    if (m->cfg.have_failure_feature) {
        double f = m->n_fail ? ring_median(m->ring_fail, m->n_fail, m->cfg.health_window) : NAN;
        if (m->failure_ref > 0) {
            o->hi = f / m->failure_ref;
            o->hi_limit = m->cfg.failure_limit / m->failure_ref;
        }
    } else {
        o->hi = o->health / m->threshold;
        o->hi_limit = m->cfg.failure_multiple;
    }
    /* onset of degradation: anomalous (k of n) and the health indicator at onset_ratio × its
     * baseline reference; it holds until both have been false for 4n snapshots (a transient) */
    bool high = o->hi >= m->cfg.onset_ratio;
    if (o->anomalous && high) {
        m->quiet = 0;
        if (!m->onset) {
            m->onset = true;
            m->onset_h = t_h;
        }
    } else if (m->onset && !o->anomalous && !high && ++m->quiet >= 4 * (size_t)m->cfg.onset_n) {
        reset_monitoring(m);
    } else if (m->onset) {
        m->quiet = 0;
    }
    if (m->onset && o->hi > 0 && isfinite(o->hi))
        models_deg_add(&m->deg, t_h - m->onset_h, o->hi);
    o->onset = m->onset;
    o->onset_h = m->onset_h;
    estimate_rul(m, t_h, o);
    set_state(m, decide(m, o), o);
}


int models_monitor_update(models_monitor *m, const models_monitor_input *in, models_monitor_output *o)
{
    if (!m || !in || !o || !in->features || (in->nsub && !in->subframes) || begin(m, in->t_h, o) < 0)
        return -EINVAL;

    if (in->sensor_fault) {
        o->progress = m->learning ? m->progress : 1;
        set_state(m, MODELS_ST_SENSOR_FAULT, o);
        return 0;
    }
    /* stopped or off speed: neither learned from nor scored; the state stays */
    double rms = in->features[DSP_FEAT_ACCEL_RMS_G];
    double ref = snapshot_speed_ref(m);
    if (isfinite(rms) && rms < m->cfg.stopped_rms_g)
        o->skipped = "stopped";
    else if (isfinite(ref) && isfinite(in->shaft_hz) && fabs(in->shaft_hz - ref) > m->cfg.speed_tolerance * ref)
        o->skipped = "off_speed";

    if (m->learning && !m->vec && !(m->vec = malloc(m->cfg.max_vectors * NF * sizeof *m->vec))) {
        snprintf(o->message, sizeof o->message, "out of memory for the baseline's vectors");
        set_state(m, MODELS_ST_LEARNING, o);
        return 0;
    }
    if (m->learning) {
        if (!o->skipped) {
            for (size_t i = 0; i < in->nsub && m->nvec < m->cfg.max_vectors; i++, m->nvec++)
                for (int f = 0; f < NF; f++)
                    m->vec[m->nvec * NF + (size_t)f] = (float)in->subframes[i * NF + (size_t)f];
            if (m->nsnap < MAX_BASE_SNAPS) {
                m->base_fail[m->nbase_fail++] = in->failure_value;
                if (isfinite(in->shaft_hz))
                    m->base_shaft[m->nbase_shaft++] = in->shaft_hz;
            }
            m->nsnap++;
            if (!isfinite(m->learn_from_h))
                m->learn_from_h = in->t_h;
            m->learn_to_h = in->t_h;
        }
        double prog = m->cfg.baseline_hours > 0
                          ? fmin((m->learn_to_h - m->learn_from_h) / m->cfg.baseline_hours,
                                 (double)m->nsnap / MODELS_MON_MIN_BASELINE)
                          : (double)m->nsnap / (double)m->cfg.baseline_snapshots;
        if (!isfinite(prog))
            prog = 0;
        o->progress = m->progress = fmin(1, prog);
        if (prog >= 1) {
            if (train(m, o->message, sizeof o->message) == 0) {
                o->trained = true;
                o->progress = 1;
            } else if (m->nvec >= m->cfg.max_vectors) { /* cannot learn more: start over */
                start_learning(m);
            }
        }
        if (m->learning) {
            set_state(m, MODELS_ST_LEARNING, o);
            return 0;
        }
    }
    o->progress = 1;
    o->threshold = m->threshold;
    if (o->skipped || o->trained) {
        /* the state stays (an idle machine is not healthier or sicker); a fresh model starts ok */
        set_state(m, o->trained || !m->have_assessed ? MODELS_ST_OK : m->assessed, o);
        o->health = m->n_anom ? ring_median(m->ring_anom, m->n_anom, m->cfg.health_window) : NAN;
        return 0;
    }

    /* score: the median of the sub-frames' reconstruction errors */
    double scores[256];
    size_t ns = 0;
    for (size_t i = 0; i < in->nsub && ns < 256; i++) {
        double s;
        if (make_input(m, in->subframes + i * NF) && models_ae_score(m->ae, m->x, &s) == 0)
            scores[ns++] = s;
    }
    if (ns == 0 && make_input(m, in->features)) { /* no sub-frames: the whole snapshot */
        double s;
        if (models_ae_score(m->ae, m->x, &s) == 0)
            scores[ns++] = s;
    }
    advance(m, in->t_h, median_inplace(scores, ns), in->failure_value, in->iso_zone_d, o);
    return 0;
}

int models_monitor_replay(models_monitor *m, const models_monitor_past *p, models_monitor_output *o)
{
    if (!m || !p || !o || m->learning || begin(m, p->t_h, o) < 0)
        return -EINVAL;
    o->progress = 1;
    o->threshold = m->threshold;
    if (p->sensor_fault) {
        set_state(m, MODELS_ST_SENSOR_FAULT, o);
    } else if (p->skipped) { /* stopped, off speed: the state stayed */
        set_state(m, !m->have_assessed ? MODELS_ST_OK : m->assessed, o);
    } else { /* as live, also when no sub-frame could be scored (anomaly NAN) */
        advance(m, p->t_h, p->anomaly, p->failure_value, p->iso_zone_d, o);
    }
    return 0;
}

/* ---- the model file ---- */


char *models_monitor_to_json(const models_monitor *m)
{
    if (!m || m->learning || !m->ae)
        return NULL;
    char *ae = models_ae_to_json(m->ae);
    cJSON *aej = ae ? cJSON_Parse(ae) : NULL;
    free(ae);
    if (!aej)
        return NULL;
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "format", MODELS_MON_FORMAT);
    cJSON_AddNumberToObject(root, "version", MODELS_MON_VERSION);
    cJSON_AddStringToObject(root, "feature_schema", DSP_FEATURES_SCHEMA);
    cJSON *b = cJSON_AddObjectToObject(root, "baseline");
    cJSON_AddNumberToObject(b, "snapshots", (double)m->model_snaps);
    cJSON_AddNumberToObject(b, "vectors", (double)m->model_vectors);
    models_json_number(b, "from_h", m->model_from_h);
    models_json_number(b, "to_h", m->model_to_h);
    models_json_number(b, "failure_ref", m->failure_ref);
    models_json_number(b, "shaft_hz_ref", m->shaft_ref);
    models_json_number(b, "age_from_h", m->installed_h);
    cJSON_AddItemToObject(root, "autoencoder", aej);
    char *s = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return s;
}

static double num_or_nan(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) && isfinite(v->valuedouble) ? v->valuedouble : NAN;
}

int models_monitor_restore(models_monitor *m, const char *text, size_t len, char *err, size_t errlen)
{
    cJSON *root = cJSON_ParseWithLength(text, len);
    int rc = -EINVAL;
    models_ae *ae = NULL;
    char *aetext = NULL;
    const cJSON *v = root ? cJSON_GetObjectItemCaseSensitive(root, "format") : NULL;
    if (!cJSON_IsString(v) || strcmp(v->valuestring, MODELS_MON_FORMAT) != 0) {
        snprintf(err, errlen, "not a %s file", MODELS_MON_FORMAT);
        goto done;
    }
    v = cJSON_GetObjectItemCaseSensitive(root, "version");
    if (!cJSON_IsNumber(v) || v->valuedouble != MODELS_MON_VERSION) {
        snprintf(err, errlen, "monitor file version %g is not the %d this box reads", cJSON_IsNumber(v) ? v->valuedouble : -1.0,
                 MODELS_MON_VERSION);
        goto done;
    }
    v = cJSON_GetObjectItemCaseSensitive(root, "feature_schema");
    if (!cJSON_IsString(v) || strcmp(v->valuestring, DSP_FEATURES_SCHEMA) != 0) {
        snprintf(err, errlen, "model was built for feature schema \"%s\", this box computes \"%s\"",
                 cJSON_IsString(v) ? v->valuestring : "?", DSP_FEATURES_SCHEMA);
        goto done;
    }
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(root, "baseline");
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(root, "autoencoder");
    if (!cJSON_IsObject(b) || !cJSON_IsObject(a)) {
        snprintf(err, errlen, "monitor file: \"baseline\" and \"autoencoder\" must be objects");
        goto done;
    }
    aetext = cJSON_PrintUnformatted(a);
    char why[256] = "";
    ae = aetext ? models_ae_from_json(aetext, strlen(aetext), DSP_FEATURES_SCHEMA, why, sizeof why) : NULL;
    if (!ae) {
        snprintf(err, errlen, "%s", aetext ? why : "out of memory");
        goto done;
    }
    int feat[MODELS_AE_MAX_DIM];
    bool ln[MODELS_AE_MAX_DIM];
    size_t d = 0;
    if (map_inputs(ae, feat, ln, &d, err, errlen) < 0)
        goto done;
    start_learning(m);
    memcpy(m->in_feat, feat, d * sizeof *feat);
    memcpy(m->in_ln, ln, d * sizeof *ln);
    m->d = d;
    m->ae = ae;
    ae = NULL;
    m->threshold = models_ae_threshold(m->ae);
    m->failure_ref = num_or_nan(b, "failure_ref");
    m->shaft_ref = num_or_nan(b, "shaft_hz_ref");
    double ns = num_or_nan(b, "snapshots"), nv = num_or_nan(b, "vectors");
    m->model_snaps = ns > 0 ? (size_t)ns : 0;
    m->model_vectors = nv > 0 ? (size_t)nv : 0;
    m->model_from_h = num_or_nan(b, "from_h");
    m->model_to_h = num_or_nan(b, "to_h");
    double age_from = num_or_nan(b, "age_from_h");
    if (!isfinite(m->cfg.installed_h) && isfinite(age_from)) /* the age goes on across a restart */
        m->installed_h = age_from;
    m->learning = false;
    reset_monitoring(m);
    rc = 0;
done:
    models_ae_free(ae);
    free(aetext);
    cJSON_Delete(root);
    return rc;
}

/* Tests of models/monitor.h against its contract, on crafted feature vectors of a healthy machine
 * (bands ~-40 dB, kurtosis ~3, crest ~4, velocity ~2 mm/s, accel ~0.3 g, envelope ~1 dB, no
 * temperature; seeded noise per snapshot and per sub-frame) and crafted degradations. Every
 * output that passes through feed() is also checked for the output's invariants (changed and
 * previous, RUL order, no number on basis null, the causes of warning and alarm). */
#include "dsp/feature_vector.h"
#include "models/monitor.h"
#include "testlib.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NF DSP_FEATURES_MAX
#define NSUB 8
#define SHAFT_HZ 24.6

/* One snapshot: the whole-snapshot vector and NSUB sub-frame rows. */
typedef struct snap {
    double whole[NF], sub[NSUB * NF], shaft_hz;
} snap;

/* One row: the healthy machine at level c (dB, shared by bands and RMS values) plus a degradation
 * of d dB on the bands and envelope families; `noise` scales the row's own scatter. */
static void fill_row(double *v, double c, double d, double noise)
{
    for (int k = 0; k < DSP_FEATURES_NBANDS; k++)
        v[DSP_FEAT_BAND0 + k] = -40 + sin(1.7 * k) + c + d + 0.5 * noise * t_grand();
    for (int f = 0; f < DSP_NFAMILIES; f++)
        v[DSP_FEAT_ENV0 + f] = 1 + d + 0.3 * noise * t_grand();
    v[DSP_FEAT_KURTOSIS] = 3 * exp(0.03 * noise * t_grand());
    v[DSP_FEAT_CREST] = 4 * exp(0.03 * noise * t_grand());
    v[DSP_FEAT_VELOCITY_RMS_MM_S] = 2 * exp(c * M_LN10 / 20 + 0.05 * noise * t_grand());
    v[DSP_FEAT_ACCEL_RMS_G] = 0.3 * exp((c + d) * M_LN10 / 20 + 0.05 * noise * t_grand());
    v[DSP_FEAT_TEMP_C] = NAN;
}

static void make_snap(snap *s, double d)
{
    double c = 0.3 * t_grand();
    fill_row(s->whole, c, d, 0.35);
    for (int i = 0; i < NSUB; i++)
        fill_row(s->sub + i * NF, c, d, 1.0);
    s->shaft_hz = SHAFT_HZ * (1 + 0.002 * t_grand());
}

/* A machine at standstill: noise floor only, no speed. */
static void make_stopped(snap *s)
{
    make_snap(s, -40);
    for (int i = 0; i <= NSUB; i++) {
        double *r = i < NSUB ? s->sub + i * NF : s->whole;
        r[DSP_FEAT_ACCEL_RMS_G] = 0.001;
        r[DSP_FEAT_VELOCITY_RMS_MM_S] = 0.01;
    }
    s->shaft_hz = NAN;
}

static models_monitor_input mk_in(const snap *s, double t_h, double fail)
{
    models_monitor_input in = {.t_h = t_h, .features = s->whole, .subframes = s->sub, .nsub = NSUB,
                               .shaft_hz = s->shaft_hz, .failure_value = fail};
    return in;
}

/* A monitor and what the test saw of it. */
typedef struct chan {
    models_monitor *m;
    models_monitor_output o;
    enum models_state last;
    int have_last;
} chan;

static int chan_open(chan *c, const models_monitor_cfg *cfg)
{
    char err[256] = "";
    memset(c, 0, sizeof *c);
    c->m = models_monitor_create(cfg, err, sizeof err);
    T_CHECK(c->m != NULL, "create: %s", err);
    return c->m ? 0 : -1;
}

static int same(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }
static const char *cs(const char *s) { return s ? s : "NULL"; }
/* Equal numbers, NAN equal to NAN. */
static int eq(double a, double b) { return a == b || (isnan(a) && isnan(b)); }
/* Two monitors fed alike (but for snapshots that must change nothing) report the same. */
static void check_twins(const models_monitor_output *a, const models_monitor_output *b, double t, const char *what)
{
    T_CHECK(a->state == b->state && a->progress == b->progress && eq(a->threshold, b->threshold) &&
                eq(a->anomaly, b->anomaly) && eq(a->health, b->health) && a->trained == b->trained,
            "t=%g, %s: %s/%g/%.17g/%.17g/%g vs %s/%g/%.17g/%.17g/%g (state/progress/threshold/anomaly/health)", t,
            what, models_state_name(a->state), a->progress, a->threshold, a->anomaly, a->health,
            models_state_name(b->state), b->progress, b->threshold, b->anomaly, b->health);
}

/* One update, with the invariants every output must keep. */
static const models_monitor_output *feed_in(chan *c, const models_monitor_input *in)
{
    models_monitor_output *o = &c->o;
    int rc = models_monitor_update(c->m, in, o);
    T_CHECK(rc == 0, "update at t=%g: %d", in->t_h, rc);
    if (rc)
        return o;
    T_CHECK(c->have_last ? o->previous == c->last && o->changed == (o->state != c->last) : !o->changed,
            "t=%g: %s (previous %s, changed %d) after %s", in->t_h, models_state_name(o->state),
            models_state_name(o->previous), o->changed, c->have_last ? models_state_name(c->last) : "nothing");
    c->last = o->state;
    c->have_last = 1;
    if (o->basis == MODELS_RUL_NULL)
        T_CHECK(isnan(o->rul_h) && isnan(o->rul_lo_h) && isnan(o->rul_hi_h) && isnan(o->p_fail_7d) &&
                    isnan(o->p_fail_14d), "t=%g: basis null with rul %g [%g, %g], p7 %g", in->t_h, o->rul_h,
                o->rul_lo_h, o->rul_hi_h, o->p_fail_7d);
    else
        T_CHECK(o->rul_lo_h <= o->rul_h && o->rul_h <= o->rul_hi_h, "t=%g: rul %g not within [%g, %g]", in->t_h,
                o->rul_h, o->rul_lo_h, o->rul_hi_h);
    if (o->state == MODELS_ST_WARNING)
        T_CHECK(o->basis == MODELS_RUL_TREND && same(o->cause, "trend"), "t=%g: warning on basis %s, cause %s",
                in->t_h, models_rul_basis_name(o->basis), cs(o->cause));
    if (o->state == MODELS_ST_ALARM)
        T_CHECK(same(o->cause, "iso_zone_d") || same(o->cause, "limit_reached") ||
                    (same(o->cause, "trend") && o->basis == MODELS_RUL_TREND),
                "t=%g: alarm on basis %s, cause %s", in->t_h, models_rul_basis_name(o->basis), cs(o->cause));
    if (o->state == MODELS_ST_LEARNING)
        T_CHECK(isnan(o->anomaly) && o->progress >= 0 && o->progress < 1,
                "t=%g: learning with anomaly %g, progress %g", in->t_h, o->anomaly, o->progress);
    return o;
}

static const models_monitor_output *feed(chan *c, const snap *s, double t_h, double fail)
{
    models_monitor_input in = mk_in(s, t_h, fail);
    return feed_in(c, &in);
}

/* Feeds n healthy snapshots at t0 + i·dt; returns the last output. */
static const models_monitor_output *feed_healthy(chan *c, int n, double t0, double dt)
{
    snap s;
    const models_monitor_output *o = &c->o;
    for (int i = 0; i < n; i++) {
        make_snap(&s, 0);
        o = feed(c, &s, t0 + i * dt, exp(0.02 * t_grand()));
    }
    return o;
}

static models_monitor_cfg cfg_with(size_t baseline)
{
    models_monitor_cfg cfg;
    models_monitor_cfg_default(&cfg);
    cfg.baseline_snapshots = baseline;
    return cfg;
}

/* Learning: state "learning" with progress k/N for k < N accepted snapshots; the N-th trains
 * (trained, state ok, changed from learning); no model file while learning, one after. */
static void test_learning_progress(void)
{
    models_monitor_cfg cfg = cfg_with(10);
    chan c;
    if (chan_open(&c, &cfg))
        return;
    t_rng_seed(1);
    for (int k = 1; k <= 10; k++) {
        const models_monitor_output *o = feed_healthy(&c, 1, k, 1);
        char *json = models_monitor_to_json(c.m);
        if (k < 10) {
            T_CHECK(o->state == MODELS_ST_LEARNING && !o->trained && models_monitor_learning(c.m),
                    "snapshot %d: state %s, trained %d", k, models_state_name(o->state), o->trained);
            T_NEAR(o->progress, k / 10.0, 1e-12, "progress");
            T_CHECK(json == NULL, "snapshot %d: a model file while learning", k);
        } else {
            T_CHECK(o->trained && o->state == MODELS_ST_OK && o->previous == MODELS_ST_LEARNING && o->changed,
                    "snapshot 10: trained %d, state %s (%s), message \"%s\"", o->trained,
                    models_state_name(o->state), models_state_name(o->previous), o->message);
            T_NEAR(o->progress, 1, 0, "progress when trained");
            T_CHECK(!models_monitor_learning(c.m) && json != NULL, "no model file after training");
        }
        free(json);
    }
    models_monitor_free(c.m);
}

/* Sparse baseline: 3 daily snapshots of 8 sub-frames are enough to train, and 200 healthy
 * snapshots afterwards stay ok (the false-watch count is printed and must be ≤ 1 %; with other
 * seeds of this data it is sometimes higher: the threshold then rests on ~5 validation vectors). */
static void test_sparse_baseline(void)
{
    models_monitor_cfg cfg = cfg_with(3);
    chan c;
    if (chan_open(&c, &cfg))
        return;
    t_rng_seed(2);
    const models_monitor_output *o = feed_healthy(&c, 3, 0, 24);
    T_CHECK(o->trained && o->state == MODELS_ST_OK, "3 snapshots did not train: %s", o->message);
    int watch = 0, above = 0, other = 0;
    for (int i = 0; i < 200; i++) {
        o = feed_healthy(&c, 1, 72 + 24 * i, 1);
        watch += o->state == MODELS_ST_WATCH;
        above += o->anomaly > o->threshold;
        other += o->state != MODELS_ST_WATCH && o->state != MODELS_ST_OK;
    }
    printf("# sparse baseline (3 x %d vectors): %d of 200 healthy snapshots watch, %d above threshold\n", NSUB,
           watch, above);
    T_CHECK(watch <= 2 && other == 0, "%d false watch, %d other states of 200 healthy snapshots", watch, other);
    models_monitor_free(c.m);
}

/* Stopped (accel RMS < stopped_rms_g) and off-speed (shaft 20 % off) snapshots are skipped and
 * marked, not learned from (progress unchanged, same threshold as without them) and not scored
 * (anomaly NAN, same later scores as without them); afterwards they leave the state (watch) as is. */
static void test_stopped_and_off_speed_skipped(void)
{
    models_monitor_cfg cfg = cfg_with(5);
    chan a, b;
    if (chan_open(&a, &cfg) || chan_open(&b, &cfg))
        return;
    snap s, x;
    t_rng_seed(3);
    for (int i = 1; i <= 20; i++) {
        double d = i > 15 && i <= 18 ? 1.5 : 0; /* 16…18: anomalous (below the limit): watch */
        make_snap(&s, d);
        const models_monitor_output *oa = feed(&a, &s, i, NAN);
        double prog = b.o.progress;
        enum models_state st = b.o.state;
        /* before the first, during learning (off speed needs 3 baseline speeds), ok, watch */
        int nk = i == 1 ? 1 : i == 4 || i == 12 || i == 19 ? 2 : 0;
        for (int k = 0; k < nk; k++) {
            if (k == 0)
                make_stopped(&x);
            else
                make_snap(&x, 6); /* would be anomalous if it were scored */
            x.shaft_hz = k ? 1.2 * SHAFT_HZ : NAN;
            const models_monitor_output *ob = feed(&b, &x, i - 0.5 + 0.25 * k, NAN);
            T_CHECK(same(ob->skipped, k ? "off_speed" : "stopped") && isnan(ob->anomaly) &&
                        (i == 1 || (ob->progress == prog && ob->state == st && !ob->changed)),
                    "t=%g: skipped %s, anomaly %g, progress %g → %g, state %s → %s", i - 0.5 + 0.25 * k,
                    cs(ob->skipped), ob->anomaly, prog, ob->progress, models_state_name(st),
                    models_state_name(ob->state));
        }
        const models_monitor_output *ob = feed(&b, &s, i, NAN);
        check_twins(oa, ob, i, "with and without skipped snapshots");
        if (i == 18)
            T_CHECK(ob->state == MODELS_ST_WATCH, "anomalous snapshots gave %s (anomaly %g, threshold %g, hi %g)",
                    models_state_name(ob->state), ob->anomaly, ob->threshold, ob->hi);
    }
    models_monitor_free(a.m);
    models_monitor_free(b.m);
}

/* A crafted degradation: from t0 the bands and envelope families rise by 0.25 dB/h and the failure
 * feature grows as exp(0.05·(t − t0)) (baseline 1, limit 10). Horizons 24 h (warning) and 6 h
 * (alarm): the trend becomes significant ~25 h before the crossing, so a warning must come
 * before the alarm. The states appear in the order ok → watch → warning → alarm and never go
 * back; warning and alarm rest on the trend; once the indicator reaches its limit the RUL is 0
 * and the alarm's cause is "limit_reached". */
static void test_degradation_states(void)
{
    models_monitor_cfg cfg = cfg_with(10);
    cfg.have_failure_feature = true;
    cfg.failure_limit = 10;
    cfg.warn_within_h = 24;
    cfg.alarm_within_h = 6;
    chan c;
    if (chan_open(&c, &cfg))
        return;
    t_rng_seed(4);
    const models_monitor_output *o = feed_healthy(&c, 10, 1, 1);
    T_CHECK(o->trained, "not trained: %s", o->message);
    const double t0 = 40;
    double first[6] = {NAN, NAN, NAN, NAN, NAN, NAN}; /* tau of each state's first appearance */
    double onset_at = NAN, limit_at = NAN;
    snap s;
    for (int t = 11; t <= t0 + 60; t++) {
        double tau = t > t0 ? t - t0 : 0;
        make_snap(&s, 0.25 * tau);
        o = feed(&c, &s, t, exp(0.05 * tau + 0.02 * t_grand()));
        if (isnan(first[o->state]))
            first[o->state] = tau;
        if (t <= t0)
            T_CHECK(o->state == MODELS_ST_OK, "healthy t=%d: %s", t, models_state_name(o->state));
        if (!isnan(first[MODELS_ST_WARNING]))
            T_CHECK(o->state == MODELS_ST_WARNING || o->state == MODELS_ST_ALARM, "t0+%g: %s after a warning", tau,
                    models_state_name(o->state));
        if (!isnan(first[MODELS_ST_ALARM]))
            T_CHECK(o->state == MODELS_ST_ALARM, "t0+%g: %s after an alarm", tau, models_state_name(o->state));
        if (o->onset && isnan(onset_at)) {
            onset_at = tau;
            T_CHECK(o->onset_h > t0 && o->onset_h <= t, "onset_h %g at t=%d", o->onset_h, t);
        }
        if (o->hi >= o->hi_limit) {
            if (isnan(limit_at))
                limit_at = tau;
            T_CHECK(o->rul_h == 0 && o->rul_lo_h == 0 && o->rul_hi_h == 0 && o->state == MODELS_ST_ALARM &&
                        same(o->cause, "limit_reached"),
                    "t0+%g: HI %g ≥ limit %g but rul %g, %s (%s)", tau, o->hi, o->hi_limit, o->rul_h,
                    models_state_name(o->state), cs(o->cause));
        } else if (o->state == MODELS_ST_WARNING || o->state == MODELS_ST_ALARM) {
            T_CHECK(o->basis == MODELS_RUL_TREND && same(o->cause, "trend") && o->rul_h > 0,
                    "t0+%g: %s on basis %s, cause %s", tau, models_state_name(o->state),
                    models_rul_basis_name(o->basis), cs(o->cause));
        }
    }
    printf("# degradation from t0: watch at +%gh, onset at +%gh, warning at +%gh, alarm at +%gh, limit at +%gh\n",
           first[MODELS_ST_WATCH], onset_at, first[MODELS_ST_WARNING], first[MODELS_ST_ALARM], limit_at);
    T_CHECK(first[MODELS_ST_OK] == 0 && first[MODELS_ST_WATCH] > 0 &&
                first[MODELS_ST_WARNING] > first[MODELS_ST_WATCH] &&
                first[MODELS_ST_ALARM] > first[MODELS_ST_WARNING],
            "order: ok +%g, watch +%g, warning +%g, alarm +%g", first[MODELS_ST_OK], first[MODELS_ST_WATCH],
            first[MODELS_ST_WARNING], first[MODELS_ST_ALARM]);
    T_CHECK(!isnan(limit_at), "the indicator never reached its limit");
    models_monitor_free(c.m);
}

/* The standardised life distribution, computed here: normal (dof 0) or Student-t with 4 dof,
 * F(t) = 1/2 + t(t² + 6) / (2 (t² + 4)^{3/2}); its inverse by bisection. */
static double std_cdf4(double z, double dof)
{
    if (dof == 4)
        return 0.5 + z * (z * z + 6) / (2 * pow(z * z + 4, 1.5));
    return 0.5 * erfc(-z / sqrt(2.0));
}

static double std_ppf4(double p, double dof)
{
    double lo = -100, hi = 100;
    for (int i = 0; i < 200; i++) {
        double mid = 0.5 * (lo + hi);
        *(std_cdf4(mid, dof) < p ? &lo : &hi) = mid;
    }
    return 0.5 * (lo + hi);
}

/* A prior alone (life ~ lognormal, median 100 h, sigma 0.3, no degradation prior) at ages around
 * the median life: basis "prior", P(failure within the warning horizon) well above p_warn, and
 * still the state stays ok: a prior-only estimate never warns. Its RUL median is the conditional
 * median exp(mu + sigma·F⁻¹(F(z_age) + (1 − F(z_age))/2)) − age, and P(failure within 7 days)
 * the conditional probability, both computed here for dof 4 and dof 0. */
static void test_prior_only_never_warns(void)
{
    static models_prior pr;
    for (int dof = 4; dof >= 0; dof -= 4) {
        memset(&pr, 0, sizeof pr);
        pr.limit = 10;
        pr.life_h = (models_lognormal){.mu = log(100), .sigma = 0.3, .n = (size_t)dof + 1, .dof = dof};
        pr.degradation_h.mu = pr.life_rated.mu = NAN;
        models_monitor_cfg cfg = cfg_with(10);
        cfg.installed_h = 0;
        cfg.prior = &pr;
        chan c;
        if (chan_open(&c, &cfg))
            return;
        t_rng_seed(5);
        const models_monitor_output *o = feed_healthy(&c, 10, 75, 1);
        T_CHECK(o->trained, "not trained: %s", o->message);
        double max_pw = 0;
        for (double t = 85; t <= 130; t++) {
            o = feed_healthy(&c, 1, t, 1);
            T_CHECK(o->state == MODELS_ST_OK && o->basis == MODELS_RUL_PRIOR, "dof %d, age %g: %s on basis %s", dof,
                    o->age_h, models_state_name(o->state), models_rul_basis_name(o->basis));
            T_NEAR(o->age_h, t, 1e-12, "age_h");
            double sd = pr.life_h.sigma, mu = pr.life_h.mu;
            double fa = std_cdf4((log(t) - mu) / sd, dof);
            double med = exp(mu + sd * std_ppf4(fa + 0.5 * (1 - fa), dof)) - t;
            double p7 = (std_cdf4((log(t + 168) - mu) / sd, dof) - fa) / (1 - fa);
            T_NEAR(o->rul_h, med, 1e-6 * med, "prior RUL median");
            T_NEAR(o->p_fail_7d, p7, 1e-9, "prior P(failure within 7 d)");
            max_pw = fmax(max_pw, o->p_warn_horizon);
        }
        printf("# prior only, dof %d: P(failure within %g h) up to %.3f, state ok throughout\n", dof,
               cfg.warn_within_h, max_pw);
        T_CHECK(max_pw >= cfg.p_warn, "the test never reached the warning probability (%g)", max_pw);
        models_monitor_free(c.m);
    }
}

/* Without a prior and without a trend there is no number: basis "null", RUL and probabilities
 * NAN (with and without a failure feature). */
static void test_null_basis_without_prior_or_trend(void)
{
    for (int ff = 0; ff <= 1; ff++) {
        models_monitor_cfg cfg = cfg_with(5);
        cfg.have_failure_feature = ff;
        cfg.failure_limit = 10;
        chan c;
        if (chan_open(&c, &cfg))
            return;
        t_rng_seed(6);
        feed_healthy(&c, 5, 1, 1);
        for (int t = 6; t <= 25; t++) {
            const models_monitor_output *o = feed_healthy(&c, 1, t, 1);
            T_CHECK(o->basis == MODELS_RUL_NULL && isnan(o->rul_h) && isnan(o->p_warn_horizon) &&
                        isnan(o->p_alarm_horizon) && isfinite(o->hi) && o->state == MODELS_ST_OK,
                    "failure feature %d, t=%d: basis %s, rul %g, hi %g, %s", ff, t, models_rul_basis_name(o->basis),
                    o->rul_h, o->hi, models_state_name(o->state));
        }
        models_monitor_free(c.m);
    }
}

/* A sensor fault gives state sensor_fault and changes nothing else: a monitor that also saw
 * faulty snapshots (absurd values) learns the same threshold and scores the same as one that did
 * not. ISO zone D in 3 of the last 5 snapshots gives an alarm (cause "iso_zone_d"); one or two
 * zone-D snapshots do not. */
static void test_sensor_fault_and_iso_zone_d(void)
{
    models_monitor_cfg cfg = cfg_with(6);
    chan a, b;
    if (chan_open(&a, &cfg) || chan_open(&b, &cfg))
        return;
    snap s, x;
    t_rng_seed(7);
    for (int i = 1; i <= 16; i++) {
        make_snap(&s, 0);
        const models_monitor_output *oa = feed(&a, &s, i, NAN);
        if (i % 3 == 0) {
            make_snap(&x, 30);
            models_monitor_input in = mk_in(&x, i - 0.5, NAN);
            in.sensor_fault = true;
            const models_monitor_output *ob = feed_in(&b, &in);
            T_CHECK(ob->state == MODELS_ST_SENSOR_FAULT && isnan(ob->anomaly), "fault at t=%g: %s, anomaly %g",
                    in.t_h, models_state_name(ob->state), ob->anomaly);
        }
        const models_monitor_output *ob = feed(&b, &s, i, NAN);
        check_twins(oa, ob, i, "with and without sensor faults");
    }
    T_CHECK(a.o.state == MODELS_ST_OK, "healthy monitor in %s", models_state_name(a.o.state));
    /* zone D: once, five clean snapshots, then three in a row */
    const int zone[] = {1, 0, 0, 0, 0, 0, 1, 1, 1};
    for (int i = 0; i < 9; i++) {
        make_snap(&s, 0);
        models_monitor_input in = mk_in(&s, 17 + i, NAN);
        in.iso_zone_d = zone[i];
        const models_monitor_output *o = feed_in(&a, &in);
        if (i < 8)
            T_CHECK(o->state != MODELS_ST_ALARM, "step %d: alarm on %s zone-D snapshots", i, i ? "two" : "one");
        else
            T_CHECK(o->state == MODELS_ST_ALARM && same(o->cause, "iso_zone_d"), "3 of 5 in zone D: %s (%s)",
                    models_state_name(o->state), cs(o->cause));
    }
    models_monitor_free(a.m);
    models_monitor_free(b.m);
}

/* A new baseline: learning again from the next snapshot (progress 1/N, no model file), the age
 * counts from the rebaseline time, and the new baseline trains after N snapshots. */
static void test_rebaseline(void)
{
    models_monitor_cfg cfg = cfg_with(5);
    chan c;
    if (chan_open(&c, &cfg))
        return;
    t_rng_seed(8);
    const models_monitor_output *o = feed_healthy(&c, 10, 1, 1);
    T_CHECK(o->state == MODELS_ST_OK && o->age_h == 9, "before: %s, age %g (from the first snapshot)",
            models_state_name(o->state), o->age_h);
    models_monitor_rebaseline(c.m, 10.5);
    T_CHECK(models_monitor_learning(c.m), "not learning after rebaseline");
    char *json = models_monitor_to_json(c.m);
    T_CHECK(json == NULL, "a model file right after rebaseline");
    free(json);
    o = feed_healthy(&c, 1, 11, 1);
    T_CHECK(o->state == MODELS_ST_LEARNING && o->changed && o->previous == MODELS_ST_OK, "after rebaseline: %s",
            models_state_name(o->state));
    T_NEAR(o->progress, 0.2, 1e-12, "progress after rebaseline");
    T_NEAR(o->age_h, 0.5, 1e-12, "age after rebaseline");
    o = feed_healthy(&c, 4, 12, 1);
    T_CHECK(o->trained && o->state == MODELS_ST_OK, "the new baseline did not train: %s", o->message);
    T_NEAR(o->age_h, 4.5, 1e-12, "age when the new baseline trained");
    models_monitor_free(c.m);
}

/* Replaces the first `from` in s (malloc'd; NULL when absent). */
static char *replace_first(const char *s, const char *from, const char *to)
{
    const char *p = strstr(s, from);
    if (!p)
        return NULL;
    size_t n = strlen(s) + strlen(to) + 1;
    char *r = malloc(n);
    if (r)
        snprintf(r, n, "%.*s%s%s", (int)(p - s), s, to, p + strlen(from));
    return r;
}

/* The model file: restored into a fresh monitor, it is not learning and scores the same inputs
 * as the original (bit-identical or within 1e-9 relative; the threshold, a double that cJSON may
 * print 1 ulp off, within 1e-12); a file for another feature schema is refused naming both
 * schemas; another format or version is refused (and leaves the monitor learning). */
static void test_model_file_round_trip(void)
{
    models_monitor_cfg cfg = cfg_with(8);
    cfg.seed = 7;
    chan a, b;
    if (chan_open(&a, &cfg) || chan_open(&b, &cfg))
        return;
    t_rng_seed(9);
    feed_healthy(&a, 8, 1, 1);
    char *json = models_monitor_to_json(a.m);
    T_CHECK(json != NULL, "no model file");
    if (!json)
        goto out;
    char err[256] = "";
    int rc = models_monitor_restore(b.m, json, strlen(json), err, sizeof err);
    T_CHECK(rc == 0 && !models_monitor_learning(b.m), "restore: %d %s", rc, err);
    int identical = 0, same_th = 0;
    snap s;
    for (int i = 0; i < 15; i++) {
        make_snap(&s, i < 10 ? 0 : 3);
        const models_monitor_output *oa = feed(&a, &s, 9 + i, NAN), *ob = feed(&b, &s, 9 + i, NAN);
        T_CHECK(ob->state != MODELS_ST_LEARNING && fabs(ob->threshold - oa->threshold) <= 1e-12 * oa->threshold,
                "restored: %s, threshold %.17g vs %.17g", models_state_name(ob->state), ob->threshold, oa->threshold);
        T_CHECK(fabs(ob->anomaly - oa->anomaly) <= 1e-9 * fabs(oa->anomaly), "t=%d: anomaly %.17g vs %.17g", 9 + i,
                ob->anomaly, oa->anomaly);
        identical += ob->anomaly == oa->anomaly;
        same_th += ob->threshold == oa->threshold;
    }
    printf("# restored model: %d of 15 anomaly scores bit-identical, threshold %s\n", identical,
           same_th ? "bit-identical" : "within 1e-12");
    static const char *const bad[][3] = {
        {"\"feature_schema\":\"vw-features-1\"", "\"feature_schema\":\"vw-features-0\"", "vw-features-0"},
        {"\"format\":\"vibewatch-monitor\"", "\"format\":\"vibewatch-prior\"", "vibewatch-monitor"},
        {"\"version\":1,\"feature_schema\"", "\"version\":2,\"feature_schema\"", "2"},
    };
    for (int k = 0; k < 3; k++) {
        char *t = replace_first(json, bad[k][0], bad[k][1]);
        T_CHECK(t != NULL, "the model file has no %s", bad[k][0]);
        if (!t)
            continue;
        chan c;
        if (chan_open(&c, &cfg) == 0) {
            err[0] = 0;
            rc = models_monitor_restore(c.m, t, strlen(t), err, sizeof err);
            T_CHECK(rc == -EINVAL && strstr(err, bad[k][2]) && (k || strstr(err, "vw-features-1")) &&
                        models_monitor_learning(c.m), "%s: rc %d, \"%s\"", bad[k][1], rc, err);
            models_monitor_free(c.m);
        }
        free(t);
    }
out:
    free(json);
    models_monitor_free(a.m);
    models_monitor_free(b.m);
}

/* After a restore the monitor is not learning, whatever its first snapshot: a stopped machine
 * first ("the state stays") must not report the state "learning". */
static void test_restored_then_stopped_not_learning(void)
{
    models_monitor_cfg cfg = cfg_with(5);
    chan a, b;
    if (chan_open(&a, &cfg) || chan_open(&b, &cfg))
        return;
    t_rng_seed(12);
    feed_healthy(&a, 5, 1, 1);
    char *json = models_monitor_to_json(a.m);
    char err[256] = "";
    T_CHECK(json && models_monitor_restore(b.m, json, strlen(json), err, sizeof err) == 0, "restore: %s", err);
    snap s;
    make_stopped(&s);
    models_monitor_input in = mk_in(&s, 1, NAN);
    models_monitor_output out, *o = &out;
    T_CHECK(models_monitor_update(b.m, &in, o) == 0, "update refused");
    T_CHECK(same(o->skipped, "stopped") && !models_monitor_learning(b.m) && o->state != MODELS_ST_LEARNING,
            "restored monitor, first snapshot stopped: state %s, learning() %d", models_state_name(o->state),
            models_monitor_learning(b.m));
    free(json);
    models_monitor_free(a.m);
    models_monitor_free(b.m);
}

/* The limit reached is an alarm by itself (cause "limit_reached", RUL 0), also when the
 * autoencoder sees nothing: here the failure feature steps to twice its limit while the other
 * features stay healthy. */
static void test_limit_reached_without_anomaly(void)
{
    models_monitor_cfg cfg = cfg_with(5);
    cfg.have_failure_feature = true;
    cfg.failure_limit = 10;
    chan c;
    if (chan_open(&c, &cfg))
        return;
    t_rng_seed(13);
    feed_healthy(&c, 10, 1, 1);
    snap s;
    for (int t = 11; t <= 16; t++) {
        make_snap(&s, 0);
        models_monitor_input in = mk_in(&s, t, 20);
        T_CHECK(models_monitor_update(c.m, &in, &c.o) == 0, "update refused");
        const models_monitor_output *o = &c.o;
        if (o->hi >= o->hi_limit)
            T_CHECK(o->state == MODELS_ST_ALARM && same(o->cause, "limit_reached") && o->rul_h == 0 &&
                        o->basis != MODELS_RUL_NULL,
                    "t=%d: HI %g ≥ limit %g (anomalous %d, onset %d): %s, cause %s, basis %s, rul %g", t, o->hi,
                    o->hi_limit, o->anomalous, o->onset, models_state_name(o->state),
                    cs(o->cause), models_rul_basis_name(o->basis), o->rul_h);
    }
    T_CHECK(c.o.hi >= c.o.hi_limit, "HI %g never reached the limit %g", c.o.hi, c.o.hi_limit);
    models_monitor_free(c.m);
}

/* Determinism: the same seed and inputs give identical thresholds and anomaly scores. */
/* A restart past onset: a monitor restored from the model file and caught up with the past
 * snapshots as the history keeps them (models_monitor_replay: time, anomaly, failure value) ends
 * in the same state, onset and RUL as the monitor that saw them live. */
static void test_restart_catch_up(void)
{
    models_monitor_cfg cfg = cfg_with(10);
    cfg.have_failure_feature = true;
    cfg.failure_limit = 10;
    cfg.warn_within_h = 24;
    cfg.alarm_within_h = 6;
    chan a, b;
    if (chan_open(&a, &cfg) || chan_open(&b, &cfg))
        return;
    t_rng_seed(4);
    feed_healthy(&a, 10, 1, 1);
    char *json = models_monitor_to_json(a.m);
    char err[256] = "";
    T_CHECK(json && models_monitor_restore(b.m, json, strlen(json), err, sizeof err) == 0, "restore: %s", err);
    free(json);
    const models_monitor_output *o = NULL;
    models_monitor_output ob;
    snap s;
    int replayed = 0;
    for (int t = 11; t <= 80; t++) {
        double tau = t > 40 ? t - 40 : 0;
        make_snap(&s, 0.25 * tau);
        double fail = exp(0.05 * tau + 0.02 * t_grand());
        o = feed(&a, &s, t, fail);
        models_monitor_past past = {.t_h = t, .anomaly = o->anomaly, .failure_value = fail};
        replayed += models_monitor_replay(b.m, &past, &ob) == 0;
        T_CHECK(ob.state == o->state && ob.onset == o->onset && eq(ob.rul_h, o->rul_h) && eq(ob.hi, o->hi),
                "t=%d: live %s onset %d rul %g, caught up %s onset %d rul %g", t, models_state_name(o->state), o->onset,
                o->rul_h, models_state_name(ob.state), ob.onset, ob.rul_h);
    }
    T_CHECK(replayed == 70 && o && o->onset && o->state >= MODELS_ST_WARNING, "replayed %d, end state %s", replayed,
            o ? models_state_name(o->state) : "?");
    /* and it goes on live from there as the original does */
    make_snap(&s, 10);
    const models_monitor_output *la = feed(&a, &s, 81, 8), *lb = feed(&b, &s, 81, 8);
    T_CHECK(la->state == lb->state && eq(la->rul_h, lb->rul_h), "live after catch-up: %s %g vs %s %g",
            models_state_name(la->state), la->rul_h, models_state_name(lb->state), lb->rul_h);
    models_monitor_past early = {.t_h = 5, .anomaly = 1};
    T_CHECK(models_monitor_replay(b.m, &early, &ob) == -EINVAL, "a past snapshot out of order is refused");
    models_monitor_free(a.m);
    models_monitor_free(b.m);
}

static void test_deterministic(void)
{
    models_monitor_cfg cfg = cfg_with(6);
    cfg.seed = 42;
    chan a, b;
    if (chan_open(&a, &cfg) || chan_open(&b, &cfg))
        return;
    snap s;
    t_rng_seed(10);
    for (int i = 1; i <= 20; i++) {
        make_snap(&s, i > 15 ? 2 : 0);
        const models_monitor_output *oa = feed(&a, &s, i, NAN), *ob = feed(&b, &s, i, NAN);
        check_twins(oa, ob, i, "same seed and inputs");
    }
    T_CHECK(isfinite(a.o.anomaly) && isfinite(a.o.threshold), "never scored");
    models_monitor_free(a.m);
    models_monitor_free(b.m);
}

/* A snapshot not after the previous one (same time, earlier, NAN) is refused with -EINVAL and
 * changes nothing: the next good snapshot continues the progress. */
static void test_time_must_increase(void)
{
    models_monitor_cfg cfg = cfg_with(5);
    chan c;
    if (chan_open(&c, &cfg))
        return;
    t_rng_seed(11);
    feed_healthy(&c, 1, 10, 1);
    snap s;
    make_snap(&s, 0);
    const double bad_t[] = {10, 9, NAN};
    for (int i = 0; i < 3; i++) {
        models_monitor_input in = mk_in(&s, bad_t[i], NAN);
        models_monitor_output o;
        T_CHECK(models_monitor_update(c.m, &in, &o) == -EINVAL, "t=%g after t=10 accepted", bad_t[i]);
    }
    const models_monitor_output *o = feed(&c, &s, 11, NAN);
    T_NEAR(o->progress, 0.4, 1e-12, "progress after refused snapshots");
    models_monitor_free(c.m);
}

int main(void)
{
    T_RUN(test_learning_progress);
    T_RUN(test_sparse_baseline);
    T_RUN(test_stopped_and_off_speed_skipped);
    T_RUN(test_degradation_states);
    T_RUN(test_prior_only_never_warns);
    T_RUN(test_null_basis_without_prior_or_trend);
    T_RUN(test_sensor_fault_and_iso_zone_d);
    T_RUN(test_rebaseline);
    T_RUN(test_model_file_round_trip);
    T_RUN(test_restored_then_stopped_not_learning);
    T_RUN(test_limit_reached_without_anomaly);
    T_RUN(test_restart_catch_up);
    T_RUN(test_deterministic);
    T_RUN(test_time_must_increase);
    return t_done();
}

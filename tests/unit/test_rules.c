/* Tests of alerts/rules.h, derived from its specification (the header's comment), not from what
 * rules.c happens to print: k-of-n debouncing and clear_n clearing per channel, the asset's level and
 * the channels a notification names, raised at once on worsening, lowered/recovered only after
 * min_interval_h and only if the change still holds, repeats per level (simulated over days of
 * snapshots every 10 minutes), acknowledgement, maintenance windows, the temperature limits with
 * their hysteresis, ISO zones, sensor faults, the stopped watchdog, replayed snapshots, and the
 * header's bound on a flapping input (deterministic and fixed-seed random flapping, the bound
 * computed here and asserted). The JSON state is checked by running two instances side by side
 * over a long random sequence, one of them saved and restored (into a fresh or a diverged
 * instance) at random points: every decision must be the same. Malformed or out-of-range states
 * are refused with the rules left as they were.
 *
 * Time runs on a 10-minute grid: snapshot k is at tk(k) = k/6 h, computed from k (never summed). */
#include "alerts/rules.h"
#include "testlib.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define PER_H 6   /* snapshots per hour */
#define DAY (24 * PER_H)

static double tk(long k) { return (double)k / PER_H; }

static const char *lv(int l) { return alerts_level_name((enum alerts_level)l); }
static const char *kn(int k) { return alerts_kind_name((enum alerts_kind)k); }

/* ---- helpers --------------------------------------------------------------------------------- */

static alerts_rules_cfg defcfg(void)
{
    alerts_rules_cfg c;
    alerts_rules_cfg_default(&c);
    return c;
}

static alerts_rules *mk(const alerts_rules_cfg *cfg, unsigned n)
{
    alerts_rules_cfg d = defcfg();
    alerts_rules *r = alerts_rules_create(cfg ? cfg : &d, n);
    T_CHECK(r != NULL, "alerts_rules_create(%u channels) failed", n);
    return r;
}

static alerts_input inm(double t, enum alerts_level model)
{
    alerts_input in = {.t_h = t, .model = model, .sensor_fault = false, .iso_zone = 0, .temp_c = NAN};
    return in;
}

static alerts_input intemp(double t, double temp)
{
    alerts_input in = inm(t, ALERTS_OK);
    in.temp_c = temp;
    return in;
}

static int snap(alerts_rules *r, unsigned ch, double t, enum alerts_level model)
{
    alerts_input in = inm(t, model);
    return alerts_rules_update(r, ch, &in);
}

/* Every notification of a run. */
#define LOG_MAX 4096
typedef struct nlog {
    unsigned n, kinds[5], changes;
    double t[LOG_MAX];
    enum alerts_kind kind[LOG_MAX];
    enum alerts_level level[LOG_MAX], prev[LOG_MAX];
} nlog;

static nlog g_log;

static nlog *fresh_log(void)
{
    memset(&g_log, 0, sizeof g_log);
    return &g_log;
}

static enum alerts_kind ev(alerts_rules *r, double t, bool maint, nlog *lg, alerts_decision *out)
{
    alerts_decision d;
    alerts_rules_eval(r, t, maint, &d);
    T_CHECK(d.level == alerts_rules_level(r), "eval says %s, alerts_rules_level %s", lv(d.level),
            lv(alerts_rules_level(r)));
    if (d.kind != ALERTS_NONE)
        T_CHECK(alerts_rules_notified(r) == d.level, "%s sent at %s but notified is %s", kn(d.kind), lv(d.level),
                lv(alerts_rules_notified(r)));
    if (lg) {
        lg->changes += d.changed;
        if (d.kind != ALERTS_NONE && lg->n < LOG_MAX) {
            lg->t[lg->n] = t;
            lg->kind[lg->n] = d.kind;
            lg->level[lg->n] = d.level;
            lg->prev[lg->n] = d.previous;
            lg->n++;
            lg->kinds[d.kind]++;
        }
    }
    if (out)
        *out = d;
    return d.kind;
}

/* Channel 0 gets raw level m at snapshot k; then the asset is evaluated. */
static enum alerts_kind feed(alerts_rules *r, long k, enum alerts_level m, nlog *lg, alerts_decision *d)
{
    T_CHECK(snap(r, 0, tk(k), m) == 0, "snapshot %ld refused", k);
    return ev(r, tk(k), false, lg, d);
}

/* Snapshots k0…k1-1 of raw level m on channel 0, evaluated (in a maintenance window when maint);
 * the number of notifications. */
static unsigned run(alerts_rules *r, long k0, long k1, enum alerts_level m, bool maint, nlog *lg)
{
    unsigned n = 0;
    for (long k = k0; k < k1; k++) {
        T_CHECK(snap(r, 0, tk(k), m) == 0, "snapshot %ld refused", k);
        n += ev(r, tk(k), maint, lg, NULL) != ALERTS_NONE;
    }
    return n;
}

static void expect_kind(int line, enum alerts_kind got, enum alerts_kind want, long k)
{
    if (got != want)
        t_fail_at(__FILE__, line, "snapshot %ld (%.3f h): %s, want %s", k, tk(k), kn(got), kn(want));
}
#define EXPECT_KIND(got, want, k) expect_kind(__LINE__, (got), (want), (long)(k))

/* ---- names and configuration ------------------------------------------------------------------ */

static void test_level_names(void)
{
    static const char *const names[] = {"ok", "watch", "warning", "alarm"};
    for (int l = 0; l < ALERTS_NLEVELS; l++) {
        T_CHECK(strcmp(alerts_level_name((enum alerts_level)l), names[l]) == 0, "level %d named %s", l,
                alerts_level_name((enum alerts_level)l));
        T_CHECK(alerts_level_parse(names[l]) == l, "\"%s\" parsed as %d", names[l], alerts_level_parse(names[l]));
    }
    T_CHECK(alerts_level_parse("off") == ALERTS_OK, "\"off\" is ok for the input levels");
    static const char *const bad[] = {"", "alarms", "warn", "on", "none", "4", " ok", "ok "};
    for (size_t i = 0; i < N(bad); i++)
        T_CHECK(alerts_level_parse(bad[i]) == -1, "\"%s\" parsed as %d, want -1", bad[i], alerts_level_parse(bad[i]));
    T_CHECK(alerts_level_parse(NULL) == -1, "NULL parsed");
    T_CHECK(alerts_level_name(ALERTS_NLEVELS) != NULL && alerts_level_name((enum alerts_level)-1) != NULL,
            "a name for an unknown level must still be a string");
    static const char *const kinds[] = {"none", "raised", "lowered", "recovered", "repeat"};
    for (int k = 0; k < 5; k++)
        T_CHECK(strcmp(alerts_kind_name((enum alerts_kind)k), kinds[k]) == 0, "kind %d named %s", k,
                alerts_kind_name((enum alerts_kind)k));
    T_CHECK(alerts_kind_name((enum alerts_kind)99) != NULL, "an unknown kind must still have a name");
}

static void test_cfg_default(void)
{
    alerts_rules_cfg c;
    memset(&c, 0x5a, sizeof c);
    alerts_rules_cfg_default(&c);
    T_CHECK(c.debounce_k == 2 && c.debounce_n == 3, "debounce %u of %u, want 2 of 3", c.debounce_k, c.debounce_n);
    T_CHECK(c.clear_n == 3, "clear_n %u", c.clear_n);
    T_CHECK(c.min_interval_h == 1, "min_interval_h %g", c.min_interval_h);
    T_CHECK(c.repeat_h[ALERTS_OK] == 0 && c.repeat_h[ALERTS_WATCH] == 0 && c.repeat_h[ALERTS_WARNING] == 24 &&
                c.repeat_h[ALERTS_ALARM] == 4,
            "repeat_h %g %g %g %g, want 0 0 24 4", c.repeat_h[0], c.repeat_h[1], c.repeat_h[2], c.repeat_h[3]);
    T_CHECK(c.sensor_fault == ALERTS_WARNING && c.stopped == ALERTS_WARNING, "sensor_fault %s, stopped %s",
            lv(c.sensor_fault), lv(c.stopped));
    T_CHECK(c.iso_zone_c == ALERTS_WATCH && c.iso_zone_d == ALERTS_ALARM, "zones C %s, D %s", lv(c.iso_zone_c),
            lv(c.iso_zone_d));
    T_CHECK(isnan(c.temp_warning_c) && isnan(c.temp_alarm_c), "temperature limits must be off (NAN) by default");
    T_CHECK(c.temp_hysteresis_c == 5, "temp_hysteresis_c %g", c.temp_hysteresis_c);
    char err[200] = "";
    T_CHECK(alerts_rules_cfg_check(&c, err, sizeof err) == 0, "the default is refused: %s", err);
}

typedef struct bad_cfg {
    const char *field;
    void (*set)(alerts_rules_cfg *c);
} bad_cfg;

static void b_k0(alerts_rules_cfg *c) { c->debounce_k = 0; }
static void b_kn(alerts_rules_cfg *c) { c->debounce_k = 4; }
static void b_n0(alerts_rules_cfg *c) { c->debounce_n = 0, c->debounce_k = 0; }
static void b_nbig(alerts_rules_cfg *c) { c->debounce_n = ALERTS_MAX_DEBOUNCE + 1; }
static void b_c0(alerts_rules_cfg *c) { c->clear_n = 0; }
static void b_cbig(alerts_rules_cfg *c) { c->clear_n = ALERTS_MAX_DEBOUNCE + 1; }
static void b_mi_neg(alerts_rules_cfg *c) { c->min_interval_h = -1; }
static void b_mi_nan(alerts_rules_cfg *c) { c->min_interval_h = NAN; }
static void b_mi_inf(alerts_rules_cfg *c) { c->min_interval_h = INFINITY; }
static void b_rep_neg(alerts_rules_cfg *c) { c->repeat_h[ALERTS_WARNING] = -24; }
static void b_rep_nan(alerts_rules_cfg *c) { c->repeat_h[ALERTS_ALARM] = NAN; }
static void b_sf(alerts_rules_cfg *c) { c->sensor_fault = ALERTS_NLEVELS; }
static void b_st(alerts_rules_cfg *c) { c->stopped = (enum alerts_level)7; }
static void b_zc(alerts_rules_cfg *c) { c->iso_zone_c = (enum alerts_level)-1; }
static void b_zd(alerts_rules_cfg *c) { c->iso_zone_d = (enum alerts_level)9; }
static void b_tw(alerts_rules_cfg *c) { c->temp_warning_c = INFINITY; }
static void b_ta(alerts_rules_cfg *c) { c->temp_alarm_c = -INFINITY; }
static void b_order(alerts_rules_cfg *c) { c->temp_warning_c = 90, c->temp_alarm_c = 80; }
static void b_hy_neg(alerts_rules_cfg *c) { c->temp_hysteresis_c = -1; }
static void b_hy_nan(alerts_rules_cfg *c) { c->temp_hysteresis_c = NAN; }

static void test_cfg_check(void)
{
    static const bad_cfg bad[] = {
        {"debounce_k", b_k0},        {"debounce_k", b_kn},      {"debounce_n", b_n0},
        {"debounce_n", b_nbig},      {"clear_n", b_c0},         {"clear_n", b_cbig},
        {"min_interval_h", b_mi_neg}, {"min_interval_h", b_mi_nan}, {"min_interval_h", b_mi_inf},
        {"repeat_h", b_rep_neg},     {"repeat_h", b_rep_nan},   {"sensor_fault", b_sf},
        {"stopped", b_st},           {"iso_zone_c", b_zc},      {"iso_zone_d", b_zd},
        {"temp_warning_c", b_tw},    {"temp_alarm_c", b_ta},    {"temp_alarm_c", b_order},
        {"temp_hysteresis_c", b_hy_neg}, {"temp_hysteresis_c", b_hy_nan},
    };
    for (size_t i = 0; i < N(bad); i++) {
        alerts_rules_cfg c = defcfg();
        bad[i].set(&c);
        char err[200] = "";
        int rc = alerts_rules_cfg_check(&c, err, sizeof err);
        T_CHECK(rc == -EINVAL, "case %zu (%s): rc %d, want -EINVAL", i, bad[i].field, rc);
        T_CHECK(strstr(err, bad[i].field) != NULL, "case %zu: message \"%s\" does not name %s", i, err, bad[i].field);
        T_CHECK(alerts_rules_create(&c, 1) == NULL, "case %zu (%s): create took a configuration cfg_check refuses", i,
                bad[i].field);
    }
    /* values inside the ranges are taken */
    alerts_rules_cfg c = defcfg();
    c.debounce_k = c.debounce_n = c.clear_n = ALERTS_MAX_DEBOUNCE;
    c.min_interval_h = 0;
    c.repeat_h[ALERTS_WATCH] = 12;
    c.sensor_fault = ALERTS_OK;
    c.stopped = ALERTS_ALARM;
    c.iso_zone_c = ALERTS_OK;
    c.temp_warning_c = 70;
    c.temp_alarm_c = 70;
    c.temp_hysteresis_c = 0;
    char err[200] = "";
    T_CHECK(alerts_rules_cfg_check(&c, err, sizeof err) == 0, "a valid configuration refused: %s", err);
    c = defcfg();
    c.temp_alarm_c = 90; /* one limit alone */
    T_CHECK(alerts_rules_cfg_check(&c, err, sizeof err) == 0, "an alarm limit alone refused: %s", err);

    /* create: channel count */
    c = defcfg();
    T_CHECK(alerts_rules_create(&c, 0) == NULL, "0 channels taken");
    T_CHECK(alerts_rules_create(&c, ALERTS_MAX_CHANNELS + 1) == NULL, "too many channels taken");
    T_CHECK(alerts_rules_create(NULL, 1) == NULL, "a NULL configuration taken");
    alerts_rules *r = alerts_rules_create(&c, ALERTS_MAX_CHANNELS);
    T_CHECK(r != NULL, "%d channels refused", ALERTS_MAX_CHANNELS);
    if (r) {
        T_CHECK(alerts_rules_level(r) == ALERTS_OK && alerts_rules_notified(r) == ALERTS_OK && !alerts_rules_acked(r),
                "a new asset is not ok, notified ok, unacknowledged");
        alerts_decision d;
        alerts_rules_eval(r, 0, false, &d);
        T_CHECK(d.kind == ALERTS_NONE && d.level == ALERTS_OK, "a new asset notified %s", kn(d.kind));
    }
    alerts_rules_free(r);
    alerts_rules_free(NULL);
}

/* ---- debouncing --------------------------------------------------------------------------------- */

static void test_two_of_three(void)
{
    alerts_rules *r = mk(NULL, 1);
    if (!r)
        return;
    alerts_decision d;
    /* one raw alarm does not raise ... */
    EXPECT_KIND(feed(r, 0, ALERTS_ALARM, NULL, &d), ALERTS_NONE, 0);
    T_CHECK(alerts_rules_channel_level(r, 0) == ALERTS_OK && d.level == ALERTS_OK,
            "one raw alarm made the channel %s", lv(alerts_rules_channel_level(r, 0)));
    EXPECT_KIND(feed(r, 1, ALERTS_OK, NULL, &d), ALERTS_NONE, 1);
    /* ... two of the last three do (not in a row) */
    EXPECT_KIND(feed(r, 2, ALERTS_ALARM, NULL, &d), ALERTS_RAISED, 2);
    T_CHECK(d.level == ALERTS_ALARM && d.previous == ALERTS_OK && d.changed, "raised %s from %s (changed %d)",
            lv(d.level), lv(d.previous), d.changed);
    alerts_rules_free(r);

    /* two in a row */
    r = mk(NULL, 1);
    if (!r)
        return;
    EXPECT_KIND(feed(r, 0, ALERTS_ALARM, NULL, NULL), ALERTS_NONE, 0);
    EXPECT_KIND(feed(r, 1, ALERTS_ALARM, NULL, &d), ALERTS_RAISED, 1);
    T_CHECK(d.level == ALERTS_ALARM && d.nchannels == 1 && d.channels[0] == 0 && d.causes[0] == ALERTS_CAUSE_MODEL,
            "raised %s, %u channels, cause %#x", lv(d.level), d.nchannels, d.causes[0]);
    alerts_rules_free(r);

    /* alarm, ok, ok, alarm: never two of the last three */
    r = mk(NULL, 1);
    if (!r)
        return;
    static const enum alerts_level seq[] = {ALERTS_ALARM, ALERTS_OK, ALERTS_OK, ALERTS_ALARM, ALERTS_OK, ALERTS_OK};
    for (size_t k = 0; k < N(seq); k++) {
        EXPECT_KIND(feed(r, (long)k, seq[k], NULL, NULL), ALERTS_NONE, k);
        T_CHECK(alerts_rules_channel_level(r, 0) == ALERTS_OK, "snapshot %zu: %s", k,
                lv(alerts_rules_channel_level(r, 0)));
    }
    alerts_rules_free(r);

    /* rises to L when two of three are >= L: warning then alarm is warning, not alarm */
    r = mk(NULL, 1);
    if (!r)
        return;
    EXPECT_KIND(feed(r, 0, ALERTS_WARNING, NULL, NULL), ALERTS_NONE, 0);
    EXPECT_KIND(feed(r, 1, ALERTS_ALARM, NULL, &d), ALERTS_RAISED, 1);
    T_CHECK(d.level == ALERTS_WARNING, "warning + alarm raised %s, want warning", lv(d.level));
    EXPECT_KIND(feed(r, 2, ALERTS_OK, NULL, &d), ALERTS_NONE, 2);
    T_CHECK(alerts_rules_channel_level(r, 0) == ALERTS_WARNING, "warning, alarm, ok: %s, want warning",
            lv(alerts_rules_channel_level(r, 0)));
    alerts_rules_free(r);
}

static void test_clearing(void)
{
    alerts_rules *r = mk(NULL, 1);
    if (!r)
        return;
    run(r, 0, 2, ALERTS_ALARM, false, NULL);
    T_CHECK(alerts_rules_channel_level(r, 0) == ALERTS_ALARM, "not alarm after two raw alarms");
    /* two below, then one at the level: the count starts again */
    run(r, 2, 4, ALERTS_OK, false, NULL);
    T_CHECK(alerts_rules_channel_level(r, 0) == ALERTS_ALARM, "cleared after 2 below (clear_n 3)");
    run(r, 4, 5, ALERTS_ALARM, false, NULL);
    run(r, 5, 7, ALERTS_OK, false, NULL);
    T_CHECK(alerts_rules_channel_level(r, 0) == ALERTS_ALARM, "cleared without 3 in a row below");
    run(r, 7, 8, ALERTS_OK, false, NULL);
    T_CHECK(alerts_rules_channel_level(r, 0) == ALERTS_OK, "still %s after 3 in a row below",
            lv(alerts_rules_channel_level(r, 0)));
    alerts_rules_free(r);

    /* falls to the highest of the last clear_n: alarm; then warning, watch, ok -> warning */
    r = mk(NULL, 1);
    if (!r)
        return;
    run(r, 0, 2, ALERTS_ALARM, false, NULL);
    static const enum alerts_level seq[] = {ALERTS_WARNING, ALERTS_WATCH, ALERTS_OK, ALERTS_OK, ALERTS_OK};
    static const enum alerts_level want[] = {ALERTS_ALARM, ALERTS_ALARM, ALERTS_WARNING, ALERTS_WATCH, ALERTS_OK};
    for (size_t i = 0; i < N(seq); i++) {
        run(r, 2 + (long)i, 3 + (long)i, seq[i], false, NULL);
        T_CHECK(alerts_rules_channel_level(r, 0) == want[i], "step %zu (raw %s): %s, want %s", i, lv(seq[i]),
                lv(alerts_rules_channel_level(r, 0)), lv(want[i]));
    }
    alerts_rules_free(r);

    /* a level at or above the channel's holds it (a raw warning does not clear warning) */
    r = mk(NULL, 1);
    if (!r)
        return;
    run(r, 0, 2, ALERTS_WARNING, false, NULL);
    run(r, 2, 20, ALERTS_WARNING, false, NULL);
    T_CHECK(alerts_rules_channel_level(r, 0) == ALERTS_WARNING, "a held warning moved");
    alerts_rules_free(r);
}

/* Another k of n and clear_n: 3 of 5, clear after 2. */
static void test_custom_debounce(void)
{
    alerts_rules_cfg c = defcfg();
    c.debounce_k = 3;
    c.debounce_n = 5;
    c.clear_n = 2;
    alerts_rules *r = mk(&c, 1);
    if (!r)
        return;
    static const enum alerts_level seq[] = {ALERTS_WARNING, ALERTS_OK, ALERTS_WARNING, ALERTS_OK, ALERTS_WARNING,
                                            ALERTS_OK, ALERTS_OK, ALERTS_WARNING};
    static const enum alerts_level want[] = {ALERTS_OK, ALERTS_OK, ALERTS_OK, ALERTS_OK, ALERTS_WARNING,
                                             ALERTS_WARNING, ALERTS_OK, ALERTS_OK};
    for (size_t i = 0; i < N(seq); i++) {
        run(r, (long)i, (long)i + 1, seq[i], false, NULL);
        T_CHECK(alerts_rules_channel_level(r, 0) == want[i], "3 of 5, step %zu (raw %s): %s, want %s", i, lv(seq[i]),
                lv(alerts_rules_channel_level(r, 0)), lv(want[i]));
    }
    alerts_rules_free(r);

    /* 1 of 1, clear after 1: the raw level itself */
    c = defcfg();
    c.debounce_k = c.debounce_n = c.clear_n = 1;
    r = mk(&c, 1);
    if (!r)
        return;
    static const enum alerts_level seq2[] = {ALERTS_WATCH, ALERTS_ALARM, ALERTS_OK, ALERTS_WARNING, ALERTS_WATCH};
    for (size_t i = 0; i < N(seq2); i++) {
        run(r, (long)i, (long)i + 1, seq2[i], false, NULL);
        T_CHECK(alerts_rules_channel_level(r, 0) == seq2[i], "1 of 1, step %zu: %s, want %s", i,
                lv(alerts_rules_channel_level(r, 0)), lv(seq2[i]));
    }
    alerts_rules_free(r);
}

/* ---- the asset: its level and the channels a notification names -------------------------------- */

static void test_pump_three_channels(void)
{
    alerts_rules_cfg c = defcfg();
    c.temp_warning_c = 70;
    c.temp_alarm_c = 90;
    alerts_rules *r = mk(&c, 4);
    if (!r)
        return;
    alerts_decision d;
    nlog *lg = fresh_log();
    /* ch0 the model, ch1 ISO zone D, ch2 the temperature: all alarm; ch3 a sensor fault: warning */
    for (long k = 0; k < 2; k++) {
        double t = tk(k);
        alerts_input a = inm(t, ALERTS_ALARM), b = inm(t, ALERTS_OK), e = intemp(t, 95), f = inm(t, ALERTS_OK);
        a.temp_c = 40;
        b.iso_zone = 4;
        f.sensor_fault = true;
        T_CHECK(alerts_rules_update(r, 0, &a) == 0 && alerts_rules_update(r, 1, &b) == 0 &&
                    alerts_rules_update(r, 2, &e) == 0 && alerts_rules_update(r, 3, &f) == 0,
                "an update refused");
        enum alerts_kind kind = ev(r, t, false, lg, &d);
        EXPECT_KIND(kind, k == 0 ? ALERTS_NONE : ALERTS_RAISED, k);
    }
    T_CHECK(lg->n == 1, "%u notifications for one fault seen by three sensors, want 1", lg->n);
    T_CHECK(d.level == ALERTS_ALARM && alerts_rules_level(r) == ALERTS_ALARM, "asset %s, want alarm", lv(d.level));
    T_CHECK(d.nchannels == 3, "the notification names %u channels, want 3", d.nchannels);
    static const unsigned want_cause[] = {ALERTS_CAUSE_MODEL, ALERTS_CAUSE_ISO, ALERTS_CAUSE_TEMP};
    for (unsigned i = 0; i < 3 && i < d.nchannels; i++)
        T_CHECK(d.channels[i] == i && d.causes[i] == want_cause[i], "entry %u: channel %u cause %#x, want %u %#x", i,
                d.channels[i], d.causes[i], i, want_cause[i]);
    T_CHECK(alerts_rules_channel_level(r, 3) == ALERTS_WARNING, "the faulty sensor's channel is %s",
            lv(alerts_rules_channel_level(r, 3)));

    /* the three clear; the sensor fault stays: lowered to warning after the interval, naming the
     * channels that were at alarm */
    long k = 2, lowered_at = -1;
    for (; k < 2 + 2 * PER_H; k++) {
        double t = tk(k);
        alerts_input a = inm(t, ALERTS_OK), b = inm(t, ALERTS_OK), e = intemp(t, 40), f = inm(t, ALERTS_OK);
        b.iso_zone = 1;
        f.sensor_fault = true;
        alerts_rules_update(r, 0, &a);
        alerts_rules_update(r, 1, &b);
        alerts_rules_update(r, 2, &e);
        alerts_rules_update(r, 3, &f);
        if (ev(r, t, false, lg, &d) != ALERTS_NONE && lowered_at < 0) {
            lowered_at = k;
            T_CHECK(d.kind == ALERTS_LOWERED && d.level == ALERTS_WARNING && d.previous == ALERTS_ALARM,
                    "%s to %s from %s, want lowered to warning from alarm", kn(d.kind), lv(d.level), lv(d.previous));
            T_CHECK(d.nchannels == 3 && d.channels[0] == 0 && d.channels[1] == 1 && d.channels[2] == 2,
                    "lowered names %u channels, want the three that were at alarm", d.nchannels);
        }
    }
    T_CHECK(lowered_at == 1 + PER_H, "lowered at snapshot %ld, want %d (1 h after the raise)", lowered_at,
            1 + PER_H);
    T_CHECK(lg->n == 2, "%u notifications, want 2", lg->n);
    /* a day later the warning repeats, naming the faulty sensor only */
    unsigned before = lg->n;
    for (; k <= 1 + PER_H + DAY; k++) {
        double t = tk(k);
        alerts_input a = inm(t, ALERTS_OK), f = inm(t, ALERTS_OK);
        f.sensor_fault = true;
        alerts_rules_update(r, 0, &a);
        alerts_rules_update(r, 3, &f);
        ev(r, t, false, lg, &d);
    }
    T_CHECK(lg->n == before + 1 && d.kind == ALERTS_REPEAT, "%u notifications in the day after, last %s, want 1 repeat",
            lg->n - before, kn(d.kind));
    T_CHECK(d.level == ALERTS_WARNING && d.nchannels == 1 && d.channels[0] == 3 &&
                d.causes[0] == ALERTS_CAUSE_SENSOR_FAULT,
            "the repeat: %s, %u channels, first %u cause %#x", lv(d.level), d.nchannels, d.channels[0], d.causes[0]);
    alerts_rules_free(r);
}

/* The asset's level is the highest of its channels'; channels at a lower level are not named. */
static void test_asset_level_is_max(void)
{
    alerts_rules *r = mk(NULL, 3);
    if (!r)
        return;
    alerts_decision d;
    for (long k = 0; k < 2; k++) {
        snap(r, 0, tk(k), ALERTS_WATCH);
        snap(r, 1, tk(k), ALERTS_WARNING);
        snap(r, 2, tk(k), ALERTS_OK);
        ev(r, tk(k), false, NULL, &d);
    }
    T_CHECK(d.kind == ALERTS_RAISED && d.level == ALERTS_WARNING && d.nchannels == 1 && d.channels[0] == 1,
            "%s %s naming %u channels (first %u), want raised warning naming channel 1", kn(d.kind), lv(d.level),
            d.nchannels, d.channels[0]);
    T_CHECK(alerts_rules_channel_level(r, 0) == ALERTS_WATCH && alerts_rules_channel_level(r, 2) == ALERTS_OK,
            "channel levels %s, %s", lv(alerts_rules_channel_level(r, 0)), lv(alerts_rules_channel_level(r, 2)));
    /* channel 2 joins at warning: the level does not change, nothing is sent */
    for (long k = 2; k < 4; k++) {
        snap(r, 2, tk(k), ALERTS_WARNING);
        EXPECT_KIND(ev(r, tk(k), false, NULL, &d), ALERTS_NONE, k);
    }
    /* channel 0 goes to alarm: raised naming channel 0 alone */
    for (long k = 4; k < 6; k++) {
        snap(r, 0, tk(k), ALERTS_ALARM);
        ev(r, tk(k), false, NULL, &d);
    }
    T_CHECK(d.kind == ALERTS_RAISED && d.level == ALERTS_ALARM && d.previous == ALERTS_WARNING && d.nchannels == 1 &&
                d.channels[0] == 0,
            "%s %s from %s naming %u channels", kn(d.kind), lv(d.level), lv(d.previous), d.nchannels);
    alerts_rules_free(r);
}

/* ---- raised, lowered, recovered ----------------------------------------------------------------- */

static void test_raised_on_worsening(void)
{
    alerts_rules *r = mk(NULL, 1);
    if (!r)
        return;
    nlog *lg = fresh_log();
    static const enum alerts_level seq[] = {ALERTS_WATCH,   ALERTS_WATCH, ALERTS_WARNING,
                                            ALERTS_WARNING, ALERTS_ALARM, ALERTS_ALARM};
    for (size_t k = 0; k < N(seq); k++)
        feed(r, (long)k, seq[k], lg, NULL);
    T_CHECK(lg->n == 3 && lg->kinds[ALERTS_RAISED] == 3, "ok -> watch -> warning -> alarm in 50 min: %u notifications "
            "(%u raised), want 3 raised", lg->n, lg->kinds[ALERTS_RAISED]);
    static const enum alerts_level want[] = {ALERTS_WATCH, ALERTS_WARNING, ALERTS_ALARM};
    for (unsigned i = 0; i < 3 && i < lg->n; i++)
        T_CHECK(lg->level[i] == want[i] && lg->prev[i] == (enum alerts_level)i && lg->t[i] == tk(2 * i + 1),
                "notification %u: %s from %s at %.3f h", i, lv(lg->level[i]), lv(lg->prev[i]), lg->t[i]);
    alerts_rules_free(r);
}

static void test_lowered_and_recovered(void)
{
    alerts_rules *r = mk(NULL, 1);
    if (!r)
        return;
    nlog *lg = fresh_log();
    alerts_decision d;
    run(r, 0, 2, ALERTS_ALARM, false, lg); /* raised at snapshot 1 */
    T_CHECK(lg->n == 1 && lg->kind[0] == ALERTS_RAISED, "not raised");
    /* warning from snapshot 2: the channel is warning from snapshot 4, lowered only at 1 + 6 */
    for (long k = 2; k < 1 + PER_H; k++)
        EXPECT_KIND(feed(r, k, ALERTS_WARNING, lg, NULL), ALERTS_NONE, k);
    T_CHECK(alerts_rules_level(r) == ALERTS_WARNING && alerts_rules_notified(r) == ALERTS_ALARM,
            "level %s notified %s before the interval", lv(alerts_rules_level(r)), lv(alerts_rules_notified(r)));
    EXPECT_KIND(feed(r, 1 + PER_H, ALERTS_WARNING, lg, &d), ALERTS_LOWERED, 1 + PER_H);
    T_CHECK(d.level == ALERTS_WARNING && d.previous == ALERTS_ALARM && d.nchannels == 1 && d.channels[0] == 0,
            "lowered to %s from %s naming %u", lv(d.level), lv(d.previous), d.nchannels);
    /* ok from the next snapshot: the channel is ok 3 snapshots later, recovered 1 h after lowered */
    long k0 = 2 + PER_H, due = 1 + 2 * PER_H;
    for (long k = k0; k < due; k++)
        EXPECT_KIND(feed(r, k, ALERTS_OK, lg, NULL), ALERTS_NONE, k);
    EXPECT_KIND(feed(r, due, ALERTS_OK, lg, &d), ALERTS_RECOVERED, due);
    T_CHECK(d.level == ALERTS_OK && d.previous == ALERTS_WARNING && d.nchannels == 1 && d.channels[0] == 0 &&
                d.causes[0] == ALERTS_CAUSE_MODEL,
            "recovered: %s from %s naming %u channels", lv(d.level), lv(d.previous), d.nchannels);
    /* exactly once: three days of ok, and evaluations without snapshots, send nothing */
    unsigned before = lg->n;
    run(r, due + 1, due + 3 * DAY, ALERTS_OK, false, lg);
    for (int i = 0; i < 100; i++)
        ev(r, tk(due + 3 * DAY) + i, false, lg, NULL);
    T_CHECK(lg->n == before, "%u notifications after recovered", lg->n - before);
    alerts_rules_free(r);

    /* straight from alarm to ok: one "recovered", no "lowered" on the way */
    r = mk(NULL, 1);
    if (!r)
        return;
    lg = fresh_log();
    run(r, 0, 2, ALERTS_ALARM, false, lg);
    run(r, 2, 3, ALERTS_WARNING, false, lg);
    run(r, 3, 4, ALERTS_WATCH, false, lg);
    run(r, 4, 3 * PER_H, ALERTS_OK, false, lg);
    T_CHECK(lg->n == 2 && lg->kind[1] == ALERTS_RECOVERED && lg->t[1] == tk(1 + PER_H),
            "alarm, then ok within the interval: %u notifications, second %s at %.3f h", lg->n,
            lg->n > 1 ? kn(lg->kind[1]) : "-", lg->n > 1 ? lg->t[1] : NAN);
    alerts_rules_free(r);

    /* a flap inside the interval sends nothing */
    r = mk(NULL, 1);
    if (!r)
        return;
    lg = fresh_log();
    run(r, 0, 2, ALERTS_ALARM, false, lg);
    run(r, 2, 5, ALERTS_OK, false, lg); /* ok from snapshot 4 */
    T_CHECK(alerts_rules_level(r) == ALERTS_OK, "did not clear");
    run(r, 5, 3 * PER_H, ALERTS_ALARM, false, lg); /* alarm again from 6, before the interval ends at 7 */
    T_CHECK(lg->n == 1, "alarm, ok, alarm inside the interval: %u notifications, want 1 (the raise)", lg->n);
    alerts_rules_free(r);

    /* lowered only if it still holds: alarm -> warning -> alarm again before the interval */
    r = mk(NULL, 1);
    if (!r)
        return;
    lg = fresh_log();
    run(r, 0, 2, ALERTS_ALARM, false, lg);
    run(r, 2, 5, ALERTS_WARNING, false, lg);
    run(r, 5, 3 * PER_H, ALERTS_ALARM, false, lg);
    T_CHECK(lg->n == 1, "alarm, warning, alarm inside the interval: %u notifications, want 1", lg->n);
    alerts_rules_free(r);
}

/* "raised at once when it is above every level notified within min_interval_h", read as every level
 * that was the notified one within that time: an alarm lowered to watch 20 min ago still counts, so
 * a warning now waits for the interval (otherwise a flap recovers and raises again at once, twice
 * per interval, past the header's bound). Above all of them, a raise goes at once. */
static void test_raised_held(void)
{
    alerts_rules *r = mk(NULL, 1);
    if (!r)
        return;
    nlog *lg = fresh_log();
    run(r, 0, 2, ALERTS_ALARM, false, lg);                 /* raised alarm at 1 */
    run(r, 2, 1 + PER_H + 1, ALERTS_WATCH, false, lg);     /* lowered to watch at 7 */
    T_CHECK(lg->n == 2 && lg->kind[1] == ALERTS_LOWERED && lg->t[1] == tk(1 + PER_H), "lowered: %u notifications",
            lg->n);
    run(r, 1 + PER_H + 1, 1 + 3 * PER_H, ALERTS_WARNING, false, lg); /* warning from 9 */
    T_CHECK(lg->n == 3, "%u notifications, want 3", lg->n);
    if (lg->n == 3)
        T_CHECK(lg->kind[2] == ALERTS_RAISED && lg->level[2] == ALERTS_WARNING && lg->t[2] == tk(1 + 2 * PER_H),
                "warning after the alarm was lowered: %s %s at %.3f h, want raised warning at %.3f h (held "
                "until 1 h after the alarm was lowered)",
                kn(lg->kind[2]), lv(lg->level[2]), lg->t[2], tk(1 + 2 * PER_H));
    alerts_rules_free(r);

    /* warning notified, lowered to ok; alarm shortly after: above every level of the last hour, at once */
    r = mk(NULL, 1);
    if (!r)
        return;
    lg = fresh_log();
    run(r, 0, 2, ALERTS_WARNING, false, lg);
    run(r, 2, 1 + PER_H + 1, ALERTS_OK, false, lg); /* recovered at 7 */
    run(r, 1 + PER_H + 1, 1 + PER_H + 3, ALERTS_ALARM, false, lg);
    T_CHECK(lg->n == 3 && lg->kind[2] == ALERTS_RAISED && lg->level[2] == ALERTS_ALARM &&
                lg->t[2] == tk(1 + PER_H + 2),
            "alarm 20 min after the warning recovered: %u notifications, want raised at once", lg->n);
    alerts_rules_free(r);
}

/* ---- repeats ------------------------------------------------------------------------------------ */

static void test_repeats(void)
{
    static const struct {
        enum alerts_level l;
        double every;
    } cases[] = {{ALERTS_WATCH, 0}, {ALERTS_WARNING, 24}, {ALERTS_ALARM, 4}};
    const long days = 5, end = days * DAY;
    for (size_t i = 0; i < N(cases); i++) {
        alerts_rules *r = mk(NULL, 1);
        if (!r)
            return;
        nlog *lg = fresh_log();
        run(r, 0, end + 1, cases[i].l, false, lg);
        T_CHECK(lg->kinds[ALERTS_RAISED] == 1 && lg->kind[0] == ALERTS_RAISED && lg->t[0] == tk(1),
                "%s: not raised once at the second snapshot", lv(cases[i].l));
        unsigned want = cases[i].every > 0 ? (unsigned)floor((tk(end) - tk(1)) / cases[i].every + 1e-9) : 0;
        T_CHECK(lg->kinds[ALERTS_REPEAT] == want && lg->n == want + 1,
                "%s over %ld days of snapshots every 10 min: %u repeats (%u notifications), want %u (every %g h)",
                lv(cases[i].l), days, lg->kinds[ALERTS_REPEAT], lg->n, want, cases[i].every);
        for (unsigned j = 1; j < lg->n; j++)
            T_CHECK(fabs(lg->t[j] - lg->t[j - 1] - cases[i].every) < 1e-6 && lg->level[j] == cases[i].l,
                    "%s: repeat %u %.4f h after the previous notification, want %g", lv(cases[i].l), j,
                    lg->t[j] - lg->t[j - 1], cases[i].every);
        alerts_rules_free(r);
    }

    /* a configured watch repeat, and a repeat falls due with evaluations alone (no snapshots) */
    alerts_rules_cfg c = defcfg();
    c.repeat_h[ALERTS_WATCH] = 12;
    alerts_rules *r = mk(&c, 1);
    if (!r)
        return;
    nlog *lg = fresh_log();
    run(r, 0, 2, ALERTS_WATCH, false, lg);
    for (long k = 2; k <= 2 * DAY + 1; k++)
        ev(r, tk(k), false, lg, NULL);
    T_CHECK(lg->n == 5 && lg->kinds[ALERTS_REPEAT] == 4, "watch every 12 h over 2 days: %u notifications", lg->n);
    alerts_rules_free(r);
}

/* ---- acknowledgement ---------------------------------------------------------------------------- */

static void test_ack(void)
{
    /* nothing to acknowledge */
    alerts_rules *r = mk(NULL, 1);
    if (!r)
        return;
    T_CHECK(alerts_rules_ack(r) == ALERTS_OK && !alerts_rules_acked(r), "an ok asset acknowledged");
    alerts_rules_free(r);
    T_CHECK(alerts_rules_ack(NULL) == ALERTS_OK, "ack(NULL)");

    /* acknowledging stops the repeats */
    r = mk(NULL, 1);
    if (!r)
        return;
    nlog *lg = fresh_log();
    run(r, 0, 2, ALERTS_ALARM, false, lg);
    T_CHECK(alerts_rules_ack(r) == ALERTS_ALARM && alerts_rules_acked(r), "alarm not acknowledged");
    run(r, 2, 2 + 2 * DAY, ALERTS_ALARM, false, lg);
    T_CHECK(lg->n == 1, "%u notifications in 2 days of an acknowledged alarm, want 1 (the raise)", lg->n);
    T_CHECK(alerts_rules_acked(r), "the acknowledgement went away");
    alerts_rules_free(r);

    /* a worse level after the acknowledgement: raised at once, the acknowledgement ends, repeats resume */
    r = mk(NULL, 1);
    if (!r)
        return;
    lg = fresh_log();
    run(r, 0, 2, ALERTS_WARNING, false, lg);
    T_CHECK(alerts_rules_ack(r) == ALERTS_WARNING, "warning not acknowledged");
    run(r, 2, 2 + 10 * PER_H, ALERTS_WARNING, false, lg);
    T_CHECK(lg->n == 1, "acknowledged warning: %u notifications", lg->n);
    long k0 = 2 + 10 * PER_H;
    run(r, k0, k0 + 2, ALERTS_ALARM, false, lg);
    T_CHECK(lg->n == 2 && lg->kind[1] == ALERTS_RAISED && lg->level[1] == ALERTS_ALARM && lg->t[1] == tk(k0 + 1),
            "alarm after an acknowledged warning: %u notifications, want raised at once", lg->n);
    T_CHECK(!alerts_rules_acked(r), "still acknowledged at a worse level");
    run(r, k0 + 2, k0 + 1 + 12 * PER_H + 1, ALERTS_ALARM, false, lg);
    T_CHECK(lg->n == 5 && lg->kinds[ALERTS_REPEAT] == 3, "12 h of the unacknowledged alarm: %u repeats, want 3",
            lg->kinds[ALERTS_REPEAT]);
    alerts_rules_free(r);

    /* acknowledged at alarm, lowered to warning: lowered is sent, warning repeats stay silenced;
     * recovery ends the acknowledgement; a new warning repeats again */
    r = mk(NULL, 1);
    if (!r)
        return;
    lg = fresh_log();
    run(r, 0, 2, ALERTS_ALARM, false, lg);
    alerts_rules_ack(r);
    run(r, 2, 2 + 3 * DAY, ALERTS_WARNING, false, lg);
    T_CHECK(lg->n == 2 && lg->kind[1] == ALERTS_LOWERED, "lowered under an alarm's acknowledgement: %u notifications",
            lg->n);
    T_CHECK(alerts_rules_acked(r), "lowering ended the acknowledgement");
    k0 = 2 + 3 * DAY;
    run(r, k0, k0 + 3, ALERTS_OK, false, lg);
    T_CHECK(lg->n == 3 && lg->kind[2] == ALERTS_RECOVERED, "not recovered: %u notifications", lg->n);
    T_CHECK(!alerts_rules_acked(r), "recovery did not end the acknowledgement");
    k0 += 3;
    run(r, k0, k0 + 2 * DAY, ALERTS_WARNING, false, lg);
    T_CHECK(lg->n == 3 + 1 + 1 && lg->kind[3] == ALERTS_RAISED && lg->kind[4] == ALERTS_REPEAT,
            "a new warning after recovery: %u notifications, want raised + 1 repeat", lg->n - 3);
    alerts_rules_free(r);
}

/* A flap to ok that was never notified (inside the interval) is not a recovery: the acknowledgement
 * stands (reading: "recovery" is the recovered notification). */
static void test_ack_survives_unnotified_flap(void)
{
    alerts_rules *r = mk(NULL, 1);
    if (!r)
        return;
    nlog *lg = fresh_log();
    run(r, 0, 2, ALERTS_ALARM, false, lg);
    alerts_rules_ack(r);
    run(r, 2, 5, ALERTS_OK, false, lg); /* ok from 4, 30 min after the raise */
    T_CHECK(alerts_rules_level(r) == ALERTS_OK, "did not clear");
    run(r, 5, 2 * DAY, ALERTS_ALARM, false, lg); /* alarm again from 6, before the interval */
    T_CHECK(lg->n == 1, "%u notifications (%u repeats) after an acknowledged alarm flapped to ok unnoticed",
            lg->n, lg->kinds[ALERTS_REPEAT]);
    T_CHECK(alerts_rules_acked(r), "the acknowledgement went away");
    alerts_rules_free(r);
}

/* ---- flapping ----------------------------------------------------------------------------------- */

/* Runs the raw levels on one channel with min_interval_h m and checks the header's bound, "at most
 * one notification per min_interval_h plus one per level it climbs to":
 *   - a notification sent less than m after the previous one is a raise above every level that was
 *     the notified one within the last m (a climb);
 *   - in every window of length m: at most one notification plus one per level raised to in it;
 *   - over the run: at most floor(T/m) + 1 notifications plus the climbs, and when two_levels (the
 *     input flaps between ok and one level), plus the levels reached (the bound computed from the
 *     input alone).
 * Returns the number of notifications (g_log holds them). */
static unsigned check_flap(const char *what, double m, const unsigned char *raw, long steps, bool two_levels)
{
    alerts_rules_cfg c = defcfg();
    c.min_interval_h = m;
    alerts_rules *r = mk(&c, 1);
    if (!r)
        return 0;
    nlog *lg = fresh_log();
    unsigned seen = 0, bad = 0, climbs = 0;
    for (long k = 0; k < steps; k++) {
        unsigned before = lg->n;
        feed(r, k, (enum alerts_level)raw[k], lg, NULL);
        seen |= 1u << alerts_rules_level(r);
        if (lg->n == before || lg->n == LOG_MAX)
            continue;
        unsigned j = lg->n - 1;
        double t = lg->t[j];
        if (j > 0 && t - lg->t[j - 1] < m - 1e-9) {
            /* a fast one: must climb above every level in force during (t - m, t] */
            enum alerts_level top = lg->level[j - 1];
            for (unsigned i = 0; i + 1 < j; i++)
                if (lg->t[i + 1] > t - m + 1e-9 && lg->level[i] > top)
                    top = lg->level[i];
            climbs++;
            if ((lg->kind[j] != ALERTS_RAISED || lg->level[j] <= top) && !bad++)
                T_CHECK(0, "%s: %s %s at %.3f h, %.3f h after the previous notification, with %s notified "
                        "within the last %g h",
                        what, kn(lg->kind[j]), lv(lg->level[j]), t, t - lg->t[j - 1], lv(top), m);
        }
        /* the window (t - m, t] */
        unsigned in_window = 0, raised_to = 0;
        for (unsigned i = j + 1; i-- > 0 && lg->t[i] > t - m + 1e-9;) {
            in_window++;
            if (lg->kind[i] == ALERTS_RAISED)
                raised_to |= 1u << lg->level[i];
        }
        unsigned levels = (unsigned)__builtin_popcount(raised_to);
        if (in_window > 1 + levels && !bad++)
            T_CHECK(0, "%s: %u notifications in the %g h up to %.3f h, raising to %u levels", what, in_window, m, t,
                    levels);
    }
    unsigned reached = (unsigned)__builtin_popcount(seen & ~1u);
    double T = tk(steps - 1);
    unsigned per_interval = (unsigned)floor(T / m + 1e-9) + 1;
    unsigned bound = per_interval + (two_levels ? reached : climbs);
    T_CHECK(lg->n <= bound, "%s: %u notifications in %.0f h (%u raised, %u lowered, %u recovered, %u repeats), "
            "bound %u (one per %g h: %u, + %s: %u)",
            what, lg->n, T, lg->kinds[1], lg->kinds[2], lg->kinds[3], lg->kinds[4], bound, m, per_interval,
            two_levels ? "levels reached" : "climbs", two_levels ? reached : climbs);
    if (two_levels)
        T_CHECK(climbs <= 1, "%s: %u fast raises between two levels", what, climbs);
    printf("# %s: %ld snapshots, %u changes of the debounced level, %u notifications (%u climbs), bound %u\n", what,
           steps, lg->changes, lg->n, climbs, bound);
    alerts_rules_free(r);
    return lg->n;
}

static void test_flapping_alternating(void)
{
    const long steps = 2 * DAY;
    unsigned char *raw = malloc((size_t)steps);
    if (!raw) {
        T_CHECK(0, "no memory");
        return;
    }
    /* every snapshot: ok, alarm, ok, alarm: two of three always hold it at alarm (never 3 ok in a
     * row), so one raise and the alarm's repeats */
    for (long k = 0; k < steps; k++)
        raw[k] = k % 2 ? ALERTS_ALARM : ALERTS_OK;
    check_flap("alternating every snapshot", 1, raw, steps, true);
    T_CHECK(g_log.kinds[ALERTS_RAISED] == 1 && g_log.kinds[ALERTS_LOWERED] == 0 &&
                g_log.kinds[ALERTS_RECOVERED] == 0,
            "alternating every snapshot: %u raised, %u lowered, %u recovered, want 1, 0, 0",
            g_log.kinds[ALERTS_RAISED], g_log.kinds[ALERTS_LOWERED], g_log.kinds[ALERTS_RECOVERED]);
    T_CHECK(g_log.kinds[ALERTS_REPEAT] == (unsigned)floor((tk(steps - 1) - g_log.t[0]) / 4 + 1e-9),
            "alternating every snapshot: %u repeats", g_log.kinds[ALERTS_REPEAT]);
    /* slower square waves do clear and raise again, faster than the interval */
    static const int halves[] = {2, 3, 4, 5, 7};
    for (size_t i = 0; i < N(halves); i++) {
        for (long k = 0; k < steps; k++)
            raw[k] = (k / halves[i]) % 2 ? ALERTS_OK : ALERTS_ALARM;
        char what[64];
        snprintf(what, sizeof what, "square wave of %d + %d snapshots", halves[i], halves[i]);
        check_flap(what, 1, raw, steps, true);
        if (halves[i] == 3)
            T_CHECK(g_log.changes > 1.5 * tk(steps), "the 3 + 3 square wave changed the level only %u times",
                    g_log.changes);
        snprintf(what, sizeof what, "square wave of %d + %d, 2 h interval", halves[i], halves[i]);
        check_flap(what, 2, raw, steps, true);
    }
    /* a staircase ok -> watch -> warning -> alarm -> ok, one step every 20 min: it climbs anew in
     * every cycle, so only the per-window bound and the one per interval apart from climbs hold */
    for (long k = 0; k < steps; k++)
        raw[k] = (unsigned char)((k / 2) % 4);
    check_flap("staircase every 20 min", 1, raw, steps, false);
    for (long k = 0; k < steps; k++)
        raw[k] = (unsigned char)(k % 8 < 4 ? 3 - (k / 2) % 2 * 2 : 0); /* alarm, alarm, watch, watch, ok x4 */
    check_flap("alarm/watch/ok cycle", 1, raw, steps, false);
    free(raw);
}

static void test_flapping_random(void)
{
    const long steps = 3 * DAY;
    unsigned char *raw = malloc((size_t)steps);
    if (!raw) {
        T_CHECK(0, "no memory");
        return;
    }
    t_rng_seed(20240611);
    /* ok or alarm at random, each snapshot */
    for (long k = 0; k < steps; k++)
        raw[k] = t_urand() < 0.5 ? ALERTS_ALARM : ALERTS_OK;
    check_flap("random ok/alarm", 1, raw, steps, true);
    check_flap("random ok/alarm, 30 min interval", 0.5, raw, steps, true);
    /* mostly ok with bursts of alarm */
    for (long k = 0; k < steps; k++)
        raw[k] = t_urand() < 0.3 ? ALERTS_ALARM : ALERTS_OK;
    check_flap("random 30% alarm", 1, raw, steps, true);
    /* random bursts just long enough to raise (2-3 alarms) and to clear (3-4 ok): the debounced
     * level itself flaps, far more often than the bound */
    for (long k = 0; k < steps;) {
        long a = 2 + (t_urand() < 0.5), o = 3 + (t_urand() < 0.3);
        for (long j = 0; j < a && k < steps; j++)
            raw[k++] = ALERTS_ALARM;
        for (long j = 0; j < o && k < steps; j++)
            raw[k++] = ALERTS_OK;
    }
    unsigned bound = (unsigned)floor(tk(steps - 1)) + 2;
    check_flap("random bursts", 1, raw, steps, true);
    T_CHECK(g_log.changes > 2 * bound, "random bursts changed the level only %u times: too tame", g_log.changes);
    check_flap("random bursts, 3 h interval", 3, raw, steps, true);
    /* all four levels at random, each snapshot, and sticky */
    for (long k = 0; k < steps; k++)
        raw[k] = (unsigned char)((int)(t_urand() * 4) % 4);
    check_flap("random over all levels", 1, raw, steps, false);
    unsigned char cur = ALERTS_OK;
    for (long k = 0; k < steps; k++) {
        if (t_urand() < 0.3)
            cur = (unsigned char)((int)(t_urand() * 4) % 4);
        raw[k] = cur;
    }
    check_flap("sticky random over all levels", 1, raw, steps, false);
    check_flap("sticky random over all levels, 2 h interval", 2, raw, steps, false);
    free(raw);
}

/* ---- maintenance windows ------------------------------------------------------------------------ */

static void test_maintenance(void)
{
    /* ok notified (never anything); alarm during the window: notified once when it ends */
    alerts_rules *r = mk(NULL, 1);
    if (!r)
        return;
    nlog *lg = fresh_log();
    run(r, 0, 12, ALERTS_OK, true, lg);
    run(r, 12, 30, ALERTS_ALARM, true, lg);
    T_CHECK(lg->n == 0, "%u notifications during the window", lg->n);
    run(r, 30, 31, ALERTS_ALARM, false, lg);
    T_CHECK(lg->n == 1 && lg->kind[0] == ALERTS_RAISED && lg->level[0] == ALERTS_ALARM && lg->t[0] == tk(30),
            "at the window's end: %u notifications, want raised alarm", lg->n);
    run(r, 31, 30 + 4 * PER_H, ALERTS_ALARM, false, lg);
    T_CHECK(lg->n == 1, "%u notifications in the 4 h after the window's end", lg->n);
    run(r, 30 + 4 * PER_H, 30 + 4 * PER_H + 1, ALERTS_ALARM, false, lg);
    T_CHECK(lg->n == 2 && lg->kind[1] == ALERTS_REPEAT, "no repeat 4 h after the notice at the window's end");
    alerts_rules_free(r);

    /* warning notified; alarm during the window, back to warning before it ends: nothing */
    r = mk(NULL, 1);
    if (!r)
        return;
    lg = fresh_log();
    run(r, 0, 2, ALERTS_WARNING, false, lg);
    run(r, 2, 10, ALERTS_WARNING, true, lg);
    run(r, 10, 16, ALERTS_ALARM, true, lg);
    T_CHECK(alerts_rules_level(r) == ALERTS_ALARM, "alarm not reached in the window");
    run(r, 16, 30, ALERTS_WARNING, true, lg);
    T_CHECK(alerts_rules_level(r) == ALERTS_WARNING, "not back to warning");
    run(r, 30, 20 * PER_H, ALERTS_WARNING, false, lg);
    T_CHECK(lg->n == 1, "back to the notified level at the window's end: %u notifications, want none after the "
            "first", lg->n);
    alerts_rules_free(r);

    /* ok; watch during the window, ok again: nothing ever */
    r = mk(NULL, 1);
    if (!r)
        return;
    lg = fresh_log();
    run(r, 0, 10, ALERTS_WATCH, true, lg);
    run(r, 10, 20, ALERTS_OK, true, lg);
    run(r, 20, 3 * DAY, ALERTS_OK, false, lg);
    T_CHECK(lg->n == 0, "%u notifications for a watch inside a window", lg->n);
    alerts_rules_free(r);

    /* alarm notified; ok during a long window: recovered once at its end; no repeat in it */
    r = mk(NULL, 1);
    if (!r)
        return;
    lg = fresh_log();
    run(r, 0, 2, ALERTS_ALARM, false, lg);
    run(r, 2, 4, ALERTS_ALARM, true, lg);
    run(r, 4, 40, ALERTS_OK, true, lg);
    T_CHECK(lg->n == 1, "%u notifications: something was sent in the window", lg->n);
    run(r, 40, 40 + DAY, ALERTS_OK, false, lg);
    T_CHECK(lg->n == 2 && lg->kind[1] == ALERTS_RECOVERED && lg->t[1] == tk(40),
            "recovered in the window: %u notifications, want one recovered at its end", lg->n);
    alerts_rules_free(r);

    /* alarm notified; warning during the window: lowered at its end */
    r = mk(NULL, 1);
    if (!r)
        return;
    lg = fresh_log();
    run(r, 0, 2, ALERTS_ALARM, false, lg);
    run(r, 2, 5 * PER_H, ALERTS_WARNING, true, lg);
    run(r, 5 * PER_H, 6 * PER_H, ALERTS_WARNING, false, lg);
    T_CHECK(lg->n == 2 && lg->kind[1] == ALERTS_LOWERED && lg->t[1] == tk(5 * PER_H) &&
                lg->level[1] == ALERTS_WARNING,
            "lowered in the window: %u notifications", lg->n);
    alerts_rules_free(r);

    /* an alarm held through a window longer than its repeat: nothing in the window, and at the
     * end no more than the one repeat that fell due (the level did not change) */
    r = mk(NULL, 1);
    if (!r)
        return;
    lg = fresh_log();
    run(r, 0, 2, ALERTS_ALARM, false, lg);
    run(r, 2, 2 + 10 * PER_H, ALERTS_ALARM, true, lg);
    T_CHECK(lg->n == 1, "a repeat sent in the window");
    run(r, 2 + 10 * PER_H, 2 + 11 * PER_H, ALERTS_ALARM, false, lg);
    T_CHECK(lg->n <= 2 && (lg->n == 1 || lg->kind[1] == ALERTS_REPEAT), "after the window: %u notifications, "
            "second %s", lg->n, lg->n > 1 ? kn(lg->kind[1]) : "-");
    alerts_rules_free(r);
}

/* ---- the inputs ---------------------------------------------------------------------------------- */

static void test_temperature(void)
{
    alerts_rules_cfg c = defcfg();
    c.temp_warning_c = 80;
    c.temp_alarm_c = 100;
    c.temp_hysteresis_c = 5;
    alerts_rules *r = mk(&c, 1);
    if (!r)
        return;
    static const struct {
        double temp;
        int times;
        enum alerts_level want;
    } seq[] = {
        {79.9, 3, ALERTS_OK},       {80, 2, ALERTS_WARNING},   /* at the limit */
        {76, 4, ALERTS_WARNING},    {75.1, 4, ALERTS_WARNING}, /* inside the hysteresis */
        {74.9, 3, ALERTS_OK},       {79, 4, ALERTS_OK},        /* below the limit again: ok */
        {99.9, 2, ALERTS_WARNING},  {100, 2, ALERTS_ALARM},    /* the alarm limit */
        {95.1, 4, ALERTS_ALARM},    {94.9, 3, ALERTS_WARNING}, /* alarm left 5 below it, warning holds */
        {76, 4, ALERTS_WARNING},    {70, 3, ALERTS_OK},        {120, 2, ALERTS_ALARM},
        {60, 3, ALERTS_OK},
    };
    long k = 0;
    alerts_decision d;
    for (size_t i = 0; i < N(seq); i++)
        for (int j = 0; j < seq[i].times; j++, k++) {
            alerts_input in = intemp(tk(k), seq[i].temp);
            T_CHECK(alerts_rules_update(r, 0, &in) == 0, "update refused");
            ev(r, tk(k), false, NULL, &d);
            if (j == seq[i].times - 1) {
                T_CHECK(alerts_rules_channel_level(r, 0) == seq[i].want, "step %zu: %g °C: %s, want %s", i,
                        seq[i].temp, lv(alerts_rules_channel_level(r, 0)), lv(seq[i].want));
                if (seq[i].want != ALERTS_OK && d.nchannels == 1)
                    T_CHECK(d.causes[0] == ALERTS_CAUSE_TEMP || d.kind == ALERTS_NONE, "cause %#x", d.causes[0]);
            }
        }
    alerts_rules_free(r);

    /* no limits (the default): any temperature is ok */
    r = mk(NULL, 1);
    if (!r)
        return;
    for (k = 0; k < 10; k++) {
        alerts_input in = intemp(tk(k), 500);
        alerts_rules_update(r, 0, &in);
        EXPECT_KIND(ev(r, tk(k), false, NULL, NULL), ALERTS_NONE, k);
    }
    T_CHECK(alerts_rules_level(r) == ALERTS_OK, "500 °C without limits: %s", lv(alerts_rules_level(r)));
    alerts_rules_free(r);

    /* a warning limit alone, with a cause on the notice */
    c = defcfg();
    c.temp_warning_c = 60;
    r = mk(&c, 1);
    if (!r)
        return;
    for (k = 0; k < 2; k++) {
        alerts_input in = intemp(tk(k), 300);
        alerts_rules_update(r, 0, &in);
        ev(r, tk(k), false, NULL, &d);
    }
    T_CHECK(d.kind == ALERTS_RAISED && d.level == ALERTS_WARNING && d.causes[0] == ALERTS_CAUSE_TEMP,
            "300 °C with a warning limit alone: %s %s cause %#x", kn(d.kind), lv(d.level), d.causes[0]);
    alerts_rules_free(r);
}

static enum alerts_level level_after(const alerts_rules_cfg *c, const alerts_input *proto, unsigned *cause)
{
    alerts_rules *r = mk(c, 1);
    if (!r)
        return ALERTS_NLEVELS;
    alerts_decision d;
    memset(&d, 0, sizeof d);
    for (long k = 0; k < 3; k++) {
        alerts_input in = *proto;
        in.t_h = tk(k);
        alerts_rules_update(r, 0, &in);
        alerts_decision e;
        if (ev(r, tk(k), false, NULL, &e) != ALERTS_NONE)
            d = e;
    }
    enum alerts_level l = alerts_rules_channel_level(r, 0);
    if (cause)
        *cause = d.nchannels ? d.causes[0] : 0;
    alerts_rules_free(r);
    return l;
}

static void test_iso_zones(void)
{
    alerts_rules_cfg c = defcfg();
    static const enum alerts_level want[] = {ALERTS_OK, ALERTS_OK, ALERTS_OK, ALERTS_WATCH, ALERTS_ALARM};
    for (int z = 0; z <= 4; z++) {
        alerts_input in = inm(0, ALERTS_OK);
        in.iso_zone = z;
        unsigned cause = 0;
        enum alerts_level l = level_after(&c, &in, &cause);
        T_CHECK(l == want[z], "zone %d: %s, want %s", z, lv(l), lv(want[z]));
        if (want[z] != ALERTS_OK)
            T_CHECK(cause == ALERTS_CAUSE_ISO, "zone %d: cause %#x", z, cause);
    }
    c.iso_zone_c = ALERTS_WARNING;
    c.iso_zone_d = ALERTS_WARNING;
    alerts_input in = inm(0, ALERTS_OK);
    in.iso_zone = 3;
    T_CHECK(level_after(&c, &in, NULL) == ALERTS_WARNING, "zone C configured warning");
    in.iso_zone = 4;
    T_CHECK(level_after(&c, &in, NULL) == ALERTS_WARNING, "zone D configured warning");
    c.iso_zone_c = ALERTS_OK;
    in.iso_zone = 3;
    T_CHECK(level_after(&c, &in, NULL) == ALERTS_OK, "zone C configured off");
    /* the highest input wins, and only its cause is named */
    c = defcfg();
    in = inm(0, ALERTS_WARNING);
    in.iso_zone = 3;
    unsigned cause = 0;
    T_CHECK(level_after(&c, &in, &cause) == ALERTS_WARNING && cause == ALERTS_CAUSE_MODEL,
            "model warning + zone C: cause %#x", cause);
    in.iso_zone = 4;
    T_CHECK(level_after(&c, &in, &cause) == ALERTS_ALARM && cause == ALERTS_CAUSE_ISO,
            "model warning + zone D: cause %#x", cause);
    /* equal levels name both */
    in = inm(0, ALERTS_ALARM);
    in.iso_zone = 4;
    T_CHECK(level_after(&c, &in, &cause) == ALERTS_ALARM && cause == (ALERTS_CAUSE_MODEL | ALERTS_CAUSE_ISO),
            "model alarm + zone D: cause %#x", cause);
}

static void test_sensor_fault(void)
{
    alerts_rules_cfg c = defcfg();
    alerts_input in = inm(0, ALERTS_OK);
    in.sensor_fault = true;
    unsigned cause = 0;
    T_CHECK(level_after(&c, &in, &cause) == ALERTS_WARNING && cause == ALERTS_CAUSE_SENSOR_FAULT,
            "a sensor fault by default: cause %#x", cause);
    c.sensor_fault = ALERTS_ALARM;
    T_CHECK(level_after(&c, &in, NULL) == ALERTS_ALARM, "a sensor fault configured alarm");
    c.sensor_fault = (enum alerts_level)alerts_level_parse("off");
    T_CHECK(c.sensor_fault == ALERTS_OK, "\"off\" not ok");
    alerts_rules *r = mk(&c, 1);
    if (!r)
        return;
    for (long k = 0; k < DAY; k++) {
        alerts_input f = inm(tk(k), ALERTS_OK);
        f.sensor_fault = true;
        alerts_rules_update(r, 0, &f);
        EXPECT_KIND(ev(r, tk(k), false, NULL, NULL), ALERTS_NONE, k);
    }
    T_CHECK(alerts_rules_level(r) == ALERTS_OK, "an ignored sensor fault made the asset %s", lv(alerts_rules_level(r)));
    alerts_rules_free(r);
    /* a snapshot in sensor fault is not a measurement of the machine: its model state is not taken,
       even with the fault itself ignored */
    in = inm(0, ALERTS_WATCH);
    in.sensor_fault = true;
    cause = 0;
    T_CHECK(level_after(&c, &in, &cause) == ALERTS_OK && cause == 0, "model watch + ignored fault: %s cause %#x",
            lv(level_after(&c, &in, NULL)), cause);
}

/* ok snapshots on channel 0 of r from k0 to k1 (evaluated), with an optional ISO zone. */
static void run_in(alerts_rules *r, long k0, long k1, const alerts_input *proto, nlog *lg)
{
    for (long k = k0; k < k1; k++) {
        alerts_input in = *proto;
        in.t_h = tk(k);
        T_CHECK(alerts_rules_update(r, 0, &in) == 0, "snapshot %ld refused", k);
        ev(r, tk(k), false, lg, NULL);
    }
}

/* The reviewer's case: a clipping sensor. The self-check says sensor_fault, and the clipped signal's
 * velocity reads as ISO zone D (and the monitor or the temperature may say anything): the rules must
 * report a sensor fault, at the sensor fault's level, and never a machine alarm. */
static void test_sensor_fault_is_not_a_machine_fault(void)
{
    alerts_rules_cfg c = defcfg();
    c.temp_warning_c = 70;
    c.temp_alarm_c = 90;
    alerts_rules *r = mk(&c, 1);
    if (!r)
        return;
    nlog *lg = fresh_log();
    alerts_input ok = inm(0, ALERTS_OK);
    ok.iso_zone = 1;
    ok.temp_c = 40;
    run_in(r, 0, 6, &ok, lg);
    T_CHECK(lg->n == 0, "%u notifications while healthy", lg->n);
    /* two days (and the debounce's snapshot) of a clipping sensor: zone D from 431 mm/s of clipped signal,
       garbage model and temperature */
    const long kend = 6 + 1 + 2 * DAY + 1; /* raised at snapshot 7, repeated 24 h and 48 h later */
    alerts_input clip = inm(0, ALERTS_ALARM);
    clip.sensor_fault = true;
    clip.iso_zone = 4;
    clip.temp_c = 150;
    alerts_decision first = {0};
    for (long k = 6; k < kend; k++) {
        alerts_input in = clip;
        in.t_h = tk(k);
        alerts_rules_update(r, 0, &in);
        alerts_decision d;
        if (ev(r, tk(k), false, lg, &d) != ALERTS_NONE && lg->n == 1)
            first = d;
        T_CHECK(d.level <= ALERTS_WARNING, "snapshot %ld: a clipping sensor made the asset %s", k, lv(d.level));
        for (unsigned i = 0; i < d.nchannels; i++)
            T_CHECK(d.causes[i] == ALERTS_CAUSE_SENSOR_FAULT, "snapshot %ld: %s naming cause %#x, want the sensor "
                    "fault alone", k, kn(d.kind), d.causes[i]);
    }
    T_CHECK(first.kind == ALERTS_RAISED && first.level == ALERTS_WARNING && first.nchannels == 1 &&
                first.causes[0] == ALERTS_CAUSE_SENSOR_FAULT,
            "the fault: %s %s cause %#x, want raised warning: sensor fault", kn(first.kind), lv(first.level),
            first.causes[0]);
    T_CHECK(lg->kinds[ALERTS_RAISED] == 1 && lg->kinds[ALERTS_REPEAT] == 2 && lg->n == 3,
            "two days of a sensor fault: %u raised, %u repeats, %u in all; want 1 raised and the 24 h repeats (2)",
            lg->kinds[ALERTS_RAISED], lg->kinds[ALERTS_REPEAT], lg->n);
    /* the sensor replaced, the machine healthy: recovered once, after clear_n clean snapshots */
    unsigned before = lg->n;
    run_in(r, kend, kend + 4 * PER_H, &ok, lg);
    T_CHECK(lg->n == before + 1 && lg->kind[before] == ALERTS_RECOVERED, "after the repair: %u notifications, "
            "first %s, want recovered", lg->n - before, kn(lg->n > before ? lg->kind[before] : ALERTS_NONE));
    T_CHECK(alerts_rules_level(r) == ALERTS_OK, "after the repair: %s", lv(alerts_rules_level(r)));
    alerts_rules_free(r);

    /* the sensor fault configured off: a clipping sensor sends nothing at all */
    c.sensor_fault = ALERTS_OK;
    r = mk(&c, 1);
    if (!r)
        return;
    lg = fresh_log();
    run_in(r, 0, 6, &ok, lg);
    run_in(r, 6, 6 + DAY, &clip, lg);
    T_CHECK(lg->n == 0 && alerts_rules_level(r) == ALERTS_OK, "fault off: %u notifications, level %s", lg->n,
            lv(alerts_rules_level(r)));
    alerts_rules_free(r);

    /* the temperature's hysteresis is not moved by a faulty snapshot: 95 °C (alarm), then a fault
       reading 20 °C, then 88 °C: still inside the alarm's hysteresis (left only below 85) */
    c = defcfg();
    c.temp_warning_c = 70;
    c.temp_alarm_c = 90;
    r = mk(&c, 1);
    if (!r)
        return;
    alerts_input hot = intemp(0, 95), cold = intemp(0, 20), warm = intemp(0, 88);
    cold.sensor_fault = true;
    run_in(r, 0, 3, &hot, NULL);
    run_in(r, 3, 4, &cold, NULL);
    run_in(r, 4, 8, &warm, NULL);
    T_CHECK(alerts_rules_channel_level(r, 0) == ALERTS_ALARM, "88 °C after 95 °C and a faulty 20 °C: %s, want alarm",
            lv(alerts_rules_channel_level(r, 0)));
    alerts_rules_free(r);
}

/* A level measured before the sensor failed holds while it is in fault: the broken signal neither
 * escalates it nor lowers or recovers it; once the sensor is back, trusted snapshots decide. */
static void test_level_held_through_sensor_fault(void)
{
    static const struct {
        enum alerts_level sf;   /* cfg.sensor_fault */
        const char *what;
    } cfgs[] = {{ALERTS_WARNING, "fault warning"}, {ALERTS_OK, "fault off"}};
    for (size_t ci = 0; ci < N(cfgs); ci++) {
        alerts_rules_cfg c = defcfg();
        c.sensor_fault = cfgs[ci].sf;
        alerts_rules *r = mk(&c, 1);
        if (!r)
            return;
        nlog *lg = fresh_log();
        alerts_input alarm = inm(0, ALERTS_ALARM), dead = inm(0, ALERTS_OK), ok = inm(0, ALERTS_OK);
        alarm.iso_zone = 4;
        dead.sensor_fault = true; /* a dead sensor: everything reads fine */
        ok.iso_zone = 1;
        run_in(r, 0, 3, &alarm, lg);
        T_CHECK(lg->n == 1 && lg->kind[0] == ALERTS_RAISED && lg->level[0] == ALERTS_ALARM, "%s: the alarm: %u "
                "notifications", cfgs[ci].what, lg->n);
        /* a day of a dead sensor: the alarm holds; only its 4 h repeats, naming the machine's causes */
        long k0 = 3, k1 = 3 + DAY;
        alerts_decision d;
        for (long k = k0; k < k1; k++) {
            alerts_input in = dead;
            in.t_h = tk(k);
            alerts_rules_update(r, 0, &in);
            enum alerts_kind kind = ev(r, tk(k), false, lg, &d);
            T_CHECK(kind == ALERTS_NONE || kind == ALERTS_REPEAT, "%s: snapshot %ld of a dead sensor: %s", cfgs[ci].what,
                    k, kn(kind));
            T_CHECK(d.level == ALERTS_ALARM, "%s: snapshot %ld of a dead sensor: the asset is %s, want the alarm held",
                    cfgs[ci].what, k, lv(d.level));
            if (kind == ALERTS_REPEAT)
                T_CHECK(d.nchannels == 1 && (d.causes[0] & (ALERTS_CAUSE_MODEL | ALERTS_CAUSE_ISO)) &&
                            !(d.causes[0] & ALERTS_CAUSE_SENSOR_FAULT),
                        "%s: a repeat names cause %#x, want the machine's", cfgs[ci].what, d.causes[0]);
        }
        T_CHECK(lg->kinds[ALERTS_LOWERED] == 0 && lg->kinds[ALERTS_RECOVERED] == 0, "%s: %u lowered, %u recovered "
                "because a sensor broke", cfgs[ci].what, lg->kinds[ALERTS_LOWERED], lg->kinds[ALERTS_RECOVERED]);
        T_CHECK(lg->kinds[ALERTS_REPEAT] == 6, "%s: %u repeats of the alarm in a day, want 6 (every 4 h)",
                cfgs[ci].what, lg->kinds[ALERTS_REPEAT]);
        /* the sensor and the bearing replaced: trusted ok snapshots recover it, once */
        unsigned before = lg->n;
        run_in(r, k1, k1 + 2 * PER_H, &ok, lg);
        T_CHECK(lg->n == before + 1 && lg->kind[before] == ALERTS_RECOVERED, "%s: after the repair: %u notifications, "
                "want one recovered", cfgs[ci].what, lg->n - before);
        alerts_rules_free(r);
    }

    /* watch (zone C) before a fault: the fault's warning is raised, naming the sensor fault; when the
       sensor is back and the machine still in zone C, lowered to watch (not recovered) */
    alerts_rules *r = mk(NULL, 1);
    if (!r)
        return;
    nlog *lg = fresh_log();
    alerts_input zc = inm(0, ALERTS_OK), clip = inm(0, ALERTS_OK);
    zc.iso_zone = 3;
    clip.sensor_fault = true;
    clip.iso_zone = 4;
    run_in(r, 0, 3, &zc, lg);
    run_in(r, 3, 6, &clip, lg);
    T_CHECK(lg->n == 2 && lg->level[1] == ALERTS_WARNING && lg->kind[1] == ALERTS_RAISED, "watch then a fault: %u "
            "notifications, the last %s %s", lg->n, lg->n ? kn(lg->kind[lg->n - 1]) : "-",
            lg->n ? lv(lg->level[lg->n - 1]) : "-");
    T_CHECK(alerts_rules_channel_level(r, 0) == ALERTS_WARNING, "a clipping sensor after zone C: %s, want warning",
            lv(alerts_rules_channel_level(r, 0)));
    unsigned before = lg->n;
    run_in(r, 6, 6 + 2 * PER_H, &zc, lg);
    T_CHECK(lg->n == before + 1 && lg->kind[before] == ALERTS_LOWERED && lg->level[before] == ALERTS_WATCH,
            "the sensor back, still zone C: %u notifications, want lowered to watch", lg->n - before);
    alerts_rules_free(r);

    /* a saved and restored state mid-fault goes on the same (the fault's track is in the state) */
    r = mk(NULL, 1);
    alerts_rules *t = mk(NULL, 1);
    if (!r || !t) {
        alerts_rules_free(r);
        alerts_rules_free(t);
        return;
    }
    run_in(r, 0, 1, &clip, NULL);
    char *saved = alerts_rules_to_json(r), err[128] = "";
    T_CHECK(saved && alerts_rules_restore(t, saved, err, sizeof err) == 0, "restore: %s", err);
    free(saved);
    run_in(r, 1, 2, &clip, NULL);
    run_in(t, 1, 2, &clip, NULL);
    T_CHECK(alerts_rules_level(r) == ALERTS_WARNING && alerts_rules_level(t) == ALERTS_WARNING,
            "the second faulty snapshot after a restore: %s and %s, want warning", lv(alerts_rules_level(r)),
            lv(alerts_rules_level(t)));
    alerts_rules_free(r);
    alerts_rules_free(t);
}

/* A snapshot of a stopped channel clears "stopped" (a state saved while it was stopped, restored
 * after a restart that fixed the cable, must not keep the warning forever). */
static void test_stopped_cleared_by_snapshot(void)
{
    alerts_rules *r = mk(NULL, 1);
    if (!r)
        return;
    alerts_decision d;
    for (long k = 0; k < 4; k++) {
        snap(r, 0, tk(k), ALERTS_OK);
        ev(r, tk(k), false, NULL, NULL);
    }
    alerts_rules_stopped(r, 0, true);
    ev(r, tk(4), false, NULL, &d);
    T_CHECK(d.kind == ALERTS_RAISED && d.level == ALERTS_WARNING, "stopped: %s %s", kn(d.kind), lv(d.level));
    char *saved = alerts_rules_to_json(r);
    alerts_rules *t = mk(NULL, 1);
    char err[128] = "";
    T_CHECK(saved && t && alerts_rules_restore(t, saved, err, sizeof err) == 0, "restore: %s", err);
    free(saved);
    if (!t) {
        alerts_rules_free(r);
        return;
    }
    T_CHECK(alerts_rules_channel_level(t, 0) == ALERTS_WARNING, "the restored state is stopped");
    snap(t, 0, tk(5), ALERTS_OK); /* the sensor runs again: no one calls alerts_rules_stopped(false) */
    T_CHECK(alerts_rules_channel_level(t, 0) == ALERTS_OK, "after a snapshot the channel is %s, want ok",
            lv(alerts_rules_channel_level(t, 0)));
    ev(t, tk(5) + 2, false, NULL, &d);
    T_CHECK(d.kind == ALERTS_RECOVERED, "recovered after the interval: %s", kn(d.kind));
    alerts_rules_free(t);
    alerts_rules_free(r);
}

/* A notification the caller could not queue is undone: the next eval decides it again, and an
 * undo without a decision is refused. */
static void test_undo(void)
{
    alerts_rules *r = mk(NULL, 1);
    if (!r)
        return;
    alerts_decision d;
    T_CHECK(alerts_rules_undo(r) == -ENOENT, "undo with nothing decided");
    long k = 0;
    for (; k < 3; k++) {
        snap(r, 0, tk(k), ALERTS_OK);
        ev(r, tk(k), false, NULL, NULL);
    }
    snap(r, 0, tk(k), ALERTS_ALARM);
    ev(r, tk(k), false, NULL, &d);
    k++;
    snap(r, 0, tk(k), ALERTS_ALARM);
    ev(r, tk(k), false, NULL, &d);
    T_CHECK(d.kind == ALERTS_RAISED && d.level == ALERTS_ALARM, "raised: %s %s", kn(d.kind), lv(d.level));
    T_CHECK(alerts_rules_undo(r) == 0, "undo refused");
    T_CHECK(alerts_rules_notified(r) == ALERTS_OK, "after undo notified is %s, want ok", lv(alerts_rules_notified(r)));
    T_CHECK(alerts_rules_undo(r) == -ENOENT, "a second undo");
    k++;
    snap(r, 0, tk(k), ALERTS_ALARM);
    ev(r, tk(k), false, NULL, &d);
    T_CHECK(d.kind == ALERTS_RAISED && d.level == ALERTS_ALARM && d.previous == ALERTS_OK,
            "decided again: %s %s (previous %s)", kn(d.kind), lv(d.level), lv(d.previous));
    k++;
    snap(r, 0, tk(k), ALERTS_ALARM);
    ev(r, tk(k), false, NULL, &d);
    T_CHECK(d.kind == ALERTS_NONE, "then nothing: %s", kn(d.kind));
    alerts_rules_free(r);
}

static void test_stopped(void)
{
    alerts_rules *r = mk(NULL, 2);
    if (!r)
        return;
    nlog *lg = fresh_log();
    alerts_decision d;
    for (long k = 0; k < 6; k++) {
        snap(r, 0, tk(k), ALERTS_OK);
        snap(r, 1, tk(k), ALERTS_OK);
        ev(r, tk(k), false, lg, NULL);
    }
    /* counts at once: no snapshot needed, no debouncing */
    T_CHECK(alerts_rules_stopped(r, 1, true) == 0, "stopped refused");
    T_CHECK(alerts_rules_channel_level(r, 1) == ALERTS_WARNING, "stopped channel %s, want warning at once",
            lv(alerts_rules_channel_level(r, 1)));
    ev(r, tk(6), false, lg, &d);
    T_CHECK(d.kind == ALERTS_RAISED && d.level == ALERTS_WARNING && d.nchannels == 1 && d.channels[0] == 1 &&
                (d.causes[0] & ALERTS_CAUSE_STOPPED),
            "stopped: %s %s naming %u channels (cause %#x)", kn(d.kind), lv(d.level), d.nchannels, d.causes[0]);
    /* held while stopped (no snapshots come), cleared at once */
    for (long k = 7; k < 7 + 2 * PER_H; k++) {
        snap(r, 0, tk(k), ALERTS_OK);
        EXPECT_KIND(ev(r, tk(k), false, lg, NULL), ALERTS_NONE, k);
    }
    T_CHECK(alerts_rules_stopped(r, 1, false) == 0, "restart refused");
    T_CHECK(alerts_rules_channel_level(r, 1) == ALERTS_OK, "restarted channel %s, want ok at once",
            lv(alerts_rules_channel_level(r, 1)));
    ev(r, tk(7 + 2 * PER_H), false, lg, &d);
    T_CHECK(d.kind == ALERTS_RECOVERED && d.nchannels == 1 && d.channels[0] == 1, "restart: %s", kn(d.kind));
    alerts_rules_free(r);

    /* configured alarm; configured off */
    alerts_rules_cfg c = defcfg();
    c.stopped = ALERTS_ALARM;
    r = mk(&c, 1);
    if (!r)
        return;
    alerts_rules_stopped(r, 0, true);
    ev(r, 0, false, NULL, &d);
    T_CHECK(d.kind == ALERTS_RAISED && d.level == ALERTS_ALARM, "stopped configured alarm: %s %s", kn(d.kind),
            lv(d.level));
    alerts_rules_free(r);
    c.stopped = ALERTS_OK;
    r = mk(&c, 1);
    if (!r)
        return;
    alerts_rules_stopped(r, 0, true);
    ev(r, 0, false, NULL, &d);
    T_CHECK(d.kind == ALERTS_NONE && d.level == ALERTS_OK, "stopped configured off: %s %s", kn(d.kind), lv(d.level));
    T_CHECK(alerts_rules_stopped(r, 1, true) == -EINVAL, "a bad channel taken");
    T_CHECK(alerts_rules_stopped(NULL, 0, true) == -EINVAL, "NULL taken");
    alerts_rules_free(r);
}

static void test_replayed_snapshots(void)
{
    alerts_rules *r = mk(NULL, 2);
    if (!r)
        return;
    T_CHECK(snap(r, 0, 10, ALERTS_ALARM) == 0, "first snapshot refused");
    T_CHECK(snap(r, 0, 10, ALERTS_ALARM) == 1, "a snapshot at the same time not ignored");
    T_CHECK(snap(r, 0, 9.5, ALERTS_ALARM) == 1, "an older snapshot not ignored");
    T_CHECK(snap(r, 0, -100, ALERTS_ALARM) == 1, "an older snapshot not ignored");
    alerts_decision d;
    ev(r, 10, false, NULL, &d);
    T_CHECK(alerts_rules_channel_level(r, 0) == ALERTS_OK && d.kind == ALERTS_NONE,
            "ignored snapshots counted: the channel is %s", lv(alerts_rules_channel_level(r, 0)));
    /* channels keep their own time */
    T_CHECK(snap(r, 1, 5, ALERTS_OK) == 0, "channel 1's first snapshot refused (channel 0 is later)");
    T_CHECK(snap(r, 0, 10 + 1e-6, ALERTS_ALARM) == 0, "a later snapshot refused");
    ev(r, 10.1, false, NULL, &d);
    T_CHECK(d.kind == ALERTS_RAISED, "two accepted alarms did not raise");
    /* bad channel */
    T_CHECK(snap(r, 2, 11, ALERTS_ALARM) == -EINVAL, "a bad channel taken");
    T_CHECK(alerts_rules_update(NULL, 0, NULL) == -EINVAL, "NULL taken");
    T_CHECK(alerts_rules_update(r, 0, NULL) == -EINVAL, "a NULL input taken");
    alerts_rules_free(r);
}

/* ---- the JSON state ---------------------------------------------------------------------------- */

static bool same_decision(const alerts_decision *x, const alerts_decision *y, char *why, size_t len)
{
    if (x->kind != y->kind || x->level != y->level || x->previous != y->previous || x->changed != y->changed ||
        x->nchannels != y->nchannels) {
        snprintf(why, len, "%s %s from %s (changed %d, %u channels) vs %s %s from %s (changed %d, %u channels)",
                 kn(x->kind), lv(x->level), lv(x->previous), x->changed, x->nchannels, kn(y->kind), lv(y->level),
                 lv(y->previous), y->changed, y->nchannels);
        return false;
    }
    for (unsigned i = 0; i < x->nchannels && i < ALERTS_MAX_CHANNELS; i++)
        if (x->channels[i] != y->channels[i] || x->causes[i] != y->causes[i]) {
            snprintf(why, len, "entry %u: channel %u cause %#x vs channel %u cause %#x", i, x->channels[i],
                     x->causes[i], y->channels[i], y->causes[i]);
            return false;
        }
    return true;
}

typedef struct chstate {
    enum alerts_level model;
    bool fault;
    int iso;
    double temp;
} chstate;

static alerts_input random_input(chstate *s, double t)
{
    if (t_urand() < (s->model ? 0.05 : 0.01)) {
        double u = t_urand();
        s->model = u < 0.5 ? ALERTS_OK : u < 0.7 ? ALERTS_WATCH : u < 0.85 ? ALERTS_WARNING : ALERTS_ALARM;
    }
    if (s->fault ? t_urand() < 0.1 : t_urand() < 0.003)
        s->fault = !s->fault;
    if (s->iso > 2 ? t_urand() < 0.1 : t_urand() < 0.005)
        s->iso = s->iso > 2 ? 2 : 3 + (t_urand() < 0.4);
    s->temp += 0.05 * (75 - s->temp) + 1.5 * t_grand(); /* around 75 °C, now and then past 90 */
    alerts_input in = inm(t, s->model);
    if (t_urand() < 0.05) /* noise: a flapping input */
        in.model = (enum alerts_level)((int)(t_urand() * 4) % 4);
    in.sensor_fault = s->fault;
    in.iso_zone = s->iso;
    in.temp_c = t_urand() < 0.05 ? NAN : s->temp;
    return in;
}

/* Saves *b, and restores it into a fresh instance or into one that was fed other things first. */
static bool reincarnate(alerts_rules **b, const alerts_rules *a, const alerts_rules_cfg *cfg, unsigned n)
{
    char *s = alerts_rules_to_json(*b), *sa = alerts_rules_to_json(a);
    if (!s || !sa) {
        T_CHECK(0, "to_json failed");
        free(s);
        free(sa);
        return false;
    }
    T_CHECK(strcmp(s, sa) == 0, "the twins' states differ before the save:\n%s\n%s", s, sa);
    alerts_rules *nb = alerts_rules_create(cfg, n);
    if (!nb) {
        T_CHECK(0, "create failed");
        free(s);
        free(sa);
        return false;
    }
    if (t_urand() < 0.5) { /* a diverged instance: every field must be overwritten */
        double t = 1000 * t_urand();
        for (unsigned ch = 0; ch < n; ch++) {
            alerts_rules_stopped(nb, ch, t_urand() < 0.5);
            for (int j = 0; j < 5; j++)
                snap(nb, ch, t + j, (enum alerts_level)(j % 4));
        }
        alerts_decision d;
        alerts_rules_eval(nb, t + 5, false, &d);
        alerts_rules_ack(nb);
    }
    char err[200] = "";
    int rc = alerts_rules_restore(nb, s, err, sizeof err);
    T_CHECK(rc == 0, "restore of a saved state: %d %s", rc, err);
    char *s2 = alerts_rules_to_json(nb);
    T_CHECK(s2 && strcmp(s, s2) == 0, "saved again after restore, the state differs:\n%s\n%s", s, s2 ? s2 : "-");
    free(s);
    free(s2);
    free(sa);
    alerts_rules_free(*b);
    *b = nb;
    return rc == 0;
}

static void test_json_twins(void)
{
    enum { NCH = 3 };
    const long steps = 40 * DAY;
    alerts_rules_cfg c = defcfg();
    c.temp_warning_c = 90;
    c.temp_alarm_c = 102;
    c.temp_hysteresis_c = 4;
    c.repeat_h[ALERTS_WATCH] = 12;
    alerts_rules *a = mk(&c, NCH), *b = mk(&c, NCH);
    if (!a || !b) {
        alerts_rules_free(a);
        alerts_rules_free(b);
        return;
    }
    t_rng_seed(7);
    chstate st[NCH];
    for (unsigned ch = 0; ch < NCH; ch++)
        st[ch] = (chstate){ALERTS_OK, false, 2, 75};
    bool maint = false, stopped[NCH] = {false};
    unsigned restores = 0, kinds[5] = {0}, acks = 0, maint_steps = 0, replays = 0, stops = 0;
    unsigned lv_seen[ALERTS_NLEVELS] = {0};
    bool diverged = false;
    for (long k = 0; k < steps && !diverged; k++) {
        double t = tk(k);
        for (unsigned ch = 0; ch < NCH; ch++) {
            if (t_urand() < 0.1)
                continue; /* a missed snapshot */
            alerts_input in = random_input(&st[ch], t);
            if (t_urand() < 0.01) {
                in.t_h = t - 0.5 * t_urand(); /* a replayed one */
                replays++;
            }
            int ra = alerts_rules_update(a, ch, &in), rb = alerts_rules_update(b, ch, &in);
            if (ra != rb) {
                T_CHECK(0, "snapshot %ld channel %u: update returned %d and %d", k, ch, ra, rb);
                diverged = true;
            }
        }
        for (unsigned ch = 0; ch < NCH; ch++)
            if (stopped[ch] ? t_urand() < 0.1 : t_urand() < 0.0005) {
                stopped[ch] = !stopped[ch];
                alerts_rules_stopped(a, ch, stopped[ch]);
                alerts_rules_stopped(b, ch, stopped[ch]);
                stops += stopped[ch];
            }
        if (t_urand() < 0.02) { /* between the updates and the evaluation */
            if (!reincarnate(&b, a, &c, NCH))
                break;
            restores++;
        }
        if (t_urand() < 0.01) {
            enum alerts_level la = alerts_rules_ack(a), lb = alerts_rules_ack(b);
            T_CHECK(la == lb, "snapshot %ld: acknowledged %s and %s", k, lv(la), lv(lb));
            acks += la != ALERTS_OK;
        }
        if (maint ? t_urand() < 0.05 : t_urand() < 0.003)
            maint = !maint;
        maint_steps += maint;
        /* sometimes two evaluations in a snapshot, sometimes one between snapshots */
        int evals = t_urand() < 0.05 ? 2 : 1;
        for (int e = 0; e < evals; e++) {
            double te = t + e * 0.05;
            alerts_decision da, db;
            alerts_rules_eval(a, te, maint, &da);
            alerts_rules_eval(b, te, maint, &db);
            char why[300];
            if (!same_decision(&da, &db, why, sizeof why)) {
                T_CHECK(0, "snapshot %ld (%.3f h) after %u restores: %s", k, te, restores, why);
                diverged = true;
            }
            kinds[da.kind]++;
            lv_seen[da.level]++;
        }
        if (alerts_rules_level(a) != alerts_rules_level(b) || alerts_rules_notified(a) != alerts_rules_notified(b) ||
            alerts_rules_acked(a) != alerts_rules_acked(b)) {
            T_CHECK(0, "snapshot %ld: level/notified/acked differ", k);
            diverged = true;
        }
        for (unsigned ch = 0; ch < NCH; ch++)
            if (alerts_rules_channel_level(a, ch) != alerts_rules_channel_level(b, ch)) {
                T_CHECK(0, "snapshot %ld: channel %u differs", k, ch);
                diverged = true;
            }
        if (t_urand() < 0.02) { /* after the evaluation */
            if (!reincarnate(&b, a, &c, NCH))
                break;
            restores++;
        }
    }
    /* the sequence went everywhere */
    T_CHECK(kinds[ALERTS_RAISED] > 20 && kinds[ALERTS_LOWERED] > 10 && kinds[ALERTS_RECOVERED] > 5 &&
                kinds[ALERTS_REPEAT] > 5,
            "the random sequence is too tame: %u raised, %u lowered, %u recovered, %u repeats", kinds[1], kinds[2],
            kinds[3], kinds[4]);
    T_CHECK(acks > 10 && maint_steps > 100 && replays > 100 && stops > 5, "acks %u, maintenance %u, replays %u, "
            "stops %u", acks, maint_steps, replays, stops);
    printf("# twins: %ld snapshots of %d channels, %u restores, %u raised, %u lowered, %u recovered, %u repeats, "
           "%u acks; levels ok %u watch %u warning %u alarm %u\n",
           steps, NCH, restores, kinds[1], kinds[2], kinds[3], kinds[4], acks, lv_seen[0], lv_seen[1], lv_seen[2],
           lv_seen[3]);
    alerts_rules_free(a);
    alerts_rules_free(b);
}

/* A saved state with one thing broken. */
static char *mutate(const char *s, int which, bool *done)
{
    cJSON *o = cJSON_Parse(s);
    if (!o)
        return NULL;
    cJSON *chs = cJSON_GetObjectItemCaseSensitive(o, "ch"), *ch0 = cJSON_GetArrayItem(chs, 0);
    cJSON *raw0 = cJSON_GetObjectItemCaseSensitive(ch0, "raw");
    *done = true;
    switch (which) {
    case 0: cJSON_ReplaceItemInObjectCaseSensitive(o, "level", cJSON_CreateNumber(4)); break;
    case 1: cJSON_ReplaceItemInObjectCaseSensitive(o, "level", cJSON_CreateNumber(-1)); break;
    case 2: cJSON_ReplaceItemInObjectCaseSensitive(o, "level", cJSON_CreateNumber(1.5)); break;
    case 3: cJSON_ReplaceItemInObjectCaseSensitive(o, "level", cJSON_CreateString("alarm")); break;
    case 4: cJSON_ReplaceItemInObjectCaseSensitive(o, "notified", cJSON_CreateNumber(4)); break;
    case 5: cJSON_ReplaceItemInObjectCaseSensitive(o, "acked", cJSON_CreateNumber(-2)); break;
    case 6: cJSON_ReplaceItemInObjectCaseSensitive(o, "acked", cJSON_CreateNumber(4)); break;
    case 7: cJSON_ReplaceItemInObjectCaseSensitive(o, "peak", cJSON_CreateNumber(4)); break;
    case 8: cJSON_ReplaceItemInObjectCaseSensitive(o, "last_notify_h", cJSON_CreateString("x")); break;
    case 9: cJSON_ReplaceItemInObjectCaseSensitive(o, "version", cJSON_CreateNumber(2)); break;
    case 10: cJSON_ReplaceItemInObjectCaseSensitive(o, "channels", cJSON_CreateNumber(3)); break;
    case 11: cJSON_DeleteItemFromObjectCaseSensitive(o, "ch"); break;
    case 12: cJSON_ReplaceItemInObjectCaseSensitive(o, "ch", cJSON_CreateObject()); break;
    case 13: cJSON_AddItemToArray(chs, cJSON_Duplicate(ch0, 1)); break;
    case 14: cJSON_ReplaceItemInObjectCaseSensitive(ch0, "level", cJSON_CreateNumber(4)); break;
    case 15: cJSON_ReplaceItemInObjectCaseSensitive(ch0, "cause", cJSON_CreateNumber(32)); break;
    case 16: cJSON_ReplaceItemInObjectCaseSensitive(ch0, "temp", cJSON_CreateNumber(4)); break;
    case 17: cJSON_ReplaceItemInObjectCaseSensitive(ch0, "stopped", cJSON_CreateNumber(1)); break;
    case 18: cJSON_ReplaceItemInObjectCaseSensitive(ch0, "last_t", cJSON_CreateString("x")); break;
    case 19:
        for (int i = 0; i < ALERTS_MAX_DEBOUNCE + 1; i++)
            cJSON_AddItemToArray(raw0, cJSON_CreateNumber(0));
        break;
    case 20: cJSON_AddItemToArray(raw0, cJSON_CreateNumber(4)); break;
    case 21: cJSON_AddItemToArray(raw0, cJSON_CreateNumber(-1)); break;
    case 22: cJSON_AddItemToArray(raw0, cJSON_CreateNumber(512)); break;
    case 23: cJSON_ReplaceItemInObjectCaseSensitive(ch0, "raw", cJSON_CreateString("x")); break;
    case 24: {
        cJSON *p = cJSON_CreateArray(), *pair = cJSON_CreateArray();
        cJSON_AddItemToArray(pair, cJSON_CreateNumber(2)); /* channel 2 of 2 */
        cJSON_AddItemToArray(pair, cJSON_CreateNumber(1));
        cJSON_AddItemToArray(p, pair);
        cJSON_ReplaceItemInObjectCaseSensitive(o, "prev", p);
        break;
    }
    case 25: {
        cJSON *p = cJSON_CreateArray(), *pair = cJSON_CreateArray();
        cJSON_AddItemToArray(pair, cJSON_CreateNumber(0));
        cJSON_AddItemToArray(pair, cJSON_CreateNumber(32));
        cJSON_AddItemToArray(p, pair);
        cJSON_ReplaceItemInObjectCaseSensitive(o, "prev", p);
        break;
    }
    case 26: {
        cJSON *p = cJSON_CreateArray(), *pair = cJSON_CreateArray();
        cJSON_AddItemToArray(pair, cJSON_CreateNumber(-1));
        cJSON_AddItemToArray(pair, cJSON_CreateNumber(1));
        cJSON_AddItemToArray(p, pair);
        cJSON_ReplaceItemInObjectCaseSensitive(o, "prev", p);
        break;
    }
    case 27: {
        cJSON *p = cJSON_CreateArray();
        cJSON_AddItemToArray(p, cJSON_CreateNumber(5));
        cJSON_ReplaceItemInObjectCaseSensitive(o, "prev", p);
        break;
    }
    case 28: {
        cJSON *p = cJSON_CreateArray();
        for (int i = 0; i < 3; i++) {
            cJSON *pair = cJSON_CreateArray();
            cJSON_AddItemToArray(pair, cJSON_CreateNumber(0));
            cJSON_AddItemToArray(pair, cJSON_CreateNumber(1));
            cJSON_AddItemToArray(p, pair);
        }
        cJSON_ReplaceItemInObjectCaseSensitive(o, "prev", p);
        break;
    }
    case 29: cJSON_DeleteItemFromObjectCaseSensitive(o, "notified"); break;
    case 30: cJSON_DeleteItemFromObjectCaseSensitive(ch0, "raw"); break;
    case 31: cJSON_DeleteItemFromObjectCaseSensitive(ch0, "last_t"); break;
    case 32: cJSON_DeleteItemFromObjectCaseSensitive(o, "prev"); break;
    case 33: cJSON_ReplaceItemInArray(chs, 1, cJSON_CreateNumber(1)); break;
    case 34: cJSON_ReplaceItemInObjectCaseSensitive(o, "acked", cJSON_CreateTrue()); break;
    case 35: cJSON_ReplaceItemInObjectCaseSensitive(o, "peak_h", cJSON_CreateString("1")); break;
    default: *done = false; break;
    }
    char *out = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return out;
}

static void test_restore_refuses(void)
{
    alerts_rules *r = mk(NULL, 2);
    if (!r)
        return;
    /* mid-episode: alarm notified, acknowledged, a pending fall on channel 0 */
    for (long k = 0; k < 3; k++) {
        snap(r, 0, tk(k), ALERTS_ALARM);
        snap(r, 1, tk(k), ALERTS_WARNING);
        ev(r, tk(k), false, NULL, NULL);
    }
    alerts_rules_ack(r);
    snap(r, 0, tk(3), ALERTS_OK);
    alerts_rules_stopped(r, 1, true);
    ev(r, tk(3), false, NULL, NULL);
    char *s0 = alerts_rules_to_json(r);
    if (!s0) {
        T_CHECK(0, "to_json failed");
        alerts_rules_free(r);
        return;
    }
    /* the unmodified state is taken (the mutation harness is sound) */
    alerts_rules *fresh = mk(NULL, 2);
    char err[200];
    if (fresh) {
        T_CHECK(alerts_rules_restore(fresh, s0, err, sizeof err) == 0, "a saved state refused: %s", err);
        alerts_rules_free(fresh);
    }

    static const char *const texts[] = {"", "{", "[]", "null", "42", "\"x\"", "not json", "{}", "{\"version\":1}",
                                        "{\"version\":1,\"channels\":2}"};
    int cases = 0;
    for (size_t i = 0; i < N(texts) + 64; i++) {
        char *bad = NULL;
        const char *text;
        bool done = true;
        if (i < N(texts)) {
            text = texts[i];
        } else {
            bad = mutate(s0, (int)(i - N(texts)), &done);
            if (!done) {
                free(bad);
                break;
            }
            text = bad;
        }
        if (!text) {
            T_CHECK(0, "mutation %zu failed", i);
            continue;
        }
        cases++;
        err[0] = 0;
        int rc = alerts_rules_restore(r, text, err, sizeof err);
        T_CHECK(rc == -EINVAL, "case %zu: %s: rc %d, want -EINVAL", i, text, rc);
        T_CHECK(err[0] != 0, "case %zu: no message", i);
        char *now = alerts_rules_to_json(r);
        T_CHECK(now && strcmp(now, s0) == 0, "case %zu: a refused restore changed the rules:\n%s\n%s", i, s0,
                now ? now : "-");
        free(now);
        free(bad);
    }
    T_CHECK(cases >= 40, "only %d cases ran", cases);

    /* another number of channels */
    alerts_rules *r3 = mk(NULL, 3);
    if (r3) {
        char *s3 = alerts_rules_to_json(r3);
        err[0] = 0;
        T_CHECK(alerts_rules_restore(r3, s0, err, sizeof err) == -EINVAL && err[0], "2 channels restored into 3");
        char *s3b = alerts_rules_to_json(r3);
        T_CHECK(s3 && s3b && strcmp(s3, s3b) == 0, "a refused restore changed the 3-channel rules");
        T_CHECK(alerts_rules_restore(r, s3, err, sizeof err) == -EINVAL, "3 channels restored into 2");
        free(s3);
        free(s3b);
        alerts_rules_free(r3);
    }
    /* after all the refusals, r goes on as a twin restored from the saved state does */
    alerts_rules *twin = mk(NULL, 2);
    if (twin && alerts_rules_restore(twin, s0, err, sizeof err) == 0) {
        for (long k = 4; k < 4 + DAY; k++) {
            enum alerts_level l = k % 37 < 20 ? ALERTS_ALARM : ALERTS_OK;
            snap(r, 0, tk(k), l);
            snap(twin, 0, tk(k), l);
            if (k == 4 + 30) {
                alerts_rules_stopped(r, 1, false);
                alerts_rules_stopped(twin, 1, false);
            }
            alerts_decision da, db;
            alerts_rules_eval(r, tk(k), false, &da);
            alerts_rules_eval(twin, tk(k), false, &db);
            char why[300];
            if (!same_decision(&da, &db, why, sizeof why)) {
                T_CHECK(0, "snapshot %ld: %s", k, why);
                break;
            }
        }
    }
    alerts_rules_free(twin);
    free(s0);
    alerts_rules_free(r);
}

int main(void)
{
    T_RUN(test_level_names);
    T_RUN(test_cfg_default);
    T_RUN(test_cfg_check);
    T_RUN(test_two_of_three);
    T_RUN(test_clearing);
    T_RUN(test_custom_debounce);
    T_RUN(test_pump_three_channels);
    T_RUN(test_asset_level_is_max);
    T_RUN(test_raised_on_worsening);
    T_RUN(test_lowered_and_recovered);
    T_RUN(test_raised_held);
    T_RUN(test_repeats);
    T_RUN(test_ack);
    T_RUN(test_ack_survives_unnotified_flap);
    T_RUN(test_flapping_alternating);
    T_RUN(test_flapping_random);
    T_RUN(test_maintenance);
    T_RUN(test_temperature);
    T_RUN(test_iso_zones);
    T_RUN(test_sensor_fault);
    T_RUN(test_sensor_fault_is_not_a_machine_fault);
    T_RUN(test_level_held_through_sensor_fault);
    T_RUN(test_stopped);
    T_RUN(test_stopped_cleared_by_snapshot);
    T_RUN(test_undo);
    T_RUN(test_replayed_snapshots);
    T_RUN(test_json_twins);
    T_RUN(test_restore_refuses);
    return t_done();
}

/* daemon/config_models.c — the "models" section (baselines, anomaly, degradation, RUL; see
 * models/monitor.h) and each asset's "installed" date. Durations are text with a unit ("14d",
 * "6h", "30m"), so that no one wonders whether a bare number meant hours or days. */
#define _XOPEN_SOURCE 700 /* strptime */
#include "cli.h"
#include "config_priv.h"
#include "snapshot_features.h"
#include "models/monitor.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static const char *const models_keys[] = {"baseline", "health_window", "onset", "warn_within", "alarm_within",
                                          "p_warn", "p_alarm", "failure", "prior", "seed", "stopped_rms_g",
                                          "speed_tolerance", NULL};
static const char *const baseline_keys[] = {"snapshots", "hours", NULL};
static const char *const onset_keys[] = {"k", "n", "ratio", NULL};
static const char *const failure_keys[] = {"feature", "limit", "multiple", NULL};

/* The defaults are the monitor's own (models_monitor_cfg_default): one place says them. */
void vw_cfg_models_default(vw_cfg_models *m)
{
    models_monitor_cfg d;
    models_monitor_cfg_default(&d);
    memset(m, 0, sizeof *m);
    m->baseline_snapshots = (unsigned)d.baseline_snapshots;
    m->health_window = (unsigned)d.health_window;
    m->onset_k = d.onset_k;
    m->onset_n = d.onset_n;
    m->onset_ratio = d.onset_ratio;
    m->warn_within_h = d.warn_within_h;
    m->alarm_within_h = d.alarm_within_h;
    m->p_warn = d.p_warn;
    m->p_alarm = d.p_alarm;
    m->failure_multiple = d.failure_multiple;
    m->seed = (double)d.seed;
    m->stopped_rms_g = d.stopped_rms_g;
    m->speed_tolerance = d.speed_tolerance;
}

static int get_duration(vw_cfg_ctx *x, const cJSON *o, const char *key, double *hours)
{
    const cJSON *v = vw_cfg_member(o, key);
    if (!v)
        return 0;
    if (!cJSON_IsString(v) || cli_parse_duration_h(v->valuestring, hours) < 0 || *hours > 24 * 3650)
        return vw_cfg_fail_value(x, key, "a duration with its unit, such as \"14d\", \"6h\" or \"30m\" (at most 10 years)", v);
    return 0;
}

static int read_failure(vw_cfg_ctx *x, const cJSON *mo, vw_cfg_models *m)
{
    const cJSON *f;
    int rc = vw_cfg_get_object(x, mo, "failure", false, &f);
    if (rc < 0 || !f)
        return rc;
    size_t mark = vw_cfg_path_key(x, "failure");
    if ((rc = vw_cfg_check_keys(x, f, failure_keys)) < 0)
        return rc;
    const cJSON *feat = vw_cfg_member(f, "feature");
    if (feat) {
        if (!cJSON_IsString(feat) || vw_snapshot_feature_index(feat->valuestring) < 0) {
            char list[512] = "";
            for (int k = 0; k < NFEAT; k++)
                snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", k ? ", " : "", vw_snapshot_feature_names[k]);
            char desc[600];
            snprintf(desc, sizeof desc, "one of the features (%s)", list);
            return vw_cfg_fail_value(x, "feature", desc, feat);
        }
        if (vw_cfg_member(f, "multiple"))
            return vw_cfg_fail(x, NULL, "give \"feature\" with \"limit\", or \"multiple\", not both");
        if ((rc = vw_cfg_get_number(x, f, "limit", true, 1e-9, 1e9, &m->failure_limit)) < 0)
            return rc;
        m->failure_feature = vw_cfg_strdup(feat->valuestring);
        if (!m->failure_feature)
            return vw_cfg_fail(x, NULL, "out of memory");
    } else if (vw_cfg_member(f, "limit")) {
        return vw_cfg_fail(x, "limit", "needs \"feature\" (the feature the limit is for)");
    } else if ((rc = vw_cfg_get_number(x, f, "multiple", true, 1.01, 1e6, &m->failure_multiple)) < 0) {
        return rc;
    }
    vw_cfg_path_pop(x, mark);
    return 0;
}

int vw_cfg_read_models(vw_cfg_ctx *x, const cJSON *root, vw_cfg_models *m)
{
    const cJSON *mo, *o;
    int rc = vw_cfg_get_object(x, root, "models", false, &mo);
    if (rc < 0 || !mo)
        return rc;
    size_t mark = vw_cfg_path_key(x, "models");
    double v;
    if ((rc = vw_cfg_check_keys(x, mo, models_keys)) < 0 || (rc = vw_cfg_get_object(x, mo, "baseline", false, &o)) < 0)
        return rc;
    if (o) {
        size_t m2 = vw_cfg_path_key(x, "baseline");
        if ((rc = vw_cfg_check_keys(x, o, baseline_keys)) < 0)
            return rc;
        if (vw_cfg_member(o, "snapshots") && vw_cfg_member(o, "hours"))
            return vw_cfg_fail(x, NULL, "give \"snapshots\" or \"hours\", not both");
        v = m->baseline_snapshots;
        if ((rc = vw_cfg_get_whole(x, o, "snapshots", false, 3, 1000000, &v)) < 0 ||
            (rc = vw_cfg_get_number(x, o, "hours", false, 1.0 / 60, 24 * 365, &m->baseline_hours)) < 0)
            return rc;
        m->baseline_snapshots = (unsigned)v;
        vw_cfg_path_pop(x, m2);
    }
    v = m->health_window;
    if ((rc = vw_cfg_get_whole(x, mo, "health_window", false, 1, 64, &v)) < 0)
        return rc;
    m->health_window = (unsigned)v;
    if ((rc = vw_cfg_get_object(x, mo, "onset", false, &o)) < 0)
        return rc;
    if (o) {
        size_t m2 = vw_cfg_path_key(x, "onset");
        double k = m->onset_k, n = m->onset_n;
        if ((rc = vw_cfg_check_keys(x, o, onset_keys)) < 0 || (rc = vw_cfg_get_whole(x, o, "n", false, 1, 64, &n)) < 0 ||
            (rc = vw_cfg_get_whole(x, o, "k", false, 1, 64, &k)) < 0 ||
            (rc = vw_cfg_get_number(x, o, "ratio", false, 1, 1000, &m->onset_ratio)) < 0)
            return rc;
        if (k > n)
            return vw_cfg_fail(x, "k", "must be at most n (%g): k of the last n snapshots above the threshold", n);
        m->onset_k = (unsigned)k;
        m->onset_n = (unsigned)n;
        vw_cfg_path_pop(x, m2);
    }
    if ((rc = get_duration(x, mo, "warn_within", &m->warn_within_h)) < 0 ||
        (rc = get_duration(x, mo, "alarm_within", &m->alarm_within_h)) < 0 ||
        (rc = vw_cfg_get_number(x, mo, "p_warn", false, 0.01, 0.99, &m->p_warn)) < 0 ||
        (rc = vw_cfg_get_number(x, mo, "p_alarm", false, 0.01, 0.99, &m->p_alarm)) < 0 ||
        (rc = read_failure(x, mo, m)) < 0 || (rc = vw_cfg_get_text(x, mo, "prior", false, VW_CFG_PATH, &m->prior)) < 0 ||
        (rc = vw_cfg_get_whole(x, mo, "seed", false, 0, 9007199254740991.0, &m->seed)) < 0 ||
        (rc = vw_cfg_get_number(x, mo, "stopped_rms_g", false, 0, 10, &m->stopped_rms_g)) < 0 ||
        (rc = vw_cfg_get_number(x, mo, "speed_tolerance", false, 0.01, 0.9, &m->speed_tolerance)) < 0)
        return rc;
    if (m->alarm_within_h > m->warn_within_h)
        return vw_cfg_fail(x, "alarm_within", "the alarm horizon (%.4g h) must not be longer than the warning "
                                              "horizon (warn_within, %.4g h)", m->alarm_within_h, m->warn_within_h);
    vw_cfg_path_pop(x, mark);
    return 0;
}

int vw_cfg_read_installed(vw_cfg_ctx *x, const cJSON *a, double *installed_h, double *load_n)
{
    *installed_h = NAN;
    *load_n = NAN;
    int rc = vw_cfg_get_number(x, a, "load_n", false, 1, 1e8, load_n);
    if (rc < 0)
        return rc;
    const cJSON *v = vw_cfg_member(a, "installed");
    if (!v)
        return 0;
    const char *desc = "a real UTC date \"YYYY-MM-DD\" or date and time \"YYYY-MM-DDTHH:MM:SSZ\" in the years "
                       "1970–2200";
    if (!cJSON_IsString(v))
        return vw_cfg_fail_value(x, "installed", desc, v);
    if (vw_cfg_parse_utc_h(v->valuestring, installed_h) < 0)
        return vw_cfg_fail_value(x, "installed", desc, v);
    return 0;
}

int vw_cfg_parse_utc_h(const char *s, double *hours)
{
    struct tm tm = {0};
    const char *end = strptime(s, "%Y-%m-%d", &tm);
    if (end && *end == 'T')
        end = strptime(end, "T%H:%M:%SZ", &tm);
    if (!end || *end || tm.tm_year < 70 || tm.tm_year > 300 || strlen(s) < 10 || s[4] != '-' || s[7] != '-')
        return -EINVAL;
    struct tm back, want = tm;
    time_t t = timegm(&tm);
    /* strptime takes day 31 for any month: a date timegm rolls over (2024-02-30) is not real */
    if (!gmtime_r(&t, &back) || back.tm_year != want.tm_year || back.tm_mon != want.tm_mon ||
        back.tm_mday != want.tm_mday || back.tm_hour != want.tm_hour || back.tm_min != want.tm_min)
        return -EINVAL;
    *hours = (double)t / 3600.0;
    return 0;
}

/* models/prior.c — see prior.h.
 *
 * File format ("vibewatch-prior", version 1):
 *   { "format": "vibewatch-prior", "version": 1,
 *     "failure": { "feature": "accel_peak_g", "limit": 20 }   (feature "" : multiple of threshold),
 *     "degradation": { "mu_theta", "mu_beta", "var_theta", "var_beta", "cov_theta_beta", "sigma2",
 *                      "phi" }                     (absent when no run showed a usable trend),
 *     "life_h": { "mu": …, "sigma": …, "n": …, "dof": … }, "degradation_h": { … },
 *     "life_rated": { … }                                (each absent when unknown),
 *     "runs": [ { "name", "rpm", "load_n", "life_h", "onset_h", "theta", "beta", "sigma2", "points" } … ] } */
#include "models/prior.h"
#include "models/numeric.h"
#include "models/textfile.h"

#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The regularized incomplete beta function I_x(a, b) by its continued fraction (modified Lentz),
 * using the symmetry I_x(a,b) = 1 − I_{1−x}(b,a) where the fraction converges slowly. */
static double lentz_step(double aa, double *c, double *d)
{
    const double tiny = 1e-300;
    *d = 1 + aa * *d;
    *d = fabs(*d) < tiny ? tiny : *d;
    *c = 1 + aa / *c;
    *c = fabs(*c) < tiny ? tiny : *c;
    *d = 1 / *d;
    return *d * *c;
}

static double betacf(double a, double b, double x)
{
    double c = 1e300, d = 1; /* so that the first step gives c = 1, d = 1 / (1 − (a+b)x/(a+1)) */
    double h = lentz_step(-(a + b) * x / (a + 1), &c, &d);
    for (int m = 1; m <= 300; m++) {
        double m2 = 2.0 * m;
        h *= lentz_step(m * (b - m) * x / ((a - 1 + m2) * (a + m2)), &c, &d);
        double del = lentz_step(-(a + m) * (a + b + m) * x / ((a + m2) * (a + 1 + m2)), &c, &d);
        h *= del;
        if (fabs(del - 1) < 1e-14)
            break;
    }
    return h;
}

static double ibeta(double a, double b, double x)
{
    if (x <= 0)
        return 0;
    if (x >= 1)
        return 1;
    double lbt = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x);
    if (x < (a + 1) / (a + b + 2))
        return exp(lbt) * betacf(a, b, x) / a;
    return 1 - exp(lbt) * betacf(b, a, 1 - x) / b;
}

/* P(Z ≤ z) of the standardised variable: normal (dof 0) or Student-t. */
static double std_cdf(double z, double dof)
{
    if (isinf(z))
        return z > 0 ? 1 : 0;
    if (!(dof > 0))
        return 0.5 * erfc(-z / sqrt(2.0));
    /* P(Z > |z|) = I_x(dof/2, 1/2) / 2 with x = dof/(dof+z²); near the median x rounds to 1,
     * so there the complement I_{1−x}(1/2, dof/2) is taken with 1 − x = z²/(dof+z²) exact */
    double tail = z * z < dof ? 0.5 * (1 - ibeta(0.5, dof / 2, z * z / (dof + z * z)))
                              : 0.5 * ibeta(dof / 2, 0.5, dof / (dof + z * z));
    return z >= 0 ? 1 - tail : tail;
}

static double std_cdf_of(const void *dof, double z) { return std_cdf(z, *(const double *)dof); }

/* Its inverse for p in (0, 1), by bisection (a handful of calls per snapshot). */
static double std_ppf(double p, double dof)
{
    return models_bisect(std_cdf_of, &dof, p, -1e3, 1e3, 1e-12);
}

double models_lognormal_cdf(const models_lognormal *d, double x_h)
{
    if (!(x_h > 0))
        return 0;
    return std_cdf((log(x_h) - d->mu) / d->sigma, d->dof);
}

double models_lognormal_cond_cdf(const models_lognormal *d, double age_h, double tau_h)
{
    if (!(tau_h > 0))
        return 0;
    double f_age = models_lognormal_cdf(d, age_h), s_age = 1 - f_age;
    if (!(s_age > 1e-300))
        return 1;
    double p = (models_lognormal_cdf(d, age_h + tau_h) - f_age) / s_age;
    return fmin(1, fmax(0, p));
}

int models_lognormal_remaining(const models_lognormal *d, double age_h, double horizon1_h, double horizon2_h,
                               models_cond_rul *out)
{
    if (!d || !out || !isfinite(d->mu) || !(d->sigma > 0) || !isfinite(age_h) || !(horizon1_h >= 0) ||
        !(horizon2_h >= 0))
        return -EINVAL;
    if (age_h < 0)
        age_h = 0;
    /* the q-quantile of T given T > age: F(t_q) = F(age) + q·(1 − F(age)) */
    double f_age = models_lognormal_cdf(d, age_h);
    const double qs[3] = {0.5, 0.1, 0.9};
    double r[3];
    for (int i = 0; i < 3; i++) {
        double pq = f_age + qs[i] * (1 - f_age);
        double t = pq >= 1 ? age_h : exp(d->mu + d->sigma * std_ppf(pq, d->dof));
        r[i] = t > age_h ? t - age_h : 0;
    }
    out->median_h = r[0];
    out->lo_h = r[1];
    out->hi_h = r[2];
    out->p_h1 = models_lognormal_cond_cdf(d, age_h, horizon1_h);
    out->p_h2 = models_lognormal_cond_cdf(d, age_h, horizon2_h);
    return 0;
}

double models_rating_factor(double rpm, double load_n)
{
    if (!(rpm > 0) || !(load_n > 0))
        return NAN;
    return pow(load_n / 1000, 3) * (rpm / 1000);
}

int models_prior_life(const models_prior *p, double rpm, double load_n, models_lognormal *out)
{
    double f = models_rating_factor(rpm, load_n);
    if (isfinite(p->life_rated.mu) && isfinite(f)) {
        *out = p->life_rated;
        out->mu -= log(f);
        return 0;
    }
    if (isfinite(p->life_h.mu)) {
        *out = p->life_h;
        return 0;
    }
    return -ENOENT;
}

int models_lognormal_fit(const double *x_h, size_t n, double sigma_floor, models_lognormal *out)
{
    if (!x_h || !out || n == 0)
        return -EINVAL;
    double s = 0, ss = 0;
    for (size_t i = 0; i < n; i++) {
        if (!(x_h[i] > 0) || !isfinite(x_h[i]))
            return -EINVAL;
        s += log(x_h[i]);
    }
    double mu = s / (double)n;
    for (size_t i = 0; i < n; i++)
        ss += (log(x_h[i]) - mu) * (log(x_h[i]) - mu);
    double sd = n > 1 ? sqrt(ss / (double)(n - 1)) : 0;
    out->mu = mu;
    out->sigma = fmax(sd, sigma_floor) * sqrt(1 + 1 / (double)n);
    out->n = n;
    out->dof = n > 1 ? (double)(n - 1) : 0;
    return 0;
}

/* ---- the file ---- */


static void add_lognormal(cJSON *root, const char *k, const models_lognormal *d)
{
    if (!isfinite(d->mu))
        return;
    cJSON *o = cJSON_AddObjectToObject(root, k);
    models_json_number(o, "mu", d->mu);
    models_json_number(o, "sigma", d->sigma);
    cJSON_AddNumberToObject(o, "n", (double)d->n);
    cJSON_AddNumberToObject(o, "dof", d->dof);
}

char *models_prior_to_json(const models_prior *p)
{
    if (!p)
        return NULL;
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "format", MODELS_PRIOR_FORMAT);
    cJSON_AddNumberToObject(root, "version", MODELS_PRIOR_VERSION);
    cJSON *f = cJSON_AddObjectToObject(root, "failure");
    cJSON_AddStringToObject(f, "feature", p->feature);
    models_json_number(f, "limit", p->limit);
    if (p->have_deg) {
        cJSON *d = cJSON_AddObjectToObject(root, "degradation");
        models_json_number(d, "mu_theta", p->deg.mu_theta);
        models_json_number(d, "mu_beta", p->deg.mu_beta);
        models_json_number(d, "var_theta", p->deg.var_theta);
        models_json_number(d, "var_beta", p->deg.var_beta);
        models_json_number(d, "cov_theta_beta", p->deg.cov_theta_beta);
        models_json_number(d, "sigma2", p->deg.sigma2);
        models_json_number(d, "phi", p->deg.phi);
    }
    add_lognormal(root, "life_h", &p->life_h);
    add_lognormal(root, "degradation_h", &p->degradation_h);
    add_lognormal(root, "life_rated", &p->life_rated);
    cJSON *runs = cJSON_AddArrayToObject(root, "runs");
    for (size_t i = 0; i < p->nruns && i < MODELS_PRIOR_MAX_RUNS; i++) {
        const models_prior_run *r = &p->runs[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", r->name);
        models_json_number(o, "rpm", r->rpm);
        models_json_number(o, "load_n", r->load_n);
        models_json_number(o, "life_h", r->life_h);
        models_json_number(o, "onset_h", r->onset_h);
        models_json_number(o, "theta", r->theta);
        models_json_number(o, "beta", r->beta);
        models_json_number(o, "sigma2", r->sigma2);
        cJSON_AddNumberToObject(o, "points", (double)r->points);
        cJSON_AddItemToArray(runs, o);
    }
    char *s = cJSON_Print(root);
    cJSON_Delete(root);
    return s;
}

/* A finite number at o[key] (or NAN for JSON null when nullable). */
static int get_num(const cJSON *o, const char *where, const char *key, int nullable, double *out, char *err,
                   size_t errlen)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (nullable && cJSON_IsNull(v)) {
        *out = NAN;
        return 0;
    }
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble)) {
        snprintf(err, errlen, "prior file: %s%s must be a finite number%s", where, key, nullable ? " or null" : "");
        return -EINVAL;
    }
    *out = v->valuedouble;
    return 0;
}

static int get_lognormal(const cJSON *root, const char *key, models_lognormal *d, char *err, size_t errlen)
{
    d->mu = NAN;
    d->sigma = NAN;
    d->n = 0;
    d->dof = 0;
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(root, key);
    if (!o)
        return 0;
    char where[48];
    snprintf(where, sizeof where, "%s.", key);
    double n;
    if (!cJSON_IsObject(o) || get_num(o, where, "mu", 0, &d->mu, err, errlen) < 0 ||
        get_num(o, where, "sigma", 0, &d->sigma, err, errlen) < 0 || get_num(o, where, "n", 0, &n, err, errlen) < 0 ||
        get_num(o, where, "dof", 0, &d->dof, err, errlen) < 0) {
        if (!cJSON_IsObject(o))
            snprintf(err, errlen, "prior file: %s must be an object", key);
        return -EINVAL;
    }
    if (!(d->sigma > 0) || n < 0 || n > 1e9 || d->dof < 0 || d->dof > 1e9) {
        snprintf(err, errlen, "prior file: %s.sigma must be > 0, %s.n and %s.dof ≥ 0", key, key, key);
        return -EINVAL;
    }
    d->n = (size_t)n;
    return 0;
}

int models_prior_from_json(const char *text, size_t len, models_prior *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    cJSON *root = cJSON_ParseWithLength(text, len);
    int rc = -EINVAL;
    if (!root || !cJSON_IsObject(root)) {
        snprintf(err, errlen, "prior file: not a JSON object");
        goto done;
    }
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "format");
    if (!cJSON_IsString(v) || strcmp(v->valuestring, MODELS_PRIOR_FORMAT) != 0) {
        snprintf(err, errlen, "prior file: \"format\" must be \"%s\"", MODELS_PRIOR_FORMAT);
        goto done;
    }
    v = cJSON_GetObjectItemCaseSensitive(root, "version");
    if (!cJSON_IsNumber(v) || v->valuedouble != MODELS_PRIOR_VERSION) {
        snprintf(err, errlen, "prior file: version %g is not the %d this box reads",
                 cJSON_IsNumber(v) ? v->valuedouble : -1.0, MODELS_PRIOR_VERSION);
        goto done;
    }
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(root, "failure");
    v = cJSON_GetObjectItemCaseSensitive(f, "feature");
    if (!cJSON_IsObject(f) || !cJSON_IsString(v) || strlen(v->valuestring) >= MODELS_PRIOR_NAME_MAX) {
        snprintf(err, errlen, "prior file: failure.feature must be a string (\"\" for the anomaly criterion)");
        goto done;
    }
    snprintf(out->feature, sizeof out->feature, "%s", v->valuestring);
    if (get_num(f, "failure.", "limit", 0, &out->limit, err, errlen) < 0)
        goto done;
    if (!(out->limit > 0)) {
        snprintf(err, errlen, "prior file: failure.limit must be > 0");
        goto done;
    }
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(root, "degradation");
    if (d) {
        models_deg_prior_default(&out->deg);
        double *dst[7] = {&out->deg.mu_theta, &out->deg.mu_beta, &out->deg.var_theta, &out->deg.var_beta,
                          &out->deg.cov_theta_beta, &out->deg.sigma2, &out->deg.phi};
        static const char *const keys[7] = {"mu_theta", "mu_beta", "var_theta", "var_beta", "cov_theta_beta",
                                            "sigma2", "phi"};
        for (int i = 0; i < 7; i++)
            if (get_num(d, "degradation.", keys[i], 0, dst[i], err, errlen) < 0)
                goto done;
        char why[160];
        if (models_deg_prior_check(&out->deg, why, sizeof why) < 0) {
            snprintf(err, errlen, "prior file: degradation: %s", why);
            goto done;
        }
        out->have_deg = true;
    }
    if (get_lognormal(root, "life_h", &out->life_h, err, errlen) < 0 ||
        get_lognormal(root, "degradation_h", &out->degradation_h, err, errlen) < 0 ||
        get_lognormal(root, "life_rated", &out->life_rated, err, errlen) < 0)
        goto done;
    const cJSON *runs = cJSON_GetObjectItemCaseSensitive(root, "runs");
    if (runs && !cJSON_IsArray(runs)) {
        snprintf(err, errlen, "prior file: runs must be an array");
        goto done;
    }
    const cJSON *r;
    cJSON_ArrayForEach(r, runs) {
        if (out->nruns >= MODELS_PRIOR_MAX_RUNS)
            break;
        models_prior_run *pr = &out->runs[out->nruns];
        char where[32];
        snprintf(where, sizeof where, "runs[%zu].", out->nruns);
        const cJSON *nm = cJSON_GetObjectItemCaseSensitive(r, "name");
        snprintf(pr->name, sizeof pr->name, "%s", cJSON_IsString(nm) ? nm->valuestring : "");
        double pts = 0;
        if (get_num(r, where, "rpm", 1, &pr->rpm, err, errlen) < 0 ||
            get_num(r, where, "load_n", 1, &pr->load_n, err, errlen) < 0 ||
            get_num(r, where, "life_h", 1, &pr->life_h, err, errlen) < 0 ||
            get_num(r, where, "onset_h", 1, &pr->onset_h, err, errlen) < 0 ||
            get_num(r, where, "theta", 1, &pr->theta, err, errlen) < 0 ||
            get_num(r, where, "beta", 1, &pr->beta, err, errlen) < 0 ||
            get_num(r, where, "sigma2", 1, &pr->sigma2, err, errlen) < 0 ||
            get_num(r, where, "points", 0, &pts, err, errlen) < 0)
            goto done;
        pr->points = pts > 0 && pts < 1e12 ? (size_t)pts : 0;
        out->nruns++;
    }
    rc = 0;
done:
    cJSON_Delete(root);
    return rc;
}

int models_prior_load(const char *path, models_prior *out, char *err, size_t errlen)
{
    size_t n = 0;
    char *text = models_read_text(path, 4u << 20, &n, err, errlen);
    if (!text)
        return -EINVAL;
    char msg[256] = "";
    int rc = models_prior_from_json(text, n, out, msg, sizeof msg);
    free(text);
    if (rc < 0)
        snprintf(err, errlen, "%s: %s", path, msg);
    return rc;
}

int models_prior_save(const models_prior *p, const char *path, char *err, size_t errlen)
{
    char *text = models_prior_to_json(p);
    if (!text) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -ENOMEM;
    }
    int rc = models_write_text(path, text, err, errlen);
    free(text);
    return rc;
}

/* Tests of models/prior.h against closed forms: the log-normal CDF with a normal or Student-t
 * (1, 2, 4 degrees of freedom) log, the remaining-life quantiles and horizon probabilities of
 * something that has survived an age (checked with the conditional formula computed here
 * independently), the predictive fit of a few durations, the rating-life scaling of a prior to a
 * box's load and speed, and the prior file: every field round-trips through the JSON text and a
 * file, bad files are refused with a message naming the field, no prefix of a file is accepted. */
#include "models/prior.h"
#include "testlib.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The standard normal quantiles and the Student-t (4 dof) 90 % quantile. */
#define Z90_NORMAL 1.2815515655446004
#define Z90_T4 1.5332062740589443

/* P(Z ≤ t) of the standardised log in closed form, for dof 0 (normal), 1, 2 and 4. */
static double ref_std_cdf(double t, double dof)
{
    if (dof == 0)
        return 0.5 * erfc(-t / sqrt(2.0));
    if (dof == 1)
        return 0.5 + atan(t) / M_PI;
    if (dof == 2)
        return 0.5 + t / (2 * sqrt(t * t + 2));
    if (dof == 4)
        return 0.5 + t * (t * t + 6) / (2 * pow(t * t + 4, 1.5));
    return NAN;
}

/* P(T ≤ x) and P(T > x) of a log-normal in closed form (the survival by symmetry, so that it
 * keeps its precision in the upper tail). */
static double ref_cdf(const models_lognormal *d, double x)
{
    return x > 0 ? ref_std_cdf((log(x) - d->mu) / d->sigma, d->dof) : 0;
}

static double ref_sf(const models_lognormal *d, double x)
{
    return x > 0 ? ref_std_cdf(-(log(x) - d->mu) / d->sigma, d->dof) : 1;
}

/* P(T − age ≤ tau | T > age) = (F(age + tau) − F(age)) / (1 − F(age)). */
static double ref_cond(const models_lognormal *d, double age, double tau)
{
    return (ref_cdf(d, age + tau) - ref_cdf(d, age)) / ref_sf(d, age);
}

static void test_cdf_closed_forms(void)
{
    static const double ts[] = {-30, -8, -3, -1.7, -1, -0.45, -1e-3, 0, 1e-3, 0.3, 1, 1.5332062740589443, 2.2, 4,
                                9, 30};
    static const double dofs[] = {0, 1, 2, 4};
    const double mus[] = {0, log(20000.0), -2.5};
    static const double sigmas[] = {1, 0.35, 2.2};
    for (size_t m = 0; m < sizeof mus / sizeof mus[0]; m++)
        for (size_t k = 0; k < sizeof dofs / sizeof dofs[0]; k++) {
            models_lognormal d = {.mu = mus[m], .sigma = sigmas[m], .n = 5, .dof = dofs[k]};
            for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++) {
                double x = exp(d.mu + d.sigma * ts[i]);
                double t = (log(x) - d.mu) / d.sigma; /* the t the function sees */
                char what[96];
                snprintf(what, sizeof what, "dof %g mu %g t %g", d.dof, d.mu, ts[i]);
                T_NEAR(models_lognormal_cdf(&d, x), ref_std_cdf(t, d.dof), 1e-10, what);
            }
            T_CHECK(models_lognormal_cdf(&d, 0) == 0 && models_lognormal_cdf(&d, -5) == 0, "dof %g: F(x ≤ 0) = 0",
                    d.dof);
            T_CHECK(models_lognormal_cdf(&d, INFINITY) == 1, "dof %g: F(inf) = %g", d.dof,
                    models_lognormal_cdf(&d, INFINITY));
            T_NEAR(models_lognormal_cdf(&d, exp(d.mu)), 0.5, 1e-12, "F(median) = 1/2");
        }
    /* the normal at a few quantiles known to many digits */
    models_lognormal n = {.mu = 3, .sigma = 0.5, .n = 1, .dof = 0};
    T_NEAR(models_lognormal_cdf(&n, exp(3 + 0.5 * Z90_NORMAL)), 0.9, 1e-12, "normal 90 %");
    T_NEAR(models_lognormal_cdf(&n, exp(3 - 0.5 * 1.959963984540054)), 0.025, 1e-12, "normal 2.5 %");
    models_lognormal t4 = {.mu = 3, .sigma = 0.5, .n = 5, .dof = 4};
    T_NEAR(models_lognormal_cdf(&t4, exp(3 + 0.5 * Z90_T4)), 0.9, 1e-12, "t4 90 %");
    T_NEAR(models_lognormal_cdf(&t4, exp(3 - 0.5 * Z90_T4)), 0.1, 1e-12, "t4 10 %");
}

/* Within a hair of the median, where P(Z > |t|) = I_x(dof/2, 1/2) with x = dof/(dof + t²) → 1
 * must not lose its digits to 1 − x. */
static void test_cdf_near_median(void)
{
    static const double ts[] = {-1e-6, -1e-7, -3e-8, -1e-8, -1e-9, 1e-9, 1e-8, 1e-7, 1e-6};
    static const double dofs[] = {0, 1, 2, 4};
    for (size_t k = 0; k < sizeof dofs / sizeof dofs[0]; k++) {
        models_lognormal d = {.mu = 0, .sigma = 1, .n = 5, .dof = dofs[k]};
        for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++) {
            double x = exp(ts[i]), t = log(x);
            char what[96];
            snprintf(what, sizeof what, "dof %g t %g", d.dof, ts[i]);
            T_NEAR(models_lognormal_cdf(&d, x), ref_std_cdf(t, d.dof), 1e-10, what);
        }
    }
}

/* The 90 % quantile of t4 from its closed-form CDF by bisection, independent of the code. */
static void test_t4_quantile_constant(void)
{
    double lo = 0, hi = 10;
    for (int i = 0; i < 200; i++) {
        double mid = 0.5 * (lo + hi);
        if (ref_std_cdf(mid, 4) < 0.9)
            lo = mid;
        else
            hi = mid;
    }
    T_NEAR(0.5 * (lo + hi), Z90_T4, 1e-14, "t4 90 % quantile");
    T_NEAR(ref_std_cdf(Z90_NORMAL, 0), 0.9, 1e-15, "normal 90 % quantile");
}

static void test_remaining_at_age_zero(void)
{
    static const double dofs[] = {0, 4};
    static const double zs[] = {Z90_NORMAL, Z90_T4};
    for (int k = 0; k < 2; k++) {
        models_lognormal d = {.mu = log(20000.0), .sigma = 0.4, .n = 5, .dof = dofs[k]};
        models_cond_rul r;
        T_CHECK(models_lognormal_remaining(&d, 0, 168, 336, &r) == 0, "dof %g refused", d.dof);
        double med = exp(d.mu);
        T_NEAR(r.median_h, med, 1e-9 * med, "median = exp(mu)");
        double lo = exp(d.mu - d.sigma * zs[k]), hi = exp(d.mu + d.sigma * zs[k]);
        T_NEAR(r.lo_h, lo, 1e-9 * lo, "10 % quantile");
        T_NEAR(r.hi_h, hi, 1e-9 * hi, "90 % quantile");
        T_NEAR(r.p_h1, ref_cdf(&d, 168), 1e-12, "P(T ≤ 168 h)");
        T_NEAR(r.p_h2, ref_cdf(&d, 336), 1e-12, "P(T ≤ 336 h)");
        /* a negative age is taken as 0 */
        models_cond_rul r2;
        T_CHECK(models_lognormal_remaining(&d, -100, 168, 336, &r2) == 0, "negative age refused");
        T_CHECK(r2.median_h == r.median_h && r2.lo_h == r.lo_h && r2.hi_h == r.hi_h, "negative age is age 0");
    }
}

static void test_remaining_at_age(void)
{
    static const double dofs[] = {0, 1, 2, 4};
    static const double ages[] = {5000, 20000, 31000, 60000};
    for (size_t k = 0; k < sizeof dofs / sizeof dofs[0]; k++)
        for (size_t a = 0; a < sizeof ages / sizeof ages[0]; a++) {
            models_lognormal d = {.mu = log(20000.0), .sigma = 0.4, .n = 5, .dof = dofs[k]};
            double age = ages[a], h1 = 168, h2 = 2000;
            models_cond_rul r;
            T_CHECK(models_lognormal_remaining(&d, age, h1, h2, &r) == 0, "dof %g age %g refused", d.dof, age);
            char what[96];
            snprintf(what, sizeof what, "dof %g age %g", d.dof, age);
            T_CHECK(r.lo_h > 0 && r.lo_h < r.median_h && r.median_h < r.hi_h, "%s: lo %g median %g hi %g", what,
                    r.lo_h, r.median_h, r.hi_h);
            /* the median: half of the survivors fail within it — by the code's conditional CDF … */
            T_NEAR(models_lognormal_cond_cdf(&d, age, r.median_h), 0.5, 1e-9, what);
            /* … and by the closed form */
            T_NEAR(ref_cond(&d, age, r.median_h), 0.5, 1e-9, what);
            T_NEAR(ref_cond(&d, age, r.lo_h), 0.1, 1e-9, what);
            T_NEAR(ref_cond(&d, age, r.hi_h), 0.9, 1e-9, what);
            T_NEAR(r.p_h1, ref_cond(&d, age, h1), 1e-10, what);
            T_NEAR(r.p_h2, ref_cond(&d, age, h2), 1e-10, what);
            T_NEAR(models_lognormal_cond_cdf(&d, age, 777), ref_cond(&d, age, 777), 1e-10, what);
        }
    models_lognormal d = {.mu = log(20000.0), .sigma = 0.4, .n = 5, .dof = 0};
    T_CHECK(models_lognormal_cond_cdf(&d, 1000, 0) == 0 && models_lognormal_cond_cdf(&d, 1000, -5) == 0,
            "tau ≤ 0: 0");
    T_CHECK(models_lognormal_cond_cdf(&d, 1000, INFINITY) == 1, "tau infinite: 1");
    /* the same value written with erfc directly */
    double age = 25000, tau = 3000;
    double fa = 0.5 * erfc(-(log(age) - d.mu) / (d.sigma * sqrt(2.0)));
    double fb = 0.5 * erfc(-(log(age + tau) - d.mu) / (d.sigma * sqrt(2.0)));
    T_NEAR(models_lognormal_cond_cdf(&d, age, tau), (fb - fa) / (1 - fa), 1e-12, "erfc formula");
}

static void test_remaining_refusals(void)
{
    models_cond_rul r;
    models_lognormal good = {.mu = 9, .sigma = 0.4, .n = 5, .dof = 4};
    models_lognormal d = good;
    d.mu = NAN;
    T_CHECK(models_lognormal_remaining(&d, 0, 1, 2, &r) == -EINVAL, "unknown mu");
    d = good;
    d.sigma = 0;
    T_CHECK(models_lognormal_remaining(&d, 0, 1, 2, &r) == -EINVAL, "sigma 0");
    d.sigma = -1;
    T_CHECK(models_lognormal_remaining(&d, 0, 1, 2, &r) == -EINVAL, "sigma < 0");
    T_CHECK(models_lognormal_remaining(&good, NAN, 1, 2, &r) == -EINVAL, "age NaN");
    T_CHECK(models_lognormal_remaining(&good, INFINITY, 1, 2, &r) == -EINVAL, "age infinite");
    T_CHECK(models_lognormal_remaining(&good, 0, -1, 2, &r) == -EINVAL, "horizon 1 < 0");
    T_CHECK(models_lognormal_remaining(&good, 0, 1, NAN, &r) == -EINVAL, "horizon 2 NaN");
    T_CHECK(models_lognormal_remaining(NULL, 0, 1, 2, &r) == -EINVAL, "NULL distribution");
    T_CHECK(models_lognormal_remaining(&good, 0, 1, 2, NULL) == -EINVAL, "NULL out");
}

static void test_fit(void)
{
    const double x[4] = {1000, 2000, 4000, 8000};
    models_lognormal d;
    /* logs ln 1000 + k ln 2, k = 0..3: mean at k = 1.5, sample sd ln 2 · sqrt(5/3) */
    double mu = log(1000.0) + 1.5 * log(2.0), sd = log(2.0) * sqrt(5.0 / 3.0);
    T_CHECK(models_lognormal_fit(x, 4, 0.1, &d) == 0, "fit refused");
    T_NEAR(d.mu, mu, 1e-12, "mu = mean of logs");
    T_NEAR(d.sigma, sd * sqrt(1 + 1.0 / 4), 1e-12, "sigma = sd · sqrt(1 + 1/n)");
    T_CHECK(d.n == 4 && d.dof == 3, "n %zu dof %g", d.n, d.dof);
    /* the floor, when the sample is tighter */
    T_CHECK(models_lognormal_fit(x, 4, 2.0, &d) == 0, "fit refused");
    T_NEAR(d.sigma, 2.0 * sqrt(1.25), 1e-12, "floored sigma");
    T_NEAR(d.mu, mu, 1e-12, "mu does not depend on the floor");
    /* one run: dof 0 (a normal) and the floor */
    const double one = 5000;
    T_CHECK(models_lognormal_fit(&one, 1, 0.3, &d) == 0, "n = 1 refused");
    T_NEAR(d.mu, log(5000.0), 1e-12, "n = 1 mu");
    T_NEAR(d.sigma, 0.3 * sqrt(2.0), 1e-12, "n = 1 sigma");
    T_CHECK(d.n == 1 && d.dof == 0, "n = 1: n %zu dof %g", d.n, d.dof);
    /* two identical runs: sd 0, the floor, dof 1 */
    const double two[2] = {700, 700};
    T_CHECK(models_lognormal_fit(two, 2, 0.25, &d) == 0, "n = 2 refused");
    T_NEAR(d.sigma, 0.25 * sqrt(1.5), 1e-12, "n = 2 sigma");
    T_CHECK(d.dof == 1, "n = 2 dof %g", d.dof);
    /* refusals */
    T_CHECK(models_lognormal_fit(x, 0, 0.1, &d) == -EINVAL, "n = 0");
    T_CHECK(models_lognormal_fit(NULL, 3, 0.1, &d) == -EINVAL, "NULL sample");
    T_CHECK(models_lognormal_fit(x, 4, 0.1, NULL) == -EINVAL, "NULL out");
    static const double bad[] = {0, -5, NAN, INFINITY};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        double y[3] = {1000, bad[i], 3000};
        T_CHECK(models_lognormal_fit(y, 3, 0.1, &d) == -EINVAL, "duration %g accepted", bad[i]);
    }
}

static void test_rating_factor(void)
{
    T_NEAR(models_rating_factor(1500, 2000), 12, 1e-12, "(2 kN)³ · 1.5");
    T_NEAR(models_rating_factor(1000, 1000), 1, 0, "1 kN at 1000 rpm");
    T_NEAR(models_rating_factor(3000, 500), 0.125 * 3, 1e-15, "(0.5 kN)³ · 3");
    T_CHECK(isnan(models_rating_factor(0, 2000)), "rpm 0");
    T_CHECK(isnan(models_rating_factor(1500, -1)), "negative load");
    T_CHECK(isnan(models_rating_factor(NAN, 2000)), "rpm unknown");
    T_CHECK(isnan(models_rating_factor(1500, NAN)), "load unknown");
}

static void test_prior_life(void)
{
    static models_prior p;
    memset(&p, 0, sizeof p);
    p.life_h = (models_lognormal){.mu = NAN, .sigma = NAN};
    p.life_rated = (models_lognormal){.mu = NAN, .sigma = NAN};
    models_lognormal out;
    T_CHECK(models_prior_life(&p, 1500, 2000, &out) == -ENOENT, "neither: -ENOENT");

    /* three runs at different loads and speeds */
    const double life[3] = {30000, 12000, 5000}, rpm[3] = {1500, 1800, 3000}, load[3] = {2000, 3000, 4000};
    double rated[3], life_only[3], sum = 0;
    for (int i = 0; i < 3; i++) {
        double f = pow(load[i] / 1000, 3) * (rpm[i] / 1000);
        T_NEAR(models_rating_factor(rpm[i], load[i]), f, 1e-12 * f, "run factor");
        rated[i] = life[i] * f;
        life_only[i] = life[i];
        sum += log(rated[i]);
    }
    T_CHECK(models_lognormal_fit(rated, 3, 0.1, &p.life_rated) == 0, "fit rated");
    T_CHECK(models_prior_life(&p, 1500, 2000, &out) == 0, "rated only, load known");
    T_CHECK(models_prior_life(&p, 1500, NAN, &out) == -ENOENT, "rated only, load unknown: -ENOENT");
    T_CHECK(models_lognormal_fit(life_only, 3, 0.1, &p.life_h) == 0, "fit life");

    const double box_rpm = 2400, box_load = 2500, f = 15.625 * 2.4;
    T_CHECK(models_prior_life(&p, box_rpm, box_load, &out) == 0, "scaled");
    T_NEAR(out.mu, sum / 3 - log(f), 1e-12, "mu = mean(ln(L f_i)) − ln f");
    T_CHECK(out.sigma == p.life_rated.sigma && out.n == 3 && out.dof == 2, "sigma, n, dof kept");
    /* a box at a run's own load and speed gets that run's life when it is the only run */
    static models_prior one;
    memset(&one, 0, sizeof one);
    one.life_h.mu = NAN;
    T_CHECK(models_lognormal_fit(&rated[1], 1, 0.3, &one.life_rated) == 0, "fit one");
    T_CHECK(models_prior_life(&one, rpm[1], load[1], &out) == 0, "one run");
    T_NEAR(exp(out.mu), life[1], 1e-9 * life[1], "the run's own life back");
    /* falls back to life_h when the load or speed is unknown or not positive */
    static const double bad_rpm[] = {1500, 0, NAN, 1500};
    static const double bad_load[] = {NAN, 2000, 2000, 0};
    for (int i = 0; i < 4; i++) {
        T_CHECK(models_prior_life(&p, bad_rpm[i], bad_load[i], &out) == 0, "fallback %d refused", i);
        T_CHECK(out.mu == p.life_h.mu && out.sigma == p.life_h.sigma && out.dof == p.life_h.dof,
                "fallback %d: mu %g, want life_h %g", i, out.mu, p.life_h.mu);
    }
    /* and to life_h when the prior has no rated life */
    p.life_rated.mu = NAN;
    T_CHECK(models_prior_life(&p, box_rpm, box_load, &out) == 0 && out.mu == p.life_h.mu, "no rated life");
}

/* ---- the file ---- */

static int same(double a, double b)
{
    return (isnan(a) && isnan(b)) || a == b;
}

static void sample_prior(models_prior *p)
{
    memset(p, 0, sizeof *p);
    snprintf(p->feature, sizeof p->feature, "velocity_rms_mm_s");
    p->limit = 11.2;
    models_deg_prior_default(&p->deg);
    p->deg.mu_theta = -1.2345678901234567;
    p->deg.mu_beta = 0.012345678912345;
    p->deg.var_theta = 0.3;
    p->deg.var_beta = 1e-5;
    p->deg.cov_theta_beta = -2.5e-4;
    p->deg.sigma2 = 0.04;
    p->deg.phi = 0.1;
    p->have_deg = true;
    p->life_h = (models_lognormal){.mu = log(21000.0), .sigma = 0.41, .n = 5, .dof = 4};
    p->degradation_h = (models_lognormal){.mu = log(600.0), .sigma = 0.7, .n = 3, .dof = 2};
    p->life_rated = (models_lognormal){.mu = 12.3, .sigma = 0.55, .n = 1, .dof = 0};
    p->nruns = 3;
    p->runs[0] = (models_prior_run){.name = "Bearing1_1", .rpm = 1800, .load_n = 4000, .life_h = 7.8,
                                    .onset_h = 4.55, .theta = -0.3, .beta = 0.9, .sigma2 = 0.01, .points = 120};
    p->runs[1] = (models_prior_run){.name = "run \"2\" \xC3\xA9\\", .rpm = NAN, .load_n = NAN, .life_h = 2.1e5,
                                    .onset_h = NAN, .theta = NAN, .beta = NAN, .sigma2 = NAN, .points = 0};
    p->runs[2] = (models_prior_run){.name = "", .rpm = 1e-3, .load_n = 123456.789, .life_h = 1.0 / 3,
                                    .onset_h = 0, .theta = 1e-300, .beta = -7, .sigma2 = 3, .points = 7};
}

static void check_same_lognormal(const models_lognormal *a, const models_lognormal *b, const char *what)
{
    T_CHECK(same(a->mu, b->mu) && (isnan(a->mu) || (a->sigma == b->sigma && a->n == b->n && a->dof == b->dof)),
            "%s: mu %.17g/%.17g sigma %.17g/%.17g n %zu/%zu dof %g/%g", what, a->mu, b->mu, a->sigma, b->sigma, a->n,
            b->n, a->dof, b->dof);
}

static void check_same_prior(const models_prior *a, const models_prior *b)
{
    T_CHECK(strcmp(a->feature, b->feature) == 0, "feature '%s' / '%s'", a->feature, b->feature);
    T_CHECK(a->limit == b->limit, "limit %.17g / %.17g", a->limit, b->limit);
    T_CHECK(a->have_deg == b->have_deg, "have_deg");
    if (a->have_deg && b->have_deg) {
        const models_deg_prior *x = &a->deg, *y = &b->deg;
        T_CHECK(x->mu_theta == y->mu_theta && x->mu_beta == y->mu_beta && x->var_theta == y->var_theta &&
                    x->var_beta == y->var_beta && x->cov_theta_beta == y->cov_theta_beta && x->sigma2 == y->sigma2 &&
                    x->phi == y->phi,
                "degradation prior fields differ");
        /* the fields the file does not hold are the default's */
        T_CHECK(x->estimate_sigma2 == y->estimate_sigma2 && x->sigma2_dof == y->sigma2_dof &&
                    x->sigma2_floor == y->sigma2_floor,
                "degradation prior defaults differ");
    }
    check_same_lognormal(&a->life_h, &b->life_h, "life_h");
    check_same_lognormal(&a->degradation_h, &b->degradation_h, "degradation_h");
    check_same_lognormal(&a->life_rated, &b->life_rated, "life_rated");
    T_CHECK(a->nruns == b->nruns, "nruns %zu / %zu", a->nruns, b->nruns);
    for (size_t i = 0; i < a->nruns && i < b->nruns; i++) {
        const models_prior_run *r = &a->runs[i], *s = &b->runs[i];
        T_CHECK(strcmp(r->name, s->name) == 0, "run %zu name '%s' / '%s'", i, r->name, s->name);
        T_CHECK(same(r->rpm, s->rpm) && same(r->load_n, s->load_n) && same(r->life_h, s->life_h) &&
                    same(r->onset_h, s->onset_h) && same(r->theta, s->theta) && same(r->beta, s->beta) &&
                    same(r->sigma2, s->sigma2) && r->points == s->points,
                "run %zu differs", i);
    }
}

static void test_json_round_trip(void)
{
    static models_prior p, q;
    sample_prior(&p);
    char *text = models_prior_to_json(&p);
    T_CHECK(text != NULL, "to_json");
    if (!text)
        return;
    char err[256] = "";
    int rc = models_prior_from_json(text, strlen(text), &q, err, sizeof err);
    T_CHECK(rc == 0, "from_json: %s", err);
    if (rc == 0)
        check_same_prior(&p, &q);
    /* unknown values are written as null */
    T_CHECK(strstr(text, "\"onset_h\":\tnull") || strstr(text, "\"onset_h\": null") ||
                strstr(text, "\"onset_h\":null"),
            "NaN not written as null");
    T_CHECK(strstr(text, "\"format\"") && strstr(text, MODELS_PRIOR_FORMAT), "format tag");
    free(text);

    /* the anomaly criterion, no degradation prior, nothing known about lives, no runs */
    memset(&p, 0, sizeof p);
    p.limit = 10;
    p.life_h.mu = p.degradation_h.mu = p.life_rated.mu = NAN;
    text = models_prior_to_json(&p);
    T_CHECK(text != NULL, "to_json (bare)");
    if (!text)
        return;
    rc = models_prior_from_json(text, strlen(text), &q, err, sizeof err);
    T_CHECK(rc == 0, "from_json (bare): %s", err);
    if (rc == 0) {
        check_same_prior(&p, &q);
        T_CHECK(!q.have_deg && isnan(q.life_h.mu) && isnan(q.degradation_h.mu) && isnan(q.life_rated.mu) &&
                    q.nruns == 0 && q.feature[0] == 0,
                "bare prior");
    }
    T_CHECK(!strstr(text, "\"degradation\"") && !strstr(text, "\"life_h\":\t{"), "absent sections written");
    free(text);
    T_CHECK(models_prior_to_json(NULL) == NULL, "NULL prior");
}

#define RUN_OK "{\"name\":\"a\",\"rpm\":1,\"load_n\":2,\"life_h\":3,\"onset_h\":1,\"theta\":0," \
               "\"beta\":0.1,\"sigma2\":0.01,\"points\":4}"
#define HEAD "{\"format\":\"vibewatch-prior\",\"version\":1,"
#define FAIL_OK "\"failure\":{\"feature\":\"\",\"limit\":10}"
#define DEG(vt) "\"degradation\":{\"mu_theta\":0,\"mu_beta\":0.01,\"var_theta\":" vt ",\"var_beta\":1e-4," \
                "\"cov_theta_beta\":0,\"sigma2\":0.01,\"phi\":0}"

static void test_json_refusals(void)
{
    static const struct {
        const char *json, *want;
    } bad[] = {
        {"{\"format\":\"vibewatch-model\",\"version\":1," FAIL_OK "}", "\"format\""},
        {"{\"version\":1," FAIL_OK "}", "\"format\""},
        {"{\"format\":\"vibewatch-prior\",\"version\":2," FAIL_OK "}", "version 2"},
        {"{\"format\":\"vibewatch-prior\"," FAIL_OK "}", "version"},
        {HEAD "\"failure\":{\"feature\":\"\",\"limit\":0}}", "failure.limit"},
        {HEAD "\"failure\":{\"feature\":\"\",\"limit\":-3}}", "failure.limit"},
        {HEAD "\"failure\":{\"feature\":\"\"}}", "failure.limit"},
        {HEAD "\"failure\":{\"limit\":10}}", "failure.feature"},
        {HEAD "\"failure\":{\"feature\":7,\"limit\":10}}", "failure.feature"},
        {HEAD "\"life_h\":{\"mu\":9,\"sigma\":1,\"n\":3,\"dof\":2}}", "failure.feature"},
        {HEAD FAIL_OK "," DEG("-0.5") "}", "var_theta"},
        {HEAD FAIL_OK "," DEG("null") "}", "degradation.var_theta"},
        {HEAD FAIL_OK ",\"life_h\":{\"mu\":9,\"sigma\":0,\"n\":3,\"dof\":2}}", "life_h.sigma"},
        {HEAD FAIL_OK ",\"life_h\":{\"mu\":9,\"sigma\":-1,\"n\":3,\"dof\":2}}", "life_h.sigma"},
        {HEAD FAIL_OK ",\"life_h\":{\"sigma\":1,\"n\":3,\"dof\":2}}", "life_h.mu"},
        {HEAD FAIL_OK ",\"life_rated\":{\"mu\":9,\"sigma\":1,\"n\":3,\"dof\":-2}}", "life_rated"},
        {HEAD FAIL_OK ",\"degradation_h\":[1]}", "degradation_h"},
        {HEAD FAIL_OK ",\"runs\":{}}", "runs"},
        {HEAD FAIL_OK ",\"runs\":[{\"name\":\"a\",\"rpm\":\"fast\",\"points\":1}]}", "runs[0].rpm"},
        {HEAD FAIL_OK ",\"runs\":[" RUN_OK ",{\"name\":\"b\"}]}", "runs[1].rpm"},
        {"[1,2,3]", "not a JSON object"},
        {"\"vibewatch-prior\"", "not a JSON object"},
        {"", "not a JSON object"},
        {HEAD FAIL_OK, "not a JSON object"},
    };
    static models_prior q;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char err[256] = "";
        int rc = models_prior_from_json(bad[i].json, strlen(bad[i].json), &q, err, sizeof err);
        T_CHECK(rc == -EINVAL, "row %zu accepted: %s", i, bad[i].json);
        T_CHECK(strstr(err, bad[i].want) != NULL, "row %zu: got '%s', want '%s'", i, err, bad[i].want);
        T_CHECK(strncmp(err, "prior file: ", 12) == 0, "row %zu: '%s'", i, err);
    }
    /* the valid neighbours of those rows are accepted */
    static const char *const good[] = {
        HEAD FAIL_OK "}",
        HEAD FAIL_OK "," DEG("0.5") "}",
        HEAD FAIL_OK ",\"runs\":[{\"name\":\"a\",\"rpm\":null,\"load_n\":null,\"life_h\":null,\"onset_h\":null,"
                     "\"theta\":null,\"beta\":null,\"sigma2\":null,\"points\":0}]}",
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        char err[256] = "";
        T_CHECK(models_prior_from_json(good[i], strlen(good[i]), &q, err, sizeof err) == 0, "good %zu: %s", i, err);
    }
    T_CHECK(q.nruns == 1 && isnan(q.runs[0].rpm) && isnan(q.runs[0].sigma2), "null run fields are NaN");
}

/* Every proper prefix of a prior's text is refused with a message (each copied to a buffer of
 * exactly its length, so that the sanitizer catches a read past it). */
static void test_json_truncated(void)
{
    static models_prior p, q;
    sample_prior(&p);
    char *text = models_prior_to_json(&p);
    T_CHECK(text != NULL, "to_json");
    if (!text)
        return;
    size_t n = strlen(text), accepted = 0;
    for (size_t k = 0; k < n; k++) {
        char *buf = malloc(k ? k : 1);
        if (!buf)
            break;
        memcpy(buf, text, k);
        char err[256] = "";
        int rc = models_prior_from_json(buf, k, &q, err, sizeof err);
        free(buf);
        if (rc == 0)
            accepted++;
        T_CHECK(rc == -EINVAL && err[0], "prefix of %zu bytes: rc %d, err '%s'", k, rc, err);
    }
    T_CHECK(accepted == 0, "%zu prefixes accepted", accepted);
    char *buf = malloc(n);
    if (buf) {
        memcpy(buf, text, n);
        char err[256] = "";
        T_CHECK(models_prior_from_json(buf, n, &q, err, sizeof err) == 0, "the whole text without its NUL: %s", err);
        free(buf);
    }
    free(text);
}

static void test_save_load(void)
{
    static models_prior p, q;
    sample_prior(&p);
    char path[600], err[800] = "";
    snprintf(path, sizeof path, "%s/prior.json", t_tmpdir());
    T_CHECK(models_prior_save(&p, path, err, sizeof err) == 0, "save: %s", err);
    int rc = models_prior_load(path, &q, err, sizeof err);
    T_CHECK(rc == 0, "load: %s", err);
    if (rc == 0)
        check_same_prior(&p, &q);
    char tmp[620];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    T_CHECK(access(tmp, F_OK) != 0, "%s left behind", tmp);

    /* overwritten in place */
    p.limit = 4.5;
    p.nruns = 1;
    T_CHECK(models_prior_save(&p, path, err, sizeof err) == 0, "save again: %s", err);
    T_CHECK(models_prior_load(path, &q, err, sizeof err) == 0 && q.limit == 4.5 && q.nruns == 1, "reloaded: %s", err);

    /* a missing file: the message names the path */
    snprintf(path, sizeof path, "%s/no-such-prior.json", t_tmpdir());
    err[0] = 0;
    T_CHECK(models_prior_load(path, &q, err, sizeof err) < 0, "missing file loaded");
    T_CHECK(strncmp(err, path, strlen(path)) == 0, "missing: '%s'", err);

    /* a bad file: the path, then the field */
    snprintf(path, sizeof path, "%s/bad-prior.json", t_tmpdir());
    FILE *f = fopen(path, "w");
    T_CHECK(f != NULL, "create %s", path);
    if (f) {
        fputs(HEAD "\"failure\":{\"feature\":\"\",\"limit\":-1}}", f);
        fclose(f);
        err[0] = 0;
        T_CHECK(models_prior_load(path, &q, err, sizeof err) == -EINVAL, "bad file loaded");
        T_CHECK(strncmp(err, path, strlen(path)) == 0 && strstr(err, "failure.limit"), "bad: '%s'", err);
    }
}

int main(void)
{
    T_RUN(test_cdf_closed_forms);
    T_RUN(test_cdf_near_median);
    T_RUN(test_t4_quantile_constant);
    T_RUN(test_remaining_at_age_zero);
    T_RUN(test_remaining_at_age);
    T_RUN(test_remaining_refusals);
    T_RUN(test_fit);
    T_RUN(test_rating_factor);
    T_RUN(test_prior_life);
    T_RUN(test_json_round_trip);
    T_RUN(test_json_refusals);
    T_RUN(test_json_truncated);
    T_RUN(test_save_load);
    return t_done();
}

/* Tests of models/degradation.h against analytic truths: the posterior recovers the parameters
 * of a synthetic exponential series; over many runs drawn from the prior, the 80 % RUL interval
 * of the trend's crossing time covers the truth 80 % of the time and Gebraeel's observed-signal
 * probabilities match observed frequencies (Bayesian calibration); the CDF is monotone; a flat
 * series shows a significant trend only at the stated false-positive rate; bad inputs are
 * refused. Measured rates are printed as "# " lines. */
#include "models/degradation.h"
#include "testlib.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* Binomial tolerance: 4 standard deviations of a rate p over n runs. */
static double binom_tol(double p, int n)
{
    return 4.0 * sqrt(p * (1 - p) / n);
}

static void test_parameter_recovery(void)
{
    const double theta = -1.0, beta = 0.03, sigma = 0.1, phi = 0.5;
    t_rng_seed(11);
    for (int run = 0; run < 20; run++) {
        for (int est = 0; est <= 1; est++) {
            models_deg_prior pr;
            models_deg_prior_default(&pr);
            pr.phi = phi;
            pr.estimate_sigma2 = est;
            if (!est)
                pr.sigma2 = sigma * sigma;
            models_deg m;
            T_CHECK(models_deg_init(&m, &pr) == 0, "init: %s", m.err);
            /* hours since installation are large: the sums must not lose precision */
            const double t_start = 20000.0;
            for (int i = 0; i < 120; i++) {
                double t = t_start + 0.5 * i;
                double s = phi + exp(theta + beta * t + sigma * t_grand());
                T_CHECK(models_deg_add(&m, t, s) == 0, "add: %s", m.err);
            }
            models_deg_post p;
            T_CHECK(models_deg_posterior(&m, &p) == 0, "posterior");
            T_CHECK(!p.degenerate_spread, "spread flagged degenerate");
            double zt = (p.mu_theta - theta) / sqrt(p.var_theta);
            double zb = (p.mu_beta - beta) / sqrt(p.var_beta);
            T_CHECK(fabs(zt) < 4 && fabs(zb) < 4, "run %d est %d: theta %.6g (z %.2f), beta %.6g (z %.2f)",
                    run, est, p.mu_theta, zt, p.mu_beta, zb);
            /* the slope's sd is the regression's σ/sqrt(Stt) */
            double stt = 0;
            for (int i = 0; i < 120; i++)
                stt += (0.5 * i - 29.75) * (0.5 * i - 29.75);
            T_NEAR(sqrt(p.var_beta), sqrt(p.sigma2 / stt), 1e-3 * sqrt(p.sigma2 / stt), "sd of beta");
            if (est)
                T_CHECK(fabs(p.sigma2 / (sigma * sigma) - 1) < 0.6, "sigma2 estimate %g", p.sigma2);
        }
    }
}

/* A prior with β firmly positive, so that the trend crosses D after t_k in every run. */
static void coverage_prior(models_deg_prior *pr)
{
    models_deg_prior_default(pr);
    pr->mu_theta = -1.0;
    pr->var_theta = 0.3 * 0.3;
    pr->mu_beta = 0.02;
    pr->var_beta = 0.004 * 0.004;
    pr->cov_theta_beta = -0.3 * 0.004 * 0.3; /* correlation −0.3 */
    pr->sigma2 = 0.2 * 0.2;
    pr->estimate_sigma2 = 0;
    pr->phi = 0.0;
}

/* Draws (θ', β) from the prior (Cholesky of Σ0). */
static void draw_prior(const models_deg_prior *pr, double *theta, double *beta)
{
    double l11 = sqrt(pr->var_theta), l21 = pr->cov_theta_beta / l11;
    double l22 = sqrt(pr->var_beta - l21 * l21);
    double z1 = t_grand(), z2 = t_grand();
    *theta = pr->mu_theta + l11 * z1;
    *beta = pr->mu_beta + l21 * z1 + l22 * z2;
}

static void test_interval_coverage(void)
{
    const int runs = 1000;
    const double D = exp(3.0), t_k = 100.0, tau_check = 100.0;
    models_deg_prior pr;
    coverage_prior(&pr);
    models_deg_predict_opts trend, obs;
    models_deg_predict_opts_default(&trend);
    trend.kind = MODELS_DEG_CDF_TREND;
    models_deg_predict_opts_default(&obs);
    int in80 = 0, below_lo = 0, above_hi = 0, below_med = 0, obs_in80 = 0;
    double sum_p = 0;
    int exceed = 0;
    t_rng_seed(2024);
    for (int r = 0; r < runs; r++) {
        double theta, beta;
        draw_prior(&pr, &theta, &beta);
        models_deg m;
        models_deg_init(&m, &pr);
        for (int i = 0; i <= (int)t_k; i++) {
            double t = i;
            T_CHECK(models_deg_add(&m, t, exp(theta + beta * t + 0.2 * t_grand())) == 0, "add: %s", m.err);
        }
        double rul_true = (3.0 - theta) / beta - t_k;
        models_deg_rul a, b;
        char err[128] = "";
        T_CHECK(models_deg_predict(&m, &trend, D, t_k, &a, err, sizeof err) == 0, "predict: %s", err);
        T_CHECK(models_deg_predict(&m, &obs, D, t_k, &b, err, sizeof err) == 0, "predict: %s", err);
        T_CHECK(rul_true > 0 && !a.already_failed, "run %d: truth already crossed (%g)", r, rul_true);
        T_CHECK(a.rul_lo_h <= a.rul_median_h && a.rul_median_h <= a.rul_hi_h && isfinite(a.rul_hi_h),
                "run %d: quantiles out of order %g %g %g", r, a.rul_lo_h, a.rul_median_h, a.rul_hi_h);
        if (rul_true < a.rul_lo_h)
            below_lo++;
        else if (rul_true > a.rul_hi_h)
            above_hi++;
        else
            in80++;
        below_med += rul_true <= a.rul_median_h;
        obs_in80 += rul_true >= b.rul_lo_h && rul_true <= b.rul_hi_h;
        /* Gebraeel's F is P(one new noisy observation at t_k + τ is above D): compare with a drawn
         * one (the running maximum is inactive here: g rises monotonically while β > 0 is sure) */
        models_deg_post p;
        models_deg_posterior(&m, &p);
        sum_p += models_deg_cdf(&p, MODELS_DEG_CDF_OBSERVED, D, 0.0, t_k, tau_check);
        exceed += theta + beta * (t_k + tau_check) + 0.2 * t_grand() >= 3.0;
    }
    double cov = (double)in80 / runs, lo = (double)below_lo / runs, hi = (double)above_hi / runs;
    double med = (double)below_med / runs, obs_cov = (double)obs_in80 / runs;
    printf("# degradation coverage over %d runs, trend CDF: 80%% interval %.1f%% (below P10 %.1f%%, "
           "above P90 %.1f%%, at or below median %.1f%%)\n", runs, 100 * cov, 100 * lo, 100 * hi, 100 * med);
    printf("# degradation: Gebraeel observed-signal CDF: 80%% interval covers the trend crossing in "
           "%.1f%%; mean P(S(t_k+%gh) >= D) %.3f vs frequency %.3f\n", 100 * obs_cov, tau_check,
           sum_p / runs, (double)exceed / runs);
    T_CHECK(fabs(cov - 0.80) <= binom_tol(0.80, runs), "80%% interval covered %.1f%%", 100 * cov);
    T_CHECK(fabs(lo - 0.10) <= binom_tol(0.10, runs), "below P10 %.1f%%", 100 * lo);
    T_CHECK(fabs(hi - 0.10) <= binom_tol(0.10, runs), "above P90 %.1f%%", 100 * hi);
    T_CHECK(fabs(med - 0.50) <= binom_tol(0.50, runs), "below median %.1f%%", 100 * med);
    /* the observed-signal interval is wider: conservative for the trend's crossing */
    T_CHECK(obs_cov >= cov, "observed-signal interval covers less (%.1f%%) than the trend's", 100 * obs_cov);
    /* Bayesian calibration of the probability itself (events are Bernoulli(p_i): sd ≤ 0.5/sqrt(n)) */
    T_CHECK(fabs(sum_p / runs - (double)exceed / runs) <= 4 * 0.5 / sqrt(runs),
            "mean predicted %.3f vs observed frequency %.3f", sum_p / runs, (double)exceed / runs);
}

static void check_monotone(const models_deg *m, double D, double t_now, const char *what)
{
    models_deg_post p;
    T_CHECK(models_deg_posterior(m, &p) == 0, "%s: posterior", what);
    for (int k = 0; k <= 1; k++) {
        double prev = -1, tau = 0;
        models_deg_predict_opts o;
        models_deg_predict_opts_default(&o);
        o.kind = k ? MODELS_DEG_CDF_TREND : MODELS_DEG_CDF_OBSERVED;
        models_deg_rul r;
        T_CHECK(models_deg_predict(m, &o, D, t_now, &r, NULL, 0) == 0, "%s: predict", what);
        for (int i = 0; i < 2000; i++, tau = tau * 1.01 + 0.01) {
            double f = models_deg_cdf(&p, o.kind, D, m->prior.phi, t_now, tau);
            T_CHECK(f >= prev && f >= 0 && f <= r.p_fail_ever + 1e-12,
                    "%s kind %d: F(%g h) = %.9g after %.9g (ever %.9g)", what, k, tau, f, prev, r.p_fail_ever);
            prev = f;
        }
        T_CHECK(r.p_fail_7d <= r.p_fail_14d, "%s: P7 %g > P14 %g", what, r.p_fail_7d, r.p_fail_14d);
    }
}

static void test_cdf_monotone(void)
{
    models_deg m;
    t_rng_seed(5);
    /* rising series */
    models_deg_init(&m, NULL);
    for (int i = 0; i < 50; i++)
        models_deg_add(&m, i * 2.0, exp(0.01 * i * 2.0 + 0.1 * t_grand()));
    check_monotone(&m, 5.0, 98.0, "rising");
    /* falling series: g first rises with the variance, then falls — the running max must hold */
    models_deg_init(&m, NULL);
    for (int i = 0; i < 10; i++)
        models_deg_add(&m, i, exp(-0.02 * i + 0.3 * t_grand()));
    check_monotone(&m, 3.0, 9.0, "falling");
    /* prior only (no samples) */
    models_deg_init(&m, NULL);
    check_monotone(&m, 10.0, 0.0, "prior only");

    /* A posterior (found by a random search) where Gebraeel's g rises and then falls: F must be
     * the running maximum, never below Φ(g(τ)) and strictly above it somewhere. */
    models_deg_post p = {.tc_h = 0, .mu_a = 3.084, .mu_beta = 0.00416, .var_a = 0.9335,
                         .var_beta = 0.001082, .cov_ab = 0.01277, .sigma2 = 0.01};
    const double D = 7.176, t_now = 80.67, c = log(D);
    double prev = -1, gap = 0;
    for (double tau = 0; tau < 1e4; tau = tau * 1.05 + 0.01) {
        double u = t_now + tau;
        double g = (p.mu_a + p.mu_beta * u - c)
                   / sqrt(p.var_a + u * u * p.var_beta + 2 * u * p.cov_ab + p.sigma2);
        double raw = 0.5 * erfc(-g / M_SQRT2);
        double f = models_deg_cdf(&p, MODELS_DEG_CDF_OBSERVED, D, 0.0, t_now, tau);
        T_CHECK(f >= prev && f >= raw - 1e-12, "crafted: F(%g h) = %.9g, previous %.9g, Φ(g) %.9g",
                tau, f, prev, raw);
        gap = fmax(gap, f - raw);
        prev = f;
    }
    T_CHECK(gap > 0.05, "crafted: the running maximum never acted (gap %g)", gap);
}

static void test_flat_series_not_significant(void)
{
    const int runs = 1000;
    int significant = 0, one_flagged = 0;
    t_rng_seed(77);
    for (int r = 0; r < runs; r++) {
        models_deg m;
        models_deg_init(&m, NULL);
        for (int i = 0; i < 60; i++)
            models_deg_add(&m, 1000.0 + i, 2.0 * exp(0.2 * t_grand()));
        models_deg_rul out;
        char err[128] = "";
        T_CHECK(models_deg_predict(&m, NULL, 20.0, 1059.0, &out, err, sizeof err) == 0, "predict: %s", err);
        significant += out.trend_significant;
        if (r == 0) {
            one_flagged = out.trend_significant;
            T_CHECK(out.p_fail_ever < 1.0, "flat series: CDF reaches %g", out.p_fail_ever);
        }
    }
    double rate = (double)significant / runs;
    printf("# degradation: flat series flagged as a significant trend in %.1f%% of %d (z = 1.645, "
           "one-sided 5%%)\n", 100 * rate, runs);
    T_CHECK(!one_flagged, "the first flat series shows a significant trend");
    T_CHECK(fabs(rate - 0.05) <= binom_tol(0.05, runs), "false-trend rate %.1f%%", 100 * rate);
}

static void test_degenerate_inputs(void)
{
    models_deg m;
    models_deg_prior pr;
    T_CHECK(models_deg_init(NULL, NULL) == -EINVAL, "NULL model");
    models_deg_prior_default(&pr);
    pr.var_beta = -1;
    T_CHECK(models_deg_init(&m, &pr) == -EINVAL && strstr(m.err, "var_beta"), "negative variance: %s", m.err);
    models_deg_prior_default(&pr);
    pr.cov_theta_beta = sqrt(pr.var_theta * pr.var_beta); /* correlation 1: singular */
    T_CHECK(models_deg_init(&m, &pr) == -EINVAL, "singular prior covariance accepted");
    models_deg_prior_default(&pr);
    pr.mu_theta = NAN;
    T_CHECK(models_deg_init(&m, &pr) == -EINVAL && strstr(m.err, "mu_theta"), "NaN prior: %s", m.err);
    models_deg_prior_default(&pr);
    pr.sigma2 = 0;
    T_CHECK(models_deg_init(&m, &pr) == -EINVAL, "sigma2 = 0 accepted");

    models_deg_prior_default(&pr);
    pr.phi = 1.0;
    T_CHECK(models_deg_init(&m, &pr) == 0, "init");
    T_CHECK(models_deg_add(&m, 0, 2.0) == 0, "first sample");
    T_CHECK(models_deg_add(&m, NAN, 2.0) == -EINVAL, "NaN time accepted");
    T_CHECK(models_deg_add(&m, 1, INFINITY) == -EINVAL, "infinite S accepted");
    T_CHECK(models_deg_add(&m, 1, 1.0) == -EINVAL && strstr(m.err, "phi"), "S = phi accepted: %s", m.err);
    T_CHECK(models_deg_add(&m, 1, 0.5) == -EINVAL, "S < phi accepted");
    T_CHECK(models_deg_add(&m, 0, 2.0) == -EINVAL && strstr(m.err, "not after"), "repeated time: %s", m.err);
    T_CHECK(models_deg_add(&m, -1, 2.0) == -EINVAL, "time going back accepted");
    T_CHECK(m.n == 1, "refused samples changed the model (n = %zu)", m.n);
    models_deg_add(&m, 1, 2.1);
    models_deg_rul r;
    char err[128] = "";
    T_CHECK(models_deg_predict(&m, NULL, 1.0, 2.0, &r, err, sizeof err) == -EINVAL, "threshold = phi accepted");
    T_CHECK(models_deg_predict(&m, NULL, NAN, 2.0, &r, err, sizeof err) == -EINVAL, "NaN threshold accepted");
    T_CHECK(models_deg_predict(&m, NULL, 10.0, 0.5, &r, err, sizeof err) == -EINVAL && strstr(err, "before"),
            "prediction before the last sample accepted: %s", err);
    models_deg_predict_opts o;
    models_deg_predict_opts_default(&o);
    o.horizon_h = 0;
    T_CHECK(models_deg_predict(&m, &o, 10.0, 2.0, &r, err, sizeof err) == -EINVAL, "zero horizon accepted");
    T_CHECK(isnan(models_deg_cdf(NULL, MODELS_DEG_CDF_TREND, 10.0, 0.0, 0.0, 1.0)), "cdf of NULL");

    /* times a micro-hour apart 10⁵ h after installation: no information on the slope */
    models_deg_init(&m, NULL);
    for (int i = 0; i < 5; i++)
        T_CHECK(models_deg_add(&m, 1e5 + 1e-6 * i, 2.0 + 0.5 * i) == 0, "add: %s", m.err);
    models_deg_post p;
    T_CHECK(models_deg_posterior(&m, &p) == 0, "posterior of a degenerate spread");
    T_CHECK(p.degenerate_spread, "degenerate time spread not flagged");
    /* the prior's 1, less the little that θ' ~ N(0, 1e12) at t = 0 says through a = θ' + β·1e5 h */
    T_CHECK(p.var_beta > 0.98 && p.var_beta <= 1.0, "slope variance %g is not the prior's", p.var_beta);
    T_CHECK(models_deg_predict(&m, NULL, 100.0, 1e5 + 1, &r, NULL, 0) == 0 && !r.trend_significant,
            "degenerate spread: predict failed or claimed a trend");
}

static void test_already_above_threshold(void)
{
    models_deg m;
    models_deg_init(&m, NULL);
    for (int i = 0; i < 20; i++)
        models_deg_add(&m, i, exp(0.1 * i)); /* S(19) = 6.7 */
    models_deg_rul r;
    T_CHECK(models_deg_predict(&m, NULL, 5.0, 19.0, &r, NULL, 0) == 0, "predict");
    T_CHECK(r.already_failed, "not flagged as failed");
    T_CHECK(r.rul_median_h == 0 && r.rul_lo_h == 0 && r.rul_hi_h == 0, "RUL %g [%g, %g]",
            r.rul_median_h, r.rul_lo_h, r.rul_hi_h);
    T_CHECK(r.p_fail_7d == 1 && r.p_fail_14d == 1, "P %g %g", r.p_fail_7d, r.p_fail_14d);
    T_CHECK(r.trend_significant, "a clean exponential rise is not significant");
    /* noise-free rise just below the threshold: median ≈ the analytic crossing time */
    T_CHECK(models_deg_predict(&m, NULL, exp(0.1 * 29), 19.0, &r, NULL, 0) == 0 && !r.already_failed, "predict below");
    T_NEAR(r.rul_median_h, 10.0, 0.01, "median RUL of a clean exponential");
}

int main(void)
{
    T_RUN(test_parameter_recovery);
    T_RUN(test_interval_coverage);
    T_RUN(test_cdf_monotone);
    T_RUN(test_flat_series_not_significant);
    T_RUN(test_degenerate_inputs);
    T_RUN(test_already_above_threshold);
    return t_done();
}

/* models/degradation.c — the exponential degradation model (see degradation.h for the model and
 * the exact RUL formula).
 *
 * Numerics: samples are kept as Welford running means and centred sums relative to the first
 * sample's time, so hours since installation in the tens of thousands lose no precision to
 * t² sums. The 2×2 posterior is solved around the centre time tc, where the data precision is
 * diagonal ([n, 0; 0, Stt]/σ²); the prior is sheared to that parameterisation through its
 * precision (J⁻ᵀ Σ0⁻¹ J⁻¹, with Σ0⁻¹μ0 computed first), so no difference of large numbers is
 * formed. A time spread too small to inform the slope (Stt/n below (1e-9·|t|)²) drops the slope's
 * data term and says so, instead of dividing by noise. */
#include "degradation.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define HOURS_7D 168.0
#define HOURS_14D 336.0

static void say(char *err, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(char *err, size_t len, const char *fmt, ...)
{
    if (!err || len == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, len, fmt, ap);
    va_end(ap);
}

void models_deg_prior_default(models_deg_prior *p)
{
    if (!p)
        return;
    memset(p, 0, sizeof *p);
    p->mu_theta = 0.0;
    p->mu_beta = 0.0;
    p->var_theta = 1e12;
    p->var_beta = 1.0;
    p->cov_theta_beta = 0.0;
    p->sigma2 = 0.1 * 0.1;
    p->estimate_sigma2 = 1;
    p->sigma2_dof = 1.0;
    p->sigma2_floor = 1e-6;
    p->phi = 0.0;
}

int models_deg_prior_check(const models_deg_prior *p, char *err, size_t errlen)
{
    if (!p) {
        say(err, errlen, "degradation prior: missing");
        return -EINVAL;
    }
    const struct { const char *name; double v; } f[] = {
        {"mu_theta", p->mu_theta}, {"mu_beta", p->mu_beta}, {"var_theta", p->var_theta},
        {"var_beta", p->var_beta}, {"cov_theta_beta", p->cov_theta_beta}, {"sigma2", p->sigma2},
        {"sigma2_dof", p->sigma2_dof}, {"sigma2_floor", p->sigma2_floor}, {"phi", p->phi},
    };
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
        if (!isfinite(f[i].v)) {
            say(err, errlen, "degradation prior: %s is not a finite number", f[i].name);
            return -EINVAL;
        }
    if (!(p->var_theta > 0) || !(p->var_beta > 0)) {
        say(err, errlen, "degradation prior: var_theta (%g) and var_beta (%g) must be > 0",
            p->var_theta, p->var_beta);
        return -EINVAL;
    }
    double det = p->var_theta * p->var_beta - p->cov_theta_beta * p->cov_theta_beta;
    if (!(det > 1e-12 * p->var_theta * p->var_beta)) {
        say(err, errlen, "degradation prior: covariance of theta and beta (%g) makes the prior "
            "covariance singular or not positive definite", p->cov_theta_beta);
        return -EINVAL;
    }
    if (!(p->sigma2 > 0)) {
        say(err, errlen, "degradation prior: sigma2 (%g) must be > 0", p->sigma2);
        return -EINVAL;
    }
    if (p->estimate_sigma2 != 0 && p->estimate_sigma2 != 1) {
        say(err, errlen, "degradation prior: estimate_sigma2 must be 0 or 1, not %d", p->estimate_sigma2);
        return -EINVAL;
    }
    if (p->estimate_sigma2 && (!(p->sigma2_dof >= 0) || !(p->sigma2_floor > 0))) {
        say(err, errlen, "degradation prior: sigma2_dof (%g) must be >= 0 and sigma2_floor (%g) > 0",
            p->sigma2_dof, p->sigma2_floor);
        return -EINVAL;
    }
    return 0;
}

int models_deg_init(models_deg *m, const models_deg_prior *p)
{
    if (!m)
        return -EINVAL;
    memset(m, 0, sizeof *m);
    if (p) {
        int rc = models_deg_prior_check(p, m->err, sizeof m->err);
        if (rc < 0)
            return rc;
        m->prior = *p;
    } else {
        models_deg_prior_default(&m->prior);
    }
    return 0;
}

int models_deg_add(models_deg *m, double t_h, double s)
{
    if (!m)
        return -EINVAL;
    if (!isfinite(t_h) || !isfinite(s)) {
        say(m->err, sizeof m->err, "degradation: sample (t=%g h, S=%g) is not finite", t_h, s);
        return -EINVAL;
    }
    if (!(s > m->prior.phi)) {
        say(m->err, sizeof m->err, "degradation: S=%g at t=%g h is not above the offset phi=%g",
            s, t_h, m->prior.phi);
        return -EINVAL;
    }
    if (m->n > 0 && !(t_h > m->t_last_h)) {
        say(m->err, sizeof m->err, "degradation: t=%.17g h is not after the previous sample at %.17g h",
            t_h, m->t_last_h);
        return -EINVAL;
    }
    double l = log(s - m->prior.phi);
    if (!isfinite(l)) {
        say(m->err, sizeof m->err, "degradation: ln(S - phi) of S=%g is not finite", s);
        return -EINVAL;
    }
    if (m->n == 0)
        m->t0_h = t_h;
    double t = t_h - m->t0_h;
    double n1 = (double)(m->n + 1);
    double dt = t - m->mean_t, dl = l - m->mean_l;
    m->mean_t += dt / n1;
    m->mean_l += dl / n1;
    m->stt += dt * (t - m->mean_t);
    m->sll += dl * (l - m->mean_l);
    m->stl += dt * (l - m->mean_l);
    m->n++;
    m->t_last_h = t_h;
    m->l_last = l;
    return 0;
}

static double noise_variance(const models_deg *m, double stt, double stl, int degenerate)
{
    const models_deg_prior *p = &m->prior;
    if (!p->estimate_sigma2)
        return p->sigma2;
    double sse, dof;
    if (m->n >= 3 && !degenerate && stt > 0) {
        sse = m->sll - stl * stl / stt;
        dof = (double)m->n - 2;
    } else if (m->n >= 2) {
        sse = m->sll; /* no slope to fit: residuals around the mean */
        dof = (double)m->n - 1;
    } else {
        sse = dof = 0;
    }
    if (!(sse >= 0))
        sse = 0;
    double w = p->sigma2_dof + dof;
    double s2 = w > 0 ? (p->sigma2_dof * p->sigma2 + sse) / w : p->sigma2;
    return fmax(s2, p->sigma2_floor);
}

int models_deg_posterior(const models_deg *m, models_deg_post *out)
{
    if (!m || !out)
        return -EINVAL;
    const models_deg_prior *p = &m->prior;
    memset(out, 0, sizeof *out);
    out->n = m->n;
    double tc = m->n > 0 ? m->t0_h + m->mean_t : 0.0;
    double stt = m->stt, stl = m->stl;
    if (m->n >= 2) {
        double scale = 1e-9 * fmax(1.0, fmax(fabs(m->t0_h), fabs(m->t_last_h)));
        if (!(stt / (double)m->n > scale * scale)) {
            out->degenerate_spread = 1;
            stt = stl = 0;
        }
    } else {
        stt = stl = 0;
    }
    double s2 = noise_variance(m, stt, stl, out->degenerate_spread);

    /* Prior precision and precision-weighted mean in (a, β), a = θ' + β·tc. */
    double det0 = p->var_theta * p->var_beta - p->cov_theta_beta * p->cov_theta_beta;
    double i00 = p->var_beta / det0, i01 = -p->cov_theta_beta / det0, i11 = p->var_theta / det0;
    double w0 = i00 * p->mu_theta + i01 * p->mu_beta, w1 = i01 * p->mu_theta + i11 * p->mu_beta;
    double q_aa = i00, q_ab = i01 - tc * i00, q_bb = i11 - 2 * tc * i01 + tc * tc * i00;
    double r_a = w0, r_b = w1 - tc * w0;

    /* Add the data. */
    double n = (double)m->n;
    q_aa += n / s2;
    q_bb += stt / s2;
    r_a += n * m->mean_l / s2;
    r_b += stl / s2;

    double det = q_aa * q_bb - q_ab * q_ab;
    if (!(det > 0) || !isfinite(det))
        return -EDOM;
    double v_aa = q_bb / det, v_bb = q_aa / det, v_ab = -q_ab / det;
    out->tc_h = tc;
    out->mu_a = v_aa * r_a + v_ab * r_b;
    out->mu_beta = v_ab * r_a + v_bb * r_b;
    out->var_a = v_aa;
    out->var_beta = v_bb;
    out->cov_ab = v_ab;
    out->mu_theta = out->mu_a - tc * out->mu_beta;
    out->var_theta = v_aa - 2 * tc * v_ab + tc * tc * v_bb;
    out->cov_theta_beta = v_ab - tc * v_bb;
    out->sigma2 = s2;
    if (!isfinite(out->mu_a) || !isfinite(out->mu_beta) || !(v_aa > 0) || !(v_bb > 0))
        return -EDOM;
    return 0;
}

static double norm_cdf(double x)
{
    return 0.5 * erfc(-x / M_SQRT2);
}

/* g(s) = (A + B·s) / sqrt(V0 + 2·D·s + E·s²) for s ≥ 0 after t_now. */
struct gfun {
    double A, B, V0, D, E;
};

static double g_at(const struct gfun *g, double s)
{
    double num = g->A + g->B * s;
    double var = g->V0 + 2 * g->D * s + g->E * s * s;
    if (!(var > DBL_MIN))
        return num > 0 ? INFINITY : num < 0 ? -INFINITY : 0;
    return num / sqrt(var);
}

/* max of g over [0, tau] (tau may be INFINITY): g' ∝ k0 + k1·s, so at most one interior maximum. */
static double g_max(const struct gfun *g, double tau)
{
    double best = g_at(g, 0);
    double end = isinf(tau) ? (g->E > 0 ? g->B / sqrt(g->E) : best) : g_at(g, tau);
    best = fmax(best, end);
    double k0 = g->B * g->V0 - g->A * g->D, k1 = g->B * g->D - g->A * g->E;
    if (k1 < 0 && k0 > 0) {
        double s = -k0 / k1;
        if (s > 0 && s < tau)
            best = fmax(best, g_at(g, s));
    }
    return best;
}

static int make_g(const models_deg_post *p, enum models_deg_cdf_kind kind, double threshold_s,
                  double phi, double t_now_h, struct gfun *g)
{
    if (!p || !isfinite(threshold_s) || !isfinite(phi) || !(threshold_s > phi) || !isfinite(t_now_h)
        || (kind != MODELS_DEG_CDF_OBSERVED && kind != MODELS_DEG_CDF_TREND))
        return -EINVAL;
    double c = log(threshold_s - phi);
    double u0 = t_now_h - p->tc_h;
    g->A = p->mu_a + p->mu_beta * u0 - c;
    g->B = p->mu_beta;
    g->V0 = p->var_a + u0 * u0 * p->var_beta + 2 * u0 * p->cov_ab
            + (kind == MODELS_DEG_CDF_OBSERVED ? p->sigma2 : 0.0);
    g->D = u0 * p->var_beta + p->cov_ab;
    g->E = p->var_beta;
    return 0;
}

double models_deg_cdf(const models_deg_post *p, enum models_deg_cdf_kind kind, double threshold_s,
                      double phi, double t_now_h, double tau_h)
{
    struct gfun g;
    if (make_g(p, kind, threshold_s, phi, t_now_h, &g) < 0 || !(tau_h >= 0))
        return NAN;
    return norm_cdf(g_max(&g, tau_h));
}

/* The smallest s in [0, horizon] with F(s) ≥ q, or INFINITY. */
static double quantile(const struct gfun *g, double q, double horizon)
{
    if (norm_cdf(g_max(g, 0)) >= q)
        return 0;
    if (norm_cdf(g_max(g, horizon)) < q)
        return INFINITY;
    double lo = 0, hi = horizon;
    for (int i = 0; i < 200 && hi - lo > 1e-9 * fmax(1.0, hi); i++) {
        double mid = 0.5 * (lo + hi);
        if (norm_cdf(g_max(g, mid)) >= q)
            hi = mid;
        else
            lo = mid;
    }
    return hi;
}

void models_deg_predict_opts_default(models_deg_predict_opts *o)
{
    if (!o)
        return;
    o->kind = MODELS_DEG_CDF_OBSERVED;
    o->horizon_h = 87600.0;
    o->significance_z = 1.645;
}

int models_deg_predict(const models_deg *m, const models_deg_predict_opts *o, double threshold_s,
                       double t_now_h, models_deg_rul *out, char *err, size_t errlen)
{
    models_deg_predict_opts def;
    if (!m || !out) {
        say(err, errlen, "degradation: predict needs a model and an output");
        return -EINVAL;
    }
    if (!o) {
        models_deg_predict_opts_default(&def);
        o = &def;
    }
    if ((o->kind != MODELS_DEG_CDF_OBSERVED && o->kind != MODELS_DEG_CDF_TREND)
        || !isfinite(o->horizon_h) || !(o->horizon_h > 0)
        || !isfinite(o->significance_z) || !(o->significance_z >= 0)) {
        say(err, errlen, "degradation: bad prediction options (kind %d, horizon %g h, z %g)",
            (int)o->kind, o->horizon_h, o->significance_z);
        return -EINVAL;
    }
    if (!isfinite(threshold_s) || !(threshold_s > m->prior.phi)) {
        say(err, errlen, "degradation: failure threshold %g is not above the offset phi=%g",
            threshold_s, m->prior.phi);
        return -EINVAL;
    }
    if (!isfinite(t_now_h) || (m->n > 0 && t_now_h < m->t_last_h)) {
        say(err, errlen, "degradation: prediction time %g h is before the last sample at %g h",
            t_now_h, m->t_last_h);
        return -EINVAL;
    }
    models_deg_post p;
    int rc = models_deg_posterior(m, &p);
    if (rc < 0) {
        say(err, errlen, "degradation: the posterior is degenerate");
        return rc;
    }
    memset(out, 0, sizeof *out);
    double sd_b = sqrt(p.var_beta);
    out->z_beta = p.mu_beta / sd_b;
    out->trend_significant = p.mu_beta - o->significance_z * sd_b > 0;

    if (m->n > 0 && m->l_last >= log(threshold_s - m->prior.phi)) {
        out->already_failed = 1;
        out->p_fail_7d = out->p_fail_14d = out->p_fail_ever = 1.0;
        return 0;
    }
    struct gfun g;
    if (make_g(&p, o->kind, threshold_s, m->prior.phi, t_now_h, &g) < 0) {
        say(err, errlen, "degradation: bad prediction arguments");
        return -EINVAL;
    }
    out->p_fail_7d = norm_cdf(g_max(&g, HOURS_7D));
    out->p_fail_14d = norm_cdf(g_max(&g, HOURS_14D));
    out->p_fail_ever = norm_cdf(g_max(&g, INFINITY));
    out->rul_lo_h = quantile(&g, 0.10, o->horizon_h);
    out->rul_median_h = quantile(&g, 0.50, o->horizon_h);
    out->rul_hi_h = quantile(&g, 0.90, o->horizon_h);
    return 0;
}

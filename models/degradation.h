/* models/degradation.h — exponential degradation model with Bayesian updating (Gebraeel, Lawley,
 * Li & Ryan, "Residual-life distributions from component degradation signals: a Bayesian
 * approach", IIE Transactions 37 (2005) 543–557; the model MATLAB's Predictive Maintenance
 * Toolbox calls exponentialDegradationModel) and its remaining-useful-life (RUL) distribution.
 *
 * Model of a positive health indicator S(t) (an RMS, a smoothed anomaly score, …), t in HOURS:
 *
 *     L(t) = ln(S(t) − φ) = θ' + β t + ε(t),   ε(t) ~ N(0, σ²) independent between samples,
 *     (θ', β) ~ N(μ0, Σ0) a priori.
 *
 * θ' is the intercept of the log signal at t = 0 h, β the log growth rate in 1/h. MATLAB writes
 * S = φ + θ·exp(βt + ε − σ²/2), i.e. θ = exp(θ' + σ²/2). Given σ², the posterior of (θ', β) is
 * Gaussian in closed form (Bayesian linear regression); σ² is either known (from a learned prior)
 * or estimated from the residuals, pooled with the prior's σ² and floored.
 *
 * Ownership and threads: a models_deg is a plain value of fixed size (running sums only, no heap),
 * owned by the caller; functions are pure apart from writing into the structures they are given,
 * so different models may be used from different threads. Nothing blocks.
 *
 * Errors: functions return 0 or a negative errno (-EINVAL for bad input, -EDOM when the numbers
 * degenerate); models_deg_add() and models_deg_predict() also leave a sentence in m->err /
 * the caller's err buffer saying what was wrong. */
#ifndef VW_MODELS_DEGRADATION_H
#define VW_MODELS_DEGRADATION_H

#include <stddef.h>

/* The prior of the model. models_deg_prior_default() fills the weakly informative default; a
 * prior learned from past failures (`vibewatch fit-prior`) is passed by filling the fields. */
typedef struct models_deg_prior {
    double mu_theta;       /* prior mean of θ' = ln(S − φ) at t = 0 h */
    double mu_beta;        /* prior mean of β, 1/h */
    double var_theta;      /* Σ0: variance of θ' (ln units²) */
    double var_beta;       /* Σ0: variance of β (1/h²) */
    double cov_theta_beta; /* Σ0: covariance of θ' and β (1/h); |cov| < sqrt(var_theta·var_beta) */
    double sigma2;         /* noise variance of L (ln units²): the known value, or the prior's guess */
    int estimate_sigma2;   /* 0: σ² = sigma2 is known; 1: estimated from the residuals (below) */
    double sigma2_dof;     /* weight of sigma2, in degrees of freedom, when estimating (≥ 0) */
    double sigma2_floor;   /* lower bound of the estimated σ² (> 0) */
    double phi;            /* offset φ in the units of S: the indicator's floor */
} models_deg_prior;

/* The default, weakly informative prior: θ' ~ N(0, (1e6)²) (ln units), β ~ N(0, (1 /h)²) —
 * a zero mean growth rate, so the prior itself claims no trend, with a spread far wider than any
 * real bearing (1/h multiplies S by e every hour) — uncorrelated; σ² estimated from the data,
 * pooled with a guess of 0.1² worth 1 degree of freedom and floored at 1e-6; φ = 0.
 * θ' is so vague because it is the intercept at t = 0: samples 10⁵ h later pin a = θ' + β·t down,
 * and a tighter θ' would then constrain β through it. For the same reason a learned prior must use
 * the same time origin as the samples (hours since installation, or since onset). */
void models_deg_prior_default(models_deg_prior *p);
/* 0, or -EINVAL with the reason in err (may be NULL) for a non-finite field, a non-positive
 * variance, a covariance matrix that is not positive definite, σ² ≤ 0 … */
int models_deg_prior_check(const models_deg_prior *p, char *err, size_t errlen);

/* The model: the prior and the running statistics of the samples seen (no allocation; any number
 * of samples). Fields are read-only to callers. */
typedef struct models_deg {
    models_deg_prior prior;
    size_t n;              /* samples added */
    double t0_h;           /* time of the first sample: sums are kept relative to it (precision) */
    double t_last_h;       /* time of the last sample */
    double l_last;         /* L of the last sample */
    double mean_t, mean_l; /* running means (t relative to t0_h) */
    double stt, sll, stl;  /* running centred sums of squares and products (Welford) */
    char err[128];         /* the reason of the last refusal */
} models_deg;

/* p == NULL takes the default prior. -EINVAL for a bad prior (reason in m->err). */
int models_deg_init(models_deg *m, const models_deg_prior *p);
/* Adds the sample S = s at time t_h (hours). Refused with -EINVAL, leaving the model unchanged:
 * non-finite t_h or s, s ≤ φ, t_h not strictly after the previous sample. */
int models_deg_add(models_deg *m, double t_h, double s);

/* The posterior of (θ', β). It is computed around the centre time tc_h (the mean sample time),
 * where the intercept a = θ' + β·tc_h and β are nearly uncorrelated; the t = 0 values are
 * derived from it. With no samples it is the prior. */
typedef struct models_deg_post {
    size_t n;
    double tc_h;                          /* centre time, h */
    double mu_a, var_a, cov_ab;           /* a = θ' + β·tc_h: mean, variance, covariance with β */
    double mu_theta, var_theta, cov_theta_beta; /* θ' (at t = 0 h) */
    double mu_beta, var_beta;             /* β, 1/h */
    double sigma2;                        /* σ² used (known, or estimated) */
    int degenerate_spread;                /* the sample times spread too little to inform β:
                                             the slope's data term was dropped */
} models_deg_post;

int models_deg_posterior(const models_deg *m, models_deg_post *out);

/* Which event the RUL distribution describes. */
enum models_deg_cdf_kind {
    /* Gebraeel's residual-life distribution: P(L(t) ≥ ln(D − φ)) for one new noisy observation at
     * t, so σ² is part of its variance. The default, as in the paper and MATLAB. */
    MODELS_DEG_CDF_OBSERVED = 0,
    /* The crossing time of the noise-free trend θ' + βt: the same formula without σ². Its
     * quantiles are calibrated for the trend's crossing time (see the unit test). */
    MODELS_DEG_CDF_TREND = 1,
};

typedef struct models_deg_predict_opts {
    enum models_deg_cdf_kind kind;
    double horizon_h;        /* quantiles past t_now + horizon_h are "not reached" (INFINITY) */
    double significance_z;   /* trend significant when μβ − z·sd_β > 0 */
} models_deg_predict_opts;

/* kind OBSERVED, horizon 87600 h (10 years), z = 1.645 (one-sided 95 %). */
void models_deg_predict_opts_default(models_deg_predict_opts *o);

typedef struct models_deg_rul {
    int already_failed;      /* the last sample is at or above the threshold: RUL 0, P = 1 */
    double rul_median_h;     /* 50th percentile of T − t_now; INFINITY when not reached */
    double rul_lo_h;         /* 10th percentile (lower end of the 80 % interval) or INFINITY */
    double rul_hi_h;         /* 90th percentile (upper end) or INFINITY */
    double p_fail_7d;        /* P(T − t_now ≤ 168 h) */
    double p_fail_14d;       /* P(T − t_now ≤ 336 h) */
    double p_fail_ever;      /* sup of the CDF over τ ≥ 0: < 1 by the posterior mass with β ≤ 0
                                (no crossing); quantiles above it are never reached */
    double z_beta;           /* μβ / sd_β */
    int trend_significant;   /* μβ − z·sd_β > 0 */
} models_deg_rul;

/* P(T − t_now ≤ tau_h) for the failure threshold D = threshold_s (units of S) — the exact formula:
 *
 *   c = ln(D − φ),  u(s) = t_now + s − tc,
 *   g(s) = (μa + μβ·u − c) / sqrt(var_a + u²·var_β + 2u·cov_ab [+ σ² for OBSERVED])
 *
 * which is the brief's g written around tc (θ' + βt = a + β(t − tc)), and
 *
 *   F(tau) = Φ( max_{0 ≤ s ≤ tau} g(s) ).
 *
 * The running maximum makes F a CDF (non-decreasing): g itself can fall again after a rise when
 * the variance grows faster than the mean, and a crossing that was likely at s is still a
 * crossing at tau > s. g has at most one stationary point, so the maximum is exact. As tau → ∞,
 * g → μβ/sd_β, so F saturates at p_fail_ever < 1: the posterior mass with β ≤ 0 never crosses.
 * Returns NaN for invalid arguments. */
double models_deg_cdf(const models_deg_post *p, enum models_deg_cdf_kind kind, double threshold_s,
                      double phi, double t_now_h, double tau_h);

/* The RUL distribution at t_now_h (≥ the last sample's time) for threshold D = threshold_s > φ.
 * Quantiles by bisection on F over [0, horizon]. o == NULL takes the defaults. Works with no
 * samples too (prior only). -EINVAL with the reason in err (may be NULL) for bad arguments. */
int models_deg_predict(const models_deg *m, const models_deg_predict_opts *o, double threshold_s,
                       double t_now_h, models_deg_rul *out, char *err, size_t errlen);

#endif

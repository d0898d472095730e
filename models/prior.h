/* models/prior.h — what a box cannot learn alone about how machines fail, learned from recordings
 * of machines that ran to failure (`vibewatch fit-prior`) and given to boxes as a file.
 *
 * A prior holds:
 *   - the failure criterion it was fitted for (a feature and its limit, or a multiple of the
 *     learned anomaly threshold) — a prior fitted for one criterion is refused for another;
 *   - the Bayesian prior of the exponential degradation model (models/degradation.h) of the
 *     health indicator RELATIVE to the machine's own baseline (HI / reference, so machines with
 *     different absolute levels share it), with time in hours SINCE ONSET of degradation;
 *   - the distribution of life (installation → failure, hours) and of the degradation phase
 *     (onset → failure, hours), each log-normal: the usual model of bearing lives (L10 fatigue
 *     lives are Weibull/log-normal; with a handful of runs the two cannot be told apart, and the
 *     log-normal keeps the conditional formulas closed). A box estimates from the life (given the
 *     bearing's age); the degradation phase is kept for the engineer reading the file: on the
 *     PRONOSTIA runs it spans 1 % to 81 % of life, too wide to estimate from.
 *
 * File ("vibewatch-prior", version 1): JSON; see models_prior_to_json. Pure data and pure
 * functions: no threads, no allocation except the JSON text. */
#ifndef VW_MODELS_PRIOR_H
#define VW_MODELS_PRIOR_H

#include <stdbool.h>
#include <stddef.h>

#include "degradation.h"

#define MODELS_PRIOR_FORMAT "vibewatch-prior"
#define MODELS_PRIOR_VERSION 1
#define MODELS_PRIOR_MAX_RUNS 256
#define MODELS_PRIOR_NAME_MAX 64

/* A log-normal distribution of a duration in hours: ln T = mu + sigma·Z, with Z standard normal
 * (dof 0) or Student-t with dof degrees of freedom — the predictive distribution of one more
 * machine's life when mu and sigma were estimated from only n = dof + 1 runs (a handful of past
 * failures says little about the spread; the t's heavier tails say so). n = runs it came from. */
typedef struct models_lognormal {
    double mu, sigma;
    size_t n;
    double dof;
} models_lognormal;

/* What was learned from one run (kept in the file so an engineer can see what the prior rests on). */
typedef struct models_prior_run {
    char name[MODELS_PRIOR_NAME_MAX];
    double rpm, load_n;     /* the run's speed and bearing load, NAN when not known */
    double life_h;          /* first snapshot → last snapshot (the failure) */
    double onset_h;         /* first snapshot → onset; NAN when no onset was found */
    double theta, beta;     /* fit of ln(HI_rel) = theta + beta·(t − onset), NAN when not fitted */
    double sigma2;          /* residual variance of that fit */
    size_t points;          /* samples in the fit */
} models_prior_run;

typedef struct models_prior {
    char feature[MODELS_PRIOR_NAME_MAX]; /* failure feature ("accel_peak_g"), or "" for the
                                            anomaly-based criterion */
    double limit;           /* the feature's limit in its units, or the multiple of the threshold */
    models_deg_prior deg;   /* relative HI, t in hours since onset */
    bool have_deg;
    models_lognormal life_h, degradation_h; /* mu = NAN when not known */
    /* Life in rating units: ln(life_h · (load/1 kN)³ · (rpm/1000)) — ISO 281's basic rating life
     * of a ball bearing scales as (C/P)³ / n, so lives under other loads and speeds line up; a
     * box that knows its load and speed scales it back. mu = NAN unless every run knew both. */
    models_lognormal life_rated;
    size_t nruns;
    models_prior_run runs[MODELS_PRIOR_MAX_RUNS];
} models_prior;

/* P(T ≤ x); 0 for x ≤ 0. */
double models_lognormal_cdf(const models_lognormal *d, double x_h);
/* P(T − age ≤ tau | T > age). */
double models_lognormal_cond_cdf(const models_lognormal *d, double age_h, double tau_h);
/* The life distribution of a box from a prior: life_rated scaled to rpm and load_n when the prior
 * has it and both are known (> 0), else life_h. 0, or -ENOENT when the prior has neither. */
int models_prior_life(const models_prior *p, double rpm, double load_n, models_lognormal *out);
/* The rating factor (load_n / 1000)³ · (rpm / 1000) (NAN unless both are > 0). */
double models_rating_factor(double rpm, double load_n);

/* Remaining life of something that has survived `age_h`: the quantities of T − age given T > age.
 * Fills median, 10 % and 90 % quantiles (hours from now) and P(T − age ≤ tau) for the two
 * horizons. Returns 0, or -EINVAL when the distribution is unknown (mu NAN) or arguments are bad. */
typedef struct models_cond_rul {
    double median_h, lo_h, hi_h;
    double p_h1, p_h2;      /* P(failure within horizon 1 / 2) */
} models_cond_rul;
int models_lognormal_remaining(const models_lognormal *d, double age_h, double horizon1_h, double horizon2_h,
                               models_cond_rul *out);

/* Fits the predictive log-normal of n durations (hours, > 0): mu the mean of their logs, sigma
 * their sd floored at sigma_floor (with 1–2 runs the sample sd is meaningless) times
 * sqrt(1 + 1/n), dof n − 1 (n = 1: dof 0, a normal). -EINVAL for n == 0. */
int models_lognormal_fit(const double *x_h, size_t n, double sigma_floor, models_lognormal *out);

/* The prior's file text (malloc'd, free() it); NULL when out of memory. */
char *models_prior_to_json(const models_prior *p);
/* Parses and validates; NULL-free: 0 or -EINVAL with a message in err naming the field. */
int models_prior_from_json(const char *text, size_t len, models_prior *out, char *err, size_t errlen);
/* Reads PATH (at most 4 MiB); messages start with the path. */
int models_prior_load(const char *path, models_prior *out, char *err, size_t errlen);
/* Writes atomically (PATH.tmp, rename). */
int models_prior_save(const models_prior *p, const char *path, char *err, size_t errlen);

#endif

/* daemon/cmd_fit_prior.c — `vibewatch fit-prior`: learns, from recordings of machines that ran to
 * failure, what a box cannot know alone: the spread of the degradation model's parameters and how
 * long such bearings live and degrade. The result is a prior file (models/prior.h) for boxes
 * (config models.prior, or replay --prior).
 *
 * Each RUN is replayed through the box's own pipeline and monitors (the same baseline, anomaly
 * and onset rules a box applies, without a prior), so the prior describes what a box will see.
 * Per run: life = first → last snapshot (the recording ends at the failure); the channel that
 * came closest to its failure limit is the failing one; onset = that channel's onset of
 * degradation; the fit = least squares of ln(HI) on hours since onset (HI relative to the
 * baseline, as the monitor computes it). A RUN may also be a prior file: its runs are taken as
 * they are (so per-run fits can be computed once and combined, e.g. leave-one-out).
 *
 * The prior: (θ, β) mean and covariance over the runs' fits, each variance floored (a handful of
 * runs understates the spread: var θ ≥ 0.05, var β ≥ (mean β / 2)², correlation within ±0.9);
 * σ² the mean of the runs' residual variances, worth 10 degrees of freedom against the box's own
 * residuals; life and degradation durations log-normal with σ ≥ 0.25. */
#include "cli.h"
#include "config.h"
#include "log.h"
#include "models/monitor.h"
#include "models/prior.h"
#include "pipeline.h"
#include "replay_setup.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_CH 16

typedef struct series {
    char sensor[64], channel[32];
    double *t, *hi;
    size_t n, cap;
    double onset_h;     /* at the end of the run, NAN: none */
    double last_frac;   /* hi / hi_limit of the last snapshot */
} series;

typedef struct collect {
    series ch[MAX_CH];
    int nch;
    double t_first, t_last;
    bool oom;
} collect;

static void on_record(void *ctx, const vw_pipeline_record *r)
{
    collect *c = ctx;
    double t_h = (double)r->t_ns / 3.6e12;
    if (!isfinite(c->t_first) || t_h < c->t_first)
        c->t_first = t_h;
    if (!isfinite(c->t_last) || t_h > c->t_last)
        c->t_last = t_h;
    if (!r->monitor)
        return;
    series *s = NULL;
    for (int i = 0; i < c->nch && !s; i++)
        if (!strcmp(c->ch[i].sensor, r->sensor) && !strcmp(c->ch[i].channel, r->channel))
            s = &c->ch[i];
    if (!s) {
        if (c->nch >= MAX_CH)
            return;
        s = &c->ch[c->nch++];
        snprintf(s->sensor, sizeof s->sensor, "%s", r->sensor);
        snprintf(s->channel, sizeof s->channel, "%s", r->channel);
        s->onset_h = NAN;
        s->last_frac = NAN;
    }
    const models_monitor_output *m = r->monitor;
    s->onset_h = m->onset ? m->onset_h : NAN;
    if (isfinite(m->hi) && m->hi_limit > 0)
        s->last_frac = m->hi / m->hi_limit;
    if (!(m->hi > 0) || !isfinite(m->hi))
        return;
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 1024;
        double *t = realloc(s->t, cap * sizeof *t);
        if (t)
            s->t = t;
        double *hi = t ? realloc(s->hi, cap * sizeof *hi) : NULL;
        if (hi)
            s->hi = hi;
        if (!t || !hi) {
            c->oom = true;
            return;
        }
        s->cap = cap;
    }
    s->t[s->n] = t_h;
    s->hi[s->n++] = m->hi;
}

/* Least squares of ln(hi) on t − onset over the samples at or after onset. */
static void fit_run(const series *s, models_prior_run *r)
{
    double st = 0, sl = 0, stt = 0, stl = 0;
    size_t n = 0;
    for (size_t i = 0; i < s->n; i++)
        if (s->t[i] >= s->onset_h) {
            double x = s->t[i] - s->onset_h, y = log(s->hi[i]);
            st += x;
            sl += y;
            n++;
        }
    r->points = n;
    if (n < 3)
        return;
    double mt = st / (double)n, ml = sl / (double)n;
    for (size_t i = 0; i < s->n; i++)
        if (s->t[i] >= s->onset_h) {
            double x = s->t[i] - s->onset_h - mt, y = log(s->hi[i]) - ml;
            stt += x * x;
            stl += x * y;
        }
    if (!(stt > 0))
        return;
    r->beta = stl / stt;
    r->theta = ml - r->beta * mt;
    double ss = 0;
    for (size_t i = 0; i < s->n; i++)
        if (s->t[i] >= s->onset_h) {
            double e = log(s->hi[i]) - (r->theta + r->beta * (s->t[i] - s->onset_h));
            ss += e * e;
        }
    r->sigma2 = ss / (double)(n - 2);
}

static int replay_run(const vw_replay_flags *f, const char *run, models_prior_run *out)
{
    vw_config *cfg = vw_replay_config(f, run, "fit-prior");
    if (!cfg)
        return -1;
    collect *c = calloc(1, sizeof *c);
    if (!c) {
        vw_config_free(cfg);
        return -1;
    }
    c->t_first = c->t_last = NAN;
    vw_pipeline_opts o = {.replay = true, .no_history = true, .on_record = on_record, .ctx = c};
    char err[768];
    vw_pipeline *p = vw_pipeline_start(cfg, &o, err, sizeof err);
    int rc = -1;
    if (!p) {
        fprintf(stderr, "vibewatch fit-prior: %s: %s\n", run, err);
        goto done;
    }
    while (!vw_pipeline_sources_done(p)) {
        struct timespec ts = {0, 20000000};
        nanosleep(&ts, NULL);
    }
    vw_pipeline_finish(p);
    if (c->oom || !isfinite(c->t_first) || c->nch == 0) {
        fprintf(stderr, "vibewatch fit-prior: %s: %s\n", run, c->oom ? "out of memory" : "no snapshot was assessed");
        goto done;
    }
    /* the failing channel: the one closest to its limit at the end */
    const series *best = &c->ch[0];
    for (int i = 1; i < c->nch; i++)
        if (c->ch[i].last_frac > best->last_frac || !isfinite(best->last_frac))
            best = &c->ch[i];
    const char *base = strrchr(run, '/');
    base = base && base[1] ? base + 1 : run;
    snprintf(out->name, sizeof out->name, "%s", base);
    out->rpm = cfg->assets[0].rpm > 0 ? cfg->assets[0].rpm : NAN;
    out->load_n = cfg->assets[0].load_n;
    out->life_h = c->t_last - c->t_first;
    out->onset_h = isfinite(best->onset_h) ? best->onset_h - c->t_first : NAN;
    out->theta = out->beta = out->sigma2 = NAN;
    out->points = 0;
    if (isfinite(best->onset_h))
        fit_run(best, out);
    rc = 0;
done:
    for (int i = 0; i < c->nch; i++) {
        free(c->ch[i].t);
        free(c->ch[i].hi);
    }
    free(c);
    vw_config_free(cfg);
    return rc;
}

static void fit(models_prior *p)
{
    double th[MODELS_PRIOR_MAX_RUNS], be[MODELS_PRIOR_MAX_RUNS], s2[MODELS_PRIOR_MAX_RUNS];
    double life[MODELS_PRIOR_MAX_RUNS], deg[MODELS_PRIOR_MAX_RUNS];
    size_t nf = 0, nl = 0, nd = 0;
    for (size_t i = 0; i < p->nruns; i++) {
        const models_prior_run *r = &p->runs[i];
        if (r->life_h > 0)
            life[nl++] = r->life_h;
        if (isfinite(r->onset_h) && r->life_h - r->onset_h > 0)
            deg[nd++] = r->life_h - r->onset_h;
        if (isfinite(r->theta) && isfinite(r->beta) && isfinite(r->sigma2)) {
            th[nf] = r->theta;
            be[nf] = r->beta;
            s2[nf++] = r->sigma2;
        }
    }
    p->life_h.mu = p->degradation_h.mu = p->life_rated.mu = NAN;
    if (nl)
        models_lognormal_fit(life, nl, 0.25, &p->life_h);
    double rated[MODELS_PRIOR_MAX_RUNS];
    size_t nr = 0;
    for (size_t i = 0; i < p->nruns; i++) {
        double f = models_rating_factor(p->runs[i].rpm, p->runs[i].load_n);
        if (p->runs[i].life_h > 0 && isfinite(f))
            rated[nr++] = p->runs[i].life_h * f;
    }
    if (nr && nr == nl) /* only when every run knew its speed and load */
        models_lognormal_fit(rated, nr, 0.25, &p->life_rated);
    if (nd)
        models_lognormal_fit(deg, nd, 0.25, &p->degradation_h);
    p->have_deg = false;
    if (!nf)
        return;
    double mt = 0, mb = 0, ms = 0, vt = 0, vb = 0, cv = 0;
    for (size_t i = 0; i < nf; i++) {
        mt += th[i] / (double)nf;
        mb += be[i] / (double)nf;
        ms += s2[i] / (double)nf;
    }
    for (size_t i = 0; nf > 1 && i < nf; i++) {
        vt += (th[i] - mt) * (th[i] - mt) / (double)(nf - 1);
        vb += (be[i] - mb) * (be[i] - mb) / (double)(nf - 1);
        cv += (th[i] - mt) * (be[i] - mb) / (double)(nf - 1);
    }
    vt = fmax(vt, 0.05);
    vb = fmax(vb, 0.25 * mb * mb);
    if (!(vb > 0))
        vb = 1e-6;
    double lim = 0.9 * sqrt(vt * vb);
    cv = fmax(-lim, fmin(lim, cv));
    models_deg_prior_default(&p->deg);
    p->deg.mu_theta = mt;
    p->deg.mu_beta = mb;
    p->deg.var_theta = vt;
    p->deg.var_beta = vb;
    p->deg.cov_theta_beta = cv;
    p->deg.sigma2 = fmax(ms, 1e-6);
    p->deg.estimate_sigma2 = 1;
    p->deg.sigma2_dof = 10;
    p->deg.phi = 0;
    p->have_deg = models_deg_prior_check(&p->deg, NULL, 0) == 0;
}

int cmd_fit_prior(int argc, char **argv)
{
    vw_replay_flags f;
    vw_replay_flags_init(&f);
    const char *out_path = NULL;
    static const struct option lo[] = {VW_REPLAY_OPTIONS, {"output", 1, 0, 'o'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    int opt;
    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "c:o:", lo, NULL)) != -1) {
        int rc = vw_replay_flag(&f, opt, optarg, "fit-prior");
        if (rc < 0)
            return 2;
        if (rc > 0)
            continue;
        switch (opt) {
        case 'o': out_path = optarg; break;
        case 'h':
            puts("usage: vibewatch fit-prior [--failure FEATURE=LIMIT] [flags] -o PRIOR.json RUN...\n"
                 "  Replays recordings of machines that ran to failure (each ends at its failure) and writes\n"
                 "  the prior of the degradation model and the life distributions a box uses (models.prior\n"
                 "  or replay --prior). A RUN may also be a prior file, whose runs are reused as they are.\n" VW_REPLAY_FLAGS_HELP);
            return 0;
        default:
            fprintf(stderr, "vibewatch fit-prior: unknown option or missing value: %s\n", argv[optind - 1]);
            return 2;
        }
    }
    if (!out_path || optind >= argc) {
        fprintf(stderr, "vibewatch fit-prior: give -o PRIOR.json and at least one RUN\n");
        return 2;
    }
    if (f.prior) {
        fprintf(stderr, "vibewatch fit-prior: --prior does not apply: fit-prior learns a prior\n");
        return 2;
    }
    models_prior *p = calloc(1, sizeof *p);
    if (!p)
        return 1;
    const char *eq = f.failure ? strchr(f.failure, '=') : NULL;
    if (eq) {
        snprintf(p->feature, sizeof p->feature, "%.*s", (int)(eq - f.failure), f.failure);
        p->limit = strtod(eq + 1, NULL);
    } else {
        p->limit = 10; /* the monitor's default multiple of the anomaly threshold */
    }
    int status = 0;
    for (int i = optind; i < argc && status == 0; i++) {
        const char *run = argv[i];
        size_t len = strlen(run);
        if (len > 5 && strcmp(run + len - 5, ".json") == 0) {
            models_prior *q = calloc(1, sizeof *q);
            char err[512];
            if (!q || models_prior_load(run, q, err, sizeof err) < 0) {
                fprintf(stderr, "vibewatch fit-prior: %s\n", q ? err : "out of memory");
                free(q);
                status = 1;
                break;
            }
            if (strcmp(q->feature, p->feature) != 0 || fabs(q->limit - p->limit) > 1e-9 * p->limit) {
                fprintf(stderr, "vibewatch fit-prior: %s: fitted for failure at %s %g, not %s %g\n", run,
                        q->feature[0] ? q->feature : "anomaly ×", q->limit, p->feature[0] ? p->feature : "anomaly ×",
                        p->limit);
                free(q);
                status = 2;
                break;
            }
            for (size_t k = 0; k < q->nruns && p->nruns < MODELS_PRIOR_MAX_RUNS; k++)
                p->runs[p->nruns++] = q->runs[k];
            free(q);
            continue;
        }
        if (p->nruns >= MODELS_PRIOR_MAX_RUNS) {
            fprintf(stderr, "vibewatch fit-prior: at most %d runs\n", MODELS_PRIOR_MAX_RUNS);
            status = 2;
            break;
        }
        if (replay_run(&f, run, &p->runs[p->nruns]) < 0)
            status = 1;
        else
            p->nruns++;
    }
    if (status == 0) {
        fit(p);
        fprintf(stderr, "%-24s %10s %10s %10s %12s %7s\n", "run", "life_h", "onset_h", "theta", "beta_per_h", "points");
        for (size_t i = 0; i < p->nruns; i++) {
            const models_prior_run *r = &p->runs[i];
            fprintf(stderr, "%-24.24s %10.4g %10.4g %10.4g %12.4g %7zu\n", r->name, r->life_h, r->onset_h, r->theta,
                    r->beta, r->points);
        }
        char err[512];
        if (models_prior_save(p, out_path, err, sizeof err) < 0) {
            fprintf(stderr, "vibewatch fit-prior: %s\n", err);
            status = 1;
        } else {
            fprintf(stderr, "vibewatch fit-prior: %zu run%s → %s (life: median %.4g h; degradation phase: median %.4g h; "
                            "trend prior from %s)\n",
                    p->nruns, p->nruns == 1 ? "" : "s", out_path, exp(p->life_h.mu), exp(p->degradation_h.mu),
                    p->have_deg ? "the runs' fits" : "nothing (no run showed onset and a fit)");
        }
    }
    free(p);
    return status;
}

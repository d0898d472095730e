/* dsp/faults.c — bearing-fault evidence in the squared-envelope spectrum (SES).
 *
 * For each defect family the lines are the fundamental's first four harmonics, all moved by one
 * common slip factor within ±tol (rolling elements slip, so the real frequencies run 1–2 % off
 * the kinematic ones, but the harmonics of one family stay locked together). Each line's
 * strength is its power over the median of the SES around it. The characteristic sidebands are
 * read at the slip found: an inner-race defect turns with the shaft (BPFI ± 1X), a rolling
 * element with the cage (BSF ± FTF).
 *
 * A line that falls on a harmonic of the shaft speed is not counted: the envelope of most
 * machines carries 1X and its harmonics, and they prove nothing about a bearing.
 *
 * The detection threshold is set by the statistics of the averaged SES, not tuned to any data
 * set: with K averages a noise bin's power has a relative spread of about 1/√K, and the largest
 * of the few dozen bins a slip window covers reaches about mean + 5/√K; the threshold sits
 * there, and never below 6 dB (four times the local floor). */
#include "dsp_internal.h"

#include <math.h>
#include <string.h>

#define NLINES 4
#define FLOOR_REL 0.12   /* the floor is read over ±12 % of a line's frequency … */
#define FLOOR_MIN_BINS 10 /* … and at least this many bins each side */

struct fctx {
    const float *ses;
    size_t nb;
    double df, shaft_hz, tol, thr;
    double fund_hz[DSP_NFAMILIES]; /* kinematic fundamentals (0: family not searched) */
    double floor_scale;    /* lower quartile → median of averaged noise */
    double valid_hz;       /* the SES is read only below this */
    double floor_min;      /* the floor a 0.1 % modulation of the envelope would make */
    float *scratch;
};

/* The noise floor of the SES around f. A damaged bearing fills its envelope spectrum with
 * lines (harmonics, and cage- or shaft-rate sidebands every few hertz), so the floor is read
 * from the lower quartile of the bins around f, which holds while up to three bins in four are
 * lines, and scaled to the median that averaged noise would have: a bin of a K-segment average
 * is Gamma(K) distributed, its quartile about 1 − 0.674/√K and its median about 1 − 1/(3K) of
 * its mean. */
static double floor_at(const struct fctx *c, double f)
{
    long k = lround(f / c->df);
    long w = (long)fmax(FLOOR_MIN_BINS, ceil(FLOOR_REL * f / c->df));
    long top = (long)floor(c->valid_hz / c->df);
    return c->floor_scale * dsp_local_quantile(c->ses, c->nb, k - w, k + w < top ? k + w : top, 0.25, c->scratch);
}

/* Power of the strongest bin within ±half_hz of f over the floor, in dB (0 when out of range). */
static double over_floor_db(const struct fctx *c, double f, double half_hz, double fl)
{
    if (f <= c->df || f + half_hz >= c->valid_hz)
        return 0;
    fl = fmax(fl, c->floor_min);
    if (!(fl > 0))
        return 0;
    double peak = dsp_peak_near(c->ses, c->nb, c->df, f, half_hz, NULL);
    return peak > 0 ? 10 * log10(peak / fl) : 0;
}

static double line_db(const struct fctx *c, double f, double half_hz)
{
    return over_floor_db(c, f, half_hz, floor_at(c, f));
}

/* True when f lies within the search half-width of a multiple of the shaft speed. */
static int on_shaft_harmonic(double f, double shaft_hz, double half_hz)
{
    if (shaft_hz <= 0)
        return 0;
    double m = round(f / shaft_hz);
    return m >= 1 && fabs(f - m * shaft_hz) <= half_hz;
}


/* True when f could equally be a line of another family: a line two families share is
 * evidence for neither (with the 6205, 3·BPFO lies 0.7 % from 2·BPFI). */
static int shared_with_other(const struct fctx *c, int fam, double f)
{
    for (int g = 0; g < DSP_NFAMILIES; g++) {
        if (g == fam || c->fund_hz[g] <= 0)
            continue;
        for (int h = 1; h <= NLINES; h++)
            if (fabs(f - h * c->fund_hz[g]) <= c->tol * f + c->df)
                return 1;
    }
    return 0;
}

static void score_family(const struct fctx *c, int fam, double side_hz, dsp_fault *out)
{
    double df = c->df, fund_hz = c->fund_hz[fam], thr = c->thr;
    out->expected_hz = fund_hz;
    /* slip scan: the factor whose four lines stand highest together; the floors barely move
     * with the slip, so they are read once at the kinematic frequencies */
    double fl[NLINES];
    int usable[NLINES];
    for (int h = 1; h <= NLINES; h++) {
        fl[h - 1] = floor_at(c, h * fund_hz);
        usable[h - 1] = !shared_with_other(c, fam, h * fund_hz);
    }
    double step = df / (4.0 * fund_hz * NLINES);
    double best = -1, best_s = 1, best_last = 1;
    for (double s = 1 - c->tol; s <= 1 + c->tol + 1e-12; s += step) {
        double sum = 0;
        for (int h = 1; h <= NLINES; h++) {
            double f = h * fund_hz * s;
            double db = over_floor_db(c, f, df, fl[h - 1]);
            if (db > 0 && usable[h - 1] && !on_shaft_harmonic(f, c->shaft_hz, 1.5 * df))
                sum += db;
        }
        if (sum > best) {
            best = sum;
            best_s = best_last = s;
        } else if (sum == best && best_last >= s - 1.5 * step) {
            best_last = s; /* the same lines read over a run of slips: keep its middle */
        }
    }
    out->found_hz = fund_hz * 0.5 * (best_s + best_last);
    out->strength_db = 0;
    out->harmonics = 0;
    out->shared_mask = 0;
    for (int h = 1; h <= NLINES; h++) {
        double f = h * out->found_hz;
        double db = on_shaft_harmonic(f, c->shaft_hz, 1.5 * df) ? 0 : over_floor_db(c, f, df, fl[h - 1]);
        out->line_db[h - 1] = db;
        if (!usable[h - 1])
            out->shared_mask |= 1u << (h - 1);
        else if (db > out->strength_db)
            out->strength_db = db;
    }
    /* a shared line supports a family only once the family stands on a line of its own */
    for (int h = 1; h <= NLINES; h++)
        if (out->line_db[h - 1] >= thr && (usable[h - 1] || out->strength_db >= thr))
            out->harmonics++;
    out->sidebands = 0;
    if (side_hz > 0) {
        for (int h = 1; h <= 2; h++)
            for (int sgn = -1; sgn <= 1; sgn += 2) {
                double f = h * out->found_hz + sgn * side_hz;
                if (on_shaft_harmonic(f, c->shaft_hz, 1.5 * df + 0.005 * f))
                    continue;
                double db = line_db(c, f, df + 0.005 * f);
                out->sideband_db[2 * (h - 1) + (sgn > 0)] = db;
                if (db >= thr)
                    out->sidebands++;
            }
    }
    /* Families are ranked by their strongest line; each further line that stands adds a little.
     * Summing the strengths instead would favour the family with the most lines in the search,
     * and with ±2 % slip windows a family with many lines catches its neighbours' sidebands. */
    int lines = out->harmonics + out->sidebands;
    out->score = out->strength_db + 0.5 * (lines > 1 ? lines - 1 : 0);
    /* one clear line with a harmonic or a sideband, or one very strong line */
    out->detected = out->strength_db >= thr &&
                    (out->harmonics + out->sidebands >= 2 || out->strength_db >= thr + 6);
}

void dsp_detect_faults(const dsp_ses *sp, double shaft_hz, const dsp_bearing_orders *o, double tol,
                       double extra_db, float *scratch, dsp_result *r)
{
    double k = sp->nseg > 0 ? sp->nseg : 1;
    double thr = fmax(6.0, 10 * log10(1 + 5 / sqrt(k))) + extra_db;
    r->threshold_db = thr;
    struct fctx c = {.ses = sp->power, .nb = sp->nbins, .df = sp->df_hz, .shaft_hz = shaft_hz, .tol = tol,
                     .thr = thr, .scratch = scratch,
                     .fund_hz = {o->bpfo * shaft_hz, o->bpfi * shaft_hz, o->bsf * shaft_hz, o->ftf * shaft_hz}};
    /* the squared envelope of a band B wide has no content above B, and its noise floor falls
     * linearly towards B: lines are read below 0.8 B */
    c.valid_hz = fmin(0.8 * (sp->band_hi_hz - sp->band_lo_hz), (double)(sp->nbins - 2) * sp->df_hz);
    /* A modulation of depth m of the envelope's mean makes a line of power (m·mean)²/2 spread
     * over the Hann window's 1.5 bins. Lines weaker than a 0.1 % modulation are numerical dust
     * (round-off in a clean tone's envelope), whatever the local floor. */
    c.floor_min = 0.5 * (1e-3 * sp->env_mean) * (1e-3 * sp->env_mean) / (1.5 * sp->df_hz);
    c.floor_scale = (1 - 1 / (3 * k)) / fmax(0.2, 1 - 0.674 / sqrt(k));
    const double sides[DSP_NFAMILIES] = {0, shaft_hz, o->ftf * shaft_hz, 0};
    for (int f = 0; f < DSP_NFAMILIES; f++) {
        memset(&r->faults[f], 0, sizeof r->faults[f]);
        r->faults[f].family = (enum dsp_family)f;
        r->faults[f].band_lo_hz = sp->band_lo_hz;
        r->faults[f].band_hi_hz = sp->band_hi_hz;
        if (c.fund_hz[f] > 0)
            score_family(&c, f, sides[f], &r->faults[f]);
    }
    /* Cage-rate lines are common in the envelope of sound bearings too (uneven loading of the
     * rolling elements turns with the cage; the healthy run-in of the IMS rig shows them), so
     * they name the cage only as a complete, strong family. */
    dsp_fault *cage = &r->faults[DSP_FTF];
    if (cage->detected && (cage->harmonics < NLINES || cage->strength_db < thr + 12))
        cage->detected = false;
    static const enum dsp_diagnosis diag_of[DSP_NFAMILIES] = {DSP_DIAG_OUTER, DSP_DIAG_INNER,
                                                              DSP_DIAG_BALL, DSP_DIAG_CAGE};
    r->diagnosis = DSP_DIAG_NONE;
    r->diagnosis_weak = false;
    double best = 0;
    for (int f = 0; f < DSP_NFAMILIES; f++)
        if (r->faults[f].detected && r->faults[f].score > best) {
            best = r->faults[f].score;
            r->diagnosis = diag_of[f];
            /* a lone line, however strong, could be any modulation that falls in the slip window */
            r->diagnosis_weak = r->faults[f].strength_db < thr + 6 || r->faults[f].harmonics + r->faults[f].sidebands < 2;
        }
}

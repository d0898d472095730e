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

/* The median of the SES around f: the floor a line at f is measured against. */
static double floor_at(const float *ses, size_t nb, double df, double f, float *scratch)
{
    long c = lround(f / df);
    long w = (long)fmax(FLOOR_MIN_BINS, ceil(FLOOR_REL * f / df));
    return dsp_local_median(ses, nb, c - w, c + w, scratch);
}

/* Power of the strongest bin within ±half_hz of f over the floor, in dB (0 when out of range). */
static double over_floor_db(const float *ses, size_t nb, double df, double f, double half_hz, double fl)
{
    if (f <= df || f >= (double)(nb - 2) * df || !(fl > 0))
        return 0;
    double peak = dsp_peak_near(ses, nb, df, f, half_hz, NULL);
    return peak > 0 ? 10 * log10(peak / fl) : 0;
}

static double line_db(const float *ses, size_t nb, double df, double f, double half_hz, float *scratch)
{
    return over_floor_db(ses, nb, df, f, half_hz, floor_at(ses, nb, df, f, scratch));
}

/* True when f lies within the search half-width of a multiple of the shaft speed. */
static int on_shaft_harmonic(double f, double shaft_hz, double half_hz)
{
    if (shaft_hz <= 0)
        return 0;
    double m = round(f / shaft_hz);
    return m >= 1 && fabs(f - m * shaft_hz) <= half_hz;
}

static void score_family(const float *ses, size_t nb, double df, double shaft_hz, double fund_hz,
                         double side_hz, double tol, double thr, float *scratch, dsp_fault *out)
{
    out->expected_hz = fund_hz;
    /* slip scan: the factor whose four lines stand highest together; the floors barely move
     * with the slip, so they are read once at the kinematic frequencies */
    double fl[NLINES];
    for (int h = 1; h <= NLINES; h++)
        fl[h - 1] = floor_at(ses, nb, df, h * fund_hz, scratch);
    double step = df / (4.0 * fund_hz * NLINES);
    double best = -1, best_s = 1;
    for (double s = 1 - tol; s <= 1 + tol + 1e-12; s += step) {
        double sum = 0;
        for (int h = 1; h <= NLINES; h++) {
            double f = h * fund_hz * s;
            double db = over_floor_db(ses, nb, df, f, df, fl[h - 1]);
            if (db > 0 && !on_shaft_harmonic(f, shaft_hz, 1.5 * df))
                sum += db;
        }
        if (sum > best) {
            best = sum;
            best_s = s;
        }
    }
    out->found_hz = fund_hz * best_s;
    out->strength_db = 0;
    out->harmonics = 0;
    out->score = 0;
    for (int h = 1; h <= NLINES; h++) {
        double f = h * out->found_hz;
        double db = on_shaft_harmonic(f, shaft_hz, 1.5 * df) ? 0 : over_floor_db(ses, nb, df, f, df, fl[h - 1]);
        out->line_db[h - 1] = db;
        if (db > out->strength_db)
            out->strength_db = db;
        if (db >= thr) {
            out->harmonics++;
            out->score += db;
        }
    }
    out->sidebands = 0;
    out->sideband_db = 0;
    if (side_hz > 0) {
        int n = 0;
        for (int h = 1; h <= 2; h++)
            for (int sgn = -1; sgn <= 1; sgn += 2) {
                double f = h * out->found_hz + sgn * side_hz;
                double db = line_db(ses, nb, df, f, df + 0.005 * f, scratch);
                out->sideband_db += db;
                n++;
                if (db >= thr) {
                    out->sidebands++;
                    out->score += 0.5 * db;
                }
            }
        out->sideband_db /= n;
    }
    /* one clear line with a harmonic or a sideband, or one very strong line */
    out->detected = out->strength_db >= thr &&
                    (out->harmonics + out->sidebands >= 2 || out->strength_db >= thr + 6);
}

void dsp_detect_faults(const float *ses, size_t nb, double df, int nseg, double shaft_hz,
                       const dsp_bearing_orders *o, double tol, float *scratch, dsp_result *r)
{
    double k = nseg > 0 ? nseg : 1;
    double thr = fmax(6.0, 10 * log10(1 + 5 / sqrt(k)));
    r->threshold_db = thr;
    const double orders[DSP_NFAMILIES] = {o->bpfo, o->bpfi, o->bsf, o->ftf};
    const double sides[DSP_NFAMILIES] = {0, shaft_hz, o->ftf * shaft_hz, 0};
    for (int f = 0; f < DSP_NFAMILIES; f++) {
        memset(&r->faults[f], 0, sizeof r->faults[f]);
        r->faults[f].family = (enum dsp_family)f;
        if (orders[f] > 0)
            score_family(ses, nb, df, shaft_hz, orders[f] * shaft_hz, sides[f], tol, thr, scratch,
                         &r->faults[f]);
    }
    static const enum dsp_diagnosis diag_of[DSP_NFAMILIES] = {DSP_DIAG_OUTER, DSP_DIAG_INNER,
                                                              DSP_DIAG_BALL, DSP_DIAG_CAGE};
    r->diagnosis = DSP_DIAG_NONE;
    r->diagnosis_weak = false;
    double best = 0;
    for (int f = 0; f < DSP_NFAMILIES; f++)
        if (r->faults[f].detected && r->faults[f].score > best) {
            best = r->faults[f].score;
            r->diagnosis = diag_of[f];
            r->diagnosis_weak = r->faults[f].strength_db < thr + 6;
        }
}

/* dsp/speed.c — shaft speed from the spectrum's 1X family when the speed is not given.
 *
 * A rotating machine shows its running speed as a family of lines at 1X, 2X, 3X, … The estimate
 * scores every candidate fundamental in the search range by how far its first four harmonics
 * stand over the local spectral floor, and needs 1X itself to stand out, which keeps a
 * sub-harmonic (whose odd "harmonics" fall on noise) from winning. */
#include "dsp_internal.h"

#include <math.h>

#define NHARM 4
#define FLOOR_HALF_BINS 12
#define MIN_1X_DB 6.0

double dsp_estimate_shaft_hz(const float *amp, size_t nbins, double df_hz, double lo_hz,
                             double hi_hz, double *prominence_db, float *scratch)
{
    *prominence_db = 0;
    long k_lo = (long)ceil(lo_hz / df_hz), k_hi = (long)floor(hi_hz / df_hz);
    if (k_lo < 2) k_lo = 2;
    if (k_hi * NHARM + 2 >= (long)nbins)
        k_hi = ((long)nbins - 3) / NHARM;
    if (k_hi < k_lo)
        return 0;
    static const double weight[NHARM] = {1.0, 0.8, 0.6, 0.5};
    double best = 0, best_f = 0;
    for (long k = k_lo; k <= k_hi; k++) {
        double f0 = (double)k * df_hz, score = 0, p1 = 0, fsum = 0, wsum = 0;
        for (int h = 1; h <= NHARM; h++) {
            double at;
            /* harmonics may sit up to half a bin per order off the candidate grid */
            double peak = dsp_peak_near(amp, nbins, df_hz, h * f0, fmax(1.0, 0.5 * h) * df_hz, &at);
            long c = lround(at / df_hz);
            double floor_v = dsp_local_median(amp, nbins, c - FLOOR_HALF_BINS, c + FLOOR_HALF_BINS, scratch);
            double db = floor_v > 0 && peak > 0 ? 20 * log10(peak / floor_v) : 0;
            if (h == 1)
                p1 = db;
            if (db > 0)
                score += weight[h - 1] * db;
            if (db >= MIN_1X_DB) {
                fsum += weight[h - 1] * at / h;
                wsum += weight[h - 1];
            }
        }
        if (p1 < MIN_1X_DB)
            continue;
        if (score > best) {
            best = score;
            best_f = wsum > 0 ? fsum / wsum : f0;
        }
    }
    *prominence_db = best;
    return best_f;
}

/* dsp/stats.c — time-domain condition indicators. Accumulates in double: a float sum over a
 * million samples would lose the small moments that kurtosis depends on. Two passes (mean,
 * then central moments) for accuracy on signals with a large offset. */
#include "dsp.h"

#include <math.h>
#include <string.h>

void dsp_time_stats(const float *x, size_t n, dsp_stats *out)
{
    memset(out, 0, sizeof *out);
    if (n == 0)
        return;
    double sum = 0, mn = x[0], mx = x[0];
    for (size_t i = 0; i < n; i++) {
        sum += x[i];
        if (x[i] < mn) mn = x[i];
        if (x[i] > mx) mx = x[i];
    }
    double mean = sum / (double)n;
    double m2 = 0, m3 = 0, m4 = 0;
    for (size_t i = 0; i < n; i++) {
        double d = x[i] - mean, d2 = d * d;
        m2 += d2;
        m3 += d2 * d;
        m4 += d2 * d2;
    }
    m2 /= (double)n;
    m3 /= (double)n;
    m4 /= (double)n;
    out->mean = mean;
    out->rms = sqrt(m2);
    out->peak = fmax(mx - mean, mean - mn);
    out->p2p = mx - mn;
    if (m2 > 0) {
        out->crest = out->peak / out->rms;
        out->kurtosis = m4 / (m2 * m2);
        out->skewness = m3 / (m2 * sqrt(m2));
    }
}

/* dsp/lines.c — reading spectral lines against their local floor. The floor is a median, so
 * the lines themselves (a harmonic family, sidebands) barely move it. */
#include "dsp_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

double dsp_local_median(const float *v, size_t n, long lo, long hi, float *scratch)
{
    return dsp_local_quantile(v, n, lo, hi, 0.5, scratch);
}

double dsp_local_quantile(const float *v, size_t n, long lo, long hi, double q, float *scratch)
{
    if (lo < 0) lo = 0;
    if (hi >= (long)n) hi = (long)n - 1;
    if (hi < lo)
        return 0;
    size_t m = (size_t)(hi - lo + 1);
    memcpy(scratch, v + lo, m * sizeof *v);
    qsort(scratch, m, sizeof *scratch, cmp_float); /* a few hundred values at most */
    return scratch[(size_t)(q * (double)(m - 1) + 0.5)];
}

double dsp_peak_near(const float *v, size_t n, double df_hz, double f_hz, double half_hz, double *at_hz)
{
    long c = lround(f_hz / df_hz);
    long w = (long)floor(half_hz / df_hz);
    long lo = c - w, hi = c + w;
    if (lo < 1) lo = 1;
    if (hi >= (long)n) hi = (long)n - 1;
    double best = 0;
    long at = c;
    for (long k = lo; k <= hi; k++)
        if (v[k] > best) {
            best = v[k];
            at = k;
        }
    if (at_hz)
        *at_hz = (double)at * df_hz;
    return best;
}

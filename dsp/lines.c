/* dsp/lines.c — reading spectral lines against their local floor. The floor is a median, so
 * the lines themselves (a harmonic family, sidebands) barely move it. */
#include "dsp_internal.h"

#include <math.h>
#include <string.h>

/* The k-th smallest of v[0..n), reordering v: quickselect with a three-way partition (runs of
 * equal values, common in a quiet spectrum, stay linear). In place: qsort would allocate for
 * larger windows, and the analysis allocates nothing. */
static float select_kth(float *v, long n, long k)
{
    long lo = 0, hi = n - 1;
    while (lo < hi) {
        float a = v[lo], b = v[lo + (hi - lo) / 2], c = v[hi];
        float p = a < b ? (b < c ? b : (a < c ? c : a)) : (a < c ? a : (b < c ? c : b));
        long lt = lo, i = lo, gt = hi;
        while (i <= gt) {
            float t = v[i];
            if (t < p) {
                v[i++] = v[lt];
                v[lt++] = t;
            } else if (t > p) {
                v[i] = v[gt];
                v[gt--] = t;
            } else {
                i++;
            }
        }
        if (k < lt)
            hi = lt - 1;
        else if (k > gt)
            lo = gt + 1;
        else
            return p;
    }
    return v[k];
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
    return select_kth(scratch, (long)m, (long)(q * (double)(m - 1) + 0.5));
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

/* dsp/welch.c — Welch-averaged spectra: Hann or flat-top segments with 50 % overlap, the mean
 * removed per record. The object holds its plan, window and buffers, so computing a spectrum
 * allocates nothing. */
#include "dsp.h"

#include <complex.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct dsp_welch {
    size_t len;
    dsp_fft_plan *plan;
    float *win, *seg;
    float complex *spec;
    double *acc;
    double win_sum, win_sumsq;
};

dsp_welch *dsp_welch_new(size_t seg_len, enum dsp_window w)
{
    if (seg_len < 4 || (seg_len & 1))
        return NULL;
    dsp_welch *wl = calloc(1, sizeof *wl);
    if (!wl)
        return NULL;
    wl->len = seg_len;
    wl->plan = dsp_fft_plan_new(seg_len, DSP_FFT_REAL);
    wl->win = malloc(seg_len * sizeof *wl->win);
    wl->seg = malloc(seg_len * sizeof *wl->seg);
    wl->spec = malloc((seg_len / 2 + 1) * sizeof *wl->spec);
    wl->acc = malloc((seg_len / 2 + 1) * sizeof *wl->acc);
    if (!wl->plan || !wl->win || !wl->seg || !wl->spec || !wl->acc) {
        dsp_welch_free(wl);
        return NULL;
    }
    dsp_window_fill(w, wl->win, seg_len);
    for (size_t i = 0; i < seg_len; i++) {
        wl->win_sum += wl->win[i];
        wl->win_sumsq += (double)wl->win[i] * wl->win[i];
    }
    return wl;
}

void dsp_welch_free(dsp_welch *wl)
{
    if (!wl)
        return;
    dsp_fft_plan_free(wl->plan);
    free(wl->win);
    free(wl->seg);
    free(wl->spec);
    free(wl->acc);
    free(wl);
}

size_t dsp_welch_seg_len(const dsp_welch *wl) { return wl->len; }

/* Accumulates mean |X_k|² over the segments into wl->acc; returns the segment count. */
static int welch_accumulate(dsp_welch *wl, const float *x, size_t n)
{
    size_t L = wl->len, nb = L / 2 + 1, hop = L / 2;
    if (n < L)
        return -EINVAL;
    double mean = 0;
    for (size_t i = 0; i < n; i++)
        mean += x[i];
    mean /= (double)n;
    size_t nseg = 1 + (n - L) / hop;
    /* centre the segments in the record so the unused tail is split between both ends */
    size_t start = (n - (L + (nseg - 1) * hop)) / 2;
    memset(wl->acc, 0, nb * sizeof *wl->acc);
    for (size_t s = 0; s < nseg; s++) {
        const float *xs = x + start + s * hop;
        for (size_t i = 0; i < L; i++)
            wl->seg[i] = (float)((xs[i] - mean) * wl->win[i]);
        dsp_fft_r2c(wl->plan, wl->seg, wl->spec);
        for (size_t k = 0; k < nb; k++) {
            double re = crealf(wl->spec[k]), im = cimagf(wl->spec[k]);
            wl->acc[k] += re * re + im * im;
        }
    }
    for (size_t k = 0; k < nb; k++)
        wl->acc[k] /= (double)nseg;
    return (int)nseg;
}

int dsp_welch_psd(dsp_welch *wl, const float *x, size_t n, double fs_hz, float *psd)
{
    int nseg = welch_accumulate(wl, x, n);
    if (nseg < 0)
        return nseg;
    size_t nb = wl->len / 2 + 1;
    double scale = 1.0 / (fs_hz * wl->win_sumsq);
    for (size_t k = 0; k < nb; k++) {
        double one_sided = (k == 0 || k == nb - 1) ? 1.0 : 2.0;
        psd[k] = (float)(wl->acc[k] * scale * one_sided);
    }
    return nseg;
}

int dsp_welch_amplitude(dsp_welch *wl, const float *x, size_t n, float *amp)
{
    int nseg = welch_accumulate(wl, x, n);
    if (nseg < 0)
        return nseg;
    size_t nb = wl->len / 2 + 1;
    for (size_t k = 0; k < nb; k++) {
        double one_sided = (k == 0 || k == nb - 1) ? 1.0 : 2.0;
        amp[k] = (float)(sqrt(wl->acc[k]) * one_sided / wl->win_sum);
    }
    return nseg;
}

double dsp_band_power(const float *psd, size_t nbins, double df_hz, double lo_hz, double hi_hz)
{
    double p = 0;
    for (size_t k = 0; k < nbins; k++) {
        double f = (double)k * df_hz;
        if (f >= lo_hz && f <= hi_hz)
            p += psd[k];
    }
    return p * df_hz;
}

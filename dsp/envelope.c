/* dsp/envelope.c — envelope analysis in the frequency domain.
 *
 * Band-pass filtering and the analytic signal are one step here: the bins of a band are moved
 * to baseband and inverse-transformed, which gives the band's complex envelope c (its modulus is
 * the Hilbert envelope of the band-passed signal). The fast kurtogram (Antoni, "Fast computation
 * of the kurtogram for the detection of transient faults", MSSP 21 (2007)) ranks the bands of a
 * 1/3-binary tree by the kurtosis of c; computing each band from the record's one spectrum
 * instead of a cascade of FIR filters gives the same tiling of the time-frequency plane with
 * ideal band edges, and keeps almost all of the cost inside FFTs.
 *
 * All plans and buffers are made in dsp_envelope_new(); nothing is allocated afterwards. */
#include "dsp_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LEVELS 24
#define SK_PIECES 8

struct kg_level {
    size_t nbands;
    double bw_hz;
    double label;       /* Antoni's level: k for 2^k bands, k + 0.6 for 3·2^(k-1) */
    size_t m;           /* inverse transform length (≥ bins in a band) */
    dsp_fft_plan *plan;
};

struct dsp_envelope {
    size_t n_fft, nbins;
    double fs, df;
    double lowest_hz;       /* no demodulation band reaches below this */
    size_t sk_pieces;       /* pieces of the record the kurtosis is read in */
    size_t nlevels, max_bands;
    struct kg_level lv[MAX_LEVELS];
    float *table;           /* SK per level and band */
    float complex *buf;     /* scratch for every inverse transform */
    size_t env_m;
    dsp_fft_plan *env_plan;
    float *env;             /* squared envelope */
};

void dsp_envelope_free(dsp_envelope *e)
{
    if (!e)
        return;
    for (size_t i = 0; i < e->nlevels; i++)
        dsp_fft_plan_free(e->lv[i].plan);
    dsp_fft_plan_free(e->env_plan);
    free(e->table);
    free(e->buf);
    free(e->env);
    free(e);
}

dsp_envelope *dsp_envelope_new(size_t n_fft, double fs_hz, double min_bw_hz, double env_fmax_hz)
{
    if (n_fft < 16 || !(fs_hz > 0))
        return NULL;
    dsp_envelope *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->n_fft = n_fft;
    e->nbins = n_fft / 2 + 1;
    e->fs = fs_hz;
    e->df = fs_hz / (double)n_fft;
    /* A band that holds the defect frequencies themselves (and the shaft harmonics below them)
     * demodulates the machine's own low-frequency vibration, not the resonances that bearing
     * impacts ring: bands start above the highest line the envelope spectrum is read for. */
    e->lowest_hz = env_fmax_hz;
    /* pieces of at least half a second, so each holds dozens of defect impacts */
    double dur = (double)n_fft / fs_hz;
    e->sk_pieces = dur >= 1.0 ? (size_t)fmin(SK_PIECES, floor(dur / 0.5)) : 1;
    size_t maxm = 0;
    /* band counts 1, 2, 3, 4, 6, 8, 12, … while bands stay at least min_bw wide and hold
     * enough bins for a meaningful kurtosis */
    for (size_t k = 0; e->nlevels < MAX_LEVELS; k++) {
        size_t counts[2] = {(size_t)1 << k, k >= 1 ? 3 * ((size_t)1 << (k - 1)) : 0};
        int added = 0;
        for (int t = 0; t < 2; t++) {
            size_t nb = counts[t];
            if (!nb || (t == 1 && k < 1) || e->nlevels >= MAX_LEVELS)
                continue;
            double bw = fs_hz / 2 / (double)nb;
            if (bw < min_bw_hz || bw / e->df < 64)
                continue;
            struct kg_level *l = &e->lv[e->nlevels];
            l->nbands = nb;
            l->bw_hz = bw;
            l->label = t == 0 ? (double)k : (double)k + 0.6;
            l->m = dsp_fft_good_size((size_t)ceil(bw / e->df) + 2);
            l->plan = dsp_fft_plan_new(l->m, DSP_FFT_COMPLEX);
            if (!l->plan)
                goto fail;
            if (l->m > maxm) maxm = l->m;
            if (nb > e->max_bands) e->max_bands = nb;
            e->nlevels++;
            added = 1;
        }
        if (!added && k > 0)
            break;
    }
    if (e->nlevels == 0)
        goto fail;
    /* alias-free |c|² up to env_fmax for the widest band (fs/2) */
    e->env_m = dsp_fft_good_size((size_t)ceil((fs_hz / 2 + env_fmax_hz) / e->df) + 2);
    e->env_plan = dsp_fft_plan_new(e->env_m, DSP_FFT_COMPLEX);
    if (e->env_m > maxm) maxm = e->env_m;
    e->buf = malloc(maxm * sizeof *e->buf);
    e->env = malloc(e->env_m * sizeof *e->env);
    e->table = malloc(e->nlevels * e->max_bands * sizeof *e->table);
    if (!e->env_plan || !e->buf || !e->env || !e->table)
        goto fail;
    return e;
fail:
    dsp_envelope_free(e);
    return NULL;
}

/* Moves the bins of [lo, hi] into buf[0..m) centred on 0 Hz and inverse-transforms them. */
static int band_to_baseband(dsp_envelope *e, const float complex *X, double lo_hz, double hi_hz,
                            size_t m, dsp_fft_plan *plan)
{
    long k0 = (long)ceil(lo_hz / e->df), k1 = (long)floor(hi_hz / e->df);
    if (k0 < 0) k0 = 0;
    if (k1 > (long)e->nbins - 1) k1 = (long)e->nbins - 1;
    if (k1 - k0 + 1 < 2 || (size_t)(k1 - k0 + 1) > m)
        return -1;
    long kc = (k0 + k1) / 2;
    memset(e->buf, 0, m * sizeof *e->buf);
    for (long k = k0; k <= k1; k++) {
        long idx = k - kc;
        if (idx < 0)
            idx += (long)m;
        e->buf[idx] = X[k];
    }
    dsp_fft_c2c(plan, e->buf, e->buf, +1);
    return 0;
}

/* Spectral kurtosis of a band from its complex envelope: E|c|⁴/(E|c|²)² − 2, read in up to
 * eight consecutive pieces of the record, and the median of those taken. A bearing defect
 * strikes every few milliseconds all through the record, so every piece is impulsive; a one-off
 * knock, a clipped burst or a glitch makes one piece wildly kurtic and leaves the median alone.
 * The 3 % at each end, where the tapered record fades in and out, are left out. */
static double sk_of_buf(const float complex *c, size_t m, size_t pieces)
{
    size_t edge = (size_t)(0.03 * (double)m), len = (m - 2 * edge) / pieces;
    double sk[SK_PIECES];
    if (len < 8)
        return 0;
    for (size_t p = 0; p < pieces; p++) {
        double s2 = 0, s4 = 0;
        for (size_t i = edge + p * len; i < edge + (p + 1) * len; i++) {
            double v = (double)crealf(c[i]) * crealf(c[i]) + (double)cimagf(c[i]) * cimagf(c[i]);
            s2 += v;
            s4 += v * v;
        }
        sk[p] = s2 > 0 ? (double)len * s4 / (s2 * s2) - 2.0 : 0;
    }
    for (size_t i = 1; i < pieces; i++) /* insertion sort: eight values at most */
        for (size_t j = i; j > 0 && sk[j - 1] > sk[j]; j--) {
            double t = sk[j];
            sk[j] = sk[j - 1];
            sk[j - 1] = t;
        }
    return pieces & 1 ? sk[pieces / 2] : 0.5 * (sk[pieces / 2 - 1] + sk[pieces / 2]);
}

/* The shortest level whose inverse transform holds the band [lo, hi]. */
static const struct kg_level *level_for(const dsp_envelope *e, double lo_hz, double hi_hz)
{
    double need = (hi_hz - lo_hz) / e->df + 2;
    const struct kg_level *best = NULL;
    for (size_t i = 0; i < e->nlevels; i++)
        if ((double)e->lv[i].m >= need && (!best || e->lv[i].m < best->m))
            best = &e->lv[i];
    return best;
}

double dsp_envelope_band_sk(dsp_envelope *e, const float complex *X, double lo_hz, double hi_hz)
{
    const struct kg_level *l = level_for(e, lo_hz, hi_hz);
    size_t m = l ? l->m : e->env_m;
    dsp_fft_plan *plan = l ? l->plan : e->env_plan;
    if (band_to_baseband(e, X, lo_hz, hi_hz, m, plan) < 0)
        return 0;
    return sk_of_buf(e->buf, m, e->sk_pieces);
}

void dsp_envelope_kurtogram(dsp_envelope *e, const float complex *X, double *lo_hz, double *hi_hz,
                            double *sk, double *level)
{
    double best = -INFINITY;
    *lo_hz = 0;
    *hi_hz = e->fs / 2;
    *level = 0;
    for (size_t i = 0; i < e->nlevels; i++) {
        const struct kg_level *l = &e->lv[i];
        for (size_t b = 0; b < e->max_bands; b++) {
            float *cell = &e->table[i * e->max_bands + b];
            if (b >= l->nbands) {
                *cell = NAN;
                continue;
            }
            double lo = (double)b * l->bw_hz, hi = lo + l->bw_hz;
            if (lo < e->lowest_hz)
                lo = e->lowest_hz;
            if (hi - lo < 0.5 * l->bw_hz) {
                *cell = NAN;
                continue;
            }
            double v = band_to_baseband(e, X, lo, hi, l->m, l->plan) < 0 ? 0 : sk_of_buf(e->buf, l->m, e->sk_pieces);
            *cell = (float)v;
            if (v > best) { /* strict: on ties the earlier, wider band wins */
                best = v;
                *lo_hz = lo;
                *hi_hz = hi;
                *level = l->label;
            }
        }
    }
    *sk = best;
}

const float *dsp_envelope_squared(dsp_envelope *e, const float complex *X, double lo_hz, double hi_hz,
                                  size_t *len, double *rate_hz)
{
    *len = e->env_m;
    *rate_hz = (double)e->env_m * e->df;
    if (band_to_baseband(e, X, lo_hz, hi_hz, e->env_m, e->env_plan) < 0) {
        memset(e->env, 0, e->env_m * sizeof *e->env);
        return e->env;
    }
    /* |analytic| = 2|c|/N for an unnormalised spectrum of N samples */
    double scale = 4.0 / ((double)e->n_fft * (double)e->n_fft);
    for (size_t i = 0; i < e->env_m; i++) {
        float complex c = e->buf[i];
        e->env[i] = (float)(scale * ((double)crealf(c) * crealf(c) + (double)cimagf(c) * cimagf(c)));
    }
    return e->env;
}

const float *dsp_envelope_table(const dsp_envelope *e, size_t *levels, size_t *max_bands)
{
    *levels = e->nlevels;
    *max_bands = e->max_bands;
    return e->table;
}

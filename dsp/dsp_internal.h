/* dsp/dsp_internal.h — pieces of the per-channel analysis shared between dsp/ files only. */
#ifndef VW_DSP_INTERNAL_H
#define VW_DSP_INTERNAL_H

#include <complex.h>

#include "dsp.h"

/* ---- envelope.c: fast kurtogram and band-limited squared envelope ---- */

typedef struct dsp_envelope dsp_envelope;

/* For one-sided spectra of a real record of length n_fft at fs_hz. Bands narrower than
 * min_bw_hz are not considered, nor the part of any band below env_fmax_hz; the squared envelope
 * is produced at a rate that keeps its spectrum alias-free up to env_fmax_hz for every band. */
dsp_envelope *dsp_envelope_new(size_t n_fft, double fs_hz, double min_bw_hz, double env_fmax_hz);
void dsp_envelope_free(dsp_envelope *e);

/* The fast kurtogram (Antoni 2007) over the one-sided spectrum X (n_fft/2+1 bins): levels with
 * 2^k and 3·2^(k-1) equal bands across [0, fs/2]; the spectral kurtosis of each band is the
 * kurtosis of its complex envelope, E|c|⁴/(E|c|²)² − 2 (0 for Gaussian noise). Picks the band
 * of greatest SK (the widest on ties). */
void dsp_envelope_kurtogram(dsp_envelope *e, const float complex *X, double *lo_hz, double *hi_hz,
                            double *sk, double *level);
/* Spectral kurtosis of one band (used for a given band too). */
double dsp_envelope_band_sk(dsp_envelope *e, const float complex *X, double lo_hz, double hi_hz);
/* Squared envelope |c|² of the band (band-pass + analytic signal in one step, in the frequency
 * domain). Returns a pointer to *len samples at *rate_hz, valid until the next call. */
const float *dsp_envelope_squared(dsp_envelope *e, const float complex *X, double lo_hz, double hi_hz,
                                  size_t *len, double *rate_hz);
/* The SK table of the last kurtogram: levels × max_bands, NAN where a level has fewer bands. */
const float *dsp_envelope_table(const dsp_envelope *e, size_t *levels, size_t *max_bands);

/* ---- speed.c ---- */

/* Shaft speed from the 1X family of an amplitude spectrum (bins spaced df_hz): the fundamental
 * in [lo_hz, hi_hz] whose first harmonics stand highest over their local floors. Returns the
 * speed in Hz (0 when no harmonic family stands out) and its prominence in dB. scratch holds
 * nbins floats. */
double dsp_estimate_shaft_hz(const float *amp, size_t nbins, double df_hz, double lo_hz,
                             double hi_hz, double *prominence_db, float *scratch);

/* ---- lines.c: lines over a local floor ---- */

/* Median of v[lo..hi] (inclusive, clipped to [0, n)) using scratch; 0 for an empty range. */
double dsp_local_median(const float *v, size_t n, long lo, long hi, float *scratch);
/* The q-quantile (0 ≤ q ≤ 1) of the same range. */
double dsp_local_quantile(const float *v, size_t n, long lo, long hi, double q, float *scratch);
/* Largest value of v in the bins within ±half_hz of f_hz (at least the nearest bin). */
double dsp_peak_near(const float *v, size_t n, double df_hz, double f_hz, double half_hz, double *at_hz);

/* ---- faults.c ---- */

/* A squared-envelope spectrum and what it was made from. */
typedef struct dsp_ses {
    const float *power;     /* one-sided PSD of the squared envelope */
    size_t nbins;
    double df_hz;
    int nseg;               /* segments averaged: sets the detection threshold */
    double band_lo_hz, band_hi_hz; /* the demodulated band: the SES has content below its width only */
    double env_mean;        /* mean of the squared envelope: modulation depths are relative to it */
} dsp_ses;

/* Scores every defect family in the SES and sets faults[], diagnosis, diagnosis_weak and
 * threshold_db of r. extra_db raises the detection threshold (for a second look at a record). */
void dsp_detect_faults(const dsp_ses *ses, double shaft_hz, const dsp_bearing_orders *o, double tol,
                       double extra_db, float *scratch, dsp_result *r);

#endif

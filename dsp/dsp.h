/* dsp/dsp.h — the signal-processing core: windows, time-domain indicators, spectra, velocity,
 * shaft speed, envelope analysis with the fast kurtogram, and bearing-fault detection.
 *
 * Two layers:
 *  - small pure functions (windows, statistics, spectral lines) used everywhere and tested on
 *    analytic truths;
 *  - dsp_analyzer, the whole per-snapshot analysis of one channel. An analyzer is made once for
 *    a configuration and a snapshot length (all plans and buffers are allocated then, before
 *    threads start); dsp_analyze() then allocates nothing. One analyzer serves one thread.
 *
 * Units: acceleration in g throughout (callers convert m/s² with DSP_G0), velocity in mm/s,
 * frequencies in Hz, time in seconds.
 */
#ifndef VW_DSP_H
#define VW_DSP_H

#include <stdbool.h>
#include <stddef.h>

#include "bearing.h"
#include "fft.h"

#define DSP_G0 9.80665 /* m/s² per g (standard gravity) */

/* ---- windows ---------------------------------------------------------------------------- */

enum dsp_window { DSP_WIN_RECT = 0, DSP_WIN_HANN, DSP_WIN_FLATTOP };

/* Periodic (DFT-even) window of length n. */
void dsp_window_fill(enum dsp_window w, float *out, size_t n);

/* ---- time-domain indicators ------------------------------------------------------------- */

typedef struct dsp_stats {
    double mean;     /* removed before every other indicator */
    double rms;
    double peak;     /* max |x - mean| */
    double p2p;      /* max - min */
    double crest;    /* peak / rms */
    double kurtosis; /* 4th standardised moment (Gaussian 3, sine 1.5) */
    double skewness;
} dsp_stats;

void dsp_time_stats(const float *x, size_t n, dsp_stats *out);

/* ---- spectra ----------------------------------------------------------------------------- */

/* Welch averaging over segments of a fixed length with 50 % overlap. Made once per length. */
typedef struct dsp_welch dsp_welch;

dsp_welch *dsp_welch_new(size_t seg_len, enum dsp_window w);
void dsp_welch_free(dsp_welch *wl);
size_t dsp_welch_seg_len(const dsp_welch *wl);
/* One-sided power spectral density (units²/Hz), seg_len/2+1 bins spaced fs/seg_len; the sum of
 * psd·df over all bins equals the mean square of the (mean-removed) signal. n ≥ seg_len.
 * Returns the number of segments averaged, or a negative errno. */
int dsp_welch_psd(dsp_welch *wl, const float *x, size_t n, double fs_hz, float *psd);
/* Amplitude spectrum in peak units (a sine of amplitude A reads A at its bin with a flat-top
 * window, within the window's scalloping with others); seg_len/2+1 bins. */
int dsp_welch_amplitude(dsp_welch *wl, const float *x, size_t n, float *amp);

/* Mean square in [lo_hz, hi_hz] from a one-sided PSD with bin spacing df_hz. */
double dsp_band_power(const float *psd, size_t nbins, double df_hz, double lo_hz, double hi_hz);

/* ---- the per-channel analysis ------------------------------------------------------------ */

enum dsp_speed_source { DSP_SPEED_NONE = 0, DSP_SPEED_GIVEN, DSP_SPEED_ESTIMATED };
enum dsp_band_source { DSP_BAND_KURTOGRAM = 0, DSP_BAND_GIVEN };

enum dsp_family { DSP_BPFO = 0, DSP_BPFI, DSP_BSF, DSP_FTF, DSP_NFAMILIES };
enum dsp_diagnosis { DSP_DIAG_NONE = 0, DSP_DIAG_OUTER, DSP_DIAG_INNER, DSP_DIAG_BALL, DSP_DIAG_CAGE };

const char *dsp_family_name(enum dsp_family f);    /* "BPFO", ... */
const char *dsp_diagnosis_name(enum dsp_diagnosis d); /* "none", "outer_race", ... */
const char *dsp_speed_source_name(enum dsp_speed_source s); /* "none", "given", "estimated" */

typedef struct dsp_analyzer_config {
    double fs_hz;
    size_t nsamples;          /* the snapshot length the analyzer is made for */
    double shaft_hz;          /* > 0: given; 0: estimate from the spectrum's 1X family */
    double speed_min_hz, speed_max_hz; /* search range for the estimate (default 10–100 Hz) */
    bool has_bearing;
    dsp_bearing_orders orders; /* defect frequencies as multiples of shaft speed */
    double band_lo_hz, band_hi_hz; /* demodulation band; both 0: chosen by the kurtogram */
    double vel_lo_hz, vel_hi_hz;   /* velocity RMS band; 0,0: 10–1000 Hz (ISO 10816/20816) */
    double slip_tol;          /* relative search half-width for defect lines; 0: 0.02 */
} dsp_analyzer_config;

/* The evidence for one defect family in the envelope spectrum. */
typedef struct dsp_fault {
    enum dsp_family family;
    double expected_hz;     /* fundamental from speed and orders */
    double found_hz;        /* fundamental as found (expected × the best slip factor) */
    double strength_db;     /* the strongest line of the family over its local floor (power dB) */
    double line_db[4];      /* harmonics 1..4 over their local floors */
    int harmonics;          /* how many of harmonics 1..4 stand over the detection threshold */
    unsigned shared_mask;   /* bit h-1: harmonic h coincides with another family's line and
                               is not counted as evidence */
    double sideband_db[4];  /* the characteristic sidebands over their floors: h·F − S, h·F + S for
                               h = 1, 2, with S = 1X for BPFI and FTF for BSF (0: not read) */
    int sidebands;          /* how many sidebands stand over the threshold */
    double score;           /* evidence used to rank the families */
    double band_lo_hz, band_hi_hz; /* the demodulation band this evidence was read in */
    bool detected;
} dsp_fault;

typedef struct dsp_result {
    dsp_stats stats;              /* of the acceleration, g */
    double velocity_rms_mm_s;     /* over [vel_lo_hz, vel_hi_hz] */
    double vel_lo_hz, vel_hi_hz;
    double shaft_hz;
    enum dsp_speed_source shaft_source;
    double speed_confidence_db;   /* estimated speed: prominence of the 1X family */
    double harmonics_mm_s[3];     /* 1X, 2X, 3X velocity, RMS mm/s */
    double band_lo_hz, band_hi_hz;  /* the band the kurtogram picked (or the given one) */
    enum dsp_band_source band_source;
    double band_kurtosis;         /* spectral kurtosis of that band */
    double wide_lo_hz, wide_hi_hz;  /* the whole whitened band read as well (0, 0: not read) */
    double kurtogram_level;       /* decomposition level of the chosen band (1/3 steps) */
    bool broadband;               /* the spectrum has a broadband floor (false: a synthetic tone,
                                     a dead channel: the envelope is not read) */
    int has_faults;               /* bearing known, speed known, broadband content */
    dsp_fault faults[DSP_NFAMILIES];
    enum dsp_diagnosis diagnosis;
    bool diagnosis_weak;          /* the winning evidence is present but marginal */
    double threshold_db;          /* the detection threshold that was used */
} dsp_result;

typedef struct dsp_analyzer dsp_analyzer;

/* NULL with a message in err on a bad configuration or out of memory. */
dsp_analyzer *dsp_analyzer_new(const dsp_analyzer_config *cfg, char *err, size_t errlen);
void dsp_analyzer_free(dsp_analyzer *a);
const dsp_analyzer_config *dsp_analyzer_config_of(const dsp_analyzer *a);
/* Analyses x[0..cfg.nsamples) (acceleration in g). Returns 0 or -EINVAL (NaN/Inf input). */
int dsp_analyze(dsp_analyzer *a, const float *x, dsp_result *out);

/* After dsp_analyze: the spectra it computed, for display and for tests. Pointers into the
 * analyzer, valid until the next call. */
typedef struct dsp_spectra {
    const float *accel_amp_g;   size_t accel_bins; double accel_df_hz; /* flat-top, peak g */
    const float *vel_psd;       size_t vel_bins;   double vel_df_hz;   /* (mm/s)²/Hz */
    const float *env_power;     size_t env_bins;   double env_df_hz;   /* squared-envelope spectrum */
    const float *kurtogram;     size_t kg_levels;  size_t kg_max_bands; /* SK[level][band], NAN-padded */
} dsp_spectra;
void dsp_analyzer_spectra(const dsp_analyzer *a, dsp_spectra *out);

#endif

/* dsp/feature_vector.h — the feature vector: one fixed, named, versioned vector of condition
 * indicators per channel and snapshot, the input of baselines, the autoencoder and RUL.
 *
 * The schema is a contract. Models and history store DSP_FEATURES_SCHEMA with every vector and
 * refuse vectors of another schema; so any change to the names, their order, the band edges or
 * a definition below needs a new schema string ("vw-features-2"), never an edit in place.
 *
 * Definitions (schema vw-features-1), index order:
 *  0–11  band_<lo>_<hi>hz_db: the acceleration's mean square in the band [lo, hi) Hz, as
 *        10·log10(g²). Octave bands with fixed edges 10·2^k Hz (10, 20, 40, … 40960), so that
 *        vectors from any sample rate line up. Read from the analyzer's Hann-windowed Welch PSD
 *        (the velocity PSD turned back into acceleration by (2πf / (g0·1000))²): the sum of
 *        PSD·df over the bins in the band, exact for a sine inside the band (Parseval) and for
 *        broadband noise (its density times the band's width). A sine within two bins of an
 *        edge splits its power between the neighbouring bands (the Hann main lobe). A band that
 *        is not wholly below Nyquist (hi > fs/2) is NAN: a partial band would read less than
 *        the same band at a higher rate, and the anti-alias filter's roll-off lives there. An
 *        empty band reads -200 dB (1e-20 g²), never -inf.
 *  12–15 env_<family>_db (BPFO, BPFI, BSF, FTF): the family's evidence in the squared-envelope
 *        spectrum, 10·log10 of the mean over harmonics 1..4 of line power / local floor, from
 *        dsp_fault.line_db (so it is 0 dB for a spectrum of noise only and grows with a
 *        defect). Energy, not diagnosis: a harmonic that coincides with another family's
 *        line (dsp_fault.shared_mask; with the 6205, 3·BPFO lies 0.7 % from 2·BPFI) counts for
 *        both families, where the diagnosis counts it for neither. A harmonic on a shaft harmonic
 *        or outside the readable range counts as the floor (0 dB). NAN when the envelope was
 *        not read for faults (no bearing, no shaft speed, or no broadband content: see
 *        dsp_result.has_faults) or the family's order is not known.
 *  16    kurtosis            (dsp_stats.kurtosis: Gaussian 3, sine 1.5)
 *  17    crest               (peak / RMS, dimensionless)
 *  18    velocity_rms_mm_s   (dsp_result.velocity_rms_mm_s, the analyzer's velocity band)
 *  19    accel_rms_g         (broadband, mean removed)
 *  20    temp_c              (the channel's temperature probe, NAN when there is none)
 *
 * Pure functions: no allocation, no I/O, any thread.
 */
#ifndef VW_DSP_FEATURES_H
#define VW_DSP_FEATURES_H

#include <stddef.h>

#include "dsp.h"

#define DSP_FEATURES_SCHEMA "vw-features-1"
#define DSP_FEATURES_NBANDS 12
#define DSP_FEATURES_MAX 21 /* the number of features of this schema */

/* Indices into the vector. */
enum dsp_feature_index {
    DSP_FEAT_BAND0 = 0,                                   /* band k at DSP_FEAT_BAND0 + k */
    DSP_FEAT_ENV0 = DSP_FEAT_BAND0 + DSP_FEATURES_NBANDS, /* family f at DSP_FEAT_ENV0 + f */
    DSP_FEAT_KURTOSIS = DSP_FEAT_ENV0 + DSP_NFAMILIES,
    DSP_FEAT_CREST,
    DSP_FEAT_VELOCITY_RMS_MM_S,
    DSP_FEAT_ACCEL_RMS_G,
    DSP_FEAT_TEMP_C,
    DSP_FEAT_COUNT
};

/* The names, in vector order (snake_case, units last). */
extern const char *const dsp_features_names[DSP_FEATURES_MAX];
/* Lower edge of band k in Hz (k = 0 … DSP_FEATURES_NBANDS; edge k+1 is band k's upper edge). */
double dsp_features_band_edge_hz(size_t k);
/* Index of a feature by name, or -1. */
int dsp_features_index(const char *name);

/* Fills out[0 .. DSP_FEATURES_MAX) from a result and the spectra of the same dsp_analyze() call
 * (dsp_analyzer_spectra) and the temperature in °C (NAN without a probe). Returns 0, or -EINVAL
 * for a NULL argument or spectra without bins (out is then all NAN when not NULL). */
int dsp_features_compute(const dsp_result *r, const dsp_spectra *s, double temp_c, double *out);

#endif

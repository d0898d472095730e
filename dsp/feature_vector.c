/* dsp/feature_vector.c — the feature vector of schema vw-features-1 (definitions in feature_vector.h).
 * Reads only what dsp_analyze() already computed; allocates nothing. */
#include "feature_vector.h"

#include <errno.h>
#include <math.h>
#include <string.h>

_Static_assert(DSP_FEAT_COUNT == DSP_FEATURES_MAX, "the index enum and DSP_FEATURES_MAX disagree");
_Static_assert(DSP_NFAMILIES == 4, "env_* names assume four defect families");

const char *const dsp_features_names[DSP_FEATURES_MAX] = {
    "band_10_20hz_db",     "band_20_40hz_db",     "band_40_80hz_db",     "band_80_160hz_db",
    "band_160_320hz_db",   "band_320_640hz_db",   "band_640_1280hz_db",  "band_1280_2560hz_db",
    "band_2560_5120hz_db", "band_5120_10240hz_db", "band_10240_20480hz_db",
    "band_20480_40960hz_db",
    "env_bpfo_db", "env_bpfi_db", "env_bsf_db", "env_ftf_db",
    "kurtosis", "crest", "velocity_rms_mm_s", "accel_rms_g", "temp_c",
};

#define BAND_BASE_HZ 10.0

double dsp_features_band_edge_hz(size_t k)
{
    return k <= DSP_FEATURES_NBANDS ? ldexp(BAND_BASE_HZ, (int)k) : NAN;
}

int dsp_features_index(const char *name)
{
    if (!name)
        return -1;
    for (int i = 0; i < DSP_FEATURES_MAX; i++)
        if (strcmp(dsp_features_names[i], name) == 0)
            return i;
    return -1;
}

/* Mean square of the acceleration in [lo, hi) Hz, g², from the velocity PSD ((mm/s)²/Hz). */
static double accel_band_ms(const dsp_spectra *s, double lo_hz, double hi_hz)
{
    const double to_mm_s = DSP_G0 * 1000.0 / (2 * M_PI);
    double sum = 0;
    size_t k0 = (size_t)ceil(lo_hz / s->vel_df_hz);
    for (size_t k = k0 ? k0 : 1; k < s->vel_bins; k++) {
        double f = (double)k * s->vel_df_hz;
        if (f >= hi_hz)
            break;
        if (f < lo_hz)
            continue; /* ceil's rounding */
        double g = f / to_mm_s;
        sum += (double)s->vel_psd[k] * g * g;
    }
    return sum * s->vel_df_hz;
}

/* An empty band (a synthetic record) reads -200 dB rather than -inf, which would poison every
 * mean and standardisation downstream. */
static double to_db(double power) { return 10 * log10(fmax(power, 1e-20)); }

/* 10·log10 of the mean of the family's line-over-floor powers (feature_vector.h, 12–15). */
static double family_db(const dsp_fault *f)
{
    if (!(f->expected_hz > 0))
        return NAN;
    double sum = 0;
    for (int h = 0; h < 4; h++)
        sum += pow(10, f->line_db[h] / 10);
    return 10 * log10(sum / 4);
}


int dsp_features_compute(const dsp_result *r, const dsp_spectra *s, double temp_c, double *out)
{
    if (out)
        for (int i = 0; i < DSP_FEATURES_MAX; i++)
            out[i] = NAN;
    if (!r || !s || !out || !s->vel_psd || s->vel_bins < 2 || !(s->vel_df_hz > 0))
        return -EINVAL;

    double nyquist_hz = (double)(s->vel_bins - 1) * s->vel_df_hz;
    for (size_t b = 0; b < DSP_FEATURES_NBANDS; b++) {
        double lo = dsp_features_band_edge_hz(b), hi = dsp_features_band_edge_hz(b + 1);
        if (hi <= nyquist_hz)
            out[DSP_FEAT_BAND0 + b] = to_db(accel_band_ms(s, lo, hi));
    }
    if (r->has_faults)
        for (int f = 0; f < DSP_NFAMILIES; f++)
            out[DSP_FEAT_ENV0 + f] = family_db(&r->faults[f]);
    out[DSP_FEAT_KURTOSIS] = r->stats.kurtosis;
    out[DSP_FEAT_CREST] = r->stats.crest;
    out[DSP_FEAT_VELOCITY_RMS_MM_S] = r->velocity_rms_mm_s;
    out[DSP_FEAT_ACCEL_RMS_G] = r->stats.rms;
    out[DSP_FEAT_TEMP_C] = isfinite(temp_c) ? temp_c : NAN;
    return 0;
}

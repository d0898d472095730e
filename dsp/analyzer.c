/* dsp/analyzer.c — the whole analysis of one channel's snapshot, the way a vibration analyst
 * reads it: overall levels, the velocity spectrum and its running-speed harmonics, then the
 * envelope for bearing defects.
 *
 * Envelope path: the record's spectrum is pre-whitened by cepstral pre-whitening (every bin set
 * to unit magnitude, Sawalhi & Randall; Borghesani et al., MSSP 36 (2013)), which removes the
 * discrete shaft, gear and electrical lines and the colouring of the transmission path and leaves
 * the impulsiveness of bearing impacts; the fast kurtogram then picks the band where the
 * whitened signal is most impulsive, and the squared envelope of that band is Welch-averaged.
 *
 * Everything is sized in dsp_analyzer_new(); dsp_analyze() allocates nothing. */
#include "dsp_internal.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct dsp_analyzer {
    dsp_analyzer_config cfg;
    size_t n_fft;                 /* full-record transform length (≤ nsamples, fast size) */
    dsp_fft_plan *plan;
    float *buf;                   /* n_fft samples, mean removed, ends tapered */
    float *taper;                 /* n_fft/2 weights: the rising half of a Tukey window */
    float complex *spec, *white;  /* n_fft/2+1 bins */
    dsp_welch *w_hann, *w_flat;   /* spectrum segments */
    size_t spec_bins;
    double spec_df;
    float *acc_psd, *vel_psd, *acc_amp, *vel_amp;
    dsp_envelope *env;
    dsp_welch *w_env;
    size_t env_bins;
    float *ses, *ses_wide;        /* SES of the kurtogram's band and of the whole whitened band */
    double wide_lo_hz;            /* the whole band starts above the envelope's range */
    double env_df;
    float *scratch;               /* for medians and the speed search */
};

static double clamp(double v, double lo, double hi) { return v < lo ? lo : v > hi ? hi : v; }

void dsp_analyzer_free(dsp_analyzer *a)
{
    if (!a)
        return;
    dsp_fft_plan_free(a->plan);
    free(a->buf);
    free(a->taper);
    free(a->spec);
    free(a->white);
    dsp_welch_free(a->w_hann);
    dsp_welch_free(a->w_flat);
    free(a->acc_psd);
    free(a->vel_psd);
    free(a->acc_amp);
    free(a->vel_amp);
    dsp_envelope_free(a->env);
    dsp_welch_free(a->w_env);
    free(a->ses);
    free(a->ses_wide);
    free(a->scratch);
    free(a);
}

const dsp_analyzer_config *dsp_analyzer_config_of(const dsp_analyzer *a) { return &a->cfg; }

/* The highest defect fundamental at the highest speed the analyzer may see (0 without a bearing). */
static double max_defect_hz(const dsp_analyzer_config *c, double shaft_hi)
{
    if (!c->has_bearing)
        return 0;
    const dsp_bearing_orders *o = &c->orders;
    return shaft_hi * fmax(fmax(o->bpfo, o->bpfi), fmax(2 * o->bsf, o->ftf));
}

dsp_analyzer *dsp_analyzer_new(const dsp_analyzer_config *cfg_in, char *err, size_t errlen)
{
    dsp_analyzer_config c = *cfg_in;
    if (!(c.fs_hz > 0) || !isfinite(c.fs_hz)) {
        snprintf(err, errlen, "sample rate must be positive, not %g Hz", c.fs_hz);
        return NULL;
    }
    double dur = (double)c.nsamples / c.fs_hz;
    if (c.nsamples < 1024) {
        snprintf(err, errlen, "%zu samples (%.3f s) are too few: at least 1024 are needed", c.nsamples, dur);
        return NULL;
    }
    if (c.speed_min_hz <= 0) c.speed_min_hz = 10;
    if (c.speed_max_hz <= 0) c.speed_max_hz = 100;
    if (c.vel_lo_hz <= 0 && c.vel_hi_hz <= 0) {
        c.vel_lo_hz = 10;
        c.vel_hi_hz = 1000;
    }
    if (c.slip_tol <= 0) c.slip_tol = 0.02;
    if (!(c.shaft_hz >= 0) || c.shaft_hz >= c.fs_hz / 2) {
        snprintf(err, errlen, "shaft speed %g Hz is outside 0–%g Hz (half the sample rate)", c.shaft_hz, c.fs_hz / 2);
        return NULL;
    }
    if (c.band_lo_hz != 0 || c.band_hi_hz != 0) {
        if (!(c.band_lo_hz >= 0 && c.band_hi_hz > c.band_lo_hz && c.band_hi_hz <= c.fs_hz / 2)) {
            snprintf(err, errlen, "demodulation band %g–%g Hz must lie within 0–%g Hz (half the sample rate)",
                     c.band_lo_hz, c.band_hi_hz, c.fs_hz / 2);
            return NULL;
        }
    }
    if (!(c.vel_hi_hz > c.vel_lo_hz) || c.vel_lo_hz < 0) {
        snprintf(err, errlen, "velocity band %g–%g Hz is empty", c.vel_lo_hz, c.vel_hi_hz);
        return NULL;
    }

    dsp_analyzer *a = calloc(1, sizeof *a);
    if (!a) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    a->cfg = c;
    a->n_fft = dsp_fft_good_size_below_even(c.nsamples);
    size_t nb = a->n_fft / 2 + 1;
    a->plan = dsp_fft_plan_new(a->n_fft, DSP_FFT_REAL);
    a->buf = malloc(a->n_fft * sizeof *a->buf);
    a->spec = malloc(nb * sizeof *a->spec);
    a->white = malloc(nb * sizeof *a->white);
    /* The transform sees the record as periodic: the jump from its last sample back to its first
     * is a broadband click that, once the spectrum is whitened, dominates every quiet band (the
     * anti-alias roll-off above 0.45 fs above all). Cosine ramps over 2 % at each end remove it. */
    a->taper = malloc(a->n_fft / 2 * sizeof *a->taper);
    if (a->taper) {
        size_t ramp = a->n_fft / 50;
        for (size_t i = 0; i < a->n_fft / 2; i++)
            a->taper[i] = i < ramp ? (float)(0.5 - 0.5 * cos(M_PI * ((double)i + 0.5) / (double)ramp)) : 1.0f;
    }

    /* spectrum resolution: fine enough to separate 1X from its neighbours (≈ speed/30), at
     * most 1 Hz, and segments short enough to average at least four */
    double speed_lo = c.shaft_hz > 0 ? c.shaft_hz : c.speed_min_hz;
    double speed_hi = c.shaft_hz > 0 ? c.shaft_hz : c.speed_max_hz;
    double df_want = clamp(speed_lo / 30, 0.05, 1.0);
    size_t seg = dsp_fft_good_size_even((size_t)ceil(c.fs_hz / df_want));
    size_t seg_max = dsp_fft_good_size_below_even((size_t)(0.4 * (double)c.nsamples));
    if (seg > seg_max) seg = seg_max;
    a->w_hann = dsp_welch_new(seg, DSP_WIN_HANN);
    a->w_flat = dsp_welch_new(seg, DSP_WIN_FLATTOP);
    a->spec_bins = seg / 2 + 1;
    a->spec_df = c.fs_hz / (double)seg;
    a->acc_psd = malloc(a->spec_bins * sizeof(float));
    a->vel_psd = malloc(a->spec_bins * sizeof(float));
    a->acc_amp = malloc(a->spec_bins * sizeof(float));
    a->vel_amp = malloc(a->spec_bins * sizeof(float));

    /* envelope: the squared envelope of a band B wide is readable up to about 0.8 B, so bands
     * are wide enough to show three harmonics of the highest defect frequency and a shaft
     * sideband; the envelope spectrum reaches past the fourth harmonic plus a sideband */
    double fmax_def = max_defect_hz(&c, speed_hi);
    double min_bw = fmax_def > 0 ? (3 * fmax_def + speed_hi) / 0.8 : c.fs_hz / 256;
    double env_fmax = fmax_def > 0 ? 1.15 * (4 * fmax_def + speed_hi) : fmax(500, 10 * speed_hi);
    env_fmax = fmin(env_fmax, 0.45 * c.fs_hz);
    if (c.band_lo_hz != 0 || c.band_hi_hz != 0)
        min_bw = fmin(min_bw, c.band_hi_hz - c.band_lo_hz);
    a->env = dsp_envelope_new(a->n_fft, c.fs_hz, min_bw, env_fmax);
    if (a->env) {
        size_t env_len;
        double env_rate;
        /* the rate and length do not depend on the band: ask with an empty spectrum */
        memset(a->white, 0, nb * sizeof *a->white);
        dsp_envelope_squared(a->env, a->white, 0, 0, &env_len, &env_rate);
        double env_df_want = clamp(speed_lo / 40, 0.05, 1.0);
        size_t eseg = dsp_fft_good_size_even((size_t)ceil(env_rate / env_df_want));
        size_t eseg_max = dsp_fft_good_size_below_even((size_t)(0.4 * 0.94 * (double)env_len));
        if (eseg > eseg_max) eseg = eseg_max;
        a->w_env = dsp_welch_new(eseg, DSP_WIN_HANN);
        a->env_bins = eseg / 2 + 1;
        a->env_df = env_rate / (double)eseg;
        a->ses = malloc(a->env_bins * sizeof(float));
        a->ses_wide = malloc(a->env_bins * sizeof(float));
        a->wide_lo_hz = env_fmax;
    }
    size_t scratch_len = a->spec_bins > a->env_bins ? a->spec_bins : a->env_bins;
    a->scratch = malloc(scratch_len * sizeof(float));
    if (!a->plan || !a->buf || !a->taper || !a->spec || !a->white || !a->w_hann || !a->w_flat || !a->acc_psd ||
        !a->vel_psd || !a->acc_amp || !a->vel_amp || !a->env || !a->w_env || !a->ses || !a->ses_wide || !a->scratch) {
        snprintf(err, errlen, "cannot set up the analysis of %zu samples at %g Hz (out of memory?)",
                 c.nsamples, c.fs_hz);
        dsp_analyzer_free(a);
        return NULL;
    }
    return a;
}

/* Velocity RMS (mm/s) of the line nearest h·f in the flat-top acceleration spectrum. */
static double harmonic_velocity_rms(const dsp_analyzer *a, double f)
{
    if (f <= 0 || f >= a->cfg.fs_hz / 2)
        return 0;
    double at;
    double acc_g = dsp_peak_near(a->acc_amp, a->spec_bins, a->spec_df, f, fmax(2 * a->spec_df, 0.01 * f), &at);
    if (at <= 0)
        return 0;
    return acc_g * DSP_G0 * 1000.0 / (2 * M_PI * at) / M_SQRT2;
}

/* The Welch-averaged squared-envelope spectrum of one band of the whitened record. */
static void read_band(dsp_analyzer *a, double lo_hz, double hi_hz, float *ses, dsp_ses *out)
{
    size_t env_len;
    double env_rate;
    const float *env = dsp_envelope_squared(a->env, a->white, lo_hz, hi_hz, &env_len, &env_rate);
    /* the first and last 3 % hold the taper's fade, whose shape would print lines of its own */
    size_t edge = (size_t)(0.03 * (double)env_len);
    *out = (dsp_ses){.power = ses, .nbins = a->env_bins, .df_hz = a->env_df, .band_lo_hz = lo_hz, .band_hi_hz = hi_hz};
    out->nseg = dsp_welch_psd(a->w_env, env + edge, env_len - 2 * edge, env_rate, ses);
    for (size_t i = edge; i < env_len - edge; i++)
        out->env_mean += env[i];
    out->env_mean /= (double)(env_len - 2 * edge);
}

int dsp_analyze(dsp_analyzer *a, const float *x, dsp_result *r)
{
    const dsp_analyzer_config *c = &a->cfg;
    size_t n = c->nsamples;
    memset(r, 0, sizeof *r);
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return -EINVAL;

    dsp_time_stats(x, n, &r->stats);

    /* velocity spectrum by integration in the frequency domain: V = A / (2πf) */
    dsp_welch_psd(a->w_hann, x, n, c->fs_hz, a->acc_psd);
    dsp_welch_amplitude(a->w_flat, x, n, a->acc_amp);
    const double to_mm_s = DSP_G0 * 1000.0 / (2 * M_PI);
    a->vel_psd[0] = 0;
    a->vel_amp[0] = 0;
    for (size_t k = 1; k < a->spec_bins; k++) {
        double f = (double)k * a->spec_df, g = to_mm_s / f;
        a->vel_psd[k] = (float)(a->acc_psd[k] * g * g);
        a->vel_amp[k] = sqrtf(a->vel_psd[k]);
    }
    r->vel_lo_hz = c->vel_lo_hz;
    r->vel_hi_hz = fmin(c->vel_hi_hz, c->fs_hz / 2);
    r->velocity_rms_mm_s = sqrt(dsp_band_power(a->vel_psd, a->spec_bins, a->spec_df, r->vel_lo_hz, r->vel_hi_hz));

    /* running speed */
    if (c->shaft_hz > 0) {
        r->shaft_hz = c->shaft_hz;
        r->shaft_source = DSP_SPEED_GIVEN;
    } else {
        r->shaft_hz = dsp_estimate_shaft_hz(a->vel_amp, a->spec_bins, a->spec_df, c->speed_min_hz,
                                            c->speed_max_hz, &r->speed_confidence_db, a->scratch);
        r->shaft_source = r->shaft_hz > 0 ? DSP_SPEED_ESTIMATED : DSP_SPEED_NONE;
    }
    for (int h = 1; h <= 3; h++)
        r->harmonics_mm_s[h - 1] = r->shaft_hz > 0 ? harmonic_velocity_rms(a, h * r->shaft_hz) : 0;

    /* envelope: whiten, choose the band, square-demodulate, average */
    size_t nfft = a->n_fft, nb = nfft / 2 + 1;
    float mean = (float)r->stats.mean;
    for (size_t i = 0; i < nfft; i++)
        a->buf[i] = (x[i] - mean) * a->taper[i < nfft / 2 ? i : nfft - 1 - i];
    dsp_fft_r2c(a->plan, a->buf, a->spec);
    /* A recording whose strongest line stands more than 120 dB over the spectrum's geometric
     * mean has no broadband content to demodulate: a synthetic tone, or a channel that carries
     * nothing but a clean sine. Whitening would raise its round-off to full scale and the
     * envelope would show lines made by the arithmetic, so the envelope is not read. */
    double log_sum = 0, peak = 0;
    for (size_t k = 1; k < nb; k++) {
        double m = cabsf(a->spec[k]);
        log_sum += log(m > 1e-30 ? m : 1e-30);
        if (m > peak)
            peak = m;
    }
    r->broadband = peak > 0 && peak < 1e6 * exp(log_sum / (double)(nb - 1));
    a->white[0] = 0;
    for (size_t k = 1; k < nb; k++) {
        float m = cabsf(a->spec[k]);
        a->white[k] = m > 0 ? a->spec[k] / m : 0;
    }
    if (c->band_lo_hz != 0 || c->band_hi_hz != 0) {
        r->band_lo_hz = c->band_lo_hz;
        r->band_hi_hz = c->band_hi_hz;
        r->band_source = DSP_BAND_GIVEN;
        r->band_kurtosis = dsp_envelope_band_sk(a->env, a->white, c->band_lo_hz, c->band_hi_hz);
        r->kurtogram_level = -1;
    } else {
        dsp_envelope_kurtogram(a->env, a->white, &r->band_lo_hz, &r->band_hi_hz, &r->band_kurtosis,
                               &r->kurtogram_level);
        r->band_source = DSP_BAND_KURTOGRAM;
    }
    /* Two readings of the envelope. The first is the whole whitened band above the defect range:
     * cepstral pre-whitening and the squared envelope of the full band (Borghesani et al., MSSP
     * 36 (2013); the strongest benchmark method of Smith & Randall) gathers every resonance the
     * impacts ring. The second is the kurtogram's band, the most impulsive one; impulsiveness is
     * not periodicity (a few knocks or a clipped burst make a band kurtic), so it is read only
     * when the whole band shows nothing, and, being a second look at the same record, its
     * evidence must stand 3 dB higher. A given band is read alone. */
    r->has_faults = c->has_bearing && r->shaft_hz > 0 && r->broadband;
    double wide_hi = c->fs_hz / 2;
    bool two = r->band_source == DSP_BAND_KURTOGRAM && (r->band_lo_hz > a->wide_lo_hz || r->band_hi_hz < wide_hi);
    dsp_ses look;
    if (two) {
        r->wide_lo_hz = a->wide_lo_hz;
        r->wide_hi_hz = wide_hi;
        read_band(a, a->wide_lo_hz, wide_hi, a->ses_wide, &look);
        if (r->has_faults)
            dsp_detect_faults(&look, r->shaft_hz, &c->orders, c->slip_tol, 0, a->scratch, r);
    }
    read_band(a, r->band_lo_hz, r->band_hi_hz, a->ses, &look);
    if (r->has_faults && !two) {
        dsp_detect_faults(&look, r->shaft_hz, &c->orders, c->slip_tol, 0, a->scratch, r);
    } else if (r->has_faults && r->diagnosis == DSP_DIAG_NONE) {
        dsp_result second = *r;
        dsp_detect_faults(&look, r->shaft_hz, &c->orders, c->slip_tol, 3.0, a->scratch, &second);
        if (second.diagnosis != DSP_DIAG_NONE)
            *r = second;
    }
    return 0;
}

void dsp_analyzer_spectra(const dsp_analyzer *a, dsp_spectra *out)
{
    out->accel_amp_g = a->acc_amp;
    out->accel_bins = a->spec_bins;
    out->accel_df_hz = a->spec_df;
    out->vel_psd = a->vel_psd;
    out->vel_bins = a->spec_bins;
    out->vel_df_hz = a->spec_df;
    out->env_power = a->ses;
    out->env_bins = a->env_bins;
    out->env_df_hz = a->env_df;
    out->kurtogram = dsp_envelope_table(a->env, &out->kg_levels, &out->kg_max_bands);
}

static const char *const family_names[DSP_NFAMILIES] = {"BPFO", "BPFI", "BSF", "FTF"};
static const char *const diag_names[] = {"none", "outer_race", "inner_race", "ball", "cage"};
static const char *const speed_names[] = {"none", "given", "estimated"};

const char *dsp_family_name(enum dsp_family f) { return (unsigned)f < DSP_NFAMILIES ? family_names[f] : "?"; }
const char *dsp_diagnosis_name(enum dsp_diagnosis d) { return (unsigned)d <= DSP_DIAG_CAGE ? diag_names[d] : "?"; }
const char *dsp_speed_source_name(enum dsp_speed_source s) { return (unsigned)s <= DSP_SPEED_ESTIMATED ? speed_names[s] : "?"; }

/* Tests of dsp/features.h, the feature vector of schema vw-features-1, against analytic truths:
 * a sine of amplitude A has mean square A²/2, all of it in the band that holds its frequency;
 * white noise of variance σ² sampled at fs has the one-sided density σ²/(fs/2), so an octave
 * band [lo, 2lo) holds σ²·lo/(fs/2) and each octave holds 3.01 dB more than the one below; a
 * band that reaches past Nyquist cannot be read. The envelope features are checked on the
 * simulator's outer-race fault against the same machine healthy. */
#include "acquisition/sim.h"
#include "dsp/feature_vector.h"
#include "testlib.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static float *alloc_f(size_t n)
{
    float *p = calloc(n, sizeof *p);
    if (!p)
        abort();
    return p;
}

static dsp_analyzer *make_analyzer(double fs, size_t n, double shaft_hz, const dsp_bearing_orders *o)
{
    dsp_analyzer_config c;
    memset(&c, 0, sizeof c);
    c.fs_hz = fs;
    c.nsamples = n;
    c.shaft_hz = shaft_hz;
    if (o) {
        c.has_bearing = true;
        c.orders = *o;
    }
    char err[256] = "";
    dsp_analyzer *a = dsp_analyzer_new(&c, err, sizeof err);
    T_CHECK(a != NULL, "dsp_analyzer_new: %s", err);
    return a;
}

/* Analyses x and computes its features; 0 or the failing call's code. */
static int features_of(dsp_analyzer *a, const float *x, double temp_c, dsp_result *r, double *v)
{
    int rc = dsp_analyze(a, x, r);
    T_CHECK(rc == 0, "dsp_analyze: %d", rc);
    if (rc)
        return rc;
    dsp_spectra s;
    dsp_analyzer_spectra(a, &s);
    rc = dsp_features_compute(r, &s, temp_c, v);
    T_CHECK(rc == 0, "dsp_features_compute: %d", rc);
    return rc;
}

/* ---- 1. the schema ---- */

static void test_schema_table(void)
{
    T_CHECK(strcmp(DSP_FEATURES_SCHEMA, "vw-features-1") == 0, "schema %s", DSP_FEATURES_SCHEMA);
    T_CHECK(DSP_FEAT_COUNT == DSP_FEATURES_MAX, "enum count %d, table %d", (int)DSP_FEAT_COUNT, DSP_FEATURES_MAX);
    T_CHECK(sizeof dsp_features_names / sizeof dsp_features_names[0] == DSP_FEATURES_MAX, "table size");
    for (int i = 0; i < DSP_FEATURES_MAX; i++) {
        const char *n = dsp_features_names[i];
        T_CHECK(n != NULL, "name %d is NULL", i);
        if (!n)
            continue;
        T_CHECK(n[0] != 0 && islower((unsigned char)n[0]), "name %d \"%s\" must start with a letter", i, n);
        for (const char *p = n; *p; p++)
            T_CHECK(islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '_',
                    "name %d \"%s\" is not snake_case", i, n);
        for (int j = 0; j < i; j++)
            T_CHECK(!dsp_features_names[j] || strcmp(n, dsp_features_names[j]) != 0,
                    "names %d and %d are both \"%s\"", j, i, n);
        T_CHECK(dsp_features_index(n) == i, "index of \"%s\" is %d, want %d", n, dsp_features_index(n), i);
    }
    T_CHECK(dsp_features_index("no_such_feature") == -1 && dsp_features_index(NULL) == -1, "unknown names");
    /* the band names say their edges, which are octaves from 10 Hz */
    for (size_t b = 0; b < DSP_FEATURES_NBANDS; b++) {
        double lo = dsp_features_band_edge_hz(b), hi = dsp_features_band_edge_hz(b + 1);
        T_NEAR(hi, 2 * lo, 0, "octave bands");
        char want[64];
        snprintf(want, sizeof want, "band_%.0f_%.0fhz_db", lo, hi);
        T_CHECK(strcmp(dsp_features_names[DSP_FEAT_BAND0 + b], want) == 0, "band %zu is \"%s\", want \"%s\"", b,
                dsp_features_names[DSP_FEAT_BAND0 + b], want);
    }
    T_NEAR(dsp_features_band_edge_hz(0), 10, 0, "first edge");
    T_CHECK(isnan(dsp_features_band_edge_hz(DSP_FEATURES_NBANDS + 1)), "edge past the last");
    const char *fixed[] = {"env_bpfo_db", "env_bpfi_db", "env_bsf_db", "env_ftf_db", "kurtosis",
                           "crest", "velocity_rms_mm_s", "accel_rms_g", "temp_c"};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        T_CHECK(dsp_features_index(fixed[i]) == DSP_FEAT_ENV0 + (int)i, "\"%s\" at %d", fixed[i],
                dsp_features_index(fixed[i]));
}

static void test_bad_arguments(void)
{
    double v[DSP_FEATURES_MAX];
    dsp_result r;
    memset(&r, 0, sizeof r);
    dsp_spectra s;
    memset(&s, 0, sizeof s);
    T_CHECK(dsp_features_compute(&r, &s, 20, v) == -EINVAL, "spectra without bins");
    for (int i = 0; i < DSP_FEATURES_MAX; i++)
        T_CHECK(isnan(v[i]), "feature %d is %g after a refusal, want NAN", i, v[i]);
    T_CHECK(dsp_features_compute(NULL, &s, 20, v) == -EINVAL, "NULL result");
    T_CHECK(dsp_features_compute(&r, NULL, 20, v) == -EINVAL, "NULL spectra");
    T_CHECK(dsp_features_compute(&r, &s, 20, NULL) == -EINVAL, "NULL output");
}

/* ---- 2. band energies ---- */

static void test_sine_band(void)
{
    /* 1 g peak at 1 kHz: mean square 1/2 g², all of it in 640–1280 Hz, at two sample rates */
    const double rates[] = {25600, 12000};
    for (size_t ri = 0; ri < 2; ri++) {
        double fs = rates[ri];
        size_t n = (size_t)(10 * fs);
        dsp_analyzer *a = make_analyzer(fs, n, 0, NULL);
        if (!a)
            return;
        float *x = alloc_f(n);
        for (size_t i = 0; i < n; i++)
            x[i] = (float)sin(2 * M_PI * 1000.0 * (double)i / fs + 0.3);
        dsp_result r;
        double v[DSP_FEATURES_MAX];
        if (features_of(a, x, NAN, &r, v) == 0) {
            int in = dsp_features_index("band_640_1280hz_db");
            T_NEAR(v[in], 10 * log10(0.5), 0.2, "1 g sine at 1 kHz: band 640-1280 Hz, dB re g²");
            for (size_t b = 0; b < DSP_FEATURES_NBANDS; b++) {
                int i = DSP_FEAT_BAND0 + (int)b;
                double hi = dsp_features_band_edge_hz(b + 1);
                if (hi > fs / 2) {
                    T_CHECK(isnan(v[i]), "fs %.0f: %s reaches past Nyquist but reads %g", fs, dsp_features_names[i], v[i]);
                } else if (i != in) {
                    T_CHECK(isfinite(v[i]) && v[i] < v[in] - 60, "fs %.0f: %s reads %.1f dB next to the sine's %.1f dB",
                            fs, dsp_features_names[i], v[i], v[in]);
                }
            }
            T_NEAR(v[DSP_FEAT_ACCEL_RMS_G], M_SQRT1_2, 1e-4, "accel_rms_g of a 1 g sine");
            /* sampled at fs, the crest may fall up to half a sample from a sample: cos(π·f/fs) */
            T_CHECK(v[DSP_FEAT_CREST] <= M_SQRT2 + 1e-5 && v[DSP_FEAT_CREST] >= M_SQRT2 * cos(M_PI * 1000 / fs) - 1e-5,
                    "fs %.0f: crest of a sine %.5f", fs, v[DSP_FEAT_CREST]);
            T_NEAR(v[DSP_FEAT_KURTOSIS], 1.5, 1e-3, "kurtosis of a sine");
            /* 1 g at 1 kHz is g0·1000/(2π·1000) mm/s peak, inside the default 10-1000 Hz band's edge */
            T_NEAR(v[DSP_FEAT_VELOCITY_RMS_MM_S], r.velocity_rms_mm_s, 0, "velocity_rms_mm_s is the result's");
            for (int f = 0; f < DSP_NFAMILIES; f++)
                T_CHECK(isnan(v[DSP_FEAT_ENV0 + f]), "no bearing: %s reads %g, want NAN",
                        dsp_features_names[DSP_FEAT_ENV0 + f], v[DSP_FEAT_ENV0 + f]);
        }
        free(x);
        dsp_analyzer_free(a);
    }
}

static void test_noise_bands(void)
{
    /* white noise, σ = 0.5 g at 25.6 kHz: density σ²/(fs/2), octave [lo, 2lo) holds σ²·lo/(fs/2) */
    const double fs = 25600, sigma = 0.5;
    const size_t n = (size_t)(20 * fs);
    dsp_analyzer *a = make_analyzer(fs, n, 25, NULL);
    if (!a)
        return;
    float *x = alloc_f(n);
    t_rng_seed(42);
    for (size_t i = 0; i < n; i++)
        x[i] = (float)(sigma * t_grand());
    dsp_result r;
    double v[DSP_FEATURES_MAX];
    if (features_of(a, x, NAN, &r, v) == 0) {
        double total = 0;
        for (size_t b = 0; b < DSP_FEATURES_NBANDS; b++) {
            int i = DSP_FEAT_BAND0 + (int)b;
            double lo = dsp_features_band_edge_hz(b), hi = dsp_features_band_edge_hz(b + 1);
            if (hi > fs / 2) {
                T_CHECK(isnan(v[i]), "%s reaches past Nyquist but reads %g", dsp_features_names[i], v[i]);
                continue;
            }
            double want = 10 * log10(sigma * sigma * (hi - lo) / (fs / 2));
            /* a band of B Hz holds about B/df·nseg independent values: 10-20 Hz only ~300, so
             * ±0.25 dB is one standard deviation there; wide bands hold thousands */
            T_NEAR(v[i], want, lo >= 80 ? 1.0 : 1.5, dsp_features_names[i]);
            total += pow(10, v[i] / 10);
        }
        /* the valid bands cover 10–10240 Hz of the 12800 Hz */
        T_NEAR(10 * log10(total), 10 * log10(sigma * sigma * (10240.0 - 10) / (fs / 2)), 0.1,
               "the bands' sum is the noise's power in 10-10240 Hz");
        T_NEAR(v[DSP_FEAT_ACCEL_RMS_G], sigma, 0.01 * sigma, "accel_rms_g of noise");
        T_NEAR(v[DSP_FEAT_KURTOSIS], 3, 0.05, "kurtosis of Gaussian noise");
    }
    free(x);
    dsp_analyzer_free(a);
}

/* ---- 3. envelope families, temperature ---- */

#define FS 12000.0
#define NSAMP 120000 /* 10 s */
#define SHAFT 29.95

static acq_sim_params sim_params(const dsp_bearing_orders *o, enum acq_sim_fault fault, uint64_t seed)
{
    acq_sim_params p;
    memset(&p, 0, sizeof p);
    p.fs_hz = FS;
    p.shaft_hz = SHAFT;
    p.x1_g = 0.3;
    p.x2_g = 0.15;
    p.noise_rms_g = 0.5;
    p.fault = fault;
    p.defect_order = o->bpfo;
    p.cage_order = o->ftf;
    p.impact_g = 1.0; /* comparable to the noise: every impact is below its peaks */
    p.resonance_hz = 4200;
    p.damping = 0.05;
    p.jitter = 0.01;
    p.seed = seed;
    return p;
}

static void test_envelope_families(void)
{
    const dsp_bearing *bearing = dsp_bearing_find("6205");
    T_CHECK(bearing != NULL, "6205 not in the catalogue");
    if (!bearing)
        return;
    const dsp_bearing_orders *o = &bearing->orders;
    dsp_analyzer *with = make_analyzer(FS, NSAMP, SHAFT, o), *without = make_analyzer(FS, NSAMP, SHAFT, NULL);
    float *x = alloc_f(NSAMP);
    dsp_result r;
    double healthy[DSP_FEATURES_MAX], faulty[DSP_FEATURES_MAX], nobear[DSP_FEATURES_MAX];
    for (uint64_t seed = 1; seed <= 3 && with && without; seed++) {
        acq_sim_params p = sim_params(o, ACQ_SIM_NONE, seed);
        T_CHECK(acq_sim_generate(&p, 0, x, NSAMP) == 0, "acq_sim_generate");
        if (features_of(with, x, 41.5, &r, healthy))
            break;
        p = sim_params(o, ACQ_SIM_OUTER, seed);
        T_CHECK(acq_sim_generate(&p, 0, x, NSAMP) == 0, "acq_sim_generate");
        if (features_of(without, x, NAN, &r, nobear) || features_of(with, x, 41.5, &r, faulty))
            break;
        int bpfo = DSP_FEAT_ENV0 + DSP_BPFO;
        for (int f = 0; f < DSP_NFAMILIES; f++) {
            int i = DSP_FEAT_ENV0 + f;
            T_CHECK(isnan(nobear[i]), "seed %d, no bearing: %s reads %g", (int)seed, dsp_features_names[i], nobear[i]);
            T_CHECK(isfinite(healthy[i]) && fabs(healthy[i]) < 6, "seed %d, healthy: %s reads %.1f dB, want near 0",
                    (int)seed, dsp_features_names[i], healthy[i]);
            /* the other families share some of BPFO's lines (3·BPFO ≈ 2·BPFI for the 6205), so
             * they rise too, but less */
            if (i != bpfo)
                T_CHECK(faulty[bpfo] > faulty[i] + 3, "seed %d, outer race: env_bpfo_db %.1f, %s %.1f", (int)seed,
                        faulty[bpfo], dsp_features_names[i], faulty[i]);
        }
        T_CHECK(faulty[bpfo] > healthy[bpfo] + 6, "seed %d: env_bpfo_db %.1f dB faulty, %.1f dB healthy", (int)seed,
                faulty[bpfo], healthy[bpfo]);
        T_NEAR(healthy[DSP_FEAT_TEMP_C], 41.5, 0, "temp_c passes through");
        T_CHECK(isnan(nobear[DSP_FEAT_TEMP_C]), "no probe: temp_c %g", nobear[DSP_FEAT_TEMP_C]);
        /* the rest of the vector does not depend on the bearing */
        for (int i = 0; i < DSP_FEAT_ENV0; i++)
            T_CHECK(nobear[i] == faulty[i] || (isnan(nobear[i]) && isnan(faulty[i])), "%s: %g without the bearing, %g with",
                    dsp_features_names[i], nobear[i], faulty[i]);
        T_CHECK(faulty[DSP_FEAT_KURTOSIS] > healthy[DSP_FEAT_KURTOSIS], "impacts raise kurtosis: %.3f vs %.3f",
                faulty[DSP_FEAT_KURTOSIS], healthy[DSP_FEAT_KURTOSIS]);
        printf("# seed %d env_bpfo_db healthy %.1f faulty %.1f (bpfi %.1f bsf %.1f ftf %.1f)\n", (int)seed,
               healthy[bpfo], faulty[bpfo], faulty[bpfo + 1], faulty[bpfo + 2], faulty[bpfo + 3]);
    }
    free(x);
    dsp_analyzer_free(with);
    dsp_analyzer_free(without);
}

int main(void)
{
    T_RUN(test_schema_table);
    T_RUN(test_bad_arguments);
    T_RUN(test_sine_band);
    T_RUN(test_noise_bands);
    T_RUN(test_envelope_families);
    return t_done();
}

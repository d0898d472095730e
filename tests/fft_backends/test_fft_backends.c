/* FFTW and KissFFT agree: both backends of dsp/fft.h transform the same input to within
 * ≥ 90 dB SNR (single precision gives each about 130 dB against the exact transform), forward
 * and inverse, real (n = 4800) and complex (n = 1000), on a tone and on noise.
 *
 * Both backends define the same symbols, so the KissFFT one is compiled into this program under
 * other names (kissb_*) and the program links against the FFTW build of the library. The timing
 * helpers fft_clock_start/stop that fft_kiss.c calls come from the library's fft_common.c. */
#include "dsp/fft.h"
#include "../unit/testlib.h"

/* every symbol of dsp/fft.h that fft_kiss.c defines, and its plan type */
#define dsp_fft_plan kissb_fft_plan
#define dsp_fft_plan_new kissb_plan_new
#define dsp_fft_plan_free kissb_plan_free
#define dsp_fft_plan_len kissb_plan_len
#define dsp_fft_r2c kissb_r2c
#define dsp_fft_c2r kissb_c2r
#define dsp_fft_c2c kissb_c2c
#define dsp_fft_backend kissb_backend
typedef struct kissb_fft_plan kissb_fft_plan;
kissb_fft_plan *kissb_plan_new(size_t n, enum dsp_fft_kind kind);
void kissb_plan_free(kissb_fft_plan *p);
size_t kissb_plan_len(const kissb_fft_plan *p);
void kissb_r2c(kissb_fft_plan *p, const float *in, float complex *out);
void kissb_c2r(kissb_fft_plan *p, const float complex *in, float *out);
void kissb_c2c(kissb_fft_plan *p, const float complex *in, float complex *out, int sign);
const char *kissb_backend(void);
#include "../../dsp/fft_kiss.c"
#undef dsp_fft_plan
#undef dsp_fft_plan_new
#undef dsp_fft_plan_free
#undef dsp_fft_plan_len
#undef dsp_fft_r2c
#undef dsp_fft_c2r
#undef dsp_fft_c2c
#undef dsp_fft_backend

#include <complex.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MIN_SNR_DB 90.0


/* 10·log10(Σ|a|² / Σ|a - b|²); a is the reference (FFTW). +inf when identical. */
static double snr_c(const float complex *a, const float complex *b, size_t n)
{
    double s = 0, e = 0;
    for (size_t i = 0; i < n; i++) {
        s += (double)crealf(a[i]) * crealf(a[i]) + (double)cimagf(a[i]) * cimagf(a[i]);
        float complex d = a[i] - b[i];
        e += (double)crealf(d) * crealf(d) + (double)cimagf(d) * cimagf(d);
    }
    return e > 0 ? 10 * log10(s / e) : INFINITY;
}

static double snr_r(const float *a, const float *b, size_t n)
{
    double s = 0, e = 0;
    for (size_t i = 0; i < n; i++) {
        s += (double)a[i] * a[i];
        e += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
    }
    return e > 0 ? 10 * log10(s / e) : INFINITY;
}

static int backends_distinct(void)
{
    if (strcmp(dsp_fft_backend(), "fftw") != 0) {
        t_skip("the library is built with %s, not FFTW: nothing to compare KissFFT with", dsp_fft_backend());
        return 0;
    }
    T_CHECK(strcmp(kissb_backend(), "kiss") == 0, "the renamed backend is %s", kissb_backend());
    return 1;
}

/* Fills x[0..n) with a tone (not on a bin, so every bin is non-zero) or with Gaussian noise. */
static void fill(float *x, size_t n, int noise)
{
    for (size_t i = 0; i < n; i++)
        x[i] = noise ? (float)t_grand() : (float)(0.8 * cos(2 * M_PI * 123.37 * (double)i / (double)n + 0.3));
}

static void real_case(int noise)
{
    const size_t n = 4800, nb = n / 2 + 1;
    float *x = malloc(n * sizeof *x), *yf = malloc(n * sizeof *yf), *yk = malloc(n * sizeof *yk);
    float complex *Xf = malloc(nb * sizeof *Xf), *Xk = malloc(nb * sizeof *Xk);
    dsp_fft_plan *pf = dsp_fft_plan_new(n, DSP_FFT_REAL);
    kissb_fft_plan *pk = kissb_plan_new(n, DSP_FFT_REAL);
    T_CHECK(pf && pk && x && yf && yk && Xf && Xk, "plans or buffers");
    if (pf && pk && x && yf && yk && Xf && Xk) {
        fill(x, n, noise);
        dsp_fft_r2c(pf, x, Xf);
        kissb_r2c(pk, x, Xk);
        double snr = snr_c(Xf, Xk, nb);
        T_CHECK(snr >= MIN_SNR_DB, "real n=%zu forward (%s): SNR %.1f dB", n, noise ? "noise" : "tone", snr);
        /* sanity of the reference itself: the forward transform is unnormalised, Parseval */
        double et = 0, ef = 0;
        for (size_t i = 0; i < n; i++)
            et += (double)x[i] * x[i];
        for (size_t k = 0; k < nb; k++)
            ef += ((k == 0 || k == n / 2) ? 1.0 : 2.0) * pow(cabsf(Xf[k]), 2);
        T_NEAR(ef / (double)n / et, 1.0, 1e-4, "Parseval of the FFTW reference");
        /* inverse from the same half spectrum; c2r leaves its input alone in both */
        dsp_fft_c2r(pf, Xf, yf);
        kissb_c2r(pk, Xf, yk);
        snr = snr_r(yf, yk, n);
        T_CHECK(snr >= MIN_SNR_DB, "real n=%zu inverse (%s): SNR %.1f dB", n, noise ? "noise" : "tone", snr);
        T_CHECK(dsp_fft_plan_len(pf) == n && kissb_plan_len(pk) == n, "plan lengths");
    }
    dsp_fft_plan_free(pf);
    kissb_plan_free(pk);
    free(x); free(yf); free(yk); free(Xf); free(Xk);
}

static void complex_case(int noise)
{
    const size_t n = 1000;
    float complex *z = malloc(n * sizeof *z), *zf = malloc(n * sizeof *zf), *zk = malloc(n * sizeof *zk);
    float *re = malloc(n * sizeof *re), *im = malloc(n * sizeof *im);
    dsp_fft_plan *pf = dsp_fft_plan_new(n, DSP_FFT_COMPLEX);
    kissb_fft_plan *pk = kissb_plan_new(n, DSP_FFT_COMPLEX);
    T_CHECK(pf && pk && z && zf && zk && re && im, "plans or buffers");
    if (pf && pk && z && zf && zk && re && im) {
        fill(re, n, noise);
        fill(im, n, 1);
        if (!noise) /* an analytic tone: all its energy in one direction of rotation */
            for (size_t i = 0; i < n; i++)
                im[i] = (float)(0.8 * sin(2 * M_PI * 123.37 * (double)i / (double)n + 0.3));
        for (size_t i = 0; i < n; i++)
            z[i] = re[i] + I * im[i];
        for (int sign = -1; sign <= 1; sign += 2) {
            dsp_fft_c2c(pf, z, zf, sign);
            kissb_c2c(pk, z, zk, sign);
            double snr = snr_c(zf, zk, n);
            T_CHECK(snr >= MIN_SNR_DB, "complex n=%zu %s (%s): SNR %.1f dB", n, sign < 0 ? "forward" : "inverse",
                    noise ? "noise" : "tone", snr);
            /* in place, which both backends do through other code paths */
            memcpy(zk, z, n * sizeof *z);
            kissb_c2c(pk, zk, zk, sign);
            snr = snr_c(zf, zk, n);
            T_CHECK(snr >= MIN_SNR_DB, "complex n=%zu %s in place (%s): SNR %.1f dB", n,
                    sign < 0 ? "forward" : "inverse", noise ? "noise" : "tone", snr);
            memcpy(zk, z, n * sizeof *z);
            dsp_fft_c2c(pf, zk, zk, sign);
            snr = snr_c(zf, zk, n);
            T_CHECK(snr >= MIN_SNR_DB, "FFTW complex n=%zu %s in place vs out of place: SNR %.1f dB", n,
                    sign < 0 ? "forward" : "inverse", snr);
        }
    }
    dsp_fft_plan_free(pf);
    kissb_plan_free(pk);
    free(z); free(zf); free(zk); free(re); free(im);
}

static void test_real_tone(void) { if (backends_distinct()) real_case(0); }
static void test_real_noise(void) { if (backends_distinct()) real_case(1); }
static void test_complex_tone(void) { if (backends_distinct()) complex_case(0); }
static void test_complex_noise(void) { if (backends_distinct()) complex_case(1); }

int main(void)
{
    T_RUN(test_real_tone);
    T_RUN(test_real_noise);
    T_RUN(test_complex_tone);
    T_RUN(test_complex_noise);
    return t_done();
}

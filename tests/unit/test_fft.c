/* Tests of dsp/fft.h against analytic truths: a tone lands in its bin with amplitude N/2,
 * Parseval holds, inverse(forward(x)) = N·x, and the complex transform agrees with the real one.
 * The FFTW-vs-KissFFT agreement (≥ 90 dB SNR) is test_fft_backends, which links both. */
#include "dsp/fft.h"
#include "testlib.h"

#include <complex.h>
#include <math.h>
#include <stdlib.h>


static void test_tone_bin(void)
{
    const size_t n = 4096, k0 = 137;
    float *x = malloc(n * sizeof *x);
    float complex *X = malloc((n / 2 + 1) * sizeof *X);
    dsp_fft_plan *p = dsp_fft_plan_new(n, DSP_FFT_REAL);
    T_CHECK(p != NULL, "plan");
    for (size_t i = 0; i < n; i++)
        x[i] = (float)(0.75 * cos(2 * M_PI * (double)k0 * (double)i / (double)n));
    dsp_fft_r2c(p, x, X);
    T_NEAR(cabsf(X[k0]), 0.75 * n / 2, 1e-3 * n, "|X[k0]|");
    double leak = 0;
    for (size_t k = 0; k <= n / 2; k++)
        if (k != k0)
            leak = fmax(leak, cabsf(X[k]));
    T_CHECK(leak < 1e-5 * n, "leak into other bins %g", leak);
    dsp_fft_plan_free(p);
    free(x);
    free(X);
}

static void test_parseval_and_roundtrip(void)
{
    const size_t sizes[] = {1024, 960, 12000, 122880};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        size_t n = sizes[s];
        float *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
        float complex *X = malloc((n / 2 + 1) * sizeof *X);
        dsp_fft_plan *p = dsp_fft_plan_new(n, DSP_FFT_REAL);
        double et = 0, ef = 0;
        for (size_t i = 0; i < n; i++) {
            x[i] = (float)t_grand();
            et += (double)x[i] * x[i];
        }
        dsp_fft_r2c(p, x, X);
        for (size_t k = 0; k <= n / 2; k++) {
            double m = (double)crealf(X[k]) * crealf(X[k]) + (double)cimagf(X[k]) * cimagf(X[k]);
            ef += (k == 0 || k == n / 2) ? m : 2 * m;
        }
        ef /= (double)n;
        T_NEAR(ef / et, 1.0, 1e-4, "Parseval energy ratio");
        dsp_fft_c2r(p, X, y);
        double err = 0;
        for (size_t i = 0; i < n; i++)
            err = fmax(err, fabs(y[i] / (double)n - x[i]));
        T_CHECK(err < 1e-4, "n=%zu: round trip max error %g", n, err);
        dsp_fft_plan_free(p);
        free(x); free(y); free(X);
    }
}

static void test_complex_matches_real(void)
{
    const size_t n = 1000;
    float *x = malloc(n * sizeof *x);
    float complex *Xr = malloc((n / 2 + 1) * sizeof *Xr), *z = malloc(n * sizeof *z);
    dsp_fft_plan *pr = dsp_fft_plan_new(n, DSP_FFT_REAL), *pc = dsp_fft_plan_new(n, DSP_FFT_COMPLEX);
    for (size_t i = 0; i < n; i++) {
        x[i] = (float)t_grand();
        z[i] = x[i];
    }
    dsp_fft_r2c(pr, x, Xr);
    dsp_fft_c2c(pc, z, z, -1); /* in place */
    double err = 0;
    for (size_t k = 0; k <= n / 2; k++)
        err = fmax(err, cabs(z[k] - Xr[k]));
    T_CHECK(err < 1e-3, "complex vs real forward: max difference %g", err);
    dsp_fft_c2c(pc, z, z, +1);
    err = 0;
    for (size_t i = 0; i < n; i++)
        err = fmax(err, cabs(z[i] / (float)n - x[i]));
    T_CHECK(err < 1e-4, "complex round trip max error %g", err);
    dsp_fft_plan_free(pr);
    dsp_fft_plan_free(pc);
    free(x); free(Xr); free(z);
}

static void test_good_size_and_bad_plans(void)
{
    T_CHECK(dsp_fft_good_size(121265) == 121500, "good size of 121265 is %zu", dsp_fft_good_size(121265));
    T_CHECK(dsp_fft_good_size(1024) == 1024, "1024");
    T_CHECK(dsp_fft_good_size_even(243) == 250, "even good size of 243 is %zu", dsp_fft_good_size_even(243));
    T_CHECK(dsp_fft_plan_new(1001, DSP_FFT_REAL) == NULL, "odd real plan must be refused");
    T_CHECK(dsp_fft_plan_new(0, DSP_FFT_COMPLEX) == NULL, "empty plan must be refused");
    dsp_fft_plan_free(NULL);
}

int main(void)
{
    T_RUN(test_tone_bin);
    T_RUN(test_parseval_and_roundtrip);
    T_RUN(test_complex_matches_real);
    T_RUN(test_good_size_and_bad_plans);
    return t_done();
}

/* dsp/fft.h — one face for two FFT backends (FFTW single precision, KissFFT float).
 *
 * The backend is a build-time choice (`make` → fft_fftw.c, `make FFT=kiss` → fft_kiss.c).
 * A plan is made once for a length and reused: making a plan allocates and (for FFTW) is not
 * thread-safe, so plans are made before analysis threads start. Executing a plan allocates
 * nothing and may run concurrently with other plans; one plan must not be executed from two
 * threads at once (both backends keep scratch space in the plan).
 *
 * Conventions: forward transforms are unnormalised (X[k] = Σ x[n] e^{-2πikn/N}); inverse
 * transforms are unnormalised too, so inverse(forward(x)) = N·x.
 */
#ifndef VW_DSP_FFT_H
#define VW_DSP_FFT_H

#include <complex.h>
#include <stddef.h>

typedef struct dsp_fft_plan dsp_fft_plan;

enum dsp_fft_kind {
    DSP_FFT_REAL = 1,    /* real ⇄ half complex (n/2+1 bins); n must be even */
    DSP_FFT_COMPLEX = 2, /* complex ⇄ complex, both directions */
};

/* A plan for transforms of length n (n ≥ 2). NULL on a bad length or out of memory. */
dsp_fft_plan *dsp_fft_plan_new(size_t n, enum dsp_fft_kind kind);
void dsp_fft_plan_free(dsp_fft_plan *p);
size_t dsp_fft_plan_len(const dsp_fft_plan *p);

/* Real plans. in: n reals, out: n/2+1 complex. */
void dsp_fft_r2c(dsp_fft_plan *p, const float *in, float complex *out);
/* in: n/2+1 complex (left unchanged), out: n reals. */
void dsp_fft_c2r(dsp_fft_plan *p, const float complex *in, float *out);
/* Complex plans. sign -1 forward, +1 inverse. in may equal out. */
void dsp_fft_c2c(dsp_fft_plan *p, const float complex *in, float complex *out, int sign);

/* The name of the compiled-in backend: "fftw" or "kiss". */
const char *dsp_fft_backend(void);

/* The smallest n' ≥ n of the form 2^a·3^b·5^c (fast in both backends); 0 on overflow. */
size_t dsp_fft_good_size(size_t n);
/* The same, and even (for real plans). */
size_t dsp_fft_good_size_even(size_t n);
/* The largest even n' ≤ n of that form; 0 when n < 2. */
size_t dsp_fft_good_size_below_even(size_t n);

/* Cumulative nanoseconds spent executing transforms in this thread (for `make bench`'s
 * "share of time inside FFTs"); counted only when dsp_fft_timing(1) was called. */
void dsp_fft_timing(int on);
unsigned long long dsp_fft_time_ns(void);

#endif

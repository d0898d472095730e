/* dsp/fft_fftw.c — the FFTW (fftw3f) backend of dsp/fft.h.
 *
 * Plans are made with FFTW_ESTIMATE (deterministic, no timing runs) and FFTW_UNALIGNED so that
 * the new-array execute functions accept any caller buffer. FFTW's planner is not thread-safe:
 * plan creation and destruction hold a mutex; execution does not.
 *
 * Only out-of-place FFTW plans are executed. For an in-place complex transform, and for a
 * complex-to-real one (which must leave its input alone), FFTW picks "buffered" solvers, and
 * those allocate their buffer on every execution in some builds (Debian's arm64 FFTW: one
 * malloc per in-place transform, 150 per dsp_analyze; its x86-64 build uses the stack). So, as
 * in the KissFFT backend, the plan keeps a scratch buffer: an in-place call copies its input
 * there and runs the out-of-place plan, and c2r copies its input there and lets FFTW destroy the
 * copy. Execution then allocates nothing on any machine (tests/unit/test_noalloc.c); on x86-64
 * the copy costs about 5 % of a dsp_analyze. The scratch is why one plan serves one thread at a
 * time. */
#include "fft_internal.h"

#include <fftw3.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct dsp_fft_plan {
    size_t n;
    enum dsp_fft_kind kind;
    fftwf_plan fwd, inv;    /* out of place; a real plan's inv destroys its input */
    fftwf_complex *scratch; /* complex plans: n values, real plans: n/2+1 (c2r's input) */
};

static pthread_mutex_t planner_lock = PTHREAD_MUTEX_INITIALIZER;

const char *dsp_fft_backend(void) { return "fftw"; }

dsp_fft_plan *dsp_fft_plan_new(size_t n, enum dsp_fft_kind kind)
{
    if (!fft_plan_args_ok(n, kind))
        return NULL;
    dsp_fft_plan *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->n = n;
    p->kind = kind;
    int len = (int)n;
    unsigned flags = FFTW_ESTIMATE | FFTW_UNALIGNED;
    pthread_mutex_lock(&planner_lock);
    fftwf_complex *a = fftwf_malloc(sizeof(fftwf_complex) * n);
    fftwf_complex *b = fftwf_malloc(sizeof(fftwf_complex) * n);
    p->scratch = fftwf_malloc(sizeof(fftwf_complex) * (kind == DSP_FFT_REAL ? n / 2 + 1 : n));
    if (a && b && p->scratch) {
        if (kind == DSP_FFT_REAL) {
            p->fwd = fftwf_plan_dft_r2c_1d(len, (float *)a, b, flags);
            p->inv = fftwf_plan_dft_c2r_1d(len, b, (float *)a, flags | FFTW_DESTROY_INPUT);
        } else {
            p->fwd = fftwf_plan_dft_1d(len, a, b, FFTW_FORWARD, flags);
            p->inv = fftwf_plan_dft_1d(len, a, b, FFTW_BACKWARD, flags);
        }
    }
    fftwf_free(a);
    fftwf_free(b);
    pthread_mutex_unlock(&planner_lock);
    if (!p->fwd || !p->inv) {
        dsp_fft_plan_free(p);
        return NULL;
    }
    return p;
}

void dsp_fft_plan_free(dsp_fft_plan *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&planner_lock);
    if (p->fwd)
        fftwf_destroy_plan(p->fwd);
    if (p->inv)
        fftwf_destroy_plan(p->inv);
    pthread_mutex_unlock(&planner_lock);
    fftwf_free(p->scratch);
    free(p);
}

size_t dsp_fft_plan_len(const dsp_fft_plan *p) { return p ? p->n : 0; }

void dsp_fft_r2c(dsp_fft_plan *p, const float *in, float complex *out)
{
    unsigned long long t = fft_clock_start();
    fftwf_execute_dft_r2c(p->fwd, (float *)in, (fftwf_complex *)out);
    fft_clock_stop(t);
}

void dsp_fft_c2r(dsp_fft_plan *p, const float complex *in, float *out)
{
    unsigned long long t = fft_clock_start();
    /* the plan destroys its input: it gets a copy */
    memcpy(p->scratch, in, sizeof(fftwf_complex) * (p->n / 2 + 1));
    fftwf_execute_dft_c2r(p->inv, p->scratch, out);
    fft_clock_stop(t);
}

void dsp_fft_c2c(dsp_fft_plan *p, const float complex *in, float complex *out, int sign)
{
    unsigned long long t = fft_clock_start();
    if (in == out) {
        memcpy(p->scratch, in, sizeof(fftwf_complex) * p->n);
        in = (const float complex *)p->scratch;
    }
    /* out of place: FFTW leaves `in` alone, the cast notwithstanding */
    fftwf_execute_dft(sign < 0 ? p->fwd : p->inv, (fftwf_complex *)in, (fftwf_complex *)out);
    fft_clock_stop(t);
}

/* dsp/fft_fftw.c — the FFTW (fftw3f) backend of dsp/fft.h.
 *
 * Plans are made with FFTW_ESTIMATE (deterministic, no timing runs) and FFTW_UNALIGNED so that
 * the new-array execute functions accept any caller buffer. FFTW's planner is not thread-safe:
 * plan creation and destruction hold a mutex; execution does not. A complex plan holds an
 * in-place and an out-of-place plan per direction, since FFTW plans are made for one or the
 * other. */
#include "fft_internal.h"

#include <fftw3.h>
#include <pthread.h>
#include <stdlib.h>

struct dsp_fft_plan {
    size_t n;
    enum dsp_fft_kind kind;
    fftwf_plan fwd, inv;       /* out of place */
    fftwf_plan fwd_ip, inv_ip; /* in place (complex only) */
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
    if (a && b) {
        if (kind == DSP_FFT_REAL) {
            p->fwd = fftwf_plan_dft_r2c_1d(len, (float *)a, b, flags);
            p->inv = fftwf_plan_dft_c2r_1d(len, b, (float *)a, flags | FFTW_PRESERVE_INPUT);
        } else {
            p->fwd = fftwf_plan_dft_1d(len, a, b, FFTW_FORWARD, flags);
            p->inv = fftwf_plan_dft_1d(len, a, b, FFTW_BACKWARD, flags);
            p->fwd_ip = fftwf_plan_dft_1d(len, a, a, FFTW_FORWARD, flags);
            p->inv_ip = fftwf_plan_dft_1d(len, a, a, FFTW_BACKWARD, flags);
        }
    }
    fftwf_free(a);
    fftwf_free(b);
    pthread_mutex_unlock(&planner_lock);
    if (!p->fwd || !p->inv || (kind == DSP_FFT_COMPLEX && (!p->fwd_ip || !p->inv_ip))) {
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
    fftwf_plan all[] = {p->fwd, p->inv, p->fwd_ip, p->inv_ip};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (all[i])
            fftwf_destroy_plan(all[i]);
    pthread_mutex_unlock(&planner_lock);
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
    /* planned with FFTW_PRESERVE_INPUT: the cast does not let FFTW write to `in` */
    fftwf_execute_dft_c2r(p->inv, (fftwf_complex *)in, out);
    fft_clock_stop(t);
}

void dsp_fft_c2c(dsp_fft_plan *p, const float complex *in, float complex *out, int sign)
{
    unsigned long long t = fft_clock_start();
    fftwf_plan pl = in == out ? (sign < 0 ? p->fwd_ip : p->inv_ip) : (sign < 0 ? p->fwd : p->inv);
    fftwf_execute_dft(pl, (fftwf_complex *)in, (fftwf_complex *)out);
    fft_clock_stop(t);
}

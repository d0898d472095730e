/* dsp/fft_kiss.c — the KissFFT (kissfft-float) backend of dsp/fft.h.
 *
 * KissFFT plans carry their twiddles; an in-place complex transform would make KissFFT
 * allocate a temporary buffer on every call, so the plan keeps its own scratch buffer and
 * in-place calls go through it. That scratch is why one plan serves one thread at a time. */
#include "fft_internal.h"

#include <kiss_fft.h>
#include <kiss_fftr.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(sizeof(kiss_fft_cpx) == sizeof(float complex), "kiss_fft_cpx layout");

struct dsp_fft_plan {
    size_t n;
    enum dsp_fft_kind kind;
    void *fwd, *inv;         /* kiss_fftr_cfg or kiss_fft_cfg */
    float complex *scratch;  /* complex plans: n values for in-place calls */
};

const char *dsp_fft_backend(void) { return "kiss"; }

dsp_fft_plan *dsp_fft_plan_new(size_t n, enum dsp_fft_kind kind)
{
    if (!fft_plan_args_ok(n, kind))
        return NULL;
    dsp_fft_plan *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->n = n;
    p->kind = kind;
    if (kind == DSP_FFT_REAL) {
        p->fwd = kiss_fftr_alloc((int)n, 0, NULL, NULL);
        p->inv = kiss_fftr_alloc((int)n, 1, NULL, NULL);
    } else {
        p->fwd = kiss_fft_alloc((int)n, 0, NULL, NULL);
        p->inv = kiss_fft_alloc((int)n, 1, NULL, NULL);
        p->scratch = malloc(n * sizeof *p->scratch);
        if (!p->scratch)
            goto fail;
    }
    if (!p->fwd || !p->inv)
        goto fail;
    return p;
fail:
    dsp_fft_plan_free(p);
    return NULL;
}

void dsp_fft_plan_free(dsp_fft_plan *p)
{
    if (!p)
        return;
    kiss_fft_free(p->fwd);
    kiss_fft_free(p->inv);
    free(p->scratch);
    free(p);
}

size_t dsp_fft_plan_len(const dsp_fft_plan *p) { return p ? p->n : 0; }

void dsp_fft_r2c(dsp_fft_plan *p, const float *in, float complex *out)
{
    unsigned long long t = fft_clock_start();
    kiss_fftr((kiss_fftr_cfg)p->fwd, in, (kiss_fft_cpx *)out);
    fft_clock_stop(t);
}

void dsp_fft_c2r(dsp_fft_plan *p, const float complex *in, float *out)
{
    unsigned long long t = fft_clock_start();
    kiss_fftri((kiss_fftr_cfg)p->inv, (const kiss_fft_cpx *)in, out);
    fft_clock_stop(t);
}

void dsp_fft_c2c(dsp_fft_plan *p, const float complex *in, float complex *out, int sign)
{
    unsigned long long t = fft_clock_start();
    if (in == out) {
        memcpy(p->scratch, in, p->n * sizeof *in);
        in = p->scratch;
    }
    kiss_fft((kiss_fft_cfg)(sign < 0 ? p->fwd : p->inv), (const kiss_fft_cpx *)in, (kiss_fft_cpx *)out);
    fft_clock_stop(t);
}

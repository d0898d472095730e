/* The hot path allocates nothing: dsp_analyze() on a made analyzer must not call malloc, calloc
 * or realloc. The test interposes the allocator (glibc's __libc_* functions do the work) and
 * counts calls while the analysis runs. Under AddressSanitizer, which owns the allocator, it is
 * skipped. */
#include "acquisition/sim.h"
#include "dsp/dsp.h"
#include "testlib.h"

#include <stdlib.h>

#if defined(__SANITIZE_ADDRESS__)
#define VW_INTERPOSE 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define VW_INTERPOSE 0
#endif
#endif
#ifndef VW_INTERPOSE
#define VW_INTERPOSE 1
#endif

static volatile int counting;
static volatile long allocations;

#if VW_INTERPOSE
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
void *malloc(size_t n)
{
    if (counting) allocations++;
    return __libc_malloc(n);
}
void *calloc(size_t n, size_t m)
{
    if (counting) allocations++;
    return __libc_calloc(n, m);
}
void *realloc(void *p, size_t n)
{
    if (counting) allocations++;
    return __libc_realloc(p, n);
}
#endif

static void test_analyze_allocates_nothing(void)
{
    if (!VW_INTERPOSE) {
        t_skip("the sanitizer owns the allocator");
        return;
    }
    const dsp_bearing *b = dsp_bearing_find("6205");
    T_CHECK(b != NULL, "6205 in the catalogue");
    if (!b)
        return;
    size_t n = 120000;
    float *x = malloc(n * sizeof *x);
    acq_sim_params p = {.fs_hz = 12000, .shaft_hz = 29.95, .x1_g = 0.05, .noise_rms_g = 0.3,
                        .fault = ACQ_SIM_OUTER, .defect_order = b->orders.bpfo, .impact_g = 1.5,
                        .resonance_hz = 3000, .damping = 0.05, .jitter = 0.01, .seed = 3};
    acq_sim_generate(&p, 0, x, n);
    char err[256];
    /* both speed paths: given, and estimated from the spectrum */
    for (int est = 0; est < 2; est++) {
        dsp_analyzer_config c = {.fs_hz = 12000, .nsamples = n, .shaft_hz = est ? 0 : 29.95,
                                 .has_bearing = true, .orders = b->orders};
        dsp_analyzer *a = dsp_analyzer_new(&c, err, sizeof err);
        T_CHECK(a != NULL, "analyzer: %s", err);
        if (!a)
            continue;
        dsp_result r;
        dsp_analyze(a, x, &r); /* first call outside the count: nothing lazy should remain */
        allocations = 0;
        counting = 1;
        for (int i = 0; i < 3; i++)
            dsp_analyze(a, x, &r);
        counting = 0;
        T_CHECK(allocations == 0, "%s speed: dsp_analyze allocated %ld times in 3 runs", est ? "estimated" : "given",
                allocations);
        T_CHECK(r.diagnosis == DSP_DIAG_OUTER, "sanity: the simulated outer-race fault reads %s",
                dsp_diagnosis_name(r.diagnosis));
        dsp_analyzer_free(a);
    }
    free(x);
}

int main(void)
{
    T_RUN(test_analyze_allocates_nothing);
    return t_done();
}

/* dsp/fft_internal.h — private to the two FFT backend files and fft_common.c. */
#ifndef VW_DSP_FFT_INTERNAL_H
#define VW_DSP_FFT_INTERNAL_H
#include "fft.h"

/* A length and kind both backends accept: 2 ≤ n ≤ 2^28, even for real transforms. */
int fft_plan_args_ok(size_t n, enum dsp_fft_kind kind);
unsigned long long fft_clock_start(void);
void fft_clock_stop(unsigned long long t0);

#endif

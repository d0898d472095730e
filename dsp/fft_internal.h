/* dsp/fft_internal.h — private to the two FFT backend files and fft_common.c. */
#ifndef VW_DSP_FFT_INTERNAL_H
#define VW_DSP_FFT_INTERNAL_H
#include "fft.h"

unsigned long long fft_clock_start(void);
void fft_clock_stop(unsigned long long t0);

#endif

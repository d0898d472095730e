/* dsp/fft_common.c — what both FFT backends share: fast sizes and the optional time counter
 * that `make bench` reads. The counter is per thread, so concurrent analyses do not race. */
#include "fft_internal.h"

#include <stdint.h>
#include <time.h>

static int timing_on;
static _Thread_local unsigned long long fft_ns;

/* 2^a·3^b·5^c: sizes both backends transform fast */
static int is_smooth(size_t m)
{
    while (m % 2 == 0) m /= 2;
    while (m % 3 == 0) m /= 3;
    while (m % 5 == 0) m /= 5;
    return m == 1;
}

size_t dsp_fft_good_size(size_t n)
{
    if (n < 2)
        return 2;
    for (size_t m = n; m <= SIZE_MAX / 2; m++)
        if (is_smooth(m))
            return m;
    return 0;
}

size_t dsp_fft_good_size_even(size_t n)
{
    size_t m = dsp_fft_good_size(n);
    while (m && (m & 1))
        m = dsp_fft_good_size(m + 1);
    return m;
}

size_t dsp_fft_good_size_below_even(size_t n)
{
    for (size_t m = n & ~(size_t)1; m >= 2; m -= 2)
        if (is_smooth(m))
            return m;
    return 0;
}

int fft_plan_args_ok(size_t n, enum dsp_fft_kind kind)
{
    if (kind != DSP_FFT_REAL && kind != DSP_FFT_COMPLEX)
        return 0;
    return n >= 2 && n <= (size_t)1 << 28 && !(kind == DSP_FFT_REAL && (n & 1));
}

void dsp_fft_timing(int on) { timing_on = on; }
unsigned long long dsp_fft_time_ns(void) { return fft_ns; }

unsigned long long fft_clock_start(void)
{
    if (!timing_on)
        return 0;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec;
}

void fft_clock_stop(unsigned long long t0)
{
    if (!timing_on || !t0)
        return;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    fft_ns += (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec - t0;
}

/* dsp/window.c — periodic (DFT-even) windows. Hann for spectra whose power matters (PSD, band
 * RMS); flat-top (the five-term window of MATLAB's flattopwin, < 0.02 dB scalloping) where a
 * line's amplitude must read right whatever bin it falls between. */
#include "dsp.h"

#include <math.h>

void dsp_window_fill(enum dsp_window w, float *out, size_t n)
{
    static const double ft[5] = {0.21557895, 0.41663158, 0.277263158, 0.083578947, 0.006947368};
    for (size_t i = 0; i < n; i++) {
        double ph = 2.0 * M_PI * (double)i / (double)n;
        double v = 1.0;
        switch (w) {
        case DSP_WIN_HANN:
            v = 0.5 - 0.5 * cos(ph);
            break;
        case DSP_WIN_FLATTOP:
            v = ft[0] - ft[1] * cos(ph) + ft[2] * cos(2 * ph) - ft[3] * cos(3 * ph) + ft[4] * cos(4 * ph);
            break;
        case DSP_WIN_RECT:
            break;
        }
        out[i] = (float)v;
    }
}

/* store/history_codec.c — the compact formats of the history (see history.h): spectra as 16-bit
 * log magnitudes relative to their peak, waveforms as int16 with a scale, features as a compact
 * JSON object. Pure functions: no I/O, no allocation, callers own every buffer. Bytes are written
 * little-endian one by one, so a database moved between the box (ARM) and a PC reads the same. */
#include "store/history.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SPEC_TOP_CODE 65535u

static void put_u16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v & 0xff);
    p[1] = (uint8_t)(v >> 8);
}

static unsigned get_u16(const uint8_t *p) { return (unsigned)p[0] | (unsigned)p[1] << 8; }

double store_history_spectrum_encode(const float *x, size_t n, uint8_t *out)
{
    double peak = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(x[i]) && x[i] > peak)
            peak = x[i];
    if (peak <= 0) {
        memset(out, 0, 2 * n);
        return 0;
    }
    double top_db = 20 * log10(peak);
    for (size_t i = 0; i < n; i++) {
        unsigned code = 0;
        if (isfinite(x[i]) && x[i] > 0) {
            double below = (top_db - 20 * log10((double)x[i])) / STORE_SPECTRUM_STEP_DB;
            double q = below < SPEC_TOP_CODE - 1 ? nearbyint(below) : SPEC_TOP_CODE - 1;
            code = SPEC_TOP_CODE - (unsigned)(q > 0 ? q : 0);
        }
        put_u16(out + 2 * i, code);
    }
    return top_db;
}

void store_history_spectrum_decode(const uint8_t *in, size_t n, double top_db, float *out)
{
    /* 10^(dB/20) = e^(dB·ln10/20) */
    const double k = log(10.0) / 20;
    for (size_t i = 0; i < n; i++) {
        unsigned code = get_u16(in + 2 * i);
        out[i] = code ? (float)exp((top_db - (double)(SPEC_TOP_CODE - code) * STORE_SPECTRUM_STEP_DB) * k) : 0.0f;
    }
}

double store_history_waveform_encode(const float *x, size_t n, uint8_t *out)
{
    double peak = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(x[i]) && fabs(x[i]) > peak)
            peak = fabs(x[i]);
    double scale = peak / 32767;
    for (size_t i = 0; i < n; i++) {
        long q = 0;
        if (scale > 0 && isfinite(x[i])) {
            q = lrint(x[i] / scale);
            q = q > 32767 ? 32767 : q < -32767 ? -32767 : q;
        }
        put_u16(out + 2 * i, (unsigned)(uint16_t)(int16_t)q);
    }
    return scale;
}

void store_history_waveform_decode(const uint8_t *in, size_t n, double scale, float *out)
{
    for (size_t i = 0; i < n; i++)
        out[i] = (float)((int16_t)(uint16_t)get_u16(in + 2 * i) * scale);
}

/* ---- features as JSON ------------------------------------------------------------------------ */

#define NUM_MAX 32 /* "-1.2345678901234567e-308" is 24 */

size_t store_history_features_json_bound(size_t n, const char *const *names)
{
    size_t len = 3; /* {}, NUL */
    for (size_t i = 0; i < n; i++)
        len += 6 * strlen(names[i]) + 4 + NUM_MAX; /* "name": worst case \u00XX per byte, comma */
    return len;
}

/* The shortest %.Ng (N = 15…17) that reads back as v: 0.1 stays "0.1", not 0.10000000000000001. */
static int format_number(double v, char *buf, size_t len)
{
    int k = 0;
    for (int prec = 15; prec <= 17; prec++) {
        k = snprintf(buf, len, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    return k;
}

long store_history_features_json(size_t n, const char *const *names, const double *values, char *out,
                                 size_t outlen)
{
    size_t o = 0;
#define PUT(c) do { if (o + 1 >= outlen) return -ENOSPC; out[o++] = (char)(c); } while (0)
    PUT('{');
    int first = 1;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(values[i]))
            continue;
        if (!first)
            PUT(',');
        first = 0;
        PUT('"');
        for (const unsigned char *p = (const unsigned char *)names[i]; *p; p++) {
            if (*p == '"' || *p == '\\') {
                PUT('\\');
                PUT(*p);
            } else if (*p < 0x20) {
                char esc[8];
                snprintf(esc, sizeof esc, "\\u%04x", *p);
                for (const char *e = esc; *e; e++)
                    PUT(*e);
            } else {
                PUT(*p);
            }
        }
        PUT('"');
        PUT(':');
        char num[NUM_MAX];
        format_number(values[i], num, sizeof num);
        for (const char *e = num; *e; e++)
            PUT(*e);
    }
    PUT('}');
#undef PUT
    out[o] = 0;
    return (long)o;
}

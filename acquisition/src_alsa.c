/* acquisition/src_alsa.c — the `alsa:` scheme: accelerometers wired to an audio interface's
 * inputs, captured through ALSA. Every ALSA call of vibewatch lives in this file.
 *
 *   alsa:<pcm>?rate=HZ&channels=N&sensitivity_mv_per_g=S&full_scale_v=V
 *             [&format=S32_LE|S24_LE|S24_3LE|S16_LE|FLOAT_LE][&frame=SAMPLES]
 *
 * <pcm> is any ALSA PCM name ("hw:1,0", "plughw:CARD=Device", "default", a PCM of the user's
 * asound.conf), opened with the ordinary snd_pcm_open, so everything alsa-lib can open works.
 * frame= caps the samples per channel of each frame (the caller's frame capacity always does).
 *
 * Calibration is never guessed. An audio input has no notion of g: the interface turns volts into
 * counts (full_scale_v: the input voltage at digital full scale, from the interface's data sheet
 * or a calibrator) and the sensor turns g into volts (sensitivity_mv_per_g, from its calibration
 * sheet). A wrong default would put plausible but wrong numbers into spectra, ISO zones and
 * trends, so both keys are required, like rate and channels; the open error lists what is
 * missing. (For raw fractions of full scale, give sensitivity_mv_per_g=1000&full_scale_v=1.)
 * A sample is then counts / 2^(bits-1) · full_scale_v / (sensitivity_mv_per_g / 1000) in g.
 * Audio inputs block DC, so channels are reported AC-coupled (no IEPE bias to check).
 *
 * Format: the one asked for, or the best the PCM offers of S32_LE, S24_LE (24 bits in 4 bytes),
 * S24_3LE (packed, as most USB interfaces deliver), S16_LE, FLOAT_LE. Rate: set_rate_near, and
 * more than 0.5 % off what was asked is an error naming both (use plughw: to resample). Period
 * ≈ 25 ms, buffer ≈ 16 periods (0.4 s of slack for a busy 2-core box; latency does not matter
 * here because time comes from the clock and the delay, not from when we read).
 *
 * Time: the PCM is started at the first read; the data time of the next sample is the wall clock
 * minus what snd_pcm_delay() says is still waiting, and from there it advances by sample count.
 * An xrun (-EPIPE) or a suspend (-ESTRPIPE) is recovered (resume, else drop + prepare + start),
 * counted as an overrun, and the next frame carries ACQ_FRAME_OVERRUN|ACQ_FRAME_GAP with the
 * samples lost estimated from the clock (where the stream restarted minus where the sample count
 * says it should be). A stream silent for longer than max(2 s, 4 buffers) is reported as stalled
 * (-ETIMEDOUT) and, when data comes back, re-anchored the same way (a GAP when time was lost).
 * The count is not re-anchored otherwise: a sound card's crystal drifts from the wall clock by
 * its ppm tolerance, and a smooth, contiguous data time is worth more than tracking that drift.
 *
 * End: a PCM that stops delivering or disappears (-ENODEV: a USB interface unplugged) ends the
 * source with a clear error that every later read repeats at once; samples already read are
 * delivered first. How a PCM "stops" depends on alsa-lib: a `type file` PCM whose `infile` runs
 * out made snd_pcm_readi() return 0 in older releases, but in the 1.2 series (Debian 12 has
 * 1.2.8) it returns the full count and leaves the caller's buffer as it was, so it would replay
 * our last chunk forever. So before each read the buffer is filled with a pseudo-random pattern,
 * and frames that still hold it after the read were never written: when they make up at least
 * ALSA_UNTOUCHED_MIN_BYTES (128 bits, which real samples match with probability 2^-128), the
 * stream has ended and they are not delivered. (A file PCM whose slave is a converter that
 * writes the buffer itself still cannot be told from a live one; no ALSA call reveals its end.)
 *
 * Threads and blocking: one reader thread; the PCM is opened non-blocking and acq_read() waits
 * with snd_pcm_wait() and a timeout, so it never blocks forever. alsa-lib's own messages are
 * caught with a thread-local handler during our calls and appended to our errors instead of
 * going to stderr; the process-wide handler is left alone. Memory: a raw buffer of at most
 * ALSA_CHUNK_MAX frames and its pattern, allocated at open; reads allocate nothing.
 */
#include "source.h"

#include <alsa/asoundlib.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ALSA_PERIOD_S 0.025           /* period asked for */
#define ALSA_BUFFER_PERIODS 16        /* buffer asked for, in periods */
#define ALSA_CHUNK_MAX 16384u         /* most frames one snd_pcm_readi() call reads */
#define ALSA_STALL_MS_MIN 2000        /* no data for this long (or 4 buffers) is a stall */
#define ALSA_RATE_TOLERANCE 0.005     /* granted rate may differ from the asked one by this */
#define ALSA_FRAME_MAX (1u << 22)     /* largest frame= accepted, samples per channel */
#define ALSA_RECOVERIES_PER_READ 8    /* xruns in a row within one acq_read() before giving up */
#define ALSA_NAME_MAX 256             /* longest PCM name kept, bytes with the NUL */
#define ALSA_UNTOUCHED_MIN_BYTES 16   /* untouched pattern bytes that prove frames were not written */

typedef struct alsa_format {
    const char *name;
    snd_pcm_format_t fmt;
    unsigned bytes;    /* per sample */
    double counts_fs;  /* value of digital full scale: 2^(bits-1), or 1 for float */
} alsa_format;

/* In order of preference when the URI does not name one. */
static const alsa_format alsa_formats[] = {
    {"S32_LE", SND_PCM_FORMAT_S32_LE, 4, 2147483648.0},
    {"S24_LE", SND_PCM_FORMAT_S24_LE, 4, 8388608.0},
    {"S24_3LE", SND_PCM_FORMAT_S24_3LE, 3, 8388608.0},
    {"S16_LE", SND_PCM_FORMAT_S16_LE, 2, 32768.0},
    {"FLOAT_LE", SND_PCM_FORMAT_FLOAT_LE, 4, 1.0},
};
#define ALSA_NFORMATS (sizeof alsa_formats / sizeof alsa_formats[0])

typedef struct alsa_src {
    acq_source *src;
    snd_pcm_t *pcm;
    char name[ALSA_NAME_MAX];   /* the PCM name as given */
    const alsa_format *format;
    unsigned nchan;
    double rate_hz;             /* granted */
    double g_per_count;         /* full_scale_v / sensitivity / counts_fs */
    size_t frame_samples;       /* frame=, 0: the caller's capacity */
    snd_pcm_uframes_t period, buffer, chunk; /* frames */
    unsigned char *raw;         /* chunk frames of raw interleaved samples */
    unsigned char *pattern;     /* what raw holds before each read (see "End" above) */
    size_t frame_bytes;
    int stall_ms;

    /* data time: the sample number pos (per channel, lost samples included) is at
       anchor_ns + pos / rate_hz */
    bool anchored;
    bool need_anchor;           /* (re)start and take the clock before the next sample */
    bool overrun_pending;       /* an xrun or suspend happened since the last frame */
    bool gap_pending;           /* the next frame starts after a discontinuity */
    uint64_t gap_lost;          /* its estimated size, samples per channel */
    int64_t anchor_ns;
    uint64_t pos;

    int end_rc;                 /* sticky: the stream ended or the device went away */
    char end_msg[320];
} alsa_src;

/* ---- alsa-lib's messages -------------------------------------------------------------------- */

static _Thread_local char alsa_lib_msg[200];

__attribute__((format(printf, 5, 0)))
static void alsa_catch_message(const char *file, int line, const char *func, int errcode, const char *fmt, va_list ap)
{
    (void)file; (void)line; (void)func; (void)errcode;
    if (!alsa_lib_msg[0]) /* the first message names the cause; later ones only add context */
        vsnprintf(alsa_lib_msg, sizeof alsa_lib_msg, fmt, ap);
}

/* Catches alsa-lib's messages on this thread until alsa_catch_end(). */
static snd_local_error_handler_t alsa_catch_begin(void)
{
    alsa_lib_msg[0] = 0;
    return snd_lib_error_set_local(alsa_catch_message);
}

static void alsa_catch_end(snd_local_error_handler_t previous) { snd_lib_error_set_local(previous); }

/* " (alsa-lib: …)" when alsa-lib said something, else "". */
static const char *alsa_lib_detail(char *buf, size_t len)
{
    if (!alsa_lib_msg[0])
        return "";
    size_t n = strlen(alsa_lib_msg);
    while (n > 0 && (alsa_lib_msg[n - 1] == '\n' || alsa_lib_msg[n - 1] == ' '))
        alsa_lib_msg[--n] = 0;
    snprintf(buf, len, " (alsa-lib: %s)", alsa_lib_msg);
    return buf;
}

/* ---- conversion ----------------------------------------------------------------------------- */

static int32_t alsa_sample_counts(const alsa_format *fm, const unsigned char *p)
{
    switch (fm->fmt) {
    case SND_PCM_FORMAT_S16_LE:
        return (int16_t)(uint16_t)((unsigned)p[0] | (unsigned)p[1] << 8);
    case SND_PCM_FORMAT_S24_LE: /* 24 bits in the low three bytes; the top byte is padding */
    case SND_PCM_FORMAT_S24_3LE: {
        uint32_t u = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;
        return (int32_t)(u ^ 0x800000u) - 0x800000;
    }
    default: /* S32_LE */
        return (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
    }
}

static void alsa_convert(const alsa_src *st, const unsigned char *raw, size_t frames, float *out)
{
    const alsa_format *fm = st->format;
    size_t n = frames * st->nchan;
    if (fm->fmt == SND_PCM_FORMAT_FLOAT_LE) {
        for (size_t i = 0; i < n; i++, raw += 4) {
            uint32_t u = (uint32_t)raw[0] | (uint32_t)raw[1] << 8 | (uint32_t)raw[2] << 16 | (uint32_t)raw[3] << 24;
            float v;
            memcpy(&v, &u, sizeof v);
            out[i] = (float)(v * st->g_per_count);
        }
        return;
    }
    for (size_t i = 0; i < n; i++, raw += fm->bytes)
        out[i] = (float)(alsa_sample_counts(fm, raw) * st->g_per_count);
}

/* ---- frames a PCM returned without writing them -------------------------------------------- */

static void alsa_fill_pattern(alsa_src *st)
{
    uint64_t x = 0x9E3779B97F4A7C15ull; /* xorshift64: any fixed, irregular sequence will do */
    size_t n = st->chunk * st->frame_bytes;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        st->pattern[i] = (unsigned char)(x >> 32);
    }
    /* should a few pattern frames ever pass as samples (fewer than ALSA_UNTOUCHED_MIN_BYTES),
       keep float ones small and finite: sign and exponent byte 0x3A gives |x| < 1e-3 */
    if (st->format->fmt == SND_PCM_FORMAT_FLOAT_LE)
        for (size_t i = 3; i < n; i += 4)
            st->pattern[i] = 0x3A;
}

/* Frames at the end of the k just read that still hold the pattern, when they are enough to be
 * sure (else 0). */
static size_t alsa_untouched_tail(const alsa_src *st, size_t k)
{
    size_t fb = st->frame_bytes, u = 0;
    while (u < k && memcmp(st->raw + (k - 1 - u) * fb, st->pattern + (k - 1 - u) * fb, fb) == 0)
        u++;
    return u * fb >= ALSA_UNTOUCHED_MIN_BYTES ? u : 0;
}

/* ---- opening -------------------------------------------------------------------------------- */

typedef struct alsa_request {
    double rate_hz, sens_mv_per_g, full_scale_v, frame;
    unsigned nchan;
    const alsa_format *format; /* NULL: negotiate */
} alsa_request;

static int alsa_parse_query(acq_query *q, alsa_request *r, char *err, size_t errlen)
{
    double nchan = 0;
    int have_rate, have_chan, have_sens, have_fs, have_frame;
    if ((have_rate = acq_query_double(q, "rate", 1, 1e7, &r->rate_hz, err, errlen)) < 0 ||
        (have_chan = acq_query_double(q, "channels", 1, ACQ_MAX_CHANNELS, &nchan, err, errlen)) < 0 ||
        (have_sens = acq_query_double(q, "sensitivity_mv_per_g", 1e-3, 1e5, &r->sens_mv_per_g, err, errlen)) < 0 ||
        (have_fs = acq_query_double(q, "full_scale_v", 1e-4, 1e3, &r->full_scale_v, err, errlen)) < 0 ||
        (have_frame = acq_query_double(q, "frame", 1, ALSA_FRAME_MAX, &r->frame, err, errlen)) < 0)
        return -EINVAL;
    if (have_chan && nchan != floor(nchan)) {
        snprintf(err, errlen, "channels=%g: expected a whole number from 1 to %d", nchan, ACQ_MAX_CHANNELS);
        return -EINVAL;
    }
    if (have_frame && r->frame != floor(r->frame)) {
        snprintf(err, errlen, "frame=%g: expected a whole number of samples from 1 to %u", r->frame, ALSA_FRAME_MAX);
        return -EINVAL;
    }
    r->nchan = (unsigned)nchan;
    if (!have_frame)
        r->frame = 0;
    if (!have_rate || !have_chan || !have_sens || !have_fs) {
        const char *missing[4];
        int n = 0;
        if (!have_rate) missing[n++] = "rate";
        if (!have_chan) missing[n++] = "channels";
        if (!have_sens) missing[n++] = "sensitivity_mv_per_g";
        if (!have_fs) missing[n++] = "full_scale_v";
        char list[96] = "";
        for (int i = 0; i < n; i++)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i == 0 ? "" : i == n - 1 ? " and " : ", ",
                     missing[i]);
        snprintf(err, errlen, "missing %s (an alsa: source needs rate=HZ, channels=N, sensitivity_mv_per_g=S from "
                 "the sensor's calibration sheet and full_scale_v=V, the input voltage at digital full scale)", list);
        return -EINVAL;
    }
    r->format = NULL;
    const char *fs = acq_query_get(q, "format");
    if (fs) {
        for (size_t i = 0; i < ALSA_NFORMATS; i++)
            if (strcmp(fs, alsa_formats[i].name) == 0)
                r->format = &alsa_formats[i];
        if (!r->format) {
            snprintf(err, errlen, "format=%s: expected S32_LE, S24_LE, S24_3LE, S16_LE or FLOAT_LE", fs);
            return -EINVAL;
        }
    }
    return 0;
}

/* The formats of ours that params still allows, as "S16_LE, FLOAT_LE" (or "none of ours"). */
static void alsa_offered_formats(snd_pcm_t *pcm, snd_pcm_hw_params_t *hw, char *out, size_t len)
{
    size_t k = 0;
    out[0] = 0;
    for (size_t i = 0; i < ALSA_NFORMATS; i++)
        if (snd_pcm_hw_params_test_format(pcm, hw, alsa_formats[i].fmt) == 0) {
            int w = snprintf(out + k, len - k, "%s%s", k ? ", " : "", alsa_formats[i].name);
            if (w < 0 || (size_t)w >= len - k)
                break;
            k += (size_t)w;
        }
    if (!out[0])
        snprintf(out, len, "none of S32_LE, S24_LE, S24_3LE, S16_LE, FLOAT_LE");
}

/* Sets up hw and sw params; fills st->format, rate, period, buffer. */
static int alsa_configure(alsa_src *st, const alsa_request *r, char *err, size_t errlen)
{
    snd_pcm_t *pcm = st->pcm;
    snd_pcm_hw_params_t *hw = NULL;
    snd_pcm_sw_params_t *sw = NULL;
    char detail[240], offered[96];
    int rc = snd_pcm_hw_params_malloc(&hw);
    if (rc == 0)
        rc = snd_pcm_sw_params_malloc(&sw);
    if (rc < 0) {
        snprintf(err, errlen, "PCM \"%s\": out of memory for its parameters", st->name);
        goto out;
    }
    if ((rc = snd_pcm_hw_params_any(pcm, hw)) < 0) {
        snprintf(err, errlen, "PCM \"%s\": cannot read its capabilities: %s%s", st->name, snd_strerror(rc),
                 alsa_lib_detail(detail, sizeof detail));
        goto out;
    }
    if ((rc = snd_pcm_hw_params_set_access(pcm, hw, SND_PCM_ACCESS_RW_INTERLEAVED)) < 0) {
        snprintf(err, errlen, "PCM \"%s\" does not offer interleaved read access (try plughw:)", st->name);
        goto out;
    }

    const alsa_format *fm = r->format;
    if (!fm)
        for (size_t i = 0; i < ALSA_NFORMATS && !fm; i++)
            if (snd_pcm_hw_params_test_format(pcm, hw, alsa_formats[i].fmt) == 0)
                fm = &alsa_formats[i];
    if (!fm || (rc = snd_pcm_hw_params_set_format(pcm, hw, fm->fmt)) < 0) {
        alsa_offered_formats(pcm, hw, offered, sizeof offered);
        if (fm)
            snprintf(err, errlen, "PCM \"%s\" does not capture %s (it offers %s)", st->name, fm->name, offered);
        else
            snprintf(err, errlen, "PCM \"%s\" offers %s (try plughw:, which converts)", st->name, offered);
        rc = -EINVAL;
        goto out;
    }
    st->format = fm;

    if ((rc = snd_pcm_hw_params_set_channels(pcm, hw, r->nchan)) < 0) {
        unsigned lo = 0, hi = 0;
        snd_pcm_hw_params_get_channels_min(hw, &lo);
        snd_pcm_hw_params_get_channels_max(hw, &hi);
        snprintf(err, errlen, "PCM \"%s\" captures %u to %u channels in %s, not %u", st->name, lo, hi, fm->name,
                 r->nchan);
        goto out;
    }

    unsigned rate = (unsigned)lround(r->rate_hz);
    int dir = 0;
    if ((rc = snd_pcm_hw_params_set_rate_near(pcm, hw, &rate, &dir)) < 0) {
        snprintf(err, errlen, "PCM \"%s\": no sample rate near %g Hz: %s", st->name, r->rate_hz, snd_strerror(rc));
        goto out;
    }
    if (fabs(rate - r->rate_hz) > ALSA_RATE_TOLERANCE * r->rate_hz) {
        snprintf(err, errlen, "PCM \"%s\" runs at %u Hz, not the %g Hz asked for (more than %g %% off; ask for "
                 "rate=%u, or use plughw: to resample)", st->name, rate, r->rate_hz, ALSA_RATE_TOLERANCE * 100, rate);
        rc = -EINVAL;
        goto out;
    }

    snd_pcm_uframes_t period = (snd_pcm_uframes_t)lround(rate * ALSA_PERIOD_S);
    if (period < 16)
        period = 16;
    dir = 0;
    if ((rc = snd_pcm_hw_params_set_period_size_near(pcm, hw, &period, &dir)) < 0) {
        snprintf(err, errlen, "PCM \"%s\": no period near %lu frames: %s", st->name, (unsigned long)period,
                 snd_strerror(rc));
        goto out;
    }
    snd_pcm_uframes_t buffer = period * ALSA_BUFFER_PERIODS;
    if ((rc = snd_pcm_hw_params_set_buffer_size_near(pcm, hw, &buffer)) < 0) {
        snprintf(err, errlen, "PCM \"%s\": no buffer near %lu frames: %s", st->name, (unsigned long)buffer,
                 snd_strerror(rc));
        goto out;
    }
    if ((rc = snd_pcm_hw_params(pcm, hw)) < 0) {
        snprintf(err, errlen, "PCM \"%s\": cannot set %s, %u channels, %u Hz: %s%s", st->name, fm->name, r->nchan, rate,
                 snd_strerror(rc), alsa_lib_detail(detail, sizeof detail));
        goto out;
    }

    /* what was granted */
    unsigned num = 0, den = 0;
    if (snd_pcm_hw_params_get_rate_numden(hw, &num, &den) == 0 && num > 0 && den > 0)
        st->rate_hz = (double)num / den;
    else
        st->rate_hz = rate;
    dir = 0;
    if (snd_pcm_hw_params_get_period_size(hw, &st->period, &dir) < 0 || st->period == 0)
        st->period = period;
    if (snd_pcm_hw_params_get_buffer_size(hw, &st->buffer) < 0 || st->buffer == 0)
        st->buffer = buffer;

    if ((rc = snd_pcm_sw_params_current(pcm, sw)) < 0 ||
        (rc = snd_pcm_sw_params_set_start_threshold(pcm, sw, 1)) < 0 ||
        (rc = snd_pcm_sw_params_set_avail_min(pcm, sw, st->period)) < 0 ||
        (rc = snd_pcm_sw_params_set_stop_threshold(pcm, sw, st->buffer)) < 0 ||
        (rc = snd_pcm_sw_params(pcm, sw)) < 0) {
        snprintf(err, errlen, "PCM \"%s\": cannot set its software parameters: %s%s", st->name, snd_strerror(rc),
                 alsa_lib_detail(detail, sizeof detail));
        goto out;
    }
    rc = 0;
out:
    snd_pcm_sw_params_free(sw);
    snd_pcm_hw_params_free(hw);
    return rc;
}

static void alsa_close(acq_source *s);

static int alsa_open(acq_source *s, const char *target, acq_query *q, acq_info *info, char *err, size_t errlen)
{
    alsa_request r;
    int rc = alsa_parse_query(q, &r, err, errlen);
    if (rc < 0)
        return rc;
    if (!*target) {
        snprintf(err, errlen, "no PCM name after \"alsa:\" (e.g. alsa:hw:1,0?…; `arecord -L` lists them)");
        return -EINVAL;
    }
    if (strlen(target) >= ALSA_NAME_MAX) {
        snprintf(err, errlen, "PCM name longer than %d bytes", ALSA_NAME_MAX - 1);
        return -EINVAL;
    }
    alsa_src *st = calloc(1, sizeof *st);
    if (!st) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    st->src = s;
    snprintf(st->name, sizeof st->name, "%s", target);
    acq_source_set_priv(s, st); /* from here on, acq_open calls alsa_close on failure */

    char detail[240];
    snd_local_error_handler_t prev = alsa_catch_begin();
    rc = snd_pcm_open(&st->pcm, target, SND_PCM_STREAM_CAPTURE, SND_PCM_NONBLOCK);
    if (rc < 0) {
        st->pcm = NULL;
        const char *hint = rc == -ENOENT ? "; `arecord -L` lists the PCMs"
                           : rc == -EBUSY ? "; another program is capturing from it" : "";
        snprintf(err, errlen, "cannot open PCM \"%s\" for capture: %s%s%s", target, snd_strerror(rc),
                 alsa_lib_detail(detail, sizeof detail), hint);
        alsa_catch_end(prev);
        return rc;
    }
    rc = alsa_configure(st, &r, err, errlen);
    alsa_catch_end(prev);
    if (rc < 0)
        return rc;

    st->nchan = r.nchan;
    st->frame_samples = (size_t)r.frame;
    st->g_per_count = r.full_scale_v / (r.sens_mv_per_g / 1000.0) / st->format->counts_fs;
    st->chunk = st->period < 256 ? 256 : st->period;
    if (st->chunk > ALSA_CHUNK_MAX)
        st->chunk = ALSA_CHUNK_MAX;
    if (st->chunk > st->buffer)
        st->chunk = st->buffer;
    /* at most ALSA_CHUNK_MAX · ACQ_MAX_CHANNELS · 4 bytes = 4 MiB each: no overflow possible */
    st->frame_bytes = (size_t)st->nchan * st->format->bytes;
    st->raw = malloc(st->chunk * st->frame_bytes);
    st->pattern = malloc(st->chunk * st->frame_bytes);
    if (!st->raw || !st->pattern) {
        snprintf(err, errlen, "out of memory for a %lu-frame buffer", (unsigned long)st->chunk);
        return -ENOMEM;
    }
    alsa_fill_pattern(st);
    double buffer_ms = st->buffer * 1000.0 / st->rate_hz;
    st->stall_ms = 4 * buffer_ms > ALSA_STALL_MS_MIN ? (int)fmin(4 * buffer_ms, 600000) : ALSA_STALL_MS_MIN;
    st->need_anchor = true;

    info->nchan = st->nchan;
    info->rate_hz = st->rate_hz;
    info->rate_requested_hz = r.rate_hz;
    info->has_temp = false;
    info->finite = false;
    info->dc_coupled = false;
    double full_scale_g = r.full_scale_v / (r.sens_mv_per_g / 1000.0);
    for (unsigned c = 0; c < st->nchan; c++) {
        snprintf(info->ch[c].name, sizeof info->ch[c].name, "ch%u", c);
        snprintf(info->ch[c].unit, sizeof info->ch[c].unit, "g");
        info->ch[c].full_scale = full_scale_g;
        info->ch[c].volts_per_unit = r.sens_mv_per_g / 1000.0;
    }
    char desc[sizeof info->desc + 256];
    snprintf(desc, sizeof desc, "ALSA %s: %u ch %s at %g Hz, %g mV/g, %g V = %g g FS, period %lu buffer %lu frames",
             st->name, st->nchan, st->format->name, st->rate_hz, r.sens_mv_per_g, r.full_scale_v, full_scale_g,
             (unsigned long)st->period, (unsigned long)st->buffer);
    memcpy(info->desc, desc, sizeof info->desc - 1);
    info->desc[sizeof info->desc - 1] = 0;
    return 0;
}

static void alsa_close(acq_source *s)
{
    alsa_src *st = acq_source_priv(s);
    if (!st)
        return;
    if (st->pcm) {
        snd_local_error_handler_t prev = alsa_catch_begin();
        snd_pcm_drop(st->pcm);
        snd_pcm_close(st->pcm);
        alsa_catch_end(prev);
    }
    free(st->raw);
    free(st->pattern);
    free(st);
    acq_source_set_priv(s, NULL);
}

/* ---- reading -------------------------------------------------------------------------------- */

static int64_t alsa_pos_ns(const alsa_src *st, uint64_t pos)
{
    return st->anchor_ns + (int64_t)llround((double)pos * 1e9 / st->rate_hz);
}

/* Ends the source: this and every later read return rc with this message. */
__attribute__((format(printf, 3, 4)))
static int alsa_end(alsa_src *st, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(st->end_msg, sizeof st->end_msg, fmt, ap);
    va_end(ap);
    st->end_rc = rc;
    return rc;
}

/* Handles a negative return of an ALSA call in the read path. 0: recovered (an xrun or suspend,
 * counted; the next frame starts after a gap); -EAGAIN: nothing happened, try again; else the
 * error to return, with err filled (and the source ended when it cannot go on). */
static int alsa_recover(alsa_src *st, int code, const char *what, char *err, size_t errlen)
{
    char detail[240];
    if (code == -EAGAIN)
        return -EAGAIN;
    if (code == -EINTR) {
        snprintf(err, errlen, "PCM \"%s\": %s interrupted by a signal", st->name, what);
        return -EINTR;
    }
    if (code == -ENODEV) {
        acq_stats_add_disconnect(st->src);
        alsa_end(st, -ENODEV, "PCM \"%s\" is gone (%s: %s%s); the device was unplugged or its driver removed",
                 st->name, what, snd_strerror(code), alsa_lib_detail(detail, sizeof detail));
        snprintf(err, errlen, "%s", st->end_msg);
        return st->end_rc;
    }
    int rc = -1;
    if (code == -ESTRPIPE) { /* suspended: resume where the hardware can, else restart */
        for (int tries = 0; tries < 30 && (rc = snd_pcm_resume(st->pcm)) == -EAGAIN; tries++)
            nanosleep(&(struct timespec){.tv_nsec = 100000000}, NULL);
    }
    if (rc < 0) {
        /* -EPIPE (xrun), a failed resume, or an unexpected error: restart the stream */
        snd_pcm_drop(st->pcm);
        rc = snd_pcm_prepare(st->pcm);
        if (rc < 0) {
            if (rc == -ENODEV)
                return alsa_recover(st, rc, "prepare after an error", err, errlen);
            snprintf(err, errlen, "PCM \"%s\": %s failed (%s) and the stream cannot be restarted: %s%s", st->name,
                     what, snd_strerror(code), snd_strerror(rc), alsa_lib_detail(detail, sizeof detail));
            st->need_anchor = true;
            return rc;
        }
    }
    acq_stats_add_overrun(st->src);
    st->overrun_pending = true;
    st->need_anchor = true;
    return 0;
}

/* Starts the stream if it is not running, waits for its first samples and takes the clock: the
 * next sample read was captured snd_pcm_delay() frames ago. After a discontinuity the samples
 * lost are estimated from where the count says the stream should be. 0, -ETIMEDOUT or an ALSA
 * error for alsa_recover(). */
static int alsa_anchor(alsa_src *st)
{
    snd_pcm_state_t state = snd_pcm_state(st->pcm);
    int rc;
    if (state == SND_PCM_STATE_PREPARED && (rc = snd_pcm_start(st->pcm)) < 0)
        return rc;
    rc = snd_pcm_wait(st->pcm, st->stall_ms);
    if (rc == 0)
        return -ETIMEDOUT;
    if (rc < 0)
        return rc;
    snd_pcm_sframes_t delay = 0;
    if ((rc = snd_pcm_delay(st->pcm, &delay)) < 0)
        return rc;
    if (delay < 0)
        delay = 0;
    int64_t next_ns = acq_clock_now_ns() - (int64_t)llround((double)delay * 1e9 / st->rate_hz);
    if (!st->anchored) {
        st->anchor_ns = next_ns;
        st->pos = 0;
        st->anchored = true;
    } else {
        int64_t expected_ns = alsa_pos_ns(st, st->pos);
        uint64_t lost = 0;
        if (next_ns > expected_ns)
            lost = (uint64_t)llround((double)(next_ns - expected_ns) * st->rate_hz / 1e9);
        if (lost > 0 || st->overrun_pending) {
            st->gap_pending = true;
            st->gap_lost = lost;
            st->pos += lost;
            acq_stats_add_gap(st->src, lost);
        }
    }
    st->need_anchor = false;
    return 0;
}

static int alsa_read(acq_source *s, acq_frame *f, char *err, size_t errlen)
{
    alsa_src *st = acq_source_priv(s);
    if (st->end_rc) {
        snprintf(err, errlen, "%s", st->end_msg);
        return st->end_rc;
    }
    size_t want = f->capacity;
    if (st->frame_samples && st->frame_samples < want)
        want = st->frame_samples;
    size_t got = 0;
    int recoveries = 0, rc;
    char detail[240];
    snd_local_error_handler_t prev = alsa_catch_begin();

    while (got < want) {
        rc = 0;
        if (st->need_anchor) {
            if (got > 0)
                break; /* deliver what came before the discontinuity */
            rc = alsa_anchor(st);
            if (rc == 0) {
                f->t0_ns = alsa_pos_ns(st, st->pos);
                if (st->gap_pending) {
                    f->flags |= ACQ_FRAME_GAP | (st->overrun_pending ? ACQ_FRAME_OVERRUN : 0u);
                    f->gap_samples = st->gap_lost;
                    st->gap_pending = st->overrun_pending = false;
                    st->gap_lost = 0;
                }
            }
        } else if (got == 0) {
            f->t0_ns = alsa_pos_ns(st, st->pos);
        }
        if (rc == 0) {
            rc = snd_pcm_wait(st->pcm, st->stall_ms);
            if (rc == 0)
                rc = -ETIMEDOUT;
        }
        if (rc == -ETIMEDOUT) {
            /* when data comes back, where it really is decides whether time was lost */
            st->need_anchor = true;
            if (got > 0)
                break;
            snprintf(err, errlen, "PCM \"%s\" delivered no samples for %d ms (device stalled?)", st->name,
                     st->stall_ms);
            goto out;
        }
        if (rc > 0) {
            snd_pcm_uframes_t n = want - got < st->chunk ? (snd_pcm_uframes_t)(want - got) : st->chunk;
            memcpy(st->raw, st->pattern, n * st->frame_bytes);
            snd_pcm_sframes_t k = snd_pcm_readi(st->pcm, st->raw, n);
            if (k >= 0) {
                if ((snd_pcm_uframes_t)k > n)
                    k = (snd_pcm_sframes_t)n; /* never trust a count beyond what was asked */
                size_t fresh = (size_t)k - alsa_untouched_tail(st, (size_t)k);
                alsa_convert(st, st->raw, fresh, f->samples + got * st->nchan);
                got += fresh;
                st->pos += fresh;
                if (fresh == (size_t)k && k > 0)
                    continue;
                alsa_end(st, -ENODATA, "PCM \"%s\": end of stream after %llu samples per channel (%s)", st->name,
                         (unsigned long long)st->pos, k == 0 ? "it returned no samples"
                         : "it returned samples without writing them, as a file PCM does at the end of its infile");
                if (got > 0)
                    break; /* deliver them; the next read reports the end */
                snprintf(err, errlen, "%s", st->end_msg);
                rc = st->end_rc;
                goto out;
            }
            rc = (int)k;
        }

        /* rc < 0: an ALSA error from starting, waiting or reading */
        rc = alsa_recover(st, rc, "capture", err, errlen);
        if (rc == -EAGAIN)
            continue;
        if (rc == 0 && ++recoveries <= ALSA_RECOVERIES_PER_READ)
            continue;
        if (rc == 0) {
            rc = -EIO;
            snprintf(err, errlen, "PCM \"%s\" overran %d times in a row; is the system overloaded?%s", st->name,
                     ALSA_RECOVERIES_PER_READ + 1, alsa_lib_detail(detail, sizeof detail));
        }
        if (got > 0 && ((st->end_rc && rc == st->end_rc) || rc == -EINTR))
            break; /* deliver the samples read; the next read reports the end */
        goto out;
    }
    f->nsamp = got;
    rc = 0;
out:
    alsa_catch_end(prev);
    return rc;
}

static const char *const alsa_keys[] = {"rate", "channels", "format", "sensitivity_mv_per_g", "full_scale_v", "frame", NULL};

const acq_source_ops acq_src_alsa = {.keys = alsa_keys, .scheme = "alsa", .open = alsa_open, .read = alsa_read, .close = alsa_close};

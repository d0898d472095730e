/* tests/unit/test_src_alsa.c — the alsa: source through the real ALSA library, without hardware.
 *
 * The test writes its own ALSA configuration (ALSA_CONFIG_PATH replaces the system's, so nothing
 * of the machine's asound.conf leaks in) with PCMs of `type file` over a `null` slave whose
 * `infile` is a raw interleaved recording generated here: capturing from such a PCM hands the
 * file's bytes through alsa-lib's real capture path (open, hw/sw params, wait, readi). On top of
 * or under them, alsa-lib's own plugins stand in for awkward devices: `lfloat` offers only float
 * formats (format negotiation), `rate` refuses rates below 4000 Hz (rate mismatch).
 *
 * Three things no null device does on its own — an xrun, a suspend, an unplug — are injected by
 * interposing snd_pcm_readi(): this program defines it, so the source's call lands here, and it
 * forwards to alsa-lib's (dlsym RTLD_NEXT) except when a test arms a one-shot error code. Recovery
 * (drop, prepare, resume, restart) then runs on the real PCM.
 *
 * Signals: three channels with distinct whole-hertz tones over exactly one second, so that every
 * delivered sample can be compared with the generator, and amplitude and frequency are checked
 * analytically (single-bin DFTs that are exactly orthogonal over a whole second, zero crossings).
 */
#define _GNU_SOURCE
#include "acquisition/source.h"
#include "testlib.h"

#include <dlfcn.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- injecting what a null device never does --------------------------------------------- */

struct _snd_pcm; /* alsa-lib's opaque PCM; this file needs no ALSA header (WITH_ALSA=0 builds it too) */
long snd_pcm_readi(struct _snd_pcm *pcm, void *buffer, unsigned long size);

static struct {
    int code;           /* error to return once (0: none armed) */
    int skip_calls;     /* real calls to let through first */
    long sleep_ms;      /* time "lost" before the error */
    int64_t fired_ns;   /* clock when the error was returned */
} inject;

long snd_pcm_readi(struct _snd_pcm *pcm, void *buffer, unsigned long size)
{
    static long (*real)(struct _snd_pcm *, void *, unsigned long);
    if (inject.code && inject.skip_calls-- <= 0) {
        int code = inject.code;
        inject.code = 0;
        if (inject.sleep_ms > 0)
            nanosleep(&(struct timespec){.tv_sec = inject.sleep_ms / 1000, .tv_nsec = inject.sleep_ms % 1000 * 1000000},
                      NULL);
        inject.fired_ns = acq_clock_now_ns();
        return code;
    }
    if (!real)
        real = (long (*)(struct _snd_pcm *, void *, unsigned long))dlsym(RTLD_NEXT, "snd_pcm_readi");
    if (!real)
        return -ENOSYS;
    return real(pcm, buffer, size);
}

/* ---- the signal and its files ------------------------------------------------------------- */

#define RATE 48000
#define NCH 3
#define NFRAMES RATE          /* one second */
#define SENS_MV_PER_G 100.0
#define FULL_SCALE_V 5.0
#define FS_G (FULL_SCALE_V / (SENS_MV_PER_G / 1000.0)) /* 50 g at digital full scale */

static const double tone_hz[NCH] = {1000, 2500, 440};
static const double tone_fs[NCH] = {0.5, 0.25, 0.8}; /* amplitude, fraction of full scale */

typedef struct fmt_case {
    const char *name;
    unsigned bytes;
    double counts_fs;
} fmt_case;

static const fmt_case formats[] = {
    {"S16_LE", 2, 32768.0}, {"S24_LE", 4, 8388608.0}, {"S24_3LE", 3, 8388608.0},
    {"S32_LE", 4, 2147483648.0}, {"FLOAT_LE", 4, 1.0},
};
#define NFORMATS (sizeof formats / sizeof formats[0])

static char dir[512], conf_path[600];
static const char *skip_why; /* set when ALSA cannot be tested here at all */

static double tone(unsigned c, size_t i) { return tone_fs[c] * sin(2 * M_PI * tone_hz[c] * (double)i / RATE + 0.3 * c); }

/* The fraction of full scale sample i of channel c really has in format fm (after quantizing). */
static double quantized(const fmt_case *fm, unsigned c, size_t i)
{
    double x = tone(c, i);
    if (fm->counts_fs == 1.0)
        return (float)x;
    return (double)llround(x * fm->counts_fs) / fm->counts_fs;
}

static void put_le(unsigned char *p, uint32_t v, unsigned n)
{
    for (unsigned k = 0; k < n; k++)
        p[k] = (unsigned char)(v >> (8 * k));
}

static int write_raw(const char *path, const fmt_case *fm, size_t nframes, int with_full_scale_dip)
{
    FILE *fp = fopen(path, "wb");
    if (!fp)
        return -1;
    unsigned char b[4];
    for (size_t i = 0; i < nframes; i++)
        for (unsigned c = 0; c < NCH; c++) {
            double x = quantized(fm, c, i);
            if (with_full_scale_dip && i == 5000 && c == 1)
                x = -1.0; /* one sample at negative full scale: that frame is clipped */
            if (fm->counts_fs == 1.0) {
                float v = (float)x;
                uint32_t u;
                memcpy(&u, &v, sizeof u);
                put_le(b, u, 4);
            } else {
                int32_t counts = (int32_t)llround(x * fm->counts_fs);
                put_le(b, (uint32_t)counts, fm->bytes);
                if (strcmp(fm->name, "S24_LE") == 0)
                    b[3] = (unsigned char)(i * 7 + c); /* the padding byte carries junk: it must be ignored */
            }
            if (fwrite(b, fm->bytes, 1, fp) != 1) {
                fclose(fp);
                return -1;
            }
        }
    return fclose(fp);
}

static void file_pcm(FILE *fp, const char *pcm, const char *infile)
{
    fprintf(fp, "pcm.%s {\n  type file\n  slave.pcm { type null }\n  file \"/dev/null\"\n"
                "  infile \"%s/%s\"\n  format \"raw\"\n}\n", pcm, dir, infile);
}

/* Writes the recordings and the private ALSA configuration, and points alsa-lib at it. */
static int setup(void)
{
    if (access("/dev/full", R_OK) != 0 || access("/dev/null", W_OK) != 0) {
        skip_why = "ALSA's null capture PCM needs a readable /dev/full and a writable /dev/null";
        return -1;
    }
    snprintf(dir, sizeof dir, "%s", t_tmpdir());
    char path[700];
    for (size_t k = 0; k < NFORMATS; k++) {
        snprintf(path, sizeof path, "%s/%s.raw", dir, formats[k].name);
        if (write_raw(path, &formats[k], NFRAMES, 0) < 0)
            return -1;
    }
    snprintf(path, sizeof path, "%s/short.raw", dir);
    if (write_raw(path, &formats[0], 10000, 1) < 0)
        return -1;
    snprintf(path, sizeof path, "%s/empty.raw", dir);
    FILE *fp = fopen(path, "wb");
    if (!fp || fclose(fp) != 0)
        return -1;

    snprintf(conf_path, sizeof conf_path, "%s/asound.conf", dir);
    fp = fopen(conf_path, "w");
    if (!fp)
        return -1;
    fprintf(fp, "# vibewatch test_src_alsa: raw recordings captured through alsa-lib\n");
    for (size_t k = 0; k < NFORMATS; k++) {
        char pcm[64], infile[64];
        snprintf(pcm, sizeof pcm, "vwtest_%s", formats[k].name);
        snprintf(infile, sizeof infile, "%s.raw", formats[k].name);
        file_pcm(fp, pcm, infile);
    }
    file_pcm(fp, "vwtest_short", "short.raw");
    file_pcm(fp, "vwtest_empty", "empty.raw");
    /* a PCM that offers only float formats: the file plugin takes its constraints from its slave,
       an lfloat converter (float on its client side) over null; the infile holds FLOAT_LE. (The
       converter goes below the file plugin: above it, alsa-lib 1.2.8 reads the infile through its
       mmap path, which reads ahead of what the converter consumes and garbles the stream.) */
    fprintf(fp, "pcm.vwtest_floatonly {\n  type file\n  slave.pcm { type lfloat; slave { pcm { type null }; format S16_LE } }\n"
                "  file \"/dev/null\"\n  infile \"%s/FLOAT_LE.raw\"\n  format \"raw\"\n}\n", dir);
    /* a converter whose client rates are 4000 to 768000 Hz */
    fprintf(fp, "pcm.vwtest_rate {\n  type rate\n  slave { pcm \"vwtest_S16_LE\"; rate 48000 }\n}\n");
    if (fclose(fp) != 0)
        return -1;
    return setenv("ALSA_CONFIG_PATH", conf_path, 1);
}

/* ---- helpers ------------------------------------------------------------------------------ */

static acq_source *open_uri(const char *uri, char *err, size_t errlen)
{
    acq_source *s = acq_open(uri, err, errlen);
    T_CHECK(s != NULL, "acq_open(%s): %s", uri, err);
    return s;
}

static char uri_buf[512];
static const char *uri_for(const char *pcm, const char *extra)
{
    snprintf(uri_buf, sizeof uri_buf, "alsa:%s?rate=%d&channels=%d&sensitivity_mv_per_g=%g&full_scale_v=%g%s", pcm,
             RATE, NCH, SENS_MV_PER_G, FULL_SCALE_V, extra);
    return uri_buf;
}

/* Amplitude of the whole-hertz tone f in channel c of n interleaved samples (one second). */
static double tone_amplitude(const float *x, size_t n, unsigned c, double f)
{
    double re = 0, im = 0;
    for (size_t i = 0; i < n; i++) {
        double ph = 2 * M_PI * f * (double)i / RATE;
        re += x[i * NCH + c] * cos(ph);
        im += x[i * NCH + c] * sin(ph);
    }
    return 2 * hypot(re, im) / (double)n;
}

static double zero_crossing_hz(const float *x, size_t n, unsigned c)
{
    size_t up = 0;
    for (size_t i = 1; i < n; i++)
        if (x[(i - 1) * NCH + c] < 0 && x[i * NCH + c] >= 0)
            up++;
    return (double)up * RATE / (double)n;
}

/* Reads a whole one-second recording in frames of `frame` samples and checks the timeline, the
 * end (when expect_end) and every sample; returns the samples (caller frees) or NULL. */
static float *capture_all(acq_source *s, const fmt_case *fm, size_t frame, bool expect_end)
{
    float *all = calloc((size_t)NFRAMES * NCH, sizeof *all);
    acq_frame *f = acq_frame_new(NCH, frame);
    if (!all || !f) {
        T_CHECK(0, "out of memory");
        free(all);
        acq_frame_free(f);
        return NULL;
    }
    char err[512] = "";
    size_t total = 0;
    int64_t t0_first = 0;
    int rc;
    for (uint64_t k = 0;; k++) {
        rc = acq_read(s, f, err, sizeof err);
        if (rc != 0)
            break;
        if (k == 0)
            t0_first = f->t0_ns;
        T_CHECK(f->seq == k, "frame %llu has seq %llu", (unsigned long long)k, (unsigned long long)f->seq);
        T_CHECK(f->flags == 0, "frame %llu flags 0x%x", (unsigned long long)k, f->flags);
        T_CHECK(f->nsamp == frame || total + f->nsamp == NFRAMES, "frame %llu: %zu samples", (unsigned long long)k,
                f->nsamp);
        int64_t want_t0 = t0_first + (int64_t)llround((double)total * 1e9 / RATE);
        T_CHECK(llabs(f->t0_ns - want_t0) <= 1, "frame %llu: t0 %lld ns, want %lld (by sample count)",
                (unsigned long long)k, (long long)(f->t0_ns - t0_first), (long long)(want_t0 - t0_first));
        T_CHECK(f->rate_hz == RATE, "frame rate %g", f->rate_hz);
        if (total + f->nsamp > NFRAMES) {
            T_CHECK(0, "more than %d samples delivered", NFRAMES);
            break;
        }
        memcpy(all + total * NCH, f->samples, f->nsamp * NCH * sizeof *all);
        total += f->nsamp;
        if (!expect_end && total == NFRAMES)
            break;
        if (k > 100000) {
            T_CHECK(0, "capture does not end");
            break;
        }
    }
    T_CHECK(total == NFRAMES, "%zu samples per channel captured, the file has %d", total, NFRAMES);
    if (expect_end) {
        T_CHECK(rc == -ENODATA && strstr(err, "end of stream"), "end of file: rc %d, \"%s\"", rc, err);
        int64_t before = acq_clock_now_ns();
        int rc2 = acq_read(s, f, err, sizeof err);
        T_CHECK(rc2 == rc && acq_clock_now_ns() - before < 500000000, "a read after the end: rc %d \"%s\"", rc2,
                err);
    }
    T_CHECK(t0_first > 0 && llabs(t0_first - acq_clock_now_ns()) < 10 * 1000000000LL,
            "t0 of the first frame is not the wall clock: %lld", (long long)t0_first);

    /* every sample: counts / full scale · 5 V / 0.1 V/g, in its channel */
    size_t bad = 0;
    for (size_t i = 0; i < total && bad == 0; i++)
        for (unsigned c = 0; c < NCH; c++) {
            double want = quantized(fm, c, i) * FS_G;
            if (fabs(all[i * NCH + c] - want) > 1e-5 * FS_G) {
                T_CHECK(0, "%s sample %zu ch%u: %.7g g, want %.7g g", fm->name, i, c, all[i * NCH + c], want);
                bad++;
                break;
            }
        }
    acq_frame_free(f);
    return all;
}

/* Amplitude in g, frequency and channel order, analytically. */
static void check_tones(const float *all, const char *what)
{
    for (unsigned c = 0; c < NCH; c++) {
        char label[96];
        snprintf(label, sizeof label, "%s ch%u amplitude of its %g Hz tone, g", what, c, tone_hz[c]);
        T_NEAR(tone_amplitude(all, NFRAMES, c, tone_hz[c]), tone_fs[c] * FS_G, 2e-4 * FS_G, label);
        snprintf(label, sizeof label, "%s ch%u frequency by zero crossings, Hz", what, c);
        T_NEAR(zero_crossing_hz(all, NFRAMES, c), tone_hz[c], 1.0, label);
        double side = fmax(tone_amplitude(all, NFRAMES, c, tone_hz[c] - 1), tone_amplitude(all, NFRAMES, c, tone_hz[c] + 1));
        T_CHECK(side < 1e-3 * tone_fs[c] * FS_G, "%s ch%u: %g g at ±1 Hz of its tone (rate or continuity off)", what,
                c, side);
        for (unsigned o = 0; o < NCH; o++) {
            if (o == c)
                continue;
            double leak = tone_amplitude(all, NFRAMES, c, tone_hz[o]);
            T_CHECK(leak < 1e-3 * FS_G, "%s ch%u carries ch%u's %g Hz tone (%g g): channel order", what, c, o,
                    tone_hz[o], leak);
        }
    }
}

/* ---- tests -------------------------------------------------------------------------------- */

static bool ready(void)
{
    if (skip_why) {
        t_skip("%s", skip_why);
        return false;
    }
    return true;
}

static void capture_format(const fmt_case *fm)
{
    if (!ready())
        return;
    char pcm[64], extra[64], err[512] = "";
    snprintf(pcm, sizeof pcm, "vwtest_%s", fm->name);
    snprintf(extra, sizeof extra, "&format=%s&frame=4800", fm->name);
    acq_source *s = open_uri(uri_for(pcm, extra), err, sizeof err);
    if (!s)
        return;
    const acq_info *in = acq_source_info(s);
    T_CHECK(in->nchan == NCH && in->rate_hz == RATE && in->rate_requested_hz == RATE, "info: %u ch at %g Hz (asked %g)",
            in->nchan, in->rate_hz, in->rate_requested_hz);
    T_CHECK(!in->finite && !in->dc_coupled && !in->has_temp, "info: finite/dc_coupled/has_temp should be false");
    for (unsigned c = 0; c < NCH && c < in->nchan; c++) {
        char name[16];
        snprintf(name, sizeof name, "ch%u", c);
        T_CHECK(strcmp(in->ch[c].name, name) == 0 && strcmp(in->ch[c].unit, "g") == 0, "channel %u is \"%s\" in \"%s\"",
                c, in->ch[c].name, in->ch[c].unit);
        T_NEAR(in->ch[c].full_scale, FS_G, 1e-9, "full scale, g");
        T_NEAR(in->ch[c].volts_per_unit, SENS_MV_PER_G / 1000, 1e-12, "volts per g");
    }
    T_CHECK(strstr(in->desc, fm->name) && strstr(in->desc, pcm) && strstr(in->desc, "period"), "desc \"%s\"", in->desc);
    float *all = capture_all(s, fm, 4800, true);
    if (all)
        check_tones(all, fm->name);
    free(all);
    acq_close(s);
}

static void test_s16_le(void) { capture_format(&formats[0]); }
static void test_s24_le(void) { capture_format(&formats[1]); }
static void test_s24_3le(void) { capture_format(&formats[2]); }
static void test_s32_le(void) { capture_format(&formats[3]); }
static void test_float_le(void) { capture_format(&formats[4]); }

/* Without format=, the best format offered is taken: S32_LE where everything is offered, FLOAT_LE
 * on a PCM that offers only floats; a format the PCM does not offer is refused, naming what it
 * offers. */
static void test_format_negotiation(void)
{
    if (!ready())
        return;
    char err[512] = "";
    acq_source *s = open_uri(uri_for("vwtest_S32_LE", "&frame=4800"), err, sizeof err);
    if (s) {
        T_CHECK(strstr(acq_source_info(s)->desc, "S32_LE") != NULL, "everything offered, desc \"%s\"",
                acq_source_info(s)->desc);
        float *all = capture_all(s, &formats[3], 4800, true);
        free(all);
        acq_close(s);
    }
    s = open_uri(uri_for("vwtest_floatonly", ""), err, sizeof err);
    if (s) {
        T_CHECK(strstr(acq_source_info(s)->desc, "FLOAT_LE") != NULL, "float-only PCM, desc \"%s\"",
                acq_source_info(s)->desc);
        /* the whole file, but not its end: the slave converter writes (null's) samples into the
           buffer before the file plugin overwrites them with the infile's, so when the infile
           runs out nothing shows it */
        float *all = capture_all(s, &formats[4], 4000, false);
        if (all)
            check_tones(all, "negotiated FLOAT_LE");
        free(all);
        acq_close(s);
    }
    s = acq_open(uri_for("vwtest_floatonly", "&format=S16_LE"), err, sizeof err);
    T_CHECK(!s && strstr(err, "vwtest_floatonly") && strstr(err, "S16_LE") && strstr(err, "offers FLOAT_LE"),
            "S16_LE from a float-only PCM: \"%s\"", err);
    acq_close(s);
}

static void test_rate_mismatch(void)
{
    if (!ready())
        return;
    char err[512] = "";
    acq_source *s = acq_open("alsa:vwtest_rate?rate=2000&channels=3&sensitivity_mv_per_g=100&full_scale_v=5", err,
                             sizeof err);
    T_CHECK(!s, "2000 Hz from a PCM that cannot run below 4000 Hz was accepted");
    T_CHECK(strstr(err, "vwtest_rate") && strstr(err, "2000 Hz") && strstr(err, "4000 Hz"),
            "the error should name the PCM, the rate asked for and the rate granted: \"%s\"", err);
    acq_close(s);
    /* the same PCM at a rate it has */
    s = open_uri("alsa:vwtest_rate?rate=48000&channels=3&sensitivity_mv_per_g=100&full_scale_v=5", err, sizeof err);
    if (s)
        T_CHECK(acq_source_info(s)->rate_hz == 48000, "rate %g", acq_source_info(s)->rate_hz);
    acq_close(s);
}

static void test_unknown_pcm(void)
{
    if (!ready())
        return;
    char err[512] = "";
    acq_source *s = acq_open(uri_for("vwtest_nosuch", ""), err, sizeof err);
    T_CHECK(!s, "an unknown PCM opened");
    T_CHECK(strstr(err, "cannot open PCM \"vwtest_nosuch\""), "the error should name the PCM: \"%s\"", err);
    acq_close(s);
}

static void test_bad_uri(void)
{
    if (!ready())
        return;
    static const struct { const char *uri, *want; } cases[] = {
        {"alsa:vwtest_S16_LE?rate=48000&channels=3", "missing sensitivity_mv_per_g and full_scale_v"},
        {"alsa:vwtest_S16_LE?rate=48000&channels=3&sensitivity_mv_per_g=100", "missing full_scale_v"},
        {"alsa:vwtest_S16_LE?channels=3&sensitivity_mv_per_g=100&full_scale_v=5", "missing rate"},
        {"alsa:vwtest_S16_LE", "missing rate, channels, sensitivity_mv_per_g and full_scale_v"},
        {"alsa:vwtest_S16_LE?rate=48000&channels=2.5&sensitivity_mv_per_g=100&full_scale_v=5", "channels=2.5"},
        {"alsa:vwtest_S16_LE?rate=48000&channels=65&sensitivity_mv_per_g=100&full_scale_v=5", "channels=65"},
        {"alsa:vwtest_S16_LE?rate=48000&channels=3&sensitivity_mv_per_g=0&full_scale_v=5", "sensitivity_mv_per_g=0"},
        {"alsa:vwtest_S16_LE?rate=48000&channels=3&sensitivity_mv_per_g=100&full_scale_v=5&format=S8", "format=S8"},
        {"alsa:vwtest_S16_LE?rate=48000&channels=3&sensitivity_mv_per_g=100&full_scale_v=5&frame=0", "frame=0"},
        {"alsa:vwtest_S16_LE?rate=48000&channels=3&sensitivity_mv_per_g=100&full_scale_v=5&gain=2", "\"gain\""},
        {"alsa:?rate=48000&channels=3&sensitivity_mv_per_g=100&full_scale_v=5", "no PCM name"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char err[512] = "";
        acq_source *s = acq_open(cases[i].uri, err, sizeof err);
        T_CHECK(!s && strstr(err, cases[i].want), "%s: opened or the error does not name %s: \"%s\"", cases[i].uri,
                cases[i].want, err);
        acq_close(s);
    }
}

/* frame= larger than the buffer: the frame's capacity wins; a short file ends with a partial
 * frame, then the end error, promptly; a sample at negative full scale marks its frame clipped;
 * an empty file ends at once. */
static void test_end_of_stream(void)
{
    if (!ready())
        return;
    char err[512] = "";
    acq_source *s = open_uri(uri_for("vwtest_short", "&format=S16_LE&frame=100000"), err, sizeof err);
    if (!s)
        return;
    acq_frame *f = acq_frame_new(NCH, 4096);
    size_t sizes[8], n = 0;
    unsigned flags[8];
    int rc;
    int64_t t_start = acq_clock_now_ns();
    while ((rc = acq_read(s, f, err, sizeof err)) == 0 && n < 8) {
        flags[n] = f->flags;
        sizes[n++] = f->nsamp;
    }
    T_CHECK(acq_clock_now_ns() - t_start < 1500000000LL, "the end took %.1f s to notice",
            (acq_clock_now_ns() - t_start) / 1e9);
    T_CHECK(n == 3 && sizes[0] == 4096 && sizes[1] == 4096 && sizes[2] == 10000 - 8192,
            "frames of %zu, %zu, %zu samples (%zu frames), want 4096, 4096, 1808", n > 0 ? sizes[0] : 0,
            n > 1 ? sizes[1] : 0, n > 2 ? sizes[2] : 0, n);
    T_CHECK(n == 3 && flags[0] == 0 && flags[1] == ACQ_FRAME_CLIPPED && flags[2] == 0,
            "flags 0x%x 0x%x 0x%x; want only the frame with sample 5000 clipped", n > 0 ? flags[0] : 0,
            n > 1 ? flags[1] : 0, n > 2 ? flags[2] : 0);
    T_CHECK(rc == -ENODATA && strstr(err, "vwtest_short") && strstr(err, "after 10000 samples"),
            "the end: rc %d \"%s\"", rc, err);
    acq_close(s);

    s = open_uri(uri_for("vwtest_empty", "&format=S16_LE"), err, sizeof err);
    if (s) {
        rc = acq_read(s, f, err, sizeof err);
        T_CHECK(rc == -ENODATA && strstr(err, "end of stream"), "empty file: rc %d \"%s\"", rc, err);
        acq_close(s);
    }
    acq_frame_free(f);
}

/* An xrun 200 ms long between two frames: recovered, counted, and the next frame is flagged with
 * the samples the clock says were lost; its t0 continues the count past them. Then an xrun in
 * the middle of a frame: the samples before it come as a short frame, the rest flagged. */
static void test_xrun(void)
{
    if (!ready())
        return;
    char err[512] = "";
    acq_source *s = open_uri(uri_for("vwtest_S16_LE", "&format=S16_LE&frame=4800"), err, sizeof err);
    if (!s)
        return;
    acq_frame *f = acq_frame_new(NCH, 4800);
    int rc = acq_read(s, f, err, sizeof err);
    T_CHECK(rc == 0 && f->flags == 0, "first frame: rc %d flags 0x%x %s", rc, f->flags, err);
    int64_t t0_first = f->t0_ns;
    int64_t expected_next = t0_first + 100000000; /* 4800 samples at 48 kHz */

    inject.code = -EPIPE;
    inject.skip_calls = 0;
    inject.sleep_ms = 200;
    rc = acq_read(s, f, err, sizeof err);
    T_CHECK(rc == 0, "read after an xrun: %d %s", rc, err);
    T_CHECK(f->flags == (ACQ_FRAME_OVERRUN | ACQ_FRAME_GAP), "after an xrun: flags 0x%x", f->flags);
    /* lost: from where the count expected the next sample to where the clock found it */
    double lost_min = (double)(inject.fired_ns - expected_next) * RATE / 1e9;
    T_CHECK(lost_min > 1000, "test setup: the injected xrun lost no time (%g samples)", lost_min);
    T_CHECK((double)f->gap_samples >= lost_min - 48 && (double)f->gap_samples <= lost_min + 0.5 * RATE,
            "gap of %llu samples, the clock says %.0f (+ up to 0.5 s of scheduling)",
            (unsigned long long)f->gap_samples, lost_min);
    int64_t want_t0 = expected_next + (int64_t)llround((double)f->gap_samples * 1e9 / RATE);
    T_CHECK(llabs(f->t0_ns - want_t0) <= 1, "t0 after the gap: %lld ns after the first, want %lld",
            (long long)(f->t0_ns - t0_first), (long long)(want_t0 - t0_first));
    T_CHECK(f->nsamp == 4800, "%zu samples after the xrun", f->nsamp);
    /* the file lost nothing, so the samples go on where the first frame stopped */
    T_NEAR(f->samples[0], quantized(&formats[0], 0, 4800) * FS_G, 1e-5 * FS_G, "first sample after the xrun, g");
    acq_stats st;
    acq_source_stats(s, &st);
    T_CHECK(st.overruns == 1 && st.gaps == 1 && st.gap_samples == f->gap_samples,
            "stats: %llu overruns, %llu gaps of %llu samples", (unsigned long long)st.overruns,
            (unsigned long long)st.gaps, (unsigned long long)st.gap_samples);
    int64_t t0_after = f->t0_ns;
    rc = acq_read(s, f, err, sizeof err);
    T_CHECK(rc == 0 && f->flags == 0 && f->gap_samples == 0 && f->t0_ns == t0_after + 100000000,
            "the frame after: rc %d flags 0x%x t0 +%lld ns", rc, f->flags, (long long)(f->t0_ns - t0_after));

    /* mid-frame: the 4800-sample frame is read in 1200-sample periods; the third read fails */
    inject.code = -EPIPE;
    inject.skip_calls = 2;
    inject.sleep_ms = 0;
    rc = acq_read(s, f, err, sizeof err);
    T_CHECK(rc == 0 && f->nsamp == 2400 && f->flags == 0, "frame cut by an xrun: rc %d, %zu samples, flags 0x%x",
            rc, f->nsamp, f->flags);
    rc = acq_read(s, f, err, sizeof err);
    T_CHECK(rc == 0 && f->nsamp == 4800 && (f->flags & (ACQ_FRAME_OVERRUN | ACQ_FRAME_GAP)) ==
                                                (ACQ_FRAME_OVERRUN | ACQ_FRAME_GAP),
            "the frame after a mid-frame xrun: rc %d, %zu samples, flags 0x%x", rc, f->nsamp, f->flags);
    acq_source_stats(s, &st);
    T_CHECK(st.overruns == 2 && st.gaps == 2, "stats: %llu overruns, %llu gaps", (unsigned long long)st.overruns,
            (unsigned long long)st.gaps);
    acq_frame_free(f);
    acq_close(s);
}

/* A suspend (-ESTRPIPE): resumed, counted, flagged like an xrun. */
static void test_suspend(void)
{
    if (!ready())
        return;
    char err[512] = "";
    acq_source *s = open_uri(uri_for("vwtest_S32_LE", "&format=S32_LE&frame=4800"), err, sizeof err);
    if (!s)
        return;
    acq_frame *f = acq_frame_new(NCH, 4800);
    int rc = acq_read(s, f, err, sizeof err);
    inject.code = -ESTRPIPE;
    inject.skip_calls = 0;
    inject.sleep_ms = 150;
    rc = acq_read(s, f, err, sizeof err);
    T_CHECK(rc == 0 && f->flags == (ACQ_FRAME_OVERRUN | ACQ_FRAME_GAP) && f->gap_samples > 0,
            "after a suspend: rc %d flags 0x%x gap %llu %s", rc, f->flags, (unsigned long long)f->gap_samples, err);
    T_NEAR(f->samples[1], quantized(&formats[3], 1, 4800) * FS_G, 1e-5 * FS_G, "first ch1 sample after resume, g");
    acq_stats st;
    acq_source_stats(s, &st);
    T_CHECK(st.overruns == 1 && st.gaps == 1, "stats: %llu overruns, %llu gaps", (unsigned long long)st.overruns,
            (unsigned long long)st.gaps);
    acq_frame_free(f);
    acq_close(s);
}

/* The device goes away (-ENODEV) in the middle of a frame: the samples before come first, then
 * an error naming the PCM, every time, at once; counted as a disconnect. */
static void test_unplug(void)
{
    if (!ready())
        return;
    char err[512] = "";
    acq_source *s = open_uri(uri_for("vwtest_S16_LE", "&format=S16_LE&frame=4800"), err, sizeof err);
    if (!s)
        return;
    acq_frame *f = acq_frame_new(NCH, 4800);
    inject.code = -ENODEV;
    inject.skip_calls = 1;
    inject.sleep_ms = 0;
    int rc = acq_read(s, f, err, sizeof err);
    T_CHECK(rc == 0 && f->nsamp == 1200, "the samples before the unplug: rc %d, %zu samples %s", rc, f->nsamp, err);
    for (int k = 0; k < 2; k++) {
        int64_t before = acq_clock_now_ns();
        rc = acq_read(s, f, err, sizeof err);
        T_CHECK(rc == -ENODEV && strstr(err, "\"vwtest_S16_LE\" is gone") && acq_clock_now_ns() - before < 500000000,
                "read %d after the unplug: rc %d \"%s\"", k + 1, rc, err);
    }
    acq_stats st;
    acq_source_stats(s, &st);
    T_CHECK(st.disconnects == 1 && st.overruns == 0, "stats: %llu disconnects, %llu overruns",
            (unsigned long long)st.disconnects, (unsigned long long)st.overruns);
    acq_frame_free(f);
    acq_close(s);
}

int main(void)
{
    /* a build without ALSA has nothing to test (the probe's URI is refused before any ALSA call) */
    char err[512] = "";
    acq_source *probe = acq_open("alsa:vwtest_probe", err, sizeof err);
    acq_close(probe);
    if (strstr(err, "WITH_ALSA=0"))
        skip_why = "this build has no ALSA support (WITH_ALSA=0)";
    else if (setup() < 0 && !skip_why)
        skip_why = "could not write the test recordings and ALSA configuration";
    T_RUN(test_s16_le);
    T_RUN(test_s24_le);
    T_RUN(test_s24_3le);
    T_RUN(test_s32_le);
    T_RUN(test_float_le);
    T_RUN(test_format_negotiation);
    T_RUN(test_rate_mismatch);
    T_RUN(test_unknown_pcm);
    T_RUN(test_bad_uri);
    T_RUN(test_end_of_stream);
    T_RUN(test_xrun);
    T_RUN(test_suspend);
    T_RUN(test_unplug);
    return t_done();
}

/* Tests of the sim: source (acquisition/src_sim.c over the ageing machine of acquisition/sim.h):
 * the same seed gives the same samples, the fault it was given is found by the analyser at its
 * defect frequency late in the machine's life and nothing is found before onset, imbalance
 * raises 1X velocity instead, the temperature rises late, the time lapse maps frame times, and
 * realtime=1 paces delivery. The generation speed is printed (a "#" line), never asserted. */
#include "acquisition/sim.h"
#include "acquisition/source.h"
#include "dsp/dsp.h"
#include "testlib.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define T0_2024 1704067200LL /* 2024-01-01T00:00:00Z, s since the epoch */

static acq_source *open_uri(const char *uri)
{
    char err[512] = "";
    acq_source *s = acq_open(uri, err, sizeof err);
    T_CHECK(s != NULL, "acq_open(%s): %s", uri, err);
    return s;
}

/* Reads frames until `total` samples per channel are collected (interleaved into out). */
static int read_samples(acq_source *s, float *out, size_t total)
{
    const acq_info *in = acq_source_info(s);
    acq_frame *f = acq_frame_new(in->nchan, 4096);
    if (!f)
        return -1;
    size_t got = 0;
    char err[512];
    while (got < total) {
        int rc = acq_read(s, f, err, sizeof err);
        T_CHECK(rc == 0, "acq_read: %d %s", rc, err);
        if (rc != 0)
            break;
        size_t n = f->nsamp < total - got ? f->nsamp : total - got;
        memcpy(out + got * in->nchan, f->samples, n * in->nchan * sizeof *out);
        got += n;
    }
    acq_frame_free(f);
    return got == total ? 0 : -1;
}

static void test_same_seed_same_samples(void)
{
    const char *uri = "sim:pump?seed=7&fault=inner_race&onset_days=1&failure_days=2&start_days=1.9"
                      "&channels=3&t0=2024-01-01T00:00:00Z";
    const size_t n = 20000;
    float *a = calloc(3 * n, sizeof *a), *b = calloc(3 * n, sizeof *b), *c = calloc(3 * n, sizeof *c);
    acq_source *s1 = open_uri(uri), *s2 = open_uri(uri);
    acq_source *s3 = open_uri("sim:pump?seed=8&fault=inner_race&onset_days=1&failure_days=2&start_days=1.9"
                              "&channels=3&t0=2024-01-01T00:00:00Z");
    if (a && b && c && s1 && s2 && s3) {
        T_CHECK(read_samples(s1, a, n) == 0 && read_samples(s2, b, n) == 0 && read_samples(s3, c, n) == 0, "reads");
        T_CHECK(memcmp(a, b, 3 * n * sizeof *a) == 0, "two opens of the same URI differ");
        size_t same = 0;
        for (size_t i = 0; i < 3 * n; i++)
            same += a[i] == c[i];
        T_CHECK(same < 3 * n / 100, "seed 7 and seed 8: %zu of %zu samples equal", same, 3 * n);
    }
    acq_close(s1);
    acq_close(s2);
    acq_close(s3);
    /* channel 0 (x) is the same whatever the channel count: every channel has its own noise */
    acq_source *one = open_uri("sim:pump?seed=7&fault=inner_race&onset_days=1&failure_days=2&start_days=1.9"
                               "&t0=2024-01-01T00:00:00Z");
    if (one && a && c && read_samples(one, c, n) == 0) {
        size_t diff = 0;
        for (size_t i = 0; i < n; i++)
            diff += c[i] != a[3 * i];
        T_CHECK(diff == 0, "channel x with channels=1 and channels=3: %zu of %zu samples differ", diff, n);
    }
    acq_close(one);
    free(a);
    free(b);
    free(c);
}

static void test_uri_errors(void)
{
    static const struct {
        const char *uri, *want;
    } bad[] = {
        {"sim:boiler", "unknown machine \"boiler\""},
        {"sim:pump?fault=cracked", "fault=cracked: expected none, outer_race"},
        {"sim:pump?fault=outer_race&onset_days=30&failure_days=20", "onset_days=30 must come before failure_days=20"},
        {"sim:fan?channels=4", "channels=4"},
        {"sim:fan?channels=1.5", "channels"},
        {"sim:pump?bearing=6999", "bearing=6999: unknown"},
        {"sim:pump?t0=2024-13-01", "t0=2024-13-01: expected an ISO 8601 time"},
        {"sim:pump?seed=-1", "seed=-1"},
        {"sim:pump?speedup=0.5", "speedup=0.5"},
        {"sim:pump?rate=4000&rpm=30000", "rpm=30000"},
        {"sim:pump?colour=red", "unknown key \"colour\""},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char err[512] = "";
        acq_source *s = acq_open(bad[i].uri, err, sizeof err);
        T_CHECK(s == NULL && strstr(err, bad[i].want) != NULL, "%s: %s (want \"%s\")", bad[i].uri,
                s ? "opened" : err, bad[i].want);
        acq_close(s);
    }
    acq_source *s = open_uri("sim:fan?fault=ball&channels=2&rate=51200&rpm=1200&bearing=SKF%206205-2RS%20JEM"
                             "&t0=2024-03-01T09:00:00%2B01:00&frame=1000&realtime=0&speedup=10&start_days=2");
    if (s) {
        const acq_info *in = acq_source_info(s);
        T_CHECK(in->nchan == 2 && in->rate_hz == 51200 && in->rate_requested_hz == 51200 && in->has_temp &&
                    !in->finite && strcmp(in->ch[1].name, "accel_y") == 0 && strcmp(in->ch[0].unit, "g") == 0 &&
                    in->ch[0].full_scale > 0,
                "info: %u ch at %g Hz (asked %g), temp %d, names %s/%s", in->nchan, in->rate_hz,
                in->rate_requested_hz, in->has_temp, in->ch[0].name, in->ch[1].name);
        T_CHECK(strstr(in->desc, "fan") && strstr(in->desc, "1200 rpm") && strstr(in->desc, "6205"), "desc: %s",
                in->desc);
        acq_frame *f = acq_frame_new(2, 4096);
        char err[256];
        T_CHECK(f && acq_read(s, f, err, sizeof err) == 0, "read");
        /* 2024-03-01T09:00+01:00 is 08:00 UTC */
        if (f)
            T_CHECK(f->t0_ns == (T0_2024 + 60LL * 86400 + 8 * 3600) * 1000000000LL && f->nsamp == 1000,
                    "t0 %lld ns, %zu samples", (long long)f->t0_ns, f->nsamp);
        acq_frame_free(f);
    }
    acq_close(s);
}

/* ---- the fault is found where it should be ------------------------------------------------ */

#define RATE 25600.0
#define SNAP 65536 /* 2.56 s */

struct fault_case {
    const char *kind, *fault, *extra; /* extra URI keys */
    double rpm;
    const char *bearing;
    enum dsp_diagnosis want;
    enum dsp_family family;
};

static int analyse(const char *uri, const char *bearing, double rpm, dsp_result *r)
{
    const dsp_bearing *b = dsp_bearing_find(bearing);
    T_CHECK(b != NULL, "bearing %s not in the catalogue", bearing);
    if (!b)
        return -1;
    dsp_analyzer_config c;
    memset(&c, 0, sizeof c);
    c.fs_hz = RATE;
    c.nsamples = SNAP;
    c.shaft_hz = rpm / 60;
    c.has_bearing = true;
    c.orders = b->orders;
    char err[256];
    dsp_analyzer *a = dsp_analyzer_new(&c, err, sizeof err);
    T_CHECK(a != NULL, "analyzer: %s", err);
    acq_source *s = open_uri(uri);
    float *x = malloc(SNAP * sizeof *x);
    int rc = -1;
    if (a && s && x && read_samples(s, x, SNAP) == 0)
        rc = dsp_analyze(a, x, r);
    free(x);
    acq_close(s);
    dsp_analyzer_free(a);
    return rc;
}

static void check_fault(const struct fault_case *fc)
{
    const dsp_bearing *b = dsp_bearing_find(fc->bearing);
    if (!b) {
        T_CHECK(0, "bearing %s not in the catalogue", fc->bearing);
        return;
    }
    double shaft = fc->rpm / 60;
    double orders[DSP_NFAMILIES] = {b->orders.bpfo, b->orders.bpfi, b->orders.bsf, b->orders.ftf};
    double want_hz = orders[fc->family] * shaft;
    /* onset day 10, failure day 40: day 5 is healthy, day 37 (90 % of the way) is late */
    static const double ages[] = {5, 37};
    for (int i = 0; i < 2; i++) {
        char uri[512];
        snprintf(uri, sizeof uri,
                 "sim:%s?seed=3&fault=%s&onset_days=10&failure_days=40&start_days=%g&rpm=%g&bearing=%s"
                 "&t0=2024-01-01T00:00:00Z%s",
                 fc->kind, fc->fault, ages[i], fc->rpm, fc->bearing, fc->extra);
        dsp_result r;
        if (analyse(uri, fc->bearing, fc->rpm, &r) != 0) {
            T_CHECK(0, "%s: no analysis", uri);
            continue;
        }
        const dsp_fault *f = &r.faults[fc->family];
        if (i == 0) {
            int ndet = 0;
            for (int k = 0; k < DSP_NFAMILIES; k++)
                ndet += r.faults[k].detected;
            T_CHECK(r.diagnosis == DSP_DIAG_NONE && ndet == 0,
                    "%s %s before onset (day 5): diagnosis %s, %d families detected (%s %.1f dB)", fc->kind,
                    fc->fault, dsp_diagnosis_name(r.diagnosis), ndet, dsp_family_name(fc->family), f->strength_db);
        } else {
            T_CHECK(r.diagnosis == fc->want && f->detected && fabs(f->found_hz / want_hz - 1) < 0.01,
                    "%s %s on day 37 of 40: diagnosis %s%s, %s %s %.1f dB at %.2f Hz (want %.2f Hz), %d lines, "
                    "band %.0f-%.0f Hz",
                    fc->kind, fc->fault, dsp_diagnosis_name(r.diagnosis), r.diagnosis_weak ? " (weak)" : "",
                    dsp_family_name(fc->family), f->detected ? "detected" : "not detected", f->strength_db,
                    f->found_hz, want_hz, f->harmonics, r.band_lo_hz, r.band_hi_hz);
        }
    }
}

static void test_outer_race(void)
{
    const struct fault_case c = {"pump", "outer_race", "", 2970, "Timken 6309", DSP_DIAG_OUTER, DSP_BPFO};
    check_fault(&c);
}

static void test_inner_race(void)
{
    const struct fault_case c = {"pump", "inner_race", "", 2970, "Timken 6309", DSP_DIAG_INNER, DSP_BPFI};
    check_fault(&c);
}

static void test_ball(void)
{
    const struct fault_case c = {"pump", "ball", "", 2970, "Timken 6309", DSP_DIAG_BALL, DSP_BSF};
    check_fault(&c);
}

/* another machine, speed and bearing: a fan at 1200 rpm on a 6205 (y channel: in the load zone) */
static void test_fan_outer_race(void)
{
    const struct fault_case c = {"fan", "outer_race", "", 1200, "6205", DSP_DIAG_OUTER, DSP_BPFO};
    check_fault(&c);
}

static void test_imbalance_raises_1x(void)
{
    dsp_result early, late;
#define IMBALANCE_URI(day) "sim:pump?seed=5&fault=imbalance&onset_days=10&failure_days=40&start_days=" day \
                              "&rpm=2970&t0=2024-01-01T00:00:00Z"
    const char *u1 = IMBALANCE_URI("5"), *u2 = IMBALANCE_URI("37");
    if (analyse(u1, "Timken 6309", 2970, &early) != 0 || analyse(u2, "Timken 6309", 2970, &late) != 0) {
        T_CHECK(0, "no analysis");
        return;
    }
    /* healthy 1X about 0.8 mm/s RMS; at 90 % of the way severity 0.66: (1 + 7·0.66) times that */
    T_CHECK(late.harmonics_mm_s[0] > 4 * early.harmonics_mm_s[0] && late.harmonics_mm_s[0] > 3,
            "1X velocity %.2f mm/s before onset, %.2f mm/s on day 37", early.harmonics_mm_s[0],
            late.harmonics_mm_s[0]);
    T_CHECK(fabs(late.harmonics_mm_s[1] / early.harmonics_mm_s[1] - 1) < 0.2, "2X changed: %.2f → %.2f mm/s",
            early.harmonics_mm_s[1], late.harmonics_mm_s[1]);
    T_CHECK(late.diagnosis == DSP_DIAG_NONE, "imbalance read as a bearing fault: %s",
            dsp_diagnosis_name(late.diagnosis));
}

/* ---- time: temperature over life, the time lapse, realtime pacing ------------------------ */

/* One frame per machine day (0.1 s frames, speedup 864000), days 0 … 44. */
static void life_temps(const char *fault, double *t, int ndays)
{
    char uri[256];
    snprintf(uri, sizeof uri,
             "sim:fan?fault=%s&onset_days=10&failure_days=40&speedup=864000&t0=2024-01-01T00:00:00Z", fault);
    acq_source *s = open_uri(uri);
    acq_frame *f = acq_frame_new(1, 2560);
    char err[256];
    for (int d = 0; d < ndays; d++) {
        t[d] = NAN;
        if (s && f && acq_read(s, f, err, sizeof err) == 0) {
            t[d] = f->temp_c;
            T_CHECK(f->t0_ns == (T0_2024 + 86400LL * d) * 1000000000LL, "day %d: t0 %lld", d, (long long)f->t0_ns);
        }
    }
    acq_frame_free(f);
    acq_close(s);
}

static void test_temperature_rises_late(void)
{
    enum { DAYS = 45 };
    double t[DAYS], h[DAYS];
    life_temps("outer_race", t, DAYS);
    life_temps("none", h, DAYS);
    double healthy = 0;
    for (int d = 0; d < 10; d++)
        healthy += t[d] / 10;
    T_CHECK(healthy > 25 && healthy < 45, "running temperature %.1f °C before onset", healthy);
    /* halfway through degradation (day 25): a few degrees at most */
    T_CHECK(t[25] - healthy < 3, "day 25: %.1f °C, %.1f above healthy", t[25], t[25] - healthy);
    /* the last tenth of life: fast */
    T_CHECK(t[37] - t[25] > 6 && t[40] - t[37] > 8, "days 25, 37, 40: %.1f, %.1f, %.1f °C", t[25], t[37], t[40]);
    for (int d = 31; d <= 40; d++)
        T_CHECK(t[d] > t[d - 1], "day %d: %.2f °C after %.2f", d, t[d], t[d - 1]);
    /* a healthy machine stays where it is */
    double lo = INFINITY, hi = -INFINITY;
    for (int d = 0; d < DAYS; d++) {
        lo = fmin(lo, h[d]);
        hi = fmax(hi, h[d]);
    }
    T_CHECK(hi - lo < 1, "healthy machine: temperature from %.1f to %.1f °C", lo, hi);
}

static void test_speedup_maps_frame_times(void)
{
    const double speedups[] = {1, 1000};
    for (int i = 0; i < 2; i++) {
        char uri[256];
        snprintf(uri, sizeof uri, "sim:pump?speedup=%g&frame=2560&t0=2024-01-01T00:00:00.5Z", speedups[i]);
        acq_source *s = open_uri(uri);
        acq_frame *f = acq_frame_new(1, 8192);
        char err[256];
        for (int k = 0; s && f && k < 5; k++) {
            T_CHECK(acq_read(s, f, err, sizeof err) == 0, "read: %s", err);
            /* frame k: t0_start + k · 0.1 s · speedup */
            int64_t want = T0_2024 * 1000000000LL + 500000000LL + (int64_t)(k * 100000000LL * speedups[i]);
            T_CHECK(f->t0_ns == want && f->nsamp == 2560 && f->seq == (uint64_t)k,
                    "speedup %g, frame %d: t0 %lld (want %lld), %zu samples, seq %llu", speedups[i], k,
                    (long long)f->t0_ns, (long long)want, f->nsamp, (unsigned long long)f->seq);
            unsigned want_flags = speedups[i] > 1 ? ACQ_FRAME_TIMELAPSE : 0;
            T_CHECK(f->flags == want_flags, "speedup %g: flags 0x%x, want 0x%x", speedups[i], f->flags, want_flags);
        }
        acq_frame_free(f);
        acq_close(s);
    }
    /* a reader's smaller frame caps the frame; times still follow the samples delivered */
    acq_source *s = open_uri("sim:fan?speedup=100&frame=2560&t0=2024-01-01T00:00:00Z");
    acq_frame *f = acq_frame_new(1, 1000);
    char err[256];
    for (int k = 0; s && f && k < 3; k++) {
        T_CHECK(acq_read(s, f, err, sizeof err) == 0 && f->nsamp == 1000, "read");
        int64_t want = T0_2024 * 1000000000LL + (int64_t)k * 1000 * 100 * 1000000000LL / 25600;
        T_CHECK(llabs(f->t0_ns - want) <= 1, "capacity 1000, frame %d: t0 %lld, want %lld", k, (long long)f->t0_ns,
                (long long)want);
    }
    acq_frame_free(f);
    acq_close(s);
}

static double mono_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void test_realtime_paces(void)
{
    /* 4 frames of 0.05 s: the last is returned 0.2 s after open, not before */
    acq_source *s = open_uri("sim:pump?realtime=1&frame=1280");
    acq_frame *f = acq_frame_new(1, 1280);
    char err[256];
    double t0 = mono_s();
    for (int k = 0; s && f && k < 4; k++)
        T_CHECK(acq_read(s, f, err, sizeof err) == 0, "read: %s", err);
    double dt = mono_s() - t0;
    T_CHECK(dt >= 0.195, "4 frames of 50 ms came in %.3f s", dt);
    /* t0 defaults to the wall clock at open */
    if (f)
        T_CHECK(llabs(f->t0_ns + 150000000LL - acq_clock_now_ns()) < 2000000000LL, "t0 %lld is not about now",
                (long long)f->t0_ns);
    acq_frame_free(f);
    acq_close(s);
}

/* Printed, not asserted: CPU time to make 3 channels at 51.2 kHz, through acq_read. */
static void test_generation_speed(void)
{
    acq_source *s = open_uri("sim:pump?fault=inner_race&onset_days=0&failure_days=1&start_days=0.9&rate=51200"
                             "&channels=3&frame=5120&t0=2024-01-01T00:00:00Z");
    acq_frame *f = acq_frame_new(3, 5120);
    char err[256];
    if (!s || !f) {
        acq_frame_free(f);
        acq_close(s);
        return;
    }
    struct timespec a, b;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
    int frames = 200; /* 20 s of machine */
    for (int k = 0; k < frames; k++)
        T_CHECK(acq_read(s, f, err, sizeof err) == 0, "read: %s", err);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
    double cpu = (double)(b.tv_sec - a.tv_sec) + 1e-9 * (double)(b.tv_nsec - a.tv_nsec);
    double ch_s = frames * 5120.0 * 3 / 51200;
    printf("# test_src_sim: generation: %.0f channel-seconds at 51.2 kHz in %.3f s CPU: %.3f ms per channel-second, "
           "%.0fx real time for 4 channels\n",
           ch_s, cpu, 1e3 * cpu / ch_s, ch_s / cpu / 4);
    acq_frame_free(f);
    acq_close(s);
}

/* The program registers the catalogue for sim:'s bearing= key (daemon/main.c); so does the test. */
static int catalogue_lookup(const char *name, double orders[4])
{
    const dsp_bearing *b = dsp_bearing_find(name);
    if (!b)
        return -1;
    orders[0] = b->orders.bpfo;
    orders[1] = b->orders.bpfi;
    orders[2] = b->orders.bsf;
    orders[3] = b->orders.ftf;
    return 0;
}

/* The simulated machines carry their own bearings' orders; they must be the catalogue's. */
static void test_default_bearings_match_catalogue(void)
{
    static const struct { const char *kind, *bearing; } m[] = {{"pump", "Timken 6309"}, {"fan", "Timken 6208"}};
    for (size_t i = 0; i < 2; i++) {
        /* an outer-race fault late in life, so the bearing's orders shape the samples; the same
         * machine with its bearing left to the default and named explicitly must be identical */
        char u1[160], u2[200], e[256] = "";
        snprintf(u1, sizeof u1, "sim:%s?t0=2024-01-01T00:00:00Z&fault=outer_race&start_days=39", m[i].kind);
        snprintf(u2, sizeof u2, "%s&bearing=%s", u1, m[i].bearing);
        acq_source *s1 = acq_open(u1, e, sizeof e), *s2 = acq_open(u2, e, sizeof e);
        acq_frame *f1 = acq_frame_new(1, 4096), *f2 = acq_frame_new(1, 4096);
        T_CHECK(s1 && s2 && f1 && f2, "open %s: %s", u2, e);
        int same = 1;
        for (int k = 0; s1 && s2 && f1 && f2 && k < 10; k++) {
            acq_read(s1, f1, e, sizeof e);
            acq_read(s2, f2, e, sizeof e);
            same &= f1->nsamp == f2->nsamp && memcmp(f1->samples, f2->samples, f1->nsamp * sizeof(float)) == 0;
        }
        T_CHECK(same, "sim:%s: the default bearing's samples differ from bearing=%s", m[i].kind, m[i].bearing);
        acq_frame_free(f1);
        acq_frame_free(f2);
        acq_close(s1);
        acq_close(s2);
    }
}

int main(void)
{
    acq_set_bearing_lookup(catalogue_lookup);
    T_RUN(test_default_bearings_match_catalogue);
    T_RUN(test_same_seed_same_samples);
    T_RUN(test_uri_errors);
    T_RUN(test_outer_race);
    T_RUN(test_inner_race);
    T_RUN(test_ball);
    T_RUN(test_fan_outer_race);
    T_RUN(test_imbalance_raises_1x);
    T_RUN(test_temperature_rises_late);
    T_RUN(test_speedup_maps_frame_times);
    T_RUN(test_realtime_paces);
    T_RUN(test_generation_speed);
    return t_done();
}

/* Tests of the sensor self-check (acquisition/selfcheck.h): each check is triggered by a signal
 * crafted to have exactly that defect (a flatline, clipping, an IEPE bias out of range, dropouts,
 * a rate that does not match), healthy signals (noise and tones, and the simulated machine at the
 * end of its life, impacts and all) stay ok, a fault clears only after the hysteresis time, and
 * the whole-recording helper agrees. */
#include "acquisition/selfcheck.h"
#include "acquisition/source.h"
#include "testlib.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RATE 25600.0
#define FRAME 2560 /* 0.1 s */
#define FS_G 50.0

static acq_info make_info(unsigned nchan, double full_scale)
{
    acq_info in;
    memset(&in, 0, sizeof in);
    snprintf(in.uri, sizeof in.uri, "test:");
    in.rate_hz = RATE;
    in.nchan = nchan;
    for (unsigned c = 0; c < nchan; c++) {
        snprintf(in.ch[c].name, sizeof in.ch[c].name, "ch%u", c);
        snprintf(in.ch[c].unit, sizeof in.ch[c].unit, "g");
        in.ch[c].full_scale = full_scale;
        in.ch[c].volts_per_unit = 0.1;
    }
    return in;
}

/* A frame source of our own: seq and t0 advance as a live device's would. */
typedef struct feeder {
    acq_frame *f;
    uint64_t seq;
    int64_t t0_ns;
    double step_s; /* timestamp step per frame; 0: exactly nsamp / rate */
} feeder;

static void feeder_init(feeder *fd, unsigned nchan)
{
    memset(fd, 0, sizeof *fd);
    fd->f = acq_frame_new(nchan, FRAME);
    fd->t0_ns = 1704067200LL * 1000000000LL;
    if (!fd->f)
        abort();
}

/* Fills the next frame with healthy vibration (tones and noise, ~0.15 g RMS) plus dc. */
static void healthy(feeder *fd, double dc)
{
    acq_frame *f = fd->f;
    for (size_t i = 0; i < FRAME; i++) {
        double t = (double)(fd->seq * FRAME + i) / RATE;
        for (unsigned c = 0; c < f->nchan; c++)
            f->samples[i * f->nchan + c] =
                (float)(dc + 0.1 * sin(2 * M_PI * 49.5 * t + c) + 0.05 * sin(2 * M_PI * 346.5 * t) + 0.1 * t_grand());
    }
}

/* Feeds the frame as it is; returns acq_selfcheck_feed's result. */
static int feed(acq_selfcheck *sc, feeder *fd, unsigned flags)
{
    acq_frame *f = fd->f;
    f->nsamp = FRAME;
    f->rate_hz = RATE;
    f->seq = fd->seq++;
    f->flags = flags;
    f->t0_ns = fd->t0_ns;
    fd->t0_ns += (int64_t)llround(1e9 * (fd->step_s > 0 ? fd->step_s : FRAME / RATE));
    return acq_selfcheck_feed(sc, f);
}

static const acq_selfcheck_channel *st(const acq_selfcheck *sc, unsigned c)
{
    const acq_selfcheck_channel *s = acq_selfcheck_channel_status(sc, c);
    if (!s)
        abort();
    return s;
}

/* Checks that channel c is in fault by `check` and its reason contains `want`. */
#define EXPECT_FAULT(sc, c, check, want, what)                                                                  \
    do {                                                                                                        \
        const acq_selfcheck_channel *s_ = st(sc, c);                                                            \
        T_CHECK(s_->state == ACQ_SELFCHECK_SENSOR_FAULT && s_->fault_check == (check) &&                        \
                    strstr(s_->reason, want) != NULL,                                                           \
                "%s: state %s, check 0x%x (want 0x%x), reason \"%s\" (want \"%s\")", what,                      \
                acq_selfcheck_state_name(s_->state), s_->fault_check, (unsigned)(check), s_->reason, want);     \
    } while (0)

#define EXPECT_OK(sc, c, what)                                                                                  \
    do {                                                                                                        \
        const acq_selfcheck_channel *s_ = st(sc, c);                                                            \
        T_CHECK(s_->state == ACQ_SELFCHECK_OK && s_->checks == 0, "%s: %s (checks 0x%x): %s", what,             \
                acq_selfcheck_state_name(s_->state), s_->checks, s_->reason);                                   \
    } while (0)

static void test_healthy_stays_ok(void)
{
    t_rng_seed(1);
    acq_info in = make_info(2, FS_G);
    acq_selfcheck *sc = acq_selfcheck_new(&in);
    feeder fd;
    feeder_init(&fd, 2);
    for (int k = 0; k < 200; k++) {
        healthy(&fd, 0);
        /* an impact or two touching the rails is not saturation */
        if (k % 10 == 0) {
            fd.f->samples[200 * 2] = (float)FS_G;
            fd.f->samples[900 * 2 + 1] = (float)-FS_G;
        }
        T_CHECK(feed(sc, &fd, k % 10 == 0 ? ACQ_FRAME_CLIPPED : 0) == 0, "frame %d changed a state", k);
    }
    EXPECT_OK(sc, 0, "healthy x");
    EXPECT_OK(sc, 1, "healthy y");
    T_CHECK(st(sc, 0)->faults == 0 && st(sc, 0)->reason[0] == 0, "a fault was recorded: %s", st(sc, 0)->reason);
    acq_selfcheck_free(sc);
    acq_frame_free(fd.f);

    /* a DC-coupled IEPE channel at a 12 V bias (120 g at 100 mV/g) */
    acq_info dc = make_info(1, 250);
    dc.dc_coupled = true;
    sc = acq_selfcheck_new(&dc);
    feeder_init(&fd, 1);
    for (int k = 0; k < 20; k++) {
        healthy(&fd, 120);
        feed(sc, &fd, 0);
    }
    EXPECT_OK(sc, 0, "DC-coupled at 12 V");
    acq_selfcheck_free(sc);
    acq_frame_free(fd.f);
}

/* The simulated machine on its last day, impacts of several g in three directions: a worn
 * bearing, not a broken sensor. Time-lapse frames are not taken for a wrong rate either. */
static void test_simulated_machine_is_ok(void)
{
    static const char *uris[] = {
        "sim:pump?fault=inner_race&onset_days=1&failure_days=2&start_days=1.99&channels=3",
        "sim:fan?fault=outer_race&onset_days=1&failure_days=2&start_days=1.5&speedup=10000&rate=51200",
        "sim:pump?fault=imbalance&onset_days=0&failure_days=1&start_days=2&rate=48000",
    };
    for (size_t u = 0; u < sizeof uris / sizeof uris[0]; u++) {
        char err[512];
        acq_source *s = acq_open(uris[u], err, sizeof err);
        T_CHECK(s != NULL, "%s", err);
        if (!s)
            continue;
        const acq_info *in = acq_source_info(s);
        acq_selfcheck *sc = acq_selfcheck_new(in);
        acq_frame *f = acq_frame_new(in->nchan, 4096);
        for (int k = 0; k < 30 && f && sc; k++) {
            T_CHECK(acq_read(s, f, err, sizeof err) == 0, "read: %s", err);
            acq_selfcheck_feed(sc, f);
        }
        for (unsigned c = 0; sc && c < in->nchan; c++)
            EXPECT_OK(sc, c, uris[u]);
        acq_frame_free(f);
        acq_selfcheck_free(sc);
        acq_close(s);
    }
}

static void test_flatline(void)
{
    acq_info in = make_info(3, FS_G);
    acq_selfcheck *sc = acq_selfcheck_new(&in);
    feeder fd;
    feeder_init(&fd, 3);
    t_rng_seed(2);
    healthy(&fd, 0);
    for (size_t i = 0; i < FRAME; i++) {
        fd.f->samples[i * 3 + 0] = 0;                                /* dead: exact zeros */
        fd.f->samples[i * 3 + 1] = 0.37f;                            /* stuck converter */
        fd.f->samples[i * 3 + 2] = (float)(0.003 + 5e-6 * t_grand()); /* converter noise only: ~3e-5 g p2p */
    }
    T_CHECK(feed(sc, &fd, 0) == 3, "three channels should change state");
    EXPECT_FAULT(sc, 0, ACQ_SELFCHECK_FLATLINE, "flatline: all 2560 samples are exactly 0 g", "zeros");
    EXPECT_FAULT(sc, 1, ACQ_SELFCHECK_FLATLINE, "exactly 0.37 g", "constant");
    EXPECT_FAULT(sc, 2, ACQ_SELFCHECK_FLATLINE, "below 5e-05 g (1e-06 of the 50 g full scale)", "tiny noise");
    acq_selfcheck_free(sc);

    /* full scale unknown: only an exact constant is a flatline */
    in = make_info(3, 0);
    sc = acq_selfcheck_new(&in);
    feed(sc, &fd, 0);
    EXPECT_FAULT(sc, 0, ACQ_SELFCHECK_FLATLINE, "exactly 0", "zeros, full scale unknown");
    EXPECT_FAULT(sc, 1, ACQ_SELFCHECK_FLATLINE, "exactly 0.37", "constant, full scale unknown");
    EXPECT_OK(sc, 2, "tiny noise, full scale unknown");
    acq_selfcheck_free(sc);
    acq_frame_free(fd.f);
}

static void test_clipping(void)
{
    acq_info in = make_info(2, FS_G);
    acq_selfcheck *sc = acq_selfcheck_new(&in);
    feeder fd;
    feeder_init(&fd, 2);
    t_rng_seed(3);
    healthy(&fd, 0);
    /* x: an overload, an 80 g sine held at the ±50 g rails; y: a sine flat-topped at ±0.6 g,
     * well inside the declared range (an amplifier saturating before the converter) */
    for (size_t i = 0; i < FRAME; i++) {
        double ph = 2 * M_PI * 120 * (double)i / RATE;
        fd.f->samples[i * 2] = (float)fmax(-FS_G, fmin(FS_G, 80 * sin(ph)));
        fd.f->samples[i * 2 + 1] = (float)fmax(-0.6, fmin(0.6, sin(ph) + 0.001 * sin(7 * ph)));
    }
    feed(sc, &fd, ACQ_FRAME_CLIPPED);
    EXPECT_FAULT(sc, 0, ACQ_SELFCHECK_CLIPPING, "at the ±50 g full scale", "x at the rails");
    EXPECT_FAULT(sc, 1, ACQ_SELFCHECK_CLIPPING, "held flat at the signal's extremes", "y flat-topped");
    acq_selfcheck_free(sc);

    /* full scale unknown: the backend's flags decide, 3 frames of the last 10 */
    in = make_info(1, 0);
    sc = acq_selfcheck_new(&in);
    acq_frame_free(fd.f);
    feeder_init(&fd, 1);
    for (int k = 0; k < 10; k++) {
        healthy(&fd, 0);
        feed(sc, &fd, k == 2 || k == 5 ? ACQ_FRAME_CLIPPED : 0);
    }
    EXPECT_OK(sc, 0, "2 flagged frames in 10");
    healthy(&fd, 0);
    feed(sc, &fd, ACQ_FRAME_CLIPPED);
    EXPECT_FAULT(sc, 0, ACQ_SELFCHECK_CLIPPING, "3 of the last 10 frames were flagged clipped", "3 flagged in 10");
    acq_selfcheck_free(sc);
    acq_frame_free(fd.f);
}

static void test_bias(void)
{
    static const struct {
        double volts;
        const char *want;
    } cases[] = {
        {0.2, "bias 0.2 V: sensor shorted or unpowered"},
        {23.9, "bias 23.9 V: near the supply, the sensor loop is open"},
        {4.5, "bias 4.5 V: too low"},
        {16.2, "bias 16.2 V: too high"},
    };
    t_rng_seed(4);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        acq_info in = make_info(1, 250);
        in.dc_coupled = true;
        acq_selfcheck *sc = acq_selfcheck_new(&in);
        feeder fd;
        feeder_init(&fd, 1);
        healthy(&fd, cases[i].volts / 0.1);
        feed(sc, &fd, 0);
        EXPECT_FAULT(sc, 0, ACQ_SELFCHECK_BIAS, cases[i].want, cases[i].want);
        acq_selfcheck_free(sc);
        /* the same samples on an AC-coupled input say nothing about a bias */
        in.dc_coupled = false;
        sc = acq_selfcheck_new(&in);
        feed(sc, &fd, 0);
        EXPECT_OK(sc, 0, "AC-coupled");
        acq_selfcheck_free(sc);
        /* nor on a DC-coupled one whose sensitivity is unknown */
        in.dc_coupled = true;
        in.ch[0].volts_per_unit = 0;
        sc = acq_selfcheck_new(&in);
        feed(sc, &fd, 0);
        EXPECT_OK(sc, 0, "sensitivity unknown");
        acq_selfcheck_free(sc);
        acq_frame_free(fd.f);
    }
}

static void test_dropouts(void)
{
    acq_info in = make_info(2, FS_G);
    acq_selfcheck *sc = acq_selfcheck_new(&in);
    feeder fd;
    feeder_init(&fd, 2);
    t_rng_seed(5);
    healthy(&fd, 0);
    for (size_t i = 1000; i < 1100; i++)
        fd.f->samples[i * 2] = 0; /* x loses 100 samples; y keeps its 31 */
    for (size_t i = 2000; i < 2031; i++)
        fd.f->samples[i * 2 + 1] = 0;
    feed(sc, &fd, 0);
    EXPECT_FAULT(sc, 0, ACQ_SELFCHECK_DROPOUT, "dropout: 100 exact zeros in a row from sample 1000 of 2560",
                 "100 zeros");
    EXPECT_OK(sc, 1, "31 zeros");
    acq_selfcheck_free(sc);

    /* a quiet signal a few LSBs tall: zeros everywhere, runs of them too, and that is no dropout */
    sc = acq_selfcheck_new(&in);
    for (size_t i = 0; i < FRAME; i++)
        for (unsigned c = 0; c < 2; c++)
            fd.f->samples[i * 2 + c] = (float)(0.001 * round(0.35 * t_grand()));
    feed(sc, &fd, 0);
    EXPECT_OK(sc, 0, "coarsely quantised quiet signal");
    acq_selfcheck_free(sc);

    /* gaps and overruns: 3 in 50 frames are tolerated, the 4th is not */
    sc = acq_selfcheck_new(&in);
    for (int k = 0; k < 50; k++) {
        healthy(&fd, 0);
        feed(sc, &fd, k == 3 ? ACQ_FRAME_GAP : k == 20 ? ACQ_FRAME_OVERRUN : k == 40 ? ACQ_FRAME_GAP : 0);
    }
    EXPECT_OK(sc, 0, "3 gaps in 50 frames");
    healthy(&fd, 0);
    feed(sc, &fd, ACQ_FRAME_OVERRUN);
    EXPECT_FAULT(sc, 0, ACQ_SELFCHECK_DROPOUT, "4 of the last 50 frames followed lost samples", "4 gaps in 50");
    EXPECT_FAULT(sc, 1, ACQ_SELFCHECK_DROPOUT, "4 of the last 50 frames", "4 gaps in 50, channel y");
    acq_selfcheck_free(sc);
    acq_frame_free(fd.f);
}

static void test_rate_mismatch(void)
{
    t_rng_seed(6);
    /* the device runs at 44.1 kHz when 48 kHz was asked for */
    acq_info in = make_info(1, FS_G);
    in.rate_requested_hz = 48000;
    in.rate_hz = 44100;
    acq_selfcheck *sc = acq_selfcheck_new(&in);
    feeder fd;
    feeder_init(&fd, 1);
    healthy(&fd, 0);
    fd.f->nsamp = FRAME;
    fd.f->rate_hz = 44100;
    fd.f->seq = 0;
    fd.f->flags = 0;
    acq_selfcheck_feed(sc, fd.f);
    EXPECT_FAULT(sc, 0, ACQ_SELFCHECK_RATE, "sample rate 44100 Hz, but 48000 Hz was requested (8.1 % off", "44.1k");
    acq_selfcheck_free(sc);
    /* within 1 %: fine */
    in.rate_hz = 47900;
    sc = acq_selfcheck_new(&in);
    fd.f->rate_hz = 47900;
    acq_selfcheck_feed(sc, fd.f);
    EXPECT_OK(sc, 0, "47.9 kHz for 48 kHz");
    acq_selfcheck_free(sc);

    /* timestamps: frames of 0.1 s of samples stamped 0.105 s apart, judged over 1 s */
    in = make_info(1, FS_G);
    sc = acq_selfcheck_new(&in);
    fd.step_s = 0.105;
    for (int k = 0; k < 10; k++) {
        healthy(&fd, 0);
        feed(sc, &fd, 0);
    }
    EXPECT_OK(sc, 0, "before 1 s of frames");
    healthy(&fd, 0);
    feed(sc, &fd, 0);
    EXPECT_FAULT(sc, 0, ACQ_SELFCHECK_RATE, "25600 samples spanned 1.050 s by the frames' timestamps but 1.000 s",
                 "timestamps 5 % slow");
    acq_selfcheck_free(sc);
    /* 0.5 % off, or 5 % off across gaps and time lapses (not contiguous): fine */
    sc = acq_selfcheck_new(&in);
    fd.step_s = 0.1005;
    for (int k = 0; k < 30; k++) {
        healthy(&fd, 0);
        feed(sc, &fd, 0);
    }
    fd.step_s = 0.105;
    for (int k = 0; k < 30; k++) {
        healthy(&fd, 0);
        feed(sc, &fd, k % 2 ? ACQ_FRAME_TIMELAPSE : ACQ_FRAME_SNAPSHOT);
    }
    EXPECT_OK(sc, 0, "0.5 % off, then not contiguous");
    acq_selfcheck_free(sc);
    acq_frame_free(fd.f);
}

static void test_hysteresis(void)
{
    t_rng_seed(7);
    acq_info in = make_info(1, FS_G);
    acq_selfcheck *sc = acq_selfcheck_new(&in);
    feeder fd;
    feeder_init(&fd, 1);
    healthy(&fd, 0);
    feed(sc, &fd, 0);
    memset(fd.f->samples, 0, FRAME * sizeof *fd.f->samples); /* a flatline frame (seq 1) */
    T_CHECK(feed(sc, &fd, 0) == 1, "the flatline should change the state");
    EXPECT_FAULT(sc, 0, ACQ_SELFCHECK_FLATLINE, "flatline", "flat frame");
    T_CHECK(st(sc, 0)->fault_seq == 1, "fault began at seq %llu", (unsigned long long)st(sc, 0)->fault_seq);
    /* clean frames: the fault holds for 5 s (50 frames of 0.1 s), then clears */
    int cleared_after = -1;
    for (int k = 1; k <= 60 && cleared_after < 0; k++) {
        healthy(&fd, 0);
        if (feed(sc, &fd, 0) == 1)
            cleared_after = k;
    }
    T_CHECK(cleared_after == 50, "cleared after %d clean frames of 0.1 s, want 50 (5 s)", cleared_after);
    EXPECT_OK(sc, 0, "after 5 s clean");
    T_CHECK(strstr(st(sc, 0)->reason, "flatline") != NULL, "the last reason is kept: \"%s\"", st(sc, 0)->reason);
    /* an intermittent fault: one bad frame in every 20 keeps the channel in fault */
    for (int k = 0; k < 100; k++) {
        healthy(&fd, 0);
        if (k % 20 == 0)
            memset(fd.f->samples, 0, FRAME * sizeof *fd.f->samples);
        feed(sc, &fd, 0);
        T_CHECK(k == 0 || st(sc, 0)->state == ACQ_SELFCHECK_SENSOR_FAULT, "intermittent flatline cleared at frame %d",
                k);
    }
    T_CHECK(st(sc, 0)->faults == 2, "%llu transitions to fault, want 2", (unsigned long long)st(sc, 0)->faults);
    acq_selfcheck_free(sc);
    acq_frame_free(fd.f);
}

static void test_whole_recording(void)
{
    const size_t n = 120000;
    float *x = malloc(n * sizeof *x);
    char why[256];
    if (!x)
        abort();
    t_rng_seed(8);
    for (size_t i = 0; i < n; i++)
        x[i] = (float)(0.2 * sin(2 * M_PI * 29.95 * (double)i / 12000) + 0.3 * t_grand());
    T_CHECK(acq_selfcheck_samples(x, n, 0, why, sizeof why) == 0 && why[0] == 0, "healthy: %s", why);
    T_CHECK(acq_selfcheck_samples(x, n, 4.0, why, sizeof why) == 0, "healthy, full scale 4: %s", why);

    /* clipped at ±1 (a 16-bit recording's full scale) */
    float *y = malloc(n * sizeof *y);
    if (!y)
        abort();
    for (size_t i = 0; i < n; i++)
        y[i] = fmaxf(-1.0f, fminf(1.0f, 4 * x[i]));
    T_CHECK(acq_selfcheck_samples(y, n, 1.0, why, sizeof why) == 1 && strstr(why, "clipping") &&
                strstr(why, "±1 full scale"),
            "clipped, full scale known: %s", why);
    T_CHECK(acq_selfcheck_samples(y, n, 0, why, sizeof why) == 1 && strstr(why, "held flat"),
            "clipped, full scale unknown: %s", why);
    /* a pure sine: its samples near the peak are not clipping */
    for (size_t i = 0; i < n; i++)
        y[i] = (float)sin(2 * M_PI * 50 * (double)i / 12000);
    T_CHECK(acq_selfcheck_samples(y, n, 0, why, sizeof why) == 0, "pure sine: %s", why);
    /* dropouts, flatline, NaN */
    memcpy(y, x, n * sizeof *y);
    memset(y + 5000, 0, 64 * sizeof *y);
    T_CHECK(acq_selfcheck_samples(y, n, 0, why, sizeof why) == 1 &&
                strstr(why, "64 exact zeros in a row from sample 5000"),
            "dropout: %s", why);
    memset(y, 0, n * sizeof *y);
    T_CHECK(acq_selfcheck_samples(y, n, 0, why, sizeof why) == 1 && strstr(why, "flatline"), "zeros: %s", why);
    memcpy(y, x, n * sizeof *y);
    y[77] = NAN;
    T_CHECK(acq_selfcheck_samples(y, n, 0, why, sizeof why) == 1 && strstr(why, "1 of 120000 samples are NaN"),
            "NaN: %s", why);
    T_CHECK(acq_selfcheck_samples(y, 0, 0, why, sizeof why) == 1 && strstr(why, "no samples"), "empty: %s", why);
    T_CHECK(acq_selfcheck_samples(x, n, 0, NULL, 0) == 0, "reason NULL");
    free(x);
    free(y);
}

static void test_bad_arguments(void)
{
    acq_info in = make_info(2, FS_G);
    acq_info none = in;
    none.nchan = 0;
    T_CHECK(acq_selfcheck_new(&none) == NULL, "no channels accepted");
    T_CHECK(acq_selfcheck_new(NULL) == NULL, "NULL info accepted");
    acq_selfcheck *sc = acq_selfcheck_new(&in);
    T_CHECK(sc != NULL, "new");
    acq_frame *f = acq_frame_new(3, 16);
    if (sc && f) {
        f->nsamp = 16;
        f->rate_hz = RATE;
        T_CHECK(acq_selfcheck_feed(sc, f) == -EINVAL, "a 3-channel frame for 2 channels");
        T_CHECK(acq_selfcheck_channel_status(sc, 2) == NULL, "status of channel 2 of 2");
    }
    acq_frame_free(f);
    acq_selfcheck_free(sc);
    acq_selfcheck_free(NULL);
}

int main(void)
{
    T_RUN(test_healthy_stays_ok);
    T_RUN(test_simulated_machine_is_ok);
    T_RUN(test_flatline);
    T_RUN(test_clipping);
    T_RUN(test_bias);
    T_RUN(test_dropouts);
    T_RUN(test_rate_mismatch);
    T_RUN(test_hysteresis);
    T_RUN(test_whole_recording);
    T_RUN(test_bad_arguments);
    return t_done();
}

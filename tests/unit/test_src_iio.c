/* tests/unit/test_src_iio.c — the iio: source through the real libiio 0.24 client.
 *
 * Network (`iio:ip:127.0.0.1:PORT`): tests/iiod/fake_iiod.py, run with /usr/bin/python3, serves
 * made-up devices over iiod's protocol on a free loopback port; every server is killed at the
 * end of its test (and by PR_SET_PDEATHSIG should this program die). Checked: each channel's tone
 * (frequency by zero crossings, amplitude in g by a DFT bin), channel order, DC level, 16-bit
 * little-endian and 20-bit big-endian shifted formats, voltage channels through a sensitivity,
 * temperature (input and raw · scale + offset), sampling_frequency written and read back (from the
 * server's log), refused rates, unknown devices and channels, continuous timestamps, samples lost
 * in the driver, a reader that falls behind, the server killed and restarted on the same port, and
 * acq_close() while blocked or backing off. The device's clock (--clock-ppm): 1 % slow or fast is
 * measured (info.rate_measured_hz), never a gap, with t0 strictly increasing at nsamp / measured
 * rate; a real drop under drift is still a gap of the right size; 3 % off is a rate fault in the
 * self-check (acq_selfcheck_new/_feed). Clipping by converter codes: the smaller rail of an offset
 * unsigned channel, the positive rail of a signed 10-bit one, nothing near (but not at) a rail, and
 * a buffer handed out in pieces. A device that accepts and fails every first refill: a growing
 * backoff and a few log lines. coupling=dc|ac.
 *
 * Local (`iio:local:`): in a private mount namespace (unshare), a crafted /sys/bus/iio tree and a
 * FIFO standing in for /dev/iio:device0 drive libiio's local backend end to end: discovery,
 * attributes, temperature and the buffer. Skipped, saying why, where mount namespaces are not
 * allowed.
 */
#define _GNU_SOURCE
#include "acquisition/selfcheck.h"
#include "acquisition/source.h"
#include "testlib.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PYTHON "/usr/bin/python3"
#define G_MS2 9.80665

/* ---- the fake iiod ------------------------------------------------------------------------ */

typedef struct server {
    pid_t pid;
    int port;
    char log[600], portfile[600], errfile[600];
} server;

static char script[1024];

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sleep_s(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - floor(s)) * 1e9)};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

/* True when this build has the iio: backend (WITH_IIO=1); a skip otherwise. */
static bool have_iio(void)
{
    char err[512] = "";
    acq_source *s = acq_open("iio:?device=x&channels=y", err, sizeof err);
    acq_close(s);
    if (strstr(err, "WITH_IIO=0")) {
        t_skip("built without libiio (WITH_IIO=0)");
        return false;
    }
    return true;
}

/* False (with a failure saying why) when the server cannot be run here. */
static bool have_server(void)
{
    if (!have_iio())
        return false;
    if (access(PYTHON, X_OK) != 0) {
        T_CHECK(0, "%s is missing: the iio: tests serve a device with tests/iiod/fake_iiod.py "
                   "(apt-get install python3)", PYTHON);
        return false;
    }
    if (!script[0]) {
        char exe[900];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
        exe[n > 0 ? n : 0] = 0;
        char *cut = strstr(exe, "/build/");
        if (access("tests/iiod/fake_iiod.py", R_OK) == 0)
            snprintf(script, sizeof script, "tests/iiod/fake_iiod.py");
        else if (cut) {
            *cut = 0;
            snprintf(script, sizeof script, "%s/tests/iiod/fake_iiod.py", exe);
        }
    }
    if (!script[0] || access(script, R_OK) != 0) {
        T_CHECK(0, "tests/iiod/fake_iiod.py not found (run from the repository's top folder)");
        return false;
    }
    return true;
}

/* Starts the server on port (0: any free one) with extra arguments (NULL-terminated). */
static bool server_start(server *sv, int port, const char *const *extra)
{
    static int serial;
    const char *tmp = t_tmpdir();
    int id = serial++;
    snprintf(sv->portfile, sizeof sv->portfile, "%s/iiod%d.port", tmp, id);
    snprintf(sv->log, sizeof sv->log, "%s/iiod%d.log", tmp, id);
    snprintf(sv->errfile, sizeof sv->errfile, "%s/iiod%d.err", tmp, id);
    unlink(sv->portfile);
    char portarg[16];
    snprintf(portarg, sizeof portarg, "%d", port);
    const char *argv[40] = {PYTHON, script, "--port", portarg, "--port-file", sv->portfile, "--log", sv->log};
    int argc = 8;
    for (int i = 0; extra && extra[i] && argc < 38; i++)
        argv[argc++] = extra[i];
    argv[argc] = NULL;
    pid_t pid = t_server_start(argv, sv->errfile, sv->portfile, 15, &sv->port);
    sv->pid = pid > 0 ? pid : 0;
    if (pid == T_SERVER_EXITED)
        T_CHECK(0, "fake_iiod.py exited at start (see %s)", sv->errfile);
    else if (pid == T_SERVER_SLOW)
        T_CHECK(0, "fake_iiod.py did not start listening within 15 s (see %s)", sv->errfile);
    else if (pid < 0)
        T_CHECK(0, "fork: %s", strerror(errno));
    return pid > 0;
}

static void server_stop(server *sv)
{
    t_server_stop(sv->pid);
    sv->pid = 0;
}

/* The server's log as one string (static buffer). */
static const char *server_log(const server *sv)
{
    static char buf[1 << 16];
    buf[0] = 0;
    FILE *f = fopen(sv->log, "r");
    if (f) {
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        buf[n] = 0;
        fclose(f);
    }
    return buf;
}

static acq_source *open_at(const server *sv, const char *query, char *err, size_t errlen)
{
    char uri[512];
    snprintf(uri, sizeof uri, "iio:ip:127.0.0.1:%d?%s", sv->port, query);
    return acq_open(uri, err, errlen);
}

/* ---- reading and measuring ------------------------------------------------------------------ */

typedef struct capture {
    float *x;           /* interleaved */
    size_t n;           /* samples per channel */
    unsigned nchan, frames, gap_frames, overrun_frames;
    uint64_t gap_samples;
    bool t0_continuous; /* every t0 follows the previous frame's end (frames without GAP) */
    double temp_c;
    int64_t first_t0, last_end;
} capture;

/* Reads want samples per channel (frames of cap samples); false with a failure on an error. */
static bool collect(acq_source *s, size_t want, size_t cap, capture *c)
{
    const acq_info *info = acq_source_info(s);
    memset(c, 0, sizeof *c);
    c->nchan = info->nchan;
    c->x = calloc(want * info->nchan, sizeof(float));
    acq_frame *f = acq_frame_new(info->nchan, cap);
    c->t0_continuous = true;
    c->temp_c = NAN;
    char err[512];
    int64_t next_t0 = 0, prev_t0 = 0;
    bool ok = c->x && f;
    while (ok && c->n < want) {
        int rc = acq_read(s, f, err, sizeof err);
        if (rc != 0) {
            T_CHECK(0, "acq_read: %d %s", rc, err);
            ok = false;
            break;
        }
        /* contiguous: at the measured rate once there is one, which data time follows slewed by
         * at most 0.1 % (a few ns of rounding besides) */
        if (c->frames && !(f->flags & ACQ_FRAME_GAP) &&
            (f->t0_ns <= prev_t0 || llabs(f->t0_ns - next_t0) > 2 + (int64_t)(1.5e-3 * (double)(next_t0 - prev_t0))))
            c->t0_continuous = false;
        if (!c->frames)
            c->first_t0 = f->t0_ns;
        double rate = info->rate_measured_hz > 0 ? info->rate_measured_hz : info->rate_hz;
        prev_t0 = f->t0_ns;
        next_t0 = f->t0_ns + (int64_t)llround((double)f->nsamp * 1e9 / rate);
        c->last_end = next_t0;
        c->frames++;
        if (f->flags & ACQ_FRAME_GAP) {
            c->gap_frames++;
            c->gap_samples += f->gap_samples;
        }
        if (f->flags & ACQ_FRAME_OVERRUN)
            c->overrun_frames++;
        c->temp_c = f->temp_c;
        size_t take = f->nsamp < want - c->n ? f->nsamp : want - c->n;
        memcpy(c->x + c->n * c->nchan, f->samples, take * c->nchan * sizeof(float));
        c->n += take;
    }
    acq_frame_free(f);
    return ok;
}

/* Mean, amplitude at f (a DFT bin: exact over whole periods) and zero-crossing frequency. */
typedef struct tone { double mean, amp, freq; } tone;

static tone measure(const capture *c, unsigned ch, double rate, double f)
{
    tone t = {0, 0, 0};
    size_t n = c->n;
    for (size_t i = 0; i < n; i++)
        t.mean += c->x[i * c->nchan + ch];
    t.mean /= (double)n;
    double re = 0, im = 0;
    unsigned crossings = 0;
    for (size_t i = 0; i < n; i++) {
        double v = c->x[i * c->nchan + ch] - t.mean;
        re += v * cos(2 * M_PI * f * (double)i / rate);
        im -= v * sin(2 * M_PI * f * (double)i / rate);
        if (i && (v >= 0) != (c->x[(i - 1) * c->nchan + ch] - t.mean >= 0))
            crossings++;
    }
    t.amp = 2 * sqrt(re * re + im * im) / (double)n;
    t.freq = crossings / 2.0 / ((double)n / rate);
    return t;
}

static void check_tone(const capture *c, unsigned ch, double rate, double f, double amp, double dc, const char *name)
{
    tone t = measure(c, ch, rate, f);
    if (fabs(t.freq - f) > 0.01 * f + 1.5 * rate / (double)c->n)
        T_CHECK(0, "%s: tone at %.2f Hz (zero crossings), want %g Hz", name, t.freq, f);
    if (fabs(t.amp - amp) > 0.01 * amp + 1e-3)
        T_CHECK(0, "%s: amplitude %.5f g at %g Hz, want %g g", name, t.amp, f, amp);
    if (fabs(t.mean - dc) > 0.01 * amp + 2e-3)
        T_CHECK(0, "%s: mean %.5f g, want %g g", name, t.mean, dc);
}

/* ---- tests: data ---------------------------------------------------------------------------- */

static void test_accel_16bit_tones_order_temperature(void)
{
    if (!have_server())
        return;
    server sv;
    if (!server_start(&sv, 0, NULL))
        return;
    char err[512];
    /* z first: the frame's channels follow the URI, not the device's scan order */
    acq_source *s = open_at(&sv, "device=adxl355&channels=accel_z,accel_x,accel_y&rate=4000&temp=adxl355/temp",
                            err, sizeof err);
    T_CHECK(s, "acq_open: %s", err);
    if (s) {
        const acq_info *in = acq_source_info(s);
        T_CHECK(in->nchan == 3 && strcmp(in->ch[0].name, "accel_z") == 0 && strcmp(in->ch[1].name, "accel_x") == 0 &&
                strcmp(in->ch[2].name, "accel_y") == 0, "channel names/order: %u %s %s %s", in->nchan,
                in->ch[0].name, in->ch[1].name, in->ch[2].name);
        T_NEAR(in->rate_hz, 4000, 1e-9, "rate_hz");
        T_NEAR(in->rate_requested_hz, 4000, 1e-9, "rate_requested_hz");
        T_CHECK(in->has_temp && !in->finite && !in->dc_coupled, "has_temp/finite/dc_coupled");
        T_CHECK(strcmp(in->ch[0].unit, "g") == 0, "unit \"%s\"", in->ch[0].unit);
        /* ±4 g in 16 bits; accel_z's offset of +25 LSB moves its positive end out a little */
        double lsb = 4.0 / 32768.0;
        T_NEAR(in->ch[0].full_scale, (32767 + 25) * lsb, 1e-6, "accel_z full_scale");
        T_NEAR(in->ch[1].full_scale, 32768 * lsb, 1e-6, "accel_x full_scale");
        T_NEAR(in->ch[2].full_scale, (32768 + 50) * lsb, 1e-6, "accel_y full_scale (offset -50)");
        T_CHECK(in->ch[0].volts_per_unit == 0, "volts_per_unit of an accelerometer");
        T_CHECK(strstr(in->desc, "adxl355") != NULL, "desc: %s", in->desc);
        capture c;
        int64_t before = acq_clock_now_ns();
        if (collect(s, 4000, 512, &c)) {
            check_tone(&c, 0, 4000, 320, 0.5, 1.0, "accel_z");
            check_tone(&c, 1, 4000, 80, 0.5, 0.0, "accel_x");
            check_tone(&c, 2, 4000, 160, 0.25, 0.0, "accel_y");
            /* nothing of another channel's tone leaks in: the order is right */
            T_CHECK(measure(&c, 1, 4000, 160).amp < 1e-3 && measure(&c, 2, 4000, 80).amp < 1e-3, "channels mixed up");
            T_NEAR(c.temp_c, 25.0, 0.01, "temp_c from raw/scale/offset");
            T_CHECK(c.gap_frames == 0 && c.overrun_frames == 0, "%u gap(s), %u overrun(s)", c.gap_frames,
                    c.overrun_frames);
            T_CHECK(c.t0_continuous, "t0 of consecutive frames not contiguous");
            /* data time is anchored to the wall clock */
            int64_t now = acq_clock_now_ns();
            T_CHECK(c.first_t0 > before - 500000000LL && c.last_end < now + 50000000LL && c.last_end > now - 1000000000LL,
                    "timestamps off the clock: first %.3f s after open, last end %.3f s before now",
                    (double)(c.first_t0 - before) / 1e9, (double)(now - c.last_end) / 1e9);
            acq_stats st;
            acq_source_stats(s, &st);
            T_CHECK(st.frames == c.frames && st.gaps == 0 && st.disconnects == 0, "stats: %llu frames, %llu gaps",
                    (unsigned long long)st.frames, (unsigned long long)st.gaps);
        }
        free(c.x);
        acq_close(s);
    }
    /* the rate was written to the device and read back */
    const char *log = server_log(&sv);
    const char *w = strstr(log, "WRITE-VALUE iio:device0 sampling_frequency ");
    T_CHECK(w && atof(w + strlen("WRITE-VALUE iio:device0 sampling_frequency ")) == 4000,
            "the server saw no sampling_frequency write of 4000");
    T_CHECK(w && strstr(w, "READ iio:device0 sampling_frequency"), "sampling_frequency not read back after writing");
    T_CHECK(strstr(log, "OPEN iio:device0 400 00000007"), "expected a buffer of 400 samples of channels 0-2");
    server_stop(&sv);
}

static void test_accel_20bit_big_endian_shifted(void)
{
    if (!have_server())
        return;
    server sv;
    /* be:s20/32>>12 as the real ADXL355, with junk in the low bits that must be shifted out */
    const char *args[] = {"--bits", "20", "--tone", "accel_x=125:1.5", NULL};
    if (!server_start(&sv, 0, args))
        return;
    char err[512];
    acq_source *s = open_at(&sv, "device=adxl355&channels=accel_x,accel_y,accel_z&rate=2000&temp=tmp117/temp&frame=250",
                            err, sizeof err);
    T_CHECK(s, "acq_open: %s", err);
    if (s) {
        const acq_info *in = acq_source_info(s);
        T_NEAR(in->rate_hz, 2000, 1e-9, "rate_hz");
        T_NEAR(in->ch[0].full_scale, 524288 * 3.9e-6, 1e-9, "full scale of 20 bits at 3.9 µg");
        capture c;
        /* frames of 100 for buffers of 250: acq_read hands a buffer out in pieces, times intact */
        if (collect(s, 2000, 100, &c)) {
            check_tone(&c, 0, 2000, 125, 1.5, 0, "accel_x");
            check_tone(&c, 1, 2000, 160, 0.25, 0, "accel_y");
            check_tone(&c, 2, 2000, 320, 0.5, 1.0, "accel_z");
            T_NEAR(c.temp_c, 41.25, 1e-9, "temp_c from tmp117's input (milli-°C)");
            T_CHECK(c.frames == 24, "%u reads of ≤ 100 samples for 2000 in buffers of 250, want 24", c.frames);
            T_CHECK(c.t0_continuous && c.gap_frames == 0, "pieces of a buffer are not contiguous in time");
        }
        free(c.x);
        acq_close(s);
    }
    T_CHECK(strstr(server_log(&sv), "OPEN iio:device0 250 00000007"), "frame=250 is the buffer size");
    server_stop(&sv);
}

static void test_voltage_channels_through_sensitivity(void)
{
    if (!have_server())
        return;
    server sv;
    if (!server_start(&sv, 0, NULL))
        return;
    char err[512];
    /* 51150 Hz: the ADC rounds to 51200, 0.1 % away, within tolerance */
    acq_source *s = open_at(&sv, "device=ad7768-4&channels=voltage3,voltage1&rate=51150&sensitivity_mv_per_g=100",
                            err, sizeof err);
    T_CHECK(s, "acq_open: %s", err);
    if (s) {
        const acq_info *in = acq_source_info(s);
        T_NEAR(in->rate_hz, 51200, 1e-9, "rate_hz is what the device runs at");
        T_NEAR(in->rate_requested_hz, 51150, 1e-9, "rate_requested_hz");
        T_CHECK(in->dc_coupled, "voltage inputs are DC-coupled");
        T_NEAR(in->ch[0].volts_per_unit, 0.1, 1e-12, "volts_per_unit (100 mV/g)");
        T_NEAR(in->ch[0].full_scale, 4096.0 / 100, 1e-3, "full scale: ±4096 mV at 100 mV/g");
        capture c;
        if (collect(s, 51200, 8192, &c)) {
            check_tone(&c, 0, 51200, 5000, 4.0, 0, "voltage3 (400 mV)");
            check_tone(&c, 1, 51200, 2000, 2.0, 0, "voltage1 (200 mV)");
            T_CHECK(c.gap_frames == 0, "%u gaps at 2 × 51.2 kHz", c.gap_frames);
        }
        free(c.x);
        acq_close(s);
    }
    server_stop(&sv);
}

static void test_device_without_sampling_frequency(void)
{
    if (!have_server())
        return;
    server sv;
    if (!server_start(&sv, 0, NULL))
        return;
    char err[512];
    acq_source *s = open_at(&sv, "device=adc-fixed&channels=voltage0&sensitivity_mv_per_g=100", err, sizeof err);
    T_CHECK(!s && strstr(err, "rate= is required") && strstr(err, "sampling_frequency"),
            "without rate= and without the attribute: %s", s ? "opened" : err);
    acq_close(s);
    s = open_at(&sv, "device=adc-fixed&channels=voltage0&rate=8000&sensitivity_mv_per_g=100", err, sizeof err);
    T_CHECK(s, "acq_open: %s", err);
    if (s) {
        const acq_info *in = acq_source_info(s);
        T_CHECK(strstr(in->desc, "no sampling_frequency"), "desc does not say the rate is unchecked: %s", in->desc);
        T_NEAR(in->rate_hz, 8000, 1e-9, "rate_hz as asked");
        /* unsigned 16 bits with offset -32768 at 0.125 mV: ±4096 mV */
        T_NEAR(in->ch[0].full_scale, 4096.0 / 100, 1e-9, "full scale");
        capture c;
        if (collect(s, 8000, 1000, &c))
            check_tone(&c, 0, 8000, 440, 5.0, 0, "voltage0 (500 mV, unsigned)");
        free(c.x);
        acq_close(s);
    }
    server_stop(&sv);
}

/* ---- tests: errors -------------------------------------------------------------------------- */

static void expect_error(const server *sv, const char *query, const char *want1, const char *want2)
{
    char err[512] = "";
    acq_source *s = open_at(sv, query, err, sizeof err);
    T_CHECK(!s, "%s: opened, expected an error", query);
    if (!s)
        T_CHECK(strstr(err, want1) && (!want2 || strstr(err, want2)), "%s: error \"%s\" lacks \"%s\"%s%s", query, err,
                want1, want2 ? " or " : "", want2 ? want2 : "");
    acq_close(s);
}

static void test_rate_refused_or_off(void)
{
    if (!have_server())
        return;
    server sv;
    if (!server_start(&sv, 0, NULL))
        return;
    /* adxl355 refuses 3000 Hz and stays at 4000 */
    expect_error(&sv, "device=adxl355&channels=accel_x&rate=3000", "rate=3000: adxl355 runs at 4000 Hz", "offers");
    expect_error(&sv, "device=adxl355&channels=accel_x&rate=3000", "writing sampling_frequency failed", NULL);
    /* the ADC takes the nearest rate, 2.4 % off */
    expect_error(&sv, "device=ad7768-4&channels=voltage0&rate=50000&sensitivity_mv_per_g=10", "rate=50000", "51200 Hz");
    expect_error(&sv, "device=adxl355&channels=accel_x&rate=0", "rate=0", NULL);
    expect_error(&sv, "device=adxl355&channels=accel_x&rate=fast", "rate=fast", NULL);
    T_CHECK(strstr(server_log(&sv), "WRITE-VALUE iio:device0 sampling_frequency 3000"), "3000 was not written");
    server_stop(&sv);
}

static void test_unknown_device_channel_and_bad_keys(void)
{
    if (!have_server())
        return;
    server sv;
    if (!server_start(&sv, 0, NULL))
        return;
    expect_error(&sv, "device=adxl999&channels=accel_x", "device=adxl999: no such device",
                 "adxl355, ad7768-4, tmp117, adc-fixed");
    expect_error(&sv, "device=adxl355&channels=accel_x,accel_q", "channels=accel_q",
                 "accel_x, accel_y, accel_z, timestamp");
    expect_error(&sv, "device=adxl355&channels=temp", "channels=temp: adxl355 has no buffered channel temp", NULL);
    expect_error(&sv, "device=adxl355&channels=accel_x,accel_x", "listed twice", NULL);
    expect_error(&sv, "device=adxl355&channels=accel_x&temp=tmp117/humidity", "temp=tmp117/humidity", "temp");
    expect_error(&sv, "device=adxl355&channels=accel_x&temp=lm75/temp", "temp=lm75: no such device", "tmp117");
    expect_error(&sv, "device=adxl355&channels=accel_x&temp=tmp117", "temp=tmp117: expected DEVICE/CHANNEL", NULL);
    expect_error(&sv, "device=ad7768-4&channels=voltage0", "sensitivity_mv_per_g", NULL);
    expect_error(&sv, "device=adxl355&channels=accel_x&sensitivity_mv_per_g=100", "only voltage channels", NULL);
    expect_error(&sv, "channels=accel_x", "device=", "required");
    expect_error(&sv, "device=adxl355", "channels= is required", NULL);
    expect_error(&sv, "device=adxl355&channels=accel_x&frame=7", "frame=7", NULL);
    expect_error(&sv, "device=adxl355&channels=accel_x&frame=100.5", "frame=100.5", NULL);
    expect_error(&sv, "device=adxl355&channels=accel_x&colour=red", "unknown key \"colour\"", NULL);
    char err[512];
    acq_source *s = acq_open("iio:?device=adxl355&channels=accel_x", err, sizeof err);
    T_CHECK(!s && strstr(err, "no libiio context URI"), "empty context URI: %s", s ? "opened" : err);
    acq_close(s);
    server_stop(&sv);
    /* nobody listening any more */
    s = open_at(&sv, "device=adxl355&channels=accel_x", err, sizeof err);
    T_CHECK(!s && strstr(err, "cannot open the libiio context"), "server gone: %s", s ? "opened" : err);
    acq_close(s);
}

/* ---- tests: losses and recovery ------------------------------------------------------------- */

static void test_samples_lost_in_driver_flag_a_gap(void)
{
    if (!have_server())
        return;
    server sv;
    const char *args[] = {"--skip", "5:2000", NULL}; /* after 5 buffers the "driver" loses 2000 samples */
    if (!server_start(&sv, 0, args))
        return;
    char err[512];
    acq_source *s = open_at(&sv, "device=adxl355&channels=accel_x&rate=4000", err, sizeof err);
    T_CHECK(s, "acq_open: %s", err);
    if (s) {
        capture c;
        if (collect(s, 4000, 400, &c)) {
            T_CHECK(c.gap_frames == 1, "%u gap frames, want 1", c.gap_frames);
            T_CHECK(fabs((double)c.gap_samples - 2000) < 150, "gap_samples %llu, want about 2000",
                    (unsigned long long)c.gap_samples);
            T_CHECK(c.t0_continuous, "t0 jumps outside the gap");
            acq_stats st;
            acq_source_stats(s, &st);
            T_CHECK(st.gaps == 1 && st.gap_samples == c.gap_samples, "stats: %llu gaps, %llu samples",
                    (unsigned long long)st.gaps, (unsigned long long)st.gap_samples);
        }
        free(c.x);
        acq_close(s);
    }
    server_stop(&sv);
}

static void test_late_delivery_is_not_a_gap(void)
{
    if (!have_server())
        return;
    server sv;
    const char *args[] = {"--late", "5:0.35", NULL}; /* one buffer 3.5 frames late, nothing lost */
    if (!server_start(&sv, 0, args))
        return;
    char err[512];
    acq_source *s = open_at(&sv, "device=adxl355&channels=accel_x&rate=4000", err, sizeof err);
    T_CHECK(s, "acq_open: %s", err);
    if (s) {
        capture c;
        if (collect(s, 4000, 400, &c)) {
            T_CHECK(c.gap_frames == 0 && c.overrun_frames == 0, "a late delivery flagged as %u gap(s) of %llu samples",
                    c.gap_frames, (unsigned long long)c.gap_samples);
            T_CHECK(c.t0_continuous, "t0 jumps after a late delivery");
            check_tone(&c, 0, 4000, 80, 0.5, 0, "accel_x across the late buffer");
        }
        free(c.x);
        acq_close(s);
    }
    T_CHECK(strstr(server_log(&sv), "LATE iio:device0"), "the server did not delay a buffer");
    server_stop(&sv);
}

static void test_slow_reader_drops_oldest_frames(void)
{
    if (!have_server())
        return;
    server sv;
    if (!server_start(&sv, 0, NULL))
        return;
    char err[512];
    acq_source *s = open_at(&sv, "device=adxl355&channels=accel_x&rate=4000&frame=400", err, sizeof err);
    T_CHECK(s, "acq_open: %s", err);
    if (s) {
        acq_frame *f = acq_frame_new(1, 400);
        T_CHECK(acq_read(s, f, err, sizeof err) == 0, "acq_read: %s", err);
        sleep_s(3.2); /* the queue holds about 2 s */
        unsigned overrun = 0;
        uint64_t gap = 0;
        for (int i = 0; i < 30; i++) {
            if (acq_read(s, f, err, sizeof err) != 0) {
                T_CHECK(0, "acq_read: %s", err);
                break;
            }
            if (f->flags & ACQ_FRAME_OVERRUN) {
                overrun++;
                gap += f->gap_samples;
                T_CHECK(f->flags & ACQ_FRAME_GAP, "an overrun frame without GAP");
            }
        }
        acq_stats st;
        acq_source_stats(s, &st);
        T_CHECK(overrun == 1, "%u frames flagged OVERRUN after falling 3 s behind, want 1", overrun);
        T_CHECK(gap >= 2000 && gap <= 6000 && st.overruns >= 1 && st.gap_samples == gap,
                "dropped %llu samples (stats %llu overruns, %llu samples)", (unsigned long long)gap,
                (unsigned long long)st.overruns, (unsigned long long)st.gap_samples);
        acq_frame_free(f);
        acq_close(s);
    }
    server_stop(&sv);
}

/* Counts lines of a file holding needle. */
static int count_lines(const char *path, const char *needle)
{
    FILE *f = fopen(path, "r");
    int n = 0;
    char line[1024];
    while (f && fgets(line, sizeof line, f))
        n += strstr(line, needle) != NULL;
    if (f)
        fclose(f);
    return n;
}

/* Lines that start with prefix (a syslog priority and the module, "<4>acquisition: ") and hold
 * needle: the reconnect lines carry the priority journald reads, or `journalctl -p warning`
 * hides them. */
static int count_prio_lines(const char *path, const char *prefix, const char *needle)
{
    FILE *f = fopen(path, "r");
    int n = 0;
    char line[1024];
    while (f && fgets(line, sizeof line, f))
        n += strncmp(line, prefix, strlen(prefix)) == 0 && strstr(line, needle) != NULL;
    if (f)
        fclose(f);
    return n;
}

static void test_server_killed_and_restarted(void)
{
    if (!have_server())
        return;
    server sv;
    if (!server_start(&sv, 0, NULL))
        return;
    char err[512];
    acq_source *s = open_at(&sv, "device=adxl355&channels=accel_x,accel_y&rate=4000&temp=adxl355/temp", err, sizeof err);
    T_CHECK(s, "acq_open: %s", err);
    if (!s) {
        server_stop(&sv);
        return;
    }
    /* what the source logs goes to a file for the while */
    char logpath[700];
    snprintf(logpath, sizeof logpath, "%s/iio-stderr.txt", t_tmpdir());
    fflush(stderr);
    int saved = dup(2), fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
        dup2(fd, 2);
        close(fd);
    }
    acq_frame *f = acq_frame_new(2, 400);
    uint64_t last_seq = 0;
    for (int i = 0; i < 5; i++) {
        T_CHECK(acq_read(s, f, err, sizeof err) == 0, "before: acq_read: %s", err);
        last_seq = f->seq;
    }
    int port = sv.port;
    server_stop(&sv);
    double down_at = mono_s();
    /* while it is gone, acq_read returns (it does not hang) and says why */
    int rc;
    while ((rc = acq_read(s, f, err, sizeof err)) == 0)
        last_seq = f->seq; /* frames still queued */
    T_CHECK(rc == -EAGAIN && strstr(err, "reconnecting"), "while down: %d %s", rc, err);
    sleep_s(0.5);
    if (server_start(&sv, port, NULL)) {
        double up_at = mono_s();
        bool resumed = false, flagged = false;
        uint64_t gap = 0;
        for (double t0 = mono_s(); mono_s() - t0 < 15 && !resumed;) {
            rc = acq_read(s, f, err, sizeof err);
            if (rc == -EAGAIN)
                continue;
            T_CHECK(rc == 0, "after: acq_read: %s", err);
            if (rc != 0)
                break;
            T_CHECK(f->seq == last_seq + 1, "seq %llu after %llu", (unsigned long long)f->seq,
                    (unsigned long long)last_seq);
            flagged = f->flags & ACQ_FRAME_GAP;
            gap = f->gap_samples;
            resumed = true;
        }
        T_CHECK(resumed, "no frame within 15 s of the server's restart");
        double down_s = up_at - down_at;
        T_CHECK(flagged, "the first frame after the reconnect is not flagged GAP");
        T_CHECK(gap >= (uint64_t)(down_s * 4000 * 0.8) && gap <= (uint64_t)((down_s + 6) * 4000),
                "gap of %llu samples for about %.2f s down", (unsigned long long)gap, down_s);
        /* and it goes on */
        capture c = {0};
        if (resumed && collect(s, 4000, 400, &c)) {
            check_tone(&c, 0, 4000, 80, 0.5, 0, "accel_x after the reconnect");
            check_tone(&c, 1, 4000, 160, 0.25, 0, "accel_y after the reconnect");
            T_NEAR(c.temp_c, 25.0, 0.01, "temp_c after the reconnect");
            T_CHECK(c.gap_frames == 0, "%u more gaps", c.gap_frames);
        }
        free(c.x);
        acq_stats st;
        acq_source_stats(s, &st);
        T_CHECK(st.disconnects == 1 && st.reconnects == 1 && st.gaps >= 1, "stats: %llu disconnects, %llu reconnects, "
                "%llu gaps", (unsigned long long)st.disconnects, (unsigned long long)st.reconnects,
                (unsigned long long)st.gaps);
    }
    acq_frame_free(f);
    double t = mono_s();
    acq_close(s);
    T_CHECK(mono_s() - t < 1.0, "acq_close took %.2f s", mono_s() - t);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    int lost = count_lines(logpath, "lost the device"), back = count_lines(logpath, "reconnected after"),
        retry = count_lines(logpath, "still reconnecting");
    T_CHECK(lost == 1 && back == 1 && retry <= 1, "logged %d loss, %d recovery, %d retry lines (want 1, 1, ≤ 1)", lost,
            back, retry);
    int lost_w = count_prio_lines(logpath, "<4>acquisition: iio:", "lost the device"),
        back_n = count_prio_lines(logpath, "<5>acquisition: iio:", "reconnected after"),
        retry_w = count_prio_lines(logpath, "<4>acquisition: iio:", "still reconnecting");
    T_CHECK(lost_w == lost && back_n == back && retry_w == retry,
            "priorities: %d of %d loss lines <4>, %d of %d recovery lines <5>, %d of %d retry lines <4> (see %s)", lost_w,
            lost, back_n, back, retry_w, retry, logpath);
    server_stop(&sv);
}

static void test_close_is_prompt_when_blocked_or_backing_off(void)
{
    if (!have_server())
        return;
    server sv;
    const char *args[] = {"--stall-after", "3", NULL};
    if (!server_start(&sv, 0, args))
        return;
    char err[512];
    acq_source *s = open_at(&sv, "device=adxl355&channels=accel_x&rate=1000&frame=100", err, sizeof err);
    T_CHECK(s, "acq_open: %s", err);
    if (s) {
        acq_frame *f = acq_frame_new(1, 100);
        /* 3 buffers served, the last held back until the next refill tells whether it was late */
        for (int i = 0; i < 2; i++)
            T_CHECK(acq_read(s, f, err, sizeof err) == 0, "acq_read: %s", err);
        sleep_s(0.3); /* the thread now waits in a refill the server never answers */
        double t = mono_s();
        acq_close(s);
        T_CHECK(mono_s() - t < 1.0, "acq_close while a refill is blocked took %.2f s", mono_s() - t);
        acq_frame_free(f);
    }
    server_stop(&sv);

    if (!server_start(&sv, 0, NULL))
        return;
    s = open_at(&sv, "device=adxl355&channels=accel_x&rate=1000&frame=100", err, sizeof err);
    T_CHECK(s, "acq_open: %s", err);
    if (s) {
        fflush(stderr);
        int saved = dup(2), devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, 2);
        close(devnull);
        server_stop(&sv);
        sleep_s(2.0); /* lost, then backing off between reconnect attempts */
        double t = mono_s();
        acq_close(s);
        double took = mono_s() - t;
        fflush(stderr);
        dup2(saved, 2);
        close(saved);
        T_CHECK(took < 1.0, "acq_close while reconnecting took %.2f s", took);
    }
}

/* ---- tests: the device's clock -------------------------------------------------------------- */

/* One source read frame by frame, with what its frames said. */
typedef struct track {
    const char *name;
    acq_source *s;
    acq_frame *f;
    acq_selfcheck *sc;        /* fed every frame (made at open, as the daemon does) */
    unsigned frames, gap_frames, overrun_frames, not_increasing;
    uint64_t samples, gap_samples;
    int64_t prev_t0, last_end;
    size_t prev_n;
    double prev_meas;         /* rate_measured_hz after the previous frame */
    double worst_spacing;     /* the largest |spacing / (nsamp / rate_measured_hz) − 1| */
    unsigned spaced;          /* frames whose spacing was judged */
    bool failed;
} track;

static bool track_open(track *t, const char *name, const server *sv, const char *query)
{
    char err[512];
    memset(t, 0, sizeof *t);
    t->name = name;
    t->s = open_at(sv, query, err, sizeof err);
    T_CHECK(t->s, "%s: acq_open: %s", name, err);
    if (!t->s)
        return false;
    t->f = acq_frame_new(acq_source_info(t->s)->nchan, 4096);
    t->sc = acq_selfcheck_new(acq_source_info(t->s));
    return t->f && t->sc;
}

static void track_close(track *t)
{
    acq_selfcheck_free(t->sc);
    acq_frame_free(t->f);
    acq_close(t->s);
}

static bool track_read(track *t)
{
    char err[512];
    int rc = acq_read(t->s, t->f, err, sizeof err);
    if (rc != 0) {
        T_CHECK(0, "%s: acq_read: %d %s", t->name, rc, err);
        t->failed = true;
        return false;
    }
    const acq_frame *f = t->f;
    const acq_info *in = acq_source_info(t->s);
    if (t->frames) {
        if (f->t0_ns <= t->prev_t0)
            t->not_increasing++;
        if (!(f->flags & ACQ_FRAME_GAP) && t->prev_meas > 0) {
            double want = (double)t->prev_n * 1e9 / t->prev_meas, got = (double)(f->t0_ns - t->prev_t0);
            double rel = fabs(got / want - 1);
            t->worst_spacing = rel > t->worst_spacing ? rel : t->worst_spacing;
            t->spaced++;
        }
    }
    t->frames++;
    t->samples += f->nsamp;
    if (f->flags & ACQ_FRAME_GAP) {
        t->gap_frames++;
        t->gap_samples += f->gap_samples;
    }
    if (f->flags & ACQ_FRAME_OVERRUN)
        t->overrun_frames++;
    t->prev_t0 = f->t0_ns;
    t->prev_n = f->nsamp;
    t->prev_meas = in->rate_measured_hz;
    double rate = in->rate_measured_hz > 0 ? in->rate_measured_hz : in->rate_hz;
    t->last_end = f->t0_ns + (int64_t)llround((double)f->nsamp * 1e9 / rate);
    acq_selfcheck_feed(t->sc, f);
    return true;
}

/* Reads the sources (each has its own thread and queue) until each holds want samples, always the
 * one whose data time is furthest behind, so that none waits in its queue while another is read. */
static void track_all(track *t, int n, uint64_t want)
{
    for (;;) {
        track *next = NULL;
        for (int i = 0; i < n; i++)
            if (t[i].s && !t[i].failed && t[i].samples < want && (!next || t[i].last_end < next->last_end))
                next = &t[i];
        if (!next)
            break;
        track_read(next);
    }
}

/* The data time a source reached is the wall clock's, give or take the held frame and latency. */
static void check_on_wall_clock(const track *t)
{
    double behind = (double)(acq_clock_now_ns() - t->last_end) / 1e9;
    T_CHECK(behind > -0.05 && behind < 0.4, "%s: data time ends %.3f s before the wall clock", t->name, behind);
}

static void test_clock_1pct_slow_and_fast_is_not_a_gap(void)
{
    if (!have_server())
        return;
    /* a device whose clock is 1 % slow falls a frame behind nominal time in 10 s, a fast one a
     * frame ahead: neither loses a sample */
    server slow, fast;
    const char *a_slow[] = {"--clock-ppm", "-10000", NULL}, *a_fast[] = {"--clock-ppm", "10000", NULL};
    if (!server_start(&slow, 0, a_slow))
        return;
    if (!server_start(&fast, 0, a_fast)) {
        server_stop(&slow);
        return;
    }
    track t[2];
    bool ok = track_open(&t[0], "1 % slow", &slow, "device=adxl355&channels=accel_x&rate=4000");
    ok &= track_open(&t[1], "1 % fast", &fast, "device=adxl355&channels=accel_x&rate=4000");
    if (ok) {
        track_all(t, 2, 12 * 4000); /* 12 s of frames of 400 */
        const double want[2] = {4000 * 0.99, 4000 * 1.01};
        for (int i = 0; i < 2; i++) {
            const acq_info *in = acq_source_info(t[i].s);
            acq_stats st;
            acq_source_stats(t[i].s, &st);
            T_CHECK(t[i].gap_frames == 0 && t[i].overrun_frames == 0 && st.gaps == 0 && st.overruns == 0,
                    "%s: %u gap frames (%llu samples), %u overruns: a clock that runs off is not a loss", t[i].name,
                    t[i].gap_frames, (unsigned long long)t[i].gap_samples, t[i].overrun_frames);
            T_CHECK(t[i].not_increasing == 0, "%s: t0 went backwards or stood still %u times", t[i].name,
                    t[i].not_increasing);
            T_NEAR(in->rate_measured_hz, want[i], 0.002 * want[i], "measured rate");
            T_CHECK(in->rate_hz == 4000, "%s: rate_hz %g: the nominal rate stays", t[i].name, in->rate_hz);
            /* data time runs at the measured rate (slewed by at most 0.1 %) from ~2 s on */
            T_CHECK(t[i].spaced >= 80 && t[i].worst_spacing < 1.2e-3,
                    "%s: frame spacing off nsamp / rate_measured_hz by up to %.3f %% (%u frames judged)", t[i].name,
                    100 * t[i].worst_spacing, t[i].spaced);
            check_on_wall_clock(&t[i]);
            const acq_selfcheck_channel *cs = acq_selfcheck_channel_status(t[i].sc, 0);
            T_CHECK(cs && !(cs->checks & ACQ_SELFCHECK_DROPOUT) && cs->fault_check != ACQ_SELFCHECK_DROPOUT,
                    "%s: the self-check saw dropouts: %s", t[i].name, cs ? cs->reason : "?");
        }
    }
    track_close(&t[0]);
    track_close(&t[1]);
    T_CHECK(!strstr(server_log(&slow), "DROP") && !strstr(server_log(&fast), "DROP"), "the server dropped samples");
    server_stop(&slow);
    server_stop(&fast);
}

static void test_clock_3pct_off_is_a_rate_mismatch(void)
{
    if (!have_server())
        return;
    server sv;
    const char *args[] = {"--clock-ppm", "-30000", NULL};
    if (!server_start(&sv, 0, args))
        return;
    track t;
    if (track_open(&t, "3 % slow", &sv, "device=adxl355&channels=accel_x&rate=4000")) {
        track_all(&t, 1, 6 * 4000);
        const acq_info *in = acq_source_info(t.s);
        T_NEAR(in->rate_measured_hz, 3880, 0.002 * 3880, "measured rate of a clock 3 % slow");
        T_CHECK(t.gap_frames == 0 && t.not_increasing == 0, "%u gap frames, t0 back %u times", t.gap_frames,
                t.not_increasing);
        /* the checker made at open sees it in the frames' timestamps */
        const acq_selfcheck_channel *cs = acq_selfcheck_channel_status(t.sc, 0);
        const char *m = cs ? strstr(cs->reason, "measured ") : NULL;
        T_CHECK(cs && cs->state == ACQ_SELFCHECK_SENSOR_FAULT && cs->fault_check == ACQ_SELFCHECK_RATE && m &&
                fabs(atof(m + strlen("measured ")) - 3880) < 0.003 * 3880 &&
                strstr(cs->reason, "Hz against the nominal 4000 Hz (-"),
                "self-check made at open: %s, %s", cs ? acq_selfcheck_state_name(cs->state) : "?", cs ? cs->reason : "");
        /* one made now reads it from the info at once */
        double meas = in->rate_measured_hz; /* the checker copies the info as it is now */
        acq_selfcheck *sc = acq_selfcheck_new(in);
        T_CHECK(sc && track_read(&t) && acq_selfcheck_feed(sc, t.f) == 1, "a fresh self-check did not change state");
        cs = acq_selfcheck_channel_status(sc, 0);
        m = cs ? strstr(cs->reason, "the device runs at ") : NULL;
        T_CHECK(cs && cs->fault_check == ACQ_SELFCHECK_RATE && m &&
                fabs(atof(m + strlen("the device runs at ")) - meas) < 0.01 &&
                strstr(cs->reason, "Hz by the clock, not its nominal 4000 Hz (-"), "fresh self-check: %s",
                cs ? cs->reason : "");
        acq_selfcheck_free(sc);
    }
    track_close(&t);
    server_stop(&sv);
}

static void test_drop_under_drift_is_still_a_gap(void)
{
    if (!have_server())
        return;
    server sv;
    /* 1 % slow, and after 4 s the "driver" loses 2000 samples */
    const char *args[] = {"--clock-ppm", "-10000", "--skip", "40:2000", NULL};
    if (!server_start(&sv, 0, args))
        return;
    track t;
    if (track_open(&t, "1 % slow, 2000 lost", &sv, "device=adxl355&channels=accel_x&rate=4000")) {
        track_all(&t, 1, 7 * 4000);
        acq_stats st;
        acq_source_stats(t.s, &st);
        T_CHECK(t.gap_frames == 1 && st.gaps == 1, "%u gap frames (stats %llu), want 1", t.gap_frames,
                (unsigned long long)st.gaps);
        T_CHECK(llabs((long long)t.gap_samples - 2000) <= 40 && st.gap_samples == t.gap_samples,
                "gap_samples %llu (stats %llu), want 2000 ± 1 %%", (unsigned long long)t.gap_samples,
                (unsigned long long)st.gap_samples);
        T_CHECK(t.not_increasing == 0, "t0 went backwards");
        T_NEAR(acq_source_info(t.s)->rate_measured_hz, 3960, 0.002 * 3960, "measured rate across the drop");
        check_on_wall_clock(&t);
    }
    track_close(&t);
    T_CHECK(strstr(server_log(&sv), "SKIP iio:device0 2000"), "the server skipped nothing");
    server_stop(&sv);
}

/* ---- tests: clipping ------------------------------------------------------------------------ */

typedef struct clip_case {
    const char *what, *format, *offset, *tone;
    bool clipped;       /* every frame reaches a rail */
    bool coarse_misses; /* ... where |x| ≥ 0.999 · full scale would not see it, or would see a
                           rail that is not there */
} clip_case;

static void test_clipping_is_judged_by_codes(void)
{
    if (!have_server())
        return;
    static const clip_case cases[] = {
        /* unsigned with an offset: the rails are -2500 mV (code 0) and +5691.875 mV (code 65535);
         * the smaller one is far below 99.9 % of full scale */
        {"u16, offset -20000, railed at code 0", "le:u16/16>>0", "-20000", "adc-fixed=100:3000:-1000", true, true},
        {"u16, offset -20000, near code 0", "le:u16/16>>0", "-20000", "adc-fixed=100:1400:-1000", false, false},
        /* offset -32768: ±4096 mV; 4094 mV is 16 codes short of either rail, inside the coarse band */
        {"u16, offset -32768, 16 codes short", "le:u16/16>>0", "-32768", "adc-fixed=100:4094:0", false, true},
        {"u16, offset -32768, railed", "le:u16/16>>0", "-32768", "adc-fixed=100:4200:0", true, false},
        /* signed 10 bits: -64 … +63.875 mV; the positive rail is 99.8 % of full scale */
        {"s10, railed at +511 only", "le:s10/16>>0", "0", "adc-fixed=100:40:30", true, true},
        {"s10, within ±504", "le:s10/16>>0", "0", "adc-fixed=100:63:0", false, false},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const clip_case *cc = &cases[k];
        server sv;
        const char *args[] = {"--fixed-format", cc->format, "--fixed-offset", cc->offset, "--tone", cc->tone, NULL};
        if (!server_start(&sv, 0, args))
            return;
        char err[512];
        acq_source *s = open_at(&sv, "device=adc-fixed&channels=voltage0&rate=8000&sensitivity_mv_per_g=100", err,
                                sizeof err);
        T_CHECK(s, "%s: acq_open: %s", cc->what, err);
        if (s) {
            const acq_info *in = acq_source_info(s);
            T_CHECK(in->clip_exact, "%s: clip_exact not set", cc->what);
            acq_frame *f = acq_frame_new(1, 800);
            unsigned flagged = 0, frames = 0;
            bool coarse = false;
            float lo = INFINITY, hi = -INFINITY;
            for (int i = 0; i < 5 && f; i++) {
                if (acq_read(s, f, err, sizeof err) != 0) {
                    T_CHECK(0, "%s: acq_read: %s", cc->what, err);
                    break;
                }
                frames++;
                flagged += (f->flags & ACQ_FRAME_CLIPPED) != 0;
                for (size_t j = 0; j < f->nsamp; j++) {
                    lo = f->samples[j] < lo ? f->samples[j] : lo;
                    hi = f->samples[j] > hi ? f->samples[j] : hi;
                    coarse |= fabsf(f->samples[j]) >= 0.999 * in->ch[0].full_scale;
                }
            }
            T_CHECK(flagged == (cc->clipped ? frames : 0), "%s: %u of %u frames flagged CLIPPED, want %s", cc->what,
                    flagged, frames, cc->clipped ? "all" : "none");
            T_CHECK(coarse != cc->clipped || !cc->coarse_misses,
                    "%s: the case does not test what it says (|x| ≥ 0.999 · full scale: %s; range %g … %g g, full "
                    "scale %g g)", cc->what, coarse ? "yes" : "no", lo, hi, in->ch[0].full_scale);
            acq_stats st;
            acq_source_stats(s, &st);
            T_CHECK(st.clipped_frames == flagged, "%s: stats count %llu clipped frames for %u flagged", cc->what,
                    (unsigned long long)st.clipped_frames, flagged);
            acq_frame_free(f);
            acq_close(s);
        }
        server_stop(&sv);
    }

    /* a buffer handed out in pieces: only the pieces that hold a rail are flagged */
    server sv;
    const char *args[] = {"--fixed-format", "le:s10/16>>0", "--fixed-offset", "0", "--tone", "adc-fixed=10:40:30", NULL};
    if (!server_start(&sv, 0, args))
        return;
    char err[512];
    acq_source *s = open_at(&sv, "device=adc-fixed&channels=voltage0&rate=8000&sensitivity_mv_per_g=100", err,
                            sizeof err);
    T_CHECK(s, "pieces: acq_open: %s", err);
    if (s) {
        acq_frame *f = acq_frame_new(1, 100);
        const float rail = (float)(511 * 0.125 / 100);
        unsigned wrong = 0, with = 0, without = 0;
        for (int i = 0; i < 80 && f; i++) { /* 10 buffers of 800 in pieces of 100; the tone rails 1/4 of its 10 Hz period */
            if (acq_read(s, f, err, sizeof err) != 0) {
                T_CHECK(0, "pieces: acq_read: %s", err);
                break;
            }
            bool has = false;
            for (size_t j = 0; j < f->nsamp; j++)
                has |= f->samples[j] == rail;
            wrong += has != ((f->flags & ACQ_FRAME_CLIPPED) != 0);
            with += has;
            without += !has;
        }
        T_CHECK(wrong == 0 && with > 0 && without > 0, "pieces: %u flagged wrongly (%u with a rail, %u without)", wrong,
                with, without);
        acq_frame_free(f);
        acq_close(s);
    }
    server_stop(&sv);
}

/* ---- tests: a device that fails at once, and coupling ------------------------------------- */

static void test_failing_device_backs_off_and_logs_little(void)
{
    if (!have_server())
        return;
    server sv;
    const char *args[] = {"--fail-readbuf", "1", NULL}; /* every stream's first READBUF fails */
    if (!server_start(&sv, 0, args))
        return;
    char logpath[700];
    snprintf(logpath, sizeof logpath, "%s/iio-flap.txt", t_tmpdir());
    fflush(stderr);
    int saved = dup(2), fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
        dup2(fd, 2);
        close(fd);
    }
    char err[512];
    acq_source *s = open_at(&sv, "device=adxl355&channels=accel_x&rate=4000", err, sizeof err);
    acq_stats st = {0};
    if (s) {
        sleep_s(5.0);
        acq_source_stats(s, &st);
        double t = mono_s();
        acq_close(s);
        T_CHECK(mono_s() - t < 1.0, "acq_close took %.2f s", mono_s() - t);
    }
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    T_CHECK(s, "acq_open: %s", err);
    /* backoff 0.1, 0.2, 0.4, 0.8, 1.6, 3.2 s: six buffers in 5 s, not one every 0.1 s */
    int opens = 0;
    for (const char *p = server_log(&sv); (p = strstr(p, "OPEN iio:device0")); p++)
        opens++;
    T_CHECK(opens >= 4 && opens <= 8, "%d buffers opened in 5 s (want 4-8: a growing backoff)", opens);
    T_CHECK(st.disconnects >= 4 && st.disconnects <= 8 && st.reconnects + 1 >= st.disconnects,
            "stats: %llu disconnects, %llu reconnects", (unsigned long long)st.disconnects,
            (unsigned long long)st.reconnects);
    int lines = count_lines(logpath, "acquisition: iio:"), lost = count_prio_lines(logpath, "<4>acquisition: ", "lost the device:"),
        back = count_prio_lines(logpath, "<5>acquisition: ", "reconnected after"),
        summed = count_prio_lines(logpath, "<4>acquisition: ", "more time");
    T_CHECK(lines <= 4 && lost == 1 && back == 1 && summed >= 1,
            "logged %d lines: %d loss, %d recovery, %d summaries (want ≤ 4: 1, 1, ≥ 1; see %s)", lines, lost, back,
            summed, logpath);
    server_stop(&sv);
}

static void test_coupling_key(void)
{
    if (!have_server())
        return;
    server sv;
    if (!server_start(&sv, 0, NULL))
        return;
    static const struct {
        const char *query;
        bool dc;
    } cases[] = {
        {"device=ad7768-4&channels=voltage0&sensitivity_mv_per_g=100", true},
        {"device=ad7768-4&channels=voltage0&sensitivity_mv_per_g=100&coupling=dc", true},
        {"device=ad7768-4&channels=voltage0&sensitivity_mv_per_g=100&coupling=ac", false},
        {"device=adxl355&channels=accel_x", false},
        {"device=adxl355&channels=accel_x&coupling=dc", true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char err[512];
        acq_source *s = open_at(&sv, cases[i].query, err, sizeof err);
        T_CHECK(s, "%s: acq_open: %s", cases[i].query, err);
        if (s)
            T_CHECK(acq_source_info(s)->dc_coupled == cases[i].dc, "%s: dc_coupled %d", cases[i].query,
                    acq_source_info(s)->dc_coupled);
        acq_close(s);
    }
    expect_error(&sv, "device=ad7768-4&channels=voltage0&sensitivity_mv_per_g=100&coupling=AC", "coupling=AC: expected dc",
                 "or ac");
    expect_error(&sv, "device=ad7768-4&channels=voltage0&sensitivity_mv_per_g=100&coupling=", "coupling=: expected dc",
                 NULL);
    server_stop(&sv);
}

/* ---- test: the local backend over a fake sysfs -------------------------------------------- */

/* The child's first failure (it cannot use the harness, whose lines the parent prints). */
static char why[512];
__attribute__((format(printf, 1, 2))) static void child_fail(const char *fmt, ...)
{
    if (why[0])
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
}
#define CK(cond, ...) do { if (!(cond)) child_fail(__VA_ARGS__); } while (0)

static int put(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -errno;
    fputs(text, f);
    return fclose(f) == 0 ? 0 : -errno;
}

static int mkdirs(const char *path)
{
    char p[512];
    snprintf(p, sizeof p, "%s", path);
    for (char *s = p + 1; *s; s++)
        if (*s == '/') {
            *s = 0;
            if (mkdir(p, 0755) < 0 && errno != EEXIST)
                return -errno;
            *s = '/';
        }
    return mkdir(p, 0755) < 0 && errno != EEXIST ? -errno : 0;
}

#define SYSDEV "/sys/bus/iio/devices/iio:device0"

/* Writes adxl355-like scans (3 × le:s16) into the FIFO, paced at 4000 Hz once the buffer is on. */
static void fifo_writer(int fd)
{
    char en[8] = "";
    for (int i = 0; i < 1000 && en[0] != '1'; i++) {
        FILE *f = fopen(SYSDEV "/buffer/enable", "r");
        if (f) {
            if (!fgets(en, sizeof en, f))
                en[0] = 0;
            fclose(f);
        }
        sleep_s(0.01);
    }
    const double lsb_g = 4.0 / 32768.0, rate = 4000;
    const double freq[3] = {80, 160, 320}, amp[3] = {0.5, 0.25, 0.5}, dc[3] = {0, 0, 1}, off[3] = {0, -50, 25};
    int16_t block[400 * 3];
    double start = mono_s();
    for (uint64_t k = 0; k < 4000 * 30;) {
        for (int i = 0; i < 400; i++, k++)
            for (int c = 0; c < 3; c++)
                block[i * 3 + c] = (int16_t)lround((dc[c] + amp[c] * sin(2 * M_PI * freq[c] * (double)k / rate)) / lsb_g -
                                                   off[c]);
        double due = start + (double)k / rate;
        if (due > mono_s())
            sleep_s(due - mono_s());
        if (write(fd, block, sizeof block) != (ssize_t)sizeof block)
            _exit(0);
    }
    _exit(0);
}

/* In the child: a private mount namespace with the fake tree; "skip …" when not allowed. */
static void local_child(int out)
{
    char msg[600] = "ok";
    pid_t writer = -1;
    if (unshare(CLONE_NEWNS) < 0) {
        snprintf(msg, sizeof msg, "skip mount namespaces are not allowed here (unshare: %s)", strerror(errno));
        goto report;
    }
    /* private first: nothing mounted here may propagate to the host */
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
        snprintf(msg, sizeof msg, "skip cannot make mounts private (%s)", strerror(errno));
        goto report;
    }
    if (mount("vwtest", "/sys/bus", "tmpfs", 0, "size=4m") < 0) {
        snprintf(msg, sizeof msg, "skip cannot mount a tmpfs on /sys/bus (%s)", strerror(errno));
        goto report;
    }
    char realdev[600];
    snprintf(realdev, sizeof realdev, "%s/realdev", t_tmpdir());
    if (mkdirs(realdev) < 0 || mount("/dev", realdev, NULL, MS_BIND | MS_REC, NULL) < 0 ||
        mount("vwtest", "/dev", "tmpfs", 0, "size=1m") < 0) {
        snprintf(msg, sizeof msg, "skip cannot put a tmpfs on /dev (%s)", strerror(errno));
        goto report;
    }
    static const char *const nodes[] = {"null", "zero", "urandom", "random", "full"};
    for (size_t i = 0; i < sizeof nodes / sizeof nodes[0]; i++) {
        char from[700], to[64];
        snprintf(from, sizeof from, "%s/%s", realdev, nodes[i]);
        snprintf(to, sizeof to, "/dev/%s", nodes[i]);
        if (put(to, "") == 0 && mount(from, to, NULL, MS_BIND, NULL) < 0) {
        }
    }
    int bad = mkdirs(SYSDEV "/scan_elements") | mkdirs(SYSDEV "/buffer");
    static const char *const files[][2] = {
        {"name", "adxl355\n"}, {"sampling_frequency", "4000\n"}, {"sampling_frequency_available", "4000 2000 1000\n"},
        {"in_accel_scale", "0.001197100830078125\n"}, {"in_accel_x_offset", "0\n"}, {"in_accel_y_offset", "-50\n"},
        {"in_accel_z_offset", "25\n"}, {"in_accel_x_raw", "0\n"}, {"in_accel_y_raw", "0\n"}, {"in_accel_z_raw", "0\n"},
        {"in_temp_raw", "1885\n"}, {"in_temp_scale", "-110.497238\n"}, {"in_temp_offset", "-2111.25\n"},
        {"buffer/enable", "0\n"}, {"buffer/length", "0\n"}, {"buffer/watermark", "1\n"},
        {"scan_elements/in_accel_x_en", "0\n"}, {"scan_elements/in_accel_x_index", "0\n"},
        {"scan_elements/in_accel_x_type", "le:s16/16>>0\n"}, {"scan_elements/in_accel_y_en", "0\n"},
        {"scan_elements/in_accel_y_index", "1\n"}, {"scan_elements/in_accel_y_type", "le:s16/16>>0\n"},
        {"scan_elements/in_accel_z_en", "0\n"}, {"scan_elements/in_accel_z_index", "2\n"},
        {"scan_elements/in_accel_z_type", "le:s16/16>>0\n"},
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char path[256];
        snprintf(path, sizeof path, SYSDEV "/%s", files[i][0]);
        bad |= put(path, files[i][1]);
    }
    if (bad || mkfifo("/dev/iio:device0", 0600) < 0) {
        snprintf(msg, sizeof msg, "not ok cannot build the fake sysfs tree (%s)", strerror(errno));
        goto report;
    }
    int fifo = open("/dev/iio:device0", O_RDWR | O_CLOEXEC);
    if (fifo < 0 || (writer = fork()) < 0) {
        snprintf(msg, sizeof msg, "not ok fifo: %s", strerror(errno));
        goto report;
    }
    if (writer == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        fifo_writer(fifo);
    }
    close(fifo);

    char err[512];
    acq_source *s = acq_open("iio:local:?device=adxl3&channels=accel_x", err, sizeof err);
    CK(!s && strstr(err, "device=adxl3: no such device at local:") && strstr(err, "adxl355"), "unknown device: %s",
       s ? "opened" : err);
    acq_close(s);
    s = acq_open("iio:local:?device=adxl355&channels=accel_w", err, sizeof err);
    CK(!s && strstr(err, "accel_x, accel_y, accel_z"), "unknown channel: %s", s ? "opened" : err);
    acq_close(s);
    s = acq_open("iio:local:?device=adxl355&channels=accel_x,accel_y,accel_z&rate=4000&temp=adxl355/temp", err,
                 sizeof err);
    CK(s, "acq_open: %s", err);
    if (s) {
        const acq_info *in = acq_source_info(s);
        CK(in->nchan == 3 && in->rate_hz == 4000 && in->has_temp, "info: %u ch at %g Hz", in->nchan, in->rate_hz);
        char sf[64] = "";
        FILE *f = fopen(SYSDEV "/sampling_frequency", "r");
        if (f) {
            if (!fgets(sf, sizeof sf, f))
                sf[0] = 0;
            fclose(f);
        }
        CK(atof(sf) == 4000 && strchr(sf, '.'), "sampling_frequency was not written through sysfs (\"%s\")", sf);
        capture c;
        int64_t before = acq_clock_now_ns();
        if (collect(s, 4000, 400, &c)) {
            const double freq[3] = {80, 160, 320}, amp[3] = {0.5, 0.25, 0.5}, dc[3] = {0, 0, 1};
            for (unsigned ch = 0; ch < 3; ch++) {
                tone t = measure(&c, ch, 4000, freq[ch]);
                CK(fabs(t.freq - freq[ch]) < 0.015 * freq[ch] + 1.5 && fabs(t.amp - amp[ch]) < 0.01 * amp[ch] &&
                   fabs(t.mean - dc[ch]) < 0.01, "%s: %.2f Hz, %.4f g, mean %.4f g", in->ch[ch].name, t.freq, t.amp,
                   t.mean);
            }
            CK(fabs(c.temp_c - 25.0) < 0.01, "temp_c %.3f", c.temp_c);
            CK(c.t0_continuous && c.first_t0 > before - 500000000LL, "timestamps");
        }
        free(c.x);
        char en[8] = "";
        f = fopen(SYSDEV "/scan_elements/in_accel_y_en", "r");
        if (f) {
            if (!fgets(en, sizeof en, f))
                en[0] = 0;
            fclose(f);
        }
        CK(en[0] == '1', "in_accel_y_en is \"%s\" while streaming", en);
        acq_close(s);
    }
    /* last: this one starts a buffer before the key is refused, and the FIFO, unlike a device, keeps
     * whatever the reader left of a sample */
    s = acq_open("iio:local:?device=adxl355&channels=accel_x,accel_y&channels2=x", err, sizeof err);
    CK(!s && strstr(err, "unknown key \"channels2\""), "unknown key accepted: %s", s ? "opened" : err);
    acq_close(s);
    if (why[0])
        snprintf(msg, sizeof msg, "not ok %s", why);
report:
    if (writer > 0) {
        kill(writer, SIGKILL);
        waitpid(writer, NULL, 0);
    }
    if (write(out, msg, strlen(msg)) < 0) {
    }
    close(out);
    _exit(0);
}

static void test_local_backend_over_fake_sysfs(void)
{
    if (!have_iio())
        return;
    if (geteuid() != 0) {
        t_skip("the local: backend test needs root for a mount namespace (unshare -m)");
        return;
    }
    int p[2];
    if (pipe(p) < 0) {
        T_CHECK(0, "pipe: %s", strerror(errno));
        return;
    }
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        local_child(p[1]);
    }
    close(p[1]);
    char msg[600] = "";
    size_t n = 0;
    ssize_t r;
    while (pid > 0 && n < sizeof msg - 1 && (r = read(p[0], msg + n, sizeof msg - 1 - n)) > 0)
        n += (size_t)r;
    msg[n] = 0;
    close(p[0]);
    int status = 0;
    if (pid > 0)
        waitpid(pid, &status, 0);
    if (pid < 0)
        T_CHECK(0, "fork: %s", strerror(errno));
    else if (strncmp(msg, "skip ", 5) == 0)
        t_skip("%s", msg + 5);
    else if (strcmp(msg, "ok") != 0)
        T_CHECK(0, "%s", msg[0] ? (strncmp(msg, "not ok ", 7) == 0 ? msg + 7 : msg) : "the child died");
    else
        T_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d", status);
}

/* VW_TEST_ONLY=NAME runs just the tests whose name contains NAME. */
#define RUN(fn) t_run_only(#fn, fn)

int main(void)
{
    /* SIGPIPE keeps its default action: the source must not die when iiod goes away */
    RUN(test_accel_16bit_tones_order_temperature);
    RUN(test_accel_20bit_big_endian_shifted);
    RUN(test_voltage_channels_through_sensitivity);
    RUN(test_device_without_sampling_frequency);
    RUN(test_rate_refused_or_off);
    RUN(test_unknown_device_channel_and_bad_keys);
    RUN(test_samples_lost_in_driver_flag_a_gap);
    RUN(test_late_delivery_is_not_a_gap);
    RUN(test_slow_reader_drops_oldest_frames);
    RUN(test_server_killed_and_restarted);
    RUN(test_close_is_prompt_when_blocked_or_backing_off);
    RUN(test_clock_1pct_slow_and_fast_is_not_a_gap);
    RUN(test_clock_3pct_off_is_a_rate_mismatch);
    RUN(test_drop_under_drift_is_still_a_gap);
    RUN(test_clipping_is_judged_by_codes);
    RUN(test_failing_device_backs_off_and_logs_little);
    RUN(test_coupling_key);
    RUN(test_local_backend_over_fake_sysfs);
    return t_done();
}

/* acquisition/src_iio.c — the iio: scheme: IIO accelerometers and ADCs through libiio (0.24 API),
 * on this host (`iio:local:`) or through iiod on another one (`iio:ip:HOST[:PORT]`).
 *
 *   iio:<libiio context URI>?device=NAME&channels=a,b,c[&rate=HZ][&temp=DEVICE/CHANNEL]
 *       [&sensitivity_mv_per_g=S][&frame=SAMPLES][&coupling=dc|ac]
 *
 * channels: the device's scan elements, in the order the frames carry them. rate: written to the
 * device and checked; without it the device's own rate is used (and a device that has no
 * sampling_frequency needs it). temp: a channel read once a frame, through `input` or raw · scale
 * + offset (milli-°C by the IIO ABI). sensitivity_mv_per_g: the sensor's on voltage inputs (an
 * IEPE accelerometer on an ADC). frame: samples per channel per buffer and frame, default a tenth
 * of a second. coupling: whether the samples keep their DC level (info.dc_coupled, which lets the
 * self-check read an IEPE sensor's bias); dc by default for voltage inputs, ac for an AC-coupled or
 * level-shifted front end whose mean says nothing about the bias.
 *
 * Clipping is flagged here, exactly: a frame in which any channel delivered its format's lowest or
 * highest code (0 or 2^bits − 1 unsigned, −2^(bits−1) or 2^(bits−1) − 1 signed) is CLIPPED, whatever
 * the offset makes of those codes in g (info.clip_exact: acq_read adds no check of its own).
 *
 * Every libiio call of vibewatch lives in this file.
 *
 * Open runs in the caller's thread so that every mistake comes back from acq_open() naming the URI
 * part: the device (with the devices that exist), a channel (with the device's scan elements), the
 * rate (written to `sampling_frequency`, read back, refused beyond 0.5 %), the temperature channel.
 * Samples become g by the IIO ABI: (raw + offset) · scale, where libiio's data format gives sign,
 * bits, shift and endianness; an accelerometer's scale is in m/s² (÷ 9.80665), a voltage channel's
 * in mV (÷ sensitivity_mv_per_g, which voltage channels need).
 *
 * Threads: each source runs one acquisition thread that owns the libiio context and buffer. It
 * refills a buffer of `frame` samples, converts it into a frame and hands it to acq_read() through
 * a ring of preallocated frames (a mutex and a condition variable; about 2 s, 2–64 frames, at most
 * 64 MiB). When the reader falls behind, the oldest frame is dropped, counted as an overrun, and the
 * frame after it carries GAP | OVERRUN with the samples lost — the ring never grows.
 *
 * Time: the first refill anchors data time to the wall clock (its return minus the buffer's
 * duration); after that, data time advances by sample count at the rate the device really runs
 * at. A device's clock is never exactly nominal (crystals are off by tens of ppm, a cheap one by a
 * percent), so the thread measures it: the sample count at the end of every refill that had to
 * wait for fresh data is paired with CLOCK_MONOTONIC when it returned, and a least-squares line
 * through the last IIO_FIT_POINTS such arrivals (at least IIO_FIT_STEP_NS apart) gives the device's
 * sample period. Once that fit spans IIO_FIT_TRUST_NS (and 4 frames), data time advances at the
 * measured period, and info.rate_measured_hz reports it (the self-check calls a rate more than 1 %
 * from nominal a fault). The difference between data time and the fitted arrivals (where the
 * first anchor put it) is closed by slewing, never by stepping: each frame's period may differ
 * from the measured one by at most IIO_SLEW_MAX, so data time stays strictly increasing and frame
 * spacing matches nsamp / rate_measured_hz to that fraction. The wall clock enters only as an
 * offset from CLOCK_MONOTONIC: a step of the wall clock (NTP setting a clock that booted wrong) is
 * followed at once and logged, and is never taken for lost samples.
 *
 * Loss is what the drift does not explain: a refill that waited for fresh data yet returns more
 * than a frame after the fit predicts may mean lost samples — or only a late delivery. Each frame
 * is therefore held back for one refill (one frame of latency): if the next refill waits too and
 * is still behind the prediction, the held frame is flagged GAP (and OVERRUN) with the samples
 * missing, counted at the measured rate, and the count moves past them; if the data was just
 * late, the next refill finds it waiting and nothing is flagged. Reading a backlog further behind
 * than the kernel's buffers could hold is a loss at once.
 *
 * Disconnects: a failed refill (the device or iiod went away, a timeout) destroys buffer and
 * context and the thread reconnects with exponential backoff, 0.1 s doubling to 5 s; the backoff
 * returns to 0.1 s only once refills have run for IIO_STABLE_NS, so a device that accepts the
 * connection and fails at once is retried ever more slowly, not ten times a second. The first loss
 * and the first recovery of such an episode are each logged (common/log.h, with the syslog
 * priority journald reads: losses and failures to reconnect as warnings, recoveries as notices);
 * further losses before the device has run IIO_STABLE_NS are counted and summed up in one line at
 * growing intervals (2 s, 4 s, … up to an hour), and the end of a troubled episode is logged once.
 * Failures to reconnect are logged once per distinct reason. (libiio's own "ERROR: …" lines go to
 * stderr without a priority: journald files them as info.) Everything is counted (disconnects, reconnects, and the
 * failed refill as an overrun), and the first frame after recovery carries GAP with the samples
 * the clock says were missed. Nothing about the sensor may change across a reconnect: the same
 * rate is written again and checked.
 *
 * Blocking: the thread blocks in iio_buffer_refill() (bounded by the context timeout, set from the
 * frame duration) and in its backoff wait. acq_close() wakes the wait, lets a refill of flowing
 * data finish (at most 0.3 s), cancels one that is stuck (iio_buffer_cancel) and joins. Before each
 * network reconnect a short, cancellable TCP probe keeps libiio from blocking on a host that is
 * gone, so only a host that accepts and then never answers can hold acq_close() for libiio's own
 * connect timeout (5 s). acq_read() waits at most max(2 s, 4 frames) and then returns -EAGAIN
 * saying what the source is doing, so its caller can stop or report.
 *
 * Signals: libiio 0.24 writes to sockets without MSG_NOSIGNAL; SIGPIPE is blocked wherever this
 * file calls it, so a vanished iiod never kills the program.
 */
#include "source.h"

#include "common/log.h"

#include <errno.h>
#include <iio.h>
#include <math.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define IIO_STD_G 9.80665             /* m/s² per g */
#define IIO_RATE_TOLERANCE 0.005      /* a read-back rate may differ this much from the request */
#define IIO_RING_SECONDS 2.0          /* the ring holds about this much */
#define IIO_RING_MIN 2
#define IIO_RING_MAX 64
#define IIO_RING_MAX_BYTES ((size_t)64 << 20)
#define IIO_FRAME_MIN 16
#define IIO_FRAME_MAX ((size_t)1 << 20)
#define IIO_KERNEL_BUFFERS 4          /* asked of the driver; bounds a legitimate backlog */
#define IIO_BACKOFF_MIN_NS 100000000LL
#define IIO_BACKOFF_MAX_NS 5000000000LL
#define IIO_PROBE_TIMEOUT_MS 2000
#define IIO_STABLE_NS 10000000000LL   /* refills running this long end a loss episode */
#define IIO_REPORT_FIRST_NS 2000000000LL /* repeated losses: summed up after 2 s, 4 s, … */
#define IIO_REPORT_MAX_NS 3600000000000LL /* ... and at least once an hour */
/* The device's clock, measured (see "Time" above). A fit over ≥ 4.8 s of arrivals with a
 * millisecond of jitter knows the period to a few 1e-4; a slew of 1e-3 closes a 10 ms phase error
 * in 10 s yet keeps frame spacing within 0.1 % of the measured rate. */
#define IIO_FIT_POINTS 64
#define IIO_FIT_STEP_NS 75000000LL    /* at most one point per 75 ms */
#define IIO_FIT_TRUST_NS 2000000000LL /* a fit spanning this gives the rate */
#define IIO_FIT_RANGE 2.0             /* a period beyond ×/÷ 2 of nominal is not believed */
#define IIO_SLEW_MAX 1e-3
#define IIO_SLEW_TAU_NS 5e9           /* the phase error closes with this time constant */
#define IIO_CLOCK_STEP_NS 10000000LL  /* the wall clock moved this much against CLOCK_MONOTONIC */

/* How one channel's raw samples become g. */
typedef struct iio_conv {
    struct iio_channel *chn;
    unsigned bytes;    /* storage per sample after iio_channel_convert: 1, 2, 4 or 8 */
    bool is_signed;
    double offset;     /* raw units, added before scaling */
    double g_per_raw;  /* scale × unit factor */
    double code_lo, code_hi; /* the format's lowest and highest codes: the converter's rails */
    float rail_lo, rail_hi;  /* ... as converted (to find them again in part of a frame) */
    enum iio_chan_type type;
} iio_conv;

typedef struct iio_slot {
    float *samples; /* frame × nchan, interleaved */
    size_t nsamp;
    int64_t t0_ns;
    double rate_hz;      /* data time per sample within the frame (the measured rate, slewed) */
    double rate_meas_hz; /* the device's measured rate when it was dated; 0: not yet known */
    unsigned flags;
    uint64_t gap_samples;
    double temp_c;
} iio_slot;

/* Arrivals of fresh data: sample count at the end of a refill against CLOCK_MONOTONIC when it
 * returned, and the least-squares line through them: t ≈ t_ref + t_mean + slope · (k − k_ref −
 * k_mean), slope in ns per sample. */
typedef struct iio_fit {
    uint64_t k[IIO_FIT_POINTS];
    int64_t t[IIO_FIT_POINTS];
    unsigned n, first;
    uint64_t k_ref;
    int64_t t_ref;
    double k_mean, t_mean, slope;
    double k_span, t_span_ns; /* newest − oldest */
} iio_fit;

typedef struct iio_src {
    acq_source *src;
    /* configuration: fixed once open returns */
    char ctx_uri[256];
    char dev_name[64];
    char chan_names[ACQ_MAX_CHANNELS][32];
    unsigned nchan;
    char temp_dev[64], temp_chan[64];
    bool want_temp;
    double rate_req;     /* 0: not asked */
    double rate_hz;      /* what the device runs at (0 until the first connect) */
    bool has_rate_attr;
    double sens_mv_per_g; /* 0: not given */
    int coupling;        /* 'd' or 'a' as given by coupling=; 0: not given */
    size_t frame;        /* samples per channel per refill and per frame */
    unsigned timeout_ms;

    /* libiio state: the opener's until the thread starts, then the thread's */
    struct iio_context *ctx;
    struct iio_device *dev;
    struct iio_buffer *buf; /* published under buf_lock: acq_close() cancels it */
    iio_conv conv[ACQ_MAX_CHANNELS];
    struct iio_channel *temp_chn;
    bool temp_input;     /* `input` (milli-°C) rather than raw · scale + offset */
    double temp_scale, temp_offset;
    float *work;         /* the frame being converted */
    float *held_buf;     /* the frame held for one refill (see settle) */
    iio_slot held;       /* its data time and flags (samples in held_buf; nsamp 0: none) */
    bool held_suspect;   /* it came more than a frame after the prediction: a loss, or late? */
    int64_t held_behind_ns;

    /* data time, the thread's: sample `count` (lost samples included) is dated next_ns (+
     * next_frac_ns) on CLOCK_MONOTONIC, wall_off_ns later on the wall clock; each further sample
     * adds period_ns */
    bool anchored, resume_gap;
    uint64_t count;
    int64_t next_ns, wall_off_ns;
    double next_frac_ns, period_ns;
    double meas_period_ns; /* the device's sample period by the fit; 0 until the fit is trusted */
    iio_fit fit;
    acq_info *info;      /* the source's: rate_measured_hz is updated by iio_read (the reader) */

    /* shared with the reader and acq_close(): under lock */
    pthread_mutex_t lock;
    pthread_cond_t cond;  /* a frame arrived, or stop */
    iio_slot ring[IIO_RING_MAX];
    unsigned ring_cap, head, queued;
    size_t head_off;      /* samples of ring[head] already handed out */
    bool stop;
    bool exited;          /* the thread is done with libiio */
    bool down;
    int64_t down_since_ns;
    char down_why[160];

    pthread_mutex_t buf_lock;
    pthread_t thread;
    bool thread_started;
} iio_src;

/* ---- small helpers ------------------------------------------------------------------------ */

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t samples_ns(double rate_hz, uint64_t n) { return (int64_t)llround((double)n * 1e9 / rate_hz); }

/* snprintf for messages: one cut short is better than none, and says so by its length. */
__attribute__((format(printf, 3, 4))) static void say(char *dst, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(dst, cap, fmt, ap);
    va_end(ap);
}

static void errstr(int err, char *buf, size_t len)
{
    iio_strerror(err < 0 ? -err : err, buf, len);
}

/* Appends ", name" (or "name" first) to list, keeping it bounded. */
static void list_add(char *list, size_t cap, const char *name)
{
    size_t n = strlen(list);
    if (n + 8 >= cap)
        return;
    if (n + strlen(name) + 3 >= cap - 5) {
        if (!strstr(list, "…"))
            snprintf(list + n, cap - n, ", …");
        return;
    }
    snprintf(list + n, cap - n, "%s%s", n ? ", " : "", name);
}

/* libiio 0.24 writes to its sockets without MSG_NOSIGNAL: a vanished iiod would raise SIGPIPE and
 * kill a program that does not ignore it. The acquisition thread runs with SIGPIPE blocked (it
 * inherits the mask iio_open() holds while starting it); open and close block it around their
 * libiio calls and take back a SIGPIPE raised meanwhile. */
static void sigpipe_block(sigset_t *old)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, old);
}

static void sigpipe_restore(const sigset_t *old)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    if (!sigismember(old, SIGPIPE)) {
        const struct timespec zero = {0, 0};
        while (sigtimedwait(&set, NULL, &zero) == SIGPIPE) {
        }
    }
    pthread_sigmask(SIG_SETMASK, old, NULL);
}

static bool stopping(iio_src *st)
{
    pthread_mutex_lock(&st->lock);
    bool stop = st->stop;
    pthread_mutex_unlock(&st->lock);
    return stop;
}

/* ---- connecting ----------------------------------------------------------------------------- */

static void disconnect(iio_src *st)
{
    pthread_mutex_lock(&st->buf_lock);
    struct iio_buffer *buf = st->buf;
    st->buf = NULL;
    pthread_mutex_unlock(&st->buf_lock);
    if (buf)
        iio_buffer_destroy(buf);
    if (st->ctx)
        iio_context_destroy(st->ctx);
    st->ctx = NULL;
    st->dev = NULL;
    st->temp_chn = NULL;
}

static struct iio_device *find_device(iio_src *st, const char *name, const char *key, char *err, size_t errlen)
{
    struct iio_device *dev = iio_context_find_device(st->ctx, name);
    if (dev)
        return dev;
    char list[200] = "";
    unsigned n = iio_context_get_devices_count(st->ctx);
    for (unsigned i = 0; i < n; i++) {
        const struct iio_device *d = iio_context_get_device(st->ctx, i);
        const char *dn = iio_device_get_name(d);
        list_add(list, sizeof list, dn ? dn : iio_device_get_id(d));
    }
    say(err, errlen, "%s=%s: no such device at %s (%s%s)", key, name, st->ctx_uri,
             n ? "it has: " : "it has no IIO devices", list);
    return NULL;
}

static void scan_element_list(const struct iio_device *dev, char *list, size_t cap)
{
    list[0] = 0;
    unsigned n = iio_device_get_channels_count(dev);
    for (unsigned i = 0; i < n; i++) {
        const struct iio_channel *ch = iio_device_get_channel(dev, i);
        if (iio_channel_is_scan_element(ch) && !iio_channel_is_output(ch))
            list_add(list, cap, iio_channel_get_id(ch));
    }
}

static int read_attr_double(struct iio_channel *ch, const char *attr, double *out)
{
    if (!iio_channel_find_attr(ch, attr))
        return -ENOENT;
    int rc = iio_channel_attr_read_double(ch, attr, out);
    if (rc == 0 && !isfinite(*out))
        rc = -EINVAL;
    return rc;
}

/* Writes the rate we want (if any) to the device's or the channels' sampling_frequency and reads
 * back what the device runs at. */
static int setup_rate(iio_src *st, bool first, char *err, size_t errlen)
{
    char e[96];
    struct iio_device *dev = st->dev;
    bool dev_attr = iio_device_find_attr(dev, "sampling_frequency") != NULL;
    bool chn_attr = !dev_attr;
    for (unsigned c = 0; c < st->nchan && chn_attr; c++)
        chn_attr = iio_channel_find_attr(st->conv[c].chn, "sampling_frequency") != NULL;
    if (!dev_attr && !chn_attr) {
        if (first && !(st->rate_req > 0)) {
            say(err, errlen, "rate= is required: %s has no sampling_frequency attribute to read it from",
                     st->dev_name);
            return -EINVAL;
        }
        st->has_rate_attr = false;
        if (first)
            st->rate_hz = st->rate_req;
        return 0;
    }
    st->has_rate_attr = true;
    double want = first ? st->rate_req : st->rate_hz;
    int wrc = 0;
    if (want > 0) {
        if (dev_attr)
            wrc = iio_device_attr_write_double(dev, "sampling_frequency", want);
        else
            for (unsigned c = 0; c < st->nchan && wrc >= 0; c++)
                wrc = iio_channel_attr_write_double(st->conv[c].chn, "sampling_frequency", want);
    }
    double actual = 0;
    int rrc = dev_attr ? iio_device_attr_read_double(dev, "sampling_frequency", &actual)
                       : iio_channel_attr_read_double(st->conv[0].chn, "sampling_frequency", &actual);
    if (rrc < 0 || !isfinite(actual) || !(actual > 0)) {
        errstr(rrc < 0 ? rrc : EINVAL, e, sizeof e);
        say(err, errlen, "rate: cannot read %s's sampling_frequency back (%s)", st->dev_name, e);
        return rrc < 0 ? rrc : -EINVAL;
    }
    for (unsigned c = 1; !dev_attr && c < st->nchan; c++) {
        double other = 0;
        if (iio_channel_attr_read_double(st->conv[c].chn, "sampling_frequency", &other) == 0 &&
            fabs(other - actual) > IIO_RATE_TOLERANCE * actual) {
            say(err, errlen, "rate: %s runs %s at %g Hz but %s at %g Hz; one source needs one rate",
                     st->dev_name, st->chan_names[0], actual, st->chan_names[c], other);
            return -EINVAL;
        }
    }
    if (want > 0 && fabs(actual - want) > IIO_RATE_TOLERANCE * want) {
        char avail[120] = "";
        if (dev_attr && iio_device_find_attr(dev, "sampling_frequency_available")) {
            char a[100];
            if (iio_device_attr_read(dev, "sampling_frequency_available", a, sizeof a) > 0)
                say(avail, sizeof avail, "; it offers %s Hz", a);
        }
        char wr[100] = "";
        if (wrc < 0) {
            errstr(wrc, e, sizeof e);
            say(wr, sizeof wr, " (writing sampling_frequency failed: %s)", e);
        }
        say(err, errlen, "rate=%g: %s runs at %g Hz, not the %g Hz requested (%+.2f %%)%s%s", want,
                 st->dev_name, actual, want, 100.0 * (actual - want) / want, wr, avail);
        return -EINVAL;
    }
    if (first)
        st->rate_hz = actual;
    return 0;
}

/* The temperature channel: `input` in milli-°C, or raw · scale + offset in milli-°C. */
static int setup_temp(iio_src *st, char *err, size_t errlen)
{
    char key[140];
    snprintf(key, sizeof key, "temp=%s/%s", st->temp_dev, st->temp_chan);
    struct iio_device *tdev = find_device(st, st->temp_dev, "temp", err, errlen);
    if (!tdev)
        return -ENODEV;
    struct iio_channel *ch = iio_device_find_channel(tdev, st->temp_chan, false);
    if (!ch) {
        char list[160] = "";
        unsigned n = iio_device_get_channels_count(tdev);
        for (unsigned i = 0; i < n; i++) {
            const struct iio_channel *c = iio_device_get_channel(tdev, i);
            if (!iio_channel_is_output(c) && iio_channel_get_type(c) == IIO_TEMP)
                list_add(list, sizeof list, iio_channel_get_id(c));
        }
        say(err, errlen, "%s: %s has no input channel %s (%s%s)", key, st->temp_dev, st->temp_chan,
                 list[0] ? "temperature channels: " : "it has no temperature channel", list);
        return -ENOENT;
    }
    st->temp_chn = ch;
    st->temp_input = iio_channel_find_attr(ch, "input") != NULL;
    st->temp_scale = 1;
    st->temp_offset = 0;
    if (!st->temp_input) {
        if (!iio_channel_find_attr(ch, "raw")) {
            say(err, errlen, "%s: the channel has neither an input nor a raw attribute", key);
            return -ENOENT;
        }
        if (read_attr_double(ch, "scale", &st->temp_scale) == -EINVAL ||
            read_attr_double(ch, "offset", &st->temp_offset) == -EINVAL) {
            say(err, errlen, "%s: unreadable scale or offset", key);
            return -EINVAL;
        }
    }
    double v;
    int rc = read_attr_double(ch, st->temp_input ? "input" : "raw", &v);
    if (rc < 0) {
        char e[96];
        errstr(rc, e, sizeof e);
        say(err, errlen, "%s: cannot read %s (%s)", key, st->temp_input ? "input" : "raw", e);
        return rc;
    }
    return 0;
}

static double read_temp_c(iio_src *st)
{
    double v;
    if (!st->temp_chn || read_attr_double(st->temp_chn, st->temp_input ? "input" : "raw", &v) < 0)
        return NAN;
    if (!st->temp_input)
        v = (v + st->temp_offset) * st->temp_scale;
    return v / 1000.0; /* the IIO ABI gives temperatures in milli-°C */
}

/* Finds the channels and works out each one's conversion to g. */
static int setup_channels(iio_src *st, char *err, size_t errlen)
{
    char list[200];
    unsigned n = iio_device_get_channels_count(st->dev);
    for (unsigned i = 0; i < n; i++)
        iio_channel_disable(iio_device_get_channel(st->dev, i));
    for (unsigned c = 0; c < st->nchan; c++) {
        const char *name = st->chan_names[c];
        struct iio_channel *ch = iio_device_find_channel(st->dev, name, false);
        if (!ch || !iio_channel_is_scan_element(ch)) {
            scan_element_list(st->dev, list, sizeof list);
            say(err, errlen, "channels=%s: %s has no %s%s (%s%s)", name, st->dev_name,
                     ch ? "buffered channel " : "input channel ", name,
                     list[0] ? "its scan elements: " : "it has no scan elements", list);
            return -ENOENT;
        }
        const struct iio_data_format *fmt = iio_channel_get_data_format(ch);
        unsigned bytes = fmt->length / 8;
        if ((bytes != 1 && bytes != 2 && bytes != 4 && bytes != 8) || fmt->length % 8 || fmt->repeat > 1 ||
            fmt->bits == 0 || fmt->bits > fmt->length) {
            say(err, errlen, "channels=%s: unsupported sample format (%u of %u bits, repeat %u)", name,
                     fmt->bits, fmt->length, fmt->repeat);
            return -ENOTSUP;
        }
        iio_conv *cv = &st->conv[c];
        cv->chn = ch;
        cv->bytes = bytes;
        cv->is_signed = fmt->is_signed;
        cv->type = iio_channel_get_type(ch);
        double scale = fmt->with_scale ? fmt->scale : 1.0, offset = 0;
        if (read_attr_double(ch, "scale", &scale) == -EINVAL || read_attr_double(ch, "offset", &offset) == -EINVAL) {
            say(err, errlen, "channels=%s: unreadable scale or offset attribute", name);
            return -EINVAL;
        }
        if (!(scale != 0)) {
            say(err, errlen, "channels=%s: scale is %g", name, scale);
            return -EINVAL;
        }
        cv->offset = offset;
        if (cv->type == IIO_ACCEL) {
            cv->g_per_raw = scale / IIO_STD_G; /* IIO ABI: accelerations in m/s² */
        } else if (cv->type == IIO_VOLTAGE) {
            if (!(st->sens_mv_per_g > 0)) {
                say(err, errlen, "channels=%s: a voltage input needs sensitivity_mv_per_g= (the sensor's mV/g) "
                         "to be read in g", name);
                return -EINVAL;
            }
            cv->g_per_raw = scale / st->sens_mv_per_g; /* IIO ABI: voltages in mV */
        } else {
            say(err, errlen, "channels=%s: neither an acceleration nor a voltage channel", name);
            return -EINVAL;
        }
        cv->code_lo = fmt->is_signed ? -ldexp(1, (int)fmt->bits - 1) : 0;
        cv->code_hi = fmt->is_signed ? ldexp(1, (int)fmt->bits - 1) - 1 : ldexp(1, (int)fmt->bits) - 1;
        cv->rail_lo = (float)((cv->code_lo + offset) * cv->g_per_raw);
        cv->rail_hi = (float)((cv->code_hi + offset) * cv->g_per_raw);
        iio_channel_enable(ch);
    }
    return 0;
}

/* Opens the context, device, channels, rate, temperature and buffer. first: at acq_open (errors
 * for a person; fills the rate); otherwise a reconnect, which must find the same sensor. */
static int connect_device(iio_src *st, bool first, char *err, size_t errlen)
{
    char e[96], uri[sizeof st->ctx_uri];
    /* a copy: libiio 0.24's ip: backend cuts the port off the string it is given */
    snprintf(uri, sizeof uri, "%s", st->ctx_uri);
    errno = 0;
    st->ctx = iio_create_context_from_uri(uri);
    if (!st->ctx) {
        int rc = errno ? -errno : -EIO;
        errstr(rc, e, sizeof e);
        say(err, errlen, "%s: cannot open the libiio context (%s)", st->ctx_uri, e);
        return rc;
    }
    int rc = -ENODEV;
    st->dev = find_device(st, st->dev_name, "device", err, errlen);
    if (!st->dev)
        goto fail;
    if ((rc = setup_channels(st, err, errlen)) < 0 || (rc = setup_rate(st, first, err, errlen)) < 0)
        goto fail;
    if (first) {
        if (st->frame == 0) {
            double f = round(st->rate_hz / 10);
            st->frame = f < IIO_FRAME_MIN ? IIO_FRAME_MIN : f > (double)IIO_FRAME_MAX ? IIO_FRAME_MAX : (size_t)f;
        }
        double frame_ms = 1000.0 * (double)st->frame / st->rate_hz;
        double t = 4 * frame_ms + 1000;
        st->timeout_ms = t < 2000 ? 2000 : t > 600000 ? 600000 : (unsigned)t;
    }
    /* a blocked refill must give up eventually (network: also the socket's timeout) */
    if ((rc = iio_context_set_timeout(st->ctx, st->timeout_ms)) < 0) {
        errstr(rc, e, sizeof e);
        say(err, errlen, "%s: cannot set the I/O timeout (%s)", st->ctx_uri, e);
        goto fail;
    }
    if (st->want_temp && (rc = setup_temp(st, err, errlen)) < 0) {
        if (first)
            goto fail;
        /* after a reconnect the samples matter more: go on, with temp_c NAN, and say so once */
        vw_log(VW_LOG_WARNING, "acquisition", "%s: reconnected without temperature: %s", acq_source_info(st->src)->uri,
               err);
        st->temp_chn = NULL;
    }
    if (iio_device_set_kernel_buffers_count(st->dev, IIO_KERNEL_BUFFERS) < 0) {
        /* not every backend or driver has it; the default is fine */
    }
    struct iio_buffer *buf = iio_device_create_buffer(st->dev, st->frame, false);
    if (!buf) {
        rc = errno ? -errno : -EIO;
        errstr(rc, e, sizeof e);
        say(err, errlen, "device=%s: cannot start a buffer of %zu samples (%s)", st->dev_name, st->frame, e);
        goto fail;
    }
    /* published under buf_lock, and only while not stopping, so acq_close() can always cancel it */
    pthread_mutex_lock(&st->buf_lock);
    bool stop = stopping(st);
    if (!stop)
        st->buf = buf;
    pthread_mutex_unlock(&st->buf_lock);
    if (stop) {
        iio_buffer_destroy(buf);
        rc = -ECANCELED;
        say(err, errlen, "closing");
        goto fail;
    }
    return 0;
fail:
    disconnect(st);
    return rc;
}

/* ip:HOST[:PORT] with a numeric host: a TCP connect that acq_close() can interrupt, so a reconnect
 * loop never sits in libiio's connect timeout for a host that is gone. 0 also when it cannot tell
 * (another backend, a host name): then libiio decides. */
static int probe_network(iio_src *st, char *err, size_t errlen)
{
    if (strncmp(st->ctx_uri, "ip:", 3) != 0 || !st->ctx_uri[3])
        return 0;
    char host[200], port[16] = "30431";
    const char *h = st->ctx_uri + 3, *colon = strchr(h, ':');
    if (h[0] == '[') {
        const char *end = strchr(h, ']');
        if (!end || (size_t)(end - h - 1) >= sizeof host)
            return 0;
        snprintf(host, sizeof host, "%.*s", (int)(end - h - 1), h + 1);
        if (end[1] == ':')
            snprintf(port, sizeof port, "%s", end + 2);
    } else if (colon && !strchr(colon + 1, ':')) {
        if ((size_t)(colon - h) >= sizeof host)
            return 0;
        snprintf(host, sizeof host, "%.*s", (int)(colon - h), h);
        snprintf(port, sizeof port, "%s", colon + 1);
    } else {
        snprintf(host, sizeof host, "%s", h);
    }
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV}, *ai;
    if (getaddrinfo(host, port, &hints, &ai) != 0)
        return 0;
    int rc = -EIO, fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
    if (fd < 0) {
        rc = -errno;
    } else if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
        rc = 0;
    } else if (errno != EINPROGRESS) {
        rc = -errno;
    } else {
        rc = -ETIMEDOUT;
        for (int waited = 0; waited < IIO_PROBE_TIMEOUT_MS && !stopping(st); waited += 100) {
            struct pollfd p = {.fd = fd, .events = POLLOUT};
            int n = poll(&p, 1, 100);
            if (n > 0) {
                int soerr = 0;
                socklen_t len = sizeof soerr;
                rc = getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0 ? -errno : -soerr;
                break;
            }
        }
    }
    if (fd >= 0)
        close(fd);
    freeaddrinfo(ai);
    if (rc < 0) {
        char e[96];
        errstr(rc, e, sizeof e);
        say(err, errlen, "%s: cannot connect (%s)", st->ctx_uri, e);
    }
    return rc;
}

/* ---- the ring ------------------------------------------------------------------------------- */

/* Queues the frame in *buf and hands a free buffer back in its place; drops the oldest frame
 * when the reader is behind. */
static void ring_push(iio_src *st, float **buf, const iio_slot *f)
{
    unsigned flags = f->flags;
    uint64_t gap = f->gap_samples;
    pthread_mutex_lock(&st->lock);
    if (st->queued == st->ring_cap) {
        iio_slot *old = &st->ring[st->head];
        uint64_t dropped = old->nsamp - st->head_off;
        /* a gap the dropped frame was to report still precedes what follows */
        uint64_t lost = dropped + (st->head_off == 0 && (old->flags & ACQ_FRAME_GAP) ? old->gap_samples : 0);
        st->head = (st->head + 1) % st->ring_cap;
        st->queued--;
        st->head_off = 0;
        acq_stats_add_overrun(st->src);
        acq_stats_add_gap(st->src, dropped);
        iio_slot *next = st->queued ? &st->ring[st->head] : NULL;
        if (next) {
            next->flags |= ACQ_FRAME_GAP | ACQ_FRAME_OVERRUN;
            next->gap_samples += lost;
        } else {
            flags |= ACQ_FRAME_GAP | ACQ_FRAME_OVERRUN;
            gap += lost;
        }
    }
    iio_slot *s = &st->ring[(st->head + st->queued) % st->ring_cap];
    float *tmp = s->samples;
    *s = *f;
    s->samples = *buf;
    s->flags = flags;
    s->gap_samples = gap;
    *buf = tmp;
    st->queued++;
    pthread_cond_broadcast(&st->cond);
    pthread_mutex_unlock(&st->lock);
}

static void set_down(iio_src *st, bool down, const char *why)
{
    pthread_mutex_lock(&st->lock);
    st->down = down;
    if (down) {
        st->down_since_ns = mono_ns();
        say(st->down_why, sizeof st->down_why, "%s", why);
    }
    pthread_mutex_unlock(&st->lock);
}

/* CLOCK_MONOTONIC time ns from now, for pthread_cond_timedwait (the condition variable is made
 * with that clock). */
static struct timespec deadline_after(int64_t ns)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int64_t t = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec + ns;
    ts.tv_sec = t / 1000000000;
    ts.tv_nsec = t % 1000000000;
    return ts;
}

/* Sleeps up to ns unless acq_close() asks to stop; true when stopping. */
static bool wait_stop(iio_src *st, int64_t ns)
{
    struct timespec ts = deadline_after(ns);
    pthread_mutex_lock(&st->lock);
    while (!st->stop && pthread_cond_timedwait(&st->cond, &st->lock, &ts) != ETIMEDOUT) {
    }
    bool stop = st->stop;
    pthread_mutex_unlock(&st->lock);
    return stop;
}

/* ---- the acquisition thread ------------------------------------------------------------------ */

/* Converts n samples of every channel into st->work; true when any was at a rail (a code at the
 * format's end: exact, whatever the offset makes of it). */
static bool convert(iio_src *st, size_t n)
{
    ptrdiff_t step = iio_buffer_step(st->buf);
    bool clipped = false;
    for (unsigned c = 0; c < st->nchan; c++) {
        const iio_conv *cv = &st->conv[c];
        const uint8_t *p = iio_buffer_first(st->buf, cv->chn);
        float *out = st->work + c;
        for (size_t i = 0; i < n; i++, p += step, out += st->nchan) {
            union { int8_t s8; uint8_t u8; int16_t s16; uint16_t u16; int32_t s32; uint32_t u32; int64_t s64;
                    uint64_t u64; } v = {.u64 = 0};
            iio_channel_convert(cv->chn, &v, p);
            double raw;
            switch (cv->bytes) {
            case 1: raw = cv->is_signed ? (double)v.s8 : (double)v.u8; break;
            case 2: raw = cv->is_signed ? (double)v.s16 : (double)v.u16; break;
            case 4: raw = cv->is_signed ? (double)v.s32 : (double)v.u32; break;
            default: raw = cv->is_signed ? (double)v.s64 : (double)v.u64; break;
            }
            clipped |= raw <= cv->code_lo || raw >= cv->code_hi;
            *out = (float)((raw + cv->offset) * cv->g_per_raw);
        }
    }
    return clipped;
}

/* ---- data time ------------------------------------------------------------------------------ */

/* CLOCK_MONOTONIC now and the wall clock's offset from it, which changes only when the wall
 * clock is stepped (NTP slews both alike). sure: the clocks were read close enough together to
 * tell a step from a preemption between the reads. */
typedef struct clock_pair {
    int64_t mono_ns, wall_off_ns;
    bool sure;
} clock_pair;

static clock_pair clocks_now(void)
{
    int64_t m1 = mono_ns(), w = acq_clock_now_ns(), m2 = mono_ns();
    clock_pair c = {m2, w - (m1 + (m2 - m1) / 2), m2 - m1 < IIO_CLOCK_STEP_NS / 10};
    return c;
}

static void fit_reset(iio_fit *f)
{
    f->n = 0;
    f->first = 0;
}

static void fit_add(iio_fit *f, uint64_t k, int64_t t)
{
    unsigned at = (f->first + f->n) % IIO_FIT_POINTS;
    if (f->n == IIO_FIT_POINTS)
        f->first = (f->first + 1) % IIO_FIT_POINTS;
    else
        f->n++;
    f->k[at] = k;
    f->t[at] = t;
    /* relative to the oldest point, every value is small enough to be exact in a double */
    f->k_ref = f->k[f->first];
    f->t_ref = f->t[f->first];
    double sk = 0, st = 0;
    for (unsigned i = 0; i < f->n; i++) {
        unsigned j = (f->first + i) % IIO_FIT_POINTS;
        sk += (double)(f->k[j] - f->k_ref);
        st += (double)(f->t[j] - f->t_ref);
    }
    f->k_mean = sk / f->n;
    f->t_mean = st / f->n;
    double sxx = 0, sxy = 0;
    for (unsigned i = 0; i < f->n; i++) {
        unsigned j = (f->first + i) % IIO_FIT_POINTS;
        double x = (double)(f->k[j] - f->k_ref) - f->k_mean, y = (double)(f->t[j] - f->t_ref) - f->t_mean;
        sxx += x * x;
        sxy += x * y;
    }
    f->slope = sxx > 0 ? sxy / sxx : 0;
    f->k_span = (double)(k - f->k_ref);
    f->t_span_ns = (double)(t - f->t_ref);
}

/* When the line's k is at k (k ≥ the oldest point's). */
static int64_t fit_at(const iio_fit *f, uint64_t k)
{
    return f->t_ref + (int64_t)llround(f->t_mean + f->slope * ((double)(int64_t)(k - f->k_ref) - f->k_mean));
}

/* A fit that predicts the next arrivals: 3 points at least 2 frames apart, with a period the
 * device could have. trust: one that also spans IIO_FIT_TRUST_NS and 4 frames, to measure the
 * device's rate by. */
static bool fit_usable(const iio_src *st, bool trust)
{
    const iio_fit *f = &st->fit;
    double nominal = 1e9 / st->rate_hz, frame = (double)st->frame;
    if (f->n < (trust ? 4u : 3u) || f->k_span < (trust ? 4 : 2) * frame || f->slope < nominal / IIO_FIT_RANGE ||
        f->slope > nominal * IIO_FIT_RANGE)
        return false;
    return !trust || f->t_span_ns >= (double)IIO_FIT_TRUST_NS;
}

/* The device's sample period as best known: measured, or nominal until it is. */
static double device_period_ns(const iio_src *st)
{
    return st->meas_period_ns > 0 ? st->meas_period_ns : 1e9 / st->rate_hz;
}

/* Data time of sample k ≥ count, on CLOCK_MONOTONIC. */
static int64_t data_time(const iio_src *st, uint64_t k)
{
    return st->next_ns + (int64_t)floor((double)(k - st->count) * st->period_ns + st->next_frac_ns);
}

/* Moves data time past n samples; returns how far it moved, ns. */
static int64_t advance(iio_src *st, uint64_t n)
{
    double d = (double)n * st->period_ns + st->next_frac_ns, whole = floor(d);
    st->next_frac_ns = d - whole;
    st->next_ns += (int64_t)whole;
    st->count += n;
    return (int64_t)whole;
}

/* When the refill ending at sample k should have returned: by the fit once it can tell, by data
 * time before. */
static int64_t predict_arrival(const iio_src *st, uint64_t k)
{
    return fit_usable(st, false) ? fit_at(&st->fit, k) : data_time(st, k);
}

static uint64_t samples_in(const iio_src *st, int64_t ns)
{
    return ns > 0 ? (uint64_t)llround((double)ns / device_period_ns(st)) : 0;
}

/* Samples lost before a frame: flags it, counts them, and moves data time past them (returns how
 * far, ns). */
static int64_t mark_lost(iio_src *st, iio_slot *f, uint64_t lost, unsigned flags)
{
    f->flags |= ACQ_FRAME_GAP | flags;
    f->gap_samples += lost;
    acq_stats_add_gap(st->src, lost);
    if (flags & ACQ_FRAME_OVERRUN)
        acq_stats_add_overrun(st->src);
    return advance(st, lost);
}

/* A step of the wall clock: data time follows it (said once per step), the measurements on
 * CLOCK_MONOTONIC do not notice. */
static void follow_wall_clock(iio_src *st, clock_pair now)
{
    int64_t step = now.wall_off_ns - st->wall_off_ns;
    if (!now.sure || llabs(step) <= IIO_CLOCK_STEP_NS)
        return;
    vw_log(VW_LOG_NOTICE, "acquisition", "%s: the wall clock stepped by %+.3f s; data time follows it",
           acq_source_info(st->src)->uri, (double)step / 1e9);
    st->wall_off_ns = now.wall_off_ns;
}

/* The period for the frame about to be dated: the measured one, slewed by at most IIO_SLEW_MAX
 * toward the fitted arrivals. */
static void choose_period(iio_src *st)
{
    if (fit_usable(st, true))
        st->meas_period_ns = st->fit.slope;
    double slew = 0;
    if (st->meas_period_ns > 0 && fit_usable(st, true)) {
        double behind = (double)(fit_at(&st->fit, st->count) - st->next_ns) - st->next_frac_ns;
        slew = behind / IIO_SLEW_TAU_NS;
        slew = slew > IIO_SLEW_MAX ? IIO_SLEW_MAX : slew < -IIO_SLEW_MAX ? -IIO_SLEW_MAX : slew;
    }
    st->period_ns = device_period_ns(st) * (1 + slew);
}

/* Dates the frame of n samples just converted into st->work (its refill waited waited_ns and
 * returned at now), settles the held frame and queues it, and holds the new one.
 *
 * A refill that waited for fresh data and still returns more than a frame after the fit predicts
 * may mean lost samples, or only a late delivery (a network hiccup). The next refill tells: after
 * a late delivery the data is already there (it returns at once), after a loss it waits and is
 * still behind. So each frame is held for one refill, and a loss is flagged on the frame it
 * precedes only once confirmed. Arrivals that are neither (they waited, and came when predicted)
 * feed the fit. */
static void settle(iio_src *st, size_t n, clock_pair now, int64_t waited_ns, double temp_c, bool clipped)
{
    int64_t frame_ns = samples_ns(st->rate_hz, st->frame);
    iio_slot cur = {.nsamp = n, .temp_c = temp_c, .flags = clipped ? ACQ_FRAME_CLIPPED : 0};
    bool suspect = false, blocked = waited_ns >= frame_ns / 4; /* it waited for fresh data, not a backlog */
    int64_t behind = 0;
    if (!st->anchored) {
        st->anchored = true;
        st->resume_gap = false;
        st->count = 0;
        st->period_ns = device_period_ns(st);
        st->next_ns = now.mono_ns - (int64_t)llround((double)n * st->period_ns);
        st->next_frac_ns = 0;
        st->wall_off_ns = now.wall_off_ns;
        fit_reset(&st->fit);
        if (blocked)
            fit_add(&st->fit, n, now.mono_ns);
    } else {
        follow_wall_clock(st, now);
        behind = now.mono_ns - predict_arrival(st, st->count + n);
        if (st->held_suspect) {
            st->held_suspect = false;
            if (blocked && behind > frame_ns) { /* still behind: lost before the held frame */
                uint64_t lost = samples_in(st, behind < st->held_behind_ns ? behind : st->held_behind_ns);
                st->held.t0_ns += mark_lost(st, &st->held, lost, ACQ_FRAME_OVERRUN);
                behind = now.mono_ns - predict_arrival(st, st->count + n);
            }
        }
        if (st->resume_gap) { /* after a reconnect: what the clock says was missed */
            st->resume_gap = false;
            mark_lost(st, &cur, samples_in(st, behind), 0);
            behind = now.mono_ns - predict_arrival(st, st->count + n);
        } else if (!blocked && behind > (IIO_KERNEL_BUFFERS + 2) * frame_ns) {
            /* further behind than the kernel's buffers could hold: lost for sure */
            mark_lost(st, &cur, samples_in(st, behind - IIO_KERNEL_BUFFERS * frame_ns), ACQ_FRAME_OVERRUN);
            behind = now.mono_ns - predict_arrival(st, st->count + n);
        } else if (blocked && behind > frame_ns) {
            suspect = true;
        }
        iio_fit *f = &st->fit;
        if (blocked && !suspect && (f->n == 0 || now.mono_ns - f->t[(f->first + f->n - 1) % IIO_FIT_POINTS] >= IIO_FIT_STEP_NS))
            fit_add(f, st->count + n, now.mono_ns);
    }
    choose_period(st);
    cur.t0_ns = st->next_ns + st->wall_off_ns;
    cur.rate_hz = 1e9 / st->period_ns;
    cur.rate_meas_hz = st->meas_period_ns > 0 ? 1e9 / st->meas_period_ns : 0;
    advance(st, n);
    if (st->held.nsamp)
        ring_push(st, &st->held_buf, &st->held);
    float *tmp = st->held_buf; /* the new frame is held; its buffer's place is taken by a free one */
    st->held_buf = st->work;
    st->work = tmp;
    st->held = cur;
    st->held_suspect = suspect;
    st->held_behind_ns = behind;
}

/* Queues the held frame as it is (before a reconnect: nothing more will tell). */
static void flush_held(iio_src *st)
{
    if (st->held.nsamp)
        ring_push(st, &st->held_buf, &st->held);
    st->held.nsamp = 0;
    st->held_suspect = false;
}

/* A run of losses until the device has run IIO_STABLE_NS again: the first loss and the first
 * recovery are said, later ones summed up at growing intervals. */
typedef struct iio_episode {
    bool on;
    int64_t since_ns, lost_at_ns;  /* its first loss, its latest */
    unsigned losses, told;         /* losses so far, and how many of them were said */
    unsigned reconnects, attempts; /* reconnects so far; attempts since the latest loss */
    int64_t next_report_ns, report_every_ns;
    char last_why[256];            /* the failure to reconnect said last */
} iio_episode;

static void episode_loss(iio_src *st, iio_episode *ep, const char *why, int64_t backoff_ns)
{
    const char *uri = acq_source_info(st->src)->uri;
    int64_t t = mono_ns();
    if (!ep->on) {
        vw_log(VW_LOG_WARNING, "acquisition", "%s: lost the device: %s; reconnecting (backing off from 0.1 s to 5 s)",
               uri, why);
        memset(ep, 0, sizeof *ep);
        ep->on = true;
        ep->since_ns = t;
        ep->told = 1;
        ep->report_every_ns = IIO_REPORT_FIRST_NS;
        ep->next_report_ns = t + ep->report_every_ns;
    } else if (t >= ep->next_report_ns) {
        unsigned more = ep->losses + 1 - ep->told;
        vw_log(VW_LOG_WARNING, "acquisition", "%s: lost the device %u more time%s in %.0f s, each time within %.0f s of "
               "reconnecting (last: %s); retrying after %.1f s", uri, more, more == 1 ? "" : "s",
               (double)(t - ep->since_ns) / 1e9, (double)IIO_STABLE_NS / 1e9, why, (double)backoff_ns / 1e9);
        ep->told = ep->losses + 1;
        ep->report_every_ns = ep->report_every_ns * 2 > IIO_REPORT_MAX_NS ? IIO_REPORT_MAX_NS : ep->report_every_ns * 2;
        ep->next_report_ns = t + ep->report_every_ns;
    }
    ep->losses++;
    ep->lost_at_ns = t;
    ep->attempts = 0;
}

static void *acquire(void *arg)
{
    iio_src *st = arg;
    const char *uri = acq_source_info(st->src)->uri;
    /* the backoff before the next attempt: it grows with every attempt and returns to the minimum
     * only once refills have run IIO_STABLE_NS */
    int64_t backoff = IIO_BACKOFF_MIN_NS, connected_at = mono_ns();
    bool stable = false;
    iio_episode ep;
    memset(&ep, 0, sizeof ep);
    char why[256];
    while (!stopping(st)) {
        if (!st->buf) {
            if (wait_stop(st, backoff))
                break;
            backoff = backoff * 2 > IIO_BACKOFF_MAX_NS ? IIO_BACKOFF_MAX_NS : backoff * 2;
            ep.attempts++;
            int rc = probe_network(st, why, sizeof why);
            if (rc == 0)
                rc = connect_device(st, false, why, sizeof why);
            if (rc < 0) {
                if (rc == -ECANCELED || stopping(st))
                    break;
                if (strcmp(why, ep.last_why) != 0) { /* once per distinct reason, not per retry */
                    vw_log(VW_LOG_WARNING, "acquisition", "%s: still reconnecting: %s", uri, why);
                    snprintf(ep.last_why, sizeof ep.last_why, "%s", why);
                }
                continue;
            }
            if (ep.reconnects++ == 0)
                vw_log(VW_LOG_NOTICE, "acquisition", "%s: reconnected after %.1f s (%u attempt%s)", uri,
                       (double)(mono_ns() - ep.lost_at_ns) / 1e9, ep.attempts, ep.attempts == 1 ? "" : "s");
            acq_stats_add_reconnect(st->src);
            st->resume_gap = st->anchored;
            set_down(st, false, NULL);
            connected_at = mono_ns();
            stable = false;
        }
        int64_t t_start = mono_ns();
        ssize_t got = iio_buffer_refill(st->buf);
        clock_pair now = clocks_now();
        int64_t waited = now.mono_ns - t_start;
        ptrdiff_t step = iio_buffer_step(st->buf);
        size_t n = got > 0 && step > 0 ? (size_t)got / (size_t)step : 0;
        if (n > st->frame)
            n = st->frame;
        if (got < 0 || n == 0) {
            if (stopping(st))
                break;
            char e[96];
            errstr(got < 0 ? (int)got : EIO, e, sizeof e);
            snprintf(why, sizeof why, "refill failed (%s)", e);
            acq_stats_add_overrun(st->src);
            acq_stats_add_disconnect(st->src);
            set_down(st, true, why);
            flush_held(st);
            disconnect(st);
            episode_loss(st, &ep, why, backoff);
            continue;
        }
        if (!stable && now.mono_ns - connected_at >= IIO_STABLE_NS) {
            stable = true;
            backoff = IIO_BACKOFF_MIN_NS;
            if (ep.on && ep.losses > 1)
                vw_log(VW_LOG_NOTICE, "acquisition", "%s: the device has run %.0f s without failing (after %u losses in %.0f s)",
                       uri, (double)IIO_STABLE_NS / 1e9, ep.losses, (double)(connected_at - ep.since_ns) / 1e9);
            ep.on = false;
        }
        bool clipped = convert(st, n);
        settle(st, n, now, waited, st->want_temp ? read_temp_c(st) : NAN, clipped);
    }
    disconnect(st);
    pthread_mutex_lock(&st->lock);
    st->exited = true;
    pthread_cond_broadcast(&st->cond);
    pthread_mutex_unlock(&st->lock);
    return NULL;
}

/* ---- the source operations ------------------------------------------------------------------ */

static void free_state(iio_src *st)
{
    if (!st)
        return;
    disconnect(st);
    for (unsigned i = 0; i < IIO_RING_MAX; i++)
        free(st->ring[i].samples);
    free(st->work);
    free(st->held_buf);
    pthread_mutex_destroy(&st->lock);
    pthread_mutex_destroy(&st->buf_lock);
    pthread_cond_destroy(&st->cond);
    free(st);
}

static int parse_config(iio_src *st, const char *target, acq_query *q, char *err, size_t errlen)
{
    if (!*target) {
        say(err, errlen, "no libiio context URI after iio: (e.g. iio:local: or iio:ip:HOST)");
        return -EINVAL;
    }
    if (strlen(target) >= sizeof st->ctx_uri) {
        say(err, errlen, "the libiio context URI is too long");
        return -EINVAL;
    }
    snprintf(st->ctx_uri, sizeof st->ctx_uri, "%s", target);
    const char *dev = acq_query_get(q, "device"), *chans = acq_query_get(q, "channels"), *temp = acq_query_get(q, "temp");
    if (!dev || !*dev || strlen(dev) >= sizeof st->dev_name) {
        say(err, errlen, "device=%s: %s", dev ? dev : "", dev && *dev ? "too long" : "required (the IIO device's name)");
        return -EINVAL;
    }
    snprintf(st->dev_name, sizeof st->dev_name, "%s", dev);
    if (!chans || !*chans) {
        say(err, errlen, "channels= is required (e.g. channels=accel_x,accel_y,accel_z)");
        return -EINVAL;
    }
    for (const char *p = chans;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len == 0 || len >= sizeof st->chan_names[0] || st->nchan >= ACQ_MAX_CHANNELS) {
            say(err, errlen, "channels=%s: %s", chans,
                     st->nchan >= ACQ_MAX_CHANNELS ? "too many channels" : len ? "a channel name is too long" : "an empty channel name");
            return -EINVAL;
        }
        snprintf(st->chan_names[st->nchan], sizeof st->chan_names[0], "%.*s", (int)len, p);
        for (unsigned i = 0; i < st->nchan; i++)
            if (strcmp(st->chan_names[i], st->chan_names[st->nchan]) == 0) {
                say(err, errlen, "channels=%s: %s is listed twice", chans, st->chan_names[i]);
                return -EINVAL;
            }
        st->nchan++;
        if (!comma)
            break;
        p = comma + 1;
    }
    int rc;
    double frame = 0;
    if ((rc = acq_query_double(q, "rate", 0.001, 100e6, &st->rate_req, err, errlen)) < 0 ||
        (rc = acq_query_double(q, "sensitivity_mv_per_g", 0.001, 1e6, &st->sens_mv_per_g, err, errlen)) < 0 ||
        (rc = acq_query_double(q, "frame", IIO_FRAME_MIN, (double)IIO_FRAME_MAX, &frame, err, errlen)) < 0)
        return rc;
    if (frame != floor(frame)) {
        say(err, errlen, "frame=%g: expected a whole number of samples", frame);
        return -EINVAL;
    }
    st->frame = (size_t)frame;
    const char *coupling = acq_query_get(q, "coupling");
    if (coupling) {
        if (strcmp(coupling, "dc") != 0 && strcmp(coupling, "ac") != 0) {
            say(err, errlen, "coupling=%s: expected dc (the samples keep their DC level, e.g. an IEPE bias) or ac",
                coupling);
            return -EINVAL;
        }
        st->coupling = coupling[0];
    }
    if (temp) {
        const char *slash = strchr(temp, '/');
        if (!slash || slash == temp || !slash[1] || (size_t)(slash - temp) >= sizeof st->temp_dev ||
            strlen(slash + 1) >= sizeof st->temp_chan) {
            say(err, errlen, "temp=%s: expected DEVICE/CHANNEL (e.g. temp=adxl355/temp)", temp);
            return -EINVAL;
        }
        snprintf(st->temp_dev, sizeof st->temp_dev, "%.*s", (int)(slash - temp), temp);
        snprintf(st->temp_chan, sizeof st->temp_chan, "%s", slash + 1);
        st->want_temp = true;
    }
    return 0;
}

static int open_blocked(acq_source *s, const char *target, acq_query *q, acq_info *info, char *err, size_t errlen);

static int iio_open(acq_source *s, const char *target, acq_query *q, acq_info *info, char *err, size_t errlen)
{
    sigset_t old;
    sigpipe_block(&old);
    int rc = open_blocked(s, target, q, info, err, errlen);
    sigpipe_restore(&old);
    return rc;
}

static int open_blocked(acq_source *s, const char *target, acq_query *q, acq_info *info, char *err, size_t errlen)
{
    iio_src *st = calloc(1, sizeof *st);
    if (!st) {
        say(err, errlen, "out of memory");
        return -ENOMEM;
    }
    st->src = s;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&st->cond, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&st->lock, NULL);
    pthread_mutex_init(&st->buf_lock, NULL);
    int rc = parse_config(st, target, q, err, errlen);
    if (rc < 0)
        goto fail;
    if ((rc = connect_device(st, true, err, errlen)) < 0)
        goto fail;
    bool any_voltage = false, any_accel = false;
    for (unsigned c = 0; c < st->nchan; c++) {
        any_voltage |= st->conv[c].type == IIO_VOLTAGE;
        any_accel |= st->conv[c].type == IIO_ACCEL;
    }
    if (st->sens_mv_per_g > 0 && !any_voltage) {
        say(err, errlen, "sensitivity_mv_per_g: only voltage channels need it (acceleration channels read in g)");
        rc = -EINVAL;
        goto fail;
    }
    /* the ring: about IIO_RING_SECONDS of frames, within IIO_RING_MAX_BYTES */
    size_t frame_bytes = st->frame * st->nchan * sizeof(float);
    double per_s = st->rate_hz / (double)st->frame;
    unsigned cap = (unsigned)ceil(IIO_RING_SECONDS * per_s);
    cap = cap < IIO_RING_MIN ? IIO_RING_MIN : cap > IIO_RING_MAX ? IIO_RING_MAX : cap;
    while (cap > IIO_RING_MIN && (cap + 2) * frame_bytes > IIO_RING_MAX_BYTES)
        cap--;
    if ((cap + 2) * frame_bytes > IIO_RING_MAX_BYTES) {
        say(err, errlen, "frame=%zu: %zu bytes a frame is too large (at most %zu MiB for the queue)", st->frame,
                 frame_bytes, IIO_RING_MAX_BYTES >> 20);
        rc = -EINVAL;
        goto fail;
    }
    st->ring_cap = cap;
    st->work = malloc(frame_bytes);
    st->held_buf = malloc(frame_bytes);
    for (unsigned i = 0; i < cap && st->work && st->held_buf; i++)
        if (!(st->ring[i].samples = malloc(frame_bytes)))
            break;
    if (!st->work || !st->held_buf || !st->ring[cap - 1].samples) {
        say(err, errlen, "out of memory for %u frames of %zu bytes", cap + 2, frame_bytes);
        rc = -ENOMEM;
        goto fail;
    }

    info->nchan = st->nchan;
    info->rate_hz = st->rate_hz;
    info->rate_requested_hz = st->rate_req;
    info->has_temp = st->want_temp;
    info->finite = false;
    info->dc_coupled = st->coupling ? st->coupling == 'd' : any_voltage;
    info->clip_exact = true;
    info->rate_measured_hz = 0;
    st->info = info;
    for (unsigned c = 0; c < st->nchan; c++) {
        const iio_conv *cv = &st->conv[c];
        double a = fabs((cv->code_lo + cv->offset) * cv->g_per_raw), b = fabs((cv->code_hi + cv->offset) * cv->g_per_raw);
        acq_channel_info *ci = &info->ch[c];
        snprintf(ci->name, sizeof ci->name, "%s", st->chan_names[c]);
        snprintf(ci->unit, sizeof ci->unit, "g");
        ci->full_scale = a > b ? a : b;
        ci->volts_per_unit = cv->type == IIO_VOLTAGE ? st->sens_mv_per_g / 1000.0 : 0;
    }
    say(info->desc, sizeof info->desc, "IIO %s at %.48s, %u ch at %g Hz%s", st->dev_name, st->ctx_uri, st->nchan,
             st->rate_hz, st->has_rate_attr ? "" : " (as asked: no sampling_frequency)");
    (void)any_accel;

    if ((rc = pthread_create(&st->thread, NULL, acquire, st)) != 0) {
        say(err, errlen, "cannot start the acquisition thread (%s)", strerror(rc));
        rc = -rc;
        goto fail;
    }
    st->thread_started = true;
    acq_source_set_priv(s, st);
    return 0;
fail:
    free_state(st);
    return rc;
}

/* Whether part of a frame flagged CLIPPED holds a rail (the frame's flag came from the codes;
 * their converted values find which part). */
static bool at_rail(const iio_src *st, const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        for (unsigned c = 0; c < st->nchan; c++) {
            float v = x[i * st->nchan + c];
            if (v == st->conv[c].rail_lo || v == st->conv[c].rail_hi)
                return true;
        }
    return false;
}

static int iio_read(acq_source *s, acq_frame *f, char *err, size_t errlen)
{
    iio_src *st = acq_source_priv(s);
    double frame_s = (double)st->frame / st->rate_hz;
    int64_t wait_ns = (int64_t)(1e9 * (4 * frame_s > 2 ? 4 * frame_s : 2));
    struct timespec ts = deadline_after(wait_ns);
    pthread_mutex_lock(&st->lock);
    while (st->queued == 0 && !st->stop)
        if (pthread_cond_timedwait(&st->cond, &st->lock, &ts) == ETIMEDOUT)
            break;
    if (st->queued == 0) {
        if (st->down)
            say(err, errlen, "no samples for %.1f s: lost the device %.1f s ago (%s); reconnecting",
                     (double)wait_ns / 1e9, (double)(mono_ns() - st->down_since_ns) / 1e9, st->down_why);
        else
            say(err, errlen, "no samples for %.1f s from %s", (double)wait_ns / 1e9, st->dev_name);
        pthread_mutex_unlock(&st->lock);
        return st->stop ? -ECANCELED : -EAGAIN;
    }
    iio_slot *slot = &st->ring[st->head];
    size_t take = slot->nsamp - st->head_off;
    if (take > f->capacity)
        take = f->capacity;
    memcpy(f->samples, slot->samples + st->head_off * st->nchan, take * st->nchan * sizeof(float));
    f->nsamp = take;
    f->t0_ns = slot->t0_ns + samples_ns(slot->rate_hz, st->head_off);
    f->temp_c = slot->temp_c;
    if (st->head_off == 0) {
        f->flags = slot->flags & ~ACQ_FRAME_CLIPPED;
        f->gap_samples = slot->gap_samples;
    }
    if ((slot->flags & ACQ_FRAME_CLIPPED) && (take == slot->nsamp || at_rail(st, f->samples, take)))
        f->flags |= ACQ_FRAME_CLIPPED;
    st->info->rate_measured_hz = slot->rate_meas_hz;
    st->head_off += take;
    if (st->head_off == slot->nsamp) {
        st->head = (st->head + 1) % st->ring_cap;
        st->queued--;
        st->head_off = 0;
    }
    pthread_mutex_unlock(&st->lock);
    return 0;
}

static void iio_close(acq_source *s)
{
    iio_src *st = acq_source_priv(s);
    if (!st)
        return;
    /* A refill of flowing data ends within a frame: wait that long (libiio complains on stderr
     * about a cancelled refill), then cancel one that is stuck. */
    double grace_s = 1.5 * (double)st->frame / st->rate_hz + 0.05;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int64_t t = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec + (int64_t)(1e9 * (grace_s < 0.3 ? grace_s : 0.3));
    ts.tv_sec = t / 1000000000;
    ts.tv_nsec = t % 1000000000;
    pthread_mutex_lock(&st->lock);
    st->stop = true;
    pthread_cond_broadcast(&st->cond);
    while (st->thread_started && !st->exited && pthread_cond_timedwait(&st->cond, &st->lock, &ts) != ETIMEDOUT) {
    }
    bool exited = st->exited || !st->thread_started;
    pthread_mutex_unlock(&st->lock);
    if (!exited) {
        pthread_mutex_lock(&st->buf_lock);
        if (st->buf)
            iio_buffer_cancel(st->buf); /* the refill returns at once */
        pthread_mutex_unlock(&st->buf_lock);
    }
    if (st->thread_started)
        pthread_join(st->thread, NULL);
    sigset_t old;
    sigpipe_block(&old);
    free_state(st);
    sigpipe_restore(&old);
    acq_source_set_priv(s, NULL);
}

static const char *const iio_keys[] = {"device", "channels", "rate", "temp", "sensitivity_mv_per_g", "frame", "coupling", NULL};

const acq_source_ops acq_src_iio = {.keys = iio_keys, .scheme = "iio", .open = iio_open, .read = iio_read, .close = iio_close};

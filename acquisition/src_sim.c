/* acquisition/src_sim.c — the `sim:` source: a simulated machine that ages, for demos, for
 * tests with a known truth, and for replaying a whole life in minutes.
 *
 *   sim:pump|fan?seed=N&fault=none|outer_race|inner_race|ball|imbalance&onset_days=D
 *       &failure_days=F&speedup=X[&rate=HZ&channels=1..3&rpm=R&bearing=NAME&t0=ISO8601
 *       &frame=SAMPLES&start_days=A&realtime=0|1]
 *
 * Defaults: seed 1, fault none, onset_days 10, failure_days 40, speedup 1, rate 25600 Hz,
 * 1 channel, the kind's speed (pump 2970 rpm, fan 1480 rpm), its bearing (pump "Timken 6309",
 * fan "Timken 6208", from the catalogue in dsp/bearing.h), t0 the wall clock at open, frames of
 * a tenth of a second (capped by the reader's frame capacity), start_days 0 (the machine's age at
 * t0), realtime 0 (frames as fast as they are read). The physics is in sim.h.
 *
 * Time: the machine's life passes `speedup` times faster than its samples. The frame that starts
 * after N samples per channel has t0 = t0_start + N/rate·speedup and the machine's age
 * start_days + N/rate·speedup/86400 d (its fault severity and temperature follow that age).
 * Samples within a frame are contiguous at the true rate; successive frames are `speedup` apart
 * in machine time and flagged ACQ_FRAME_TIMELAPSE when speedup > 1. The same URI (with t0 given)
 * gives the same frames, bit for bit, when read with the same frame capacity.
 *
 * realtime=1 paces delivery to the wall clock: a frame is returned when its last sample would
 * have been acquired (CLOCK_MONOTONIC since open), as a live device does. Otherwise read()
 * never blocks. Threads: none of its own; one reader.
 *
 * bearing=NAME is looked up through acq_set_bearing_lookup(): the catalogue lives in dsp/, above
 * acquisition/ in the flow, so the program hands the lookup in. The default bearings are part of
 * the simulated machines: their orders are written here (test_src_sim checks them against the
 * catalogue's entries of the same name). */
#include "file_time.h"
#include "sim.h"
#include "source.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SIM_DEFAULT_RATE_HZ 25600.0
#define SIM_FULL_SCALE_G 50.0    /* a general-purpose 100 mV/g IEPE accelerometer's range */
#define SIM_VOLTS_PER_G 0.1
#define SIM_MAX_FRAME (1u << 20) /* samples per channel */

typedef struct sim_src {
    acq_sim_machine *m;
    double rate_hz, speedup, start_days, end_days; /* end_days 0: endless */
    int64_t t0_ns;
    uint64_t done;  /* samples per channel delivered */
    size_t frame;   /* samples per channel per frame */
    int realtime;
    struct timespec wall0; /* CLOCK_MONOTONIC at open, for realtime pacing */
} sim_src;

static const struct {
    const char *name;
    enum acq_sim_fault fault;
} fault_names[] = {
    {"none", ACQ_SIM_NONE},       {"outer_race", ACQ_SIM_OUTER}, {"inner_race", ACQ_SIM_INNER},
    {"ball", ACQ_SIM_BALL},       {"imbalance", ACQ_SIM_IMBALANCE},
    {"outer", ACQ_SIM_OUTER},     {"inner", ACQ_SIM_INNER}, /* the names `vibewatch simulate` uses */
};


static int parse_u64(const char *v, uint64_t *out)
{
    if (!v || !isdigit((unsigned char)*v))
        return -1;
    errno = 0;
    char *end;
    unsigned long long x = strtoull(v, &end, 10);
    if (errno || *end)
        return -1;
    *out = (uint64_t)x;
    return 0;
}

static void sim_close(acq_source *s)
{
    sim_src *st = acq_source_priv(s);
    if (!st)
        return;
    acq_sim_machine_free(st->m);
    free(st);
    acq_source_set_priv(s, NULL);
}

static int sim_open(acq_source *s, const char *target, acq_query *q, acq_info *info, char *err, size_t errlen)
{
    acq_sim_machine_config c;
    memset(&c, 0, sizeof c);
    if (strcmp(target, "pump") == 0)
        c.kind = ACQ_SIM_PUMP;
    else if (strcmp(target, "fan") == 0)
        c.kind = ACQ_SIM_FAN;
    else {
        snprintf(err, errlen, "unknown machine \"%s\" (expected sim:pump or sim:fan)", target);
        return -EINVAL;
    }
    c.seed = 1;
    c.onset_days = 10;
    c.failure_days = 40;
    c.rate_hz = SIM_DEFAULT_RATE_HZ;
    c.nchan = 1;
    double speedup = 1, channels = 1, rpm = 0, frame = 0, start_days = 0, end_days = 0, realtime = 0;
    int rc, rate_given = 0;

    const char *v = acq_query_get(q, "seed");
    if (v && parse_u64(v, &c.seed) < 0) {
        snprintf(err, errlen, "seed=%s: expected a whole number from 0 to 18446744073709551615", v);
        return -EINVAL;
    }
    if ((v = acq_query_get(q, "fault"))) {
        size_t i, nf = sizeof fault_names / sizeof fault_names[0];
        for (i = 0; i < nf && strcmp(v, fault_names[i].name) != 0; i++)
            ;
        if (i == nf) {
            snprintf(err, errlen, "fault=%s: expected none, outer_race, inner_race, ball or imbalance", v);
            return -EINVAL;
        }
        c.fault = fault_names[i].fault;
    }
    if ((rc = acq_query_double(q, "onset_days", 0, 1e5, &c.onset_days, err, errlen)) < 0 ||
        (rc = acq_query_double(q, "failure_days", 0, 1e5, &c.failure_days, err, errlen)) < 0 ||
        (rc = acq_query_double(q, "speedup", 1, 1e8, &speedup, err, errlen)) < 0 ||
        (rc = rate_given = acq_query_double(q, "rate", 2000, 1e6, &c.rate_hz, err, errlen)) < 0 ||
        (rc = acq_query_double(q, "channels", 1, ACQ_SIM_MAX_CHANNELS, &channels, err, errlen)) < 0 ||
        (rc = acq_query_double(q, "rpm", 60, 60000, &rpm, err, errlen)) < 0 ||
        (rc = acq_query_double(q, "frame", 1, SIM_MAX_FRAME, &frame, err, errlen)) < 0 ||
        (rc = acq_query_double(q, "start_days", 0, 1e5, &start_days, err, errlen)) < 0 ||
        (rc = acq_query_double(q, "end_days", 0, 1e5, &end_days, err, errlen)) < 0 ||
        (rc = acq_query_double(q, "realtime", 0, 1, &realtime, err, errlen)) < 0)
        return rc;
    if (channels != floor(channels) || frame != floor(frame) || (realtime != 0 && realtime != 1)) {
        snprintf(err, errlen, "%s: expected a whole number",
                 channels != floor(channels) ? "channels" : frame != floor(frame) ? "frame" : "realtime (0 or 1)");
        return -EINVAL;
    }
    if (!(c.onset_days < c.failure_days)) {
        snprintf(err, errlen, "onset_days=%g must come before failure_days=%g", c.onset_days, c.failure_days);
        return -EINVAL;
    }
    c.nchan = (unsigned)channels;
    c.shaft_hz = rpm / 60;
    if (c.shaft_hz > c.rate_hz / 20) {
        snprintf(err, errlen,
                 "rpm=%g: at most %g rpm at rate=%g Hz (the shaft's lines must stay well below half the rate)", rpm,
                 c.rate_hz / 20 * 60, c.rate_hz);
        return -EINVAL;
    }
    /* the machines' own bearings: the catalogue's Timken 6309 (pump) and 6208 (fan) orders */
    static const double pump_orders[4] = {3.037, 4.963, 1.955, 0.380}, fan_orders[4] = {3.547, 5.453, 2.256, 0.394};
    double orders[4];
    memcpy(orders, c.kind == ACQ_SIM_PUMP ? pump_orders : fan_orders, sizeof orders);
    const char *bname = c.kind == ACQ_SIM_PUMP ? "Timken 6309" : "Timken 6208";
    if ((v = acq_query_get(q, "bearing"))) {
        bname = v;
        if (acq_lookup_bearing(v, orders) < 0) {
            snprintf(err, errlen, "bearing=%s: unknown or ambiguous bearing (see `vibewatch analyze --list-bearings`)", v);
            return -EINVAL;
        }
    }
    c.bpfo = orders[0];
    c.bpfi = orders[1];
    c.bsf = orders[2];
    c.ftf = orders[3];
    int64_t t0_ns = 0;
    if ((v = acq_query_get(q, "t0"))) {
        if (acq_file_parse_iso8601(v, &t0_ns, NULL) < 0) {
            snprintf(err, errlen, "t0=%s: expected an ISO 8601 time with its zone, e.g. 2024-03-01T08:00:00Z", v);
            return -EINVAL;
        }
    } else {
        t0_ns = acq_clock_now_ns();
    }

    sim_src *st = calloc(1, sizeof *st);
    if (!st) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    acq_source_set_priv(s, st);
    char msg[160] = "";
    st->m = acq_sim_machine_new(&c, msg, sizeof msg);
    if (!st->m) {
        snprintf(err, errlen, "%s", msg);
        return -EINVAL; /* acq_open calls sim_close */
    }
    st->rate_hz = c.rate_hz;
    st->speedup = speedup;
    st->start_days = start_days;
    st->end_days = end_days;
    st->t0_ns = t0_ns;
    st->frame = frame > 0 ? (size_t)frame : (size_t)fmax(1, round(c.rate_hz / 10));
    st->realtime = realtime == 1;
    clock_gettime(CLOCK_MONOTONIC, &st->wall0);

    info->rate_hz = c.rate_hz;
    info->rate_requested_hz = rate_given ? c.rate_hz : 0;
    info->nchan = c.nchan;
    info->has_temp = true;
    info->finite = end_days > 0;
    info->dc_coupled = false;
    static const char *const names[] = {"accel_x", "accel_y", "accel_z"};
    for (unsigned ch = 0; ch < c.nchan; ch++) {
        snprintf(info->ch[ch].name, sizeof info->ch[ch].name, "%s", names[ch]);
        snprintf(info->ch[ch].unit, sizeof info->ch[ch].unit, "g");
        info->ch[ch].full_scale = SIM_FULL_SCALE_G;
        info->ch[ch].volts_per_unit = SIM_VOLTS_PER_G;
    }
    char life[80] = "healthy";
    if (c.fault != ACQ_SIM_NONE)
        snprintf(life, sizeof life, "%s from day %g, failing on day %g", acq_sim_fault_name(c.fault), c.onset_days,
                 c.failure_days);
    snprintf(info->desc, sizeof info->desc, "simulated %s, %.0f rpm, %s, %s%s, %u ch",
             acq_sim_machine_kind_name(c.kind), acq_sim_machine_shaft_hz(st->m) * 60, bname, life,
             speedup > 1 ? ", time lapse" : "", c.nchan);
    return 0;
}

/* Sleeps until `done` samples' worth of time has passed since open (CLOCK_MONOTONIC). */
static void pace(const sim_src *st)
{
    double due = (double)st->done / st->rate_hz;
    struct timespec t = st->wall0;
    double whole = floor(due);
    t.tv_sec += (time_t)whole;
    t.tv_nsec += (long)((due - whole) * 1e9);
    if (t.tv_nsec >= 1000000000) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000;
    }
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL) == EINTR)
        ;
}

static int sim_read(acq_source *s, acq_frame *f, char *err, size_t errlen)
{
    sim_src *st = acq_source_priv(s);
    size_t n = st->frame < f->capacity ? st->frame : f->capacity;
    /* machine time of this frame's first sample, s since t0 */
    long double mt = (long double)st->done * st->speedup / st->rate_hz;
    long double ns = mt * 1e9L;
    if (ns > (long double)INT64_MAX - (long double)st->t0_ns - 1e9L) {
        snprintf(err, errlen, "machine time ran past the year 2262");
        return -EOVERFLOW;
    }
    double age_days = st->start_days + (double)(mt / 86400.0L);
    if (st->end_days > 0 && age_days >= st->end_days)
        return ACQ_END;
    int rc = acq_sim_machine_generate(st->m, age_days, f->samples, n);
    if (rc < 0) {
        snprintf(err, errlen, "simulation failed at machine age %.3f d", age_days);
        return rc;
    }
    f->nsamp = n;
    f->t0_ns = st->t0_ns + (int64_t)llroundl(ns);
    f->temp_c = acq_sim_machine_temp_c(st->m, age_days);
    if (st->speedup > 1)
        f->flags |= ACQ_FRAME_TIMELAPSE;
    st->done += n;
    if (st->realtime)
        pace(st);
    return 0;
}

static const char *const sim_keys[] = {"seed", "fault", "onset_days", "failure_days", "speedup", "rate", "channels", "rpm", "bearing", "t0", "frame", "start_days", "end_days", "realtime", NULL};

const acq_source_ops acq_src_sim = {.keys = sim_keys, .scheme = "sim", .open = sim_open, .read = sim_read, .close = sim_close};

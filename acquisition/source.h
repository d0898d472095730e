/* acquisition/source.h — one interface for every way vibewatch gets samples: IIO ADCs through
 * libiio (`iio:`), audio interfaces through ALSA (`alsa:`), recordings (`file:`) and a simulated
 * machine (`sim:`), chosen by the URI's scheme the way libiio picks its backends.
 *
 * A source delivers frames: a block of samples of every channel, the data time of its first
 * sample, a sequence number and flags (gap, clipped, overrun). Time is data time: live sources
 * anchor the first sample to the clock and advance by sample count (at the rate the device is
 * measured to run at, where the backend measures it: info.rate_measured_hz); recordings take time
 * from their files. A gap (samples lost to an xrun, a failed refill, a reconnect, or the count falling
 * behind the clock) is flagged on the frame that follows it and counted in the source's stats,
 * never hidden.
 *
 * Threads: one source is used by one thread (its reader). A backend may run a thread of its own
 * (the IIO backend refills buffers in one) and hand frames over internally; acq_read() blocks until
 * a frame is complete, the source ends, or it fails. acq_stats() may be read from any thread.
 *
 * Ownership: the caller owns the frame (acq_frame_new/acq_frame_free) and passes it to
 * acq_read(), which fills it; samples are interleaved floats in each channel's unit (g for
 * accelerometers, °C never: temperature travels beside the samples in temp_c).
 */
#ifndef VW_ACQ_SOURCE_H
#define VW_ACQ_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ACQ_MAX_CHANNELS 64
#define ACQ_END 1 /* acq_read(): a finite source has no more frames */

enum acq_frame_flags {
    ACQ_FRAME_GAP = 1u << 0,       /* samples are missing just before this frame (gap_samples) */
    ACQ_FRAME_CLIPPED = 1u << 1,   /* a sample reached the channel's full scale (or, where
                                      info.clip_exact, a converter code at either end) */
    ACQ_FRAME_OVERRUN = 1u << 2,   /* the hardware or driver lost data (xrun) before this frame */
    ACQ_FRAME_TIMELAPSE = 1u << 3, /* simulated time lapse: t0 advanced faster than the samples */
    ACQ_FRAME_SNAPSHOT = 1u << 4,  /* first frame of a new recording or snapshot: not contiguous
                                      with the previous frame by design (no GAP for that) */
};

typedef struct acq_frame {
    int64_t t0_ns;          /* data time of the first sample, ns since the Unix epoch (UTC) */
    double rate_hz;
    uint64_t seq;           /* 0, 1, 2, … per source; a reconnect does not reset it */
    unsigned flags;         /* enum acq_frame_flags */
    uint64_t gap_samples;   /* with ACQ_FRAME_GAP: samples per channel missing before this frame
                               (0 when unknown, e.g. a recording's next file) */
    unsigned nchan;
    size_t nsamp;           /* samples per channel in this frame (≤ capacity) */
    size_t capacity;        /* samples per channel the buffer holds */
    float *samples;         /* interleaved: samples[i * nchan + c] */
    double temp_c;          /* temperature read with this frame, °C; NAN when none */
} acq_frame;

typedef struct acq_channel_info {
    char name[32];          /* "accel_x", "voltage0", "ch0", … */
    char unit[8];           /* "g" (every acceleration is delivered in g) or "" when unknown */
    double full_scale;      /* largest magnitude the channel can report in its unit; 0: unknown */
    double volts_per_unit;  /* sensor output per unit (an IEPE sensor's V/g), so the self-check
                               can read its bias voltage on DC-coupled inputs; 0: unknown */
} acq_channel_info;

typedef struct acq_info {
    char uri[256];          /* as opened */
    char desc[128];         /* human description: "IIO adxl355 at ip:10.0.0.2, 3 ch" */
    double rate_hz;         /* the rate the device actually runs at */
    double rate_requested_hz; /* what the URI asked for (0: not asked) */
    unsigned nchan;
    acq_channel_info ch[ACQ_MAX_CHANNELS];
    bool has_temp;
    bool finite;            /* a recording: acq_read() ends with ACQ_END */
    bool dc_coupled;        /* samples keep their DC level (an IEPE bias is visible) */
    bool clip_exact;        /* the backend flags ACQ_FRAME_CLIPPED itself, exactly (a raw code at the
                               converter's minimum or maximum); acq_read adds no check of its own */
    double rate_measured_hz; /* the rate the device's clock really runs at, measured against the
                               system clock by a live backend; 0 while unknown. Updated by acq_read:
                               read it from the reader's thread */
} acq_info;

typedef struct acq_stats {
    uint64_t frames, samples;   /* delivered (samples per channel) */
    uint64_t gaps, gap_samples; /* gap events and the samples they lost */
    uint64_t overruns;          /* xruns and failed refills */
    uint64_t clipped_frames;
    uint64_t disconnects, reconnects;
} acq_stats;

typedef struct acq_source acq_source;

/* Opens a source by URI: "iio:…", "alsa:…", "file:…", "sim:…" (see each backend). NULL with a
 * message in err naming the URI part that is wrong: an unknown scheme, an unknown or malformed
 * query key, a device that is not there. */
acq_source *acq_open(const char *uri, char *err, size_t errlen);
/* Fills f (allocated with at least info.nchan channels) with the next frame of up to
 * f->capacity samples per channel. Returns 0, ACQ_END for a finished recording, or a negative
 * errno with a message in err (the source may be read again after a transient error). */
int acq_read(acq_source *s, acq_frame *f, char *err, size_t errlen);
void acq_close(acq_source *s); /* accepts NULL; stops the backend's thread */
const acq_info *acq_source_info(const acq_source *s);
void acq_source_stats(const acq_source *s, acq_stats *out);

acq_frame *acq_frame_new(unsigned nchan, size_t capacity); /* NULL on a bad size or no memory */
void acq_frame_free(acq_frame *f);

/* ---- for backends (acquisition/src_*.c) -------------------------------------------------- */

/* A parsed URI query: "a=1&b=x". Keys and values are kept as text; every key a backend reads is
 * marked used, and acq_query_check_unused() names the first key nobody read. */
#define ACQ_QUERY_MAX 24
typedef struct acq_query {
    int n;
    struct { char key[32]; char val[160]; bool used; } kv[ACQ_QUERY_MAX];
} acq_query;

int acq_query_parse(const char *q, acq_query *out, char *err, size_t errlen);
const char *acq_query_get(acq_query *q, const char *key); /* NULL when absent */
/* Number values: 0 when absent (leaves *out), 1 when read, -EINVAL with a message naming the key
 * and the accepted range when malformed or outside [lo, hi]. */
int acq_query_double(acq_query *q, const char *key, double lo, double hi, double *out, char *err, size_t errlen);
int acq_query_check_unused(const acq_query *q, const char *scheme, char *err, size_t errlen);

typedef struct acq_source_ops {
    const char *scheme;
    /* The query keys the backend reads, NULL-terminated: acq_open refuses any other key before
     * the backend opens anything (a mistyped key must not show up as a connection error). */
    const char *const *keys;
    /* target: the URI after "scheme:" and before '?'; q: the parsed query. Fills *info (nchan,
     * rate, channels, …) and may keep state with acq_source_set_priv(). */
    int (*open)(acq_source *s, const char *target, acq_query *q, acq_info *info, char *err, size_t errlen);
    /* Fills f: samples, nsamp, t0_ns, flags, gap_samples, temp_c (rate, seq and nchan are set by
     * acq_read). 0, ACQ_END or a negative errno. */
    int (*read)(acq_source *s, acq_frame *f, char *err, size_t errlen);
    void (*close)(acq_source *s);
} acq_source_ops;

void acq_source_set_priv(acq_source *s, void *priv);
void *acq_source_priv(const acq_source *s);
/* Counters a backend updates (atomically: the stats may be read from another thread). */
void acq_stats_add_gap(acq_source *s, uint64_t lost_samples);
void acq_stats_add_overrun(acq_source *s);
void acq_stats_add_disconnect(acq_source *s);
void acq_stats_add_reconnect(acq_source *s);

/* Bearing defect orders by name (BPFO, BPFI, BSF, FTF as multiples of shaft speed), for the
 * sim: source's bearing= key. The catalogue lives in dsp/, above acquisition/ in the flow, so
 * the program registers the lookup (daemon/main.c does). Without one, every name is unknown. */
typedef int (*acq_bearing_lookup_fn)(const char *name, double orders[4]);
void acq_set_bearing_lookup(acq_bearing_lookup_fn fn);
/* 0 and orders filled, or -ENOENT. */
int acq_lookup_bearing(const char *name, double orders[4]);

/* Wall clock now, ns since the epoch (CLOCK_REALTIME). */
int64_t acq_clock_now_ns(void);

extern const acq_source_ops acq_src_iio, acq_src_alsa, acq_src_file, acq_src_sim;

#endif

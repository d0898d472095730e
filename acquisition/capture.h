/* acquisition/capture.h — capture a stretch of any source into an in-memory recording, for
 * `vibewatch record` and `vibewatch analyze SOURCE --seconds S`. Blocks while the source
 * delivers; memory is bounded by the requested length (and ACQ_RECORDING_MAX_BYTES). */
#ifndef VW_ACQ_CAPTURE_H
#define VW_ACQ_CAPTURE_H

#include "recording.h"
#include "source.h"

typedef struct acq_capture_report {
    acq_info info;        /* of the source */
    acq_stats stats;      /* at the end of the capture */
    int64_t t0_ns;        /* data time of the first sample captured */
    unsigned frames_with_gaps, frames_clipped;
    double temp_c;        /* last temperature seen, NAN when none */
    bool ended_early;     /* a finite source ended before the requested length */
    unsigned transient_errors; /* a live source's outages waited out (the gaps are in stats) */
    /* the streaming self-check over every frame: a channel that was in sensor_fault at any time
     * of the capture, and the reason it gave */
    bool sensor_fault[ACQ_MAX_CHANNELS];
    char fault_reason[ACQ_MAX_CHANNELS][224];
} acq_capture_report;

/* Capture options. */
typedef struct acq_capture_opts {
    bool whole_hz_rate;   /* refuse, before capturing, a source whose rate is not whole hertz (WAV) */
    double outage_s;      /* how long a live source may be down in total before the capture fails
                             (0: 60 s) */
} acq_capture_opts;

/* True when s names a source URI (iio:, alsa:, file:, sim:) rather than a plain file path. */
bool acq_is_source_uri(const char *s);

/* Opens uri, reads `seconds` of samples (all channels) into out, closes the source. A live source
 * that fails for a while (-EAGAIN, -ETIMEDOUT: it reconnects) is waited for, up to opts->outage_s
 * in all, and the outage shows as a gap; a finite source that ends early gives what it had.
 * Returns 0, or a negative errno with a message in err naming the source. opts may be NULL. */
int acq_capture(const char *uri, double seconds, const acq_capture_opts *opts, acq_recording *out,
                acq_capture_report *rep, char *err, size_t errlen);

#endif

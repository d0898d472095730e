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
} acq_capture_report;

/* True when s names a source URI (iio:, alsa:, file:, sim:) rather than a plain file path. */
bool acq_is_source_uri(const char *s);

/* Opens uri, reads `seconds` of samples (all channels) into out, closes the source. Returns 0,
 * or a negative errno with a message in err naming the source. */
int acq_capture(const char *uri, double seconds, acq_recording *out, acq_capture_report *rep, char *err,
                size_t errlen);

#endif

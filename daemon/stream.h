/* daemon/stream.h — what the box streams to its time-series outputs (config outputs.influx[]),
 * as InfluxDB line protocol, schema "vw-lp-1" (README: Streaming):
 *
 *   vw_features  tags box, asset, sensor, axis[, bearing]   fields: every finite snapshot feature
 *                (accel_rms_g …, daemon/snapshot_features.h), state (string), state_code (int),
 *                diagnosis (string, when assessed)
 *   vw_health    same tags   fields: anomaly, threshold, health, hi, hi_limit, rul_h, rul_lo_h,
 *                rul_hi_h, p_fail_7d, p_fail_14d (floats, when known), rul_basis (string),
 *                state, state_code, onset (bool), progress (while learning)
 *   vw_events    tags box, asset, sensor, axis, kind ("state", "maintenance")   fields: from, to,
 *                detail (strings), count=1i
 *   vw_box       tags box   fields: the box's own metrics (drops, gaps, queue depths, spool,
 *                CPU, memory, disk) and schema_version=1i
 *
 * Timestamps are data time in ns, so a replayed or re-sent point overwrites itself. state_code:
 * 0 learning, 1 ok, 2 watch, 3 warning, 4 alarm, 5 sensor_fault (stores that drop strings, such
 * as VictoriaMetrics, keep the code). Names and tags are stable; a change is a new schema version.
 *
 * Threads: called from the pipeline's history thread only. Each point is appended to every
 * output's disk spool (fsynced) before the snapshot's history transaction, so a kill -9 can leave a
 * point in the stream that the history lacks, never the reverse; each output sends from its spool
 * on its own thread (store/influx.h), so a dead server never blocks another output or the
 * pipeline. */
#ifndef VW_DAEMON_STREAM_H
#define VW_DAEMON_STREAM_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"

#define VW_STREAM_SCHEMA_VERSION 1

struct cJSON;
typedef struct models_monitor_output models_monitor_output;
typedef struct vw_stream vw_stream;

/* Starts every configured output (spools under DATA_DIR/spool/NAME). NULL with a message for an
 * output that cannot start; a config without outputs gives a stream that does nothing. */
vw_stream *vw_stream_start(const vw_config *cfg, char *err, size_t errlen);

typedef struct vw_stream_point {
    int64_t t_ns;
    const char *asset, *sensor, *axis, *bearing; /* bearing may be NULL */
    const double *features;                       /* NFEAT snapshot features */
    const char *state, *diagnosis;                /* diagnosis may be "" */
    const models_monitor_output *monitor;         /* NULL without a monitor */
} vw_stream_point;

void vw_stream_snapshot(vw_stream *s, const vw_stream_point *p);
void vw_stream_event(vw_stream *s, int64_t t_ns, const char *asset, const char *sensor, const char *axis,
                     const char *kind, const char *from, const char *to, const char *detail);
/* The box's metrics: the numbers of a flat JSON object. */
void vw_stream_metrics(vw_stream *s, int64_t t_ns, const struct cJSON *metrics);

/* Waits until everything is sent or timeout_s passes; the bytes still unsent. */
uint64_t vw_stream_flush(vw_stream *s, double timeout_s);
void vw_stream_stop(vw_stream *s); /* spools what is queued; NULL is fine */

/* The outputs' figures for the status API and the box metrics (a JSON array; NULL without outputs). */
struct cJSON *vw_stream_status(vw_stream *s);
/* Sums over the outputs, for the box metrics. */
void vw_stream_totals(vw_stream *s, uint64_t *spool_bytes, uint64_t *dropped_bytes, uint64_t *dead_batches);
/* Bytes that will never reach a store, since start: refused for good (dead letters), not
 * spooled, or dropped from a full spool. */
uint64_t vw_stream_undelivered(vw_stream *s);

#endif

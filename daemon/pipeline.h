/* daemon/pipeline.h — the appliance's data flow for one configuration:
 *
 *   a thread per sensor (acq_read → self-check → snapshots on the schedule)
 *     → analysis queue → analysis workers (dsp_analyze per channel → features, state)
 *     → history queue → the history sink thread (SQLite), and the latest state for the API.
 *
 * Queues are bounded. Running live, a full queue drops the snapshot (counted, shown in the
 * status) rather than stall acquisition; in replay (finite sources, as fast as possible) producers
 * wait instead, so nothing is lost and the run ends when the sources end and the queues drain.
 * Time is data time throughout: schedules, retention and history use the samples' timestamps.
 *
 * Threads own their objects (a source, analyzers, the store handle); the only shared state is
 * the counters and the latest-state table behind one mutex, read by the HTTP callbacks. */
#ifndef VW_DAEMON_PIPELINE_H
#define VW_DAEMON_PIPELINE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"

/* One channel's snapshot as the sink sees it (for `fit-prior` and tests): valid during the call. */
typedef struct models_monitor_output models_monitor_output;
typedef struct vw_pipeline_record {
    const char *asset, *sensor, *channel;
    int64_t t_ns;
    const double *features;              /* the snapshot features (daemon/snapshot_features.h) */
    const models_monitor_output *monitor; /* NULL when the channel has no monitor */
} vw_pipeline_record;

typedef struct vw_pipeline_opts {
    bool replay;           /* lossless, finite, exits when done */
    FILE *json_out;        /* replay --json: one line per snapshot and channel; NULL: none */
    bool no_history;       /* do not write the history (tests, dry runs) */
    void (*on_record)(void *ctx, const vw_pipeline_record *r); /* called by the sink thread, in order */
    void *ctx;
    double flush_timeout_s;  /* replay: how long finish waits for the outputs to send everything */
    uint64_t *unsent_out;    /* replay: the bytes the outputs could not send by then */
    uint64_t *refused_out;   /* replay: the bytes they never will (dead letters, drops) */
    long *alerts_pending_out; /* replay: alert messages still undelivered after flush_timeout_s */
    long *alerts_failed_out;  /* replay: alert messages given up or refused for good */
} vw_pipeline_opts;

typedef struct vw_pipeline vw_pipeline;

/* Opens every source, the history and the threads. NULL with a message in err (a source that
 * cannot be opened at start names the sensor; live, a source that fails later is retried). */
vw_pipeline *vw_pipeline_start(const vw_config *cfg, const vw_pipeline_opts *o, char *err, size_t errlen);
/* Asks every sensor thread to stop after the snapshot in hand; returns at once. */
void vw_pipeline_stop(vw_pipeline *p);
/* True once every sensor thread has ended (replay: the sources are exhausted). */
bool vw_pipeline_sources_done(vw_pipeline *p);
/* Stops (if not yet), drains the queues, joins every thread, closes the history; frees p. Returns
 * the number of snapshots stored. */
uint64_t vw_pipeline_finish(vw_pipeline *p);

/* "Maintenance done" on an asset: each of its channels starts a new baseline with its next
 * snapshot (a "maintenance" event in the history). 0, or -ENOENT for an unknown asset id. */
int vw_pipeline_maintenance(vw_pipeline *p, const char *asset_id);
/* The same, recorded by a user with a note (the dashboard's button): the events say who and why. */
int vw_pipeline_maintenance_by(vw_pipeline *p, const char *asset_id, const char *user, const char *note);

/* An engineer acknowledged the asset's alerts: repeats stop until its state gets worse. 0,
 * -ENOENT for an unknown asset, -EAGAIN when the alerts' queue is full (ask again later). */
int vw_pipeline_ack(vw_pipeline *p, const char *asset_id, const char *user, const char *note);
/* The alerts' watchdog (live only; call every few seconds): a sensor without a snapshot for
 * alerts.delivery.stopped_after raises "acquisition stopped"; its next snapshot clears it. */
void vw_pipeline_watchdog(vw_pipeline *p);

/* For the HTTP API (thread-safe): documents as cJSON trees the caller deletes; NULL when out of
 * memory. */
struct cJSON;
struct cJSON *vw_pipeline_status(vw_pipeline *p);
struct cJSON *vw_pipeline_assets(vw_pipeline *p); /* {"assets": […], "attention": […]} (web/API.md) */
/* One asset as in the list plus "shaft_hz" (the latest estimate); NULL for an unknown id. */
struct cJSON *vw_pipeline_asset(vw_pipeline *p, const char *asset_id);
/* The live updates' hook: fn(ctx, "snapshot", JSON) after each stored snapshot, from the sink
 * thread, never concurrently. fn must not block; NULL removes it (returns once no call runs). */
void vw_pipeline_set_publish(vw_pipeline *p, void (*fn)(void *ctx, const char *event, const char *json), void *ctx);
/* One-line summary for sd_notify STATUS= and logs. */
void vw_pipeline_summary(vw_pipeline *p, char *buf, size_t len);

#endif

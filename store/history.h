/* store/history.h — the box's local history in SQLite (WAL): what an engineer needs to understand a
 * machine months later, bounded so a full flash card never stops the box.
 *
 * Kept per channel: the feature trend at full resolution (trend_days), hourly and daily
 * aggregates of every feature (aggregate_days), amplitude and envelope spectra of every snapshot
 * stored compactly (the newest spectra_per_channel), raw waveforms (one every waveform_interval_h
 * and around every state change; the newest waveforms_per_channel); events (state changes,
 * configuration changes, later maintenance) and the box's own metrics. Retention runs on data
 * time; a size cap prunes oldest-first across all of it.
 *
 * One snapshot is one transaction: `kill -9` at any moment loses at most the snapshot being
 * written. Threads: one thread (the history sink) uses a handle; nothing is shared.
 */
#ifndef VW_STORE_HISTORY_H
#define VW_STORE_HISTORY_H

#include <stddef.h>
#include <stdint.h>

typedef struct store_retention {
    double trend_days;              /* default 90 */
    double aggregate_days;          /* default 1825 */
    unsigned spectra_per_channel;   /* default 2000 */
    double waveform_interval_h;     /* default 24 */
    unsigned waveforms_per_channel; /* default 100 */
    double max_mb;                  /* default 1024 */
} store_retention;

typedef struct store_history store_history;

typedef struct store_snapshot {
    int64_t t_ns;                   /* data time of the snapshot's first sample */
    const char *asset_id, *sensor_id, *channel; /* channel: the axis label ("x", "0", …) */
    const char *state;              /* "ok", "sensor_fault", a diagnosis… */
    size_t nfeatures;
    const char *const *feature_names; /* stable names, e.g. "accel_rms_g", "velocity_rms_mm_s" */
    const double *features;         /* NAN for "not available" */
    const float *spectrum;          /* amplitude spectrum (g peak), may be NULL */
    size_t spectrum_bins;
    double spectrum_df_hz;
    const float *envelope;          /* squared-envelope spectrum, may be NULL */
    size_t envelope_bins;
    double envelope_df_hz;
    const float *waveform;          /* raw samples (g), NULL unless one is due (store_history_waveform_due) */
    size_t waveform_len;
    double waveform_rate_hz;
} store_snapshot;

/* Opens (creating) DIR/history.sqlite3 in WAL mode and brings its schema up to date. NULL with a
 * message naming the file on failure. */
store_history *store_history_open(const char *dir, const store_retention *r, char *err, size_t errlen);
void store_history_close(store_history *h); /* accepts NULL; checkpoints the WAL */

/* Stores one snapshot of one channel (trend row, aggregates, spectra, waveform) in one transaction. */
int store_history_add(store_history *h, const store_snapshot *s, char *err, size_t errlen);
/* True when a raw waveform should be kept with this channel's next snapshot (interval elapsed in
 * data time, or force: a state change). */
int store_history_waveform_due(store_history *h, const char *sensor_id, const char *channel, int64_t t_ns);
int store_history_event(store_history *h, int64_t t_ns, const char *asset_id, const char *kind,
                        const char *detail_json, char *err, size_t errlen);
int store_history_metrics(store_history *h, int64_t t_ns, const char *metrics_json, char *err, size_t errlen);
/* Retention by data time (now_ns) and the size cap; returns rows deleted or -errno. */
long store_history_prune(store_history *h, int64_t now_ns, char *err, size_t errlen);

/* For the API and tests. */
long long store_history_count(store_history *h, const char *what); /* "trend", "hourly", "daily",
                                                                       "spectra", "waveforms", "events", "metrics"; -1 on error */
uint64_t store_history_size_bytes(store_history *h);
/* The newest trend row of a channel: its time and features as a JSON object text (malloc'd). 0,
 * -ENOENT when none. */
int store_history_latest(store_history *h, const char *sensor_id, const char *channel, int64_t *t_ns,
                         char **features_json);

#endif

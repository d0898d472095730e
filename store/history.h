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
 * written. (WAL with synchronous=NORMAL: a crash of the process loses nothing committed; a power
 * cut may lose the last transactions since the last checkpoint, but never corrupts the file.)
 * Call store_history_prune often (after every few snapshots: it is cheap when there is nothing to
 * do); the cap is enforced there, never by refusing a snapshot. Beside the database, DIR holds
 * history.reserve (twice the WAL limit, at most 8 MiB, outside the cap), released to make room
 * when the file system fills up. Threads: one thread (the history sink) uses a handle; nothing
 * is shared; other readers open their own SQLite connections.
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

/* Stores one snapshot of one channel (trend row, aggregates, spectra, waveform) in one transaction.
 * -EEXIST when the channel already has a snapshot at t_ns (a recording replayed twice), -EINVAL for
 * a malformed snapshot, -ENOSPC when even the reserve could not make room; err says which. */
int store_history_add(store_history *h, const store_snapshot *s, char *err, size_t errlen);
/* 1 when a raw waveform should be kept with this channel's next snapshot: none stored yet, or
 * waveform_interval_h of data time since the last one stored, or data time went back before it (a
 * new recording); 0 when not (always 0 when waveforms_per_channel is 0); -errno on a database
 * error. The caller adds the waveform at state changes on its own. */
int store_history_waveform_due(store_history *h, const char *sensor_id, const char *channel, int64_t t_ns);
int store_history_event(store_history *h, int64_t t_ns, const char *asset_id, const char *kind,
                        const char *detail_json, char *err, size_t errlen);
int store_history_metrics(store_history *h, int64_t t_ns, const char *metrics_json, char *err, size_t errlen);
/* The condition monitor's learned model of a channel (models/monitor.h file text, a JSON object),
 * learned at data time t_ns. The newest STORE_MODELS_PER_CHANNEL are kept per channel, outside
 * retention (a model is what a channel's alarms rest on). 0 or -errno. */
#define STORE_MODELS_PER_CHANNEL 10
int store_history_model_add(store_history *h, int64_t t_ns, const char *sensor_id, const char *channel,
                            const char *model_json, char *err, size_t errlen);
/* The newest model of a channel (malloc'd text). 0, -ENOENT when none. */
int store_history_model_latest(store_history *h, const char *sensor_id, const char *channel, int64_t *t_ns,
                               char **model_json);
/* Calls cb for each trend row of a channel at or after from_ns, oldest first (its time, state and
 * features JSON object text, valid during the call); cb returns non-zero to stop. Returns the rows
 * seen or -errno. For catching a restored monitor up after a restart. */
long store_history_trend_since(store_history *h, const char *sensor_id, const char *channel, int64_t from_ns,
                               int (*cb)(void *ctx, int64_t t_ns, const char *state, const char *features_json),
                               void *ctx);
/* The time of the newest event of a kind for an asset. 0, -ENOENT when none. */
int store_history_event_last(store_history *h, const char *asset_id, const char *kind, int64_t *t_ns);
/* Retention by data time (now_ns) and the size cap; returns rows deleted or -errno. */
long store_history_prune(store_history *h, int64_t now_ns, char *err, size_t errlen);

/* For the API and tests. */
long long store_history_count(store_history *h, const char *what); /* "trend", "hourly", "daily",
                                                                       "spectra", "waveforms", "events", "metrics", "models"; -1 on error */
uint64_t store_history_size_bytes(store_history *h);
/* The newest trend row of a channel: its time and features as a JSON object text (malloc'd). 0,
 * -ENOENT when none. */
int store_history_latest(store_history *h, const char *sensor_id, const char *channel, int64_t *t_ns,
                         char **features_json);

/* ---- defaults and reading back -------------------------------------------------------------- */

/* Valid ranges, checked by store_history_open (config validation may mirror them):
 * trend_days and aggregate_days in (0, 36500]; waveform_interval_h in [0, 876000] (0: every
 * snapshot); spectra_per_channel and waveforms_per_channel 0 (keep none, store none) up to
 * 10000000; max_mb in [1, 16777216] (MiB: 1 MB here is 1048576 bytes). */
void store_history_defaults(store_retention *r);
/* The database file (DIR/history.sqlite3). */
const char *store_history_path(const store_history *h);

/* The newest spectrum (envelope: 0 amplitude, 1 envelope) of a channel at or before *t_ns
 * (INT64_MAX: the newest of all), decoded to a malloc'd array of *nbins values; *t_ns is set to the
 * snapshot's time. 0, -ENOENT when there is none. */
int store_history_spectrum(store_history *h, const char *sensor_id, const char *channel, int envelope,
                           int64_t *t_ns, float **bins, size_t *nbins, double *df_hz);
/* The newest raw waveform of a channel at or before *t_ns, decoded (g), malloc'd. 0, -ENOENT. */
int store_history_waveform(store_history *h, const char *sensor_id, const char *channel, int64_t *t_ns,
                           float **samples, size_t *nsamples, double *rate_hz);

/* ---- the compact formats (pure functions: exposed for readers and tests) ----------------------
 *
 * Spectra: one little-endian uint16 per bin, log magnitude relative to the spectrum's own peak
 * (top_db = 20·log10(peak), stored beside the blob). Code c in 1…65535 stands for
 * top_db − (65535 − c)·STORE_SPECTRUM_STEP_DB; code 0 is exactly 0 (given for 0, negative and
 * non-finite bins). The 65535 codes span 196.6 dB below the peak (more than a 24-bit ADC's range
 * plus the FFT's processing gain); a positive bin further below is stored as the floor. Precision:
 * ≤ STEP/2 = 0.0015 dB (0.017 %) everywhere in that range, plus the float rounding of the decoded
 * value (< 1e-6 dB). 2 bytes per bin.
 *
 * Waveforms: one little-endian int16 per sample, sample = code · scale (g) with
 * scale = peak |x| / 32767 per waveform; absolute error ≤ scale / 2 = peak / 65534 (a
 * quantisation noise ≥ 96 dB below the waveform's peak); non-finite samples are stored as 0.
 * 2 bytes per sample. */
#define STORE_SPECTRUM_STEP_DB 0.003
/* Writes 2·n bytes to out; returns top_db (0 when no bin is positive and finite). */
double store_history_spectrum_encode(const float *x, size_t n, uint8_t *out);
void store_history_spectrum_decode(const uint8_t *in, size_t n, double top_db, float *out);
/* Writes 2·n bytes to out; returns scale (0 when every sample is 0 or non-finite). */
double store_history_waveform_encode(const float *x, size_t n, uint8_t *out);
void store_history_waveform_decode(const uint8_t *in, size_t n, double scale, float *out);

/* The finite features as one compact JSON object ({"accel_rms_g":0.0123,…}; names escaped, each
 * number the shortest text that reads back as the same double), NUL-terminated into out. Returns
 * its length, or -ENOSPC when outlen is short; store_history_features_json_bound(…) bytes always
 * suffice. */
long store_history_features_json(size_t n, const char *const *names, const double *values, char *out,
                                 size_t outlen);
size_t store_history_features_json_bound(size_t n, const char *const *names);

#endif

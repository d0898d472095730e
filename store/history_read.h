/* store/history_read.h — reading the local history back for the dashboard's API: trends
 * downsampled to a number of points, spectra (decimated by maximum so peaks survive), spectra
 * over time for a waterfall, raw waveforms as min/max pairs, and events.
 *
 * A reader is its own read-only SQLite connection to DIR/history.sqlite3 (WAL: it never blocks
 * the writer, nor the writer it). One reader serves one thread at a time; the caller keeps a
 * small pool (or a mutex) for concurrent requests. Every query is bounded: the output sizes by
 * the caller's `points` / `rows` / `limit`, the work by the indexes on (channel, t_ns). Every
 * function returns 0 or a negative errno: -ENOENT when the database, the channel or the data do
 * not exist, -EINVAL for bad arguments, -EIO for a database error (err says which). */
#ifndef VW_STORE_HISTORY_READ_H
#define VW_STORE_HISTORY_READ_H

#include <stddef.h>
#include <stdint.h>

typedef struct store_reader store_reader;

/* NULL with err when DIR/history.sqlite3 does not exist or cannot be opened (never creates it). */
store_reader *store_reader_open(const char *dir, char *err, size_t errlen);
void store_reader_close(store_reader *r); /* accepts NULL */

/* The newest and oldest trend times of a channel (full-resolution trend, else hourly aggregates).
 * -ENOENT when the channel has no data. */
int store_reader_span(store_reader *r, const char *sensor, const char *channel, int64_t *first_ns,
                      int64_t *last_ns);

/* A trend over [from_ns, to_ns] in npoints equal buckets (bucket i starts at
 * from_ns + i·(to_ns − from_ns)/npoints). For each feature asked for and each bucket: mean, min,
 * max of the finite values in it (NAN when none). Source: the full-resolution trend when the range
 * starts within it, else the hourly aggregates, else the daily ones (resolution says which:
 * "raw", "hourly", "daily"). Out arrays are the caller's: nfeatures × npoints each, feature-major
 * (mean[f * npoints + i]). npoints in 1…100000, nfeatures in 1…16. */
typedef struct store_trend_out {
    double *mean, *min, *max;
    unsigned *count;          /* snapshots in each bucket (nfeatures × npoints) */
    const char *resolution;   /* static string */
} store_trend_out;
int store_reader_trend(store_reader *r, const char *sensor, const char *channel, int64_t from_ns,
                       int64_t to_ns, size_t nfeatures, const char *const *features, size_t npoints,
                       store_trend_out *out, char *err, size_t errlen);

/* The newest stored spectrum (envelope 0: amplitude, 1: envelope) at or before *t_ns (INT64_MAX:
 * the newest), decoded, with bins from f=0 up to fmax_hz (≤ 0: all) decimated by maximum into at
 * most max_points values. *t_ns is set to the snapshot's time, *df_hz to the spacing of the
 * returned values (the stored df × max_of), *max_of to the bins per value. Malloc'd *values. */
int store_reader_spectrum(store_reader *r, const char *sensor, const char *channel, int envelope,
                          int64_t *t_ns, double fmax_hz, size_t max_points, float **values,
                          size_t *nvalues, double *df_hz, unsigned *max_of);

/* Spectra over [from_ns, to_ns] for a waterfall: at most max_rows, picked evenly across the
 * stored snapshots in the range (oldest first), each decimated like store_reader_spectrum to at
 * most max_points columns up to fmax_hz. Malloc'd: t_ns[nrows], values[nrows × ncols] (row-major,
 * linear units; rows whose spectrum is shorter are padded with 0). */
int store_reader_waterfall(store_reader *r, const char *sensor, const char *channel, int envelope,
                           int64_t from_ns, int64_t to_ns, double fmax_hz, size_t max_rows,
                           size_t max_points, int64_t **t_ns, float **values, size_t *nrows,
                           size_t *ncols, double *df_hz);

/* The newest raw waveform at or before *t_ns (INT64_MAX: the newest), as min/max pairs of `step`
 * samples each so that there are at most max_points pairs (step 1: min = max = the samples).
 * Malloc'd *min and *max of *npairs; *n is the waveform's length in samples. */
int store_reader_waveform(store_reader *r, const char *sensor, const char *channel, int64_t *t_ns,
                          size_t max_points, float **min, float **max, size_t *npairs, size_t *n,
                          unsigned *step, double *rate_hz);

/* Events, newest first: asset and kind may be NULL (any); [from_ns, to_ns]; at most limit. cb gets
 * each (detail: JSON text or NULL), valid during the call; returns non-zero to stop. Returns the
 * number of events given, or -errno. */
long store_reader_events(store_reader *r, const char *asset, const char *kind, int64_t from_ns,
                         int64_t to_ns, size_t limit,
                         int (*cb)(void *ctx, int64_t id, int64_t t_ns, const char *asset,
                                   const char *kind, const char *detail),
                         void *ctx);

#endif

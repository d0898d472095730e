/* bench/bench_history_read.c — speed of reading the local history back (store/history_read.c):
 * a raw trend of 30 days at one snapshot a minute (43 200 rows of 40 features) read into 1000
 * buckets, with the features picked out of each row's JSON in C (store_reader_trend) and, for
 * comparison, by SQLite's json_extract (one call per feature and row, as a query would); then the
 * same range from the hourly aggregates, a spectrum, a waterfall and a waveform. Prints a table;
 * checks nothing.
 *   bench_history_read [DIR]     (default: a fresh folder under $TMPDIR or /tmp, removed afterwards) */
#include "store/history.h"
#include "store/history_read.h"

#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SEC INT64_C(1000000000)
#define MIN (60 * SEC)
#define HOUR (60 * MIN)
#define DAY (24 * HOUR)
#define T0 (INT64_C(1704067200) * SEC)
#define NFEAT 40
#define NROWS (30 * 24 * 60)
#define NPOINTS 1000
#define REPEAT 5

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static const char *names[NFEAT];
static char nb[NFEAT][24];

/* The trend through json_extract: the same buckets (mean only), one json_extract per feature;
 * nf 0: only the rows' text read, nothing parsed (what SQLite's reading costs). */
static double read_json_extract(const char *path, size_t nf)
{
    sqlite3 *db;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        return NAN;
    char sql[2048] = "SELECT t_ns";
    if (nf == 0)
        snprintf(sql, sizeof sql, "SELECT t_ns, length(features), features");
    for (size_t k = 0; k < nf; k++)
        snprintf(sql + strlen(sql), sizeof sql - strlen(sql), ", json_extract(features, ?%zu)", k + 4);
    snprintf(sql + strlen(sql), sizeof sql - strlen(sql),
             " FROM trend WHERE channel_id = (SELECT id FROM channels WHERE sensor = 'de' AND channel = 'x')"
             " AND t_ns >= ?2 AND t_ns <= ?3 ORDER BY t_ns");
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK) {
        fprintf(stderr, "%s\n", sqlite3_errmsg(db));
        sqlite3_close(db);
        return NAN;
    }
    static double sum[NFEAT * NPOINTS];
    static unsigned cnt[NFEAT * NPOINTS];
    double best = INFINITY;
    for (int rep = 0; rep < REPEAT; rep++) {
        double t = now_s();
        memset(sum, 0, sizeof sum);
        memset(cnt, 0, sizeof cnt);
        sqlite3_reset(s);
        sqlite3_bind_int64(s, 2, T0);
        sqlite3_bind_int64(s, 3, T0 + 30 * DAY);
        char path_k[NFEAT][40];
        for (size_t k = 0; k < nf; k++) {
            snprintf(path_k[k], sizeof path_k[k], "$.\"%s\"", names[k]);
            sqlite3_bind_text(s, (int)k + 4, path_k[k], -1, SQLITE_STATIC);
        }
        int64_t width = 30 * DAY / NPOINTS;
        while (sqlite3_step(s) == SQLITE_ROW) {
            if (nf == 0) {
                const unsigned char *txt = sqlite3_column_text(s, 2);
                cnt[0] += txt ? txt[0] : 0u;
                continue;
            }
            size_t i = (size_t)((sqlite3_column_int64(s, 0) - T0) / width);
            i = i < NPOINTS ? i : NPOINTS - 1;
            for (size_t k = 0; k < nf; k++)
                if (sqlite3_column_type(s, (int)k + 1) != SQLITE_NULL) {
                    sum[k * NPOINTS + i] += sqlite3_column_double(s, (int)k + 1);
                    cnt[k * NPOINTS + i]++;
                }
        }
        t = now_s() - t;
        best = t < best ? t : best;
    }
    sqlite3_finalize(s);
    sqlite3_close(db);
    return best;
}

static double read_trend(store_reader *r, size_t nf, int64_t from, int64_t to, size_t npoints, const char **resolution)
{
    static double mean[NFEAT * NPOINTS], mn[NFEAT * NPOINTS], mx[NFEAT * NPOINTS];
    static unsigned count[NFEAT * NPOINTS];
    store_trend_out out = {.mean = mean, .min = mn, .max = mx, .count = count};
    char err[512];
    double best = INFINITY;
    for (int rep = 0; rep < REPEAT; rep++) {
        double t = now_s();
        if (store_reader_trend(r, "de", "x", from, to, nf, names, npoints, &out, err, sizeof err) < 0) {
            fprintf(stderr, "%s\n", err);
            return NAN;
        }
        t = now_s() - t;
        best = t < best ? t : best;
    }
    *resolution = out.resolution;
    return best;
}

int main(int argc, char **argv)
{
    char dir[1024];
    int own = argc < 2;
    if (own) {
        const char *tmp = getenv("TMPDIR");
        snprintf(dir, sizeof dir, "%s/bench_history_read.XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(dir)) {
            perror("mkdtemp");
            return 1;
        }
    } else {
        snprintf(dir, sizeof dir, "%s", argv[1]);
    }
    for (int k = 0; k < NFEAT; k++) {
        snprintf(nb[k], sizeof nb[k], "feature_%02d", k);
        names[k] = nb[k];
    }
    char err[512];
    store_retention ret;
    store_history_defaults(&ret);
    ret.waveform_interval_h = 24;
    store_history *h = store_history_open(dir, &ret, err, sizeof err);
    if (!h) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    double t = now_s();
    static float spec[12801], env[1601], wave[65536];
    for (int i = 0; i < 12801; i++)
        spec[i] = (float)(1e-3 * (1 + i % 13) + (i % 1000 == 7));
    for (int i = 0; i < 1601; i++)
        env[i] = (float)(1e-4 * (1 + i % 5));
    for (int i = 0; i < 65536; i++)
        wave[i] = (float)sin(i * 0.01);
    for (int k = 0; k < NROWS; k++) {
        double v[NFEAT];
        for (int f = 0; f < NFEAT; f++)
            v[f] = sin(k * 1e-3 * (f + 1)) * (f + 1) + 1e-3 * k;
        int64_t tk = T0 + k * MIN;
        int with_blobs = k % 30 == 0; /* a spectrum every 30 min: 1440 of them */
        store_snapshot s = {.t_ns = tk, .asset_id = "p1", .sensor_id = "de", .channel = "x", .state = "ok",
                            .nfeatures = NFEAT, .feature_names = names, .features = v};
        if (with_blobs) {
            s.spectrum = spec, s.spectrum_bins = 12801, s.spectrum_df_hz = 1.0;
            s.envelope = env, s.envelope_bins = 1601, s.envelope_df_hz = 1.0;
        }
        if (store_history_waveform_due(h, "de", "x", tk) == 1)
            s.waveform = wave, s.waveform_len = 65536, s.waveform_rate_hz = 25600;
        if (store_history_add(h, &s, err, sizeof err) < 0) {
            fprintf(stderr, "%s\n", err);
            return 1;
        }
    }
    double write_s = now_s() - t;
    char path[1100];
    snprintf(path, sizeof path, "%s/history.sqlite3", dir);
    store_reader *r = store_reader_open(dir, err, sizeof err);
    if (!r) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    printf("history read-back: %d trend rows of %d features (30 days, 1/min), %d buckets, best of %d\n", NROWS, NFEAT,
           NPOINTS, REPEAT);
    printf("  (written in %.1f s)\n", write_s);
    printf("%-44s %10s %12s\n", "what", "ms", "rows/s");
    double base = read_json_extract(path, 0);
    printf("%-44s %10.1f %12.0f\n", "raw trend rows, SQLite reading only", 1e3 * base, NROWS / base);
    static const size_t nfs[] = {1, 4, 8, 16};
    for (size_t i = 0; i < sizeof nfs / sizeof nfs[0]; i++) {
        const char *res = "";
        double c = read_trend(r, nfs[i], T0, T0 + 30 * DAY - MIN, NPOINTS, &res);
        double j = read_json_extract(path, nfs[i]);
        char what[64];
        snprintf(what, sizeof what, "raw trend, %zu features, C parse (%s)", nfs[i], res);
        printf("%-44s %10.1f %12.0f\n", what, 1e3 * c, NROWS / c);
        snprintf(what, sizeof what, "raw trend, %zu features, json_extract", nfs[i]);
        printf("%-44s %10.1f %12.0f\n", what, 1e3 * j, NROWS / j);
    }
    store_history_close(h);
    /* the trend pruned to its last 10 days: the same 30 days in 500 buckets come from the hourly
     * aggregates */
    ret.trend_days = 10;
    h = store_history_open(dir, &ret, err, sizeof err);
    if (!h || store_history_prune(h, T0 + 30 * DAY, err, sizeof err) < 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    store_history_close(h);
    for (size_t i = 0; i < 2; i++) {
        const char *res = "";
        double c = read_trend(r, nfs[i], T0, T0 + 30 * DAY - MIN, 500, &res);
        char what[64];
        snprintf(what, sizeof what, "30 days, %zu features (%s)", nfs[i], res);
        printf("%-44s %10.1f\n", what, 1e3 * c);
    }
    float *v = NULL, *lo = NULL, *hi = NULL;
    int64_t *ts = NULL;
    size_t nv, nr, nc, np, n;
    double df, rate;
    unsigned m, step;
    double best = INFINITY;
    for (int rep = 0; rep < REPEAT; rep++) {
        int64_t tt = INT64_MAX;
        t = now_s();
        store_reader_spectrum(r, "de", "x", 0, &tt, 0, 1000, &v, &nv, &df, &m);
        t = now_s() - t;
        best = t < best ? t : best;
        free(v);
    }
    printf("%-44s %10.2f\n", "spectrum, 12801 bins → 1000 values", 1e3 * best);
    best = INFINITY;
    for (int rep = 0; rep < REPEAT; rep++) {
        t = now_s();
        store_reader_waterfall(r, "de", "x", 0, T0, T0 + 30 * DAY, 0, 60, 1000, &ts, &v, &nr, &nc, &df);
        t = now_s() - t;
        best = t < best ? t : best;
        free(ts);
        free(v);
    }
    printf("%-44s %10.2f\n", "waterfall, 60 of 1440 spectra × 1000", 1e3 * best);
    best = INFINITY;
    for (int rep = 0; rep < REPEAT; rep++) {
        int64_t tt = INT64_MAX;
        t = now_s();
        store_reader_waveform(r, "de", "x", &tt, 2000, &lo, &hi, &np, &n, &step, &rate);
        t = now_s() - t;
        best = t < best ? t : best;
        free(lo);
        free(hi);
    }
    printf("%-44s %10.2f\n", "waveform, 65536 samples → 2000 pairs", 1e3 * best);
    store_reader_close(r);
    if (own) {
        static const char *const files[] = {"history.sqlite3", "history.sqlite3-wal", "history.sqlite3-shm",
                                            "history.reserve"};
        for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
            snprintf(path, sizeof path, "%s/%s", dir, files[i]);
            unlink(path);
        }
        rmdir(dir);
    }
    return 0;
}

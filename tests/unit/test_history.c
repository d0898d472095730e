/* Tests of store/history.h: the compact formats against their documented precision, row counts
 * and aggregates against what was fed (computed here, independently), retention and the size cap
 * on data time, waveform scheduling, kill -9 at random moments, a full file system, and the errors
 * a person sees. The database is also read directly through SQLite (the schema is the file
 * format), from a second connection as the web API would. */
#include "store/history.h"
#include "testlib.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SEC INT64_C(1000000000)
#define HOUR (3600 * SEC)
#define DAY (24 * HOUR)
#define T0 (INT64_C(1704067200) * SEC) /* 2024-01-01T00:00:00Z */

/* ---- helpers --------------------------------------------------------------------------------- */

static char *subdir(const char *name)
{
    static char path[8][600];
    static int next;
    char *p = path[next++ % 8];
    snprintf(p, sizeof path[0], "%s/%s", t_tmpdir(), name);
    return p;
}

static char *db_file(const char *dir)
{
    static char path[700];
    snprintf(path, sizeof path, "%s/history.sqlite3", dir);
    return path;
}

static store_retention keep_all(void)
{
    store_retention r;
    store_history_defaults(&r);
    r.trend_days = r.aggregate_days = 36500;
    r.spectra_per_channel = r.waveforms_per_channel = 10000000;
    return r;
}

static store_history *open_or_fail(const char *dir, const store_retention *r)
{
    char err[512] = "";
    store_history *h = store_history_open(dir, r, err, sizeof err);
    T_CHECK(h != NULL, "open %s: %s", dir, err);
    return h;
}

/* One integer from the database through a connection of its own. */
static char *wal_file(const char *dir)
{
    static char path[710];
    snprintf(path, sizeof path, "%s/history.sqlite3-wal", dir);
    return path;
}

static long long sql_int(const char *dir, const char *q)
{
    sqlite3 *db;
    sqlite3_stmt *s;
    long long v = -1;
    if (sqlite3_open_v2(db_file(dir), &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, q, -1, &s, NULL) == SQLITE_OK) {
        if (sqlite3_step(s) == SQLITE_ROW)
            v = sqlite3_column_int64(s, 0);
        sqlite3_finalize(s);
    } else {
        t_fail_at(__FILE__, __LINE__, "%s: %s", q, sqlite3_errmsg(db));
    }
    sqlite3_close(db);
    return v;
}

static void sql_text(const char *dir, const char *q, char *out, size_t len)
{
    sqlite3 *db;
    sqlite3_stmt *s;
    snprintf(out, len, "(none)");
    if (sqlite3_open_v2(db_file(dir), &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, q, -1, &s, NULL) == SQLITE_OK) {
        if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
            snprintf(out, len, "%s", (const char *)sqlite3_column_text(s, 0));
        sqlite3_finalize(s);
    }
    sqlite3_close(db);
}

static off_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? st.st_size : 0;
}

/* A snapshot with its own buffers. */
#define NFEAT 6
static const char *const fnames[NFEAT] = {"accel_rms_g", "velocity_rms_mm_s", "kurtosis", "crest", "bpfo_g", "temp_c"};

typedef struct snap {
    float *spec, *env, *wave;
    double feat[NFEAT];
    store_snapshot s;
} snap;

static void snap_init(snap *b, size_t spec_bins, size_t env_bins, size_t wave_len)
{
    memset(b, 0, sizeof *b);
    b->spec = spec_bins ? calloc(spec_bins, sizeof *b->spec) : NULL;
    b->env = env_bins ? calloc(env_bins, sizeof *b->env) : NULL;
    b->wave = wave_len ? calloc(wave_len, sizeof *b->wave) : NULL;
    b->s.nfeatures = NFEAT;
    b->s.feature_names = fnames;
    b->s.features = b->feat;
    b->s.spectrum_bins = spec_bins;
    b->s.spectrum_df_hz = 1.0;
    b->s.envelope_bins = env_bins;
    b->s.envelope_df_hz = 0.5;
    b->s.waveform_len = wave_len;
    b->s.waveform_rate_hz = 25600;
    b->s.asset_id = "pump-1";
    b->s.state = "ok";
}

static void snap_free(snap *b)
{
    free(b->spec);
    free(b->env);
    free(b->wave);
}

/* Fills the snapshot for time t; the waveform is attached only when with_wave. */
static void snap_fill(snap *b, int64_t t, const char *sensor, const char *channel, int with_wave)
{
    b->s.t_ns = t;
    b->s.sensor_id = sensor;
    b->s.channel = channel;
    for (int k = 0; k < NFEAT; k++)
        b->feat[k] = (double)(t / SEC % 1000) * 0.001 + k;
    for (size_t i = 0; i < b->s.spectrum_bins; i++)
        b->spec[i] = (float)(1e-6 + t_urand());
    for (size_t i = 0; i < b->s.envelope_bins; i++)
        b->env[i] = (float)(1e-8 + 1e-3 * t_urand());
    for (size_t i = 0; i < b->s.waveform_len; i++)
        b->wave[i] = (float)(0.2 * t_grand());
    b->s.spectrum = b->spec;
    b->s.envelope = b->env;
    b->s.waveform = with_wave ? b->wave : NULL;
}

static int add_or_fail(store_history *h, const snap *b)
{
    char err[512] = "";
    int rc = store_history_add(h, &b->s, err, sizeof err);
    T_CHECK(rc == 0, "add at %lld: %d %s", (long long)b->s.t_ns, rc, err);
    return rc;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- the compact formats --------------------------------------------------------------------- */

static void test_spectrum_codec(void)
{
    const size_t n = 20000;
    float *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
    uint8_t *blob = malloc(2 * n);
    const double peaks[] = {1.0, 0.0037, 412.5};
    double worst = 0;
    for (size_t p = 0; p < sizeof peaks / sizeof peaks[0]; p++) {
        /* log-uniform over 120 dB below the peak, the peak itself in bin 1 */
        for (size_t i = 0; i < n; i++)
            x[i] = (float)(peaks[p] * pow(10, -120 * t_urand() / 20));
        x[1] = (float)peaks[p];
        double top_db = store_history_spectrum_encode(x, n, blob);
        T_NEAR(top_db, 20 * log10((double)(float)peaks[p]), 1e-9, "top_db");
        store_history_spectrum_decode(blob, n, top_db, y);
        for (size_t i = 0; i < n; i++) {
            double e = fabs(20 * log10((double)y[i] / (double)x[i]));
            worst = fmax(worst, e);
        }
    }
    T_CHECK(worst <= STORE_SPECTRUM_STEP_DB / 2 + 1e-5, "max error %.6f dB over 120 dB, documented %.5f dB", worst,
            STORE_SPECTRUM_STEP_DB / 2);
    printf("# test_history: spectrum codec: max error %.5f dB (%.4f %%) over 120 dB below the peak; bound %.5f dB; 2 bytes/bin\n",
           worst, 100 * (pow(10, worst / 20) - 1), STORE_SPECTRUM_STEP_DB / 2);

    /* the edges: exact zeros, negative and non-finite bins, the floor 196.6 dB down */
    float edge[8] = {1.0f, 0.0f, -1.0f, NAN, INFINITY, 1e-11f, 1e-3f, 1.5e-10f};
    float back[8];
    double top = store_history_spectrum_encode(edge, 8, blob);
    store_history_spectrum_decode(blob, 8, top, back);
    T_CHECK(back[0] == 1.0f || fabs(back[0] - 1.0) < 2e-4, "peak %g", back[0]);
    T_CHECK(back[1] == 0 && back[2] == 0 && back[3] == 0 && back[4] == 0, "0, -1, NaN, inf give 0: %g %g %g %g",
            back[1], back[2], back[3], back[4]);
    double floor_g = pow(10, -65534 * STORE_SPECTRUM_STEP_DB / 20);
    T_NEAR(back[5] / floor_g, 1.0, 2e-4, "a bin 220 dB down is stored as the floor (196.6 dB down)");
    T_NEAR(20 * log10(back[6] / 1e-3), 0, 0.0016, "-60 dB bin");
    T_NEAR(20 * log10(back[7] / 1.5e-10), 0, 0.0016, "a bin 196.5 dB down");
    float zeros[4] = {0};
    T_CHECK(store_history_spectrum_encode(zeros, 4, blob) == 0, "all-zero spectrum: top_db 0");
    store_history_spectrum_decode(blob, 4, 0, back);
    T_CHECK(back[0] == 0 && back[3] == 0, "all-zero spectrum decodes to zeros");
    free(x);
    free(y);
    free(blob);
}

static void test_waveform_codec(void)
{
    const size_t n = 51200;
    float *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
    uint8_t *blob = malloc(2 * n);
    for (size_t i = 0; i < n; i++)
        x[i] = (float)(0.3 * t_grand());
    x[100] = 4.0f; /* an impact */
    x[200] = NAN;
    double scale = store_history_waveform_encode(x, n, blob);
    T_NEAR(scale, 4.0 / 32767, 1e-12, "scale = peak / 32767");
    store_history_waveform_decode(blob, n, scale, y);
    double worst = 0, es = 0, en = 0;
    for (size_t i = 0; i < n; i++) {
        if (i == 200)
            continue;
        double e = fabs((double)y[i] - x[i]);
        worst = fmax(worst, e);
        es += (double)x[i] * x[i];
        en += e * e;
    }
    T_CHECK(worst <= 4.0 / 65534 * (1 + 1e-6) + 1e-7, "max error %g g, documented peak/65534 = %g g", worst,
            4.0 / 65534);
    T_CHECK(y[200] == 0, "NaN sample stored as 0 (got %g)", y[200]);
    T_NEAR(y[100], 4.0, 1e-6, "peak sample");
    printf("# test_history: waveform codec: max error %.3g g for a 4 g peak (bound peak/65534 = %.3g g); SNR %.1f dB for "
           "0.3 g RMS noise; 2 bytes/sample\n", worst, 4.0 / 65534, 10 * log10(es / en));
    float zeros[3] = {0};
    T_CHECK(store_history_waveform_encode(zeros, 3, blob) == 0, "silent waveform: scale 0");
    free(x);
    free(y);
    free(blob);
}

static void test_features_json(void)
{
    const char *names[4] = {"a", "b\"q\\", "c", "tab\there"};
    const double v[4] = {1, NAN, 0.1, -2.5e-300};
    char out[256];
    size_t bound = store_history_features_json_bound(4, names);
    T_CHECK(bound <= sizeof out, "bound %zu", bound);
    long n = store_history_features_json(4, names, v, out, sizeof out);
    T_CHECK(n > 0 && strcmp(out, "{\"a\":1,\"c\":0.1,\"tab\\u0009here\":-2.5e-300}") == 0, "json %s", out);
    const double w[2] = {1.0 / 3, INFINITY};
    store_history_features_json(2, names, w, out, sizeof out);
    T_CHECK(strtod(out + 5, NULL) == 1.0 / 3, "1/3 reads back exactly: %s", out);
    const char *esc[1] = {"b\"q"};
    const double one = 7;
    store_history_features_json(1, esc, &one, out, sizeof out);
    T_CHECK(strcmp(out, "{\"b\\\"q\":7}") == 0, "escaped name: %s", out);
    T_CHECK(store_history_features_json(4, names, v, out, 10) == -ENOSPC, "short buffer gives -ENOSPC");
    T_CHECK(store_history_features_json(0, names, v, out, sizeof out) == 2 && strcmp(out, "{}") == 0, "empty: %s", out);
}

/* ---- counts, aggregates, round trips --------------------------------------------------------- */

static void test_row_counts(void)
{
    const char *dir = subdir("counts");
    store_retention r = keep_all();
    store_history *h = open_or_fail(dir, &r);
    if (!h)
        return;
    snap b;
    snap_init(&b, 512, 128, 1024);
    const char *chans[2] = {"x", "y"};
    int waves = 0;
    for (int i = 0; i < 60; i++)
        for (int c = 0; c < 2; c++) {
            int w = i % 20 == 0;
            snap_fill(&b, T0 + i * 10 * SEC, "s1", chans[c], w);
            add_or_fail(h, &b);
            waves += w;
        }
    /* a snapshot without spectra or features */
    snap_fill(&b, T0 + 3600 * SEC, "s2", "0", 0);
    b.s.spectrum = b.s.envelope = NULL;
    b.s.nfeatures = 0;
    add_or_fail(h, &b);
    char err[256];
    T_CHECK(store_history_event(h, T0, "pump-1", "config_change", "{\"by\":\"test\"}", err, sizeof err) == 0, "%s", err);
    T_CHECK(store_history_event(h, T0 + SEC, NULL, "maintenance", NULL, err, sizeof err) == 0, "%s", err);
    T_CHECK(store_history_metrics(h, T0, "{\"drops\":0,\"queue\":3}", err, sizeof err) == 0, "%s", err);
    T_CHECK(store_history_count(h, "trend") == 121, "trend %lld, want 121", store_history_count(h, "trend"));
    T_CHECK(store_history_count(h, "spectra") == 120, "spectra %lld", store_history_count(h, "spectra"));
    T_CHECK(store_history_count(h, "waveforms") == waves, "waveforms %lld, want %d", store_history_count(h, "waveforms"),
            waves);
    /* 60 snapshots × 10 s stay in one hour and one day: one bucket per channel and feature */
    T_CHECK(store_history_count(h, "hourly") == 2 * NFEAT, "hourly %lld", store_history_count(h, "hourly"));
    T_CHECK(store_history_count(h, "daily") == 2 * NFEAT, "daily %lld", store_history_count(h, "daily"));
    T_CHECK(store_history_count(h, "events") == 2, "events %lld", store_history_count(h, "events"));
    T_CHECK(store_history_count(h, "metrics") == 1, "metrics %lld", store_history_count(h, "metrics"));
    T_CHECK(store_history_count(h, "nonsense") == -1, "unknown table gives -1");
    T_CHECK(sql_int(dir, "SELECT count(*) FROM trend_v WHERE asset = 'pump-1' AND sensor = 's1'") == 120, "trend_v");
    store_history_close(h);
    snap_free(&b);
}

typedef struct agg {
    int64_t bucket;
    long count;
    double sum, min, max, last;
    int64_t last_t;
} agg;

static void agg_feed(agg *a, int *na, int64_t bucket, double v, int64_t t)
{
    int i = 0;
    while (i < *na && a[i].bucket != bucket)
        i++;
    if (i == *na) {
        a[(*na)++] = (agg){bucket, 0, 0, INFINITY, -INFINITY, 0, INT64_MIN};
    }
    a[i].count++;
    a[i].sum += v;
    a[i].min = fmin(a[i].min, v);
    a[i].max = fmax(a[i].max, v);
    if (t >= a[i].last_t) {
        a[i].last = v;
        a[i].last_t = t;
    }
}

static void check_aggs(const char *dir, const char *table, const char *channel, const char *feature, const agg *want,
                       int nwant)
{
    sqlite3 *db;
    sqlite3_stmt *s;
    char q[512];
    snprintf(q, sizeof q,
             "SELECT bucket_ns, count, sum, min, max, last FROM %s a JOIN features f ON f.id = a.feature_id"
             " JOIN channels c ON c.id = a.channel_id WHERE c.channel = ?1 AND f.name = ?2 ORDER BY bucket_ns", table);
    sqlite3_open_v2(db_file(dir), &db, SQLITE_OPEN_READONLY, NULL);
    if (sqlite3_prepare_v2(db, q, -1, &s, NULL) != SQLITE_OK) {
        t_fail_at(__FILE__, __LINE__, "%s", sqlite3_errmsg(db));
        sqlite3_close(db);
        return;
    }
    sqlite3_bind_text(s, 1, channel, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, feature, -1, SQLITE_STATIC);
    int n = 0;
    while (sqlite3_step(s) == SQLITE_ROW) {
        if (n >= nwant) {
            n++;
            continue;
        }
        const agg *w = &want[n++];
        T_CHECK(sqlite3_column_int64(s, 0) == w->bucket, "%s %s %s: bucket %lld, want %lld", table, channel, feature,
                (long long)sqlite3_column_int64(s, 0), (long long)w->bucket);
        T_CHECK(sqlite3_column_int64(s, 1) == w->count, "%s %s %s: count %lld, want %ld", table, channel, feature,
                (long long)sqlite3_column_int64(s, 1), w->count);
        T_NEAR(sqlite3_column_double(s, 2), w->sum, 1e-9, "sum");
        T_NEAR(sqlite3_column_double(s, 3), w->min, 0, "min");
        T_NEAR(sqlite3_column_double(s, 4), w->max, 0, "max");
        T_NEAR(sqlite3_column_double(s, 5), w->last, 0, "last");
    }
    T_CHECK(n == nwant, "%s %s %s: %d buckets, want %d", table, channel, feature, n, nwant);
    sqlite3_finalize(s);
    sqlite3_close(db);
}

/* 3 hours of data time, one snapshot a minute from 22:30 to 01:29 UTC (4 hourly buckets, 2 days);
 * channel "fwd" fed in order, "rev" the same values in reverse order (last must follow data time,
 * not arrival). Feature c is NaN every 5th snapshot: absent from the aggregates and the JSON. */
static void test_aggregates(void)
{
    const char *dir = subdir("aggregates");
    store_history *h = open_or_fail(dir, NULL);
    if (!h)
        return;
    static const char *const names[3] = {"a", "b", "c"};
    const int n = 180;
    const int64_t start = T0 + 22 * HOUR + 30 * 60 * SEC;
    agg hourly[3][8], daily[3][4];
    int nh[3] = {0}, nd[3] = {0};
    for (int pass = 0; pass < 2; pass++)
        for (int j = 0; j < n; j++) {
            int i = pass ? n - 1 - j : j;
            int64_t t = start + i * 60 * SEC;
            double v[3] = {i, ((i * 7) % 13) - 6.5, i % 5 == 0 ? NAN : i * 0.25};
            store_snapshot s = {.t_ns = t, .asset_id = "a1", .sensor_id = "s1", .channel = pass ? "rev" : "fwd",
                                .state = "ok", .nfeatures = 3, .feature_names = names, .features = v};
            char err[256];
            T_CHECK(store_history_add(h, &s, err, sizeof err) == 0, "%s", err);
            if (pass)
                continue;
            for (int k = 0; k < 3; k++)
                if (isfinite(v[k])) {
                    agg_feed(hourly[k], &nh[k], t - t % HOUR, v[k], t);
                    agg_feed(daily[k], &nd[k], t - t % DAY, v[k], t);
                }
        }
    T_CHECK(nh[0] == 4 && nd[0] == 2, "the data spans %d hours and %d days, want 4 and 2", nh[0], nd[0]);
    for (int c = 0; c < 2; c++)
        for (int k = 0; k < 3; k++) {
            check_aggs(dir, "agg_hourly", c ? "rev" : "fwd", names[k], hourly[k], nh[k]);
            check_aggs(dir, "agg_daily", c ? "rev" : "fwd", names[k], daily[k], nd[k]);
        }
    T_CHECK(sql_int(dir, "SELECT sum(count) FROM agg_hourly a JOIN features f ON f.id = a.feature_id WHERE f.name = 'c'")
                == 2 * (n - n / 5), "NaN values are not counted");
    /* the newest trend row of both channels: i = 179 */
    for (int c = 0; c < 2; c++) {
        int64_t t = 0;
        char *json = NULL;
        int rc = store_history_latest(h, "s1", c ? "rev" : "fwd", &t, &json);
        T_CHECK(rc == 0 && t == start + 179 * 60 * SEC, "latest: %d, t %lld", rc, (long long)t);
        T_CHECK(json && strcmp(json, "{\"a\":179,\"b\":-1.5,\"c\":44.75}") == 0, "latest json %s", json ? json : "NULL");
        free(json);
    }
    /* snapshot 0 had c = NaN: its JSON leaves c out */
    char text[256];
    sql_text(dir, "SELECT features FROM trend_v WHERE channel = 'fwd' ORDER BY t_ns LIMIT 1", text, sizeof text);
    T_CHECK(strcmp(text, "{\"a\":0,\"b\":-6.5}") == 0, "first row %s", text);
    int64_t t;
    char *json = NULL;
    T_CHECK(store_history_latest(h, "s1", "nope", &t, &json) == -ENOENT, "unknown channel: -ENOENT");
    store_history_close(h);
}

static void test_spectra_roundtrip(void)
{
    const char *dir = subdir("roundtrip");
    store_history *h = open_or_fail(dir, NULL);
    if (!h)
        return;
    snap b;
    snap_init(&b, 12801, 1601, 25600);
    /* realistic: a 1/f floor 100 dB below a few tones, and an envelope line */
    for (int k = 0; k < 2; k++) {
        snap_fill(&b, T0 + k * 600 * SEC, "s1", "x", 1);
        for (size_t i = 0; i < 12801; i++)
            b.spec[i] = (float)(1e-5 / (1 + (double)i) * (1 + 0.5 * t_urand())); /* down to 187 dB below */
        b.spec[30] = 0.8f + (float)k;
        b.spec[60] = 0.05f;
        b.spec[0] = 0;
        for (size_t i = 0; i < 1601; i++)
            b.env[i] = (float)(1e-7 * (1 + t_urand()));
        b.env[107] = 2e-3f;
        add_or_fail(h, &b);
    }
    float *y = NULL;
    size_t n = 0;
    double df = 0;
    int64_t t = INT64_MAX;
    int rc = store_history_spectrum(h, "s1", "x", 0, &t, &y, &n, &df);
    T_CHECK(rc == 0 && n == 12801 && df == 1.0 && t == T0 + 600 * SEC, "amplitude: rc %d, %zu bins, df %g", rc, n, df);
    double worst = 0;
    for (size_t i = 0; y && i < n; i++)
        worst = b.spec[i] > 0 ? fmax(worst, fabs(20 * log10((double)y[i] / b.spec[i]))) : fmax(worst, y[i]);
    T_CHECK(worst <= STORE_SPECTRUM_STEP_DB / 2 + 1e-5, "amplitude spectrum: max error %.6f dB", worst);
    free(y);
    t = INT64_MAX;
    rc = store_history_spectrum(h, "s1", "x", 1, &t, &y, &n, &df);
    T_CHECK(rc == 0 && n == 1601 && df == 0.5, "envelope: rc %d, %zu bins, df %g", rc, n, df);
    worst = 0;
    for (size_t i = 0; y && i < n; i++)
        worst = fmax(worst, fabs(20 * log10((double)y[i] / b.env[i])));
    T_CHECK(worst <= STORE_SPECTRUM_STEP_DB / 2 + 1e-5, "envelope spectrum: max error %.6f dB", worst);
    free(y);
    /* the older one, by time */
    t = T0 + 599 * SEC;
    rc = store_history_spectrum(h, "s1", "x", 0, &t, &y, &n, &df);
    T_CHECK(rc == 0 && t == T0 && y && fabs(y[30] / 0.8 - 1) < 2e-4, "older spectrum: rc %d t %lld", rc, (long long)t);
    free(y);
    t = T0 - 1;
    T_CHECK(store_history_spectrum(h, "s1", "x", 0, &t, &y, &n, &df) == -ENOENT, "before the first: -ENOENT");
    /* the waveform */
    double rate = 0, peak;
    /* a float reduction (exact): fmax over floats widened to double, in a loop of known length,
     * crashes GCC 12's aarch64 vectoriser at -O2 (ICE in vect_transform_reduction) */
    float peak_f = 0;
    for (size_t i = 0; i < 25600; i++)
        peak_f = fmaxf(peak_f, fabsf(b.wave[i]));
    peak = peak_f;
    t = INT64_MAX;
    rc = store_history_waveform(h, "s1", "x", &t, &y, &n, &rate);
    T_CHECK(rc == 0 && n == 25600 && rate == 25600, "waveform: rc %d, %zu samples, %g Hz", rc, n, rate);
    worst = 0;
    for (size_t i = 0; y && i < n; i++)
        worst = fmax(worst, fabs((double)y[i] - b.wave[i]));
    T_CHECK(worst <= peak / 65534 * 1.000001 + 1e-7, "waveform max error %g, bound %g", worst, peak / 65534);
    free(y);
    /* stored compactly: 2 bytes per bin and per sample */
    T_CHECK(sql_int(dir, "SELECT max(length(amp)) FROM spectra") == 2 * 12801, "amp blob bytes");
    T_CHECK(sql_int(dir, "SELECT max(length(data)) FROM waveforms") == 2 * 25600, "waveform blob bytes");
    store_history_close(h);
    snap_free(&b);
}

static void test_waveform_due(void)
{
    const char *dir = subdir("due");
    store_retention r = keep_all();
    r.waveform_interval_h = 24;
    store_history *h = open_or_fail(dir, &r);
    if (!h)
        return;
    snap b;
    snap_init(&b, 16, 0, 64);
    T_CHECK(store_history_waveform_due(h, "s1", "x", T0) == 1, "a new channel is due");
    snap_fill(&b, T0, "s1", "x", 0);
    add_or_fail(h, &b);
    T_CHECK(store_history_waveform_due(h, "s1", "x", T0 + 10 * SEC) == 1, "still due: no waveform stored yet");
    snap_fill(&b, T0 + 10 * SEC, "s1", "x", 1);
    add_or_fail(h, &b);
    T_CHECK(store_history_waveform_due(h, "s1", "x", T0 + 10 * SEC + 24 * HOUR - 1) == 0, "not due 1 ns early");
    T_CHECK(store_history_waveform_due(h, "s1", "x", T0 + 10 * SEC + 24 * HOUR) == 1, "due after 24 h of data time");
    T_CHECK(store_history_waveform_due(h, "s1", "y", T0 + 20 * SEC) == 1, "other channel: due");
    T_CHECK(store_history_waveform_due(h, "s2", "x", T0 + 20 * SEC) == 1, "other sensor: due");
    /* a waveform stored off schedule (a state change) restarts the interval */
    snap_fill(&b, T0 + 5 * HOUR, "s1", "x", 1);
    add_or_fail(h, &b);
    T_CHECK(store_history_waveform_due(h, "s1", "x", T0 + 28 * HOUR) == 0, "interval restarts at the last waveform");
    T_CHECK(store_history_waveform_due(h, "s1", "x", T0 + 29 * HOUR) == 1, "due 24 h after the last one");
    T_CHECK(store_history_waveform_due(h, "s1", "x", T0 - HOUR) == 1, "data time went back (a new recording): due");
    store_history_close(h);
    /* it persists */
    h = open_or_fail(dir, &r);
    if (h) {
        T_CHECK(store_history_waveform_due(h, "s1", "x", T0 + 28 * HOUR) == 0, "after reopening: not due");
        store_history_close(h);
    }
    /* interval 0: every snapshot; no waveforms kept: never due, never stored */
    r.waveform_interval_h = 0;
    h = open_or_fail(dir, &r);
    if (h) {
        T_CHECK(store_history_waveform_due(h, "s1", "x", T0 + 5 * HOUR) == 1, "interval 0: always due");
        store_history_close(h);
    }
    r.waveforms_per_channel = 0;
    h = open_or_fail(dir, &r);
    if (h) {
        T_CHECK(store_history_waveform_due(h, "s1", "x", T0 + 50 * HOUR) == 0, "waveforms_per_channel 0: never due");
        long long before = store_history_count(h, "waveforms");
        snap_fill(&b, T0 + 50 * HOUR, "s1", "x", 1);
        add_or_fail(h, &b);
        T_CHECK(store_history_count(h, "waveforms") == before, "waveforms_per_channel 0: a waveform given is not stored");
        store_history_close(h);
    }
    snap_free(&b);
}

/* ---- retention ------------------------------------------------------------------------------- */

static int64_t nth_newest(const int64_t *t, int n, int k) { return t[n - k]; }

static void test_retention(void)
{
    const char *dir = subdir("retention");
    store_retention r = keep_all();
    r.trend_days = 3;
    r.aggregate_days = 5;
    r.spectra_per_channel = 7;
    r.waveforms_per_channel = 3;
    store_history *h = open_or_fail(dir, &r);
    if (!h)
        return;
    snap b;
    snap_init(&b, 64, 16, 32);
    /* 10 days, one snapshot every 37 min starting 00:13, on two channels */
    enum { N = 10 * 24 * 60 / 37 };
    int64_t t[N];
    int nwave = 0;
    int64_t wave_t[N];
    char err[256];
    for (int i = 0; i < N; i++) {
        t[i] = T0 + 13 * 60 * SEC + (int64_t)i * 37 * 60 * SEC;
        int w = i % 10 == 0;
        if (w)
            wave_t[nwave++] = t[i];
        for (int c = 0; c < 2; c++) {
            snap_fill(&b, t[i], "s1", c ? "y" : "x", w);
            add_or_fail(h, &b);
        }
        if (i % 7 == 0)
            T_CHECK(store_history_event(h, t[i], "pump-1", "note", "{}", err, sizeof err) == 0, "%s", err);
        T_CHECK(store_history_metrics(h, t[i], "{\"cpu\":0.5}", err, sizeof err) == 0, "%s", err);
    }
    const int64_t now = t[N - 1];
    const int64_t trend_cut = now - 3 * DAY, agg_cut = now - 5 * DAY;
    long trend_kept = 0, events_kept = 0, metrics_kept = 0, hours = 0, days = 0;
    int64_t last_hour = INT64_MIN, last_day = INT64_MIN;
    for (int i = 0; i < N; i++) {
        trend_kept += t[i] >= trend_cut;
        events_kept += i % 7 == 0 && t[i] >= agg_cut;
        metrics_kept += t[i] >= agg_cut;
        int64_t hb = t[i] - t[i] % HOUR, db = t[i] - t[i] % DAY;
        if (hb != last_hour && hb + HOUR > agg_cut)
            hours++;
        if (db != last_day && db + DAY > agg_cut)
            days++;
        last_hour = hb;
        last_day = db;
    }
    const char *what[7] = {"trend", "hourly", "daily", "spectra", "waveforms", "events", "metrics"};
    long long before[7], after[7];
    for (int k = 0; k < 7; k++)
        before[k] = store_history_count(h, what[k]);
    long deleted = store_history_prune(h, now, err, sizeof err);
    T_CHECK(deleted > 0, "prune: %ld %s", deleted, err);
    long long sum = 0;
    for (int k = 0; k < 7; k++) {
        after[k] = store_history_count(h, what[k]);
        sum += before[k] - after[k];
    }
    T_CHECK(after[0] == 2 * trend_kept, "trend rows %lld, want %ld (t >= now - 3 d)", after[0], 2 * trend_kept);
    T_CHECK(after[1] == 2 * NFEAT * hours, "hourly %lld, want %ld", after[1], 2 * NFEAT * hours);
    T_CHECK(after[2] == 2 * NFEAT * days, "daily %lld, want %ld", after[2], 2 * NFEAT * days);
    T_CHECK(after[3] == 2 * 7, "spectra %lld, want 14", after[3]);
    T_CHECK(after[4] == 2 * 3, "waveforms %lld, want 6", after[4]);
    T_CHECK(after[5] == events_kept, "events %lld, want %ld", after[5], events_kept);
    T_CHECK(after[6] == metrics_kept, "metrics %lld, want %ld", after[6], metrics_kept);
    T_CHECK(sum == deleted, "prune returned %ld, rows gone %lld", deleted, sum);
    /* exactly the newest */
    char q[256];
    snprintf(q, sizeof q, "SELECT min(t_ns) FROM trend");
    T_CHECK(sql_int(dir, q) >= trend_cut && sql_int(dir, "SELECT count(*) FROM trend WHERE t_ns < (SELECT min(t_ns) FROM trend)") == 0,
            "oldest trend row");
    T_CHECK(sql_int(dir, "SELECT min(t_ns) FROM spectra") == nth_newest(t, N, 7), "the spectra kept are the newest 7");
    T_CHECK(sql_int(dir, "SELECT min(t_ns) FROM waveforms") == nth_newest(wave_t, nwave, 3),
            "the waveforms kept are the newest 3");
    T_CHECK(sql_int(dir, "SELECT count(DISTINCT channel_id) FROM spectra") == 2, "per channel");
    /* idempotent; and one step of data time later exactly the rows that crossed the line go */
    T_CHECK(store_history_prune(h, now, err, sizeof err) == 0, "a second prune deletes nothing");
    int64_t later = trend_cut + 1 + 3 * DAY; /* the oldest kept row t >= trend_cut: all rows below later-3d go */
    long crossing = 0;
    for (int i = 0; i < N; i++)
        crossing += t[i] >= trend_cut && t[i] < later - 3 * DAY;
    long long trend_before = store_history_count(h, "trend");
    store_history_prune(h, later, err, sizeof err);
    T_CHECK(store_history_count(h, "trend") == trend_before - 2 * crossing, "later prune: trend %lld, want %lld",
            store_history_count(h, "trend"), trend_before - 2 * crossing);
    store_history_close(h);
    snap_free(&b);
}

/* ---- the size cap ---------------------------------------------------------------------------- */

static int snapshot_whole(const char *dir, int64_t t)
{
    char q[256];
    snprintf(q, sizeof q,
             "SELECT count(*) FROM trend JOIN spectra ON spectra.trend_id = trend.id"
             " JOIN waveforms w ON w.t_ns = trend.t_ns AND w.channel_id = trend.channel_id WHERE trend.t_ns = %lld",
             (long long)t);
    return sql_int(dir, q) == 1;
}

static void test_size_cap(void)
{
    const char *dir = subdir("cap");
    store_retention r = keep_all();
    r.max_mb = 2;
    const uint64_t cap = 2 * 1048576;
    store_history *h = open_or_fail(dir, &r);
    if (!h)
        return;
    snap b;
    snap_init(&b, 4096, 1024, 8192); /* ≈ 26 kB of blobs a snapshot */
    int i = 0;
    char err[256];
    while (store_history_size_bytes(h) <= cap + cap / 4 && i < 1000) {
        snap_fill(&b, T0 + i * 10 * SEC, "s1", "x", 1);
        add_or_fail(h, &b);
        i++;
    }
    uint64_t over = store_history_size_bytes(h);
    T_CHECK(over > cap, "fed %d snapshots, size %llu never went over the cap", i, (unsigned long long)over);
    long n = store_history_prune(h, T0 + i * 10 * SEC, err, sizeof err);
    uint64_t size = store_history_size_bytes(h);
    off_t on_disk = file_size(db_file(dir)) + file_size(wal_file(dir));
    T_CHECK(n > 0, "prune deleted %ld: %s", n, err);
    T_CHECK(size <= cap && (uint64_t)on_disk <= cap, "after prune: %llu bytes (files %lld), cap %llu",
            (unsigned long long)size, (long long)on_disk, (unsigned long long)cap);
    printf("# test_history: size cap 2 MiB: %llu bytes before prune, %llu after (files on disk %lld), %ld rows deleted\n",
           (unsigned long long)over, (unsigned long long)size, (long long)on_disk, n);
    for (int k = 1; k <= 10; k++)
        T_CHECK(snapshot_whole(dir, T0 + (i - k) * 10 * SEC), "newest snapshot %d is not whole after the cap", k);
    T_CHECK(store_history_count(h, "trend") == i, "trend rows %lld, want %d: blobs go before trend rows",
            store_history_count(h, "trend"), i);
    /* the daemon's rhythm: keep adding, prune after each; never refused, always back under the cap */
    uint64_t worst = 0;
    for (int k = 0; k < 300; k++, i++) {
        snap_fill(&b, T0 + i * 10 * SEC, "s1", "x", 1);
        if (add_or_fail(h, &b) != 0)
            break;
        T_CHECK(store_history_prune(h, T0 + i * 10 * SEC, err, sizeof err) >= 0, "%s", err);
        worst = worst > store_history_size_bytes(h) ? worst : store_history_size_bytes(h);
    }
    T_CHECK(worst <= cap, "largest size after a prune %llu > cap %llu", (unsigned long long)worst,
            (unsigned long long)cap);
    for (int k = 1; k <= 10; k++)
        T_CHECK(snapshot_whole(dir, T0 + (i - k) * 10 * SEC), "newest snapshot %d lost", k);
    T_CHECK(store_history_count(h, "trend") == i, "trend rows %lld, want %d", store_history_count(h, "trend"), i);
    T_CHECK(sql_int(dir, "PRAGMA freelist_count") <= 64, "free pages left in the file: %lld",
            sql_int(dir, "PRAGMA freelist_count"));
    store_history_close(h);
    /* when blobs are gone, trend rows go, oldest first */
    r.max_mb = 1;
    h = open_or_fail(dir, &r);
    if (h) {
        store_history_prune(h, T0 + i * 10 * SEC, err, sizeof err);
        T_CHECK(store_history_size_bytes(h) <= 1048576, "1 MiB cap: %llu", (unsigned long long)store_history_size_bytes(h));
        T_CHECK(snapshot_whole(dir, T0 + (i - 1) * 10 * SEC), "newest snapshot kept under a 1 MiB cap");
        store_history_close(h);
    }
    snap_free(&b);
}

/* No blobs at all: the cap falls on the oldest trend rows and metrics; the newest stay. */
static void test_size_cap_rows(void)
{
    const char *dir = subdir("caprows");
    store_retention r = keep_all();
    r.max_mb = 1;
    store_history *h = open_or_fail(dir, &r);
    if (!h)
        return;
    snap b;
    snap_init(&b, 0, 0, 0);
    char err[256];
    int i = 0;
    while (store_history_size_bytes(h) <= 1048576 + 1048576 / 8 && i < 40000) {
        snap_fill(&b, T0 + i * 10 * SEC, "s1", "x", 0);
        b.s.spectrum = b.s.envelope = NULL;
        if (add_or_fail(h, &b) != 0)
            break;
        if (i % 10 == 0)
            store_history_metrics(h, b.s.t_ns, "{\"cpu\":0.25,\"rss_kb\":20480}", err, sizeof err);
        i++;
    }
    long long rows = store_history_count(h, "trend"), hourly = store_history_count(h, "hourly");
    long n = store_history_prune(h, T0 + i * 10 * SEC, err, sizeof err);
    long long left = store_history_count(h, "trend");
    T_CHECK(n > 0 && left < rows, "prune %ld: %lld of %lld trend rows left: %s", n, left, rows, err);
    T_CHECK(store_history_size_bytes(h) <= 1048576, "size %llu over 1 MiB", (unsigned long long)store_history_size_bytes(h));
    T_CHECK(sql_int(dir, "SELECT max(t_ns) FROM trend") == T0 + (i - 1) * 10 * SEC &&
                sql_int(dir, "SELECT count(*) FROM trend") == sql_int(dir, "SELECT (max(t_ns) - min(t_ns)) / 10000000000 + 1 FROM trend"),
            "the trend rows left are not the newest, contiguous");
    T_CHECK(store_history_count(h, "hourly") == hourly, "the cap leaves the aggregates alone");
    printf("# test_history: size cap 1 MiB, features only: %lld trend rows, %lld left after prune\n", rows, left);
    store_history_close(h);
    snap_free(&b);
}

/* ---- crash safety ---------------------------------------------------------------------------- */

/* The child: adds snapshots of two channels from index `from` on (every 5th with a waveform),
 * writes the number committed to fd after each commit; with cap, prunes after each under a 1 MiB
 * cap. Never returns. */
static void crash_child(const char *dir, int fd, long from, int cap)
{
    store_retention r = keep_all();
    if (cap)
        r.max_mb = 1;
    char err[256];
    store_history *h = store_history_open(dir, &r, err, sizeof err);
    if (!h)
        _exit(3);
    snap b;
    snap_init(&b, 2048, 512, 4096);
    for (long i = from, done = 0; i < from + 100000; i++) {
        snap_fill(&b, T0 + i * 10 * SEC, "s1", i % 2 ? "y" : "x", i % 5 == 0);
        if (store_history_add(h, &b.s, err, sizeof err) != 0)
            _exit(4);
        done++;
        if (write(fd, &done, sizeof done) != (ssize_t)sizeof done)
            _exit(5);
        if (cap && store_history_prune(h, b.s.t_ns, err, sizeof err) < 0)
            _exit(6);
    }
    _exit(0);
}

static void check_consistent(const char *dir, int whole)
{
    char text[256];
    sql_text(dir, "PRAGMA integrity_check", text, sizeof text);
    T_CHECK(strcmp(text, "ok") == 0, "integrity_check: %s", text);
    T_CHECK(sql_int(dir, "SELECT count(*) FROM pragma_foreign_key_check") == 0, "foreign_key_check found rows");
    if (!whole)
        return;
    long long trend = sql_int(dir, "SELECT count(*) FROM trend");
    T_CHECK(sql_int(dir, "SELECT count(*) FROM spectra") == trend, "spectra %lld != trend %lld",
            sql_int(dir, "SELECT count(*) FROM spectra"), trend);
    T_CHECK(sql_int(dir, "SELECT count(*) FROM trend WHERE id NOT IN (SELECT trend_id FROM spectra)") == 0,
            "a trend row without its spectra");
    T_CHECK(sql_int(dir, "SELECT sum(count) FROM agg_hourly a JOIN features f ON f.id = a.feature_id"
                         " WHERE f.name = 'kurtosis'") == trend, "hourly counts disagree with the trend rows");
    T_CHECK(sql_int(dir, "SELECT sum(count) FROM agg_daily a JOIN features f ON f.id = a.feature_id"
                         " WHERE f.name = 'temp_c'") == trend, "daily counts disagree with the trend rows");
    char q[300];
    snprintf(q, sizeof q, "SELECT count(*) FROM trend WHERE ((t_ns - %lld) / 10000000000) %% 5 = 0", (long long)T0);
    T_CHECK(sql_int(dir, "SELECT count(*) FROM waveforms") == sql_int(dir, q), "a waveform without its trend row or the reverse");
}

static void test_kill9(void)
{
    const char *dir = subdir("kill9");
    long total = 0;
    int kills = 0;
    double t_start = now_s();
    for (int round = 0; round < 12; round++) {
        int cap = round >= 8; /* the last rounds also prune (deletes, incremental_vacuum, checkpoints) */
        int fds[2];
        if (pipe(fds) != 0) {
            T_CHECK(0, "pipe: %s", strerror(errno));
            return;
        }
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) {
            close(fds[0]);
            crash_child(dir, fds[1], total, cap);
        }
        close(fds[1]);
        /* a random moment: 20 to 300 ms in (the open, the first snapshot, or deep in the loop) */
        struct timespec d = {0, (long)(20e6 + 280e6 * t_urand())};
        nanosleep(&d, NULL);
        kill(pid, SIGKILL);
        int status;
        waitpid(pid, &status, 0);
        long done = 0, v;
        while (read(fds[0], &v, sizeof v) == (ssize_t)sizeof v)
            done = v;
        close(fds[0]);
        T_CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "round %d: the child ended by itself (status %d)",
                round, status);
        kills += WIFSIGNALED(status);
        /* committed = reported, or one more if the kill came between COMMIT and write() */
        long long trend = sql_int(dir, "SELECT count(*) FROM trend");
        T_CHECK(trend == total + done || trend == total + done + 1, "round %d: %lld trend rows, the child committed %ld + %ld",
                round, trend, total, done);
        check_consistent(dir, !cap);
        if (!cap) {
            store_history *h = open_or_fail(dir, NULL); /* the restart carries on */
            if (!h)
                return;
            T_CHECK(store_history_count(h, "trend") == trend, "reopen count");
            store_history_close(h);
        }
        total = trend;
    }
    printf("# test_history: kill -9: %d kills at random moments in %.1f s, %ld snapshots survived, integrity ok\n",
           kills, now_s() - t_start, total);
}

/* ---- reopening, errors ----------------------------------------------------------------------- */

static void test_reopen(void)
{
    const char *dir = subdir("reopen/nested/dir"); /* created */
    store_history *h = open_or_fail(dir, NULL);
    if (!h)
        return;
    snap b;
    snap_init(&b, 32, 8, 16);
    for (int i = 0; i < 10; i++) {
        snap_fill(&b, T0 + i * SEC, "s1", "x", i == 0);
        add_or_fail(h, &b);
    }
    store_history_close(h);
    T_CHECK(file_size(wal_file(dir)) == 0, "close leaves an empty WAL");
    h = open_or_fail(dir, NULL);
    if (!h)
        return;
    T_CHECK(store_history_count(h, "trend") == 10 && store_history_count(h, "spectra") == 10 &&
                store_history_count(h, "waveforms") == 1, "counts after reopening");
    int64_t t = 0;
    char *json = NULL;
    T_CHECK(store_history_latest(h, "s1", "x", &t, &json) == 0 && t == T0 + 9 * SEC, "latest after reopening");
    free(json);
    snap_fill(&b, T0 + 10 * SEC, "s1", "x", 0);
    add_or_fail(h, &b);
    T_CHECK(store_history_count(h, "trend") == 11, "adds after reopening");
    T_CHECK(strcmp(store_history_path(h), db_file(dir)) == 0, "path %s", store_history_path(h));
    char text[64];
    sql_text(dir, "PRAGMA journal_mode", text, sizeof text);
    T_CHECK(strcmp(text, "wal") == 0, "journal_mode %s", text);
    T_CHECK(sql_int(dir, "PRAGMA auto_vacuum") == 2, "auto_vacuum %lld, want 2 (incremental)", sql_int(dir, "PRAGMA auto_vacuum"));
    T_CHECK(sql_int(dir, "PRAGMA user_version") == 2, "user_version %lld", sql_int(dir, "PRAGMA user_version"));
    store_history_close(h);
    snap_free(&b);
}

/* The monitors' models: the newest per channel comes back, only STORE_MODELS_PER_CHANNEL are
 * kept, a text that is not a JSON object is refused, and a version-1 history (before models) is
 * migrated on open without losing its rows. */
static void test_models(void)
{
    const char *dir = subdir("models");
    store_retention r = keep_all();
    store_history *h = open_or_fail(dir, &r);
    char err[256], text[64], *got = NULL;
    int64_t t = 0;
    T_CHECK(store_history_model_latest(h, "s1", "x", &t, &got) == -ENOENT, "no model yet");
    for (int i = 0; i < 13; i++) {
        snprintf(text, sizeof text, "{\"n\":%d}", i);
        T_CHECK(store_history_model_add(h, (int64_t)i * 1000, "s1", "x", text, err, sizeof err) == 0, "add %d: %s", i, err);
    }
    T_CHECK(store_history_model_add(h, 5, "s1", "y", "{\"other\":1}", err, sizeof err) == 0, "other channel: %s", err);
    T_CHECK(store_history_count(h, "models") == STORE_MODELS_PER_CHANNEL + 1, "kept %lld, want %d + 1",
            store_history_count(h, "models"), STORE_MODELS_PER_CHANNEL);
    T_CHECK(store_history_model_latest(h, "s1", "x", &t, &got) == 0 && got && strcmp(got, "{\"n\":12}") == 0 &&
                t == 12000, "newest: %s at %lld", got ? got : "(null)", (long long)t);
    free(got);
    got = NULL;
    T_CHECK(store_history_model_add(h, 1, "s1", "x", "not json", err, sizeof err) < 0 && strstr(err, "model"),
            "malformed refused: %s", err);
    store_history_close(h);
    /* back to version 1: no models table */
    sqlite3 *db;
    T_CHECK(sqlite3_open(db_file(dir), &db) == SQLITE_OK &&
                sqlite3_exec(db, "DROP TABLE models; PRAGMA user_version = 1;", NULL, NULL, NULL) == SQLITE_OK,
            "downgrade");
    sqlite3_close(db);
    h = open_or_fail(dir, &r);
    T_CHECK(sql_int(dir, "PRAGMA user_version") == 2, "migrated to %lld", sql_int(dir, "PRAGMA user_version"));
    T_CHECK(store_history_model_add(h, 1, "s1", "x", "{}", err, sizeof err) == 0 && store_history_count(h, "models") == 1,
            "models after migration: %s", err);
    store_history_close(h);
}

static void test_errors(void)
{
    char err[512];
    /* not SQLite */
    const char *dir = subdir("garbage");
    mkdir(dir, 0755);
    FILE *f = fopen(db_file(dir), "w");
    for (int i = 0; f && i < 200; i++)
        fputs("this is a text file, not a database\n", f);
    if (f)
        fclose(f);
    err[0] = 0;
    store_history *h = store_history_open(dir, NULL, err, sizeof err);
    T_CHECK(h == NULL, "opened a text file");
    T_CHECK(strstr(err, db_file(dir)) && strstr(err, "not a database"), "message: %s", err);
    store_history_close(h);
    printf("# test_history: %s\n", err);

    /* SQLite, but someone else's */
    dir = subdir("foreign");
    mkdir(dir, 0755);
    sqlite3 *db;
    sqlite3_open(db_file(dir), &db);
    sqlite3_exec(db, "CREATE TABLE recipes(name TEXT)", NULL, NULL, NULL);
    sqlite3_close(db);
    err[0] = 0;
    h = store_history_open(dir, NULL, err, sizeof err);
    T_CHECK(h == NULL && strstr(err, db_file(dir)) && strstr(err, "not a vibewatch history"), "foreign: %s", err);
    store_history_close(h);

    /* a newer schema */
    dir = subdir("newer");
    h = open_or_fail(dir, NULL);
    store_history_close(h);
    sqlite3_open(db_file(dir), &db);
    sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL);
    sqlite3_close(db);
    err[0] = 0;
    h = store_history_open(dir, NULL, err, sizeof err);
    T_CHECK(h == NULL && strstr(err, "schema version 99 is newer"), "newer: %s", err);
    store_history_close(h);

    /* a file where the directory should be */
    dir = subdir("a_file");
    f = fopen(dir, "w");
    if (f)
        fclose(f);
    err[0] = 0;
    h = store_history_open(dir, NULL, err, sizeof err);
    T_CHECK(h == NULL && strstr(err, dir), "directory is a file: %s", err);
    store_history_close(h);

    /* retention out of range */
    store_retention r;
    store_history_defaults(&r);
    r.trend_days = 0;
    h = store_history_open(subdir("badret"), &r, err, sizeof err);
    T_CHECK(h == NULL && strstr(err, "trend_days"), "retention: %s", err);
    store_history_close(h);
    store_history_defaults(&r);
    r.max_mb = NAN;
    h = store_history_open(subdir("badret"), &r, err, sizeof err);
    T_CHECK(h == NULL && strstr(err, "max_mb"), "retention: %s", err);
    store_history_close(h);

    /* bad snapshots and bad JSON are refused with a message, and the handle goes on */
    h = open_or_fail(subdir("badinput"), NULL);
    if (!h)
        return;
    const char *dup[2] = {"a", "a"};
    double v[2] = {1, 2};
    store_snapshot s = {.t_ns = T0, .asset_id = "a", .sensor_id = "s", .channel = "x", .state = "ok",
                        .nfeatures = 2, .feature_names = dup, .features = v};
    T_CHECK(store_history_add(h, &s, err, sizeof err) == -EINVAL && strstr(err, "\"a\" given twice"), "dup: %s", err);
    s.feature_names = (const char *[]){"a", "b"};
    s.sensor_id = "";
    T_CHECK(store_history_add(h, &s, err, sizeof err) == -EINVAL, "empty sensor id");
    s.sensor_id = "s";
    float spec[4] = {1, 2, 3, 4};
    s.spectrum = spec;
    s.spectrum_bins = 4;
    s.spectrum_df_hz = 0;
    T_CHECK(store_history_add(h, &s, err, sizeof err) == -EINVAL && strstr(err, "df_hz"), "df 0: %s", err);
    s.spectrum_df_hz = 1;
    T_CHECK(store_history_add(h, &s, err, sizeof err) == 0, "a good snapshot after bad ones: %s", err);
    T_CHECK(store_history_event(h, T0, "a", "x", "{\"broken\":", err, sizeof err) == -EINVAL &&
                strstr(err, "not a valid JSON"), "bad event JSON: %s", err);
    T_CHECK(store_history_metrics(h, T0, "[1,2]", err, sizeof err) == -EINVAL, "metrics must be an object");
    T_CHECK(store_history_event(h, T0, "a", "", NULL, err, sizeof err) == -EINVAL, "event without kind");
    /* names are data, never SQL */
    s.sensor_id = "s'); DROP TABLE trend; --";
    s.t_ns += SEC;
    T_CHECK(store_history_add(h, &s, err, sizeof err) == 0, "quote in an id: %s", err);
    T_CHECK(store_history_count(h, "trend") == 2, "trend survived a quote");
    /* the same snapshot twice (a recording replayed into the same history): refused, nothing counted twice */
    long long hourly = sql_int(subdir("badinput"), "SELECT sum(count) FROM agg_hourly");
    T_CHECK(store_history_add(h, &s, err, sizeof err) == -EEXIST && strstr(err, "already stored"), "twice: %s", err);
    T_CHECK(store_history_count(h, "trend") == 2 && sql_int(subdir("badinput"), "SELECT sum(count) FROM agg_hourly") == hourly,
            "a refused snapshot left rows behind");
    store_history_close(h);
    store_history_close(NULL);
}

/* ---- a full file system ---------------------------------------------------------------------- */

/* In a child with a mount namespace of its own: a 16 MiB tmpfs, a cap far above it (32 MiB: a 1 MiB
 * WAL, a 2 MiB reserve), and 31 MB of snapshots. Every add must succeed (the oldest blobs make room). Exit status: 0 ok,
 * 77 no permission to mount, else the number of the failed check. */
static int full_fs_child(const char *dir, int out_fd)
{
    store_retention r = keep_all();
    r.max_mb = 32;
    char err[256];
    store_history *h = store_history_open(dir, &r, err, sizeof err);
    if (!h)
        return 10;
    snap b;
    snap_init(&b, 4096, 1024, 8192);
    int failures = 0;
    const int n = 1200; /* ≈ 31 MB of blobs into 16 MiB */
    for (int i = 0; i < n; i++) {
        snap_fill(&b, T0 + i * 10 * SEC, "s1", "x", 1);
        if (store_history_add(h, &b.s, err, sizeof err) != 0 && failures++ == 0)
            dprintf(out_fd, "first failure at snapshot %d: %s\n", i, err);
    }
    long long trend = store_history_count(h, "trend");
    int64_t t = INT64_MAX;
    float *bins = NULL;
    size_t nbins = 0;
    int newest = store_history_spectrum(h, "s1", "x", 0, &t, &bins, &nbins, NULL) == 0 && t == b.s.t_ns;
    free(bins);
    long long spectra = store_history_count(h, "spectra");
    dprintf(out_fd, "result: %d failed adds, %lld trend rows, %lld spectra and %lld waveforms left\n", failures, trend,
            spectra, store_history_count(h, "waveforms"));
    store_history_close(h);
    snap_free(&b);
    return failures ? 11 : trend != n ? 12 : !newest ? 13 : spectra < n / 4 ? 14 : 0;
}

static void test_full_file_system(void)
{
    const char *dir = subdir("fullfs");
    char buf[2048];
    int code = t_in_tmpfs(dir, "16m", full_fs_child, buf, sizeof buf);
    if (code == T_NO_TMPFS) {
        t_skip("cannot mount a small tmpfs here (needs CAP_SYS_ADMIN in a mount namespace)");
        return;
    }
    T_CHECK(code == 0, "child status %d: %s", code, buf);
    char *last = strstr(buf, "result: ");
    printf("# test_history: full file system (16 MiB tmpfs, 1200 snapshots of 26 kB): %s", last ? last + 8 : buf);
}

/* ---- throughput (printed, never asserted) ---------------------------------------------------- */

static void test_throughput(void)
{
    static const char *names[40];
    static char nb[40][24];
    for (int k = 0; k < 40; k++) {
        snprintf(nb[k], sizeof nb[k], "feature_%02d", k);
        names[k] = nb[k];
    }
    double feat[40];
    for (int chans = 1; chans <= 4; chans += 3) {
        char name[32];
        snprintf(name, sizeof name, "speed%d", chans);
        store_history *h = open_or_fail(subdir(name), NULL);
        if (!h)
            return;
        /* 25.6 kHz, 1 s snapshots: 12801 spectrum bins, 1601 envelope bins, 40 features */
        snap b;
        snap_init(&b, 12801, 1601, 0);
        b.s.nfeatures = 40;
        b.s.feature_names = names;
        b.s.features = feat;
        const int sets = 150;
        double t0 = now_s();
        static const char *const axis[4] = {"x", "y", "z", "r"};
        for (int i = 0; i < sets; i++)
            for (int c = 0; c < chans; c++) {
                b.s.t_ns = T0 + i * 10 * SEC;
                b.s.sensor_id = "s1";
                b.s.channel = axis[c];
                b.s.spectrum = b.spec;
                b.s.envelope = b.env;
                for (int k = 0; k < 40; k++)
                    feat[k] = i + k;
                for (size_t j = 0; j < 12801; j++)
                    b.spec[j] = (float)(j + 1 + i);
                for (size_t j = 0; j < 1601; j++)
                    b.env[j] = (float)(j + 1);
                if (add_or_fail(h, &b) != 0)
                    break;
            }
        double dt = now_s() - t0;
        store_history_close(h);
        printf("# test_history: throughput, %d channel%s: %.0f channel-snapshots/s (%.0f snapshots of all channels/s); "
               "12801 + 1601 bins, 40 features; %.1f kB/channel-snapshot on disk\n",
               chans, chans > 1 ? "s" : "", sets * chans / dt, sets / dt,
               (double)file_size(db_file(subdir(name))) / 1024 / (sets * chans));
        snap_free(&b);
    }
}

int main(void)
{
    t_rng_seed(20240101);
    T_RUN(test_spectrum_codec);
    T_RUN(test_waveform_codec);
    T_RUN(test_features_json);
    T_RUN(test_row_counts);
    T_RUN(test_aggregates);
    T_RUN(test_spectra_roundtrip);
    T_RUN(test_waveform_due);
    T_RUN(test_retention);
    T_RUN(test_size_cap);
    T_RUN(test_size_cap_rows);
    T_RUN(test_kill9);
    T_RUN(test_reopen);
    T_RUN(test_models);
    T_RUN(test_errors);
    T_RUN(test_full_file_system);
    T_RUN(test_throughput);
    return t_done();
}

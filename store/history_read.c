/* store/history_read.c — reading the local history back for the dashboard's API (history_read.h;
 * the schema and the compact formats: history.c, history_codec.c).
 *
 * Threads. A reader is one read-only SQLite connection (SQLITE_OPEN_READONLY | NOMUTEX) with its
 * statements prepared once at open and its scratch buffers: one thread at a time may use it (the
 * caller keeps a pool, or a mutex). WAL lets any number of readers read while the history sink
 * writes; a reader never blocks the writer, except that an open read transaction holds back the
 * checkpoint, so every statement is reset as soon as its rows are read and the multi-query calls
 * (trend, waterfall) run in one short read transaction (a consistent view of the file).
 *
 * Blocking. Only on the disk, and for at most BUSY_TIMEOUT_MS when the file is being recovered.
 *
 * Trends. The full-resolution trend keeps the features of each snapshot as one JSON object text;
 * a feature is picked out of it in C (find_features below: one pass, stopping once every wanted
 * feature is seen). bench/bench_history_read.c measures both ways on 43 200 rows of 40 features
 * (30 days at one snapshot a minute): SQLite reading the rows alone ~100 ms; 4 features picked in
 * C 76–108 ms (0.4–0.57 M rows/s), by SQLite 3.40's json_extract (which parses the text again for
 * every feature) 250–280 ms (0.15–0.17 M rows/s); 16 features 287 vs 609 ms. Aggregates are read
 * per feature through their primary key (channel, feature, bucket); an aggregate counts in the
 * bucket that holds its hour's (day's) start.
 *
 * What the header leaves open, decided here: the trend reads the raw rows also when the range
 * starts before them but the aggregates hold nothing older (nothing pruned yet), and the daily
 * aggregates only for buckets of a day or more (shorter buckets come from the hourly ones, which
 * hold the same history but for part of their first day); span's first is the first hour of the
 * hourly aggregates when they reach further back than the pruned trend; a waterfall of one row is
 * the newest spectrum of the range; a waterfall, spectrum or waveform with nothing stored is
 * -ENOENT; events with limit 0 are none (0).
 *
 * Bounds. Every output is sized by the caller's points / rows / limit (checked); the waterfall
 * counts the spectra of the range and then walks their (t_ns, rowid) index a second time to pick
 * the rows, so that it holds max_rows ids, never the whole range, and reads only the picked blobs.
 */
#include "store/history_read.h"
#include "store/history.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HISTORY_FILE "history.sqlite3"
#define APPLICATION_ID 0x56574853 /* "VWHS": history.c */
#define BUSY_TIMEOUT_MS 2000
#define NS_PER_HOUR INT64_C(3600000000000)
#define NS_PER_DAY (24 * NS_PER_HOUR)
#define MAX_POINTS 100000
#define MAX_FEATURES 16
#define MAX_ROWS 100000
#define MAX_NAME 256

enum {
    R_BEGIN, R_COMMIT, R_CHAN, R_FEAT,
    R_TREND_MIN, R_TREND_MAX, R_HOURLY_MIN, R_HOURLY_MAX, R_HOURLY_LAST, R_DAILY_MIN,
    R_RAW, R_HOURLY, R_DAILY,
    R_AMP_AT, R_ENV_AT, R_AMP_COUNT, R_ENV_COUNT, R_AMP_LIST, R_ENV_LIST, R_AMP_ROW, R_ENV_ROW,
    R_WAVE_AT, R_EVENTS,
    R_COUNT
};

/* The oldest bucket of an aggregate table for a channel: the minimum over the features, each
 * found through the primary key (channel, feature, bucket), so it costs a lookup per feature, not
 * a scan of the channel's buckets. */
#define AGG_MIN(table) \
    "SELECT min((SELECT min(bucket_ns) FROM " table " WHERE channel_id = ?1 AND feature_id = f.id)) FROM features f"

static const char *const sql[R_COUNT] = {
    [R_BEGIN] = "BEGIN",
    [R_COMMIT] = "COMMIT",
    [R_CHAN] = "SELECT id FROM channels WHERE sensor = ?1 AND channel = ?2",
    [R_FEAT] = "SELECT id FROM features WHERE name = ?1",
    [R_TREND_MIN] = "SELECT min(t_ns) FROM trend WHERE channel_id = ?1",
    [R_TREND_MAX] = "SELECT max(t_ns) FROM trend WHERE channel_id = ?1",
    [R_HOURLY_MIN] = AGG_MIN("agg_hourly"),
    [R_HOURLY_MAX] = "SELECT max((SELECT max(bucket_ns) FROM agg_hourly WHERE channel_id = ?1 AND feature_id = f.id))"
                     " FROM features f",
    [R_HOURLY_LAST] = "SELECT max(last_t_ns) FROM agg_hourly WHERE channel_id = ?1 AND bucket_ns = ?2",
    [R_DAILY_MIN] = AGG_MIN("agg_daily"),
    [R_RAW] = "SELECT t_ns, features FROM trend WHERE channel_id = ?1 AND t_ns >= ?2 AND t_ns <= ?3 ORDER BY t_ns",
    [R_HOURLY] = "SELECT bucket_ns, count, sum, min, max FROM agg_hourly WHERE channel_id = ?1 AND feature_id = ?2"
                 " AND bucket_ns >= ?3 AND bucket_ns <= ?4 ORDER BY bucket_ns",
    [R_DAILY] = "SELECT bucket_ns, count, sum, min, max FROM agg_daily WHERE channel_id = ?1 AND feature_id = ?2"
                " AND bucket_ns >= ?3 AND bucket_ns <= ?4 ORDER BY bucket_ns",
    [R_AMP_AT] = "SELECT t_ns, amp_df_hz, amp_top_db, amp FROM spectra WHERE channel_id = ?1 AND t_ns <= ?2"
                 " AND amp IS NOT NULL ORDER BY t_ns DESC, trend_id DESC LIMIT 1",
    [R_ENV_AT] = "SELECT t_ns, env_df_hz, env_top_db, env FROM spectra WHERE channel_id = ?1 AND t_ns <= ?2"
                 " AND env IS NOT NULL ORDER BY t_ns DESC, trend_id DESC LIMIT 1",
    /* typeof() reads the record's header only, never the blob's overflow pages */
    [R_AMP_COUNT] = "SELECT count(*) FROM spectra WHERE channel_id = ?1 AND t_ns >= ?2 AND t_ns <= ?3"
                    " AND typeof(amp) = 'blob'",
    [R_ENV_COUNT] = "SELECT count(*) FROM spectra WHERE channel_id = ?1 AND t_ns >= ?2 AND t_ns <= ?3"
                    " AND typeof(env) = 'blob'",
    [R_AMP_LIST] = "SELECT t_ns, trend_id FROM spectra WHERE channel_id = ?1 AND t_ns >= ?2 AND t_ns <= ?3"
                   " AND typeof(amp) = 'blob' ORDER BY t_ns, trend_id",
    [R_ENV_LIST] = "SELECT t_ns, trend_id FROM spectra WHERE channel_id = ?1 AND t_ns >= ?2 AND t_ns <= ?3"
                   " AND typeof(env) = 'blob' ORDER BY t_ns, trend_id",
    [R_AMP_ROW] = "SELECT t_ns, amp_df_hz, amp_top_db, amp FROM spectra WHERE trend_id = ?1",
    [R_ENV_ROW] = "SELECT t_ns, env_df_hz, env_top_db, env FROM spectra WHERE trend_id = ?1",
    [R_WAVE_AT] = "SELECT t_ns, rate_hz, scale, data FROM waveforms WHERE channel_id = ?1 AND t_ns <= ?2"
                  " ORDER BY t_ns DESC, id DESC LIMIT 1",
    [R_EVENTS] = "SELECT id, t_ns, asset, kind, detail FROM events WHERE t_ns >= ?1 AND t_ns <= ?2"
                 " AND (?3 IS NULL OR asset = ?3) AND (?4 IS NULL OR kind = ?4)"
                 " ORDER BY t_ns DESC, id DESC LIMIT ?5",
};

struct store_reader {
    sqlite3 *db;
    char path[PATH_MAX];
    sqlite3_stmt *st[R_COUNT];
    float *scratch;             /* decoded spectra and waveforms, reused */
    size_t scratch_cap;
};

/* ---- helpers --------------------------------------------------------------------------------- */

__attribute__((format(printf, 3, 4)))
static void say(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static int errno_of(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_OK: case SQLITE_ROW: case SQLITE_DONE: return 0;
    case SQLITE_BUSY: case SQLITE_LOCKED: return -EBUSY;
    case SQLITE_NOMEM: return -ENOMEM;
    case SQLITE_CANTOPEN: return -ENOENT;
    default: return -EIO;
    }
}

static int fail_rc(int rc)
{
    int e = errno_of(rc);
    return e ? e : -EIO;
}

static sqlite3_stmt *stmt(store_reader *r, int id)
{
    sqlite3_stmt *s = r->st[id];
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return s;
}

static void bind_text(sqlite3_stmt *s, int i, const char *v) { sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC); }

/* A one-value query: SQLITE_ROW with *v set (INT64_MAX for NULL), SQLITE_DONE, or the error. */
static int query_i64(sqlite3_stmt *s, int64_t *v)
{
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        *v = sqlite3_column_type(s, 0) == SQLITE_NULL ? INT64_MAX : sqlite3_column_int64(s, 0);
    sqlite3_reset(s);
    return rc;
}

/* Starts and ends a read transaction (a consistent view across several queries). */
static int begin_read(store_reader *r)
{
    int rc = sqlite3_step(stmt(r, R_BEGIN));
    sqlite3_reset(r->st[R_BEGIN]);
    return rc == SQLITE_DONE ? 0 : fail_rc(rc);
}

static void end_read(store_reader *r)
{
    if (!sqlite3_get_autocommit(r->db)) {
        sqlite3_step(stmt(r, R_COMMIT));
        sqlite3_reset(r->st[R_COMMIT]);
    }
}

static int scratch(store_reader *r, size_t n)
{
    if (n <= r->scratch_cap)
        return 0;
    if (n > SIZE_MAX / sizeof(float))
        return -ENOMEM;
    float *p = realloc(r->scratch, n * sizeof *p);
    if (!p)
        return -ENOMEM;
    r->scratch = p;
    r->scratch_cap = n;
    return 0;
}

static int64_t floor_to(int64_t t, int64_t period)
{
    int64_t q = t / period;
    if (t % period != 0 && t < 0)
        q--;
    return q * period;
}

static int ok_name(const char *s) { return s && *s && strlen(s) <= MAX_NAME; }

/* The channel's id: 0, -ENOENT, or the error. */
static int channel_of(store_reader *r, const char *sensor, const char *channel, sqlite3_int64 *id)
{
    sqlite3_stmt *s = stmt(r, R_CHAN);
    bind_text(s, 1, sensor);
    bind_text(s, 2, channel);
    int rc = sqlite3_step(s), ret = 0;
    if (rc == SQLITE_ROW)
        *id = sqlite3_column_int64(s, 0);
    else
        ret = rc == SQLITE_DONE ? -ENOENT : fail_rc(rc);
    sqlite3_reset(s);
    return ret;
}

/* One-value query on a channel (?1) and optionally a second parameter. */
static int chan_i64(store_reader *r, int q, sqlite3_int64 ch, int64_t arg, int64_t *v)
{
    sqlite3_stmt *s = stmt(r, q);
    sqlite3_bind_int64(s, 1, ch);
    if (sqlite3_bind_parameter_count(s) >= 2)
        sqlite3_bind_int64(s, 2, arg);
    *v = INT64_MAX;
    int rc = query_i64(s, v);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : fail_rc(rc);
}

/* ---- open / close ---------------------------------------------------------------------------- */

store_reader *store_reader_open(const char *dir, char *err, size_t errlen)
{
    if (!dir || !*dir) {
        say(err, errlen, "history: no data directory given");
        return NULL;
    }
    store_reader *r = calloc(1, sizeof *r);
    if (!r) {
        say(err, errlen, "history: out of memory");
        return NULL;
    }
    if (snprintf(r->path, sizeof r->path, "%s/%s", dir, HISTORY_FILE) >= (int)sizeof r->path) {
        say(err, errlen, "history: %s: path too long", dir);
        goto fail;
    }
    int rc = sqlite3_open_v2(r->path, &r->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        say(err, errlen, "history: %s: cannot open it for reading: %s", r->path,
            r->db ? sqlite3_errmsg(r->db) : sqlite3_errstr(rc));
        goto fail;
    }
    sqlite3_extended_result_codes(r->db, 1);
    sqlite3_busy_timeout(r->db, BUSY_TIMEOUT_MS);
    /* the writer's marks: application_id, and a schema version with the tables read here */
    int64_t app = 0, version = 0;
    sqlite3_stmt *s = NULL;
    rc = sqlite3_prepare_v2(r->db, "PRAGMA application_id", -1, &s, NULL);
    if (rc == SQLITE_OK && (rc = query_i64(s, &app)) == SQLITE_ROW)
        rc = SQLITE_OK;
    sqlite3_finalize(s);
    if (rc == SQLITE_OK) {
        rc = sqlite3_prepare_v2(r->db, "PRAGMA user_version", -1, &s, NULL);
        if (rc == SQLITE_OK && (rc = query_i64(s, &version)) == SQLITE_ROW)
            rc = SQLITE_OK;
        sqlite3_finalize(s);
    }
    if (rc != SQLITE_OK) {
        say(err, errlen, "history: %s: cannot read it as an SQLite database: %s", r->path, sqlite3_errmsg(r->db));
        goto fail;
    }
    if (app != APPLICATION_ID || version < 1) {
        say(err, errlen, "history: %s: not a vibewatch history (application_id 0x%08llx, schema version %lld)",
            r->path, (unsigned long long)app & 0xffffffffu, (long long)version);
        goto fail;
    }
    for (int i = 0; i < R_COUNT; i++) {
        rc = sqlite3_prepare_v3(r->db, sql[i], -1, SQLITE_PREPARE_PERSISTENT, &r->st[i], NULL);
        if (rc != SQLITE_OK) {
            say(err, errlen, "history: %s: preparing a statement: %s", r->path, sqlite3_errmsg(r->db));
            goto fail;
        }
    }
    return r;
fail:
    store_reader_close(r);
    return NULL;
}

void store_reader_close(store_reader *r)
{
    if (!r)
        return;
    for (int i = 0; i < R_COUNT; i++)
        sqlite3_finalize(r->st[i]);
    sqlite3_close(r->db);
    free(r->scratch);
    free(r);
}

/* ---- spans ----------------------------------------------------------------------------------- */

/* Where each kind of trend data of a channel starts (INT64_MAX: none). */
typedef struct starts {
    int64_t raw, hourly, daily;
} starts;

static int channel_starts(store_reader *r, sqlite3_int64 ch, starts *st)
{
    int rc = chan_i64(r, R_TREND_MIN, ch, 0, &st->raw);
    if (rc == 0)
        rc = chan_i64(r, R_HOURLY_MIN, ch, 0, &st->hourly);
    if (rc == 0)
        rc = chan_i64(r, R_DAILY_MIN, ch, 0, &st->daily);
    return rc;
}

int store_reader_span(store_reader *r, const char *sensor, const char *channel, int64_t *first_ns,
                      int64_t *last_ns)
{
    if (!r || !ok_name(sensor) || !ok_name(channel) || !first_ns || !last_ns)
        return -EINVAL;
    sqlite3_int64 ch = 0;
    int rc = begin_read(r);
    if (rc == 0)
        rc = channel_of(r, sensor, channel, &ch);
    starts st = {INT64_MAX, INT64_MAX, INT64_MAX};
    int64_t last = INT64_MAX, hour_last = INT64_MAX;
    if (rc == 0)
        rc = channel_starts(r, ch, &st);
    if (rc == 0)
        rc = chan_i64(r, R_TREND_MAX, ch, 0, &last);
    if (rc == 0 && last == INT64_MAX && (rc = chan_i64(r, R_HOURLY_MAX, ch, 0, &hour_last)) == 0 &&
        hour_last != INT64_MAX)
        rc = chan_i64(r, R_HOURLY_LAST, ch, hour_last, &last);
    end_read(r);
    if (rc < 0)
        return rc;
    if (last == INT64_MAX)
        return -ENOENT;
    /* the full-resolution trend's first row, unless the aggregates reach further back (the trend
     * was pruned): then the first hour they hold */
    int64_t first = st.raw;
    if (st.hourly != INT64_MAX && (st.raw == INT64_MAX || st.hourly < floor_to(st.raw, NS_PER_HOUR)))
        first = st.hourly;
    *first_ns = first;
    *last_ns = last;
    return 0;
}

/* ---- trends ---------------------------------------------------------------------------------- */

/* Bucket i of npoints over [from, from + span]: starts at from + i·span/npoints, computed without
 * overflow as i·q + i·rem/npoints (span = q·npoints + rem; i·rem < npoints² fits). */
typedef struct buckets {
    int64_t from;
    uint64_t q, rem;
    size_t n;
} buckets;

static int64_t bucket_start(const buckets *b, size_t i)
{
    return (int64_t)((uint64_t)b->from + (uint64_t)i * b->q + (uint64_t)i * b->rem / b->n);
}

/* The bucket holding t (from ≤ t ≤ to), starting the search at *i (t never goes back within a
 * query ordered by time). */
static size_t bucket_of(const buckets *b, int64_t t, size_t i)
{
    while (i + 1 < b->n && t >= bucket_start(b, i + 1))
        i++;
    return i;
}

/* A JSON number's text → double; NAN when it is not a number. */
static double number_at(const char *p, const char **end)
{
    char *e;
    double v = strtod(p, &e);
    *end = e;
    return e == p ? NAN : v;
}

/* Past a JSON string (p at its opening quote); NULL when it does not end. */
static const char *skip_string(const char *p)
{
    for (p++; *p; p++) {
        if (*p == '\\') {
            if (!*++p)
                return NULL;
        } else if (*p == '"') {
            return p + 1;
        }
    }
    return NULL;
}

/* Past one JSON value; NULL when malformed. */
static const char *skip_value(const char *p)
{
    if (*p == '"')
        return skip_string(p);
    if (*p == '{' || *p == '[') {
        int depth = 0;
        for (; *p; p++) {
            if (*p == '"') {
                if (!(p = skip_string(p)))
                    return NULL;
                p--;
            } else if (*p == '{' || *p == '[') {
                depth++;
            } else if ((*p == '}' || *p == ']') && --depth == 0) {
                return p + 1;
            }
        }
        return NULL;
    }
    while (*p && *p != ',' && *p != '}' && *p != ']' && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
        p++;
    return p;
}

static const char *skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    return p;
}

static int hex4(const char *p, unsigned *v)
{
    *v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        unsigned d = c >= '0' && c <= '9' ? (unsigned)(c - '0') : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
                   : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10) : 16;
        if (d > 15)
            return -1;
        *v = *v << 4 | d;
    }
    return 0;
}

/* A key with escapes (p after its opening quote, end at its closing quote) decoded to UTF-8 into
 * out; its length, or -1 when it does not fit or is malformed. */
static long unescape(const char *p, const char *end, char *out, size_t cap)
{
    size_t o = 0;
    while (p < end) {
        unsigned c = (unsigned char)*p++;
        if (c != '\\') { /* a byte as it is (UTF-8 stays UTF-8) */
            if (o + 1 > cap)
                return -1;
            out[o++] = (char)c;
            continue;
        }
        char e = *p++;
        switch (e) {
        case 'b': c = '\b'; break;
        case 'f': c = '\f'; break;
        case 'n': c = '\n'; break;
        case 'r': c = '\r'; break;
        case 't': c = '\t'; break;
        case 'u':
            if (end - p < 4 || hex4(p, &c) < 0)
                return -1;
            p += 4;
            if (c >= 0xd800 && c < 0xdc00 && end - p >= 6 && p[0] == '\\' && p[1] == 'u') {
                unsigned lo;
                if (hex4(p + 2, &lo) == 0 && lo >= 0xdc00 && lo < 0xe000) {
                    c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
                    p += 6;
                }
            }
            break;
        default: c = (unsigned char)e; break;
        }
        unsigned char u[4];
        size_t k;
        if (c < 0x80) {
            u[0] = (unsigned char)c, k = 1;
        } else if (c < 0x800) {
            u[0] = (unsigned char)(0xc0 | c >> 6), u[1] = (unsigned char)(0x80 | (c & 0x3f)), k = 2;
        } else if (c < 0x10000) {
            u[0] = (unsigned char)(0xe0 | c >> 12), u[1] = (unsigned char)(0x80 | (c >> 6 & 0x3f));
            u[2] = (unsigned char)(0x80 | (c & 0x3f)), k = 3;
        } else {
            u[0] = (unsigned char)(0xf0 | c >> 18), u[1] = (unsigned char)(0x80 | (c >> 12 & 0x3f));
            u[2] = (unsigned char)(0x80 | (c >> 6 & 0x3f)), u[3] = (unsigned char)(0x80 | (c & 0x3f)), k = 4;
        }
        if (o + k > cap)
            return -1;
        memcpy(out + o, u, k);
        o += k;
    }
    return (long)o;
}

/* Picks the wanted features out of a features JSON object ({"name":number,…}, as history.c
 * writes it, but any valid JSON object is read): vals[k] = the value of names[k], NAN when it is
 * missing or not a number. Malformed text leaves the rest NAN. */
static void find_features(const char *p, size_t nf, const char *const *names, const size_t *lens, double *vals)
{
    for (size_t k = 0; k < nf; k++)
        vals[k] = NAN;
    if (!p)
        return;
    p = skip_ws(p);
    if (*p++ != '{')
        return;
    size_t found = 0;
    for (;;) {
        p = skip_ws(p);
        if (*p != '"')
            return;
        const char *key = p + 1, *end = skip_string(p);
        if (!end)
            return;
        size_t klen = (size_t)(end - 1 - key);
        char buf[4 * MAX_NAME];
        if (memchr(key, '\\', klen)) {
            long n = unescape(key, end - 1, buf, sizeof buf);
            if (n < 0) {
                klen = SIZE_MAX; /* too long to be a wanted name */
            } else {
                key = buf;
                klen = (size_t)n;
            }
        }
        p = skip_ws(end);
        if (*p++ != ':')
            return;
        p = skip_ws(p);
        size_t k = 0;
        while (k < nf && !(lens[k] == klen && memcmp(names[k], key, klen) == 0))
            k++;
        if (k < nf && (*p == '-' || (*p >= '0' && *p <= '9'))) {
            const char *e;
            double v = number_at(p, &e);
            if (isnan(vals[k]))
                found++;
            vals[k] = v;
            p = e;
            if (found == nf)
                return; /* every wanted feature seen: the rest of the object is not needed */
        } else if (!(p = skip_value(p))) {
            return;
        }
        p = skip_ws(p);
        if (*p++ != ',')
            return;
    }
}

static void accumulate(store_trend_out *out, size_t npoints, size_t f, size_t i, double sum, double mn, double mx,
                       unsigned n)
{
    size_t j = f * npoints + i;
    if (out->count[j] == 0) {
        out->mean[j] = sum;
        out->min[j] = mn;
        out->max[j] = mx;
    } else {
        out->mean[j] += sum;
        if (mn < out->min[j])
            out->min[j] = mn;
        if (mx > out->max[j])
            out->max[j] = mx;
    }
    out->count[j] += n;
}

static int trend_raw(store_reader *r, sqlite3_int64 ch, const buckets *b, int64_t to, size_t nf,
                     const char *const *features, store_trend_out *out)
{
    size_t lens[MAX_FEATURES];
    double vals[MAX_FEATURES];
    for (size_t k = 0; k < nf; k++)
        lens[k] = strlen(features[k]);
    sqlite3_stmt *s = stmt(r, R_RAW);
    sqlite3_bind_int64(s, 1, ch);
    sqlite3_bind_int64(s, 2, b->from);
    sqlite3_bind_int64(s, 3, to);
    size_t i = 0;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        i = bucket_of(b, sqlite3_column_int64(s, 0), i);
        find_features((const char *)sqlite3_column_text(s, 1), nf, features, lens, vals);
        for (size_t k = 0; k < nf; k++)
            if (isfinite(vals[k]))
                accumulate(out, b->n, k, i, vals[k], vals[k], vals[k], 1);
    }
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? 0 : fail_rc(rc);
}

static int trend_agg(store_reader *r, int q, sqlite3_int64 ch, const buckets *b, int64_t to, size_t nf,
                     const char *const *features, store_trend_out *out)
{
    for (size_t k = 0; k < nf; k++) {
        sqlite3_stmt *s = stmt(r, R_FEAT);
        bind_text(s, 1, features[k]);
        int64_t fid = INT64_MAX;
        int rc = query_i64(s, &fid);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
            return fail_rc(rc);
        if (rc == SQLITE_DONE || fid == INT64_MAX)
            continue; /* a feature never stored: NAN */
        s = stmt(r, q);
        sqlite3_bind_int64(s, 1, ch);
        sqlite3_bind_int64(s, 2, fid);
        sqlite3_bind_int64(s, 3, b->from);
        sqlite3_bind_int64(s, 4, to);
        size_t i = 0;
        while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
            i = bucket_of(b, sqlite3_column_int64(s, 0), i);
            sqlite3_int64 n = sqlite3_column_int64(s, 1);
            double sum = sqlite3_column_double(s, 2), mn = sqlite3_column_double(s, 3),
                   mx = sqlite3_column_double(s, 4);
            if (n > 0 && n <= UINT_MAX && isfinite(sum))
                accumulate(out, b->n, k, i, sum, mn, mx, (unsigned)n);
        }
        sqlite3_reset(s);
        if (rc != SQLITE_DONE)
            return fail_rc(rc);
    }
    return 0;
}

int store_reader_trend(store_reader *r, const char *sensor, const char *channel, int64_t from_ns,
                       int64_t to_ns, size_t nfeatures, const char *const *features, size_t npoints,
                       store_trend_out *out, char *err, size_t errlen)
{
    if (!r || !out || !out->mean || !out->min || !out->max || !out->count) {
        say(err, errlen, "history: trend: no reader or no output arrays");
        return -EINVAL;
    }
    if (!ok_name(sensor) || !ok_name(channel)) {
        say(err, errlen, "history: trend: sensor and channel must be non-empty and at most 256 bytes");
        return -EINVAL;
    }
    if (from_ns >= to_ns) {
        say(err, errlen, "history: trend: from (%lld) must be before to (%lld)", (long long)from_ns, (long long)to_ns);
        return -EINVAL;
    }
    if (npoints == 0 || npoints > MAX_POINTS || nfeatures == 0 || nfeatures > MAX_FEATURES || !features) {
        say(err, errlen, "history: trend: points must be in 1…%d and features in 1…%d", MAX_POINTS, MAX_FEATURES);
        return -EINVAL;
    }
    for (size_t k = 0; k < nfeatures; k++)
        if (!ok_name(features[k])) {
            say(err, errlen, "history: trend: feature %zu is empty or longer than 256 bytes", k);
            return -EINVAL;
        }
    out->resolution = "raw";
    for (size_t j = 0; j < nfeatures * npoints; j++) {
        out->mean[j] = out->min[j] = out->max[j] = NAN;
        out->count[j] = 0;
    }
    uint64_t span = (uint64_t)to_ns - (uint64_t)from_ns;
    buckets b = {.from = from_ns, .q = span / npoints, .rem = span % npoints, .n = npoints};
    sqlite3_int64 ch = 0;
    starts st = {INT64_MAX, INT64_MAX, INT64_MAX};
    int rc = begin_read(r);
    if (rc == 0)
        rc = channel_of(r, sensor, channel, &ch);
    if (rc == -ENOENT) {
        end_read(r);
        say(err, errlen, "history: %s: no channel %s/%s", r->path, sensor, channel);
        return rc;
    }
    if (rc == 0)
        rc = channel_starts(r, ch, &st);
    if (rc == 0) {
        /* the full resolution when it covers the range, when the buckets are shorter than an hour,
         * or when the aggregates hold nothing older than it (nothing pruned yet); else the hourly
         * aggregates when they cover the range or the buckets are shorter than a day (daily
         * aggregates would leave most buckets empty, and hold only the part of a day more); else
         * the daily ones */
        int width_lt_hour = span / npoints < (uint64_t)NS_PER_HOUR;
        int raw_whole = st.raw != INT64_MAX && floor_to(st.raw, NS_PER_HOUR) <= st.hourly &&
                        floor_to(st.raw, NS_PER_DAY) <= st.daily;
        int no_agg = st.hourly == INT64_MAX && st.daily == INT64_MAX;
        if (width_lt_hour || from_ns >= st.raw || raw_whole || no_agg) {
            rc = trend_raw(r, ch, &b, to_ns, nfeatures, features, out);
        } else if (from_ns >= st.hourly || span / npoints < (uint64_t)NS_PER_DAY || st.daily == INT64_MAX) {
            out->resolution = "hourly";
            rc = trend_agg(r, R_HOURLY, ch, &b, to_ns, nfeatures, features, out);
        } else {
            out->resolution = "daily";
            rc = trend_agg(r, R_DAILY, ch, &b, to_ns, nfeatures, features, out);
        }
    }
    end_read(r);
    if (rc < 0) {
        say(err, errlen, "history: %s: trend of %s/%s: %s", r->path, sensor, channel, sqlite3_errmsg(r->db));
        return rc;
    }
    for (size_t j = 0; j < nfeatures * npoints; j++)
        if (out->count[j])
            out->mean[j] /= out->count[j];
    return 0;
}

/* ---- spectra --------------------------------------------------------------------------------- */

/* The bins from f = 0 up to fmax_hz (≤ 0: all) of a spectrum of n bins. */
static size_t bins_upto(size_t n, double df, double fmax_hz)
{
    if (!(fmax_hz > 0) || !(df > 0))
        return n;
    double k = floor(fmax_hz / df * (1 + 1e-12)) + 1;
    return k < (double)n ? (size_t)k : n;
}

/* out[i] = max of in[i·m … (i+1)·m) for i < ceil(n / m). */
static void decimate_max(const float *in, size_t n, size_t m, float *out)
{
    for (size_t i = 0, j = 0; j < n; i++, j += m) {
        float v = in[j];
        size_t e = j + m < n ? j + m : n;
        for (size_t k = j + 1; k < e; k++)
            if (in[k] > v)
                v = in[k];
        out[i] = v;
    }
}

/* The blob of a spectrum or waveform row (columns t_ns, hz, param, blob) decoded into r->scratch:
 * a spectrum's bins up to fmax_hz, a waveform whole. */
static int decode_row(store_reader *r, sqlite3_stmt *s, int spectrum, double fmax_hz, size_t *n, int64_t *t_ns,
                      double *hz)
{
    const uint8_t *blob = sqlite3_column_blob(s, 3);
    size_t count = (size_t)sqlite3_column_bytes(s, 3) / 2;
    double param = sqlite3_column_double(s, 2);
    *t_ns = sqlite3_column_int64(s, 0);
    *hz = sqlite3_column_double(s, 1);
    if (spectrum)
        count = bins_upto(count, *hz, fmax_hz);
    if (scratch(r, count ? count : 1) < 0)
        return -ENOMEM;
    if (spectrum)
        store_history_spectrum_decode(blob, count, param, r->scratch);
    else
        store_history_waveform_decode(blob, count, param, r->scratch);
    *n = count;
    return 0;
}

int store_reader_spectrum(store_reader *r, const char *sensor, const char *channel, int envelope,
                          int64_t *t_ns, double fmax_hz, size_t max_points, float **values,
                          size_t *nvalues, double *df_hz, unsigned *max_of)
{
    if (!r || !ok_name(sensor) || !ok_name(channel) || !t_ns || !values || !nvalues || !df_hz || !max_of ||
        max_points == 0 || isnan(fmax_hz))
        return -EINVAL;
    *values = NULL;
    *nvalues = 0;
    sqlite3_int64 ch = 0;
    int rc = channel_of(r, sensor, channel, &ch);
    if (rc < 0)
        return rc;
    sqlite3_stmt *s = stmt(r, envelope ? R_ENV_AT : R_AMP_AT);
    sqlite3_bind_int64(s, 1, ch);
    sqlite3_bind_int64(s, 2, *t_ns);
    rc = sqlite3_step(s);
    int ret = 0;
    if (rc == SQLITE_ROW) {
        size_t n = 0;
        int64_t t = 0;
        double df = 0;
        ret = decode_row(r, s, 1, fmax_hz, &n, &t, &df);
        if (ret == 0 && n == 0)
            ret = -ENOENT;
        if (ret == 0) {
            size_t m = (n + max_points - 1) / max_points, nv = (n + m - 1) / m;
            float *v = malloc(nv * sizeof *v);
            if (!v || m > UINT_MAX) {
                free(v);
                ret = -ENOMEM;
            } else {
                decimate_max(r->scratch, n, m, v);
                *values = v;
                *nvalues = nv;
                *t_ns = t;
                *df_hz = df * (double)m;
                *max_of = (unsigned)m;
            }
        }
    } else {
        ret = rc == SQLITE_DONE ? -ENOENT : fail_rc(rc);
    }
    sqlite3_reset(s);
    return ret;
}

/* Puts a decoded row (n bins of df) into a waterfall row of ncols columns of out_df = ref_df·m:
 * by index when its df is the reference's; else by frequency, each column the largest bin within
 * it, or (a coarser row) the bin that covers it. Columns beyond the row's bins are 0. */
static void waterfall_row(const float *in, size_t n, double df, double ref_df, size_t m, float *row, size_t ncols)
{
    if (df == ref_df) {
        memset(row, 0, ncols * sizeof *row);
        size_t nin = n < ncols * m ? n : ncols * m;
        decimate_max(in, nin, m, row);
        return;
    }
    for (size_t j = 0; j < ncols; j++)
        row[j] = -1; /* not filled yet: spectra are ≥ 0 */
    double out_df = ref_df * (double)m;
    if (!(df > 0) || !(out_df > 0) || !isfinite(df) || !isfinite(out_df)) { /* a damaged row: nothing of it */
        memset(row, 0, ncols * sizeof *row);
        return;
    }
    for (size_t b = 0; b < n; b++) {
        double c = floor((double)b * df / out_df);
        if (!(c >= 0) || c >= (double)ncols)
            break;
        size_t j = (size_t)c;
        if (in[b] > row[j])
            row[j] = in[b];
    }
    for (size_t j = 0; j < ncols; j++)
        if (row[j] < 0) {
            double b = floor((double)j * out_df / df);
            row[j] = b < (double)n ? in[(size_t)b] : 0;
        }
}

int store_reader_waterfall(store_reader *r, const char *sensor, const char *channel, int envelope,
                           int64_t from_ns, int64_t to_ns, double fmax_hz, size_t max_rows,
                           size_t max_points, int64_t **t_ns, float **values, size_t *nrows,
                           size_t *ncols, double *df_hz)
{
    if (!r || !ok_name(sensor) || !ok_name(channel) || !t_ns || !values || !nrows || !ncols || !df_hz ||
        from_ns > to_ns || max_rows == 0 || max_rows > MAX_ROWS || max_points == 0 || isnan(fmax_hz))
        return -EINVAL;
    *t_ns = NULL;
    *values = NULL;
    *nrows = *ncols = 0;
    sqlite3_int64 ch = 0;
    int64_t *ids = NULL, *ts = NULL;
    float *vals = NULL;
    int ret = begin_read(r);
    if (ret == 0)
        ret = channel_of(r, sensor, channel, &ch);
    int64_t total = 0;
    if (ret == 0) {
        sqlite3_stmt *s = stmt(r, envelope ? R_ENV_COUNT : R_AMP_COUNT);
        sqlite3_bind_int64(s, 1, ch);
        sqlite3_bind_int64(s, 2, from_ns);
        sqlite3_bind_int64(s, 3, to_ns);
        int rc = query_i64(s, &total);
        if (rc != SQLITE_ROW)
            ret = fail_rc(rc);
        else if (total <= 0 || total == INT64_MAX)
            ret = -ENOENT;
    }
    size_t want = 0;
    if (ret == 0) {
        want = (uint64_t)total < max_rows ? (size_t)total : max_rows;
        ids = malloc(want * sizeof *ids);
        ts = malloc(want * sizeof *ts);
        if (!ids || !ts)
            ret = -ENOMEM;
    }
    size_t got = 0;
    if (ret == 0) {
        /* row k of want is the stored spectrum round(k·(N−1)/(want−1)) (one row: the newest) */
        sqlite3_stmt *s = stmt(r, envelope ? R_ENV_LIST : R_AMP_LIST);
        sqlite3_bind_int64(s, 1, ch);
        sqlite3_bind_int64(s, 2, from_ns);
        sqlite3_bind_int64(s, 3, to_ns);
        int64_t idx = 0, n1 = total - 1, w1 = (int64_t)want - 1;
        int rc;
        while (got < want && (rc = sqlite3_step(s)) == SQLITE_ROW) {
            int64_t pick = w1 ? ((int64_t)got * n1 * 2 + w1) / (2 * w1) : n1;
            if (idx++ == pick) {
                ts[got] = sqlite3_column_int64(s, 0);
                ids[got++] = sqlite3_column_int64(s, 1);
            }
        }
        if (got < want && rc != SQLITE_DONE)
            ret = fail_rc(rc);
        sqlite3_reset(s);
        if (ret == 0 && got == 0)
            ret = -ENOENT;
    }
    /* the reference for the columns: the newest picked row (the spectra as configured now) */
    double ref_df = 0;
    size_t m = 1, nc = 0;
    for (size_t pass = 0; ret == 0 && pass < 2; pass++) {
        for (size_t k = pass ? 0 : got - 1; ret == 0 && k < got; k++) {
            sqlite3_stmt *s = stmt(r, envelope ? R_ENV_ROW : R_AMP_ROW);
            sqlite3_bind_int64(s, 1, ids[k]);
            int rc = sqlite3_step(s);
            size_t n = 0;
            int64_t t = 0;
            double df = 0;
            if (rc != SQLITE_ROW)
                ret = rc == SQLITE_DONE ? -EIO : fail_rc(rc);
            else
                ret = decode_row(r, s, 1, fmax_hz, &n, &t, &df);
            sqlite3_reset(s);
            if (ret < 0)
                break;
            if (!pass) {
                if (n == 0) {
                    ret = -ENOENT;
                    break;
                }
                if (!(df > 0) || !isfinite(df)) { /* a damaged newest row: no reference for the columns */
                    ret = -EIO;
                    break;
                }
                ref_df = df;
                m = (n + max_points - 1) / max_points;
                nc = (n + m - 1) / m;
                if (got > SIZE_MAX / sizeof(float) / nc || !(vals = malloc(got * nc * sizeof *vals)))
                    ret = -ENOMEM;
                break;
            }
            waterfall_row(r->scratch, n, df, ref_df, m, vals + k * nc, nc);
        }
    }
    end_read(r);
    free(ids);
    if (ret < 0) {
        free(ts);
        free(vals);
        return ret;
    }
    *t_ns = ts;
    *values = vals;
    *nrows = got;
    *ncols = nc;
    *df_hz = ref_df * (double)m;
    return 0;
}

/* ---- waveforms ------------------------------------------------------------------------------- */

int store_reader_waveform(store_reader *r, const char *sensor, const char *channel, int64_t *t_ns,
                          size_t max_points, float **min, float **max, size_t *npairs, size_t *n,
                          unsigned *step, double *rate_hz)
{
    if (!r || !ok_name(sensor) || !ok_name(channel) || !t_ns || !min || !max || !npairs || !n || !step ||
        !rate_hz || max_points == 0)
        return -EINVAL;
    *min = *max = NULL;
    *npairs = *n = 0;
    sqlite3_int64 ch = 0;
    int ret = channel_of(r, sensor, channel, &ch);
    if (ret < 0)
        return ret;
    sqlite3_stmt *s = stmt(r, R_WAVE_AT);
    sqlite3_bind_int64(s, 1, ch);
    sqlite3_bind_int64(s, 2, *t_ns);
    int rc = sqlite3_step(s);
    size_t len = 0;
    int64_t t = 0;
    double rate = 0;
    if (rc == SQLITE_ROW)
        ret = decode_row(r, s, 0, 0, &len, &t, &rate);
    else
        ret = rc == SQLITE_DONE ? -ENOENT : fail_rc(rc);
    sqlite3_reset(s);
    if (ret == 0 && len == 0)
        ret = -ENOENT;
    if (ret < 0)
        return ret;
    size_t st = (len + max_points - 1) / max_points, np = (len + st - 1) / st;
    float *lo = malloc(np * sizeof *lo), *hi = malloc(np * sizeof *hi);
    if (!lo || !hi || st > UINT_MAX) {
        free(lo);
        free(hi);
        return -ENOMEM;
    }
    const float *x = r->scratch;
    for (size_t i = 0, j = 0; i < np; i++, j += st) {
        float a = x[j], b = x[j];
        size_t e = j + st < len ? j + st : len;
        for (size_t k = j + 1; k < e; k++) {
            if (x[k] < a)
                a = x[k];
            if (x[k] > b)
                b = x[k];
        }
        lo[i] = a;
        hi[i] = b;
    }
    *min = lo;
    *max = hi;
    *npairs = np;
    *n = len;
    *step = (unsigned)st;
    *t_ns = t;
    *rate_hz = rate;
    return 0;
}

/* ---- events ---------------------------------------------------------------------------------- */

long store_reader_events(store_reader *r, const char *asset, const char *kind, int64_t from_ns,
                         int64_t to_ns, size_t limit,
                         int (*cb)(void *ctx, int64_t id, int64_t t_ns, const char *asset,
                                   const char *kind, const char *detail),
                         void *ctx)
{
    if (!r || !cb || from_ns > to_ns || (asset && strlen(asset) > MAX_NAME) || (kind && strlen(kind) > MAX_NAME))
        return -EINVAL;
    if (limit == 0)
        return 0;
    sqlite3_stmt *s = stmt(r, R_EVENTS);
    sqlite3_bind_int64(s, 1, from_ns);
    sqlite3_bind_int64(s, 2, to_ns);
    if (asset)
        bind_text(s, 3, asset);
    if (kind)
        bind_text(s, 4, kind);
#if SIZE_MAX > INT64_MAX /* not on 32-bit ARM, where the test would be always false (-Wtype-limits) */
    if (limit > INT64_MAX)
        limit = INT64_MAX;
#endif
    sqlite3_bind_int64(s, 5, (sqlite3_int64)limit);
    long n = 0;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *a = (const char *)sqlite3_column_text(s, 2), *k = (const char *)sqlite3_column_text(s, 3),
                   *d = (const char *)sqlite3_column_text(s, 4);
        n++;
        if (cb(ctx, sqlite3_column_int64(s, 0), sqlite3_column_int64(s, 1), a, k ? k : "", d) != 0) {
            rc = SQLITE_DONE;
            break;
        }
    }
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? n : fail_rc(rc);
}

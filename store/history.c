/* store/history.c — the local history in SQLite (what is kept: see history.h; the formats of
 * spectra, waveforms and features: history_codec.c).
 *
 * Threads and ownership. One connection per handle, used by one thread (the history sink), so it
 * is opened SQLITE_OPEN_NOMUTEX. Other readers (the web API, a CLI) open their own connections;
 * WAL lets them read while the sink writes. Every statement is prepared once at open and kept in
 * h->st[]; data only ever reaches SQL through sqlite3_bind_*, never through the SQL text.
 *
 * Blocking. add/event/metrics/prune block on the disk, and for at most BUSY_TIMEOUT_MS on another
 * writer of the same file.
 *
 * Durability. journal_mode=WAL, synchronous=NORMAL: a commit is appended to the WAL without an
 * fsync, and the WAL is fsynced when it is checkpointed into the main file. So a crash of the
 * process (kill -9, a segfault) loses nothing committed: the committed frames are in the WAL, in
 * the kernel's page cache, and are replayed at the next open. A power cut or kernel panic may lose
 * the transactions committed since the last checkpoint (at most about one WAL's worth, see
 * wal_pages()), but never corrupts the database. One snapshot is one BEGIN IMMEDIATE … COMMIT, so
 * a snapshot is there whole (trend row, aggregates, spectra, waveform) or not at all.
 *
 * Schema. PRAGMA user_version is the schema version; migrations[k] takes version k to k + 1 in one
 * transaction; PRAGMA application_id marks the file as a vibewatch history. auto_vacuum is set to
 * INCREMENTAL before the first table exists, so that the size cap can give pages back to the file
 * system (incremental_vacuum, then a TRUNCATE checkpoint).
 *
 * Deletes. Debian builds SQLite with secure_delete on, which overwrites every freed page: every
 * pruned blob would be written once more (flash wear), and with the file system full a delete
 * could not even find room in the WAL. Vibration data is not secret: secure_delete is off.
 *
 * Time. Every retention rule runs on data time (now_ns given by the caller), never the clock.
 * Aggregate buckets are UTC hours and days of data time.
 *
 * Size. store_history_prune applies retention, then the cap: when page_count·page_size plus the
 * WAL exceeds max_mb, the oldest spectra and waveforms go first (they are the bulk), then the
 * oldest trend rows and metrics, until the total is under 90 % of the cap; add never refuses a
 * snapshot because of the cap. A file system filled by others is met with a reserve file released
 * to make room (see "the reserve" below).
 */
#include "store/history.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HISTORY_FILE "history.sqlite3"
#define RESERVE_FILE "history.reserve"
#define APPLICATION_ID 0x56574853 /* "VWHS" */
#define BUSY_TIMEOUT_MS 5000
#define NS_PER_HOUR INT64_C(3600000000000)
#define NS_PER_DAY (24 * NS_PER_HOUR)

/* Bounds of one snapshot: checked before anything is allocated. */
#define MAX_ID_LEN 256
#define MAX_FEATURES 1024
#define MAX_FEATURE_NAME 128
#define MAX_BINS (1u << 22)          /* 8 MiB per stored spectrum */
#define MAX_WAVEFORM (1u << 24)      /* 32 MiB per stored waveform */
#define PRUNE_BATCH 5000             /* rows per retention transaction: bounds the WAL */
#define CAP_TARGET 0.9               /* the cap prunes down to this fraction of max_mb */

/* ---- the schema ------------------------------------------------------------------------------ */

static const char *const migrations[] = {
    /* 0 → 1 */
    "CREATE TABLE channels("
    "  id INTEGER PRIMARY KEY,"
    "  asset TEXT NOT NULL,"
    "  sensor TEXT NOT NULL,"
    "  channel TEXT NOT NULL,"
    "  last_waveform_ns INTEGER,"          /* data time of the last waveform stored */
    "  UNIQUE(sensor, channel));"
    "CREATE TABLE features(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);"
    /* the feature trend at full resolution: features is a JSON object of the finite features */
    "CREATE TABLE trend("
    "  id INTEGER PRIMARY KEY,"
    "  channel_id INTEGER NOT NULL REFERENCES channels(id),"
    "  t_ns INTEGER NOT NULL,"
    "  state TEXT NOT NULL,"
    "  features TEXT NOT NULL);"
    "CREATE UNIQUE INDEX trend_channel_t ON trend(channel_id, t_ns);" /* one snapshot per channel and time */
    "CREATE INDEX trend_t ON trend(t_ns);"
    /* one row per snapshot that had spectra; blobs: history.h (uint16 log magnitude per bin) */
    "CREATE TABLE spectra("
    "  trend_id INTEGER PRIMARY KEY REFERENCES trend(id) ON DELETE CASCADE,"
    "  channel_id INTEGER NOT NULL REFERENCES channels(id),"
    "  t_ns INTEGER NOT NULL,"
    "  amp_df_hz REAL, amp_top_db REAL, amp BLOB,"
    "  env_df_hz REAL, env_top_db REAL, env BLOB);"
    "CREATE INDEX spectra_channel_t ON spectra(channel_id, t_ns);"
    /* raw waveforms: sample = int16 (little-endian) · scale, in g */
    "CREATE TABLE waveforms("
    "  id INTEGER PRIMARY KEY,"
    "  channel_id INTEGER NOT NULL REFERENCES channels(id),"
    "  t_ns INTEGER NOT NULL,"
    "  state TEXT NOT NULL,"
    "  rate_hz REAL NOT NULL,"
    "  scale REAL NOT NULL,"
    "  data BLOB NOT NULL);"
    "CREATE INDEX waveforms_channel_t ON waveforms(channel_id, t_ns);"
    /* aggregates per UTC hour and day of data time; last is the value with the newest t_ns */
    "CREATE TABLE agg_hourly("
    "  channel_id INTEGER NOT NULL REFERENCES channels(id),"
    "  feature_id INTEGER NOT NULL REFERENCES features(id),"
    "  bucket_ns INTEGER NOT NULL,"
    "  count INTEGER NOT NULL, sum REAL NOT NULL, min REAL NOT NULL, max REAL NOT NULL,"
    "  last REAL NOT NULL, last_t_ns INTEGER NOT NULL,"
    "  PRIMARY KEY(channel_id, feature_id, bucket_ns)) WITHOUT ROWID;"
    "CREATE INDEX agg_hourly_bucket ON agg_hourly(bucket_ns);"
    "CREATE TABLE agg_daily("
    "  channel_id INTEGER NOT NULL REFERENCES channels(id),"
    "  feature_id INTEGER NOT NULL REFERENCES features(id),"
    "  bucket_ns INTEGER NOT NULL,"
    "  count INTEGER NOT NULL, sum REAL NOT NULL, min REAL NOT NULL, max REAL NOT NULL,"
    "  last REAL NOT NULL, last_t_ns INTEGER NOT NULL,"
    "  PRIMARY KEY(channel_id, feature_id, bucket_ns)) WITHOUT ROWID;"
    "CREATE INDEX agg_daily_bucket ON agg_daily(bucket_ns);"
    "CREATE TABLE events(id INTEGER PRIMARY KEY, t_ns INTEGER NOT NULL, asset TEXT, kind TEXT NOT NULL,"
    "  detail TEXT);"
    "CREATE INDEX events_t ON events(t_ns);"
    "CREATE TABLE metrics(id INTEGER PRIMARY KEY, t_ns INTEGER NOT NULL, data TEXT NOT NULL);"
    "CREATE INDEX metrics_t ON metrics(t_ns);"
    /* for people with the sqlite3 shell */
    "CREATE VIEW trend_v AS SELECT trend.id, t_ns, asset, sensor, channel, state, features"
    "  FROM trend JOIN channels ON channels.id = trend.channel_id;"
    "PRAGMA application_id = 1448560723;" /* APPLICATION_ID */
    "PRAGMA user_version = 1;",
    /* 1 → 2: the condition monitors' learned models (models/monitor.h), newest kept per channel */
    "CREATE TABLE models(id INTEGER PRIMARY KEY, t_ns INTEGER NOT NULL, sensor TEXT NOT NULL,"
    "  channel TEXT NOT NULL, data TEXT NOT NULL);"
    "CREATE INDEX models_ch ON models(sensor, channel, t_ns);"
    "PRAGMA user_version = 2;",
};
#define SCHEMA_VERSION ((int)(sizeof migrations / sizeof migrations[0]))

/* ---- the statements -------------------------------------------------------------------------- */

enum {
    Q_BEGIN, Q_COMMIT, Q_ROLLBACK,
    Q_CHAN_GET, Q_CHAN_INS, Q_CHAN_ASSET, Q_CHAN_WAVE, Q_CHAN_WAVE_LAST,
    Q_FEAT_GET, Q_FEAT_INS,
    Q_TREND_INS, Q_HOURLY, Q_DAILY, Q_SPECTRA_INS, Q_WAVE_INS,
    Q_EVENT_INS, Q_METRIC_INS, Q_JSON_VALID,
    Q_CNT_TREND, Q_CNT_HOURLY, Q_CNT_DAILY, Q_CNT_SPECTRA, Q_CNT_WAVES, Q_CNT_EVENTS, Q_CNT_METRICS,
    Q_LATEST, Q_AMP_GET, Q_ENV_GET, Q_WAVE_GET,
    Q_PAGE_COUNT, Q_PAGE_SIZE, Q_FREELIST,
    Q_DEL_SPECTRA_OLD, Q_DEL_TREND_OLD, Q_DEL_HOURLY_OLD, Q_DEL_DAILY_OLD, Q_DEL_EVENTS_OLD,
    Q_DEL_METRICS_OLD, Q_CHANNELS, Q_DEL_SPECTRA_BEYOND, Q_DEL_WAVES_BEYOND,
    Q_BLOB_CUTOFF, Q_DEL_SPECTRA_UPTO, Q_DEL_WAVES_UPTO, Q_DEL_TREND_OLDEST, Q_DEL_METRICS_OLDEST,
    Q_MODEL_INS, Q_MODEL_TRIM, Q_MODEL_GET, Q_CNT_MODELS, Q_TREND_SINCE, Q_EVENT_LAST,
    Q_COUNT
};

#define AGG_UPSERT(table)                                                                          \
    "INSERT INTO " table "(channel_id, feature_id, bucket_ns, count, sum, min, max, last, last_t_ns)" \
    " VALUES(?1, ?2, ?3, 1, ?4, ?4, ?4, ?4, ?5)"                                                  \
    " ON CONFLICT(channel_id, feature_id, bucket_ns) DO UPDATE SET"                                \
    "  count = " table ".count + 1,"                                                               \
    "  sum = " table ".sum + excluded.sum,"                                                        \
    "  min = min(" table ".min, excluded.min),"                                                    \
    "  max = max(" table ".max, excluded.max),"                                                    \
    "  last = CASE WHEN excluded.last_t_ns >= " table ".last_t_ns THEN excluded.last ELSE " table ".last END," \
    "  last_t_ns = max(" table ".last_t_ns, excluded.last_t_ns)"

#define CHANNEL_OF "(SELECT id FROM channels WHERE sensor = ?1 AND channel = ?2)"

static const char *const sql[Q_COUNT] = {
    [Q_BEGIN] = "BEGIN IMMEDIATE",
    [Q_COMMIT] = "COMMIT",
    [Q_ROLLBACK] = "ROLLBACK",
    [Q_CHAN_GET] = "SELECT id, asset FROM channels WHERE sensor = ?1 AND channel = ?2",
    [Q_CHAN_INS] = "INSERT INTO channels(sensor, channel, asset) VALUES(?1, ?2, ?3)",
    [Q_CHAN_ASSET] = "UPDATE channels SET asset = ?2 WHERE id = ?1",
    [Q_CHAN_WAVE] = "UPDATE channels SET last_waveform_ns = ?2 WHERE id = ?1",
    [Q_CHAN_WAVE_LAST] = "SELECT last_waveform_ns FROM channels WHERE sensor = ?1 AND channel = ?2",
    [Q_FEAT_GET] = "SELECT id FROM features WHERE name = ?1",
    [Q_FEAT_INS] = "INSERT INTO features(name) VALUES(?1)",
    [Q_TREND_INS] = "INSERT INTO trend(channel_id, t_ns, state, features) VALUES(?1, ?2, ?3, ?4)",
    [Q_HOURLY] = AGG_UPSERT("agg_hourly"),
    [Q_DAILY] = AGG_UPSERT("agg_daily"),
    [Q_SPECTRA_INS] = "INSERT INTO spectra(trend_id, channel_id, t_ns, amp_df_hz, amp_top_db, amp,"
                      " env_df_hz, env_top_db, env) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    [Q_WAVE_INS] = "INSERT INTO waveforms(channel_id, t_ns, state, rate_hz, scale, data)"
                   " VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
    [Q_EVENT_INS] = "INSERT INTO events(t_ns, asset, kind, detail) VALUES(?1, ?2, ?3, ?4)",
    [Q_MODEL_INS] = "INSERT INTO models(t_ns, sensor, channel, data) VALUES(?1, ?2, ?3, ?4)",
    [Q_MODEL_TRIM] = "DELETE FROM models WHERE sensor = ?1 AND channel = ?2 AND id NOT IN"
                     " (SELECT id FROM models WHERE sensor = ?1 AND channel = ?2 ORDER BY t_ns DESC, id DESC LIMIT ?3)",
    [Q_MODEL_GET] = "SELECT t_ns, data FROM models WHERE sensor = ?1 AND channel = ?2 ORDER BY t_ns DESC, id DESC LIMIT 1",
    [Q_CNT_MODELS] = "SELECT count(*) FROM models",
    [Q_TREND_SINCE] = "SELECT t_ns, state, features FROM trend WHERE channel_id = " CHANNEL_OF
                      " AND t_ns >= ?3 ORDER BY t_ns, id",
    [Q_EVENT_LAST] = "SELECT max(t_ns) FROM events WHERE asset = ?1 AND kind = ?2",
    [Q_METRIC_INS] = "INSERT INTO metrics(t_ns, data) VALUES(?1, ?2)",
    /* CASE, not AND: json_type() raises an error on malformed JSON */
    [Q_JSON_VALID] = "SELECT json_valid(?1), CASE WHEN json_valid(?1) THEN json_type(?1) = 'object' ELSE 0 END",
    [Q_CNT_TREND] = "SELECT count(*) FROM trend",
    [Q_CNT_HOURLY] = "SELECT count(*) FROM agg_hourly",
    [Q_CNT_DAILY] = "SELECT count(*) FROM agg_daily",
    [Q_CNT_SPECTRA] = "SELECT count(*) FROM spectra",
    [Q_CNT_WAVES] = "SELECT count(*) FROM waveforms",
    [Q_CNT_EVENTS] = "SELECT count(*) FROM events",
    [Q_CNT_METRICS] = "SELECT count(*) FROM metrics",
    [Q_LATEST] = "SELECT t_ns, features FROM trend WHERE channel_id = " CHANNEL_OF
                 " ORDER BY t_ns DESC, id DESC LIMIT 1",
    [Q_AMP_GET] = "SELECT t_ns, amp_df_hz, amp_top_db, amp FROM spectra WHERE channel_id = " CHANNEL_OF
                  " AND t_ns <= ?3 AND amp IS NOT NULL ORDER BY t_ns DESC, trend_id DESC LIMIT 1",
    [Q_ENV_GET] = "SELECT t_ns, env_df_hz, env_top_db, env FROM spectra WHERE channel_id = " CHANNEL_OF
                  " AND t_ns <= ?3 AND env IS NOT NULL ORDER BY t_ns DESC, trend_id DESC LIMIT 1",
    [Q_WAVE_GET] = "SELECT t_ns, rate_hz, scale, data FROM waveforms WHERE channel_id = " CHANNEL_OF
                   " AND t_ns <= ?3 ORDER BY t_ns DESC, id DESC LIMIT 1",
    [Q_PAGE_COUNT] = "PRAGMA page_count",
    [Q_PAGE_SIZE] = "PRAGMA page_size",
    [Q_FREELIST] = "PRAGMA freelist_count",
    /* retention by data time, in batches of ?2 rows */
    /* the spectra of the oldest ?2 trend rows older than ?1, then those rows (through trend_t) */
    [Q_DEL_SPECTRA_OLD] = "DELETE FROM spectra WHERE trend_id IN"
                          " (SELECT id FROM trend WHERE t_ns < ?1 ORDER BY t_ns, id LIMIT ?2)",
    [Q_DEL_TREND_OLD] = "DELETE FROM trend WHERE id IN (SELECT id FROM trend WHERE t_ns < ?1 ORDER BY t_ns, id LIMIT ?2)",
    [Q_DEL_HOURLY_OLD] = "DELETE FROM agg_hourly WHERE bucket_ns < ?1",
    [Q_DEL_DAILY_OLD] = "DELETE FROM agg_daily WHERE bucket_ns < ?1",
    [Q_DEL_EVENTS_OLD] = "DELETE FROM events WHERE id IN (SELECT id FROM events WHERE t_ns < ?1 LIMIT ?2)",
    [Q_DEL_METRICS_OLD] = "DELETE FROM metrics WHERE id IN (SELECT id FROM metrics WHERE t_ns < ?1 LIMIT ?2)",
    /* retention by count: all but the newest ?2 of channel ?1 */
    [Q_CHANNELS] = "SELECT id FROM channels ORDER BY id",
    [Q_DEL_SPECTRA_BEYOND] = "DELETE FROM spectra WHERE trend_id IN (SELECT trend_id FROM spectra"
                             " WHERE channel_id = ?1 ORDER BY t_ns DESC, trend_id DESC LIMIT -1 OFFSET ?2)",
    [Q_DEL_WAVES_BEYOND] = "DELETE FROM waveforms WHERE id IN (SELECT id FROM waveforms"
                           " WHERE channel_id = ?1 ORDER BY t_ns DESC, id DESC LIMIT -1 OFFSET ?2)",
    /* the size cap: the data time up to which the oldest blobs add up to ?1 bytes (NULL: all) */
    [Q_BLOB_CUTOFF] = "SELECT t_ns FROM (SELECT t_ns, sum(bytes) OVER (ORDER BY t_ns ROWS UNBOUNDED PRECEDING) AS cum"
                      " FROM (SELECT t_ns, 64 + coalesce(length(amp), 0) + coalesce(length(env), 0) AS bytes FROM spectra"
                      "       UNION ALL SELECT t_ns, 64 + length(data) FROM waveforms))"
                      " WHERE cum >= ?1 ORDER BY t_ns LIMIT 1",
    [Q_DEL_SPECTRA_UPTO] = "DELETE FROM spectra WHERE t_ns <= ?1",
    [Q_DEL_WAVES_UPTO] = "DELETE FROM waveforms WHERE t_ns <= ?1",
    [Q_DEL_TREND_OLDEST] = "DELETE FROM trend WHERE id IN (SELECT id FROM trend ORDER BY t_ns, id LIMIT ?1)",
    [Q_DEL_METRICS_OLDEST] = "DELETE FROM metrics WHERE id IN (SELECT id FROM metrics ORDER BY t_ns, id LIMIT ?1)",
};

struct store_history {
    sqlite3 *db;
    char path[PATH_MAX];
    char wal_path[PATH_MAX + 8];
    char reserve_path[PATH_MAX];
    uint64_t reserve_bytes;
    int reserve_ok;
    char vacuum_sql[64];    /* PRAGMA incremental_vacuum(N): N pages a step */
    store_retention r;
    int64_t trend_keep_ns, aggregate_keep_ns, waveform_interval_ns;
    uint64_t cap_bytes;
    sqlite3_stmt *st[Q_COUNT];
    uint8_t *blob;          /* scratch for the encoded spectra and waveform, reused */
    size_t blob_cap;
    char *json;             /* scratch for the features' JSON, reused */
    size_t json_cap;
};

static void reserve_make(store_history *h);
static int shrink(store_history *h, char *err, size_t errlen);
static long delete_oldest_blobs(store_history *h, uint64_t excess, int *rc);

/* ---- errors ---------------------------------------------------------------------------------- */

static int errno_of(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_OK: case SQLITE_ROW: case SQLITE_DONE: return 0;
    case SQLITE_FULL: return -ENOSPC;
    case SQLITE_BUSY: case SQLITE_LOCKED: return -EBUSY;
    case SQLITE_NOMEM: return -ENOMEM;
    case SQLITE_READONLY: case SQLITE_PERM: case SQLITE_AUTH: return -EACCES;
    case SQLITE_CANTOPEN: return -ENOENT;
    case SQLITE_CONSTRAINT: case SQLITE_MISMATCH: case SQLITE_RANGE: case SQLITE_TOOBIG: return -EINVAL;
    case SQLITE_NOTADB: case SQLITE_CORRUPT: return -EILSEQ;
    default: return -EIO;
    }
}

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

/* "history: FILE: WHAT: SQLITE MESSAGE"; returns the negative errno of rc. */
static int db_fail(store_history *h, int rc, const char *what, char *err, size_t errlen)
{
    say(err, errlen, "history: %s: %s: %s", h->path, what, h->db ? sqlite3_errmsg(h->db) : sqlite3_errstr(rc));
    int e = errno_of(rc);
    return e ? e : -EIO;
}

static int invalid(store_history *h, char *err, size_t errlen, const char *what)
{
    say(err, errlen, "history: %s: %s", h->path, what);
    return -EINVAL;
}

/* ---- statement helpers ----------------------------------------------------------------------- */

static sqlite3_stmt *stmt(store_history *h, int id)
{
    sqlite3_stmt *s = h->st[id];
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return s;
}

static void bind_text(sqlite3_stmt *s, int i, const char *v) { sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC); }

/* Steps a statement that returns no row to the end and resets it (a statement left mid-way keeps a
 * read transaction open, which would hold back checkpoints). SQLITE_DONE or the error. */
static int run(sqlite3_stmt *s)
{
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        ;
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? SQLITE_DONE : rc;
}

/* Runs a one-integer query; SQLITE_ROW with *v set, SQLITE_DONE when it gave no row, or the error. */
static int query_int(sqlite3_stmt *s, long long *v)
{
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        *v = sqlite3_column_int64(s, 0);
    sqlite3_reset(s);
    return rc;
}

static int exec(store_history *h, const char *q, const char *what, char *err, size_t errlen)
{
    int rc = sqlite3_exec(h->db, q, NULL, NULL, NULL);
    return rc == SQLITE_OK ? 0 : db_fail(h, rc, what, err, errlen);
}

/* A one-integer PRAGMA (or query) without parameters, run through a throwaway statement: for
 * open, before the cached statements exist. */
static int pragma_int(store_history *h, const char *q, long long *v)
{
    sqlite3_stmt *s;
    int rc = sqlite3_prepare_v2(h->db, q, -1, &s, NULL);
    if (rc != SQLITE_OK)
        return rc;
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        *v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return rc == SQLITE_ROW ? SQLITE_OK : rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* journal_mode answers with text: "wal" when WAL could be used. */
static int set_wal(store_history *h, char *err, size_t errlen)
{
    sqlite3_stmt *s;
    int rc = sqlite3_prepare_v2(h->db, "PRAGMA journal_mode = WAL", -1, &s, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(s);
    if (rc != SQLITE_ROW) {
        db_fail(h, rc, "setting WAL mode", err, errlen);
        sqlite3_finalize(s);
        return errno_of(rc) ? errno_of(rc) : -EIO;
    }
    const unsigned char *mode = sqlite3_column_text(s, 0);
    int ok = mode && strcmp((const char *)mode, "wal") == 0;
    if (!ok)
        say(err, errlen, "history: %s: the file system does not support WAL mode (journal_mode is %s)", h->path,
            mode ? (const char *)mode : "?");
    sqlite3_finalize(s);
    return ok ? 0 : -ENOTSUP;
}

/* ---- open / close ---------------------------------------------------------------------------- */

void store_history_defaults(store_retention *r)
{
    *r = (store_retention){
        .trend_days = 90, .aggregate_days = 1825, .spectra_per_channel = 2000,
        .waveform_interval_h = 24, .waveforms_per_channel = 100, .max_mb = 1024,
    };
}

const char *store_history_path(const store_history *h) { return h ? h->path : NULL; }

static const char *retention_problem(const store_retention *r)
{
    if (!(r->trend_days > 0 && r->trend_days <= 36500))
        return "retention: trend_days must be in (0, 36500]";
    if (!(r->aggregate_days > 0 && r->aggregate_days <= 36500))
        return "retention: aggregate_days must be in (0, 36500]";
    if (!(r->waveform_interval_h >= 0 && r->waveform_interval_h <= 876000))
        return "retention: waveform_interval_h must be in [0, 876000]";
    if (r->spectra_per_channel > 10000000 || r->waveforms_per_channel > 10000000)
        return "retention: spectra_per_channel and waveforms_per_channel must be at most 10000000";
    if (!(r->max_mb >= 1 && r->max_mb <= 16777216))
        return "retention: max_mb must be in [1, 16777216]";
    return NULL;
}

/* mkdir -p for the data directory. */
static int make_dirs(const char *dir)
{
    char p[PATH_MAX];
    if (snprintf(p, sizeof p, "%s", dir) >= (int)sizeof p)
        return -ENAMETOOLONG;
    for (char *c = p + 1; *c; c++) {
        if (*c != '/')
            continue;
        *c = 0;
        if (mkdir(p, 0755) != 0 && errno != EEXIST)
            return -errno;
        *c = '/';
    }
    if (mkdir(p, 0755) != 0 && errno != EEXIST)
        return -errno;
    return 0;
}

/* The WAL is checkpointed every wal_pages() pages and truncated back to that size afterwards, so
 * it stays a small part of the cap: 1/32 of it, between 16 and 1000 pages (4 MiB, SQLite's
 * default). */
static long long wal_pages(const store_history *h, long long page_size)
{
    long long n = (long long)(h->cap_bytes / 32) / (page_size > 0 ? page_size : 4096);
    return n < 16 ? 16 : n > 1000 ? 1000 : n;
}

static int migrate(store_history *h, char *err, size_t errlen)
{
    for (;;) {
        long long version = 0;
        int rc = exec(h, "BEGIN IMMEDIATE", "starting the schema migration", err, errlen);
        if (rc < 0)
            return rc;
        /* read again inside the write transaction: another process may have migrated meanwhile */
        int qrc = pragma_int(h, "PRAGMA user_version", &version);
        if (qrc != SQLITE_OK) {
            rc = db_fail(h, qrc, "reading the schema version", err, errlen);
            sqlite3_exec(h->db, "ROLLBACK", NULL, NULL, NULL);
            return rc;
        }
        if (version >= SCHEMA_VERSION)
            return exec(h, "COMMIT", "committing the schema migration", err, errlen);
        char what[96];
        snprintf(what, sizeof what, "migrating the schema from version %lld to %lld", version, version + 1);
        rc = exec(h, migrations[version], what, err, errlen);
        if (rc == 0)
            rc = exec(h, "COMMIT", what, err, errlen);
        if (rc < 0) {
            sqlite3_exec(h->db, "ROLLBACK", NULL, NULL, NULL);
            return rc;
        }
    }
}

static int check_identity(store_history *h, char *err, size_t errlen)
{
    long long app = 0, version = 0, tables = 0;
    int rc = pragma_int(h, "PRAGMA application_id", &app);
    if (rc == SQLITE_OK)
        rc = pragma_int(h, "PRAGMA user_version", &version);
    if (rc == SQLITE_OK)
        rc = pragma_int(h, "SELECT count(*) FROM sqlite_schema", &tables);
    if (rc != SQLITE_OK)
        return db_fail(h, rc, "cannot read it as an SQLite database", err, errlen);
    if (tables == 0 && version == 0 && app == 0) {
        /* a new file: auto_vacuum only takes effect before the first table is created */
        return exec(h, "PRAGMA auto_vacuum = INCREMENTAL", "setting auto_vacuum", err, errlen);
    }
    if (app != APPLICATION_ID) {
        say(err, errlen, "history: %s: an SQLite database, but not a vibewatch history (application_id 0x%08llx)",
            h->path, (unsigned long long)app & 0xffffffffu);
        return -EILSEQ;
    }
    if (version > SCHEMA_VERSION) {
        say(err, errlen, "history: %s: schema version %lld is newer than this program's (%d); refusing to touch it",
            h->path, version, SCHEMA_VERSION);
        return -EPROTO;
    }
    return 0;
}

store_history *store_history_open(const char *dir, const store_retention *r, char *err, size_t errlen)
{
    store_retention def;
    store_history_defaults(&def);
    if (!r)
        r = &def;
    const char *problem = retention_problem(r);
    if (problem) {
        say(err, errlen, "history: %s", problem);
        return NULL;
    }
    if (!dir || !*dir) {
        say(err, errlen, "history: no data directory given");
        return NULL;
    }
    store_history *h = calloc(1, sizeof *h);
    if (!h) {
        say(err, errlen, "history: out of memory");
        return NULL;
    }
    h->r = *r;
    h->trend_keep_ns = llround(r->trend_days * (double)NS_PER_DAY);
    h->aggregate_keep_ns = llround(r->aggregate_days * (double)NS_PER_DAY);
    h->waveform_interval_ns = llround(r->waveform_interval_h * (double)NS_PER_HOUR);
    h->cap_bytes = (uint64_t)(r->max_mb * 1048576.0);
    if (snprintf(h->path, sizeof h->path, "%s/%s", dir, HISTORY_FILE) >= (int)sizeof h->path) {
        say(err, errlen, "history: %s: path too long", dir);
        goto fail;
    }
    snprintf(h->wal_path, sizeof h->wal_path, "%s-wal", h->path);
    snprintf(h->reserve_path, sizeof h->reserve_path, "%s/%s", dir, RESERVE_FILE);
    int rc = make_dirs(dir);
    if (rc < 0) {
        say(err, errlen, "history: %s: cannot create the directory: %s", dir, strerror(-rc));
        goto fail;
    }
    rc = sqlite3_open_v2(h->path, &h->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        db_fail(h, rc, "cannot open", err, errlen);
        goto fail;
    }
    sqlite3_extended_result_codes(h->db, 1);
    sqlite3_busy_timeout(h->db, BUSY_TIMEOUT_MS);
    if (check_identity(h, err, errlen) < 0 || set_wal(h, err, errlen) < 0 ||
        exec(h, "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA secure_delete = OFF",
             "setting pragmas", err, errlen) < 0 ||
        migrate(h, err, errlen) < 0)
        goto fail;
    for (int i = 0; i < Q_COUNT; i++) {
        rc = sqlite3_prepare_v3(h->db, sql[i], -1, SQLITE_PREPARE_PERSISTENT, &h->st[i], NULL);
        if (rc != SQLITE_OK) {
            db_fail(h, rc, "preparing a statement", err, errlen);
            goto fail;
        }
    }
    long long page_size = 4096;
    pragma_int(h, "PRAGMA page_size", &page_size);
    long long pages = wal_pages(h, page_size);
    sqlite3_wal_autocheckpoint(h->db, (int)pages);
    char q[64];
    snprintf(q, sizeof q, "PRAGMA journal_size_limit = %lld", pages * page_size);
    if (exec(h, q, "setting journal_size_limit", err, errlen) < 0)
        goto fail;
    snprintf(h->vacuum_sql, sizeof h->vacuum_sql, "PRAGMA incremental_vacuum(%lld)", pages / 4 < 16 ? 16 : pages / 4);
    h->reserve_bytes = (uint64_t)(2 * pages * page_size);
    if (h->reserve_bytes > 8 * 1048576)
        h->reserve_bytes = 8 * 1048576;
    reserve_make(h);
    return h;
fail:
    store_history_close(h);
    return NULL;
}

void store_history_close(store_history *h)
{
    if (!h)
        return;
    for (int i = 0; i < Q_COUNT; i++)
        sqlite3_finalize(h->st[i]);
    if (h->db) {
        sqlite3_wal_checkpoint_v2(h->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
        sqlite3_close(h->db);
    }
    free(h->blob);
    free(h->json);
    free(h);
}

/* ---- adding a snapshot ----------------------------------------------------------------------- */

static int ok_id(const char *s) { return s && *s && strlen(s) <= MAX_ID_LEN; }

static int check_snapshot(store_history *h, const store_snapshot *s, char *err, size_t errlen)
{
    if (!ok_id(s->asset_id) || !ok_id(s->sensor_id) || !ok_id(s->channel))
        return invalid(h, err, errlen, "snapshot: asset, sensor and channel must be non-empty and at most 256 bytes");
    if (s->state && strlen(s->state) > MAX_ID_LEN)
        return invalid(h, err, errlen, "snapshot: state is longer than 256 bytes");
    if (s->nfeatures > MAX_FEATURES)
        return invalid(h, err, errlen, "snapshot: more than 1024 features");
    if (s->nfeatures && (!s->feature_names || !s->features))
        return invalid(h, err, errlen, "snapshot: features without names or values");
    for (size_t i = 0; i < s->nfeatures; i++) {
        const char *n = s->feature_names[i];
        if (!n || !*n || strlen(n) > MAX_FEATURE_NAME)
            return invalid(h, err, errlen, "snapshot: a feature name is empty or longer than 128 bytes");
        for (size_t j = 0; j < i; j++)
            if (strcmp(s->feature_names[j], n) == 0) {
                say(err, errlen, "history: %s: snapshot: feature \"%s\" given twice", h->path, n);
                return -EINVAL;
            }
    }
    if (s->spectrum && (s->spectrum_bins == 0 || s->spectrum_bins > MAX_BINS ||
                        !(isfinite(s->spectrum_df_hz) && s->spectrum_df_hz > 0)))
        return invalid(h, err, errlen, "snapshot: spectrum: 1 to 4194304 bins and a positive df_hz needed");
    if (s->envelope && (s->envelope_bins == 0 || s->envelope_bins > MAX_BINS ||
                        !(isfinite(s->envelope_df_hz) && s->envelope_df_hz > 0)))
        return invalid(h, err, errlen, "snapshot: envelope: 1 to 4194304 bins and a positive df_hz needed");
    if (s->waveform && (s->waveform_len == 0 || s->waveform_len > MAX_WAVEFORM ||
                        !(isfinite(s->waveform_rate_hz) && s->waveform_rate_hz > 0)))
        return invalid(h, err, errlen, "snapshot: waveform: 1 to 16777216 samples and a positive rate_hz needed");
    return 0;
}

static int grow(void **buf, size_t *cap, size_t need)
{
    if (need <= *cap)
        return 0;
    void *p = realloc(*buf, need);
    if (!p)
        return -ENOMEM;
    *buf = p;
    *cap = need;
    return 0;
}

static int64_t floor_to(int64_t t, int64_t period)
{
    int64_t q = t / period;
    if (t % period != 0 && t < 0)
        q--;
    return q * period;
}

/* The id of a feature name, created on first sight. */
static int feature_id(store_history *h, const char *name, sqlite3_int64 *id)
{
    sqlite3_stmt *s = stmt(h, Q_FEAT_GET);
    bind_text(s, 1, name);
    long long v;
    int rc = query_int(s, &v);
    if (rc == SQLITE_ROW) {
        *id = v;
        return SQLITE_OK;
    }
    if (rc != SQLITE_DONE)
        return rc;
    s = stmt(h, Q_FEAT_INS);
    bind_text(s, 1, name);
    if ((rc = run(s)) != SQLITE_DONE)
        return rc;
    *id = sqlite3_last_insert_rowid(h->db);
    return SQLITE_OK;
}

/* The channel's id, created on first sight; its asset follows the configuration. */
static int channel_id(store_history *h, const store_snapshot *snap, sqlite3_int64 *id)
{
    sqlite3_stmt *s = stmt(h, Q_CHAN_GET);
    bind_text(s, 1, snap->sensor_id);
    bind_text(s, 2, snap->channel);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *id = sqlite3_column_int64(s, 0);
        const unsigned char *asset = sqlite3_column_text(s, 1);
        int moved = !asset || strcmp((const char *)asset, snap->asset_id) != 0;
        sqlite3_reset(s);
        if (!moved)
            return SQLITE_OK;
        s = stmt(h, Q_CHAN_ASSET);
        sqlite3_bind_int64(s, 1, *id);
        bind_text(s, 2, snap->asset_id);
        rc = run(s);
        return rc == SQLITE_DONE ? SQLITE_OK : rc;
    }
    sqlite3_reset(s);
    if (rc != SQLITE_DONE)
        return rc;
    s = stmt(h, Q_CHAN_INS);
    bind_text(s, 1, snap->sensor_id);
    bind_text(s, 2, snap->channel);
    bind_text(s, 3, snap->asset_id);
    if ((rc = run(s)) != SQLITE_DONE)
        return rc;
    *id = sqlite3_last_insert_rowid(h->db);
    return SQLITE_OK;
}

/* The encoded blobs of one snapshot, in h->blob. */
typedef struct encoded {
    const uint8_t *amp, *env, *wave;
    double amp_top_db, env_top_db, wave_scale;
} encoded;

static int encode(store_history *h, const store_snapshot *s, encoded *e)
{
    int with_spectra = h->r.spectra_per_channel > 0;
    size_t na = with_spectra && s->spectrum ? s->spectrum_bins : 0;
    size_t ne = with_spectra && s->envelope ? s->envelope_bins : 0;
    size_t nw = h->r.waveforms_per_channel > 0 && s->waveform ? s->waveform_len : 0;
    /* each ≤ 2^24 (checked): no overflow */
    if (grow((void **)&h->blob, &h->blob_cap, 2 * (na + ne + nw) + 1) < 0)
        return -ENOMEM;
    *e = (encoded){0};
    uint8_t *p = h->blob;
    if (na) {
        e->amp = p;
        e->amp_top_db = store_history_spectrum_encode(s->spectrum, na, p);
        p += 2 * na;
    }
    if (ne) {
        e->env = p;
        e->env_top_db = store_history_spectrum_encode(s->envelope, ne, p);
        p += 2 * ne;
    }
    if (nw) {
        e->wave = p;
        e->wave_scale = store_history_waveform_encode(s->waveform, nw, p);
    }
    return 0;
}

/* The statements of one snapshot, inside its transaction. On failure *what names the step. */
static int write_snapshot(store_history *h, const store_snapshot *snap, const encoded *e, const char **what)
{
    sqlite3_int64 ch = 0, trend_id;
    const char *state = snap->state && *snap->state ? snap->state : "unknown";
    int rc;
    *what = "channel";
    if ((rc = channel_id(h, snap, &ch)) != SQLITE_OK)
        return rc;

    *what = "trend row";
    sqlite3_stmt *s = stmt(h, Q_TREND_INS);
    sqlite3_bind_int64(s, 1, ch);
    sqlite3_bind_int64(s, 2, snap->t_ns);
    bind_text(s, 3, state);
    bind_text(s, 4, h->json);
    if ((rc = run(s)) != SQLITE_DONE)
        return rc;
    trend_id = sqlite3_last_insert_rowid(h->db);

    *what = "aggregates";
    int64_t hour = floor_to(snap->t_ns, NS_PER_HOUR), day = floor_to(snap->t_ns, NS_PER_DAY);
    for (size_t i = 0; i < snap->nfeatures; i++) {
        double v = snap->features[i];
        if (!isfinite(v))
            continue;
        sqlite3_int64 fid = 0;
        if ((rc = feature_id(h, snap->feature_names[i], &fid)) != SQLITE_OK)
            return rc;
        for (int k = 0; k < 2; k++) {
            s = stmt(h, k ? Q_DAILY : Q_HOURLY);
            sqlite3_bind_int64(s, 1, ch);
            sqlite3_bind_int64(s, 2, fid);
            sqlite3_bind_int64(s, 3, k ? day : hour);
            sqlite3_bind_double(s, 4, v);
            sqlite3_bind_int64(s, 5, snap->t_ns);
            if ((rc = run(s)) != SQLITE_DONE)
                return rc;
        }
    }

    if (e->amp || e->env) {
        *what = "spectra";
        s = stmt(h, Q_SPECTRA_INS);
        sqlite3_bind_int64(s, 1, trend_id);
        sqlite3_bind_int64(s, 2, ch);
        sqlite3_bind_int64(s, 3, snap->t_ns);
        if (e->amp) {
            sqlite3_bind_double(s, 4, snap->spectrum_df_hz);
            sqlite3_bind_double(s, 5, e->amp_top_db);
            sqlite3_bind_blob(s, 6, e->amp, (int)(2 * snap->spectrum_bins), SQLITE_STATIC);
        }
        if (e->env) {
            sqlite3_bind_double(s, 7, snap->envelope_df_hz);
            sqlite3_bind_double(s, 8, e->env_top_db);
            sqlite3_bind_blob(s, 9, e->env, (int)(2 * snap->envelope_bins), SQLITE_STATIC);
        }
        if ((rc = run(s)) != SQLITE_DONE)
            return rc;
    }

    if (e->wave) {
        *what = "waveform";
        s = stmt(h, Q_WAVE_INS);
        sqlite3_bind_int64(s, 1, ch);
        sqlite3_bind_int64(s, 2, snap->t_ns);
        bind_text(s, 3, state);
        sqlite3_bind_double(s, 4, snap->waveform_rate_hz);
        sqlite3_bind_double(s, 5, e->wave_scale);
        sqlite3_bind_blob(s, 6, e->wave, (int)(2 * snap->waveform_len), SQLITE_STATIC);
        if ((rc = run(s)) != SQLITE_DONE)
            return rc;
        s = stmt(h, Q_CHAN_WAVE);
        sqlite3_bind_int64(s, 1, ch);
        sqlite3_bind_int64(s, 2, snap->t_ns);
        if ((rc = run(s)) != SQLITE_DONE)
            return rc;
    }
    return SQLITE_DONE;
}

/* Ends a failed transaction (SQLite may have rolled it back already, e.g. on SQLITE_FULL). */
static void rollback(store_history *h)
{
    if (!sqlite3_get_autocommit(h->db))
        run(stmt(h, Q_ROLLBACK));
}

static int add_once(store_history *h, const store_snapshot *snap, const encoded *e, char *err, size_t errlen)
{
    int rc = run(stmt(h, Q_BEGIN));
    if (rc != SQLITE_DONE)
        return db_fail(h, rc, "add: starting the transaction", err, errlen);
    const char *what = "";
    rc = write_snapshot(h, snap, e, &what);
    if (rc == SQLITE_DONE) {
        rc = run(stmt(h, Q_COMMIT));
        what = "committing";
    }
    if (rc == SQLITE_DONE)
        return 0;
    int ret;
    if (rc == SQLITE_CONSTRAINT_UNIQUE && strcmp(what, "trend row") == 0) {
        /* the same recording replayed twice: the aggregates must not count it twice */
        say(err, errlen, "history: %s: add %s/%s: a snapshot at t_ns %lld is already stored", h->path,
            snap->sensor_id, snap->channel, (long long)snap->t_ns);
        ret = -EEXIST;
    } else {
        char msg[600];
        snprintf(msg, sizeof msg, "add %s/%s: %s", snap->sensor_id, snap->channel, what);
        ret = db_fail(h, rc, msg, err, errlen); /* before the rollback replaces the message */
    }
    rollback(h);
    return ret;
}

/* ---- the reserve: room to recover when the file system is full -------------------------------
 *
 * With the file system full, SQLite can neither append to the WAL nor checkpoint it into the main
 * file (the main file may need to grow), so it cannot even delete. DIR/history.reserve holds
 * reserve_bytes (twice the WAL limit, at most 8 MiB) allocated in advance; when an add meets
 * SQLITE_FULL it is released, the WAL is checkpointed and emptied, the oldest spectra and
 * waveforms worth twice the reserve plus the snapshot are deleted and their pages given back, the
 * reserve is made again and the add retried (up to three times). Failing that, the next prune
 * that finds room makes the reserve again. It is not counted in the cap. */

static void reserve_make(store_history *h)
{
    if (h->reserve_ok)
        return;
    int fd = open(h->reserve_path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return;
    int rc = posix_fallocate(fd, 0, (off_t)h->reserve_bytes);
    if (rc == EOPNOTSUPP || rc == EINVAL) { /* a file system without fallocate: write it */
        static const char zeros[65536];
        rc = 0;
        for (uint64_t done = 0; done < h->reserve_bytes && rc == 0; done += sizeof zeros)
            rc = write(fd, zeros, sizeof zeros) == (ssize_t)sizeof zeros ? 0 : ENOSPC;
        if (rc == 0)
            rc = fsync(fd) == 0 ? 0 : errno;
    }
    if (rc != 0 && ftruncate(fd, 0) != 0) {
        /* nothing more to give back */
    }
    close(fd);
    h->reserve_ok = rc == 0;
}

static void reserve_release(store_history *h)
{
    if (truncate(h->reserve_path, 0) == 0 || errno == ENOENT)
        h->reserve_ok = 0;
}

/* Deletes the oldest blobs worth twice the reserve plus the snapshot in hand (need bytes), gives
 * their pages back and makes the reserve again. Rows deleted (0: none left), or -1. */
static long free_space(store_history *h, uint64_t need)
{
    reserve_release(h);
    sqlite3_wal_checkpoint_v2(h->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
    int rc;
    long n = delete_oldest_blobs(h, 2 * h->reserve_bytes + need, &rc);
    if (n <= 0)
        return n;
    shrink(h, NULL, 0);
    reserve_make(h);
    return n;
}

int store_history_add(store_history *h, const store_snapshot *s, char *err, size_t errlen)
{
    if (!h || !s)
        return -EINVAL;
    int rc = check_snapshot(h, s, err, errlen);
    if (rc < 0)
        return rc;
    size_t json_len = store_history_features_json_bound(s->nfeatures, s->feature_names);
    if (grow((void **)&h->json, &h->json_cap, json_len) < 0)
        return say(err, errlen, "history: out of memory"), -ENOMEM;
    store_history_features_json(s->nfeatures, s->feature_names, s->features, h->json, h->json_cap);
    encoded e;
    if (encode(h, s, &e) < 0)
        return say(err, errlen, "history: out of memory"), -ENOMEM;
    rc = add_once(h, s, &e, err, errlen);
    uint64_t need = 2 * ((uint64_t)s->spectrum_bins + s->envelope_bins + s->waveform_len) + 4096;
    for (int attempt = 0; rc == -ENOSPC && attempt < 3 && free_space(h, need) > 0; attempt++)
        rc = add_once(h, s, &e, err, errlen);
    return rc;
}

int store_history_waveform_due(store_history *h, const char *sensor_id, const char *channel, int64_t t_ns)
{
    if (!h || !sensor_id || !channel)
        return -EINVAL;
    if (h->r.waveforms_per_channel == 0)
        return 0;
    /* channels.last_waveform_ns, not the waveforms table: it survives the pruning of waveforms */
    sqlite3_stmt *s = stmt(h, Q_CHAN_WAVE_LAST);
    bind_text(s, 1, sensor_id);
    bind_text(s, 2, channel);
    int rc = sqlite3_step(s);
    int due = 1;
    if (rc == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL) {
        int64_t last = sqlite3_column_int64(s, 0);
        /* t - last in unsigned arithmetic: no overflow for any pair of int64 */
        due = t_ns < last || (uint64_t)t_ns - (uint64_t)last >= (uint64_t)h->waveform_interval_ns;
    }
    sqlite3_reset(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return errno_of(rc) ? errno_of(rc) : -EIO;
    return due;
}

static int json_check(store_history *h, const char *json, int want_object, const char *what, char *err,
                      size_t errlen)
{
    sqlite3_stmt *s = stmt(h, Q_JSON_VALID);
    bind_text(s, 1, json);
    int rc = sqlite3_step(s);
    int valid = rc == SQLITE_ROW && sqlite3_column_int(s, want_object ? 1 : 0);
    sqlite3_reset(s);
    if (rc != SQLITE_ROW)
        return db_fail(h, rc, what, err, errlen);
    if (!valid) {
        say(err, errlen, "history: %s: %s: not a valid JSON %s", h->path, what, want_object ? "object" : "text");
        return -EINVAL;
    }
    return 0;
}

int store_history_event(store_history *h, int64_t t_ns, const char *asset_id, const char *kind,
                        const char *detail_json, char *err, size_t errlen)
{
    if (!h)
        return -EINVAL;
    if (!kind || !*kind || strlen(kind) > MAX_ID_LEN || (asset_id && strlen(asset_id) > MAX_ID_LEN))
        return invalid(h, err, errlen, "event: kind must be non-empty; kind and asset at most 256 bytes");
    int rc = detail_json ? json_check(h, detail_json, 0, "event detail", err, errlen) : 0;
    if (rc < 0)
        return rc;
    sqlite3_stmt *s = stmt(h, Q_EVENT_INS);
    sqlite3_bind_int64(s, 1, t_ns);
    if (asset_id)
        bind_text(s, 2, asset_id);
    bind_text(s, 3, kind);
    if (detail_json)
        bind_text(s, 4, detail_json);
    rc = run(s);
    return rc == SQLITE_DONE ? 0 : db_fail(h, rc, "event", err, errlen);
}

/* The newest row of a channel by query q (columns t_ns, a text): its time and a malloc'd copy of
 * the text (out may be NULL). 0, -ENOENT when there is none. */
static int newest_text(store_history *h, int q, const char *sensor_id, const char *channel, int64_t *t_ns, char **out)
{
    if (!h || !sensor_id || !channel)
        return -EINVAL;
    sqlite3_stmt *s = stmt(h, q);
    bind_text(s, 1, sensor_id);
    bind_text(s, 2, channel);
    int rc = sqlite3_step(s), ret = 0;
    if (rc == SQLITE_ROW) {
        if (t_ns)
            *t_ns = sqlite3_column_int64(s, 0);
        if (out) {
            const unsigned char *j = sqlite3_column_text(s, 1);
            *out = j ? strdup((const char *)j) : NULL;
            if (!*out)
                ret = -ENOMEM;
        }
    } else {
        ret = rc == SQLITE_DONE ? -ENOENT : errno_of(rc) ? errno_of(rc) : -EIO;
    }
    sqlite3_reset(s);
    return ret;
}

int store_history_model_add(store_history *h, int64_t t_ns, const char *sensor_id, const char *channel,
                            const char *model_json, char *err, size_t errlen)
{
    if (!h)
        return -EINVAL;
    if (!sensor_id || !channel || !model_json || strlen(sensor_id) > MAX_ID_LEN || strlen(channel) > MAX_ID_LEN)
        return invalid(h, err, errlen, "model: sensor, channel and text are required (ids at most 256 bytes)");
    int rc = json_check(h, model_json, 1, "model", err, errlen);
    if (rc < 0)
        return rc;
    sqlite3_stmt *s = stmt(h, Q_MODEL_INS);
    sqlite3_bind_int64(s, 1, t_ns);
    bind_text(s, 2, sensor_id);
    bind_text(s, 3, channel);
    bind_text(s, 4, model_json);
    rc = run(s);
    if (rc != SQLITE_DONE)
        return db_fail(h, rc, "model", err, errlen);
    s = stmt(h, Q_MODEL_TRIM);
    bind_text(s, 1, sensor_id);
    bind_text(s, 2, channel);
    sqlite3_bind_int(s, 3, STORE_MODELS_PER_CHANNEL);
    rc = run(s);
    return rc == SQLITE_DONE ? 0 : db_fail(h, rc, "model", err, errlen);
}

long store_history_trend_since(store_history *h, const char *sensor_id, const char *channel, int64_t from_ns,
                               int (*cb)(void *ctx, int64_t t_ns, const char *state, const char *features_json),
                               void *ctx)
{
    if (!h || !sensor_id || !channel || !cb)
        return -EINVAL;
    sqlite3_stmt *s = stmt(h, Q_TREND_SINCE);
    bind_text(s, 1, sensor_id);
    bind_text(s, 2, channel);
    sqlite3_bind_int64(s, 3, from_ns);
    long n = 0;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const unsigned char *st = sqlite3_column_text(s, 1), *f = sqlite3_column_text(s, 2);
        n++;
        if (cb(ctx, sqlite3_column_int64(s, 0), st ? (const char *)st : "", f ? (const char *)f : "{}") != 0)
            break;
    }
    long ret = rc == SQLITE_ROW || rc == SQLITE_DONE ? n : (errno_of(rc) ? errno_of(rc) : -EIO);
    sqlite3_reset(s);
    return ret;
}

int store_history_event_last(store_history *h, const char *asset_id, const char *kind, int64_t *t_ns)
{
    if (!h || !asset_id || !kind || !t_ns)
        return -EINVAL;
    sqlite3_stmt *s = stmt(h, Q_EVENT_LAST);
    bind_text(s, 1, asset_id);
    bind_text(s, 2, kind);
    int rc = sqlite3_step(s), ret = -ENOENT;
    if (rc == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL) {
        *t_ns = sqlite3_column_int64(s, 0);
        ret = 0;
    } else if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        ret = errno_of(rc) ? errno_of(rc) : -EIO;
    }
    sqlite3_reset(s);
    return ret;
}

int store_history_model_latest(store_history *h, const char *sensor_id, const char *channel, int64_t *t_ns,
                               char **model_json)
{
    if (!model_json)
        return -EINVAL;
    return newest_text(h, Q_MODEL_GET, sensor_id, channel, t_ns, model_json);
}

int store_history_metrics(store_history *h, int64_t t_ns, const char *metrics_json, char *err, size_t errlen)
{
    if (!h)
        return -EINVAL;
    if (!metrics_json)
        return invalid(h, err, errlen, "metrics: no JSON given");
    int rc = json_check(h, metrics_json, 1, "metrics", err, errlen);
    if (rc < 0)
        return rc;
    sqlite3_stmt *s = stmt(h, Q_METRIC_INS);
    sqlite3_bind_int64(s, 1, t_ns);
    bind_text(s, 2, metrics_json);
    rc = run(s);
    return rc == SQLITE_DONE ? 0 : db_fail(h, rc, "metrics", err, errlen);
}

/* ---- retention and the size cap -------------------------------------------------------------- */

/* now − keep, saturated. */
static int64_t cutoff(int64_t now, int64_t keep) { return now < INT64_MIN + keep ? INT64_MIN : now - keep; }

/* Runs a batched delete (?1 the cutoff, ?2 the batch) until a batch comes back short. Each batch is
 * its own transaction, so a first prune of a large backlog never makes a huge WAL. */
static int delete_batched(store_history *h, int id, int64_t cut, long *n)
{
    for (;;) {
        sqlite3_stmt *s = stmt(h, id);
        sqlite3_bind_int64(s, 1, cut);
        sqlite3_bind_int(s, 2, PRUNE_BATCH);
        int rc = run(s);
        if (rc != SQLITE_DONE)
            return rc;
        int k = sqlite3_changes(h->db);
        *n += k;
        if (k < PRUNE_BATCH)
            return SQLITE_DONE;
    }
}

/* Trend rows older than the cutoff with their spectra, a batch per transaction. The spectra are
 * deleted explicitly (not by the cascade) so that they are counted. */
static int delete_old_trend(store_history *h, int64_t cut, long *n)
{
    for (;;) {
        int rc = run(stmt(h, Q_BEGIN)), k = 0;
        for (int q = 0; q < 2 && rc == SQLITE_DONE; q++) {
            sqlite3_stmt *s = stmt(h, q ? Q_DEL_TREND_OLD : Q_DEL_SPECTRA_OLD);
            sqlite3_bind_int64(s, 1, cut);
            sqlite3_bind_int(s, 2, PRUNE_BATCH);
            rc = run(s);
            k = sqlite3_changes(h->db);
            *n += k;
        }
        if (rc == SQLITE_DONE)
            rc = run(stmt(h, Q_COMMIT));
        if (rc != SQLITE_DONE) {
            rollback(h);
            return rc;
        }
        if (k < PRUNE_BATCH)
            return SQLITE_DONE;
    }
}

/* Deletes the aggregate buckets that end at or before the cutoff (all their data is older). */
static int delete_buckets(store_history *h, int id, int64_t cut, int64_t period, long *n)
{
    if (cut < INT64_MIN + period)
        return SQLITE_DONE;
    sqlite3_stmt *s = stmt(h, id);
    sqlite3_bind_int64(s, 1, cut - period + 1); /* bucket_ns + period <= cut */
    int rc = run(s);
    *n += sqlite3_changes(h->db);
    return rc;
}

/* Spectra and waveforms beyond the newest N of each channel, in one transaction. */
static int delete_beyond_counts(store_history *h, long *n)
{
    int rc = run(stmt(h, Q_BEGIN));
    if (rc != SQLITE_DONE)
        return rc;
    sqlite3_stmt *chans = stmt(h, Q_CHANNELS);
    while ((rc = sqlite3_step(chans)) == SQLITE_ROW) {
        sqlite3_int64 ch = sqlite3_column_int64(chans, 0);
        for (int k = 0; k < 2 && rc == SQLITE_ROW; k++) {
            sqlite3_stmt *s = stmt(h, k ? Q_DEL_WAVES_BEYOND : Q_DEL_SPECTRA_BEYOND);
            sqlite3_bind_int64(s, 1, ch);
            sqlite3_bind_int64(s, 2, k ? h->r.waveforms_per_channel : h->r.spectra_per_channel);
            int drc = run(s);
            if (drc != SQLITE_DONE)
                rc = drc;
            else
                *n += sqlite3_changes(h->db);
        }
        if (rc != SQLITE_ROW)
            break;
    }
    sqlite3_reset(chans);
    if (rc == SQLITE_DONE)
        rc = run(stmt(h, Q_COMMIT));
    if (rc != SQLITE_DONE)
        rollback(h);
    return rc;
}

static uint64_t size_now(store_history *h)
{
    long long pages = 0, page_size = 0;
    query_int(stmt(h, Q_PAGE_COUNT), &pages);
    query_int(stmt(h, Q_PAGE_SIZE), &page_size);
    struct stat st;
    uint64_t wal = stat(h->wal_path, &st) == 0 ? (uint64_t)st.st_size : 0;
    return (uint64_t)pages * (uint64_t)page_size + wal;
}

/* Gives the free pages back to the file system: incremental_vacuum moves free pages to the end of
 * the file and cuts them off (in the WAL), the TRUNCATE checkpoint writes that into the main file
 * and empties the WAL. In steps of vacuum_sql's pages, so that the WAL (which needs room on the
 * disk too) stays small however much was deleted. 1 when done, 0 when a reader kept the WAL from
 * being emptied, or the error. */
static int shrink(store_history *h, char *err, size_t errlen)
{
    for (long long before = LLONG_MAX;;) {
        int rc = exec(h, h->vacuum_sql, "incremental_vacuum", err, errlen);
        if (rc < 0)
            return rc;
        rc = sqlite3_wal_checkpoint_v2(h->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
        if (rc == SQLITE_BUSY)
            return 0;
        if (rc != SQLITE_OK)
            return db_fail(h, rc, "checkpoint", err, errlen);
        long long free_pages = 0;
        rc = query_int(stmt(h, Q_FREELIST), &free_pages);
        if (rc != SQLITE_ROW)
            return db_fail(h, rc, "freelist_count", err, errlen);
        if (free_pages == 0 || free_pages >= before) /* done, or a file without auto_vacuum */
            return 1;
        before = free_pages;
    }
}

/* Deletes the oldest spectra and waveforms (by data time, all channels) that add up to about
 * excess bytes; all of them when they add up to less. Rows deleted or the error (negative). */
/* Ends a pruning transaction: commits when every statement finished, else rolls back. */
static long end_tx(store_history *h, int *rc, long n)
{
    if (*rc == SQLITE_DONE)
        *rc = run(stmt(h, Q_COMMIT));
    if (*rc != SQLITE_DONE) {
        rollback(h);
        return -1;
    }
    return n;
}

static long delete_oldest_blobs(store_history *h, uint64_t excess, int *rc)
{
    long n = 0;
    if ((*rc = run(stmt(h, Q_BEGIN))) != SQLITE_DONE)
        return -1;
    sqlite3_stmt *s = stmt(h, Q_BLOB_CUTOFF);
    sqlite3_bind_int64(s, 1, excess > INT64_MAX ? INT64_MAX : (sqlite3_int64)excess);
    long long upto = INT64_MAX;
    *rc = query_int(s, &upto);
    if (*rc == SQLITE_ROW || *rc == SQLITE_DONE) {
        for (int k = 0; k < 2; k++) {
            s = stmt(h, k ? Q_DEL_WAVES_UPTO : Q_DEL_SPECTRA_UPTO);
            sqlite3_bind_int64(s, 1, upto);
            if ((*rc = run(s)) != SQLITE_DONE)
                break;
            n += sqlite3_changes(h->db);
        }
    }
    return end_tx(h, rc, n);
}

/* No blobs left: the oldest trend rows and metrics, each in proportion to the excess. */
static long delete_oldest_rows(store_history *h, uint64_t excess, uint64_t size, int *rc)
{
    long n = 0;
    double share = size ? (double)excess / (double)size : 1;
    if ((*rc = run(stmt(h, Q_BEGIN))) != SQLITE_DONE)
        return -1;
    static const int counts[2] = {Q_CNT_TREND, Q_CNT_METRICS}, deletes[2] = {Q_DEL_TREND_OLDEST, Q_DEL_METRICS_OLDEST};
    for (int k = 0; k < 2; k++) {
        long long rows = 0;
        if ((*rc = query_int(stmt(h, counts[k]), &rows)) != SQLITE_ROW)
            break;
        sqlite3_stmt *s = stmt(h, deletes[k]);
        sqlite3_bind_int64(s, 1, (sqlite3_int64)ceil((double)rows * share) + 1);
        if ((*rc = run(s)) != SQLITE_DONE)
            break;
        n += sqlite3_changes(h->db);
    }
    return end_tx(h, rc, n);
}

static long prune_cap(store_history *h, char *err, size_t errlen)
{
    if (size_now(h) <= h->cap_bytes)
        return 0;
    uint64_t target = (uint64_t)((double)h->cap_bytes * CAP_TARGET);
    long total = 0;
    for (int round = 0; round < 64; round++) {
        int done = shrink(h, err, errlen);
        if (done < 0)
            return done;
        if (done == 0)
            break; /* a reader holds the WAL: deleting more would not shrink it; the next prune goes on */
        uint64_t size = size_now(h);
        if (size <= target)
            return total;
        int rc = SQLITE_DONE;
        long n = delete_oldest_blobs(h, size - target, &rc);
        if (n == 0)
            n = delete_oldest_rows(h, size - target, size, &rc);
        if (n < 0)
            return db_fail(h, rc, "size cap: deleting the oldest rows", err, errlen);
        if (n == 0)
            break; /* nothing left that the cap may delete: the box goes on over it */
        total += n;
    }
    int done = shrink(h, err, errlen);
    return done < 0 ? done : total;
}

long store_history_prune(store_history *h, int64_t now_ns, char *err, size_t errlen)
{
    if (!h)
        return -EINVAL;
    long n = 0;
    int64_t trend_cut = cutoff(now_ns, h->trend_keep_ns), agg_cut = cutoff(now_ns, h->aggregate_keep_ns);
    int rc;
    if ((rc = delete_old_trend(h, trend_cut, &n)) != SQLITE_DONE ||
        (rc = delete_buckets(h, Q_DEL_HOURLY_OLD, agg_cut, NS_PER_HOUR, &n)) != SQLITE_DONE ||
        (rc = delete_buckets(h, Q_DEL_DAILY_OLD, agg_cut, NS_PER_DAY, &n)) != SQLITE_DONE ||
        (rc = delete_batched(h, Q_DEL_EVENTS_OLD, agg_cut, &n)) != SQLITE_DONE ||
        (rc = delete_batched(h, Q_DEL_METRICS_OLD, agg_cut, &n)) != SQLITE_DONE ||
        (rc = delete_beyond_counts(h, &n)) != SQLITE_DONE)
        return db_fail(h, rc, "prune", err, errlen);
    long c = prune_cap(h, err, errlen);
    reserve_make(h);
    return c < 0 ? c : n + c;
}

/* ---- reading ---------------------------------------------------------------------------------- */

long long store_history_count(store_history *h, const char *what)
{
    static const struct { const char *name; int q; } tables[] = {
        {"trend", Q_CNT_TREND}, {"hourly", Q_CNT_HOURLY}, {"daily", Q_CNT_DAILY}, {"spectra", Q_CNT_SPECTRA},
        {"waveforms", Q_CNT_WAVES}, {"events", Q_CNT_EVENTS}, {"metrics", Q_CNT_METRICS},
        {"models", Q_CNT_MODELS},
    };
    if (!h || !what)
        return -1;
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++)
        if (strcmp(what, tables[i].name) == 0) {
            long long v = -1;
            return query_int(stmt(h, tables[i].q), &v) == SQLITE_ROW ? v : -1;
        }
    return -1;
}

uint64_t store_history_size_bytes(store_history *h) { return h ? size_now(h) : 0; }

int store_history_latest(store_history *h, const char *sensor_id, const char *channel, int64_t *t_ns,
                         char **features_json)
{
    return newest_text(h, Q_LATEST, sensor_id, channel, t_ns, features_json);
}

/* Shared by spectra and waveforms: columns t_ns, a REAL (df_hz or rate_hz), a REAL (top_db or
 * scale), the blob of 2 bytes per value. */
static int read_blob(store_history *h, int q, int spectrum, const char *sensor_id, const char *channel,
                     int64_t *t_ns, float **out, size_t *n, double *hz)
{
    if (!h || !sensor_id || !channel || !t_ns || !out || !n)
        return -EINVAL;
    *out = NULL;
    *n = 0;
    sqlite3_stmt *s = stmt(h, q);
    bind_text(s, 1, sensor_id);
    bind_text(s, 2, channel);
    sqlite3_bind_int64(s, 3, *t_ns);
    int rc = sqlite3_step(s), ret = 0;
    if (rc == SQLITE_ROW) {
        const uint8_t *blob = sqlite3_column_blob(s, 3);
        size_t count = (size_t)sqlite3_column_bytes(s, 3) / 2;
        double param = sqlite3_column_double(s, 2);
        *t_ns = sqlite3_column_int64(s, 0);
        if (hz)
            *hz = sqlite3_column_double(s, 1);
        *out = malloc((count ? count : 1) * sizeof **out);
        if (!*out) {
            ret = -ENOMEM;
        } else {
            if (spectrum)
                store_history_spectrum_decode(blob, count, param, *out);
            else
                store_history_waveform_decode(blob, count, param, *out);
            *n = count;
        }
    } else {
        ret = rc == SQLITE_DONE ? -ENOENT : errno_of(rc) ? errno_of(rc) : -EIO;
    }
    sqlite3_reset(s);
    return ret;
}

int store_history_spectrum(store_history *h, const char *sensor_id, const char *channel, int envelope,
                           int64_t *t_ns, float **bins, size_t *nbins, double *df_hz)
{
    return read_blob(h, envelope ? Q_ENV_GET : Q_AMP_GET, 1, sensor_id, channel, t_ns, bins, nbins, df_hz);
}

int store_history_waveform(store_history *h, const char *sensor_id, const char *channel, int64_t *t_ns,
                           float **samples, size_t *nsamples, double *rate_hz)
{
    return read_blob(h, Q_WAVE_GET, 0, sensor_id, channel, t_ns, samples, nsamples, rate_hz);
}

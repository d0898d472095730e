/* alerts/outbox.c — the alert record and outbox tables (outbox.h). Each call prepares its
 * statement: alerts are rare, clarity wins over a statement cache. Errors are logged by the caller
 * from the -errno; the SQLite message is kept in the handle for it. */
#include "outbox.h"

#include <errno.h>
#include <stdarg.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct alerts_outbox {
    sqlite3 *db;
    char path[1024];
    bool has_label_cols;    /* alert has label_by, label_note, label_wall_ns (a file of an older
                               version opened read-only may not) */
};

static const char *const schema =
    "CREATE TABLE IF NOT EXISTS alert("
    " id INTEGER PRIMARY KEY AUTOINCREMENT, t_ns INTEGER NOT NULL, asset TEXT NOT NULL, kind TEXT NOT NULL,"
    " level TEXT NOT NULL, previous TEXT NOT NULL, summary TEXT NOT NULL, evidence TEXT NOT NULL,"
    " acked_by TEXT, ack_note TEXT, acked_wall_ns INTEGER, label TEXT,"
    " label_by TEXT, label_note TEXT, label_wall_ns INTEGER);"
    "CREATE INDEX IF NOT EXISTS alert_asset ON alert(asset, t_ns);"
    "CREATE TABLE IF NOT EXISTS outbox("
    " id INTEGER PRIMARY KEY, alert_id INTEGER NOT NULL, dest TEXT NOT NULL, key TEXT NOT NULL UNIQUE,"
    " t_ns INTEGER NOT NULL, created_wall_ns INTEGER NOT NULL, state TEXT NOT NULL,"
    " attempts INTEGER NOT NULL DEFAULT 0, next_wall_ns INTEGER NOT NULL, last_error TEXT, answer TEXT,"
    " done_wall_ns INTEGER, digest_id INTEGER, payload BLOB NOT NULL);"
    "CREATE INDEX IF NOT EXISTS outbox_due ON outbox(dest, state, next_wall_ns);"
    "CREATE INDEX IF NOT EXISTS outbox_alert ON outbox(alert_id);"
    "CREATE TABLE IF NOT EXISTS alert_state(asset TEXT PRIMARY KEY, state TEXT NOT NULL);";

/* Columns added to alert after its first version: added by a read-write open when missing. */
static const char *const added_cols[][2] = {
    {"label_by", "TEXT"}, {"label_note", "TEXT"}, {"label_wall_ns", "INTEGER"},
};
#define NADDED (sizeof added_cols / sizeof added_cols[0])

/* Which of added_cols alert has (bit k for added_cols[k]); -1 on an error. */
static int alert_cols(alerts_outbox *o)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(o->db, "SELECT name FROM pragma_table_info('alert')", -1, &st, NULL) != SQLITE_OK)
        return -1;
    int have = 0, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 0);
        for (size_t k = 0; name && k < NADDED; k++)
            if (!strcmp(name, added_cols[k][0]))
                have |= 1 << k;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? have : -1;
}

/* Adds the missing columns in one transaction (two handles opening at once: the second finds
 * them there). 0 or -1. */
static int migrate(alerts_outbox *o)
{
    int have = alert_cols(o);
    if (have == (1 << NADDED) - 1) { /* up to date: no write lock taken */
        o->has_label_cols = true;
        return 0;
    }
    if (have < 0 || sqlite3_exec(o->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return -1;
    have = alert_cols(o); /* again under the lock: another handle may have added them meanwhile */
    for (size_t k = 0; have >= 0 && k < NADDED; k++) {
        if (have & 1 << k)
            continue;
        char sql[128];
        snprintf(sql, sizeof sql, "ALTER TABLE alert ADD COLUMN %s %s", added_cols[k][0], added_cols[k][1]);
        if (sqlite3_exec(o->db, sql, NULL, NULL, NULL) != SQLITE_OK)
            have = -1;
    }
    if (have < 0 || sqlite3_exec(o->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        sqlite3_exec(o->db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    o->has_label_cols = true;
    return 0;
}

/* Opens without creating anything: for readers (the commands, the status). */
static alerts_outbox *open_existing(const char *db_path, char *err, size_t errlen)
{
    alerts_outbox *o = calloc(1, sizeof *o);
    if (!o) {
        snprintf(err, errlen, "%s: out of memory", db_path);
        return NULL;
    }
    snprintf(o->path, sizeof o->path, "%s", db_path);
    if (sqlite3_open_v2(db_path, &o->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", db_path, o->db ? sqlite3_errmsg(o->db) : "cannot open");
        alerts_outbox_close(o);
        return NULL;
    }
    sqlite3_busy_timeout(o->db, 10000);
    return o;
}

alerts_outbox *alerts_outbox_open_readonly(const char *db_path, bool *no_alerts, char *err, size_t errlen)
{
    *no_alerts = false;
    if (access(db_path, F_OK) != 0) {
        *no_alerts = true;
        snprintf(err, errlen, "%s: no history yet", db_path);
        return NULL;
    }
    alerts_outbox *o = open_existing(db_path, err, errlen);
    if (!o)
        return NULL;
    sqlite3_stmt *st;
    bool have = sqlite3_prepare_v2(o->db, "SELECT 1 FROM sqlite_master WHERE type='table' AND name='outbox'", -1, &st,
                                   NULL) == SQLITE_OK &&
                sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    if (!have) {
        *no_alerts = true;
        snprintf(err, errlen, "%s: no alerts recorded yet", db_path);
        alerts_outbox_close(o);
        return NULL;
    }
    int cols = alert_cols(o);
    if (cols < 0) {
        snprintf(err, errlen, "%s: %s", db_path, sqlite3_errmsg(o->db));
        alerts_outbox_close(o);
        return NULL;
    }
    o->has_label_cols = cols == (1 << NADDED) - 1;
    return o;
}

const char *alerts_outbox_error(const alerts_outbox *o) { return o && o->db ? sqlite3_errmsg(o->db) : "not open"; }

alerts_outbox *alerts_outbox_open(const char *db_path, char *err, size_t errlen)
{
    alerts_outbox *o = calloc(1, sizeof *o);
    if (!o) {
        snprintf(err, errlen, "%s: out of memory", db_path);
        return NULL;
    }
    snprintf(o->path, sizeof o->path, "%s", db_path);
    if (sqlite3_open_v2(db_path, &o->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK)
        goto fail;
    sqlite3_busy_timeout(o->db, 10000);
    if (sqlite3_exec(o->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_exec(o->db, schema, NULL, NULL, NULL) != SQLITE_OK || migrate(o) < 0)
        goto fail;
    return o;
fail:
    snprintf(err, errlen, "%s: %s", db_path, o->db ? sqlite3_errmsg(o->db) : "cannot open");
    alerts_outbox_close(o);
    return NULL;
}

void alerts_outbox_close(alerts_outbox *o)
{
    if (!o)
        return;
    sqlite3_close(o->db);
    free(o);
}

static int exec(alerts_outbox *o, const char *sql)
{
    return sqlite3_exec(o->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -EIO;
}

int alerts_outbox_begin(alerts_outbox *o) { return exec(o, "BEGIN IMMEDIATE"); }
int alerts_outbox_commit(alerts_outbox *o) { return exec(o, "COMMIT"); }
void alerts_outbox_rollback(alerts_outbox *o) { sqlite3_exec(o->db, "ROLLBACK", NULL, NULL, NULL); }

/* Prepares sql and binds its parameters by a small format: s text, i int64, b blob (ptr, len),
 * n NULL. NULL on error. */
static sqlite3_stmt *prep(alerts_outbox *o, const char *sql, const char *fmt, ...)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(o->db, sql, -1, &st, NULL) != SQLITE_OK)
        return NULL;
    va_list ap;
    va_start(ap, fmt);
    int rc = SQLITE_OK;
    for (int i = 0; fmt[i] && rc == SQLITE_OK; i++) {
        switch (fmt[i]) {
        case 's': {
            const char *s = va_arg(ap, const char *);
            rc = s ? sqlite3_bind_text(st, i + 1, s, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(st, i + 1);
            break;
        }
        case 'i':
            rc = sqlite3_bind_int64(st, i + 1, va_arg(ap, int64_t));
            break;
        case 'b': {
            const void *p = va_arg(ap, const void *);
            size_t n = va_arg(ap, size_t);
            rc = sqlite3_bind_blob64(st, i + 1, p, n, SQLITE_TRANSIENT);
            break;
        }
        default:
            rc = sqlite3_bind_null(st, i + 1);
        }
    }
    va_end(ap);
    if (rc != SQLITE_OK) {
        sqlite3_finalize(st);
        return NULL;
    }
    return st;
}

/* Runs a statement that returns no rows; the changes, or -EIO (-EEXIST for a UNIQUE conflict). */
static long run(alerts_outbox *o, sqlite3_stmt *st)
{
    if (!st)
        return -EIO;
    int rc = sqlite3_step(st);
    int ext = sqlite3_extended_errcode(o->db);
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE)
        return sqlite3_changes(o->db);
    return ext == SQLITE_CONSTRAINT_UNIQUE ? -EEXIST : -EIO;
}

int alerts_outbox_state_get(alerts_outbox *o, const char *asset, char **json)
{
    *json = NULL;
    sqlite3_stmt *st = prep(o, "SELECT state FROM alert_state WHERE asset=?", "s", asset);
    if (!st)
        return -EIO;
    int rc = sqlite3_step(st), ret = -ENOENT;
    if (rc == SQLITE_ROW) {
        const char *s = (const char *)sqlite3_column_text(st, 0);
        *json = strdup(s ? s : "");
        ret = *json ? 0 : -ENOMEM;
    } else if (rc != SQLITE_DONE) {
        ret = -EIO;
    }
    sqlite3_finalize(st);
    return ret;
}

int alerts_outbox_state_put(alerts_outbox *o, const char *asset, const char *json)
{
    long rc = run(o, prep(o, "INSERT INTO alert_state(asset, state) VALUES(?, ?) "
                             "ON CONFLICT(asset) DO UPDATE SET state=excluded.state", "ss", asset, json));
    return rc < 0 ? (int)rc : 0;
}

int64_t alerts_outbox_alert_add(alerts_outbox *o, const alerts_row *a)
{
    long rc = run(o, prep(o, "INSERT INTO alert(t_ns, asset, kind, level, previous, summary, evidence) "
                             "VALUES(?, ?, ?, ?, ?, ?, ?)",
                          "issssss", a->t_ns, a->asset, a->kind, a->level, a->previous, a->summary,
                          a->evidence ? a->evidence : "{}"));
    return rc < 0 ? rc : sqlite3_last_insert_rowid(o->db);
}

int alerts_outbox_enqueue(alerts_outbox *o, const alerts_msg *m)
{
    /* behind messages of dest that wait after a failure (they have an error), it waits too, so
     * that they stay in order */
    long rc = run(o, prep(o, "INSERT INTO outbox(alert_id, dest, key, t_ns, created_wall_ns, state, next_wall_ns, "
                             "payload) VALUES(?, ?, ?, ?, ?, ?, max(?, coalesce((SELECT max(next_wall_ns) FROM outbox "
                             "WHERE dest=? AND state='pending' AND last_error IS NOT NULL), 0)), ?)",
                          "issiisisb", m->alert_id, m->dest, m->key, m->t_ns, m->wall_ns,
                          m->held ? "held" : "pending", m->wall_ns, m->dest, m->payload, m->len));
    return rc < 0 ? (int)rc : 0;
}

/* A single integer from a query, or -EIO. 64 bits: a time in ns does not fit a long on 32-bit ARM. */
static int64_t one_int(sqlite3_stmt *st)
{
    if (!st)
        return -EIO;
    int64_t v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -EIO;
    sqlite3_finalize(st);
    return v;
}

long alerts_outbox_recent(alerts_outbox *o, const char *dest, int64_t since_t_ns)
{
    return (long)one_int(prep(o, "SELECT count(*) FROM outbox WHERE dest=? AND t_ns>=? AND state IN "
                                 "('pending','sent','failed')", "si", dest, since_t_ns));
}

long alerts_outbox_held(alerts_outbox *o, const char *dest, long max,
                        void (*cb)(void *ctx, int64_t alert_id, int64_t t_ns, const char *asset, const char *level,
                                   const char *kind, const char *summary),
                        void *ctx)
{
    sqlite3_stmt *st = prep(o, "SELECT a.id, a.t_ns, a.asset, a.level, a.kind, a.summary FROM outbox m "
                               "JOIN alert a ON a.id=m.alert_id WHERE m.dest=? AND m.state='held' "
                               "ORDER BY m.t_ns, m.id LIMIT ?", "si", dest, (int64_t)max);
    if (!st)
        return -EIO;
    long n = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        n++;
        if (cb)
            cb(ctx, sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1), (const char *)sqlite3_column_text(st, 2),
               (const char *)sqlite3_column_text(st, 3), (const char *)sqlite3_column_text(st, 4),
               (const char *)sqlite3_column_text(st, 5));
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? n : -EIO;
}

long alerts_outbox_fold(alerts_outbox *o, const char *dest, int64_t upto_t_ns, int64_t digest_alert_id)
{
    return run(o, prep(o, "UPDATE outbox SET state='folded', digest_id=?, payload=x'' WHERE dest=? AND state='held' AND t_ns<=?",
                       "isi", digest_alert_id, dest, upto_t_ns));
}

long alerts_outbox_fold_alerts(alerts_outbox *o, const char *dest, const int64_t *alert_ids, size_t n,
                               int64_t digest_alert_id)
{
    long total = 0;
    for (size_t i = 0; i < n; i++) {
        long rc = run(o, prep(o, "UPDATE outbox SET state='folded', digest_id=?, payload=x'' WHERE dest=? AND "
                                 "state='held' AND alert_id=?",
                              "isi", digest_alert_id, dest, alert_ids[i]));
        if (rc < 0)
            return rc;
        total += rc;
    }
    return total;
}

void alerts_item_clear(alerts_item *it)
{
    free(it->payload);
    memset(it, 0, sizeof *it);
}

int alerts_outbox_next(alerts_outbox *o, const char *dest, int64_t wall_ns, alerts_item *it, int64_t *next_due_ns)
{
    memset(it, 0, sizeof *it);
    if (next_due_ns)
        *next_due_ns = INT64_MAX;
    /* the oldest (queued first) of those due, so that a retried message keeps its place before the
     * newer ones (a "raised" is not overtaken by its "recovered") */
    sqlite3_stmt *st = prep(o, "SELECT id, alert_id, key, attempts, created_wall_ns, payload FROM outbox "
                               "WHERE dest=? AND state='pending' AND next_wall_ns<=? ORDER BY id LIMIT 1", "si", dest,
                            wall_ns);
    if (!st)
        return -EIO;
    int rc = sqlite3_step(st), ret;
    if (rc == SQLITE_DONE) {
        ret = -ENOENT;
        if (next_due_ns) {
            int64_t due = one_int(prep(o, "SELECT coalesce(min(next_wall_ns), 9223372036854775807) FROM outbox "
                                          "WHERE dest=? AND state='pending'", "s", dest));
            if (due < 0)
                ret = -EIO;
            else
                *next_due_ns = due;
        }
    } else if (rc != SQLITE_ROW) {
        ret = -EIO;
    } else {
        it->id = sqlite3_column_int64(st, 0);
        it->alert_id = sqlite3_column_int64(st, 1);
        snprintf(it->key, sizeof it->key, "%s", (const char *)sqlite3_column_text(st, 2));
        it->attempts = sqlite3_column_int(st, 3);
        it->created_wall_ns = sqlite3_column_int64(st, 4);
        const void *p = sqlite3_column_blob(st, 5);
        int n = sqlite3_column_bytes(st, 5);
        it->payload = malloc((size_t)n + 1);
        if (!it->payload) {
            ret = -ENOMEM;
        } else {
            if (n > 0)
                memcpy(it->payload, p, (size_t)n);
            it->payload[n] = 0;
            it->len = (size_t)n;
            ret = 0;
        }
    }
    sqlite3_finalize(st);
    return ret;
}

int alerts_outbox_sent(alerts_outbox *o, int64_t id, int64_t wall_ns, const char *answer)
{
    long rc = run(o, prep(o, "UPDATE outbox SET state='sent', attempts=attempts+1, done_wall_ns=?, answer=?, "
                             "last_error=NULL, payload=x'' WHERE id=?", "isi", wall_ns, answer, id));
    return rc < 0 ? (int)rc : 0;
}

long alerts_outbox_wake(alerts_outbox *o, const char *dest, int64_t wall_ns)
{
    return run(o, prep(o, "UPDATE outbox SET next_wall_ns=? WHERE dest=? AND state='pending' AND next_wall_ns>?", "isi",
                       wall_ns, dest, wall_ns));
}

long alerts_outbox_defer(alerts_outbox *o, const char *dest, int64_t until_wall_ns, const char *error)
{
    return run(o, prep(o, "UPDATE outbox SET next_wall_ns=?, last_error=? WHERE dest=? AND state='pending' AND "
                          "next_wall_ns<?", "issi", until_wall_ns, error, dest, until_wall_ns));
}

int alerts_outbox_retry(alerts_outbox *o, int64_t id, int64_t next_wall_ns, const char *error, const char *answer)
{
    long rc = run(o, prep(o, "UPDATE outbox SET attempts=attempts+1, next_wall_ns=?, last_error=?, answer=? WHERE id=?",
                          "issi", next_wall_ns, error, answer, id));
    return rc < 0 ? (int)rc : 0;
}

int alerts_outbox_failed(alerts_outbox *o, int64_t id, int64_t wall_ns, const char *error, const char *answer)
{
    long rc = run(o, prep(o, "UPDATE outbox SET state='failed', attempts=attempts+1, done_wall_ns=?, last_error=?, "
                             "answer=?, payload=x'' WHERE id=?", "issi", wall_ns, error, answer, id));
    return rc < 0 ? (int)rc : 0;
}

long alerts_outbox_expire(alerts_outbox *o, const char *dest, int64_t wall_ns, int64_t max_age_ns)
{
    char why[64];
    snprintf(why, sizeof why, "given up after %.3g h: ", (double)max_age_ns / 3.6e12);
    return run(o, prep(o, "UPDATE outbox SET state='failed', done_wall_ns=?, "
                          "last_error=? || coalesce(last_error, 'never attempted'), payload=x'' "
                          "WHERE dest=? AND state IN ('pending','held') AND created_wall_ns<?",
                       "issi", wall_ns, why, dest, wall_ns - max_age_ns));
}

long alerts_outbox_orphans(alerts_outbox *o, const char *const *names, size_t n, int64_t wall_ns)
{
    /* the configured names in a temporary table: no SQL text is built from them */
    if (exec(o, "CREATE TEMP TABLE IF NOT EXISTS vw_dests(name TEXT PRIMARY KEY); DELETE FROM vw_dests") < 0)
        return -EIO;
    for (size_t i = 0; i < n; i++)
        if (run(o, prep(o, "INSERT OR IGNORE INTO vw_dests(name) VALUES(?)", "s", names[i])) < 0)
            return -EIO;
    return run(o, prep(o, "UPDATE outbox SET state='failed', done_wall_ns=?, payload=x'', "
                          "last_error='destination ' || dest || ' is no longer configured' "
                          "WHERE state IN ('pending','held') AND dest NOT IN (SELECT name FROM vw_dests)",
                       "i", wall_ns));
}

int alerts_outbox_counts(alerts_outbox *o, const char *dest, alerts_counts *c)
{
    memset(c, 0, sizeof *c);
    sqlite3_stmt *st = prep(o, "SELECT state, count(*) FROM outbox WHERE dest=? GROUP BY state", "s", dest);
    if (!st)
        return -EIO;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *s = (const char *)sqlite3_column_text(st, 0);
        long n = (long)sqlite3_column_int64(st, 1);
        if (!s)
            continue;
        if (!strcmp(s, "pending"))
            c->pending = n;
        else if (!strcmp(s, "held"))
            c->held = n;
        else if (!strcmp(s, "sent"))
            c->sent = n;
        else if (!strcmp(s, "failed"))
            c->failed = n;
        else if (!strcmp(s, "folded"))
            c->folded = n;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -EIO;
}

long alerts_outbox_ack(alerts_outbox *o, const char *asset, const char *user, const char *note, int64_t wall_ns)
{
    return run(o, prep(o, "UPDATE alert SET acked_by=?, ack_note=?, acked_wall_ns=? WHERE asset=? AND acked_by IS NULL "
                          "AND kind IN ('raised','repeat')",
                       "ssis", user, note, wall_ns, asset));
}

int alerts_outbox_alert_asset(alerts_outbox *o, int64_t alert_id, char *asset_out, size_t asset_len)
{
    if (!o || !asset_out || !asset_len)
        return -EINVAL;
    sqlite3_stmt *st = prep(o, "SELECT asset FROM alert WHERE id=?", "i", alert_id);
    if (!st)
        return -EIO;
    int rc = sqlite3_step(st), ret;
    if (rc == SQLITE_ROW) {
        const char *a = (const char *)sqlite3_column_text(st, 0);
        ret = a && (size_t)snprintf(asset_out, asset_len, "%s", a) < asset_len ? 0 : -ENOSPC;
    } else {
        ret = rc == SQLITE_DONE ? -ENOENT : -EIO;
    }
    sqlite3_finalize(st);
    return ret;
}

int alerts_outbox_label(alerts_outbox *o, int64_t alert_id, const char *label, const char *user, const char *note,
                        int64_t wall_ns)
{
    if (!o || (label && strcmp(label, "true_alarm") != 0 && strcmp(label, "false_alarm") != 0))
        return -EINVAL;
    if (!o->has_label_cols)
        return -EIO; /* an old file opened read-only */
    long n = label ? run(o, prep(o, "UPDATE alert SET label=?, label_by=?, label_note=?, label_wall_ns=? WHERE id=?",
                                 "sssii", label, user, note, wall_ns, alert_id))
                   : run(o, prep(o, "UPDATE alert SET label=NULL, label_by=NULL, label_note=NULL, label_wall_ns=NULL "
                                    "WHERE id=?", "i", alert_id));
    return n < 0 ? (n == -EEXIST ? -EIO : (int)n) : n == 0 ? -ENOENT : 0;
}

/* The deliveries of one alert, copied (the list's statement is stepping meanwhile). */
typedef struct dl_list {
    alerts_delivery *d;
    size_t n, cap;
} dl_list;

static void dl_clear(dl_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free((char *)l->d[i].dest);
        free((char *)l->d[i].state);
        free((char *)l->d[i].last_error);
    }
    l->n = 0;
}

static char *dup_col(sqlite3_stmt *st, int i, bool *oom)
{
    const char *s = (const char *)sqlite3_column_text(st, i);
    if (!s)
        return NULL;
    char *c = strdup(s);
    if (!c)
        *oom = true;
    return c;
}

static int dl_read(sqlite3_stmt *st, int64_t alert_id, dl_list *l)
{
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, alert_id);
    int rc;
    bool oom = false;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (l->n == l->cap) {
            size_t cap = l->cap ? 2 * l->cap : 8;
            alerts_delivery *d = realloc(l->d, cap * sizeof *d);
            if (!d)
                return -ENOMEM;
            l->d = d;
            l->cap = cap;
        }
        alerts_delivery *d = &l->d[l->n++];
        d->dest = dup_col(st, 0, &oom);
        d->state = dup_col(st, 1, &oom);
        d->last_error = dup_col(st, 2, &oom);
        d->attempts = (long)sqlite3_column_int64(st, 3);
        d->done_wall_ns = sqlite3_column_int64(st, 4);
        if (oom || !d->dest || !d->state)
            return -ENOMEM;
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : -EIO;
}

long alerts_outbox_list_where(alerts_outbox *o, const char *asset, int64_t before_id, long max,
                              void (*cb)(void *ctx, const alerts_listed *a), void *ctx)
{
    /* a file of an older version (read-only) lacks the label's who, note and time */
    const char *label_cols = o->has_label_cols ? "a.label_by, a.label_note, a.label_wall_ns"
                                               : "NULL, NULL, NULL";
    char sql[1600];
    snprintf(sql, sizeof sql,
             "SELECT a.id, a.t_ns, a.asset, a.kind, a.level, a.previous, a.summary, a.evidence, a.acked_by, a.ack_note, "
             "(SELECT group_concat(m.dest || ': ' || m.state || "
             " CASE WHEN m.state IN ('pending','failed') AND m.attempts > 0 THEN ', attempt ' || m.attempts ELSE '' END || "
             " CASE WHEN m.state IN ('pending','failed') AND m.last_error IS NOT NULL THEN ': ' || m.last_error ELSE '' END, "
             " '; ') FROM outbox m WHERE m.alert_id=a.id), "
             "a.label, %s, a.acked_wall_ns "
             "FROM alert a WHERE (?1 IS NULL OR a.asset=?1) AND (?2=0 OR "
             " (EXISTS(SELECT 1 FROM alert b WHERE b.id=?2) AND (a.t_ns, a.id) < (SELECT b.t_ns, b.id FROM alert b WHERE b.id=?2)) OR "
             " (NOT EXISTS(SELECT 1 FROM alert b WHERE b.id=?2) AND a.id < ?2)) "
             "ORDER BY a.t_ns DESC, a.id DESC LIMIT ?3",
             label_cols);
    sqlite3_stmt *st = prep(o, sql, "sii", asset, before_id, (int64_t)max);
    sqlite3_stmt *dst = NULL;
    if (!st || sqlite3_prepare_v2(o->db, "SELECT dest, state, last_error, attempts, coalesce(done_wall_ns, 0) "
                                         "FROM outbox WHERE alert_id=? ORDER BY id", -1, &dst, NULL) != SQLITE_OK) {
        sqlite3_finalize(st);
        sqlite3_finalize(dst);
        return -EIO;
    }
    dl_list dl = {0};
    long n = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0);
        if (dl_read(dst, id, &dl) < 0) {
            rc = SQLITE_ERROR;
            break;
        }
        const char *d = (const char *)sqlite3_column_text(st, 10);
        alerts_listed a = {.id = id, .t_ns = sqlite3_column_int64(st, 1),
                           .asset = (const char *)sqlite3_column_text(st, 2), .kind = (const char *)sqlite3_column_text(st, 3),
                           .level = (const char *)sqlite3_column_text(st, 4),
                           .previous = (const char *)sqlite3_column_text(st, 5),
                           .summary = (const char *)sqlite3_column_text(st, 6),
                           .evidence = (const char *)sqlite3_column_text(st, 7),
                           .acked_by = (const char *)sqlite3_column_text(st, 8),
                           .ack_note = (const char *)sqlite3_column_text(st, 9), .deliveries = d ? d : "",
                           .label = (const char *)sqlite3_column_text(st, 11),
                           .label_by = (const char *)sqlite3_column_text(st, 12),
                           .label_note = (const char *)sqlite3_column_text(st, 13),
                           .label_wall_ns = sqlite3_column_int64(st, 14),
                           .acked_wall_ns = sqlite3_column_int64(st, 15),
                           .dl = dl.n ? dl.d : NULL, .ndl = dl.n};
        n++;
        cb(ctx, &a);
        dl_clear(&dl);
    }
    dl_clear(&dl);
    free(dl.d);
    sqlite3_finalize(dst);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? n : -EIO;
}

long alerts_outbox_list(alerts_outbox *o, long max, void (*cb)(void *ctx, const alerts_listed *a), void *ctx)
{
    return alerts_outbox_list_where(o, NULL, 0, max, cb, ctx);
}

long alerts_outbox_prune(alerts_outbox *o, int64_t now_t_ns, int64_t keep_ns, long max_rows)
{
    if (alerts_outbox_begin(o) < 0)
        return -EIO;
    const char *finished = "NOT EXISTS (SELECT 1 FROM outbox m WHERE m.alert_id=alert.id AND m.state IN ('pending','held'))";
    char sql[512];
    snprintf(sql, sizeof sql, "DELETE FROM alert WHERE t_ns<? AND %s", finished);
    long a = run(o, prep(o, sql, "i", now_t_ns - keep_ns));
    snprintf(sql, sizeof sql,
             "DELETE FROM alert WHERE %s AND id IN (SELECT id FROM alert ORDER BY t_ns DESC, id DESC LIMIT -1 OFFSET ?)",
             finished);
    long b = a < 0 ? -EIO : run(o, prep(o, sql, "i", (int64_t)max_rows));
    long c = b < 0 ? -EIO : run(o, prep(o, "DELETE FROM outbox WHERE alert_id NOT IN (SELECT id FROM alert)", ""));
    if (c < 0) {
        alerts_outbox_rollback(o);
        return -EIO;
    }
    return alerts_outbox_commit(o) < 0 ? -EIO : a + b;
}

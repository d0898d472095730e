/* Tests of alerts/outbox.h, derived from the header: the tables are created (and found again),
 * ids grow, a key is queued once, next() hands out the oldest due message of one destination with
 * its payload byte for byte (binary-ish bytes, 300 kB) and says when the next one falls due, the
 * states and their counts move as sent/retry/failed/expire/fold say, a sent message never comes
 * back, held messages stay out of the rate limit's count, ack/list/state/prune do what they
 * promise. Transactions are all or nothing: a rollback, and a child process that dies (_exit or
 * SIGKILL) before its commit, leave nothing; a commit survives. Two handles on one file (the rules
 * thread and a delivery thread) write in turn and concurrently without errors (the busy timeout).
 * The database is also read directly through SQLite, from a connection of the test's own. */
#include "alerts/outbox.h"
#include "testlib.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SEC INT64_C(1000000000)
#define MIN (60 * SEC)
#define HOUR (3600 * SEC)
#define DAY (24 * HOUR)
#define T0 (INT64_C(1704067200) * SEC) /* data time: 2024-01-01T00:00:00Z */
#define W0 (INT64_C(1767225600) * SEC) /* wall clock: 2026-01-01T00:00:00Z */

/* ---- helpers --------------------------------------------------------------------------------- */

static const char *db_path(const char *name)
{
    static char path[8][600];
    static int next;
    char *p = path[next++ % 8];
    snprintf(p, sizeof path[0], "%s/%s.sqlite3", t_tmpdir(), name);
    return p;
}

static alerts_outbox *open_or_fail(const char *path)
{
    char err[512] = "";
    alerts_outbox *o = alerts_outbox_open(path, err, sizeof err);
    T_CHECK(o != NULL, "open %s: %s", path, err);
    return o;
}

static int64_t add_alert(alerts_outbox *o, int64_t t_ns, const char *asset, const char *kind, const char *level,
                         const char *summary)
{
    alerts_row r = {.t_ns = t_ns, .asset = asset, .kind = kind, .level = level, .previous = "ok",
                    .summary = summary, .evidence = "{\"asset\":\"x\"}"};
    int64_t id = alerts_outbox_alert_add(o, &r);
    T_CHECK(id > 0, "alert_add %s %s: %lld", asset, kind, (long long)id);
    return id;
}

static int enqueue_bytes(alerts_outbox *o, int64_t alert_id, const char *dest, const char *key, int64_t t_ns,
                         int64_t wall_ns, bool held, const void *payload, size_t len)
{
    alerts_msg m = {.alert_id = alert_id, .dest = dest, .key = key, .t_ns = t_ns, .wall_ns = wall_ns,
                    .held = held, .payload = payload, .len = len};
    return alerts_outbox_enqueue(o, &m);
}

/* Queues a text payload ("payload of KEY") and checks it was accepted. */
static void enqueue_ok(alerts_outbox *o, int64_t alert_id, const char *dest, const char *key, int64_t t_ns,
                       int64_t wall_ns, bool held)
{
    char p[256];
    snprintf(p, sizeof p, "payload of %s", key);
    int rc = enqueue_bytes(o, alert_id, dest, key, t_ns, wall_ns, held, p, strlen(p));
    T_CHECK(rc == 0, "enqueue %s: %d", key, rc);
}

/* next() that must find a message; its key, "" when it did not. */
static const char *next_key(alerts_outbox *o, const char *dest, int64_t wall_ns, alerts_item *it)
{
    static char key[160];
    int64_t due = 0;
    int rc = alerts_outbox_next(o, dest, wall_ns, it, &due);
    T_CHECK(rc == 0, "next(%s): %d", dest, rc);
    snprintf(key, sizeof key, "%s", rc == 0 ? it->key : "");
    return key;
}

static alerts_counts counts(alerts_outbox *o, const char *dest)
{
    alerts_counts c;
    int rc = alerts_outbox_counts(o, dest, &c);
    T_CHECK(rc == 0, "counts(%s): %d", dest, rc);
    return c;
}

#define EXPECT_COUNTS(o, dest, p, h, s, f, fo)                                                                   \
    do {                                                                                                         \
        alerts_counts c_ = counts((o), (dest));                                                                  \
        T_CHECK(c_.pending == (p) && c_.held == (h) && c_.sent == (s) && c_.failed == (f) && c_.folded == (fo), \
                "%s: pending %ld held %ld sent %ld failed %ld folded %ld, want %d %d %d %d %d", (dest),         \
                c_.pending, c_.held, c_.sent, c_.failed, c_.folded, (p), (h), (s), (f), (fo));                  \
    } while (0)

/* One integer from a query on a connection of the test's own (read-only). */
static long long sql_int(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    long long v = -1;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
            v = sqlite3_column_int64(st, 0);
        else
            T_CHECK(0, "%s: %s", sql, sqlite3_errmsg(db));
        sqlite3_finalize(st);
    } else {
        T_CHECK(0, "open %s read-only: %s", path, db ? sqlite3_errmsg(db) : "?");
    }
    sqlite3_close(db);
    return v;
}

/* What list() reports, copied out of the callback. */
#define MAX_LISTED 64
typedef struct listed {
    int64_t id, t_ns;
    char asset[64], kind[16], level[16], previous[16], summary[128], evidence[128];
    bool acked;
    char acked_by[64], ack_note[128], deliveries[512];
    bool labelled, label_by_null;
    char label[16], label_by[64], label_note[128];
    int64_t label_wall_ns, acked_wall_ns;
    size_t ndl;
    struct {
        char dest[32], state[16], last_error[64];
        bool no_error;
        long attempts;
        int64_t done_wall_ns;
    } dl[4];
} listed;
typedef struct listing {
    int n;
    listed a[MAX_LISTED];
} listing;

static void copy(char *dst, size_t n, const char *s) { snprintf(dst, n, "%s", s ? s : ""); }

static void list_cb(void *ctx, const alerts_listed *a)
{
    listing *l = ctx;
    if (l->n >= MAX_LISTED)
        return;
    listed *x = &l->a[l->n++];
    x->id = a->id;
    x->t_ns = a->t_ns;
    copy(x->asset, sizeof x->asset, a->asset);
    copy(x->kind, sizeof x->kind, a->kind);
    copy(x->level, sizeof x->level, a->level);
    copy(x->previous, sizeof x->previous, a->previous);
    copy(x->summary, sizeof x->summary, a->summary);
    copy(x->evidence, sizeof x->evidence, a->evidence);
    x->acked = a->acked_by != NULL;
    copy(x->acked_by, sizeof x->acked_by, a->acked_by);
    copy(x->ack_note, sizeof x->ack_note, a->ack_note);
    T_CHECK(a->deliveries != NULL, "alert %lld: deliveries NULL (want \"\" without destinations)", (long long)a->id);
    copy(x->deliveries, sizeof x->deliveries, a->deliveries);
    x->labelled = a->label != NULL;
    x->label_by_null = a->label_by == NULL;
    copy(x->label, sizeof x->label, a->label);
    copy(x->label_by, sizeof x->label_by, a->label_by);
    copy(x->label_note, sizeof x->label_note, a->label_note);
    x->label_wall_ns = a->label_wall_ns;
    x->acked_wall_ns = a->acked_wall_ns;
    x->ndl = a->ndl;
    T_CHECK((a->ndl == 0) == (a->dl == NULL), "alert %lld: %zu deliveries at %p", (long long)a->id, a->ndl,
            (const void *)a->dl);
    for (size_t i = 0; i < a->ndl && i < 4; i++) {
        copy(x->dl[i].dest, sizeof x->dl[i].dest, a->dl[i].dest);
        copy(x->dl[i].state, sizeof x->dl[i].state, a->dl[i].state);
        copy(x->dl[i].last_error, sizeof x->dl[i].last_error, a->dl[i].last_error);
        x->dl[i].no_error = a->dl[i].last_error == NULL;
        x->dl[i].attempts = a->dl[i].attempts;
        x->dl[i].done_wall_ns = a->dl[i].done_wall_ns;
    }
}

static listing *list_all(alerts_outbox *o)
{
    static listing l;
    memset(&l, 0, sizeof l);
    long n = alerts_outbox_list(o, MAX_LISTED, list_cb, &l);
    T_CHECK(n == l.n, "list returned %ld for %d alerts", n, l.n);
    return &l;
}

static const listed *find_listed(const listing *l, int64_t id)
{
    for (int i = 0; i < l->n; i++)
        if (l->a[i].id == id)
            return &l->a[i];
    return NULL;
}

static void nap_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- opening ---------------------------------------------------------------------------------- */

static void test_open(void)
{
    const char *p = db_path("open");
    alerts_outbox *o = open_or_fail(p);
    if (!o)
        return;
    T_CHECK(sql_int(p, "SELECT count(*) FROM sqlite_master WHERE type='table' AND name IN "
                       "('alert','outbox','alert_state')") == 3,
            "the three tables are not all there");
    /* a second handle while the first is open, then both closed and the file opened again */
    alerts_outbox *o2 = open_or_fail(p);
    int64_t id = add_alert(o, T0, "pump-1", "raised", "alarm", "ALARM Pump 1");
    T_CHECK(list_all(o2)->n == 1, "the second handle does not see the alert of the first");
    alerts_outbox_close(o2);
    alerts_outbox_close(o);
    o = open_or_fail(p);
    if (!o)
        return;
    listing *l = list_all(o);
    T_CHECK(l->n == 1 && l->a[0].id == id, "after reopening: %d alerts", l->n);
    alerts_outbox_close(o);

    char bad[700], err[1024] = "";
    snprintf(bad, sizeof bad, "%s/no/such/folder/alerts.sqlite3", t_tmpdir());
    o = alerts_outbox_open(bad, err, sizeof err);
    T_CHECK(o == NULL, "opened a file in a missing folder");
    alerts_outbox_close(o);
    T_CHECK(strstr(err, bad) != NULL, "the message \"%s\" does not name the file", err);
    alerts_outbox_close(NULL);
}

static void test_alert_ids(void)
{
    const char *p = db_path("ids");
    alerts_outbox *o = open_or_fail(p);
    if (!o)
        return;
    int64_t last = 0;
    for (int i = 0; i < 20; i++) {
        /* data times out of order: the id still grows */
        int64_t id = add_alert(o, T0 + (i % 3 == 0 ? -i : i) * MIN, "pump-1", "raised", "watch", "x");
        T_CHECK(id > last, "alert %d: id %lld after %lld", i, (long long)id, (long long)last);
        last = id;
    }
    alerts_outbox_close(o);
    o = open_or_fail(p);
    if (!o)
        return;
    int64_t id = add_alert(o, T0, "pump-1", "raised", "watch", "x");
    T_CHECK(id > last, "after reopening: id %lld after %lld", (long long)id, (long long)last);
    alerts_outbox_close(o);
}

/* ---- queueing and delivery -------------------------------------------------------------------- */

static void test_enqueue_key_once(void)
{
    alerts_outbox *o = open_or_fail(db_path("key"));
    if (!o)
        return;
    int64_t a = add_alert(o, T0, "pump-1", "raised", "alarm", "x");
    T_CHECK(enqueue_bytes(o, a, "mail", "box.1.mail", T0, W0, false, "first", 5) == 0, "first enqueue");
    /* the same key again, whatever else differs: -EEXIST and nothing changed */
    int rc = enqueue_bytes(o, a, "mail", "box.1.mail", T0, W0, false, "second", 6);
    T_CHECK(rc == -EEXIST, "same key again: %d, want -EEXIST", rc);
    rc = enqueue_bytes(o, a, "sms", "box.1.mail", T0 + MIN, W0 - MIN, true, "third", 5);
    T_CHECK(rc == -EEXIST, "same key for another destination: %d, want -EEXIST", rc);
    EXPECT_COUNTS(o, "mail", 1, 0, 0, 0, 0);
    EXPECT_COUNTS(o, "sms", 0, 0, 0, 0, 0);
    alerts_item it;
    T_CHECK(alerts_outbox_next(o, "mail", W0, &it, NULL) == 0 && it.len == 5 && memcmp(it.payload, "first", 5) == 0,
            "the first payload is not the one kept");
    T_CHECK(it.alert_id == a && it.attempts == 0 && it.created_wall_ns == W0 && !strcmp(it.key, "box.1.mail"),
            "item: alert %lld attempts %d created %lld key %s", (long long)it.alert_id, it.attempts,
            (long long)it.created_wall_ns, it.key);
    alerts_item_clear(&it);
    T_CHECK(alerts_outbox_next(o, "sms", W0 + DAY, &it, NULL) == -ENOENT, "the refused message was queued for sms");
    alerts_item_clear(&it);
    /* another key is welcome */
    T_CHECK(enqueue_bytes(o, a, "sms", "box.1.sms", T0, W0, false, "x", 1) == 0, "a second key");
    EXPECT_COUNTS(o, "sms", 1, 0, 0, 0, 0);
    alerts_outbox_close(o);
}

static void test_next_payload_and_destination(void)
{
    alerts_outbox *o = open_or_fail(db_path("next"));
    if (!o)
        return;
    /* NUL-free binary-ish bytes: every byte 1…255, CR LF, invalid UTF-8 */
    char bin[255];
    for (int i = 0; i < 255; i++)
        bin[i] = (char)(i + 1);
    size_t big_len = 300 * 1024;
    char *big = malloc(big_len);
    if (!big) {
        T_CHECK(0, "out of memory");
        alerts_outbox_close(o);
        return;
    }
    for (size_t i = 0; i < big_len; i++)
        big[i] = (char)(1 + (i * 131 + i / 977) % 255);

    int64_t a1 = add_alert(o, T0, "pump-1", "raised", "alarm", "one");
    int64_t a2 = add_alert(o, T0 + MIN, "pump-2", "raised", "alarm", "two");
    T_CHECK(enqueue_bytes(o, a1, "sms", "box.1.sms", T0, W0 - 5 * SEC, false, "sms one", 7) == 0, "enqueue sms");
    T_CHECK(enqueue_bytes(o, a1, "mail", "box.1.mail", T0, W0, false, bin, sizeof bin) == 0, "enqueue mail 1");
    T_CHECK(enqueue_bytes(o, a2, "mail", "box.2.mail", T0 + MIN, W0 + SEC, false, big, big_len) == 0,
            "enqueue mail 2");
    T_CHECK(enqueue_bytes(o, a2, "hook", "box.2.hook", T0 + MIN, W0 + SEC, false, "", 0) == 0,
            "enqueue an empty payload");

    alerts_item it;
    int64_t due = -1;
    T_CHECK(alerts_outbox_next(o, "mail", W0 + MIN, &it, &due) == 0, "next(mail)");
    T_CHECK(!strcmp(it.key, "box.1.mail") && it.alert_id == a1, "mail: got %s, want the oldest, box.1.mail", it.key);
    T_CHECK(it.len == sizeof bin && it.payload && memcmp(it.payload, bin, sizeof bin) == 0 && it.payload[it.len] == 0,
            "the binary-ish payload did not come back byte for byte (len %zu)", it.len);
    T_CHECK(alerts_outbox_sent(o, it.id, W0 + MIN, "250 OK") == 0, "sent");
    alerts_item_clear(&it);
    T_CHECK(it.payload == NULL && it.len == 0, "alerts_item_clear left a payload");

    T_CHECK(alerts_outbox_next(o, "mail", W0 + MIN, &it, &due) == 0, "next(mail) 2");
    T_CHECK(!strcmp(it.key, "box.2.mail") && it.alert_id == a2, "mail: got %s, want box.2.mail", it.key);
    T_CHECK(it.len == big_len && it.payload && memcmp(it.payload, big, big_len) == 0 && it.payload[it.len] == 0,
            "the 300 kB payload did not come back byte for byte (len %zu)", it.len);
    alerts_item_clear(&it);

    T_CHECK(alerts_outbox_next(o, "sms", W0 + MIN, &it, &due) == 0 && !strcmp(it.key, "box.1.sms") && it.len == 7 &&
                memcmp(it.payload, "sms one", 7) == 0,
            "next(sms) gave %s", it.key);
    alerts_item_clear(&it);
    T_CHECK(alerts_outbox_next(o, "hook", W0 + MIN, &it, &due) == 0 && it.len == 0 && it.payload &&
                it.payload[0] == 0,
            "the empty payload did not come back empty");
    alerts_item_clear(&it);
    T_CHECK(alerts_outbox_next(o, "fax", W0 + MIN, &it, &due) == -ENOENT && due == INT64_MAX,
            "an unknown destination: want -ENOENT and INT64_MAX");
    alerts_item_clear(&it);
    free(big);
    alerts_outbox_close(o);
}

static void test_next_oldest_due(void)
{
    alerts_outbox *o = open_or_fail(db_path("oldest"));
    if (!o)
        return;
    int64_t a = add_alert(o, T0, "pump-1", "raised", "alarm", "x");
    enqueue_ok(o, a, "mail", "A", T0, W0, false);
    enqueue_ok(o, a, "mail", "B", T0 + SEC, W0 + 10 * SEC, false);
    enqueue_ok(o, a, "mail", "C", T0 + 2 * SEC, W0 + 20 * SEC, false);
    alerts_item it;
    T_CHECK(!strcmp(next_key(o, "mail", W0 + 30 * SEC, &it), "A"), "first: %s, want A", it.key);
    /* next() only looks: the same message until it is marked */
    alerts_item_clear(&it);
    T_CHECK(!strcmp(next_key(o, "mail", W0 + 30 * SEC, &it), "A"), "again: %s, want A", it.key);
    T_CHECK(alerts_outbox_retry(o, it.id, W0 + 100 * SEC, "timeout", NULL) == 0, "retry A");
    alerts_item_clear(&it);
    T_CHECK(!strcmp(next_key(o, "mail", W0 + 30 * SEC, &it), "B"), "A waits: got %s, want B", it.key);
    T_CHECK(alerts_outbox_retry(o, it.id, W0 + 50 * SEC, "timeout", NULL) == 0, "retry B");
    alerts_item_clear(&it);
    T_CHECK(!strcmp(next_key(o, "mail", W0 + 30 * SEC, &it), "C"), "got %s, want C", it.key);
    T_CHECK(alerts_outbox_sent(o, it.id, W0 + 30 * SEC, "ok") == 0, "sent C");
    alerts_item_clear(&it);
    int64_t due = 0;
    T_CHECK(alerts_outbox_next(o, "mail", W0 + 30 * SEC, &it, &due) == -ENOENT, "nothing due at +30 s");
    T_CHECK(due == W0 + 50 * SEC, "next due %lld s, want +50 s", (long long)((due - W0) / SEC));
    alerts_item_clear(&it);
    /* at +200 s both are due: the oldest (queued first) comes first */
    T_CHECK(!strcmp(next_key(o, "mail", W0 + 200 * SEC, &it), "A"), "both due: got %s, want the oldest, A", it.key);
    T_CHECK(it.attempts == 1, "A: %d attempts, want 1", it.attempts);
    alerts_item_clear(&it);
    alerts_outbox_close(o);
}

/* A destination that failed defers everything it holds (with the error), a new message queues
 * behind them, and a success wakes them: first in, first out. */
static void test_defer_and_wake(void)
{
    const char *p = db_path("defer");
    alerts_outbox *o = open_or_fail(p);
    if (!o)
        return;
    int64_t a = add_alert(o, T0, "pump-1", "raised", "alarm", "x");
    enqueue_ok(o, a, "mail", "A", T0, W0, false);
    enqueue_ok(o, a, "mail", "B", T0, W0, false);
    enqueue_ok(o, a, "sms", "S", T0, W0, false);
    T_CHECK(alerts_outbox_defer(o, "mail", W0 + 60 * SEC, "connection refused") == 2, "two deferred");
    T_CHECK(sql_int(p, "SELECT count(*) FROM outbox WHERE dest='mail' AND next_wall_ns=(SELECT next_wall_ns FROM "
                       "outbox WHERE key='A') AND last_error='connection refused'") == 2,
            "both wait with the error");
    alerts_item it;
    int64_t due = 0;
    T_CHECK(alerts_outbox_next(o, "mail", W0 + SEC, &it, &due) == -ENOENT && due == W0 + 60 * SEC, "mail waits");
    alerts_item_clear(&it);
    T_CHECK(!strcmp(next_key(o, "sms", W0 + SEC, &it), "S"), "another destination does not wait");
    alerts_item_clear(&it);
    enqueue_ok(o, a, "mail", "C", T0, W0 + 2 * SEC, false); /* queued while the others wait: behind them */
    T_CHECK(alerts_outbox_next(o, "mail", W0 + 3 * SEC, &it, &due) == -ENOENT, "C overtook A and B");
    alerts_item_clear(&it);
    T_CHECK(alerts_outbox_defer(o, "mail", W0 + 30 * SEC, "x") == 0, "a shorter deferral changes nothing");
    T_CHECK(alerts_outbox_wake(o, "mail", W0 + 4 * SEC) == 3, "all three woken");
    const char *want[] = {"A", "B", "C"};
    for (int i = 0; i < 3; i++) {
        T_CHECK(!strcmp(next_key(o, "mail", W0 + 4 * SEC, &it), want[i]), "after the wake: %s, want %s", it.key, want[i]);
        alerts_outbox_sent(o, it.id, W0 + 4 * SEC, "250");
        alerts_item_clear(&it);
    }
    alerts_outbox_close(o);
}

static void test_next_not_due(void)
{
    alerts_outbox *o = open_or_fail(db_path("notdue"));
    if (!o)
        return;
    int64_t a = add_alert(o, T0, "pump-1", "raised", "alarm", "x");
    alerts_item it;
    int64_t due = 0;
    T_CHECK(alerts_outbox_next(o, "mail", W0, &it, &due) == -ENOENT && due == INT64_MAX,
            "empty outbox: want -ENOENT, INT64_MAX");
    alerts_item_clear(&it);
    /* held messages are not delivered, and set no time */
    enqueue_ok(o, a, "mail", "held", T0, W0 - HOUR, true);
    due = 0;
    T_CHECK(alerts_outbox_next(o, "mail", W0, &it, &due) == -ENOENT && due == INT64_MAX,
            "only a held message: want -ENOENT, INT64_MAX");
    alerts_item_clear(&it);
    /* another destination's due message is not ours */
    enqueue_ok(o, a, "sms", "sms", T0, W0 - HOUR, false);
    enqueue_ok(o, a, "mail", "future", T0, W0 + 90 * SEC, false);
    due = 0;
    int rc = alerts_outbox_next(o, "mail", W0, &it, &due);
    T_CHECK(rc == -ENOENT, "a message queued for later was handed out now (%d, %s)", rc, it.key);
    T_CHECK(due == W0 + 90 * SEC, "next due %lld ns after now, want 90 s", (long long)(due - W0));
    alerts_item_clear(&it);
    T_CHECK(alerts_outbox_next(o, "mail", W0, &it, NULL) == -ENOENT, "with next_due_ns NULL");
    alerts_item_clear(&it);
    T_CHECK(!strcmp(next_key(o, "mail", W0 + 90 * SEC, &it), "future"), "at its time: %s", it.key);
    alerts_item_clear(&it);
    alerts_outbox_close(o);
}

static void test_states_and_counts(void)
{
    alerts_outbox *o = open_or_fail(db_path("states"));
    if (!o)
        return;
    int64_t id[6];
    char key[32];
    for (int i = 0; i < 6; i++) {
        id[i] = add_alert(o, T0 + i * MIN, "pump-1", "raised", "alarm", "x");
        snprintf(key, sizeof key, "box.%d.mail", i);
        enqueue_ok(o, id[i], "mail", key, T0 + i * MIN, W0 + i * SEC, i == 5);
    }
    enqueue_ok(o, id[0], "sms", "box.0.sms", T0, W0, false);
    EXPECT_COUNTS(o, "mail", 5, 1, 0, 0, 0);
    EXPECT_COUNTS(o, "sms", 1, 0, 0, 0, 0);

    alerts_item it;
    int64_t now = W0 + MIN;
    T_CHECK(!strcmp(next_key(o, "mail", now, &it), "box.0.mail"), "got %s", it.key);
    T_CHECK(alerts_outbox_sent(o, it.id, now, "250 2.0.0 queued") == 0, "sent");
    alerts_item_clear(&it);
    EXPECT_COUNTS(o, "mail", 4, 1, 1, 0, 0);

    T_CHECK(!strcmp(next_key(o, "mail", now, &it), "box.1.mail"), "got %s", it.key);
    T_CHECK(alerts_outbox_retry(o, it.id, now + MIN, "timeout", NULL) == 0, "retry 1");
    alerts_item_clear(&it);
    EXPECT_COUNTS(o, "mail", 4, 1, 1, 0, 0);
    T_CHECK(!strcmp(next_key(o, "mail", now + MIN, &it), "box.1.mail") && it.attempts == 1,
            "after one retry: %s, %d attempts", it.key, it.attempts);
    T_CHECK(alerts_outbox_retry(o, it.id, now + 2 * MIN, "421 try later", "421 try later") == 0, "retry 2");
    alerts_item_clear(&it);
    T_CHECK(!strcmp(next_key(o, "mail", now + 2 * MIN, &it), "box.1.mail") && it.attempts == 2,
            "after two retries: %s, %d attempts", it.key, it.attempts);
    alerts_item_clear(&it);

    T_CHECK(!strcmp(next_key(o, "mail", now, &it), "box.2.mail"), "got %s", it.key);
    T_CHECK(alerts_outbox_failed(o, it.id, now, "550 no such user", "550 no such user") == 0, "failed");
    alerts_item_clear(&it);
    EXPECT_COUNTS(o, "mail", 3, 1, 1, 1, 0);
    T_CHECK(alerts_outbox_fold(o, "mail", T0 + DAY, id[5]) == 1, "fold the held one");
    EXPECT_COUNTS(o, "mail", 3, 0, 1, 1, 1);
    EXPECT_COUNTS(o, "sms", 1, 0, 0, 0, 0);

    listing *l = list_all(o);
    const listed *x0 = find_listed(l, id[0]), *x1 = find_listed(l, id[1]), *x2 = find_listed(l, id[2]);
    T_CHECK(x0 && !strcmp(x0->deliveries, "mail: sent; sms: pending"), "alert 0: \"%s\"", x0 ? x0->deliveries : "-");
    T_CHECK(x1 && !strcmp(x1->deliveries, "mail: pending, attempt 2: 421 try later"), "alert 1: \"%s\"",
            x1 ? x1->deliveries : "-");
    T_CHECK(x2 && !strcmp(x2->deliveries, "mail: failed, attempt 1: 550 no such user"), "alert 2: \"%s\"",
            x2 ? x2->deliveries : "-");
    /* a failed message is not handed out again */
    for (int k = 0; k < 3; k++) {
        T_CHECK(alerts_outbox_next(o, "mail", now + DAY, &it, NULL) == 0, "next");
        T_CHECK(strcmp(it.key, "box.2.mail") != 0 && strcmp(it.key, "box.0.mail") != 0,
                "a finished message came back: %s", it.key);
        alerts_outbox_sent(o, it.id, now + DAY, "ok");
        alerts_item_clear(&it);
    }
    EXPECT_COUNTS(o, "mail", 0, 0, 4, 1, 1);
    alerts_outbox_close(o);
}

static void test_exactly_once(void)
{
    enum { N = 120 };
    alerts_outbox *o = open_or_fail(db_path("once"));
    if (!o)
        return;
    for (int i = 0; i < N; i++) {
        char key[32];
        snprintf(key, sizeof key, "box.%d.hook", i);
        int64_t a = add_alert(o, T0 + i * SEC, "pump-1", "raised", "alarm", "x");
        enqueue_ok(o, a, "hook", key, T0 + i * SEC, W0 + (int64_t)(t_urand() * 100) * SEC, false);
    }
    static bool sent[N];
    memset(sent, 0, sizeof sent);
    int64_t now = W0;
    int delivered = 0, retried = 0, rounds = 0;
    alerts_item it;
    while (delivered < N && rounds++ < 20 * N) {
        int64_t due = 0;
        int rc = alerts_outbox_next(o, "hook", now, &it, &due);
        if (rc == -ENOENT) {
            T_CHECK(due != INT64_MAX, "nothing due and nothing pending with %d of %d delivered", delivered, N);
            if (due == INT64_MAX)
                break;
            now = due;
            continue;
        }
        T_CHECK(rc == 0, "next: %d", rc);
        if (rc)
            break;
        int i = -1;
        sscanf(it.key, "box.%d.hook", &i);
        T_CHECK(i >= 0 && i < N && !sent[i], "%s handed out after it was sent", it.key);
        char want[200];
        snprintf(want, sizeof want, "payload of %s", it.key);
        T_CHECK(it.len == strlen(want) && !memcmp(it.payload, want, it.len), "%s: the payload changed", it.key);
        if (t_urand() < 0.3) {
            retried++;
            int64_t later = now + (int64_t)(1 + t_urand() * 30) * SEC;
            T_CHECK(alerts_outbox_retry(o, it.id, later, "503", NULL) == 0, "retry");
        } else {
            T_CHECK(alerts_outbox_sent(o, it.id, now, "200") == 0, "sent");
            if (i >= 0 && i < N)
                sent[i] = true;
            delivered++;
        }
        alerts_item_clear(&it);
    }
    T_CHECK(delivered == N && retried > 0, "%d of %d delivered (%d retries)", delivered, N, retried);
    int64_t due = 0;
    T_CHECK(alerts_outbox_next(o, "hook", INT64_MAX, &it, &due) == -ENOENT && due == INT64_MAX,
            "a message is still there after all were sent");
    alerts_item_clear(&it);
    EXPECT_COUNTS(o, "hook", 0, 0, N, 0, 0);
    alerts_outbox_close(o);
}

static void test_expire(void)
{
    const char *p = db_path("expire");
    alerts_outbox *o = open_or_fail(p);
    if (!o)
        return;
    int64_t a = add_alert(o, T0, "pump-1", "raised", "alarm", "a");
    int64_t b = add_alert(o, T0, "pump-1", "raised", "alarm", "b");
    int64_t c = add_alert(o, T0, "pump-1", "raised", "alarm", "c");
    int64_t d = add_alert(o, T0, "pump-1", "raised", "alarm", "d");
    enqueue_ok(o, a, "mail", "a.mail", T0, W0, false);
    enqueue_ok(o, b, "mail", "b.mail", T0, W0 + HOUR, false);
    enqueue_ok(o, c, "mail", "c.mail", T0, W0 + 2 * HOUR, false); /* exactly at the limit: kept */
    enqueue_ok(o, d, "mail", "d.mail", T0, W0 + 10 * HOUR, false);
    enqueue_ok(o, a, "mail", "a.held", T0, W0, true);
    enqueue_ok(o, a, "sms", "a.sms", T0, W0, false);
    enqueue_ok(o, b, "mail", "b.sent", T0, W0, false);
    alerts_item it;
    T_CHECK(!strcmp(next_key(o, "mail", W0, &it), "a.mail"), "got %s", it.key);
    alerts_outbox_retry(o, it.id, W0 + MIN, "connection refused", NULL);
    alerts_item_clear(&it);
    T_CHECK(!strcmp(next_key(o, "mail", W0 + MIN, &it), "a.mail"), "got %s", it.key);
    alerts_outbox_retry(o, it.id, W0 + HOUR, "connect to mail.example.com:587: connection refused", NULL);
    alerts_item_clear(&it);
    T_CHECK(!strcmp(next_key(o, "mail", W0 + 2 * MIN, &it), "b.sent"), "got %s", it.key);
    alerts_outbox_sent(o, it.id, W0 + 2 * MIN, "250");
    alerts_item_clear(&it);

    long n = alerts_outbox_expire(o, "mail", W0 + 50 * HOUR, 48 * HOUR);
    T_CHECK(n == 3, "expired %ld, want 3 (the ones queued more than 48 h ago, the held one too)", n);
    EXPECT_COUNTS(o, "mail", 2, 0, 1, 3, 0);
    EXPECT_COUNTS(o, "sms", 1, 0, 0, 0, 0);
    listing *l = list_all(o);
    const listed *la = find_listed(l, a), *lb = find_listed(l, b);
    T_CHECK(la && strstr(la->deliveries, "mail: failed") &&
                strstr(la->deliveries, "given up after 48 h: connect to mail.example.com:587: connection refused"),
            "a: \"%s\"", la ? la->deliveries : "-");
    T_CHECK(la && strstr(la->deliveries, "sms: pending"), "a's sms: \"%s\"", la ? la->deliveries : "-");
    T_CHECK(lb && strstr(lb->deliveries, "mail: failed") && strstr(lb->deliveries, "given up after 48 h") &&
                strstr(lb->deliveries, "mail: sent"),
            "b: \"%s\"", lb ? lb->deliveries : "-");
    T_CHECK(sql_int(p, "SELECT count(*) FROM outbox WHERE key='a.mail' AND last_error LIKE "
                       "'given up after 48 h: %connection refused'") == 1,
            "the last error is not kept after \"given up after 48 h: \"");
    T_CHECK(!strcmp(next_key(o, "mail", W0 + 50 * HOUR, &it), "c.mail"), "after expiry: %s, want c.mail", it.key);
    alerts_item_clear(&it);
    T_CHECK(alerts_outbox_expire(o, "mail", W0 + 50 * HOUR, 48 * HOUR) == 0, "expired twice");
    T_CHECK(alerts_outbox_expire(o, "mail", W0 + 58 * HOUR + SEC, 48 * HOUR) == 2, "c and d later");
    EXPECT_COUNTS(o, "mail", 0, 0, 1, 5, 0);
    alerts_outbox_close(o);
}

/* ---- the rate limit: held, fold, recent --------------------------------------------------------- */

typedef struct held_seen {
    int n;
    int64_t alert_id[8], t_ns[8];
    char summary[8][32];
    bool fields_ok;
} held_seen;

static void held_cb(void *ctx, int64_t alert_id, int64_t t_ns, const char *asset, const char *level,
                    const char *kind, const char *summary)
{
    held_seen *h = ctx;
    if (h->n >= 8)
        return;
    h->alert_id[h->n] = alert_id;
    h->t_ns[h->n] = t_ns;
    snprintf(h->summary[h->n], sizeof h->summary[0], "%s", summary ? summary : "");
    if (!asset || strcmp(asset, "pump-7") || !level || strcmp(level, "warning") || !kind || strcmp(kind, "repeat"))
        h->fields_ok = false;
    h->n++;
}

static void test_held_and_fold(void)
{
    alerts_outbox *o = open_or_fail(db_path("held"));
    if (!o)
        return;
    int64_t p1 = add_alert(o, T0 + 1 * MIN, "pump-1", "raised", "alarm", "p1");
    int64_t p2 = add_alert(o, T0 + 2 * MIN, "pump-1", "raised", "alarm", "p2");
    enqueue_ok(o, p1, "mail", "p1", T0 + 1 * MIN, W0, false);
    enqueue_ok(o, p2, "mail", "p2", T0 + 2 * MIN, W0, false);
    /* held ones queued out of data-time order */
    int64_t h5 = add_alert(o, T0 + 5 * MIN, "pump-7", "repeat", "warning", "five");
    int64_t h3 = add_alert(o, T0 + 3 * MIN, "pump-7", "repeat", "warning", "three");
    int64_t h4 = add_alert(o, T0 + 4 * MIN, "pump-7", "repeat", "warning", "four");
    enqueue_ok(o, h5, "mail", "h5", T0 + 5 * MIN, W0 + 1, true);
    enqueue_ok(o, h3, "mail", "h3", T0 + 3 * MIN, W0 + 2, true);
    enqueue_ok(o, h4, "mail", "h4", T0 + 4 * MIN, W0 + 3, true);
    enqueue_ok(o, h3, "sms", "h3.sms", T0 + 3 * MIN, W0, true);

    T_CHECK(alerts_outbox_recent(o, "mail", T0) == 2, "recent counts %ld, want 2 (held ones do not count)",
            alerts_outbox_recent(o, "mail", T0));
    held_seen h = {.fields_ok = true};
    long n = alerts_outbox_held(o, "mail", 10, held_cb, &h);
    T_CHECK(n == 3 && h.n == 3, "held: %ld (%d callbacks), want 3", n, h.n);
    T_CHECK(h.n == 3 && !strcmp(h.summary[0], "three") && !strcmp(h.summary[1], "four") &&
                !strcmp(h.summary[2], "five"),
            "held order: %s, %s, %s; want three, four, five", h.summary[0], h.summary[1], h.summary[2]);
    T_CHECK(h.alert_id[0] == h3 && h.alert_id[1] == h4 && h.alert_id[2] == h5, "held alert ids");
    T_CHECK(h.t_ns[0] == T0 + 3 * MIN && h.t_ns[2] == T0 + 5 * MIN, "held data times");
    T_CHECK(h.fields_ok, "held: asset, level or kind not the alert's");
    memset(&h, 0, sizeof h);
    T_CHECK(alerts_outbox_held(o, "mail", 2, held_cb, &h) == 2 && !strcmp(h.summary[0], "three") &&
                !strcmp(h.summary[1], "four"),
            "held at most 2");
    T_CHECK(alerts_outbox_held(o, "mail", 10, NULL, NULL) == 3, "held with no callback");

    int64_t digest = add_alert(o, T0 + 6 * MIN, "", "digest", "warning", "2 more alerts");
    T_CHECK(alerts_outbox_fold(o, "mail", T0 + 4 * MIN, digest) == 2, "fold up to +4 min");
    EXPECT_COUNTS(o, "mail", 2, 1, 0, 0, 2);
    EXPECT_COUNTS(o, "sms", 0, 1, 0, 0, 0);
    memset(&h, 0, sizeof h);
    T_CHECK(alerts_outbox_held(o, "mail", 10, held_cb, &h) == 1 && !strcmp(h.summary[0], "five"),
            "after folding: %d held, first %s", h.n, h.summary[0]);
    T_CHECK(alerts_outbox_recent(o, "mail", T0) == 2, "folded ones counted in recent");
    T_CHECK(alerts_outbox_fold(o, "mail", T0 + 4 * MIN, digest) == 0, "folded twice");
    alerts_item it;
    T_CHECK(!strcmp(next_key(o, "mail", W0 + DAY, &it), "p1"), "-");
    alerts_item_clear(&it);
    alerts_outbox_close(o);
}

static void test_recent_by_data_time(void)
{
    alerts_outbox *o = open_or_fail(db_path("recent"));
    if (!o)
        return;
    int64_t a = add_alert(o, T0, "pump-1", "raised", "alarm", "x");
    /* data times 10, 20, 30 s queued at wall times in the opposite order */
    enqueue_ok(o, a, "mail", "m10", T0 + 10 * SEC, W0 + 30 * SEC, false);
    enqueue_ok(o, a, "mail", "m20", T0 + 20 * SEC, W0 + 20 * SEC, false);
    enqueue_ok(o, a, "mail", "m30", T0 + 30 * SEC, W0 + 10 * SEC, false);
    enqueue_ok(o, a, "mail", "m40", T0 + 40 * SEC, W0, true);
    enqueue_ok(o, a, "sms", "s25", T0 + 25 * SEC, W0, false);
    T_CHECK(alerts_outbox_recent(o, "mail", T0) == 3, "all: %ld", alerts_outbox_recent(o, "mail", T0));
    T_CHECK(alerts_outbox_recent(o, "mail", T0 + 20 * SEC) == 2, "since 20 s: %ld",
            alerts_outbox_recent(o, "mail", T0 + 20 * SEC));
    T_CHECK(alerts_outbox_recent(o, "mail", T0 + 31 * SEC) == 0, "since 31 s: %ld",
            alerts_outbox_recent(o, "mail", T0 + 31 * SEC));
    T_CHECK(alerts_outbox_recent(o, "sms", T0 + 20 * SEC) == 1, "sms");
    /* delivered or not, a message queued counts */
    alerts_item it;
    next_key(o, "mail", W0 + DAY, &it);
    alerts_outbox_sent(o, it.id, W0 + DAY, "ok");
    alerts_item_clear(&it);
    next_key(o, "mail", W0 + DAY, &it);
    alerts_outbox_failed(o, it.id, W0 + DAY, "no", NULL);
    alerts_item_clear(&it);
    T_CHECK(alerts_outbox_recent(o, "mail", T0) == 3, "after sent and failed: %ld",
            alerts_outbox_recent(o, "mail", T0));
    alerts_outbox_close(o);
}

/* ---- ack, list, state ------------------------------------------------------------------------- */

static void test_ack(void)
{
    alerts_outbox *o = open_or_fail(db_path("ack"));
    if (!o)
        return;
    int64_t r1 = add_alert(o, T0 + 1 * MIN, "pump-1", "raised", "warning", "r1");
    int64_t r2 = add_alert(o, T0 + 2 * MIN, "pump-1", "repeat", "warning", "r2");
    int64_t r3 = add_alert(o, T0 + 3 * MIN, "pump-1", "lowered", "watch", "r3");
    int64_t r4 = add_alert(o, T0 + 4 * MIN, "pump-1", "recovered", "ok", "r4");
    int64_t r5 = add_alert(o, T0 + 5 * MIN, "pump-1", "raised", "alarm", "r5");
    int64_t q1 = add_alert(o, T0 + 1 * MIN, "pump-10", "raised", "alarm", "q1");
    int64_t q2 = add_alert(o, T0 + 1 * MIN, "pump-2", "repeat", "alarm", "q2");
    long n = alerts_outbox_ack(o, "pump-1", "ana", "bearing ordered, swap Friday", W0);
    T_CHECK(n == 3, "acknowledged %ld, want 3 (the raised and repeat ones of pump-1)", n);
    listing *l = list_all(o);
    int64_t acked[] = {r1, r2, r5}, not_acked[] = {r3, r4, q1, q2};
    for (size_t i = 0; i < 3; i++) {
        const listed *x = find_listed(l, acked[i]);
        T_CHECK(x && x->acked && !strcmp(x->acked_by, "ana") && !strcmp(x->ack_note, "bearing ordered, swap Friday"),
                "alert %lld: acked_by \"%s\" note \"%s\"", (long long)acked[i], x ? x->acked_by : "-",
                x ? x->ack_note : "-");
    }
    for (size_t i = 0; i < 4; i++) {
        const listed *x = find_listed(l, not_acked[i]);
        T_CHECK(x && !x->acked, "alert %lld (%s %s) acknowledged", (long long)not_acked[i], x ? x->asset : "-",
                x ? x->kind : "-");
    }
    T_CHECK(alerts_outbox_ack(o, "pump-1", "bo", "again", W0 + MIN) == 0, "acknowledged twice");
    int64_t r6 = add_alert(o, T0 + 6 * MIN, "pump-1", "repeat", "alarm", "r6");
    T_CHECK(alerts_outbox_ack(o, "pump-1", "bo", "", W0 + 2 * MIN) == 1, "the new one");
    l = list_all(o);
    const listed *x1 = find_listed(l, r1), *x6 = find_listed(l, r6);
    T_CHECK(x1 && !strcmp(x1->acked_by, "ana"), "the first acknowledgement was overwritten");
    T_CHECK(x6 && x6->acked && !strcmp(x6->acked_by, "bo") && !strcmp(x6->ack_note, ""), "r6: \"%s\"",
            x6 ? x6->acked_by : "-");
    T_CHECK(alerts_outbox_ack(o, "no-such-asset", "bo", "", W0) == 0, "an unknown asset");
    alerts_outbox_close(o);
}

static void test_list(void)
{
    alerts_outbox *o = open_or_fail(db_path("list"));
    if (!o)
        return;
    alerts_row r = {.t_ns = T0 + HOUR, .asset = "pump-1", .kind = "raised", .level = "warning", .previous = "watch",
                    .summary = "WARNING Pump 1 (pump-1): outer race defect", .evidence = "{\"rul_h\":120}"};
    int64_t a1 = alerts_outbox_alert_add(o, &r);
    r.t_ns = T0 + 3 * HOUR;
    r.kind = "repeat";
    r.level = "alarm";
    r.previous = "alarm";
    r.summary = "ALARM still";
    int64_t a2 = alerts_outbox_alert_add(o, &r);
    r.t_ns = T0 + 2 * HOUR;
    r.asset = "fan-2";
    r.kind = "recovered";
    r.level = "ok";
    r.summary = "RECOVERED Fan 2 (fan-2): back to normal";
    int64_t a3 = alerts_outbox_alert_add(o, &r);
    T_CHECK(a1 > 0 && a2 > 0 && a3 > 0, "add");
    enqueue_ok(o, a2, "mail", "a2.mail", r.t_ns, W0, false);
    enqueue_ok(o, a2, "sms", "a2.sms", r.t_ns, W0, false);
    alerts_item it;
    T_CHECK(!strcmp(next_key(o, "mail", W0, &it), "a2.mail"), "-");
    alerts_outbox_sent(o, it.id, W0, "250");
    alerts_item_clear(&it);
    for (int k = 0; k < 3; k++) {
        T_CHECK(!strcmp(next_key(o, "sms", W0 + k * MIN, &it), "a2.sms"), "-");
        alerts_outbox_retry(o, it.id, W0 + (k + 1) * MIN, k < 2 ? "connection refused" : "timeout", NULL);
        alerts_item_clear(&it);
    }
    listing *l = list_all(o);
    T_CHECK(l->n == 3 && l->a[0].id == a2 && l->a[1].id == a3 && l->a[2].id == a1,
            "order by data time, newest first: %lld %lld %lld", (long long)l->a[0].id, (long long)l->a[1].id,
            (long long)l->a[2].id);
    const listed *x2 = find_listed(l, a2), *x1 = find_listed(l, a1);
    T_CHECK(x2 && !strcmp(x2->deliveries, "mail: sent; sms: pending, attempt 3: timeout"), "deliveries \"%s\"",
            x2 ? x2->deliveries : "-");
    T_CHECK(x1 && !strcmp(x1->deliveries, ""), "without destinations: \"%s\"", x1 ? x1->deliveries : "-");
    T_CHECK(x1 && x1->t_ns == T0 + HOUR && !strcmp(x1->asset, "pump-1") && !strcmp(x1->kind, "raised") &&
                !strcmp(x1->level, "warning") && !strcmp(x1->previous, "watch") &&
                !strcmp(x1->summary, "WARNING Pump 1 (pump-1): outer race defect") &&
                !strcmp(x1->evidence, "{\"rul_h\":120}") && !x1->acked,
            "the fields of an alert did not come back");
    listing l2;
    memset(&l2, 0, sizeof l2);
    T_CHECK(alerts_outbox_list(o, 2, list_cb, &l2) == 2 && l2.a[0].id == a2 && l2.a[1].id == a3, "at most 2");
    alerts_outbox_close(o);
}

static void test_state(void)
{
    const char *p = db_path("state");
    alerts_outbox *o = open_or_fail(p);
    if (!o)
        return;
    char *js = (char *)"untouched";
    T_CHECK(alerts_outbox_state_get(o, "pump-1", &js) == -ENOENT && js == NULL, "a missing state");
    T_CHECK(alerts_outbox_state_put(o, "pump-1", "{\"level\":\"watch\"}") == 0, "put");
    T_CHECK(alerts_outbox_state_put(o, "pump-2", "{\"level\":\"ok\",\"name\":\"Pumpe \xc3\xa4\"}") == 0, "put 2");
    T_CHECK(alerts_outbox_state_get(o, "pump-1", &js) == 0 && js && !strcmp(js, "{\"level\":\"watch\"}"), "get: %s",
            js ? js : "NULL");
    free(js);
    T_CHECK(alerts_outbox_state_put(o, "pump-1", "{\"level\":\"alarm\"}") == 0, "overwrite");
    T_CHECK(alerts_outbox_state_get(o, "pump-1", &js) == 0 && js && !strcmp(js, "{\"level\":\"alarm\"}"),
            "after overwrite: %s", js ? js : "NULL");
    free(js);
    T_CHECK(sql_int(p, "SELECT count(*) FROM alert_state") == 2, "overwriting added a row");
    /* a large state, and after reopening */
    size_t n = 200000;
    char *big = malloc(n + 1);
    if (big) {
        memset(big, 'x', n);
        big[0] = '"';
        big[n - 1] = '"';
        big[n] = 0;
        T_CHECK(alerts_outbox_state_put(o, "pump-3", big) == 0, "a large state");
    }
    alerts_outbox_close(o);
    o = open_or_fail(p);
    if (!o) {
        free(big);
        return;
    }
    T_CHECK(alerts_outbox_state_get(o, "pump-2", &js) == 0 && js &&
                !strcmp(js, "{\"level\":\"ok\",\"name\":\"Pumpe \xc3\xa4\"}"),
            "after reopening: %s", js ? js : "NULL");
    free(js);
    if (big) {
        T_CHECK(alerts_outbox_state_get(o, "pump-3", &js) == 0 && js && !strcmp(js, big), "the large state");
        free(js);
    }
    free(big);
    alerts_outbox_close(o);
}

/* ---- prune ------------------------------------------------------------------------------------ */

/* Sends (or fails) the due message of key at once. */
static void finish(alerts_outbox *o, const char *dest, const char *key, bool ok)
{
    alerts_item it;
    T_CHECK(!strcmp(next_key(o, dest, INT64_MAX, &it), key), "finish: got %s, want %s", it.key, key);
    if (ok)
        alerts_outbox_sent(o, it.id, W0, "ok");
    else
        alerts_outbox_failed(o, it.id, W0, "refused", NULL);
    alerts_item_clear(&it);
}

/* A destination removed from the configuration: its waiting messages are given up, with why;
 * the configured ones and every finished message stay as they were. */
static void test_orphans(void)
{
    const char *p = db_path("orphans");
    alerts_outbox *o = open_or_fail(p);
    if (!o)
        return;
    int64_t a = add_alert(o, T0, "pump-1", "raised", "alarm", "a");
    enqueue_ok(o, a, "mail", "a.mail", T0, W0, false);
    enqueue_ok(o, a, "old-sms", "a.old", T0, W0, false);
    enqueue_ok(o, a, "old-sms", "a.oldheld", T0, W0, true);
    enqueue_ok(o, a, "pager", "a.pager", T0, W0, false);
    alerts_item it;
    T_CHECK(!strcmp(next_key(o, "pager", W0, &it), "a.pager"), "got %s", it.key);
    alerts_outbox_sent(o, it.id, W0, "200 OK");
    alerts_item_clear(&it);
    const char *names[] = {"mail", "it's \"quoted\""};
    long n = alerts_outbox_orphans(o, names, 2, W0 + MIN);
    T_CHECK(n == 2, "orphans given up: %ld, want 2 (old-sms pending and held)", n);
    EXPECT_COUNTS(o, "old-sms", 0, 0, 0, 2, 0);
    EXPECT_COUNTS(o, "mail", 1, 0, 0, 0, 0);
    EXPECT_COUNTS(o, "pager", 0, 0, 1, 0, 0);
    T_CHECK(sql_int(p, "SELECT count(*) FROM outbox WHERE dest='old-sms' AND "
                       "last_error='destination old-sms is no longer configured'") == 2, "the reason is recorded");
    T_CHECK(alerts_outbox_orphans(o, names, 2, W0 + MIN) == 0, "a second call finds nothing");
    T_CHECK(alerts_outbox_orphans(o, NULL, 0, W0 + MIN) == 1, "no destination at all: mail's message goes too");
    alerts_outbox_close(o);
}

static void test_prune_age(void)
{
    const char *p = db_path("prune_age");
    alerts_outbox *o = open_or_fail(p);
    if (!o)
        return;
    int64_t old = T0 + DAY, now = T0 + 100 * DAY, keep = 30 * DAY;
    int64_t o_sent = add_alert(o, old, "pump-1", "raised", "alarm", "sent");
    int64_t o_failed = add_alert(o, old + 1, "pump-1", "raised", "alarm", "failed");
    int64_t o_folded = add_alert(o, old + 2, "pump-1", "repeat", "alarm", "folded");
    int64_t o_none = add_alert(o, old + 3, "pump-1", "raised", "alarm", "no destinations");
    int64_t o_pending = add_alert(o, old + 4, "pump-1", "raised", "alarm", "pending");
    int64_t o_held = add_alert(o, old + 5, "pump-1", "raised", "alarm", "held");
    int64_t o_mixed = add_alert(o, old + 6, "pump-1", "raised", "alarm", "mail sent, sms pending");
    int64_t o_acked = add_alert(o, old + 7, "pump-1", "raised", "alarm", "acknowledged");
    int64_t r_sent = add_alert(o, now - DAY, "pump-1", "raised", "alarm", "recent");
    int64_t digest = add_alert(o, now - DAY, "", "digest", "alarm", "digest");
    enqueue_ok(o, o_sent, "mail", "o_sent", old, W0, false);
    finish(o, "mail", "o_sent", true);
    enqueue_ok(o, o_failed, "mail", "o_failed", old, W0, false);
    finish(o, "mail", "o_failed", false);
    enqueue_ok(o, o_folded, "mail", "o_folded", old, W0, true);
    T_CHECK(alerts_outbox_fold(o, "mail", old + DAY, digest) == 1, "fold");
    enqueue_ok(o, o_pending, "hook", "o_pending", old, W0 + 100 * DAY, false);
    enqueue_ok(o, o_held, "sms", "o_held", old, W0, true);
    enqueue_ok(o, o_mixed, "mail", "o_mixed.mail", old, W0, false);
    finish(o, "mail", "o_mixed.mail", true);
    enqueue_ok(o, o_mixed, "sms", "o_mixed.sms", old, W0 + 100 * DAY, false);
    enqueue_ok(o, o_acked, "mail", "o_acked", old, W0, false);
    finish(o, "mail", "o_acked", true);
    T_CHECK(alerts_outbox_ack(o, "pump-1", "ana", "done", W0) > 0, "ack");
    enqueue_ok(o, r_sent, "mail", "r_sent", now - DAY, W0, false);
    finish(o, "mail", "r_sent", true);
    enqueue_ok(o, digest, "mail", "digest", now - DAY, W0, false);
    finish(o, "mail", "digest", true);

    long n = alerts_outbox_prune(o, now, keep, 1000);
    T_CHECK(n == 5, "pruned %ld, want 5 (sent, failed, folded, no destinations, acknowledged)", n);
    listing *l = list_all(o);
    int64_t gone[] = {o_sent, o_failed, o_folded, o_none, o_acked};
    int64_t kept[] = {o_pending, o_held, o_mixed, r_sent, digest};
    for (size_t i = 0; i < 5; i++) {
        T_CHECK(!find_listed(l, gone[i]), "alert %lld kept", (long long)gone[i]);
        T_CHECK(find_listed(l, kept[i]) != NULL, "alert %lld deleted", (long long)kept[i]);
    }
    T_CHECK(sql_int(p, "SELECT count(*) FROM outbox WHERE alert_id NOT IN (SELECT id FROM alert)") == 0,
            "messages of deleted alerts are left");
    T_CHECK(sql_int(p, "SELECT count(*) FROM outbox") == 6, "%lld messages left, want 6",
            sql_int(p, "SELECT count(*) FROM outbox"));
    EXPECT_COUNTS(o, "sms", 1, 1, 0, 0, 0);
    EXPECT_COUNTS(o, "hook", 1, 0, 0, 0, 0);
    T_CHECK(alerts_outbox_prune(o, now, keep, 1000) == 0, "pruned twice");
    /* what was pending and is finished now goes */
    finish(o, "hook", "o_pending", true);
    T_CHECK(alerts_outbox_prune(o, now, keep, 1000) == 1, "the delivered one");
    /* the outbox works on after pruning */
    alerts_item it;
    T_CHECK(!strcmp(next_key(o, "sms", INT64_MAX, &it), "o_mixed.sms"), "-");
    alerts_item_clear(&it);
    alerts_outbox_close(o);
}

static void test_prune_rows(void)
{
    const char *p = db_path("prune_rows");
    alerts_outbox *o = open_or_fail(p);
    if (!o)
        return;
    int64_t id[10];
    char key[32];
    for (int i = 0; i < 10; i++) {
        /* added newest first: the age is the data time, not the id */
        int k = 9 - i;
        id[k] = add_alert(o, T0 + k * HOUR, "pump-1", "raised", "alarm", "x");
        snprintf(key, sizeof key, "k%d", k);
        enqueue_ok(o, id[k], k == 1 ? "sms" : "mail", key, T0 + k * HOUR, W0, false);
        if (k != 1)
            finish(o, "mail", key, true);
    }
    long n = alerts_outbox_prune(o, T0 + 10 * HOUR, 365 * DAY, 4);
    T_CHECK(n == 5, "pruned %ld, want 5 (the oldest six beyond 4, but not the pending one)", n);
    listing *l = list_all(o);
    for (int k = 0; k < 10; k++) {
        bool want = k >= 6 || k == 1;
        T_CHECK((find_listed(l, id[k]) != NULL) == want, "alert at +%d h %s", k, want ? "deleted" : "kept");
    }
    T_CHECK(sql_int(p, "SELECT count(*) FROM outbox") == 5, "%lld messages left, want 5",
            sql_int(p, "SELECT count(*) FROM outbox"));
    T_CHECK(alerts_outbox_prune(o, T0 + 10 * HOUR, 365 * DAY, 4) == 0, "pruned twice");
    finish(o, "sms", "k1", false);
    T_CHECK(alerts_outbox_prune(o, T0 + 10 * HOUR, 365 * DAY, 4) == 1, "k1 once finished");
    T_CHECK(list_all(o)->n == 4, "%d left, want 4", list_all(o)->n);
    alerts_outbox_close(o);
}

/* ---- transactions, handles, threads, crashes --------------------------------------------------- */

static int count_asset(alerts_outbox *o, const char *asset)
{
    listing *l = list_all(o);
    int n = 0;
    for (int i = 0; i < l->n; i++)
        n += !strcmp(l->a[i].asset, asset);
    return n;
}

static void test_transaction(void)
{
    const char *p = db_path("tx");
    alerts_outbox *o = open_or_fail(p), *o2 = open_or_fail(p);
    if (!o || !o2) {
        alerts_outbox_close(o);
        alerts_outbox_close(o2);
        return;
    }
    char *js = NULL;
    T_CHECK(alerts_outbox_begin(o) == 0, "begin");
    int64_t a = add_alert(o, T0, "pump-1", "raised", "alarm", "x");
    enqueue_ok(o, a, "mail", "tx.mail", T0, W0, false);
    T_CHECK(alerts_outbox_state_put(o, "pump-1", "{\"n\":1}") == 0, "state_put");
    /* inside: visible to itself, not to the other handle */
    T_CHECK(count_asset(o, "pump-1") == 1, "the transaction does not see its own alert");
    T_CHECK(count_asset(o2, "pump-1") == 0, "another handle sees an uncommitted alert");
    T_CHECK(alerts_outbox_state_get(o2, "pump-1", &js) == -ENOENT, "another handle sees an uncommitted state");
    free(js);
    alerts_outbox_rollback(o);
    T_CHECK(count_asset(o, "pump-1") == 0 && count_asset(o2, "pump-1") == 0, "rolled back, the alert is there");
    EXPECT_COUNTS(o, "mail", 0, 0, 0, 0, 0);
    T_CHECK(alerts_outbox_state_get(o, "pump-1", &js) == -ENOENT, "rolled back, the state is there");
    free(js);
    T_CHECK(sql_int(p, "SELECT count(*) FROM alert") == 0 && sql_int(p, "SELECT count(*) FROM outbox") == 0,
            "rolled back rows in the file");

    T_CHECK(alerts_outbox_begin(o) == 0, "begin 2");
    a = add_alert(o, T0, "pump-1", "raised", "alarm", "x");
    enqueue_ok(o, a, "mail", "tx.mail", T0, W0, false);
    T_CHECK(alerts_outbox_state_put(o, "pump-1", "{\"n\":2}") == 0, "state_put 2");
    T_CHECK(alerts_outbox_commit(o) == 0, "commit");
    T_CHECK(count_asset(o2, "pump-1") == 1, "committed, the other handle does not see it");
    EXPECT_COUNTS(o2, "mail", 1, 0, 0, 0, 0);
    T_CHECK(alerts_outbox_state_get(o2, "pump-1", &js) == 0 && js && !strcmp(js, "{\"n\":2}"), "state %s",
            js ? js : "NULL");
    free(js);
    alerts_outbox_close(o);
    alerts_outbox_close(o2);
}

static void test_two_handles_interleaved(void)
{
    const char *p = db_path("interleave");
    alerts_outbox *rules = open_or_fail(p), *deliv = open_or_fail(p);
    if (!rules || !deliv) {
        alerts_outbox_close(rules);
        alerts_outbox_close(deliv);
        return;
    }
    int errors = 0;
    for (int i = 0; i < 100; i++) {
        char key[32];
        snprintf(key, sizeof key, "i%d", i);
        errors += alerts_outbox_begin(rules) != 0;
        int64_t a = add_alert(rules, T0 + i * SEC, "pump-1", "raised", "alarm", "x");
        errors += enqueue_bytes(rules, a, "mail", key, T0 + i * SEC, W0 + i, false, "p", 1) != 0;
        errors += alerts_outbox_state_put(rules, "pump-1", key) != 0;
        errors += alerts_outbox_commit(rules) != 0;
        alerts_item it;
        if (alerts_outbox_next(deliv, "mail", W0 + i, &it, NULL) == 0) {
            errors += strcmp(it.key, key) != 0;
            errors += (i % 3 ? alerts_outbox_sent(deliv, it.id, W0 + i, "ok")
                             : alerts_outbox_failed(deliv, it.id, W0 + i, "550 refused", NULL)) != 0;
        } else {
            errors++;
        }
        alerts_item_clear(&it);
        errors += alerts_outbox_expire(deliv, "mail", W0 + i, DAY) != 0;
        if (i % 10 == 9)
            errors += alerts_outbox_prune(rules, T0, DAY, 1000000) < 0;
    }
    T_CHECK(errors == 0, "%d errors", errors);
    alerts_counts c = counts(deliv, "mail");
    T_CHECK(c.sent + c.failed == 100 && c.failed == 34, "sent %ld failed %ld", c.sent, c.failed);
    alerts_outbox_close(rules);
    alerts_outbox_close(deliv);
}

typedef struct blocked_writer {
    const char *path;
    int64_t id;
    double waited_s;
} blocked_writer;

static void *blocked_writer_main(void *arg)
{
    blocked_writer *w = arg;
    char err[512];
    alerts_outbox *o = alerts_outbox_open(w->path, err, sizeof err);
    if (!o) {
        w->id = -1000;
        return NULL;
    }
    double t = mono_s();
    alerts_row r = {.t_ns = T0, .asset = "pump-2", .kind = "raised", .level = "alarm", .previous = "ok",
                    .summary = "x", .evidence = "{}"};
    w->id = alerts_outbox_alert_add(o, &r);
    w->waited_s = mono_s() - t;
    alerts_outbox_close(o);
    return NULL;
}

/* A write while another handle holds the write lock waits for it (the busy timeout) and succeeds. */
static void test_busy_timeout(void)
{
    const char *p = db_path("busy");
    alerts_outbox *o = open_or_fail(p);
    if (!o)
        return;
    T_CHECK(alerts_outbox_begin(o) == 0, "begin");
    add_alert(o, T0, "pump-1", "raised", "alarm", "x");
    blocked_writer w = {.path = p};
    pthread_t th;
    T_CHECK(pthread_create(&th, NULL, blocked_writer_main, &w) == 0, "pthread_create");
    nap_ms(400);
    T_CHECK(alerts_outbox_commit(o) == 0, "commit");
    pthread_join(th, NULL);
    T_CHECK(w.id > 0, "the waiting writer failed: %lld", (long long)w.id);
    T_CHECK(w.waited_s > 0.2, "the writer did not wait for the lock (%.3f s)", w.waited_s);
    T_CHECK(count_asset(o, "pump-1") == 1 && count_asset(o, "pump-2") == 1, "both alerts are there");
    alerts_outbox_close(o);
}

enum { THREAD_OPS = 300 };

typedef struct worker {
    const char *path;
    int errors, done;
    char first_error[600];
    int64_t delivered_per_key[THREAD_OPS];
} worker;

static void worker_error(worker *w, const char *what, long rc)
{
    if (!w->errors++)
        snprintf(w->first_error, sizeof w->first_error, "%s: %ld", what, rc);
}

static void *rules_thread(void *arg)
{
    worker *w = arg;
    char err[512];
    alerts_outbox *o = alerts_outbox_open(w->path, err, sizeof err);
    if (!o) {
        worker_error(w, err, -1);
        return NULL;
    }
    for (int i = 0; i < THREAD_OPS; i++) {
        char key[32], state[64];
        snprintf(key, sizeof key, "box.%d.mail", i);
        snprintf(state, sizeof state, "{\"i\":%d}", i);
        int rc = alerts_outbox_begin(o);
        if (rc) {
            worker_error(w, "begin", rc);
            continue;
        }
        alerts_row r = {.t_ns = T0 + i * SEC, .asset = "pump-1", .kind = "raised", .level = "alarm",
                        .previous = "ok", .summary = key, .evidence = "{}"};
        int64_t a = alerts_outbox_alert_add(o, &r);
        if (a <= 0)
            worker_error(w, "alert_add", (long)a);
        alerts_msg m = {.alert_id = a, .dest = "mail", .key = key, .t_ns = r.t_ns, .wall_ns = W0 + i,
                        .payload = key, .len = strlen(key)};
        if ((rc = alerts_outbox_enqueue(o, &m)))
            worker_error(w, "enqueue", rc);
        if ((rc = alerts_outbox_state_put(o, "pump-1", state)))
            worker_error(w, "state_put", rc);
        long recent = alerts_outbox_recent(o, "mail", T0);
        if (recent != i + 1)
            worker_error(w, "recent", recent);
        if ((rc = alerts_outbox_commit(o)))
            worker_error(w, "commit", rc);
        w->done++;
    }
    alerts_outbox_close(o);
    return NULL;
}

static void *delivery_thread(void *arg)
{
    worker *w = arg;
    char err[512];
    alerts_outbox *o = alerts_outbox_open(w->path, err, sizeof err);
    if (!o) {
        worker_error(w, err, -1);
        return NULL;
    }
    double deadline = mono_s() + 60;
    unsigned attempt = 0;
    while (w->done < THREAD_OPS && mono_s() < deadline) {
        long ex = alerts_outbox_expire(o, "mail", W0 + THREAD_OPS, DAY);
        if (ex != 0)
            worker_error(w, "expire", ex);
        alerts_item it;
        int rc = alerts_outbox_next(o, "mail", W0 + THREAD_OPS, &it, NULL);
        if (rc == -ENOENT) {
            nap_ms(1);
            continue;
        }
        if (rc) {
            worker_error(w, "next", rc);
            continue;
        }
        int i = -1;
        sscanf(it.key, "box.%d.mail", &i);
        if (i < 0 || i >= THREAD_OPS || it.len != strlen(it.key) || memcmp(it.payload, it.key, it.len)) {
            worker_error(w, "a wrong message", i);
        } else if (attempt++ % 5 == 0) {
            if ((rc = alerts_outbox_retry(o, it.id, W0, "busy", NULL)))
                worker_error(w, "retry", rc);
        } else {
            if ((rc = alerts_outbox_sent(o, it.id, W0 + THREAD_OPS, "ok")))
                worker_error(w, "sent", rc);
            w->delivered_per_key[i]++;
            w->done++;
        }
        alerts_item_clear(&it);
    }
    alerts_outbox_close(o);
    return NULL;
}

static void test_threads(void)
{
    const char *p = db_path("threads");
    alerts_outbox *o = open_or_fail(p);
    if (!o)
        return;
    static worker rw, dw;
    memset(&rw, 0, sizeof rw);
    memset(&dw, 0, sizeof dw);
    rw.path = dw.path = p;
    pthread_t a, b;
    T_CHECK(pthread_create(&a, NULL, rules_thread, &rw) == 0, "pthread_create");
    T_CHECK(pthread_create(&b, NULL, delivery_thread, &dw) == 0, "pthread_create");
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    T_CHECK(rw.errors == 0, "rules thread: %d errors, first %s", rw.errors, rw.first_error);
    T_CHECK(dw.errors == 0, "delivery thread: %d errors, first %s", dw.errors, dw.first_error);
    T_CHECK(rw.done == THREAD_OPS && dw.done == THREAD_OPS, "rules %d, delivered %d of %d", rw.done, dw.done,
            THREAD_OPS);
    int twice = 0;
    for (int i = 0; i < THREAD_OPS; i++)
        twice += dw.delivered_per_key[i] != 1;
    T_CHECK(twice == 0, "%d messages not delivered exactly once", twice);
    EXPECT_COUNTS(o, "mail", 0, 0, THREAD_OPS, 0, 0);
    T_CHECK(sql_int(p, "SELECT count(*) FROM alert") == THREAD_OPS, "alerts in the file");
    char *js = NULL;
    T_CHECK(alerts_outbox_state_get(o, "pump-1", &js) == 0 && js && !strcmp(js, "{\"i\":299}"), "state %s",
            js ? js : "NULL");
    free(js);
    alerts_outbox_close(o);
}

/* The child: a transaction with an alert, its message and the state; committed or not; then it
 * ends by _exit(0) or SIGKILL without closing anything. */
static void crash_child(const char *path, int mode)
{
    char err[512], asset[32], key[32];
    snprintf(asset, sizeof asset, "crash-%d", mode);
    snprintf(key, sizeof key, "crash.%d.mail", mode);
    alerts_outbox *o = alerts_outbox_open(path, err, sizeof err);
    if (!o || alerts_outbox_begin(o))
        _exit(3);
    alerts_row r = {.t_ns = T0, .asset = asset, .kind = "raised", .level = "alarm", .previous = "ok",
                    .summary = "x", .evidence = "{}"};
    int64_t a = alerts_outbox_alert_add(o, &r);
    alerts_msg m = {.alert_id = a, .dest = "mail", .key = key, .t_ns = T0, .wall_ns = W0, .payload = "p", .len = 1};
    if (a <= 0 || alerts_outbox_enqueue(o, &m) || alerts_outbox_state_put(o, asset, "{}"))
        _exit(4);
    if (mode >= 2 && alerts_outbox_commit(o))
        _exit(5);
    if (mode % 2)
        raise(SIGKILL);
    _exit(0);
}

static void test_crash(void)
{
    const char *p = db_path("crash");
    alerts_outbox *o = open_or_fail(p);
    if (!o)
        return;
    alerts_outbox_close(o); /* nothing open across fork */
    static const char *const what[] = {"_exit before commit", "SIGKILL before commit", "_exit after commit",
                                       "SIGKILL after commit"};
    for (int mode = 0; mode < 4; mode++) {
        fflush(stdout);
        pid_t pid = fork();
        if (pid < 0) {
            T_CHECK(0, "fork");
            return;
        }
        if (pid == 0)
            crash_child(p, mode);
        int status = 0;
        waitpid(pid, &status, 0);
        if (mode % 2)
            T_CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "%s: status %#x", what[mode], status);
        else
            T_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s: status %#x", what[mode], status);
        o = open_or_fail(p);
        if (!o)
            return;
        char asset[32], *js = NULL;
        snprintf(asset, sizeof asset, "crash-%d", mode);
        bool committed = mode >= 2;
        T_CHECK(count_asset(o, asset) == (committed ? 1 : 0), "%s: %d alerts", what[mode], count_asset(o, asset));
        alerts_counts c = counts(o, "mail");
        T_CHECK(c.pending == (mode >= 2) + (mode >= 3), "%s: %ld pending messages", what[mode], c.pending);
        int rc = alerts_outbox_state_get(o, asset, &js);
        T_CHECK(rc == (committed ? 0 : -ENOENT), "%s: state %d", what[mode], rc);
        free(js);
        /* the file is usable after the crash */
        T_CHECK(alerts_outbox_begin(o) == 0 && alerts_outbox_commit(o) == 0, "%s: a transaction after it", what[mode]);
        alerts_outbox_close(o);
    }
}

/* ---- labels, ack by alert, filtered lists, old files ------------------------------------------- */

static void test_label(void)
{
    alerts_outbox *o = open_or_fail(db_path("label"));
    if (!o)
        return;
    int64_t a1 = add_alert(o, T0 + MIN, "pump-1", "raised", "alarm", "a1");
    int64_t a2 = add_alert(o, T0 + 2 * MIN, "pump-1", "raised", "alarm", "a2");
    listing *l = list_all(o);
    const listed *x = find_listed(l, a1);
    T_CHECK(x && !x->labelled && x->label_by_null && x->label_wall_ns == 0, "a new alert is not labelled");
    T_CHECK(alerts_outbox_label(o, a1, "true_alarm", "ana", "bearing was pitted", W0) == 0, "label true_alarm");
    l = list_all(o);
    x = find_listed(l, a1);
    T_CHECK(x && !strcmp(x->label, "true_alarm") && !strcmp(x->label_by, "ana") &&
                !strcmp(x->label_note, "bearing was pitted") && x->label_wall_ns == W0,
            "label: \"%s\" by \"%s\" (\"%s\") at %lld", x ? x->label : "-", x ? x->label_by : "-",
            x ? x->label_note : "-", x ? (long long)x->label_wall_ns : 0LL);
    x = find_listed(l, a2);
    T_CHECK(x && !x->labelled, "labelling a1 labelled a2");
    /* a new label replaces the old one, who, note and time with it */
    T_CHECK(alerts_outbox_label(o, a1, "false_alarm", "bo", NULL, W0 + MIN) == 0, "relabel");
    l = list_all(o);
    x = find_listed(l, a1);
    T_CHECK(x && !strcmp(x->label, "false_alarm") && !strcmp(x->label_by, "bo") && !strcmp(x->label_note, "") &&
                x->label_wall_ns == W0 + MIN,
            "relabelled: \"%s\" by \"%s\"", x ? x->label : "-", x ? x->label_by : "-");
    /* bad labels change nothing */
    T_CHECK(alerts_outbox_label(o, a1, "maybe", "cy", "?", W0 + 2 * MIN) == -EINVAL, "label \"maybe\"");
    T_CHECK(alerts_outbox_label(o, a1, "", "cy", "?", W0 + 2 * MIN) == -EINVAL, "label \"\"");
    T_CHECK(alerts_outbox_label(o, a1, "TRUE_ALARM", "cy", "?", W0 + 2 * MIN) == -EINVAL, "label in capitals");
    l = list_all(o);
    x = find_listed(l, a1);
    T_CHECK(x && !strcmp(x->label, "false_alarm") && !strcmp(x->label_by, "bo"), "a refused label changed it");
    T_CHECK(alerts_outbox_label(o, a2 + 100, "true_alarm", "ana", "", W0) == -ENOENT, "an unknown alert");
    T_CHECK(alerts_outbox_label(o, a2 + 100, NULL, "ana", "", W0) == -ENOENT, "clearing an unknown alert");
    /* NULL clears */
    T_CHECK(alerts_outbox_label(o, a1, NULL, "cy", "oops", W0 + 3 * MIN) == 0, "clear");
    l = list_all(o);
    x = find_listed(l, a1);
    T_CHECK(x && !x->labelled && x->label_by_null && x->label_wall_ns == 0, "cleared: \"%s\" by \"%s\"",
            x ? x->label : "-", x ? x->label_by : "-");
    T_CHECK(alerts_outbox_label(o, a1, NULL, "cy", NULL, W0) == 0, "clearing twice");
    T_CHECK(sql_int(db_path("label"), "SELECT count(*) FROM alert WHERE label IS NOT NULL OR label_by IS NOT NULL") == 0,
            "a label left in the table");
    alerts_outbox_close(o);
}

static void test_ack_alert(void)
{
    alerts_outbox *o = open_or_fail(db_path("ack_alert"));
    if (!o)
        return;
    int64_t a1 = add_alert(o, T0 + MIN, "pump-1", "raised", "alarm", "a1");
    int64_t a2 = add_alert(o, T0 + 2 * MIN, "fan-22", "raised", "warning", "a2");
    char asset[64] = "";
    T_CHECK(alerts_outbox_alert_asset(o, a2, asset, sizeof asset) == 0 && !strcmp(asset, "fan-22"), "a2: \"%s\"", asset);
    T_CHECK(alerts_outbox_alert_asset(o, a1, asset, sizeof asset) == 0 && !strcmp(asset, "pump-1"), "a1: \"%s\"", asset);
    T_CHECK(alerts_outbox_alert_asset(o, a2 + 1, asset, sizeof asset) == -ENOENT, "an unknown id");
    T_CHECK(alerts_outbox_alert_asset(o, 0, asset, sizeof asset) == -ENOENT, "id 0");
    char small[6];
    T_CHECK(alerts_outbox_alert_asset(o, a2, small, sizeof small) == -ENOSPC, "\"fan-22\" in 6 bytes");
    char exact[7];
    T_CHECK(alerts_outbox_alert_asset(o, a2, exact, sizeof exact) == 0 && !strcmp(exact, "fan-22"), "\"fan-22\" in 7 bytes");
    T_CHECK(alerts_outbox_alert_asset(o, a2, NULL, 10) == -EINVAL, "no buffer");
    /* looking up acknowledges nothing; acknowledging the asset then keeps the time */
    listing *l = list_all(o);
    const listed *x = find_listed(l, a2);
    T_CHECK(x && !x->acked && x->acked_wall_ns == 0, "the lookup acknowledged the alert");
    T_CHECK(alerts_outbox_ack(o, asset, "ana", "seen", W0 + 5 * MIN) == 1, "ack of the asset looked up");
    l = list_all(o);
    x = find_listed(l, a1);
    T_CHECK(x && x->acked && x->acked_wall_ns == W0 + 5 * MIN, "acked_wall_ns %lld", x ? (long long)x->acked_wall_ns : 0LL);
    x = find_listed(l, a2);
    T_CHECK(x && !x->acked && x->acked_wall_ns == 0, "a2 acknowledged with pump-1");
    alerts_outbox_close(o);
}

static void test_list_where(void)
{
    alerts_outbox *o = open_or_fail(db_path("list_where"));
    if (!o)
        return;
    /* 12 alerts, data times not in id order (a replayed recording), 3 assets */
    static const char *const assets[] = {"pump-1", "pump-10", "fan-2"};
    int64_t id[12];
    for (int i = 0; i < 12; i++)
        id[i] = add_alert(o, T0 + ((i * 7) % 12) * MIN, assets[i % 3], "raised", "alarm", "x");
    listing all;
    memset(&all, 0, sizeof all);
    T_CHECK(alerts_outbox_list_where(o, NULL, 0, 100, list_cb, &all) == 12, "all");
    for (int i = 1; i < all.n; i++)
        T_CHECK(all.a[i - 1].t_ns > all.a[i].t_ns ||
                    (all.a[i - 1].t_ns == all.a[i].t_ns && all.a[i - 1].id > all.a[i].id),
                "not newest first at %d", i);
    /* the same as alerts_outbox_list */
    listing *l = list_all(o);
    bool same = l->n == all.n;
    for (int i = 0; same && i < l->n; i++)
        same = l->a[i].id == all.a[i].id;
    T_CHECK(same, "list and list_where(NULL, 0) differ");
    /* one asset: pump-1 only (not pump-10), in the same order */
    listing one;
    memset(&one, 0, sizeof one);
    long n = alerts_outbox_list_where(o, "pump-1", 0, 100, list_cb, &one);
    T_CHECK(n == 4 && one.n == 4, "pump-1: %ld", n);
    for (int i = 0, j = 0; i < all.n; i++)
        if (!strcmp(all.a[i].asset, "pump-1")) {
            T_CHECK(j < one.n && one.a[j].id == all.a[i].id, "pump-1, alert %d", j);
            j++;
        }
    T_CHECK(alerts_outbox_list_where(o, "pump", 0, 100, list_cb, &(listing){0}) == 0, "a prefix is not an asset");
    /* pages of 5: together the whole list, in order, each alert once */
    listing page, joined;
    memset(&joined, 0, sizeof joined);
    int64_t before = 0;
    for (int p = 0; p < 5; p++) {
        memset(&page, 0, sizeof page);
        n = alerts_outbox_list_where(o, NULL, before, 5, list_cb, &page);
        T_CHECK(n == page.n && n == (p < 2 ? 5 : p == 2 ? 2 : 0), "page %d: %ld", p, n);
        for (int i = 0; i < page.n; i++)
            joined.a[joined.n++] = page.a[i];
        if (page.n == 0)
            break;
        before = page.a[page.n - 1].id;
    }
    same = joined.n == all.n;
    for (int i = 0; same && i < all.n; i++)
        same = joined.a[i].id == all.a[i].id;
    T_CHECK(same, "the pages (%d alerts) are not the list", joined.n);
    /* pages of one asset */
    memset(&page, 0, sizeof page);
    n = alerts_outbox_list_where(o, "pump-1", one.a[1].id, 100, list_cb, &page);
    T_CHECK(n == 2 && page.a[0].id == one.a[2].id && page.a[1].id == one.a[3].id, "pump-1 after its second: %ld", n);
    /* an id no longer there: the smaller ids */
    memset(&page, 0, sizeof page);
    n = alerts_outbox_list_where(o, NULL, id[11] + 5, 100, list_cb, &page);
    T_CHECK(n == 12, "before a future id: %ld", n);
    T_CHECK(alerts_outbox_prune(o, T0 + DAY, 0, 100) == 12, "prune all");
    memset(&page, 0, sizeof page);
    T_CHECK(alerts_outbox_list_where(o, NULL, id[5], 100, list_cb, &page) == 0, "after a prune: nothing older");

    /* deliveries as a list: queued order, state, attempts, last error, when done */
    int64_t a = add_alert(o, T0 + HOUR, "pump-1", "raised", "alarm", "d");
    enqueue_ok(o, a, "mail", "d.mail", T0 + HOUR, W0, false);
    enqueue_ok(o, a, "sms", "d.sms", T0 + HOUR, W0, false);
    enqueue_ok(o, a, "hook", "d.hook", T0 + HOUR, W0, true);
    alerts_item it;
    T_CHECK(!strcmp(next_key(o, "mail", W0, &it), "d.mail"), "-");
    alerts_outbox_sent(o, it.id, W0 + SEC, "250");
    alerts_item_clear(&it);
    for (int k = 0; k < 2; k++) {
        T_CHECK(!strcmp(next_key(o, "sms", W0 + k * MIN, &it), "d.sms"), "-");
        alerts_outbox_retry(o, it.id, W0 + (k + 1) * MIN, k ? "timeout" : "refused", NULL);
        alerts_item_clear(&it);
    }
    memset(&page, 0, sizeof page);
    T_CHECK(alerts_outbox_list_where(o, NULL, 0, 1, list_cb, &page) == 1, "the alert with deliveries");
    const listed *x = &page.a[0];
    T_CHECK(x->ndl == 3, "%zu deliveries", x->ndl);
    if (x->ndl == 3) {
        T_CHECK(!strcmp(x->dl[0].dest, "mail") && !strcmp(x->dl[0].state, "sent") && x->dl[0].attempts == 1 &&
                    x->dl[0].no_error && x->dl[0].done_wall_ns == W0 + SEC,
                "mail: %s %s %ld \"%s\" %lld", x->dl[0].dest, x->dl[0].state, x->dl[0].attempts, x->dl[0].last_error,
                (long long)x->dl[0].done_wall_ns);
        T_CHECK(!strcmp(x->dl[1].dest, "sms") && !strcmp(x->dl[1].state, "pending") && x->dl[1].attempts == 2 &&
                    !strcmp(x->dl[1].last_error, "timeout") && x->dl[1].done_wall_ns == 0,
                "sms: %s %s %ld \"%s\"", x->dl[1].dest, x->dl[1].state, x->dl[1].attempts, x->dl[1].last_error);
        T_CHECK(!strcmp(x->dl[2].dest, "hook") && !strcmp(x->dl[2].state, "held") && x->dl[2].attempts == 0 &&
                    x->dl[2].no_error,
                "hook: %s %s", x->dl[2].dest, x->dl[2].state);
    }
    T_CHECK(!strcmp(x->deliveries, "mail: sent; sms: pending, attempt 2: timeout; hook: held"), "deliveries \"%s\"",
            x->deliveries);
    alerts_outbox_close(o);
}

/* The tables as the first version made them: alert without label_by, label_note, label_wall_ns. */
static const char *const old_schema =
    "CREATE TABLE alert("
    " id INTEGER PRIMARY KEY AUTOINCREMENT, t_ns INTEGER NOT NULL, asset TEXT NOT NULL, kind TEXT NOT NULL,"
    " level TEXT NOT NULL, previous TEXT NOT NULL, summary TEXT NOT NULL, evidence TEXT NOT NULL,"
    " acked_by TEXT, ack_note TEXT, acked_wall_ns INTEGER, label TEXT);"
    "CREATE INDEX alert_asset ON alert(asset, t_ns);"
    "CREATE TABLE outbox("
    " id INTEGER PRIMARY KEY, alert_id INTEGER NOT NULL, dest TEXT NOT NULL, key TEXT NOT NULL UNIQUE,"
    " t_ns INTEGER NOT NULL, created_wall_ns INTEGER NOT NULL, state TEXT NOT NULL,"
    " attempts INTEGER NOT NULL DEFAULT 0, next_wall_ns INTEGER NOT NULL, last_error TEXT, answer TEXT,"
    " done_wall_ns INTEGER, digest_id INTEGER, payload BLOB NOT NULL);"
    "CREATE INDEX outbox_due ON outbox(dest, state, next_wall_ns);"
    "CREATE INDEX outbox_alert ON outbox(alert_id);"
    "CREATE TABLE alert_state(asset TEXT PRIMARY KEY, state TEXT NOT NULL);"
    "INSERT INTO alert(t_ns, asset, kind, level, previous, summary, evidence, acked_by, ack_note, acked_wall_ns, label)"
    " VALUES(1, 'pump-1', 'raised', 'alarm', 'ok', 'old one', '{}', 'ana', 'seen', 7, 'false_alarm');"
    "INSERT INTO outbox(alert_id, dest, key, t_ns, created_wall_ns, state, attempts, next_wall_ns, done_wall_ns, payload)"
    " VALUES(1, 'mail', 'k1', 1, 1, 'sent', 1, 1, 9, x'');";

#define NEW_COLS "SELECT count(*) FROM pragma_table_info('alert') WHERE name IN ('label_by','label_note','label_wall_ns')"

static void test_old_schema(void)
{
    const char *p = db_path("old_schema");
    sqlite3 *db = NULL;
    T_CHECK(sqlite3_open(p, &db) == SQLITE_OK && sqlite3_exec(db, old_schema, NULL, NULL, NULL) == SQLITE_OK,
            "making the old file: %s", db ? sqlite3_errmsg(db) : "?");
    sqlite3_close(db);
    /* read-only: lists, the new columns as NULL, changes nothing */
    bool none = true;
    char err[512] = "";
    alerts_outbox *o = alerts_outbox_open_readonly(p, &none, err, sizeof err);
    T_CHECK(o && !none, "open the old file read-only: %s", err);
    if (!o)
        return;
    listing *l = list_all(o);
    T_CHECK(l->n == 1 && !strcmp(l->a[0].summary, "old one") && !strcmp(l->a[0].label, "false_alarm") &&
                l->a[0].label_by_null && l->a[0].label_wall_ns == 0 && l->a[0].acked_wall_ns == 7 && l->a[0].ndl == 1 &&
                l->a[0].dl[0].done_wall_ns == 9 && !strcmp(l->a[0].deliveries, "mail: sent"),
            "the old file's alert: %d, label \"%s\"", l->n, l->n ? l->a[0].label : "-");
    T_CHECK(alerts_outbox_label(o, 1, "true_alarm", "ana", "", W0) == -EIO, "labelling through a read-only handle");
    alerts_outbox_close(o);
    T_CHECK(sql_int(p, NEW_COLS) == 0, "the read-only open changed the schema");
    /* read-write: migrated, once */
    o = open_or_fail(p);
    if (!o)
        return;
    T_CHECK(sql_int(p, NEW_COLS) == 3, "not migrated");
    T_CHECK(alerts_outbox_label(o, 1, "true_alarm", "bo", "after all", W0) == 0, "label after the migration");
    alerts_outbox *o2 = open_or_fail(p); /* a second open finds the columns there */
    alerts_outbox_close(o2);
    alerts_outbox_close(o);
    T_CHECK(sql_int(p, NEW_COLS) == 3, "migrated twice?");
    o = alerts_outbox_open_readonly(p, &none, err, sizeof err);
    T_CHECK(o != NULL, "read-only after the migration: %s", err);
    if (!o)
        return;
    l = list_all(o);
    T_CHECK(l->n == 1 && !strcmp(l->a[0].label, "true_alarm") && !strcmp(l->a[0].label_by, "bo") &&
                !strcmp(l->a[0].label_note, "after all") && l->a[0].label_wall_ns == W0,
            "the label through a read-only handle: \"%s\" by \"%s\"", l->n ? l->a[0].label : "-",
            l->n ? l->a[0].label_by : "-");
    alerts_outbox_close(o);
}

int main(void)
{
    t_rng_seed(20260101);
    T_RUN(test_open);
    T_RUN(test_orphans);
    T_RUN(test_alert_ids);
    T_RUN(test_enqueue_key_once);
    T_RUN(test_next_payload_and_destination);
    T_RUN(test_next_oldest_due);
    T_RUN(test_defer_and_wake);
    T_RUN(test_next_not_due);
    T_RUN(test_states_and_counts);
    T_RUN(test_exactly_once);
    T_RUN(test_expire);
    T_RUN(test_held_and_fold);
    T_RUN(test_recent_by_data_time);
    T_RUN(test_ack);
    T_RUN(test_list);
    T_RUN(test_label);
    T_RUN(test_ack_alert);
    T_RUN(test_list_where);
    T_RUN(test_old_schema);
    T_RUN(test_state);
    T_RUN(test_prune_age);
    T_RUN(test_prune_rows);
    T_RUN(test_transaction);
    T_RUN(test_two_handles_interleaved);
    T_RUN(test_busy_timeout);
    T_RUN(test_threads);
    T_RUN(test_crash);
    return t_done();
}
